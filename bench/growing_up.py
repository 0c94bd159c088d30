"""Growing up: one person from childhood to adulthood, with and without capture dates (issue 34).

    .venv/bin/python bench/growing_up.py make     # the dated folders, in /tmp/fc-growing-up
    .venv/bin/python bench/growing_up.py run      # the workflow on each, then its figures
    .venv/bin/python bench/growing_up.py run --bias -3 -2 -1 0   # and the tune people sorted again
    .venv/bin/python bench/growing_up.py fit      # the age rule's distances, from the tune people
    .venv/bin/python bench/growing_up.py adults --library LIB   # adults with dates: no loss
    .venv/bin/python bench/growing_up.py suggestions --library LIB [--run RUN]   # on a growing-up library
    .venv/bin/python bench/growing_up.py models   # intel_reid, dlib and both: one child or two, by gap

How the folders are made (seeded, the same seed gives the same files):

- ../shared/datasets/fgnet-dev: 34 people photographed from early childhood on, 9-16 scanned
  photos each; the file name gives the person and the age (`002A07.JPG`: person 2 at 7).
- The people are split by person: sorted by name, shuffled with random.Random(34); the first 17
  are `tune` (the cross-age constants were chosen on them), the other 17 `held-out` (reported).
  bench/library.py's fgnet family uses the same split.
- Birth dates are drawn as a family's are: every person born within BIRTH_WINDOW_YEARS of
  BIRTHS_FROM, so everyone's photos share the same years and a date alone tells nobody apart.
- Each photo's capture date is its person's birth date plus the age in its name, plus a random
  day within that year of age, at a random time of day; written into the copy's EXIF
  (DateTimeOriginal and OffsetTimeOriginal, +01:00) by exiftool, which rewrites no pixel.
- Each split is made twice: `<split>-dated` and `<split>-undated` (the same photos, no date), as
  person folders (labels: folders).

`run` runs the workflow (config.yaml's defaults, K not given) on each folder in a fresh
`<work>/run-<folder>` and prints, over each photo's faces sorted: BCubed F1 (precision, recall)
against the folder names, a face in `others` counting alone; persons, and the real people they
are most of; the persons most mixed (the share of their faces not of their main person). With
`--bias`, the dated folders are sorted again (facecluster.workflow.experiment.cluster_experiment,
no photo processed again) with each bias of the age rule in place of the fitted one.

`adults` checks that dates cost adults nothing: a bench/library.py library (its run in
LIB-run) whose photos are given dates drawn uniformly over 5 and over 20 years (the family's
photos of adults, LFW's, carry none), sorted again with them and without them; it prints the
library's figures (family BCubed, family folders, bystanders with family) both ways.

`suggestions` prints how the merge suggestions fared on a `bench/library.py --family fgnet`
library's run (LIB-run, or `--run`): the family's people still split, each piece's first
suggestion, and every person's first suggestion (strangers' included), scored against the
library's truth (a person's real person: most of its faces').

`models` runs the workflow with dlib (`default_model=dlib`) on the dated folders, beside `run`'s
intel_reid runs, and prints how well each model's distance tells one person from two (ROC AUC
over every pair of faces, centred on the folder's mean as the age rule has them), by the years
between the two photos; "both": the two distances, each over its spread, summed (as a fusion of
the two would weigh them).

`fit` prints the age rule's distributions (facecluster.photos.embedders.fitted.AgeRule) measured
on the tune people's dated run: each pair's distance, faces centred on the folder's mean, one
person and two, by the years between the photos.
"""

import argparse
import collections
import datetime
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from facecluster.clustering.cross_age import centred  # noqa: E402
from facecluster.clustering.dendrogram import condensed_distances  # noqa: E402
from facecluster.outputs.assignments import read_assignments  # noqa: E402
from facecluster.photos.dates import capture_years  # noqa: E402
from facecluster.photos.faces import read_faces  # noqa: E402
from facecluster.tables import OTHERS  # noqa: E402
from facecluster.workflow.experiment import cluster_experiment  # noqa: E402

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
SPLIT_SEED = 34
BIRTHS_FROM = datetime.date(1950, 1, 1)
BIRTH_WINDOW_YEARS = 5
OFFSET = "+01:00"
AGE_IN_NAME = re.compile(r"^\d{3}A(\d{2})[a-z]?\.JPG$", re.IGNORECASE)
WORK = Path("/tmp/fc-growing-up")


def split_people(fgnet_dir):
    """{"tune": [person folders], "held-out": [...]}: fgnet-dev's people, split by person."""
    people = sorted(path.name for path in Path(fgnet_dir).iterdir() if path.is_dir())
    random.Random(SPLIT_SEED).shuffle(people)
    half = len(people) // 2
    return {"tune": sorted(people[:half]), "held-out": sorted(people[half:])}


def age_of(photo_name):
    """The age in years an fgnet-dev file name gives (`002A07.JPG`: 7)."""
    found = AGE_IN_NAME.match(photo_name)
    if not found:
        raise ValueError(f"not an FG-NET file name: {photo_name}")
    return int(found.group(1))


def birth_dates(people, seed):
    """{person: date}: all born within BIRTH_WINDOW_YEARS of BIRTHS_FROM."""
    rng = random.Random(f"births-{seed}")
    days = BIRTH_WINDOW_YEARS * 365
    return {person: BIRTHS_FROM + datetime.timedelta(days=rng.randrange(days)) for person in sorted(people)}


def capture_date(birth, age, rng):
    """birth + age years + a random day within that year of age, at a random second of the day."""
    year_start = _add_years(birth, age)
    day = year_start + datetime.timedelta(days=rng.randrange((_add_years(birth, age + 1) - year_start).days))
    return datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(seconds=rng.randrange(86_400))


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # born on 29 February
        return day.replace(year=day.year + years, day=28)


def make_folders(fgnet_dir, work, seed):
    """The four folders (tune/held-out, dated/undated) under work; {photo path in a dated folder:
    its capture date}. Reused when made before with the same seed (a stamp file)."""
    stamp = work / f"made-seed-{seed}"
    if stamp.exists():
        return
    if work.exists():
        shutil.rmtree(work)
    births = birth_dates([path.name for path in Path(fgnet_dir).iterdir() if path.is_dir()], seed)
    rng = random.Random(f"dates-{seed}")
    commands = []
    for split, people in split_people(fgnet_dir).items():
        for person in people:
            for photo in sorted((Path(fgnet_dir) / person).iterdir()):
                when = capture_date(births[person], age_of(photo.name), rng)
                for dated in (True, False):
                    target = work / f"{split}-{'dated' if dated else 'undated'}" / person / photo.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(photo, target)
                    if dated:
                        commands += [
                            f"-DateTimeOriginal={when:%Y:%m:%d %H:%M:%S}",
                            f"-OffsetTimeOriginal={OFFSET}",
                            "-overwrite_original",
                            str(target),
                            "-execute",
                        ]
    argfile = work / "exiftool.args"
    argfile.write_text("\n".join(commands) + "\n")
    subprocess.run(["exiftool", "-q", "-q", "-@", str(argfile)], check=True)
    (work / "births.tsv").write_text(
        "person\tbirth\n" + "".join(f"{person}\t{day.isoformat()}\n" for person, day in births.items())
    )
    stamp.write_text(hashlib.sha256(argfile.read_bytes()).hexdigest() + "\n")


FOLDERS = ("tune-dated", "tune-undated", "held-out-dated", "held-out-undated")
# The age rule's gaps (years between two photos): the bins its distributions are measured in.
GAP_BINS = (0, 1, 2, 3, 5, 8, 12, 20, 70)


def run_folder(work, folder, configfile, cores, model=None):
    """The workflow on one folder (with `model` instead of the default), in a fresh
    work/run-<folder>[-<model>]; its run folder."""
    import library

    run = work / f"run-{folder}{'-' + model if model else ''}"
    config = [f"default_model={model}"] if model else []
    library.run_workflow(f"{{path: {work / folder}, labels: folders}}", run, cores, configfile, *config)
    return run


def figures(assignments):
    """The figures of a run's (or a sorting's) assignments: see the module's docstring."""
    import others

    found = others.labelled_figures(assignments)
    people = collections.defaultdict(collections.Counter)
    for face in assignments:
        if face.person != OTHERS and face.label and not face.set_aside:
            people[face.person][face.label] += 1
    shares = ((1 - c.most_common(1)[0][1] / sum(c.values()), sum(c.values())) for c in people.values())
    mixed = sorted(shares, reverse=True)
    found["real_people"] = len({c.most_common(1)[0][0] for c in people.values()})
    found["most_mixed"] = ", ".join(f"{share:.0%} of {faces}" for share, faces in mixed[:3] if share > 0) or "none"
    return found


def suggestion_figures(run, labels=None, counted=None):
    """How the review pages' suggestions of one person at other ages fared (a run's data.js and
    assignments): {"split": pieces of real people still split, "split_right": those whose first
    suggestion is another piece of their person, "firsts": persons with a suggestion,
    "firsts_right": those whose first is right, "places": the place of each split piece's right
    partner among all the persons weighed with it, most likely first (right_partner_places)}. A
    person's real person: most of its faces'.
    labels: {person: Counter of its faces' real people} (default: the folder labels of its faces);
    counted: the real people whose pieces are counted (default: all)."""
    experiment = run / "results" / "experiments" / "photos"
    faces = read_assignments(experiment / "assignments.tsv")
    script = (experiment / "review" / "data.js").read_text(encoding="utf-8")
    data = json.loads(script.removeprefix("window.REVIEW_DATA = ").rstrip().removesuffix(";"))
    if labels is None:
        labels = collections.defaultdict(collections.Counter)
        for face in faces:
            labels[face.person][face.label] += 1
    real = {
        i: labels[p["name"]].most_common(1)[0][0]
        for i, p in enumerate(data["persons"])
        if p["kind"] == "person" and labels[p["name"]]
    }
    first = {}
    for pair in data["other_ages"]:  # most likely first
        if pair["person"] in real and pair["other"] in real:
            first.setdefault(pair["person"], pair["other"])
            first.setdefault(pair["other"], pair["person"])
    pieces = collections.Counter(real.values())
    split = [i for i in real if pieces[real[i]] > 1 and (counted is None or real[i] in counted)]
    return {
        "split": len(split),
        "split_right": sum(i in first and real[first[i]] == real[i] for i in split),
        "firsts": len(first),
        "firsts_right": sum(real[a] is not None and real[b] == real[a] for a, b in first.items()),
        "places": right_partner_places(run, faces, {data["persons"][i]["name"]: real[i] for i in split}),
    }


def right_partner_places(run, faces, split):
    """Sorted places (1: most likely) of each split piece's right partners among every person weighed
    with it as the suggestions weigh persons, with no floor (cross_age.weighed_persons). faces: the
    run's assignments; split: {person: real person} of the pieces."""
    from facecluster.clustering.cross_age import weighed_persons
    from facecluster.outputs.review import age_rule

    results = run / "results"
    experiment = results / "experiments" / "photos"
    rule = age_rule(json.loads((experiment / "metrics.json").read_text()).get("recipe", {}))
    dated = capture_years(results / "photos" / "dates.tsv")
    years = np.array([dated.get(face.photo_id, np.nan) for face in faces])
    X = np.load(results / "photos" / "intel_reid" / "embeddings.npy")[[face.row for face in faces]]
    groups = collections.defaultdict(list)
    for position, face in enumerate(faces):
        if face.person != OTHERS and not face.set_aside and not face.hidden:
            groups[face.person].append(position)
    names = list(groups)
    photo_ids = [face.photo_id for face in faces]
    weighed = weighed_persons(X, years, [groups[name] for name in names], photo_ids, rule)
    places = []
    for piece in (names.index(name) for name in split):
        ranked = sorted((e, b if a == piece else a) for (a, b), e in weighed.items() if piece in (a, b))[::-1]
        places += [
            place for place, (_, other) in enumerate(ranked, 1) if split.get(names[other]) == split[names[piece]]
        ]
    return sorted(places)


def library_suggestion_figures(library_folder, run):
    """suggestion_figures of a growing-up library's run, against its truth: the family's pieces."""
    import library

    truth = library.read_tsv(library_folder / "truth.tsv")
    labels = collections.defaultdict(collections.Counter)
    for pasted, person, _, _ in library.found_faces(truth, library_folder / "photos", run / "results"):
        if person is not None:
            labels[person][pasted["identity"] if pasted else None] += 1
    return suggestion_figures(run, labels, counted={face["identity"] for face in truth if face["role"] == "family"})


def figures_line(name, found):
    f = found
    return (
        f"| {name} | {f['bcubed_f1']:.3f} ({f['bcubed_precision']:.3f}, {f['bcubed_recall']:.3f}) | "
        f"{f['persons']} for {f['real_people']} | {f['often_in_others']} | {f['most_mixed']} |"
    )


def sorted_again(run, folder_path, configfile, bias):
    """The run's faces sorted again by cluster_experiment with the age rule's bias replaced."""
    import others

    settings = others.job_settings(configfile, folder_path, "folders", {})
    settings["cluster"]["cut_rule"]["ages"]["bias"] = bias
    faces = run / "results" / "photos" / "intel_reid" / "faces.tsv"
    os.chdir(run)  # faces.tsv's chip paths start in the run's folder
    with tempfile.TemporaryDirectory() as out:
        paths = [Path(out) / name for name in ("assignments.tsv", "metrics.json", "coords.npy", "metrics.tsv")]
        cluster_experiment(
            faces.with_name("embeddings.npy"), faces, settings, *paths, dates=run / "results" / "photos" / "dates.tsv"
        )
        return read_assignments(paths[0])


# Years adults' photos are dated over: a phone's few years (under the age rule's min_span_years:
# the dates are not used) and a long library's.
ADULT_YEARS = (5, 20)


def adults(library_folder, seed, bias=None):
    """[(how, library.score's figures)] of a library's run sorted again without dates and with random
    ones (one per photo, drawn uniformly over each of ADULT_YEARS years)."""
    import library
    import others

    run = Path(f"{library_folder}-run")
    faces = run / "results" / "photos" / "intel_reid" / "faces.tsv"
    photo_ids = sorted({face.photo_id for face in read_faces(faces)})
    truth = library.read_tsv(library_folder / "truth.tsv")
    settings = others.job_settings(PROJECT_ROOT / "config.yaml", library_folder / "photos", "none", {})
    if bias is not None:
        settings["cluster"]["cut_rule"]["ages"]["bias"] = bias
    os.chdir(run)  # faces.tsv's chip paths start in the run's folder
    found = []
    with tempfile.TemporaryDirectory() as out:
        paths = [Path(out) / name for name in ("assignments.tsv", "metrics.json", "coords.npy", "metrics.tsv")]
        for years in (None, *ADULT_YEARS):
            dates = None if years is None else _random_dates(Path(out) / f"dates-{years}.tsv", photo_ids, years, seed)
            cluster_experiment(faces.with_name("embeddings.npy"), faces, settings, *paths, dates=dates)
            how = "without dates" if years is None else f"dates over {years} years"
            found.append((how, library.score(truth, library_folder / "photos", run / "results", paths[0])))
    return found


def _random_dates(path, photo_ids, years, seed):
    """A dates.tsv giving each photo a date drawn uniformly over `years` years from 2000; its path."""
    rng = np.random.default_rng(seed)
    start = datetime.datetime(2000, 1, 1)
    rows = ["photo_id\trelpath\tdate\tsource\tsidecar\tnote"]
    for photo_id in photo_ids:
        moment = start + datetime.timedelta(days=float(rng.uniform(0, years * 365.25)))
        rows.append(f"{photo_id}\t\t{moment:%Y-%m-%dT%H:%M:%S}\tbench\t\t")
    path.write_text("\n".join(rows) + "\n")
    return path


def fit(run):
    """The age rule's distributions from a dated run's faces: {gaps, same, different, undated_*}."""
    results = run / "results" / "photos"
    faces = read_faces(results / "intel_reid" / "faces.tsv")
    years = capture_years(results / "dates.tsv")
    X = np.load(results / "intel_reid" / "embeddings.npy")
    t = np.array([years[face.photo_id] for face in faces])
    labels = np.array([face.label for face in faces])
    distances = condensed_distances(centred(X))
    rows, columns = np.triu_indices(len(faces), 1)  # SciPy's condensed order
    gaps, same = np.abs(t[rows] - t[columns]), labels[rows] == labels[columns]
    rule = {"gaps": [], "same": [], "different": []}
    for low, high in zip(GAP_BINS[:-1], GAP_BINS[1:]):
        within = (gaps >= low) & (gaps < high)
        rule["gaps"].append(round(float(np.median(gaps[within])), 1))
        for key, pairs in (("same", within & same), ("different", within & ~same)):
            rule[key].append([round(float(distances[pairs].mean()), 3), round(float(distances[pairs].std()), 3)])
    for key, pairs in (("undated_same", same), ("undated_different", ~same)):
        rule[key] = [round(float(distances[pairs].mean()), 3), round(float(distances[pairs].std()), 3)]
    return rule


# Years between two photos, for `models`: the same year, a child a little older, much older, grown.
MODEL_GAPS = ((0, 1), (1, 3), (3, 6), (6, 10), (10, 20), (20, 70), (0, 70))


def run_descriptors(run, model, mirrored=False):
    """{(photo id, face index): (label, descriptor centred)} of a run's faces by `model`; mirrored:
    each face's descriptor averaged with its mirror image's (its aligned chip flipped, embedded
    again), as dlib's `flip: true` does."""
    results = run / "results" / "photos"
    faces = read_faces(results / model / "faces.tsv")
    X = np.load(results / model / "embeddings.npy")[[face.row for face in faces]]
    if mirrored:
        from facecluster.photos.embedders import make_embedder

        embedder = make_embedder({"name": model, "batch_size": 8})
        chips = np.concatenate([np.load(run / face.chips)[face.face_index : face.face_index + 1] for face in faces])
        X = X + embedder.embed(np.ascontiguousarray(chips[:, :, ::-1]))
    return {(face.photo_id, face.face_index): (face.label, x) for face, x in zip(faces, centred(X))}


def separation(descriptors, dates):
    """{(low, high): {name: ROC AUC of one person against two}} over the pairs of faces of each gap
    in MODEL_GAPS (years between the photos, from a dates.tsv), for descriptors ({name:
    run_descriptors}) of one dated folder, and "both": the first two's distances, each over its
    spread, summed. The faces found alike in each (photo and face index) are compared."""
    from sklearn.metrics import roc_auc_score

    keys = sorted(set.intersection(*(set(faces) for faces in descriptors.values())))
    years = capture_years(dates)
    t = np.array([years[photo_id] for photo_id, _ in keys])
    labels = np.array([next(iter(descriptors.values()))[key][0] for key in keys])
    rows, columns = np.triu_indices(len(keys), 1)
    same, gaps = labels[rows] == labels[columns], np.abs(t[rows] - t[columns])
    distances = {}
    for name, faces in descriptors.items():
        X = np.array([faces[key][1] for key in keys])
        distances[name] = np.linalg.norm(X[rows] - X[columns], axis=1)
    table = {}
    for low, high in MODEL_GAPS:
        within = (gaps >= low) & (gaps < high)
        d = {name: dist[within] for name, dist in distances.items()}
        d["both"] = sum(dist / dist.std() for dist in list(d.values())[:2])
        table[low, high] = {name: float(roc_auc_score(same[within], -dist)) for name, dist in d.items()}
        table[low, high]["pairs of one person"] = int(same[within].sum())
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["make", "run", "fit", "adults", "suggestions", "models"])
    parser.add_argument("--library", type=Path, action="append", default=[], help="adults: a bench/library.py library")
    parser.add_argument("--run", type=Path, help="suggestions: the library's run (default: LIBRARY-run)")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--bias", type=float, nargs="*", default=[], help="age rule biases to sort dated folders with")
    args = parser.parse_args()
    fgnet = args.datasets / "fgnet-dev"
    if not fgnet.is_dir():
        sys.exit(f"skipped: {fgnet} is absent (the FG-NET half of ../shared/datasets)")
    if args.step == "suggestions":
        for library_folder in args.library:
            s = library_suggestion_figures(library_folder, args.run or Path(f"{library_folder}-run"))
            print(
                f"{library_folder.name}: first suggestion right for {s['split_right']} of {s['split']} pieces of "
                f"family people still split; {s['firsts_right']} of {s['firsts']} first suggestions right; "
                f"right partners' places among a piece's candidates: {s['places']}"
            )
        return
    if args.step == "adults":
        print("| library | dates | family folders / people | family BCubed F1 (P, R) | bystanders with family |")
        print("|---|---|---|---|---|")
        for library_folder, bias in [(folder, bias) for folder in args.library for bias in args.bias or [None]]:
            for how, f in adults(library_folder.resolve(), args.seed, bias):
                how += "" if bias is None else f", bias {bias}"
                print(
                    f"| {library_folder.name} | {how} | {f['family_folders']} / {f['family_people']} | "
                    f"{f['bcubed_f1']:.4f} ({f['bcubed_precision']:.4f}, {f['bcubed_recall']:.4f}) | "
                    f"{f['bystanders_with_family']} / {f['bystanders_sorted']} |"
                )
        return
    make_folders(fgnet, args.work, args.seed)
    if args.step == "fit":
        run = args.work / "run-tune-dated"
        if not (run / "results").is_dir():
            run_folder(args.work, "tune-dated", args.configfile, args.cores)
        print(fit(run))
    if args.step == "models":
        names = ("intel_reid", "dlib", "intel_reid mirrored", "both")
        for folder in ("tune-dated", "held-out-dated"):
            runs = {"intel_reid": args.work / f"run-{folder}", "dlib": args.work / f"run-{folder}-dlib"}
            for model, run in runs.items():
                if not (run / "results").is_dir():
                    run_folder(args.work, folder, args.configfile, args.cores, None if model == "intel_reid" else model)
            descriptors = {model: run_descriptors(run, model) for model, run in runs.items()}
            descriptors["intel_reid mirrored"] = run_descriptors(runs["intel_reid"], "intel_reid", mirrored=True)
            table = separation(descriptors, runs["intel_reid"] / "results" / "photos" / "dates.tsv")
            print(f"\n{folder}: ROC AUC of one person against two, by the years between the photos\n")
            print(f"| years between | pairs of one person | {' | '.join(names)} |")
            print("|---|---:|" + "---:|" * len(names))
            for (low, high), auc in table.items():
                cells = " | ".join(f"{auc[name]:.3f}" for name in names)
                print(f"| {low}-{high} | {auc['pairs of one person']} | {cells} |")
    if args.step != "run":
        return
    print("| folder | BCubed F1 (P, R) | persons for real people | faces in others | most mixed persons |")
    print("|---|---|---|---|---|")
    for folder in FOLDERS:
        run = run_folder(args.work, folder, args.configfile, args.cores)
        print(figures_line(folder, figures(read_assignments(run / "results/experiments/photos/assignments.tsv"))))
        if folder.endswith("-dated"):
            s = suggestion_figures(run)
            print(
                f"|   suggestions: first right for {s['split_right']} of {s['split']} pieces of people still split; "
                f"{s['firsts_right']} of {s['firsts']} first suggestions right | | | |"
            )
            for bias in args.bias:
                found = figures(sorted_again(run, args.work / folder, args.configfile, bias))
                print(figures_line(f"{folder}, bias {bias}", found))


if __name__ == "__main__":
    main()
