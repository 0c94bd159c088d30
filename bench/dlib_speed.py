"""Descriptor throughput: dlib's own runtime against onnxruntime's, numpy's and TensorFlow's (dlib_tf).

The same lfw-dev chips (see dlib_equality.py) are embedded by
dlib's own runtime in one process and in `--cores` processes side by side, by
the onnx and numpy runtimes on 1 and `--cores` threads, and by dlib_tf with `--cores` threads at
batch sizes 32 and 64. Chip alignment is not timed: it
is the same dlib code for both. The measurements are taken in `--rounds`
interleaved rounds and each keeps its best, so that a neighbour's load on a
shared machine hits every engine alike. Prints a Markdown table and the
ratio of each runtime to dlib's on the same cores.

    .venv/bin/python bench/dlib_speed.py results/lfw-dev/dlib --chips 128 --cores 2
"""

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from dlib_equality import dlib_embedder, sample_chips

DLIB, ONNX, NUMPY, TENSORFLOW = "dlib (dlib's runtime)", "dlib (onnx runtime)", "dlib (numpy runtime)", "dlib_tf"
_worker = {}


def _load_dlib():
    with tempfile.TemporaryDirectory() as folder:
        _worker["dlib"] = dlib_embedder(folder, name="dlib", runtime="dlib")


def _dlib_embed(chips):
    return _worker["dlib"].embed(chips)


def in_processes(pool, processes):
    """An embed function that gives each of the pool's `processes` dlib processes its share of the chips."""

    def embed(chips):
        return list(pool.map(_dlib_embed, np.array_split(chips, processes)))

    return embed


def _timed(embed, chips):
    start = time.perf_counter()
    embed(chips)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a per-photo run of the dlib model, e.g. results/lfw-dev/dlib")
    parser.add_argument("--chips", type=int, default=128)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chips = sample_chips(args.results, args.chips)
    with (
        ProcessPoolExecutor(1, initializer=_load_dlib) as one,
        ProcessPoolExecutor(args.cores, initializer=_load_dlib) as many,
        tempfile.TemporaryDirectory() as folder,
    ):
        engines = {
            (DLIB, "1 process", "-"): in_processes(one, 1),
            (DLIB, f"{args.cores} processes", "-"): in_processes(many, args.cores),
        }
        for embed in engines.values():
            embed(chips[: args.cores])  # dlib's processes start (fork) before TensorFlow does
        for threads in sorted({1, args.cores}):
            where = f"{threads} thread" + ("s" if threads > 1 else "")
            for name, runtime in ((ONNX, "onnx"), (NUMPY, "numpy")):
                engines[(name, where, "-")] = dlib_embedder(folder, threads, name="dlib", runtime=runtime).embed
        for batch in (32, 64):
            embed = dlib_embedder(folder, args.cores, name="dlib_tf", batch_size=batch).embed
            embed(chips[:batch])  # TensorFlow traces the network on its first call
            engines[(TENSORFLOW, f"{args.cores} threads", batch)] = embed
        best = dict.fromkeys(engines, 0.0)
        for _ in range(args.rounds):
            for key, embed in engines.items():
                best[key] = max(best[key], len(chips) / _timed(embed, chips))
    single, side_by_side = best[(DLIB, "1 process", "-")], best[(DLIB, f"{args.cores} processes", "-")]
    print(f"{len(chips)} lfw-dev chips, {args.cores} cores, best of {args.rounds} rounds\n")
    print("| embedder | on | batch | chips/s | x dlib (1 process) |")
    print("|---|---|---|---|---|")
    for (name, where, batch), speed in best.items():
        print(f"| {name} | {where} | {batch} | {speed:.1f} | {speed / single:.1f} |")
    # dlib cannot beat perfect scaling; a neighbour's load can keep it below.
    ceiling = max(side_by_side, args.cores * single)
    print()
    for runtime in (ONNX, NUMPY, TENSORFLOW):
        fastest = max(speed for (name, _, _), speed in best.items() if name == runtime)
        print(
            f"{runtime} / dlib's runtime on the same {args.cores} cores: {fastest / side_by_side:.1f}x "
            f"against {args.cores} dlib processes as measured, {fastest / ceiling:.1f}x against "
            f"{args.cores} x one dlib process (perfect scaling)"
        )


if __name__ == "__main__":
    main()
