"""The base of the embedders of models the user downloads (FaceNet, Keras): FaceNet's crops."""

import numpy as np
from PIL import Image

from facecluster.photos.embedders import BATCH_SIZE, Embedder, in_batches, no_chips
from facecluster.registry import ModelFile

DOWNLOAD_HELP = "models/README.md says where to download the models and where to put them"


def prewhiten(images):
    """Each image to mean 0 and standard deviation 1 (FaceNet's `prewhiten`, what the article used)."""
    axes = tuple(range(1, images.ndim))
    size = images[0].size
    std = np.maximum(images.std(axis=axes, keepdims=True), 1 / np.sqrt(size))
    return (images - images.mean(axis=axes, keepdims=True)) / std


NORMALIZATIONS = {
    "prewhiten": prewhiten,
    "fixed": lambda images: (images - 127.5) / 128,  # what FaceNet 20180402-114759 was trained with
    "signed": lambda images: (images - 127.5) / 127.5,  # -1..1: ArcFace's (InsightFace's models)
    "unit": lambda images: images / 255,
    "none": lambda images: images,  # 0..255, for models that normalise inside
}


class CropEmbedder(Embedder):
    """Base of the TensorFlow embedders: FaceNet's alignment, normalisation and batching.

    A chip is the detector's box grown by a margin, clipped to the photo and
    resized to `input_size` square, the way davidsandberg/facenet crops:
    `margin` is in chip pixels (32 at 160: the box fills the middle 128 px).
    Landmarks are the detector's (MTCNN's 5 points); NaN when it gives none.
    Subclasses set `dim` and run the network in `_run(float32 batch)`. The
    model is a file the user downloads and pins by sha256 (`path`, `sha256`).
    """

    required = ("path", "sha256")
    settings = {
        "path": {
            "type": "string",
            "minLength": 1,
            "description": "the model file or folder, relative to the working directory",
        },
        "sha256": {
            "description": "the file's sha256 (sha256sum), or for a folder each file's "
            "(file: sha256); checked before any job runs",
            "oneOf": [
                {"$ref": "#/$defs/sha256"},
                {"type": "object", "minProperties": 1, "additionalProperties": {"$ref": "#/$defs/sha256"}},
            ],
        },
        "input_size": {"type": "integer", "minimum": 16, "default": 160, "description": "chip side, pixels"},
        "margin": {
            "type": "number",
            "minimum": 0,
            "default": 32,
            "description": "the chip is the detector's box plus this margin, in chip pixels (32: facenet's own)",
        },
        "normalization": {
            "enum": sorted(NORMALIZATIONS),
            "default": "prewhiten",
            "description": "prewhiten (each chip to mean 0, std 1: the article's), "
            "fixed ((x - 127.5) / 128: what FaceNet 20180402-114759 "
            "was trained with), signed ((x - 127.5) / 127.5), unit (x / 255) or none (0..255)",
        },
        **BATCH_SIZE,
    }

    @classmethod
    def model_files(cls, settings):
        return [ModelFile(settings["path"], f"you: download it ({DOWNLOAD_HELP})")]

    @classmethod
    def check(cls, settings):
        if not settings["margin"] < settings["input_size"]:
            return f"margin: {settings['margin']} must be less than input_size {settings['input_size']}"
        return None

    def __init__(self, settings):
        self.chip_size = settings["input_size"]
        self.margin = settings["margin"]
        self.normalize = NORMALIZATIONS[settings["normalization"]]
        self.batch_size = settings["batch_size"]

    def align(self, rgb, detections):
        """Chips (k, size, size, 3) uint8 and landmarks (k, 5, 2) for k detections."""
        if not detections:
            return no_chips(self.chip_size), np.zeros((0, 5, 2), np.float32)
        chips = [crop_with_margin(rgb, d.box, self.chip_size, self.margin) for d in detections]
        landmarks = [d.landmarks if len(d.landmarks) == 5 else np.full((5, 2), np.nan) for d in detections]
        return np.stack(chips), np.asarray(landmarks, np.float32)

    def embed(self, chips):
        """(n, dim) float32 for n chips, `batch_size` chips per network call."""
        return in_batches(lambda batch: self._run(self.normalize(batch)), chips, self.batch_size, self.dim)

    def _output_size(self):
        """The network's output size, from one blank chip (also proves input_size fits the model)."""
        blank = np.zeros((1, self.chip_size, self.chip_size, 3), np.float32)
        return int(np.asarray(self._run(blank)).shape[-1])


def crop_with_margin(rgb, box, size, margin):
    """The box grown so that it fills `size - margin` of a `size`-pixel chip, clipped to the photo, resized."""
    left, top, right, bottom = box
    grow = margin / (size - margin) / 2  # of the box's side, on each side
    dx, dy = (right - left) * grow, (bottom - top) * grow
    height, width = rgb.shape[:2]
    crop = (max(0.0, left - dx), max(0.0, top - dy), min(width, right + dx), min(height, bottom + dy))
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR, box=crop))
