"""Choose an embedder's default distance threshold from a verification ROC on lfw-dev.

Every pair of faces of the gathered lfw-dev run is scored (same person from
different photos = genuine, different people = impostor). The threshold is
the largest distance at which at most a false-accept rate of impostor pairs are
accepted (facecluster.clustering.calibrate, which does the same on any labelled folder).

    .venv/bin/snakemake --cores 2 --configfile presets/lfw-dev.yaml    # embeddings first
    .venv/bin/python bench/calibrate_thresholds.py results/lfw-dev/dlib

Prints a Markdown table per metric; copy the thresholds into
the embedder's `thresholds` (e.g. facecluster/photos/embedders/dlib.py).
"""

import argparse
from pathlib import Path

import numpy as np

from facecluster.clustering.calibrate import roc_tables
from facecluster.photos.faces import read_faces


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="results/<dataset>/<model> of a labelled run")
    args = parser.parse_args()
    embeddings = np.load(args.folder / "embeddings.npy", allow_pickle=False)
    faces = read_faces(args.folder / "faces.tsv")
    labels = np.array([f.label for f in faces])
    photos = np.array([f.photo_id for f in faces])
    print(f"{len(faces)} faces of {len(set(labels))} people from {args.folder}\n")
    print("\n".join(roc_tables(embeddings, labels, photos)[1]))


if __name__ == "__main__":
    main()
