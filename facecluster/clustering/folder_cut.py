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
    from scipy.cluster.hierarchy import linkage as linkage_tree

    from facecluster.clustering.cluster import canonical_labels

    if rule is None or len(Y) < 3:
        return FolderCut(calibrated, rule=rule)
    if len(Y) > neighbors.EXACT_MAX_ROWS:
        # No full dendrogram; in folders this large its gap falls under the floor anyway
        # (bench/results.md, issue 25: 12,607 faces, the cut at the floor).
        return FolderCut(rule.floor * calibrated, floored=True, rule=rule)
    Y = np.asarray(Y, np.float64)
    tree = linkage_tree(Y, method=linkage, metric=metric)
    heights = tree[:, 2]
    low = rule.window[0] * calibrated
    high = calibrated * (1 + (rule.window[1] - 1) * min(1.0, rule.full_window_faces / len(Y)))
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


def join_split_persons(Y, labels, photo_ids, *, min_photos, limit, large_photos=0, metric="euclidean"):
    """(labels, how many joins): persons, clusters holding faces of at least `min_photos`
    photos, joined two at a time while the nearest two lie under `limit` apart on average, share
    no photo, and one of them holds faces of `large_photos` photos at least.

    The folder's cut has to be strict among thousands of strangers seen once, and so splits a
    person seen in hundreds of photos into a large cluster and fragments of a few photos each
    (a burst, a blurred series). Between two persons the mean over all their pairs of faces is a
    far surer measure than the single pairs the cut weighs, and a person is never twice in a
    photo; faces in no person's cluster take no part, so strangers cannot chain. Two persons of a
    few photos each are left as the cut made them: among lfw-dev's 2,879 people the few such
    pairs under the limit were two people (bench/results.md, issue 25). "On average":
    the root mean square of the Euclidean distances, the mean of the cosine ones, both exact
    from each person's sums (a library's persons hold hundreds of thousands of faces).
    """
    from scipy.sparse import csr_matrix

    labels = np.asarray(labels).copy()
    photo_codes = np.unique(np.asarray(photo_ids), return_inverse=True)[1]
    # The photos of each cluster, counted at once: a library's clusters are mostly single faces.
    known = labels >= 0
    pairs = np.unique(labels[known].astype(np.int64) * (photo_codes.max() + 1) + photo_codes[known])
    clusters, photos_each = np.unique(pairs // (photo_codes.max() + 1), return_counts=True)
    persons, photo_counts = clusters[photos_each >= min_photos], photos_each[photos_each >= min_photos]
    if len(persons) < 2:
        return labels, 0
    points = neighbors.prepare(Y, metric).astype(np.float64)  # cosine: unit rows
    members = [labels == g for g in persons]
    sizes = np.array([m.sum() for m in members], np.float64)
    sums = np.stack([points[m].sum(axis=0) for m in members])
    squares = np.array([(points[m] ** 2).sum() for m in members])
    rows = np.concatenate([np.full(int(n), i) for i, n in enumerate(sizes)])
    photos = csr_matrix((np.ones(len(rows)), (rows, np.concatenate([photo_codes[m] for m in members]))))
    shared = (photos @ photos.T).toarray() > 0
    small = photo_counts < large_photos

    def mean_distances(a):
        """The mean distance of person a to every person."""
        cross = sums @ sums[a] / (sizes * sizes[a])
        if metric == "cosine":
            return 1 - cross
        return np.sqrt(np.maximum(squares / sizes + squares[a] / sizes[a] - 2 * cross, 0))

    distances = np.stack([mean_distances(a) for a in range(len(persons))])
    distances[shared | np.outer(small, small)] = np.inf  # the diagonal too
    alive = np.ones(len(persons), bool)
    joined = 0
    while True:
        a, b = np.unravel_index(np.argmin(distances), distances.shape)
        if distances[a, b] >= limit:
            return labels, joined
        labels[labels == persons[b]] = persons[a]
        sizes[a], sums[a], squares[a] = sizes[a] + sizes[b], sums[a] + sums[b], squares[a] + squares[b]
        alive[b] = False
        small[a] = photo_counts[a] + photo_counts[b] < large_photos
        photo_counts[a] += photo_counts[b]
        shared[a] |= shared[b]
        shared[:, a] = shared[a]
        blocked = shared[a] | ~alive | (small & small[a])
        distances[a] = distances[:, a] = np.where(blocked, np.inf, mean_distances(a))
        distances[b] = distances[:, b] = np.inf
        joined += 1
