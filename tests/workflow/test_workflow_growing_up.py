"""One person from childhood to adulthood, end to end: FG-NET's held-out people (bench/growing_up.py:
17 people, 209 scanned photos from early childhood on, capture dates written into the EXIF by exiftool
from the age in each file name) sorted by the workflow with their dates and without them; the persons
likely one child at other ages suggested on the review pages, merged or kept apart in one click (the
review app's requests, and the pages in a real browser)."""

import json
import os
import sys
from collections import Counter

import pytest
import yaml
from conftest import PROJECT_ROOT, read_tsv, require_exiftool, run_snakemake, start_chromium, write_config

from facecluster.outputs.assignments import read_assignments
from facecluster.workflow.config import validate_config
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.review_app import TOKEN_HEADER, Experiment, Review, make_app
from facecluster.workflow.specs import resolve

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import growing_up  # noqa: E402

pytestmark = pytest.mark.workflow

INTEL_REID = {"detector": {"name": "yunet", "keep": "all", "min_size": 16}, "embedder": {"name": "intel_reid"}}


@pytest.fixture(scope="module")
def sorted_twice(datasets, tmp_path_factory):
    """The held-out people's dated photos sorted twice from one processing: `dated` (the default) and
    `undated` (use_dates: false)."""
    require_exiftool()
    fgnet = datasets / "fgnet-dev"
    if not fgnet.is_dir():
        pytest.skip(f"{fgnet} is absent: the FG-NET half of ../shared/datasets is needed")
    work = tmp_path_factory.mktemp("growing-up")
    growing_up.make_folders(fgnet, work / "made", seed=0)
    photos = work / "made" / "held-out-dated"
    write_config(
        work,
        {"family": {"path": str(photos), "labels": "folders"}},
        models={"intel_reid": INTEL_REID},
        default_model="intel_reid",
        experiments={
            "dated": {"dataset": "family", "model": "intel_reid"},
            "undated": {"dataset": "family", "model": "intel_reid", "use_dates": False},
        },
    )
    run_snakemake(work)
    return work


PORT = 8767
TOKEN = "the-token"
ORIGIN = f"http://127.0.0.1:{PORT}"


def review_data(work):
    script = (work / "results/experiments/dated/review/data.js").read_text(encoding="utf-8")
    return json.loads(script.removeprefix("window.REVIEW_DATA = ").rstrip().removesuffix(";"))


def child_of(work, person):
    """The real person (folder) most of a person's faces are."""
    rows = read_assignments(work / "results/experiments/dated/assignments.tsv")
    return Counter(row.label for row in rows if row.person == person).most_common(1)[0][0]


def sorting(work, experiment):
    """(BCubed F1 over the faces sorted, the notes) of an experiment's metrics.json."""
    metrics = json.loads((work / "results" / "experiments" / experiment / "metrics.json").read_text())
    return metrics["per_k"][str(metrics["chosen_k"])]["bcubed_f1"], metrics["notes"]


def test_the_dates_link_each_childs_faces_across_the_years(sorted_twice):
    dated, dated_notes = sorting(sorted_twice, "dated")
    undated, undated_notes = sorting(sorted_twice, "undated")
    assert any(note.startswith("cut by the capture dates") for note in dated_notes)
    assert not any(note.startswith("cut by the capture dates") for note in undated_notes)
    # bench/results.md, "Growing up": 0.878 with the dates, 0.728 without.
    assert dated >= 0.85
    assert dated >= undated + 0.1


def test_a_child_is_one_person_from_the_first_photo_to_the_last(sorted_twice):
    """Most of each child's faces, early and late, share one person: the dates joined them."""
    rows = read_tsv(sorted_twice / "results" / "experiments" / "dated" / "assignments.tsv")
    kept = [row for row in rows if not row["set_aside"]]
    by_child = {}
    for row in kept:
        by_child.setdefault(row["label"], []).append(row["person"])
    whole = [child for child, persons in by_child.items() if max(map(persons.count, persons)) >= 0.8 * len(persons)]
    assert len(whole) >= 12, f"only {len(whole)} of {len(by_child)} children have 80 % of their faces in one person"


def test_the_pieces_of_a_child_are_suggested_as_one_person_at_other_ages(sorted_twice):
    data = review_data(sorted_twice)
    suggested = data["other_ages"]
    assert suggested, "no persons suggested as one at other ages"
    first = suggested[0]
    earlier, later = data["persons"][first["person"]]["name"], data["persons"][first["other"]]["name"]
    assert child_of(sorted_twice, earlier) == child_of(sorted_twice, later)  # the likeliest is one child
    assert first["years"][0][0] <= first["years"][1][0]  # the earlier first, its last faces beside the later's first
    assert all(len(faces) == 3 for faces in first["faces"])


def test_a_suggestion_kept_apart_or_merged_in_the_review_app(sorted_twice):
    from starlette.testclient import TestClient

    spec = resolve(validate_config(yaml.safe_load((sorted_twice / "config.yaml").read_text())))
    reviewing = Review(Experiment(spec.experiments["dated"], ResultPaths(str(sorted_twice / "results"))))
    client = TestClient(make_app(reviewing, TOKEN, PORT), base_url=ORIGIN)
    started_in = os.getcwd()
    os.chdir(sorted_twice)  # as `facecluster review` starts: the results name chips by relative paths
    try:
        data = review_data(sorted_twice)
        first = data["other_ages"][0]
        pair = [data["persons"][first["person"]]["name"], data["persons"][first["other"]]["name"]]

        apart = edit(client, reviewing, "add", "apart", pair)
        assert pair not in pairs_of(apart) and len(apart["other_ages"]) == len(data["other_ages"]) - 1
        assert yaml.safe_load(reviewing.experiment.corrections.read_text())["apart"] == [pair]
        assert pair in pairs_of(edit(client, reviewing, "undo", "apart", pair))

        child = child_of(sorted_twice, pair[1])
        merged = edit(client, reviewing, "add", "merge", pair)
        assert pair[1] not in [person["name"] for person in merged["persons"]]
        assert pair not in pairs_of(merged)
        assert child_of(sorted_twice, pair[0]) == child  # the later faces went to the earlier's person
        edit(client, reviewing, "undo", "merge", pair)
        reviewing.written()
    finally:
        os.chdir(started_in)


def edit(client, reviewing, action, kind, entry):
    """The data after an edit the app took."""
    body = {"version": reviewing.version(), "edits": [{"action": action, "kind": kind, "entry": entry}]}
    answer = client.post("/api/edit", json=body, headers={TOKEN_HEADER: TOKEN, "origin": ORIGIN})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def pairs_of(data):
    return [[data["persons"][s["person"]]["name"], data["persons"][s["other"]]["name"]] for s in data["other_ages"]]


def test_the_pages_show_the_suggestions_and_keep_a_pair_apart_in_one_click(sorted_twice, tmp_path):
    from selenium.webdriver.common.by import By

    browser = start_chromium(tmp_path / "profile")
    try:
        page = (sorted_twice / "results/experiments/dated/review/index.html").as_uri()
        browser.get(page + "#check")
        heading = browser.find_element(By.XPATH, "//h3[text()='Perhaps one person at other ages']")
        assert heading.is_displayed()
        items = browser.find_elements(By.CSS_SELECTOR, ".other-ages li")
        assert len(items) == len(review_data(sorted_twice)["other_ages"])
        assert " and later " in items[0].text and len(items[0].find_elements(By.CSS_SELECTOR, "img")) == 6
        edits = int(browser.find_element(By.ID, "edit-count").text)
        items[0].find_element(By.XPATH, ".//button[text()='Two people']").click()
        assert browser.find_element(By.CSS_SELECTOR, ".other-ages li .badge").text == "kept apart"
        assert int(browser.find_element(By.ID, "edit-count").text) == edits + 1
        browser.set_window_size(390, 844)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the check page is {width} px wide on a phone"
    finally:
        browser.quit()
