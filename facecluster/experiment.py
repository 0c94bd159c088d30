"""One experiment end to end: gathered embeddings in; assignments, metrics and plots out.

assignments.tsv  one row per face clustered: row, photo_id, path, face_index,
                 left, top, right, bottom, label, cluster (at the chosen K), chips,
                 person (a known person's name, a name kept from the previous run
                 or given by a correction, person_NNNN, or unknown: facecluster.naming)
metrics.json     the recipe, the chosen K and why, notes, every score for every K, and
                 naming: the known people found, names kept and new, corrections
                 honoured or not and why
metrics.tsv      the scores as a table, one row per K
coords.npy       (faces, 2) float64, the 2-D PCA view the plots draw
"""

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from facecluster import choose, plots
from facecluster.choose import BY_THRESHOLD
from facecluster.cluster import canonical_labels, evaluate_sweep, parse_k, reduce, sample_faces
from facecluster.clusterers import CLUSTERERS
from facecluster.gather import read_faces
from facecluster.graph import enforce_cannot_link
from facecluster.metrics import UNKNOWN, choose_k, matched_confusion
from facecluster.naming import UNKNOWN_PERSON, KnownPeople, NamingState, name_people, read_corrections
from facecluster.threshold import CutRule
from facecluster.tsv import tsv_writer

ASSIGNMENT_COLUMNS = [
    "row",
    "photo_id",
    "path",
    "face_index",
    "left",
    "top",
    "right",
    "bottom",
    "label",
    "cluster",
    "chips",
    "person",
]
# Scores are rounded so that results do not depend on floating-point summation
# order (thread counts, BLAS builds): reruns give byte-identical files.
DIGITS = 6


def cluster_experiment(
    embeddings_path,
    faces_path,
    settings,
    out_assignments,
    out_metrics,
    out_coords,
    out_table,
    *,
    known=None,
    corrections=None,
    state=None,
):
    """Sample, reduce, cluster over the K sweep, score, choose K, name the people; write the
    four outputs.

    known: {"embeddings", "faces", "ledger"} paths of the processed reference photos, or None;
    corrections: the user's corrections file (facecluster.naming), or None;
    state: the folder keeping the names between runs (read, then rewritten), or None.
    """
    embeddings = np.load(embeddings_path, allow_pickle=False)
    faces = read_faces(faces_path)
    rows = sample_faces(faces, **settings.get("sample", {}))
    chosen_faces = [faces[i] for i in rows]
    X = embeddings[rows] if rows else np.zeros((0, embeddings.shape[1] if embeddings.ndim == 2 else 0))
    summary = {
        "recipe": {
            key: settings[key] for key in ("dataset", "model", "sample", "reduce", "cluster") if key in settings
        },
        "n_faces": len(rows),
        "n_photos": len({face["photo_id"] for face in chosen_faces}),
        "n_people": len({face["label"] for face in chosen_faces if face["label"]}),
        "choose_k_by": settings["choose_k_by"],
        "notes": [],
    }
    if len(rows) < 2:
        summary.update(
            status="not clustered",
            chosen_k=None,
            per_k={},
            reason=f"only {len(rows)} face(s) in this experiment: nothing to cluster "
            "(check the dataset's ledger for photos with no face or rejected)",
        )
        _write_outputs(
            out_assignments,
            out_metrics,
            out_coords,
            out_table,
            chosen_faces,
            None,
            [UNKNOWN_PERSON] * len(rows),
            summary,
            np.zeros((len(rows), 2)),
        )
        return summary

    Y, reduce_info = reduce(X, **settings["reduce"], seed=settings["seed"])
    notes = []
    photo_ids = np.array([face["photo_id"] for face in chosen_faces])
    labels_by_k = _cluster(Y, settings["cluster"], settings["seed"], photo_ids, notes)
    labels_true = [face["label"] for face in chosen_faces]
    per_k = evaluate_sweep(Y, labels_true, labels_by_k)
    chosen_k = _choose(Y, labels_by_k, per_k, settings, summary["notes"])
    coords = Y if Y.shape[1] == 2 else reduce(X, method="pca", components=2, seed=settings["seed"])[0]
    summary.update(
        status="clustered",
        chosen_k=chosen_k,
        reduction=reduce_info,
        per_k={str(k): _rounded(v) for k, v in per_k.items()},
    )
    summary["notes"] += reduce_info["notes"] + notes
    persons, summary["naming"] = _name(chosen_faces, X, labels_by_k[chosen_k], settings, known, corrections, state)
    _write_outputs(
        out_assignments,
        out_metrics,
        out_coords,
        out_table,
        chosen_faces,
        labels_by_k[chosen_k],
        persons,
        summary,
        coords,
    )
    return summary


def _name(faces, X, clusters, settings, known, corrections, state):
    """(person per face, what naming did) with facecluster.naming; the state folder is rewritten."""
    corrections_read, problem = read_corrections(corrections)
    known_people = None
    if known is not None:
        known_people, folders = KnownPeople.read(known)
    persons, new_state, report = name_people(
        faces,
        X,
        clusters,
        threshold=settings.get("naming_threshold"),
        pairs=settings["naming_pairs"],
        known=known_people,
        previous=NamingState.read(state) if state is not None else None,
        corrections=corrections_read,
    )
    if problem:
        report["corrections"].insert(0, {"correction": "(the whole file)", "honoured": False, "reason": problem})
    if known_people is not None:
        report["known_people"] = known_people.people
        # A sub-folder whose photos show no face (or are no photos): see the known dataset's ledger.
        report["known_without_reference"] = sorted(set(folders) - set(known_people.people))
    if state is not None:
        new_state.write(state)
    return persons, report


def _cluster(Y, settings, seed, photo_ids, notes):
    """{K: (n,) labels}: one entry per K of a sweep, or one for a method that finds K itself.

    With cannot_link, faces of one photo that landed together are separated.
    """
    labels_by_k = _cluster_unconstrained(Y, settings, seed, notes)
    if settings["cannot_link"]:
        for k, labels in labels_by_k.items():
            labels_by_k[k], moved = enforce_cannot_link(labels, photo_ids, Y)
            if moved:
                notes.append(
                    f"K={k}: cannot-link moved {moved} faces out of a cluster "
                    "that already held a face of the same photo"
                )
    if "k" not in settings:  # the clusterer found K: key the result by it
        (labels,) = labels_by_k.values()
        labels_by_k = {int(len(np.unique(labels[labels != UNKNOWN]))): labels}
    return {k: canonical_labels(labels) for k, labels in labels_by_k.items()}


def _cluster_unconstrained(Y, settings, seed, notes):
    clusterer = CLUSTERERS[settings["method"]]
    if "k" not in settings:
        return {0: clusterer.find(Y, settings, seed, notes)}
    return clusterer.sweep(Y, parse_k(settings["k"]), settings, seed, notes)


def _choose(Y, labels_by_k, per_k, settings, notes):
    if len(per_k) == 1:
        return next(iter(per_k))
    score = settings["choose_k_by"]
    if score == BY_THRESHOLD:
        cluster = settings["cluster"]
        rule = CutRule.from_settings(cluster["cut_rule"])
        return choose.choose_k(Y, labels_by_k, score, settings["choose_k_threshold"], cluster["metric"], rule)
    try:
        return choose_k(per_k, score)
    except ValueError as exc:
        notes.append(f"{exc}; using the smallest K")
        return min(per_k)


def _rounded(scores):
    return {key: round(value, DIGITS) if isinstance(value, float) else value for key, value in scores.items()}


def _write_outputs(out_assignments, out_metrics, out_coords, out_table, faces, clusters, persons, summary, coords):
    with open(out_assignments, "w", newline="", encoding="utf-8") as handle:
        writer = tsv_writer(handle)
        writer.writerow(ASSIGNMENT_COLUMNS)
        for i, face in enumerate(faces):
            cluster = int(clusters[i]) if clusters is not None else -1
            writer.writerow(
                [
                    face["row"],
                    face["photo_id"],
                    face["path"],
                    face["face_index"],
                    face["left"],
                    face["top"],
                    face["right"],
                    face["bottom"],
                    face["label"],
                    cluster,
                    face["chips"],
                    persons[i],
                ]
            )
    Path(out_metrics).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    _write_score_table(out_table, summary["per_k"])
    np.save(out_coords, np.round(np.asarray(coords, np.float64), DIGITS), allow_pickle=False)


def _write_score_table(path, per_k):
    columns = sorted({key for scores in per_k.values() for key in scores})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = tsv_writer(handle)
        writer.writerow(["k", *columns])
        for k, scores in sorted(per_k.items(), key=lambda item: int(item[0])):
            writer.writerow([k, *("" if scores.get(c) is None else scores[c] for c in columns)])


def read_assignments(path):
    with open(path, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle, delimiter="\t"))
    for face in table:
        face["cluster"] = int(face["cluster"])
        face["face_index"] = int(face["face_index"])
    return table


class LazyChips:
    """Face chips by position, loaded only when a plot draws them (there may be millions)."""

    def __init__(self, assignments):
        self._where = [(face["chips"], face["face_index"]) for face in assignments]

    def __len__(self):
        return len(self._where)

    def __getitem__(self, i):
        path, index = self._where[i]
        return np.load(path, mmap_mode="r", allow_pickle=False)[index]


def plot_experiment(name, assignments_path, metrics_path, coords_path, out):
    """Draw the experiment's five figures; `out` maps figure name to PNG path."""
    faces = read_assignments(assignments_path)
    summary = json.loads(Path(metrics_path).read_text())
    coords = np.load(coords_path, allow_pickle=False)
    # Every figure shows a person by the name the people folders and tables use.
    persons = [None if face["person"] == UNKNOWN_PERSON else face["person"] for face in faces]
    labels = [face["label"] for face in faces]
    has_labels = bool(faces) and all(labels)
    if summary["status"] != "clustered":
        for path in out.values():
            plots.message(path, title=f"{name}: not clustered", message=summary["reason"])
        return
    chosen = summary["chosen_k"]
    plots.scatter_clusters(
        out["scatter"], coords, persons, labels if has_labels else None, title=f"{name}: PCA 2-D, K={chosen}"
    )
    plots.thumbnail_scatter(
        out["thumbnails"],
        coords,
        LazyChips(faces),
        persons,
        title=f"{name}: faces at their PCA 2-D positions, K={chosen}",
    )
    per_k = {int(k): v for k, v in summary["per_k"].items()}
    plots.metrics_vs_k(
        out["metrics_vs_k"],
        per_k,
        chosen_k=chosen,
        title=f"{name}: scores against K (K chosen by {summary['choose_k_by']})",
    )
    if has_labels:
        names = sorted({p for p in persons if p is not None})
        codes = np.array([UNKNOWN if p is None else names.index(p) for p in persons], np.int64)
        matrix, row_names, col_codes = matched_confusion(labels, codes)
        plots.confusion_matrix(
            out["confusion"],
            matrix,
            row_names,
            [UNKNOWN if c == UNKNOWN else names[c] for c in col_codes],
            title=f"{name}: true people x people found, matched pairs on the diagonal",
        )
    else:
        plots.message(
            out["confusion"],
            title=f"{name}: no confusion matrix",
            message="the dataset has no labels (labels: none)",
        )
    first_chips, sizes = _chips_by_person(faces, persons)
    plots.contact_sheet(out["contact_sheet"], first_chips, sizes=sizes, title=f"{name}: faces per person, K={chosen}")


def _chips_by_person(faces, persons, per_person=12):
    """({person: their first chips}, {person: faces}), most faces first, unknown (None) last."""
    chips = LazyChips(faces)
    rows = defaultdict(list)
    for i, person in enumerate(persons):
        rows[person].append(i)
    order = sorted(rows, key=lambda p: (p is None, -len(rows[p]), p or ""))
    return {p: [chips[i] for i in rows[p][:per_person]] for p in order}, {p: len(rows[p]) for p in order}
