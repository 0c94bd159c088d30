"""Find a person: query photos in, every photo of the folder holding that person out.

An experiment's `find` folder holds one sub-folder per query (its name, the query's),
each with one or more photos of the person sought; it is processed like any dataset.
The person is the one (as assignments.tsv names them) holding most of the folder's
faces within the calibrated distance of a query face; their photos are ranked by
the distance of their nearest face to a query face.

find/
  summary.tsv        query, person, photos, note (why nothing was found)
  <query>.tsv        rank, path, face_index, distance, person: one row per photo
  <query>.png        the ranked faces on one contact sheet
"""

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from facecluster.naming.known import KnownPeople
from facecluster.outputs import plots, sheets
from facecluster.outputs.assignments import LazyChips, read_assignments
from facecluster.tables import OTHERS, tsv_writer

SHEET_FACES = 500  # the contact sheet shows the nearest ones


def find_people(queries, assignments_path, embeddings_path, threshold, out_dir):
    """queries: {"embeddings", "faces", "ledger"} paths of the processed find folder."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    folder_faces = read_assignments(assignments_path)
    X = np.load(embeddings_path, allow_pickle=False)[[face.row for face in folder_faces]]
    reference, names = KnownPeople.read(queries)
    distances = reference.distances(X)
    summary = []
    for name in names:
        rows = [i for i, query in enumerate(reference.names) if query == name]
        if not rows:
            note = "no face found in the query photos (see the find dataset's ledger)"
            summary.append(_empty(out_dir, name, note))
            continue
        distance = distances[:, rows].min(axis=1)
        summary.append(_one_query(out_dir, name, folder_faces, distance, threshold))
    with open(out_dir / "summary.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = tsv_writer(handle)
        writer.writerow(["query", "person", "photos", "note"])
        writer.writerows(summary)
    return summary


def _one_query(out_dir, name, faces, distance, threshold):
    votes = Counter(faces[i].person for i in np.flatnonzero(distance < threshold) if faces[i].person != OTHERS)
    if not votes:
        return _empty(out_dir, name, f"no face of the folder within distance {threshold} of the query")
    person = votes.most_common(1)[0][0]
    best = defaultdict(lambda: None)  # photo -> its face of this person nearest a query face
    for i, face in enumerate(faces):
        if face.person == person and (best[face.photo_id] is None or distance[i] < distance[best[face.photo_id]]):
            best[face.photo_id] = i
    ranked = sorted(best.values(), key=lambda i: (distance[i], faces[i].path))
    with open(out_dir / f"{name}.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = tsv_writer(handle)
        writer.writerow(["rank", "path", "face_index", "distance", "person"])
        for rank, i in enumerate(ranked, start=1):
            writer.writerow([rank, faces[i].path, faces[i].face_index, round(float(distance[i]), 4), person])
    chips = LazyChips([faces[i] for i in ranked])
    shown = [chips[k] for k in range(min(len(chips), SHEET_FACES))]
    sheets.face_grid(out_dir / f"{name}.png", shown, title=f"{name}: {person}, {len(ranked)} photos, nearest first")
    return [name, person, len(ranked), ""]


def _empty(out_dir, name, note):
    """An empty table and a sheet saying why, so every query has its two files."""
    with open(out_dir / f"{name}.tsv", "w", newline="", encoding="utf-8") as handle:
        tsv_writer(handle).writerow(["rank", "path", "face_index", "distance", "person"])
    plots.message(out_dir / f"{name}.png", title=f"{name}: not found", message=note)
    return [name, "", 0, note]
