"""What naming keeps between runs: read, checked, written whole; data only.

State kept between runs (a folder outside the outputs Snakemake deletes):
    names.tsv     path, face_index, automatic: the name every face got BEFORE the corrections
                  (a known person's, a number carried over or new, or `others`)
The corrections are the user's standing statement: the corrections file is read by every run and
applied on top of these names (facecluster.naming.persons), so that removing a correction gives
back exactly the names it changed, numbers included; nothing a correction did outlives it.

An older state (names.tsv with a `person` column: the names after the corrections, and aliases.tsv:
names that became another) is read once into this form (`_from_old_state`) and replaced by the
next write. names.tsv is replaced whole (facecluster.tables.replace_tsv_files). A state file that
cannot be read (StateError) stops the workflow before it starts: the Snakefile checks it
(Plan.check_naming), on every start, so this module imports nothing heavy.
"""

import csv
import io
from pathlib import Path

from facecluster.naming.names import NUMBERED
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


NAMES_COLUMNS = ("path", "face_index", "automatic")
# The state of older versions: the names after the corrections, and the aliases they left.
OLD_NAMES_COLUMNS = ("path", "face_index", "person")
OLD_ALIASES_COLUMNS = ("name", "now")


class NamingState:
    """The previous run's names before the corrections: {(path, face_index): automatic name}."""

    def __init__(self, faces=None):
        self.faces = faces or {}

    @classmethod
    def read(cls, folder):
        """The state kept in `folder` (empty where it has none); StateError if a file is damaged."""
        folder = Path(folder)
        header, rows = _read_state_file(folder / "names.tsv", (NAMES_COLUMNS, OLD_NAMES_COLUMNS))
        faces = {(path, int(index)): name for path, index, name in rows}
        if header == OLD_NAMES_COLUMNS:
            _, aliases = _read_state_file(folder / "aliases.tsv", (OLD_ALIASES_COLUMNS,))
            faces = _from_old_state(faces, dict(aliases))
        return cls(faces)

    def write(self, folder):
        """Replace the state in `folder` whole (facecluster.tables.replace_tsv_files); an older
        state's aliases.tsv goes once the new names.tsv is in place (a run killed in between leaves a
        names.tsv of this form, which is read without it)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faces = [[path, index, name] for (path, index), name in sorted(self.faces.items())]
        replace_tsv_files({folder / "names.tsv": (NAMES_COLUMNS, faces)})
        (folder / "aliases.tsv").unlink(missing_ok=True)


def _from_old_state(faces, aliases):
    """An older state's names (after its corrections) as names before them: a face goes back to the
    number its name was given for (the lowest, where a merge made several one name), and keeps a
    name that had no number (a known person's). The corrections file, applied again, gives the names
    after; a merge made before cannot be told apart into its people any more."""

    def resolve(name):
        seen = set()
        while name in aliases and name not in seen:
            seen.add(name)
            name = aliases[name]
        return name

    numbers = {}
    for old in [*aliases, *aliases.values(), *faces.values()]:
        if NUMBERED.fullmatch(old):
            now = resolve(old)
            numbers[now] = min(numbers.get(now, old), old)
    return {key: numbers.get(name, name) for key, name in faces.items()}


def _read_state_file(path, headers):
    """(header, rows) of a state file, its header one of `headers` (the first and no rows when it does
    not exist), each row checked; StateError if damaged."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return headers[0], []
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
    columns = next((columns for columns in headers if tuple(header) == columns), None)
    if columns is None:
        raise StateError(path, f"its first line is not the header ({', '.join(headers[0])}, tab-separated)")
    for line, row in enumerate(rows, start=2):
        problem = _state_row_problem(row, columns)
        if problem:
            raise StateError(path, f"row {line}: {problem}")
    return columns, rows


def _state_row_problem(row, columns):
    if len(row) != len(columns):
        return f"{len(row)} fields, not {len(columns)} ({', '.join(columns)})"
    if not all(row):
        return f"an empty {columns[row.index('')]}"
    if "face_index" in columns and not row[columns.index("face_index")].isdigit():
        return f"face_index {row[columns.index('face_index')]!r} is not a number"
    return None
