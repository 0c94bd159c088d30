"""facecluster.clustering.sort_faces on small synthetic faces: cannot-link, persons join, K chosen."""

from dataclasses import replace

import numpy as np
from test_choose import CALIBRATED, RULE
from test_cluster import blobs

from facecluster.clustering import SortSpec, sort_faces
from facecluster.clustering.metrics import external_metrics
from facecluster.clustering.sort import NEW, Earlier
from facecluster.photos.embedders.fitted import CutRule

AGGLOMERATIVE = {"linkage": "average", "metric": "euclidean", "neighbors": 10, "cannot_link": True}
SWEEP = {**AGGLOMERATIVE, "method": "agglomerative", "k": {"from": 2, "to": 10}}


def test_cannot_link_separates_two_faces_of_one_photo():
    Y = np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.0], [5.0, 5.0], [5.01, 5.0]])
    photo_ids = np.array(["a", "a", "b", "c", "d"])  # faces 0 and 1 are in one photo
    spec = SortSpec("agglomerative", {**AGGLOMERATIVE, "cut": "threshold"}, threshold=1.0)

    together = sort_faces(Y, photo_ids, replace(spec, cannot_link=False))
    apart = sort_faces(Y, photo_ids, spec)

    assert together.labels.tolist() == [0, 0, 0, 1, 1]
    assert apart.labels.tolist() == [0, 1, 1, 2, 2]  # face 0, farther from its cluster's mean, leaves
    assert (together.k, apart.k) == (2, 3)
    assert apart.notes == (
        "K=0: cannot-link moved 1 faces out of a cluster that already held a face of the same photo",
    )


def test_persons_the_cut_split_are_joined_unless_they_share_a_photo():
    rng = np.random.default_rng(0)
    person = rng.normal((0, 0), 0.02, (10, 2))
    fragment = rng.normal((0.6, 0), 0.02, (5, 2))  # the person again, in other photos
    sharing = rng.normal((0, -0.6), 0.02, (5, 2))  # as near, but in a photo of the person's too
    Y = np.concatenate([person, fragment, sharing])
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])
    photo_ids[15] = photo_ids[0]
    rule = CutRule(
        window=(0.8, 1.2), width=0.1, full_window_faces=100, floor=0.9, join=1.0, join_max_faces=0, persons_join=2.5
    )
    spec = SortSpec("agglomerative", {**AGGLOMERATIVE, "cut": "gap"}, threshold=0.3, cut_rule=rule, min_photos=4)

    sorting = sort_faces(Y, photo_ids, spec)

    assert spec.persons_join == 0.75
    assert sorting.k == 2
    assert sorting.labels.tolist() == [0] * 15 + [1] * 5
    assert sorting.notes[-1] == "1 joins of persons the cut split (on average under 0.7500 apart)"
    unjoined = sort_faces(
        Y, photo_ids, SortSpec(**{**spec.__dict__, "cut_rule": CutRule(**{**rule.__dict__, "persons_join": None})})
    )
    assert unjoined.k == 3


def test_k_is_chosen_in_a_sweep_by_the_people_found_without_k():
    X, truth = blobs(people=5, per_person=6, spread=0.05)
    photo_ids = np.arange(len(X))
    settings = {
        "cluster": {
            "method": "agglomerative",
            **AGGLOMERATIVE,
            "k": {"from": 2, "to": 10},
            "cut_rule": RULE.settings(),
        },
        "seed": 0,
        "min_photos": 4,
        "choose_k_by": "threshold",
        "choose_k_threshold": CALIBRATED,
    }
    spec = SortSpec.from_settings(settings)

    sorting = sort_faces(X, photo_ids, spec, truth=[str(t) for t in truth])

    assert spec.cut_rule == RULE and spec.k == {"from": 2, "to": 10}
    assert sorted(sorting.labels_by_k) == list(range(2, 11))
    assert sorting.k == 5
    assert external_metrics(truth, sorting.labels)["ari"] == 1.0
    assert sorting.scores[5]["ari"] == 1.0 and "silhouette" in sorting.scores[5]
    by_score = sort_faces(X, photo_ids, SortSpec.from_settings({**settings, "choose_k_by": "silhouette"}), scored=False)
    assert by_score.k == 5 and by_score.scores is None


def _same_partition(a, b):
    """Whether two labelings group the faces alike, whatever the numbers."""
    return len(set(zip(a.tolist(), b.tolist()))) == len(set(a.tolist())) == len(set(b.tolist()))


def test_new_faces_are_placed_among_the_persons_of_an_earlier_sorting():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
    old = np.concatenate([rng.normal(centres[p], 0.05, (6, 2)) for p in range(3)])  # persons A, B, C
    near_a = rng.normal(centres[0], 0.05, (2, 2))
    someone_new = rng.normal(centres[3], 0.05, (5, 2))  # D, in five new photos
    stranger = np.array([[-3.0, -3.0]])
    Y = np.concatenate([old, near_a, someone_new, stranger])
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])
    photo_ids[19] = photo_ids[0]  # the second new face near A shares a photo with one of A's faces
    spec = SortSpec("agglomerative", {**AGGLOMERATIVE, "cut": "threshold"}, threshold=1.0, min_photos=4)
    before = sort_faces(Y[:18], photo_ids[:18], spec)
    assert before.k == 3 and before.cut == 1.0

    labels = np.concatenate([before.labels, np.full(len(Y) - 18, NEW)])
    placed = sort_faces(Y, photo_ids, spec, earlier=Earlier(labels, before.cut))

    a, b, c = placed.labels[[0, 6, 12]]
    assert _same_partition(placed.labels[:18], before.labels)  # the earlier persons as they were
    assert placed.labels[18] == a  # near A, in a photo of its own: joins A
    assert placed.labels[19] != a  # near A, but A is in its photo already
    assert len(set(placed.labels[20:25].tolist())) == 1 and placed.labels[20] not in (a, b, c)  # D is new
    assert placed.labels[25] not in placed.labels[:25]  # the stranger alone
    assert placed.notes[0].startswith("8 new faces placed among the persons of the earlier sorting (1 joined")
    # A full sorting agrees, but for which of photo 0's two faces near A stays with A.
    others = np.setdiff1d(np.arange(len(Y)), [0, 19])
    assert _same_partition(placed.labels[others], sort_faces(Y, photo_ids, spec).labels[others])
