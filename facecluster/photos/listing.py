"""Listing a photo folder: every file found, a stable id for each, stable batches.

Listing never decodes a photo (it must stay fast on 100,000 files): whether a
file is a photo is decided later, by its content, in the per-photo stage.
"""

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

LABEL_MODES = ("folders", "none")

# Ids are used as file names and Snakemake wildcard values: keep them to a
# conservative alphabet and a bounded length.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_STEM_MAX = 48
_HASH_HEX = 12  # 48 bits: a collision among 1e5 paths has odds of ~2e-5, and is checked


@dataclass(frozen=True)
class PhotoEntry:
    """One file found in a dataset folder."""

    id: str
    relpath: str  # relative to the dataset folder, with '/' separators
    path: str  # as the workflow reads it (dataset folder joined with relpath)
    label: str  # the person, from the folder name; '' when there are no labels
    hidden: bool  # the name, or a folder above it, starts with '.'


def photo_id(relpath):
    """A readable, unique, filesystem- and wildcard-safe id for a relative path.

    The id is the file name's ASCII-folded stem plus a hash of the whole
    relative path, so the same name in two folders gives two ids and the id
    never changes while the file stays where it is.
    """
    stem = Path(relpath).name
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = _UNSAFE.sub("_", folded).strip("._-")[:_STEM_MAX] or "photo"
    digest = hashlib.sha1(relpath.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{slug}-{digest[:_HASH_HEX]}"


def list_photos(folder, labels="folders"):
    """Every file below `folder`, sorted by relative path, as PhotoEntry.

    Links are followed, to files and folders alike; a folder already walked
    (a link loop, or a link to a folder seen under its real path) is not
    walked again.
    """
    root = Path(folder)
    relpaths, walked = [], set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in walked:
            dirnames[:] = []
            continue
        walked.add(real)
        # Real folders first, so a photo is listed under its real path when it can be.
        dirnames.sort(key=lambda d: (os.path.islink(Path(dirpath) / d), d))
        relpaths.extend((Path(dirpath) / name).relative_to(root).as_posix() for name in filenames)
    return entries_for(root, relpaths, labels)


def entries_for(folder, relpaths, labels="folders"):
    """PhotoEntry for each relative path below `folder`, sorted, ids checked unique."""
    if labels not in LABEL_MODES:
        raise ValueError(f"labels must be one of {LABEL_MODES}, not {labels!r}")
    entries = []
    for relpath in sorted(relpaths):
        parts = relpath.split("/")
        entries.append(
            PhotoEntry(
                id=photo_id(relpath),
                relpath=relpath,
                path=str(Path(folder) / relpath),
                label=parts[-2] if labels == "folders" and len(parts) > 1 else "",
                hidden=any(part.startswith(".") for part in parts),
            )
        )
    _check_unique_ids(entries)
    return entries


def _check_unique_ids(entries):
    seen = {}
    for entry in entries:
        if entry.id in seen:
            raise ValueError(f"photo id collision: {seen[entry.id]!r} and {entry.relpath!r} both map to {entry.id!r}")
        seen[entry.id] = entry.relpath


def _boundaries(entries, batch_size):
    """Where batches end: after each entry whose id hash is the smallest among the `batch_size` around it.

    Content-defined (winnowing's local minima): a boundary depends only on the
    ids within batch_size/2 of it, so adding a photo moves no boundary further
    away. Local minima are at least batch_size/2 apart, so batches are regular
    (about batch_size, never under half, rarely over twice that), unlike cutting
    after every id whose hash is 0 mod batch_size (geometric sizes, from 1 up).
    """
    keys = np.array([int.from_bytes(hashlib.sha1(e.id.encode()).digest()[:8], "big") for e in entries], dtype=np.uint64)
    before, after = (batch_size - 1) // 2, batch_size // 2
    # Padded with the smallest key: no boundary within half a batch of either end of the
    # listing, so the first and last batches are not short either.
    padded = np.concatenate([np.zeros(before, np.uint64), keys, np.zeros(after, np.uint64)])
    return keys == sliding_window_view(padded, before + after + 1).min(axis=1)


def make_batches(entries, batch_size, parts=1):
    """Split sorted entries into batches whose membership is stable.

    Boundaries depend only on the ids next to them (content-defined chunking,
    as in rsync), so adding a photo changes only the batch it falls into and
    at most its neighbours; batches are about `batch_size` photos and are
    capped at 4x that. A batch is named after a hash of its first id, which
    does not move either.

    `parts` is how many batches run at once (a local run's cores). A folder
    smaller than `parts` x `batch_size` is cut into `parts` batches of about
    equal file bytes (a phone photo takes ten times a small one's time), so
    that the cores finish together; there a photo added may move every
    boundary (the content cache still computes only the new photo).

    Returns {batch name: [entries]} in listing order.
    """
    if batch_size < 1 or parts < 1:
        raise ValueError(f"batch_size and parts must be >= 1, not {batch_size} and {parts}")
    if len(entries) < parts * batch_size:
        return {_batch_name(members): members for members in _split_by_bytes(entries, parts) if members}
    batches = []
    current = []
    for entry, ends_batch in zip(entries, _boundaries(entries, batch_size)):
        current.append(entry)
        if ends_batch or len(current) >= 4 * batch_size:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return {_batch_name(members): members for members in batches}


def _split_by_bytes(entries, parts):
    """min(parts, entries) runs of consecutive entries of about equal file bytes (equal counts
    where no size is known: a download not made yet)."""
    sizes = np.array([_file_bytes(entry.path) for entry in entries], np.float64)
    if not sizes.any():
        sizes[:] = 1
    cumulative = np.cumsum(sizes)
    parts = min(parts, len(entries))
    starts = [0]
    for part in range(1, parts):
        cut = int(np.argmin(np.abs(cumulative - cumulative[-1] * part / parts))) + 1
        starts.append(min(max(cut, starts[-1] + 1), len(entries) - (parts - part)))
    return [entries[start:end] for start, end in zip(starts, [*starts[1:], len(entries)])]


def _file_bytes(path):
    try:
        return os.stat(path).st_size
    except OSError:  # unreadable: the per-photo stage records why
        return 0


def _batch_name(members):
    return "b" + hashlib.sha1(members[0].id.encode()).hexdigest()[:10]
