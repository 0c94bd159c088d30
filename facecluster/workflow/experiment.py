"""One experiment end to end: gathered embeddings in; assignments, metrics and plots out.

assignments.tsv  one row per face of the experiment (its sample): facecluster.outputs.assignments
metrics.json     the recipe, the chosen K and why, notes, every score for every K (over the
                 faces clustered: set-aside faces are not), people (persons, their faces,
                 the faces of others, the faces set aside by reason), and
                 naming: the known people found, names kept and new, corrections
                 honoured or not and why
metrics.tsv      the scores as a table, one row per K
coords.npy       (faces, 2) float64, the 2-D PCA view the plots draw (NaN for a face set aside)
tags.tsv         every face tag read for the experiment's photos (facecluster.naming.tags): the face
                 it went on, that face's person, and why not
"""

import csv
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecluster.clustering import set_aside as quality
from facecluster.clustering.metrics import matched_confusion
from facecluster.clustering.reduce import reduce
from facecluster.clustering.sample import sample_faces
from facecluster.clustering.sort import NEW, Earlier, sort_faces
from facecluster.clustering.spec import SortSpec
from facecluster.naming.corrections import read_corrections
from facecluster.naming.known import KnownPeople
from facecluster.naming.persons import name_people
from facecluster.naming.state import NamingState
from facecluster.naming.tags import FaceTags, image_size_of, tag_faces, write_face_tags
from facecluster.outputs import plots
from facecluster.outputs.assignments import Assignment, LazyChips, read_assignments, write_assignments
from facecluster.outputs.report import k_found
from facecluster.photos.dates import capture_years
from facecluster.photos.faces import read_faces
from facecluster.photos.tags import read_tags
from facecluster.tables import OTHERS, UNKNOWN, tsv_writer
from facecluster.workflow.sorting_state import SortingState, face_key, settings_digest

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
    tags=None,
    out_tags=None,
    dates=None,
):
    """Sort an experiment's faces (sort_experiment) and name the people (the naming step of
    name_experiment) in one go; write the four outputs. The workflow runs the two as two jobs, so
    that a corrections file changed sorts nothing again; this is the same for a caller with no
    workflow (the benchmarks).

    known: {"embeddings", "faces", "ledger"} paths of the processed reference photos, or None;
    corrections: the user's corrections file (facecluster.naming.persons), or None;
    state: the folder keeping the names between runs (read, then rewritten), or None;
    tags: the dataset's face tags read (results/<dataset>/tags.tsv: facecluster.photos.tags), or
    None; out_tags: where the experiment's tags.tsv goes (the names read, the faces they went on);
    dates: the dataset's dates.tsv (facecluster.photos.dates), or None.
    """
    embeddings = np.load(embeddings_path, mmap_mode="r", allow_pickle=False)
    faces = read_faces(faces_path)
    clustering = sort_experiment(embeddings, faces, settings, years=capture_years(dates) if dates else None)
    clustering.write_views(out_coords, out_table)
    naming = _NamingStep(settings, known, corrections, state, tags=tags, out_tags=out_tags)
    return _name_clustering(naming, clustering, embeddings, faces, out_assignments, out_metrics)


@dataclass
class Clustering:
    """What sorting an experiment's faces made, before any name: its faces (rows of the dataset's
    faces.tsv: the sample), each face's cluster (UNKNOWN: set aside) and set-aside reason, their 2-D
    view (NaN: set aside) and the summary (metrics.json without naming and people); state, what the
    next run's sorting starts from (facecluster.workflow.sorting_state; None when read back).

    clusters.tsv    row (in faces.tsv), cluster, set_aside: a line per face of the sample
    clustering.json the summary
    """

    rows: list
    clusters: np.ndarray
    reasons: list
    coords: np.ndarray
    summary: dict
    state: SortingState = None

    def write(self, out_clusters, out_clustering, out_coords, out_table):
        def clusters(path):
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = tsv_writer(handle)
                writer.writerow(["row", "cluster", "set_aside"])
                writer.writerows(zip(self.rows, self.clusters.tolist(), self.reasons))

        _replace(out_clusters, clusters)
        _replace(out_clustering, lambda path: _write_json(path, self.summary))
        self.write_views(out_coords, out_table)

    def write_views(self, out_coords, out_table):
        _write_score_table(out_table, self.summary["per_k"])
        np.save(out_coords, np.round(np.asarray(self.coords, np.float64), DIGITS), allow_pickle=False)

    @classmethod
    def read(cls, clusters_path, clustering_path):
        """A clustering written (its coords left out: the naming does not need them)."""
        with open(clusters_path, newline="", encoding="utf-8") as handle:
            records = list(csv.reader(handle, delimiter="\t"))[1:]
        rows = [int(record[0]) for record in records]
        clusters = np.array([int(record[1]) for record in records], np.int64)
        reasons = [record[2] for record in records]
        return cls(rows, clusters, reasons, None, json.loads(Path(clustering_path).read_text()))


def sort_experiment(embeddings, faces, settings, state=None, years=None):
    """Sample, set aside the faces not worth sorting, reduce, sort them into persons
    (facecluster.clustering.sort_faces: cluster over the K sweep, score, choose K): a Clustering,
    whose `state` is what the next run needs (facecluster.workflow.sorting_state).

    embeddings: the dataset's (faces, dim) array (memory-mapped is best: only the sample is read);
    faces: its faces.tsv rows; state: the SortingState the last run left (None: none): its
    sharpness spares reading chips again, and its sorting has new faces placed among its persons
    (`_earlier_sorting` says when); years: {photo_id: capture date in years} (facecluster.photos.
    dates.capture_years), used where the settings' use_dates says (sort.cuts_by_dates)."""
    state = state or SortingState()
    rows = sample_faces(faces, **settings.get("sample", {}), seed=settings["seed"])
    all_faces = [faces[i] for i in rows]
    keys = [face_key(face) for face in all_faces]
    sharpness = {key: state.sharpness[key] for key in keys if key in state.sharpness}
    reasons = _set_aside(all_faces, keys, settings["set_aside"], sharpness)
    # The faces clustered, as positions in all_faces.
    kept = [i for i, reason in enumerate(reasons) if not reason]
    chosen_faces = [all_faces[i] for i in kept]
    dim = embeddings.shape[1] if embeddings.ndim == 2 else 0
    X = np.asarray(embeddings[[rows[i] for i in kept]]) if kept else np.zeros((0, dim))
    recipe_keys = ("dataset", "model", "sample", "min_photos", "attach", "set_aside", "reduce", "cluster", "use_dates")
    summary = {
        "recipe": {key: settings[key] for key in recipe_keys if key in settings},
        "n_faces": len(kept),
        "n_photos": len({face.photo_id for face in chosen_faces}),
        "n_people": len({face.label for face in chosen_faces if face.label}),
        "choose_k_by": settings["choose_k_by"],
        "notes": [],
    }
    # Over every face of the sample: those set aside in no cluster, and not drawn.
    clusters_all = np.full(len(all_faces), UNKNOWN)
    coords_all = np.full((len(all_faces), 2), np.nan)
    digest = settings_digest(settings)
    next_state = SortingState(sharpness, keys, clusters_all, None, digest)
    if len(kept) < 2:
        aside = f", {len(rows) - len(kept)} set aside as not worth sorting" if len(kept) < len(rows) else ""
        summary.update(
            status="not clustered",
            chosen_k=None,
            per_k={},
            reason=f"only {len(kept)} face(s) in this experiment{aside}: nothing to cluster "
            "(check the dataset's ledger for photos with no face or rejected)",
        )
        coords_all[kept] = 0.0
    else:
        Y, reduce_info = reduce(X, **settings["reduce"])
        photo_ids = np.array([face.photo_id for face in chosen_faces])
        truth = [face.label for face in chosen_faces]
        spec = SortSpec.from_settings(settings)
        face_years = None
        if years and settings["use_dates"]:
            face_years = np.array([years.get(photo_id, np.nan) for photo_id in photo_ids], np.float64)
        earlier = _earlier_sorting(state, [keys[i] for i in kept], spec, settings, digest)
        sorting = sort_faces(Y, photo_ids, spec, truth=truth, earlier=earlier, years=face_years)
        coords = Y if Y.shape[1] == 2 else reduce(X, method="pca", components=2)[0]
        summary.update(
            status="clustered",
            chosen_k=sorting.k,
            reduction=reduce_info,
            per_k={str(k): _rounded(v) for k, v in sorting.scores.items()},
            notes=[*sorting.k_notes, *reduce_info["notes"], *sorting.notes],
        )
        clusters_all[kept], coords_all[kept] = sorting.labels, coords
        added = int((earlier.labels == NEW).sum()) if earlier else 0
        next_state.cut = sorting.cut
        next_state.full_faces = state.full_faces if earlier else len(kept)
        next_state.added = state.added + added if earlier else 0
    return Clustering(list(rows), clusters_all, reasons, coords_all, summary, next_state)


def _earlier_sorting(state, keys, spec, settings, digest):
    """The Earlier sorting new faces are placed in (sort.place_new_faces), or None to sort every
    face: when the state's sorting was made with these settings by a clusterer that places new
    faces, K not given, on the faces themselves (no PCA, no sample), holds every face it sorted
    still, and the faces added since its last full sorting stay within settings'
    place_new_faces share of those. keys: the faces to sort."""
    from facecluster.clustering.clusterers import CLUSTERERS

    if (
        state.cut is None
        or state.digest != digest
        or spec.k is not None
        or not CLUSTERERS[spec.method].places_new_faces
        or settings["reduce"]["method"] != "none"
        or settings.get("sample")
    ):
        return None
    earlier = dict(zip(state.keys, state.labels.tolist()))
    labels = np.array([earlier.get(key, NEW) for key in keys], np.int64)
    new = int((labels == NEW).sum())
    if (labels == UNKNOWN).any() or len(keys) - new != sum(label != UNKNOWN for label in earlier.values()):
        return None  # a face sorted before was removed, or set aside now
    if state.added + new > settings["place_new_faces"] * state.full_faces:
        return None
    return Earlier(labels, state.cut)


def name_experiment(
    clusters_path,
    clustering_path,
    embeddings_path,
    faces_path,
    settings,
    out_assignments,
    out_metrics,
    *,
    known=None,
    corrections=None,
    state=None,
    tags=None,
    out_tags=None,
):
    """Name the people of a clustering written by sort_experiment (Clustering.write): assignments.tsv
    and metrics.json. Its own job in the workflow: a corrections file changed reruns this, not the
    sorting. Arguments as cluster_experiment's."""
    clustering = Clustering.read(clusters_path, clustering_path)
    embeddings = np.load(embeddings_path, mmap_mode="r", allow_pickle=False)
    faces = read_faces(faces_path)
    naming = _NamingStep(settings, known, corrections, state, tags=tags, out_tags=out_tags)
    _name_clustering(naming, clustering, embeddings, faces, out_assignments, out_metrics)


def _name_clustering(naming, clustering, embeddings, faces, out_assignments, out_metrics):
    all_faces = [faces[i] for i in clustering.rows]
    dim = embeddings.shape[1] if embeddings.ndim == 2 else 0
    X_all = np.asarray(embeddings[clustering.rows]) if clustering.rows else np.zeros((0, dim))
    summary = dict(clustering.summary)
    naming.name_and_write(
        out_assignments, out_metrics, summary, all_faces, X_all, clustering.clusters, clustering.reasons
    )
    return summary


def rename_experiment(experiment_spec, paths, *, corrections_path):
    """Apply a corrections file to an experiment already clustered, in place: the naming step again
    on the clusters in its assignments.tsv (the faces set aside included; no decoding, no
    clustering), rewriting assignments.tsv, metrics.json's naming and people and the names state,
    exactly as the next run's cluster_experiment would for the same corrections.

    experiment_spec: facecluster.workflow.specs.ExperimentSpec; paths: its run's
    facecluster.workflow.paths.ResultPaths. Returns the names of the persons whose faces, name or
    hiding changed (`others` left out).
    """
    renaming = Renaming(experiment_spec, paths)
    before = renaming.rows
    after = renaming.apply(corrections_path)
    changed = set()
    for old, new in zip(before, after):
        if (old.person, old.hidden) != (new.person, new.hidden):
            changed.update({old.person, new.person})
    return changed - {OTHERS}


class Renaming:
    """An experiment already clustered, read once and named again for each corrections file given
    (rename_experiment; the review app keeps one between edits): its assignments' rows, their faces
    and embeddings.

    rows: assignments.tsv's rows as last read or written; X: their embeddings, in that order.
    """

    def __init__(self, experiment_spec, paths):
        self.spec, self.paths = experiment_spec, paths
        self.rows = read_assignments(paths.assignments(experiment_spec.name))
        processed = paths.processed(experiment_spec.dataset.name, experiment_spec.model.name)
        row_of = {(face.path, face.face_index): (row, face) for row, face in enumerate(read_faces(processed["faces"]))}
        found = [row_of[(face.path, face.face_index)] for face in self.rows]
        self._faces = [face for _, face in found]
        # Memory-mapped: only the experiment's rows are read (a library's embeddings are all there).
        embeddings = np.load(processed["embeddings"], mmap_mode="r", allow_pickle=False)
        self.X = np.asarray(embeddings[[row for row, _ in found]])
        # The face tags read from the dataset's photos (rule read_tags' table), read once.
        tags = paths.tags(experiment_spec.dataset.name)
        self._tags = read_tags(tags) if experiment_spec.face_tags and Path(tags).is_file() else None

    def apply(self, corrections_path):
        """Name the faces again with this corrections file; assignments.tsv, metrics.json and the
        names state are rewritten. Returns the rows written (also self.rows)."""
        spec, paths = self.spec, self.paths
        summary = json.loads(Path(paths.metrics(spec.name)).read_text())
        known = None
        if spec.known is not None:
            known = paths.processed(spec.known.name, spec.model.name)
        naming = _NamingStep(
            spec.job_settings(),
            known,
            corrections_path,
            paths.state(spec.state_name),
            tags=self._tags,
            out_tags=paths.experiment_tags(spec.name),
        )
        clusters = np.array([face.cluster for face in self.rows], np.int64)
        reasons = [face.set_aside for face in self.rows]
        self.rows = naming.name_and_write(
            paths.assignments(spec.name),
            paths.metrics(spec.name),
            summary,
            list(self._faces),
            self.X,
            clusters,
            reasons,
        )
        return self.rows


def _set_aside(faces, keys, settings, sharpness):
    """Why each face is not worth sorting ("" for those that are): facecluster.clustering.set_aside.
    sharpness: {face key: sharpness} measured before, where those measured now are added."""
    chips = LazyChips(faces)

    def face_sharpness(i):
        if keys[i] not in sharpness:
            sharpness[keys[i]] = quality.sharpness(chips[i])
        return sharpness[keys[i]]

    return [quality.set_aside_reason(face, lambda i=i: face_sharpness(i), settings) for i, face in enumerate(faces)]


def _people_summary(faces, persons, reasons):
    """Persons and their faces, the faces of others clustered and those set aside (by reason)."""
    in_persons = [p for p in persons if p != OTHERS]
    return {
        "persons": len(set(in_persons)),
        "person_faces": len(in_persons),
        "person_photos": len({face.photo_id for face, p in zip(faces, persons) if p != OTHERS}),
        "others_faces": sum(1 for p, reason in zip(persons, reasons) if p == OTHERS and not reason),
        "set_aside": {reason: reasons.count(reason) for reason in quality.REASONS},
    }


class _NamingStep:
    """The naming step of an experiment and the outputs it writes: one code for the clustering job
    and for corrections applied in place (rename_experiment).

    settings: the job's settings (naming_threshold, naming_pairs, min_photos); known: the processed
    reference photos' {"embeddings", "faces", "ledger"} or None; corrections: the corrections file or
    None; state: the folder keeping the names between runs (read, then rewritten), or None.
    """

    def __init__(self, settings, known, corrections, state, tags=None, out_tags=None):
        self.settings, self.known, self.corrections, self.state = settings, known, corrections, state
        # The dataset's face tags read (its tags.tsv, or its TagRows; None: not read), and the
        # experiment's table of them.
        self.tags, self.out_tags = tags, out_tags

    def name_and_write(self, out_assignments, out_metrics, summary, faces, X, clusters, reasons):
        """Name the faces of a clustered experiment (nobody's otherwise), put the naming and the
        people in `summary`, and replace assignments.tsv and metrics.json with them; returns the
        assignments written."""
        persons = [OTHERS] * len(faces)
        summary.pop("naming", None)
        rows = read_tags(self.tags) if isinstance(self.tags, (str, os.PathLike)) else self.tags
        face_tags = tag_faces(faces, rows, image_size_of()) if rows is not None else FaceTags()
        if summary["status"] == "clustered":
            persons, summary["naming"] = self._name(faces, X, clusters, face_tags.names)
            summary["naming"]["tags"] = _tags_summary(face_tags, summary["naming"].get("tags"), self.tags)
        if self.out_tags is not None:
            _replace(self.out_tags, lambda path: write_face_tags(path, face_tags, persons))
        summary["people"] = _people_summary(faces, persons, reasons)
        hidden = set(summary.get("naming", {}).get("hidden", []))
        assignments = [
            Assignment.of_face(
                face, cluster=int(clusters[i]), person=persons[i], set_aside=reasons[i], hidden=persons[i] in hidden
            )
            for i, face in enumerate(faces)
        ]
        _replace(out_assignments, lambda path: write_assignments(path, assignments))
        _replace(out_metrics, lambda path: _write_json(path, summary))
        return assignments

    def _name(self, faces, X, clusters, tags):
        """(person per face, what naming did) with facecluster.naming.persons; the state folder is
        rewritten. tags: {row: name} of the faces the user tagged."""
        settings = self.settings
        corrections, problem = read_corrections(self.corrections)
        known_people = None
        if self.known is not None:
            known_people, folders = KnownPeople.read(self.known)
        persons, new_state, report = name_people(
            faces,
            X,
            clusters,
            threshold=settings.get("naming_threshold"),
            pairs=settings["naming_pairs"],
            known=known_people,
            previous=NamingState.read(self.state) if self.state is not None else None,
            corrections=corrections,
            min_photos=settings["min_photos"],
            tags=tags,
        )
        if problem:
            report["corrections"].insert(0, {"correction": "(the whole file)", "honoured": False, "reason": problem})
        if known_people is not None:
            report["known_people"] = known_people.people
            # A sub-folder whose photos show no face (or are no photos): see the known dataset's ledger.
            report["known_without_reference"] = sorted(set(folders) - set(known_people.people))
        if self.state is not None:
            new_state.write(self.state)
        return persons, report


# The problems with tags that metrics.json and the report list (the experiment's tags.tsv has all).
LISTED_TAG_PROBLEMS = 20


def _tags_summary(face_tags, naming_tags, read):
    """metrics.json's naming.tags: whether tags were read, how many names, used, disputed, and the
    disputes and first problems, from facecluster.naming.tags's FaceTags and name_people's report."""
    naming_tags = naming_tags or {"disputes": [], "named": {}}
    disputes = face_tags.disputes + naming_tags["disputes"]
    problems = [
        f"{row['photo']} ({row['source']}): {row['status']}"
        for row in face_tags.rows
        if row["status"].startswith(("not read", "not a name"))
    ]
    return {
        "read_tags": read is not None,
        **face_tags.counts(),
        "disputed": len(disputes),
        "disputes": disputes,
        "named": naming_tags["named"],
        "problem_list": problems[:LISTED_TAG_PROBLEMS],
    }


def _replace(path, write):
    """Write a file through `write(temporary path)` next to it, then rename it over `path`: a reader
    (or a run killed meanwhile) finds the old file or the new one whole."""
    temporary = Path(path).with_name(f".{Path(path).name}.tmp")
    write(temporary)
    os.replace(temporary, path)


def _write_json(path, summary):
    Path(path).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")


def _rounded(scores):
    return {key: round(value, DIGITS) if isinstance(value, float) else value for key, value in scores.items()}


def _write_score_table(path, per_k):
    columns = sorted({key for scores in per_k.values() for key in scores})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = tsv_writer(handle)
        writer.writerow(["k", *columns])
        for k, scores in sorted(per_k.items(), key=lambda item: int(item[0])):
            writer.writerow([k, *("" if scores.get(c) is None else scores[c] for c in columns)])


def plot_experiment(name, assignments_path, metrics_path, coords_path, out):
    """Draw the experiment's five figures; `out` maps figure name to PNG path. They show the faces
    clustered, not those set aside."""
    faces = read_assignments(assignments_path)
    clustered = [i for i, face in enumerate(faces) if not face.set_aside]
    faces = [faces[i] for i in clustered]
    summary = json.loads(Path(metrics_path).read_text())
    coords = np.load(coords_path, allow_pickle=False)[clustered]
    # Every figure shows a person by the name the people folders and tables use (None: others).
    persons = [None if face.person == OTHERS else face.person for face in faces]
    labels = [face.label for face in faces]
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
    _metrics_vs_k(out["metrics_vs_k"], name, summary)
    _confusion(out["confusion"], name, labels if has_labels else None, persons)
    first_chips, sizes = _chips_by_person(faces, persons)
    n_persons = len(sizes) - (None in sizes)
    shown = "per person" if n_persons <= SHEET_PERSONS else f"of {SHEET_PERSONS} persons of {n_persons} (most first)"
    plots.contact_sheet(out["contact_sheet"], first_chips, sizes=sizes, title=f"{name}: faces {shown}, K={chosen}")


def _metrics_vs_k(path, name, summary):
    """Scores against the K swept; when the clusterer found K itself, a figure that says so with its scores."""
    chosen = summary["chosen_k"]
    per_k = {int(k): v for k, v in summary["per_k"].items()}
    if k_found(summary):
        plots.k_found(path, chosen, per_k[chosen], title=f"{name}: K = {chosen} found by the clusterer")
        return
    how = f"K chosen by {summary['choose_k_by']}" if len(per_k) > 1 else "the one K given"
    plots.metrics_vs_k(path, per_k, chosen_k=chosen, title=f"{name}: scores against K ({how})")


def _confusion(path, name, labels, persons):
    if labels is None:
        # Not shown by the report (nothing to compare with); a file all the same, the rule's output.
        plots.message(path, title=f"{name}: no confusion matrix", message="the dataset has no labels")
        return
    names = {p: code for code, p in enumerate(sorted({p for p in persons if p is not None}))}
    codes = np.array([UNKNOWN if p is None else names[p] for p in persons], np.int64)
    matrix, row_names, col_codes = matched_confusion(labels, codes)
    by_code = list(names)
    plots.confusion_matrix(
        path,
        matrix,
        row_names,
        [UNKNOWN if c == UNKNOWN else by_code[c] for c in col_codes],
        title=f"{name}: true people x people found, matched pairs on the diagonal",
    )


# Persons on the experiment's contact sheet (a row each, most faces first): every person has a
# sheet of their own in the people folders.
SHEET_PERSONS = 40


def _chips_by_person(faces, persons, per_person=12):
    """({person: their first chips}, {person: faces}): the SHEET_PERSONS persons with most faces,
    then others (None)."""
    chips = LazyChips(faces)
    rows = defaultdict(list)
    for i, person in enumerate(persons):
        rows[person].append(i)
    order = sorted((p for p in rows if p is not None), key=lambda p: (-len(rows[p]), p))[:SHEET_PERSONS]
    order += [None] if None in rows else []
    return {p: [chips[i] for i in rows[p][:per_person]] for p in order}, {p: len(rows[p]) for p in rows}
