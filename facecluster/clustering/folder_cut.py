"""A distance threshold the folder chooses: the widest gap between average linkage's merge
distances near the calibrated threshold, then a second look at the faces left alone.

A threshold calibrated on lfw-dev's pairs (false-accept rate 1e-3) splits the
people of a small folder (too strict: few pairs of different people to
confuse), and a fixed looser one merges look-alikes in a large folder. Within
a window around the calibrated value, the dendrogram's widest gap, weighted
towards the calibrated value, is where this folder's people separate
(bench/shapes.py: worst BCubed F1 over 98 folders 0.876 -> 0.915, the
median 0.971 -> 0.978). A gap well under the calibrated value splits people
whose photos vary (the cut goes no lower than a floor), and in a small folder a
face left alone is most often a person's odd photo: it joins the cluster its
faces are on average near (worst 0.915 -> 0.928, K within 10 % in 81 -> 90 %
of folders; figures of dlib's embedder).

Each constant is fitted to one embedder's distances (a CutRule, the embedder's
`cut_rule`): an embedder none is fitted to is cut at its threshold.
"""

from dataclasses import dataclass

import numpy as np

from facecluster.clustering import neighbors
from facecluster.clustering.dendrogram import dendrogram
from facecluster.clustering.labels import canonical_labels
from facecluster.photos.embedders.fitted import CutRule


@dataclass(frozen=True)
class FolderCut:
    """What folder_cut chose: the cut, the clusters as canonical labels (None without a full
    dendrogram), whether the floor set the cut, and how many lone faces joined a cluster."""

    cut: float
    labels: object = None
    floored: bool = False
    joined: int = 0
    rule: CutRule = None

    def note(self, calibrated):
        """One line for an experiment's notes."""
        if self.rule is None:
            return f"cut at the threshold {calibrated}: no folder cut is fitted to this embedder"
        if self.labels is None and self.floored:
            floor = f"the floor, {self.rule.floor} of the threshold {calibrated}"
            return f"cut at {self.cut:.4f}: {floor} (too many faces for a full dendrogram)"
        if self.labels is None:
            return f"cut at the threshold {calibrated}: too few faces for the folder's own cut"
        why = f"the floor, {self.rule.floor} of" if self.floored else "the widest gap near"
        joined = f"; {self.joined} lone faces joined a near cluster" if self.joined else ""
        return f"cut at {self.cut:.4f}: {why} the threshold {calibrated}{joined}"


def folder_cut(Y, calibrated, rule, *, linkage="average", metric="euclidean"):
    """The FolderCut of Y (n, d) by the embedder's CutRule: the cut near `calibrated` in the widest
    weighted gap of its dendrogram, no lower than the rule's floor, and the clusters that cut
    makes, lone faces joined, from one dendrogram. Without a rule (an embedder none is fitted
    to) or under 3 faces: the calibrated threshold, no labels; above neighbors.EXACT_MAX_ROWS
    faces (no full dendrogram): the floor, no labels."""
    from scipy.cluster.hierarchy import fcluster

    if rule is None or len(Y) < 3:
        return FolderCut(calibrated, rule=rule)
    if len(Y) > neighbors.EXACT_MAX_ROWS:
        # No full dendrogram; in folders this large its gap falls under the floor anyway
        # (bench/results.md: 12,607 faces, the cut at the floor).
        return FolderCut(rule.floor * calibrated, floored=True, rule=rule)
    Y = np.asarray(Y, np.float64)
    tree = dendrogram(Y, linkage=linkage, metric=metric)
    heights = tree[:, 2]
    low = rule.window[0] * calibrated
    # The window's upper end, from window[1] in a small folder towards window_large in a large one.
    large = rule.window_large
    high = calibrated * (large + (rule.window[1] - large) * min(1.0, rule.full_window_faces / len(Y)))
    edges = np.concatenate([[low], np.sort(heights[(heights > low) & (heights < high)]), [high]])
    middles = (edges[:-1] + edges[1:]) / 2
    weighted = np.diff(edges) * np.exp(-0.5 * ((middles - calibrated) / (rule.width * calibrated)) ** 2)
    gap = float(middles[int(np.argmax(weighted))])
    cut = max(gap, rule.floor * calibrated)
    labels = fcluster(tree, cut, criterion="distance")
    joined = 0
    if len(Y) <= rule.join_max_faces:
        before = labels
        labels = join_lone_faces(Y, labels, rule.join * calibrated, metric)
        joined = int((labels != before).sum())
    return FolderCut(cut, canonical_labels(labels), floored=cut > gap, joined=joined, rule=rule)


def join_lone_faces(Y, labels, limit, metric="euclidean"):
    """The labels with each face alone in its cluster moved to the cluster of two or more faces
    whose faces lie nearest it on average, when that mean distance is under `limit`. Each lone
    face is measured against the clusters as given, so the order of the faces does not matter
    and one joined face never draws in another."""
    from scipy.spatial.distance import cdist

    labels = np.asarray(labels)
    groups, sizes = np.unique(labels, return_counts=True)
    alone = np.flatnonzero(np.isin(labels, groups[sizes == 1]))
    groups = groups[sizes >= 2]
    if not len(alone) or not len(groups):
        return labels
    distances = cdist(np.asarray(Y, np.float64)[alone], np.asarray(Y, np.float64), metric=metric)
    means = np.stack([distances[:, labels == group].mean(axis=1) for group in groups], axis=1)
    nearest = means.argmin(axis=1)
    joins = means[np.arange(len(alone)), nearest] < limit
    joined = labels.copy()
    joined[alone[joins]] = groups[nearest[joins]]
    return joined
