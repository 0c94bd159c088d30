"""Hierarchical (agglomerative) clustering, cut at K clusters or at a distance threshold."""

import numpy as np

from facecluster.clustering import neighbors
from facecluster.clustering.clusterers import CLUSTERERS, METRIC, NEIGHBORS, Clusterer, require_faces
from facecluster.clustering.clusterers.graph import adjacency, components
from facecluster.clustering.dendrogram import dendrogram
from facecluster.clustering.folder_cut import folder_cut
from facecluster.clustering.labels import canonical_labels


@CLUSTERERS.register
class Agglomerative(Clusterer):
    name = "agglomerative"
    description = "agglomerative clustering cut at k clusters, or at a distance threshold (K found)"
    takes_k = "optional"
    takes_threshold = True
    places_new_faces = True
    settings = {
        "linkage": {
            "enum": ["average", "complete", "single"],
            "default": "average",
            "description": "how the distance between two clusters is measured",
        },
        "cut": {
            "enum": ["gap", "threshold"],
            "default": "gap",
            "description": "without k: cut the dendrogram in its widest gap near the threshold, no lower "
            "than a floor, then in a small folder a face left alone joins the cluster it is near on average "
            "(the folder chooses, by constants fitted to the embedder: for dlib a floor of 0.98 of the "
            "threshold, a join within 1.0625x it in folders of at most 200 faces; measured with Euclidean "
            "distance and average linkage, bench/shapes.py; an embedder none are fitted to is cut at the "
            "threshold; above 20,000 faces, with no full dendrogram, at the floor), then persons the cut split "
            "are joined where the embedder's constants say (intel_reid: docs/people.md); or exactly at the "
            "threshold",
        },
        **METRIC,
        # Used above 20,000 faces only. A burst of near-identical shots fills a face's 10 nearest
        # with itself and the person splits into islands; 50 reach past it (bench/results.md).
        "neighbors": {**NEIGHBORS["neighbors"], "default": 50},
    }

    @classmethod
    def sweep(cls, Y, ks, spec, notes):
        if len(Y) > neighbors.EXACT_MAX_ROWS:  # merges follow the neighbour graph, a tree per K
            return super().sweep(Y, ks, spec, notes)
        notes.extend(f"K={k} skipped: only {len(Y)} faces" for k in ks if k > len(Y))
        return agglomerative_sweep(Y, ks, linkage=spec.settings["linkage"], metric=spec.metric)

    @classmethod
    def cluster(cls, Y, k, spec):
        return cls._cut(Y, spec, k=k)

    @classmethod
    def find(cls, Y, spec, notes):
        threshold = spec.threshold
        if spec.settings["cut"] == "gap":
            chosen = folder_cut(Y, threshold, spec.cut_rule, linkage=spec.settings["linkage"], metric=spec.metric)
            notes.append(chosen.note(threshold))
            if chosen.labels is not None:  # cut from the dendrogram that chose the cut, not built again
                return chosen.labels, chosen.cut
            threshold = chosen.cut
        return cls._cut(Y, spec, distance_threshold=threshold), threshold

    @classmethod
    def cut_at(cls, Y, cut, spec):
        return cls._cut(Y, spec, distance_threshold=cut)

    @staticmethod
    def _cut(Y, spec, **where):
        """agglomerative() with the spec's settings, cut `where` says (k or distance_threshold)."""
        linkage, neighbours = spec.settings["linkage"], spec.settings["neighbors"]
        return agglomerative(Y, **where, linkage=linkage, metric=spec.metric, n_neighbors=neighbours, seed=spec.seed)

    @classmethod
    def describe_method(cls, settings):
        return f"agglomerative ({settings['linkage']} linkage)"


def agglomerative(
    Y, *, k=None, distance_threshold=None, linkage="average", metric="euclidean", n_neighbors=10, seed=0
) -> np.ndarray:
    """Hierarchical clustering cut at k clusters or at distance_threshold (exactly one).

    Y: (n, d) coordinates. Up to neighbors.EXACT_MAX_ROWS faces every pair is
    considered (memory n**2). Beyond that, with a threshold, the faces are
    first split into the connected components of their nearest-neighbour
    graph cut at the threshold: no linkage (single, average or complete) can
    merge two groups with no pair under the threshold, so each component is
    clustered on its own, and memory stays linear. With k, merges follow the
    nearest-neighbour graph. Returns (n,) int64 canonical labels.
    """
    from sklearn.cluster import AgglomerativeClustering

    if (k is None) == (distance_threshold is None):
        raise ValueError("give exactly one of k and distance_threshold")
    Y = np.asarray(Y)
    require_faces(Y, "agglomerative clustering")
    if k is not None and not 1 <= k <= len(Y):
        raise ValueError(f"k must be between 1 and the number of faces ({len(Y)}), got {k}")
    if len(Y) <= neighbors.EXACT_MAX_ROWS:
        model = AgglomerativeClustering(
            n_clusters=k, distance_threshold=distance_threshold, linkage=linkage, metric=metric
        )
        return canonical_labels(model.fit_predict(Y))
    distances, indices = neighbors.knn(Y, n_neighbors, metric=metric, seed=seed)
    if k is not None:
        model = AgglomerativeClustering(n_clusters=k, linkage=linkage, metric=metric, connectivity=adjacency(indices))
        return canonical_labels(model.fit_predict(Y))
    linked = neighbors.radius_graph(distances, indices, distance_threshold)
    return canonical_labels(_per_component(Y, linked, distance_threshold, linkage, metric))


def agglomerative_sweep(Y, ks, *, linkage="average", metric="euclidean") -> dict[int, np.ndarray]:
    """{K: (n,) canonical labels} for each K of `ks` (at most n), all cut from one dendrogram of
    Y (n, d) rather than one clustering per K. Up to neighbors.EXACT_MAX_ROWS faces."""
    from scipy.cluster.hierarchy import cut_tree

    Y = np.asarray(Y, np.float64)
    require_faces(Y, "agglomerative clustering")
    ks = sorted({k for k in ks if k <= len(Y)}, reverse=True)
    # cut_tree returns its columns in the order it meets the cuts, from n clusters down: asked so.
    cuts = cut_tree(dendrogram(Y, linkage=linkage, metric=metric), n_clusters=ks)
    return {k: canonical_labels(cuts[:, i]) for i, k in enumerate(ks)}


def _per_component(Y, linked, threshold, method, metric):
    """Threshold linkage run separately inside each connected component of `linked`."""
    from scipy.cluster.hierarchy import fcluster

    labels = np.full(len(Y), -1, np.int64)
    next_label = 0
    for members in _pieces(np.arange(len(Y)), linked, threshold):
        if len(members) < 3:  # a linked pair is one cluster, a lone face its own
            found = np.ones(len(members), np.int64)
        else:
            found = fcluster(dendrogram(Y[members], linkage=method, metric=metric), threshold, criterion="distance")
        labels[members] = next_label + found
        next_label += int(found.max()) + 1
    return labels


def _pieces(members, linked, cut):
    """Connected components of `linked` among `members`, using edges up to `cut`.

    A component too big for exact linkage (memory n**2) is split again with
    a 10 % tighter cut: an approximation, for giant components only.
    """
    sub = linked[members][:, members]
    sub.data[sub.data > cut] = 0
    sub.eliminate_zeros()
    component = components(sub)
    order = np.argsort(component, kind="stable")
    for group in np.split(order, np.cumsum(np.bincount(component))[:-1]):
        if len(group) > neighbors.EXACT_MAX_ROWS:
            yield from _pieces(members[group], linked, cut * 0.9)
        else:
            yield members[group]
