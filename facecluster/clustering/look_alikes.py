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
one lies within `far`, show a group is near its person; the nearest face of the person outside
the group is then found exactly, among the person's faces, and the nearest face elsewhere, among
all, for the few groups far from their person (in a large person all of a face's neighbours can
be the person's). Memory is linear in the faces.
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
    points = neighbors.prepare(Y, metric)
    own_of_group = _least_by_group(group_of, rows, nearest_of_person(points, rows, person, group_of, metric))
    far_out = weighed & (own_of_group > far)
    rows = rows[far_out[group_of[rows]]]
    elsewhere_of_group = _least_by_group(group_of, rows, nearest_elsewhere(points, rows, person, photo_codes, metric))
    leaving = far_out & (own_of_group >= ratio * elsewhere_of_group)
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


def _least_by_group(group_of, rows, values):
    """(n,) by group: the least of `values` over the group's `rows` (inf: none)."""
    least = np.full(len(group_of), np.inf)
    np.minimum.at(least, group_of[rows], values)
    return least


def nearest_of_person(points, rows, person, group_of, metric, block=128):
    """(len(rows),) each face's distance to its nearest face of its person outside its group (inf:
    none). Exact, over the person's faces only: the groups of near-identical faces that may leave
    can be most of a large person (each face's neighbours all in its group)."""
    nearest = np.full(len(rows), np.inf, np.float32)
    faces_of = _by_person(np.arange(len(person)), person)
    for who, at in _by_person(np.arange(len(rows)), person[rows]).items():
        faces = faces_of[who]
        for start in range(0, len(at), block):
            chunk = at[start : start + block]
            squared = _squared_distances(points[rows[chunk]], points[faces])
            outside = group_of[faces][None, :] != group_of[rows[chunk]][:, None]
            nearest[chunk] = np.sqrt(np.maximum(np.where(outside, squared, np.inf).min(axis=1), 0))
    return neighbors.to_metric(nearest, metric)


def _by_person(items, person_of_item):
    """{person: its items}, in one sort (a library has thousands of persons)."""
    if not len(items):
        return {}
    order = np.argsort(person_of_item, kind="stable")
    persons, starts = np.unique(person_of_item[order], return_index=True)
    return dict(zip(persons.tolist(), np.split(items[order], starts[1:]), strict=True))


def nearest_elsewhere(points, rows, person, photo_codes, metric, block=128):
    """(len(rows),) each face's distance to its nearest face outside its person and its photo (inf:
    none). Exact, over every face: in a large person a face's neighbours can all be the person's.
    The rows are the faces of the few groups far from their person, so this costs little beside
    the neighbours."""
    nearest = np.full(len(rows), np.inf, np.float32)
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        squared = _squared_distances(points[chunk], points)
        apart = (person[None, :] != person[chunk, None]) & (photo_codes[None, :] != photo_codes[chunk, None])
        nearest[start : start + len(chunk)] = np.sqrt(np.maximum(np.where(apart, squared, np.inf).min(axis=1), 0))
    return neighbors.to_metric(nearest, metric)


def _squared_distances(A, B):
    return np.einsum("ij,ij->i", A, A)[:, None] - 2 * A @ B.T + np.einsum("ij,ij->i", B, B)[None, :]
