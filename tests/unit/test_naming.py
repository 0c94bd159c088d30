"""The corrections file: read as written; a missing one is recorded with its reason, never fatal
(a file not in the corrections' form stops the run: tests/unit/test_state.py); which clusters become
persons; where a corrected face goes; what a merge makes of two persons, a rename and a known person."""

import numpy as np
from conftest import a_face

from facecluster.naming.corrections import read_corrections
from facecluster.naming.known import KnownPeople
from facecluster.naming.persons import Aliases, name_people
from facecluster.tables import OTHERS

NO_CORRECTIONS = {"rename": [], "merge": [], "move_out": [], "hide": []}


def test_a_missing_corrections_file_gives_no_corrections_and_says_why(tmp_path):
    missing, problem = read_corrections(tmp_path / "none.yaml")
    assert missing == NO_CORRECTIONS and "does not exist" in problem


def test_a_corrections_file_is_read_as_written(tmp_path):
    (tmp_path / "fix.yaml").write_text(
        "rename: {person_0007: obama}\nmerge: [[person_0003, person_0011]]\n"
        "move_out: [{photo: a.jpg, face: 1, person: person_0002}, {photo: b.jpg, face: 0, person: obama, to: nobody}]\n"
        "hide: [person_0012]\n"
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


def test_two_persons_merged_are_one_under_the_first_name_and_the_other_becomes_its_alias():
    faces, X, clusters, state = previously_named()
    corrections = {**NO_CORRECTIONS, "merge": [["person_0001", "person_0002"]]}

    persons, after, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons == ["person_0001"] * 8 + ["person_0003"] * 4
    assert after.aliases == {"person_0002": "person_0001"}
    assert report["kept"] == ["person_0001", "person_0003"] and report["new"] == []
    merge = {"correction": "merge ['person_0001', 'person_0002']", "honoured": True, "reason": ""}
    assert report["corrections"] == [merge]


def test_a_merge_then_a_rename_of_either_name_renames_the_merged_person():
    faces, X, clusters, state = previously_named()
    corrections = {**NO_CORRECTIONS, "merge": [["person_0001", "person_0002"]], "rename": [("person_0002", "alice")]}

    persons, after, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons == ["alice"] * 8 + ["person_0003"] * 4
    assert after.aliases == {"person_0002": "person_0001", "person_0001": "alice"}
    assert report["new"] == ["alice"] and [c["honoured"] for c in report["corrections"]] == [True, True]


def test_a_merge_naming_someone_not_in_the_previous_run_is_not_honoured_and_says_why():
    faces, X, clusters, state = previously_named()
    corrections = {**NO_CORRECTIONS, "merge": [["person_0001", "person_0042"]]}

    persons, after, report = name_people(faces, X, clusters, threshold=0.5, previous=state, corrections=corrections)

    assert persons == ["person_0001"] * 4 + ["person_0002"] * 4 + ["person_0003"] * 4
    assert after.aliases == {}
    reason = "no face of person_0042 in the previous run's names (or gone since)"
    merge = {"correction": "merge ['person_0001', 'person_0042']", "honoured": False, "reason": reason}
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
    assert persons == ["obama"] * 8 + ["person_0002"] * 4 and after.aliases == {"person_0001": "obama"}
    # Half the merged faces are near obama's references, not most: the name is the merge's, not a known one.
    assert report["known"] == {}
    persons, after, _ = merged(["person_0001", "obama"])
    assert persons == ["person_0001"] * 8 + ["person_0002"] * 4 and after.aliases == {"obama": "person_0001"}


def test_a_name_is_read_through_its_aliases_and_a_cycle_stops_where_it_closes():
    aliases = Aliases({"person_0002": "person_0001", "person_0001": "alice", "bob": "robert", "robert": "bob"})

    assert aliases.resolve("person_0002") == "alice" and aliases.resolve("carol") == "carol"
    assert aliases.resolve("bob") == "bob" and aliases.resolve("robert") == "robert"
    assert aliases.without({"bob", "robert"}) == {"person_0002": "person_0001", "person_0001": "alice"}
