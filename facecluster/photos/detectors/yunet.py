"""YuNet (Wu, Peng, Yu 2023): libfacedetection's CNN face detector, run by OpenVINO or onnxruntime."""

import numpy as np
from PIL import Image

from facecluster.photos.detectors import DETECTORS, Detection, Detector, downscale
from facecluster.photos.networks.yunet_onnx import YunetNetwork, save_model
from facecluster.registry import prepared_model

ONNX_NAME = "yunet.onnx"


def _prepare(folder):
    save_model(f"{folder}/{ONNX_NAME}")
    # The runtimes timed for this kind of machine once here, rather than in each first job.
    YunetNetwork(f"{folder}/{ONNX_NAME}").large_runtime()


PREPARED = prepared_model("yunet", _prepare)

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
# A photo over search_side is searched in a copy reduced a whole number of times (a phone's
# 4032x3024 at 2016x1512, a quarter of the pixels). Where that copy shows a face under
# RECHECK_BELOW px (in the photo), or one under FAINT_BELOW px scoring under the threshold, however
# faintly (from CANDIDATE_SCORE), a part of the photo around it, RECHECK_MARGIN px or half the face's
# side on each side, is searched again at full size, and the faces found there overlapping what the copy
# showed (IoU >= RECHECK_OVERLAP) are kept: small faces found and placed as at full size, in half
# the time of a search of the 3072x2304 copy (bench/results.md, "Small faces searched again at full
# size").
CANDIDATE_SCORE = 0.015
RECHECK_BELOW = 80
FAINT_BELOW = 120
RECHECK_MARGIN = 64
RECHECK_OVERLAP = 0.3
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
            "description": "photos larger than this (long side, pixels) are searched in a copy reduced a whole "
            "number of times to fit, and where it shows a face under 80 px (or one under 120 px scoring under "
            "score_threshold), however faintly, again at full size around it; the chips cut from the photo: a "
            "phone's 4032x3024 photo at 2016x1512, in half the time of a search at full size, finding its faces "
            "down to 24 px about as well; 0 = the photo as decoded",
        },
        "runtime": {
            "enum": ["auto", "openvino", "onnxruntime"],
            "default": "auto",
            "description": "what runs the network: auto, onnxruntime for copies under a megapixel (where "
            "OpenVINO's cost per call outweighs) and for larger ones whichever of the two runs an image of "
            "1024x768 faster on this kind of machine, timed once and kept in models/.runtime/ (OpenVINO, "
            "computing in bfloat16 where the CPU has it, is about 2x onnxruntime's speed on a phone's photo with "
            "AMX, about 1.1x without); openvino; or onnxruntime, on a GPU where its onnxruntime-gpu build finds "
            "one (CUDA), else on the CPU",
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

    def find(self, images, side):
        return [self._find(image, side) for image in images]

    def _find(self, image, side):
        """The faces of a decoded photo (a PIL image or an array), in its pixels: searched whole up to
        `side` px (long side), and above it in a reduced copy with its small faces again at full size."""
        width, height = image.size if isinstance(image, Image.Image) else image.shape[1::-1]
        if max(width, height) <= side:
            return self.detect(np.asarray(image))
        image = image if isinstance(image, Image.Image) else Image.fromarray(image)
        return self._detections(self._search_reduced(image, -(-max(width, height) // side)))

    def detect(self, rgb):
        found = [self._level(rgb, 1.0, 0, _largest_at(rgb))]
        found += self._smaller_levels(rgb, 1.0)
        if self._worth_doubling(rgb, found[0][1]):
            doubled = np.asarray(Image.fromarray(rgb).resize((rgb.shape[1] * 2, rgb.shape[0] * 2), Image.BILINEAR))
            found.append(self._level(doubled, 2.0, 0, SMALL_FACE * 2))
        return self._detections(found)

    def _detections(self, found):
        """Detections of the faces found, a list of (scores, boxes, landmarks) in the photo's pixels,
        thinned by one non-maximum suppression."""
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

    def _smaller_levels(self, rgb, scale):
        """[(scores, boxes, landmarks)] of the faces too large for `rgb`, a copy `scale` times the
        photo's size, in copies LEVEL_STEP times smaller each, down to SMALLEST_COPY."""
        found, level = [], rgb
        while _largest_at(level) != np.inf:
            level, factor = downscale(level, max(level.shape[:2]) // LEVEL_STEP)
            scale *= factor
            found.append(self._level(level, scale, LARGEST_AT_LEVEL / LEVEL_STEP * 0.8, _largest_at(level)))
        return found

    def _search_reduced(self, image, whole):
        """[(scores, boxes, landmarks)] of a PIL image searched in a copy `whole` times smaller, its
        small faces (under RECHECK_BELOW px, or faint under FAINT_BELOW) searched again at full size
        where the copy shows them."""
        reduced = np.asarray(image.reduce(whole))
        scores, boxes, points = self._network(reduced, CANDIDATE_SCORE)
        boxes, points = boxes * whole, points * whole
        sides = _sides(boxes)
        sure = (scores >= self.score_threshold) & (sides >= RECHECK_BELOW) & (sides <= LARGEST_AT_LEVEL * whole)
        # A face too small for the copy shows there faintly, and often in a box larger than itself.
        doubtful = ~sure & (sides < FAINT_BELOW)
        seen = boxes[doubtful][suppress(scores[doubtful], boxes[doubtful], RECHECK_OVERLAP)]
        found = [(scores[sure], boxes[sure], points[sure])]
        found += [self._search_part(image, part, seen) for part in _parts(seen, image.size)]
        return found + self._smaller_levels(reduced, 1 / whole)

    def _search_part(self, image, part, seen):
        """(scores, boxes, landmarks) of the faces of a PIL image, searched at full size in `part`
        (left, top, right, bottom), that overlap a box of `seen`."""
        left, top = part[:2]
        scores, boxes, points = self._network(np.asarray(image.crop(part)), self.score_threshold)
        boxes, points = boxes + (left, top, left, top), points + (left, top)
        near = (_overlap_matrix(boxes, seen) >= RECHECK_OVERLAP).any(axis=1)
        return scores[near], boxes[near], points[near]

    def _worth_doubling(self, rgb, boxes):
        """A small photo is searched again at twice its size where small faces are likely: it
        showed some at its own size, or no face at all (a crop of one large face does not pay
        four times the work)."""
        if max(rgb.shape[:2]) >= self.upsample_below:
            return False
        sides = _sides(boxes)
        return len(sides) == 0 or sides.min() < 2 * SMALL_FACE

    def _level(self, rgb, scale, smallest, largest):
        """(scores, boxes, landmarks) in a copy `scale` times the photo's size, of faces sized
        smallest..largest there; in the photo's pixels."""
        # In a reduced copy the faces are large ones, which YuNet scores high: a low score
        # there is a pattern of the whole scene (bench/detection.py's false faces).
        threshold = self.score_threshold if scale >= 1 else max(self.score_threshold, REDUCED_COPY_SCORE)
        scores, boxes, points = self._network(rgb, threshold)
        sides = _sides(boxes)
        fits = (sides >= smallest) & (sides <= largest)
        return scores[fits], boxes[fits] / scale, points[fits] / scale


def _parts(seen, size):
    """The parts of a photo of `size` (width, height) to search again at full size: around each box
    of `seen`, RECHECK_MARGIN px or half the box's side on each side, parts that overlap made one."""
    parts = []
    for box in seen:
        margin = max(RECHECK_MARGIN, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2)
        part = [max(0, int(box[0] - margin)), max(0, int(box[1] - margin))]
        part += [min(size[0], int(box[2] + margin) + 1), min(size[1], int(box[3] + margin) + 1)]
        while True:
            touching = [p for p in parts if p[0] < part[2] and part[0] < p[2] and p[1] < part[3] and part[1] < p[3]]
            if not touching:
                break
            for p in touching:
                parts.remove(p)
                part = [min(part[0], p[0]), min(part[1], p[1]), max(part[2], p[2]), max(part[3], p[3])]
        parts.append(part)
    return [tuple(part) for part in parts]


def _largest_at(level):
    """The largest face (px) looked for in a copy: any size in the smallest copy, else LARGEST_AT_LEVEL."""
    return np.inf if max(level.shape[:2]) < LEVEL_STEP * SMALLEST_COPY else LARGEST_AT_LEVEL


def _sides(boxes):
    """(n,) each box's side: the geometric mean of its width and height."""
    return np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))


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
    overlap = _overlap_matrix(boxes[order], boxes[order])
    left = np.ones(len(order), bool)
    kept = []
    for i in range(len(order)):
        if left[i]:
            kept.append(int(order[i]))
            left &= overlap[i] <= threshold
    return kept


def _overlap_matrix(boxes, others):
    """(n, m) the IoU of each of boxes (n, 4) with each of others (m, 4)."""
    width = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(boxes[:, None, 0], others[None, :, 0])
    height = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(boxes[:, None, 1], others[None, :, 1])
    shared = np.maximum(width, 0) * np.maximum(height, 0)
    return shared / (_areas(boxes)[:, None] + _areas(others)[None, :] - shared)


def _areas(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
