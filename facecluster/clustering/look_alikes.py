"""Look-alikes a person took in, parted from it again.

The folder's cut joins groups by average linkage: a stranger about as far from every face of a
tight person as the cut allows is taken in, though no face of that person lies near it. A
person's own odd photo (a profile, a blurred shot) can lie as far from the person, but nothing
else lies nearer; a look-alike stranger stands in a crowd of other look-alikes, strangers or
other persons' faces, about as near as the person's. So a face leaves its person for `others`
(a cluster of its own) when its nearest face of the person is far and hardly nearer than the
nearest face elsewhere.

Each face's NEIGHBORS nearest faces (facecluster.clustering.neighbors) give its nearest face of
its person; the nearest face elsewhere is then found exactly, for the few faces far from their
person only (in a large person all of a face's neighbours can be the person's). Memory is linear
in the faces.
"""

import numpy as np

from facecluster.clustering import neighbors
from facecluster.clustering.attach_others import NEIGHBORS, persons_of
from facecluster.tables import UNKNOWN


def part_look_alikes(Y, labels, photo_ids, *, min_photos, far, ratio, metric="euclidean", seed=0, among=None):
    """(labels, how many faces parted): each face of a person whose nearest face of that person
    lies beyond `far` and at least `ratio` times as far as the nearest face outside the person
    (another photo's) leaves it for a cluster of its own (others; cannot-link's way, so that the
    faces left in no cluster stay those set aside).

    Y: (n, d) the faces' points; labels: (n,) int clusters, UNKNOWN (-1) in none; photo_ids: (n,)
    the photo of each face; a person is a cluster of faces of at least `min_photos` photos; far in
    `metric` units; among: (n,) bool, the faces that may leave (None: all). Where none of a face's
    NEIGHBORS nearest faces is its person's, its nearest face of it lies beyond the last listed.
    Every face is measured against the persons as they came, so the order of the faces does not
    matter.
    """
    labels = np.asarray(labels, np.int64).copy()
    photo_codes = np.unique(np.asarray(photo_ids), return_inverse=True)[1].astype(np.int64)
    person = persons_of(labels, photo_codes, min_photos)
    members = np.flatnonzero(person != UNKNOWN)
    if among is not None:
        members = members[np.asarray(among, bool)[members]]
    if not len(members):
        return labels, 0
    distances, indices = neighbors.knn(Y, NEIGHBORS, metric=metric, seed=seed, rows=members)
    listed = indices >= 0
    own = listed & (person[np.maximum(indices, 0)] == person[members][:, None])
    last = np.where(listed, distances, -np.inf).max(axis=1)
    # Where none listed is the person's, its nearest face of it lies beyond the last listed.
    nearest_own = np.where(own.any(axis=1), np.where(own, distances, np.inf).min(axis=1), last)
    far_out = members[nearest_own > far]
    elsewhere = nearest_elsewhere(Y, far_out, person, photo_codes, metric)
    parted = far_out[nearest_own[nearest_own > far] >= ratio * elsewhere]
    labels[parted] = labels.max() + 1 + np.arange(len(parted))
    return labels, len(parted)


def nearest_elsewhere(Y, rows, person, photo_codes, metric, block=128):
    """(len(rows),) each face's distance to its nearest face outside its person and its photo (inf:
    none). Exact, over every face: in a large person a face's neighbours can all be the person's.
    The rows are the few faces far from their person, so this costs little beside the neighbours."""
    points = neighbors.prepare(Y, metric)
    squared_norms = np.einsum("ij,ij->i", points, points)
    nearest = np.full(len(rows), np.inf, np.float32)
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        squared = squared_norms[chunk, None] - 2 * points[chunk] @ points.T + squared_norms[None, :]
        apart = (person[None, :] != person[chunk, None]) & (photo_codes[None, :] != photo_codes[chunk, None])
        euclidean = np.sqrt(np.maximum(np.where(apart, squared, np.inf).min(axis=1), 0))
        nearest[start : start + len(chunk)] = neighbors.to_metric(euclidean, metric)
    return nearest
