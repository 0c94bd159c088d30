"""Face detectors (one module each, registered in DETECTORS), and which detected faces to keep.

A detector is built once per job from its validated settings:
`detector.detect(rgb) -> list[Detection]`, boxes in the pixels of `rgb`;
`detector.detect_many(rgbs)` does `batch_size` photos in one call where the
detector can (MTCNN), one by one otherwise. A `concurrent` detector's
`detect` may be called from `threads` threads at once.
"""

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from facecluster.registry import Component, Registry, model_paths

# Settings every detector takes (the choice of faces, made after detection).
COMMON_SETTINGS = {
    "keep": {
        "enum": ["all", "center"],
        "default": "all",
        "description": "all faces, or only the one nearest the centre (the LFW convention: "
        "a photo is about one person)",
    },
    "min_size": {
        "type": "number",
        "minimum": 0,
        "default": 0,
        "description": "ignore faces smaller than this (box side, pixels)",
    },
}
# Detectors that detect on a downscaled copy of large photos.
MAX_SIDE = {
    "max_side": {
        "type": "integer",
        "minimum": 64,
        "default": 1024,
        "description": "larger photos are detected on a copy downscaled to this long side, boxes mapped back",
    }
}

DETECTORS = Registry("detector", "facecluster.photos.detectors", common=COMMON_SETTINGS)


@dataclass
class Detection:
    box: tuple  # (left, top, right, bottom), pixels, float
    score: float
    landmarks: list = field(default_factory=list)  # [(x, y), ...] when the detector gives them
    # The face's box as dlib's HOG detector draws it (square, brow to chin), for dlib's landmark
    # predictor, which was trained on such boxes; None when `box` is one already.
    align_box: tuple = None
    how: str = ""  # how the face was found, when the ledger should say (a crop's face: detector none)

    def scaled(self, factor):
        """The same detection in an image `factor` times as large."""
        return self._mapped(lambda x, y: (x * factor, y * factor))

    def shifted(self, right, down):
        """The same detection with every point moved `right` and `down` pixels."""
        return self._mapped(lambda x, y: (x + right, y + down))

    def _mapped(self, point):
        def box(b):
            return None if b is None else (*point(b[0], b[1]), *point(b[2], b[3]))

        return Detection(
            box=box(self.box),
            score=self.score,
            landmarks=[point(x, y) for x, y in self.landmarks],
            align_box=box(self.align_box),
            how=self.how,
        )


class Detector(Component):
    """One photo at a time; detectors that do several photos per call override detect_many.

    Built as `cls(settings, files, threads)`: the validated settings, the
    paths of `model_files(settings)` in order, the job's thread count.
    """

    batch_size = 1
    concurrent = False
    # The score under which a face is set aside as too doubtful to sort (experiments'
    # set_aside.min_score auto, facecluster.clustering.set_aside); 0: never, for scores that do not say it.
    set_aside_score = 0
    # The long side of a photo over which find() searches a smaller copy (the chips are cut from the
    # photo as decoded); None: the photo as decoded.
    search_side = None

    def detect_many(self, images):
        return [self.detect(rgb) for rgb in images]

    def find(self, images, side):
        """The faces of each of `images` (decoded photos: PIL images or (h, w, 3) arrays), in its
        pixels: detect() on a copy of it of at most `side` px on its long side."""
        copies = [downscale(image, side) for image in images]
        found = self.detect_many([copy for copy, _ in copies])
        return [[d.scaled(1 / factor) for d in faces] for faces, (_, factor) in zip(found, copies)]


def make_detector(settings, files=None, threads=1):
    """Build the detector a model's validated `detector:` settings name, for a job of `threads`
    threads, from its model files (default: where the workflow makes them)."""
    detector = DETECTORS[settings["name"]]
    return detector(settings, model_paths(detector, settings, files), threads)


def downscale(rgb, max_side):
    """(copy no larger than max_side on its long side, (h, w, 3) uint8, its size / rgb's size) of
    an (h, w, 3) array or a PIL image that needs reducing (no array of the whole of it made)."""
    width, height = rgb.size if isinstance(rgb, Image.Image) else rgb.shape[1::-1]
    if max(height, width) <= max_side:
        return np.asarray(rgb), 1.0
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    whole = max(height, width) // max_side
    if max(height, width) == whole * max_side and width % whole == height % whole == 0:
        # A copy a whole number of times smaller (YuNet's pyramid: 3072x2304, then 768x576):
        # the mean of each block, 3.5x faster than resize's box filter, within 1 of its values.
        return np.asarray(image.reduce(whole)), 1 / whole
    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    # Each pixel the mean of those it covers: no aliasing, and 0.07 CPU s for a 12 MP photo to
    # 3072x2304 where bilinear's wider filter takes 0.10 (bench/results.md).
    small = np.asarray(image.resize(size, Image.Resampling.BOX))
    return small, size[0] / width


def select_faces(detections, image_size, keep, min_size):
    """Drop faces smaller than `min_size` px (box side); keep all, or the one nearest the centre.

    `center` is the LFW convention: a photo is about one person, others in
    the background are not that person. Order: left to right, for stable
    face indices.
    """
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
