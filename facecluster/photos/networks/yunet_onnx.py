"""YuNet, libfacedetection's face detector, as an ONNX graph run by OpenVINO or onnxruntime.

The `yuface` package (BSD-3-Clause, the libfacedetection project's own
Python build) ships YuNet's network compiled into a C library built for no
particular CPU. Its weights (`param_pConvInfo`: 53 convolutions, each 1x1
point-wise or 3x3 depth-wise, float32) are read here with ctypes and laid out
as an ONNX graph that follows libfacedetection's `objectdetect_cnn`
(src/facedetectcnn-model.cpp) layer for layer, because onnxruntime and
OpenVINO run it several times faster than the C library (bench/results.md).

The graph takes an RGB image (1, H, W, 3) uint8, as decoded, whose sides are
multiples of 32 (zero-padded, as libfacedetection pads; the float planes the
network reads are made in the graph, faster than numpy makes them) and returns,
per stride 8, 16 and 32, the raw class, box, landmark and objectness maps;
`decode` turns them into scored boxes and landmarks as libfacedetection's
`detection_output`.
"""

import ctypes
import logging
import os
import threading
import time
from functools import cached_property
from pathlib import Path

import numpy as np

from facecluster.photos.networks.onnx_session import machine_folder, onnx_session, openvino_model, stamped_model

logger = logging.getLogger(__name__)

STRIDES = (8, 16, 32)
PAD = 32
HEADS = ("cls", "reg", "kps", "obj")
OUTPUTS = [f"{head}_{stride}" for head in HEADS for stride in STRIDES]
# The filters (indices into param_pConvInfo) of each stage, as objectdetect_cnn uses them.
BACKBONE = [[3, 4, 5, 6], [7, 8, 9, 10], [11, 12, 13, 14], [15, 16, 17, 18], [19, 20, 21, 22]]
NECK = {8: (23, 24), 16: (25, 26), 32: (27, 28)}
HEAD_FILTERS = {  # (point-wise, depth-wise) per head and stride
    "cls": {8: (29, 30), 16: (31, 32), 32: (33, 34)},
    "reg": {8: (35, 36), 16: (37, 38), 32: (39, 40)},
    "obj": {8: (41, 42), 16: (43, 44), 32: (45, 46)},
    "kps": {8: (47, 48), 16: (49, 50), 32: (51, 52)},
}
CONVOLUTIONS = 53
# runtime auto: OpenVINO from this many pixels, onnxruntime under: OpenVINO is faster on large
# images, but each change of image size costs it about a millisecond (bench/results.md).
OPENVINO_FROM_PIXELS = 1_000_000
# runtime auto, from OPENVINO_FROM_PIXELS: the runtime that runs an image of this size (h, w)
# faster. OpenVINO's bfloat16 is about 2 x onnxruntime's speed on a CPU with AMX (Intel Xeon 4th
# generation and later), about 1.1 x on one with AVX-512 BF16 alone (AMD EPYC 4th generation;
# bench/results.md). Not a 12 MP copy: timing one twice in each would cost 0.5-1 s.
TIMED_PART = (768, 1024)
# The layout of build_model's graphs; a saved model of another layout is not used (onnx_session).
# 2: the image as decoded (RGB uint8, channels last), made float planes in the graph.
GRAPH_FORMAT = 2


class _ConvInfo(ctypes.Structure):
    # libfacedetection's ConvInfoStruct (src/facedetectcnn.h, float version).
    _fields_ = [
        ("channels", ctypes.c_int),
        ("num_filters", ctypes.c_int),
        ("is_depthwise", ctypes.c_bool),
        ("is_pointwise", ctypes.c_bool),
        ("with_relu", ctypes.c_bool),
        ("weights", ctypes.POINTER(ctypes.c_float)),
        ("biases", ctypes.POINTER(ctypes.c_float)),
    ]


def read_weights():
    """[(kind, weights, biases)] of YuNet's 53 convolutions, from the yuface package's library.

    kind "pw": weights (filters, channels); "dw": weights (9, channels), the
    3x3 taps in row-major order; biases (filters,).
    """
    import yuface

    library = ctypes.CDLL(str(Path(yuface.__file__).with_name("libfacedetection.so")))
    infos = (_ConvInfo * CONVOLUTIONS).in_dll(library, "param_pConvInfo")
    layers = []
    for info in infos:
        rows = 9 if info.is_depthwise else info.num_filters
        weights = np.ctypeslib.as_array(info.weights, (rows * info.channels,)).reshape(rows, info.channels)
        biases = np.ctypeslib.as_array(info.biases, (info.num_filters,))
        layers.append(("dw" if info.is_depthwise else "pw", weights.copy(), biases.copy()))
    return layers


def build_model(layers):
    """The ONNX model (onnx.ModelProto) of YuNet with these weights."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    counter = iter(range(10_000))

    def constant(name, array):
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def conv(x, index, relu, **attributes):
        kind, weights, biases = layers[index]
        if index == 0:  # the 3x3 stride-2 convolution on the image, unrolled into 27 (of 32) channels
            kernel = weights[:, :27].reshape(-1, 3, 3, 3).transpose(0, 3, 1, 2)  # (out, y, x, bgr) -> (out, bgr, y, x)
            kernel = kernel[:, ::-1]  # the graph takes RGB
            attributes = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        elif kind == "pw":
            kernel = weights[:, :, None, None]
            attributes = dict(kernel_shape=[1, 1])
        else:
            kernel = weights.T.reshape(-1, 1, 3, 3)
            attributes = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=kernel.shape[0])
        out = f"conv{index}_{next(counter)}"
        nodes.append(
            helper.make_node(
                "Conv", [x, constant(f"w{index}", kernel), constant(f"b{index}", biases)], [out], **attributes
            )
        )
        if relu:
            nodes.append(helper.make_node("Relu", [out], [out + "_relu"]))
            out += "_relu"
        return out

    def dp(x, pointwise, depthwise, relu=True):
        return conv(conv(x, pointwise, False), depthwise, relu)

    def pool(x):
        out = f"pool{next(counter)}"
        nodes.append(helper.make_node("MaxPool", [x], [out], kernel_shape=[2, 2], strides=[2, 2]))
        return out

    def upsample_add(small, large):
        up, out = f"up{next(counter)}", f"add{next(counter)}"
        scales = constant(f"scales{next(counter)}", np.array([1, 1, 2, 2], np.float32))
        nodes.append(helper.make_node("Resize", [small, "", scales], [up], mode="nearest"))
        nodes.append(helper.make_node("Add", [up, large], [out]))
        return out

    # The photo as decoded (RGB, channels last, 0..255) as the network's float planes.
    nodes.append(helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT))
    nodes.append(helper.make_node("Transpose", ["pixels"], ["planes"], perm=[0, 3, 1, 2]))
    x = conv("planes", 0, True)
    x = pool(dp(x, 1, 2))
    x = dp(dp(x, *BACKBONE[0][:2]), *BACKBONE[0][2:])
    x = dp(dp(x, *BACKBONE[1][:2]), *BACKBONE[1][2:])
    features = {}
    for stride, stage in zip(STRIDES, BACKBONE[2:]):
        x = dp(dp(pool(x), *stage[:2]), *stage[2:])
        features[stride] = x
    features[32] = dp(features[32], *NECK[32])
    features[16] = dp(upsample_add(features[32], features[16]), *NECK[16])
    features[8] = dp(upsample_add(features[16], features[8]), *NECK[8])
    outputs = []
    for head in HEADS:
        for stride in STRIDES:
            last = dp(features[stride], *HEAD_FILTERS[head][stride], relu=False)
            nodes.append(helper.make_node("Identity", [last], [f"{head}_{stride}"]))
            outputs.append(helper.make_tensor_value_info(f"{head}_{stride}", TensorProto.FLOAT, [1, None, None, None]))
    graph = helper.make_graph(
        nodes,
        "yunet",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, [1, None, None, 3])],
        outputs,
        initializers,
    )
    return stamped_model(graph, GRAPH_FORMAT)


def save_model(path):
    """YuNet's weights from the yuface package, saved as an ONNX model at `path`."""
    import onnx

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_model(read_weights()), str(path))


class YunetNetwork:
    """The ONNX model, each call on one thread: `(rgb image, score threshold) -> (scores, boxes, landmarks)`.

    `runtime`: "auto" (onnxruntime for images under OPENVINO_FROM_PIXELS, the faster of the two on
    this kind of machine for larger ones, timed once and kept for later jobs:
    onnx_session.machine_folder), "openvino" or "onnxruntime" (on a GPU where onnxruntime has one);
    up to `concurrent` calls run at once, from as many threads; `precision`: OpenVINO's
    (networks.onnx_session.openvino_model). OpenVINO is compiled at its first call.
    """

    def __init__(self, path, runtime="auto", concurrent=1, precision=None):
        self._path, self._runtime, self._concurrent, self._precision = path, runtime, concurrent, precision
        self._session = None if runtime == "openvino" else onnx_session(path, 1, GRAPH_FORMAT)
        self._choosing = threading.Lock()
        self._large_runtime = None if runtime == "auto" else runtime

    @cached_property
    def _openvino(self):
        return _openvino_runner(self._path, self._concurrent, self._precision)

    def _runner(self, name):
        return self._openvino if name == "openvino" else lambda inputs: self._session.run(None, inputs)

    def _run(self, inputs):
        height, width = inputs["image"].shape[1:3]
        if self._runtime == "auto" and height * width < OPENVINO_FROM_PIXELS:
            return self._session.run(None, inputs)
        return self._runner(self.large_runtime())(inputs)

    def large_runtime(self):
        """The runtime ("openvino" or "onnxruntime") of images from OPENVINO_FROM_PIXELS; for "auto",
        the faster on this kind of machine: as an earlier job (or rule prepare_model) kept it, else timed
        now and kept (timing costs a job 0.1-0.5 s of CPU)."""
        with self._choosing:
            if self._large_runtime is None:
                self._large_runtime = self._kept_runtime() or self._faster_runtime()
        return self._large_runtime

    @cached_property
    def _kept_choice(self):
        """The file that keeps the faster runtime on this kind of machine (None: nowhere)."""
        folder = machine_folder(self._path)
        return folder and folder / f"{Path(self._path).stem}.runtime"

    def _kept_runtime(self):
        if self._kept_choice and self._kept_choice.exists():
            name = self._kept_choice.read_text().strip()
            return name if name in ("openvino", "onnxruntime") else None
        return None

    def _faster_runtime(self):
        """The runtime that runs an image of TIMED_PART faster (the time of a layer does not depend on
        what the image shows): the second of two calls each, the first setting up for the size (wall
        time: OpenVINO runs in its own thread). Kept in _kept_choice."""
        part = {"image": np.zeros((1, *TIMED_PART, 3), np.uint8)}
        seconds = {}
        for name in ("openvino", "onnxruntime"):
            run = self._runner(name)
            run(part)
            started = time.perf_counter()
            run(part)
            seconds[name] = time.perf_counter() - started
        faster = min(seconds, key=seconds.get)
        logger.info("YuNet on large copies: %s (an image of %s timed: %s)", faster, TIMED_PART, seconds)
        if self._kept_choice:  # written whole: jobs that start together time and write at once
            temporary = self._kept_choice.with_name(f".{self._kept_choice.name}.{os.getpid()}")
            temporary.write_text(faster)
            os.replace(temporary, self._kept_choice)
        return faster

    def __call__(self, rgb, score_threshold):
        """Faces of an RGB image (h, w, 3) uint8 scoring at least score_threshold, before suppression:
        scores (n,), boxes (n, 4) as left, top, right, bottom, landmarks (n, 5, 2)."""
        height, width = rgb.shape[:2]
        if height % PAD == 0 and width % PAD == 0:  # a phone's 4:3 copy at 3072x2304: no copy
            padded = np.ascontiguousarray(rgb)[None]
        else:
            padded = np.zeros((1, -(-height // PAD) * PAD, -(-width // PAD) * PAD, 3), np.uint8)
            padded[0, :height, :width] = rgb
        return decode(dict(zip(OUTPUTS, self._run({"image": padded}))), score_threshold)


def _openvino_runner(path, concurrent, precision):
    """A function of the inputs, safe from `concurrent` threads at once: each thread has its own
    infer request (the compiled model's own one is shared, and not thread-safe)."""
    compiled = openvino_model(path, concurrent, GRAPH_FORMAT, precision)
    requests = threading.local()

    def run(inputs):
        if not hasattr(requests, "request"):
            requests.request = compiled.create_infer_request()
        results = requests.request.infer(inputs)
        return [results[output] for output in compiled.outputs]

    return run


def decode(maps, score_threshold):
    """libfacedetection's decoding: per stride, each cell's box (centre offset and log size in
    strides), 5 landmarks (offsets in strides), and score sqrt(sigmoid(cls) * sigmoid(obj))."""
    scores, boxes, landmarks = [], [], []
    for stride in STRIDES:
        cls, obj = (_sigmoid(maps[f"{head}_{stride}"][0, 0]) for head in ("cls", "obj"))
        score = np.sqrt(cls * obj)
        rows, cols = np.nonzero(score >= score_threshold)
        reg = maps[f"reg_{stride}"][0][:, rows, cols]
        kps = maps[f"kps_{stride}"][0][:, rows, cols]
        x, y = cols * stride, rows * stride
        cx, cy = reg[0] * stride + x, reg[1] * stride + y
        w, h = np.exp(reg[2]) * stride, np.exp(reg[3]) * stride
        scores.append(score[rows, cols])
        boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))
        landmarks.append(np.stack([kps[0::2] * stride + x, kps[1::2] * stride + y], axis=2).transpose(1, 0, 2))
    return np.concatenate(scores), np.concatenate(boxes), np.concatenate(landmarks)


def _sigmoid(values):
    return 1 / (1 + np.exp(-np.clip(values, -88.3762626647949, 88.3762626647949)))
