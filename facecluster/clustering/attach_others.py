"""Faces of `others` near one person and far from everyone else, attached to that person.

A face not set aside is `others` when the cut leaves it alone or in a cluster of fewer than
min_photos photos: most often a stranger, sometimes a person's odd photo (a profile, a grimace,
a blurred shot) that the cut, strict among strangers, kept apart. Such a face is attached to the
person it lies near when its few nearest faces of that person are within the limit and no other
face, of another person or of `others`, lies nearer: a stranger's face has its own look-alikes
around it, another person's or a stranger's; a person's odd photo has only the person.

Only each face's NEIGHBORS nearest faces are looked at (facecluster.clustering.neighbors: exact
in blocks, an inverted-file index above neighbors.EXACT_MAX_ROWS faces), so memory is linear in
the faces; no faces x faces matrix.
"""

import numpy as np

from facecluster.clustering import neighbors
from facecluster.tables import UNKNOWN

# The nearest faces of each face of others that are looked at.
NEIGHBORS = 10
# A face's distance to a person: the mean over its nearest FACES faces of that person among them.
FACES = 3


def attach_to_persons(Y, labels, photo_ids, *, min_photos, limit, margin=1.0, metric="euclidean", seed=0, among=None):
    """(labels, how many faces attached): each face of others attached to the person it lies
    near and far from everyone else.

    Y: (n, d) the faces' points; labels: (n,) int clusters, UNKNOWN (-1) in none; photo_ids: (n,)
    the photo of each face; a person is a cluster of faces of at least `min_photos` photos, a face
    of others one in no person; among: (n,) bool, the faces that may be attached (None: all). Among
    a face of others' NEIGHBORS nearest faces, its person is
    that of the nearest face in a person, and it is attached to that person when:

    - the mean distance to its FACES nearest faces of that person (those listed) is under `limit`
      (in `metric` units: a multiple of the calibrated threshold);
    - no face listed outside that person (another person's, or of others) is nearer than `margin`
      times that mean;
    - no face of its photo is that person's (a person is never twice in a photo); of several
      faces of one photo bound for one person, the nearest alone.

    Every face is measured against the persons as the cut and the join made them, so the order
    of the faces does not matter and one attached face never draws in another.
    """
    labels = np.asarray(labels, np.int64).copy()
    photo_codes = np.unique(np.asarray(photo_ids), return_inverse=True)[1].astype(np.int64)
    person = persons_of(labels, photo_codes, min_photos)
    candidates = np.flatnonzero((person == UNKNOWN) & (True if among is None else np.asarray(among)))
    if not len(candidates) or not (person != UNKNOWN).any():
        return labels, 0
    distances, indices = neighbors.knn(Y, NEIGHBORS, metric=metric, seed=seed, rows=candidates)
    listed = indices >= 0
    owners = np.where(listed, person[np.maximum(indices, 0)], UNKNOWN)
    has_person = (owners != UNKNOWN).any(axis=1)
    target = owners[np.arange(len(candidates)), np.argmax(owners != UNKNOWN, axis=1)]
    own = (owners == target[:, None]) & has_person[:, None]
    nearest_own = own & (np.cumsum(own, axis=1) <= FACES)
    near = np.where(nearest_own, distances, 0).sum(axis=1) / np.maximum(nearest_own.sum(axis=1), 1)
    # The nearest face listed outside the person; when all are the person's, everyone else lies
    # beyond the last listed.
    others_listed = listed & ~own
    last = np.where(listed, distances, -np.inf).max(axis=1)
    elsewhere = np.where(others_listed.any(axis=1), np.where(others_listed, distances, np.inf).min(axis=1), last)
    chosen = has_person & (near < limit) & (elsewhere >= margin * near)
    # A person is never twice in a photo: not where the person has a face of it already, and of
    # the faces of one photo bound for one person, the nearest only.
    taken = set(zip(person[person != UNKNOWN].tolist(), photo_codes[person != UNKNOWN].tolist()))
    best = {}
    for i in np.flatnonzero(chosen):
        key = (int(target[i]), int(photo_codes[candidates[i]]))
        if key not in taken and (key not in best or near[i] < near[best[key]]):
            best[key] = i
    attached = np.array(sorted(best.values()), np.int64)
    labels[candidates[attached]] = target[attached]
    return labels, len(attached)


def persons_of(labels, photo_codes, min_photos):
    """(n,) each face's cluster when that cluster holds faces of at least min_photos photos
    (a person), else UNKNOWN."""
    known = labels != UNKNOWN
    span = int(photo_codes.max()) + 1 if len(photo_codes) else 1
    pairs = np.unique(labels[known] * span + photo_codes[known])
    clusters, photos = np.unique(pairs // span, return_counts=True)
    persons = clusters[photos >= min_photos]
    return np.where(known & np.isin(labels, persons), labels, UNKNOWN)
