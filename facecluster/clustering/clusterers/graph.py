"""Graph clustering: faces linked to their near neighbours, the graph split into people.

The graph is sparse, so memory grows with the number of faces times neighbours, never with its
square.
"""

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from facecluster.clustering import neighbors
from facecluster.clustering.clusterers import CLUSTERERS, METRIC, NEIGHBORS, Clusterer, require_faces
from facecluster.clustering.labels import canonical_labels


@CLUSTERERS.register
class Graph(Clusterer):
    name = "graph"
    description = "Chinese whispers (dlib's method) or connected components over the thresholded neighbour graph"
    takes_threshold = True
    settings = {
        "algorithm": {
            "enum": ["chinese_whispers", "components"],
            "default": "chinese_whispers",
            "description": "how the graph is split",
        },
        **METRIC,
        **NEIGHBORS,
    }

    @classmethod
    def find(cls, Y, spec, notes):
        labels = neighbor_graph(
            Y,
            threshold=spec.threshold,
            n_neighbors=spec.settings["neighbors"],
            metric=spec.metric,
            algorithm=spec.settings["algorithm"],
            seed=spec.seed,
        )
        return labels, spec.threshold

    @classmethod
    def describe_method(cls, settings):
        return f"graph ({settings['algorithm']}, {settings['neighbors']} neighbours)"


def neighbor_graph(
    Y, *, threshold, n_neighbors=10, metric="euclidean", algorithm="chinese_whispers", seed=0
) -> np.ndarray:
    """Link each face to its nearest neighbours closer than threshold; cluster the graph.

    algorithm: chinese_whispers or components. Y: (n, d). Returns (n,) int64 canonical labels.
    """
    Y = np.asarray(Y)
    require_faces(Y, "graph clustering")
    distances, indices = neighbors.knn(Y, n_neighbors, metric=metric, seed=seed)
    linked = neighbors.radius_graph(distances, indices, threshold)
    if algorithm == "components":
        return canonical_labels(components(linked))
    return canonical_labels(chinese_whispers(linked, seed=seed))


def adjacency(indices):
    """Symmetric sparse (n, n) 0/1 graph from (n, k) neighbour indices (-1 = none)."""
    n = len(indices)
    rows = np.repeat(np.arange(n), indices.shape[1])
    cols = indices.ravel()
    keep = cols >= 0
    linked = csr_matrix((np.ones(keep.sum()), (rows[keep], cols[keep])), shape=(n, n))
    return linked.maximum(linked.T).tocsr()


def components(graph):
    """(n,) labels: the connected components of a sparse (n, n) graph."""
    return connected_components(graph, directed=False)[1].astype(np.int64)


def chinese_whispers(graph, *, seed=0, max_iterations=30):
    """(n,) labels by Chinese whispers (Biemann 2006), the method of dlib's face clustering.

    Every face starts in its own cluster and repeatedly takes the label most
    common among its neighbours. Half the faces, drawn at random (seeded),
    update at each step, which avoids the oscillation of fully synchronous
    updates while staying vectorised; ties go to the smallest label.
    """
    coo = graph.tocoo()
    rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
    n = graph.shape[0]
    labels = np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    for _ in range(max_iterations):
        best = _majority_label(rows, labels[cols], n, fallback=labels)
        if (best == labels).all():
            break
        labels = np.where(rng.random(n) < 0.5, best, labels)
    return labels


def _majority_label(rows, neighbor_labels, n, fallback):
    """For each row, the neighbour label with most edges (smallest on ties); fallback if none."""
    keys = rows * n + neighbor_labels
    unique_keys, counts = np.unique(keys, return_counts=True)
    key_rows, key_labels = unique_keys // n, unique_keys % n
    # Sort by row, then count descending, then label ascending: first per row wins.
    order = np.lexsort((key_labels, -counts, key_rows))
    first = np.ones(len(order), bool)
    first[1:] = key_rows[order][1:] != key_rows[order][:-1]
    winners = order[first]
    best = fallback.copy()
    best[key_rows[winners]] = key_labels[winners]
    return best
