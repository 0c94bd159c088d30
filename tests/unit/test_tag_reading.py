"""Face tags read from photos and their sidecars, written by exiftool itself: MWG and Microsoft regions,
IPTC names, a photo stored on its side, facecluster's own regions skipped, and bad input refused
with a reason (defusedxml against XML bombs, a size cap, regions outside the photo)."""

import math
import shutil
import time
import xml.etree.ElementTree as ET

import pytest
from conftest import DATASETS, LFW_DIR, exiftool_read, exiftool_write, folder_entries, mwg_regions, require_exiftool
from PIL import Image

from facecluster.outputs.xmp import sidecar
from facecluster.photos.tags import (
    MAX_SIDECAR_BYTES,
    orient,
    parse_xmp,
    photo_header,
    read_folder_tags,
    read_tags,
    regions_of,
    sidecars_of,
    stored_box,
    write_tags,
)

HEAD = (60, 40, 190, 205)  # a head drawn by hand on an LFW photo (250 x 250): hair, ears and chin


@pytest.fixture
def photo(datasets, tmp_path):
    """A real photo (lfw-dev, 250 x 250) in an empty folder."""
    path = tmp_path / "photos" / "hugo.jpg"
    path.parent.mkdir()
    shutil.copyfile(sorted((LFW_DIR / "Hugo_Chavez").iterdir())[0], path)
    return path


def fractions(box, width=250, height=250):
    return pytest.approx((box[0] / width, box[1] / height, box[2] / width, box[3] / height), abs=1e-4)


def test_mwg_microsoft_and_iptc_names_are_read_from_a_sidecar_exiftool_wrote(photo):
    exiftool_write(
        photo.with_name("hugo.jpg.xmp"),
        {
            "XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("Hugo Chávez", HEAD)]),
            "XMP-MP:RegionInfoMP": {"Regions": [{"PersonDisplayName": "Hugo", "Rectangle": "0.24, 0.16, 0.52, 0.66"}]},
            "XMP-iptcExt:PersonInImage": ["Hugo Chávez"],
        },
        photo=photo,
    )
    rows = read_folder_tags(folder_entries(photo.parent))

    by_format = {row.format: row for row in rows}
    assert sorted(by_format) == ["iptc", "mp", "mwg"] and all(r.source == "hugo.jpg.xmp" for r in rows)
    assert by_format["mwg"].name == "Hugo Chávez"
    assert (by_format["mwg"].left, by_format["mwg"].top, by_format["mwg"].right, by_format["mwg"].bottom) == fractions(
        HEAD
    )
    assert (by_format["mp"].left, by_format["mp"].top, by_format["mp"].right, by_format["mp"].bottom) == pytest.approx(
        (0.24, 0.16, 0.76, 0.82)
    )
    assert not by_format["iptc"].has_box and not any(r.problem for r in rows)


def test_the_photos_own_xmp_and_both_sidecar_names_are_read(photo):
    exiftool_write(photo, {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("In the photo", HEAD)])})
    exiftool_write(photo.with_name("hugo.XMP"), {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("Lightroom", HEAD)])})
    exiftool_write(
        photo.with_name("hugo.jpg.xmp"), {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("digiKam", HEAD)])}
    )

    rows = read_folder_tags(folder_entries(photo.parent))

    assert {(r.source, r.name) for r in rows} == {
        ("embedded", "In the photo"),
        ("hugo.jpg.xmp", "digiKam"),
        ("hugo.XMP", "Lightroom"),
    }


def test_a_sidecar_is_found_whatever_the_case_of_its_name():
    listed = {name.lower(): name for name in ["a/IMG_1.JPG", "a/IMG_1.JPG.XMP", "a/img_1.xmp", "b.jpg"]}
    assert sidecars_of("a/IMG_1.JPG", listed) == ["a/IMG_1.JPG.XMP", "a/img_1.xmp"]
    assert sidecars_of("b.jpg", listed) == []


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_orienting_a_box_and_back_gives_it_again(orientation):
    box = (0.1, 0.2, 0.4, 0.9)
    assert stored_box(orient(box, orientation), orientation) == pytest.approx(box)


def test_a_photo_stored_on_its_side_has_its_regions_turned_as_the_mwg_says(photo, tmp_path):
    """EXIF orientation 6: the pixels are stored turned a quarter anticlockwise. digiKam and Lightroom
    give regions of the stored image (MWG guidelines 2.0, 5.9), AppliedToDimensions its stored size."""
    upright = Image.new("RGB", (500, 250), (128, 128, 128))
    upright.paste(Image.open(photo), (0, 0))  # displayed: 500 x 250, the face in the left half
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = photo.with_name("phone.jpg")
    upright.transpose(Image.Transpose.ROTATE_90).save(turned, exif=exif.tobytes(), quality=95)
    # The head in the stored frame (250 x 500): displayed (x, y) is stored (y, 500 - x).
    left, top, right, bottom = HEAD
    stored_head = (top, 500 - right, bottom, 500 - left)
    exiftool_write(
        turned.with_name("phone.jpg.xmp"), {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 500, [("Hugo", stored_head)])}
    )
    # A writer of displayed-frame regions (AppliedToDimensions the displayed size) is taken as it is.
    exiftool_write(turned.with_name("phone.xmp"), {"XMP-mwg-rs:RegionInfo": mwg_regions(500, 250, [("Shown", HEAD)])})
    photo.unlink()

    rows = {row.name: row for row in read_folder_tags(folder_entries(photo.parent))}

    for name in ("Hugo", "Shown"):
        row = rows[name]
        assert (row.left, row.top, row.right, row.bottom) == fractions(HEAD, 500, 250), name


def test_facecluster_own_regions_are_not_read_as_the_users(tmp_path):
    document = ET.tostring(sidecar(250, 250, [("person_0001", HEAD), ("Ann", HEAD)]))
    assert regions_of(document) == ([], "")


def test_regions_of_other_kinds_and_unnamed_ones_are_not_tags(photo):
    regions = [("Rex", (0, 0, 40, 40), "Pet"), ("", HEAD, "Face"), ("Focus", (100, 100, 120, 120), "Focus")]
    exiftool_write(photo.with_name("hugo.jpg.xmp"), {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, regions)})
    assert read_folder_tags(folder_entries(photo.parent)) == []


def test_the_table_is_read_back_as_written(photo, tmp_path):
    exiftool_write(
        photo.with_name("hugo.jpg.xmp"),
        {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("Ann\tTab", HEAD)]), "XMP-iptcExt:PersonInImage": ["Bo"]},
    )
    rows = read_folder_tags(folder_entries(photo.parent))
    write_tags(tmp_path / "tags.tsv", rows)
    back = read_tags(tmp_path / "tags.tsv")
    assert [r.name for r in back] == [r.name for r in rows]
    ann, bo = ({r.name: r for r in back}[name] for name in ("Ann\tTab", "Bo"))
    assert (ann.left, ann.bottom) == pytest.approx((HEAD[0] / 250, HEAD[3] / 250), abs=1e-6)
    assert math.isnan(bo.left) and not bo.has_box


# Bad input: a reason on the table's row, never an exception, the photo's other tags still read.


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b']><x:xmpmeta xmlns:x="adobe:ns:meta/"><v>&lol9;</v></x:xmpmeta>'
)


def test_an_xml_bomb_is_refused_by_defusedxml_before_any_entity_is_expanded():
    root, problem = parse_xmp(BILLION_LAUGHS)
    assert root is None and "DTD" in problem
    # What the standard library alone would do with a smaller one: expand it.
    small = b'<!DOCTYPE a [<!ENTITY e "ee">]><a>&e;&e;</a>'
    assert ET.fromstring(small).text == "eeee"
    assert parse_xmp(small)[0] is None


def test_a_photos_own_xmp_packet_padded_with_a_nul_byte_is_read(photo, tmp_path, datasets):
    """Some writers end the JPEG's XMP segment with a NUL after the packet (negatives/multi_face/couple.jpg,
    an XMP Core 5.4.0 packet); Pillow hands it on as it is, and exiftool reads the packet all the same."""
    packet = exiftool_write(tmp_path / "tags.xmp", {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("Hugo", HEAD)])})
    with Image.open(photo) as image:
        image.save(photo, quality=95, xmp=packet.read_bytes() + b"\x00")
    assert exiftool_read(photo, "-RegionInfo")["XMP-mwg-rs:RegionInfo"]["RegionList"][0]["Name"] == "Hugo"

    rows = read_folder_tags(folder_entries(photo.parent))

    assert [(r.source, r.name, r.problem) for r in rows] == [("embedded", "Hugo", "")]
    couple = DATASETS / "negatives" / "multi_face" / "couple.jpg"
    if couple.is_file():
        assert photo_header(couple).xmp.endswith(b"?>")


def test_a_bomb_a_malformed_sidecar_and_a_huge_one_are_problems_the_photos_own_tags_still_read(photo):
    exiftool_write(photo, {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, [("Hugo", HEAD)])})
    photo.with_name("hugo.jpg.xmp").write_bytes(BILLION_LAUGHS)
    photo.with_name("hugo.xmp").write_bytes(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF></x:xmpmeta>")
    other = photo.with_name("other.jpg")
    shutil.copyfile(photo, other)
    huge = photo.with_name("other.jpg.xmp")
    with open(huge, "wb") as handle:  # 100 MB, sparse: the cap is checked on its size, nothing read
        handle.truncate(100 * 2**20)

    started = time.perf_counter()
    rows = read_folder_tags(folder_entries(photo.parent))
    assert time.perf_counter() - started < 5

    problems = {row.source: row.problem for row in rows if row.problem}
    assert "DTD" in problems["hugo.jpg.xmp"]
    assert problems["hugo.xmp"].startswith("malformed XMP")
    assert f"at most {MAX_SIDECAR_BYTES}" in problems["other.jpg.xmp"]
    assert [(r.relpath, r.source, r.name) for r in rows if not r.problem] == [
        ("hugo.jpg", "embedded", "Hugo"),
        ("other.jpg", "embedded", "Hugo"),
    ]


def test_a_region_outside_the_photo_or_of_no_size_is_a_problem(photo):
    regions = [("Gone", (300, 300, 400, 400)), ("Flat", (10, 10, 10, 60)), ("Half out", (200, 100, 300, 200))]
    exiftool_write(photo.with_name("hugo.jpg.xmp"), {"XMP-mwg-rs:RegionInfo": mwg_regions(250, 250, regions)})
    rows = {row.name: row for row in read_folder_tags(folder_entries(photo.parent))}
    assert rows["Gone"].problem == "a region outside the photo"
    assert rows["Flat"].problem.startswith("a region of no size")
    assert not rows["Half out"].problem and rows["Half out"].right == 1.0  # cut at the edge


def test_exiftool_is_the_real_tool(photo):
    assert require_exiftool().endswith("exiftool")
