"""Faces not worth sorting: too small, too blurred or too doubtful a detection to cluster.

Such a face is set aside before clustering, with its reason, and recorded in the
experiment's assignments.tsv (column `set_aside`): it is no person's and in no cluster,
so that a bystander's blurred face in the background does not become a person of its own,
nor a stray detection (a pattern on a flower) a face in someone's folder.

Reasons, checked in this order (a face gets the first that applies):
    too_small   the face box's shorter side is under `min_side` pixels (of the photo)
    low_score   the detector's score is under `min_score` (each detector's scale differs:
                `auto` takes the detector's own, facecluster.photos.detectors)
    blurred     the chip's sharpness is under `min_sharpness` (see `sharpness`)
"""

import numpy as np
from PIL import Image

TOO_SMALL, LOW_SCORE, BLURRED = "too_small", "low_score", "blurred"
REASONS = (TOO_SMALL, LOW_SCORE, BLURRED)
# The middle half of the chip (the face, not its surroundings) is measured at this size: the
# detail a face needs to be told from another at about 32 px, whatever the chip's size. Finer,
# the measure reads the chip's noise and interpolation as much as the face (a face blurred
# more could measure sharper).
MEASURED_SIDE = 32


def sharpness(chip):
    """How much detail the face holds: the variance of the Laplacian of the chip's middle half
    (grey, reduced to MEASURED_SIDE px by averaging), over the variance of its grey levels, so
    that a dim or low-contrast face is no blurrier than a bright one. On 40 lfw-dev faces:
    0.12 and more sharp, 0.06 and more at 30 px, 0.04 and more blurred by a
    Gaussian of 2 px on a 90-px face; a median of 0.02 blurred by 5 px."""
    grey = Image.fromarray(np.asarray(chip, np.uint8)).convert("L")
    side = min(grey.size)
    middle = grey.crop((side // 4, side // 4, side - side // 4, side - side // 4))
    grey = np.asarray(middle.resize((MEASURED_SIDE, MEASURED_SIDE), Image.Resampling.BOX), np.float64)
    laplacian = grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1]
    contrast = grey.var()
    return float(laplacian.var() / contrast) if contrast > 0 else 0.0


def set_aside_reason(face, face_sharpness, settings):
    """The reason a face (a faces.tsv row) is set aside, or "" when it is worth sorting.
    settings: an experiment's set_aside, {"min_side", "min_score", "min_sharpness"}, 0 to never
    set aside for that reason; face_sharpness: a callable giving the face's `sharpness`, called
    only when the cheaper checks pass (it reads the chip)."""
    side = min(face.right - face.left, face.bottom - face.top)
    if side < settings["min_side"]:
        return TOO_SMALL
    if settings["min_score"] and face.score < settings["min_score"]:
        return LOW_SCORE
    if settings["min_sharpness"] and face_sharpness() < settings["min_sharpness"]:
        return BLURRED
    return ""
