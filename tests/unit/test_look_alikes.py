"""facecluster.clustering.look_alikes on small synthetic faces: a face far from its person with
other faces about as near leaves it; a person's odd photo with nothing else near stays, and so
does a face near its person."""

from dataclasses import replace

import numpy as np
import pytest
from test_attach_others import RULE, persons
from test_sort import AGGLOMERATIVE

from facecluster.clustering import SortSpec, sort_faces
from facecluster.clustering.look_alikes import part_look_alikes

FAR, RATIO = 0.5, 0.9
A = 0


def with_faces(Y, labels, photo_ids, points, clusters, photos):
    """The faces `points` added, in `clusters`, in `photos`."""
    return (
        np.concatenate([Y, np.asarray(points, float)]),
        np.concatenate([labels, clusters]),
        np.concatenate([photo_ids, photos]),
    )


def part(Y, labels, photo_ids, **settings):
    return part_look_alikes(Y, labels, photo_ids, **{"min_photos": 4, "far": FAR, "ratio": RATIO, **settings})


def test_a_face_with_look_alikes_about_leaves_the_person_it_lies_far_from():
    # Person A about (0, 0) took in a face at (0.7, 0); a stranger of others lies 0.7 from it.
    Y, labels, photo_ids = with_faces(*persons(), [[0.7, 0.0], [0.7, 0.7]], [A, -1], ["new", "stranger"])

    parted, count = part(Y, labels, photo_ids)

    assert count == 1 and parted[-2] not in labels  # a cluster of its own: others, not set aside
    assert parted[:-2].tolist() == labels[:-2].tolist()  # nobody else moves
    # Only the faces `among` may leave (after new photos, the new faces).
    assert part(Y, labels, photo_ids, among=np.arange(len(Y)) != len(Y) - 2)[1] == 0
    # The stranger clearly farther than A's nearest face (about 0.7 / 0.9): the face stays.
    Y[-1] = (0.7, 0.9)
    assert part(Y, labels, photo_ids)[1] == 0


def test_a_persons_odd_photo_with_nothing_else_near_stays():
    Y, labels, photo_ids = with_faces(*persons(), [[0.7, 0.0]], [A], ["odd"])

    assert part(Y, labels, photo_ids)[1] == 0


def test_a_face_near_its_person_stays_whatever_lies_about():
    Y, labels, photo_ids = with_faces(*persons(), [[0.3, 0.0], [0.3, 0.05]], [A, -1], ["new", "stranger"])

    assert part(Y, labels, photo_ids)[1] == 0


def test_in_a_large_person_the_face_elsewhere_is_found_beyond_the_listed_neighbours():
    # 40 tight faces of A, all about 0.7 from the taken-in face and nearer than the stranger (0.75):
    # none of its 10 nearest faces is elsewhere.
    person = np.random.default_rng(0).normal(0, 0.01, (40, 2))
    Y = np.concatenate([person, [[0.7, 0.0], [0.7, 0.75]]])
    labels = np.array([A] * 41 + [-1])
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])

    assert part(Y, labels, photo_ids)[0][-2] not in labels


def test_a_face_of_its_own_photo_is_not_elsewhere():
    Y, labels, photo_ids = with_faces(*persons(), [[0.7, 0.0], [0.7, 0.7]], [A, -1], ["new", "new"])

    assert part(Y, labels, photo_ids)[1] == 0


def test_a_tight_group_of_look_alikes_leaves_together_as_one_cluster():
    # Three near-identical photos of a stranger, taken into person A (8 faces about (0, 0)) about
    # (0.7, 0): each has the other two near, so alone none is far from A. Another stranger lies
    # 0.7 from the group.
    group = [[0.7, 0.0], [0.71, 0.0], [0.7, 0.01]]
    Y, labels, photo_ids = with_faces(
        *persons(), [*group, [0.7, 0.7]], [A, A, A, -1], ["burst 1", "burst 2", "burst 3", "stranger"]
    )

    assert part(Y, labels, photo_ids)[1] == 0  # each face alone: its nearest face of A is near
    parted, count = part(Y, labels, photo_ids, group=0.1)

    assert count == 3
    assert len(set(parted[-4:-1])) == 1 and parted[-2] not in labels  # one new cluster
    assert parted[:-4].tolist() == labels[:-4].tolist()
    # The group stays where one of its faces may not leave (after new photos: an old face).
    assert part(Y, labels, photo_ids, group=0.1, among=np.arange(len(Y)) != len(Y) - 4)[1] == 0
    # A's own burst, with nothing else near, stays.
    Y[-1] = (0.7, 2.0)
    assert part(Y, labels, photo_ids, group=0.1)[1] == 0


def test_a_group_holding_half_of_its_person_never_leaves():
    # Person A: two groups of 4 faces, 1.0 apart; a stranger lies as near to either.
    rng = np.random.default_rng(2)
    Y = np.concatenate([rng.normal((0, 0), 0.01, (4, 2)), rng.normal((1, 0), 0.01, (4, 2)), [[0.5, 0.9]]])
    labels = np.array([A] * 8 + [-1])
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])

    assert part(Y, labels, photo_ids, group=0.1)[1] == 0
    # Three faces more in the first group: the second, now under half, leaves.
    Y = np.concatenate([Y, rng.normal((0, 0), 0.01, (3, 2))])
    labels = np.concatenate([labels, [A] * 3])
    photo_ids = np.concatenate([photo_ids, ["photo a", "photo b", "photo c"]])
    parted, count = part(Y, labels, photo_ids, group=0.1)
    assert count == 4 and len(set(parted[4:8])) == 1 and parted[4] != A


def test_sort_faces_parts_look_alikes_where_the_clusterer_finds_k_and_says_how_many():
    # A tight person of 8 faces; average linkage at 1.1 takes in a face 1.0 from it, whose
    # nearest stranger lies 1.05 away (and 1.45 from the person, alone).
    rng = np.random.default_rng(1)
    Y = np.concatenate([rng.normal(0, 0.02, (8, 2)), [[1.0, 0.0], [1.0, 1.05]]])
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])
    spec = SortSpec(
        "agglomerative",
        {**AGGLOMERATIVE, "cut": "threshold"},
        threshold=1.1,
        cut_rule=replace(RULE, look_alike_far=0.8, look_alike_ratio=0.9),
        min_photos=4,
    )

    sorting = sort_faces(Y, photo_ids, spec, scored=False)

    assert spec.look_alike_far == pytest.approx(0.8)  # of the cut, 1.1
    assert sorting.labels[:8].tolist() == [0] * 8 and sorting.labels[8] not in (0, sorting.labels[9])
    # Every face sorted keeps a cluster (no cluster marks a face set aside): new photos are then
    # placed among these persons, not sorted in full again.
    assert (sorting.labels >= 0).all()
    assert any(
        note.startswith("1 faces parted from their person: their nearest face of it over 0.8800")
        for note in sorting.notes
    )
    # Off: an embedder with no such constant, or K given.
    off = replace(spec, cut_rule=RULE)
    assert off.look_alike_far is None
    assert sort_faces(Y, photo_ids, off, scored=False).labels.tolist()[:9] == [0] * 9
    assert replace(spec, k=2, threshold=None).look_alike_far is None
