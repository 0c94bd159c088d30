"""The MWG face regions' arithmetic, and which faces a sidecar tells (the workflow's sidecars, read back
by exiftool: tests/test_workflow_xmp.py)."""

import json
from dataclasses import replace

import pytest
from conftest import an_assignment

from facecluster.outputs.assignments import write_assignments
from facecluster.outputs.xmp import INDEX, area, is_told, refresh_sidecars


def test_a_box_becomes_its_centre_and_size_as_fractions_of_the_photo():
    assert area((100, 50, 300, 450), 1000, 500) == {"x": 0.2, "y": 0.5, "w": 0.2, "h": 0.8}


def test_a_box_past_an_edge_is_cut_at_the_edge():
    assert area((-50, -10, 150, 90), 400, 200) == {"x": 0.1875, "y": 0.225, "w": 0.375, "h": 0.45}
    assert area((300, 100, 450, 260), 400, 200) == {"x": 0.875, "y": 0.75, "w": 0.25, "h": 0.5}


@pytest.mark.parametrize(
    ("face", "told"),
    [
        (an_assignment(person="obama"), True),
        (an_assignment(person="person_0007", set_aside="", hidden=False), True),
        (an_assignment(person="unknown"), False),
        (an_assignment(person="others"), False),
        (an_assignment(person="person_0007", set_aside="too_small"), False),
        (an_assignment(person="obama", hidden=True), False),
    ],
)
def test_only_the_faces_of_persons_shown_are_told(face, told):
    assert is_told(face) is told


def test_a_run_rewrites_only_the_sidecars_whose_names_changed_and_removes_those_of_no_person(tmp_path):
    listing = tmp_path / "photos.tsv"
    listing.write_text("id\trelpath\n" + "".join(f"p{i}\ttrip/{i}.jpg\n" for i in range(4)))
    for i in range(4):
        (tmp_path / f"p{i}.json").write_text(json.dumps({"image_size": [400, 300]}))
    box = {"left": 10.0, "top": 10.0, "right": 60.0, "bottom": 70.0}
    rows = [
        an_assignment(row=i, photo_id=f"p{i}", chips=str(tmp_path / f"p{i}.chips.npy"), person=person, **box)
        for i, person in enumerate(["ann", "ann", "bob", "bob"])
    ]
    assignments, xmp = tmp_path / "assignments.tsv", tmp_path / "xmp"
    write_assignments(assignments, rows)
    assert refresh_sidecars(assignments, listing, xmp)["written"] == 4
    inode = {i: (xmp / f"trip/{i}.jpg.xmp").stat().st_ino for i in range(4)}

    rows = [replace(row, person="Bob Lee") if row.person == "bob" else row for row in rows]
    rows[0] = replace(rows[0], person="others")
    write_assignments(assignments, rows)
    written = refresh_sidecars(assignments, listing, xmp)

    assert written == {"photos": 3, "regions": 3, "written": 2}
    assert not (xmp / "trip/0.jpg.xmp").exists()  # its one face is nobody's now
    assert (xmp / "trip/1.jpg.xmp").stat().st_ino == inode[1]  # ann's: not written again
    assert 'mwg-rs:Name="Bob Lee"' in (xmp / "trip/3.jpg.xmp").read_text()
    assert [line.split("\t")[0] for line in (xmp / INDEX).read_text().splitlines()] == ["photo_id", "p1", "p2", "p3"]
    assert refresh_sidecars(assignments, listing, xmp)["written"] == 0
