"""Persons the folder's cut split, joined again: a person seen in hundreds of photos is one."""

import heapq

import numpy as np

from facecluster.clustering import neighbors


def join_split_persons(Y, labels, photo_ids, *, min_photos, limit, large_photos=0, metric="euclidean", apart=None):
    """(labels, how many joins): persons, clusters holding faces of at least `min_photos`
    photos, joined two at a time while the nearest two lie under `limit` apart on average, share
    no photo, and one of them holds faces of `large_photos` photos at least. apart: (n,) bool, the
    faces whose clusters take no part (None: none).

    The folder's cut has to be strict among thousands of strangers seen once, and so splits a
    person seen in hundreds of photos into a large cluster and fragments of a few photos each
    (a burst, a blurred series). Between two persons the mean over all their pairs of faces is a
    far surer measure than the single pairs the cut weighs, and a person is never twice in a
    photo; faces in no person's cluster take no part, so strangers cannot chain. Two persons of a
    few photos each are left as the cut made them: among lfw-dev's 2,879 people the few such
    pairs under the limit were two people (bench/results.md). "On average":
    the root mean square of the Euclidean distances, the mean of the cosine ones, both exact
    from each person's sums (a library's persons hold hundreds of thousands of faces).
    """
    from scipy.sparse import csr_matrix

    labels = np.asarray(labels).copy()
    photo_codes = np.unique(np.asarray(photo_ids), return_inverse=True)[1]
    # The photos of each cluster, counted at once: a library's clusters are mostly single faces.
    known = (labels >= 0) if apart is None else (labels >= 0) & ~np.asarray(apart, bool)
    span = photo_codes.max() + 1
    pairs = np.unique(labels[known].astype(np.int64) * span + photo_codes[known])
    clusters, photos_each = np.unique(pairs // span, return_counts=True)
    persons, photo_counts = clusters[photos_each >= min_photos], photos_each[photos_each >= min_photos]
    if len(persons) < 2:
        return labels, 0
    # The faces of persons, each with its person as a position in persons: no (persons, faces)
    # masks, which at a library's thousands of persons and hundreds of thousands of faces are gigabytes.
    position = np.minimum(np.searchsorted(persons, labels), len(persons) - 1)
    faces = np.flatnonzero(known & (persons[position] == labels))
    owner = position[faces]
    points = neighbors.prepare(Y, metric).astype(np.float64)[faces]  # cosine: unit rows
    sizes = np.bincount(owner, minlength=len(persons)).astype(np.float64)
    sums = csr_matrix((np.ones(len(faces)), (owner, np.arange(len(faces))))) @ points
    squares = np.bincount(owner, weights=np.einsum("ij,ij->i", points, points), minlength=len(persons))
    person_pairs = pairs[np.isin(pairs // span, persons)]
    photos = [set() for _ in persons]
    for person, photo in zip(np.searchsorted(persons, person_pairs // span).tolist(), (person_pairs % span).tolist()):
        photos[person].add(photo)
    small = photo_counts < large_photos

    def mean_distances(block, others):
        """(len(block), len(others)) the mean distances of the persons `block` to the persons `others`."""
        cross = sums[block] @ sums[others].T / np.outer(sizes[block], sizes[others])
        if metric == "cosine":
            return 1 - cross
        spread = squares / sizes
        return np.sqrt(np.maximum(spread[block, None] + spread[others] - 2 * cross, 0))

    near = _near_pairs(len(persons), mean_distances, limit)
    # Pairs sharing a photo never join, however the persons grow (their photos only add up).
    for a in range(len(persons)):
        near[a] = {b: d for b, d in near[a].items() if not photos[a] & photos[b]}
    heap = [(d, a, b) for a in range(len(persons)) for b, d in near[a].items() if a < b and not (small[a] and small[b])]
    heapq.heapify(heap)
    joined_to = np.arange(len(persons))
    joined = 0
    while heap:
        d, a, b = heapq.heappop(heap)
        if near[a].get(b) != d or (small[a] and small[b]):
            continue  # stale: a or b joined since, or both small
        joined_to[b] = a
        sizes[a], sums[a], squares[a] = sizes[a] + sizes[b], sums[a] + sums[b], squares[a] + squares[b]
        photo_counts[a] += photo_counts[b]
        small[a] = photo_counts[a] < large_photos
        photos[a] |= photos[b]
        # Only the persons near a or b can be near a and b joined: its mean distance to anyone
        # is a weighted mean of theirs (of the squared distances, for the Euclidean RMS).
        others = sorted((set(near[a]) | set(near[b])) - {a, b})
        for c in set(near[a]) | set(near[b]):
            near[c].pop(a, None)
            near[c].pop(b, None)
        near[a], near[b] = {}, {}
        others = [c for c in others if not photos[a] & photos[c]]
        for c, distance in zip(others, mean_distances([a], others)[0] if others else []):
            if distance < limit:
                near[a][c] = near[c][a] = distance
                if not (small[a] and small[c]):
                    heapq.heappush(heap, (distance, min(a, c), max(a, c)))
        joined += 1
    labels[faces] = persons[_roots(joined_to)[owner]]
    return labels, joined


def _near_pairs(count, mean_distances, limit, block_entries=2**22):
    """[{b: distance}] for each person a, the persons b under `limit` from it on average, measured
    a block of persons at a time (no persons x persons matrix: a library has thousands)."""
    near = [{} for _ in range(count)]
    everyone = np.arange(count)
    block = max(1, block_entries // count)
    for start in range(0, count, block):
        rows = np.arange(start, min(start + block, count))
        distances = mean_distances(rows, everyone)
        for i, b in zip(*np.nonzero(distances < limit)):
            if rows[i] != b:
                near[rows[i]][int(b)] = float(distances[i, b])
    return near


def _roots(joined_to):
    """Each person's final person: joined_to[b] = a where b joined a, followed to its end."""
    roots = joined_to.copy()
    while not np.array_equal(roots, roots[roots]):
        roots = roots[roots]
    return roots
