"""dlib's HOG + linear SVM frontal face detector."""

from pathlib import Path
from queue import SimpleQueue

from facecluster.photos.detectors import DETECTORS, MAX_SIDE, Detection, Detector, downscale
from facecluster.registry import prepared_model


def save_detector(folder):
    """dlib's frontal face detector saved to a file, which loads in a millisecond.

    dlib builds it from a copy compiled into it each time it is asked for
    one, hundreds of times slower (bench/results.md).
    """
    import dlib

    Path(folder).mkdir(parents=True, exist_ok=True)
    dlib.get_frontal_face_detector().save(str(Path(folder) / SAVED_NAME))


SAVED_NAME = "frontal_face_detector.svm"
SAVED = prepared_model("dlib_hog", save_detector)


@DETECTORS.register
class DlibHogDetector(Detector):
    """Photos over `max_side` are detected on a downscaled copy, boxes mapped back.

    dlib releases the GIL while it detects, but a detector keeps the image it
    scans in itself: two threads sharing one get each other's faces, or crash.
    So there is one detector per thread, each lent to one call at a time.
    """

    name = "dlib_hog"
    description = "dlib's HOG + linear SVM frontal face detector (no landmarks; fast, misses small faces)"
    settings = {
        "upsample": {
            "type": "integer",
            "minimum": 0,
            "maximum": 4,
            "default": 1,
            "description": "times the photo is doubled before detecting: 1 finds faces "
            "down to ~40 px, 0 only from ~80 px, but is 3-4x faster",
        },
        "threshold": {
            "type": "number",
            "default": 0.0,
            "description": "detection score threshold (lower finds more)",
        },
        **MAX_SIDE,
    }
    concurrent = True

    @classmethod
    def model_files(cls, settings):
        return [SAVED.model_file]

    def __init__(self, settings, files, threads):
        import dlib

        (folder,) = files
        self._idle = SimpleQueue()
        for _ in range(threads):
            self._idle.put(dlib.fhog_object_detector(f"{folder}/{SAVED_NAME}"))
        self.upsample = settings["upsample"]
        self.max_side = settings["max_side"]
        self.threshold = settings["threshold"]

    def detect(self, rgb):
        small, factor = downscale(rgb, self.max_side)
        detector = self._idle.get()
        try:
            rects, scores, _ = detector.run(small, self.upsample, self.threshold)
        finally:
            self._idle.put(detector)
        return [
            Detection(box=(r.left(), r.top(), r.right(), r.bottom()), score=float(s)).scaled(1 / factor)
            for r, s in zip(rects, scores)
        ]
