"""TensorFlow models: FaceNet graphs as davidsandberg ships them, MTCNN on real photos, Keras models."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import PROJECT_ROOT, build_embedder
from facenet_graph import (
    DIM,
    POOL,
    SIZE,
    prewhitened,
    reference_embeddings,
    save_facenet_models,
    sha256_of,
)
from PIL import Image

from facecluster.photos.detectors import Detection, make_detector, select_faces
from facecluster.workflow.config import ConfigError, validated_model
from facecluster.workflow.pinned_files import check_pinned_files

LFW_PEOPLE = [
    "Hans_Blix",
    "Hugo_Chavez",
    "Vladimir_Putin",
    "Jennifer_Capriati",
    "Arnold_Schwarzenegger",
    "Ariel_Sharon",
    "Colin_Powell",
    "Andre_Agassi",
]


@pytest.fixture(scope="module")
def facenet_files(tmp_path_factory):
    return save_facenet_models(tmp_path_factory.mktemp("facenet"))


@pytest.fixture(scope="module")
def chips():
    """33 chips: random noise, a gradient, and one flat grey chip (prewhiten's zero-deviation case)."""
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, (31, SIZE, SIZE, 3), dtype=np.uint8)
    gradient = np.broadcast_to(np.arange(SIZE, dtype=np.uint8)[None, :, None, None], (1, SIZE, SIZE, 3))
    return np.concatenate([noise, gradient, np.full((1, SIZE, SIZE, 3), 90, np.uint8)])


# Pinned by sha256 in a config (checked by check_pinned_files, below); not checked here.
UNCHECKED = "0" * 64


def facenet(path, **options):
    return build_embedder([path], name="facenet", path=str(path), sha256=UNCHECKED, **options)


def keras_embedder(path, **options):
    return build_embedder([path], name="keras", path=str(path), sha256=UNCHECKED, **options)


@pytest.mark.parametrize("form", ["frozen .pb", "checkpoint folder"])
def test_facenet_models_give_the_direct_computation(facenet_files, chips, form):
    pb, checkpoints = facenet_files
    embedder = facenet(pb if form == "frozen .pb" else checkpoints)

    vectors = embedder.embed(chips)

    assert embedder.dim == DIM and embedder.chip_size == SIZE
    assert vectors.shape == (len(chips), DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, reference_embeddings(prewhitened(chips)), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_batch_of_1_and_batch_of_32_agree(facenet_files, chips):
    one = facenet(facenet_files[0], batch_size=1).embed(chips)
    many = facenet(facenet_files[0], batch_size=32).embed(chips)

    np.testing.assert_allclose(one, many, atol=1e-6)


def test_fixed_normalization_is_127_5_and_128(facenet_files, chips):
    vectors = facenet(facenet_files[0], normalization="fixed").embed(chips)

    np.testing.assert_allclose(vectors, reference_embeddings((chips - 127.5) / 128), atol=1e-5)
    assert not np.allclose(vectors, reference_embeddings(prewhitened(chips)), atol=1e-3)


def test_the_chip_is_the_box_with_facenet_margin(facenet_files):
    """32 px at 160: a 128 px box fills the chip's middle 128 px."""
    photo = np.zeros((300, 400, 3), np.uint8)
    photo[100:228, 150:278] = 255
    embedder = facenet(facenet_files[0])

    chips, landmarks = embedder.align(photo, [Detection(box=(150.0, 100.0, 278.0, 228.0), score=1.0)])

    assert chips.shape == (1, SIZE, SIZE, 3) and chips.dtype == np.uint8
    assert (chips[0, 17:143, 17:143] == 255).all()
    assert (chips[0, :15] == 0).all() and (chips[0, 145:] == 0).all()
    assert (chips[0, :, :15] == 0).all() and (chips[0, :, 145:] == 0).all()
    assert np.isnan(landmarks).all()  # the detector gave none


def test_a_wrong_tensor_name_says_which_key(facenet_files):
    with pytest.raises(ValueError, match="embedder.embeddings_tensor: 'embedding:0'"):
        facenet(facenet_files[0], embeddings_tensor="embedding:0")


def test_folder_models_are_pinned_file_by_file(facenet_files, tmp_path):
    _, checkpoints = facenet_files
    hashes = {p.name: sha256_of(p) for p in checkpoints.iterdir()}
    model = {"embedder": {"name": "facenet", "path": str(checkpoints), "sha256": hashes}}
    check_pinned_files("fn", model)  # all there, all matching

    changed = dict(hashes, **{"model-test.meta": "0" * 64})
    with pytest.raises(ConfigError, match=r"model-test.meta: its sha256 is [0-9a-f]{64}, the config says 0{64}"):
        check_pinned_files("fn", {"embedder": dict(model["embedder"], sha256=changed)})
    unlisted = {k: v for k, v in hashes.items() if k != "model-test.meta"}
    with pytest.raises(ConfigError, match="model-test.meta: in the folder but not listed"):
        check_pinned_files("fn", {"embedder": dict(model["embedder"], sha256=unlisted)})
    with pytest.raises(ConfigError, match="is a folder: give each file's sha256"):
        check_pinned_files("fn", {"embedder": dict(model["embedder"], sha256="0" * 64)})


# --- MTCNN on real photos ---------------------------------------------------


@pytest.fixture(scope="module")
def mtcnn():
    return make_detector(validated_model({"detector": {"name": "mtcnn"}, "embedder": {"name": "dlib"}})["detector"])


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def overlap(a, b):
    """Intersection over union of two (left, top, right, bottom) boxes."""
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return width * height / (area - width * height)


def test_mtcnn_finds_the_six_faces_and_none_in_noise(datasets, mtcnn):
    group = rgb(datasets / "negatives/multi_face/multiface.jpg")
    noise = rgb(datasets / "negatives/no_face/noise_1.jpg")

    faces, nothing = mtcnn.detect_many([group, noise])

    assert 5 <= len(faces) <= 7
    assert nothing == []
    for face in faces:
        left, top, right, bottom = face.box
        assert len(face.landmarks) == 5 and 0.9 <= face.score <= 1
        assert all(left <= x <= right and top <= y <= bottom for x, y in face.landmarks)


def test_mtcnn_finds_the_centre_face_of_lfw_photos_several_per_call(lfw_dir, mtcnn):
    photos = [rgb(sorted((lfw_dir / person).iterdir())[0]) for person in LFW_PEOPLE]

    together = mtcnn.detect_many(photos)
    alone = [mtcnn.detect(photo) for photo in photos]

    for found, found_alone in zip(together, alone):
        (face,) = select_faces(found, (250, 250), keep="center", min_size=40)
        left, top, right, bottom = face.box
        assert left < 125 < right and top < 125 < bottom
        # The same faces; a box may move a pixel or two (the candidates' order differs).
        assert len(found) == len(found_alone)
        assert all(overlap(a.box, b.box) > 0.9 for a, b in zip(found, found_alone))


def test_mtcnn_and_facenet_through_the_batch_processor(datasets, facenet_files, tmp_path, make_processor):
    model = {
        "detector": {"name": "mtcnn", "keep": "all", "batch_size": 4},
        "embedder": {"name": "facenet", "path": str(facenet_files[0]), "sha256": UNCHECKED},
    }
    paths = [datasets / "negatives/multi_face/multiface.jpg", datasets / "negatives/no_face/noise_1.jpg"]
    paths += [sorted((datasets / "lfw-dev" / person).iterdir())[0] for person in LFW_PEOPLE[:3]]
    members = [{"id": f"p{i}", "path": str(p), "label": "", "hidden": False} for i, p in enumerate(paths)]

    rows = make_processor(model, tmp_path / "cache", threads=2).process(members, tmp_path / "out")

    assert [r.status for r in rows] == ["embedded", "no_face", "embedded", "embedded", "embedded"]
    group = json.loads((tmp_path / "out/p0.json").read_text())
    chips = np.load(tmp_path / "out/p0.chips.npy")
    vectors = np.load(tmp_path / "out/p0.npy")
    assert 5 <= len(group["faces"]) <= 7 and chips.shape == (len(group["faces"]), SIZE, SIZE, 3)
    assert all(len(face["landmarks"]) == 5 for face in group["faces"])
    np.testing.assert_allclose(vectors, reference_embeddings(prewhitened(chips)), atol=1e-5)


def test_the_dlib_path_does_not_import_tensorflow(tmp_path):
    code = (
        "import sys; from facecluster.workflow.config import validated_model; "
        "from facecluster.photos.batch import BatchProcessor; "
        "from facecluster.workflow.plan import prepare_model_files; "
        "model = validated_model({'detector': {'name': 'dlib_hog'}, 'embedder': {'name': 'dlib'}}); "
        "BatchProcessor(model, sys.argv[1], photo_max_side=1600, "
        "files=prepare_model_files(model, sys.argv[1])); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'mtcnn') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


# --- Keras models ----------------------------------------------------------


@pytest.fixture(scope="module")
def keras_classifier(tmp_path_factory):
    """A face classifier whose `embedding` layer is the embedding, saved as .keras and as a SavedModel."""
    import keras

    folder = tmp_path_factory.mktemp("keras")
    inputs = keras.Input((SIZE, SIZE, 3))
    pooled = keras.layers.Flatten()(keras.layers.AveragePooling2D(POOL)(inputs))
    embedding = keras.layers.Dense(DIM, name="embedding")(pooled)
    classes = keras.layers.Dense(3, activation="softmax", name="classes")(embedding)
    keras.Model(inputs, classes).save(folder / "classifier.keras")
    embedder_part = keras.Model(inputs, embedding)
    embedder_part.export(str(folder / "savedmodel"), verbose=False)
    return folder, embedder_part


@pytest.mark.parametrize("form", [".keras", "SavedModel"])
def test_keras_models_go_through_the_keras_embedder(keras_classifier, chips, form):
    folder, embedder_part = keras_classifier
    if form == ".keras":
        embedder = keras_embedder(folder / "classifier.keras", output="embedding", normalization="fixed")
    else:
        embedder = keras_embedder(folder / "savedmodel", normalization="fixed")

    vectors = embedder.embed(chips)

    assert embedder.dim == DIM and vectors.dtype == np.float32
    expected = embedder_part.predict((chips.astype(np.float32) - 127.5) / 128, verbose=0)
    np.testing.assert_allclose(vectors, expected, atol=1e-4)


def test_keras_models_load_in_safe_mode(tmp_path):
    import keras

    inputs = keras.Input((SIZE, SIZE, 3))
    outputs = keras.layers.Lambda(lambda x: x[:, 0, 0, :])(inputs)  # code run at load: refused
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")

    with pytest.raises(ValueError, match="safe_mode"):
        keras_embedder(tmp_path / "lambda.keras")
