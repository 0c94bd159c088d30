"""The names state (issue 26): what writing it whole and checking it at every start cost.

    .venv/bin/python bench/naming_state.py --out /tmp/naming_state.md

NamingState.write (names.tsv to a temporary file, flushed to the disk, renamed) and
NamingState.read (every row checked: what the Snakefile does at each start, before any
job) on synthetic states of 10,000 to 1,000,000 faces (a few faces a photo, 500 photos a
folder, 4,000 people), best of 3, in a temporary folder. Prints a Markdown table (and
writes it to --out).
"""

import argparse
import datetime
import tempfile
import time
from pathlib import Path

from facecluster.naming.state import NamingState

SIZES = (10_000, 100_000, 1_000_000)


def synthetic_state(faces):
    names = {
        (f"/photos/folder{i // 1500}/IMG_{i // 3:06d}.jpg", i % 3): f"person_{i % 4000 + 1:04d}" for i in range(faces)
    }
    return NamingState(names)


def best_of(repeats, call):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lines = [
        f"Measured {datetime.date.today()} by `.venv/bin/python bench/naming_state.py` (best of {args.repeats}).",
        "",
        "| faces | names.tsv | write (whole, flushed) | read and check (each start) |",
        "|---:|---:|---:|---:|",
    ]
    for faces in SIZES:
        state = synthetic_state(faces)
        with tempfile.TemporaryDirectory() as folder:
            write = best_of(args.repeats, lambda state=state, folder=folder: state.write(folder))
            read = best_of(args.repeats, lambda folder=folder: NamingState.read(folder))
            size = (Path(folder) / "names.tsv").stat().st_size
        lines.append(f"| {faces:,} | {size / 1e6:.1f} MB | {write:.3f} s | {read:.3f} s |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
