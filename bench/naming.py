"""Naming the people (issue 19): how many faces take the right name, how many a wrong one.

    .venv/bin/python bench/naming.py --model dlib --out /tmp/naming.md

Two measurements, both through the product's own code, with one model of
presets/lfw-dev.yaml (`--model`; its embedder's calibrated threshold and naming rule):

- known-people: the workflow (Snakemake, config.yaml's detector and the model's embedder) on
  ../shared/datasets/known-people/photos with `known: known-people/known`; every face
  of photos/ against expected.tsv (the people each photo shows).
- lfw-dev split, from a per-photo run of lfw-dev (`presets/lfw-dev.yaml`; its
  embeddings.npy and faces.tsv in results/lfw-dev/MODEL, not recomputed here): per photo the face nearest
  the centre (LFW's person; a photo may show others beside them); for each person
  with >= 10 photos, 3 photos drawn as reference photos and the others to sort,
  mixed with 1,000 photos drawn from the people with fewer; clustered by
  `cluster_experiment` with the given recipe and named with the references, for
  each seed and naming threshold. Then the numbering: the folder without 10 % of
  its photos (drawn), named; then whole, named again with the first run's names:
  the share of faces of the first run whose person changed.

Prints a Markdown section (and writes it to --out).
"""

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from facecluster.outputs.assignments import read_assignments
from facecluster.photos.faces import read_faces, write_faces
from facecluster.photos.ledger import LedgerRow, write_ledger
from facecluster.workflow.config import validate_config
from facecluster.workflow.experiment import cluster_experiment
from facecluster.workflow.specs import resolve

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
LFW_SIDE = 250  # LFW photos are 250x250, their person in the middle


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dlib", help="a model of presets/lfw-dev.yaml")
    parser.add_argument("--lfw-results", type=Path, help="default: results/lfw-dev/MODEL")
    parser.add_argument("--known-people", type=Path, default=DATASETS / "known-people")
    parser.add_argument("--cluster", default="{}", help="the experiment's cluster: (YAML; default: the default)")
    parser.add_argument("--thresholds", default="auto,0.5,0.45", help="naming_threshold values, comma-separated")
    parser.add_argument("--pairs", type=int, help="face-reference pairs a known name needs (default: the embedder's)")
    parser.add_argument("--seeds", type=int, default=3, help="splits drawn (seeds 0..N-1)")
    parser.add_argument("--references", type=int, default=3)
    parser.add_argument("--min-photos", type=int, default=10)
    parser.add_argument("--others", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.lfw_results = args.lfw_results or PROJECT_ROOT / "results/lfw-dev" / args.model
    cluster = yaml.safe_load(args.cluster)
    centre = centre_faces(args.lfw_results)
    with tempfile.TemporaryDirectory(prefix="facecluster-naming-") as work:
        work = Path(work)
        known = known_people(args.known_people, work / "known-people", args.model)
        lfw = [
            lfw_split(args, centre, work / f"lfw-{seed}-{threshold}", seed, cluster, threshold)
            for seed in range(args.seeds)
            for threshold in args.thresholds.split(",")
        ]
        renumbered = [renumbering(args, centre, work / f"renumber-{seed}", seed, cluster) for seed in range(args.seeds)]
    section = markdown(args, known, lfw, renumbered, cluster)
    print(section)
    if args.out:
        args.out.write_text(section)


def known_people(folder, work, model):
    """{faces, right, wrong, missed}: photos/ named by the workflow against expected.tsv, with
    config.yaml's default detector and the model's embedder."""
    work.mkdir(parents=True)
    config = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())
    detector = config["models"][config["default_model"]]["detector"]
    config["models"] = {model: {"detector": detector, "embedder": preset_model(model)["embedder"]}}
    config["default_model"] = model
    config["datasets"] = {"photos": {"path": str(folder / "photos"), "labels": "none"}}
    config["experiments"] = {
        "named": {"dataset": "photos", "cluster": {"method": "agglomerative"}, "known": str(folder / "known")}
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    command = [str(SNAKEMAKE), "-s", str(PROJECT_ROOT / "Snakefile"), "-d", str(work)]
    command += ["--configfile", str(work / "config.yaml"), "--cores", "1"]
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    with open(folder / "expected.tsv", newline="", encoding="utf-8") as handle:
        expected = {row["photo"]: row["people"].split(",") for row in csv.DictReader(handle, delimiter="\t")}
    known = {p.name for p in (folder / "known").iterdir() if p.is_dir()}
    named = defaultdict(list)
    for face in read_assignments(work / "results/experiments/named/assignments.tsv"):
        named[Path(face.path).name].append(face.person)
    right = sum(len(set(people) & set(named[photo])) for photo, people in expected.items())
    wrong = sum(
        1 for photo, persons in named.items() for p in persons if p in known and p not in expected.get(photo, [])
    )
    expected_faces = sum(len(people) for people in expected.values())
    return {"faces": sum(map(len, named.values())), "expected": expected_faces, "right": right, "wrong": wrong}


def centre_faces(results):
    """(faces, embeddings): per photo of a lfw-dev run, the face nearest the photo's centre."""
    faces = read_faces(results / "faces.tsv")
    embeddings = np.load(results / "embeddings.npy", allow_pickle=False)
    best = {}
    for row, face in enumerate(faces):
        x, y = (face.left + face.right) / 2, (face.top + face.bottom) / 2
        off = (x - LFW_SIDE / 2) ** 2 + (y - LFW_SIDE / 2) ** 2
        if face.photo_id not in best or off < best[face.photo_id][0]:
            best[face.photo_id] = (off, row)
    rows = sorted(row for _, row in best.values())
    return [faces[r] for r in rows], embeddings[rows]


def draw_split(args, centre, seed):
    """(references, to sort, known people) as rows of centre_faces."""
    faces, _ = centre
    by_person = defaultdict(list)
    for row, face in enumerate(faces):
        by_person[face.label].append(row)
    rng = np.random.default_rng(seed)
    known = sorted(p for p, rows in by_person.items() if len(rows) >= args.min_photos)
    references, to_sort = [], []
    for person in known:
        rows = rng.permutation(by_person[person]).tolist()
        references += rows[: args.references]
        to_sort += rows[args.references :]
    others = [row for person, rows in sorted(by_person.items()) if person not in set(known) for row in rows]
    to_sort += rng.choice(others, args.others, replace=False).tolist()
    return sorted(references), sorted(to_sort), set(known)


def write_rows(centre, folder, name, rows):
    faces, embeddings = centre
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{name}.npy", embeddings[rows], allow_pickle=False)
    write_faces(folder / f"{name}.tsv", [replace(faces[r], row=i) for i, r in enumerate(rows)])
    return folder / f"{name}.npy", folder / f"{name}.tsv"


def write_references_ledger(centre, folder, rows):
    """The ledger of the reference photos (every one embedded, as the per-photo run found them)."""
    faces, _ = centre
    ledger = [LedgerRow(faces[r].photo_id, faces[r].path, faces[r].label, status="embedded") for r in rows]
    write_ledger(folder / "known-ledger.tsv", ledger)
    return folder / "known-ledger.tsv"


def preset_model(name):
    """A model's settings in presets/lfw-dev.yaml."""
    return yaml.safe_load((PROJECT_ROOT / "presets/lfw-dev.yaml").read_text())["models"][name]


def experiment_settings(args, cluster, threshold):
    experiment = {"dataset": "d", "cluster": cluster, "naming_threshold": threshold}
    models = {"models": {args.model: preset_model(args.model)}, "default_model": args.model}
    config = validate_config({"datasets": {"d": {"path": "."}}, "experiments": {"e": experiment}, **models})
    settings = resolve(config).experiments["e"].job_settings()
    if args.pairs is not None:
        settings["naming_pairs"] = args.pairs
    return settings


def run(folder, faces, settings, known=None, state=None):
    cluster_experiment(
        *faces,
        settings,
        folder / "assignments.tsv",
        folder / "metrics.json",
        folder / "coords.npy",
        folder / "metrics.tsv",
        known=known,
        state=state,
    )
    return read_assignments(folder / "assignments.tsv")


def lfw_split(args, centre, folder, seed, cluster, threshold):
    references, to_sort, known = draw_split(args, centre, seed)
    threshold = threshold if threshold == "auto" else float(threshold)
    settings = experiment_settings(args, cluster, threshold)
    assignments = run(
        folder,
        write_rows(centre, folder, "faces", to_sort),
        settings,
        known=dict(
            zip(
                ("embeddings", "faces", "ledger"),
                (
                    *write_rows(centre, folder, "known", references),
                    write_references_ledger(centre, folder, references),
                ),
            )
        ),
    )
    of_known = [face for face in assignments if face.label in known]
    others = [face for face in assignments if face.label not in known]
    return {
        "seed": seed,
        "threshold": settings["naming_threshold"],
        "known_faces": len(of_known),
        "right": sum(face.person == face.label for face in of_known),
        "misnamed": sum(face.person in known and face.person != face.label for face in of_known),
        "others": len(others),
        "others_named": sum(face.person in known for face in others),
    }


def renumbering(args, centre, folder, seed, cluster):
    """{faces, changed}: faces of a run on 90 % of the folder whose person changed once it is whole."""
    _, to_sort, _ = draw_split(args, centre, seed)
    rng = np.random.default_rng(seed)
    first = sorted(rng.choice(to_sort, int(len(to_sort) / 1.1), replace=False).tolist())
    settings = experiment_settings(args, cluster, "auto")
    state = folder / "state"
    before = run(folder / "first", write_rows(centre, folder / "first", "faces", first), settings, state=state)
    after = run(folder / "whole", write_rows(centre, folder / "whole", "faces", to_sort), settings, state=state)
    now = {(face.path, face.face_index): face.person for face in after}
    changed = sum(now[(face.path, face.face_index)] != face.person for face in before)
    names = defaultdict(Counter)
    for face in before:
        names[face.person][now[(face.path, face.face_index)]] += 1
    # No face of a person under their name now: their faces under a new one (renumbered), or under
    # another person's of the first run (the clustering joined the two: one name must go).
    moved = [held.most_common(1)[0][0] for person, held in names.items() if person not in held]
    return {
        "faces": len(before),
        "added": len(after) - len(before),
        "changed": changed,
        "people": len(names),
        "renumbered": sum(name not in names for name in moved),
        "joined": sum(name in names for name in moved),
    }


def markdown(args, known, lfw, renumbered, cluster):
    today = datetime.date.today().isoformat()
    lines = [
        "## Naming the people (issue 19)",
        "",
        f"Measured {today} by `.venv/bin/python bench/naming.py --model {args.model} --thresholds {args.thresholds}"
        + (f" --pairs {args.pairs}" if args.pairs is not None else "")
        + "` "
        f"(clustering `{json.dumps(cluster)}`, the {args.model} model of presets/lfw-dev.yaml; see bench/naming.py).",
        "",
        f"- **known-people/**: {known['right']} of the {known['expected']} faces expected.tsv names took "
        f"their name, {known['wrong']} faces a wrong known name ({known['faces']} faces found in photos/, "
        "background faces included).",
        "",
        f"lfw-dev split: {args.references} reference photos for each person with >= {args.min_photos} "
        f"photos, their other photos mixed with {args.others} photos of people without references.",
        "",
        "| seed | naming threshold | known people's faces | named right | given another known name "
        "| others | others given a known name |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in lfw:
        lines.append(
            f"| {r['seed']} | {r['threshold']} | {r['known_faces']} | {r['right'] / r['known_faces']:.2%} "
            f"| {r['misnamed'] / r['known_faces']:.2%} | {r['others']} | {r['others_named'] / r['others']:.2%} |"
        )
    lines += ["", "Numbering kept: the split's folder without 10 % of its photos, then whole.", ""]
    lines += [
        "| seed | faces of the first run | added | people of the first run | people renumbered "
        "| people joined to another by the clustering | faces whose person changed |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s} | {r['faces']} | {r['added']} | {r['people']} | {r['renumbered']} | {r['joined']} | {r['changed']} |"
        for s, r in enumerate(renumbered)
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
