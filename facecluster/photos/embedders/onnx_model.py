"""A face model the user brings as an ONNX file, taking faces aligned on five points (ArcFace-style).

The defaults are ArcFace's convention (InsightFace's models): 112 x 112, the
ArcFace template, RGB, (x - 127.5) / 127.5; the settings change each. The
input's layout (NCHW or NHWC) is read from the graph. Its thresholds are not
known to facecluster: `facecluster calibrate` measures them on a
labelled folder and prints what to put in `thresholds`. docs/user-models.md
says which models fit.
"""

import numpy as np

from facecluster.photos.embedders import BATCH_SIZE, EMBEDDERS
from facecluster.photos.embedders.crop import DOWNLOAD_HELP, CropEmbedder
from facecluster.photos.embedders.five_point import FivePointEmbedder
from facecluster.photos.networks.onnx_session import onnx_session
from facecluster.registry import ModelFile

# InsightFace's (and OpenCV's SFace's) five points in the 112 x 112 chip, as fractions of its side:
# left eye, right eye, nose tip, left and right mouth corner, as seen in the photo.
ARCFACE_TEMPLATE = [
    [38.2946 / 112, 51.6963 / 112],
    [73.5318 / 112, 51.5014 / 112],
    [56.0252 / 112, 71.7366 / 112],
    [41.5493 / 112, 92.3655 / 112],
    [70.7299 / 112, 92.2041 / 112],
]
CALIBRATE_HELP = (
    "run `facecluster calibrate FOLDER --model NAME` on a folder of labelled photos "
    "(a sub-folder per person; docs/user-models.md) and put the thresholds it prints in the embedder's `thresholds`"
)


@EMBEDDERS.register
class OnnxEmbedder(FivePointEmbedder):
    """Any ONNX face model of one input (a batch of chips, NCHW or NHWC) and a descriptor out."""

    name = "onnx"
    description = (
        "a face model you bring as an ONNX file (ArcFace-style: InsightFace's, OpenCV's SFace), faces aligned "
        "on five landmarks, run by onnxruntime; its thresholds calibrated by `facecluster calibrate`"
    )
    required = ("path", "sha256")
    calibrate_help = CALIBRATE_HELP
    settings = {
        "path": {**CropEmbedder.settings["path"], "description": "the .onnx file, relative to the working directory"},
        "sha256": {**CropEmbedder.settings["sha256"], "description": "the file's sha256 (sha256sum); checked first"},
        "input_size": {**CropEmbedder.settings["input_size"], "default": 112},
        "template": {
            "type": "array",
            "minItems": 5,
            "maxItems": 5,
            "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
            "default": [[round(v, 6) for v in point] for point in ARCFACE_TEMPLATE],
            "description": "where the five landmarks (left eye, right eye, nose tip, left and right mouth corner, "
            "as seen in the photo) go in the chip, as fractions of its side (default: ArcFace's)",
        },
        "channel_order": {"enum": ["RGB", "BGR"], "default": "RGB", "description": "the channel order the model takes"},
        "normalization": {
            **CropEmbedder.settings["normalization"],
            "default": "signed",
            "description": "what the model takes: signed ((x - 127.5) / 127.5, ArcFace's), none (0..255), "
            "unit (x / 255), fixed ((x - 127.5) / 128) or prewhiten (each chip to mean 0, std 1)",
        },
        "thresholds": {
            "type": "object",
            "properties": {metric: {"type": "number", "exclusiveMinimum": 0} for metric in ("euclidean", "cosine")},
            "required": ["euclidean", "cosine"],
            "additionalProperties": False,
            "description": "the distances under which two faces may be one person, at a false-accept rate of 1e-3: "
            "what `facecluster calibrate` prints (none: give clustering and naming a threshold)",
        },
        **BATCH_SIZE,
    }

    @classmethod
    def model_files(cls, settings):
        return [ModelFile(settings["path"], f"you: download it ({DOWNLOAD_HELP})"), cls.yunet_file()]

    @classmethod
    def calibrated(cls, settings):
        return settings.get("thresholds")

    def __init__(self, settings, files, threads):
        path, yunet_folder = files
        self._session = onnx_session(path, threads)
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f"{path}: the model takes {len(inputs)} inputs; a face model takes one (its chips)")
        self._input = inputs[0].name
        self._channels_first, fixed_batch = _layout(path, inputs[0].shape, settings["input_size"])
        super().__init__(
            template=settings["template"],
            size=settings["input_size"],
            channel_order=settings["channel_order"],
            normalization=settings["normalization"],
            batch_size=fixed_batch or settings["batch_size"],
            yunet_folder=yunet_folder,
            threads=threads,
        )
        self.dim = self._run(np.zeros((self.batch_size, self.chip_size, self.chip_size, 3), np.float32)).shape[1]

    def _run(self, batch):
        if self._channels_first:
            batch = batch.transpose(0, 3, 1, 2)
        output = self._session.run(None, {self._input: np.ascontiguousarray(batch, np.float32)})[0]
        return output.reshape(len(batch), -1)


def _layout(path, shape, size):
    """(channels first?, the batch size the graph fixes or None) of an input `shape` (4 axes, 3
    channels); ValueError, saying what the model takes, for another or for a side other than `size`."""
    if len(shape) == 4 and shape[1] == 3 and shape[3] != 3:
        channels_first, sides = True, shape[2:]
    elif len(shape) == 4 and shape[3] == 3:
        channels_first, sides = False, shape[1:3]
    else:
        raise ValueError(
            f"{path}: its input is shaped {shape}; a face model takes (n, 3, side, side) or (n, side, side, 3)"
        )
    if any(isinstance(side, int) and side != size for side in sides):
        raise ValueError(f"{path}: the model takes {sides[0]} x {sides[1]} chips; set input_size: {sides[0]}")
    return channels_first, shape[0] if isinstance(shape[0], int) else None
