"""dlib's network run by numpy and by TensorFlow (dlib_tf), against dlib's own runtime, on lfw-dev face chips.

The chips are dlib's own 150 px chips of a per-photo run of lfw-dev (spread
evenly over its faces); dlib's `compute_face_descriptor`, the numpy runtime
and the converted TensorFlow network each embed them, and the largest
absolute difference to dlib's is printed (acceptance: under 1e-4).

    .venv/bin/snakemake --cores 2 --configfile presets/lfw-dev.yaml results/lfw-dev/dlib/faces.tsv
    .venv/bin/python bench/dlib_equality.py results/lfw-dev/dlib --chips 500
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from facecluster.experiment import LazyChips
from facecluster.gather import read_faces


def sample_chips(results, count):
    """`count` chips (count, 150, 150, 3) uint8 spread evenly over the faces of a per-photo run."""
    faces = read_faces(Path(results) / "faces.tsv")
    rows = np.linspace(0, len(faces) - 1, count).round().astype(int)
    chips = LazyChips([faces[row] for row in rows])
    return np.stack([chips[i] for i in range(count)])


def converted_model(folder):
    """dlib's network converted into `folder`, as rule convert_dlib_tf does: the model's path."""
    from facecluster.dlib_tf import convert

    path = Path(folder) / "dlib_face_recognition_resnet_model_v1.keras"
    convert(path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a per-photo run of the dlib model, e.g. results/lfw-dev/dlib")
    parser.add_argument("--chips", type=int, default=500)
    args = parser.parse_args()
    chips = sample_chips(args.results, args.chips)
    from facecluster.embed import DlibEmbedder, DlibTfEmbedder

    dlib = DlibEmbedder(runtime="dlib").embed(chips)
    with tempfile.TemporaryDirectory() as folder:
        runtimes = {
            "numpy": DlibEmbedder(runtime="numpy").embed(chips),
            "TensorFlow (dlib_tf)": DlibTfEmbedder(converted_model(folder), threads=2).embed(chips),
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
