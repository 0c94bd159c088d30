"""A distance threshold the folder chooses: the widest gap between average linkage's merge
distances near the calibrated threshold.

A threshold calibrated on lfw-dev's pairs (false-accept rate 1e-3) splits the
people of a small folder (too strict: few pairs of different people to
confuse), and a fixed looser one merges look-alikes in a large folder. Within
a window around the calibrated value, the dendrogram's widest gap, weighted
towards the calibrated value, is where this folder's people separate
(bench/shapes.py: worst BCubed F1 over 98 folders 0.876 -> 0.915, the
median 0.971 -> 0.978).
"""

import numpy as np

from facecluster import neighbors

# The window, and the width of the weighting, as multiples of the calibrated threshold
# (0.45-0.70 and 0.08 for dlib's Euclidean 0.5459; measured there, bench/shapes.py).
WINDOW = (0.82, 1.28)
WIDTH = 0.15
# Above this many faces the window's upper part shrinks in proportion: the more faces, the more
# pairs of different people look alike, and a gap above the calibrated value merges them.
FULL_WINDOW_FACES = 200


def folder_cut(Y, calibrated, *, linkage="average", metric="euclidean"):
    """(the cut near `calibrated` in the widest weighted gap of the dendrogram of Y (n, d), the
    clusters that cut makes as canonical labels), from one dendrogram. Above
    neighbors.EXACT_MAX_ROWS faces (no full dendrogram), or under 3: (calibrated, None)."""
    from scipy.cluster.hierarchy import fcluster
    from scipy.cluster.hierarchy import linkage as linkage_tree

    from facecluster.cluster import canonical_labels

    if len(Y) < 3 or len(Y) > neighbors.EXACT_MAX_ROWS:
        return calibrated, None
    tree = linkage_tree(np.asarray(Y, np.float64), method=linkage, metric=metric)
    heights = tree[:, 2]
    low = WINDOW[0] * calibrated
    high = calibrated * (1 + (WINDOW[1] - 1) * min(1.0, FULL_WINDOW_FACES / len(Y)))
    edges = np.concatenate([[low], np.sort(heights[(heights > low) & (heights < high)]), [high]])
    middles = (edges[:-1] + edges[1:]) / 2
    weighted = np.diff(edges) * np.exp(-0.5 * ((middles - calibrated) / (WIDTH * calibrated)) ** 2)
    cut = float(middles[int(np.argmax(weighted))])
    return cut, canonical_labels(fcluster(tree, cut, criterion="distance"))
