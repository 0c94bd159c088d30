"""The per-photo stage run by Snakemake on real photos: ledger, embeddings, reruns, batches."""

import re
import shutil

import numpy as np
import pytest
from conftest import (
    PROJECT_ROOT,
    copy_photos,
    lfw_sample,
    read_tsv,
    run_snakemake,
    write_config,
)

from facecluster.workflow.download import read_manifest

pytestmark = pytest.mark.workflow

PEOPLE = ["Hans_Blix", "Hugo_Chavez", "Vladimir_Putin"]


def batch_jobs(snakemake_output):
    """Number of process_batch jobs a run (or dry run) scheduled."""
    return snakemake_output.count("rule process_batch:")


@pytest.fixture(scope="module")
def mixed_run(datasets, tmp_path_factory):
    """One real run on LFW people, the negatives and some Yale faces (no file extension)."""
    work = tmp_path_factory.mktemp("mixed")
    sources = lfw_sample(PEOPLE, 6)
    sources += [(p, f"negatives/{p.parent.name}/{p.name}") for p in sorted((datasets / "negatives").glob("*/*"))]
    sources += [(p, f"yale/{p.name}") for p in sorted((datasets / "yalefaces" / "subject03").iterdir())[:4]]
    photos = copy_photos(sources, work / "photos")
    (photos / "notes.txt").write_text("not a photo")
    write_config(work, {"mixed": {"path": str(photos), "labels": "folders"}})
    run = run_snakemake(work)
    return work, photos, run


def test_every_file_is_in_the_ledger_with_its_status(mixed_run):
    work, photos, _ = mixed_run
    ledger = read_tsv(work / "results/mixed/dlib/ledger.tsv")
    files = sorted(p for p in photos.rglob("*") if p.is_file())

    assert len(ledger) == len(files)
    status = {row["path"].split("/photos/")[1]: row for row in ledger}
    for person in PEOPLE:
        assert {status[k]["status"] for k in status if k.startswith(person)} == {"embedded"}
    for name in ("cat.jpg", "noise_1.jpg", "park.jpg"):
        assert status[f"negatives/no_face/{name}"]["status"] == "no_face"
    assert {status[k]["status"] for k in status if k.startswith("yale/")} == {"embedded"}
    assert status["notes.txt"]["status"] == "rejected"
    assert "not an image" in status["notes.txt"]["reason"]
    assert all(len(row["sha256"]) == 64 for row in ledger)


def test_gathered_matrix_matches_the_faces_table(mixed_run):
    work, _, _ = mixed_run
    embeddings = np.load(work / "results/mixed/dlib/embeddings.npy", allow_pickle=False)
    faces = read_tsv(work / "results/mixed/dlib/faces.tsv")
    ledger = read_tsv(work / "results/mixed/dlib/ledger.tsv")

    assert embeddings.shape == (len(faces), 128)
    assert len(faces) == sum(int(row["n_faces"]) for row in ledger)
    assert [int(face["row"]) for face in faces] == list(range(len(faces)))
    # Same person closer than different people, on the gathered matrix.
    by_label = {}
    for face, vector in zip(faces, embeddings):
        by_label.setdefault(face["label"], []).append(vector)
    blix, chavez = np.array(by_label["Hans_Blix"]), np.array(by_label["Hugo_Chavez"])
    within = np.linalg.norm(blix[:, None] - blix[None], axis=-1)[np.triu_indices(len(blix), 1)]
    between = np.linalg.norm(blix[:, None] - chavez[None], axis=-1)
    assert within.mean() < 0.5 < between.min()


def test_the_id_mapping_is_written(mixed_run):
    work, photos, _ = mixed_run
    listing = read_tsv(work / "results/mixed/photos.tsv")
    assert sorted(row["relpath"] for row in listing) == sorted(
        p.relative_to(photos).as_posix() for p in photos.rglob("*") if p.is_file()
    )
    assert len({row["id"] for row in listing}) == len(listing)


def test_a_rerun_does_nothing(mixed_run):
    work, _, _ = mixed_run
    dry = run_snakemake(work, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_multi_face_photos_keep_every_face_with_keep_all(datasets, tmp_path):
    photos = copy_photos(
        [(p, p.name) for p in sorted((datasets / "negatives/multi_face").iterdir())], tmp_path / "photos"
    )
    models = {"dlib": {"detector": {"name": "dlib_hog", "keep": "all"}, "embedder": {"name": "dlib"}}}
    write_config(tmp_path, {"groups": {"path": str(photos), "labels": "none"}}, models=models)

    run_snakemake(tmp_path)

    faces = {
        row["path"].split("/")[-1]: int(row["n_faces"]) for row in read_tsv(tmp_path / "results/groups/dlib/ledger.tsv")
    }
    assert faces["couple.jpg"] == 2 and faces["multiface.jpg"] >= 5 and faces["group 2.jpg"] >= 2


def test_adding_photos_recomputes_only_their_batches(lfw_dir, tmp_path):
    photos = copy_photos(lfw_sample(PEOPLE, 12), tmp_path / "photos")
    write_config(tmp_path, {"grow": {"path": str(photos), "labels": "folders"}}, batch_size=4)
    first = run_snakemake(tmp_path)
    batches_before = batch_jobs(first.stderr)

    copy_photos(lfw_sample(["Hans_Blix"], 2, offset=12), photos)
    dry = run_snakemake(tmp_path, "-n")
    second = run_snakemake(tmp_path)

    rerun = batch_jobs(second.stderr)
    assert batches_before >= 6
    assert rerun == batch_jobs(dry.stdout + dry.stderr)
    # Each added photo changes the one batch it falls into (or splits it in two).
    assert 1 <= rerun <= 4
    # Inside the rerun batches, only the new photos are computed; the rest come from the cache.
    rerun_logs = [
        tmp_path / f"results/logs/process_batch/grow/dlib/{batch}.log"
        for batch in re.findall(r"batch=(b[0-9a-f]{10})", second.stderr)
    ]
    counts = [re.search(r"computed (\d+) photos", log.read_text()) for log in rerun_logs]
    assert sum(int(match.group(1)) for match in counts) == 2
    ledger = read_tsv(tmp_path / "results/grow/dlib/ledger.tsv")
    assert len(ledger) == 38 and {row["status"] for row in ledger} == {"embedded"}


def test_an_edited_photo_reruns_its_batch_alone(lfw_dir, tmp_path):
    """Photos are not Snakemake inputs: their stamps (size, modification time) rerun the batch."""
    (blix, _), (chavez, _) = lfw_sample(["Hans_Blix", "Hugo_Chavez"], 1, offset=8)
    photos = copy_photos(lfw_sample(PEOPLE, 4) + [(blix, "Hans_Blix/{edited}.jpg")], tmp_path / "photos")
    write_config(tmp_path, {"edits": {"path": str(photos), "labels": "folders"}}, batch_size=2)
    first = run_snakemake(tmp_path)
    before = {row["path"]: row["sha256"] for row in read_tsv(tmp_path / "results/edits/dlib/ledger.tsv")}

    shutil.copyfile(chavez, photos / "Hans_Blix/{edited}.jpg")
    second = run_snakemake(tmp_path)

    assert batch_jobs(first.stderr) >= 4 and batch_jobs(second.stderr) == 1
    after = {row["path"]: row["sha256"] for row in read_tsv(tmp_path / "results/edits/dlib/ledger.tsv")}
    changed = [path for path in after if after[path] != before[path]]
    assert changed == [str(photos / "Hans_Blix/{edited}.jpg")]
    assert "Nothing to be done" in run_snakemake(tmp_path).stderr


def test_demo_downloads_its_pinned_photos_from_the_given_url(lfw_server, tmp_path):
    shutil.copyfile(PROJECT_ROOT / "data/demo-photos.tsv", tmp_path / "demo-photos.tsv")
    write_config(
        tmp_path,
        {
            "demo": {
                "path": str(tmp_path / "data/demo"),
                "labels": "folders",
                "download": {"manifest": str(tmp_path / "demo-photos.tsv"), "base_url": lfw_server.url},
            }
        },
    )

    run_snakemake(tmp_path)

    ledger = read_tsv(tmp_path / "results/demo/dlib/ledger.tsv")
    expected = read_manifest(tmp_path / "demo-photos.tsv")
    assert len(lfw_server.requested_paths) == len(expected) == len(ledger) == 40
    downloaded = {row["path"].split("/data/demo/")[1]: row["sha256"] for row in ledger}
    assert downloaded == dict(expected)
    assert sum(row["status"] == "embedded" for row in ledger) >= 38
