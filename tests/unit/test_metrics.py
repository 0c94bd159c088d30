"""Tests for facecluster.clustering.metrics: hand-computed cases, invariances, and cross-checks."""

import tracemalloc

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    homogeneity_completeness_v_measure,
    normalized_mutual_info_score,
    silhouette_score,
)

from facecluster.clustering.metrics import best_k_by_score, external_metrics, internal_metrics, matched_confusion

SCORE_KEYS = [
    "same_person_share", "purity", "ari", "nmi", "v_measure", "homogeneity", "completeness",
    "pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_precision", "bcubed_recall", "bcubed_f1",
]  # fmt: skip


def singletons_for_unknown(labels_pred):
    """-1 replaced by fresh ids that no real cluster uses: what the metrics must do internally."""
    labels = np.array(labels_pred)
    unknown = labels == -1
    labels[unknown] = labels.max() + 1 + np.arange(unknown.sum())
    return labels


# Six faces. Contingency (person x cluster):
#           c1  c2  c3
#   ann      3   1   0      |ann| = 4
#   bob      0   1   1      |bob| = 2
#   sizes    3   2   1
# Pairwise: same-cluster-and-person pairs = C(3,2) = 3; predicted pairs = 3 + 1 + 0 = 4;
#   true pairs = C(4,2) + C(2,2) = 7 -> P = 3/4, R = 3/7, F1 = 2PR/(P+R) = 6/11.
# BCubed precision (per face n_ij / |cluster|): 3*(3/3) + 1/2 + 1/2 + 1/1 = 5 -> 5/6.
# BCubed recall (per face n_ij / |person|): 3*(3/4) + 1/4 + 1/2 + 1/2 = 3.5 -> 7/12.
#   F1 = 2 * (5/6) * (7/12) / (5/6 + 7/12) = 35/51.
# Purity: (3 + 1 + 1) / 6 = 5/6.  Matching: ann->c1 (3), bob->c2 or c3 (1) -> 4/6.
SIX_TRUE = ["ann", "ann", "ann", "ann", "bob", "bob"]
SIX_PRED = [1, 1, 1, 2, 2, 3]


def test_hand_computed_six_items():
    m = external_metrics(SIX_TRUE, SIX_PRED)
    assert m["pairwise_precision"] == pytest.approx(3 / 4)
    assert m["pairwise_recall"] == pytest.approx(3 / 7)
    assert m["pairwise_f1"] == pytest.approx(6 / 11)
    assert m["bcubed_precision"] == pytest.approx(5 / 6)
    assert m["bcubed_recall"] == pytest.approx(7 / 12)
    assert m["bcubed_f1"] == pytest.approx(35 / 51)
    assert m["purity"] == pytest.approx(5 / 6)
    assert m["same_person_share"] == pytest.approx(4 / 6)
    assert (m["n_clusters"], m["n_unknown"], m["n_items"]) == (3, 0, 6)


def test_keys_are_exactly_the_documented_ones():
    assert set(external_metrics(SIX_TRUE, SIX_PRED)) == set(SCORE_KEYS) | {
        "n_clusters",
        "n_unknown",
        "n_items",
    }


def test_perfect_clustering_scores_one():
    true = ["a", "a", "b", "b", "b", "c"]
    m = external_metrics(true, [5, 5, 0, 0, 0, 9])
    for key in SCORE_KEYS:
        assert m[key] == pytest.approx(1.0), key


def test_permuting_cluster_ids_changes_nothing():
    rng = np.random.default_rng(1)
    true = rng.choice(list("abcdefg"), size=300)
    pred = rng.integers(-1, 10, size=300)
    relabel = {-1: -1, **dict(zip(range(10), rng.permutation(range(100, 110)).tolist()))}
    permuted = np.array([relabel[p] for p in pred])
    # Equal up to float summation order.
    assert external_metrics(true, permuted) == pytest.approx(external_metrics(true, pred), rel=1e-12)


def test_unknowns_are_singletons_lowering_recall_not_precision():
    true = ["a"] * 4 + ["b"] * 4
    perfect = [0] * 4 + [1] * 4
    with_unknown = [0, 0, -1, -1, 1, 1, 1, -1]
    m = external_metrics(true, with_unknown)
    assert m["pairwise_precision"] == 1.0 and m["bcubed_precision"] == pytest.approx(1.0)
    assert m["pairwise_recall"] < 1.0 and m["bcubed_recall"] < 1.0
    assert (m["n_clusters"], m["n_unknown"]) == (2, 3)
    # Identical to giving each unknown face its own new cluster id (apart from the counts).
    as_singletons = external_metrics(true, singletons_for_unknown(with_unknown))
    assert {k: m[k] for k in SCORE_KEYS} == {k: as_singletons[k] for k in SCORE_KEYS}
    assert external_metrics(true, perfect)["pairwise_recall"] == 1.0


def test_all_unknown_matches_each_face_to_a_person():
    # As singletons, both faces can be matched (share 1); lumped into one cluster it would be 1/2.
    m = external_metrics(["a", "b"], [-1, -1])
    assert m["same_person_share"] == 1.0
    assert m["pairwise_precision"] == 1.0  # no predicted pairs
    assert m["pairwise_recall"] == 1.0  # no true pairs either
    assert m["n_clusters"] == 0


def test_same_person_share_uses_hungarian_not_greedy():
    #          c1  c2
    #   ann     3   2
    #   bob     2   0
    # Greedy takes the biggest cell (ann, c1) = 3 and leaves bob with nothing: 3/7.
    # Hungarian takes (ann, c2) + (bob, c1) = 2 + 2: 4/7.
    true = ["ann"] * 5 + ["bob"] * 2
    pred = [1, 1, 1, 2, 2, 1, 1]
    assert external_metrics(true, pred)["same_person_share"] == pytest.approx(4 / 7)


def test_same_person_share_matches_dense_linear_sum_assignment():
    rng = np.random.default_rng(2)
    for _ in range(30):
        n = int(rng.integers(5, 80))
        true = rng.integers(0, rng.integers(1, 8), size=n)
        pred = rng.integers(-1, rng.integers(1, 8), size=n)
        singletons = singletons_for_unknown(pred)
        table = np.zeros((true.max() + 1, singletons.max() + 1))
        np.add.at(table, (true, singletons), 1)
        rows, cols = linear_sum_assignment(table, maximize=True)
        expected = table[rows, cols].sum() / n
        assert external_metrics(true, pred)["same_person_share"] == pytest.approx(expected)


@pytest.mark.parametrize("people, clusters", [(300, 4), (4, 300)])
def test_same_person_share_with_many_more_people_than_clusters_or_the_reverse(people, clusters):
    # Only each cluster's (or person's) heaviest cells reach the solver: still the optimum.
    rng = np.random.default_rng(9)
    for _ in range(10):
        true, pred = rng.integers(0, people, 900), rng.integers(0, clusters, 900)
        table = np.zeros((people, clusters))
        np.add.at(table, (true, pred), 1)
        rows, cols = linear_sum_assignment(table, maximize=True)
        assert external_metrics(true, pred)["same_person_share"] == pytest.approx(table[rows, cols].sum() / 900)


def test_agrees_with_sklearn_and_brute_force_pairs():
    rng = np.random.default_rng(3)
    true = rng.choice([f"p{i}" for i in range(6)], size=120)
    pred = rng.integers(-1, 8, size=120)
    m = external_metrics(true, pred)
    singletons = singletons_for_unknown(pred)
    assert m["ari"] == pytest.approx(adjusted_rand_score(true, singletons))
    assert m["nmi"] == pytest.approx(normalized_mutual_info_score(true, singletons))
    h, c, v = homogeneity_completeness_v_measure(true, singletons)
    assert (m["homogeneity"], m["completeness"], m["v_measure"]) == pytest.approx((h, c, v))

    same_pred = singletons[:, None] == singletons[None, :]
    same_true = true[:, None] == true[None, :]
    upper = np.triu(np.ones_like(same_pred), k=1)
    both = (same_pred & same_true & upper).sum()
    assert m["pairwise_precision"] == pytest.approx(both / (same_pred & upper).sum())
    assert m["pairwise_recall"] == pytest.approx(both / (same_true & upper).sum())
    # BCubed per face, over all faces including itself.
    assert m["bcubed_precision"] == pytest.approx(np.mean((same_pred & same_true).sum(1) / same_pred.sum(1)))
    assert m["bcubed_recall"] == pytest.approx(np.mean((same_pred & same_true).sum(1) / same_true.sum(1)))


def test_rejects_mismatched_lengths_and_empty_input():
    with pytest.raises(ValueError, match="items"):
        external_metrics(["a", "b"], [0])
    with pytest.raises(ValueError, match="empty"):
        external_metrics([], np.array([], dtype=int))


def test_million_items_runs_in_little_memory():
    rng = np.random.default_rng(4)
    n = 1_000_000
    true = rng.integers(0, 3000, size=n)
    pred = true.copy()
    noisy = rng.random(n) < 0.1
    pred[noisy] = rng.integers(-1, 3500, size=noisy.sum())
    pred[rng.random(n) < 0.05] = -1  # ~50,000 unknown singletons
    tracemalloc.start()
    m = external_metrics(true, pred)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert m["n_items"] == n and 0.8 < m["same_person_share"] < 1.0
    assert peak < 500 * 2**20  # a dense table (3000 x ~50k) or pair matrix would blow this


def test_internal_metrics_hand_computed_and_ignores_unknown():
    X = np.array([[0, 0], [2, 0], [10, 0], [10, 2], [0, 1], [11, 1]], dtype=float)
    labels = np.array([0, 0, 1, 1, 0, 1])
    m = internal_metrics(X, labels)
    # Means (2/3, 1/3) and (31/3, 1); squared distances (5 + 17 + 8)/9 + (10 + 10 + 4)/9 = 6.
    assert m["inertia"] == pytest.approx(6.0)
    assert m["silhouette"] == pytest.approx(silhouette_score(X, labels))
    assert m["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels))
    assert m["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels))
    far_unknown = internal_metrics(np.vstack([X, [[500.0, -500.0]]]), np.append(labels, -1))
    assert far_unknown == pytest.approx(m)


@pytest.mark.parametrize(
    "X, labels, inertia, scorable",
    [
        ([[0.0], [1.0], [3.0]], [4, 4, 4], 14 / 3, False),  # one cluster
        ([[0.0], [1.0]], [0, 1], 0.0, False),  # fewer than 3 points
        ([[0.0], [1.0], [5.0]], [0, 1, 2], 0.0, False),  # every point its own cluster
        ([[0.0], [1.0], [5.0]], [-1, -1, -1], 0.0, False),  # nothing clustered
        ([[0.0], [2.0], [5.0], [9.0]], [0, 0, 1, -1], 2.0, True),  # smallest scorable case
    ],
)
def test_internal_metrics_undefined_scores_are_none(X, labels, inertia, scorable):
    m = internal_metrics(np.array(X), np.array(labels))
    assert m["inertia"] == pytest.approx(inertia)
    for key in ["silhouette", "davies_bouldin", "calinski_harabasz"]:
        assert (m[key] is not None) == scorable, key


def test_silhouette_sampling_is_deterministic():
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(0, 1, (300, 4)), rng.normal(4, 1, (300, 4))])
    labels = np.repeat([0, 1], 300)
    first = internal_metrics(X, labels, sample_size=100, random_state=7)
    assert internal_metrics(X, labels, sample_size=100, random_state=7) == first
    assert first["silhouette"] == pytest.approx(silhouette_score(X, labels, sample_size=100, random_state=7))
    assert first["silhouette"] != internal_metrics(X, labels, sample_size=100, random_state=8)["silhouette"]


def test_silhouette_of_a_sweep_with_shared_distances_matches_sklearn():
    rng = np.random.default_rng(6)
    X = rng.normal(0, 1, (400, 3))
    labels = {k: rng.integers(0, k, len(X)) for k in (2, 7, 40)}
    labels[7][:5] = -1  # other faces known: the cached distances must not be reused
    cache = {}
    for _k, labels_k in labels.items():
        shared = internal_metrics(X, labels_k, sample_size=150, random_state=1, distance_cache=cache)
        assert shared == internal_metrics(X, labels_k, sample_size=150, random_state=1)
        known = labels_k != -1
        expected = silhouette_score(X[known], labels_k[known], sample_size=150, random_state=1)
        assert shared["silhouette"] == pytest.approx(expected, abs=1e-12)


def test_matched_confusion_puts_matched_pairs_on_the_diagonal():
    #        c7  c9  c5  -1
    #   x     4   0   1   0    x->c7 (4) and y->c9 (3) are matched, biggest first;
    #   y     0   3   0   0    z (2 faces) and w (1 face) have no cluster left to match;
    #   z     0   0   0   2    c5 is unmatched; unknowns form the last column.
    #   w     0   1   0   0
    true = ["w"] + ["x"] * 5 + ["y"] * 3 + ["z"] * 2
    pred = [9] + [7, 7, 5, 7, 7] + [9, 9, 9] + [-1, -1]
    matrix, rows, cols = matched_confusion(true, pred)
    assert rows == ["x", "y", "z", "w"]
    assert cols == [7, 9, 5, -1]
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, [[4, 0, 1, 0], [0, 3, 0, 0], [0, 0, 0, 2], [0, 1, 0, 0]])


def test_matched_confusion_without_unknowns_has_no_unknown_column():
    matrix, rows, cols = matched_confusion(SIX_TRUE, SIX_PRED)
    assert cols[:1] == [1] and -1 not in cols and matrix.shape == (2, 3)
    assert matrix.sum() == 6 and matrix[0, 0] == 3 and matrix[1, 1] == 1


@pytest.mark.parametrize(
    "score, expected",
    [("silhouette", 3), ("calinski_harabasz", 2), ("davies_bouldin", 4)],
)
def test_best_k_by_score_direction_and_ties(score, expected):
    scores = {
        5: {"silhouette": None, "calinski_harabasz": None, "davies_bouldin": None},
        4: {"silhouette": 0.7, "calinski_harabasz": 10.0, "davies_bouldin": 0.2},
        3: {"silhouette": 0.7, "calinski_harabasz": 50.0, "davies_bouldin": 0.9},
        2: {"silhouette": 0.1, "calinski_harabasz": 50.0, "davies_bouldin": 0.5},
    }
    assert best_k_by_score(scores, score=score) == expected


def test_best_k_by_score_skips_none_and_rejects_unusable():
    assert best_k_by_score({2: {"silhouette": None}, 3: {"silhouette": -0.2}}) == 3
    with pytest.raises(ValueError, match="usable"):
        best_k_by_score({2: {"silhouette": None}, 3: {}})
    with pytest.raises(ValueError, match="inertia"):
        best_k_by_score({2: {"inertia": 1.0}}, score="inertia")


def test_true_labels_can_be_any_hashable():
    true = [("ann", 1), ("ann", 1), None, None]
    m = external_metrics(true, [0, 0, 1, 1])
    assert m["ari"] == pytest.approx(1.0)
    _, rows, _ = matched_confusion(true, [0, 0, 1, 1])
    assert set(map(str, rows)) == {"('ann', 1)", "None"}
