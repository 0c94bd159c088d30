"""The review pages' "check these first" lists (facecluster.outputs.review)."""

from types import SimpleNamespace

import numpy as np
from conftest import an_assignment

from facecluster.outputs.review import NEAR_RATIO, near_faces, person_split, review_data, split_gap
from facecluster.photos.dates import DateRow


def rms(X, face, rows):
    return np.sqrt(np.mean([np.sum((X[face] - X[r]) ** 2) for r in rows if r != face]))


def test_near_faces_are_those_almost_as_near_another_person_as_their_own_by_exact_distances():
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (60, 16))
    groups = [list(range(0, 25)), list(range(25, 45)), list(range(45, 59)), [59]]
    found = near_faces(X, groups)

    expected = []
    for own, rows in enumerate(groups[:3]):
        for position, face in enumerate(rows):
            others = [rms(X, face, g) for o, g in enumerate(groups) if o != own]
            ratio = rms(X, face, rows) / min(others)
            if ratio >= NEAR_RATIO:
                expected.append((own, position, ratio))
    assert len(found) == len(expected) > 0  # random points: many are as near another group
    assert [(o, p) for o, p, _, _ in found] == [(o, p) for o, p, _ in sorted(expected, key=lambda e: -e[2])]
    assert np.allclose([r for *_, r in found], sorted((r for *_, r in expected), reverse=True))


def test_a_person_made_of_two_tight_groups_is_split_and_one_group_is_not():
    rng = np.random.default_rng(2)
    one = rng.normal(0, 0.05, (6, 16))
    two = np.concatenate([one, rng.normal(0, 0.05, (5, 16)) + np.eye(16)[0] * 0.8])

    assert person_split(one, threshold=0.5) is None
    split = person_split(two, threshold=0.5)
    assert split is not None and split["split_at"] in (5, 6)
    first = set(split["order"][: split["split_at"]])
    assert first in ({*range(6)}, {*range(6, 11)})
    assert split["between"] > 0.5 and person_split(two, threshold=1.0) is None  # not farther than the distance


def test_a_person_made_of_two_groups_of_identical_faces_is_split_and_listed_first():
    copies = np.repeat(np.eye(8)[[0, 1]] * 0.8, [3, 4], axis=0)  # two photos, each copied a few times
    near_copies = copies + np.random.default_rng(3).normal(0, 0.05, copies.shape)
    X = np.concatenate([copies, near_copies, np.repeat(np.eye(8)[[2]], 4, axis=0)])
    faces = [an_assignment(row=i, photo_id=f"p{i}", path=f"p{i}.jpg", person=f"person_{1 + i // 7}") for i in range(18)]

    split = person_split(copies, threshold=0.5)
    assert split["within"] == 0 and split_gap(split) == np.inf and split["split_at"] in (3, 4)
    assert person_split(X[14:], threshold=None) is None  # all the same face: nothing to split
    data = review_data(faces, X, experiment="copies")
    assert [data["persons"][s["person"]]["name"] for s in data["split"]] == ["person_1", "person_2"]


def test_a_face_set_aside_shows_under_the_person_it_was_moved_into_as_its_people_folder_has_it():
    faces = [
        an_assignment(row=0, photo_id="a", path="a.jpg", person="ana"),
        an_assignment(row=1, photo_id="b", path="b.jpg", person="ana", set_aside="too_small"),  # moved in
        an_assignment(row=2, photo_id="c", path="c.jpg", person="others", set_aside="blurred"),
    ]
    data = review_data(faces, np.eye(3), experiment="moved")
    assert {p["name"]: p["faces"] for p in data["persons"]} == {"ana": [0, 1], "others": [], "set aside": [2]}
    assert [data["faces"][str(p)][2] for p in range(3)] == [0, 0, 2]


def test_a_persons_faces_go_by_the_clocks_date_the_undated_last_by_name():
    taken = {"p2": "2021-06-03T14:00:00+09:00", "p4": "2021-06-03T09:00:00+02:00", "p5": "1987-05"}
    faces = [an_assignment(row=i, photo_id=f"p{i}", path=f"p{i}.jpg", person="ana") for i in (10, 2, 3, 4, 5)]
    dates = {
        photo: DateRow(photo, f"{photo}.jpg", date, "exif:DateTimeOriginal", "", "") for photo, date in taken.items()
    }

    data = review_data(faces, np.eye(5), experiment="dated", dates=dates)

    shown = [data["faces"][str(p)] for p in data["persons"][0]["faces"]]
    assert [face[0] for face in shown] == ["p5.jpg", "p4.jpg", "p2.jpg", "p3.jpg", "p10.jpg"]
    assert shown[0][6:] == ["1987-05", "exif:DateTimeOriginal"] and shown[3][6:] == ["", ""]


def test_thumbnails_made_by_two_processes_are_those_one_makes(tmp_path, monkeypatch):
    from facecluster.outputs import processes
    from facecluster.outputs.review import refresh_thumbnails

    stack = np.random.default_rng(0).integers(0, 256, size=(3, 128, 128, 3), dtype=np.uint8)
    np.save(tmp_path / "photo.chips.npy", stack)
    faces = [SimpleNamespace(chips=str(tmp_path / "photo.chips.npy"), face_index=i) for i in range(3)]
    made = {}
    for workers in (1, 2):
        monkeypatch.setattr(processes, "PARALLEL_FROM", 1 if workers > 1 else 10**9)
        folder = tmp_path / f"by-{workers}"
        folder.mkdir()
        (folder / "gone.jpg").write_bytes(b"a face no longer shown")
        names = refresh_thumbnails(faces, [0, 1, 2], folder, workers=workers)
        made[workers] = {path.name: path.read_bytes() for path in folder.iterdir()}
        assert set(made[workers]) == names and len(names) == 3
    assert made[1] == made[2]


def test_the_near_faces_kept_between_edits_are_those_computed_afresh():
    rng = np.random.default_rng(4)
    X = rng.normal(0, 1, (40, 16))
    persons = ["ann"] * 15 + ["bob"] * 15 + ["cy"] * 10
    faces = [an_assignment(row=i, photo_id=f"p{i}", path=f"p{i}.jpg", person=persons[i]) for i in range(40)]
    kept = {}
    first = review_data(faces, X, experiment="near", kept=kept)
    assert first["near"]  # random points: some are near another person

    def near(data):
        return [(data["faces"][str(n["face"])][0], data["persons"][n["other"]]["name"]) for n in data["near"]]

    renamed = [an_assignment(row=f.row, photo_id=f.photo_id, path=f.path, person=f.person.replace("bob", "zed"))
               for f in faces]  # fmt: skip
    again = review_data(renamed, X, experiment="near", kept=kept)  # the same faces: kept
    assert near(again) == [(path, name.replace("bob", "zed")) for path, name in near(first)]
    moved = [an_assignment(row=f.row, photo_id=f.photo_id, path=f.path, person="cy" if f.row < 5 else f.person)
             for f in renamed]  # fmt: skip
    assert near(review_data(moved, X, experiment="near", kept=kept)) == near(review_data(moved, X, experiment="near"))
