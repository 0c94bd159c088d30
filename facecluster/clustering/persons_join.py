"""Persons the folder's cut split, joined again: a person seen in hundreds of photos is one."""

import numpy as np

from facecluster.clustering import neighbors


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
    pairs under the limit were two people (bench/results.md). "On average":
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
