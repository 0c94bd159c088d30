"""The per-photo stage: a batch of photos becomes per-photo faces, chips and embeddings.

One call processes one batch with models loaded once. Each photo still gets
its own files in the batch folder:

    <id>.json        status, reason, sha256, image size, faces (box, score, landmarks:
                     5 points, or null when the model does not locate them)
    <id>.npy         embeddings, (faces, dim) float32
    <id>.chips.npy   aligned face chips, (faces, size, size, 3) uint8

plus `ledger.tsv`, one row per member. Results are also kept in a content
cache keyed by the photo's sha256 and the model's settings, so a photo whose
bytes did not change is never computed twice, even when Snakemake reruns its
batch (for instance because a new photo joined it).
"""

import hashlib
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from facecluster.photos.decoding import RejectedPhoto, decode_bytes, read_bytes
from facecluster.photos.detectors import make_detector, select_faces
from facecluster.photos.embedders import make_embedder
from facecluster.photos.ledger import LedgerRow, write_ledger
from facecluster.photos.tags import is_picasa_ini, is_sidecar_name

logger = logging.getLogger(__name__)

# Bump when a change to this stage changes its results, to invalidate caches.
# 2: YuNet searches a copy of at most its search_side; photos over photo_max_side decoded by draft.
# 3: copies reduced by box filter (detectors.downscale); YuNet run by OpenVINO (bfloat16 where the
#    CPU has it).
# 4: YuNet searches a photo over its search_side in a copy reduced a whole number of times, and its
#    small faces again at full size.
STAGE_VERSION = 4


def model_fingerprint(model_settings, photo_max_side):
    """A short hash of everything that decides a photo's per-photo results.

    Only the detector and embedder settings count: resources (threads, gpus)
    change how fast, not what.
    """
    model = {part: model_settings[part] for part in ("detector", "embedder")}
    key = json.dumps(
        {"model": model, "photo_max_side": photo_max_side, "version": STAGE_VERSION},
        sort_keys=True,
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class ContentCache:
    """Per-photo results stored by content hash; `<sha>.json` is written last and marks completion."""

    SUFFIXES = (".npy", ".chips.npy", ".json")

    def __init__(self, folder):
        self.folder = Path(folder)

    def _base(self, sha256):
        return self.folder / sha256[:2] / sha256

    def load(self, sha256):
        """The cached record (dict), or None."""
        record_path = self._base(sha256).with_suffix(".json")
        try:
            return json.loads(record_path.read_text())
        except (OSError, ValueError):
            return None

    def store(self, sha256, record, embeddings, chips):
        base = self._base(sha256)
        base.parent.mkdir(parents=True, exist_ok=True)
        _atomic_save_npy(base.with_suffix(".npy"), embeddings)
        _atomic_save_npy(base.with_suffix(".chips.npy"), chips)
        _atomic_write_text(base.with_suffix(".json"), json.dumps(record))

    def place(self, sha256, out_dir, photo_id):
        """Put the cached arrays at out_dir/<photo_id>.*: a hard link, or a copy across filesystems."""
        base = self._base(sha256)
        for suffix in (".npy", ".chips.npy"):
            source = Path(str(base) + suffix)
            target = Path(out_dir) / (photo_id + suffix)
            target.unlink(missing_ok=True)
            try:
                os.link(source, target)
            except OSError:
                _atomic_write_bytes(target, source.read_bytes())


def search_side(detector, photo_max_side):
    """The long side of the copy of a photo the detector searches: its own search_side, at most
    photo_max_side."""
    return min(photo_max_side, detector.search_side or photo_max_side)


def find_faces(detector, rgb, side):
    """The detector's faces in `rgb` (an array, or a PIL image), in its pixels: searched whole up
    to `side` px (long side), above it as the detector's find() does (a copy of at most `side`)."""
    return detector.find([rgb], side)[0]


class BatchProcessor:
    """Loads a model's detector and embedder once; processes batches of photos.

    `model_settings` are a validated model's (facecluster.workflow.config); `files`
    {"detector": paths, "embedder": paths} their model files, as a job gets
    them from snakemake.input (default: where the workflow makes them).
    `threads` is the job's thread count. A concurrent detector (dlib's HOG:
    one core per photo) gets a photo per thread, each read, decoded,
    detected and aligned in one task; the others (TensorFlow's) use the
    threads themselves, on a few photos per call. Embedding uses them all.
    """

    def __init__(self, model_settings, cache_dir, *, photo_max_side, threads=1, files=None, embed_batch=256):
        files = files or {}
        self.detector = make_detector(model_settings["detector"], files.get("detector"), threads)
        self.embedder = make_embedder(model_settings["embedder"], files.get("embedder"), threads)
        self._pool = ThreadPoolExecutor(threads) if threads > 1 and self.detector.concurrent else None
        self.keep = model_settings["detector"]["keep"]
        self.min_size = model_settings["detector"]["min_size"]
        self.photo_max_side = photo_max_side
        self.search_side = search_side(self.detector, photo_max_side)
        self.embed_batch = embed_batch
        self.detect_batch = self.detector.batch_size
        self.cache = ContentCache(cache_dir)

    def process(self, members, out_dir):
        """Process `members` (dicts with id, path, label, hidden) into out_dir; return ledger rows."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        rows, pending = [], []
        for row, aligned in self._read_and_align_all(members):
            rows.append(row)
            if aligned is not None:
                pending.append((row, aligned))
        self._embed_and_store(pending)
        rejected = sum(row.status == "rejected" for row in rows)
        logger.info(
            "computed %d photos, reused %d from the cache, rejected %d",
            len(pending),
            len(rows) - len(pending) - rejected,
            rejected,
        )
        for row in rows:
            if row.status != "rejected":
                self.cache.place(row.sha256, out_dir, row.id)
            _write_record(out_dir, row, self.cache.load(row.sha256) if row.sha256 else None)
        write_ledger(out_dir / "ledger.tsv", rows)
        return rows

    def _read(self, member):
        """A ledger row, and the decoded photo still to compute (None when cached or rejected)."""
        row = LedgerRow(id=member["id"], path=member["path"], label=member["label"])
        if is_picasa_ini(member["path"]):
            return row.reject("Picasa's face file, not a photo: its face tags are read (tags.tsv)"), None
        if member["hidden"]:
            return row.reject("hidden file (its name or a folder above it starts with '.')"), None
        if is_sidecar_name(member["path"]):
            return row.reject("an XMP sidecar, not a photo: its face tags are read (tags.tsv)"), None
        try:
            data, row.sha256 = read_bytes(member["path"])
            cached = self.cache.load(row.sha256)
            if cached is not None:
                return row.finish(cached), None
            return row, decode_bytes(data, self.photo_max_side, member["path"])
        except RejectedPhoto as exc:
            logger.info("rejected %s: %s", member["path"], exc)
            return row.reject(str(exc)), None

    def _read_and_align_all(self, members):
        """(ledger row, (record, chips) of a photo to embed or None when cached or rejected), in order."""
        if self._pool is not None:
            # A task per photo: at most `threads` photos are decoded at once.
            return self._pool.map(self._read_and_align, members)
        return self._read_and_align_in_calls(members)

    def _read_and_align(self, member):
        row, photo = self._read(member)
        return row, None if photo is None else self.align(
            photo, find_faces(self.detector, photo.to_search(self.search_side), self.search_side)
        )

    def _read_and_align_in_calls(self, members):
        # Photos are decoded a detector call's worth at a time, to bound memory.
        for start in range(0, len(members), self.detect_batch):
            read = [self._read(member) for member in members[start : start + self.detect_batch]]
            aligned = iter(self.detect_and_align([(row, photo) for row, photo in read if photo is not None]))
            for row, photo in read:
                yield row, None if photo is None else next(aligned)[1]

    def detect_and_align(self, decoded):
        """(row, (record, chips)) for each (row, photo), the photos detected in one call."""
        if not decoded:
            return []
        found = self.detector.find([photo.to_search(self.search_side) for _, photo in decoded], self.search_side)
        return [(row, self.align(photo, faces)) for (row, photo), faces in zip(decoded, found)]

    def align(self, photo, detections):
        """The photo's record (faces in original pixels) and its aligned chips."""
        faces = select_faces(
            [d.scaled(1 / photo.scale) for d in detections],
            photo.original_size,
            keep=self.keep,
            min_size=self.min_size,
        )
        scaled = [face.scaled(photo.scale) for face in faces]
        chips, landmarks = self.embedder.align(photo.image if self.embedder.cuts_from_image else photo.rgb, scaled)
        record = {
            "image_size": list(photo.original_size),
            "faces": [
                {
                    "box": [round(v, 2) for v in face.box],
                    "score": round(face.score, 4),
                    "landmarks": _landmarks(points, photo.scale),
                    **({"how": aligned.how} if aligned.how else {}),
                }
                for face, aligned, points in zip(faces, scaled, landmarks)
            ],
        }
        return record, chips

    def _embed_and_store(self, pending):
        """Embed the chips of all pending photos in few network calls, then cache each photo."""
        all_chips = [chips for _, (_, chips) in pending]
        if not all_chips:
            return
        stacked = np.concatenate(all_chips)
        vectors = np.concatenate(
            [
                self.embedder.embed(stacked[start : start + self.embed_batch])
                for start in range(0, len(stacked), self.embed_batch)
            ]
            or [np.zeros((0, self.embedder.dim), np.float32)]
        )
        start = 0
        for row, (record, chips) in pending:
            embeddings = vectors[start : start + len(chips)]
            start += len(chips)
            self.cache.store(row.sha256, record, embeddings, chips)
            row.finish(record)


def _landmarks(points, scale):
    """5 points in the original photo's pixels; None when the model does not locate them (NaN)."""
    return None if np.isnan(points).any() else (points / scale).round(2).tolist()


def _write_record(out_dir, row, content):
    record = {
        "id": row.id,
        "path": row.path,
        "label": row.label,
        "sha256": row.sha256,
        "status": row.status,
        "reason": row.reason,
        "n_faces": row.n_faces,
    }
    if content is not None:
        record.update(content)
    _atomic_write_text(Path(out_dir) / f"{row.id}.json", json.dumps(record, indent=1))


def _temporary(path):
    """A file beside path for this process and thread alone: two jobs caching the same photo (one
    file in two folders) must not rename each other's half-written file."""
    return Path(f"{path}.{os.getpid()}.{threading.get_ident()}.tmp")


def _atomic_write_bytes(path, data):
    tmp = _temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_write_text(path, text):
    _atomic_write_bytes(path, text.encode())


def _atomic_save_npy(path, array):
    tmp = _temporary(path)
    with open(tmp, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
    os.replace(tmp, path)
