"""Clustering with dlib_tf against dlib: a preset's experiments run on both per-photo runs.

Two per-photo runs of the same dataset (same detector, batch size and so
face order), one with embedder dlib and one with dlib_tf. Every experiment of
the preset is clustered on each (facecluster.experiment, as the workflow
does) and the assignments compared face by face.

    .venv/bin/python bench/dlib_tf_clustering.py results/lfw-dev/dlib \\
        /tmp/dlibtf/results/lfw-dev/dlib_tf --preset presets/lfw-dev.yaml

Prints the largest embedding difference over all faces, then a Markdown
table: per experiment, faces, chosen K and pairwise F1 of each, the faces
whose cluster differs, and the adjusted Rand index between the two.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import adjusted_rand_score

from facecluster.config import validate_config
from facecluster.experiment import cluster_experiment, read_assignments
from facecluster.gather import read_faces


def run(results, settings, folder):
    """Cluster one experiment on one per-photo run: (summary, {(photo id, face index): cluster})."""
    folder.mkdir(parents=True)
    summary = cluster_experiment(
        results / "embeddings.npy", results / "faces.tsv", settings,
        out_assignments=folder / "assignments.tsv", out_metrics=folder / "metrics.json",
        out_coords=folder / "coords.npy", out_table=folder / "metrics.tsv")
    clusters = {(face["photo_id"], face["face_index"]): face["cluster"]
                for face in read_assignments(folder / "assignments.tsv")}
    return summary, clusters


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dlib", type=Path, help="per-photo run with embedder dlib")
    parser.add_argument("dlib_tf", type=Path, help="per-photo run with embedder dlib_tf")
    parser.add_argument("--preset", default="presets/lfw-dev.yaml")
    args = parser.parse_args()
    faces = [[(f["photo_id"], f["face_index"]) for f in read_faces(results / "faces.tsv")]
             for results in (args.dlib, args.dlib_tf)]
    if faces[0] != faces[1]:
        raise SystemExit("the two runs do not hold the same faces in the same order")
    difference = np.abs(np.load(args.dlib / "embeddings.npy") - np.load(args.dlib_tf / "embeddings.npy"))
    print(f"{len(faces[0])} faces; largest embedding difference {difference.max():.2e}\n")
    config = validate_config(yaml.safe_load(Path(args.preset).read_text()))
    print("| experiment | faces | K dlib | K dlib_tf | pairwise F1 dlib | pairwise F1 dlib_tf "
          "| faces in another cluster | ARI between the two |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name, settings in config["experiments"].items():
            (dlib, dlib_clusters), (tf, tf_clusters) = (
                run(results, settings, Path(folder) / label / name)
                for label, results in (("dlib", args.dlib), ("dlib_tf", args.dlib_tf)))
            keys = sorted(dlib_clusters)
            moved = (sum(dlib_clusters[key] != tf_clusters[key] for key in keys)
                     if dlib_clusters.keys() == tf_clusters.keys() else "different faces")
            ari = adjusted_rand_score([dlib_clusters[key] for key in keys],
                                      [tf_clusters.get(key, -1) for key in keys])
            f1 = [summary["per_k"][str(summary["chosen_k"])]["pairwise_f1"] for summary in (dlib, tf)]
            print(f"| {name} | {len(keys)} | {dlib['chosen_k']} | {tf['chosen_k']} | {f1[0]:.4f} "
                  f"| {f1[1]:.4f} | {moved} | {ari:.4f} |")


if __name__ == "__main__":
    main()
