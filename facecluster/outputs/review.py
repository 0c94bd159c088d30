"""Review pages: an experiment's people in a browser, and the corrections made there.

review/
  index.html, review.css, review.js   the pages (facecluster/outputs/review_static/): opened from disk,
                                      no server, nothing fetched from the network
  data.js                             this run's people, faces and checks (a script, as a page
                                      opened from disk may not read a JSON file)
  faces/<key>.jpg                     a small thumbnail per face (key: thumbnail_key, a digest of its
                                      chips; data.js gives each face's). The folder is kept between
                                      runs: a run writes the thumbnails of new faces only, and
                                      removes those of faces gone

Opened from disk, the pages gather renames, merges, faces moved out, people hidden and flagged
faces confirmed into a corrections file (facecluster.naming.corrections's format) that the browser
saves; the next run applies it. Served by the review app (facecluster.workflow.review_app), each
edit is sent at once, applied, and data.js rewritten (write_review_data; the thumbnails stay).

"Check these first" lists, most doubtful first:
  near faces     a face whose root-mean-square distance to its own person's other faces is at
                 least NEAR_RATIO of that to the nearest other person's faces;
  face tags      the names read from the photos and sidecars that disagree: one name on clusters
                 that look like different people, two names on one cluster or one face;
  one person at  pairs of persons likely one person at other ages (a child the sorting split over
  other ages     the years): the faces of one's latest photos and of the other's earliest weighed by
                 the years between them (facecluster.clustering.cross_age.merge_suggestions), where
                 the experiment sorts by dates; a pair the corrections' `apart` lists is not;
  split persons  a person whose faces, cut in two by average linkage, make two groups of at
                 least MIN_GROUP faces lying farther apart on average than SPLIT_NEAR_THRESHOLD
                 times the embedder's calibrated distance, and SPLIT_GAP times farther than
                 within the groups.
On 5,000 lfw-dev faces (bench/review.py, bench/results.md) 120 of the 200 near faces listed
were wrong (11 % of all faces were), and the split list held 11 of the 14 persons mixing two
people in 32 listed.
"""

import functools
import hashlib
import json
import math
import os
import re
import shutil
from collections import defaultdict
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from facecluster.clustering.cross_age import merge_suggestions
from facecluster.naming.corrections import read_corrections
from facecluster.naming.names import NAME_RULES
from facecluster.naming.persons import NO_PERSON
from facecluster.outputs.assignments import read_assignments, read_chip
from facecluster.outputs.processes import in_processes
from facecluster.photos.dates import read_dates, years_of
from facecluster.photos.embedders.fitted import AgeRule

STATIC_FILES = ("index.html", "review.css", "review.js")
# The run's people, faces and checks, beside them (a script: a page opened from disk may not read JSON).
DATA_FILE = "data.js"
THUMB_PX = 80
THUMB_QUALITY = 82
NEAR_RATIO = 0.9
NEAR_LISTED = 200
MIN_GROUP = 2
SPLIT_GAP = 1.1
# Faces shown of each of two persons suggested as one at other ages.
COMPARED = 3
SPLIT_NEAR_THRESHOLD = 0.9
# A person's split is computed on at most this many of their faces (average linkage is quadratic).
SPLIT_SAMPLE = 400
ROWS_PER_BLOCK = 2048


def static_folder():
    """The pages' own files (STATIC_FILES) as this version of the package has them."""
    return Path(str(resources.files("facecluster.outputs") / "review_static"))


def write_review(
    assignments_path,
    embeddings_path,
    metrics_path,
    out_dir,
    *,
    experiment,
    threshold=None,
    corrections=None,
    dates=None,
    workers=1,
):
    """Write the review pages of an experiment; returns the data the pages show.

    metrics_path: its metrics.json (the corrections the run could not honour are shown);
    threshold: the embedder's calibrated distance (None: the split check uses the gap alone);
    corrections: the experiment's corrections file (its path, existing or not), or None;
    dates: the dataset's dates.tsv (facecluster.photos.dates), or None: the faces shown undated;
    workers: processes that write the thumbnails where there are many (facecluster.outputs.processes).
    """
    out_dir = Path(out_dir)
    (out_dir / "faces").mkdir(parents=True, exist_ok=True)
    for name in STATIC_FILES:
        shutil.copyfile(static_folder() / name, out_dir / name)
    faces, data = write_review_data(
        assignments_path,
        embeddings_path,
        metrics_path,
        out_dir,
        experiment=experiment,
        threshold=threshold,
        corrections=corrections,
        dates=dates,
    )
    refresh_thumbnails(faces, [int(position) for position in data["faces"]], out_dir / "faces", workers=workers)
    return data


def write_review_data(
    assignments_path,
    embeddings_path,
    metrics_path,
    out_dir,
    *,
    experiment,
    threshold=None,
    corrections=None,
    kept=None,
    rows=None,
    X=None,
    dates=None,
):
    """(assignments' rows, data): the pages' data.js rewritten (atomically) from the experiment's
    files as they are now; the thumbnails stay (a face keeps its row when it changes person).
    kept: review_data's, kept between calls by the review app; rows and X: the assignments' rows
    and their embeddings when the caller holds them (the files are not read then); dates: the
    dataset's dates.tsv (a path; None, or a file not made yet: undated)."""
    faces = read_assignments(assignments_path) if rows is None else rows
    if X is None:
        embeddings = np.load(embeddings_path, mmap_mode="r", allow_pickle=False)
        X = embeddings[[face.row for face in faces]] if faces else np.zeros((0, 1))
    X = np.asarray(X, np.float64)
    dated = read_dates(dates) if dates is not None and Path(dates).is_file() else {}
    metrics = json.loads(Path(metrics_path).read_text())
    data = review_data(
        faces,
        X,
        experiment=experiment,
        threshold=threshold,
        corrections=corrections,
        kept=kept,
        dates=dated,
        ages=age_rule(metrics.get("recipe", {})),
    )
    naming = metrics.get("naming", {})
    # A problem with the whole file is corrections_problem's (a file not written yet is none).
    data["not_honoured"] = [
        c for c in naming.get("corrections", []) if not c["honoured"] and c["correction"] != "(the whole file)"
    ]
    # The face tags that disagree with each other or with the clustering (facecluster.naming.tags).
    index = {person["name"]: i for i, person in enumerate(data["persons"])}
    data["tags"] = [
        {"text": d["text"], "persons": [index[n] for n in d["names"] if n in index]}
        for d in naming.get("tags", {}).get("disputes", [])
    ]
    data["run"] = hashlib.sha256(Path(assignments_path).read_bytes()).hexdigest()[:16]
    data["version"] = review_version(assignments_path, corrections)
    script = "window.REVIEW_DATA = " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + ";\n"
    write_atomically(Path(out_dir) / DATA_FILE, script.encode("utf-8"))
    return faces, data


def review_version(assignments_path, corrections):
    """What the pages' data was made from, as a short digest: the assignments and the corrections
    file as they are. An edit sent from pages showing another version is refused (two tabs)."""
    digest = hashlib.sha256(Path(assignments_path).read_bytes())
    if corrections is not None and Path(corrections).is_file():
        digest.update(b"\0" + Path(corrections).read_bytes())
    return digest.hexdigest()[:16]


def write_atomically(path, content):
    """Write bytes to path through a file beside it renamed over it: a reader sees the old file or
    the new one, never half of one."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def review_data(faces, X, *, experiment, threshold=None, corrections=None, kept=None, dates=None, ages=None):
    """What the pages show: persons (most faces first, the others last), faces, checks and the
    corrections the file holds now. faces: assignments.tsv's rows; X: their embeddings; dates:
    {photo id: DateRow} (facecluster.photos.dates): a person's faces by date, the undated last;
    ages: the AgeRule the experiment sorted by (None: it does not use dates), for the persons
    suggested as one at other ages.
    kept: a dict of what an earlier call computed, read and left holding this call's (_reuse): a
    person whose faces an edit left as they were is not cut again; the faces near another person
    (0.9 s at 20,000 photos) and the merge suggestions (0.4 s) are not found again while every
    person's faces stay as they were (a rename, a confirmation).

    A face the corrections confirm, or place in a person (move_out with `to`), is not listed as
    near another person: the user has said where it belongs."""
    existing, problem = read_corrections(corrections)
    dates = dates or {}
    members, others, set_aside, hidden = defaultdict(list), [], [], set()
    for position, face in enumerate(faces):
        if face.hidden:
            hidden.add(face.person)
        elif face.person in NO_PERSON:
            (set_aside if face.set_aside else others).append(position)
        else:
            members[face.person].append(position)
    for positions in [*members.values(), others, set_aside]:
        positions.sort(
            key=lambda p: (_date_order(dates.get(faces[p].photo_id)), _natural(faces[p].path), faces[p].face_index)
        )
    names = sorted(members, key=lambda p: (-len(members[p]), p))
    persons = [_person(name, "person", members[name], faces) for name in names]
    persons.append(_person("others", "others", others, faces))
    if set_aside:
        persons.append(_person("set aside", "set_aside", set_aside, faces))
    index_of = {person["name"]: i for i, person in enumerate(persons)}
    known, used, splits = {} if kept is None else kept, {}, {}
    for i, name in enumerate(names):
        rows = (threshold, *(faces[p].row for p in members[name]))
        split = _reuse(known, used, rows, lambda positions=members[name]: person_split(X[positions], threshold))
        if split is not None:
            persons[i]["faces"] = [members[name][j] for j in split["order"]]
            persons[i]["split_at"] = split["split_at"]
            splits[i] = split
    groups = [members[name] for name in names]
    group_rows = tuple(tuple(faces[p].row for p in group) for group in groups)
    near_all = _reuse(known, used, ("near", *group_rows), lambda: near_faces(X, groups))
    suggested = _other_ages(faces, X, groups, dates, ages, existing, (known, used, group_rows))
    settled = {
        (entry["photo"], int(entry["face"]))
        for entry in [*existing.get("confirm", []), *(m for m in existing["move_out"] if m.get("to"))]
    }
    near = [
        item
        for item in near_all
        if (faces[members[names[item[0]]][item[1]]].path, faces[members[names[item[0]]][item[1]]].face_index)
        not in settled
    ]
    known.clear()
    known.update(used)
    shown = sorted(p for person in persons for p in person["faces"])
    return {
        "experiment": experiment,
        "corrections_path": str(Path(corrections).resolve()) if corrections else None,
        # As the file holds them; rename as {old: new}.
        "corrections": {kind: dict(entries) if kind == "rename" else entries for kind, entries in existing.items()},
        "corrections_problem": problem if corrections and Path(corrections).exists() else None,
        "name_rules": NAME_RULES,
        # The folder holding every photo: the pages show a photo's path inside it.
        "folder": os.path.commonpath(sorted({os.path.dirname(face.path) for face in faces})) if faces else "",
        "threshold": threshold,
        "thumb_px": THUMB_PX,
        "persons": persons,
        "hidden": sorted(hidden),
        # Per face shown: [photo path, face index, index into persons, set-aside reason, person,
        # thumbnail (faces/<it>.jpg), its photo's date ("" undated), where the date was read].
        "faces": {
            str(p): [
                faces[p].path,
                faces[p].face_index,
                index_of[_bucket(faces[p])],
                faces[p].set_aside,
                faces[p].person,
                thumbnail_key(faces[p]),
                *_date_shown(dates.get(faces[p].photo_id)),
            ]
            for p in shown
        },
        "near": [
            {"face": members[names[own]][j], "person": own, "other": other, "ratio": round(ratio, 3)}
            for own, j, other, ratio in near
        ],
        "split": [
            {"person": i, "between": round(s["between"], 3), "within": round(s["within"], 3)}
            for i, s in sorted(splits.items(), key=lambda item: -split_gap(item[1]))
        ],
        # Persons likely one person at other ages, most likely first: the earlier of the two first,
        # the years of each one's photos, and the faces to compare (the earlier's last, the later's first).
        "other_ages": suggested,
    }


def age_rule(recipe):
    """The AgeRule an experiment's recipe (metrics.json) sorted by, or None: it does not use dates."""
    ages = (recipe.get("cluster", {}).get("cut_rule") or {}).get("ages")
    return AgeRule.from_settings(ages) if ages and recipe.get("use_dates") else None


def _other_ages(faces, X, groups, dates, ages, corrections, kept):
    """[{person, other, evidence, years: [[first, last] of each], faces: [positions of each]}] of
    merge_suggestions (person the earlier; COMPARED faces each), less the pairs the corrections
    keep apart (by the names the renames give now). kept: (review_data's known and used results,
    the groups' rows): the same groups with the same dates are not compared again (_reuse)."""
    if ages is None or not dates or len(groups) < 2:
        return []
    rows = [dates.get(face.photo_id) for face in faces]
    years = np.array([years_of(row) if row is not None and row.date else np.nan for row in rows])
    renamed = dict(corrections["rename"])
    apart = {frozenset(renamed.get(name, name) for name in pair) for pair in corrections.get("apart", [])}
    names = [faces[group[0]].person for group in groups]
    known, used, group_rows = kept
    photo_ids = np.array([face.photo_id for face in faces])
    pairs = _reuse(
        known, used, ("ages", group_rows, years.tobytes()), lambda: merge_suggestions(X, years, groups, photo_ids, ages)
    )
    found = []
    for a, b, evidence in pairs:
        if frozenset((names[a], names[b])) in apart:
            continue
        earlier, later = sorted((a, b), key=lambda i: np.nanmin(years[groups[i]]))
        by_date = {i: sorted((p for p in groups[i] if not np.isnan(years[p])), key=lambda p: years[p]) for i in (a, b)}
        found.append(
            {
                "person": earlier,
                "other": later,
                "evidence": round(evidence, 2),
                "years": [[int(years[by_date[i][0]]), int(years[by_date[i][-1]])] for i in (earlier, later)],
                "faces": [by_date[earlier][-COMPARED:], by_date[later][:COMPARED]],
            }
        )
    return found


def _reuse(known, used, key, compute):
    """known[key], computed before, else compute(); recorded in used either way (review_data keeps
    what one call used for the next)."""
    used[key] = value = known[key] if key in known else compute()
    return value


def _date_order(row):
    """A photo's place by date: its local date and time (the clock's, as the photo gives it; the
    offset, where given, is left out: a trip's photos keep their order), the undated last."""
    if row is None or not row.date:
        return (1, "")
    return (0, re.sub(r"[+-]\d{2}:\d{2}$", "", row.date))


def _date_shown(row):
    """(date, where it was read) of a photo's DateRow, or ("", "")."""
    if row is None or not row.date:
        return "", ""
    return row.date, row.source + (f" in {row.sidecar}" if row.sidecar else "")


@functools.lru_cache(maxsize=1 << 20)
def _natural(path):
    """A path's sort key in natural order: 2.jpg before 10.jpg."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", path))


def _bucket(face):
    """Where the pages show a face: its person; a face set aside, once moved into a person, is theirs."""
    if face.person not in NO_PERSON:
        return face.person
    return "set aside" if face.set_aside else "others"


def _person(name, kind, positions, faces):
    return {
        "name": name,
        "kind": kind,
        "faces": list(positions),
        "photos": len({faces[p].photo_id for p in positions}),
    }


def near_faces(X, groups):
    """[(person, position in the person, nearest other person, ratio)] for the faces almost as near
    another person as their own, the nearest ratio first; at most NEAR_LISTED.

    ratio: the face's root-mean-square distance to its own person's other faces over that to the
    nearest other person's faces. Mean squared distances come from each person's centroid and
    spread (exact, and linear in faces x persons: no faces x faces matrix)."""
    sizes = np.array([len(g) for g in groups])
    if len(groups) < 2:
        return []
    centroids = np.stack([X[g].mean(axis=0) for g in groups])
    spreads = np.array([((X[g] - centroids[i]) ** 2).sum(axis=1).mean() for i, g in enumerate(groups)])
    centroid_squares = (centroids**2).sum(axis=1)
    rows = np.concatenate([np.asarray(g, np.int64) for g in groups])
    owners = np.repeat(np.arange(len(groups)), sizes)
    positions = np.concatenate([np.arange(n) for n in sizes])
    found = []
    for start in range(0, len(rows), ROWS_PER_BLOCK):
        block = slice(start, start + ROWS_PER_BLOCK)
        x, own = X[rows[block]], owners[block]
        # |x - c|^2 by a matrix product: a block x persons array, not block x persons x dimensions
        # (2,048 faces, 209 persons, 256-D: 880 MB, the job's peak on a 5,000-photo library).
        to_centroids = np.maximum((x**2).sum(axis=1)[:, None] + centroid_squares[None, :] - 2 * x @ centroids.T, 0)
        squared = to_centroids + spreads[None, :]
        n_own = sizes[own]
        alone = n_own < 2
        # The face itself is among its person's faces at distance 0: leave it out of the mean.
        own_squared = squared[np.arange(len(x)), own] * n_own / np.maximum(n_own - 1, 1)
        squared[np.arange(len(x)), own] = np.inf
        other = squared.argmin(axis=1)
        ratio = np.sqrt(own_squared / np.maximum(squared[np.arange(len(x)), other], 1e-12))
        for i in np.flatnonzero((ratio >= NEAR_RATIO) & ~alone):
            found.append((int(own[i]), int(positions[block][i]), int(other[i]), float(ratio[i])))
    found.sort(key=lambda item: -item[3])
    return found[:NEAR_LISTED]


def person_split(X, threshold, seed=0):
    """The person's faces cut in two by average linkage, when the two groups lie apart (see the
    module's docstring): {"order": positions, first group first, "split_at": the first group's
    size, "between", "within"}; else None."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    if len(X) < 2 * MIN_GROUP:
        return None
    sample = np.arange(len(X))
    if len(X) > SPLIT_SAMPLE:
        sample = np.sort(np.random.default_rng(seed).choice(len(X), SPLIT_SAMPLE, replace=False))
    distances = pdist(X[sample])
    two = fcluster(linkage(distances, "average"), 2, criterion="maxclust")
    groups = [sample[two == g] for g in (1, 2)]
    if min(len(g) for g in groups) < MIN_GROUP:
        return None
    between = float(np.linalg.norm(X[groups[0]][:, None] - X[groups[1]][None], axis=2).mean())
    within = max(float(pdist(X[g]).mean()) for g in groups)
    # Two groups of identical faces (copies of a photo) are within 0 of each other: apart when between is not 0.
    if between <= SPLIT_GAP * within or (threshold is not None and between < SPLIT_NEAR_THRESHOLD * threshold):
        return None
    # Every face (the sample's too) goes with the group whose centroid is nearer.
    centroids = np.stack([X[g].mean(axis=0) for g in groups])
    side = np.linalg.norm(X[:, None] - centroids[None], axis=2).argmin(axis=1)
    order = [int(i) for i in np.argsort(side, kind="stable")]
    return {"order": order, "split_at": int((side == 0).sum()), "between": between, "within": within}


def split_gap(split):
    """How many times farther apart a person_split's two groups lie than faces within them: infinite
    for groups of identical faces (copies of one photo)."""
    return split["between"] / split["within"] if split["within"] else math.inf


def thumbnail_key(face):
    """A face's thumbnail's name in faces/ (without .jpg): a digest of its chips file and index, so a
    face keeps its thumbnail when rows move (new photos) and gets another when its chip changes."""
    return hashlib.sha256(f"{face.chips}\0{face.face_index}".encode()).hexdigest()[:16]


def refresh_thumbnails(faces, positions, folder, existing=None, workers=1):
    """The thumbnails of the faces shown (positions in faces) that faces/ lacks, written (by
    `workers` processes where there are many); those of no face shown removed. existing: the names
    faces/ holds (listed when None); returns them now."""
    existing = set(os.listdir(folder)) if existing is None else existing
    wanted = {f"{thumbnail_key(faces[p])}.jpg": p for p in positions}
    jobs = [
        (faces[p].chips, faces[p].face_index, str(Path(folder) / name))
        for name, p in wanted.items()
        if name not in existing
    ]
    in_processes(_write_thumbnail_files, jobs, workers)
    for name in existing - set(wanted):
        (Path(folder) / name).unlink(missing_ok=True)
    return set(wanted)


def write_thumbnails(faces, positions, folder):
    """A THUMB_PX JPEG per face (positions in faces), made from its chip, named thumbnail_key."""
    _write_thumbnail_files(
        [(faces[p].chips, faces[p].face_index, str(Path(folder) / f"{thumbnail_key(faces[p])}.jpg")) for p in positions]
    )


def _write_thumbnail_files(jobs):
    """jobs: (chips file, face index, path). Bicubic: 0.19 ms a chip where Lanczos took 0.41 (a
    10,000-photo library's 25,000 faces: 10 of the job's 21 s), no difference to see at 80 px."""
    for chips, index, path in jobs:
        chip = Image.fromarray(read_chip(chips, index))
        chip.resize((THUMB_PX, THUMB_PX), Image.Resampling.BICUBIC).save(path, quality=THUMB_QUALITY)
