"""How the K-free clusterers scale: synthetic faces, time and peak memory.

Synthetic embeddings: a mixture of many tight clusters on the unit sphere
(identities), shaped like dlib's 128-D descriptors (same-person distances
well under, different-person distances well over the calibrated threshold).

    .venv/bin/python bench/cluster_scale.py --faces 1000000 --method agglomerative

Prints a Markdown table row: faces, method, seconds, peak RSS, pairwise F1,
BCubed F1. Each size runs in a fresh process, so peak memory is its own.
"""

import argparse
import resource
import time

import numpy as np

from facecluster.clustering.clusterers.agglomerative import agglomerative
from facecluster.clustering.clusterers.graph import neighbor_graph
from facecluster.clustering.metrics import external_metrics
from facecluster.photos.embedders import EMBEDDERS


def synthetic_faces(n_faces, faces_per_person=10, dim=128, spread=0.022, seed=0):
    """(n, dim) float32 points around n/faces_per_person random centres on the sphere, and labels."""
    rng = np.random.default_rng(seed)
    people = max(1, n_faces // faces_per_person)
    centres = rng.standard_normal((people, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, people, n_faces)
    points = centres[labels] + spread * rng.standard_normal((n_faces, dim)).astype(np.float32)
    return points, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--method", choices=["agglomerative", "graph"], default="agglomerative")
    args = parser.parse_args()
    points, labels = synthetic_faces(args.faces)
    threshold = EMBEDDERS["dlib"].thresholds["euclidean"]
    start = time.perf_counter()
    if args.method == "agglomerative":
        found = agglomerative(points, distance_threshold=threshold)
    else:
        found = neighbor_graph(points, threshold=threshold)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    scores = external_metrics(labels, found)
    print(
        f"| {args.faces:,} | {args.method} | {seconds:.0f} | {peak_gb:.1f} | "
        f"{scores['pairwise_f1']:.3f} | {scores['bcubed_f1']:.3f} |"
    )


if __name__ == "__main__":
    main()
