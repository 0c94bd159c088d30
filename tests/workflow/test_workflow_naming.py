"""Naming the people, run by Snakemake: reference photos, names kept across runs, corrections, find a person."""

import json
import os
import shutil
from collections import Counter, defaultdict

import pytest
import yaml
from conftest import DATASETS, copy_photos, lfw_sample, read_tsv, run_snakemake, write_config

from facecluster.outputs.assignments import read_assignments
from facecluster.outputs.people_folders import read_people
from facecluster.workflow.config import validate_config
from facecluster.workflow.experiment import rename_experiment
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.specs import resolve, state_folder_name

pytestmark = pytest.mark.workflow

KNOWN_PEOPLE = DATASETS / "known-people"
FOUR = ["Arnold_Schwarzenegger", "Hugo_Chavez", "Jennifer_Capriati", "Vladimir_Putin"]
NEWCOMER = "Gloria_Macapagal_Arroyo"
# Every face of a photo kept, as the product's default model does.
MODEL = {"detector": {"name": "yunet", "keep": "all", "min_size": 16}, "embedder": {"name": "dlib"}}
CENTRE_MODEL = {"detector": {"name": "yunet", "keep": "center", "min_size": 16}, "embedder": {"name": "dlib"}}


@pytest.fixture(scope="module")
def known_people(datasets, tmp_path_factory):
    if not KNOWN_PEOPLE.is_dir():
        pytest.skip(f"{KNOWN_PEOPLE} is absent (see ../shared/datasets/README)")
    work = tmp_path_factory.mktemp("known")
    known = shutil.copytree(KNOWN_PEOPLE / "known", work / "known")
    # A person whose only reference photo shows no face: recorded, not fatal.
    (known / "nobody").mkdir()
    shutil.copyfile(DATASETS / "negatives/no_face/park.jpg", known / "nobody/park.jpg")
    (work / "corrections.yaml").write_text("rename: {person_0099: grandma}\n")  # nobody had that name
    experiment = {
        "dataset": "photos",
        "cluster": {"method": "agglomerative"},
        "known": str(known),
        "find": str(KNOWN_PEOPLE / "known"),
        "corrections": str(work / "corrections.yaml"),
        # alex_lacamoire1.jpg carries its own name (IPTC PersonInImage, "Alex Lacamoire"), which would
        # win over the reference folder's: this is about the references alone.
        "face_tags": False,
    }
    write_config(
        work,
        {"photos": {"path": str(KNOWN_PEOPLE / "photos"), "labels": "none"}},
        models={"dlib": MODEL},
        experiments={"named": experiment},
    )
    run_snakemake(work)
    return work / "results"


def test_every_face_of_a_known_person_takes_their_name_and_nobody_else_does(known_people):
    expected = {row["photo"]: set(row["people"].split(",")) for row in read_tsv(KNOWN_PEOPLE / "expected.tsv")}
    known = {p.name for p in (KNOWN_PEOPLE / "known").iterdir()}
    named = defaultdict(list)
    for face in read_tsv(known_people / "experiments/named/assignments.tsv"):
        named[os.path.basename(face["path"])].append(face["person"])

    for photo, people in expected.items():
        known_here = [person for person in named[photo] if person in known]
        assert sorted(known_here) == sorted(people), photo  # each once, nobody else named
    # Nobody else is in 4 photos (min_photos): everyone else's faces are others'.
    assert {person for persons in named.values() for person in persons if person not in known} == {"others"}


def test_one_name_per_person_in_folders_tables_and_sheets(known_people):
    people = known_people / "experiments/named/people"
    index = read_people(people / "people.tsv")
    persons = {face["person"] for face in read_tsv(known_people / "experiments/named/assignments.tsv")}

    assert {row.folder for row in index} == persons
    assert {"obama", "biden", "kit_harington"} <= persons
    assert all((people / person).is_dir() for person in persons)
    assert len(list((people / "obama").glob("*.face*.jpg"))) == 2  # one folder for both photos of him
    summary = json.loads((known_people / "experiments/named/metrics.json").read_text())
    assert summary["naming"]["known"]["obama"] == 2
    (problem,) = summary["naming"]["corrections"]
    assert not problem["honoured"] and problem["reason"] == "no person person_0099 in this run"
    assert summary["naming"]["known_without_reference"] == ["nobody"]
    report = (known_people / "experiments/named/report.md").read_text()
    assert "rename person_0099 to grandma: no person person_0099 in this run" in report and "nobody" in report
    # An unlabelled folder's report shows what applies to it: no confusion matrix, no true person.
    assert report.startswith("# Experiment `named`\n\n## People\n")
    assert "(plots/confusion.png)" not in report and "true person" not in report
    assert "[obama](people/obama/contact_sheet.jpg) | 2 | 2 |" in report
    # The reference photos went through the per-photo stage, with a ledger.
    ledger = read_tsv(known_people / "named-known/dlib/ledger.tsv")
    assert len(ledger) == 10 and sorted(row["status"] for row in ledger).count("embedded") == 9


def test_find_lists_every_photo_of_the_person_nearest_first(known_people):
    found = known_people / "experiments/named/find"
    summary = {row["query"]: row for row in read_tsv(found / "summary.tsv")}
    obama = read_tsv(found / "obama.tsv")

    assert summary["obama"]["person"] == "obama" and summary["obama"]["photos"] == "2"
    assert {os.path.basename(row["path"]) for row in obama} == {"obama1.jpg", "obama_and_biden.jpg"}
    assert [float(row["distance"]) for row in obama] == sorted(float(row["distance"]) for row in obama)
    assert (found / "obama.png").stat().st_size > 0


@pytest.fixture(scope="module")
def growing_folder(lfw_dir, tmp_path_factory):
    """Four people, 9 photos each, then 17 % more photos (one more of two of them, four of a newcomer:
    min_photos, so that the newcomer is a person)."""
    work = tmp_path_factory.mktemp("growing")
    photos = copy_photos(lfw_sample(FOUR, 9), work / "photos")
    experiment = {"dataset": "four", "cluster": {"method": "agglomerative"}, "corrections": str(work / "fix.yaml")}
    write_config(
        work,
        {"four": {"path": str(photos), "labels": "folders"}},
        models={"dlib": CENTRE_MODEL},
        experiments={"four": experiment},
    )
    run_snakemake(work)
    first = read_tsv(work / "results/experiments/four/assignments.tsv")
    copy_photos(lfw_sample(FOUR[:2], 1, offset=9) + lfw_sample([NEWCOMER], 4), photos)
    run_snakemake(work)
    return work, first


def assignments(work):
    return read_tsv(work / "results/experiments/four/assignments.tsv")


def person_of(rows):
    return {(os.path.basename(row["path"]), row["face_index"]): row["person"] for row in rows}


def test_adding_photos_renumbers_nobody_and_numbers_the_newcomer(growing_folder):
    work, first = growing_folder
    before, after = person_of(first), person_of(assignments(work))

    assert len(after) == len(before) + 6
    assert {face: after[face] for face in before} == before  # every face kept its person
    numbers = sorted(set(before.values()))
    assert numbers[0] == "person_0001" and len(numbers) >= 4
    newcomer = {person for (photo, _), person in after.items() if photo.startswith(NEWCOMER)}
    assert len(newcomer) == 1 and newcomer.pop() > numbers[-1]  # a new number, after the others'


def main_person(rows):
    """{label: the person holding most of its faces}."""
    counts = defaultdict(Counter)
    for row in rows:
        counts[row["label"]][row["person"]] += 1
    return {label: people.most_common(1)[0][0] for label, people in counts.items()}


def test_corrections_are_honoured_and_stick(growing_folder):
    work, _ = growing_folder
    rows = assignments(work)
    arnold, hugo, jennifer, vladimir = (main_person(rows)[name] for name in FOUR)
    moved = next(row for row in rows if row["person"] == vladimir)
    corrections = {
        "rename": {arnold: "arnold"},
        "merge": [[hugo, jennifer]],
        "move_out": [
            {"photo": os.path.basename(moved["path"]), "face": int(moved["face_index"]), "person": vladimir},
            {"photo": "nowhere.jpg", "face": 0, "person": vladimir},
        ],
    }
    (work / "fix.yaml").write_text(yaml.safe_dump(corrections))
    run_snakemake(work)  # the corrections file is an input: editing it reruns the clustering
    run_snakemake(work, "--forcerun", "cluster_experiment")  # and a later run keeps them

    after = assignments(work)
    before, now = person_of(rows), person_of(after)
    renamed = [face for face, person in before.items() if person == arnold]
    merged = [face for face, person in before.items() if person in (hugo, jennifer)]
    assert {now[face] for face in renamed} == {"arnold"}
    assert {now[face] for face in merged} == {hugo}
    assert person_of(after)[(os.path.basename(moved["path"]), moved["face_index"])] != vladimir
    assert (work / "results/experiments/four/people/arnold").is_dir()
    report = json.loads((work / "results/experiments/four/metrics.json").read_text())["naming"]["corrections"]
    assert [c["honoured"] for c in report] == [True, True, True, False]
    assert "nowhere.jpg" in report[-1]["reason"]


def test_a_state_folder_lost_starts_the_numbering_again(growing_folder):
    work, _ = growing_folder
    shutil.rmtree(work / "results/state")
    (work / "fix.yaml").unlink()
    run_snakemake(work, "--forcerun", "cluster_experiment")
    persons = {row["person"] for row in assignments(work)}
    assert "person_0001" in persons and "arnold" not in persons


def test_another_folder_numbers_its_people_afresh(known_people, lfw_dir):
    work = known_people.parent
    photos = copy_photos(lfw_sample(FOUR[:1], 4), work / "other")  # min_photos: a person
    config = yaml.safe_load((work / "config.yaml").read_text())
    config["datasets"]["photos"]["path"] = str(photos)
    config["experiments"]["named"].pop("corrections")
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(work)

    persons = {face["person"] for face in read_tsv(known_people / "experiments/named/assignments.tsv")}
    assert persons - {"others"} == {"person_0001"}  # others: a face in the background of a photo


def people_names(results, experiment):
    return {row.folder for row in read_people(results / f"experiments/{experiment}/people/people.tsv")}


def test_corrections_applied_in_place_are_what_the_next_run_writes(lfw_dir, tmp_path):
    work = tmp_path
    photos = copy_photos(lfw_sample(FOUR[:3], 4), work / "photos")
    write_config(
        work,
        {"three": {"path": str(photos), "labels": "folders"}},
        models={"dlib": CENTRE_MODEL},
        experiments={"e": {"dataset": "three", "cluster": {"method": "agglomerative"}}},
    )
    run_snakemake(work)
    results = work / "results"
    rows = read_assignments(results / "experiments/e/assignments.tsv")
    first, second, *_ = sorted({row.person for row in rows} - {"others"})
    # No corrections: in the config: the file in the experiment's state folder, read by every run.
    corrections = results / "state/e/corrections.yaml"
    fixes = {"rename": {first: "alice"}, "hide": [second]}
    aside = [row for row in rows if row.set_aside]
    if aside:  # a face set aside moved into a person
        fixes["move_out"] = [{"photo": aside[0].path, "face": aside[0].face_index, "person": "others", "to": "alice"}]
    corrections.write_text(yaml.safe_dump(fixes))
    spec = resolve(validate_config(yaml.safe_load((work / "config.yaml").read_text()))).experiments["e"]

    changed = rename_experiment(spec, ResultPaths(str(results)), corrections_path=str(corrections))

    assert changed == {first, "alice", second}
    applied = (results / "experiments/e/assignments.tsv").read_bytes()
    naming = json.loads((results / "experiments/e/metrics.json").read_text())["naming"]
    assert all(c["honoured"] for c in naming["corrections"]) and naming["hidden"] == [second]
    if aside:
        assert read_assignments(results / "experiments/e/assignments.tsv")[aside[0].row].person == "alice"
    run_snakemake(work)  # the people folders follow the assignments rewritten
    persons = {row.person for row in read_assignments(results / "experiments/e/assignments.tsv")} - {"others"}
    assert people_names(results, "e") == persons - {second} and "alice" in persons
    run_snakemake(work, "--forcerun", "cluster_experiment")
    assert (results / "experiments/e/assignments.tsv").read_bytes() == applied
    assert people_names(results, "e") == persons - {second}


def test_two_folders_sorted_with_photos_each_keep_their_own_names_and_corrections(lfw_dir, tmp_path):
    work = tmp_path
    folders = {
        "alice": copy_photos(lfw_sample(FOUR[:1], 4), work / "a/2019"),
        "bob": copy_photos(lfw_sample(FOUR[1:2], 4), work / "b/2019"),  # the same folder name
    }
    write_config(work, {"unused": {"path": str(folders["alice"])}}, models={"dlib": CENTRE_MODEL})

    def sort(name, *args):
        run_snakemake(work, "--config", f"photos={folders[name]}", *args)
        return {row.person for row in read_assignments(work / "results/experiments/photos/assignments.tsv")}

    def state_of(name):
        return work / "results/state" / state_folder_name("photos", folders[name])

    assert sort("alice") - {"others"} == {"person_0001"}
    # The state of older versions, results/state/photos/, is this folder's: taken over by its next run only.
    state_of("alice").rename(work / "results/state/photos")
    assert sort("bob") - {"others"} == {"person_0001"}
    assert (work / "results/state/photos").is_dir()
    (state_of("bob") / "corrections.yaml").write_text("rename: {person_0001: bob}\n")
    assert sort("alice", "--forcerun", "cluster_experiment") - {"others"} == {"person_0001"}
    assert not (work / "results/state/photos").exists()
    (state_of("alice") / "corrections.yaml").write_text("rename: {person_0001: alice}\n")
    assert sort("alice") - {"others"} == {"alice"}
    assert sort("bob") - {"others"} == {"bob"}
    assert sort("alice", "--forcerun", "cluster_experiment") - {"others"} == {"alice"}
