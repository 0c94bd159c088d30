"""The one way the project writes its .tsv outputs: tab-separated, "\\n" line ends, Python csv's quoting.

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

_FORMATTED_END = "\r\n"


def tsv_writer(handle):
    """csv.writer over `handle` (opened with newline=""), for a .tsv output."""
    return csv.writer(_LineEnds(handle), delimiter="\t", lineterminator=_FORMATTED_END)


def tsv_dict_writer(handle, fieldnames):
    """csv.DictWriter over `handle` (opened with newline=""), for a .tsv output."""
    return csv.DictWriter(_LineEnds(handle), fieldnames=fieldnames, delimiter="\t", lineterminator=_FORMATTED_END)


class _LineEnds:
    """Passes each row csv formats (one write call per row, ending in "\\r\\n") on, ending in "\\n"."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, row):
        if not row.endswith(_FORMATTED_END):
            raise ValueError(f"not one row ending in \\r\\n: {row!r}")
        return self._handle.write(row[: -len(_FORMATTED_END)] + "\n")
