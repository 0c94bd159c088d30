"""Sorting faces with their capture dates: one person from childhood to adulthood.

A child's face changes over the years more than an adult's photos differ, so a distance that says
"two people" between a face at four and one at eight says little: the same child lies that far
apart too. With dates, each pair of faces is weighed by how likely its distance is for one person
and for two *at that many years apart* (the embedder's AgeRule, fitted on FG-NET's people:
bench/growing_up.py): the log-likelihood ratio of two normal distributions read at the pair's
gap. A pair close in time and near is strong evidence of one person; a pair decades apart is weak
evidence either way, so a person's faces link across the years through the faces between them
(average linkage over the pairs' evidence: two clusters join while their pairs on average say one
person). Siblings stay apart where their photos of the same years do.

The faces are first centred on the folder's mean and scaled back to unit length: a folder of
scanned childhood photos lies in one corner of the embedding space, where every two children look
alike; centred, the folder's own differences count (FG-NET's tune people, BCubed 0.80 -> 0.85).

A pair where a face has no date is weighed by the distributions over all gaps (the rule's
undated ones). A folder whose faces are mostly undated (under the rule's min_dated), or whose
dates span only a few years (under its min_span_years), is not sorted here:
facecluster.clustering.folder_cut cuts it, as without dates.
"""

import numpy as np

from facecluster.clustering.dendrogram import condensed_distances
from facecluster.clustering.labels import canonical_labels


def uses_dates(years, rule) -> bool:
    """Whether a folder's faces are sorted by their dates: a rule is fitted, at least its
    min_dated share of the faces has a date (years: (n,) float, NaN for none), and the dates span
    min_span_years (5th to 95th percentile): over a few years no face changes with age."""
    if rule is None or years is None or not len(years):
        return False
    years = np.asarray(years, np.float64)
    dated = years[~np.isnan(years)]
    if len(dated) < rule.min_dated * len(years) or not len(dated):
        return False
    return float(np.percentile(dated, 95) - np.percentile(dated, 5)) >= rule.min_span_years


def centred(Y) -> np.ndarray:
    """Y (n, d) less its mean, each row scaled back to unit length (a row at the mean stays 0)."""
    Y = np.asarray(Y, np.float64)
    X = Y - Y.mean(axis=0)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def pair_evidence(Y, years, rule) -> np.ndarray:
    """Every pair's evidence of one person, in SciPy's condensed order: the log-likelihood ratio
    of the pair's distance (faces centred) under rule's one-person and two-people distributions at
    the pair's gap in years, plus rule.bias, clipped to +-rule.clip. (n (n - 1) / 2,) float64."""
    years = np.asarray(years, np.float64)
    evidence = condensed_distances(centred(Y))
    gaps = np.asarray(rule.gaps, np.float64)
    same, different = np.asarray(rule.same, np.float64), np.asarray(rule.different, np.float64)
    start = 0
    for i in range(len(years) - 1):
        row = slice(start, start + len(years) - i - 1)
        gap = np.abs(years[i + 1 :] - years[i])
        dated = ~np.isnan(gap)
        means_sds = np.empty((len(gap), 4))
        for column, values in enumerate((same[:, 0], same[:, 1], different[:, 0], different[:, 1])):
            means_sds[dated, column] = np.interp(gap[dated], gaps, values)
        means_sds[~dated] = (*rule.undated_same, *rule.undated_different)
        evidence[row] = _log_ratio(evidence[row], means_sds.T)
        start = row.stop
    return np.clip(evidence + rule.bias, -rule.clip, rule.clip)


def _log_ratio(distance, means_sds):
    """log N(distance; one person) - log N(distance; two people), per pair."""
    same_mean, same_sd, different_mean, different_sd = means_sds
    return (
        -0.5 * ((distance - same_mean) / same_sd) ** 2
        + 0.5 * ((distance - different_mean) / different_sd) ** 2
        + np.log(different_sd / same_sd)
    )


def cross_age_cut(Y, years, rule) -> np.ndarray:
    """(n,) canonical labels: the faces joined, by average linkage over their pairs' evidence
    (pair_evidence), while two clusters' pairs say one person on average. Y: (n, d) faces, n >= 2;
    years: (n,) capture dates in years (NaN: none)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    # Linkage merges the smallest first: evidence turned into a non-negative distance, the clip
    # where the evidence is 0.
    distances = rule.clip - pair_evidence(Y, years, rule)
    tree = linkage(distances, method="average")
    return canonical_labels(fcluster(tree, rule.clip, criterion="distance"))
