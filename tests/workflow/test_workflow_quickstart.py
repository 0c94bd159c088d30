"""The quick start as a new user meets it: the demo with no network, then one's own folder sorted by
one command (`--config photos=PATH`), a small folder spread over every core."""

import os
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import PROJECT_ROOT, copy_photos, lfw_sample, read_tsv, run_snakemake

from facecluster.outputs.people_folders import read_people
from facecluster.workflow.download import read_manifest, sha256_file

pytestmark = pytest.mark.workflow

SHIPPED = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())
TWO_PEOPLE = ["Hugo_Chavez", "Jennifer_Capriati"]

# Loaded by every Python process started with its folder on PYTHONPATH (Snakemake and each of
# its jobs, which inherit PYTHONPATH): any use of the network is written down, then refused.
NO_NETWORK = """
import os
import socket

_LOG = os.environ["NO_NETWORK_LOG"]
with open(_LOG + ".guarded", "a") as guarded:
    guarded.write(f"{os.getpid()}\\n")


def _refuse(what):
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()}: {what}\\n")
    raise OSError(101, "network blocked by the test")


class _Socket(socket.socket):
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _refuse(f"connect {address}")
        return super().connect(address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _refuse(f"connect_ex {address}")
        return super().connect_ex(address)

    def sendto(self, *args):
        _refuse(f"sendto {args[-1]}")


socket.socket = _Socket
socket.getaddrinfo = lambda host, *args, **kwargs: _refuse(f"getaddrinfo {host}")
"""


@pytest.fixture
def no_network(tmp_path):
    """An environment whose Python processes cannot use the network; (env, the log of attempts)."""
    folder = tmp_path / "no_network"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(NO_NETWORK)
    log = tmp_path / "network_attempts.log"
    log.touch()
    env = {**os.environ, "PYTHONPATH": str(folder), "NO_NETWORK_LOG": str(log)}
    # The guard works: a download in that environment is refused and written down.
    probe = "import urllib.request; urllib.request.urlopen('http://example.org', timeout=5)"
    refused = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "getaddrinfo example.org" in log.read_text()
    log.write_text("")
    return env, log


def test_the_demo_photos_ship_with_the_project_as_pinned():
    pinned = dict(read_manifest(PROJECT_ROOT / "data/demo-photos.tsv"))
    shipped = {
        path.relative_to(PROJECT_ROOT / "data/demo").as_posix(): sha256_file(path)
        for path in (PROJECT_ROOT / "data/demo").rglob("*")
        if path.is_file()
    }
    assert shipped == pinned
    assert "download" not in SHIPPED["datasets"]["demo"]
    if (PROJECT_ROOT / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "data/demo/"], cwd=PROJECT_ROOT, capture_output=True)
        assert ignored.returncode == 1, "data/demo/ is git-ignored: the demo photos would not be committed"


def test_the_demo_runs_with_no_network(no_network, tmp_path):
    """`bash quickstart.sh demo` once set up: snakemake --cores all with config.yaml, here in a work folder."""
    env, attempts = no_network
    config = {**SHIPPED, "datasets": {"demo": {**SHIPPED["datasets"]["demo"], "path": str(PROJECT_ROOT / "data/demo")}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))

    run_snakemake(tmp_path, env=env)

    assert attempts.read_text() == ""
    # Snakemake and its jobs (list, batch, gather, 3 x 4 per experiment) all ran guarded.
    assert len(set(attempts.with_suffix(".log.guarded").read_text().split())) >= 15
    ledger = read_tsv(tmp_path / "results/demo" / SHIPPED["default_model"] / "ledger.tsv")
    assert len(ledger) == 40 and sum(row["status"] == "embedded" for row in ledger) >= 38
    for experiment in SHIPPED["experiments"]:
        assert (tmp_path / f"results/experiments/{experiment}/report.md").is_file()


@pytest.fixture(scope="module")
def own_folder_run(lfw_dir, tmp_path_factory):
    """10 photos of 2 people in a folder of one's own, sorted by `--config photos=PATH` with the shipped config
    (5 photos each: a person needs min_photos, 4)."""
    work = tmp_path_factory.mktemp("own")
    photos = tmp_path_factory.mktemp("my photos")
    copy_photos([(source, source.name) for source, _ in lfw_sample(TWO_PEOPLE, 5)], photos)  # one flat folder
    shutil.copyfile(PROJECT_ROOT / "config.yaml", work / "config.yaml")
    run = run_snakemake(work, "--config", f"photos={photos}")
    return work, photos, run


def test_one_command_sorts_a_folder_into_people(own_folder_run):
    work, photos, _ = own_folder_run
    results = work / "results"

    assert sorted(p.name for p in results.iterdir() if p.name not in ("logs", "benchmarks", "cache")) == [
        "experiments",
        "photos",
        "state",  # the names, kept for the next run
    ]
    assert [p.name for p in (results / "experiments").iterdir()] == ["photos"]
    ledger = read_tsv(results / "photos" / SHIPPED["default_model"] / "ledger.tsv")
    assert len(ledger) == 10 and {row["status"] for row in ledger} == {"embedded"}
    assert {row["label"] for row in ledger} == {""}  # labels: none unless asked
    people = read_people(results / "experiments/photos/people/people.tsv")
    clusters = {}
    for row in read_tsv(results / "experiments/photos/assignments.tsv"):
        person = next(name for name in TWO_PEOPLE if os.path.basename(row["path"]).startswith(name))
        clusters.setdefault(row["person"], set()).add(person)
    # Each person found, nobody merged with the other.
    assert all(len(found) == 1 for found in clusters.values()), clusters
    assert set().union(*clusters.values()) == set(TWO_PEOPLE)
    assert len(people) >= 2
    assert (work / "results/experiments/photos/report.md").is_file()
    assert (work / "results/experiments/photos/people/person_0001").is_dir()


def test_a_small_folder_is_split_over_every_core(own_folder_run):
    work, _, run = own_folder_run
    # 10 photos, batch_size 64, --cores 2: one batch would leave a core idle.
    assert SHIPPED["batch_size"] * 2 > 10
    assert run.stderr.count("rule process_batch:") == 2
    batches = {row["batch"] for row in read_tsv(work / "results/photos/photos.tsv")}
    assert len(batches) == 2
