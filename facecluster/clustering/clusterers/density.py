"""Density-based clustering: DBSCAN and HDBSCAN; faces in no dense region are left out (-1)."""

import numpy as np

from facecluster.clustering import neighbors
from facecluster.clustering.clusterers import CLUSTERERS, METRIC, MIN_SAMPLES, Clusterer, require_faces
from facecluster.clustering.labels import canonical_labels


@CLUSTERERS.register
class Dbscan(Clusterer):
    name = "dbscan"
    description = "DBSCAN with eps = the threshold"
    takes_threshold = True
    settings = {**METRIC, **MIN_SAMPLES}

    @classmethod
    def find(cls, Y, spec, notes):
        labels = density(
            Y, method="dbscan", threshold=spec.threshold, metric=spec.metric, min_samples=spec.settings["min_samples"]
        )
        return labels, spec.threshold


@CLUSTERERS.register
class Hdbscan(Clusterer):
    name = "hdbscan"
    description = "HDBSCAN"
    settings = {
        "min_cluster_size": {
            "type": "integer",
            "minimum": 2,
            "default": 2,
            "description": "smallest cluster",
        },
        **METRIC,
        **MIN_SAMPLES,
    }

    @classmethod
    def find(cls, Y, spec, notes):
        labels = density(
            Y,
            method="hdbscan",
            metric=spec.metric,
            min_samples=spec.settings["min_samples"],
            min_cluster_size=spec.settings["min_cluster_size"],
        )
        return labels, None  # a density per cluster, no one distance

    @classmethod
    def describe_cut(cls, settings):
        return f"min_cluster_size {settings['min_cluster_size']}, min_samples {settings['min_samples']}"


def density(Y, *, method, threshold=None, min_samples=1, min_cluster_size=2, metric="euclidean"):
    """DBSCAN (eps = threshold) or HDBSCAN; faces in no cluster get -1 (unknown).

    Y: (n, d). Returns (n,) int64 canonical labels.
    """
    from sklearn.cluster import DBSCAN, HDBSCAN

    Y = np.asarray(Y)
    require_faces(Y, method)
    points = neighbors.prepare(Y, metric)  # cosine as Euclidean on unit vectors
    if method == "dbscan":
        eps = np.sqrt(2 * threshold) if metric == "cosine" else threshold
        model = DBSCAN(eps=eps, min_samples=min_samples)
    else:
        model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples)
    return canonical_labels(model.fit_predict(points))
