"""faces.tsv, the per-photo stage's table of faces: which row of embeddings.npy is which face.

Columns: row, photo_id, path, label, face_index, left, top, right, bottom, score, and chips (the
per-photo chips file holding this face at face_index).
"""

import csv
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from facecluster.tables import tsv_writer


@dataclass(frozen=True)
class Face:
    row: int
    photo_id: str
    path: str
    label: str
    face_index: int
    left: float
    top: float
    right: float
    bottom: float
    score: float
    chips: str


COLUMNS = [f.name for f in fields(Face)]
_INTS = ("row", "face_index")
_FLOATS = ("left", "top", "right", "bottom", "score")


def write_faces(path, faces):
    """Tab-separated, with a header; numbers as given (gather passes the detector's own)."""
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = tsv_writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(face) for face in faces)


def read_faces(path) -> list[Face]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            Face(
                **{
                    **record,
                    **{key: int(record[key]) for key in _INTS},
                    **{key: float(record[key]) for key in _FLOATS},
                }
            )
            for record in csv.DictReader(handle, delimiter="\t")
        ]


def record_path(face):
    """The per-photo record (<id>.json: its image_size, its faces) of a face: beside its chips."""
    return Path(face.chips).parent / f"{face.photo_id}.json"
