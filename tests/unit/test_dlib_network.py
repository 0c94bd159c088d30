"""dlib's face ResNet read without dlib, run by onnxruntime, numpy and TensorFlow: dlib's own descriptors."""

import numpy as np
import pytest
from conftest import TEN_PEOPLE, dlib_model, lfw_sample
from conftest import build_embedder as embedder
from PIL import Image

from facecluster.photos.detectors import select_faces
from facecluster.photos.embedders import EMBEDDERS
from facecluster.photos.embedders.dlib import ONNX_NAME, PREPARED_NAME
from facecluster.photos.networks.dlib_format import (
    FACE_RESNET,
    FIVE_POINT_LANDMARKS,
    FormatError,
    packaged_model,
    read_network,
)
from facecluster.photos.networks.dlib_numpy import CHIPS_PER_PASS, NumpyFaceNet, prepared_layout
from facecluster.photos.networks.dlib_onnx import CHIPS_PER_CALL, OnnxFaceNet
from facecluster.workflow.config import ConfigError, validate_config
from facecluster.workflow.plan import prepare_model
from facecluster.workflow.specs import resolve

DLIB_MODEL = packaged_model(FACE_RESNET)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """dlib's network converted for TensorFlow, as rule prepare_model makes it: the folder."""
    folder = tmp_path_factory.mktemp("models") / "dlib_tf"
    prepare_model("dlib_tf", folder)
    return folder


@pytest.fixture(scope="module")
def dlib_embedder():
    """dlib's own runtime: the reference."""
    return embedder(name="dlib", runtime="dlib")


@pytest.fixture(scope="module")
def chips(datasets, dlib_embedder, make_model):
    """dlib's own 150 px chips (5-point landmarks, padding 0.25) of the centre face of 20 LFW photos."""
    detector, _ = make_model(dlib_model())
    aligned = []
    for path, _ in lfw_sample(TEN_PEOPLE, 2):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = select_faces(detector.detect(rgb), (rgb.shape[1], rgb.shape[0]), keep="center", min_size=0)
        aligned.append(dlib_embedder.align(rgb, faces)[0])
    chips = np.concatenate(aligned)
    assert chips.shape == (20, 150, 150, 3)
    return chips


def test_the_reader_recovers_every_layer_of_the_face_resnet():
    network = read_network(DLIB_MODEL)

    kinds = [layer.kind for layer in network.layers]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {
        "con": 29,
        "affine": 29,
        "relu": 29,
        "max_pool": 1,
        "avg_pool": 5,
        "add_prev": 14,
        "tag": 18,
        "skip": 4,
        "fc": 1,
    }
    assert network.input == {
        "mean_rgb": pytest.approx((122.782, 117.001, 104.298)),
        "scale": 256.0,
        "size": (150, 150),
    }
    assert network.loss["distance_threshold"] == pytest.approx(0.6)
    first, fc = network.layers[0], network.layers[-1]
    assert first.settings == {"filters": 32, "size": (7, 7), "strides": (2, 2), "padding": (0, 0)}
    assert first.weights["filters"].shape == (32, 3, 7, 7) and first.weights["biases"].shape == (32,)
    assert fc.weights["weights"].shape == (256, 128) and "biases" not in fc.weights
    weights = [w for layer in network.layers for w in layer.weights.values()]
    assert sum(w.size for w in weights) == 5_614_592
    assert all(w.dtype == np.float32 and np.isfinite(w).all() for w in weights)


def test_a_file_that_is_not_the_network_is_refused_saying_where(tmp_path):
    truncated = tmp_path / "truncated.dat"
    truncated.write_bytes(open(DLIB_MODEL, "rb").read()[:1_000_000])
    with pytest.raises(FormatError, match="the file ends at byte 1000000"):
        read_network(truncated)
    with pytest.raises(FormatError, match="loss layer"):
        read_network(packaged_model(FIVE_POINT_LANDMARKS))


def assert_equal_to_dlib(ours, dlibs):
    assert ours.shape == (20, 128) and ours.dtype == np.float32
    assert np.abs(ours - dlibs).max() < 1e-4
    # Real descriptors, not a trivial agreement: each person's two photos are
    # closer than any two photos of different people.
    distances = np.linalg.norm(ours[:, None] - ours[None], axis=-1)
    person = np.arange(20) // 2
    same = distances[np.arange(0, 20, 2), np.arange(1, 20, 2)]
    assert same.max() < distances[person[:, None] != person[None]].min()


def test_tensorflow_descriptors_equal_dlib_on_real_face_chips(converted, dlib_descriptors, chips):
    assert_equal_to_dlib(embedder([converted], name="dlib_tf").embed(chips), dlib_descriptors)


@pytest.fixture(scope="module")
def dlib_descriptors(dlib_embedder, chips):
    return dlib_embedder.embed(chips)


@pytest.mark.parametrize("runtime", ["onnx", "numpy"])
def test_onnx_and_numpy_descriptors_equal_dlib_on_real_face_chips(dlib_descriptors, chips, make_model, runtime):
    _, ours = make_model({"detector": {"name": "none"}, "embedder": {"name": "dlib", "runtime": runtime}})
    descriptors = ours.embed(chips)

    assert_equal_to_dlib(descriptors, dlib_descriptors)
    assert np.abs(descriptors - dlib_descriptors).max() < 2e-6


def test_onnx_calls_do_not_change_the_descriptors(tmp_path, chips):
    folder = tmp_path / "models/dlib_onnx"
    prepare_model("dlib_onnx", folder)
    network = OnnxFaceNet(folder / ONNX_NAME)
    all_at_once = network(chips)

    np.testing.assert_allclose(network(chips[:3]), all_at_once[:3], atol=1e-6)
    np.testing.assert_allclose(OnnxFaceNet(folder / ONNX_NAME, threads=2)(chips), all_at_once, atol=1e-6)
    assert network(chips[:0]).shape == (0, 128)
    many = np.concatenate([chips, chips, chips])  # more than one call's chips
    assert len(many) > CHIPS_PER_CALL
    np.testing.assert_allclose(network(many), np.concatenate([all_at_once] * 3), atol=1e-6)


def test_numpy_passes_and_threads_do_not_change_the_descriptors(chips):
    network = NumpyFaceNet.from_file(DLIB_MODEL)
    all_at_once = network(chips)  # 20 chips: passes of 8, 8 and 4

    assert CHIPS_PER_PASS < len(chips)
    np.testing.assert_allclose(network(chips[:3]), all_at_once[:3], atol=1e-6)
    np.testing.assert_allclose(NumpyFaceNet.from_file(DLIB_MODEL, threads=2)(chips), all_at_once, atol=1e-6)
    assert network(chips[:0]).shape == (0, 128)


def test_an_onnx_model_of_another_layout_is_refused_saying_what_to_do(tmp_path):
    import onnx

    folder = tmp_path / "models/dlib_onnx"
    prepare_model("dlib_onnx", folder)
    model = onnx.load(folder / ONNX_NAME)
    onnx.helper.set_model_props(model, {"facecluster_format": "0"})
    onnx.save(model, folder / ONNX_NAME)

    with pytest.raises(ValueError, match="laid out in another format .* delete it and run again"):
        OnnxFaceNet(folder / ONNX_NAME)


def test_the_prepared_copy_gives_the_same_descriptors(tmp_path, chips):
    from_dlib_file = NumpyFaceNet.from_file(DLIB_MODEL)
    folder = tmp_path / "models/dlib_numpy"
    prepare_model("dlib_numpy", folder)
    prepared = folder / PREPARED_NAME

    np.testing.assert_array_equal(NumpyFaceNet.from_prepared(prepared)(chips), from_dlib_file(chips))
    numpy_runtime = {"name": "dlib", "runtime": "numpy"}
    np.testing.assert_array_equal(embedder([folder], **numpy_runtime).embed(chips), from_dlib_file(chips))
    # The embedder runs the prepared copy's weights, whatever they are.
    weights = np.load(prepared)
    np.save(prepared, np.zeros_like(weights))
    assert not embedder([folder], **numpy_runtime).embed(chips).any()
    np.save(prepared, weights)
    # Absent, or written in another layout: an error that says what to do, never a silent fallback.
    with pytest.raises(FileNotFoundError, match="rule prepare_model"):
        embedder([tmp_path / "absent"], **numpy_runtime)
    layout = prepared_layout(prepared)
    layout.write_text(layout.read_text().replace('"format": 1', '"format": 0'))
    with pytest.raises(ValueError, match="prepared in another layout"):
        embedder([folder], **numpy_runtime)


def test_jitter_is_dlibs_own_runtime_only(dlib_embedder, chips):
    model = {"detector": {"name": "none"}, "embedder": {"name": "dlib", "jitter": 2}}
    config = {
        "datasets": {"d": {"path": "x"}},
        "models": {"m": model},
        "default_model": "m",
        "experiments": {},
    }
    with pytest.raises(ConfigError, match="models.m.embedder.jitter: only dlib's own runtime jitters"):
        validate_config(config)
    model["embedder"]["runtime"] = "dlib"
    assert validate_config(config)["models"]["m"]["embedder"] == {
        "name": "dlib",
        "jitter": 2,
        "runtime": "dlib",
        "flip": False,
    }

    jittered = embedder(name="dlib", jitter=2, runtime="dlib").embed(chips[:2])
    plain = dlib_embedder.embed(chips[:2])
    # Jittered copies move the descriptor a little, not to another person.
    assert 1e-4 < np.abs(jittered - plain).max() and np.linalg.norm(jittered - plain, axis=1).max() < 0.3


def test_flip_averages_each_chip_with_its_mirror_and_has_its_own_thresholds(chips, make_model):
    _, plain = make_model({"detector": {"name": "none"}, "embedder": {"name": "dlib"}})
    _, flipped = make_model({"detector": {"name": "none"}, "embedder": {"name": "dlib", "flip": True}})
    as_is, mirrored = plain.embed(chips), plain.embed(np.ascontiguousarray(chips[:, :, ::-1]))

    np.testing.assert_allclose(flipped.embed(chips), (as_is + mirrored) / 2, atol=1e-6)
    # A face's mirror image is another view of the same person: near it, not equal to it.
    distances = np.linalg.norm(mirrored - as_is, axis=1)
    assert 0.01 < distances.min() and distances.max() < EMBEDDERS["dlib"].thresholds["euclidean"]
    for flip, threshold in ((True, 0.5347), (False, 0.5459)):
        config = validate_config(
            {
                "datasets": {"d": {"path": "x"}},
                "models": {"m": {"detector": {"name": "none"}, "embedder": {"name": "dlib", "flip": flip}}},
                "default_model": "m",
                "experiments": {"e": {"dataset": "d"}},
            }
        )
        experiment = resolve(config).experiments["e"]
        assert experiment.threshold == experiment.naming_threshold == threshold


def test_batch_size_does_not_change_the_descriptors(converted, chips):
    one = embedder([converted], name="dlib_tf", batch_size=1).embed(chips[:5])
    seven = embedder([converted], name="dlib_tf", batch_size=7).embed(chips)

    np.testing.assert_allclose(one, seven[:5], atol=1e-6)
    assert embedder([converted], name="dlib_tf").embed(chips[:0]).shape == (0, 128)


def test_a_missing_converted_model_says_which_rule_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="rule prepare_model"):
        embedder([tmp_path / "missing"], name="dlib_tf")


def test_the_config_names_dlib_tf_with_its_defaults():
    model = {"detector": {"name": "none"}, "embedder": {"name": "dlib_tf"}}
    config = validate_config(
        {
            "datasets": {"d": {"path": "x"}},
            "models": {"m": model},
            "default_model": "m",
            "experiments": {"e": {"dataset": "d", "cluster": {"method": "agglomerative"}}},
        }
    )

    assert config["models"]["m"]["embedder"] == {"name": "dlib_tf", "batch_size": 64}
    assert resolve(config).experiments["e"].threshold == EMBEDDERS["dlib"].thresholds["euclidean"] == 0.5459
