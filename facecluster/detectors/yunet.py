"""YuNet (Wu, Peng, Yu 2023): libfacedetection's CNN face detector, compiled with its weights in `yuface`."""

import numpy as np

from facecluster.detectors import DETECTORS, Detection, Detector, downscale

# YuNet finds faces of about 10 to 300 px (its training range); larger ones are
# found in copies reduced LEVEL_STEP times, each copy keeping the faces whose
# size suits it (with an overlap between copies, where the union is thinned).
LEVEL_STEP = 4
LARGEST_AT_LEVEL = 200  # px, in the copy
SMALLEST_COPY = 48  # px, long side


@DETECTORS.register
class YunetDetector(Detector):
    """Boxes, scores and 5 landmarks (eyes, nose tip, mouth corners; of each pair
    the one on the photo's left first), at the photo's decoded size and in
    reduced copies for faces larger than YuNet's range.
    """

    name = "yunet"
    description = (
        "YuNet (libfacedetection's CNN, weights compiled into the yuface package): faces from about 12 px "
        "at any size of photo, 5 landmarks; fast on a CPU"
    )
    settings = {
        "score_threshold": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.7,
            "description": "faces scoring under this are dropped (lower finds more, and more false faces)",
        },
        "nms_threshold": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.4,
            "description": "of two boxes from two copies overlapping more than this (IoU), the lower-scoring goes",
        },
    }
    concurrent = True

    def __init__(self, settings, files, threads):
        import yuface

        self._detect = yuface.detect
        self.score_threshold = settings["score_threshold"]
        self.nms_threshold = settings["nms_threshold"]

    def detect(self, rgb):
        found, level, scale = [], rgb, 1.0
        while True:
            largest = None if max(level.shape[:2]) < LEVEL_STEP * SMALLEST_COPY else LARGEST_AT_LEVEL
            smallest = 0 if scale == 1.0 else LARGEST_AT_LEVEL / LEVEL_STEP * 0.8
            found += [d.scaled(1 / scale) for d in self._detect_level(level, smallest, largest)]
            if largest is None:
                break
            level, factor = downscale(level, max(level.shape[:2]) // LEVEL_STEP)
            scale *= factor
        return _suppress(found, self.nms_threshold)

    def _detect_level(self, rgb, smallest, largest):
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        scores, boxes, points = self._detect(bgr, conf=self.score_threshold)
        detections = []
        for score, (x, y, width, height), landmarks in zip(scores, boxes.astype(float), points.astype(float)):
            side = np.sqrt(width * height)
            if side < smallest or (largest is not None and side > largest):
                continue
            detections.append(
                Detection(
                    box=(x, y, x + width, y + height),
                    score=float(score) / 100,
                    landmarks=list(zip(landmarks[0::2], landmarks[1::2])),
                )
            )
        return detections


def _suppress(detections, threshold):
    """Non-maximum suppression: the best-scoring of overlapping boxes (IoU > threshold)."""
    kept = []
    for detection in sorted(detections, key=lambda d: -d.score):
        if all(_iou(detection.box, other.box) <= threshold for other in kept):
            kept.append(detection)
    return kept


def _iou(a, b):
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
