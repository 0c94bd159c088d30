"""facecluster.clustering.attach_others on small synthetic faces: a face of others near one person
and far from everyone else joins that person; an ambiguous one, one near a stranger, one too far
and one whose photo the person is in already stay in others."""

from dataclasses import replace

import numpy as np
import pytest
from test_sort import AGGLOMERATIVE

from facecluster.clustering import SortSpec, sort_faces
from facecluster.clustering.attach_others import attach_to_persons
from facecluster.photos.embedders.fitted import CutRule
from facecluster.workflow.config import ConfigError

LIMIT = 0.5
A, B = 0, 1  # two persons' clusters


def persons(n=8, seed=0):
    """(Y, labels, photo_ids): person A (n faces about (0, 0)) and person B (n faces about (5, 0)),
    each face in a photo of its own."""
    rng = np.random.default_rng(seed)
    Y = np.concatenate([rng.normal((0, 0), 0.05, (n, 2)), rng.normal((5, 0), 0.05, (n, 2))])
    labels = np.repeat([A, B], n)
    return Y, labels, np.array([f"photo {i}" for i in range(2 * n)])


def with_faces(Y, labels, photo_ids, points, photos):
    """The faces `points` added, each in no cluster (-1), in `photos`."""
    points = np.asarray(points, float)
    return (
        np.concatenate([Y, points]),
        np.concatenate([labels, np.full(len(points), -1)]),
        np.concatenate([photo_ids, photos]),
    )


def attach(Y, labels, photo_ids, **settings):
    return attach_to_persons(Y, labels, photo_ids, **{"min_photos": 4, "limit": LIMIT, **settings})


def test_a_face_near_one_person_and_far_from_everyone_else_joins_that_person():
    Y, labels, photo_ids = with_faces(*persons(), [[0.3, 0.0], [4.7, 0.1]], ["new 1", "new 2"])

    attached, count = attach(Y, labels, photo_ids)

    assert count == 2
    assert attached[-2:].tolist() == [A, B]
    assert attached[:-2].tolist() == labels[:-2].tolist()  # nobody else moves


def test_a_face_too_far_from_every_person_stays_in_others():
    Y, labels, photo_ids = with_faces(*persons(), [[0.8, 0.0]], ["new"])

    attached, count = attach(Y, labels, photo_ids)

    assert count == 0 and attached[-1] == -1
    assert attach(Y, labels, photo_ids, limit=1.0)[0][-1] == A


def test_a_face_as_near_another_person_stays_in_others():
    # Half way between A and a third person C as near: ambiguous.
    Y, labels, photo_ids = persons()
    rng = np.random.default_rng(1)
    C = rng.normal((0.6, 0), 0.05, (8, 2))
    Y = np.concatenate([Y, C])
    labels = np.concatenate([labels, np.full(8, 2)])
    photo_ids = np.concatenate([photo_ids, [f"photo C {i}" for i in range(8)]])
    Y, labels, photo_ids = with_faces(Y, labels, photo_ids, [[0.3, 0.0]], ["new"])

    attached, count = attach(Y, labels, photo_ids)

    assert count == 0 and attached[-1] == -1


def test_a_face_with_a_stranger_nearer_than_the_person_stays_in_others():
    # Two faces of a stranger, in a cluster of their own (one photo each, too few for a person),
    # both near A: each has the other nearer than A.
    Y, labels, photo_ids = with_faces(*persons(), [[0.35, 0.0], [0.37, 0.02]], ["stranger 1", "stranger 2"])
    labels[-2:] = 7

    attached, count = attach(Y, labels, photo_ids)

    assert count == 0 and attached[-2:].tolist() == [7, 7]
    # With no margin to keep, each goes to A.
    assert attach(Y, labels, photo_ids, margin=0.0)[1] == 2


def test_a_face_whose_photo_the_person_is_in_already_stays_in_others():
    Y, labels, photo_ids = persons()
    Y, labels, photo_ids = with_faces(Y, labels, photo_ids, [[0.3, 0.0]], [photo_ids[0]])

    attached, count = attach(Y, labels, photo_ids)

    assert count == 0 and attached[-1] == -1


def test_of_two_faces_of_one_photo_near_one_person_the_nearer_alone_joins():
    for faces, expected in (([[-0.3, 0.0], [0.35, 0.0]], [A, -1]), ([[0.35, 0.0], [-0.3, 0.0]], [-1, A])):
        Y, labels, photo_ids = with_faces(*persons(), faces, ["new", "new"])

        attached, count = attach(Y, labels, photo_ids, margin=0.0)

        assert count == 1
        assert attached[-2:].tolist() == expected


def test_a_cluster_of_fewer_than_min_photos_photos_is_no_person_to_join():
    Y, labels, photo_ids = with_faces(*persons(n=3), [[0.2, 0.0]], ["new"])

    assert attach(Y, labels, photo_ids)[1] == 0
    assert attach(Y, labels, photo_ids, min_photos=3)[0][-1] == A


RULE = CutRule(window=(0.8, 1.2), width=0.1, full_window_faces=100, floor=0.9, join=1.0, join_max_faces=0, attach=0.8)


def test_sort_faces_attaches_where_the_clusterer_finds_k_and_says_how_many():
    # Person A's faces along a line (a face turning), the new face past its end: too far for the
    # cut at 0.7, its three nearest faces of A 0.5 away on average.
    line = np.stack([np.linspace(0, 1, 11), np.zeros(11)], axis=1)
    Y = np.concatenate([line, line + (5, 0), [[1.4, 0.0]]])
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])
    spec = SortSpec(
        "agglomerative",
        {**AGGLOMERATIVE, "cut": "threshold"},
        threshold=0.7,
        cut_rule=RULE,
        min_photos=4,
        attach={"limit": "auto", "margin": 1.0},
    )

    sorting = sort_faces(Y, photo_ids, spec, scored=False)

    assert spec.attach_limit == pytest.approx(0.56)
    assert sorting.labels.tolist() == [0] * 11 + [1] * 11 + [0]
    assert sorting.k == 2
    assert sorting.notes[-1].startswith("1 faces of others attached to the nearest person")
    # Off: limit 0, no attach settings, an embedder with no constant, or K given.
    for off in (
        replace(spec, attach={"limit": 0, "margin": 1.0}),
        replace(spec, attach=None),
        replace(spec, cut_rule=replace(RULE, attach=None)),
    ):
        assert off.attach_limit is None
        assert sort_faces(Y, photo_ids, off, scored=False).labels[-1] == 2  # a cluster of its own
    assert replace(spec, k=2, threshold=None).attach_limit is None
    assert replace(spec, attach={"limit": 0.5, "margin": 1.0}).attach_limit == pytest.approx(0.35)


def test_the_setting_is_validated_and_defaults_to_the_embedders_constant():
    from test_config import SHIPPED, resolved

    photos = resolved({**SHIPPED, "photos": "data/demo"}, "photos")
    assert photos["attach"] == {"limit": "auto", "margin": 1.0}
    spec = SortSpec.from_settings(photos)
    assert spec.attach_limit == pytest.approx(0.80 * 1.1380)
    for wrong, message in (
        ({"limit": -1}, "attach.limit"),
        ({"margin": 0.5}, "attach.margin"),
        ({"faces": 3}, "faces"),
    ):
        config = {**SHIPPED, "experiments": {"e": {"dataset": "demo", "attach": wrong}}}
        with pytest.raises(ConfigError, match=message):
            resolved(config, "e")
