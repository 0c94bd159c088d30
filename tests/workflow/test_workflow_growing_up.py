"""One person from childhood to adulthood, end to end: FG-NET's held-out people (bench/growing_up.py:
17 people, 209 scanned photos from early childhood on, capture dates written into the EXIF by exiftool
from the age in each file name) sorted by the workflow with their dates and without them."""

import json
import sys

import pytest
from conftest import PROJECT_ROOT, read_tsv, require_exiftool, run_snakemake, write_config

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
