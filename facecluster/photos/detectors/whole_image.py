"""For photos that are already face crops: the face and its landmarks are looked for inside the
crop (YuNet, on a padded copy enlarged when small); the crop's box when none is found."""

import numpy as np
from PIL import Image

from facecluster.photos.detectors import DETECTORS, Detection, Detector
from facecluster.photos.detectors.yunet import PREPARED, YunetDetector

# A tight crop cuts the face at its edges, where YuNet misses it: the crop is searched padded
# by this share of its side on every side, with its border's mean colour.
PAD = 0.3
# A small crop is enlarged to about this long side (px) first: YuNet finds faces from ~12 px,
# but its landmarks, and so the chip's alignment, are better on a larger face.
SMALL_CROP = 160
FOUND = "face found in the crop"
NOT_FOUND = "no face found in the crop: the crop's box used"


@DETECTORS.register
class WholeImageDetector(Detector):
    name = "none"
    description = (
        "The photos are face crops already: the face and its landmarks are found inside each crop "
        "(YuNet on a padded, enlarged copy), the whole crop used when none is found"
    )
    settings = {
        "locate": {
            "type": "boolean",
            "default": True,
            "description": "find the face and its landmarks inside the crop (false: the crop's box is the face's, "
            "its landmarks predicted in it; chips aligned worse, bench/shapes.py)",
        }
    }
    concurrent = True

    @classmethod
    def model_files(cls, settings):
        return [PREPARED.model_file] if settings["locate"] else []

    def __init__(self, settings, files, threads):
        self._yunet = None
        if settings["locate"]:
            # YuNet's defaults; a crop is enlarged here already, never searched again at twice its size.
            yunet_settings = {name: spec["default"] for name, spec in YunetDetector.settings.items()}
            yunet_settings["upsample_below"] = 0
            self._yunet = YunetDetector(yunet_settings, files, threads)

    def detect(self, rgb):
        height, width = rgb.shape[:2]
        whole = Detection(box=(0.0, 0.0, float(width - 1), float(height - 1)), score=1.0)
        if self._yunet is None:
            return [whole]
        found = locate_face(self._yunet, rgb, whole.box)
        if found is None:
            whole.how = NOT_FOUND
            return [whole]
        found.how = FOUND
        return [found]


def locate_face(yunet, rgb, box):
    """The face (with its landmarks) YuNet finds in the part of `rgb` that `box` bounds, searched as
    a crop (padded, enlarged when small): of those around the box's centre the best scoring, in
    `rgb`'s pixels; None when there is none."""
    left, top = max(0, int(box[0])), max(0, int(box[1]))
    right, bottom = min(rgb.shape[1], int(np.ceil(box[2])) + 1), min(rgb.shape[0], int(np.ceil(box[3])) + 1)
    if right - left < 2 or bottom - top < 2:
        return None
    padded, scale, offset = pad_and_enlarge(rgb[top:bottom, left:right])
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    inside = []
    for face in yunet.detect(padded):
        face = face.scaled(1 / scale).shifted(left - offset, top - offset)
        face_left, face_top, face_right, face_bottom = face.box
        if face_left <= centre[0] <= face_right and face_top <= centre[1] <= face_bottom:
            inside.append(face)
    return max(inside, key=lambda face: face.score, default=None)


def pad_and_enlarge(rgb):
    """(copy of rgb padded by PAD and enlarged to about SMALL_CROP px when smaller, its scale,
    the crop's offset in it before scaling)."""
    height, width = rgb.shape[:2]
    pad = round(PAD * max(height, width))
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).mean(axis=0)
    padded = np.empty((height + 2 * pad, width + 2 * pad, 3), np.uint8)
    padded[:] = border.round().astype(np.uint8)
    padded[pad : pad + height, pad : pad + width] = rgb
    scale = max(1.0, SMALL_CROP / max(height, width))
    if scale > 1:
        size = (round(padded.shape[1] * scale), round(padded.shape[0] * scale))
        scale = size[0] / padded.shape[1]
        padded = np.asarray(Image.fromarray(padded).resize(size, Image.Resampling.BICUBIC))
    return padded, scale, pad
