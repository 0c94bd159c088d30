"""Phone photos at speed: the per-photo jobs' CPU a photo against Pillow's full decode, and a small
folder's wall time on 2 cores, for this checkout and (in the same run) another one.

The photos: the first `--photos` of a bench/library.py library of 4032x3024 photos (seed 1; lfw-dev
faces of 40-400 px pasted, one to four a photo; a quarter portrait), JPEG quality 75-95.

For each checkout (and config file: `--variant`), `--repeats` times, alternating: a fresh
folder, the model files of its config's models made first (`snakemake --until prepare_model`), then
`snakemake --cores 2 --config photos=FOLDER` timed (wall, the whole run) and its process_batch
benchmark files read (CPU seconds of the per-photo jobs; each job's photos from photos.tsv).
Pillow's full decode: `Image.open(path).convert("RGB")`, CPU seconds, the best of 3 passes.

    flock /tmp/fc-heavy.lock .venv/bin/python bench/phone_speed.py --before /tmp/fc-before
"""

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from library import LIBRARY_VERSION, make_library, read_tsv, stage_costs
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def pillow_decode_seconds(paths, passes=3):
    """CPU seconds a photo for Pillow to decode it whole to RGB: the best pass."""
    best = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for path in paths:
            Image.open(path).convert("RGB")
        best = min(best, time.process_time() - started)
    return best / len(paths)


def timed_run(checkout, configfile, photos, workdir):
    """(wall s of the run, per-photo jobs' CPU s, photos per batch) of the workflow of `checkout`."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    base = [str(SNAKEMAKE), "-s", str(checkout / "Snakefile"), "--directory", str(workdir)]
    base += ["--configfile", str(configfile), "--cores", "2"]
    config = ["--config", f"photos={photos}"]
    with open(workdir / "snakemake.log", "w") as log:
        subprocess.run([*base, "--until", "prepare_model", *config], stdout=log, stderr=log, check=True)
        started = time.perf_counter()
        subprocess.run([*base, *config], stdout=log, stderr=log, check=True)
        wall = time.perf_counter() - started
    _, _, cpu, _ = stage_costs(workdir / "results")["process_batch"]
    batches = Counter(row["batch"] for row in read_tsv(workdir / "results" / "photos" / "photos.tsv"))
    return wall, cpu, sorted(batches.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--before", type=Path, help="another checkout of the project, timed in the same run")
    parser.add_argument(
        "--variant",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "CONFIGFILE"),
        help="this checkout with another config file, timed in the same run (repeatable)",
    )
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fc-phone-speed"))
    args = parser.parse_args()

    library = Path(f"/tmp/fc-library-v{LIBRARY_VERSION}-1-{args.photos + 6}-4032x3024")
    make_library(library, args.datasets / "lfw-dev", args.datasets / "negatives", args.photos + 6, (4032, 3024), 1, 2)
    photos = args.workdir / "photos"
    shutil.rmtree(photos, ignore_errors=True)
    photos.mkdir(parents=True)
    for path in sorted((library / "photos").glob("IMG_*.jpg"))[: args.photos]:
        (photos / path.name).symlink_to(path)
    decode = pillow_decode_seconds(sorted(photos.iterdir()))
    print(f"{args.photos} photos of 4032x3024; Pillow's full decode {decode:.4f} CPU s a photo\n")
    print("| checkout | run | wall s (whole run, 2 cores) | photos per job | jobs: CPU s a photo | x decode |")
    print("|---|---:|---:|---|---:|---:|")
    checkouts = [("this", PROJECT_ROOT, PROJECT_ROOT / "config.yaml")]
    checkouts += [(name, PROJECT_ROOT, Path(configfile)) for name, configfile in args.variant]
    checkouts += [("before", args.before, args.before / "config.yaml")] if args.before else []
    for repeat in range(args.repeats):
        for name, checkout, configfile in checkouts:
            wall, cpu, batches = timed_run(checkout, configfile, photos, args.workdir / f"{name}-{repeat}")
            print(
                f"| {name} | {repeat + 1} | {wall:.1f} | {', '.join(map(str, batches))} | "
                f"{cpu / args.photos:.3f} | {cpu / args.photos / decode:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
