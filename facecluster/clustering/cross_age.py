"""Sorting faces with their capture dates: one person from childhood to adulthood.

A child's face changes over the years more than an adult's photos differ: the distance that says
"two people" between adults also lies between the same child at four and at eight. With dates,
the faces are sorted in three steps (cross_age_cut):

1. Each pair of faces is weighed by how likely its distance is for one person and for two people
   photographed at the same time (the embedder's AgeRule, fitted on FG-NET's people:
   bench/growing_up.py): the log-likelihood ratio of two normal distributions, plus the rule's
   bias. Average linkage over that evidence: two groups of faces join while their pairs say one
   person on average. Every pair is weighed as if taken the same year here, so that a stranger
   met in another decade is not joined for looking no more unlike than people decades apart do.
2. Then the groups of two faces or more that follow each other in time (at most MAX_OVERLAP of
   either's dates within the other's years, no photo shared) join by average linkage again, each
   pair now weighed at the years between its faces (the rule's distributions of that gap: a child
   at four and at eight may lie far apart and be one), while their pairs say one person on
   average (JOIN_FROM). A child's pieces link across the years this way; two children of the same
   years do not, nor does a stranger of one photo.
3. Last, two such groups join where their faces nearest in time (the NEAREST_IN_TIME of each
   nearest the other's years) say one person (JOIN_NEAREST_FROM), the likeliest first: a child
   whose early and late faces outweigh, on average, the few where the two pieces meet. A group
   within the years of a person seen in WITHIN_PERSON_PHOTOS photos or more is weighed face by
   face instead, each of its faces against that person's NEAREST_IN_TIME faces nearest its date:
   an occasion (a burst, a few photos of one day) that step 1, weighing it against all of the
   person's years as if taken at once, kept apart.

The faces are first centred on the folder's mean and scaled back to unit length: a folder of
scanned childhood photos lies in one corner of the embedding space, where every two children look
alike; centred, the folder's own differences count.

On the review pages, persons likely one person at other ages are suggested (merge_suggestions):
weighed as in step 3, from a lower evidence (SUGGEST_FROM): the user decides.

A pair where a face has no date is weighed by the distributions over all gaps (the rule's
undated ones). A folder whose faces are mostly undated (under the rule's min_dated), or whose
dates span only a few years (under its min_span_years), is not sorted here:
facecluster.clustering.folder_cut cuts it, as without dates.
"""

import itertools

import numpy as np

from facecluster.clustering.dendrogram import BLOCK_ROWS, condensed_distances
from facecluster.clustering.labels import canonical_labels

# Two groups of faces weighed across the years (steps 2 and 3, and the suggestions), chosen on
# bench/growing_up.py's tune people: the faces of each nearest in time to the other's years (step
# 3, suggestions); the share of a group's dates that may lie within the other's years (pieces of
# one child follow each other in time: two children of the same years are two people, or step 1
# would have joined them); the mean evidence a join needs in step 2, and in step 3; the faces a
# group needs to be joined (a stranger met once is not); the evidence a suggestion needs; the
# suggestions a person gets at most; the photos a person needs for a group within its years to
# join it (step 3: under it, such groups are as often strangers met at the same time).
NEAREST_IN_TIME = 4
MAX_OVERLAP = 0.25
JOIN_FROM = 0.0
JOIN_NEAREST_FROM = 0.25
JOIN_MIN_FACES = 2
SUGGEST_FROM = -2.0
SUGGESTED = 3
WITHIN_PERSON_PHOTOS = 20


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
    evidence = condensed_distances(centred(Y))  # turned into the evidence in place, a row at a time
    start = 0
    for i in range(len(years) - 1):
        row = slice(start, start + len(years) - i - 1)
        evidence[row] = _log_ratio(evidence[row], _distributions(np.abs(years[i + 1 :] - years[i]), rule))
        start = row.stop
    evidence += rule.bias
    return np.clip(evidence, -rule.clip, rule.clip, out=evidence)


def _distributions(gaps, rule):
    """(same mean, same sd, different mean, different sd), each shaped as gaps: the rule's, read
    between its gaps linearly (beyond them, the nearest), the undated ones where a gap is NaN."""
    knots = np.asarray(rule.gaps, np.float64)
    table = np.concatenate([np.asarray(rule.same, np.float64), np.asarray(rule.different, np.float64)], axis=1)
    dated = ~np.isnan(gaps)
    at = np.clip(np.where(dated, gaps, knots[0]), knots[0], knots[-1])
    upper = np.clip(np.searchsorted(knots, at, side="right"), 1, len(knots) - 1)
    weight = (at - knots[upper - 1]) / (knots[upper] - knots[upper - 1])
    undated = (*rule.undated_same, *rule.undated_different)
    return [
        np.where(dated, table[upper - 1, k] + weight * (table[upper, k] - table[upper - 1, k]), undated[k])
        for k in range(4)
    ]


def _evidence_block(X, years, rows, columns, rule):
    """(len(rows), len(columns)) evidence, as pair_evidence weighs a pair, between faces at positions
    `rows` and `columns` of X (centred, unit length) at the years between them (NaN: undated)."""
    distances = np.sqrt(np.maximum(2.0 - 2.0 * X[rows] @ X[columns].T, 0.0))
    return _evidence(distances, np.abs(years[rows][:, None] - years[columns][None]), rule)


def _evidence(distances, gaps, rule):
    """Pairs' evidence, as pair_evidence weighs it, from their distances and the years between them."""
    return np.clip(_log_ratio(distances, _distributions(gaps, rule)) + rule.bias, -rule.clip, rule.clip)


def merge_suggestions(X, years, groups, photo_ids, rule):
    """[(person, other person, evidence)]: pairs of persons likely one person at other ages, most
    likely first, from SUGGEST_FROM on; each person in at most SUGGESTED pairs as its best.
    X: (n, d) faces; years: (n,) (NaN: undated); groups: [positions of a person's faces];
    photo_ids: (n,)."""
    ranked = weighed_persons(X, years, groups, photo_ids, rule)
    listed, count = [], np.zeros(len(groups), np.int64)
    for (a, b), evidence in sorted(ranked.items(), key=lambda item: -item[1]):
        if evidence >= SUGGEST_FROM and (count[a] < SUGGESTED or count[b] < SUGGESTED):
            listed.append((a, b, evidence))
            count[[a, b]] += 1
    return listed


def weighed_persons(X, years, groups, photo_ids, rule):
    """{(person, other person): evidence} of every two persons that may be one at other ages,
    weighed as step 3 weighs two groups (_weighed_pairs), with no floor. Arguments as
    merge_suggestions'."""
    groups = {g: np.asarray(group, np.int64) for g, group in enumerate(groups)}
    years = np.asarray(years, np.float64)
    return _weighed_pairs(centred(X), years, groups, np.asarray(photo_ids), rule, among=list(groups))


def _nearest_evidence(X, years, first, second, rule):
    """The mean evidence between the NEAREST_IN_TIME dated faces of each of two groups (positions
    into X, centred) nearest the other's years, at the years between them. Both groups dated."""
    first, second = (group[~np.isnan(years[group])] for group in (first, second))
    near_first = first[_nearest_in_time(years[first], years[second])]
    near_second = second[_nearest_in_time(years[second], years[first])]
    return float(_evidence_block(X, years, near_first, near_second, rule).mean())


def _within_evidence(X, years, person, groups, rule):
    """(len(groups),) for each group, the mean evidence between each of its dated faces and the
    NEAREST_IN_TIME dated faces of `person` nearest its date, at the years between them (positions
    into X, centred). The person and each group dated."""
    person = person[~np.isnan(years[person])]
    person = person[np.argsort(years[person], kind="stable")]
    faces = np.concatenate(groups)
    owner = np.repeat(np.arange(len(groups)), [len(group) for group in groups])
    dated = ~np.isnan(years[faces])
    faces, owner = faces[dated], owner[dated]
    # A date's nearest NEAREST_IN_TIME lie within that many places either side of it in date order.
    width = min(2 * NEAREST_IN_TIME, len(person))
    starts = np.clip(np.searchsorted(years[person], years[faces]) - NEAREST_IN_TIME, 0, len(person) - width)
    window = person[starts[:, None] + np.arange(width)]
    gaps = np.abs(years[window] - years[faces][:, None])
    order = np.argsort(gaps, axis=1, kind="stable")[:, :NEAREST_IN_TIME]
    nearest, gaps = np.take_along_axis(window, order, axis=1), np.take_along_axis(gaps, order, axis=1)
    distances = np.sqrt(np.maximum(2.0 - 2.0 * np.einsum("fd,fkd->fk", X[faces], X[nearest]), 0.0))
    each = _evidence(distances, gaps, rule).mean(axis=1)
    return np.bincount(owner, weights=each, minlength=len(groups)) / np.bincount(owner, minlength=len(groups))


def _apart_all(years, groups, photo_ids):
    """(G, G) bool: whether two groups cannot be one person at other ages: they share a photo, one
    has no dated face, or they lie in the same years (_same_years)."""
    return _same_years(years, groups) | _never_one(years, groups, photo_ids)


def _same_years(years, groups):
    """(G, G) bool: whether over MAX_OVERLAP of either group's dates lie within the other's years."""
    shares = np.zeros((len(groups), len(groups)))
    dated = [np.sort(years[group][~np.isnan(years[group])]) for group in groups]
    low = np.array([d[0] if len(d) else np.inf for d in dated])
    high = np.array([d[-1] if len(d) else -np.inf for d in dated])
    for a, d in enumerate(dated):  # the share of a's dates within each group's years
        if len(d):
            inside = np.searchsorted(d, high, side="right") - np.searchsorted(d, low, side="left")
            shares[a] = np.maximum(inside, 0) / len(d)
    return np.maximum(shares, shares.T) > MAX_OVERLAP


def _never_one(years, groups, photo_ids):
    """(G, G) bool: whether two groups share a photo, or one has no dated face."""
    dated = [not np.isnan(years[group]).all() for group in groups]
    apart = np.zeros((len(groups), len(groups)), bool)
    apart[[not d for d in dated]] = True
    apart[:, [not d for d in dated]] = True
    owner = np.full(len(years), -1)
    for g, group in enumerate(groups):
        owner[group] = g
    by_photo = {}
    for position in np.flatnonzero(owner >= 0):
        by_photo.setdefault(photo_ids[position], set()).add(owner[position])
    for shared in (sorted(owners) for owners in by_photo.values() if len(owners) > 1):
        for a, b in itertools.combinations(shared, 2):
            apart[a, b] = apart[b, a] = True
    return apart


def _nearest_in_time(years, others):
    """Positions of the NEAREST_IN_TIME `years` nearest the span of `others` (inside it: 0)."""
    away = np.where(years < others.min(), others.min() - years, np.where(years > others.max(), years - others.max(), 0))
    return np.argsort(away, kind="stable")[:NEAREST_IN_TIME]


def _log_ratio(distance, means_sds):
    """log N(distance; one person) - log N(distance; two people), per pair."""
    same_mean, same_sd, different_mean, different_sd = means_sds
    return (
        -0.5 * ((distance - same_mean) / same_sd) ** 2
        + 0.5 * ((distance - different_mean) / different_sd) ** 2
        + np.log(different_sd / same_sd)
    )


def cross_age_cut(Y, years, photo_ids, rule) -> np.ndarray:
    """(n,) canonical labels by the two steps of the module's docstring. Y: (n, d) faces, n >= 2;
    years: (n,) capture dates in years (NaN: none); photo_ids: (n,) the photo of each face."""
    from scipy.cluster.hierarchy import fcluster, linkage

    years = np.asarray(years, np.float64)
    same_time = np.where(np.isnan(years), np.nan, 0.0)
    # Linkage merges the smallest first: the evidence turned, in place, into a non-negative
    # distance, the clip where the evidence is 0.
    distances = pair_evidence(Y, same_time, rule)
    np.subtract(rule.clip, distances, out=distances)
    labels = fcluster(linkage(distances, method="average"), rule.clip, criterion="distance")
    del distances
    X, photo_ids = centred(Y), np.asarray(photo_ids)
    labels = join_across_ages(X, years, labels, photo_ids, rule)
    return canonical_labels(join_nearest_in_time(X, years, labels, photo_ids, rule))


def join_across_ages(X, years, labels, photo_ids, rule) -> np.ndarray:
    """Step 2: labels with groups of JOIN_MIN_FACES faces or more that follow each other in time
    (not _apart, nor any of the groups joined into them) joined by average linkage over every pair
    between them, each weighed at the years between its faces, while that average is at least
    JOIN_FROM. X: (n, d) centred faces."""
    labels = np.asarray(labels).copy()
    keys, sizes = np.unique(labels, return_counts=True)
    keys = keys[sizes >= JOIN_MIN_FACES]
    groups = [np.flatnonzero(labels == key) for key in keys]
    if len(groups) < 2:
        return labels
    blocked = _apart_all(years, groups, photo_ids)
    sums = _evidence_sums(X, years, groups, blocked, rule)
    counts = np.outer([len(g) for g in groups], [len(g) for g in groups]).astype(np.float64)
    joined_into = np.arange(len(groups))
    active = np.ones(len(groups), bool)
    while True:
        means = np.where(blocked | ~active[:, None] | ~active[None, :], -np.inf, sums / counts)
        np.fill_diagonal(means, -np.inf)
        a, b = np.unravel_index(int(np.argmax(means)), means.shape)
        if means[a, b] < JOIN_FROM:
            break
        for matrix in (sums, counts):
            matrix[a, :] += matrix[b, :]
            matrix[:, a] += matrix[:, b]
        blocked[a, :] |= blocked[b, :]
        blocked[:, a] |= blocked[:, b]
        active[b] = False
        joined_into[joined_into == b] = a
    for group, into in zip(groups, joined_into):
        labels[group] = keys[into]
    return labels


def join_nearest_in_time(X, years, labels, photo_ids, rule) -> np.ndarray:
    """Step 3: labels with groups of JOIN_MIN_FACES faces or more that follow each other in time
    joined where their faces nearest in time say one person from JOIN_NEAREST_FROM on
    (_nearest_evidence), the likeliest pair first. X: (n, d) centred faces."""
    labels = np.asarray(labels).copy()
    keys, sizes = np.unique(labels, return_counts=True)
    groups = {int(key): np.flatnonzero(labels == key) for key in keys[sizes >= JOIN_MIN_FACES]}
    pending = _likely_pairs(X, years, groups, photo_ids, rule, among=list(groups))
    while pending:
        (keep, joined), _ = max(pending.items(), key=lambda item: item[1])
        groups[keep] = np.concatenate([groups[keep], groups.pop(joined)])
        labels[groups[keep]] = keep
        pending = {pair: e for pair, e in pending.items() if keep not in pair and joined not in pair}
        pending.update(_likely_pairs(X, years, groups, photo_ids, rule, among=[keep]))
    return labels


def _likely_pairs(X, years, groups, photo_ids, rule, among):
    """{(key, key): evidence} of the pairs of groups ({key: positions}) with a key `among` whose
    evidence (_weighed_pairs) is at least JOIN_NEAREST_FROM."""
    weighed = _weighed_pairs(X, years, groups, photo_ids, rule, among)
    return {pair: evidence for pair, evidence in weighed.items() if evidence >= JOIN_NEAREST_FROM}


def _weighed_pairs(X, years, groups, photo_ids, rule, among):
    """{(key, key): evidence}, the smaller key first, of the pairs of groups ({key: positions}, X
    centred) with a key `among` that may be one person: of two groups that follow each other in
    time (not _apart_all), _nearest_evidence; of a group within the years of a person of
    WITHIN_PERSON_PHOTOS photos or more (and no photo shared), the group of fewer dated faces
    weighed against the other (_within_evidence)."""
    keys = list(groups)
    listed = [groups[key] for key in keys]
    seen_often = np.array([len(np.unique(photo_ids[group])) >= WITHIN_PERSON_PHOTOS for group in listed])
    same_years = _same_years(years, listed)
    within = same_years & (seen_often[:, None] | seen_often[None, :])
    blocked = (same_years & ~within) | _never_one(years, listed, photo_ids)
    dated = [int(np.count_nonzero(~np.isnan(years[group]))) for group in listed]
    found, seen, within_of = {}, set(), {}
    for a in [keys.index(key) for key in among]:
        for b in np.flatnonzero(~blocked[a]):
            first, second = sorted((a, int(b)), key=lambda g: keys[g])
            if a == b or (first, second) in seen:
                continue
            seen.add((first, second))
            if within[a, b]:  # each person's groups weighed at once
                few, person = (first, second) if dated[first] <= dated[second] else (second, first)
                within_of.setdefault(person, []).append(few)
                continue
            found[keys[first], keys[second]] = _nearest_evidence(X, years, listed[first], listed[second], rule)
    for person, fews in within_of.items():
        for few, evidence in zip(fews, _within_evidence(X, years, listed[person], [listed[g] for g in fews], rule)):
            found[tuple(sorted((keys[few], keys[person])))] = float(evidence)
    return found


def _evidence_sums(X, years, groups, blocked, rule):
    """(G, G) the evidence summed over every pair of faces between two groups that may be one
    person (not `blocked`; the others, and the diagonal, 0)."""
    sums = np.zeros((len(groups), len(groups)))
    for a, group in enumerate(groups):
        partners = [b for b in np.flatnonzero(~blocked[a]) if b > a]
        if not partners:
            continue
        columns = np.concatenate([groups[b] for b in partners])
        owners = np.repeat(partners, [len(groups[b]) for b in partners])
        summed = np.zeros(len(columns))
        for start in range(0, len(group), BLOCK_ROWS):  # a block of BLOCK_ROWS x len(columns) floats
            summed += _evidence_block(X, years, group[start : start + BLOCK_ROWS], columns, rule).sum(axis=0)
        sums[a, partners] = np.bincount(owners, weights=summed, minlength=len(groups))[partners]
    return sums + sums.T
