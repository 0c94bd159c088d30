"""Choose an embedder's default distance threshold from a verification ROC on lfw-dev.

Every pair of faces of the gathered lfw-dev run is scored (same person from
different photos = genuine, different people = impostor). The threshold is
the largest distance at which at most `--far` of impostor pairs are accepted.

    .venv/bin/snakemake --cores 2 --configfile presets/lfw-dev.yaml    # embeddings first
    .venv/bin/python bench/calibrate_thresholds.py results/lfw-dev/dlib

Prints a Markdown table per metric; copy the thresholds into
the embedder's `thresholds` (e.g. facecluster/embedders/dlib.py).
"""

import argparse
from pathlib import Path

import numpy as np

from facecluster.gather import read_faces
from facecluster.neighbors import prepare, to_metric

FARS = (1e-2, 1e-3, 1e-4)


def pair_distances(points, labels, photos, block=1024):
    """(genuine distances, impostor distances) over all pairs i < j, a block of rows at a time."""
    points = points.astype(np.float64)
    squares = (points**2).sum(axis=1)
    genuine, impostor = [], []
    for start in range(0, len(points), block):
        stop = min(start + block, len(points))
        squared = squares[start:stop, None] + squares[None, start:] - 2 * points[start:stop] @ points[start:].T
        rows, cols = np.triu_indices(stop - start, 1, m=len(points) - start)
        values = np.sqrt(np.maximum(squared[rows, cols], 0))
        rows, cols = rows + start, cols + start
        same = labels[rows] == labels[cols]
        genuine.append(values[same & (photos[rows] != photos[cols])])
        impostor.append(values[~same])
    return np.concatenate(genuine), np.concatenate(impostor)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="results/<dataset>/<model> of a labelled run")
    args = parser.parse_args()
    embeddings = np.load(args.folder / "embeddings.npy", allow_pickle=False)
    faces = read_faces(args.folder / "faces.tsv")
    labels = np.array([f["label"] for f in faces])
    photos = np.array([f["photo_id"] for f in faces])
    print(f"{len(faces)} faces of {len(set(labels))} people from {args.folder}\n")
    for metric in ("euclidean", "cosine"):
        points = prepare(embeddings, metric)
        genuine, impostor = pair_distances(points, labels, photos)
        genuine, impostor = to_metric(genuine, metric), to_metric(impostor, metric)
        print(f"## {metric}: {len(genuine):,} genuine pairs, {len(impostor):,} impostor pairs\n")
        print("| false-accept rate | threshold | true-accept rate |\n|---:|---:|---:|")
        for far in FARS:
            threshold = np.quantile(impostor, far, method="lower")
            print(f"| {far:g} | {threshold:.4f} | {np.mean(genuine <= threshold):.4f} |")
        print()


if __name__ == "__main__":
    main()
