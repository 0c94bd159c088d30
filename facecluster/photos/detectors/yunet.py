"""YuNet (Wu, Peng, Yu 2023): libfacedetection's CNN face detector, run by OpenVINO or onnxruntime."""

import numpy as np
from PIL import Image

from facecluster.photos.detectors import DETECTORS, Detection, Detector, downscale
from facecluster.photos.networks.yunet_onnx import YunetNetwork, save_model
from facecluster.registry import prepared_model

ONNX_NAME = "yunet.onnx"
PREPARED = prepared_model("yunet", lambda folder: save_model(f"{folder}/{ONNX_NAME}"))

# YuNet finds faces of about 10 to 300 px (its training range); larger ones are
# found in copies reduced LEVEL_STEP times, each copy keeping the faces whose
# size suits it (with an overlap between copies, where the union is thinned).
LEVEL_STEP = 4
LARGEST_AT_LEVEL = 200  # px, in the copy
SMALLEST_COPY = 48  # px, long side
# Faces searched for in the doubled copy of a small photo: those under this size (px, photo).
SMALL_FACE = 24
# Where dlib's HOG detector's box lies relative to YuNet's (hog_box).
HOG_BOX = (0.04, 0.035, 0.855)
# The least score of a face found in a reduced copy.
REDUCED_COPY_SCORE = 0.8
# libfacedetection's cap on candidates before suppression.
MOST_CANDIDATES = 1000


@DETECTORS.register
class YunetDetector(Detector):
    """Boxes, scores and 5 landmarks (eyes, nose tip, mouth corners; of each pair
    the one on the photo's left first), at the photo's decoded size and in
    reduced copies for faces larger than YuNet's range.
    """

    name = "yunet"
    description = (
        "YuNet (libfacedetection's CNN; weights from the yuface package, run by OpenVINO or onnxruntime): faces from "
        "about 12 px at any size of photo, 5 landmarks; fast on a CPU"
    )
    settings = {
        "score_threshold": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.5,
            "description": "faces scoring under this are dropped (lower finds more, and more false faces)",
        },
        "upsample_below": {
            "type": "integer",
            "minimum": 0,
            "default": 1280,
            "description": "photos whose long side is under this (pixels) are also searched at twice their size "
            "for faces under ~24 px, when they show small faces or none; 0 = never",
        },
        "search_side": {
            "type": "integer",
            "minimum": 0,
            "default": 3072,
            "description": "photos larger than this (long side, pixels) are searched in a copy reduced to fit, "
            "the chips still cut from the photo: a phone's 4032x3024 photo at 3072x2304, in about half the time, "
            "finds faces from 40 px as well as at full size (not those of 16-40 px); 0 = the photo as decoded",
        },
        "runtime": {
            "enum": ["auto", "openvino", "onnxruntime"],
            "default": "auto",
            "description": "what runs the network: auto, onnxruntime for copies under a megapixel (where "
            "OpenVINO's cost per call outweighs) and for larger ones whichever of the two runs a part of the "
            "first faster on this CPU (OpenVINO, computing in bfloat16 where the CPU has it, is about 2x onnxruntime's "
            "speed on a phone's photo with AMX, about 1.1x without); openvino; or onnxruntime, on a GPU where its "
            "onnxruntime-gpu build finds one (CUDA), else on the CPU",
        },
        "nms_threshold": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.3,
            "description": "of two boxes overlapping more than this (IoU), the lower-scoring goes",
        },
    }

    # A photo per thread (the network runs on one; OpenVINO and onnxruntime let go of the GIL).
    concurrent = True
    # Under it lie stray detections (a flower, a cat's face), above it real faces, even small or
    # blurred ones (bench/results.md, faces set aside).
    set_aside_score = 0.8

    @classmethod
    def model_files(cls, settings):
        return [PREPARED.model_file]

    def __init__(self, settings, files, threads):
        (folder,) = files
        self._network = YunetNetwork(f"{folder}/{ONNX_NAME}", settings["runtime"], concurrent=threads)
        self.score_threshold = settings["score_threshold"]
        self.nms_threshold = settings["nms_threshold"]
        self.upsample_below = settings["upsample_below"]
        self.search_side = settings["search_side"] or None

    def detect(self, rgb):
        found, level, scale = [], rgb, 1.0
        while True:
            largest = np.inf if max(level.shape[:2]) < LEVEL_STEP * SMALLEST_COPY else LARGEST_AT_LEVEL
            smallest = 0 if scale == 1.0 else LARGEST_AT_LEVEL / LEVEL_STEP * 0.8
            found.append(self._level(level, scale, smallest, largest))
            if largest == np.inf:
                break
            level, factor = downscale(level, max(level.shape[:2]) // LEVEL_STEP)
            scale *= factor
        if self._worth_doubling(rgb, found[0][1]):
            doubled = np.asarray(Image.fromarray(rgb).resize((rgb.shape[1] * 2, rgb.shape[0] * 2), Image.BILINEAR))
            found.append(self._level(doubled, 2.0, 0, SMALL_FACE * 2))
        scores, boxes, points = (np.concatenate(parts) for parts in zip(*found))
        return [
            Detection(
                box=tuple(map(float, boxes[i])),
                score=float(scores[i]),
                landmarks=[tuple(map(float, p)) for p in points[i]],
                align_box=hog_box(boxes[i]),
            )
            for i in suppress(scores, boxes, self.nms_threshold)
        ]

    def _worth_doubling(self, rgb, boxes):
        """A small photo is searched again at twice its size where small faces are likely: it
        showed some at its own size, or no face at all (a crop of one large face does not pay
        four times the work)."""
        if max(rgb.shape[:2]) >= self.upsample_below:
            return False
        sides = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        return len(sides) == 0 or sides.min() < 2 * SMALL_FACE

    def _level(self, rgb, scale, smallest, largest):
        """(scores, boxes, landmarks) in a copy `scale` times the photo's size, of faces sized
        smallest..largest there; in the photo's pixels."""
        # In a reduced copy the faces are large ones, which YuNet scores high: a low score
        # there is a pattern of the whole scene (bench/detection.py's false faces).
        threshold = self.score_threshold if scale >= 1 else max(self.score_threshold, REDUCED_COPY_SCORE)
        scores, boxes, points = self._network(rgb, threshold)
        sides = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        fits = (sides >= smallest) & (sides <= largest)
        return scores[fits], boxes[fits] / scale, points[fits] / scale


def hog_box(box):
    """The box dlib's HOG detector would draw around a face YuNet boxed, for dlib's landmark
    predictor: square, its side HOG_BOX[2] times YuNet's box height, its centre HOG_BOX[0] of the
    width to the left and HOG_BOX[1] of the height lower (medians over 998 lfw-dev faces both
    found). Chips aligned from it verify better than from YuNet's own box (bench/results.md)."""
    left, top, right, bottom = map(float, box)
    width, height = right - left, bottom - top
    x = (left + right) / 2 - HOG_BOX[0] * width
    y = (top + bottom) / 2 + HOG_BOX[1] * height
    half = HOG_BOX[2] * height / 2
    return (x - half, y - half, x + half, y + half)


def suppress(scores, boxes, threshold, top_k=MOST_CANDIDATES):
    """Greedy non-maximum suppression: indices of the best-scoring boxes, none overlapping another
    kept one by more than `threshold` (IoU); only the `top_k` best candidates are considered."""
    order = np.argsort(-scores, kind="stable")[:top_k]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept = []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(int(best))
        width = np.clip(
            np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]), 0, None
        )
        height = np.clip(
            np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]), 0, None
        )
        overlap = width * height / (areas[best] + areas[rest] - width * height)
        order = rest[overlap <= threshold]
    return kept
