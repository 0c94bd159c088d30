"""Cluster labels and the numbers of clusters K to try.

Labels are int64 arrays of shape (n_faces,), numbered canonically: clusters are numbered in the
order of the first row in which each appears (row 0 is in cluster 0), so labels do not depend on
how a clusterer happens to number its clusters. -1 (UNKNOWN) means "in no cluster".
"""

import numpy as np

from facecluster.tables import UNKNOWN


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
