"""Face detection against ground truth: recall by face size, false faces per photo, photos/s per core.

Three sets, all read from ../shared/datasets (see bench/README.md):

- composites: faces of lfw-dev pasted, with known boxes, onto canvases of
  4032x3024, 3024x4032, 1600x1200 and 640x480 (backgrounds: smooth colour
  gradients with noise, or a no-face photo of negatives/ stretched over the
  canvas): 0-15 faces each, sizes drawn log-uniformly in 16-400 px (as much
  as the canvas holds), turned up to 30 degrees, blurred (Gaussian radius
  0-1.5 px), the whole saved as JPEG of quality 60-95. Seeded.
- negatives/: the no-face photos must give no face; the multi-face photos'
  faces, counted by eye once, are in NEGATIVES_FACES below.
- lfw-dev: one face each (a sample, seeded): the share of photos with a face.

A face is found when a detection overlaps its box with IoU >= 0.4 (greedy
matching, best overlaps first); a detection that matches no face is false.
Each detector runs as the product runs it (BatchProcessor's decoding at the
config's photo_max_side, the copy the detector searches where it says, as
YuNet's search_side; the detector, its min_size), keeping every face, on one
thread of one process: photos per second per core, decoding included.

    .venv/bin/python bench/detection.py                        # every detector, ~20 minutes
    .venv/bin/python bench/detection.py --detectors yunet --composites 20 --lfw 100
"""

import argparse
import csv
import math
import os
import random
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from composites import background, face_size, free_place, match, paste_face  # noqa: E402

CANVASES = [(4032, 3024), (3024, 4032), (1600, 1200), (640, 480)]
SIZE_BINS = [(0, 24), (24, 40), (40, 80), (80, 160), (160, 10_000)]
# Faces in negatives/multi_face/, counted by eye (every face whose eyes, nose
# and mouth show, at least in profile).
NEGATIVES_FACES = {"couple.jpg": 2, "group 2.jpg": 5, "multiface.jpg": 6}

# The detectors measured: each a model's `detector:` settings and the config's
# photo_max_side it runs under. "default" is config.yaml's default model; "hog" the
# default model before issue 16; "yunet-whole" the default before issue 25 (a phone's
# photo searched at its full size), "yunet-2048" a phone's photo searched at half its size,
# "yunet-onnxruntime" the default's YuNet run by onnxruntime (float32) rather than OpenVINO.
DETECTORS = {
    "hog": ({"name": "dlib_hog", "upsample": 1, "max_side": 1024, "min_size": 20}, 1600),
    "mtcnn": ({"name": "mtcnn", "max_side": 1024, "min_size": 20}, 1600),
    "yunet-whole": ({"name": "yunet", "min_size": 16, "search_side": 0}, 4096),
    "yunet-2048": ({"name": "yunet", "min_size": 16, "search_side": 2048}, 4096),
    "yunet-onnxruntime": ({"name": "yunet", "min_size": 16, "runtime": "onnxruntime"}, 4096),
}
# The large canvases: issue 16's speed target is on these.
PHONE_SIZE = {(4032, 3024), (3024, 4032)}


def shipped_detector():
    """config.yaml's default model's detector settings, and its photo_max_side."""
    import yaml

    from facecluster.workflow.config import validate_config

    config = validate_config(yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text()))
    return config["models"][config["default_model"]]["detector"], config["photo_max_side"]


# --- the composites -------------------------------------------------------------------------


def make_composites(count, folder, lfw_dir, negatives_dir, seed):
    """Write `count` composites into folder; [(path, [face boxes], [pasted ovals' boxes])].

    Some lfw-dev photos show another face beside the person's, partly inside
    the pasted oval: a detection there that matches no face is not counted
    as false (the oval is a "don't care" region, as in WIDER FACE's evaluation).
    """
    rng = random.Random(seed)
    sources = sorted(lfw_dir.glob("*/*.jpg"))
    no_face_photos = sorted((negatives_dir / "no_face").glob("*")) if negatives_dir.is_dir() else []
    folder.mkdir(parents=True, exist_ok=True)
    composites = []
    for index in range(count):
        size = CANVASES[index % len(CANVASES)]
        canvas = background(rng, size, no_face_photos)
        boxes, pasted = [], []
        for _ in range(rng.randint(0, 15)):
            largest = min(400, min(size) / 3)
            side = math.exp(rng.uniform(math.log(16), math.log(largest)))
            centre = free_place(rng, size, side, boxes)
            if centre is not None:
                face, oval = paste_face(
                    canvas, rng.choice(sources), side, rng.uniform(-30, 30), rng.uniform(0, 1.5), centre
                )
                boxes.append(face)
                pasted.append(oval)
        path = folder / f"composite-{index:03d}-{size[0]}x{size[1]}.jpg"
        canvas.save(path, quality=rng.randint(60, 95))
        composites.append((path, boxes, pasted))
    with open(folder / "truth.tsv", "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["photo", "left", "top", "right", "bottom"])
        for path, boxes, _ in composites:
            writer.writerows([path.name, *(round(v, 1) for v in box)] for box in boxes)
    return composites


# --- running a detector as the product does ---------------------------------------------------


def run_detector(name, photos):
    """[(original size, [boxes in original pixels], seconds to decode and detect)] per photo."""
    from facecluster.photos.batch import find_faces, search_side
    from facecluster.photos.decoding import decode_bytes, read_bytes
    from facecluster.photos.detectors import make_detector, select_faces
    from facecluster.workflow.config import validated_model
    from facecluster.workflow.plan import prepare_model_files

    detector_settings, photo_max_side = shipped_detector() if name == "default" else DETECTORS[name]
    settings = validated_model({"detector": detector_settings, "embedder": {"name": "dlib"}})
    files = prepare_model_files(settings, PROJECT_ROOT / "models")
    detector = make_detector(settings["detector"], files["detector"], threads=1)
    side = search_side(detector, photo_max_side)
    keep, min_size = "all", settings["detector"]["min_size"]
    results = []
    for path in photos:
        started = time.perf_counter()
        photo = decode_bytes(read_bytes(path)[0], photo_max_side)
        found = [d.scaled(1 / photo.scale) for d in find_faces(detector, photo.rgb, side)]
        faces = select_faces(found, photo.original_size, keep=keep, min_size=min_size)
        results.append((photo.original_size, [f.box for f in faces], time.perf_counter() - started))
    return results


def rate(results, sizes=None):
    """Photos per second (of those whose size is in `sizes`, or all)."""
    chosen = [seconds for size, _, seconds in results if sizes is None or tuple(size) in sizes]
    return len(chosen) / sum(chosen)


def score(composites, found):
    """Recall per size bin, false faces per photo."""
    hits, totals, false = [0] * len(SIZE_BINS), [0] * len(SIZE_BINS), 0
    for (_, truth, pasted), (_, boxes, _) in zip(composites, found):
        matched, unmatched = match(truth, boxes, pasted)
        false += unmatched
        for index, box in enumerate(truth):
            size_bin = next(b for b, (low, high) in enumerate(SIZE_BINS) if low <= face_size(box) < high)
            totals[size_bin] += 1
            hits[size_bin] += index in matched
    return [(h / t if t else None, t) for h, t in zip(hits, totals)], false / max(1, len(composites))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    names = ["default", *DETECTORS]
    parser.add_argument("--detectors", nargs="+", default=names, choices=names)
    parser.add_argument("--composites", type=int, default=80)
    parser.add_argument("--lfw", type=int, default=500, help="lfw-dev photos (a seeded sample)")
    # Settings were tuned on seed 0's composites; the table is seed 1's, which they never saw.
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/facecluster-detection"))
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    lfw_dir, negatives = args.datasets / "lfw-dev", args.datasets / "negatives"
    if not lfw_dir.is_dir():
        sys.exit(f"{lfw_dir} is absent: see ../shared/datasets/README.md")
    composites = make_composites(
        args.composites, args.workdir / f"composites-{args.seed}", lfw_dir, negatives, args.seed
    )
    lfw = sorted(lfw_dir.glob("*/*.jpg"))
    lfw = random.Random(args.seed).sample(lfw, min(args.lfw, len(lfw)))
    no_face = sorted((negatives / "no_face").glob("*"))
    multi = [negatives / "multi_face" / name for name in NEGATIVES_FACES]

    bins = " | ".join(f"{low}-{high}" if high < 10_000 else f"> {low}" for low, high in SIZE_BINS)
    print(
        f"| detector | recall by face size (px): {bins} | false faces / composite | "
        "no-face photos with a face | multi-face photos: found / by eye | lfw-dev: photos with a face | "
        "photos/s per core: 4032x3024 composites, all composites, lfw-dev |"
    )
    print("|---|" + "---:|" * (len(SIZE_BINS) + 5))
    for name in args.detectors:
        found = run_detector(name, [path for path, _, _ in composites])
        recalls, false_rate = score(composites, found)
        no_face_found = run_detector(name, no_face)
        multi_found = run_detector(name, multi)
        lfw_found = run_detector(name, lfw)
        recall_cells = " | ".join("-" if r is None else f"{r:.3f} ({t})" for r, t in recalls)
        with_face = sum(bool(boxes) for _, boxes, _ in no_face_found)
        multi_cells = ", ".join(
            f"{len(boxes)}/{NEGATIVES_FACES[p.name]}" for p, (_, boxes, _) in zip(multi, multi_found)
        )
        lfw_rate = sum(bool(boxes) for _, boxes, _ in lfw_found) / len(lfw)
        speeds = f"{rate(found, PHONE_SIZE):.2f}, {rate(found):.2f}, {rate(lfw_found):.1f}"
        print(
            f"| {name} | {recall_cells} | {false_rate:.3f} | {with_face} of {len(no_face)} | {multi_cells} | "
            f"{lfw_rate:.4f} | {speeds} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
