"""The review app in a real browser (Debian's chromium, driven by selenium) on a small real run: each
edit made in the served pages shows at once (names on the cards, faces under their person, the
corrections list), and the next Snakemake run makes the people folders the pages showed. Two tabs
editing from the same version lose no edit."""

import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from conftest import (
    LFW_DIR,
    PROJECT_ROOT,
    REVIEW_PEOPLE,
    copy_photos,
    lfw_sample,
    run_snakemake,
    sort_review_folder,
    start_chromium,
)
from PIL import Image

from facecluster.outputs.assignments import read_assignments
from facecluster.outputs.people_folders import FACE_STORE

pytestmark = pytest.mark.workflow

FOUR = REVIEW_PEOPLE
MADONNA = "M\u00e1donna \u0395\u03bb\u03ad\u03bd\u03b7"
# A long name (196 characters, 210 bytes of UTF-8), partly without a space to break it at.
LONG = "Hugo Rafael " + "Ch\u00e1vez-Fr\u00edas-" * 14 + "Jr"
INDEX_TITLE = re.compile(r"^\d+ (person|people), \d+ faces?$")
# Where to keep the screenshots taken at a desktop's and a phone's width (none kept when unset).
SCREENSHOTS = os.environ.get("FC_REVIEW_SCREENSHOTS")


@pytest.fixture(scope="module")
def work(lfw_dir, tmp_path_factory):
    """Four people, 5 photos each, and a photo of the first made small: its face is set aside."""
    work = tmp_path_factory.mktemp("browser")
    photos = copy_photos(lfw_sample(FOUR, 5), work / "photos")
    (photos / "small").mkdir()
    Image.open(sorted((LFW_DIR / FOUR[0]).iterdir())[6]).resize((90, 90)).save(photos / "small" / "tiny.jpg")
    return sort_review_folder(work, photos, set_aside={"min_side": 40})


@pytest.fixture(scope="module")
def app(work):
    """`facecluster review --no-browser` in the run's folder, on a free port: its address."""
    env = os.environ | {"PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "facecluster.workflow.cli", "review", "--no-browser"]
    process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, text=True)
    try:
        printed = process.stdout.readline()
        address = re.search(r"http://\S+", printed)
        assert address, f"the app printed no address: {printed!r}"
        yield address.group(0)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


def by(css):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def wait_until(browser, condition, seconds=30):
    """`condition()` once true; an element drawn again meanwhile (stale) is looked for again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda driver: condition()
    )


def heading(browser):
    return browser.find_element(*by("h1")).text


def show_index(browser):
    browser.execute_script("location.hash = location.hash === '#page=1' ? '#' : '#page=1'")
    wait_until(browser, lambda: INDEX_TITLE.match(heading(browser)))


def show_person(browser, name):
    from selenium.webdriver.common.by import By

    show_index(browser)
    wait_until(browser, lambda: browser.find_element(By.LINK_TEXT, name).click() or True)
    wait_until(browser, lambda: heading(browser) == name)


def cards(browser):
    """The names on the people's cards of the index."""
    show_index(browser)
    return {link.text for link in browser.find_elements(*by("[aria-labelledby=people-title] .card h3 a"))}


def shown_faces(browser):
    """The rows (of assignments.tsv) of the faces the person's page shows."""
    return {int(box.get_attribute("id").removeprefix("face-")) for box in browser.find_elements(*by(".tile input"))}


def faces_of(browser, name):
    show_person(browser, name)
    return shown_faces(browser)


def corrections(browser):
    """The corrections list, as it reads."""
    return browser.execute_script(
        "document.getElementById('edits-details').open = true;"
        "return [...document.querySelectorAll('#edit-list li')].map(item => [...item.childNodes]"
        ".filter(node => node.nodeType === Node.TEXT_NODE).map(node => node.textContent).join('').trim())"
    )


def edit(browser, act):
    """Make an edit (`act` clicks or types) and wait until the app has answered."""
    browser.execute_script("const n = document.getElementById('save-note'); n.textContent = ''; n.hidden = true")
    act()
    wait_until(browser, lambda: browser.find_element(*by("#save-note")).text)
    note = browser.find_element(*by("#save-note")).text
    assert "cannot" not in note and "did not answer" not in note, note
    return note


def click(browser, css):
    """Click what `css` finds, once scrolled to the middle of the window (not under the sticky header)."""

    def act():
        element = browser.find_element(*by(css))
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    return act


def move(browser, rows, to):
    from selenium.webdriver.support.ui import Select

    def act():
        for row in rows:
            browser.find_element(*by(f"#face-{row}")).click()
        Select(browser.find_element(*by("#move-to"))).select_by_value(to)
        browser.find_element(*by(".tools button[type=submit]")).click()

    return edit(browser, act)


def undo(browser, described):
    corrections(browser)
    return edit(browser, click(browser, f'#edit-list button[aria-label="Undo: {described}"]'))


def rename(browser, name, new):
    from selenium.webdriver.common.keys import Keys

    show_person(browser, name)
    field = browser.find_element(*by("#rename"))
    field.clear()
    edit(browser, lambda: field.send_keys(new, Keys.ENTER))


def test_each_edit_shows_at_once_and_the_next_run_makes_what_the_pages_showed(work, app, browser):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    rows = read_assignments(work / "results/experiments/four/assignments.tsv")
    names = main_persons(rows)
    arnold, hugo, jennifer, vladimir = (names[label] for label in FOUR)
    row_of = {row.label: [i for i, r in enumerate(rows) if r.label == row.label and not r.set_aside] for row in rows}
    (tiny,) = [i for i, row in enumerate(rows) if row.set_aside]
    browser.get(app)
    assert cards(browser) == {arnold, hugo, jennifer, vladimir}
    assert browser.find_element(*by("#save")).get_attribute("hidden") is not None  # served: nothing to download

    rename(browser, arnold, MADONNA)
    assert heading(browser) == MADONNA and shown_faces(browser) == set(row_of[FOUR[0]])
    assert f"Rename {arnold} to {MADONNA} (done)" in corrections(browser)
    rename(browser, hugo, LONG)
    # The page follows the person renamed, wherever the new name sorts.
    assert heading(browser) == LONG and shown_faces(browser) == set(row_of[FOUR[1]])
    assert cards(browser) == {MADONNA, LONG, jennifer, vladimir}

    show_person(browser, jennifer)
    Select(browser.find_element(*by("#merge-into"))).select_by_value(vladimir)
    edit(browser, click(browser, "#merge-into ~ button"))
    assert heading(browser) == vladimir  # where jennifer's faces went
    assert shown_faces(browser) == set(row_of[FOUR[2]] + row_of[FOUR[3]])
    assert cards(browser) == {MADONNA, LONG, vladimir}
    assert f"Merge {jennifer} into {vladimir} (done)" in corrections(browser)

    # The merge makes faces almost as near another person as their own: one is confirmed.
    show_index(browser)
    screenshots(browser, "index")
    browser.execute_script("location.hash = '#check'")  # the whole list to check: the long name cut there too
    wait_until(browser, lambda: browser.find_elements(*by("a[href='#']")))
    screenshots(browser, "check")
    show_index(browser)
    flagged = [
        int(b.get_attribute("id").removeprefix("confirm-"))
        for b in browser.find_elements(*by(".near button"))
        if b.get_attribute("id").startswith("confirm-")
    ]
    confirmed = next(row for row in flagged if row in row_of[FOUR[3]])
    edit(browser, click(browser, f"#confirm-{confirmed}"))
    assert not browser.find_elements(*by(f"#confirm-{confirmed}"))
    photo = Path(rows[confirmed].path).name
    assert f"Face 0 of {photo} is {vladimir} (done)" in corrections(browser)

    undo(browser, f"Merge {jennifer} into {vladimir}")
    assert cards(browser) == {MADONNA, LONG, jennifer, vladimir}
    assert faces_of(browser, jennifer) == set(row_of[FOUR[2]])
    assert not any(entry.startswith("Merge") for entry in corrections(browser))

    to_madonna, to_nobody = row_of[FOUR[1]][:2]
    show_person(browser, LONG)
    browser.find_element(*by(f"#face-{to_madonna}")).click()
    screenshots(browser, "selected")
    browser.find_element(*by(f"#face-{to_madonna}")).click()
    move(browser, [to_madonna], MADONNA)
    assert heading(browser) == LONG and to_madonna not in shown_faces(browser)
    assert to_madonna in faces_of(browser, MADONNA)
    hugo_photo = Path(rows[to_madonna].path).name
    assert f"Face 0 of {hugo_photo} is not {LONG}, to {MADONNA} (done)" in corrections(browser)
    show_person(browser, LONG)
    move(browser, [to_nobody], "nobody")
    assert to_nobody not in shown_faces(browser) and to_nobody in faces_of(browser, "others")
    nobody_entry = f"Face 0 of {Path(rows[to_nobody].path).name} is not {LONG}, to the others"
    assert f"{nobody_entry} (done)" in corrections(browser)

    show_person(browser, vladimir)
    edit(browser, click(browser, "#hide"))
    assert INDEX_TITLE.match(heading(browser))  # the person is gone: the index
    assert cards(browser) == {MADONNA, LONG, jennifer}
    assert vladimir in browser.find_element(*by("[aria-labelledby=hidden-title]")).text
    assert f"Hide {vladimir} (done)" in corrections(browser)

    assert faces_of(browser, "set aside") == {tiny}
    move(browser, [tiny], MADONNA)
    assert tiny in faces_of(browser, MADONNA)
    assert f"Face 0 of tiny.jpg from the others, to {MADONNA} (done)" in corrections(browser)
    assert "set aside" not in {link.text for link in browser.find_elements(*by(".card h3 a"))}

    undo(browser, nobody_entry)
    assert to_nobody in faces_of(browser, LONG)
    assert not any(entry.startswith(nobody_entry) for entry in corrections(browser))

    show_person(browser, LONG)  # how the pages look with a long name, at both widths
    screenshots(browser, "person")
    field = browser.find_element(*by("#rename"))
    field.send_keys(LONG[:40])
    browser.find_element(*by(f"#face-{row_of[FOUR[1]][2]}")).click()
    field.send_keys(Keys.TAB)
    screenshots(browser, "editing")
    field.clear()

    shown = {name: photos_of(rows, faces_of(browser, name)) for name in cards(browser)}
    show_index(browser)
    assert not browser.find_elements(*by("[aria-labelledby=rest-title] .card"))  # no face in others now
    assert shown == {
        MADONNA: photos_of(rows, row_of[FOUR[0]] + [to_madonna, tiny]),
        LONG: photos_of(rows, set(row_of[FOUR[1]]) - {to_madonna}),
        jennifer: photos_of(rows, row_of[FOUR[2]]),
    }
    people = work / "results/experiments/four/people"
    assert people_folders(people) == shown  # as the app left them
    run_snakemake(work)
    assert people_folders(people) == shown  # as the next run makes them
    browser.refresh()
    assert cards(browser) == set(shown)


def test_two_tabs_editing_from_the_same_version_lose_no_edit(work, app, browser):
    from selenium.webdriver.common.keys import Keys

    rows = read_assignments(work / "results/experiments/four/assignments.tsv")
    persons = {row.person for row in rows if row.person not in ("others", "unknown") and not row.hidden}
    first, second = sorted(persons)[:2]
    browser.get(app)
    show_person(browser, first)
    one = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(app)
    show_person(browser, second)
    two = browser.current_window_handle

    browser.switch_to.window(one)
    rename(browser, first, "Tab one")
    browser.switch_to.window(two)
    field = browser.find_element(*by("#rename"))
    field.send_keys("Tab two", Keys.ENTER)
    # Told why, and reloaded: the page shows the other tab's edit, this one not made.
    wait_until(browser, lambda: "another tab" in browser.find_element(*by("#save-note")).text)
    assert heading(browser) == second
    assert any(entry.endswith(" to Tab one (done)") for entry in corrections(browser))
    rename(browser, second, "Tab two")
    assert heading(browser) == "Tab two"
    assert set(cards(browser)) >= {"Tab one", "Tab two"}
    written = yaml.safe_load((work / "results/state/four/corrections.yaml").read_text(encoding="utf-8"))
    assert {"Tab one", "Tab two"} <= set(written["rename"].values())
    browser.close()
    browser.switch_to.window(one)


def test_a_rename_to_another_persons_name_offers_to_merge_them(work, app, browser):
    from selenium.webdriver.common.keys import Keys

    browser.get(app)
    first, second = sorted(cards(browser))[:2]
    show_person(browser, first)
    field = browser.find_element(*by("#rename"))
    field.clear()
    field.send_keys(second, Keys.ENTER)
    wait_until(browser, lambda: browser.find_elements(*by("#save-note button.offer")))
    assert browser.find_element(*by("#save-note")).text == (
        f"\u201c{second}\u201d is another person's name. If they are one person: Merge {first} into {second}"
    )
    assert not any(entry.startswith(f"Rename {first}") for entry in corrections(browser))  # nothing sent
    screenshots(browser, "rename-offers-merge")

    click(browser, "#save-note button.offer")()
    wait_until(browser, lambda: f"Merge {first} into {second} (done)" in corrections(browser))
    assert first not in cards(browser) and second in cards(browser)
    undo(browser, f"Merge {first} into {second}")
    assert {first, second} <= cards(browser)


def main_persons(rows):
    counts = defaultdict(Counter)
    for row in rows:
        counts[row.label][row.person] += 1
    return {label: people.most_common(1)[0][0] for label, people in counts.items()}


def photos_of(rows, positions):
    return {Path(rows[p].path).name for p in positions}


def people_folders(people):
    """{folder: the photos in it} of a people folder (its face store aside)."""
    return {
        folder.name: {f.name for f in folder.iterdir() if f.is_symlink()}  # the photos are links
        for folder in people.iterdir()
        if folder.is_dir() and folder.name != FACE_STORE
    }


def screenshots(browser, name):
    """At a desktop's and a phone's width: nothing wider than the window; the screenshots kept
    (what has the focus in view) where FC_REVIEW_SCREENSHOTS names a folder."""
    for width, height in ((1280, 900), (390, 844)):
        browser.set_window_size(width, height)
        browser.execute_script("if (document.activeElement !== document.body) document.activeElement.scrollIntoView()")
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px: {overflow} px too wide"
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(Path(SCREENSHOTS) / f"{name}-{width}.png"))
    browser.set_window_size(1280, 900)
