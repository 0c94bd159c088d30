"""Choosing K among a sweep's clusterings.

silhouette, davies_bouldin and calinski_harabasz score each K's clusters
(facecluster.clustering.metrics.choose_k); `threshold` takes the K nearest the number of
people found without K (average linkage cut near the embedder's calibrated
distance, facecluster.clustering.folder_cut): the shape sweep (bench/shapes.py) shows
silhouette prefers too few, coarse clusters of faces, while the calibrated
distance, a property of the embedder, holds across folders.
"""

import numpy as np

from facecluster.clustering.cluster import agglomerative, evaluate_sweep
from facecluster.clustering.folder_cut import folder_cut
from facecluster.clustering.metrics import choose_k as choose_by_score

BY_THRESHOLD = "threshold"


def choose_k(Y, labels_by_k, how, threshold=None, metric="euclidean", rule=None):
    """The K of `labels_by_k` ({K: (n,) labels} of points Y) chosen `how`; ValueError when none can be.

    `threshold`, `rule`: the embedder's calibrated distance in `metric` and its CutRule (None:
    cut at the threshold), for `how` threshold.
    """
    if how != BY_THRESHOLD:
        return choose_by_score(evaluate_sweep(Y, None, labels_by_k), how)
    if threshold is None:
        raise ValueError("choosing K by threshold needs the embedder's calibrated threshold")
    return k_nearest(labels_by_k, people_without_k(Y, threshold, rule, metric))


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
