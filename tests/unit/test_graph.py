"""K-free clustering: neighbour graphs, Chinese whispers, cannot-link, linear-memory linkage."""

import numpy as np
import pytest

from facecluster.clustering import neighbors
from facecluster.clustering.cannot_link import enforce_cannot_link
from facecluster.clustering.clusterers import graph
from facecluster.clustering.clusterers.agglomerative import agglomerative
from facecluster.clustering.clusterers.density import density
from facecluster.clustering.clusterers.graph import neighbor_graph
from facecluster.clustering.metrics import external_metrics


def blobs(people=30, per_person=8, dim=16, spread=0.05, seed=0):
    """Tight groups around random unit vectors: (points, labels)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((people, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(people), per_person)
    return centres[labels] + spread * rng.standard_normal((len(labels), dim)), labels


def test_knn_finds_the_true_nearest_neighbours_exactly_and_approximately(monkeypatch):
    points, _ = blobs(people=100, per_person=20, dim=8)
    exact_distances, exact_indices = neighbors.knn(points, 5)
    brute = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(brute, np.inf)
    assert np.allclose(exact_distances, np.sort(brute, axis=1)[:, :5], atol=1e-5)

    monkeypatch.setattr(neighbors, "EXACT_MAX_ROWS", 100)  # force the IVF index
    approximate_distances, approximate_indices = neighbors.knn(points, 5)
    recall = np.mean([len(set(a) & set(e)) / 5 for a, e in zip(approximate_indices, exact_indices)])
    assert recall > 0.95


@pytest.mark.parametrize("exact_max_rows", [neighbors.EXACT_MAX_ROWS, 100])
def test_knn_of_some_faces_is_their_rows_of_knn_of_all(monkeypatch, exact_max_rows):
    monkeypatch.setattr(neighbors, "EXACT_MAX_ROWS", exact_max_rows)
    points, _ = blobs(people=100, per_person=20, dim=8)
    rows = np.array([7, 3, 1500, 42])
    all_distances, all_indices = neighbors.knn(points, 5)
    distances, indices = neighbors.knn(points, 5, rows=rows)
    assert np.array_equal(indices, all_indices[rows])  # never the face itself
    assert np.allclose(distances, all_distances[rows], atol=1e-5)


def test_cosine_distances_are_one_minus_cosine():
    points = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    distances, indices = neighbors.knn(points, 2, metric="cosine")
    assert indices[0].tolist() == [2, 1]
    assert np.allclose(distances[0], [1 - np.cos(np.pi / 4), 1.0], atol=1e-6)


@pytest.mark.parametrize("algorithm", ["chinese_whispers", "components"])
def test_graph_clustering_recovers_separated_people(algorithm):
    points, labels = blobs()
    found = neighbor_graph(points, threshold=0.4, algorithm=algorithm)
    assert external_metrics(labels, found)["bcubed_f1"] == 1.0


def test_chinese_whispers_does_not_chain_two_groups_through_one_bridge():
    # Two 6-cliques joined by one edge: components merges them, whispers does not.
    edges = [(i, j) for group in (range(6), range(6, 12)) for i in group for j in group if i < j]
    edges.append((5, 6))
    rows, cols = zip(*edges)
    from scipy.sparse import csr_matrix

    linked = csr_matrix((np.ones(len(edges)), (rows, cols)), shape=(12, 12))
    linked = linked.maximum(linked.T)

    assert len(set(graph.components(linked))) == 1
    assert len(set(graph.chinese_whispers(linked))) == 2


def test_cannot_link_separates_faces_of_one_photo():
    points = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0]])
    labels = np.array([0, 0, 0, 1])
    photos = np.array(["a", "b", "a", "c"])  # faces 0 and 2 are in the same photo

    fixed, moved = enforce_cannot_link(labels, photos, points)

    assert moved == 1
    assert fixed[0] == fixed[1] == 0 and fixed[2] not in (0, 1) and fixed[3] == 1


def test_linear_memory_linkage_matches_the_exact_one(monkeypatch):
    points, labels = blobs(people=60, per_person=10)
    exact = agglomerative(points, distance_threshold=0.5)

    monkeypatch.setattr(neighbors, "EXACT_MAX_ROWS", 50)  # components, split when too big
    by_component = agglomerative(points, distance_threshold=0.5)

    assert external_metrics(exact, by_component)["ari"] == 1.0
    assert external_metrics(labels, by_component)["bcubed_f1"] == 1.0


def test_density_clusterers_mark_outliers_unknown():
    points, labels = blobs(people=5, per_person=10)
    outlier = np.full((1, points.shape[1]), 10.0)
    points = np.vstack([points, outlier])

    for found in (
        density(points, method="dbscan", threshold=0.4, min_samples=3),
        density(points, method="hdbscan", min_cluster_size=5),
    ):
        assert found[-1] == -1
        assert external_metrics(labels, found[:-1])["bcubed_f1"] == 1.0
