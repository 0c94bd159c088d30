"""Review pages (issue 26): how long they take to write at 5,000 faces, and whether their
"check these first" lists point at the mistakes.

    .venv/bin/python bench/review.py --lfw-results results/lfw-dev/dlib --faces 5000

From a per-photo run of lfw-dev (`presets/lfw-dev.yaml`; its embeddings.npy, faces.tsv and
chips, not recomputed here): people drawn (seeded) until --faces faces, clustered by
`cluster_experiment` with the default recipe (and with --cluster), then the review pages
written by `write_review`. A face is wrong when its label is not the most common label of
its person; a person is mixed when two labels hold at least two of its faces each.
Prints a Markdown table.
"""

import argparse
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from facecluster.outputs.assignments import read_assignments
from facecluster.outputs.review import MIN_GROUP, write_review
from facecluster.photos.faces import read_faces, write_faces
from facecluster.workflow.config import validate_config
from facecluster.workflow.experiment import cluster_experiment
from facecluster.workflow.specs import resolve

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    "models": {"dlib": yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())["models"]["dlib"]},
    "default_model": "dlib",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw-results", type=Path, default=PROJECT_ROOT / "results/lfw-dev/dlib")
    parser.add_argument("--faces", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cluster", action="append", default=[], help="a cluster: recipe (YAML), besides {}")
    args = parser.parse_args()
    print(
        "| recipe | faces | persons | wrong faces | near listed | of them wrong | split listed | of them mixed "
        "| mixed persons | write s | data.js KB | thumbnails MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        embeddings, faces = sample(args.lfw_results, args.faces, args.seed, tmp)
        for recipe in ["{}", *args.cluster]:
            print(measure(recipe, embeddings, faces, tmp / f"r{len(list(tmp.iterdir()))}"))


def sample(processed, n_faces, seed, folder):
    """(embeddings.npy, faces.tsv) of whole people drawn until n_faces faces; chips paths made absolute."""
    faces = read_faces(processed / "faces.tsv")
    embeddings = np.load(processed / "embeddings.npy", allow_pickle=False)
    by_label = defaultdict(list)
    for row, face in enumerate(faces):
        by_label[face.label].append(row)
    rows = []
    for label in np.random.default_rng(seed).permutation(sorted(by_label)):
        if len(rows) >= n_faces:
            break
        rows += by_label[label]
    rows = sorted(rows[:n_faces])
    # faces.tsv names chips relative to the project the per-photo run was made in.
    base = processed.resolve().parents[2]
    np.save(folder / "embeddings.npy", embeddings[rows])
    write_faces(
        folder / "faces.tsv", [replace(faces[r], row=i, chips=str(base / faces[r].chips)) for i, r in enumerate(rows)]
    )
    return folder / "embeddings.npy", folder / "faces.tsv"


def measure(recipe, embeddings, faces, folder):
    folder.mkdir()
    experiment = {"dataset": "d", "cluster": yaml.safe_load(recipe)}
    config = validate_config({"datasets": {"d": {"path": "."}}, "experiments": {"e": experiment}, **MODELS})
    settings = resolve(config).experiments["e"].job_settings()
    outputs = [folder / name for name in ("assignments.tsv", "metrics.json", "coords.npy", "metrics.tsv")]
    cluster_experiment(embeddings, faces, settings, *outputs)
    start = time.perf_counter()
    data = write_review(
        outputs[0], embeddings, outputs[1], folder / "review", experiment="e", threshold=settings["naming_threshold"]
    )
    seconds = time.perf_counter() - start
    assigned = read_assignments(outputs[0])
    labels = defaultdict(Counter)
    for face in assigned:
        labels[face.person][face.label] += 1
    majority = {person: counts.most_common(1)[0][0] for person, counts in labels.items()}
    persons = [p for p in data["persons"] if p["kind"] == "person"]
    wrong = {i for p in persons for i in p["faces"] if assigned[i].label != majority[p["name"]]}
    near = [entry["face"] for entry in data["near"]]
    mixed = {p["name"] for p in persons if sum(n >= MIN_GROUP for n in labels[p["name"]].values()) >= 2}
    split = [data["persons"][entry["person"]]["name"] for entry in data["split"]]
    thumbs = sum(f.stat().st_size for f in (folder / "review/faces").iterdir())
    return (
        f"| `cluster: {recipe}` | {len(assigned)} | {len(persons)} | {len(wrong)} | {len(near)} "
        f"| {sum(f in wrong for f in near)} | {len(split)} | {sum(p in mixed for p in split)} | {len(mixed)} "
        f"| {seconds:.1f} | {(folder / 'review/data.js').stat().st_size / 1024:.0f} | {thumbs / 2**20:.1f} |"
    )


if __name__ == "__main__":
    main()
