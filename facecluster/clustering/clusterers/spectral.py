"""Spectral clustering of the nearest-neighbour graph."""

import numpy as np

from facecluster.clustering.clusterers import CLUSTERERS, NEIGHBORS, Clusterer, require_faces
from facecluster.clustering.labels import canonical_labels


@CLUSTERERS.register
class Spectral(Clusterer):
    name = "spectral"
    description = "spectral clustering of the nearest-neighbour graph (needs k)"
    takes_k = "required"
    settings = {**NEIGHBORS}

    @classmethod
    def cluster(cls, Y, k, spec):
        return spectral(Y, k=k, n_neighbors=spec.settings["neighbors"], seed=spec.seed)


def spectral(Y, *, k, n_neighbors=10, seed=0) -> np.ndarray:
    """Spectral clustering of a k-nearest-neighbour graph into k clusters.

    Robust to the odd outlier face that makes linkage methods spend a cluster
    on it. Y: (n, d). Returns (n,) int64 canonical labels.
    """
    from sklearn.cluster import SpectralClustering

    Y = np.asarray(Y)
    require_faces(Y, "spectral clustering")
    if k == len(Y):  # the one partition into n clusters, which the eigensolver cannot reach (k < n)
        return np.arange(len(Y), dtype=np.int64)
    model = SpectralClustering(
        n_clusters=k,
        affinity="nearest_neighbors",
        n_neighbors=min(n_neighbors, len(Y) - 1),
        assign_labels="cluster_qr",
        random_state=seed,
    )
    return canonical_labels(model.fit_predict(Y))
