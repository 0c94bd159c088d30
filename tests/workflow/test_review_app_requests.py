"""The review app on a small real run, through Starlette's TestClient: what it refuses (hosts, tokens,
origins, paths, large bodies, bad names, old versions, a run in progress) writes nothing; an edit it
takes is saved, applied and shown, and undone the same way."""

import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from conftest import copy_photos, lfw_sample, run_snakemake, write_config

from facecluster.outputs import review
from facecluster.outputs.assignments import read_assignments
from facecluster.workflow.config import validate_config
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.review_app import TOKEN_HEADER, Experiment, Review, make_app
from facecluster.workflow.specs import resolve

pytestmark = pytest.mark.workflow

FOUR = ["Arnold_Schwarzenegger", "Hugo_Chavez", "Jennifer_Capriati", "Vladimir_Putin"]
PORT = 8765
TOKEN = "the-token"
ORIGIN = f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def served(lfw_dir, tmp_path_factory):
    """Four people, 5 photos each, sorted once; the app over them (corrections in the state folder),
    started in the run's folder as `facecluster review` is (the results name chips by relative paths)."""
    from starlette.testclient import TestClient

    work = tmp_path_factory.mktemp("app")
    photos = copy_photos(lfw_sample(FOUR, 5), work / "photos")
    config = write_config(
        work,
        {"four": {"path": str(photos), "labels": "folders"}},
        experiments={"four": {"dataset": "four", "cluster": {"method": "agglomerative"}}},
    )
    run_snakemake(work)
    spec = resolve(validate_config(yaml.safe_load(config.read_text())))
    reviewing = Review(Experiment(spec.experiments["four"], ResultPaths(str(work / "results"))))
    client = TestClient(make_app(reviewing, TOKEN, PORT), base_url=ORIGIN)
    started_in = os.getcwd()
    os.chdir(work)
    yield work, reviewing, client
    os.chdir(started_in)


def post(client, body, headers=None, **edit):
    sent = {TOKEN_HEADER: TOKEN, "origin": ORIGIN} | (headers or {})
    return client.post("/api/edit", json=body if body is not None else edit, headers=sent)


def an_edit(reviewing, action, kind, entry):
    return {"version": reviewing.version(), "edits": [{"action": action, "kind": kind, "entry": entry}]}


def results_now(work, reviewing):
    """The files an edit writes, as they are."""
    files = [reviewing.experiment.corrections, work / "results/experiments/four/assignments.tsv"]
    files.append(work / "results/experiments/four/review/data.js")
    return {str(f): f.read_bytes() if f.exists() else None for f in files}


def a_person(work):
    rows = read_assignments(work / "results/experiments/four/assignments.tsv")
    return Counter(row.person for row in rows if row.person not in ("others", "unknown")).most_common(1)[0][0]


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1:1", f"127.0.0.2:{PORT}"])
def test_a_request_naming_another_host_is_refused(served, host):
    _, _, client = served
    assert client.get("/", headers={"host": host}).status_code == 403


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}"])
def test_the_pages_are_served_to_local_hosts(served, host):
    _, _, client = served
    assert client.get("/", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/config.yaml",
        "/faces/..%2F..%2Fassignments.tsv",
        "/%2e%2e/%2e%2e/assignments.tsv",
        "/faces/%2e%2e%2fdata.js",
        "/photo/100000",
        "/photo/-1",
        "/chip/100000.png",
        "/faces/100000.jpg",
        "/faces/0123456789abcdef.jpg",  # a link leading out of the folder
    ],
)
def test_only_the_review_folder_and_the_experiments_photos_by_row_are_served(served, path):
    work, _, client = served
    link = work / "results/experiments/four/review/faces/0123456789abcdef.jpg"
    if not link.is_symlink():
        link.symlink_to(work / "config.yaml")
    assert client.get(path).status_code == 404


def test_a_photo_and_a_chip_are_served_by_their_row(served):
    _, _, client = served
    assert client.get("/photo/0").content[:2] == b"\xff\xd8"
    assert client.get("/chip/0.png").content[:4] == b"\x89PNG"
    assert client.get("/data.js").text.startswith("window.REVIEW_DATA")


def test_the_page_code_served_is_the_packages_not_the_last_runs_copy(served):
    """A newer app over an older run's folder serves its own pages (they must match the app's API)."""
    work, reviewing, client = served
    copy = reviewing.experiment.review / "review.js"
    kept = copy.read_bytes()
    copy.write_text("// an older version's page code")
    try:
        assert client.get("/review.js").content == (review.static_folder() / "review.js").read_bytes()
    finally:
        copy.write_bytes(kept)


@pytest.mark.parametrize(
    "headers",
    [
        {TOKEN_HEADER: ""},
        {TOKEN_HEADER: "another"},
        {"origin": "http://evil.example"},
        {"origin": f"http://localhost:{PORT + 1}"},
        {"origin": "null"},
    ],
)
def test_an_edit_without_the_token_or_from_another_origin_is_refused(served, headers):
    work, reviewing, client = served
    before = results_now(work, reviewing)
    edit = an_edit(reviewing, "add", "hide", a_person(work))
    assert post(client, edit, headers).status_code == 403
    assert results_now(work, reviewing) == before


def test_an_edit_with_neither_origin_nor_referer_is_refused_and_a_referer_of_the_app_is_taken_for_one(served):
    work, reviewing, client = served
    edit = {"version": "old", "edits": [{"action": "add", "kind": "hide", "entry": "x"}]}
    headers = {TOKEN_HEADER: TOKEN}
    assert client.post("/api/edit", json=edit, headers=headers).status_code == 403
    referer = headers | {"referer": f"{ORIGIN}/?token={TOKEN}#person=1"}
    assert client.post("/api/edit", json=edit, headers=referer).status_code == 409  # past the origin check


def test_a_large_body_is_refused_with_413(served):
    work, reviewing, client = served
    before = results_now(work, reviewing)
    body = b'{"edits": ["' + b"x" * 100_000 + b'"]}'
    headers = {TOKEN_HEADER: TOKEN, "origin": ORIGIN, "content-type": "application/json"}
    assert client.post("/api/edit", content=body, headers=headers).status_code == 413
    assert results_now(work, reviewing) == before


@pytest.mark.parametrize("name", ["a/b", "person_0042", "nobody", "CON", ".x"])
def test_a_name_refused_says_why_and_writes_nothing(served, name):
    work, reviewing, client = served
    before = results_now(work, reviewing)
    answer = post(client, an_edit(reviewing, "add", "rename", [a_person(work), name]))
    assert answer.status_code == 400 and "cannot be a name" in answer.text
    assert results_now(work, reviewing) == before


def test_an_edit_made_on_an_old_version_is_refused_with_reload(served):
    work, reviewing, client = served
    before = results_now(work, reviewing)
    edit = an_edit(reviewing, "add", "hide", a_person(work)) | {"version": "0000"}
    answer = post(client, edit)
    assert (answer.status_code, answer.text) == (409, "reload")
    assert results_now(work, reviewing) == before


HOLD = (
    "import sys, time; from facecluster.workflow.lock import ResultsLock; "
    "ResultsLock(sys.argv[1]).take(); print(1, flush=True); time.sleep(60)"
)


def test_a_save_while_a_run_holds_the_lock_is_refused_and_writes_nothing(served):
    work, reviewing, client = served
    before = results_now(work, reviewing)
    run = subprocess.Popen([sys.executable, "-c", HOLD, str(work / "results")], stdout=subprocess.PIPE, text=True)
    try:
        assert run.stdout.readline().strip() == "1"
        answer = post(client, an_edit(reviewing, "add", "hide", a_person(work)))
    finally:
        run.kill()
        run.wait()
    assert answer.status_code == 423 and "run is in progress" in answer.text
    assert results_now(work, reviewing) == before


def test_a_rename_is_saved_applied_and_shown_then_undone(served):
    work, reviewing, client = served
    person = a_person(work)
    answer = post(client, an_edit(reviewing, "add", "rename", [person, "Ann Lee"]))
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert "Ann Lee" in [p["name"] for p in data["persons"]] and person not in [p["name"] for p in data["persons"]]
    assert yaml.safe_load(reviewing.experiment.corrections.read_text())["rename"] == {person: "Ann Lee"}
    rows = read_assignments(work / "results/experiments/four/assignments.tsv")
    assert "Ann Lee" in {row.person for row in rows} and person not in {row.person for row in rows}
    people = work / "results/experiments/four/people"
    assert (people / "Ann Lee").is_dir() and not (people / person).exists()
    assert "Ann Lee" in (work / "results/experiments/four/review/data.js").read_text()
    assert data["version"] == reviewing.version()
    reviewing.written()  # the sidecars follow the answer
    assert sidecar_names(work, person) == {"Ann Lee"}

    answer = post(client, an_edit(reviewing, "undo", "rename", [person, "Ann Lee"]))
    assert answer.status_code == 200, answer.text
    assert (people / person).is_dir() and not (people / "Ann Lee").exists()
    by_person = defaultdict(int)
    for row in read_assignments(work / "results/experiments/four/assignments.tsv"):
        by_person[row.person] += 1
    assert "Ann Lee" not in by_person and person in by_person
    reviewing.written()
    assert sidecar_names(work, person) == {person}


def sidecar_names(work, person):
    """The names in the XMP sidecars of the photos of `person`'s faces (the person as the run named them)."""
    rows = read_assignments(work / "results/experiments/four/assignments.tsv")
    photos = {Path(row.path).relative_to(work / "photos") for row in rows if row.person in (person, "Ann Lee")}
    found = set()
    for photo in photos:
        text = (work / f"results/experiments/four/xmp/{photo}.xmp").read_text()
        found.update(re.findall(r'mwg-rs:Name="([^"]+)"', text))
    return found
