"""The values every table shares, and the one way the project writes its .tsv outputs: tab-separated,
"\\n" line ends, Python csv's quoting.

A field holding a tab, a newline, a carriage return or a double quote (a file
name may) is written between double quotes, so that `csv.reader(handle,
delimiter="\\t")` and pandas `read_csv(sep="\\t", quoting=csv.QUOTE_MINIMAL)`
read it back exactly. Python 3.11's csv quotes a field when it holds a
character of the line terminator: with "\\n" alone, a lone "\\r" would stay
bare and split its row for every reader. Rows are therefore formatted with
"\\r\\n" ends, which quotes both, and written with "\\n": every other field,
and so every file without a "\\r" in it, comes out byte for byte as before.
"""

import csv
import os
from pathlib import Path

# A face in no cluster (assignments.tsv's cluster column, every clusterer's labels).
UNKNOWN = -1
# The person of every face no person holds: a cluster under min_photos, or no cluster.
OTHERS = "others"

_FORMATTED_END = "\r\n"


def tsv_writer(handle):
    """csv.writer over `handle` (opened with newline=""), for a .tsv output."""
    return csv.writer(_LineEnds(handle), delimiter="\t", lineterminator=_FORMATTED_END)


def replace_tsv_files(tables):
    """Write .tsv files so that a reader, or a run killed while writing them, finds the old files
    or the new ones whole, never part of one. tables: {path: (header, rows)}. Each is written to a
    temporary file in its folder and flushed to the disk; then, once all are, each is renamed over
    its path (an atomic step), in the order given, and the folder's entries flushed in turn."""
    temporaries = {}
    for path, (header, rows) in tables.items():
        path = Path(path)
        temporaries[path] = path.with_name(f".{path.name}.tmp")  # one a killed write left is overwritten
        with open(temporaries[path], "w", newline="", encoding="utf-8") as handle:
            writer = tsv_writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())
    for path, temporary in temporaries.items():
        os.replace(temporary, path)
    for folder in {path.parent for path in temporaries}:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class _LineEnds:
    """Passes each row csv formats (one write call per row, ending in "\\r\\n") on, ending in "\\n"."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, row):
        if not row.endswith(_FORMATTED_END):
            raise ValueError(f"not one row ending in \\r\\n: {row!r}")
        return self._handle.write(row[: -len(_FORMATTED_END)] + "\n")
