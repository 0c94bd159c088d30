"""New photos placed among the persons, against every face sorted again: where the line lies.

On a finished run of a bench/library.py library (its faces.tsv and embeddings.npy, no per-photo
job run again), for each share S: the photos but the last S of them (by name, as a phone numbers
a day's photos) are sorted in full by the clustering job's own code
(facecluster.workflow.experiment.sort_experiment, the default experiment of config.yaml); then all
photos are sorted from that sorting's state, the new photos' faces placed among its persons
(place_new_faces set to 1, so that it always places). Both are named and scored against the
library's truth (library.score) beside one full sorting of every photo.

    flock /tmp/fc-heavy.lock nice .venv/bin/python bench/placement.py \\
        --workdir /tmp/fc-library-v4-0-5000-2016x1512-run \\
        --results /tmp/fc-library-v4-0-5000-2016x1512-run/results --library /tmp/fc-library-v4-0-5000-2016x1512 \\
        --shares 0.02 0.05 0.1 0.2 0.4

Prints a Markdown table: share, new faces, seconds to sort (placed / in full), family BCubed F1,
person folders and bystanders with family (placed / in full).
"""

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from others import faces_path_of, job_settings, library_figures  # noqa: E402

from facecluster.photos.faces import read_faces  # noqa: E402
from facecluster.workflow.experiment import name_experiment, sort_experiment  # noqa: E402


def timed_sort(embeddings, faces, settings, state=None):
    started = time.perf_counter()
    clustering = sort_experiment(embeddings, faces, settings, state)
    return clustering, time.perf_counter() - started


def scored(clustering, faces_path, settings, library, results, out):
    """library.score's figures of a clustering of every face, named as the workflow names it."""
    paths = [out / name for name in ("clusters.tsv", "clustering.json", "coords.npy", "metrics.tsv")]
    clustering.write(*paths)
    assignments = out / "assignments.tsv"
    name_experiment(
        paths[0], paths[1], faces_path.with_name("embeddings.npy"), faces_path, settings, assignments, out / "m.json"
    )
    return library_figures(library, results, assignments)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, required=True, help="a run's results/")
    parser.add_argument("--library", type=Path, required=True, help="the bench/library.py library it sorted")
    parser.add_argument("--workdir", type=Path, required=True, help="where faces.tsv's chip paths start")
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--shares", type=float, nargs="+", default=[0.02, 0.05, 0.1, 0.2, 0.4])
    args = parser.parse_args()
    results, library, configfile = args.results.resolve(), args.library.resolve(), args.configfile.resolve()
    os.chdir(args.workdir)
    faces_path = faces_path_of(results)
    faces = read_faces(faces_path)
    embeddings = np.load(faces_path.with_name("embeddings.npy"), mmap_mode="r", allow_pickle=False)
    settings = job_settings(configfile, library / "photos", "none", {"place_new_faces": 1.0})
    photos = sorted({face.path for face in faces})

    with tempfile.TemporaryDirectory() as temporary:
        full, full_seconds = timed_sort(embeddings, faces, settings)
        full_figures = scored(full, faces_path, settings, library, results, Path(temporary))
    lines = [
        "| share of photos new | new faces | sorted s: placed / in full | family BCubed F1 | person folders "
        "| bystanders with family |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for share in args.shares:
        kept_photos = set(photos[: round(len(photos) * (1 - share))])
        earlier = [face for face in faces if face.path in kept_photos]
        # The earlier folder's own faces.tsv: rows numbered afresh, its embeddings in that order.
        earlier_faces = [dataclasses.replace(face, row=i) for i, face in enumerate(earlier)]
        earlier_embeddings = np.asarray(embeddings[[face.row for face in earlier]])
        before, _ = timed_sort(earlier_embeddings, earlier_faces, settings)
        placed, placed_seconds = timed_sort(embeddings, faces, settings, before.state)
        with tempfile.TemporaryDirectory() as temporary:
            f = scored(placed, faces_path, settings, library, results, Path(temporary))
        g = full_figures
        lines.append(
            f"| {share:.0%} | {len(faces) - len(earlier):,} | {placed_seconds:.1f} / {full_seconds:.1f} "
            f"| {f['bcubed_f1']:.4f} / {g['bcubed_f1']:.4f} | {f['person_folders']} / {g['person_folders']} "
            f"| {f['bystanders_with_family']} / {g['bystanders_with_family']} |"
        )
        print(lines[-1], placed.summary["notes"][-4:], file=sys.stderr, flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
