"""The review app's parts that need no run: edits checked and gathered into a corrections file, the
results lock between processes, and the review data's order and settled faces."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import an_assignment

from facecluster.naming.corrections import check_corrections, no_corrections
from facecluster.outputs.review import review_data
from facecluster.workflow import review_app
from facecluster.workflow.lock import Busy, ResultsLock
from facecluster.workflow.review_app import Refused


def edit(kind, entry, action="add"):
    return {"action": action, "kind": kind, "entry": entry}


@pytest.mark.parametrize(
    "request_",
    [
        edit("rename", ["person_0001"]),
        edit("rename", ["person_0001", 3]),
        edit("merge", ["a", "a"]),
        edit("move_out", {"photo": "a.jpg", "face": -1, "person": "x"}),
        edit("move_out", {"photo": "a.jpg", "face": 0, "person": "x", "path": "/etc"}),
        edit("confirm", {"photo": "a.jpg", "face": True, "person": "x"}),
        edit("apart", ["a", "a"]),
        edit("apart", ["a", "b", "c"]),
        edit("delete", "x"),
        edit("hide", "x", action="drop"),
        ["not", "an", "object"],
    ],
)
def test_an_edit_of_another_form_is_refused_with_400(request_):
    with pytest.raises(Refused) as refused:
        review_app._checked_edit(request_)
    assert refused.value.status == 400


REFUSED = ["", "a/b", "..", ".hidden", "trailing ", "CON.txt", "nobody", "person_0003", "x" * 256]


@pytest.mark.parametrize("name", REFUSED)
def test_a_name_refused_says_why(name):
    with pytest.raises(Refused) as refused:
        review_app._check_names("rename", ["person_0001", name], [an_assignment(person="person_0001")])
    assert refused.value.status == 400 and "cannot be a name" in refused.value.reason


def test_moving_a_face_to_a_person_of_the_run_or_to_nobody_is_no_new_name():
    rows = [an_assignment(person="person_0001"), an_assignment(person="person_0002")]
    for to in ("person_0002", "nobody"):
        review_app._check_names("move_out", {"photo": "a.jpg", "face": 0, "person": "person_0001", "to": to}, rows)


def test_edits_gather_into_a_corrections_file_the_workflow_reads_and_undo_takes_them_out(tmp_path):
    corrections = no_corrections()
    face = {"photo": "/p/1.jpg", "face": 0, "person": "person_0001"}
    review_app._add(corrections, "rename", ["person_0001", "Ann"])
    review_app._add(corrections, "rename", ["Ann", "Anna"])  # the name given is renamed: one rename
    review_app._add(corrections, "merge", ["Anna", "person_0002"])
    review_app._add(corrections, "move_out", {**face, "to": "nobody"})
    review_app._add(corrections, "move_out", face)  # the same face again: replaces
    review_app._add(corrections, "hide", "person_0003")
    review_app._add(corrections, "confirm", {"photo": "/p/2.jpg", "face": 1, "person": "Anna"})
    review_app._add(corrections, "apart", ["Anna", "person_0004"])
    review_app._add(corrections, "apart", ["Anna", "person_0004"])  # once
    path = tmp_path / "state" / "corrections.yaml"
    review_app._write_corrections(path, corrections)
    assert check_corrections(path) == {
        "rename": [("person_0001", "Anna")],
        "merge": [["Anna", "person_0002"]],
        "move_out": [face],
        "hide": ["person_0003"],
        "confirm": [{"photo": "/p/2.jpg", "face": 1, "person": "Anna"}],
        "apart": [["Anna", "person_0004"]],
    }
    review_app._remove(corrections, "move_out", face)
    review_app._remove(corrections, "rename", ["person_0001", "Anna"])
    assert corrections["move_out"] == [] and corrections["rename"] == []
    with pytest.raises(Refused) as refused:  # undone already, in another tab
        review_app._remove(corrections, "hide", "person_0009")
    assert refused.value.status == 409


HOLD = (
    "import sys, time; from facecluster.workflow.lock import ResultsLock; "
    "ResultsLock(sys.argv[1]).take(); print(1, flush=True); time.sleep(60)"
)


def test_the_results_lock_held_by_another_process_refuses_a_save_and_is_free_when_it_ends(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "1"
        with pytest.raises(Busy):
            ResultsLock(tmp_path).take(wait=False)
    finally:
        holder.kill()
        holder.wait()
    with ResultsLock(tmp_path):  # the system dropped the killed holder's lock
        pass


def test_faces_are_in_natural_order_and_a_face_confirmed_or_placed_is_not_flagged(tmp_path):
    names = ["10.jpg", "2.jpg", "1.jpg", "b/1.jpg", "a/10.jpg", "a/9.jpg"]
    rows = [an_assignment(row=i, path=f"/photos/{name}", photo_id=str(i), person="p") for i, name in enumerate(names)]
    data = review_data(rows, np.zeros((len(rows), 2)), experiment="e")
    assert [rows[p].path[len("/photos/") :] for p in data["persons"][0]["faces"]] == [
        "1.jpg",
        "2.jpg",
        "10.jpg",
        "a/9.jpg",
        "a/10.jpg",
        "b/1.jpg",
    ]
    assert data["folder"] == "/photos" and data["name_rules"]["max_bytes"] == 255
    # Two people, one face of the first nearer the second: flagged, until confirmed or placed.
    rows = [an_assignment(row=i, path=f"/photos/{i}.jpg", photo_id=str(i), person="ab"[i // 3]) for i in range(6)]
    X = np.array([[0.0], [0.1], [0.9], [1.0], [1.1], [1.2]])
    flagged = review_data(rows, X, experiment="e")["near"]
    assert [n["face"] for n in flagged] == [2]
    for kind, extra in (("confirm", {}), ("move_out", {"to": "b"})):
        corrections = tmp_path / f"{kind}.yaml"
        review_app._write_corrections(
            corrections, no_corrections() | {kind: [{"photo": "/photos/2.jpg", "face": 0, "person": "a", **extra}]}
        )
        assert review_data(rows, X, experiment="e", corrections=corrections)["near"] == []
