"""Clustering on a neighbour graph, and the cannot-link rule.

Both work on sparse structures, so memory grows with the number of faces
times neighbours, never with its square.
"""

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from facecluster.tables import UNKNOWN


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


def enforce_cannot_link(labels, photo_ids, points):
    """Never two faces of one photo in one cluster.

    labels: (n,) int, -1 unknown; photo_ids: (n,) the photo of each face;
    points: (n, d) the space the clusters were made in. Where a photo has
    several faces in a cluster, the face nearest the cluster's mean stays and
    the others leave, each to a cluster of its own. Returns (labels, moved).
    """
    labels = np.asarray(labels, np.int64).copy()
    _, photo_codes = np.unique(np.asarray(photo_ids), return_inverse=True)
    known = np.flatnonzero(labels != UNKNOWN)
    # One int64 per (cluster, photo) pair: np.unique over rows (axis=0) is 10x slower.
    pairs = labels[known] * len(photo_codes) + photo_codes[known]
    _, inverse, counts = np.unique(pairs, return_inverse=True, return_counts=True)
    crowded = known[counts[inverse] > 1]
    next_label = labels.max() + 1 if len(labels) else 0
    moved = 0
    for cluster, photo in sorted({(labels[i], photo_codes[i]) for i in crowded}):
        faces = crowded[(labels[crowded] == cluster) & (photo_codes[crowded] == photo)]
        centre = points[labels == cluster].mean(axis=0)
        keeper = faces[np.argmin(np.linalg.norm(points[faces] - centre, axis=1))]
        for face in faces[faces != keeper]:
            labels[face] = next_label
            next_label += 1
            moved += 1
    return labels, moved
