"""The cannot-link rule: a person is never twice in one photo."""

import numpy as np

from facecluster.tables import UNKNOWN


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
