"""The review pages' "check these first" lists (facecluster.outputs.review)."""

import numpy as np

from facecluster.outputs.review import NEAR_RATIO, near_faces, person_split


def rms(X, face, rows):
    return np.sqrt(np.mean([np.sum((X[face] - X[r]) ** 2) for r in rows if r != face]))


def test_near_faces_are_those_almost_as_near_another_person_as_their_own_by_exact_distances():
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (60, 16))
    groups = [list(range(0, 25)), list(range(25, 45)), list(range(45, 59)), [59]]
    found = near_faces(X, groups)

    expected = []
    for own, rows in enumerate(groups[:3]):
        for position, face in enumerate(rows):
            others = [rms(X, face, g) for o, g in enumerate(groups) if o != own]
            ratio = rms(X, face, rows) / min(others)
            if ratio >= NEAR_RATIO:
                expected.append((own, position, ratio))
    assert len(found) == len(expected) > 0  # random points: many are as near another group
    assert [(o, p) for o, p, _, _ in found] == [(o, p) for o, p, _ in sorted(expected, key=lambda e: -e[2])]
    assert np.allclose([r for *_, r in found], sorted((r for *_, r in expected), reverse=True))


def test_a_person_made_of_two_tight_groups_is_split_and_one_group_is_not():
    rng = np.random.default_rng(2)
    one = rng.normal(0, 0.05, (6, 16))
    two = np.concatenate([one, rng.normal(0, 0.05, (5, 16)) + np.eye(16)[0] * 0.8])

    assert person_split(one, threshold=0.5) is None
    split = person_split(two, threshold=0.5)
    assert split is not None and split["split_at"] in (5, 6)
    first = set(split["order"][: split["split_at"]])
    assert first in ({*range(6)}, {*range(6, 11)})
    assert split["between"] > 0.5 and person_split(two, threshold=1.0) is None  # not farther than the distance
