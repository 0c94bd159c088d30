"""Each embedder's default distance threshold: under it, two faces may be the same person.

Chosen from a verification ROC on lfw-dev (every pair of faces: same person
from different photos vs different people) as the threshold at a
false-accept rate of 1e-3; `bench/calibrate_thresholds.py` reproduces it.
Distances are between raw embeddings: Euclidean, or cosine (1 - cos).
"""

CALIBRATED_THRESHOLDS = {
    # 6,888 faces of 2,859 people: 200,668 genuine and 23,518,160 impostor pairs;
    # true-accept rate at this threshold 0.958 (Euclidean), 0.953 (cosine).
    # Measured with dlib's own runtime; the numpy runtime's descriptors equal
    # its within 1e-6 (bench/dlib_equality.py), so they hold for both.
    "dlib": {"euclidean": 0.5463, "cosine": 0.0755},
}
# The same network run by TensorFlow: its descriptors equal dlib's within 1e-4
# (bench/dlib_equality.py), so dlib's thresholds hold.
CALIBRATED_THRESHOLDS["dlib_tf"] = CALIBRATED_THRESHOLDS["dlib"]
