"""Phone photos at speed: the per-photo jobs' CPU a photo against Pillow's full decode, and a small
folder's wall time on 2 cores, for this checkout and (in the same run) another one.

The photos: the first `--photos` of a bench/library.py library of 4032x3024 photos (`--seed`, 1; lfw-dev
faces pasted, by default one to four a photo of 40-400 px: `--faces-per-photo`, `--face-sides`; a
quarter portrait), JPEG quality 75-95.

For each checkout (and config file: `--variant`), `--repeats` times, alternating: a fresh
folder, the model files of its config's models made first (`snakemake --until prepare_model`), then
`snakemake --cores 2 --config photos=FOLDER` timed (wall, the whole run) and its process_batch
benchmark files read (CPU seconds of the per-photo jobs; each job's photos from photos.tsv).
Pillow's full decode, CPU seconds a photo, the best of 3 passes, measured two ways:
`Image.open(path).convert("RGB")` (the first way: the decode and a copy of the image) and
`Image.open(path).load()` (the second: the decode alone, some 0.03-0.05 s less on a 12 MP photo);
again at each repeat, just before its runs, and each run's ratios taken to that repeat's decode: a
shared machine's speed drifts over minutes, the decode's with it (0.059-0.069 s on the same photos).

    flock /tmp/fc-heavy.lock .venv/bin/python bench/phone_speed.py --before /tmp/fc-before
"""

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from library import FACE_SIDES, FACES_PER_PHOTO, library_folder, make_library, read_tsv, stage_costs
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


DECODES = {
    "convert": lambda path: Image.open(path).convert("RGB"),
    "load": lambda path: Image.open(path).load(),
}


def pillow_decode_seconds(paths, decode, passes=3):
    """CPU seconds a photo for Pillow to decode it whole (`decode`, a DECODES value): the best pass."""
    best = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for path in paths:
            decode(path)
        best = min(best, time.process_time() - started)
    return best / len(paths)


def timed_run(checkout, configfile, photos, workdir):
    """(wall s of the run, per-photo jobs' CPU s, photos per batch, faces found) of the workflow of
    `checkout`."""
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
    ledgers = (workdir / "results" / "photos").glob("*/ledger.tsv")
    faces = sum(int(row["n_faces"]) for ledger in ledgers for row in read_tsv(ledger))
    return wall, cpu, sorted(batches.values()), faces


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
    parser.add_argument("--faces-per-photo", type=int, nargs=2, default=FACES_PER_PHOTO, metavar=("LEAST", "MOST"))
    parser.add_argument("--face-sides", type=int, nargs=2, default=FACE_SIDES, metavar=("LEAST", "MOST"), help="px")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1, help="the library's: another gives other photos")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fc-phone-speed"))
    args = parser.parse_args()

    crowd = {"faces_per_photo": tuple(args.faces_per_photo), "face_sides": tuple(args.face_sides)}
    library = library_folder(args.seed, args.photos + 6, (4032, 3024), **crowd)
    lfw_dir, negatives = args.datasets / "lfw-dev", args.datasets / "negatives"
    make_library(library, lfw_dir, negatives, args.photos + 6, (4032, 3024), args.seed, 2, **crowd)
    photos = args.workdir / "photos"
    shutil.rmtree(photos, ignore_errors=True)
    photos.mkdir(parents=True)
    for path in sorted((library / "photos").glob("IMG_*.jpg"))[: args.photos]:
        (photos / path.name).symlink_to(path)
    print(f"{args.photos} photos of 4032x3024 ({library})\n")
    print(
        "| checkout | run | wall s (whole run, 2 cores) | photos per job | faces found | jobs: CPU s a photo "
        "| decode s, convert / load (this repeat) | x decode, convert | x decode, load |"
    )
    print("|---|---:|---:|---|---:|---:|---|---:|---:|")
    checkouts = [("this", PROJECT_ROOT, PROJECT_ROOT / "config.yaml")]
    checkouts += [(name, PROJECT_ROOT, Path(configfile)) for name, configfile in args.variant]
    checkouts += [("before", args.before, args.before / "config.yaml")] if args.before else []
    for repeat in range(args.repeats):
        decode = {way: pillow_decode_seconds(sorted(photos.iterdir()), DECODES[way]) for way in DECODES}
        for name, checkout, configfile in checkouts:
            wall, cpu, batches, faces = timed_run(checkout, configfile, photos, args.workdir / f"{name}-{repeat}")
            per_photo = cpu / args.photos
            print(
                f"| {name} | {repeat + 1} | {wall:.1f} | {', '.join(map(str, batches))} | {faces} | {per_photo:.3f} | "
                f"{decode['convert']:.4f} / {decode['load']:.4f} | {per_photo / decode['convert']:.1f} | "
                f"{per_photo / decode['load']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
