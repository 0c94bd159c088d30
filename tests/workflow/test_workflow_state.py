"""The names state and the corrections file, run by Snakemake: damaged state and a corrections file not
in the form stop the run with a clear message before anything is deleted; corrections not honoured
are said at the end of the run."""

import shutil

import pytest
from conftest import copy_photos, lfw_sample, run_snakemake, write_config

pytestmark = pytest.mark.workflow

MODEL = {"detector": {"name": "yunet", "keep": "center", "min_size": 16}, "embedder": {"name": "dlib"}}
# Nobody had that name: not honoured, and said so.
NOT_HONOURED = "rename: {person_0099: grandma}\n"


@pytest.fixture(scope="module")
def sorted_folder(lfw_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("state")
    photos = copy_photos(lfw_sample(["Hugo_Chavez", "Vladimir_Putin"], 3), work / "photos")
    (work / "fix.yaml").write_text(NOT_HONOURED)
    experiment = {"dataset": "mine", "cluster": {"method": "agglomerative"}, "corrections": str(work / "fix.yaml")}
    write_config(
        work, {"mine": {"path": str(photos), "labels": "none"}}, models={"dlib": MODEL}, experiments={"e": experiment}
    )
    return work, run_snakemake(work)


def outputs(work):
    """{output: its modification time} of the experiment's outputs (files and folders)."""
    folder = work / "results/experiments/e"
    return {path: path.stat().st_mtime_ns for path in sorted(folder.rglob("*"))}


def test_corrections_not_honoured_are_said_at_the_end_of_the_run_and_in_the_report(sorted_folder):
    work, first = sorted_folder
    said = "rename person_0099 to grandma: no person person_0099 in this run"

    assert "1 correction(s) of experiment e not honoured (see results/experiments/e/report.md)" in first.stderr
    assert said in first.stderr.split("steps (100%) done")[-1]  # after the last job
    assert said in (work / "results/experiments/e/report.md").read_text()


def assert_stopped_before_anything(result, work, before, *texts):
    assert result.returncode != 0
    message = result.stderr
    assert all(text in message for text in texts), message[-3000:]
    assert "Nothing was run and nothing deleted." in message
    assert "Traceback" not in message and 'File "' not in message  # a message, not a traceback
    assert "rule cluster_experiment" not in message
    assert outputs(work) == before


@pytest.mark.parametrize(
    ("file", "damage", "problem"),
    [
        ("names.tsv", lambda text: text[: len(text) // 2], "it ends in the middle of a line (cut short)"),
        ("names.tsv", lambda text: "name\tnow\tthen\n", "its first line is not the header (path, face_index"),
    ],
)
def test_a_damaged_state_stops_the_run_naming_the_file_and_deletes_nothing(sorted_folder, file, damage, problem):
    work, _ = sorted_folder
    state = work / "results/state/e"
    saved = shutil.copytree(state, work / "saved-state")
    before = outputs(work)
    try:
        (state / file).write_text(damage((state / file).read_text()))
        result = run_snakemake(work, "--forcerun", "cluster_experiment", check=False)
    finally:
        shutil.rmtree(state)
        saved.rename(state)

    where = f"the names state file '{state / file}'".replace(str(work) + "/", "")
    assert_stopped_before_anything(result, work, before, where, problem, "move the folder 'results/state/e' away")


@pytest.mark.parametrize(
    ("corrections", "problem"),
    [
        ("rename:\n  person_0001: obama\nmerge: [[person_0001, person_0002]\n", "line 4: not valid YAML"),
        ("rename: {person_0001: obama}\nrenames: {person_0002: biden}\n", "line 2: unknown key 'renames'"),
        ("move_out:\n  - {photo: a.jpg, face: 0, persn: person_0001}\n", "line 2: unknown key 'persn' in a move_out"),
        # Failed before: the name was honoured, the people folders failed with "File name too long"
        # and Snakemake deleted them (the outputs compared include every file of the people folders).
        (f"rename:\n  person_0001: {'a' * 300}\n", "line 2: person_0001 cannot be renamed 'aaaa"),
    ],
)
def test_a_corrections_file_not_in_the_form_stops_the_run_with_its_line_and_deletes_nothing(
    sorted_folder, corrections, problem
):
    work, _ = sorted_folder
    before = outputs(work)
    try:
        (work / "fix.yaml").write_text(corrections)
        result = run_snakemake(work, check=False)
    finally:
        (work / "fix.yaml").write_text(NOT_HONOURED)

    assert_stopped_before_anything(result, work, before, f"corrections file '{work / 'fix.yaml'}', {problem}")
