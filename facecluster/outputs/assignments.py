"""An experiment's assignments.tsv, written and read back, and its faces' chips loaded as they are
drawn. Apart from facecluster.workflow.experiment, so that the jobs that only read the table (people
folders, review pages) do not import the clustering's libraries.

assignments.tsv  one row per face of the experiment (its sample): row, photo_id, path,
                 face_index, left, top, right, bottom, label, cluster (at the chosen K;
                 -1 for a face in no cluster), chips,
                 person (a known person's name, a name kept from the previous run
                 or given by a correction, person_NNNN, or `others`: facecluster.naming.persons),
                 set_aside (why the face was not clustered: too_small, low_score or
                 blurred, facecluster.clustering.set_aside; empty for a face clustered).
                 A face is a person's exactly when person is not `others`; a face of
                 `others` with an empty set_aside is in a cluster of fewer than min_photos
                 photos (a bystander, until seen again), one with a reason was set aside.
                 hidden: yes when a correction hid the person (no people folder,
                 no review card, no XMP region)
"""

import ast
import csv
import functools
import os
from dataclasses import dataclass, fields
from operator import attrgetter

import numpy as np

from facecluster.tables import tsv_writer


@dataclass(frozen=True)
class Assignment:
    row: int
    photo_id: str
    path: str
    face_index: int
    left: float
    top: float
    right: float
    bottom: float
    label: str
    cluster: int
    chips: str
    person: str
    set_aside: str
    hidden: bool

    @classmethod
    def of_face(cls, face, *, cluster, person, set_aside, hidden):
        """A faces.tsv row (facecluster.photos.faces.Face) and what the experiment made of it."""
        return cls(
            face.row,
            face.photo_id,
            face.path,
            face.face_index,
            face.left,
            face.top,
            face.right,
            face.bottom,
            face.label,
            cluster,
            face.chips,
            person,
            set_aside,
            hidden,
        )


COLUMNS = [f.name for f in fields(Assignment)]
_INTS = ("row", "face_index", "cluster")
_FLOATS = ("left", "top", "right", "bottom")
# Each column's value from its text (the others are text).
_FROM_TEXT = {**dict.fromkeys(_INTS, int), **dict.fromkeys(_FLOATS, float), "hidden": lambda text: text == "yes"}
# A row's values in COLUMNS' order (dataclasses.astuple copies each value: ten times slower).
_VALUES = attrgetter(*COLUMNS)


def write_assignments(path, assignments):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = tsv_writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([*_VALUES(face)[:-1], "yes" if face.hidden else ""] for face in assignments)


def read_assignments(path) -> list[Assignment]:
    with open(path, newline="", encoding="utf-8") as handle:
        records = csv.reader(handle, delimiter="\t")
        header = next(records, [])
        convert = [_FROM_TEXT.get(name, str) for name in header]
        return [
            Assignment(**{name: to(text) for name, to, text in zip(header, convert, record)})
            for record in records
            if record
        ]


class LazyChips:
    """Face chips by position, loaded only when a plot draws them (there may be millions); a
    slice is another LazyChips. faces: Face or Assignment rows (their chips and face_index)."""

    def __init__(self, faces, where=None):
        self._where = where if where is not None else [(face.chips, face.face_index) for face in faces]

    def __len__(self):
        return len(self._where)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return LazyChips(None, self._where[i])
        return read_chip(*self._where[i])


def read_chip(path, index):
    """Face `index` of a photo's chips file (a .npy of faces x side x side x 3), reading only its
    bytes. np.load parses each file's header with Python's parser and maps the file: 0.3 ms a
    face, most of the cost of a contact sheet; the headers here are few (they differ by the
    number of faces), so each is parsed once."""
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if prefix[:6] != b"\x93NUMPY" or prefix[6] not in (1, 2, 3):
            raise ValueError(f"{path}: not a .npy file")
        length = int.from_bytes(handle.read(2 if prefix[6] == 1 else 4), "little")
        dtype, shape = _npy_header(handle.read(length))
        item = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        if not 0 <= index < shape[0]:
            raise IndexError(f"{path}: face {index} of {shape[0]}")
        handle.seek(index * item, os.SEEK_CUR)
        return np.frombuffer(handle.read(item), dtype=dtype).reshape(shape[1:])


@functools.lru_cache(maxsize=256)
def _npy_header(header):
    """(dtype, shape) of a .npy header (a Python dict literal); C order only, as np.save writes."""
    fields = ast.literal_eval(header.decode("latin1"))
    if fields["fortran_order"]:
        raise ValueError("a chips file in Fortran order")
    return np.dtype(fields["descr"]), tuple(fields["shape"])
