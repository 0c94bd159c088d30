"""The fusion embedder: dlib's and Intel's descriptors, each scaled by its own calibration, side by side."""

import numpy as np
from conftest import lfw_sample
from PIL import Image

from facecluster.photos.detectors import select_faces
from facecluster.photos.embedders import EMBEDDERS
from facecluster.photos.embedders.dlib import DlibEmbedder
from facecluster.photos.embedders.fusion import fuse
from facecluster.photos.embedders.intel_reid import IntelReidEmbedder

DETECTOR = {"name": "yunet", "keep": "center"}


def test_the_fused_distance_weighs_each_model_in_units_of_its_own_threshold():
    rng = np.random.default_rng(0)
    dlib, intel = 0.1 * rng.normal(size=(2, 128)), 0.1 * rng.normal(size=(2, 256))

    fused = fuse([dlib, intel])

    d_dlib, d_intel = (np.linalg.norm(X[0] - X[1]) for X in (dlib, intel))
    in_units = np.hypot(
        d_dlib / DlibEmbedder.thresholds["euclidean"], d_intel / IntelReidEmbedder.thresholds["euclidean"]
    )
    assert fused.shape == (2, 384) and fused.dtype == np.float32
    assert np.isclose(np.linalg.norm(fused[0] - fused[1]), in_units, rtol=1e-5)


def test_the_fusion_embeds_real_faces_as_its_members_do(datasets, make_model):
    detector, fusion = make_model({"detector": DETECTOR, "embedder": {"name": "fusion"}})
    _, dlib = make_model({"detector": DETECTOR, "embedder": {"name": "dlib"}})
    _, intel = make_model({"detector": DETECTOR, "embedder": {"name": "intel_reid"}})
    chips, members, people = [], ([], []), []
    for path, name in lfw_sample(["Colin_Powell", "George_W_Bush"], 2):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = select_faces(detector.detect(rgb), rgb.shape[1::-1], keep="center", min_size=0)
        fused_chips, landmarks = fusion.align(rgb, faces)
        (dlib_chips, _), (intel_chips, intel_landmarks) = dlib.align(rgb, faces), intel.align(rgb, faces)
        # Both members' chips on one image, side by side; the landmarks Intel's chip was aligned on.
        np.testing.assert_array_equal(fused_chips[:, :150, :150], dlib_chips)
        np.testing.assert_array_equal(fused_chips[:, :128, 150:], intel_chips)
        np.testing.assert_array_equal(landmarks, intel_landmarks)
        chips.append(fused_chips)
        members[0].append(dlib.embed(dlib_chips))
        members[1].append(intel.embed(intel_chips))
        people.append(name.split("/")[0])

    fused = fusion.embed(np.concatenate(chips))

    np.testing.assert_allclose(fused, fuse([np.concatenate(m) for m in members]), atol=1e-5)
    distances = np.linalg.norm(fused[:, None] - fused[None], axis=2)
    same = np.equal.outer(people, people)
    threshold = EMBEDDERS["fusion"].thresholds["euclidean"]
    assert distances[same & ~np.eye(len(people), dtype=bool)].max() < threshold < distances[~same].min()
