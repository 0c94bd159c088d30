"""Choosing K among a sweep's clusterings.

silhouette, davies_bouldin and calinski_harabasz score each K's clusters
(facecluster.clustering.metrics.best_k_by_score); `threshold` takes the K nearest the number of
people found without K (average linkage cut near the embedder's calibrated
distance, facecluster.clustering.folder_cut): the shape sweep (bench/shapes.py) shows
silhouette prefers too few, coarse clusters of faces, while the calibrated
distance, a property of the embedder, holds across folders.
"""

import numpy as np

from facecluster.clustering.clusterers.agglomerative import agglomerative
from facecluster.clustering.folder_cut import folder_cut
from facecluster.clustering.metrics import best_k_by_score, evaluate_sweep

BY_THRESHOLD = "threshold"


def choose_k(Y, labels_by_k, spec, scores=None) -> tuple[int, list[str]]:
    """(K, notes): the K of `labels_by_k` ({K: (n,) labels} of points Y) chosen as the SortSpec
    `spec` says (its choose_k_by; by threshold, its choose_k_threshold, metric and cut_rule).

    The one K of a single clustering; by a score, the best of `scores` ({K: scores}, the
    sweep's evaluate_sweep; computed when None), the smallest K with a note when no K has
    that score. ValueError when choosing by threshold without one.
    """
    if len(labels_by_k) == 1:
        return next(iter(labels_by_k)), []
    if spec.choose_k_by == BY_THRESHOLD:
        if spec.choose_k_threshold is None:
            raise ValueError("choosing K by threshold needs the embedder's calibrated threshold")
        return k_nearest(labels_by_k, people_without_k(Y, spec.choose_k_threshold, spec.cut_rule, spec.metric)), []
    try:
        return best_k_by_score(evaluate_sweep(Y, None, labels_by_k) if scores is None else scores, spec.choose_k_by), []
    except ValueError as exc:
        return min(labels_by_k), [f"{exc}; using the smallest K"]


def people_without_k(Y, threshold, rule, metric="euclidean"):
    """How many people K not given finds in the points Y: average linkage cut in the folder's gap
    near `threshold`, lone faces joined, by the embedder's CutRule (facecluster.clustering.folder_cut). The
    sweep's clusters at that K are the dendrogram's cut at K, which joins no lone face: the two
    can differ a little."""
    chosen = folder_cut(Y, threshold, rule, metric=metric)
    labels = chosen.labels
    if labels is None:
        labels = agglomerative(Y, distance_threshold=chosen.cut, metric=metric)
    return len(np.unique(labels))


def k_nearest(labels_by_k, target):
    """The K of the sweep nearest `target` (the smaller on a tie)."""
    return min(sorted(labels_by_k), key=lambda k: abs(k - target))
