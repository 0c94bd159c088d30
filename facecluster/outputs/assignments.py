"""An experiment's assignments.tsv read back (its columns: facecluster.workflow.experiment), and its
faces' chips loaded as they are drawn. Apart from facecluster.workflow.experiment, so that the jobs that
only read the table (people folders, review pages) do not import the clustering's libraries."""

import csv

import numpy as np

ASSIGNMENT_COLUMNS = [
    "row",
    "photo_id",
    "path",
    "face_index",
    "left",
    "top",
    "right",
    "bottom",
    "label",
    "cluster",
    "chips",
    "person",
    "set_aside",
    "hidden",
]


def read_assignments(path):
    with open(path, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle, delimiter="\t"))
    for face in table:
        face["cluster"] = int(face["cluster"])
        face["face_index"] = int(face["face_index"])
    return table


class LazyChips:
    """Face chips by position, loaded only when a plot draws them (there may be millions); a
    slice is another LazyChips."""

    def __init__(self, assignments, where=None):
        self._where = where if where is not None else [(face["chips"], face["face_index"]) for face in assignments]

    def __len__(self):
        return len(self._where)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return LazyChips(None, self._where[i])
        path, index = self._where[i]
        return np.load(path, mmap_mode="r", allow_pickle=False)[index]
