"""Calibrate a model's distance thresholds on a labelled folder of photos (a sub-folder per person).

    .venv/bin/facecluster calibrate FOLDER --model NAME [--config config.yaml] [--threads 2]

The model `NAME` of the config (its detector and embedder) finds and embeds
the face nearest the centre of each photo (the photo's person, as in LFW),
with the workflow's model files and a content cache in `--work`. Every pair of
faces is scored (same person from different photos = genuine, different
people = impostor); a metric's threshold at a false-accept rate is the largest
distance at which at most that share of impostor pairs are accepted. Prints
the ROC table per metric and the `thresholds:` line to put in the config
(at a false-accept rate of 1e-3, as the shipped embedders' are calibrated).
bench/calibrate_thresholds.py does the same from a workflow run's embeddings.
"""

import argparse
import copy
import logging
from pathlib import Path

import numpy as np
import yaml

from facecluster.clustering.neighbors import prepare, to_metric
from facecluster.photos.listing import list_photos
from facecluster.registry import MODELS_FOLDER
from facecluster.workflow.config import validated_model

FARS = (1e-2, 1e-3, 1e-4)
CHOSEN_FAR = 1e-3
METRICS = ("euclidean", "cosine")
# Impostor pairs for a threshold at 1e-3 to rest on at least 10 accepted ones.
FEWEST_IMPOSTOR_PAIRS = 10_000


def pair_distances(points, labels, photos, block=1024):
    """(genuine distances, impostor distances) over all pairs i < j, a block of rows at a time."""
    points = points.astype(np.float64)
    squares = (points**2).sum(axis=1)
    genuine, impostor = [], []
    for start in range(0, len(points), block):
        stop = min(start + block, len(points))
        squared = squares[start:stop, None] + squares[None, start:] - 2 * points[start:stop] @ points[start:].T
        rows, cols = np.triu_indices(stop - start, 1, m=len(points) - start)
        values = np.sqrt(np.maximum(squared[rows, cols], 0))
        rows, cols = rows + start, cols + start
        same = labels[rows] == labels[cols]
        genuine.append(values[same & (photos[rows] != photos[cols])])
        impostor.append(values[~same])
    return np.concatenate(genuine), np.concatenate(impostor)


def roc(embeddings, labels, photos, metric):
    """(genuine pairs, impostor pairs, [(false-accept rate, threshold, true-accept rate)] for FARS)."""
    genuine, impostor = pair_distances(prepare(embeddings, metric), np.asarray(labels), np.asarray(photos))
    genuine, impostor = to_metric(genuine, metric), to_metric(impostor, metric)
    rows = []
    for far in FARS:
        threshold = float(np.quantile(impostor, far, method="lower"))
        rows.append((far, threshold, float(np.mean(genuine <= threshold))))
    return len(genuine), len(impostor), rows


def roc_tables(embeddings, labels, photos):
    """({metric: threshold at CHOSEN_FAR}, Markdown lines: a ROC table per metric)."""
    chosen, lines = {}, []
    for metric in METRICS:
        genuine, impostor, rows = roc(embeddings, labels, photos, metric)
        lines += [f"## {metric}: {genuine:,} genuine pairs, {impostor:,} impostor pairs", ""]
        lines += ["| false-accept rate | threshold | true-accept rate |", "|---:|---:|---:|"]
        lines += [f"| {far:g} | {threshold:.4f} | {accepted:.4f} |" for far, threshold, accepted in rows]
        lines.append("")
        chosen[metric] = round(next(threshold for far, threshold, _ in rows if far == CHOSEN_FAR), 4)
    return chosen, lines


def embed_folder(model, folder, work, threads=1, photo_max_side=4096):
    """(embeddings (n, dim), labels, photo ids) of the face nearest the centre of each photo of the
    labelled `folder`, by a validated model's detector and embedder (with the workflow's model files,
    made into models/ where missing); the ledger of every photo in `work`/faces/ledger.tsv."""
    from facecluster.photos.batch import BatchProcessor
    from facecluster.workflow.plan import prepare_model_files

    model = copy.deepcopy(model)
    model["detector"]["keep"] = "center"
    members = [
        {"id": entry.id, "path": entry.path, "label": entry.label, "hidden": entry.hidden}
        for entry in list_photos(folder, "folders")
    ]
    processor = BatchProcessor(
        model,
        Path(work) / "cache",
        photo_max_side=photo_max_side,
        threads=threads,
        files=prepare_model_files(model, MODELS_FOLDER),
    )
    out = Path(work) / "faces"
    embedded = [row for row in processor.process(members, out) if row.status == "embedded"]
    vectors = [np.load(out / f"{row.id}.npy", allow_pickle=False) for row in embedded]
    return (
        np.concatenate(vectors) if vectors else np.zeros((0, processor.embedder.dim), np.float32),
        [row.label for row in embedded],
        [row.id for row in embedded],
    )


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="labelled photos: a sub-folder per person")
    parser.add_argument("--model", required=True, help="a model of the config (under models:)")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", type=Path, help="the content cache and ledger (default: results/calibrate/MODEL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from facecluster.workflow.pinned_files import check_pinned_files

    config = yaml.safe_load(args.config.read_text())
    if args.model not in config.get("models", {}):
        parser.error(f"{args.config} has no model {args.model!r} under models:")
    # The model alone: the config's experiments may need the thresholds this measures.
    model = validated_model(config["models"][args.model])
    check_pinned_files(args.model, model)
    work = args.work or Path("results") / "calibrate" / args.model
    embeddings, labels, photos = embed_folder(
        model, args.folder, work, args.threads, config.get("photo_max_side", 4096)
    )
    people = len(set(labels))
    print(f"{len(labels)} faces of {people} people in {args.folder} (ledger: {work}/faces/ledger.tsv)\n")
    if people < 2:
        raise SystemExit("calibration needs faces of at least two people (a sub-folder per person)")
    chosen, lines = roc_tables(embeddings, labels, photos)
    print("\n".join(lines))
    impostors = len(labels) * (len(labels) - 1) // 2
    if impostors < FEWEST_IMPOSTOR_PAIRS:
        print(
            f"Few pairs: a threshold at a false-accept rate of {CHOSEN_FAR:g} rests on fewer than "
            f"{FEWEST_IMPOSTOR_PAIRS * CHOSEN_FAR:.0f} accepted impostor pairs; more people and photos make it surer.\n"
        )
    print(f"At a false-accept rate of {CHOSEN_FAR:g}, put under models.{args.model}.embedder:\n")
    print(f"  thresholds: {{euclidean: {chosen['euclidean']}, cosine: {chosen['cosine']}}}")


if __name__ == "__main__":
    main()
