"""Intel's face-reidentification-retail-0095 (Open Model Zoo, Apache-2.0): 256-D, run by onnxruntime.

The OpenVINO IR files ship in models/face-reidentification-retail-0095/
(README, LICENSE there); rule prepare_model lays them out as an ONNX graph
once (facecluster.photos.networks.openvino_ir), after checking their sha256.
"""

from pathlib import Path

from facecluster.photos.embedders import BATCH_SIZE, EMBEDDERS
from facecluster.photos.embedders.fitted import CutRule, NamingRule
from facecluster.photos.embedders.five_point import FivePointEmbedder
from facecluster.photos.networks import openvino_ir
from facecluster.registry import prepared_model
from facecluster.workflow.pinned_files import file_sha256

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


@EMBEDDERS.register
class IntelReidEmbedder(FivePointEmbedder):
    """Each face aligned on its five landmarks to 128 x 128, BGR, 0..255 (what the model takes)."""

    name = "intel_reid"
    description = (
        "Intel's face-reidentification-retail-0095 (Open Model Zoo, Apache-2.0; MobileNet V2, 256-D), "
        "faces aligned on five landmarks, run by onnxruntime"
    )
    # On one thread a chip a call is fastest (206 chips/s against 177 at 8 and 154 at 64), on two
    # 4 to 8 (365, 360; 303 at 64): bench/results.md, issue 24.
    settings = {"batch_size": {**BATCH_SIZE["batch_size"], "default": 8}}
    dim = 256
    # At a false-accept rate of 1e-3 on the faces of presets/lfw-dev.yaml's model intel_reid (YuNet,
    # keep center; 6,922 faces, 201,291 genuine and 23,752,290 impostor pairs), by
    # bench/calibrate_thresholds.py on the L2-normalised descriptors: true-accept rate 0.9972
    # (0.9913 at 1e-4, threshold 1.0591; dlib 0.9563 and 0.7661). bench/results.md, issue 24.
    thresholds = {"euclidean": 1.1380, "cosine": 0.6475}
    # Fitted on bench/shapes.py's folders of these descriptors (seeds 0-4, checked on 5-7; issue 24):
    # dlib's window, a narrower weighting (0.10: median 0.999 -> 1.000; 0.25 lets a gap far above
    # the threshold merge a folder), the floor 0.90 of the threshold (0, 0.90 and 0.94 alike on the
    # sweep; all of lfw-dev 0.985, 0.986, 0.982; 0.98: median 0.998), and no lone face joins
    # (within 1.0625x, dlib's, the worst folder 0.964 -> 0.958; 1.1x: 0.903). Persons split by
    # the cut join within 1.0x on average, one of them of 20 photos at least (issue 25): a
    # 5,000-photo library's 30 family people 50 -> 33 folders, no two people joined (within
    # 1.05x the same, 0.95x 37); the sweep unchanged (1.05x: worst 0.964 -> 0.947); all of
    # lfw-dev joins none (without the 20 photos, 3 pairs of people of 4-11 photos).
    cut_rule = CutRule(
        window=(0.82, 1.28),
        width=0.10,
        full_window_faces=200,
        floor=0.90,
        join=1.0,
        join_max_faces=0,
        persons_join=1.0,
        persons_join_photos=20,
    )
    # On bench/naming.py's lfw-dev split (seeds 0-2, the floor 0.94 then; issue 24): at the calibrated
    # threshold 3.7-4.0 % of the others are named (8.9-11.1 % with one face-reference pair), at 0.95x
    # 0.4-1.0 %, at 0.9x 0.2-0.7 %; with this rule and the floor 0.90, 0.2-0.5 % of the others named
    # and 99.34-99.52 % of the known people's faces named right.
    naming_rule = NamingRule(scale=0.9, pairs=2)

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
