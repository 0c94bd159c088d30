"""The corrections file: read as written; a missing one is recorded with its reason, never fatal
(a file not in the corrections' form stops the run: tests/unit/test_state.py); which clusters become
persons; where a corrected face goes; what a merge makes of two persons, a rename and a known person."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import PROJECT_ROOT, a_face

from facecluster.naming.corrections import read_corrections
from facecluster.naming.known import KnownPeople
from facecluster.naming.names import NAME_RULES, name_problem
from facecluster.naming.persons import Aliases, name_people
from facecluster.outputs.assignments import Assignment, read_assignments, write_assignments
from facecluster.photos.faces import write_faces
from facecluster.tables import OTHERS
from facecluster.workflow.config import validate_config
from facecluster.workflow.experiment import rename_experiment
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.specs import resolve

SHIPPED = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())

NO_CORRECTIONS = {"rename": [], "merge": [], "move_out": [], "hide": [], "confirm": [], "apart": []}


def test_a_missing_corrections_file_gives_no_corrections_and_says_why(tmp_path):
    missing, problem = read_corrections(tmp_path / "none.yaml")
    assert missing == NO_CORRECTIONS and "does not exist" in problem


def test_a_corrections_file_is_read_as_written(tmp_path):
    (tmp_path / "fix.yaml").write_text(
        "rename: {person_0007: obama}\nmerge: [[person_0003, person_0011]]\n"
        "move_out: [{photo: a.jpg, face: 1, person: person_0002}, {photo: b.jpg, face: 0, person: obama, to: nobody}]\n"
        "hide: [person_0012]\nconfirm: [{photo: c.jpg, face: 2, person: obama}]\napart: [[person_0004, obama]]\n"
    )
    corrections, problem = read_corrections(tmp_path / "fix.yaml")
    assert problem is None
    assert corrections == {
        "rename": [("person_0007", "obama")],
        "merge": [["person_0003", "person_0011"]],
        "move_out": [
            {"photo": "a.jpg", "face": 1, "person": "person_0002"},
            {"photo": "b.jpg", "face": 0, "person": "obama", "to": "nobody"},
        ],
        "hide": ["person_0012"],
        "confirm": [{"photo": "c.jpg", "face": 2, "person": "obama"}],
        "apart": [["person_0004", "obama"]],
    }
    (tmp_path / "empty.yaml").write_text("# nothing to correct yet\nrename:\n")
    assert read_corrections(tmp_path / "empty.yaml") == (NO_CORRECTIONS, None)


def faces_in(photos_per_cluster):
    """Faces (one a photo) and their cluster ids: cluster c has photos_per_cluster[c] photos."""
    faces, clusters = [], []
    for cluster, photos in enumerate(photos_per_cluster):
        for photo in range(photos):
            faces.append(a_face(path=f"c{cluster}p{photo}.jpg", photo_id=f"c{cluster}p{photo}"))
            clusters.append(cluster)
    return faces, np.array(clusters)


def test_a_cluster_is_a_person_from_min_photos_photos_and_numbers_go_to_persons_only():
    faces, clusters = faces_in([5, 3, 2, 1, 1])
    X = np.zeros((len(faces), 128))

    persons, state, report = name_people(faces, X, clusters, threshold=0.5, min_photos=3)

    assert persons == ["person_0001"] * 5 + ["person_0002"] * 3 + [OTHERS] * 4
    assert report["new"] == ["person_0001", "person_0002"]
    # Every cluster a person with min_photos 1: the behaviour before issue 25.
    assert len(set(name_people(faces, X, clusters, threshold=0.5, min_photos=1)[0])) == 5


def test_a_bystander_seen_again_later_becomes_the_next_person_and_the_others_keep_their_numbers():
    faces, clusters = faces_in([5, 3, 2])
    X = np.zeros((len(faces), 128))
    _, state, _ = name_people(faces, X, clusters, threshold=0.5, min_photos=3)
    later, later_clusters = faces_in([5, 3, 4])  # cluster 2 seen in two more photos

    X = np.zeros((len(later), 128))
    persons, _, report = name_people(later, X, later_clusters, threshold=0.5, previous=state, min_photos=3)

    assert persons == ["person_0001"] * 5 + ["person_0002"] * 3 + ["person_0003"] * 4
    assert report["kept"] == ["person_0001", "person_0002"] and report["new"] == ["person_0003"]


def test_a_name_given_makes_a_person_of_a_cluster_under_min_photos():
    faces, clusters = faces_in([5, 1])
    X = np.zeros((6, 128))
    _, state, _ = name_people(faces, X, clusters, threshold=0.5, min_photos=1)
    corrections = {"rename": [("person_0002", "grandma")], "merge": [], "move_out": []}

    renamed = {"previous": state, "corrections": corrections}
    persons, _, _ = name_people(faces, X, clusters, threshold=0.5, min_photos=3, **renamed)

    assert persons == ["person_0001"] * 5 + ["grandma"]


def three_people():
    """Three people of four faces each, one photo a face: about 0.1 apart within a person, 4 between."""
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 3
    X = np.concatenate([centre + rng.normal(0, 0.03, (4, 8)) for centre in centres])
    faces = [a_face(path=f"p{i}.jpg", photo_id=f"p{i}") for i in range(12)]
    return faces, X, np.repeat([0, 1, 2], 4)


def test_a_face_moves_to_the_person_named_or_to_nobody_and_a_hidden_person_is_reported():
    faces, X, clusters = three_people()
    persons, state, _ = name_people(faces, X, clusters, threshold=0.5)
    assert persons[:4] == ["person_0001"] * 4  # first seen, on a tie of sizes
    corrections = {
        "rename": [],
        "merge": [],
        "move_out": [
            {"photo": "p0.jpg", "face": 0, "person": "person_0001", "to": "person_0003"},
            {"photo": "p1.jpg", "face": 0, "person": "person_0001", "to": "nobody"},
            {"photo": "p2.jpg", "face": 0, "person": "person_0001", "to": "person_0042"},
        ],
        "hide": ["person_0002", "person_0077"],
    }
    persons, _, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons[0] == "person_0003" and persons[1] == OTHERS and persons[2] == "person_0001"
    assert report["hidden"] == ["person_0002"]
    assert [(c["honoured"], c["reason"]) for c in report["corrections"]] == [
        (True, ""),
        (True, ""),
        (False, "no person person_0042 in this run"),
        (True, ""),
        (False, "no person person_0077 in this run"),
    ]


def previously_named():
    """three_people and the state of a first run over them: person_0001 to person_0003."""
    faces, X, clusters = three_people()
    _, state, _ = name_people(faces, X, clusters, threshold=0.5)
    return faces, X, clusters, state


def test_two_persons_merged_are_one_under_the_first_name_and_the_state_keeps_the_names_before():
    faces, X, clusters, state = previously_named()
    corrections = {**NO_CORRECTIONS, "merge": [["person_0001", "person_0002"]]}

    persons, after, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons == ["person_0001"] * 8 + ["person_0003"] * 4
    assert after.faces == state.faces  # the names before the corrections: undoing the merge gives them back
    assert report["kept"] == ["person_0001", "person_0002", "person_0003"] and report["new"] == []
    merge = {"correction": "merge ['person_0001', 'person_0002']", "honoured": True, "reason": ""}
    assert report["corrections"] == [merge]


def test_a_merge_then_a_rename_of_the_name_kept_renames_the_merged_person_and_of_the_other_is_refused():
    faces, X, clusters, state = previously_named()
    renames = [("person_0001", "alice"), ("person_0002", "bob")]
    corrections = {**NO_CORRECTIONS, "merge": [["person_0001", "person_0002"]], "rename": renames}

    persons, after, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons == ["alice"] * 8 + ["person_0003"] * 4
    assert after.faces == state.faces and [c["honoured"] for c in report["corrections"]] == [True, True, False]
    assert report["corrections"][2]["reason"] == "person_0002 was merged into another person; rename that person"


def test_a_merge_of_two_persons_the_same_corrections_renamed_reads_their_new_names():
    # What the review app writes: two renames, then "ann merged into bob".
    faces, X, clusters, state = previously_named()
    renames = [("person_0001", "ann"), ("person_0002", "bob")]
    corrections = {**NO_CORRECTIONS, "rename": renames, "merge": [["bob", "ann"]]}

    persons, _, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons == ["bob"] * 8 + ["person_0003"] * 4  # the name merged into, whatever the renames' order
    assert [c["honoured"] for c in report["corrections"]] == [True, False, True]


def test_a_merge_naming_someone_not_in_this_run_is_not_honoured_and_says_why():
    faces, X, clusters, state = previously_named()
    corrections = {**NO_CORRECTIONS, "merge": [["person_0001", "person_0042"]]}

    persons, after, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons == ["person_0001"] * 4 + ["person_0002"] * 4 + ["person_0003"] * 4
    merge = {
        "correction": "merge ['person_0001', 'person_0042']",
        "honoured": False,
        "reason": "no person person_0042 in this run",
    }
    assert report["corrections"] == [merge]


def test_a_merge_with_a_known_person_takes_the_first_name_listed():
    faces, X, clusters = three_people()
    known = KnownPeople(["obama", "obama"], X[[0, 1]] + 0.01)  # two references, near the first person
    first, state, _ = name_people(faces, X, clusters, threshold=0.5, known=known)
    assert first == ["obama"] * 4 + ["person_0001"] * 4 + ["person_0002"] * 4

    def merged(names):
        corrections = {**NO_CORRECTIONS, "merge": [names]}
        return name_people(faces, X, clusters, threshold=0.5, known=known, previous=state, corrections=corrections)

    persons, after, report = merged(["obama", "person_0001"])
    assert persons == ["obama"] * 8 + ["person_0002"] * 4 and after.faces == state.faces
    assert report["known"] == {"obama": 8}
    persons, after, report = merged(["person_0001", "obama"])
    assert persons == ["person_0001"] * 8 + ["person_0002"] * 4 and report["known"] == {}


def test_a_name_is_read_through_its_aliases_and_a_cycle_stops_where_it_closes():
    aliases = Aliases({"person_0002": "person_0001", "person_0001": "alice", "bob": "robert", "robert": "bob"})

    assert aliases.resolve("person_0002") == "alice" and aliases.resolve("carol") == "carol"
    assert aliases.resolve("bob") == "bob" and aliases.resolve("robert") == "robert"


def run(state, corrections=None, previous_faces=None):
    """name_people over three_people with `state`, then: (persons, state after, report)."""
    faces, X, clusters = previous_faces or three_people()
    corrections = {**NO_CORRECTIONS, **(corrections or {})}
    return name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)


@pytest.mark.parametrize(
    "corrections",
    [
        {"merge": [["person_0003", "person_0002"]]},
        {"rename": [("person_0002", "alice")]},
        {"move_out": [{"photo": "p4.jpg", "face": 0, "person": "person_0002", "to": "person_0001"}]},
        {"move_out": [{"photo": "p4.jpg", "face": 0, "person": "person_0002"}]},
        {"move_out": [{"photo": "p4.jpg", "face": 0, "person": "person_0002", "to": "nobody"}]},
        {"hide": ["person_0002"]},
    ],
)
def test_undoing_a_correction_gives_back_exactly_the_names_before_numbers_included(corrections):
    # Failed before the names before the corrections were kept: a merge undone gave the merged-in
    # faces a new number (person_0004), a face moved to another stayed there (aliases.tsv kept the old name).
    _, state, _ = name_people(*three_people(), threshold=0.5)
    before, _, _ = run(state)

    corrected, state, report = run(state, corrections)
    assert corrected != before or report["hidden"] == ["person_0002"]
    assert all(c["honoured"] for c in report["corrections"])
    corrected_again, state, _ = run(state, corrections)  # a correction kept is applied again, the same
    assert corrected_again == corrected
    undone, _, report = run(state)

    assert undone == before and report["hidden"] == [] and report["new"] == []


def test_a_hidden_person_stays_hidden_on_later_runs_while_the_file_keeps_them():
    _, state, _ = name_people(*three_people(), threshold=0.5)
    for _ in range(2):
        _, state, report = run(state, {"hide": ["person_0002"]})
        assert report["hidden"] == ["person_0002"]


def test_a_rename_to_another_persons_name_is_not_honoured_and_offers_a_merge():
    # Failed before: {person_0002: madonna, person_0001: madonna} made one person madonna without a word.
    _, state, _ = name_people(*three_people(), threshold=0.5)
    corrections = {"rename": [("person_0002", "madonna"), ("person_0001", "madonna"), ("person_0003", "person_0002")]}

    persons, _, report = run(state, corrections)

    assert persons == ["person_0001"] * 4 + ["madonna"] * 4 + ["person_0003"] * 4
    assert [(c["honoured"], c["reason"]) for c in report["corrections"]] == [
        (True, ""),
        (False, "madonna is another person's name; to make them one person, merge person_0001 and madonna"),
        (False, "'person_0002' is of the form of the tool's numbers (person_NNNN); merge into that person instead"),
    ]


def test_a_rename_to_a_name_that_cannot_be_a_folder_name_is_not_honoured():
    # Failed before: a 300-character name was honoured (and the people folders failed, deleted).
    _, state, _ = name_people(*three_people(), threshold=0.5)

    persons, _, report = run(state, {"rename": [("person_0002", "a" * 300), ("person_0003", "x/y")]})

    assert set(persons) == {"person_0001", "person_0002", "person_0003"}
    assert [c["honoured"] for c in report["corrections"]] == [False, False]
    assert "at most 255 bytes" in report["corrections"][0]["reason"]


def test_a_face_set_aside_moves_into_a_person_with_move_out_from_others():
    faces, X, clusters = three_people()
    clusters = clusters.copy()
    clusters[11] = -1  # set aside: in no cluster
    _, state, _ = name_people(faces, X, clusters, threshold=0.5)
    entry = {"photo": "p11.jpg", "face": 0, "person": "others", "to": "person_0001"}

    persons, _, report = run(state, {"move_out": [entry]}, previous_faces=(faces, X, clusters))

    assert persons[11] == "person_0001" and report["corrections"][0]["honoured"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "cannot be empty"),
        ("a" * 256, "at most 255 bytes"),
        ("é" * 128, "at most 255 bytes"),  # 256 bytes of UTF-8 in 128 characters
        ("a/b", "cannot hold /"),
        ("a\\b", "cannot hold \\"),
        ("a\0b", "cannot hold U+0000"),
        ("tab\there", "cannot hold U+0009"),
        *((f"a{c}b", f"cannot hold {c}") for c in '<>:"|?*'),
        (".hidden", "cannot start with '.'"),
        (".", "cannot be a folder name"),
        ("..", "cannot be a folder name"),
        ("grandma ", "cannot end with a space or '.'"),
        ("grandma.", "cannot end with a space or '.'"),
        ("CON", "device name"),
        ("con.txt", "device name"),
        ("Lpt9", "device name"),
        ("others", "the tool uses itself"),
        ("Unknown", "the tool uses itself"),
        ("nobody", "the tool uses itself"),
        ("person_0002", "the tool's numbers"),
    ],
)
def test_a_name_a_person_cannot_have_is_refused_with_why(name, problem):
    assert problem in name_problem(name)


@pytest.mark.parametrize("name", ["obama", "a" * 255, "é" * 127, "Grand-mère Lucie", "console", "COM0", "person_1x"])
def test_a_name_within_the_rules_is_accepted(name):
    assert name_problem(name) is None
    assert len(name.encode()) <= NAME_RULES["max_bytes"]


def test_rename_experiment_names_the_faces_set_aside_too_and_says_who_changed(tmp_path):
    # The naming sees the faces set aside (it saw the clustered ones only: none could be moved in).
    faces, X, clusters = three_people()
    faces = [dataclasses.replace(face, row=row) for row, face in enumerate(faces)]
    reasons = ["blurred" if row == 11 else "" for row in range(12)]
    clusters = np.where(np.array(reasons) == "", clusters, -1)
    paths = ResultPaths(str(tmp_path / "results"))
    config = {"datasets": {"d": {"path": str(tmp_path)}}, "experiments": {"e": {"dataset": "d", "min_photos": 1}}}
    spec = resolve(validate_config({**SHIPPED, **config})).experiments["e"]
    processed = paths.processed("d", spec.model.name)
    Path(processed["faces"]).parent.mkdir(parents=True)
    write_faces(processed["faces"], faces)
    np.save(processed["embeddings"], X)
    Path(paths.assignments("e")).parent.mkdir(parents=True)
    persons, state, _ = name_people(faces, X, clusters, threshold=spec.naming_threshold)
    state.write(paths.state("e"))
    write_assignments(
        paths.assignments("e"),
        [
            Assignment.of_face(f, cluster=c, person=p, set_aside=r, hidden=False)
            for f, c, p, r in zip(faces, clusters, persons, reasons)
        ],
    )
    Path(paths.metrics("e")).write_text(json.dumps({"status": "clustered", "per_k": {}}))
    corrections = tmp_path / "fix.yaml"
    corrections.write_text(
        "move_out: [{photo: p11.jpg, face: 0, person: others, to: person_0003}]\nhide: [person_0001]\n"
    )

    changed = rename_experiment(spec, paths, corrections_path=str(corrections))

    after = read_assignments(paths.assignments("e"))
    assert after[11].person == "person_0003" and after[11].set_aside == "blurred"
    assert all(a.hidden for a in after[:4]) and changed == {"person_0001", "person_0003"}
    summary = json.loads(Path(paths.metrics("e")).read_text())
    assert summary["people"]["person_faces"] == 12 and summary["naming"]["hidden"] == ["person_0001"]
