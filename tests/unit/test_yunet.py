"""YuNet run by OpenVINO and by onnxruntime from the weights of yuface's library: libfacedetection's own
detections."""

import warnings

import numpy as np
import pytest
from PIL import Image

from facecluster.photos.detectors.yunet import suppress
from facecluster.photos.networks.yunet_onnx import YunetNetwork, save_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("yunet") / "yunet.onnx"
    save_model(path)
    return path


# The runtimes computing in float32, as libfacedetection does: (runtime, OpenVINO's precision).
FLOAT32 = {"onnxruntime": ("onnxruntime", None), "openvino-f32": ("openvino", "f32")}


@pytest.fixture(scope="module", params=list(FLOAT32))
def network(model, request):
    runtime, precision = FLOAT32[request.param]
    return YunetNetwork(model, runtime, precision=precision)


def photos(datasets):
    # Not couple.jpg: its faces (600 px) are beyond YuNet's range at full size, where both give
    # overlapping partial boxes of near-equal scores (the detector finds them in a reduced copy).
    paths = [path for path in sorted((datasets / "negatives").glob("*/*")) if path.name != "couple.jpg"]
    paths += [sorted((datasets / "lfw-dev" / person).iterdir())[0] for person in ("Hans_Blix", "Hugo_Chavez")]
    return paths


def test_the_onnx_graph_finds_what_libfacedetection_finds(datasets, network):
    import yuface

    compared, slack = 0, 1
    for path in photos(datasets):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        scores, boxes, landmarks = network(rgb, 0.5)
        kept = suppress(scores, boxes, 0.3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # yuface warns about photos over 960 px
            their_scores, their_boxes, their_landmarks = yuface.detect(bgr, conf=0.5)
        # libfacedetection keeps whole pixels and whole per cents (truncated); ours are floats.
        ours = sorted(zip(boxes[kept, 0].astype(int), boxes[kept, 1].astype(int), kept))
        theirs = sorted(zip(their_boxes[:, 0].astype(int), their_boxes[:, 1].astype(int), range(len(their_boxes))))
        assert len(ours) == len(theirs), path.name
        for (x, y, i), (their_x, their_y, j) in zip(ours, theirs):
            width, height = boxes[i, 2] - boxes[i, 0], boxes[i, 3] - boxes[i, 1]
            assert abs(x - their_x) <= slack and abs(y - their_y) <= slack
            assert abs(width - their_boxes[j, 2]) <= slack and abs(height - their_boxes[j, 3]) <= slack
            assert abs(scores[i] * 100 - their_scores[j]) <= slack
            assert np.abs(landmarks[i].ravel() - their_landmarks[j]).max() <= slack
            compared += 1
    assert compared >= 5 + 6 + 2


def test_openvinos_own_precision_finds_the_faces_float32_finds(datasets, model):
    # OpenVINO computes in bfloat16 where the CPU has it (its default, and the detector's): the
    # same faces, boxes and landmarks within 2 px, scores within 0.03; a candidate near the
    # threshold may come or go, so faces are compared from 0.6.
    own, float32 = YunetNetwork(model, "openvino"), YunetNetwork(model, "openvino", precision="f32")
    compared = 0
    for path in photos(datasets):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        found = [network(rgb, 0.5) for network in (own, float32)]
        kept = [suppress(scores, boxes, 0.3) for scores, boxes, _ in found]
        for this, other in ((0, 1), (1, 0)):
            scores, boxes, landmarks = found[this]
            other_scores, other_boxes, other_landmarks = found[other]
            for i in kept[this]:
                if scores[i] < 0.6:
                    continue
                j = min(kept[other], key=lambda j: np.abs(other_boxes[j] - boxes[i]).max())
                assert np.abs(other_boxes[j] - boxes[i]).max() <= 2, path.name
                assert np.abs(other_landmarks[j] - landmarks[i]).max() <= 2, path.name
                assert abs(other_scores[j] - scores[i]) <= 0.03, path.name
                compared += 1
    assert compared >= 2 * (5 + 6 + 2)


def test_auto_runs_small_photos_by_onnxruntime_and_large_ones_by_the_faster_runtime(datasets, model):
    small = np.asarray(Image.open(photos(datasets)[-1]).convert("RGB"))  # an lfw-dev photo, 250 px
    large = np.asarray(Image.fromarray(small).resize((1200, 1200)))
    auto = YunetNetwork(model, "auto")
    auto(large, 0.5)
    chosen = auto._large_runtime  # timed on this CPU at the first large image
    assert chosen in ("openvino", "onnxruntime")
    for rgb, runtime in ((small, "onnxruntime"), (large, chosen)):
        expected = YunetNetwork(model, runtime)(rgb, 0.5)
        for found, wanted in zip(auto(rgb, 0.5), expected):
            assert np.array_equal(found, wanted), runtime


def test_the_faster_runtime_is_timed_once_on_a_kind_of_cpu_and_kept_for_later_jobs(datasets, tmp_path):
    model = tmp_path / "yunet" / "yunet.onnx"
    save_model(model)
    large = np.asarray(Image.open(photos(datasets)[-1]).convert("RGB").resize((1200, 1200)))
    first = YunetNetwork(model, "auto")
    first(large, 0.5)
    (kept,) = (tmp_path / ".runtime").iterdir()  # this machine's kind
    assert (kept / "yunet.runtime").read_text() == first._large_runtime
    # A later job takes the kept choice without timing: here the other runtime, as if found faster.
    other = {"openvino": "onnxruntime", "onnxruntime": "openvino"}[first._large_runtime]
    (kept / "yunet.runtime").write_text(other)
    later = YunetNetwork(model, "auto")
    later(large, 0.5)
    assert later._large_runtime == other


def test_rule_prepare_model_times_the_runtimes_so_that_no_job_does(tmp_path):
    from facecluster.workflow.plan import prepare_model

    prepare_model("yunet", tmp_path / "models" / "yunet")
    (kept,) = (tmp_path / "models" / ".runtime").iterdir()
    assert (kept / "yunet.runtime").read_text() in ("openvino", "onnxruntime")
    assert YunetNetwork(tmp_path / "models" / "yunet" / "yunet.onnx")._kept_runtime() is not None
