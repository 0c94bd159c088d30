"""Clustering on dlib's network run two ways: a preset's experiments run on both per-photo runs.

Two per-photo runs of the same dataset (same detector and so the same
faces), say one with dlib's own runtime (`embedder: {name: dlib, runtime:
dlib}`) and one with the numpy runtime or with dlib_tf. Every experiment of
the preset is clustered on each (facecluster.workflow.experiment, as the workflow
does) and the assignments compared face by face.

    .venv/bin/python bench/dlib_clustering.py results/lfw-dev/dlib \\
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

from facecluster.outputs.assignments import read_assignments
from facecluster.photos.faces import read_faces
from facecluster.workflow.config import validate_config
from facecluster.workflow.experiment import cluster_experiment
from facecluster.workflow.specs import resolve


def run(results, settings, folder):
    """Cluster one experiment on one per-photo run: (summary, {(photo id, face index): cluster})."""
    folder.mkdir(parents=True)
    summary = cluster_experiment(
        results / "embeddings.npy",
        results / "faces.tsv",
        settings,
        out_assignments=folder / "assignments.tsv",
        out_metrics=folder / "metrics.json",
        out_coords=folder / "coords.npy",
        out_table=folder / "metrics.tsv",
    )
    clusters = {(face.photo_id, face.face_index): face.cluster for face in read_assignments(folder / "assignments.tsv")}
    return summary, clusters


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="per-photo run with dlib's own runtime")
    parser.add_argument("other", type=Path, help="per-photo run with another runtime (numpy, dlib_tf)")
    parser.add_argument("--preset", default="presets/lfw-dev.yaml")
    args = parser.parse_args()
    runs = {"reference": args.reference, "other": args.other}
    faces = [[(f.photo_id, f.face_index) for f in read_faces(results / "faces.tsv")] for results in runs.values()]
    if faces[0] != faces[1]:
        raise SystemExit("the two runs do not hold the same faces in the same order")
    difference = np.abs(np.load(args.reference / "embeddings.npy") - np.load(args.other / "embeddings.npy"))
    print(f"{len(faces[0])} faces; largest embedding difference {difference.max():.2e}\n")
    config = validate_config(yaml.safe_load(Path(args.preset).read_text()))
    print(
        "| experiment | faces | K reference | K other | pairwise F1 reference | pairwise F1 other "
        "| faces in another cluster | ARI between the two |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name, experiment in resolve(config).experiments.items():
            settings = experiment.job_settings()
            (reference, reference_clusters), (other, other_clusters) = (
                run(results, settings, Path(folder) / label / name) for label, results in runs.items()
            )
            keys = sorted(reference_clusters)
            moved = (
                sum(reference_clusters[key] != other_clusters[key] for key in keys)
                if reference_clusters.keys() == other_clusters.keys()
                else "different faces"
            )
            ari = adjusted_rand_score(
                [reference_clusters[key] for key in keys], [other_clusters.get(key, -1) for key in keys]
            )
            f1 = [summary["per_k"][str(summary["chosen_k"])]["pairwise_f1"] for summary in (reference, other)]
            print(
                f"| {name} | {len(keys)} | {reference['chosen_k']} | {other['chosen_k']} | {f1[0]:.4f} "
                f"| {f1[1]:.4f} | {moved} | {ari:.4f} |"
            )


if __name__ == "__main__":
    main()
