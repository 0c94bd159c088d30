"""dlib's network run by onnxruntime, numpy and TensorFlow (dlib_tf), against dlib's own runtime, on lfw-dev chips.

The chips are dlib's own 150 px chips of a per-photo run of lfw-dev (spread
evenly over its faces); dlib's `compute_face_descriptor`, the onnx and numpy
runtimes and the converted TensorFlow network each embed them, and
the largest absolute difference to dlib's is printed (acceptance: under 1e-4).

    .venv/bin/snakemake --cores 2 --configfile presets/lfw-dev.yaml results/lfw-dev/dlib/faces.tsv
    .venv/bin/python bench/dlib_equality.py results/lfw-dev/dlib --chips 500
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from facecluster.outputs.assignments import LazyChips
from facecluster.photos.faces import read_faces


def sample_chips(results, count):
    """`count` chips (count, 150, 150, 3) uint8 spread evenly over the faces of a per-photo run."""
    faces = read_faces(Path(results) / "faces.tsv")
    rows = np.linspace(0, len(faces) - 1, count).round().astype(int)
    chips = LazyChips([faces[row] for row in rows])
    return np.stack([chips[i] for i in range(count)])


def dlib_embedder(folder, threads=1, **settings):
    """The embedder of `embedder: settings`, its model files made in `folder`."""
    from facecluster.photos.embedders import make_embedder
    from facecluster.workflow.config import validated_model
    from facecluster.workflow.plan import prepare_model_files

    model = validated_model({"detector": {"name": "none"}, "embedder": settings})
    return make_embedder(model["embedder"], prepare_model_files(model, folder)["embedder"], threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a per-photo run of the dlib model, e.g. results/lfw-dev/dlib")
    parser.add_argument("--chips", type=int, default=500)
    args = parser.parse_args()
    chips = sample_chips(args.results, args.chips)
    with tempfile.TemporaryDirectory() as folder:
        dlib = dlib_embedder(folder, name="dlib", runtime="dlib").embed(chips)
        runtimes = {
            "onnx": dlib_embedder(folder, name="dlib", runtime="onnx").embed(chips),
            "numpy": dlib_embedder(folder, name="dlib", runtime="numpy").embed(chips),
            "TensorFlow (dlib_tf)": dlib_embedder(folder, threads=2, name="dlib_tf").embed(chips),
        }
    print("| runtime | chips | max abs difference to dlib | mean abs difference | largest descriptor value |")
    print("|---|---|---|---|---|")
    for name, ours in runtimes.items():
        difference = np.abs(ours - dlib)
        print(
            f"| {name} | {len(chips)} | {difference.max():.2e} | {difference.mean():.2e} | {np.abs(dlib).max():.3f} |"
        )


if __name__ == "__main__":
    main()
