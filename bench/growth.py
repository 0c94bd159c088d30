"""A library that grows: what a run costs after nothing changed, after a day's new photos, and after
a corrections file changed, per stage.

On a library of `bench/library.py` (its photos/ folder; or of bench/tagged_library.py, whose photos
have sidecars: a photo's sidecars come and go with it), in a fresh work folder:

1. first run: every photo but the last `--new` (by name, as a phone numbers them) linked into a
   folder of its own and sorted: `snakemake --cores N --config photos=FOLDER`;
2. no-op: the same command again, nothing changed;
3. new photos: the last `--new` photos linked into the folder, the command again;
4. a correction: a rename of the largest person (numbered, or named by its face tags) and a face of
   the second moved to nobody, written into the corrections file the review app writes (the
   experiment's state folder), the command again.

Each step prints its wall time (the command's, Snakemake's planning included) and, per rule that
ran, its jobs, wall seconds (summed over jobs), CPU seconds and peak memory, from Snakemake's
benchmark files written during the step.

--seed-cache takes the first run's per-photo results from an earlier run's content cache
(results/cache/ of a run of the same library), the new photos' left out, so that the steps after it
are measured without waiting for every photo's detection: the first run's figure is then not a
first run's (bench/library.py measures that).

    flock /tmp/fc-heavy.lock .venv/bin/python bench/growth.py \\
        --library /tmp/fc-library-v4-0-5000-2016x1512 --workdir /tmp/fc-growth-5000 \\
        --seed-cache /tmp/fc-library-v4-0-5000-2016x1512-run/results/cache
"""

import argparse
import csv
import hashlib
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from library import run_snakemake  # noqa: E402  (bench/, the script's folder)

from facecluster.naming.persons import NO_PERSON  # noqa: E402
from facecluster.outputs.assignments import read_assignments  # noqa: E402
from facecluster.photos.tags import is_sidecar_name  # noqa: E402

NOT_A_PERSON = {*NO_PERSON, ""}


def stages_since(results, started):
    """{rule: (jobs, wall s, CPU s, peak MB)} of the benchmark files written since `started` (epoch s)."""
    costs = {}
    benchmarks = results / "benchmarks"
    for path in sorted(benchmarks.rglob("*.tsv")) if benchmarks.is_dir() else []:
        if path.stat().st_mtime < started:
            continue
        rule = path.relative_to(benchmarks).parts[0]
        with open(path, newline="") as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        jobs, wall, cpu, peak = costs.get(rule, (0, 0.0, 0.0, 0.0))
        costs[rule] = (
            jobs + 1,
            wall + _number(row["s"]),
            cpu + _number(row["cpu_time"]),
            max(peak, _number(row["max_rss"])),
        )
    return costs


def _number(text):
    try:
        return float(text)
    except ValueError:  # "NA": too short to measure
        return 0.0


def seed_cache(source, target, left_out):
    """Hard-link an earlier run's content cache into target, without the entries of photos whose
    sha256 is in left_out."""
    for path in source.rglob("*"):
        if path.is_file() and path.name.split(".")[0] not in left_out:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, destination)


def link(path, folder):
    """Hard-link a photo into folder, with its sidecars (photo.jpg.xmp, photo.xmp) where it has some."""
    for source in (path, path.with_name(f"{path.name}.xmp"), path.with_suffix(".xmp")):
        if source == path or source.is_file():
            os.link(source, folder / source.name)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_correction(results):
    """Write a rename of the largest person and a face of the second moved to nobody into the
    corrections file of the run's one state folder; returns what was written."""
    (state,) = [p for p in (results / "state").iterdir() if p.is_dir()]
    rows = read_assignments(results / "experiments/photos/assignments.tsv")
    # A person's faces: numbered, or named by face tags (a library whose people are all tagged has no number).
    persons = [row.person for row in rows if row.person not in NOT_A_PERSON]
    largest = Counter(persons).most_common(2)
    moved = next(row for row in rows if row.person == largest[1][0])
    corrections = {
        "rename": {largest[0][0]: "Grandma Ann"},
        "move_out": [{"photo": moved.path, "face": moved.face_index, "person": moved.person, "to": "nobody"}],
    }
    (state / "corrections.yaml").write_text(yaml.safe_dump(corrections))
    return corrections


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True, help="a bench/library.py library (with photos/)")
    parser.add_argument("--workdir", type=Path, required=True, help="wiped first")
    parser.add_argument("--new", type=int, default=100, help="photos added in step 3")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--seed-cache", type=Path, help="an earlier run's results/cache/ of this library")
    args = parser.parse_args()

    shutil.rmtree(args.workdir, ignore_errors=True)
    photos = args.workdir / "photos"
    photos.mkdir(parents=True)
    # Photos (sidecars come with their photo: bench/tagged_library.py's folders hold some).
    library = sorted(p for p in (args.library / "photos").iterdir() if p.is_file() and not is_sidecar_name(p.name))
    first, added = library[: -args.new], library[-args.new :]
    for path in first:
        link(path, photos)
    if args.seed_cache:
        seed_cache(args.seed_cache, args.workdir / "results" / "cache", {sha256(p) for p in added})

    def new_photos():
        for path in added:
            link(path, photos)

    steps = [
        ("first run" + (" (detection from --seed-cache)" if args.seed_cache else ""), lambda: None),
        ("no-op rerun", lambda: None),
        (f"+{args.new} photos", new_photos),
        ("a corrections file changed", lambda: a_correction(args.workdir / "results")),
    ]
    print(f"library {args.library} ({len(library)} photos), {args.cores} cores\n")
    print("| step | wall s | rules run: jobs, wall s, CPU s, peak MB |")
    print("|---|---:|---|")
    for name, change in steps:
        change()
        started = time.time()
        seconds = run_snakemake(photos, args.workdir, args.cores, args.configfile)
        stages = stages_since(args.workdir / "results", started)
        ran = "; ".join(
            f"{rule} {jobs}, {wall:.1f}, {cpu:.1f}, {peak:.0f}" for rule, (jobs, wall, cpu, peak) in stages.items()
        )
        print(f"| {name} | {seconds:.1f} | {ran or 'none'} |", flush=True)


if __name__ == "__main__":
    main()
