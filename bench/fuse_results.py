"""The fusion embedder's per-photo results of a labelled run, from its members' (issue 24).

Both members' runs (`presets/lfw-dev.yaml`'s models dlib and intel_reid: the same detector, so
the same faces in the same order) are joined face by face as the `fusion` embedder joins them
(facecluster.photos.embedders.fusion.fuse): what `snakemake --configfile presets/lfw-dev.yaml
results/lfw-dev/fusion/embeddings.npy` makes, without running either network again.

    .venv/bin/python bench/fuse_results.py results/lfw-dev/dlib results/lfw-dev/intel_reid results/lfw-dev/fusion
"""

import argparse
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facecluster.photos.embedders.fusion import fuse  # noqa: E402
from facecluster.photos.faces import read_faces  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dlib", type=Path, help="results/<dataset>/<model> of dlib's run")
    parser.add_argument("intel_reid", type=Path, help="the same of intel_reid's run")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    faces = [
        [replace(face, chips="") for face in read_faces(folder / "faces.tsv")]
        for folder in (args.dlib, args.intel_reid)
    ]
    if faces[0] != faces[1]:
        sys.exit("the two runs found different faces (another detector or photos?): they cannot be joined")
    members = [np.load(folder / "embeddings.npy", allow_pickle=False) for folder in (args.dlib, args.intel_reid)]
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "embeddings.npy", fuse(members), allow_pickle=False)
    for name in ("faces.tsv", "ledger.tsv"):  # faces.tsv's chips: dlib's chips files
        shutil.copyfile(args.dlib / name, args.out / name)
    print(f"{len(members[0])} faces joined into {args.out}")


if __name__ == "__main__":
    main()
