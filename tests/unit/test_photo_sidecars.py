"""`facecluster xmp write --into-sidecars`: the names into the sidecars next to the photos, read back by
exiftool: every earlier tag unchanged (rating, keywords, label, develop settings, a hand-drawn region,
a pet), facecluster's regions right, a backup kept, the photos never written, a dry run and a second
run changing nothing."""

import hashlib
import json
import shutil

import pytest
from conftest import LFW_DIR, an_assignment, exiftool_read, exiftool_write, mwg_regions
from PIL import Image

from facecluster.outputs.assignments import write_assignments
from facecluster.outputs.photo_sidecars import sidecar_path, write_into_sidecars
from facecluster.photos.tags import OURS, read_folder_tags
from facecluster.workflow.cli import main

EARLIER = {
    "XMP-xmp:Rating": 4,
    "XMP-dc:Subject": ["holiday", "beach"],
    "XMP-xmp:Label": "Red",
    "XMP-crs:Exposure2012": "+0.50",
}
STRANGER = (0, 0, 40, 50)  # a face the user drew where the detector found none
PET = ("Rex", (200, 200, 250, 250), "Pet")


def checksums(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def experiment(datasets, tmp_path, yunet_boxes):
    """A folder of photos as an experiment left it (assignments.tsv, per-photo records):
    a.jpg  Hugo, named; its sidecar holds a rating, keywords, a label, develop settings, a hand-drawn
           face and a pet;
    b.jpg  three faces: the user tagged the first in a sidecar; facecluster has persons for all three;
    c.jpg  a phone's photo stored on its side (EXIF orientation 6), no sidecar;
    d.jpg  a face of nobody's (others), no sidecar."""
    photos = tmp_path / "photos"
    photos.mkdir()
    first = {p: sorted((LFW_DIR / p).iterdir())[0] for p in ("Hugo_Chavez", "Vladimir_Putin", "Colin_Powell")}
    shutil.copyfile(first["Hugo_Chavez"], photos / "a.jpg")
    group = Image.new("RGB", (750, 250))
    for i, source in enumerate(first.values()):
        group.paste(Image.open(source), (250 * i, 0))
    group.save(photos / "b.jpg", quality=95)
    upright = Image.new("RGB", (500, 250), (128, 128, 128))
    upright.paste(Image.open(first["Vladimir_Putin"]), (250, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(photos / "c.jpg", exif=exif.tobytes(), quality=95)
    shutil.copyfile(first["Colin_Powell"], photos / "d.jpg")
    exiftool_write(
        photos / "a.jpg.xmp",
        {**EARLIER, "XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("Stranger", STRANGER), PET])},
        photo=photos / "a.jpg",
    )
    exiftool_write(
        photos / "b.jpg.xmp", {"XMP-mwg-rs:RegionInfo": mwg_regions(750, 250, [("Hugo", (50, 35, 195, 210))])}
    )
    people = {"a.jpg": ["Hugo Chávez"], "b.jpg": ["Hugo Chávez", "Vladimir", "person_0003"], "c.jpg": ["Vladimir"]}
    people["d.jpg"] = ["others"]
    records = tmp_path / "records"
    records.mkdir()
    faces = []
    for name, persons in people.items():
        boxes = sorted(yunet_boxes(photos / name))
        assert len(boxes) == len(persons), name
        size = Image.open(photos / name).size
        size = size[::-1] if name == "c.jpg" else size
        (records / f"{name}.json").write_text(json.dumps({"image_size": list(size)}))
        for i, (box, person) in enumerate(zip(boxes, persons)):
            faces.append(
                an_assignment(
                    row=len(faces),
                    photo_id=name,
                    path=str(photos / name),
                    face_index=i,
                    left=box[0],
                    top=box[1],
                    right=box[2],
                    bottom=box[3],
                    person=person,
                    cluster=0,
                    chips=str(records / "chips.npy"),
                )
            )
    write_assignments(tmp_path / "assignments.tsv", faces)
    return tmp_path


def regions(path):
    found = exiftool_read(path, "-RegionInfo")["XMP-mwg-rs:RegionInfo"]
    return found, {region["Name"]: region for region in found["RegionList"]}


def test_a_dry_run_lists_the_changes_and_writes_nothing(experiment):
    before = checksums(experiment / "photos")
    changes = write_into_sidecars(experiment / "assignments.tsv", dry_run=True)
    assert {c.sidecar.name: c.action for c in changes} == {
        "a.jpg.xmp": "update",
        "b.jpg.xmp": "update",
        "c.jpg.xmp": "create",
        "d.jpg.xmp": "unchanged",
    }
    assert checksums(experiment / "photos") == before


def test_every_earlier_tag_is_kept_and_the_new_regions_are_right(experiment):
    photos = experiment / "photos"
    original = (photos / "a.jpg.xmp").read_bytes()
    earlier = exiftool_read(photos / "a.jpg.xmp", *(f"-{tag}" for tag in EARLIER), "-RegionInfo")
    pictures = {name: checksums(photos)[name] for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg")}

    write_into_sidecars(experiment / "assignments.tsv")

    after = exiftool_read(photos / "a.jpg.xmp", *(f"-{tag}" for tag in EARLIER), "-RegionInfo")
    for tag in EARLIER:
        assert after[tag] == earlier[tag], tag
    found, by_name = regions(photos / "a.jpg.xmp")
    assert found["AppliedToDimensions"] == earlier["XMP-mwg-rs:RegionInfo"]["AppliedToDimensions"]
    for region in earlier["XMP-mwg-rs:RegionInfo"]["RegionList"]:  # the hand-drawn face and the pet
        assert by_name[region["Name"]] == region
    assert by_name["Hugo Chávez"]["Description"] == OURS and by_name["Hugo Chávez"]["Type"] == "Face"
    assert (photos / "a.jpg.xmp.bak").read_bytes() == original
    assert {name: checksums(photos)[name] for name in pictures} == pictures  # the photos never written
    # b.jpg: the face the user tagged keeps the user's region alone; the two others are facecluster's.
    _, by_name = regions(photos / "b.jpg.xmp")
    assert sorted(by_name) == ["Hugo", "Vladimir", "person_0003"] and "Description" not in by_name["Hugo"]
    assert not (photos / "d.jpg.xmp").exists()


def test_the_regions_written_are_the_faces_boxes_in_the_mwg_frame(experiment, yunet_boxes):
    photos = experiment / "photos"
    write_into_sidecars(experiment / "assignments.tsv")
    # c.jpg is stored on its side (250 x 500): its region is of the stored image, as the MWG says.
    found, by_name = regions(photos / "c.jpg.xmp")
    assert (found["AppliedToDimensions"]["W"], found["AppliedToDimensions"]["H"]) == (250, 500)
    (box,) = yunet_boxes(photos / "c.jpg")  # displayed: 500 x 250, the face in the right half
    area = by_name["Vladimir"]["Area"]
    left, top, right, bottom = box
    # Displayed (x, y) is stored (y, 500 - x) for orientation 6.
    assert area["X"] == pytest.approx((top + bottom) / 2 / 250, abs=1e-5)
    assert area["Y"] == pytest.approx(1 - (left + right) / 2 / 500, abs=1e-5)
    assert (area["W"], area["H"]) == pytest.approx(((bottom - top) / 250, (right - left) / 500), abs=1e-5)


def test_a_second_run_changes_nothing_and_the_users_tags_are_read_back_alone(experiment):
    photos = experiment / "photos"
    write_into_sidecars(experiment / "assignments.tsv")
    after_first = checksums(photos)

    changes = write_into_sidecars(experiment / "assignments.tsv")

    assert {c.action for c in changes} == {"unchanged"}
    assert checksums(photos) == after_first
    entries = [
        type("Entry", (), {"id": p.name, "relpath": p.name, "path": str(p), "hidden": False})
        for p in sorted(photos.iterdir())
    ]
    assert sorted((row.relpath, row.name) for row in read_folder_tags(entries)) == [
        ("a.jpg", "Stranger"),
        ("b.jpg", "Hugo"),
    ]


def test_lightroom_names_and_a_sidecar_that_cannot_be_read(experiment):
    photos = experiment / "photos"
    (photos / "b.jpg.xmp").write_text("<x:xmpmeta><not closed")
    broken = (photos / "b.jpg.xmp").read_bytes()
    changes = {c.sidecar.name: c for c in write_into_sidecars(experiment / "assignments.tsv")}
    assert changes["b.jpg.xmp"].action == "skipped" and "malformed XMP" in changes["b.jpg.xmp"].notes[0]
    assert (photos / "b.jpg.xmp").read_bytes() == broken and not (photos / "b.jpg.xmp.bak").exists()

    write_into_sidecars(experiment / "assignments.tsv", lightroom_names=True)
    assert sidecar_path(photos / "c.jpg", lightroom_names=True) == photos / "c.xmp"
    assert "Vladimir" in regions(photos / "c.xmp")[1]


def test_the_command_writes_an_experiments_sidecars_and_says_what_it_did(experiment, monkeypatch, capsys):
    results = experiment / "results" / "experiments" / "mine"
    results.mkdir(parents=True)
    shutil.copyfile(experiment / "assignments.tsv", results / "assignments.tsv")
    monkeypatch.chdir(experiment)
    before = checksums(experiment / "photos")

    main(["xmp", "write", "mine", "--into-sidecars", "--dry-run"])
    assert "1 sidecars would be created, 2 updated" in capsys.readouterr().out
    assert checksums(experiment / "photos") == before

    main(["xmp", "write", "mine", "--into-sidecars"])
    out = capsys.readouterr().out
    assert "1 sidecars were created, 2 updated" in out and "your region 'Hugo' kept" in out
    with pytest.raises(SystemExit, match="--into-sidecars"):
        main(["xmp", "write", "mine"])
    with pytest.raises(SystemExit, match="run the workflow"):
        main(["xmp", "write", "theirs", "--into-sidecars"])
