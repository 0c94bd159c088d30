"""The corrections file: a mistake in it is recorded with its reason, never fatal."""

from facecluster.naming import read_corrections


def test_a_missing_or_malformed_corrections_file_gives_no_corrections_and_says_why(tmp_path):
    missing, problem = read_corrections(tmp_path / "none.yaml")
    assert missing == {"rename": [], "merge": [], "move_out": []} and "does not exist" in problem

    (tmp_path / "bad.yaml").write_text("rename: [unclosed\n")
    assert "not valid YAML" in read_corrections(tmp_path / "bad.yaml")[1]

    (tmp_path / "keys.yaml").write_text("renames: {person_0001: obama}\n")
    assert "expected a mapping with keys rename, merge, move_out" in read_corrections(tmp_path / "keys.yaml")[1]

    (tmp_path / "shape.yaml").write_text("rename: [person_0001, obama]\n")
    assert "rename is a mapping" in read_corrections(tmp_path / "shape.yaml")[1]


def test_a_corrections_file_is_read_as_written(tmp_path):
    (tmp_path / "fix.yaml").write_text(
        "rename: {person_0007: obama}\nmerge: [[person_0003, person_0011]]\n"
        "move_out: [{photo: a.jpg, face: 1, person: person_0002}]\n"
    )
    corrections, problem = read_corrections(tmp_path / "fix.yaml")
    assert problem is None
    assert corrections["rename"] == [("person_0007", "obama")]
    assert corrections["merge"] == [["person_0003", "person_0011"]]
    assert corrections["move_out"] == [{"photo": "a.jpg", "face": 1, "person": "person_0002"}]
