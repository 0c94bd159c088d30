"""The aggregate stage's maths: pick faces, reduce their embeddings, cluster, and score.

Pure functions on in-memory data (no file I/O). Conventions:

* ``faces`` is the faces table as returned by facecluster.photos.gather.read_faces: a list of
  dicts, one per face, in the same order as the rows of embeddings.npy. A ``label`` of
  ``''`` means the photo's person is unknown.
* Embeddings and reduced coordinates are float arrays of shape (n_faces, dim).
* Cluster labels are int64 arrays of shape (n_faces,), numbered canonically: clusters are
  numbered in the order of the first row in which each appears (row 0 is in cluster 0),
  so labels do not depend on how a clusterer happens to number its clusters. -1 means
  "unknown / no cluster", as in facecluster.clustering.metrics.
* Everything random takes a seed: the same input and seed give byte-identical output.
"""

import math
from contextlib import nullcontext

import numpy as np
from sklearn.cluster import (
    DBSCAN,
    HDBSCAN,
    AgglomerativeClustering,
    KMeans,
    MiniBatchKMeans,
    SpectralClustering,
)
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from facecluster.clustering import cannot_link as graph
from facecluster.clustering import neighbors
from facecluster.clustering.metrics import external_metrics, internal_metrics
from facecluster.tables import UNKNOWN

# PCA's exact SVD holds an (n, d) float64 factor; above this many rows use the
# randomized solver (seeded) instead.
FULL_SVD_MAX_ROWS = 50_000
MINIBATCH_SIZE = 4096


def sample_faces(faces, *, min_photos=None, people=None, photos_per_person=None, seed=0) -> list[int]:
    """Row indices (positions in ``faces``) of a seeded sample of people and photos.

    faces: list of n dicts with at least ``photo_id`` and ``label``. With no option set,
    returns all n rows. Otherwise unlabelled faces are excluded and a person is eligible
    with at least min_photos distinct photos (and at least photos_per_person, so that
    every chosen person contributes the same number). ``people`` eligible people are
    chosen with numpy.random.default_rng(seed) from the sorted names, then
    ``photos_per_person`` photos of each from their photo ids sorted; every face of a
    chosen photo is kept. Returns the sorted row indices (list of int).
    """
    if min_photos is None and people is None and photos_per_person is None:
        return list(range(len(faces)))
    for name, value in (
        ("min_photos", min_photos),
        ("people", people),
        ("photos_per_person", photos_per_person),
    ):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")

    rows_by_photo_by_person = {}  # label -> photo_id -> rows
    for row, face in enumerate(faces):
        if face["label"]:
            rows_by_photo_by_person.setdefault(face["label"], {}).setdefault(face["photo_id"], []).append(row)
    needed_photos = max(min_photos or 1, photos_per_person or 1)
    eligible = sorted(name for name, photos in rows_by_photo_by_person.items() if len(photos) >= needed_photos)

    rng = np.random.default_rng(seed)
    chosen = eligible
    if people is not None:
        if people > len(eligible):
            raise ValueError(f"asked for {people} people but only {len(eligible)} have at least {needed_photos} photos")
        chosen = [eligible[i] for i in sorted(rng.choice(len(eligible), size=people, replace=False))]

    rows = []
    for name in chosen:
        photo_ids = sorted(rows_by_photo_by_person[name])
        if photos_per_person is not None:
            picked = rng.choice(len(photo_ids), size=photos_per_person, replace=False)
            photo_ids = [photo_ids[i] for i in sorted(picked)]
        for photo_id in photo_ids:
            rows.extend(rows_by_photo_by_person[name][photo_id])
    return sorted(rows)


def reduce(X, *, method="pca", components=2, whiten=False, l2_normalize=False, seed=0) -> tuple[np.ndarray, dict]:
    """Optionally L2-normalise the rows of X, then reduce them to fewer dimensions.

    X: (n, d) embeddings. method "pca" gives Y of shape (n, min(components, n, d)) (a note
    says when components was clipped); whiten scales each component to unit variance.
    method "none" gives Y of shape (n, d). Y is always float64. info is a JSON-ready dict:
    method, components (the number used), whiten, l2_normalize, solver,
    explained_variance_ratio (list, one per component; None for "none") and notes (list).
    """
    Y = np.asarray(X, dtype=np.float64)
    if Y.ndim != 2:
        raise ValueError(f"X must be a 2-D (faces, dim) array, got shape {Y.shape}")
    if l2_normalize:
        norms = np.linalg.norm(Y, axis=1, keepdims=True)
        Y = Y / np.where(norms > 0, norms, 1.0)  # an all-zero row stays zero
    n, d = Y.shape
    info = {
        "method": method,
        "components": d,
        "whiten": False,
        "l2_normalize": bool(l2_normalize),
        "solver": None,
        "explained_variance_ratio": None,
        "notes": [],
    }
    if method == "none":
        return Y, info
    if method != "pca":
        raise ValueError(f"unknown reduction method {method!r}; use 'pca' or 'none'")
    if components < 1:
        raise ValueError(f"components must be at least 1, got {components}")

    used = min(components, n, d)
    if used < components:
        info["notes"].append(f"components={components} clipped to {used}: only {n} faces of dimension {d}")
    solver = "full" if n <= FULL_SVD_MAX_ROWS else "randomized"
    pca = PCA(n_components=used, whiten=whiten, svd_solver=solver, random_state=seed)  # the full solver ignores it
    Y = pca.fit_transform(Y)
    info.update(components=used, whiten=bool(whiten), solver=solver)
    info["explained_variance_ratio"] = [float(r) for r in pca.explained_variance_ratio_]
    return Y, info


def parse_k(spec) -> list[int]:
    """The numbers of clusters to try, sorted and unique.

    spec: an int, a list of ints, or a dict {from: a, to: b, step: s} (inclusive; step
    defaults to 1). Raises ValueError for an empty list, a non-int, or any K < 1.
    """
    if isinstance(spec, dict):
        unknown_keys = set(spec) - {"from", "to", "step"}
        if unknown_keys or not {"from", "to"} <= set(spec):
            raise ValueError(f"a K range needs keys from, to and optionally step; got {sorted(spec)}")
        step = spec.get("step", 1)
        if not all(_is_int(v) for v in (spec["from"], spec["to"], step)) or step < 1:
            raise ValueError(f"a K range needs int from/to and a step of at least 1; got {spec}")
        ks = list(range(spec["from"], spec["to"] + 1, step))
    elif _is_int(spec):
        ks = [spec]
    elif isinstance(spec, (list, tuple)):
        ks = list(spec)
    else:
        raise ValueError(f"K must be an int, a list of ints or a from/to/step range; got {spec!r}")
    if not ks:
        raise ValueError(f"no K to try in {spec!r}")
    if not all(_is_int(k) for k in ks):
        raise ValueError(f"every K must be an int; got {spec!r}")
    if min(ks) < 1:
        raise ValueError(f"every K must be at least 1; got {spec!r}")
    return sorted({int(k) for k in ks})


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def canonical_labels(labels) -> np.ndarray:
    """(n,) int64 labels renumbered 0, 1, ... in order of each cluster's first row; -1 stays -1."""
    labels = np.asarray(labels)
    result = np.full(len(labels), UNKNOWN, np.int64)
    known = labels != UNKNOWN
    _, first_rows, codes = np.unique(labels[known], return_index=True, return_inverse=True)
    rank = np.empty(len(first_rows), np.int64)
    rank[np.argsort(first_rows)] = np.arange(len(first_rows))
    result[known] = rank[codes]
    return result


def _require_faces(Y, what):
    if len(Y) < 2:
        faces = "face" if len(Y) == 1 else "faces"
        raise ValueError(f"only {len(Y)} {faces} to cluster: {what} needs at least 2")


def kmeans_sweep(Y, ks, *, seed=0, n_init=10, minibatch_above=20000) -> tuple[dict[int, np.ndarray], list[str]]:
    """K-means once per K.

    Y: (n, d) coordinates; ks: ints (see parse_k). Uses sklearn KMeans, or MiniBatchKMeans
    when n > minibatch_above. Returns ({K: (n,) int64 canonical labels}, notes): a K above
    n is skipped with a note. Raises ValueError with fewer than 2 faces.
    """
    Y = np.asarray(Y)
    _require_faces(Y, "K-means")
    n = len(Y)
    minibatch = n > minibatch_above
    labels_by_k, notes = {}, []
    # A mini-batch step is too little work to share between threads: they wait for each
    # other longer than they work (10x slower than one thread on a busy 2-core machine).
    with threadpool_limits(1, user_api="openmp") if minibatch else nullcontext():
        for k in sorted(ks):
            if k > n:
                notes.append(f"K={k} skipped: only {n} faces")
                continue
            if minibatch:
                model = MiniBatchKMeans(n_clusters=k, batch_size=MINIBATCH_SIZE, n_init=n_init, random_state=seed)
            else:
                model = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
            labels_by_k[k] = canonical_labels(model.fit_predict(Y))
    return labels_by_k, notes


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
    if (k is None) == (distance_threshold is None):
        raise ValueError("give exactly one of k and distance_threshold")
    Y = np.asarray(Y)
    _require_faces(Y, "agglomerative clustering")
    if k is not None and not 1 <= k <= len(Y):
        raise ValueError(f"k must be between 1 and the number of faces ({len(Y)}), got {k}")
    if len(Y) <= neighbors.EXACT_MAX_ROWS:
        model = AgglomerativeClustering(
            n_clusters=k, distance_threshold=distance_threshold, linkage=linkage, metric=metric
        )
        return canonical_labels(model.fit_predict(Y))
    distances, indices = neighbors.knn(Y, n_neighbors, metric=metric, seed=seed)
    if k is not None:
        model = AgglomerativeClustering(
            n_clusters=k, linkage=linkage, metric=metric, connectivity=graph.adjacency(indices)
        )
        return canonical_labels(model.fit_predict(Y))
    linked = neighbors.radius_graph(distances, indices, distance_threshold)
    return canonical_labels(_per_component(Y, linked, distance_threshold, linkage, metric))


def agglomerative_sweep(Y, ks, *, linkage="average", metric="euclidean") -> dict[int, np.ndarray]:
    """{K: (n,) canonical labels} for each K of `ks` (at most n), all cut from one dendrogram of
    Y (n, d) rather than one clustering per K. Up to neighbors.EXACT_MAX_ROWS faces."""
    from scipy.cluster.hierarchy import cut_tree
    from scipy.cluster.hierarchy import linkage as linkage_tree

    Y = np.asarray(Y, np.float64)
    _require_faces(Y, "agglomerative clustering")
    ks = sorted({k for k in ks if k <= len(Y)}, reverse=True)
    # cut_tree returns its columns in the order it meets the cuts, from n clusters down: asked so.
    cuts = cut_tree(linkage_tree(Y, method=linkage, metric=metric), n_clusters=ks)
    return {k: canonical_labels(cuts[:, i]) for i, k in enumerate(ks)}


def _per_component(Y, linked, threshold, method, metric):
    """Threshold linkage run separately inside each connected component of `linked`."""
    from scipy.cluster.hierarchy import fcluster
    from scipy.cluster.hierarchy import linkage as linkage_tree

    labels = np.full(len(Y), -1, np.int64)
    next_label = 0
    for members in _pieces(np.arange(len(Y)), linked, threshold):
        if len(members) < 3:  # a linked pair is one cluster, a lone face its own
            found = np.ones(len(members), np.int64)
        else:
            found = fcluster(linkage_tree(Y[members], method=method, metric=metric), threshold, criterion="distance")
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
    component = graph.components(sub)
    order = np.argsort(component, kind="stable")
    for group in np.split(order, np.cumsum(np.bincount(component))[:-1]):
        if len(group) > neighbors.EXACT_MAX_ROWS:
            yield from _pieces(members[group], linked, cut * 0.9)
        else:
            yield members[group]


def spectral(Y, *, k, n_neighbors=10, seed=0) -> np.ndarray:
    """Spectral clustering of a k-nearest-neighbour graph into k clusters.

    Robust to the odd outlier face that makes linkage methods spend a cluster
    on it. Y: (n, d). Returns (n,) int64 canonical labels.
    """
    Y = np.asarray(Y)
    _require_faces(Y, "spectral clustering")
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


def density(Y, *, method, threshold=None, min_samples=1, min_cluster_size=2, metric="euclidean"):
    """DBSCAN (eps = threshold) or HDBSCAN; faces in no cluster get -1 (unknown).

    Y: (n, d). Returns (n,) int64 canonical labels.
    """
    Y = np.asarray(Y)
    _require_faces(Y, method)
    points = neighbors.prepare(Y, metric)  # cosine as Euclidean on unit vectors
    if method == "dbscan":
        eps = np.sqrt(2 * threshold) if metric == "cosine" else threshold
        model = DBSCAN(eps=eps, min_samples=min_samples)
    else:
        model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples)
    return canonical_labels(model.fit_predict(points))


def neighbor_graph(
    Y, *, threshold, n_neighbors=10, metric="euclidean", algorithm="chinese_whispers", seed=0
) -> np.ndarray:
    """Link each face to its nearest neighbours closer than threshold; cluster the graph.

    algorithm: chinese_whispers or components. Y: (n, d). Returns (n,) int64 canonical labels.
    """
    Y = np.asarray(Y)
    _require_faces(Y, "graph clustering")
    distances, indices = neighbors.knn(Y, n_neighbors, metric=metric, seed=seed)
    linked = neighbors.radius_graph(distances, indices, threshold)
    if algorithm == "components":
        return canonical_labels(graph.components(linked))
    return canonical_labels(graph.chinese_whispers(linked, seed=seed))


def evaluate_sweep(Y_for_internal, labels_true, labels_by_k) -> dict[int, dict]:
    """Scores per K, ready for json.dumps.

    Y_for_internal: (n, d) coordinates for the internal scores; labels_true: (n,) person
    names, or None; labels_by_k: {K: (n,) int labels}. Each K gets internal_metrics, plus
    external_metrics when labels_true is given and no label is ''. Values are plain
    floats, ints or None (non-finite scores become None).
    """
    with_truth = labels_true is not None and all(label != "" for label in labels_true)
    if with_truth:  # names to numbers once, not once per K (a million names take 0.5 s)
        labels_true = np.unique(np.asarray(labels_true), return_inverse=True)[1]
    scores_by_k, distance_cache = {}, {}
    for k, labels in sorted(labels_by_k.items()):
        scores = internal_metrics(Y_for_internal, labels, distance_cache=distance_cache)
        if with_truth:
            scores.update(external_metrics(labels_true, labels))
        scores_by_k[int(k)] = {name: _plain(value) for name, value in scores.items()}
    return scores_by_k


def _plain(value):
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None
