"""The dendrogram of a folder's faces, from pairwise distances computed by matrix products.

SciPy's `linkage(Y, metric=...)` measures every pair with `pdist`, one pair at a time on
one core: 12 s of a 12,700-face folder's 20 s sorting (bench/results.md, "A library that
grows"). The same distances from the Gram matrix, a block of rows at a time, take BLAS
well under a second; they differ from pdist's by rounding (about 1e-8 for faces of unit
length), far under any gap a cut is chosen in.
"""

import numpy as np

# Rows of the Gram matrix computed at once: a block is BLOCK_ROWS x n float64.
BLOCK_ROWS = 1024


def condensed_distances(Y, metric="euclidean") -> np.ndarray:
    """Every pair's distance in SciPy's condensed order (as scipy.spatial.distance.pdist gives it).

    Y: (n, d); metric: euclidean, or cosine (1 - cosine similarity). Returns (n (n - 1) / 2,) float64.
    """
    Y = np.asarray(Y, np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(Y, axis=1, keepdims=True)
        Y = Y / np.where(norms > 0, norms, 1.0)
    elif metric != "euclidean":
        raise ValueError(f"metric must be 'euclidean' or 'cosine', not {metric!r}")
    n = len(Y)
    squares = np.einsum("ij,ij->i", Y, Y)
    condensed = np.empty(n * (n - 1) // 2)
    start = 0
    for first in range(0, n, BLOCK_ROWS):
        block = Y[first : first + BLOCK_ROWS] @ Y[first:].T  # rows against the faces from `first` on
        for i, row in enumerate(block):
            others = row[i + 1 :]
            if metric == "cosine":
                values = 1.0 - others
            else:
                values = np.sqrt(np.maximum(squares[first + i] + squares[first + i + 1 :] - 2.0 * others, 0.0))
            condensed[start : start + len(values)] = values
            start += len(values)
    return condensed


def dendrogram(Y, *, linkage="average", metric="euclidean") -> np.ndarray:
    """SciPy's linkage matrix of Y (n, d), n >= 2, by `linkage` (average, complete or single)."""
    from scipy.cluster.hierarchy import linkage as linkage_tree

    return linkage_tree(condensed_distances(Y, metric), method=linkage)
