"""What the clustering job keeps between runs, in the experiment's state folder (outside its
outputs, which Snakemake deletes before the job runs): results/state/<experiment>/sorting.npz.

- Each face's sharpness, for the set-aside check: measuring it reads every face's chip, half
  the job's time on a library (bench/results.md, "A library that grows"). A face's chip is its
  photo's content, so the value holds whatever the settings.
- The last sorting: each face's cluster and the distance the faces were cut at, with the
  settings that made it. When photos are added, their faces are placed among its persons
  (facecluster.clustering.sort.place_new_faces) instead of every face being sorted again, until
  the faces added since the last full sorting reach `new_share` of those it sorted (docs/people.md).

A missing, unreadable or other-settings state means a full sorting; deleting the file asks for one.
"""

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FILE_NAME = "sorting.npz"


def face_key(face):
    """A face's identity across runs: its photo (content id) and its place in it."""
    return f"{face.photo_id}:{face.face_index}"


# The experiment's settings the sorting reads (not the naming's, the folders' or the tags').
SORTING_SETTINGS = (
    "model",
    "sample",
    "min_photos",
    "attach",
    "set_aside",
    "reduce",
    "cluster",
    "choose_k_by",
    "seed",
    "use_dates",
)


def settings_digest(settings):
    """What the sorting depends on, as a digest of the settings it reads."""
    kept = {key: settings.get(key) for key in SORTING_SETTINGS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class SortingState:
    """sharpness: {face key: float}; keys, labels: the last sorting's faces (face keys, the sample's
    order) and clusters (UNKNOWN: set aside); cut: the distance it cut at (None: no sorting to place
    new faces in); digest: settings_digest of its settings; full_faces: the faces the last full
    sorting sorted; added: the faces placed since."""

    sharpness: dict = field(default_factory=dict)
    keys: list = field(default_factory=list)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cut: float = None
    digest: str = ""
    full_faces: int = 0
    added: int = 0

    @classmethod
    def read(cls, folder):
        """The state kept in `folder` (None: no folder), or an empty one when there is none readable."""
        path = Path(folder) / FILE_NAME if folder else None
        if path is None or not path.is_file():
            return cls()
        try:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored["meta"]))
                sharpness = dict(zip(stored["sharpness_keys"].tolist(), stored["sharpness"].tolist()))
                return cls(
                    sharpness,
                    stored["keys"].tolist(),
                    stored["labels"].astype(np.int64),
                    meta["cut"],
                    meta["digest"],
                    meta["full_faces"],
                    meta["added"],
                )
        except (
            OSError,
            ValueError,
            KeyError,
            EOFError,
            zipfile.BadZipFile,
        ):  # cut short, or another version: sort in full
            return cls()

    def write(self, folder):
        """Into `folder` (made if missing), atomically; nothing without a folder."""
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        meta = {"cut": self.cut, "digest": self.digest, "full_faces": self.full_faces, "added": self.added}
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out,
                    meta=np.array(json.dumps(meta)),
                    sharpness_keys=np.array(list(self.sharpness), dtype=str),
                    sharpness=np.array(list(self.sharpness.values()), np.float64),
                    keys=np.array(self.keys, dtype=str),
                    labels=np.asarray(self.labels, np.int64),
                )
            os.replace(temporary, Path(folder) / FILE_NAME)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
