"""Clustering evaluation: how well predicted face clusters match the true people, and the scores of a K sweep.

Conventions used throughout:

* Predicted labels are ints. ``-1`` means "unknown / no cluster"; for every external
  metric each such face counts as its own singleton cluster, so leaving a face out can
  never make two different people look like one.
* True labels are any hashable values (usually person names).
* External metrics and the cluster-to-person matching work on a sparse contingency table
  (one entry per non-empty (person, cluster) cell), so memory is O(n) even for millions
  of faces; only matched_confusion returns a dense (people x clusters) table.
"""

import math

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from facecluster.tables import UNKNOWN

# best_k_by_score: True when a larger score is better.
_SCORE_IS_HIGHER_BETTER = {"silhouette": True, "calinski_harabasz": True, "davies_bouldin": False}


def _encode_true(labels_true):
    """(names, codes): codes[i] indexes names; names sorted when the values are orderable."""
    try:
        values = np.asarray(labels_true)
        if values.ndim == 1:
            names, codes = np.unique(values, return_inverse=True)
            return names.tolist(), codes
    except (TypeError, ValueError):  # unorderable mixed types, or ragged values such as tuples
        pass
    index = {}  # number the labels in order of appearance instead
    codes = np.fromiter((index.setdefault(v, len(index)) for v in labels_true), np.int64)
    return list(index), codes


def _encode_pred(labels_pred):
    """(cluster_ids, codes, is_unknown): known faces get codes 0..k-1 (cluster_ids[code] is the
    original id); each unknown face gets its own fresh code k, k+1, ..."""
    labels = np.asarray(labels_pred)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("labels_pred must be a 1-D array of ints (-1 = unknown)")
    is_unknown = labels == UNKNOWN
    cluster_ids, known_codes = np.unique(labels[~is_unknown], return_inverse=True)
    codes = np.empty(len(labels), np.int64)
    codes[~is_unknown] = known_codes
    codes[is_unknown] = len(cluster_ids) + np.arange(is_unknown.sum())
    return cluster_ids, codes, is_unknown


def _cells(row_codes, col_codes):
    """Non-empty cells of the contingency table as (rows, cols, counts) arrays."""
    n_cols = int(col_codes.max()) + 1
    cell_ids, counts = np.unique(row_codes * n_cols + col_codes, return_counts=True)
    return cell_ids // n_cols, cell_ids % n_cols, counts


def _max_weight_matching(rows, cols, weights, n_rows, n_cols):
    """(rows, cols) of a one-to-one matching maximising the total weight of a sparse table
    with positive weights; rows or columns with no worthwhile partner stay unmatched.

    Same optimum as scipy.optimize.linear_sum_assignment(maximize=True) on the dense table,
    but never builds the n_rows x n_cols matrix (there can be ~n unknown singletons).
    """
    smaller_side = cols if n_cols <= n_rows else rows
    rows, cols, weights = _heaviest_cells(rows, cols, weights, min(n_rows, n_cols), by=smaller_side)
    kept_rows, rows = np.unique(rows, return_inverse=True)
    n_kept = len(kept_rows)
    # The sparse solver insists on matching every row, so give each row a private dummy
    # column worth 1 and scale real weights by n_kept + 1: all dummies together are worth
    # less than one real unit, so the real total is still maximised.
    scale = n_kept + 1
    graph = csr_matrix(
        (
            np.concatenate([weights * float(scale), np.ones(n_kept)]),
            (np.concatenate([rows, np.arange(n_kept)]), np.concatenate([cols, n_cols + np.arange(n_kept)])),
        ),
        shape=(n_kept, n_cols + n_kept),
    )
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph, maximize=True)
    is_real = matched_cols < n_cols
    return kept_rows[matched_rows[is_real]], matched_cols[is_real]


def _heaviest_cells(rows, cols, weights, limit, by):
    """The cells among the `limit` heaviest of their column (by=cols) or row (by=rows).

    Some maximum matching uses only those, when limit is the size of the smaller side:
    with K clusters, a cluster matched to a person outside its K heaviest could swap to
    one of those that is left free, losing nothing. So the solver sees at most K*K cells,
    not one or more per person (100,000 people x 50 clusters: 5 s -> 0.1 s).
    """
    order = np.lexsort((-weights, by))
    grouped = by[order]
    rank = np.arange(len(order)) - np.searchsorted(grouped, grouped)
    kept = np.sort(order[rank < limit])
    return rows[kept], cols[kept], weights[kept]


def _pairs(counts):
    """Number of unordered pairs within groups of the given sizes."""
    counts = counts.astype(np.float64)
    return float(np.sum(counts * (counts - 1) / 2))


def _f1(precision, recall):
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def external_metrics(labels_true, labels_pred) -> dict[str, float]:
    """Compare predicted clusters with the true people.

    labels_true: (n,) hashable person per face. labels_pred: (n,) int cluster per face,
    -1 = unknown (each counted as a singleton cluster). Returns a dict of floats with keys
    same_person_share, purity, ari, nmi, v_measure, homogeneity, completeness,
    pairwise_precision, pairwise_recall, pairwise_f1, bcubed_precision, bcubed_recall,
    bcubed_f1 (floats), and the int counts n_clusters (excluding unknown), n_unknown, n_items.
    """
    # Imported here: this module's constants are read by jobs that score nothing (1 s a job).
    from sklearn.metrics import adjusted_rand_score, homogeneity_completeness_v_measure, normalized_mutual_info_score

    _, true_codes = _encode_true(labels_true)
    cluster_ids, pred_codes, is_unknown = _encode_pred(labels_pred)
    n = len(true_codes)
    if n != len(pred_codes):
        raise ValueError(f"labels_true has {n} items but labels_pred has {len(pred_codes)}")
    if n == 0:
        raise ValueError("cannot evaluate an empty clustering")

    rows, cols, counts = _cells(true_codes, pred_codes)
    person_sizes = np.bincount(rows, weights=counts)
    cluster_sizes = np.bincount(cols, weights=counts)

    matched_rows, matched_cols = _max_weight_matching(rows, cols, counts, len(person_sizes), len(cluster_sizes))
    table = csr_matrix((counts, (rows, cols)), shape=(len(person_sizes), len(cluster_sizes)))
    same_person_share = float(table[matched_rows, matched_cols].sum()) / n

    largest_person_per_cluster = np.zeros(len(cluster_sizes))
    np.maximum.at(largest_person_per_cluster, cols, counts)

    same_pairs = _pairs(counts)
    predicted_pairs = _pairs(cluster_sizes)
    true_pairs = _pairs(person_sizes)
    pairwise_precision = same_pairs / predicted_pairs if predicted_pairs else 1.0
    pairwise_recall = same_pairs / true_pairs if true_pairs else 1.0

    # BCubed: every face in cell (i, j) has precision n_ij / |cluster j| and recall
    # n_ij / |person i|; summing per cell avoids looping over faces.
    squared = counts.astype(np.float64) ** 2
    bcubed_precision = float(np.sum(squared / cluster_sizes[cols])) / n
    bcubed_recall = float(np.sum(squared / person_sizes[rows])) / n

    homogeneity, completeness, v_measure = homogeneity_completeness_v_measure(true_codes, pred_codes)
    return {
        "same_person_share": same_person_share,
        "purity": float(largest_person_per_cluster.sum()) / n,
        "ari": float(adjusted_rand_score(true_codes, pred_codes)),
        "nmi": float(normalized_mutual_info_score(true_codes, pred_codes)),
        "v_measure": float(v_measure),
        "homogeneity": float(homogeneity),
        "completeness": float(completeness),
        "pairwise_precision": pairwise_precision,
        "pairwise_recall": pairwise_recall,
        "pairwise_f1": _f1(pairwise_precision, pairwise_recall),
        "bcubed_precision": bcubed_precision,
        "bcubed_recall": bcubed_recall,
        "bcubed_f1": _f1(bcubed_precision, bcubed_recall),
        "n_clusters": len(cluster_ids),
        "n_unknown": int(is_unknown.sum()),
        "n_items": n,
    }


def _is_scorable(labels):
    """sklearn's internal scores need 2 <= n_clusters <= n_points - 1."""
    return 2 <= len(np.unique(labels)) <= len(labels) - 1


def internal_metrics(
    X, labels_pred, *, sample_size=10000, random_state=0, distance_cache=None
) -> dict[str, float | None]:
    """Cluster quality from the embeddings alone, ignoring unknown (-1) faces.

    X: (n, d) float embeddings. labels_pred: (n,) int cluster per face. Silhouette is
    computed on a random subset of sample_size points when there are more (same subset
    for the same random_state). Returns silhouette, davies_bouldin, calinski_harabasz
    (None when undefined: fewer than 2 clusters, fewer than 3 points, or every point its
    own cluster) and inertia (sum of squared distances to the cluster mean; 0.0 when no
    face is clustered). distance_cache: a dict shared by calls on the same X (the K of a
    sweep), so that the silhouette sample's pairwise distances, the costly part, are
    computed once rather than once per call.
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels_pred)
    if X.ndim != 2 or labels.shape != (len(X),):
        raise ValueError(f"X must be (n, d) and labels_pred (n,); got {X.shape} and {labels.shape}")
    is_known = labels != UNKNOWN
    X, labels = X[is_known], labels[is_known]

    _, codes = np.unique(labels, return_inverse=True)
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    membership = csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_clusters, len(codes)))
    sizes = np.bincount(codes, minlength=n_clusters)
    means = (membership @ X) / sizes[:, None]
    from_mean = _distances_to_means(X, codes, means)
    inertia = float(np.sum(from_mean**2))

    if not _is_scorable(labels):
        return {"silhouette": None, "davies_bouldin": None, "calinski_harabasz": None, "inertia": inertia}

    # Same sampling as silhouette_score(sample_size=...), but done here so a sample that
    # happens to be unscorable gives None instead of an exception.
    sample = np.arange(len(labels))
    if len(labels) > sample_size:
        sample = np.random.RandomState(random_state).permutation(len(labels))[:sample_size]
    silhouette = None
    if _is_scorable(labels[sample]):
        silhouette = _silhouette(_sample_distances(X, sample, is_known, distance_cache), labels[sample])
    return {
        "silhouette": silhouette,
        "davies_bouldin": _davies_bouldin(from_mean, codes, means, sizes),
        "calinski_harabasz": _calinski_harabasz(X, sizes, means, inertia),
        "inertia": inertia,
    }


def _distances_to_means(X, codes, means, block=16_384):
    """(n,) each face's Euclidean distance to its cluster's mean, a block of faces at a time (a
    library's (n, d) differences at once would be a gigabyte)."""
    distances = np.empty(len(X))
    for i in range(0, len(X), block):
        distances[i : i + block] = np.linalg.norm(X[i : i + block] - means[codes[i : i + block]], axis=1)
    return distances


def _davies_bouldin(from_mean, codes, means, sizes, block_entries=2**22):
    """scikit-learn's davies_bouldin_score from each face's distance to its cluster's mean and the
    means, its clusters x clusters distances taken a block of rows at a time: a library's tens of
    thousands of clusters (most of them one face) would need gigabytes at once, and its loop over
    clusters minutes."""
    spreads = np.bincount(codes, weights=from_mean) / sizes
    squares = np.einsum("ij,ij->i", means, means)
    block = max(1, block_entries // len(means))
    worst, farthest = np.empty(len(means)), 0.0
    for start in range(0, len(means), block):
        rows = slice(start, start + block)
        # As sklearn's euclidean_distances: -2ab + a^2 + b^2, clipped at 0, 0 from a cluster to itself.
        distances = -2 * means[rows] @ means.T + squares[rows, None] + squares
        np.maximum(distances, 0, out=distances)
        np.fill_diagonal(distances[:, start:], 0)
        np.sqrt(distances, out=distances)
        farthest = max(farthest, float(distances.max()))
        distances[distances == 0] = np.inf
        worst[rows] = ((spreads[rows, None] + spreads) / distances).max(axis=1)
    if np.allclose(spreads, 0) or np.allclose(farthest, 0):
        return 0.0
    return float(worst.mean())


def _calinski_harabasz(X, sizes, means, inertia):
    """scikit-learn's calinski_harabasz_score from the clusters' means and inertia (no loop over
    clusters): between-cluster over within-cluster dispersion, each per degree of freedom."""
    between = float(np.sum(sizes * np.sum((means - X.mean(axis=0)) ** 2, axis=1)))
    if inertia == 0:
        return 1.0
    return between * (len(X) - len(means)) / (inertia * (len(means) - 1))


def _sample_distances(X, sample, is_known, cache):
    """Euclidean distances between the rows of X[sample]; from `cache` while the known faces are the same."""
    if cache is not None and np.array_equal(cache.get("known"), is_known):
        return cache["distances"]
    from sklearn.metrics.pairwise import euclidean_distances

    distances = euclidean_distances(X[sample])
    if cache is not None:
        cache.update(known=is_known, distances=distances)
    return distances


def _silhouette(distances, labels, block=1024):
    """Mean silhouette (sklearn's definition) from the (n, n) pairwise distances.

    A face's summed distances to every cluster come from one sparse product, several
    times faster than sklearn's row-by-row loop: it counts in a sweep of 50 K. A block of
    faces at a time: a library's sample has thousands of clusters, (faces, clusters) at once
    would be gigabytes.
    """
    _, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    members = csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), len(sizes)))
    scores = np.empty(len(codes))
    for start in range(0, len(codes), block):
        faces = np.arange(start, min(start + block, len(codes)))
        totals = np.asarray(members.T @ distances[:, faces]).T  # (faces, clusters)
        own, own_size = codes[faces], sizes[codes[faces]]
        within = totals[faces - start, own] / np.maximum(own_size - 1, 1)
        totals[faces - start, own] = np.inf
        nearest_other = (totals / sizes).min(axis=1)
        with np.errstate(invalid="ignore"):  # 0 / 0 for a face at distance 0 from everything
            found = np.nan_to_num((nearest_other - within) / np.maximum(within, nearest_other))
        scores[faces] = np.where(own_size > 1, found, 0.0)
    return float(np.mean(scores))


def matched_confusion(labels_true, labels_pred) -> tuple[np.ndarray, list, list]:
    """Contingency table ordered so that matched (person, cluster) pairs form the diagonal.

    labels_true: (n,) hashable person per face. labels_pred: (n,) int cluster per face.
    Returns (matrix, row_names, column_labels): matrix is int64 of shape
    (n_people, n_clusters + 1 if any face is unknown else n_clusters), with matrix[i, j] the
    number of faces of row_names[i] in cluster column_labels[j]. Clusters are matched to
    people one-to-one (Hungarian, maximising matched faces); matched pairs come first, by
    count descending, then unmatched people and clusters by size descending, then all
    unknown faces in one last column labelled -1.
    """
    names, true_codes = _encode_true(labels_true)
    cluster_ids, pred_codes, is_unknown = _encode_pred(labels_pred)
    if len(true_codes) != len(pred_codes):
        raise ValueError(f"labels_true has {len(true_codes)} items but labels_pred has {len(pred_codes)}")
    n_people, n_clusters = len(names), len(cluster_ids)
    pred_codes[is_unknown] = n_clusters  # the display keeps unknowns together in one column
    table = np.zeros((n_people, n_clusters + 1), np.int64)
    np.add.at(table, (true_codes, pred_codes), 1)

    rows, cols = np.nonzero(table[:, :n_clusters])
    matched_rows, matched_cols = _max_weight_matching(rows, cols, table[rows, cols], n_people, n_clusters)
    by_count = np.argsort(-table[matched_rows, matched_cols], kind="stable")
    matched_rows, matched_cols = matched_rows[by_count], matched_cols[by_count]

    def unmatched_by_size(sizes, matched):
        rest = np.setdiff1d(np.arange(len(sizes)), matched)
        return rest[np.argsort(-sizes[rest], kind="stable")]

    row_order = np.concatenate([matched_rows, unmatched_by_size(table.sum(axis=1), matched_rows)])
    col_order = np.concatenate([matched_cols, unmatched_by_size(table[:, :n_clusters].sum(axis=0), matched_cols)])
    column_labels = cluster_ids[col_order].tolist()
    if is_unknown.any():
        col_order = np.append(col_order, n_clusters)
        column_labels.append(UNKNOWN)
    return table[np.ix_(row_order, col_order)], [names[i] for i in row_order], column_labels


def best_k_by_score(scores_by_k: dict[int, dict], score="silhouette") -> int:
    """Pick the number of clusters K with the best score.

    scores_by_k: {K: metrics dict as returned by internal_metrics}. score: silhouette or
    calinski_harabasz (higher is better) or davies_bouldin (lower is better). Ks whose score
    is missing, None or NaN are skipped; ties go to the smallest K.
    """
    if score not in _SCORE_IS_HIGHER_BETTER:
        raise ValueError(f"cannot choose K by {score!r}; use one of {sorted(_SCORE_IS_HIGHER_BETTER)}")
    sign = 1 if _SCORE_IS_HIGHER_BETTER[score] else -1
    usable = {
        k: sign * scores[score]
        for k, scores in scores_by_k.items()
        if scores.get(score) is not None and not math.isnan(scores[score])
    }
    if not usable:
        raise ValueError(f"no K has a usable {score!r} score (all missing or None); tried K={sorted(scores_by_k)}")
    return max(sorted(usable), key=usable.get)  # max keeps the first of equals: the smallest K


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
