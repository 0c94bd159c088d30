"""dlib's and Intel's face models together: one descriptor, so that the Euclidean distance
between two faces weighs both models, each by its own calibration.

Each member's descriptor, as that embedder gives it, is divided by the member's calibrated Euclidean
threshold (the distance at which it accepts 1e-3 of lfw-dev's impostor pairs); the two stand side
by side. The squared distance between two faces is then the sum of each member's squared distance
in units of its own threshold: a pair at both members' thresholds lies sqrt(2) apart. Every later
stage (clustering, naming, find) runs on it unchanged.

A face's chip is dlib's 150 x 150 chip (dlib's own alignment) with Intel's 128 x 128 chip (aligned
on the detector's five points) beside it, on one image: the contact sheets show both.
"""

import numpy as np

from facecluster.photos.embedders import EMBEDDERS, Embedder
from facecluster.photos.embedders.dlib import DlibEmbedder
from facecluster.photos.embedders.fitted import read_fitted
from facecluster.photos.embedders.intel_reid import IntelReidEmbedder

MEMBERS = (DlibEmbedder, IntelReidEmbedder)
FITTED = read_fitted("fusion")


def _defaults(embedder):
    return {name: spec["default"] for name, spec in embedder.settings.items()}


def fuse(descriptors):
    """(n, 128 + 256) float32: each member's (n, dim) descriptors, in MEMBERS' order, divided by the
    member's calibrated Euclidean threshold, side by side."""
    parts = [np.asarray(X, np.float64) / embedder.thresholds["euclidean"] for embedder, X in zip(MEMBERS, descriptors)]
    return np.concatenate(parts, axis=1).astype(np.float32)


@EMBEDDERS.register
class FusionEmbedder(Embedder):
    """dlib's ResNet (onnxruntime) and Intel's face-reidentification-retail-0095 on every face, their
    descriptors each scaled by its calibration and joined (`fuse`). Each face costs both networks."""

    name = "fusion"
    description = (
        "dlib's ResNet and Intel's face-reidentification-retail-0095 together: each descriptor "
        "divided by its own calibrated threshold, joined (384-D); both networks' time"
    )
    dim = sum(embedder.dim for embedder in MEMBERS)
    # Calibrated on lfw-dev, and the folder cut's and naming's constants fitted to these
    # descriptors: fusion.fitted.yaml (with the commands that measured them).
    thresholds, cut_rule, naming_rule = (FITTED[key] for key in ("thresholds", "cut_rule", "naming_rule"))

    @classmethod
    def model_files(cls, settings):
        return [file for embedder in MEMBERS for file in embedder.model_files(_defaults(embedder))]

    def __init__(self, settings, files, threads):
        self._members = []
        for embedder in MEMBERS:
            count = len(embedder.model_files(_defaults(embedder)))
            self._members.append(embedder(_defaults(embedder), files[:count], threads))
            files = files[count:]
        self.chip_size = max(member.chip_size for member in self._members)

    def align(self, rgb, detections):
        """Chips (k, 150, 150 + 128, 3): each member's chip side by side, top-aligned; the landmarks
        (k, 5, 2) Intel's chip was aligned on (the detector's)."""
        aligned = [member.align(rgb, detections) for member in self._members]
        chips = np.zeros((len(detections), self.chip_size, sum(m.chip_size for m in self._members), 3), np.uint8)
        left = 0
        for member, (member_chips, _) in zip(self._members, aligned):
            chips[:, : member.chip_size, left : left + member.chip_size] = member_chips
            left += member.chip_size
        return chips, aligned[-1][1]

    def embed(self, chips):
        """(n, 384) float32 for n chips made by `align`."""
        chips = np.asarray(chips)
        descriptors, left = [], 0
        for member in self._members:
            part = chips[:, : member.chip_size, left : left + member.chip_size]
            descriptors.append(member.embed(np.ascontiguousarray(part)))
            left += member.chip_size
        return fuse(descriptors)
