"""Picasa's face tags: a folder's .picasa.ini read as exiftool's own picasa_faces.config reads it (the
same names and boxes as the MWG regions exiftool makes of it, a photo stored on its side included),
names from the file's [Contacts2] or from Picasa's contacts.xml, and bad input a problem, not a crash."""

import gzip
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import LFW_DIR, folder_entries, require_exiftool
from PIL import Image

from facecluster.naming.tags import tag_faces
from facecluster.photos.tags import MAX_SIDECAR_BYTES, is_picasa_ini, read_folder_tags, read_picasa_ini

# exiftool's converter of Picasa's faces to MWG regions, as Debian's libimage-exiftool-perl ships it.
PICASA_CONFIG = "/usr/share/doc/libimage-exiftool-perl/config_files/picasa_faces.config.gz"
HEAD = (60, 40, 190, 205)  # a head drawn by hand on an LFW photo (250 x 250)
ANN, BOB = "5a1c0ffee0000001", "5a1c0ffee0000002"


def rect64(left, top, right, bottom):
    """Picasa's rect64 text of a box of fractions: four 16-bit numbers, hex without leading zeros."""
    number = 0
    for value in (left, top, right, bottom):
        number = (number << 16) | round(value * 65535)
    return f"rect64({number:x})"


def head(width=250, height=250, box=HEAD):
    return rect64(box[0] / width, box[1] / height, box[2] / width, box[3] / height)


def boxes(rows):
    return {row.name: (row.left, row.top, row.right, row.bottom) for row in rows}


@pytest.fixture
def folder(datasets, tmp_path):
    """Two real photos in a folder: hugo.jpg (250 x 250) and phone.jpg, a photo stored on its side
    (EXIF orientation 6: displayed 500 x 250)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    source = sorted((LFW_DIR / "Hugo_Chavez").iterdir())[0]
    shutil.copyfile(source, photos / "hugo.jpg")
    upright = Image.new("RGB", (500, 250), (128, 128, 128))
    upright.paste(Image.open(source), (0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(photos / "phone.jpg", exif=exif.tobytes(), quality=95)
    return photos


def test_faces_are_read_as_exiftools_picasa_converter_reads_them(folder, tmp_path):
    exiftool = require_exiftool()
    if not Path(PICASA_CONFIG).is_file():
        pytest.skip(f"exiftool's picasa_faces.config is absent ({PICASA_CONFIG}): Debian's libimage-exiftool-perl")
    config = tmp_path / "picasa_faces.config"
    config.write_bytes(gzip.decompress(open(PICASA_CONFIG, "rb").read()))
    contacts = tmp_path / "contacts.xml"
    contacts.write_text(
        f'<contacts>\n<contact id="{ANN}" name="Ann Lee" display="Ann" modified_time="2011-05-01T10:00:00+00:00"/>\n'
        f'<contact id="{BOB}" name="Bob &amp; Zoë" modified_time="2011-05-01T10:00:00+00:00"/>\n</contacts>\n',
        encoding="utf-8",
    )
    # Picasa's file: a face named, one Picasa found and nobody named, and on the photo stored on its
    # side a face in the stored frame's numbers (as the file's exiftool converts it to an MWG area).
    (folder / ".picasa.ini").write_text(
        "[Picasa]\nname=Holidays\n"
        f"[hugo.jpg]\nfaces={head()},{ANN};{rect64(0.7, 0.7, 0.9, 0.9)},ffffffffffffffff\nstar=yes\n"
        f"[phone.jpg]\nfaces={rect64(0.16, 0.62, 0.82, 0.88)},{BOB}\n",
        encoding="utf-8",
    )
    ours = read_folder_tags(folder_entries(folder), picasa_contacts=str(contacts))

    for photo in ("hugo.jpg", "phone.jpg"):  # exiftool writes the MWG regions it makes into a sidecar
        subprocess.run(
            [exiftool, "-config", str(config), "-q", "-userparam", f"PicasaContactsFile={contacts}",
             "-XMP-mwg-rs:RegionInfo<PicasaToMWGRegion", "-o", str(folder / f"{photo}.xmp"), str(folder / photo)],
            check=True,
        )  # fmt: skip
    theirs = [row for row in read_folder_tags(folder_entries(folder)) if row.format == "mwg"]

    picasa = [row for row in ours if row.format == "picasa"]
    assert [(row.relpath, row.source, row.name, row.problem) for row in picasa] == [
        ("hugo.jpg", ".picasa.ini", "Ann Lee", ""),
        ("phone.jpg", ".picasa.ini", "Bob & Zoë", ""),
    ]
    assert [(row.relpath, row.name) for row in theirs] == [("hugo.jpg", "Ann Lee"), ("phone.jpg", "Bob & Zoë")]
    for name, box in boxes(theirs).items():
        assert boxes(picasa)[name] == pytest.approx(box, abs=1e-5), name
    assert boxes(picasa)["Ann Lee"] == pytest.approx((0.24, 0.16, 0.76, 0.82), abs=1e-4)  # HEAD
    # phone.jpg's face, turned as the photo is displayed (500 x 250): its left half, where the face is.
    assert boxes(picasa)["Bob & Zoë"] == pytest.approx((0.12, 0.16, 0.38, 0.82), abs=1e-4)


def test_names_come_from_the_files_contacts2_and_a_face_nobody_named_is_a_problem(folder):
    (folder / ".picasa.ini").write_text(
        f"[Contacts2]\n{ANN}=Ann Lee;;\n"
        # Picasa on Windows matches a section to its photo whatever the case.
        f"[HUGO.JPG]\nfaces={head()},{ANN};{head()},{BOB};rect64(zz),1\n",
        encoding="utf-8",
    )
    rows = read_folder_tags(folder_entries(folder))  # no contacts.xml given

    assert [(row.name, row.problem) for row in rows] == [
        ("Ann Lee", ""),
        ("", f"Picasa contact {BOB} has no name: no [Contacts2] entry in .picasa.ini, and no picasa_contacts "
             "(Picasa's contacts.xml) given"),
        ("", "a face that is not rect64(hex),id: 'rect64(zz),1'"),
    ]  # fmt: skip


def test_a_picasa_file_of_another_folder_or_too_large_or_unreadable_names_nobody(folder, tmp_path):
    (folder / "old").mkdir()
    (folder / "old" / "Picasa.ini").write_text(f"[Contacts2]\n{ANN}=Ann;;\n[hugo.jpg]\nfaces={head()},{ANN}\n")
    assert read_folder_tags(folder_entries(folder)) == []  # the file of folder old/ is not hugo.jpg's

    (folder / ".picasa.ini").write_bytes(b"[hugo.jpg]\nfaces=" + b"x" * MAX_SIDECAR_BYTES)
    problems = read_folder_tags(folder_entries(folder))  # each photo of the folder says so
    assert [row.relpath for row in problems] == ["hugo.jpg", "phone.jpg"]
    assert all(row.name == "" and "Picasa file too large" in row.problem for row in problems)

    contacts = tmp_path / "contacts.xml"
    contacts.write_text('<!DOCTYPE c [<!ENTITY a "aaaa">]><contacts><contact id="1" name="&a;"/></contacts>')
    (folder / ".picasa.ini").write_text(f"[hugo.jpg]\nfaces={head()},1\n")
    row = read_folder_tags(folder_entries(folder), picasa_contacts=str(contacts))[0]
    assert row.name == "" and "Picasa's contacts file" in row.problem and "DTD" in row.problem


def test_the_file_is_told_by_its_name_and_read_in_picasas_encodings():
    assert is_picasa_ini("a/.picasa.ini") and is_picasa_ini("Picasa.ini") and not is_picasa_ini("a/picasa.ini.jpg")
    names, faces, problem = read_picasa_ini(
        "[Contacts2]\n1=Zoë Ōkubo;;\n[a.jpg]\nfaces=rect64(0),1\n".encode("cp1252", "replace")
    )
    assert problem == "" and list(faces) == ["a.jpg"] and names["1"].startswith("Zo")


def test_a_sidecars_name_wins_over_picasas_for_one_face():
    face = SimpleNamespace(photo_id="p", path="/p.jpg", face_index=0, left=60, top=40, right=190, bottom=205)
    rows = [
        SimpleNamespace(photo_id="p", source=".picasa.ini", format="picasa", name="Old name", left=0.24, top=0.16,
                        right=0.76, bottom=0.82, problem="", has_box=True),
        SimpleNamespace(photo_id="p", source="p.jpg.xmp", format="mwg", name="New name", left=0.24, top=0.16,
                        right=0.76, bottom=0.82, problem="", has_box=True),
    ]  # fmt: skip
    tags = tag_faces([face], rows, lambda face: (250, 250))
    assert tags.names == {0: "New name"}
