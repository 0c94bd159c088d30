"""Embedder `onnx`: a face model the user brings as an ONNX file, here a small graph of the same
interface built by the test (convolutions and global pooling to 512-D, fixed random weights)."""

import numpy as np
import pytest
import yaml
from conftest import PROJECT_ROOT, copy_photos, lfw_sample

from facecluster.photos.embedders import make_embedder
from facecluster.photos.embedders.onnx_model import ARCFACE_TEMPLATE
from facecluster.registry import file_sha256
from facecluster.workflow.config import ConfigError, validate_config, validated_model
from facecluster.workflow.pinned_files import check_pinned_files
from facecluster.workflow.plan import prepare_model_files
from facecluster.workflow.specs import resolve


def face_model(path, layout="NCHW", side=112, batch=None, channels=3):
    """An ArcFace-shaped ONNX model at `path`: float32 chips (batch, 3, side, side) or (batch, side,
    side, 3) -> (batch, 512), three strided convolutions with ReLU, then global average pooling."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "chips"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [x], ["nchw"], perm=[0, 3, 1, 2]))
        x = "nchw"
    for i, (inputs, outputs) in enumerate([(channels, 16), (16, 64), (64, 512)]):
        kernel = rng.normal(0, (2 / (inputs * 9)) ** 0.5, (outputs, inputs, 3, 3)).astype(np.float32)
        weights.append(numpy_helper.from_array(kernel, f"w{i}"))
        nodes.append(helper.make_node("Conv", [x, f"w{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x = f"r{i}"
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["embedding"]))
    shape = [batch, channels, side, side] if layout == "NCHW" else [batch, side, side, channels]
    graph = helper.make_graph(
        nodes,
        "face_model",
        [helper.make_tensor_value_info("chips", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [batch, 512])],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def settings(path, **more):
    return {"name": "onnx", "path": str(path), "sha256": file_sha256(path), **more}


def build(model_folder, embedder, threads=1):
    model = validated_model({"detector": {"name": "yunet"}, "embedder": embedder})
    files = prepare_model_files(model, model_folder)
    return make_embedder(model["embedder"], files["embedder"], threads)


def test_defaults_are_arcfaces_and_the_layout_is_read_from_the_graph(tmp_path, model_folder, lfw_dir, make_model):
    from PIL import Image

    detector, nchw = make_model({"detector": {"name": "yunet"}, "embedder": settings(face_model(tmp_path / "a.onnx"))})
    nhwc = build(model_folder, settings(face_model(tmp_path / "nhwc.onnx", "NHWC")))
    rgb = np.asarray(Image.open(lfw_dir / "Colin_Powell" / "Colin_Powell_0001.jpg").convert("RGB"))
    faces = [max(detector.detect(rgb), key=lambda face: face.score)]

    chips, _ = nchw.align(rgb, faces)

    assert chips.shape == (1, 112, 112, 3)
    np.testing.assert_allclose(nchw.template, ARCFACE_TEMPLATE, atol=1e-6)
    assert nchw.dim == nhwc.dim == 512
    np.testing.assert_allclose(nchw.embed(chips), nhwc.embed(chips), rtol=1e-4, atol=1e-5)
    # (x - 127.5) / 127.5, RGB: a model taking 0..255 BGR gives other descriptors.
    other = build(model_folder, settings(tmp_path / "a.onnx", normalization="none", channel_order="BGR"))
    assert not np.allclose(other.embed(chips), nchw.embed(chips))


def test_a_fixed_batch_and_a_size_the_graph_disagrees_with(tmp_path, model_folder):
    one = build(model_folder, settings(face_model(tmp_path / "one.onnx", batch=1)))
    chips = np.random.default_rng(1).integers(0, 256, (5, 112, 112, 3), dtype=np.uint8)
    assert one.batch_size == 1 and one.embed(chips).shape == (5, 512)

    with pytest.raises(ValueError, match="takes 128 x 128 chips; set input_size: 128"):
        build(model_folder, settings(face_model(tmp_path / "big.onnx", side=128)))
    with pytest.raises(ValueError, match="input is shaped"):
        build(model_folder, settings(face_model(tmp_path / "grey.onnx", channels=1)))


def test_the_file_is_pinned_and_a_threshold_asked_for_says_what_to_run(tmp_path):
    path = face_model(tmp_path / "model.onnx")
    model = {"detector": {"name": "yunet"}, "embedder": settings(path)}
    check_pinned_files("user", validated_model(model))
    with pytest.raises(ConfigError, match="sha256"):
        check_pinned_files("user", validated_model({**model, "embedder": settings(path, sha256="0" * 64)}))

    config = {
        "datasets": {"photos": {"path": str(tmp_path)}},
        "models": {"user": model},
        "default_model": "user",
        "experiments": {"sort": {"dataset": "photos"}},
    }
    with pytest.raises(ConfigError, match="facecluster calibrate"):
        validate_config(config)
    config["models"]["user"]["embedder"]["thresholds"] = {"euclidean": 0.9, "cosine": 0.4}
    assert resolve(validate_config(config)).experiments["sort"].threshold in (0.9, 0.4)


@pytest.mark.workflow
def test_the_calibrate_command_prints_the_thresholds_of_a_labelled_folder(tmp_path, lfw_dir, capsys, monkeypatch):
    from facecluster.clustering.calibrate import main

    people = ["Colin_Powell", "George_W_Bush", "Ariel_Sharon", "Alvaro_Uribe", "Andre_Agassi", "Angelina_Jolie"]
    copy_photos(lfw_sample(people, 4), tmp_path / "labelled")
    (tmp_path / "labelled" / "notes.txt").write_text("not a photo")
    face_model(tmp_path / "model.onnx")
    model = {"detector": {"name": "dlib_hog"}, "embedder": settings(tmp_path / "model.onnx")}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"models": {"user": model}}))
    monkeypatch.chdir(tmp_path)

    main(["labelled", "--model", "user", "--config", "config.yaml"])

    printed = capsys.readouterr().out
    assert "24 faces of 6 people" in printed
    assert "Few pairs" in printed
    line = printed.strip().splitlines()[-1]
    thresholds = yaml.safe_load(line)["thresholds"]
    assert set(thresholds) == {"euclidean", "cosine"} and all(value > 0 for value in thresholds.values())
    ledger = (tmp_path / "results/calibrate/user/faces/ledger.tsv").read_text()
    assert "rejected" in ledger and "landmarks found by YuNet" in ledger  # dlib_hog gives none
    # What it prints is what the config takes.
    model["embedder"]["thresholds"] = thresholds
    validated_model(model)
    assert (PROJECT_ROOT / "docs" / "user-models.md").read_text().count("facecluster calibrate") >= 1
