"""What naming keeps between runs: read, checked, written whole; data only (names are read
through the aliases by facecluster.naming.persons).

State kept between runs (a folder outside the outputs Snakemake deletes):
    names.tsv     path, face_index, person: the name every face got
    aliases.tsv   name, now: names that became another (renamed, merged, known)
so that a correction naming an old name keeps meaning the same person. Each file is
replaced whole (facecluster.tables.replace_tsv_files). A state file that cannot be read
(StateError) stops the workflow before it starts: the Snakefile checks it (Plan.check_naming),
on every start, so this module imports nothing heavy.
"""

import csv
import io
from pathlib import Path

from facecluster.tables import replace_tsv_files


class StateError(Exception):
    """A state file that cannot be read: the message names it and says what to do."""

    def __init__(self, path, problem):
        folder = Path(path).parent
        super().__init__(
            f"the names state file {str(path)!r} cannot be used: {problem}.\n"
            "It keeps the names given in earlier runs. Put back a whole copy of it (from a backup), or move "
            f"the folder {str(folder)!r} away to name the people afresh (they get new numbers, and corrections "
            "naming the old names are not honoured)."
        )


# The state files and their columns.
STATE_FILES = {"aliases.tsv": ("name", "now"), "names.tsv": ("path", "face_index", "person")}


class NamingState:
    """The names of the previous run: {(path, face_index): person} and {old name: its name now}."""

    def __init__(self, faces=None, aliases=None):
        self.faces = faces or {}
        self.aliases = aliases or {}

    @classmethod
    def read(cls, folder):
        """The state kept in `folder` (empty where it has none); StateError if a file is damaged."""
        folder = Path(folder)
        aliases = dict(_read_state_file(folder / "aliases.tsv"))
        faces = {(path, int(index)): person for path, index, person in _read_state_file(folder / "names.tsv")}
        return cls(faces, aliases)

    def write(self, folder):
        """Replace the state in `folder`: both files written whole before either replaces its
        old self (facecluster.tables.replace_tsv_files), aliases.tsv first. A run killed between the
        two renames leaves the last run's names with this run's aliases, which read as those names
        under this run's renames and merges (names are always read through the aliases)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faces = [[path, index, person] for (path, index), person in sorted(self.faces.items())]
        replace_tsv_files(
            {
                folder / "aliases.tsv": (STATE_FILES["aliases.tsv"], sorted(self.aliases.items())),
                folder / "names.tsv": (STATE_FILES["names.tsv"], faces),
            }
        )


def _read_state_file(path):
    """The rows of a state file (none when it does not exist), each checked; StateError if damaged."""
    columns = STATE_FILES[path.name]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as exc:
        raise StateError(path, f"it is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise StateError(path, f"it cannot be read ({exc.strerror})") from None
    # Every row the project writes ends in a line end: a file without one was cut short.
    if not text.endswith("\n"):
        raise StateError(path, "it is empty" if not text else "it ends in the middle of a line (cut short)")
    try:
        header, *rows = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    except csv.Error as exc:
        raise StateError(path, f"it is not a table ({exc})") from None
    if tuple(header) != columns:
        raise StateError(path, f"its first line is not the header ({', '.join(columns)}, tab-separated)")
    for line, row in enumerate(rows, start=2):
        problem = _state_row_problem(row, columns)
        if problem:
            raise StateError(path, f"row {line}: {problem}")
    return rows


def _state_row_problem(row, columns):
    if len(row) != len(columns):
        return f"{len(row)} fields, not {len(columns)} ({', '.join(columns)})"
    if not all(row):
        return f"an empty {columns[row.index('')]}"
    if "face_index" in columns and not row[columns.index("face_index")].isdigit():
        return f"face_index {row[columns.index('face_index')]!r} is not a number"
    return None
