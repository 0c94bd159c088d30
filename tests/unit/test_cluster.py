"""Sampling, reducing, labels, K-means, agglomerative and spectral clustering and a sweep's scores, on synthetic
faces tables and seeded Gaussian blobs."""

import json

import numpy as np
import pytest
import sklearn.cluster
from conftest import a_face
from sklearn.decomposition import PCA

from facecluster.clustering.clusterers.agglomerative import agglomerative
from facecluster.clustering.clusterers.kmeans import kmeans_sweep
from facecluster.clustering.clusterers.spectral import spectral
from facecluster.clustering.labels import canonical_labels, parse_k
from facecluster.clustering.metrics import evaluate_sweep, external_metrics
from facecluster.clustering.reduce import reduce
from facecluster.clustering.sample import sample_faces


def blobs(people=4, per_person=10, dim=16, spread=0.05, seed=0):
    """(X, labels): well-separated Gaussian blobs on the unit sphere, rows shuffled."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(people, dim))
    labels = np.repeat(np.arange(people), per_person)
    X = centres[labels] / np.linalg.norm(centres[labels], axis=1, keepdims=True)
    X = X + rng.normal(scale=spread, size=X.shape)
    order = rng.permutation(len(X))
    X, labels = X[order], labels[order]
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), [f"person{i}" for i in labels]


def faces_table(photos_by_person, faces_per_photo=1, unlabelled_photos=0):
    """A faces table: photos_by_person {name: n_photos}, each photo with faces_per_photo faces."""
    faces = []
    people = list(photos_by_person.items()) + [("", unlabelled_photos)]
    for name, n_photos in people:
        for photo in range(n_photos):
            for _ in range(faces_per_photo):
                faces.append(a_face(row=len(faces), photo_id=f"{name or 'nobody'}-{photo:03d}", label=name))
    return faces


# Ten people with 1..10 photos each, two faces per photo, and 5 unlabelled photos.
FACES = faces_table({f"p{i:02d}": i for i in range(1, 11)}, faces_per_photo=2, unlabelled_photos=5)


def chosen(rows):
    """(people, photo_ids) of the sampled rows."""
    return {FACES[r].label for r in rows}, {FACES[r].photo_id for r in rows}


# --- sample_faces -------------------------------------------------------------------------


def test_sample_without_options_keeps_every_row():
    assert sample_faces(FACES) == list(range(len(FACES)))


def test_sample_min_photos_keeps_eligible_people_and_drops_unlabelled():
    rows = sample_faces(FACES, min_photos=7)
    people, photos = chosen(rows)
    assert people == {"p07", "p08", "p09", "p10"}
    assert len(photos) == 7 + 8 + 9 + 10
    assert rows == sorted(rows)


def test_sample_any_option_excludes_unlabelled_faces():
    people, _ = chosen(sample_faces(FACES, photos_per_person=1))
    assert "" not in people and len(people) == 10


def test_sample_people_and_photos_per_person_keep_every_face_of_chosen_photos():
    rows = sample_faces(FACES, min_photos=5, people=3, photos_per_person=4, seed=1)
    people, photos = chosen(rows)
    assert len(people) == 3 and people <= {f"p{i:02d}" for i in range(5, 11)}
    assert len(photos) == 3 * 4
    assert len(rows) == 2 * len(photos)  # both faces of each chosen photo


def test_sample_photos_per_person_also_requires_that_many_photos():
    people, photos = chosen(sample_faces(FACES, photos_per_person=9))
    assert people == {"p09", "p10"} and len(photos) == 18


def test_sample_is_seeded():
    options = {"min_photos": 3, "people": 4, "photos_per_person": 3}
    assert sample_faces(FACES, **options, seed=5) == sample_faces(FACES, **options, seed=5)
    samples = {tuple(sample_faces(FACES, **options, seed=seed)) for seed in range(5)}
    assert len(samples) > 1


def test_sample_choice_depends_on_set_of_names_not_table_order():
    shuffled = [FACES[i] for i in np.random.default_rng(0).permutation(len(FACES))]
    rows = sample_faces(shuffled, min_photos=3, people=4, photos_per_person=2, seed=3)
    expected = chosen(sample_faces(FACES, min_photos=3, people=4, photos_per_person=2, seed=3))
    assert ({shuffled[r].label for r in rows}, {shuffled[r].photo_id for r in rows}) == expected


def test_sample_too_few_people_raises():
    with pytest.raises(ValueError, match="asked for 5 people but only 4 have at least 7 photos"):
        sample_faces(FACES, min_photos=7, people=5)


# --- reduce -------------------------------------------------------------------------------


def test_reduce_pca_shape_and_info():
    X, _ = blobs()
    Y, info = reduce(X, components=3)
    assert Y.shape == (40, 3) and Y.dtype == np.float64
    assert info["components"] == 3 and info["solver"] == "covariance_eigh" and info["notes"] == []
    assert len(info["explained_variance_ratio"]) == 3
    json.dumps(info)


def test_reduce_whiten_gives_unit_variance_per_component():
    Y, _ = reduce(blobs()[0], components=4, whiten=True)
    np.testing.assert_allclose(Y.var(axis=0, ddof=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(Y.mean(axis=0), 0.0, atol=1e-9)


def test_reduce_clips_components_with_a_note():
    X = np.random.default_rng(0).normal(size=(6, 16))
    Y, info = reduce(X, components=32)
    assert Y.shape == (6, 6) and info["components"] == 6
    assert info["notes"] == ["components=32 clipped to 6: only 6 faces of dimension 16"]


def test_reduce_of_more_faces_than_dimensions_is_the_exact_pca_from_the_covariance():
    X = blobs()[0]
    Y, info = reduce(X, components=2)
    assert info["solver"] == "covariance_eigh"
    full = PCA(n_components=2, svd_solver="full").fit_transform(np.float64(X))
    np.testing.assert_allclose(np.abs(Y), np.abs(full), atol=1e-9)  # the same components, up to sign


def test_reduce_none_and_l2_normalize():
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    Y, info = reduce(X, method="none")
    assert Y.dtype == np.float64 and info["explained_variance_ratio"] is None
    np.testing.assert_array_equal(Y, X)
    Y, _ = reduce(X, method="none", l2_normalize=True)
    np.testing.assert_allclose(np.linalg.norm(Y, axis=1), 1.0)


def test_reduce_unknown_method_raises():
    with pytest.raises(ValueError, match="unknown reduction method 'tsne'"):
        reduce(np.zeros((3, 2)), method="tsne")


# --- parse_k ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        (4, [4]),
        ([8, 2, 8, 1], [1, 2, 8]),
        ({"from": 2, "to": 5}, [2, 3, 4, 5]),
        ({"from": 2, "to": 10, "step": 4}, [2, 6, 10]),
    ],
)
def test_parse_k_forms(spec, expected):
    assert parse_k(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [[], 0, [3, -1], {"from": 5, "to": 2}, {"from": 0, "to": 2}, {"from": 1, "to": 4, "step": 0},
     {"to": 3}, {"from": 1, "to": 3, "stride": 1}, "4", [2.5], True],
)  # fmt: skip
def test_parse_k_errors(spec):
    with pytest.raises(ValueError):
        parse_k(spec)


# --- kmeans_sweep -------------------------------------------------------------------------


def test_kmeans_recovers_separated_blobs():
    X, truth = blobs()
    labels_by_k, notes = kmeans_sweep(X, [2, 4, 6])
    assert list(labels_by_k) == [2, 4, 6] and notes == []
    assert external_metrics(truth, labels_by_k[4])["ari"] == 1.0
    assert all(labels.dtype == np.int64 and labels.shape == (40,) for labels in labels_by_k.values())


def test_kmeans_skips_k_above_faces_and_allows_k_equal_faces():
    X, _ = blobs(people=2, per_person=4)
    labels_by_k, notes = kmeans_sweep(X, [8, 9, 50])
    assert list(labels_by_k) == [8] and sorted(labels_by_k[8]) == list(range(8))
    assert notes == ["K=9 skipped: only 8 faces", "K=50 skipped: only 8 faces"]


@pytest.mark.parametrize("n, message", [(0, "only 0 faces to cluster"), (1, "only 1 face to cluster")])
def test_kmeans_needs_two_faces(n, message):
    with pytest.raises(ValueError, match=message):
        kmeans_sweep(np.zeros((n, 4)), [1])


def test_kmeans_is_byte_identical_and_canonical():
    X, _ = blobs(people=5)
    first, _ = kmeans_sweep(X, [3, 5], seed=7)
    second, _ = kmeans_sweep(X, [3, 5], seed=7)
    for k in first:
        assert first[k].tobytes() == second[k].tobytes()
        assert np.array_equal(first[k], canonical_labels(first[k]))
        assert first[k][0] == 0


def test_kmeans_uses_minibatch_above_threshold(monkeypatch):
    used = []
    original = sklearn.cluster.MiniBatchKMeans

    def recording(**kwargs):
        used.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(sklearn.cluster, "MiniBatchKMeans", recording)
    X, truth = blobs()
    kmeans_sweep(X, [4], minibatch_above=100)
    assert used == []
    labels_by_k, _ = kmeans_sweep(X, [4], minibatch_above=39, seed=3)
    assert used == [{"n_clusters": 4, "batch_size": 4096, "n_init": 10, "random_state": 3}]
    assert external_metrics(truth, labels_by_k[4])["ari"] == 1.0


def test_canonical_labels_orders_by_first_row_and_keeps_unknown():
    assert canonical_labels([7, 3, 7, -1, 5, 3]).tolist() == [0, 1, 0, -1, 2, 1]


# --- agglomerative ------------------------------------------------------------------------


def test_agglomerative_with_k():
    X, truth = blobs()
    labels = agglomerative(X, k=4)
    assert labels.dtype == np.int64 and labels[0] == 0
    assert external_metrics(truth, labels)["ari"] == 1.0


def test_agglomerative_with_distance_threshold():
    X, truth = blobs()
    assert external_metrics(truth, agglomerative(X, distance_threshold=0.5))["ari"] == 1.0
    assert len(set(agglomerative(X, distance_threshold=1e-9).tolist())) == 40  # no two faces coincide


@pytest.mark.parametrize("options", [{}, {"k": 2, "distance_threshold": 0.5}])
def test_agglomerative_needs_exactly_one_of_k_and_threshold(options):
    with pytest.raises(ValueError, match="exactly one"):
        agglomerative(blobs()[0], **options)


# --- evaluate_sweep -----------------------------------------------------------------------


def test_evaluate_sweep_is_json_ready_with_internal_and_external_scores():
    X, truth = blobs()
    labels_by_k, _ = kmeans_sweep(X, [1, 4])
    scores = evaluate_sweep(X, truth, labels_by_k)
    assert json.loads(json.dumps(scores, allow_nan=False)) == {str(k): v for k, v in scores.items()}
    assert scores[4]["silhouette"] > 0.5 and scores[4]["bcubed_f1"] == 1.0 and scores[4]["n_clusters"] == 4
    assert scores[1]["silhouette"] is None and isinstance(scores[1]["n_items"], int)


def test_evaluate_sweep_without_full_truth_gives_internal_scores_only():
    X, truth = blobs()
    labels_by_k, _ = kmeans_sweep(X, [4])
    for labels_true in (None, [""] + truth[1:]):
        scores = evaluate_sweep(X, labels_true, labels_by_k)[4]
        assert "silhouette" in scores and "bcubed_f1" not in scores


def test_spectral_with_as_many_clusters_as_faces_puts_each_face_alone():
    X, _ = blobs(people=2, per_person=3)

    np.testing.assert_array_equal(spectral(X, k=len(X)), np.arange(len(X)))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_condensed_distances_by_matrix_products_are_scipys_pdist(metric, monkeypatch):
    from scipy.spatial.distance import pdist

    from facecluster.clustering import dendrogram

    X = np.random.default_rng(3).normal(size=(50, 16))
    X[7] = X[3]  # a face twice: distance 0, not a negative square's NaN
    monkeypatch.setattr(dendrogram, "BLOCK_ROWS", 16)  # several blocks, the last one short
    np.testing.assert_allclose(dendrogram.condensed_distances(X, metric), pdist(X, metric), atol=1e-7)
