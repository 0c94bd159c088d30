"""Intel's face-reidentification-retail-0095: its IR laid out as an ONNX graph gives OpenVINO's own
descriptors; faces aligned on five points, those of detectors without landmarks included."""

import numpy as np
import pytest
from conftest import TEN_PEOPLE, lfw_sample
from PIL import Image

from facecluster.photos.detectors import Detection, select_faces
from facecluster.photos.embedders.five_point import LOCATED, NOT_LOCATED, similarity_transform, warp
from facecluster.photos.embedders.intel_reid import IR_FILES, TEMPLATE

MODEL = {"detector": {"name": "yunet", "keep": "center"}, "embedder": {"name": "intel_reid"}}


@pytest.fixture(scope="module")
def reid(make_model):
    return make_model(MODEL)


@pytest.fixture(scope="module")
def chips(datasets, reid):
    """The aligned chips (RGB) of the centre face of 20 lfw-dev photos."""
    detector, embedder = reid
    aligned = []
    for path, _ in lfw_sample(TEN_PEOPLE, 2):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = select_faces(detector.detect(rgb), rgb.shape[1::-1], keep="center", min_size=0)
        aligned.append(embedder.align(rgb, faces)[0])
    return np.concatenate(aligned)


def openvino_descriptors(chips):
    """OpenVINO's own inference of the original IR files, one chip at a time as the IR's input
    is shaped, in FP32 (its CPU default on this machine's CPUs is bfloat16)."""
    import openvino

    core = openvino.Core()
    network = core.compile_model(core.read_model(IR_FILES[0], IR_FILES[1]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    bgr = chips[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32)
    return np.concatenate([network(bgr[i : i + 1])[0].reshape(1, -1) for i in range(len(bgr))])


def test_the_onnx_graph_gives_openvinos_descriptors_on_real_chips(chips, reid):
    _, embedder = reid
    ours, theirs = embedder.embed(chips), openvino_descriptors(chips)

    cosine = (ours * theirs).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert ours.shape == (20, 256)
    assert cosine.min() >= 0.9999, cosine.min()


def test_the_same_person_is_nearer_than_another(chips, reid):
    _, embedder = reid
    vectors = embedder.embed(chips)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    distances = 1 - vectors @ vectors.T
    same = distances[np.arange(0, 20, 2), np.arange(1, 20, 2)]  # each person's two photos
    others = distances[np.arange(0, 20, 2)][:, np.arange(0, 20, 2)][~np.eye(10, dtype=bool)]
    assert np.median(same) < np.percentile(others, 5)


def test_the_similarity_transform_recovers_a_known_one():
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    matrix = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = np.array(TEMPLATE) * 100

    found, found_shift = similarity_transform(points, points @ matrix.T + shift)

    np.testing.assert_allclose(found, matrix, atol=1e-9)
    np.testing.assert_allclose(found_shift, shift, atol=1e-9)


def test_the_landmarks_land_on_the_template():
    """A bright dot at each landmark of a photo lands where the template puts it in the chip."""
    photo = np.zeros((300, 300, 3), np.uint8)
    angle = 0.4
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (np.array(TEMPLATE) - 0.5) * 120 @ rotation.T + 150
    for x, y in landmarks.round().astype(int):
        photo[y - 1 : y + 2, x - 1 : x + 2] = 255

    chip = warp(photo, landmarks.round(), TEMPLATE, 128)

    for x, y in (np.array(TEMPLATE) * 128).round().astype(int):
        assert chip[y - 1 : y + 2, x - 1 : x + 2].max() > 150


def test_faces_found_without_landmarks_get_yunets_and_the_ledger_says_so(lfw_dir, reid):
    _, embedder = reid
    rgb = np.asarray(Image.open(lfw_dir / "Colin_Powell" / "Colin_Powell_0001.jpg").convert("RGB"))
    faces = [Detection(box=(80.0, 75.0, 170.0, 180.0), score=1.0), Detection(box=(0.0, 0.0, 40.0, 40.0), score=1.0)]

    chips, landmarks = embedder.align(rgb, faces)

    assert [face.how for face in faces] == [LOCATED, NOT_LOCATED]
    assert chips.shape == (2, 128, 128, 3)
    left_eye, right_eye, nose, *_ = landmarks[0]
    assert 80 < left_eye[0] < nose[0] < right_eye[0] < 170


def test_a_layer_type_not_laid_out_is_named(tmp_path):
    from pathlib import Path

    from facecluster.photos.networks.openvino_ir import build_model

    xml = Path(IR_FILES[0]).read_text().replace('type="Sigmoid"', 'type="HSigmoid"', 1)
    (tmp_path / "changed.xml").write_text(xml)

    with pytest.raises(ValueError, match="of type HSigmoid, which is not supported"):
        build_model(tmp_path / "changed.xml", IR_FILES[1])
