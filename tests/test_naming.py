"""The corrections file: read as written; a missing one is recorded with its reason, never fatal
(a file not in the corrections' form stops the run: tests/test_state.py)."""

from facecluster.state import read_corrections

NO_CORRECTIONS = {"rename": [], "merge": [], "move_out": [], "hide": []}


def test_a_missing_corrections_file_gives_no_corrections_and_says_why(tmp_path):
    missing, problem = read_corrections(tmp_path / "none.yaml")
    assert missing == NO_CORRECTIONS and "does not exist" in problem


def test_a_corrections_file_is_read_as_written(tmp_path):
    (tmp_path / "fix.yaml").write_text(
        "rename: {person_0007: obama}\nmerge: [[person_0003, person_0011]]\n"
        "move_out: [{photo: a.jpg, face: 1, person: person_0002}, {photo: b.jpg, face: 0, person: obama, to: nobody}]\n"
        "hide: [person_0012]\n"
    )
    corrections, problem = read_corrections(tmp_path / "fix.yaml")
    assert problem is None
    assert corrections == {
        "rename": [("person_0007", "obama")],
        "merge": [["person_0003", "person_0011"]],
        "move_out": [
            {"photo": "a.jpg", "face": 1, "person": "person_0002"},
            {"photo": "b.jpg", "face": 0, "person": "obama", "to": "nobody"},
        ],
        "hide": ["person_0012"],
    }
    (tmp_path / "empty.yaml").write_text("# nothing to correct yet\nrename:\n")
    assert read_corrections(tmp_path / "empty.yaml") == (NO_CORRECTIONS, None)
