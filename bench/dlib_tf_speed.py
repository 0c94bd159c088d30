"""Descriptor throughput: dlib's own network against dlib_tf (TensorFlow), on the same cores.

The same lfw-dev chips (see dlib_tf_equality.py) are embedded by dlib in one
process and in `--cores` processes side by side, then by dlib_tf with
`--cores` threads at batch sizes 32 and 64. Chip alignment is not timed: it
is the same dlib code for both. Prints a Markdown table and the ratio the
acceptance asks for (dlib_tf >= 5x dlib on the same cores).

    .venv/bin/python bench/dlib_tf_speed.py results/lfw-dev/dlib --chips 320 --cores 2
"""

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from dlib_tf_equality import converted_model, sample_chips
from facecluster.embed import DlibTfEmbedder

_worker = {}


def _load_dlib():
    from facecluster.embed import DlibEmbedder

    _worker["dlib"] = DlibEmbedder()


def _dlib_embed(chips):
    return _worker["dlib"].embed(chips)


def chips_per_second(embed, chips, repeats=1):
    """The best of `repeats` timed runs of embed(chips), after one warm-up batch."""
    embed(chips[:2])
    best = min(_timed(embed, chips) for _ in range(repeats))
    return len(chips) / best


def _timed(embed, chips):
    start = time.perf_counter()
    embed(chips)
    return time.perf_counter() - start


def dlib_processes(chips, processes):
    """dlib in `processes` processes side by side, each embedding its share of the chips."""
    with ProcessPoolExecutor(processes, initializer=_load_dlib) as pool:
        def embed(part):
            return list(pool.map(_dlib_embed, np.array_split(part, processes)))

        return chips_per_second(embed, chips)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a per-photo run of the dlib model, e.g. results/lfw-dev/dlib")
    parser.add_argument("--chips", type=int, default=320)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    chips = sample_chips(args.results, args.chips)
    # dlib first: its worker processes are forked before TensorFlow starts.
    rows = [("dlib", "1 process", "-", dlib_processes(chips, 1)),
            ("dlib", f"{args.cores} processes", "-", dlib_processes(chips, args.cores))]
    with tempfile.TemporaryDirectory() as folder:
        model = converted_model(folder)
        for batch in (32, 64):
            embedder = DlibTfEmbedder(model, batch_size=batch, threads=args.cores)
            speed = chips_per_second(embedder.embed, chips, repeats=3)
            rows.append(("dlib_tf", f"{args.cores} threads", batch, speed))
    single = rows[0][3]
    print(f"{len(chips)} lfw-dev chips, {args.cores} cores\n")
    print("| embedder | on | batch | chips/s | x dlib (1 process) |")
    print("|---|---|---|---|---|")
    for name, where, batch, speed in rows:
        print(f"| {name} | {where} | {batch} | {speed:.1f} | {speed / single:.1f} |")
    best_tf = max(speed for name, _, _, speed in rows if name == "dlib_tf")
    print(f"\ndlib_tf / dlib on the same {args.cores} cores: {best_tf / rows[1][3]:.1f}x (acceptance: >= 5x)")


if __name__ == "__main__":
    main()
