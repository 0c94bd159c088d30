"""Face detectors, and the choice of which detected faces to keep.

A detector is built once per job: `detector.detect(rgb) -> list[Detection]`,
boxes in the pixels of `rgb`; `detector.detect_many(rgbs)` does `batch_size`
photos in one call where the detector can (MTCNN), one by one otherwise.
A `concurrent` detector's `detect` may be called from `threads` threads at once.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue

import numpy as np
from PIL import Image

KEEP_POLICIES = ("all", "center")

# Where rule save_dlib_hog saves dlib's HOG detector (relative to the working directory).
DLIB_HOG_MODEL = "models/dlib_hog/frontal_face_detector.svm"


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


class Detector:
    """One photo at a time; detectors that do several photos per call override detect_many."""

    batch_size = 1
    concurrent = False

    def detect_many(self, images):
        return [self.detect(rgb) for rgb in images]


class DlibHogDetector(Detector):
    """dlib's HOG + linear SVM frontal face detector.

    `upsample` doubles the image that many times before detecting (finds faces
    down to ~40 px at 1, ~80 px at 0); photos whose long side exceeds
    `max_side` are detected on a downscaled copy, boxes mapped back.

    dlib builds its detector from a copy compiled into it, which takes 0.24 s;
    the same detector saved to a file (`saved`, by `save_dlib_hog`) loads in
    a millisecond. Without the file, dlib's own copy is built.

    dlib releases the GIL while it detects, but a detector keeps the image it
    scans in itself: two threads sharing one get each other's faces, or crash.
    So there is one detector per thread (`threads`), each lent to one call at a time.
    """

    concurrent = True

    def __init__(self, upsample=1, max_side=1024, threshold=0.0, saved=DLIB_HOG_MODEL, threads=1):
        import dlib

        self._idle = SimpleQueue()
        for _ in range(threads):
            self._idle.put(dlib.fhog_object_detector(str(saved)) if Path(saved).is_file()
                           else dlib.get_frontal_face_detector())
        self.upsample = upsample
        self.max_side = max_side
        self.threshold = threshold

    def detect(self, rgb):
        small, factor = downscale(rgb, self.max_side)
        detector = self._idle.get()
        try:
            rects, scores, _ = detector.run(small, self.upsample, self.threshold)
        finally:
            self._idle.put(detector)
        return [
            Detection(box=(r.left(), r.top(), r.right(), r.bottom()), score=float(s)).scaled(
                1 / factor
            )
            for r, s in zip(rects, scores)
        ]


class MtcnnDetector(Detector):
    """MTCNN (Zhang et al. 2016) from the `mtcnn` package, which ships its weights.

    Boxes, scores and 5 landmarks (eyes, nose, mouth corners; of each pair
    the one on the photo's left first). `batch_size` photos of the same size go
    through the network in one call; photos over `max_side` are detected on a
    downscaled copy. `min_face_size` (px) sets the smallest face searched for
    (smaller is slower); `stage_thresholds` are P-Net's, R-Net's and O-Net's.
    """

    def __init__(self, min_face_size=20, stage_thresholds=(0.6, 0.7, 0.8), max_side=1024,
                 batch_size=8, threads=1):
        from facecluster.tfruntime import import_tensorflow

        tf = import_tensorflow(threads)
        from mtcnn import MTCNN

        device = "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"
        self._mtcnn = MTCNN(device=device)
        pnet, rnet, onet = stage_thresholds
        self._options = dict(min_face_size=min_face_size, threshold_pnet=pnet,
                             threshold_rnet=rnet, threshold_onet=onet)
        self.max_side = max_side
        self.batch_size = batch_size

    def detect(self, rgb):
        return self.detect_many([rgb])[0]

    def detect_many(self, images):
        copies = [downscale(rgb, self.max_side) for rgb in images]
        # mtcnn pads the photos of one call to the largest, and then misplaces
        # the boxes of the padded ones: only photos of one size share a call.
        by_size = defaultdict(list)
        for index, (small, _) in enumerate(copies):
            by_size[small.shape].append(index)
        found = [None] * len(images)
        for indices in by_size.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                rows = self._mtcnn.detect_faces([copies[i][0] for i in chunk], box_format="xyxy",
                                                output_type="numpy", **self._options)
                for position, index in enumerate(chunk):
                    factor = copies[index][1]
                    found[index] = [_mtcnn_detection(row).scaled(1 / factor)
                                    for row in rows[rows[:, 0] == position]]
        return found


def _mtcnn_detection(row):
    """A Detection from one row of mtcnn's numpy output:
    image, x1, y1, x2, y2, score, the 5 landmarks' x, then their y."""
    row = [float(v) for v in row]
    return Detection(box=tuple(row[1:5]), score=row[5], landmarks=list(zip(row[6:11], row[11:16])))


class WholeImageDetector(Detector):
    """For photos that are already face crops: the whole photo is the face."""

    concurrent = True

    def detect(self, rgb):
        height, width = rgb.shape[:2]
        return [Detection(box=(0.0, 0.0, float(width - 1), float(height - 1)), score=1.0)]


def save_dlib_hog(target):
    """Save dlib's frontal face detector to `target`, for DlibHogDetector to load fast."""
    import dlib

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    dlib.get_frontal_face_detector().save(str(target))


def make_detector(settings, threads=1):
    """Build the detector a model's `detector:` settings name, for a job of `threads` threads."""
    name = settings["name"]
    if name == "dlib_hog":
        return DlibHogDetector(
            upsample=settings.get("upsample", 1),
            max_side=settings.get("max_side", 1024),
            threshold=settings.get("threshold", 0.0),
            threads=threads,
        )
    if name == "mtcnn":
        return MtcnnDetector(
            min_face_size=settings.get("min_face_size", 20),
            stage_thresholds=settings.get("stage_thresholds", (0.6, 0.7, 0.8)),
            max_side=settings.get("max_side", 1024),
            batch_size=settings.get("batch_size", 8),
            threads=threads,
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
