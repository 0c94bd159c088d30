"""The aggregate stage run by Snakemake: the original experiment reproduced, outputs, reruns."""

import json
import re
import shutil

import pytest
from conftest import copy_photos, lfw_sample, read_tsv, run_snakemake, write_config
from PIL import Image

from facecluster.outputs.assignments import read_assignments
from facecluster.outputs.people_folders import read_people
from facecluster.photos.embedders import EMBEDDERS

pytestmark = pytest.mark.workflow

DEMO_PEOPLE = ["Arnold_Schwarzenegger", "Hugo_Chavez", "Jennifer_Capriati", "Vladimir_Putin"]
PLOTS = ["scatter", "thumbnails", "metrics_vs_k", "confusion", "contact_sheet"]


def experiments():
    return {
        "original": {
            "dataset": "four",
            "reduce": {"method": "pca", "components": 2},
            "cluster": {"method": "kmeans", "k": 4},
        },
        "sweep": {
            "dataset": "four",
            "reduce": {"method": "none"},
            "cluster": {"method": "kmeans", "k": {"from": 2, "to": 60, "step": 2}},
            "choose_k_by": "silhouette",
        },
        # K swept with the defaults: agglomerative, the K nearest the number found without K.
        "default_sweep": {"dataset": "four", "cluster": {"k": {"from": 2, "to": 8}}},
        "lonely": {
            "dataset": "four",
            "sample": {"people": 1, "photos_per_person": 1},
            "cluster": {"method": "kmeans", "k": 2},
        },
        "unknown_k": {"dataset": "four", "cluster": {"method": "agglomerative"}, "people_folders": "copy"},
        # Two people of the four, drawn by the seed.
        **{
            f"seed{seed}": {"dataset": "four", "seed": seed, "sample": {"people": 2}, "cluster": {"k": 2}}
            for seed in (0, 1)
        },
    }


@pytest.fixture(scope="module")
def four_people(lfw_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("four")
    photos = copy_photos(lfw_sample(DEMO_PEOPLE, 10), work / "photos")
    write_config(work, {"four": {"path": str(photos), "labels": "folders"}}, experiments=experiments())
    run_snakemake(work)
    return work


def metrics(work, name):
    return json.loads((work / f"results/experiments/{name}/metrics.json").read_text())


def test_the_original_experiment_groups_people_together(four_people):
    summary = metrics(four_people, "original")
    scores = summary["per_k"]["4"]

    assert summary["chosen_k"] == 4 and summary["n_faces"] == 40
    assert scores["same_person_share"] >= 0.95
    for key in [
        "purity",
        "ari",
        "nmi",
        "v_measure",
        "pairwise_precision",
        "pairwise_recall",
        "pairwise_f1",
        "bcubed_precision",
        "bcubed_recall",
        "bcubed_f1",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "inertia",
    ]:
        assert isinstance(scores[key], float), key


def test_the_sweep_chooses_k_by_silhouette_and_skips_impossible_k(four_people):
    summary = metrics(four_people, "sweep")

    assert summary["choose_k_by"] == "silhouette"
    ks = sorted(int(k) for k in summary["per_k"])
    assert ks == list(range(2, 41, 2))
    assert "K=42 skipped: only 40 faces" in summary["notes"]
    best = max((s["silhouette"], -int(k)) for k, s in summary["per_k"].items() if s["silhouette"] is not None)
    assert summary["chosen_k"] == -best[1] == 4
    assert summary["per_k"]["4"]["same_person_share"] == 1.0


def test_the_default_sweep_chooses_the_k_nearest_the_people_found_without_k(four_people):
    summary = metrics(four_people, "default_sweep")

    assert (summary["recipe"]["cluster"]["method"], summary["choose_k_by"]) == ("agglomerative", "threshold")
    assert summary["chosen_k"] == metrics(four_people, "unknown_k")["chosen_k"] in (4, 5)
    assert summary["per_k"][str(summary["chosen_k"])]["bcubed_f1"] >= 0.95


def test_one_face_is_a_clear_message_not_a_crash(four_people):
    summary = metrics(four_people, "lonely")
    report = (four_people / "results/experiments/lonely/report.md").read_text()

    assert summary["status"] == "not clustered"
    assert "only 1 face(s)" in summary["reason"] and summary["reason"] in report


def test_outputs_are_complete_and_readable(four_people):
    folder = four_people / "results/experiments/original"
    assignments = read_tsv(folder / "assignments.tsv")
    report = (folder / "report.md").read_text()

    assert len(assignments) == 40
    assert {"path", "face_index", "left", "top", "right", "bottom", "cluster", "label"} <= set(assignments[0])
    assert {a["cluster"] for a in assignments} == {"0", "1", "2", "3"}
    for plot in PLOTS:
        image = Image.open(folder / f"plots/{plot}.png")
        assert image.format == "PNG" and min(image.size) > 200
        assert f"(plots/{plot}.png)" in report
    assert "| **4** |" in report and "same person" in report


def test_a_fresh_rerun_is_byte_identical(four_people, tmp_path):
    shutil.copytree(four_people / "photos", tmp_path / "photos")
    write_config(tmp_path, {"four": {"path": str(tmp_path / "photos"), "labels": "folders"}}, experiments=experiments())
    run_snakemake(tmp_path, "--cores", "1")

    for name in ("original", "sweep"):
        for output in ("metrics.json", "coords.npy"):
            assert (tmp_path / f"results/experiments/{name}/{output}").read_bytes() == (
                four_people / f"results/experiments/{name}/{output}"
            ).read_bytes()
        mine = read_assignments(tmp_path / f"results/experiments/{name}/assignments.tsv")
        theirs = read_assignments(four_people / f"results/experiments/{name}/assignments.tsv")

        def strip(rows, root):
            return [(r.path.replace(str(root), ""), r.cluster, r.left) for r in rows]

        assert strip(mine, tmp_path) == strip(theirs, four_people)


def test_without_k_the_default_clusterer_finds_the_four_people(four_people):
    summary = metrics(four_people, "unknown_k")
    scores = summary["per_k"][str(summary["chosen_k"])]

    assert summary["recipe"]["cluster"]["threshold"] == EMBEDDERS["dlib"].thresholds["euclidean"]  # from "auto"
    assert any(
        re.match(r"cut at [0-9.]+: (the widest gap near|the floor, [0-9.]+ of) the threshold", note)
        for note in summary["notes"]
    )
    # Four people, and at most one odd photo on its own: never two people merged.
    assert summary["chosen_k"] in (4, 5)
    assert scores["pairwise_precision"] == 1.0 and scores["bcubed_f1"] >= 0.95


def test_people_folders_hold_each_cluster_with_photos_and_faces(four_people):
    people = four_people / "results/experiments/original/people"
    index = read_people(people / "people.tsv")

    assert [row.folder for row in index] == ["person_0001", "person_0002", "person_0003", "person_0004"]
    assert sum(row.faces for row in index) == 40
    folder = people / index[0].folder
    links = sorted(p for p in folder.iterdir() if p.is_symlink())
    assert len(links) == index[0].photos and all(p.suffix == ".jpg" and ".face" not in p.name for p in links)
    assert all(p.resolve().is_file() for p in links)
    assert len(list(folder.glob("*.face0.jpg"))) == index[0].faces
    assert Image.open(folder / "contact_sheet.jpg").size[1] > 80
    copied = four_people / "results/experiments/unknown_k/people/person_0001"
    assert not any(p.is_symlink() for p in copied.iterdir())


def test_each_seed_draws_its_own_sample(four_people):
    drawn = [
        {row.label for row in read_assignments(four_people / f"results/experiments/seed{s}/assignments.tsv")}
        for s in (0, 1)
    ]

    assert all(len(people) == 2 for people in drawn) and drawn[0] != drawn[1]


def test_the_report_opens_with_the_people_and_no_image_is_over_4096_px(four_people):
    folder = four_people / "results/experiments/unknown_k"
    report = (folder / "report.md").read_text()
    summary = metrics(four_people, "unknown_k")

    assert report.startswith("# Experiment `unknown_k`\n\n## People\n")
    people = summary["people"]
    assert people["person_faces"] + people["others_faces"] + sum(people["set_aside"].values()) == 40
    assert f"{people['persons']} persons: {people['person_faces']} faces" in report
    assert "| [person_0001](people/person_0001/contact_sheet.jpg) |" in report
    assert "![person_0001](people/person_0001/contact_sheet.jpg)" in report
    assert "true person (right)" in report  # a labelled folder's scatter has both panels
    for image in (four_people / "results/experiments").rglob("*.png"):
        with Image.open(image) as opened:
            assert max(opened.size) <= 4096, image


def test_the_html_report_holds_every_experiment(four_people):
    run_snakemake(four_people, "--report", str(four_people / "report.html"))

    html = (four_people / "report.html").read_text()
    for name in ("original", "sweep", "unknown_k"):
        assert f'"experiment": "{name}"' in html
    assert "Hungarian method" in html  # a caption, rendered
