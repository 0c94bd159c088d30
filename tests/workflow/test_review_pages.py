"""The review pages in a real browser (Debian's chromium, driven by selenium): corrections made
there, saved by the browser and applied by the next run, show in the people folders and the pages."""

import os
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import (
    REVIEW_PEOPLE,
    copy_photos,
    lfw_sample,
    run_snakemake,
    sort_review_folder,
    start_chromium,
)

from facecluster.naming.corrections import read_corrections
from facecluster.outputs.assignments import read_assignments

pytestmark = pytest.mark.workflow

FOUR = REVIEW_PEOPLE
# Where to keep the screenshots taken at a desktop's and a phone's width (none kept when unset).
SCREENSHOTS = os.environ.get("FC_REVIEW_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    driver = start_chromium(tempfile.mkdtemp(dir=downloads.parent), downloads)
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def folder(lfw_dir, tmp_path_factory):
    """Four people, 5 photos each, sorted once; corrections: a file not written yet."""
    work = tmp_path_factory.mktemp("review")
    photos = copy_photos(lfw_sample(FOUR, 5), work / "photos")
    return sort_review_folder(work, photos, corrections="corrections.yaml")


def main_person(rows):
    counts = defaultdict(Counter)
    for row in rows:
        counts[row.label][row.person] += 1
    return {label: people.most_common(1)[0][0] for label, people in counts.items()}


def open_pages(browser, work, view=""):
    browser.get("about:blank")  # a new load (from the same page only the # would change, data.js kept)
    browser.get((work / "results/experiments/four/review/index.html").as_uri() + f"#{view}")
    return browser


def click_link(browser, text):
    from selenium.webdriver.common.by import By

    browser.find_element(By.LINK_TEXT, text).click()


def test_corrections_made_in_the_pages_are_applied_by_the_next_run(browser, folder):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    rows = read_assignments(folder / "results/experiments/four/assignments.tsv")
    arnold, hugo, jennifer, vladimir = (main_person(rows)[name] for name in FOUR)
    assert len({arnold, hugo, jennifer, vladimir}) == 4
    vladimirs = [position for position, row in enumerate(rows) if row.person == vladimir]
    open_pages(browser, folder)
    cards = [link.text for link in browser.find_elements(By.CSS_SELECTOR, ".card h3 a")]
    assert set(cards) == {arnold, hugo, jennifer, vladimir}  # and no empty "others"
    screenshots(browser, "index")
    unlabelled = browser.execute_script(
        "return [...document.querySelectorAll('button, select, input')]"
        ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())"
        ".map(e => e.outerHTML)"
    )
    assert unlabelled == []

    click_link(browser, arnold)
    screenshots(browser, "person")
    browser.find_element(By.ID, "rename").send_keys("arnold", Keys.ENTER)  # by keyboard: Enter submits
    click_link(browser, "\u2190 All people")
    click_link(browser, jennifer)
    Select(browser.find_element(By.ID, "merge-into")).select_by_value(hugo)
    browser.find_element(By.XPATH, "//button[text()='Merge']").click()
    click_link(browser, "\u2190 All people")
    click_link(browser, vladimir)
    browser.find_element(By.ID, f"face-{vladimirs[0]}").click()
    browser.find_element(By.ID, "not-this-person").click()
    browser.find_element(By.ID, f"face-{vladimirs[1]}").click()
    Select(browser.find_element(By.ID, "move-to")).select_by_value("nobody")
    browser.find_element(By.XPATH, "//button[text()='Move']").click()
    browser.find_element(By.ID, "hide").click()
    browser.find_element(By.ID, "save").click()

    saved = wait_for(browser.downloads / "corrections.yaml")
    target = folder / "corrections.yaml"
    assert str(target.resolve()) in browser.find_element(By.ID, "save-note").text  # where to put it
    shutil.move(saved, target)
    corrections, problem = read_corrections(target)
    assert problem is None
    assert corrections["rename"] == [(arnold, "arnold")] and corrections["merge"] == [[hugo, jennifer]]
    moved = [(rows[p].path, rows[p].face_index) for p in vladimirs[:2]]
    assert [(m["photo"], m["face"], m["person"], m.get("to")) for m in corrections["move_out"]] == [
        (*moved[0], vladimir, None),
        (*moved[1], vladimir, "nobody"),
    ]
    assert corrections["hide"] == [vladimir]

    run_snakemake(folder)
    after = read_assignments(folder / "results/experiments/four/assignments.tsv")
    person = {(row.path, row.face_index): row for row in after}
    people = folder / "results/experiments/four/people"
    photos_of = {p.name: {f.name for f in p.iterdir() if f.suffix == ".jpg"} for p in people.iterdir() if p.is_dir()}
    names = {row.label: {r.person for r in after if r.label == row.label} for row in after}
    assert "arnold" in names["Arnold_Schwarzenegger"] and "arnold" in photos_of
    assert hugo in names["Jennifer_Capriati"] and jennifer not in photos_of
    assert person[moved[0]].person != vladimir
    assert person[moved[1]].person in ("unknown", "others")
    assert vladimir not in photos_of  # hidden: no folder, faces kept and marked
    assert {row.hidden for row in after if row.person == vladimir} == {True}

    open_pages(browser, folder)
    cards = [link.text for link in browser.find_elements(By.CSS_SELECTOR, ".card h3 a")]
    assert "arnold" in cards and jennifer not in cards and vladimir not in cards
    assert vladimir in browser.find_element(By.ID, "main").text  # under "Hidden people"
    assert browser.find_element(By.ID, "problems").get_attribute("hidden") is not None  # all honoured
    assert browser.find_element(By.ID, "edit-count").text == "5"  # the file's corrections, kept


def wait_for(path, seconds=20):
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.exists(), f"the browser saved no {path.name}"
    return path


def screenshots(browser, name):
    if not SCREENSHOTS:
        return
    for width, height in ((1280, 900), (390, 844)):
        browser.set_window_size(width, height)
        browser.save_screenshot(str(Path(SCREENSHOTS) / f"{name}-{width}.png"))
    browser.set_window_size(1280, 900)
