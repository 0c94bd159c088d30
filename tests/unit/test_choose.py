"""The folder's own threshold (facecluster.clustering.folder_cut), choosing K by it
(facecluster.clustering.choose_k) and joining the persons it split (facecluster.clustering.persons_join)."""

from dataclasses import replace

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from test_cluster import blobs

from facecluster.clustering import folder_cut as threshold
from facecluster.clustering import neighbors
from facecluster.clustering.choose_k import choose_k, k_nearest, people_without_k
from facecluster.clustering.clusterers.agglomerative import agglomerative, agglomerative_sweep
from facecluster.clustering.folder_cut import folder_cut, join_lone_faces
from facecluster.clustering.metrics import external_metrics
from facecluster.clustering.persons_join import join_split_persons
from facecluster.clustering.spec import SortSpec
from facecluster.photos.embedders import EMBEDDERS

CALIBRATED = 0.5459  # dlib's Euclidean threshold
RULE = EMBEDDERS["dlib"].cut_rule
FLOOR, JOIN, WINDOW = RULE.floor, RULE.join, RULE.window


def test_the_folder_cuts_its_dendrogram_in_a_gap_near_the_calibrated_threshold():
    X, truth = blobs(people=6, per_person=8, spread=0.05)
    heights = linkage(X.astype(np.float64), method="average")[:, 2]

    cut = folder_cut(X, CALIBRATED, RULE).cut

    assert FLOOR * CALIBRATED < cut < WINDOW[1] * CALIBRATED
    below, above = heights[heights < cut].max(), heights[heights > cut].min()
    assert np.isclose(cut, (max(below, WINDOW[0] * CALIBRATED) + min(above, WINDOW[1] * CALIBRATED)) / 2)
    assert external_metrics(truth, agglomerative(X, distance_threshold=cut))["bcubed_f1"] == 1.0


def test_the_cut_goes_no_lower_than_the_floor():
    X, _ = blobs(people=6, per_person=8, spread=0.05)
    gap = folder_cut(X, CALIBRATED, RULE).cut
    high_floor = replace(RULE, floor=gap / CALIBRATED + 0.1)  # a floor above the widest gap

    chosen = folder_cut(X, CALIBRATED, high_floor)

    assert chosen.floored and chosen.cut == pytest.approx(gap + 0.1 * CALIBRATED)
    np.testing.assert_array_equal(chosen.labels, agglomerative(X, distance_threshold=chosen.cut))
    assert "the floor" in chosen.note(CALIBRATED)


def test_the_folders_cut_gives_the_clusters_of_agglomerative_clustering_at_that_cut_lone_faces_joined():
    X, _ = blobs(people=7, per_person=6, spread=0.3)

    chosen = folder_cut(X, CALIBRATED, RULE)

    at_cut = agglomerative(X, distance_threshold=chosen.cut)
    np.testing.assert_array_equal(chosen.labels, join_lone_faces(X, at_cut, JOIN * CALIBRATED))


def test_a_lone_face_joins_the_cluster_it_is_near_on_average_a_far_one_stays_alone():
    person = np.array([[0, 0], [0.1, 0], [0.05, 0.1]])
    odd_photo = [[0.58, 0]]  # 0.53 from the person's faces on average: under JOIN x 0.5459 = 0.58
    stranger = [[0, 3]]
    X = np.concatenate([person, [[2, 0], [2.1, 0]], odd_photo, stranger])

    joined = join_lone_faces(X, np.array([1, 1, 1, 2, 2, 3, 4]), JOIN * CALIBRATED)

    assert joined.tolist() == [1, 1, 1, 2, 2, 1, 4]
    assert join_lone_faces(X[5:], np.array([3, 4]), JOIN * CALIBRATED).tolist() == [3, 4]  # no cluster to join


def test_lone_faces_join_whatever_their_order_and_never_through_one_another():
    # The second odd photo is near the first (0.2) but 0.65 from the person on average: it stays alone.
    X = np.array([[0, 0], [0.1, 0], [0.55, 0], [0.75, 0]])

    assert join_lone_faces(X, np.array([1, 1, 2, 3]), 0.6).tolist() == [1, 1, 1, 3]
    assert join_lone_faces(X[[0, 1, 3, 2]], np.array([1, 1, 3, 2]), 0.6).tolist() == [1, 1, 3, 1]


def test_lone_faces_join_only_in_small_folders():
    # The odd photo 0.573 from the person's faces on average: above the cut (0.535), under the join's 0.58.
    person, pair, odd_photo = [[0, 0], [0.1, 0], [0.05, 0.1]], [[2, 0], [2.1, 0]], [[0.62, 0]]
    X = np.array(person + pair + odd_photo, np.float32)

    chosen = folder_cut(X, CALIBRATED, RULE)
    assert chosen.labels.tolist() == [0, 0, 0, 1, 1, 0] and chosen.joined == 1
    assert chosen.note(CALIBRATED).endswith("1 lone faces joined a near cluster")
    assert folder_cut(X, CALIBRATED, replace(RULE, join_max_faces=len(X) - 1)).labels.tolist() == [0, 0, 0, 1, 1, 2]


def test_without_a_full_dendrogram_the_cut_is_the_floor(monkeypatch):
    X, _ = blobs(people=3, per_person=5)
    monkeypatch.setattr(neighbors, "EXACT_MAX_ROWS", 10)

    chosen = folder_cut(X, CALIBRATED, RULE)

    assert chosen == threshold.FolderCut(RULE.floor * CALIBRATED, floored=True, rule=RULE)
    assert "too many faces for a full dendrogram" in chosen.note(CALIBRATED)


def test_an_embedder_no_cut_rule_is_fitted_to_is_cut_at_its_threshold():
    X, _ = blobs(people=3, per_person=5)

    chosen = folder_cut(X, CALIBRATED, None)

    assert chosen == threshold.FolderCut(CALIBRATED)
    assert "no folder cut is fitted to this embedder" in chosen.note(CALIBRATED)


def test_every_embedder_with_a_cut_rule_is_calibrated_and_the_rule_survives_the_settings():
    for embedder in EMBEDDERS.components():
        if embedder.cut_rule is not None:
            assert embedder.thresholds is not None
            assert threshold.CutRule.from_settings(embedder.cut_rule.settings()) == embedder.cut_rule


def test_one_dendrogram_cut_at_each_k_equals_one_clustering_per_k():
    X, _ = blobs(people=5, per_person=6, spread=0.3)

    swept = agglomerative_sweep(X, [2, 5, 9, 30, 31])

    assert sorted(swept) == [2, 5, 9, 30]  # K above the number of faces left out
    for k, labels in swept.items():
        np.testing.assert_array_equal(labels, agglomerative(X, k=k))


def test_k_chosen_by_threshold_is_the_swept_k_nearest_the_people_found_without_k():
    X, truth = blobs(people=5, per_person=6, spread=0.05)
    labels_by_k = agglomerative_sweep(X, range(2, 11))

    assert people_without_k(X, CALIBRATED, RULE) == 5
    spec = SortSpec("agglomerative", {}, choose_k_by="threshold", choose_k_threshold=CALIBRATED, cut_rule=RULE)
    assert choose_k(X, labels_by_k, spec) == (5, [])
    assert k_nearest({2: None, 3: None}, 9) == 3  # the sweep's end when the people found lie beyond it
    assert k_nearest({2: None, 4: None}, 3) == 2  # the smaller on a tie


def _group(centre, n, rng, spread=0.05):
    return np.asarray(centre, np.float64) + rng.normal(0, spread, (n, 2))


def test_a_person_the_cut_split_is_joined_and_strangers_and_small_persons_are_not():
    rng = np.random.default_rng(0)
    parts = {
        "person": _group((0, 0), 30, rng),
        "fragment": _group((0.6, 0), 6, rng),  # the person again, 0.6 apart: under the limit
        "sharing": _group((0, 0.6), 6, rng),  # as near, but in photos the person is in too
        "stranger": _group((-0.6, 0), 3, rng),  # as near, 3 photos: no person
        "small": _group((5, 0), 6, rng),
        "small too": _group((5.6, 0), 6, rng),  # near another person of few photos only
        "far": _group((0, 5), 30, rng),
    }
    labels = np.concatenate([np.full(len(points), i) for i, points in enumerate(parts.values())])
    photo_ids = np.array([f"photo {i}" for i in range(len(labels))])
    sharing = np.flatnonzero(labels == 2)
    photo_ids[sharing[0]] = photo_ids[0]

    joined, count = join_split_persons(
        np.concatenate(list(parts.values())), labels, photo_ids, min_photos=4, limit=1.0, large_photos=20
    )

    assert count == 1
    assert set(joined[labels == 1]) == {0}  # the fragment is the person's
    assert [len(set(joined[labels == i])) for i in range(7)] == [1] * 7
    assert len({joined[labels == i][0] for i in (0, 2, 3, 4, 5, 6)}) == 6


def test_faces_kept_apart_take_no_part_and_the_rest_of_their_cluster_joins():
    # A fragment of the person (0.6 from it) in one cluster with a look-alike's faces (1.2 from
    # the person): together over the limit; the look-alike's faces apart, the fragment joins.
    rng = np.random.default_rng(2)
    Y = np.concatenate([_group((0, 0), 20, rng), _group((0.6, 0), 6, rng), _group((0.6, 1.0), 5, rng)])
    labels = np.repeat([0, 1, 1], [20, 6, 5])
    photo_ids = np.arange(len(Y))
    look_alike = np.arange(len(Y)) >= 26

    def join(apart=None):
        return join_split_persons(Y, labels, photo_ids, min_photos=4, limit=0.8, apart=apart)

    assert join()[1] == 0
    joined, count = join(look_alike)
    assert count == 1
    assert joined[:26].tolist() == [0] * 26 and joined[26:].tolist() == [1] * 5


def test_persons_are_joined_by_their_mean_distance_and_two_small_ones_when_allowed():
    rng = np.random.default_rng(1)
    a, b = _group((0, 0), 6, rng, spread=0.3), _group((0.9, 0), 6, rng, spread=0.3)
    Y, labels = np.concatenate([a, b]), np.repeat([0, 1], 6)
    photo_ids = np.arange(12)
    mean = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1).mean())

    def join(limit, large_photos=0):
        return join_split_persons(Y, labels, photo_ids, min_photos=4, limit=limit, large_photos=large_photos)[1]

    assert join(mean + 1e-6) == 1
    assert join(mean - 1e-6) == 0
    assert join(mean + 1e-6, large_photos=7) == 0


def test_in_a_large_folder_the_windows_upper_end_falls_towards_window_large():
    # Two tight groups 0.95 apart (the calibrated distance 1.0): in a folder of 40 faces, with the
    # upper end staying near 1.0 the widest gap is above their merge and joins them; falling
    # towards 0.9, it is below.
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal((0, 0), 0.005, (20, 2)), rng.normal((0.95, 0), 0.005, (20, 2))])
    rule = threshold.CutRule(window=(0.8, 1.2), width=0.1, full_window_faces=10, floor=0.5, join=1.0, join_max_faces=0)

    stays = folder_cut(X, 1.0, rule)
    falls = folder_cut(X, 1.0, replace(rule, window_large=0.9))

    assert stays.cut > 0.95 and len(np.unique(stays.labels)) == 1
    assert falls.cut < 0.95 and len(np.unique(falls.labels)) == 2
    # A folder of no more than full_window_faces faces keeps the whole window.
    assert folder_cut(X[::4], 1.0, replace(rule, window_large=0.9)).cut == folder_cut(X[::4], 1.0, rule).cut
