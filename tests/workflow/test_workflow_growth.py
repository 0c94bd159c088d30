"""A folder sorted before that grows: new photos' faces placed among its persons, not every face sorted again."""

import json

import pytest
from conftest import copy_photos, lfw_sample, read_tsv, run_snakemake, write_config

pytestmark = pytest.mark.workflow

PEOPLE = ["Hans_Blix", "Hugo_Chavez", "Vladimir_Putin"]


def sorting_notes(workdir):
    return json.loads((workdir / "results/experiments/grow/clustering.json").read_text())["notes"]


def persons_by_face(workdir):
    rows = read_tsv(workdir / "results/experiments/grow/assignments.tsv")
    return {(row["path"], row["face_index"]): row["person"] for row in rows}


def grouping(persons):
    """The faces grouped by person, whatever the persons' names."""
    groups = {}
    for face, person in persons.items():
        groups.setdefault(person, set()).add(face)
    return sorted(sorted(group) for group in groups.values())


def test_new_photos_are_placed_among_the_persons_and_a_removed_one_sorts_every_face_again(lfw_dir, tmp_path):
    photos = copy_photos(lfw_sample(PEOPLE, 12), tmp_path / "photos")
    write_config(
        tmp_path, {"grow": {"path": str(photos), "labels": "folders"}}, experiments={"grow": {"dataset": "grow"}}
    )
    run_snakemake(tmp_path)
    assert not any("new faces placed" in note for note in sorting_notes(tmp_path))
    assert (tmp_path / "results/state/grow/sorting.npz").is_file()

    added = copy_photos(lfw_sample(["Hugo_Chavez"], 2, offset=12), photos)
    run_snakemake(tmp_path)

    assert any(note.startswith("2 new faces placed") for note in sorting_notes(tmp_path))
    placed = persons_by_face(tmp_path)
    new_faces = [face for face in placed if "Hugo_Chavez" in face[0] and int(face[0][-8:-4]) > 12]
    assert len(new_faces) == 2 and {placed[face] for face in new_faces} != {"others"}
    # Sorted again in full (the state deleted), every face is where the placement put it.
    (tmp_path / "results/state/grow/sorting.npz").unlink()
    run_snakemake(tmp_path, "--forcerun", "cluster_experiment")
    assert not any("new faces placed" in note for note in sorting_notes(tmp_path))
    full = persons_by_face(tmp_path)
    assert grouping(full) == grouping(placed)

    next(iter((added / "Hans_Blix").iterdir())).unlink()
    run_snakemake(tmp_path)
    assert not any("new faces placed" in note for note in sorting_notes(tmp_path))
