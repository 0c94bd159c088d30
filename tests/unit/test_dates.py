"""When each photo was taken, read from real files exiftool wrote: a JPEG's and a HEIC's EXIF with and
without an offset, a PNG's XMP, sidecars, a phone's GPS time; the year 1900 and the future kept out
with a note; a photo without a date has none, whatever its file's modification time."""

import os
import shutil
from datetime import UTC, datetime

import pytest
from conftest import LFW_DIR, exiftool_write, folder_entries, heic_on_its_side
from PIL import Image

from facecluster.photos.dates import DateRow, parse_date, read_dates, read_folder_dates, read_listing_dates

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def folder(datasets, tmp_path):
    """An empty folder of photos, and a real photo (lfw-dev, 250 x 250) beside it to copy from."""
    (tmp_path / "photos").mkdir()
    return tmp_path / "photos"


def jpeg(folder, name="photo.jpg"):
    path = folder / name
    shutil.copyfile(sorted((LFW_DIR / "Hugo_Chavez").iterdir())[0], path)
    return path


def heic(folder, name="phone.heic"):
    path = folder / name
    with Image.open(sorted((LFW_DIR / "Hugo_Chavez").iterdir())[0]) as upright:
        path.write_bytes(heic_on_its_side(upright.convert("RGB")))
    return path


def png(folder, name="scan.png"):
    path = folder / name
    with Image.open(sorted((LFW_DIR / "Hugo_Chavez").iterdir())[0]) as image:
        image.save(path)
    return path


def dates(folder):
    """{relpath: DateRow} of a folder's photos, read as of NOW."""
    return {row.relpath: row for row in read_folder_dates(folder_entries(folder), now=NOW)}


def test_a_jpeg_date_taken_with_its_offset_and_one_without(folder):
    exiftool_write(
        jpeg(folder, "with.jpg"),
        {"DateTimeOriginal": "2021:06:03 14:22:05", "SubSecTimeOriginal": "12", "OffsetTimeOriginal": "+02:00"},
    )
    exiftool_write(jpeg(folder, "without.jpg"), {"DateTimeOriginal": "2019:12:31 23:59:58"})

    read = dates(folder)

    assert read["with.jpg"] == DateRow(
        "with.jpg", "with.jpg", "2021-06-03T14:22:05.12+02:00", "exif:DateTimeOriginal", "", ""
    )
    assert read["without.jpg"].date == "2019-12-31T23:59:58" and read["without.jpg"].note == ""


def test_a_heic_date_is_read_from_its_exif_with_and_without_an_offset(folder):
    exiftool_write(
        heic(folder, "with.heic"), {"DateTimeOriginal": "2023:08:14 09:05:00", "OffsetTimeOriginal": "-04:00"}
    )
    exiftool_write(heic(folder, "without.heic"), {"DateTimeOriginal": "2023:08:14 09:05:00"})

    read = dates(folder)

    assert (read["with.heic"].date, read["with.heic"].source) == ("2023-08-14T09:05:00-04:00", "exif:DateTimeOriginal")
    assert read["without.heic"].date == "2023-08-14T09:05:00"


def test_a_png_date_is_read_from_its_xmp_with_and_without_an_offset(folder):
    exiftool_write(png(folder, "with.png"), {"XMP-photoshop:DateCreated": "1987:05:03 10:00:00+01:00"})
    exiftool_write(png(folder, "without.png"), {"XMP-photoshop:DateCreated": "1987:05:03 10:00:00"})
    exiftool_write(png(folder, "month.png"), {"XMP-photoshop:DateCreated": "1987:05"})

    read = dates(folder)

    assert (read["with.png"].date, read["with.png"].source) == (
        "1987-05-03T10:00:00+01:00",
        "xmp:photoshop:DateCreated",
    )
    assert read["without.png"].date == "1987-05-03T10:00:00"
    assert read["month.png"].date == "1987-05"  # as precise as written


@pytest.mark.parametrize("suffix", [".tif", ".webp"])
def test_a_tiff_or_webp_date_is_read_from_its_exif(folder, suffix):
    """A TIFF's EXIF is read from the file while it is open (its IFDs are not in memory)."""
    with Image.open(jpeg(folder)) as image:
        image.save(folder / f"photo{suffix}")
    (folder / "photo.jpg").unlink()
    exiftool_write(
        folder / f"photo{suffix}", {"DateTimeOriginal": "2021:06:03 14:22:05", "OffsetTimeOriginal": "+02:00"}
    )

    assert dates(folder)[f"photo{suffix}"].date == "2021-06-03T14:22:05+02:00"


def test_the_date_taken_comes_before_the_date_digitized_and_the_xmp(folder):
    exiftool_write(
        jpeg(folder, "both.jpg"),
        {
            "CreateDate": "2020:01:02 10:00:00",
            "DateTimeOriginal": "2020:01:01 10:00:00",
            "XMP-xmp:CreateDate": "2020:05:05",
        },
    )
    exiftool_write(jpeg(folder, "scanned.jpg"), {"CreateDate": "2020:01:02 10:00:00", "OffsetTimeDigitized": "+09:00"})
    exiftool_write(jpeg(folder, "xmp.jpg"), {"XMP-xmp:CreateDate": "2020:05:05 08:00:00+02:00"})

    read = dates(folder)

    assert (read["both.jpg"].date, read["both.jpg"].source) == ("2020-01-01T10:00:00", "exif:DateTimeOriginal")
    assert (read["scanned.jpg"].date, read["scanned.jpg"].source) == ("2020-01-02T10:00:00+09:00", "exif:CreateDate")
    assert (read["xmp.jpg"].date, read["xmp.jpg"].source) == ("2020-05-05T08:00:00+02:00", "xmp:xmp:CreateDate")


def test_a_sidecars_date_comes_before_the_photos_own(folder):
    """A photo manager keeps the user's edits (a camera clock corrected) in the sidecar."""
    camera = exiftool_write(jpeg(folder, "camera.jpg"), {"DateTimeOriginal": "2018:07:01 12:00:00"})
    exiftool_write(folder / "camera.jpg.xmp", {"XMP-exif:DateTimeOriginal": "2018:07:02 13:00:00+02:00"}, photo=camera)
    exiftool_write(jpeg(folder, "lightroom.jpg"), {"DateTimeOriginal": "2018:07:01 12:00:00"})
    exiftool_write(folder / "lightroom.xmp", {"XMP-photoshop:DateCreated": "2018:07:03"})

    read = dates(folder)

    assert (read["camera.jpg"].date, read["camera.jpg"].source, read["camera.jpg"].sidecar) == (
        "2018-07-02T13:00:00+02:00",
        "xmp:exif:DateTimeOriginal",
        "camera.jpg.xmp",
    )
    assert (read["lightroom.jpg"].date, read["lightroom.jpg"].sidecar) == ("2018-07-03", "lightroom.xmp")
    assert "camera.jpg.xmp" not in read  # a sidecar is no photo


def test_a_phones_gps_time_dates_a_photo_with_nothing_else_in_utc(folder):
    exiftool_write(jpeg(folder), {"GPSDateStamp": "2022:02:20", "GPSTimeStamp": "17:45:30"})

    assert (dates(folder)["photo.jpg"].date, dates(folder)["photo.jpg"].source) == (
        "2022-02-20T17:45:30+00:00",
        "exif:GPSDateTime",
    )


def test_the_year_1900_of_an_unset_clock_and_the_future_are_kept_out_with_a_note(folder):
    exiftool_write(jpeg(folder, "unset.jpg"), {"DateTimeOriginal": "1900:01:01 00:00:00"})
    exiftool_write(jpeg(folder, "future.jpg"), {"DateTimeOriginal": "2099:01:01 12:00:00"})
    # The next field is read: here the date the user gave in a sidecar.
    exiftool_write(folder / "future.jpg.xmp", {"XMP-photoshop:DateCreated": "2099:02:02"})
    exiftool_write(
        jpeg(folder, "digitized.jpg"), {"DateTimeOriginal": "2099:01:01 12:00:00", "CreateDate": "2020:01:01 12:00:00"}
    )
    # A scan of a photo of 1900, dated by hand, is no camera's unset clock.
    exiftool_write(png(folder, "old.png"), {"XMP-photoshop:DateCreated": "1900:07:14"})

    read = dates(folder)

    assert read["unset.jpg"].date == "" and read["unset.jpg"].note == (
        "1900-01-01T00:00:00 (exif:DateTimeOriginal) kept out: the first day of 1900, where the clock of a camera "
        "never set starts"
    )
    assert read["future.jpg"].date == "" and read["future.jpg"].note == (
        "2099-02-02 (xmp:photoshop:DateCreated in future.jpg.xmp) kept out: in the future (this run is on 2026-03-01); "
        "2099-01-01T12:00:00 (exif:DateTimeOriginal) kept out: in the future (this run is on 2026-03-01)"
    )
    assert (read["digitized.jpg"].date, read["digitized.jpg"].source) == ("2020-01-01T12:00:00", "exif:CreateDate")
    assert "in the future" in read["digitized.jpg"].note
    assert (read["old.png"].date, read["old.png"].note) == ("1900-07-14", "")


def test_a_photo_without_a_date_has_none_whatever_its_files_time(folder):
    path = jpeg(folder)
    os.utime(path, (1_600_000_000, 1_600_000_000))
    (folder / "notes.txt").write_text("not a photo")

    read = dates(folder)

    assert read["photo.jpg"] == DateRow("photo.jpg", "photo.jpg", "", "", "", "")
    assert read["notes.txt"].date == "" and read["notes.txt"].note == ""


def test_what_holds_no_date_is_noted_and_the_next_field_read(folder):
    exiftool_write(jpeg(folder), {"DateTimeOriginal": "2015:04:04 04:04:04"})
    (folder / "photo.jpg.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:DateCreated="last summer"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    (folder / "photo.xmp").write_text('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')

    row = dates(folder)["photo.jpg"]

    assert row.date == "2015-04-04T04:04:04"
    assert row.note.startswith(
        "xmp:photoshop:DateCreated in photo.jpg.xmp: 'last summer' is no date; xmp in photo.xmp: XMP refused"
    )


@pytest.mark.parametrize(
    "text, iso, to_the_day",
    [
        ("2021", "2021", False),
        ("2021-06", "2021-06", False),
        ("2021-06-03", "2021-06-03", True),
        ("2021-06-03T14:22Z", "2021-06-03T14:22+00:00", True),
        ("2021-06-03T14:22:05.250-0330", "2021-06-03T14:22:05.250-03:30", True),
        ("2021:06:03 14:22:05", "2021-06-03T14:22:05", True),
    ],
)
def test_an_xmp_or_exif_date_keeps_its_precision_and_offset(text, iso, to_the_day):
    date = parse_date(text)
    assert (date.text, date.to_the_day) == (iso, to_the_day)


def test_exifs_unknown_is_no_date_and_no_note_and_a_wrong_day_is_no_date():
    assert parse_date("0000:00:00 00:00:00") is None and parse_date("    :  :     ") is None
    with pytest.raises(ValueError, match="month must be in 1..12"):
        parse_date("2021:13:01 00:00:00")


def test_the_rule_writes_the_table_and_reads_it_back(folder, tmp_path):
    exiftool_write(jpeg(folder), {"DateTimeOriginal": "2021:06:03 14:22:05", "OffsetTimeOriginal": "+02:00"})
    listing = tmp_path / "photos.tsv"
    path = str(folder / "photo.jpg")
    listing.write_text(f"id\trelpath\tpath\tlabel\tbatch\nphoto\tphoto.jpg\t{path}\t\tb0\n", encoding="utf-8")

    written = read_listing_dates(listing, tmp_path / "dates.tsv", now=NOW)

    assert read_dates(tmp_path / "dates.tsv") == {"photo": written[0]}
    assert written[0].date == "2021-06-03T14:22:05+02:00"
