"""When each photo was taken, end to end: dates exiftool wrote into photos and sidecars are read by rule
read_dates, the year 1900 and the future noted in dates.tsv and the report, shown under each face in
the review pages (in a real browser) where a person's faces go by date, the undated last; a date
edited in a sidecar reruns no detection, and one edited in a photo detects that photo alone again."""

import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from conftest import (
    copy_photos,
    exiftool_write,
    lfw_sample,
    read_tsv,
    run_snakemake,
    sort_review_folder,
    start_chromium,
)

pytestmark = pytest.mark.workflow

TWO = ["Hugo_Chavez", "Vladimir_Putin"]
SCREENSHOTS = os.environ.get("FC_REVIEW_SCREENSHOTS")


@pytest.fixture(scope="module")
def dated(lfw_dir, tmp_path_factory):
    """Four photos each of Hugo Chavez and Vladimir Putin, dated out of their names' order: in the EXIF
    (with an offset and without), in a sidecar, in the year 1900 of an unset clock, in the future, and
    not at all; sorted once."""
    work = tmp_path_factory.mktemp("dates")
    photos = copy_photos(lfw_sample(TWO, 4), work / "photos")
    hugo = sorted((photos / "Hugo_Chavez").iterdir())
    vladimir = sorted((photos / "Vladimir_Putin").iterdir())
    exiftool_write(hugo[0], {"DateTimeOriginal": "2012:05:01 10:00:00", "OffsetTimeOriginal": "+02:00"})
    exiftool_write(sidecar(hugo[2]), {"XMP-photoshop:DateCreated": "2009:03:03"})
    exiftool_write(hugo[3], {"DateTimeOriginal": "1900:01:01 00:00:00"})
    exiftool_write(vladimir[0], {"DateTimeOriginal": "2099:01:01 12:00:00"})
    exiftool_write(vladimir[1], {"DateTimeOriginal": "2015:06:06 08:00:00"})
    exiftool_write(vladimir[2], {"DateTimeOriginal": "2001:01:01 10:00:00"})
    return sort_review_folder(work, photos)


def sidecar(photo):
    return photo.with_name(photo.name + ".xmp")


def dates_read(work):
    return {row["relpath"]: row for row in read_tsv(work / "results/four/dates.tsv")}


def review_data(work):
    script = (work / "results/experiments/four/review/data.js").read_text(encoding="utf-8")
    return json.loads(script.removeprefix("window.REVIEW_DATA = ").rstrip().removesuffix(";"))


def person_of(data, folder):
    """The index of the person holding most of a folder's faces in the pages' data."""
    held = [
        sum(Path(data["faces"][str(p)][0]).parent.name == folder for p in person["faces"]) for person in data["persons"]
    ]
    return held.index(max(held))


def faces_by_person(data, folder):
    """[(date, file name)] of the faces of the person holding a folder's faces, in the pages' order."""
    faces = [data["faces"][str(p)] for p in data["persons"][person_of(data, folder)]["faces"]]
    return [(face[6], Path(face[0]).name) for face in faces]


def test_each_photos_date_is_read_and_the_implausible_are_noted(dated):
    read = dates_read(dated)
    hugo = sorted(p for p in read if p.startswith("Hugo_Chavez/"))
    vladimir = sorted(p for p in read if p.startswith("Vladimir_Putin/"))

    assert [read[p]["date"] for p in hugo] == ["2012-05-01T10:00:00+02:00", "", "2009-03-03", ""]
    assert read[hugo[2]]["sidecar"] == hugo[2] + ".xmp" and read[hugo[2]]["source"] == "xmp:photoshop:DateCreated"
    assert [read[p]["date"] for p in vladimir] == ["", "2015-06-06T08:00:00", "2001-01-01T10:00:00", ""]
    assert "kept out: the first day of 1900" in read[hugo[3]]["note"]
    assert "kept out: in the future" in read[vladimir[0]]["note"]
    assert read[hugo[1]]["note"] == read[vladimir[3]]["note"] == ""  # undated, no problem

    report = (dated / "results/experiments/four/report.md").read_text()
    assert "- photo dates: 4 of 8 photos dated (dates.tsv)" in report
    assert "- **date notes** on 2 photos; the first:" in report and "the first day of 1900" in report


def test_a_persons_faces_go_by_date_the_undated_last(dated):
    data = review_data(dated)

    hugo = faces_by_person(data, "Hugo_Chavez")
    vladimir = faces_by_person(data, "Vladimir_Putin")

    assert [date for date, _ in hugo] == ["2009-03-03", "2012-05-01T10:00:00+02:00", "", ""]
    assert [date for date, _ in vladimir] == ["2001-01-01T10:00:00", "2015-06-06T08:00:00", "", ""]
    assert [name for date, name in hugo if not date] == sorted(name for date, name in hugo if not date)


def test_the_pages_show_each_faces_date_in_that_order(dated):
    from selenium.webdriver.common.by import By

    data = review_data(dated)
    person = person_of(data, "Hugo_Chavez")
    browser = start_chromium(tempfile.mkdtemp(dir=dated))
    try:
        browser.get((dated / "results/experiments/four/review/index.html").as_uri() + f"#person={person}")
        tiles = browser.find_elements(By.CSS_SELECTOR, "ul.faces li.tile label")
        shown = [[t.text for t in tile.find_elements(By.CSS_SELECTOR, "time.date")] for tile in tiles]
        titles = [tile.get_attribute("title") for tile in tiles]
        if SCREENSHOTS:
            browser.save_screenshot(str(Path(SCREENSHOTS) / "dates-person-1280.png"))
            browser.set_window_size(390, 844)
            browser.save_screenshot(str(Path(SCREENSHOTS) / "dates-person-390.png"))
    finally:
        browser.quit()

    assert shown == [["2009-03-03"], ["2012-05-01"], [], []]
    assert "taken 2009-03-03 (xmp:photoshop:DateCreated in Hugo_Chavez/" in titles[0]
    assert "taken 2012-05-01T10:00:00+02:00 (exif:DateTimeOriginal)" in titles[1]
    assert all(title.endswith("no date") for title in titles[2:])


def test_a_date_edited_in_a_sidecar_reruns_no_detection(dated):
    hugo = sorted((dated / "photos/Hugo_Chavez").glob("*.jpg"))
    sidecar(hugo[2]).unlink()
    exiftool_write(sidecar(hugo[2]), {"XMP-photoshop:DateCreated": "2013:01:01"})

    rerun = run_snakemake(dated).stderr

    assert "rule read_dates:" in rerun and "rule review_pages:" in rerun and "rule report_experiment:" in rerun
    assert "rule process_batch:" not in rerun and "rule cluster_experiment:" not in rerun
    assert [date for date, _ in faces_by_person(review_data(dated), "Hugo_Chavez")][:2] == [
        "2012-05-01T10:00:00+02:00",
        "2013-01-01",
    ]


def test_a_date_edited_in_a_photo_detects_that_photo_alone_again(dated):
    """The content cache is keyed by a photo's bytes, which its own EXIF is part of."""
    undated = sorted((dated / "photos/Vladimir_Putin").glob("*.jpg"))[3]
    exiftool_write(undated, {"DateTimeOriginal": "1999:09:09 09:09:09"})
    started = time.time()

    rerun = run_snakemake(dated).stderr

    assert "rule read_dates:" in rerun and "rule process_batch:" in rerun
    logs = [log for log in (dated / "results/logs/process_batch/four").rglob("*.log") if log.stat().st_mtime >= started]
    computed = [int(m[1]) for log in logs for m in re.finditer(r"computed (\d+) photos", log.read_text())]
    assert sum(computed) == 1
    assert faces_by_person(review_data(dated), "Vladimir_Putin")[0] == ("1999-09-09T09:09:09", undated.name)
