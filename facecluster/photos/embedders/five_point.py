"""The base of the embedders whose network takes a face aligned on five points (Intel's, ArcFace-style models).

A chip is the photo warped by the similarity transform (rotation, uniform
scale, shift) that moves the face's five landmarks (left eye, right eye, nose
tip, left and right mouth corner, as seen in the photo) nearest, in least
squares, to the model's template (Umeyama 1991), sampled bilinearly by Pillow.
Chips are kept RGB uint8, as every embedder's are (the contact sheets show
them); the channel order, scale and layout the network takes are applied when
it runs.

A face whose detector gives no landmarks (dlib_hog, none's crops) gets YuNet's,
found inside its box as detector `none` finds a crop's face
(`whole_image.locate_face`); where YuNet finds none there, the template is laid
over the box. The ledger says which (`how`).
"""

from functools import cached_property

import numpy as np
from PIL import Image

from facecluster.photos.detectors.whole_image import locate_face
from facecluster.photos.detectors.yunet import PREPARED as YUNET
from facecluster.photos.detectors.yunet import YunetDetector
from facecluster.photos.embedders import Embedder, in_batches, no_chips
from facecluster.photos.embedders.crop import NORMALIZATIONS

LOCATED = "landmarks found by YuNet in the detector's box"
NOT_LOCATED = "no landmarks found in the detector's box: the template laid over the box"


def similarity_transform(source, target):
    """(matrix (2, 2), shift (2,)): the rotation, uniform scale and shift moving the points `source`
    (k, 2) nearest to `target` (k, 2) in least squares (Umeyama's closed form)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred_source, centred_target = source - source_mean, target - target_mean
    covariance = centred_target.T @ centred_source / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    reflection = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ reflection @ vt
    scale = np.trace(np.diag(singular) @ reflection) / centred_source.var(axis=0).sum()
    matrix = scale * rotation
    return matrix, target_mean - matrix @ source_mean


def warp(photo, landmarks, template, size):
    """The (size, size, 3) uint8 chip of `photo` (an (h, w, 3) array or an RGB PIL image) whose
    landmarks (5, 2) land on `template` (5, 2) x size. Points are in pixels whose centres are whole
    numbers (YuNet's and OpenCV's convention)."""
    matrix, shift = similarity_transform(landmarks, np.asarray(template) * size)
    inverse = np.linalg.inv(matrix)  # chip -> photo
    # Pillow samples at pixel centres x + 0.5, in and out.
    offset = inverse @ (-shift) + 0.5 - inverse @ np.array([0.5, 0.5])
    # Only the part of the photo the chip covers (and a margin for the filter) is made an image:
    # a whole 12 MP photo per face cost 20 ms a photo.
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]]) @ inverse.T + offset
    width, height = photo.size if isinstance(photo, Image.Image) else photo.shape[1::-1]
    left, top = np.clip(np.floor(corners.min(axis=0)).astype(int) - 2, 0, [width, height])
    right, bottom = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 2, 0, [width, height])
    right, bottom = max(right, left + 1), max(bottom, top + 1)
    coefficients = (*inverse[0], offset[0] - left, *inverse[1], offset[1] - top)
    if isinstance(photo, Image.Image):
        part = photo.crop((int(left), int(top), int(right), int(bottom)))
    else:
        part = Image.fromarray(np.ascontiguousarray(photo[top:bottom, left:right]))
    return np.asarray(part.transform((size, size), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR))


class FivePointEmbedder(Embedder):
    """Built with the model's `template` ((5, 2), fractions of the chip's side), `size` (chip side,
    px), `channel_order` (RGB or BGR, what the network takes), `normalization` (a key of
    crop.NORMALIZATIONS), and YuNet's prepared folder (for faces without landmarks). Subclasses run
    the network in `_run(float32 batch (n, size, size, 3) in the network's channel order and
    scale) -> (n, dim)`, and set `dim`."""

    # align() takes the photo as a PIL image too: each chip is cut from the part it covers, and no
    # array of a whole 12 MP photo is made (0.05 s).
    cuts_from_image = True

    def __init__(self, *, template, size, channel_order, normalization, batch_size, yunet_folder, threads):
        self.template = np.asarray(template, np.float64)
        self.chip_size = size
        self.bgr = channel_order == "BGR"
        self.normalize = NORMALIZATIONS[normalization]
        self.batch_size = batch_size
        self._yunet_folder, self._threads = yunet_folder, threads

    @cached_property
    def _yunet(self):
        """YuNet, built at the first face given without landmarks: with YuNet as the detector
        (the default) never, and a job need not compile it twice."""
        settings = {name: spec["default"] for name, spec in YunetDetector.settings.items()}
        settings["upsample_below"] = 0  # the box is enlarged when small already (locate_face)
        return YunetDetector(settings, [self._yunet_folder], self._threads)

    @staticmethod
    def yunet_file():
        """The model file of the YuNet that finds the landmarks of faces detected without them."""
        return YUNET.model_file

    def align(self, rgb, detections):
        """Chips (k, size, size, 3) uint8 RGB and landmarks (k, 5, 2) for k detections in `rgb` (an
        array or an RGB PIL image); a detection given without landmarks gets YuNet's, and `how`
        says so."""
        if not detections:
            return no_chips(self.chip_size), np.zeros((0, 5, 2), np.float32)
        # YuNet searches an array: made once, and only where a face has no landmarks.
        searched = np.asarray(rgb) if any(len(d.landmarks) != 5 for d in detections) else None
        chips, all_landmarks = [], []
        for detection in detections:
            landmarks = self._landmarks(searched, detection)
            chips.append(warp(rgb, landmarks, self.template, self.chip_size))
            all_landmarks.append(landmarks)
        return np.stack(chips), np.asarray(all_landmarks, np.float32)

    def _landmarks(self, rgb, detection):
        if len(detection.landmarks) == 5:
            return np.asarray(detection.landmarks, np.float64)
        located = locate_face(self._yunet, rgb, detection.box)
        if located is not None:
            note, landmarks = LOCATED, np.asarray(located.landmarks, np.float64)
        else:
            left, top, right, bottom = detection.box
            side = max(right - left, bottom - top)
            corner = np.array([(left + right - side) / 2, (top + bottom - side) / 2])
            note, landmarks = NOT_LOCATED, corner + self.template * side
        detection.how = "; ".join(filter(None, [detection.how, note]))
        return landmarks

    def embed(self, chips):
        """(n, dim) float32 for n chips, `batch_size` chips per network call, each of length 1: these
        models' descriptors are compared by angle, and every later stage measures Euclidean distance
        (intel_reid on lfw-dev, true-accept rate at a false-accept rate of 1e-4: 0.991 by angle, 0.973
        by Euclidean distance between the raw descriptors; bench/calibrate_thresholds.py)."""
        vectors = in_batches(self._normalized_run, chips, self.batch_size, self.dim)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.float32(1e-12))

    def _normalized_run(self, batch):
        if self.bgr:
            batch = batch[..., ::-1]
        return self._run(self.normalize(batch))
