"""Gathering a dataset's batches into one ledger and one embeddings matrix per model.

Outputs (the per-photo stage's public output):
    ledger.tsv       one row per file found (see facecluster.photos.ledger)
    embeddings.npy   (faces, dim) float32, one row per face of every embedded photo
    faces.tsv        which row is which: row, photo_id, path, label, face_index,
                     left, top, right, bottom, score, and chips (the per-photo
                     chips file holding this face at face_index)
"""

import csv
import json
from pathlib import Path

import numpy as np

from facecluster.photos.ledger import read_ledger, write_ledger
from facecluster.tables import tsv_writer

FACE_COLUMNS = [
    "row",
    "photo_id",
    "path",
    "label",
    "face_index",
    "left",
    "top",
    "right",
    "bottom",
    "score",
    "chips",
]


def gather(batch_dirs, ledger_path, embeddings_path, faces_path):
    """Concatenate batches (in the order given) into the three outputs; return the ledger rows."""
    rows, vectors, faces = [], [], []
    for batch_dir in map(Path, batch_dirs):
        for row in read_ledger(batch_dir / "ledger.tsv"):
            rows.append(row)
            if row.status != "embedded":
                continue
            embeddings = np.load(batch_dir / f"{row.id}.npy", allow_pickle=False)
            record = json.loads((batch_dir / f"{row.id}.json").read_text())
            for index, face in enumerate(record["faces"]):
                faces.append(
                    [
                        len(faces),
                        row.id,
                        row.path,
                        row.label,
                        index,
                        *face["box"],
                        face["score"],
                        batch_dir / f"{row.id}.chips.npy",
                    ]
                )
            vectors.append(embeddings)
    write_ledger(ledger_path, rows)
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32)
    np.save(embeddings_path, matrix.astype(np.float32), allow_pickle=False)
    with open(faces_path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = tsv_writer(handle)
        writer.writerow(FACE_COLUMNS)
        writer.writerows(faces)
    return rows


def record_path(face):
    """The per-photo record (<id>.json: its image_size, its faces) of a faces.tsv row: beside its chips."""
    return Path(face["chips"]).parent / f"{face['photo_id']}.json"


def read_faces(faces_path):
    """The faces table as a list of dicts (numbers parsed)."""
    with open(faces_path, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle, delimiter="\t"))
    for face in table:
        for key in ("row", "face_index"):
            face[key] = int(face[key])
        for key in ("left", "top", "right", "bottom", "score"):
            face[key] = float(face[key])
    return table
