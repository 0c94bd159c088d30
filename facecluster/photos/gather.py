"""Gathering a dataset's batches into one ledger and one embeddings matrix per model.

Outputs (the per-photo stage's public output):
    ledger.tsv       one row per file found (see facecluster.photos.ledger)
    embeddings.npy   (faces, dim) float32, one row per face of every embedded photo
    faces.tsv        which row is which (see facecluster.photos.faces)
"""

import json
from pathlib import Path

import numpy as np

from facecluster.photos.faces import Face, write_faces
from facecluster.photos.ledger import read_ledger, write_ledger


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
                chips = str(batch_dir / f"{row.id}.chips.npy")
                faces.append(Face(len(faces), row.id, row.path, row.label, index, *face["box"], face["score"], chips))
            vectors.append(embeddings)
    write_ledger(ledger_path, rows)
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32)
    np.save(embeddings_path, matrix.astype(np.float32), allow_pickle=False)
    write_faces(faces_path, faces)
    return rows
