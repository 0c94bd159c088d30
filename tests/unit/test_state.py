"""The names kept between runs survive a kill while they are written; damaged state and a corrections
file that is not one are refused with the file, the line and what to do."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import PROJECT_ROOT

from facecluster.naming.corrections import CorrectionsError, check_corrections, read_corrections
from facecluster.naming.state import NamingState, StateError

OLD = NamingState({(f"photos/a{i}.jpg", i % 2): f"person_{i % 5 + 1:04d}" for i in range(200)})
NEW = NamingState(
    {(f"photos/a{i}.jpg", i % 2): "obama" if i % 5 == 0 else f"person_{i % 5 + 1:04d}" for i in range(300)}
)

# Writes NEW over the state in argv[1], SIGKILLing itself after the first row written to the
# temporary file of names.tsv.
KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from facecluster import tables as tsv
    from facecluster.naming.state import NamingState
    folder = sys.argv[1]
    new = NamingState(eval(sys.argv[2]))
    writer = tsv.tsv_writer

    def dying_writer(handle):
        inner = writer(handle)

        class Dying:
            writerow = inner.writerow

            def writerows(self, rows):
                inner.writerow(next(iter(rows)))
                handle.flush()
                os.kill(os.getpid(), signal.SIGKILL)

        return Dying()

    tsv.tsv_writer = dying_writer
    new.write(folder)
    """
)


def test_a_kill_while_the_state_is_written_leaves_the_previous_state_whole(tmp_path):
    OLD.write(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path), repr(NEW.faces)], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()

    assert (tmp_path / ".names.tsv.tmp").stat().st_size > 0  # killed in the middle of writing it
    assert NamingState.read(tmp_path).faces == OLD.faces
    NEW.write(tmp_path)  # the next run writes over what the killed one left
    assert NamingState.read(tmp_path).faces == NEW.faces
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names.tsv"]


def test_the_state_reads_back_as_written_with_any_character_a_path_may_hold(tmp_path):
    state = NamingState({('a\tb/c\nd "e".jpg', 0): "élodie", ("x.jpg", 3): "person_0002"})
    state.write(tmp_path)
    assert NamingState.read(tmp_path).faces == state.faces
    assert NamingState.read(tmp_path / "none").faces == {}  # no state yet: a first run


def test_an_older_state_is_read_as_the_names_before_its_corrections_and_replaced_by_the_next_write(tmp_path):
    (tmp_path / "names.tsv").write_text(
        "path\tface_index\tperson\na.jpg\t0\tobama\nb.jpg\t0\tperson_0003\nc.jpg\t0\tperson_0003\n"
        "d.jpg\t0\tbiden\ne.jpg\t0\tothers\n"
    )
    # person_0007 renamed obama; person_0004 merged into person_0003; biden a known person's name.
    (tmp_path / "aliases.tsv").write_text("name\tnow\nperson_0004\tperson_0003\nperson_0007\tobama\n")

    state = NamingState.read(tmp_path)

    assert state.faces == {
        ("a.jpg", 0): "person_0007",
        ("b.jpg", 0): "person_0003",
        ("c.jpg", 0): "person_0003",
        ("d.jpg", 0): "biden",
        ("e.jpg", 0): "others",
    }
    state.write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names.tsv"]
    assert NamingState.read(tmp_path).faces == state.faces


@pytest.mark.parametrize(
    ("file", "damage", "problem"),
    [
        ("names.tsv", lambda text: text[: len(text) // 2], "it ends in the middle of a line (cut short)"),
        ("names.tsv", lambda text: "", "it is empty"),
        ("names.tsv", lambda text: text.replace("\t1\t", "\tone\t", 1), "face_index 'one' is not a number"),
        ("names.tsv", lambda text: text + "photos/z.jpg\t0\n", "2 fields, not 3 (path, face_index, automatic)"),
        (
            "names.tsv",
            lambda text: "old\tnew\n" + text,
            "its first line is not the header (path, face_index, automatic",
        ),
        ("names.tsv", lambda text: text.encode("utf-16"), "it is not UTF-8 text"),
    ],
)
def test_a_damaged_state_file_is_refused_naming_it_and_what_to_do(tmp_path, file, damage, problem):
    OLD.write(tmp_path)
    damaged = damage((tmp_path / file).read_text())
    if isinstance(damaged, bytes):
        (tmp_path / file).write_bytes(damaged)
    else:
        (tmp_path / file).write_text(damaged)

    with pytest.raises(StateError) as refused:
        NamingState.read(tmp_path)

    message = str(refused.value)
    assert f"{str(tmp_path / file)!r} cannot be used" in message and problem in message
    assert f"move the folder {str(tmp_path)!r} away" in message


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("rename:\n  person_0001: [unclosed\n", 3, "not valid YAML"),
        ("rename: {person_0001: obama}\nrenames: {person_0002: biden}\n", 2, "unknown key 'renames' (accepted: "),
        ("rename: [person_0001, obama]\n", 1, "rename maps each old name to its new name"),
        ("merge:\n  - [person_0001, person_0002]\n  - [person_0003]\n", 3, "lists of two or more names"),
        ("move_out:\n  - {photo: a.jpg, face: 0, person: x}\n  - {photo: b.jpg, fase: 1, person: y}\n", 3,
         "unknown key 'fase' in a move_out entry (accepted: photo, face, person, to)"),
        ("move_out:\n  - photo: a.jpg\n    person: x\n", 2, "needs photo, face, person (missing: face)"),
        ("move_out:\n  - {photo: a.jpg, face: first, person: x}\n", 2, "not 'first'"),
        ("hide: person_0003\n", 1, "hide is a list of names"),
        ("confirm:\n  - {photo: a.jpg, face: 0, person: x, to: y}\n", 2, "unknown key 'to' in a confirm entry"),
        # A name a person cannot have stops the run before its people folders are rebuilt (they
        # failed with "File name too long", and Snakemake deleted them).
        (f"rename:\n  person_0001: {'a' * 300}\n", 2, "person_0001 cannot be renamed 'aaa"),
        ("rename: {person_0001: person_0002}\n", 1, "of the form of the tool's numbers"),
        ("apart:\n  - [person_0001, person_0002, person_0003]\n", 2, "apart is a list of pairs of names"),
    ],
)  # fmt: skip
def test_a_corrections_file_not_in_the_form_is_refused_with_its_file_and_line(tmp_path, text, line, problem):
    path = tmp_path / "fix.yaml"
    path.write_text(text)

    with pytest.raises(CorrectionsError) as refused:
        check_corrections(path)

    assert f"corrections file {str(path)!r}, line {line}: " in str(refused.value)
    assert problem in str(refused.value)
    # Read by the job (the file changed after the run started): no corrections, and why.
    assert read_corrections(path) == (
        {"rename": [], "merge": [], "move_out": [], "hide": [], "confirm": [], "apart": []},
        str(refused.value),
    )
