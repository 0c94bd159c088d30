"""The folder's own threshold (facecluster.threshold) and choosing K by it (facecluster.choose)."""

import numpy as np
from scipy.cluster.hierarchy import linkage
from test_cluster import blobs

from facecluster import neighbors
from facecluster.choose import choose_k, k_nearest, people_without_k
from facecluster.cluster import agglomerative, agglomerative_sweep
from facecluster.metrics import external_metrics
from facecluster.threshold import WINDOW, folder_cut

CALIBRATED = 0.5459  # dlib's Euclidean threshold


def test_the_folder_cuts_its_dendrogram_in_a_gap_near_the_calibrated_threshold():
    X, truth = blobs(people=6, per_person=8, spread=0.05)
    heights = linkage(X.astype(np.float64), method="average")[:, 2]

    cut = folder_cut(X, CALIBRATED)[0]

    assert WINDOW[0] * CALIBRATED < cut < WINDOW[1] * CALIBRATED
    below, above = heights[heights < cut].max(), heights[heights > cut].min()
    assert np.isclose(cut, (max(below, WINDOW[0] * CALIBRATED) + min(above, WINDOW[1] * CALIBRATED)) / 2)
    assert external_metrics(truth, agglomerative(X, distance_threshold=cut))["bcubed_f1"] == 1.0


def test_the_folders_cut_gives_the_clusters_of_agglomerative_clustering_at_that_cut():
    X, _ = blobs(people=7, per_person=6, spread=0.3)

    cut, labels = folder_cut(X, CALIBRATED)

    np.testing.assert_array_equal(labels, agglomerative(X, distance_threshold=cut))


def test_without_a_full_dendrogram_the_calibrated_threshold_is_kept(monkeypatch):
    X, _ = blobs(people=3, per_person=5)
    monkeypatch.setattr(neighbors, "EXACT_MAX_ROWS", 10)

    assert folder_cut(X, CALIBRATED) == (CALIBRATED, None)


def test_one_dendrogram_cut_at_each_k_equals_one_clustering_per_k():
    X, _ = blobs(people=5, per_person=6, spread=0.3)

    swept = agglomerative_sweep(X, [2, 5, 9, 30, 31])

    assert sorted(swept) == [2, 5, 9, 30]  # K above the number of faces left out
    for k, labels in swept.items():
        np.testing.assert_array_equal(labels, agglomerative(X, k=k))


def test_k_chosen_by_threshold_is_the_swept_k_nearest_the_people_found_without_k():
    X, truth = blobs(people=5, per_person=6, spread=0.05)
    labels_by_k = agglomerative_sweep(X, range(2, 11))

    assert people_without_k(X, CALIBRATED) == 5
    assert choose_k(X, labels_by_k, "threshold", CALIBRATED) == 5
    assert k_nearest({2: None, 3: None}, 9) == 3  # the sweep's end when the people found lie beyond it
    assert k_nearest({2: None, 4: None}, 3) == 2  # the smaller on a tie
