"""For photos that are already face crops: the whole photo is the face."""

from facecluster.detectors import DETECTORS, Detection, Detector


@DETECTORS.register
class WholeImageDetector(Detector):
    name = "none"
    description = "The photos are face crops already: the whole photo is the face"
    concurrent = True

    def __init__(self, settings, files, threads):
        pass

    def detect(self, rgb):
        height, width = rgb.shape[:2]
        return [Detection(box=(0.0, 0.0, float(width - 1), float(height - 1)), score=1.0)]
