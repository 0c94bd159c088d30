"""People folders rewritten after an edit (the review app) hold what a fresh build of the same
assignments holds, byte for byte, and reuse the face files the old folders held."""

import os
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from facecluster.outputs.assignments import Assignment, read_chip, write_assignments
from facecluster.outputs.people_folders import (
    CONTACT_SHEET,
    FACE_STORE,
    contact_sheet_pages,
    draw_contact_sheet,
    update_people_folders,
    write_people_folders,
)


@pytest.fixture
def faces(tmp_path):
    """Twelve faces on nine photos (two photos named alike in two folders, a photo with two
    faces): person_0001 five, person_0002 four, others three (one set aside)."""
    rng = np.random.default_rng(0)
    rows, persons = [], ["person_0001"] * 5 + ["person_0002"] * 4 + ["others"] * 3
    for i, person in enumerate(persons):
        photo = i if i != 6 else 5  # the sixth photo has two faces
        folder = tmp_path / "photos" / ("b" if photo == 3 else "a")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{photo if photo != 3 else 2}.jpg"  # a/2.jpg and b/2.jpg
        path.write_bytes(b"a photo %d" % photo)
        chips = tmp_path / f"{photo}.chips.npy"
        if not chips.exists():
            np.save(chips, rng.integers(0, 255, (2, 12, 12, 3), dtype=np.uint8))
        face = Assignment(i, f"p{photo}", str(path), int(i == 6), 0, 0, 10, 10, "", 0 if person == "person_0001" else 1,
                          str(chips), person, "too_small" if i == 11 else "", False)  # fmt: skip
        rows.append(face)
    return rows


def fresh(tmp_path, rows, mode):
    """The folders write_people_folders makes of rows."""
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, rows)
    out = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"
    write_people_folders(assignments, out, mode=mode)
    return out


def files(folder):
    """{path in folder: ("link", target), ("file", bytes) or ("page", a contact sheet's size)}, the
    face store (it keeps the faces of hidden persons) and the record of what the folders show aside."""
    found = {}
    for root, folders, names in os.walk(folder):
        if root == str(folder):
            folders.remove(FACE_STORE)
            names = [name for name in names if not name.startswith(".shown")]
        for name in names:
            path = os.path.join(root, name)
            key = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[key] = ("link", os.readlink(path))
            elif name.startswith("contact_sheet"):
                found[key] = ("page", Image.open(path).size)
            else:
                found[key] = ("file", open(path, "rb").read())
    return found


def assert_same_folders(folder, fresh_folder, message=""):
    """The folders hold what a fresh build holds: the same links and files, byte for byte, and the
    same contact sheet pages to within JPEG's loss (a page a run added faces to, or gave a new
    title, is a JPEG saved again: sheets.face_grid's `drawn`)."""
    found = files(folder)
    assert found == files(fresh_folder), message
    for key, (kind, _) in found.items():
        if kind == "page":
            assert_same_page(folder / key, fresh_folder / key)


def assert_same_page(path, fresh_path):
    """A contact sheet page is the one a fresh build draws, to within a JPEG saved once more."""
    page, drawn = (np.asarray(Image.open(p), dtype=float) for p in (path, fresh_path))
    assert page.shape == drawn.shape
    assert np.abs(page - drawn).mean() < 0.5
    assert np.abs(page - drawn).max() <= 16


def identity(path):
    stat = os.lstat(path)
    return stat.st_ino, stat.st_mtime_ns, path.read_bytes()


def edit(rows, change):
    return [change(face) for face in rows]


@pytest.mark.parametrize("mode", ["symlink", "copy"])
def test_each_edit_leaves_the_folders_a_fresh_build_makes_and_reuses_the_face_files(tmp_path, faces, mode):
    people = fresh(tmp_path, faces, mode)
    kept = [name for name in os.listdir(people / "person_0002") if name != CONTACT_SHEET]
    inode = {name: os.lstat(people / "person_0002" / name).st_ino for name in kept}
    folder = os.stat(people / "person_0002").st_ino
    edits = [
        lambda f: replace(f, person="Ann Lee") if f.person == "person_0002" else f,  # rename
        lambda f: replace(f, person="others") if f.row == 5 else f,  # a face moved to the others
        lambda f: replace(f, person="person_0001") if f.person == "Ann Lee" else f,  # merge
        lambda f: replace(f, hidden=f.person == "person_0001"),  # hide
        lambda f: replace(f, hidden=False),  # and show again
    ]
    rows = faces
    for number, change in enumerate(edits):
        before, rows = rows, edit(rows, change)
        rebuilt = update_people_folders(before, rows, people, mode=mode)
        for person in rebuilt:
            for page in range(contact_sheet_pages(rows, person)):
                draw_contact_sheet(rows, people, person, page)
        assert_same_folders(people, fresh(tmp_path, rows, mode), f"edit {number}")
        if number == 0:  # the renamed person's folder is renamed: the same files, not written again
            assert rebuilt == ["Ann Lee"]
            assert os.stat(people / "Ann Lee").st_ino == folder
            assert {name: os.lstat(people / "Ann Lee" / name).st_ino for name in kept} == inode
        stored = {path.name: path.stat().st_ino for path in (people / FACE_STORE).iterdir()}
        if number == 0:
            store = stored
        # No face image is written again, not even after a person is hidden, then shown again.
        assert stored == store, f"edit {number}"


def test_a_run_rewrites_only_the_folders_that_change_new_photos_included(tmp_path, faces):
    people = tmp_path / "people"
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, faces)
    assert write_people_folders(assignments, people) == ["others", "person_0001", "person_0002"]
    untouched = {name: os.lstat(people / "person_0001" / name).st_ino for name in os.listdir(people / "person_0001")}
    # A new photo of person_0002, listed first (rows move), and person_0002 renamed.
    photo = tmp_path / "photos" / "a" / "0new.jpg"
    photo.write_bytes(b"a new photo")
    new = replace(faces[5], row=0, photo_id="pnew", path=str(photo), face_index=0)
    rows = [new] + [replace(face, row=face.row + 1) for face in faces]
    rows = [replace(face, person="Ann Lee") if face.person == "person_0002" else face for face in rows]
    write_assignments(assignments, rows)

    assert write_people_folders(assignments, people) == ["Ann Lee"]

    assert {name: os.lstat(people / "person_0001" / name).st_ino for name in untouched} == untouched
    assert_same_folders(people, fresh(tmp_path, rows, "symlink"))
    assert write_people_folders(assignments, people) == []  # nothing changed: nothing written


def test_others_pages_a_run_did_not_change_keep_their_files(tmp_path, faces, monkeypatch):
    from facecluster.outputs import sheets

    monkeypatch.setattr(sheets, "grid_capacity", lambda columns=10, thumb_px=80: 2)  # two faces a page
    bystander = faces[9]  # in no person's cluster, alone
    # Five bystanders (pages 1-3), then the face set aside on a page of its own (page 4).
    rows = faces[:9] + [replace(bystander, row=9 + i, photo_id=f"b{i}", cluster=10 + i) for i in range(5)]
    rows.append(replace(faces[11], row=14))
    people = tmp_path / "people"
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, rows)
    write_people_folders(assignments, people)
    pages = sorted(path.name for path in (people / "others").glob("contact_sheet*.jpg"))
    assert pages == ["contact_sheet.jpg", "contact_sheet_2.jpg", "contact_sheet_3.jpg", "contact_sheet_4.jpg"]
    # A file's inode, time and bytes: a page drawn anew may reuse a deleted page's inode.
    inode = {name: identity(people / "others" / name) for name in pages}

    # A new photo's bystander: the third page gets it, the first its count; the others are kept.
    grown = rows[:14] + [replace(bystander, row=14, photo_id="b5", cluster=3)] + [replace(rows[14], row=15)]
    write_assignments(assignments, grown)
    assert write_people_folders(assignments, people) == ["others"]

    kept = {name for name in pages if identity(people / "others" / name) == inode[name]}
    assert kept == {"contact_sheet_2.jpg", "contact_sheet_4.jpg"}
    assert_same_folders(people, fresh(tmp_path, grown, "symlink"))


def test_a_person_who_gains_faces_past_their_page_gets_its_count_drawn_over_its_title(tmp_path, faces, monkeypatch):
    from facecluster.outputs import sheets

    monkeypatch.setattr(sheets, "grid_capacity", lambda columns=10, thumb_px=80: 2)  # person_0001's first two
    people = tmp_path / "people"
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, faces)
    write_people_folders(assignments, people)
    sheet = people / "person_0001" / CONTACT_SHEET
    old = np.asarray(Image.open(sheet), dtype=float)
    photo = tmp_path / "photos" / "a" / "new.jpg"
    photo.write_bytes(b"a new photo")
    grown = faces + [replace(faces[0], row=12, photo_id="pnew", path=str(photo))]
    write_assignments(assignments, grown)

    assert write_people_folders(assignments, people) == ["person_0001"]
    assert os.path.islink(people / "person_0001" / "new.jpg")
    assert os.path.isfile(people / "person_0001" / "new.jpg.face0.jpg")
    fresh_sheet = fresh(tmp_path, grown, "symlink") / "person_0001" / CONTACT_SHEET
    assert_same_page(sheet, fresh_sheet)
    # The title changed ("6 faces", was 5); the faces under it are those drawn before.
    new = np.asarray(Image.open(sheet), dtype=float)
    top = sheets.GRID_TOP
    assert np.abs(new[:top] - old[:top]).max() > 100
    assert np.abs(new[top + 8 :] - old[top + 8 :]).mean() < 0.5


def test_a_chip_read_alone_is_the_one_numpy_loads(tmp_path):
    stack = np.random.default_rng(0).integers(0, 256, size=(3, 128, 128, 3), dtype=np.uint8)
    np.save(tmp_path / "one.chips.npy", stack)
    with open(tmp_path / "two.chips.npy", "wb") as handle:  # the header's length in 4 bytes
        np.lib.format.write_array(handle, stack, version=(2, 0))
    for name in ("one.chips.npy", "two.chips.npy"):
        for index in range(3):
            assert np.array_equal(read_chip(tmp_path / name, index), stack[index])
        with pytest.raises(IndexError):
            read_chip(tmp_path / name, 3)
    (tmp_path / "text.npy").write_text("not numpy")
    with pytest.raises(ValueError, match="not a .npy file"):
        read_chip(tmp_path / "text.npy", 0)


def test_folders_written_by_two_processes_are_those_one_writes(tmp_path, faces, monkeypatch):
    from facecluster.outputs import processes

    monkeypatch.setattr(processes, "PARALLEL_FROM", 1)  # twelve faces: in two processes
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, faces)
    write_people_folders(assignments, tmp_path / "two", workers=2)

    one = fresh(tmp_path, faces, "symlink")
    assert files(tmp_path / "two") == files(one)
    pages = sorted(path.relative_to(one) for path in one.glob("*/contact_sheet*.jpg"))
    assert pages and all((tmp_path / "two" / page).read_bytes() == (one / page).read_bytes() for page in pages)
    assert sorted(os.listdir(tmp_path / "two" / FACE_STORE)) == sorted(os.listdir(one / FACE_STORE))


def test_a_folder_a_killed_run_left_half_changed_is_built_anew(tmp_path, faces, monkeypatch):
    from facecluster.outputs import people_folders

    people = tmp_path / "people"
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, faces)
    write_people_folders(assignments, people)
    photo = tmp_path / "photos" / "a" / "new.jpg"
    photo.write_bytes(b"a new photo")
    write_assignments(assignments, faces + [replace(faces[0], row=12, photo_id="pnew", path=str(photo))])

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(people_folders, "_update_sheets", killed)  # after the new files, before the sheets
    with pytest.raises(KeyboardInterrupt):
        write_people_folders(assignments, people)
    monkeypatch.undo()
    assert (people / "person_0001" / "new.jpg").is_symlink()
    # The new photo is gone again: the record of what the folders show says nothing changed, but
    # person_0001's folder holds it; its mark says so.
    write_assignments(assignments, faces)
    assert write_people_folders(assignments, people) == ["person_0001"]
    assert_same_folders(people, fresh(tmp_path, faces, "symlink"))
    assert not [name for name in os.listdir(people) if name.endswith(".updating")]


def test_a_face_whose_chips_file_is_another_gets_its_image_written_again_and_no_other(tmp_path, faces):
    people = tmp_path / "people"
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, faces)
    write_people_folders(assignments, people)
    untouched = {name: identity(people / "person_0002" / name) for name in os.listdir(people / "person_0002")}
    # Photo 0's batch made again (its chips in another file): here other pixels, as another model's.
    moved = tmp_path / "batch2" / "0.chips.npy"
    moved.parent.mkdir()
    np.save(moved, np.full((2, 12, 12, 3), 7, dtype=np.uint8))
    rows = [replace(face, chips=str(moved)) if face.photo_id == "p0" else face for face in faces]
    write_assignments(assignments, rows)

    assert write_people_folders(assignments, people) == ["person_0001"]
    face_file = people / "person_0001" / "0.jpg.face0.jpg"
    assert np.abs(np.asarray(Image.open(face_file), dtype=int) - 7).max() <= 2
    assert {name: identity(people / "person_0002" / name) for name in untouched} == untouched
    assert_same_folders(people, fresh(tmp_path, rows, "symlink"))


@pytest.mark.parametrize("mode", ["symlink", "copy"])
def test_a_photo_moving_to_a_folder_takes_its_own_file_when_its_name_went_to_another(tmp_path, faces, mode):
    """person_0001 holds a/2.jpg as 2.jpg and b/2.jpg as 2-2.jpg; when a/2.jpg's face moves to
    person_0002, b/2.jpg becomes person_0001's 2.jpg, and person_0002's 2.jpg must be a/2.jpg."""
    people = tmp_path / "people"
    assignments = tmp_path / "assignments.tsv"
    write_assignments(assignments, faces)
    write_people_folders(assignments, people, mode=mode)
    assert os.path.realpath(people / "person_0001" / "2-2.jpg").endswith("b/2.jpg") or mode == "copy"
    assert (tmp_path / "photos" / "b" / "2.jpg").stat().st_size == (tmp_path / "photos" / "a" / "2.jpg").stat().st_size
    rows = [replace(face, person="person_0002") if face.photo_id == "p2" else face for face in faces]
    write_assignments(assignments, rows)

    assert write_people_folders(assignments, people, mode=mode) == ["person_0001", "person_0002"]
    assert_same_folders(people, fresh(tmp_path, rows, mode))
