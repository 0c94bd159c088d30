"""The results folder's lock, shared by a Snakemake run and the review app.

A run holds it from its start to its end (rules/common.smk takes it at onstart, waiting for a save
of the review app in progress); the review app holds it for each save and refuses a save while a
run holds it. An fcntl (flock) lock on RESULTS/state/.lock (beside the names it guards): the system drops it when its
holder ends, however it ends, so a killed run leaves no stale lock behind.
"""

import fcntl
import os
from pathlib import Path


class Busy(Exception):
    """Another process holds the lock (a Snakemake run)."""


def lock_path(results):
    return Path(results) / "state" / ".lock"


class ResultsLock:
    """The lock of a results folder: take(wait) then release(), or `with ResultsLock(results):` (without waiting)."""

    def __init__(self, results):
        self.path = lock_path(results)
        self._fd = None

    def take(self, wait=True):
        """Take the lock; waits for its holder when `wait`, else Busy when another holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            raise Busy(str(self.path)) from None
        self._fd = fd

    def release(self):
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        self.take(wait=False)
        return self

    def __exit__(self, *exc):
        self.release()
