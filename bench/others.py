"""Faces left in `others`: a run's faces clustered again by the clustering job, with variants.

The per-photo results of a run (faces.tsv, embeddings.npy) are clustered again by
facecluster.workflow.experiment.cluster_experiment, the workflow's own clustering job, with the
default experiment of a config file (config.yaml: min_photos, set_aside, the clusterer and its
settings) and with each variant given (settings merged over the experiment's; its `cut_rule`, the
embedder's folder cut constants changed), no per-photo job run again. Two kinds of folder:

- a labelled folder (all of lfw-dev as one folder: `presets/lfw-dev.yaml`'s per-photo run,
  YuNet keep center, one face a photo, the folder naming the person): `--results
  results/lfw-dev/intel_reid`;
- a library of bench/library.py (truth.tsv): `--results RUN/results --library LIBRARY`, a face's
  person by the pasted face its box matches (library.score).

For each setting it prints: faces clustered (set aside), persons; BCubed F1 (precision, recall)
over the faces with a true person that are clustered, a face's cluster being its person (a face of
`others` counts alone); faces of people seen in at least 4 photos (the default min_photos) left
in `others`; faces of people seen in fewer put with a person (bystanders, in a library); a
library's family BCubed, bystanders with a family person and person folders (library.score).

Run from the project root, under the shared lock (chips are read, for the set-aside sharpness,
where faces.tsv says: relative paths from --workdir):

    flock /tmp/fc-heavy.lock nice .venv/bin/python bench/others.py --results results/lfw-dev/intel_reid \\
        --variant 'off={"attach": {"limit": 0}}'
    flock /tmp/fc-heavy.lock nice .venv/bin/python bench/others.py --workdir /tmp/fc-library-v4-0-600-2016x1512-run \\
        --results /tmp/fc-library-v4-0-600-2016x1512-run/results --library /tmp/fc-library-v4-0-600-2016x1512 \\
        --variant 'off={"attach": {"limit": 0}}'
"""

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from facecluster.clustering.metrics import external_metrics  # noqa: E402
from facecluster.outputs.assignments import read_assignments  # noqa: E402
from facecluster.tables import OTHERS  # noqa: E402
from facecluster.workflow.config import validate_config  # noqa: E402
from facecluster.workflow.experiment import cluster_experiment  # noqa: E402
from facecluster.workflow.specs import resolve  # noqa: E402

# "Seen often": a person in at least this many photos (the default min_photos).
OFTEN = 4


def merged(base, changes):
    """`base` with `changes` merged in, dict by dict."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        result[key] = (
            merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result


def job_settings(configfile, folder, labels, changes):
    """The clustering job's settings of the config's default experiment for `folder`, with
    `changes` (an experiment's settings) merged in: as `--config photos=folder` would run it."""
    config = yaml.safe_load(Path(configfile).read_text())
    config.pop("photos", None)
    config["datasets"] = {"photos": {"path": str(folder), "labels": labels}}
    config["experiments"] = {"photos": merged({"dataset": "photos"}, changes)}
    spec = resolve(validate_config(config)).experiments["photos"]
    return spec.job_settings()


def recluster(faces_path, settings, out):
    """cluster_experiment on a run's faces (faces.tsv, embeddings.npy beside it; the dates.tsv of
    its dataset, where the run read dates) into the folder `out`; (assignments, metrics, seconds)."""
    paths = [out / name for name in ("assignments.tsv", "metrics.json", "coords.npy", "metrics.tsv")]
    dates = faces_path.parent.parent / "dates.tsv"
    started = time.perf_counter()
    cluster_experiment(
        faces_path.with_name("embeddings.npy"), faces_path, settings, *paths, dates=dates if dates.is_file() else None
    )
    seconds = time.perf_counter() - started
    return read_assignments(paths[0]), json.loads(paths[1].read_text()), seconds


def faces_path_of(results):
    """faces.tsv of a per-photo results folder, or of a run's results/ (its one model's)."""
    found = sorted(Path(results).glob("faces.tsv")) or sorted(Path(results).glob("photos/*/faces.tsv"))
    return found[0]


def labelled_figures(assignments):
    """Figures over the faces with a label (faces.tsv's folder): BCubed, often seen in others,
    rarely seen put with a person."""
    photos = {}
    for face in assignments:
        photos.setdefault(face.label, set()).add(face.photo_id)
    seen = {label: len(ids) for label, ids in photos.items()}
    sorted_faces = [face for face in assignments if face.label and not face.set_aside]
    persons = {name: code for code, name in enumerate(sorted({f.person for f in sorted_faces} - {OTHERS}))}
    bcubed = external_metrics(
        [face.label for face in sorted_faces], np.array([persons.get(face.person, -1) for face in sorted_faces])
    )
    often = [face for face in sorted_faces if seen[face.label] >= OFTEN]
    rarely = [face for face in sorted_faces if seen[face.label] < OFTEN]
    return {
        "faces": len(assignments),
        "set_aside": sum(bool(face.set_aside) for face in assignments),
        "persons": len(persons),
        "bcubed_f1": bcubed["bcubed_f1"],
        "bcubed_precision": bcubed["bcubed_precision"],
        "bcubed_recall": bcubed["bcubed_recall"],
        "often_sorted": len(often),
        "often_in_others": sum(face.person == OTHERS for face in often),
        "rarely_sorted": len(rarely),
        "rarely_with_person": sum(face.person != OTHERS for face in rarely),
    }


def library_figures(library, results, assignments_path):
    """library.score's figures of a bench/library.py library clustered again."""
    import library as bench_library

    truth = bench_library.read_tsv(Path(library) / "truth.tsv")
    return bench_library.score(truth, Path(library) / "photos", Path(results), assignments=assignments_path)


def row(name, figures, notes, seconds):
    """A setting's line of the table."""
    f = figures
    bcubed = f"{f['bcubed_f1']:.4f} ({f['bcubed_precision']:.4f}, {f['bcubed_recall']:.4f})"
    often = f"{f['often_in_others']} / {f['often_sorted']}"
    rarely = f"{f['rarely_with_person']} / {f['rarely_sorted']}"
    persons = f.get("persons", f.get("person_folders"))
    extra = ""
    if "bystanders_with_family" in f:
        extra = f" | {f['bystanders_with_family']} / {f['bystanders_found']} | {f['family_folders']}"
    attached = next((note.split(" ")[0] for note in notes if "attached to the nearest person" in note), "0")
    return f"| {name} | {persons} | {bcubed} | {often} | {rarely}{extra} | {attached} | {seconds:.1f} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, required=True, help="a per-photo results folder, or a run's results/")
    parser.add_argument("--library", type=Path, help="a bench/library.py library (its truth.tsv)")
    parser.add_argument("--workdir", type=Path, default=Path.cwd(), help="where faces.tsv's chip paths start")
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--base", default="{}", help="JSON experiment settings merged into every setting")
    parser.add_argument("--variant", action="append", default=[], help="NAME=JSON experiment settings merged in")
    parser.add_argument("--keep", type=Path, help="keep each setting's outputs in KEEP/<name>/")
    args = parser.parse_args()
    results, configfile = args.results.resolve(), args.configfile.resolve()
    library = args.library.resolve() if args.library else None
    os.chdir(args.workdir)
    faces_path = faces_path_of(results)
    folder = results if library is None else library / "photos"  # names the dataset, read from no further
    labels = "none" if library else "folders"
    variants = [("default", {})] + [(v.split("=", 1)[0], json.loads(v.split("=", 1)[1])) for v in args.variant]
    columns = [
        "setting",
        "persons",
        "BCubed F1 (P, R)",
        f"seen in {OFTEN}+ photos: in others",
        "seen in fewer: with a person",
    ]
    if library:
        columns[2] = "family " + columns[2]
        columns += ["bystanders with family", "family folders"]
    columns += ["attached", "clustering s"]
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for name, changes in variants:
        changes = merged(json.loads(args.base), changes)
        rule_changes = changes.pop("cut_rule", {})
        settings = job_settings(configfile, folder, labels, changes)
        settings["cluster"]["cut_rule"].update(rule_changes)
        with tempfile.TemporaryDirectory() as temporary:
            out = args.keep / name if args.keep else Path(temporary)
            out.mkdir(parents=True, exist_ok=True)
            assignments, metrics, seconds = recluster(faces_path, settings, out)
            if library:
                figures = library_figures(library, results, out / "assignments.tsv")
            else:
                figures = labelled_figures(assignments)
        lines.append(row(name, figures, metrics.get("notes", []), seconds))
        print(lines[-1], file=sys.stderr, flush=True)
        print(f"  {name}: {json.dumps(changes)}; notes: {metrics.get('notes')}", file=sys.stderr)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
