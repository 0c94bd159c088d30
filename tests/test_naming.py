"""The corrections file (a mistake in it is recorded with its reason, never fatal), and which
clusters become persons."""

import numpy as np

from facecluster.naming import OTHERS, name_people, read_corrections


def test_a_missing_or_malformed_corrections_file_gives_no_corrections_and_says_why(tmp_path):
    missing, problem = read_corrections(tmp_path / "none.yaml")
    assert missing == {"rename": [], "merge": [], "move_out": []} and "does not exist" in problem

    (tmp_path / "bad.yaml").write_text("rename: [unclosed\n")
    assert "not valid YAML" in read_corrections(tmp_path / "bad.yaml")[1]

    (tmp_path / "keys.yaml").write_text("renames: {person_0001: obama}\n")
    assert "expected a mapping with keys rename, merge, move_out" in read_corrections(tmp_path / "keys.yaml")[1]

    (tmp_path / "shape.yaml").write_text("rename: [person_0001, obama]\n")
    assert "rename is a mapping" in read_corrections(tmp_path / "shape.yaml")[1]


def test_a_corrections_file_is_read_as_written(tmp_path):
    (tmp_path / "fix.yaml").write_text(
        "rename: {person_0007: obama}\nmerge: [[person_0003, person_0011]]\n"
        "move_out: [{photo: a.jpg, face: 1, person: person_0002}]\n"
    )
    corrections, problem = read_corrections(tmp_path / "fix.yaml")
    assert problem is None
    assert corrections["rename"] == [("person_0007", "obama")]
    assert corrections["merge"] == [["person_0003", "person_0011"]]
    assert corrections["move_out"] == [{"photo": "a.jpg", "face": 1, "person": "person_0002"}]


def faces_in(photos_per_cluster):
    """Faces (one a photo) and their cluster ids: cluster c has photos_per_cluster[c] photos."""
    faces, clusters = [], []
    for cluster, photos in enumerate(photos_per_cluster):
        for photo in range(photos):
            faces.append({"path": f"c{cluster}p{photo}.jpg", "face_index": 0, "photo_id": f"c{cluster}p{photo}"})
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
