"""Face detectors, and the choice of which detected faces to keep.

A detector is built once per job and called once per photo:
`detector.detect(rgb) -> list[Detection]`, boxes in the pixels of `rgb`.
"""

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

KEEP_POLICIES = ("all", "center")


@dataclass
class Detection:
    box: tuple  # (left, top, right, bottom), pixels, float
    score: float
    landmarks: list = field(default_factory=list)  # [(x, y), ...] when the detector gives them

    def scaled(self, factor):
        """The same detection in an image `factor` times as large."""
        return Detection(
            box=tuple(v * factor for v in self.box),
            score=self.score,
            landmarks=[(x * factor, y * factor) for x, y in self.landmarks],
        )


class DlibHogDetector:
    """dlib's HOG + linear SVM frontal face detector.

    `upsample` doubles the image that many times before detecting (finds faces
    down to ~40 px at 1, ~80 px at 0); photos whose long side exceeds
    `max_side` are detected on a downscaled copy, boxes mapped back.
    """

    def __init__(self, upsample=1, max_side=1024, threshold=0.0):
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self.upsample = upsample
        self.max_side = max_side
        self.threshold = threshold

    def detect(self, rgb):
        small, factor = downscale(rgb, self.max_side)
        rects, scores, _ = self._detector.run(small, self.upsample, self.threshold)
        return [
            Detection(box=(r.left(), r.top(), r.right(), r.bottom()), score=float(s)).scaled(
                1 / factor
            )
            for r, s in zip(rects, scores)
        ]


class WholeImageDetector:
    """For photos that are already face crops: the whole photo is the face."""

    def detect(self, rgb):
        height, width = rgb.shape[:2]
        return [Detection(box=(0.0, 0.0, float(width - 1), float(height - 1)), score=1.0)]


def make_detector(settings):
    """Build the detector a model's `detector:` settings name."""
    name = settings["name"]
    if name == "dlib_hog":
        return DlibHogDetector(
            upsample=settings.get("upsample", 1),
            max_side=settings.get("max_side", 1024),
            threshold=settings.get("threshold", 0.0),
        )
    if name == "none":
        return WholeImageDetector()
    raise ValueError(f"unknown detector {name!r}")


def downscale(rgb, max_side):
    """(copy no larger than max_side on its long side, its size / rgb's size)."""
    height, width = rgb.shape[:2]
    if max(height, width) <= max_side:
        return rgb, 1.0
    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
    return small, size[0] / width


def select_faces(detections, image_size, keep="all", min_size=0):
    """Drop faces smaller than `min_size` px (box side); keep all, or the one nearest the centre.

    `center` is the LFW convention: a photo is about one person, others in
    the background are not that person. Order: left to right, for stable
    face indices.
    """
    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {KEEP_POLICIES}, not {keep!r}")
    faces = [d for d in detections if min(_side_lengths(d.box)) >= min_size]
    if keep == "center" and faces:
        width, height = image_size
        faces = [min(faces, key=lambda d: _distance_to(d.box, width / 2, height / 2))]
    return sorted(faces, key=lambda d: (d.box[0], d.box[1]))


def _side_lengths(box):
    left, top, right, bottom = box
    return right - left, bottom - top


def _distance_to(box, x, y):
    left, top, right, bottom = box
    return np.hypot((left + right) / 2 - x, (top + bottom) / 2 - y)
