"""The MWG face regions' arithmetic, and which faces a sidecar tells (the workflow's sidecars, read back
by exiftool: tests/test_workflow_xmp.py)."""

import pytest
from conftest import an_assignment

from facecluster.outputs.xmp import area, is_told


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
