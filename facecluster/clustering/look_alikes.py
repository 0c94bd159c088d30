"""Look-alikes a person took in, parted from it again.

The folder's cut joins groups by average linkage: a stranger about as far from every face of a
tight person as the cut allows is taken in, though no face of that person lies near it. A
person's own odd photo (a profile, a blurred shot) can lie as far from the person, but nothing
else lies nearer; a look-alike stranger stands in a crowd of other look-alikes, strangers or
other persons' faces, about as near as the person's. So a face leaves its person for `others`
(a cluster of its own) when its nearest face of the person is far and hardly nearer than the
nearest face elsewhere.

A stranger seen in several near-identical photos (a burst, or one photo kept in several sizes)
is taken in as a tight group: each of its faces has the others near, and only the group as a
whole lies far from the person. So the faces of a person linked by distances under `group` are
weighed together, the group's nearest face of the person outside it against its nearest face
elsewhere, and leave together, as one cluster. A group holding half of its person or more never
leaves.

Each face's NEIGHBORS nearest faces (facecluster.clustering.neighbors) give the groups and, where
one lies within `far`, show a group is near its person; the nearest faces of the person and
elsewhere are then found exactly, for the faces of the few groups left (in a large person all of
a face's neighbours can be the person's). Memory is linear in the faces.
"""

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from facecluster.clustering import neighbors
from facecluster.clustering.attach_others import NEIGHBORS, persons_of
from facecluster.tables import UNKNOWN


def part_look_alikes(
    Y, labels, photo_ids, *, min_photos, far, ratio, group=0.0, metric="euclidean", seed=0, among=None
):
    """(labels, how many faces parted): each group of a person's faces (linked by distances under
    `group`; 0: each face alone) holding under half of the person, whose nearest face of the
    person outside the group lies beyond `far` and at least `ratio` times as far as the nearest
    face outside the person (another photo's), leaves it as a cluster of its own (others, or a
    person of its own when its photos are enough; cannot-link's way, so that the faces left in
    no cluster stay those set aside).

    Y: (n, d) the faces' points; labels: (n,) int clusters, UNKNOWN (-1) in none; photo_ids: (n,)
    the photo of each face; a person is a cluster of faces of at least `min_photos` photos; far,
    group in `metric` units; among: (n,) bool, the faces that may leave (None: all; a group
    leaves only when all of it may). Every face is measured against the persons as they came, so
    the order of the faces does not matter.
    """
    labels = np.asarray(labels, np.int64).copy()
    photo_codes = np.unique(np.asarray(photo_ids), return_inverse=True)[1].astype(np.int64)
    person = persons_of(labels, photo_codes, min_photos)
    in_person = np.flatnonzero(person != UNKNOWN)
    may_leave = np.ones(len(Y), bool) if among is None else np.asarray(among, bool)
    members = in_person[may_leave[in_person]]
    if not len(members):
        return labels, 0
    distances, indices = neighbors.knn(Y, NEIGHBORS, metric=metric, seed=seed, rows=members)
    listed = indices >= 0
    own = listed & (person[np.maximum(indices, 0)] == person[members][:, None])
    group_of = _groups(len(Y), members, indices, own & (distances < group))
    # A listed face of the person outside the group within `far` shows the group near its person.
    outside = own & (group_of[np.maximum(indices, 0)] != group_of[members][:, None])
    near = np.zeros(len(Y), bool)
    near[group_of[members[(outside & (distances <= far)).any(axis=1)]]] = True
    weighed = _small_groups(group_of, person, in_person, may_leave) & ~near
    rows = members[weighed[group_of[members]]]
    nearest_own, elsewhere = nearest_own_and_elsewhere(Y, rows, person, group_of, photo_codes, metric)
    own_of_group = np.full(len(Y), np.inf)
    np.minimum.at(own_of_group, group_of[rows], nearest_own)
    elsewhere_of_group = np.full(len(Y), np.inf)
    np.minimum.at(elsewhere_of_group, group_of[rows], elsewhere)
    leaving = weighed & (own_of_group > far) & (own_of_group >= ratio * elsewhere_of_group)
    parted = leaving[group_of] & (person != UNKNOWN)
    # Each group that leaves becomes one new cluster.
    new_cluster = np.unique(group_of[parted], return_inverse=True)[1]
    labels[parted] = labels.max() + 1 + new_cluster
    return labels, int(parted.sum())


def _groups(n, members, indices, linked):
    """(n,) each face's group (a number under n): the faces joined by the `linked` pairs (member,
    listed neighbour)."""
    rows, columns = np.nonzero(linked)
    graph = coo_matrix((np.ones(len(rows), bool), (members[rows], indices[rows, columns])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _small_groups(group_of, person, in_person, may_leave):
    """(n,) bool by group: the groups of a person holding under half of it, all of whose faces
    may leave."""
    n = len(group_of)
    size = np.bincount(group_of[in_person], minlength=n)
    person_size = np.bincount(person[in_person], minlength=n)
    person_of_group = np.zeros(n, np.int64)
    person_of_group[group_of[in_person]] = person[in_person]
    small = (size > 0) & (2 * size < person_size[person_of_group])
    small[group_of[in_person[~may_leave[in_person]]]] = False
    return small


def nearest_own_and_elsewhere(Y, rows, person, group_of, photo_codes, metric, block=128):
    """((len(rows),), (len(rows),)) each face's distance to its nearest face of its person outside
    its group, and to its nearest face outside its person and its photo (inf: none). Exact, over
    every face: in a large person a face's neighbours can all be the person's. The rows are the
    faces of the few groups far from their person, so this costs little beside the neighbours."""
    points = neighbors.prepare(Y, metric)
    squared_norms = np.einsum("ij,ij->i", points, points)
    nearest_own = np.full(len(rows), np.inf, np.float32)
    nearest_elsewhere = np.full(len(rows), np.inf, np.float32)
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        squared = squared_norms[chunk, None] - 2 * points[chunk] @ points.T + squared_norms[None, :]
        same_person = person[None, :] == person[chunk, None]
        of_own = same_person & (group_of[None, :] != group_of[chunk, None])
        apart = ~same_person & (photo_codes[None, :] != photo_codes[chunk, None])
        for found, among in ((nearest_own, of_own), (nearest_elsewhere, apart)):
            euclidean = np.sqrt(np.maximum(np.where(among, squared, np.inf).min(axis=1), 0))
            found[start : start + len(chunk)] = neighbors.to_metric(euclidean, metric)
    return nearest_own, nearest_elsewhere
