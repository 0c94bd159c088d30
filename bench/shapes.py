"""Clustering recipes over many folder shapes drawn from lfw-dev (issue 17).

Every shape is a folder a user might have, drawn (seeded) from the embeddings
of all lfw-dev photos that results/lfw-dev/MODEL/ holds (a model of
presets/lfw-dev.yaml: YuNet, keep center, and the model's embedder). Each
recipe clusters each shape as the product does (facecluster.workflow.experiment's
clustering, cannot-link included) with the embedder's calibrated threshold
and folder cut rule; the table gives BCubed and pairwise F1 (precision,
recall) per shape, the median and the worst over shapes, and BCubed F1 by
identity size.

    OMP_NUM_THREADS=1 .venv/bin/python bench/shapes.py --model dlib
    OMP_NUM_THREADS=1 .venv/bin/python bench/shapes.py --model intel_reid --rule floor=0.95 join=1.1
    OMP_NUM_THREADS=1 .venv/bin/python bench/shapes.py --model intel_reid --seeds 0 1 2 3 4 \
        --grid "floor=[0.9, 0.95]" "join=[1.0, 1.05]"

prints markdown tables (the section of bench/results.md) and writes the
per-shape scores to bench/shapes.tsv (--out). `--rule` tries other folder
cut constants than the embedder's (facecluster.clustering.folder_cut.CutRule).
"""

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facecluster.clustering import SortSpec, sort_faces  # noqa: E402
from facecluster.clustering.clusterers import CLUSTERERS  # noqa: E402
from facecluster.clustering.metrics import external_metrics  # noqa: E402
from facecluster.clustering.sort import sweep_faces  # noqa: E402
from facecluster.photos.embedders import calibrated_thresholds, fitted_rules  # noqa: E402
from facecluster.photos.embedders.fitted import CutRule  # noqa: E402
from facecluster.photos.faces import read_faces  # noqa: E402
from facecluster.workflow.config import validated_model  # noqa: E402

PRESET = Path(__file__).resolve().parents[1] / "presets/lfw-dev.yaml"
# Fixed cuts below and above the calibrated threshold, as multiples of it: 0.50 and 0.60 for dlib.
FIXED_CUTS = (0.50 / 0.5459, 0.60 / 0.5459)
# A person holds faces of this many photos at least (an experiment's min_photos, its default).
MIN_PHOTOS = 4
SIZE_BANDS = [(1, 1, "1"), (2, 4, "2-4"), (5, 19, "5-19"), (20, math.inf, ">=20")]


# ---------------------------------------------------------------- shapes


def draw_shape(by_person, kind, people, strangers, groups, seed):
    """(rows, photo_ids) of one folder: `people` identities sized by `kind`, then `strangers`
    (a share of the folder's photos) people with one photo each, then with `groups` a share of
    the photos merged into group photos of 2-4 faces of different people (one photo id)."""
    rng = np.random.default_rng(seed)
    names = sorted(by_person)
    rows, used = [], set()
    if kind == "balanced":  # `people` people of 10 photos each
        pool = [n for n in names if len(by_person[n]) >= 10]
        sizes = [10] * people
    elif kind == "families":  # 2-8 photos each
        pool = [n for n in names if len(by_person[n]) >= 2]
        sizes = list(rng.integers(2, 9, people))
    elif kind == "zipf":  # the r-th person has about 60 / r photos (at least 2), as many as lfw-dev holds
        pool = [n for n in names if len(by_person[n]) >= 2]
        sizes = [max(2, round(60 / r)) for r in range(1, people + 1)]
    else:
        raise ValueError(kind)
    chosen = [pool[i] for i in rng.choice(len(pool), people, replace=False)]
    if kind == "zipf":  # the largest wished sizes to the people with most photos, shuffled among equals
        chosen.sort(key=lambda n: (-len(by_person[n]), rng.random()))
    for name, size in zip(chosen, sizes):
        photos = by_person[name]
        take = min(size, len(photos))
        rows += [photos[i] for i in sorted(rng.choice(len(photos), take, replace=False))]
        used.add(name)
    n_strangers = round(strangers * len(rows) / (1 - strangers))
    others = [n for n in names if n not in used]
    for i in rng.choice(len(others), n_strangers, replace=False):
        rows.append(by_person[others[i]][rng.integers(len(by_person[others[i]]))])
    rows = np.array(sorted(rows))
    photo_ids = rows.astype(str).astype(object)
    if groups:  # a group photo shows 2-4 different people (a person is in a photo once)
        person = {row: name for name in used for row in by_person[name]}
        waiting = list(rng.permutation(len(rows))[: round(groups * len(rows))])
        number = 0
        while waiting:
            size, group, seen = int(rng.integers(2, 5)), [], set()
            for i in list(waiting):
                if person.get(rows[i], i) not in seen:  # a stranger is nobody else
                    group.append(i)
                    seen.add(person.get(rows[i], i))
                    waiting.remove(i)
                    if len(group) == size:
                        break
            photo_ids[group] = f"group{number}"
            number += 1
    return rows, photo_ids


def shapes(by_person, seeds):
    """(kind, people, strangers, groups, seed) of every shape of the sweep (see draw_shape)."""
    grid = [("balanced", p) for p in (3, 4, 10, 20, 40)]
    grid += [("families", p) for p in (5, 13, 30, 100, 300)]
    grid += [("zipf", p) for p in (5, 10, 30, 100, 300)]
    for kind, people in grid:
        for strangers in (0.0, 0.1, 0.3):
            for seed in seeds:
                yield kind, people, strangers, 0.0, seed
    for kind, people in (("balanced", 10), ("families", 30), ("zipf", 30)):
        for seed in seeds:
            yield kind, people, 0.1, 0.3, seed


def shape_name(kind, people, strangers, groups, seed):
    extra = f" +{groups:.0%} in groups" if groups else ""
    return f"{kind} {people}p +{strangers:.0%} strangers{extra} s{seed}"


# ---------------------------------------------------------------- recipes


def with_constants(rule, constants):
    """The CutRule `rule` (None: none fitted) with some constants replaced ({"floor": 0.95})."""
    if not constants:
        return rule
    return CutRule.from_settings({**(rule.settings() if rule else {}), **constants})


class Model:
    """A model of presets/lfw-dev.yaml: its settings, its embedder's calibrated Euclidean threshold
    and folder cut rule (`rule`: constants that replace the rule's, e.g. {"floor": 0.95})."""

    def __init__(self, name, rule=None):
        self.name = name
        self.settings = yaml.safe_load(PRESET.read_text())["models"][name]
        embedder = validated_model(self.settings)["embedder"]
        self.threshold = calibrated_thresholds(embedder)["euclidean"]
        self.rule = with_constants(fitted_rules(embedder)[0], rule or {})

    def product(self, settings, rule=None):
        """A recipe as an experiment's `cluster:` runs it (cannot_link on, as by default), with the
        embedder's threshold and cut rule (or `rule`)."""
        rule = rule or self.rule

        def run(Y, photo_ids, k, seed):
            method = settings.get("method", "agglomerative")
            full = {**CLUSTERERS.defaults(method), "method": method, "cut_rule": rule and rule.settings(), **settings}
            how = full.pop("choose_k_by", "silhouette")
            if full.get("k") == "true":
                full["k"] = k
            elif full.get("k") == "range":
                full["k"] = {"from": 2, "to": 2 * k}
            if "k" not in full:
                full.setdefault("threshold", self.threshold)
            experiment = {"cluster": full, "seed": seed, "min_photos": MIN_PHOTOS, "choose_k_by": how}
            spec = SortSpec.from_settings({**experiment, "choose_k_threshold": self.threshold})
            if how == "eigengap":
                by_k, _ = sweep_faces(Y, photo_ids, spec, [])
                return by_k[eigengap_k(Y, sorted(by_k))]
            return sort_faces(Y, photo_ids, spec, scored=False).labels

        return run

    def without_floor_and_join(self, settings):
        """A recipe with facecluster.clustering.folder_cut's cut as issue 17 first made it: the gap alone, no
        floor under it, lone faces left alone."""
        return self.product(settings, self.rule and replace(self.rule, floor=0.0, join_max_faces=0))

    def recipes(self):
        """{way of writing `cluster:`: {recipe: run}}."""
        product, before = self.product, self.without_floor_and_join
        return {
            "no K": {
                "agglomerative average, cut in the folder's gap near the calibrated threshold, lone faces joined "
                "(default)": product({}),
                "agglomerative average, cut in the folder's gap, without floor and join (before)": before({}),
                "agglomerative average, cut at the calibrated threshold": product({"cut": "threshold"}),
                **{
                    f"agglomerative average, cut at {scale * self.threshold:.2f}": product(
                        {"cut": "threshold", "threshold": scale * self.threshold}
                    )
                    for scale in FIXED_CUTS
                },
                "agglomerative complete, calibrated threshold": product({"linkage": "complete", "cut": "threshold"}),
                "graph, chinese whispers, calibrated threshold": product({"method": "graph"}),
                "hdbscan": product({"method": "hdbscan"}),
            },
            "K given": {
                "agglomerative average, k (default)": product({"k": "true"}),
                "spectral, k (before issue 17)": product({"method": "spectral", "k": "true"}),
                "kmeans, k": product({"method": "kmeans", "k": "true"}),
            },
            "K swept 2..2K": {
                "agglomerative average, K nearest the number found without K (default)": product(
                    {"k": "range", "choose_k_by": "threshold"}
                ),
                "agglomerative average, K nearest the number found without K, without floor and join (before)": (
                    before({"k": "range", "choose_k_by": "threshold"})
                ),
                "agglomerative average, silhouette": product({"k": "range"}),
                "spectral, silhouette (before issue 17)": product({"method": "spectral", "k": "range"}),
                "spectral, eigengap": product({"method": "spectral", "k": "range", "choose_k_by": "eigengap"}),
            },
        }

    def detected(self):
        """The model's settings for photos that show one person (faces embedded on the fly)."""
        return {"detector": {"name": "yunet", "keep": "center", "min_size": 16}, "embedder": self.settings["embedder"]}


def eigengap_k(Y, ks, neighbors=10):
    """The K of `ks` after which the normalised Laplacian of the neighbour graph (spectral
    clustering's) has its largest eigengap."""
    from scipy.sparse.csgraph import laplacian
    from sklearn.neighbors import kneighbors_graph

    graph = kneighbors_graph(Y, min(neighbors, len(Y) - 1), include_self=True)
    values = np.linalg.eigvalsh(laplacian(0.5 * (graph + graph.T), normed=True).toarray())
    usable = [k for k in ks if k < len(Y)]
    return max(usable, key=lambda k: values[k] - values[k - 1])


def defaults(recipes):
    """The recipe each way of writing `cluster:` runs by default, and the one K not given ran before."""
    default = {way: next(name for name in named if name.endswith("(default)")) for way, named in recipes.items()}
    return default, next(name for name in recipes["no K"] if name.endswith("(before)"))


# ---------------------------------------------------------------- pre-cropped faces

CROP_DETECTORS = {
    "crop's box (before)": {"name": "none", "locate": False},
    "face found in the crop (default)": {"name": "none"},
}


def embed_files(paths, model, crop_boxes=None, grey=False):
    """(embeddings, how each face was found, boxes) of one face per photo by `model` (settings as under
    `models:`); with crop_boxes, each photo cut to its box first (a tight crop), in grey if asked."""
    from PIL import Image

    from facecluster.photos.detectors import make_detector, select_faces
    from facecluster.photos.embedders import make_embedder
    from facecluster.workflow.plan import prepare_model_files

    settings = validated_model(model)
    files = prepare_model_files(settings, "models")
    detector = make_detector(settings["detector"], files["detector"])
    embedder = make_embedder(settings["embedder"], files["embedder"])
    vectors, hows, boxes = [], [], []
    for i, path in enumerate(paths):
        image = Image.open(path)
        if crop_boxes is not None:
            image = image.crop(tuple(round(v) for v in crop_boxes[i]))
        rgb = np.asarray(image.convert("L" if grey else "RGB").convert("RGB"))
        found = select_faces(detector.detect(rgb), image.size, keep="center", min_size=0)[:1]
        if not found:  # not found by the detector: a zero vector, its own cluster in effect
            vectors.append(np.zeros(embedder.dim, np.float32))
            hows.append("no face")
            boxes.append((0, 0, *image.size))
            continue
        chips, _ = embedder.align(rgb, found)
        vectors.append(embedder.embed(chips)[0])
        hows.append(found[0].how or "detected")
        boxes.append(found[0].box)
    return np.asarray(vectors, np.float64), hows, boxes


def crops_report(model, faces, labels, by_person, root, seed=0):
    """Pre-cropped faces against the same faces detected: 40 lfw-dev people x 10 photos (seed),
    each photo cut to the box YuNet found in it (faces.tsv), in colour and in grey; yalefaces'
    164 photos detected, then cut to their boxes."""
    rows, _ = draw_shape(by_person, "balanced", 40, 0.0, 0.0, seed)
    paths = [Path(root) / faces[r].path for r in rows]
    boxes = [[faces[r].left, faces[r].top, faces[r].right, faces[r].bottom] for r in rows]
    sets = [("lfw-dev 40 x 10", paths, boxes, labels[rows])]
    yale = sorted(p for p in (Path(root) / "../shared/datasets/yalefaces").glob("*/*") if p.is_file())
    if yale:
        yale_truth = np.array([p.parent.name for p in yale])
        sets.append(("yalefaces 15 x 11", yale, embed_files(yale, model.detected())[2], yale_truth))
    out = [
        "| faces | how | faces found in the crop | BCubed F1, K not given | BCubed F1, K given | "
        "pairwise F1, K not given |",
        "|---|---|---|---|---|---|",
    ]
    recipes = model.recipes()
    default, _ = defaults(recipes)
    embedder = model.settings["embedder"]
    for name, files, crop_boxes, truth in sets:
        variants = []
        for grey in (False, True):
            colour = "grey" if grey else "colour"
            variants.append((f"{colour} photo, detected in it", model.detected(), None, grey))
            variants += [
                (f"{colour} crop, {how}", {"detector": detector, "embedder": embedder}, crop_boxes, grey)
                for how, detector in CROP_DETECTORS.items()
            ]
        for variant, settings, crop_boxes_, grey in variants:
            Y, hows, _ = embed_files(files, settings, crop_boxes_, grey)
            found = sum(h.startswith("face found") for h in hows)
            ids = np.arange(len(Y)).astype(str)
            without_k = external_metrics(truth, recipes["no K"][default["no K"]](Y, ids, 0, seed))
            with_k = external_metrics(truth, recipes["K given"][default["K given"]](Y, ids, len(set(truth)), seed))
            out.append(
                f"| {name} | {variant} | {found if crop_boxes_ else '-'} / {len(Y)} | {without_k['bcubed_f1']:.3f} "
                f"| {with_k['bcubed_f1']:.3f} | {without_k['pairwise_f1']:.3f} |"
            )
            print(out[-1], file=sys.stderr, flush=True)
    return "\n".join(out)


def whole_report(model, Y, truth):
    """All of lfw-dev as one folder, K not given: the default and the recipe before, with BCubed
    F1 (precision / recall) by identity size."""
    out = [
        "| recipe | clusters | BCubed F1 (P / R) | pairwise F1 (P / R) | BCubed F1 (P / R) by identity size: "
        + ", ".join(f"{band} ({np.isin(truth, sized(truth, band)).sum()} faces)" for *_, band in SIZE_BANDS)
        + " |",
        "|---|---|---|---|---|",
    ]
    ids = np.arange(len(Y)).astype(str)
    recipes = model.recipes()
    default, before = defaults(recipes)
    for recipe in (default["no K"], before):
        found = recipes["no K"][recipe](Y, ids, 0, 0)
        scores = external_metrics(truth, found)
        bands = bcubed_by_size(truth, found)
        by_size = ", ".join(
            f"{f1(p / n, r / n):.3f} ({p / n:.3f} / {r / n:.3f})" for p, r, n in (bands[b] for *_, b in SIZE_BANDS)
        )
        out.append(
            f"| {recipe} | {scores['n_clusters']} | {scores['bcubed_f1']:.3f} ({scores['bcubed_precision']:.3f} / "
            f"{scores['bcubed_recall']:.3f}) | {scores['pairwise_f1']:.3f} ({scores['pairwise_precision']:.3f} / "
            f"{scores['pairwise_recall']:.3f}) | {by_size} |"
        )
    return "\n".join(out)


def sized(truth, band):
    """The people of `truth` whose number of faces falls in the size band."""
    low, high = next((low, high) for low, high, name in SIZE_BANDS if name == band)
    people, counts = np.unique(truth, return_counts=True)
    return people[(counts >= low) & (counts <= high)]


# ---------------------------------------------------------------- scoring


def bcubed_by_size(truth, labels):
    """{band: (precision, recall) summed over the band's faces, faces} for the size bands."""
    _, truth = np.unique(truth, return_inverse=True)
    _, labels = np.unique(labels, return_inverse=True)
    labels = np.where(labels >= 0, labels, np.arange(len(labels)) + labels.max() + 1)
    pair = truth * (labels.max() + 1) + labels
    _, pair_codes, pair_counts = np.unique(pair, return_inverse=True, return_counts=True)
    together = pair_counts[pair_codes]
    person = np.bincount(truth)[truth]
    precision = together / np.bincount(labels)[labels]
    recall = together / person
    out = {}
    for low, high, band in SIZE_BANDS:
        inside = (person >= low) & (person <= high)
        if inside.any():
            out[band] = (precision[inside].sum(), recall[inside].sum(), int(inside.sum()))
    return out


def f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dlib", help="a model of presets/lfw-dev.yaml")
    parser.add_argument("--embeddings", help="default: results/lfw-dev/MODEL/embeddings.npy")
    parser.add_argument("--faces", help="default: results/lfw-dev/MODEL/faces.tsv")
    parser.add_argument("--rule", nargs="+", default=[], metavar="KEY=VALUE", help="folder cut constants to try")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--ways", nargs="+", default=["no K", "K given", "K swept 2..2K"])
    parser.add_argument("--defaults", action="store_true", help="only each way's default recipe")
    parser.add_argument(
        "--grid",
        nargs="+",
        metavar="KEY=[V1,V2]",
        help="only K not given's default, for every combination of these folder cut constants",
    )
    parser.add_argument("--out", default="bench/shapes.tsv")
    parser.add_argument("--crops", action="store_true", help="only the pre-cropped faces against the same detected")
    parser.add_argument("--whole", action="store_true", help="only all of lfw-dev as one folder, K not given")
    args = parser.parse_args(argv)
    model = Model(args.model, {key: yaml.safe_load(value) for key, value in (r.split("=") for r in args.rule)})
    recipes = model.recipes()
    if args.defaults:
        default, _ = defaults(recipes)
        recipes = {way: {default[way]: named[default[way]]} for way, named in recipes.items()}

    embeddings = np.load(args.embeddings or f"results/lfw-dev/{args.model}/embeddings.npy")
    faces = read_faces(args.faces or f"results/lfw-dev/{args.model}/faces.tsv")
    labels = np.array([face.label for face in faces])
    by_person = {}
    for row, label in enumerate(labels):
        by_person.setdefault(label, []).append(row)

    if args.crops:
        print(crops_report(model, faces, labels, by_person, "."))
        return
    if args.whole:
        print(whole_report(model, embeddings.astype(np.float64), labels))
        return
    if args.grid:
        print(grid_report(model, list(all_shapes(model, embeddings, labels, by_person, args.seeds)), args.grid))
        return
    lines = ["way\trecipe\tshape\tfaces\tpeople\tk_found\tbp\tbr\tbf\tpp\tpr\tpf\tseconds"]
    results = {}  # (way, recipe) -> list of (shape name, external scores, scores by size, true K)
    for name, Y, truth, photo_ids, seed in all_shapes(model, embeddings, labels, by_person, args.seeds):
        k_true = len(np.unique(truth))
        for way in args.ways:
            for recipe, run in recipes[way].items():
                if skipped(way, recipe, k_true):
                    continue
                start = time.perf_counter()
                found = run(Y, photo_ids, k_true, seed)
                seconds = time.perf_counter() - start
                scores = external_metrics(truth, found)
                results.setdefault((way, recipe), []).append((name, scores, bcubed_by_size(truth, found), k_true))
                numbers = [round(scores[key], 4) for key in KEYS]
                row = [way, recipe, name, len(Y), k_true, scores["n_clusters"], *numbers, round(seconds, 2)]
                lines.append("\t".join(map(str, row)))
        print(name, len(Y), "faces", file=sys.stderr, flush=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(report(results))


def grid_report(model, folders, grid):
    """K not given's default over `folders` for every combination of the cut constants of `grid`
    (["floor=[0.9, 1.0]", "window=[[0.8, 1.2]]", ...]): median, worst, K within 10 %, one row per
    combination."""
    import itertools

    keys = [item.split("=")[0] for item in grid]
    values = [yaml.safe_load(item.split("=", 1)[1]) for item in grid]
    out = [f"| {' | '.join(keys)} | median | worst (shape) | K within 10 % |", "|" + "---|" * (len(keys) + 3)]
    for combination in itertools.product(*values):
        rule = with_constants(model.rule, dict(zip(keys, combination)))
        run = model.product({}, rule)
        scores = []
        for name, Y, truth, photo_ids, seed in folders:
            found = external_metrics(truth, run(Y, photo_ids, 0, seed))
            scores.append(
                (found["bcubed_f1"], name, abs(found["n_clusters"] - len(set(truth))) <= 0.1 * len(set(truth)))
            )
        worst = min(scores)
        median = np.median([f for f, _, _ in scores])
        within = np.mean([w for _, _, w in scores])
        out.append(
            f"| {' | '.join(map(str, combination))} | {median:.3f} | {worst[0]:.3f} ({worst[1]}) | {within:.0%} |"
        )
        print(out[-1], file=sys.stderr, flush=True)
    return "\n".join(out)


def skipped(way, recipe, k_true):
    """Sweeps scored at every K are left out of large folders: hours on 2 cores (spectral runs a
    clustering per K; silhouette scores every K of 2..2K)."""
    if way != "K swept 2..2K":
        return False
    return ("spectral" in recipe and k_true > 20) or ("silhouette" in recipe and k_true > 100)


def all_shapes(model, embeddings, labels, by_person, seeds):
    """(name, Y, truth, photo ids, seed) of every folder of the sweep: those drawn from lfw-dev,
    then yalefaces' 164 photos and known-people's 12 photos of one person, detected."""
    for spec in shapes(by_person, seeds):
        rows, photo_ids = draw_shape(by_person, *spec)
        yield shape_name(*spec), embeddings[rows].astype(np.float64), labels[rows], photo_ids, spec[-1]
    datasets = Path("../shared/datasets")
    yale = sorted(p for p in (datasets / "yalefaces").glob("*/*") if p.is_file())
    known = datasets / "known-people"
    alone = [p for p in (known / "photos").iterdir() if p.name in one_person_photos(known)]
    for name, paths, truth in [
        ("yalefaces 15p x 11 lightings and expressions", yale, [p.parent.name for p in yale]),
        (
            "known-people 5p, 1-3 photos over years",
            sorted((known / "known").glob("*/*")) + sorted(alone),
            [p.parent.name for p in sorted((known / "known").glob("*/*"))]
            + [one_person_photos(known)[p.name] for p in sorted(alone)],
        ),
    ]:
        if paths:
            Y, _, _ = embed_files(paths, model.detected())
            yield name, Y, np.array(truth), np.array([str(p) for p in paths], object), 0


def one_person_photos(known):
    """{photo name: person} of known-people's photos showing one person (expected.tsv)."""
    lines = (known / "expected.tsv").read_text().splitlines()[1:]
    return {photo: people for photo, people in (line.split("\t") for line in lines) if "," not in people}


KEYS = ["bcubed_precision", "bcubed_recall", "bcubed_f1", "pairwise_precision", "pairwise_recall", "pairwise_f1"]


def report(results):
    out = [
        "| way | recipe | shapes | BCubed F1 median | worst (P / R, shape) | pairwise F1 median | worst (P / R) "
        "| K found within 10 % | BCubed F1 by identity size, median over shapes (worst): "
        + ", ".join(band for *_, band in SIZE_BANDS)
        + " |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (way, recipe), runs in results.items():
        bf = np.array([s["bcubed_f1"] for _, s, _, _ in runs])
        pf = np.array([s["pairwise_f1"] for _, s, _, _ in runs])
        worst_b = runs[int(np.argmin(bf))]  # (name, scores, bands, k)
        worst_p = runs[int(np.argmin(pf))]
        within = np.mean([abs(s["n_clusters"] - k) <= 0.1 * k for _, s, _, k in runs])
        bands = []
        for *_, band in SIZE_BANDS:
            values = [f1(*bands_[band][:2]) / bands_[band][2] for _, _, bands_, _ in runs if band in bands_]
            bands.append(f"{np.median(values):.3f} ({min(values):.3f})" if values else "-")
        out.append(
            f"| {way} | {recipe} | {len(runs)} | {np.median(bf):.3f} | {bf.min():.3f} "
            f"({worst_b[1]['bcubed_precision']:.3f} / {worst_b[1]['bcubed_recall']:.3f}, "
            f"{worst_b[0]}) | {np.median(pf):.3f} | {pf.min():.3f} "
            f"({worst_p[1]['pairwise_precision']:.3f} / {worst_p[1]['pairwise_recall']:.3f}) "
            f"| {within:.0%} | {', '.join(bands)} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    main()
