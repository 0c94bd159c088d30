"""Face embedders (one module each, registered in EMBEDDERS): aligned face chips in, one vector per face out.

An embedder is built once per job from its validated settings and model
files. It aligns each photo's faces into chips (`align(rgb, detections) ->
(chips, landmarks)`; where it had to find a face's landmarks itself, it says
how in the detection's `how`, which the ledger records), and embeds the chips of many photos in one call
(`embed(chips) -> (n, dim) float32`).

The TensorFlow embedders (`facenet`, `keras`, `dlib_tf`) import TensorFlow
when built, never at module import: the dlib path (numpy, or dlib's own
runtime) does not load it.
"""

import numpy as np

from facecluster.registry import Component, Registry, model_paths

EMBEDDERS = Registry("embedder", "facecluster.photos.embedders")

# The setting of the embedders that run their network on several chips per call.
BATCH_SIZE = {
    "batch_size": {"type": "integer", "minimum": 1, "default": 64, "description": "chips per network call"},
}


class Embedder(Component):
    """Built as `cls(settings, files, threads)`: the validated settings, the paths
    of `model_files(settings)` in order, the job's thread count.

    `thresholds`: {metric: distance} under which two faces may be one person,
    calibrated on lfw-dev at a false-accept rate of 1e-3
    (bench/calibrate_thresholds.py); None when not calibrated. `calibrated(settings)`
    gives those of an embedder's settings, where a setting changes them.

    `cut_rule` (facecluster.clustering.folder_cut.CutRule) and `naming_rule`
    (facecluster.naming.persons.NamingRule): the folder cut's and the naming's constants fitted to
    this embedder's distances (bench/shapes.py, bench/naming.py), multiples of its calibrated
    threshold; None where none were fitted: such an embedder is cut at its threshold and names
    by facecluster.naming.persons.UNFITTED_NAMING, no other model's constants.
    """

    thresholds = None
    # Whether align() takes the photo as a PIL image as well as an array (batch gives it the image).
    cuts_from_image = False
    cut_rule = None
    naming_rule = None
    # What to do where clustering or naming needs a threshold the embedder was not calibrated for.
    calibrate_help = "give one (see bench/calibrate_thresholds.py)"

    @classmethod
    def calibrated(cls, settings):
        return cls.thresholds


def calibrated_thresholds(settings):
    """{metric: distance} calibrated for a validated `embedder:`, or None."""
    return EMBEDDERS[settings["name"]].calibrated(settings)


def fitted_rules(settings):
    """(CutRule or None, NamingRule or None) fitted to a validated `embedder:`."""
    embedder = EMBEDDERS[settings["name"]]
    return embedder.cut_rule, embedder.naming_rule


def calibrate_help(settings):
    """What to do when a validated `embedder:` has no calibrated thresholds."""
    return EMBEDDERS[settings["name"]].calibrate_help


def make_embedder(settings, files=None, threads=1):
    """Build the embedder a model's validated `embedder:` settings name (`threads`: the job's),
    from its model files (default: where the workflow makes them)."""
    embedder = EMBEDDERS[settings["name"]]
    return embedder(settings, model_paths(embedder, settings, files), threads)


def in_batches(run, chips, batch_size, dim):
    """`run` on `batch_size` chips (float32) at a time: (n, dim) float32."""
    batches = [run(chips[start : start + batch_size].astype(np.float32)) for start in range(0, len(chips), batch_size)]
    return np.concatenate(batches or [np.zeros((0, dim))]).astype(np.float32)


def no_chips(size):
    return np.zeros((0, size, size, 3), np.uint8)
