"""Intel's face-reidentification-retail-0095 (Open Model Zoo, Apache-2.0): 256-D, run by onnxruntime.

The OpenVINO IR files ship in models/face-reidentification-retail-0095/
(README, LICENSE there); rule prepare_model lays them out as an ONNX graph
once (facecluster.photos.networks.openvino_ir), after checking their sha256.
"""

from pathlib import Path

from facecluster.photos.embedders import BATCH_SIZE, EMBEDDERS
from facecluster.photos.embedders.fitted import read_fitted
from facecluster.photos.embedders.five_point import FivePointEmbedder
from facecluster.photos.networks import openvino_ir
from facecluster.registry import file_sha256, prepared_model

MODEL = "face-reidentification-retail-0095"
IR_FOLDER = Path(__file__).resolve().parents[3] / "models" / MODEL
# The files as Open Model Zoo's 2022.1 release publishes them (FP16; its README gives their sha384).
IR_SHA256 = {
    f"{MODEL}.xml": "879662c555c826e7a07683f95bb4387b810ab679a8b8c64cc46e07016bb3da2b",
    f"{MODEL}.bin": "4d8cdfa9447ddd6d8b447f76c6eaaa2c9345c1ee0146b94900ee5267ffcb9307",
}
IR_FILES = [str(IR_FOLDER / name) for name in IR_SHA256]
ONNX_NAME = f"{MODEL}.onnx"
# The five points' places in the 128 x 128 input, as fractions of its side (the model's documentation).
TEMPLATE = [
    (0.31556875, 0.46157411),
    (0.68262292, 0.46157411),
    (0.50026250, 0.64050536),
    (0.34947188, 0.82469196),
    (0.65343646, 0.82469196),
]


def check_ir_files():
    """FileNotFoundError or ValueError, saying what to do, unless the shipped IR files are there with
    their published bytes."""
    for name, expected in IR_SHA256.items():
        path = IR_FOLDER / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: it ships with facecluster (git checkout {path.parent})")
        if file_sha256(path) != expected:
            raise ValueError(
                f"{path}'s sha256 is {file_sha256(path)}, not the published file's {expected}: "
                f"restore it (git checkout {path})"
            )


def _prepare(folder):
    check_ir_files()
    openvino_ir.save_model(*IR_FILES, f"{folder}/{ONNX_NAME}")


PREPARED = prepared_model("intel_reid", _prepare, sources=IR_FILES)
FITTED = read_fitted("intel_reid")


@EMBEDDERS.register
class IntelReidEmbedder(FivePointEmbedder):
    """Each face aligned on its five landmarks to 128 x 128, BGR, 0..255 (what the model takes)."""

    name = "intel_reid"
    description = (
        "Intel's face-reidentification-retail-0095 (Open Model Zoo, Apache-2.0; MobileNet V2, 256-D), "
        "faces aligned on five landmarks, run by onnxruntime"
    )
    # Small batches: on one or two threads the network runs fastest at 1 to 8 chips a call
    # (bench/results.md).
    settings = {"batch_size": {**BATCH_SIZE["batch_size"], "default": 8}}
    dim = 256
    # Calibrated on lfw-dev, and the folder cut's and naming's constants fitted to these
    # descriptors: intel_reid.fitted.yaml (with the commands that measured them).
    thresholds, cut_rule, naming_rule = (FITTED[key] for key in ("thresholds", "cut_rule", "naming_rule"))

    @classmethod
    def model_files(cls, settings):
        return [PREPARED.model_file, cls.yunet_file()]

    def __init__(self, settings, files, threads):
        folder, yunet_folder = files
        super().__init__(
            template=TEMPLATE,
            size=128,
            channel_order="BGR",
            normalization="none",
            batch_size=settings["batch_size"],
            yunet_folder=yunet_folder,
            threads=threads,
        )
        self._network = openvino_ir.OnnxNetwork(f"{folder}/{ONNX_NAME}", threads)

    def _run(self, batch):
        return self._network(batch.transpose(0, 3, 1, 2))
