"""A photo library, not a folder: family people among bystanders, sorted by the real workflow.

How a library is made (seeded: the same seed, size and count give the same files):

- photos: N JPEGs (quality 75-95) of phone size, 4032x3024 or 2016x1512, a quarter of them
  portrait; N includes the six real photos of ../shared/datasets/negatives/ (three without a
  face, three group photos whose faces have no ground truth), copied as they are.
- the family: FAMILY_PEOPLE lfw-dev people drawn among those with at least FAMILY_MIN_PHOTOS
  photos. Zipf-like counts: the k-th (by lfw-dev photos, most first) appears with weight 1/k, so
  a few are in many photos and the last in a few (600 photos: 234 faces down to 6). Each
  appearance pastes the person's next lfw-dev photo (shuffled, reused once all are used: a
  reused photo gets another size, angle, blur and place), leaving out the photos whose pasted
  oval would carry another face (someone beside the person, found by yuface), who would
  otherwise come back with every reuse.
- faces per photo: one to four (uniform; `--faces-per-photo`). The first is always family; of the others
  BYSTANDER_SHARE are bystanders, as many as there are bystander people: lfw-dev people outside
  the family, each seen once (one photo of theirs, people with a single lfw-dev photo first).
  No person is twice in a photo.
- each face: lfw-dev's face (bench/composites.py: the photo scaled so that its face box is the
  drawn size, in a soft oval) pasted at a free place (none within half a face of another), its
  size drawn log-uniformly from 40 to 400 px (`--face-sides`; at most a third of the photo's short side),
  turned up to 20 degrees, and BLUR_SHARE of the faces blurred (Gaussian, radius 0.5-2 % of the
  face's size: 0.2-0.8 px at 40 px, 2-8 px at 400 px). Backgrounds as bench/detection.py's
  composites: a no-face photo of negatives/ stretched over the canvas, or a noisy colour gradient.
- ground truth: truth.tsv beside the photos, a row per pasted face: photo, box (the face, as
  bench/detection.py boxes it), identity, role (family or bystander), size, blur.

The library is kept in /tmp/fc-library-v<LIBRARY_VERSION>-<seed>-<n>-<size>/ (photos/, truth.tsv
written last) and reused by later runs. Then the real workflow runs in a fresh folder:
`snakemake --cores 2 --configfile config.yaml --config photos=LIBRARY/photos`, and this prints:

- family faces found (detected, and sorted: not set aside) out of the family faces pasted;
  a found face is a detection matching a pasted face's box with IoU >= 0.4 (greedy, best first);
- BCubed precision, recall and F1 over the family faces sorted, a face's cluster being its
  person folder (a face in no person's folder, unknown or others, counts alone);
- bystander faces put with a family person (a person folder most of whose faces with ground
  truth are one family person's), and detections matching no pasted face put there;
- person folders made (and how many are a family person's), faces set aside (by reason);
- faces of people pasted in at least OFTEN (4) photos that are sorted but left in `others`, and
  faces of people pasted in fewer (the bystanders) put with a person;
- the largest image written (no side over 4,096 px);
- per stage (rule): jobs, wall seconds summed over jobs, CPU seconds and peak memory
  (Snakemake's benchmark files), and the run's wall time.

Persons and set-aside faces are read from assignments.tsv: `person` (unknown and others are
no person) and, when present, `set_aside` (a reason; empty for a face sorted). A face of
faces.tsv missing from assignments.tsv counts as set aside.

Run it under the shared lock (generating 600 photos of 2016x1512 takes a few minutes of CPU):

    flock /tmp/fc-heavy.lock .venv/bin/python bench/library.py --photos 600 --size 2016x1512
    flock /tmp/fc-heavy.lock .venv/bin/python bench/library.py --photos 5000 --size 2016x1512
"""

import argparse
import csv
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from composites import background, face_size, free_place, match, paste_face, shows_another_face
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from facecluster.clustering.metrics import external_metrics  # noqa: E402
from facecluster.outputs.assignments import read_assignments  # noqa: E402
from facecluster.photos.faces import read_faces  # noqa: E402
from facecluster.photos.tags import is_sidecar_name  # noqa: E402

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
FAMILY_PEOPLE = 30
FAMILY_MIN_PHOTOS = 15
BYSTANDER_SHARE = 0.6
FACE_SIDES = (40, 400)
FACES_PER_PHOTO = (1, 4)
MOST_TURN = 20
BLUR_SHARE = 0.2
BLUR_OF_SIZE = (0.005, 0.02)
PORTRAIT_SHARE = 0.25
NOT_A_PERSON = {"unknown", "others", ""}
TRUTH_COLUMNS = ["photo", "left", "top", "right", "bottom", "identity", "role", "size", "blur"]
LARGEST_IMAGE = 4096
# "Seen often": a person pasted in at least this many photos (the default min_photos).
OFTEN = 4
# Bump when a change above changes the libraries made: it names their folders.
LIBRARY_VERSION = 3


# --- making a library ---------------------------------------------------------------------------


def plan_library(lfw_dir, negatives_dir, count, size, seed, faces_per_photo=FACES_PER_PHOTO):
    """[(photo relpath, canvas size, [(identity, role, lfw-dev photo)])] for the composites, and
    [(relpath, source)] for the negatives copied in. Drawn from one seeded generator."""
    rng = random.Random(seed)
    people = {folder.name: sorted(folder.glob("*.jpg")) for folder in sorted(lfw_dir.iterdir()) if folder.is_dir()}
    candidates = [name for name, photos in people.items() if len(photos) >= FAMILY_MIN_PHOTOS]
    family = sorted(rng.sample(candidates, FAMILY_PEOPLE), key=lambda name: (-len(people[name]), name))
    weights = [1 / rank for rank in range(1, len(family) + 1)]
    others = [name for name in people if name not in family]
    rng.shuffle(others)
    bystanders = sorted(others, key=lambda name: len(people[name]) > 1)  # single-photo people first

    negatives = sorted(p for p in negatives_dir.glob("*/*") if p.is_file()) if negatives_dir.is_dir() else []
    copied = [(f"negatives/{p.parent.name}-{p.name.replace(' ', '_')}", p) for p in negatives]
    counts = [rng.randint(*faces_per_photo) for _ in range(count - len(copied))]
    extra = [(photo, slot) for photo, faces in enumerate(counts) for slot in range(1, faces)]
    chosen = set(rng.sample(extra, min(len(bystanders), round(BYSTANDER_SHARE * len(extra)))))

    next_photo = defaultdict(int)
    # A family person's photos are pasted again and again: one carrying someone beside them
    # would make that someone a person seen in many photos, where bystanders are seen once.
    own = {name: [p for p in people[name] if not shows_another_face(p)] or people[name] for name in family}
    queues = {name: rng.sample(own[name], len(own[name])) for name in family}
    bystander_queue = iter(bystanders)
    photos = []
    for index, faces in enumerate(counts):
        canvas = size if rng.random() >= PORTRAIT_SHARE else size[::-1]
        in_photo = []
        family_slots = sum((index, slot) not in chosen for slot in range(faces))
        for name in _weighted_sample(rng, family, weights, family_slots):
            source = queues[name][next_photo[name] % len(queues[name])]
            next_photo[name] += 1
            in_photo.append((name, "family", source))
        for _ in range(faces - family_slots):
            name = next(bystander_queue)
            in_photo.append((name, "bystander", rng.choice(people[name])))
        photos.append((f"IMG_{index:05d}.jpg", canvas, in_photo))
    return photos, copied


def _weighted_sample(rng, items, weights, k):
    """k distinct items, each drawn with probability proportional to its weight among those left."""
    pool, chosen = list(zip(items, weights)), []
    for _ in range(k):
        pick = rng.uniform(0, sum(w for _, w in pool))
        for position, (item, weight) in enumerate(pool):
            pick -= weight
            if pick <= 0 or position == len(pool) - 1:
                chosen.append(item)
                del pool[position]
                break
    return chosen


def render_photo(job):
    """Paste one photo's faces (its own generator: the result does not depend on the workers);
    its truth rows."""
    relpath, canvas_size, faces, folder, no_face_photos, seed, face_sides = job
    rng = random.Random(f"{seed}/{relpath}")
    canvas = background(rng, canvas_size, no_face_photos)
    largest = min(face_sides[1], min(canvas_size) / 3)
    rows, boxes = [], []
    for identity, role, source in faces:
        side = math.exp(rng.uniform(math.log(face_sides[0]), math.log(largest)))
        centre = free_place(rng, canvas_size, side, boxes)
        if centre is None:
            continue
        blur = side * rng.uniform(*BLUR_OF_SIZE) if rng.random() < BLUR_SHARE else 0.0
        box, _ = paste_face(canvas, source, side, rng.uniform(-MOST_TURN, MOST_TURN), blur, centre)
        boxes.append(box)
        rows.append([relpath, *(round(v, 1) for v in box), identity, role, round(face_size(box), 1), round(blur, 2)])
    canvas.save(Path(folder) / relpath, quality=rng.randint(75, 95))
    return rows


def library_folder(seed, count, size, faces_per_photo=FACES_PER_PHOTO, face_sides=FACE_SIDES):
    """Where a library is kept: /tmp/fc-library-v<version>-<seed>-<count>-<W>x<H>, and
    -faces<a>-<b>-px<c>-<d> when its faces per photo or sizes are not the defaults."""
    name = f"/tmp/fc-library-v{LIBRARY_VERSION}-{seed}-{count}-{size[0]}x{size[1]}"
    if (tuple(faces_per_photo), tuple(face_sides)) != (FACES_PER_PHOTO, FACE_SIDES):
        name += "-faces{}-{}-px{}-{}".format(*faces_per_photo, *face_sides)
    return Path(name)


def make_library(
    folder, lfw_dir, negatives_dir, count, size, seed, workers, faces_per_photo=FACES_PER_PHOTO, face_sides=FACE_SIDES
):
    """Write the library into folder (photos/, then truth.tsv); reuse it when truth.tsv exists.
    `faces_per_photo` (least, most) and `face_sides` (px, least, most) as the module says."""
    truth_path = folder / "truth.tsv"
    if not truth_path.exists():
        photos, copied = plan_library(lfw_dir, negatives_dir, count, size, seed, faces_per_photo)
        (folder / "photos" / "negatives").mkdir(parents=True, exist_ok=True)
        for relpath, source in copied:
            shutil.copyfile(source, folder / "photos" / relpath)
        no_face = sorted((negatives_dir / "no_face").glob("*")) if negatives_dir.is_dir() else []
        jobs = [
            (relpath, canvas, faces, folder / "photos", no_face, seed, face_sides) for relpath, canvas, faces in photos
        ]
        with ProcessPoolExecutor(workers) as pool:
            rows = [row for photo_rows in pool.map(render_photo, jobs, chunksize=8) for row in photo_rows]
        with open(str(truth_path) + ".tmp", "w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(TRUTH_COLUMNS)
            writer.writerows(rows)
        os.replace(str(truth_path) + ".tmp", truth_path)
    return read_tsv(truth_path)


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


# --- running the workflow -------------------------------------------------------------------------


def run_workflow(photos, workdir, cores, configfile):
    """`snakemake --config photos=...` in a fresh workdir; its wall seconds (ValueError if it fails)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    return run_snakemake(photos, workdir, cores, configfile)


def run_snakemake(photos, workdir, cores, configfile):
    """`snakemake --config photos=...` in workdir as it is (its log appended to snakemake.log); its
    wall seconds (ValueError if it fails)."""
    command = [str(SNAKEMAKE), "-s", str(PROJECT_ROOT / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(configfile), "--cores", str(cores), "--config", f"photos={photos}"]
    started = time.perf_counter()
    with open(workdir / "snakemake.log", "a") as log:
        finished = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise ValueError(f"snakemake failed ({finished.returncode}): see {workdir / 'snakemake.log'}")
    return seconds


def stage_costs(results):
    """{rule: (jobs, wall s summed over jobs, CPU s, peak RSS MB)} from Snakemake's benchmark files."""
    costs = {}
    for rule_dir in sorted((results / "benchmarks").iterdir()):
        runs = [row for path in sorted(rule_dir.rglob("*.tsv")) for row in read_tsv(path)]
        costs[rule_dir.name] = (
            len(runs),
            sum(_number(run["s"]) for run in runs),
            sum(_number(run["cpu_time"]) for run in runs),
            max(_number(run["max_rss"]) for run in runs),
        )
    return costs


def _number(text):
    try:
        return float(text)
    except ValueError:  # "NA" where Snakemake could not measure
        return 0.0


def largest_image(folder):
    """(longest side, its path, images with a side over LARGEST_IMAGE) over the PNG and JPEG images
    written under folder (links to the photos are not)."""
    sides = []
    for path in folder.rglob("*"):
        if path.suffix.lower() in (".png", ".jpg", ".jpeg") and path.is_file() and not path.is_symlink():
            with Image.open(path) as image:
                sides.append((max(image.size), str(path)))
    side, path = max(sides, default=(0, None))
    return side, path, sum(s > LARGEST_IMAGE for s, _ in sides)


# --- scoring ------------------------------------------------------------------------------------


def found_faces(truth, library_photos, results, assignments=None):
    """[(ground truth row or None, person or None, why set aside or "", the face of faces.tsv)]: each
    face the run found, matched to a pasted face (IoU >= 0.4, greedy, best first), with its person in
    assignments.tsv (None for no person: unknown, others, set aside, or missing from it).
    assignments: another experiment's assignments.tsv of the same faces (e.g. clustered again)."""
    (faces_path,) = (results / "photos").glob("*/faces.tsv")
    detected = read_faces(faces_path)
    assignments = assignments or results / "experiments" / "photos" / "assignments.tsv"
    assigned = {(face.photo_id, face.face_index): face for face in read_assignments(assignments)}
    truth_by_photo, found_by_photo = defaultdict(list), defaultdict(list)
    for face in truth:
        truth_by_photo[face["photo"]].append(face)
    for face in detected:
        found_by_photo[os.path.relpath(face.path, library_photos)].append(face)

    # Each found face: its ground truth face (or None), its person (or None), why set aside ("" if not).
    found = []
    for photo in sorted(set(truth_by_photo) | set(found_by_photo)):
        truths, faces = truth_by_photo[photo], found_by_photo[photo]
        pairs, _ = match([_box(t) for t in truths], [(f.left, f.top, f.right, f.bottom) for f in faces])
        truth_of = {j: truths[i] for i, j in pairs.items()}
        for j, face in enumerate(faces):
            row = assigned.get((face.photo_id, face.face_index))
            reason = "not in assignments.tsv" if row is None else row.set_aside
            person = None if row is None or reason or row.person in NOT_A_PERSON else row.person
            found.append((truth_of.get(j), person, reason, face))
    return found


def score(truth, library_photos, results, assignments=None):
    """The library's figures (a dict) from the run's faces.tsv and assignments.tsv (`assignments`:
    another experiment's assignments.tsv of the same faces, e.g. clustered again)."""
    found = [(f, p, r) for f, p, r, _ in found_faces(truth, library_photos, results, assignments)]
    identities = defaultdict(Counter)
    for face, person, _ in found:
        if person is not None and face is not None:
            identities[person][face["identity"]] += 1
    family_names = {face["identity"] for face in truth if face["role"] == "family"}
    family_folders = {p for p, counts in identities.items() if counts.most_common(1)[0][0] in family_names}
    persons = {person for _, person, _ in found if person is not None}

    family_total = sum(face["role"] == "family" for face in truth)
    family_found = [(f, p, r) for f, p, r in found if f is not None and f["role"] == "family"]
    family_sorted = [(f, p) for f, p, r in family_found if not r]
    bystanders = [(f, p, r) for f, p, r in found if f is not None and f["role"] == "bystander"]
    bystanders_sorted = [(f, p) for f, p, r in bystanders if not r]
    strays = [(f, p, r) for f, p, r in found if f is None]
    # People by the photos they are pasted in: the family are seen again and again, bystanders once.
    seen = Counter(face["identity"] for face in truth)
    sorted_truth = [(f, p) for f, p, r in found if f is not None and not r]
    codes = {person: code for code, person in enumerate(sorted(persons))}
    bcubed = external_metrics([f["identity"] for f, _ in family_sorted], [codes.get(p, -1) for _, p in family_sorted])
    return {
        "photos": sum(path.is_file() and not is_sidecar_name(path.name) for path in Path(library_photos).rglob("*")),
        "family_people": len(family_names),
        "family_faces": family_total,
        "family_found": len(family_found),
        "family_sorted": len(family_sorted),
        "family_in_family_folder": sum(p in family_folders for _, p in family_sorted),
        "bcubed_precision": bcubed["bcubed_precision"],
        "bcubed_recall": bcubed["bcubed_recall"],
        "bcubed_f1": bcubed["bcubed_f1"],
        "bystander_faces": sum(face["role"] == "bystander" for face in truth),
        "bystanders_found": len(bystanders),
        "bystanders_sorted": len(bystanders_sorted),
        "bystanders_with_family": sum(p in family_folders for _, p in bystanders_sorted),
        "stray_faces": len(strays),
        "strays_with_family": sum(p in family_folders for _, p, r in strays if not r),
        "person_folders": len(persons),
        "family_folders": len(family_folders),
        "faces_found": len(found),
        "set_aside": dict(Counter(r for _, _, r in found if r)),
        "family_set_aside": sum(bool(r) for _, _, r in family_found),
        "often_sorted": sum(seen[f["identity"]] >= OFTEN for f, _ in sorted_truth),
        "often_in_others": sum(seen[f["identity"]] >= OFTEN and p is None for f, p in sorted_truth),
        "rarely_sorted": sum(seen[f["identity"]] < OFTEN for f, _ in sorted_truth),
        "rarely_with_person": sum(seen[f["identity"]] < OFTEN and p is not None for f, p in sorted_truth),
    }


def _box(face):
    """A ground truth face's (left, top, right, bottom)."""
    return tuple(float(face[key]) for key in ("left", "top", "right", "bottom"))


def report(figures, costs, wall, largest):
    family, bystanders = figures["family_faces"], figures["bystanders_found"]
    set_aside = sum(figures["set_aside"].values())
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(figures["set_aside"].items())) or "-"
    lines = [
        f"{figures['photos']} photos, {figures['family_people']} family people, {family} family faces, "
        f"{figures['bystander_faces']} bystander faces",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| family faces found (detected) | {figures['family_found']} / {family} "
        f"({figures['family_found'] / family:.2%}) |",
        f"| family faces sorted (found, not set aside) | {figures['family_sorted']} / {family} "
        f"({figures['family_sorted'] / family:.2%}) |",
        f"| BCubed over family faces sorted: F1 (precision, recall) | {figures['bcubed_f1']:.3f} "
        f"({figures['bcubed_precision']:.3f}, {figures['bcubed_recall']:.3f}) |",
        f"| bystander faces put with a family person | {figures['bystanders_with_family']} / {bystanders} "
        f"found ({figures['bystanders_with_family'] / max(1, bystanders):.2%}) |",
        f"| faces matching no pasted face (group photos, strays): found, with a family person | "
        f"{figures['stray_faces']}, {figures['strays_with_family']} |",
        f"| person folders (of them a family person's) | {figures['person_folders']} "
        f"({figures['family_folders']}); {figures['person_folders'] / figures['family_people']:.2f} x the family |",
        f"| faces set aside (family faces among them) | {set_aside} ({figures['family_set_aside']}): {reasons} |",
        f"| faces of people seen in {OFTEN}+ photos left in others (of those sorted) | "
        f"{figures['often_in_others']} / {figures['often_sorted']} |",
        f"| faces of people seen in under {OFTEN} photos put with a person (of those sorted) | "
        f"{figures['rarely_with_person']} / {figures['rarely_sorted']} |",
        f"| largest image written; images over {LARGEST_IMAGE} px | {largest[0]} px ({largest[1]}); {largest[2]} |",
        "",
        f"wall time {wall:.0f} s; per stage (rule):",
        "",
        "| stage | jobs | wall s (summed over jobs) | CPU s | peak memory (MB, one job) |",
        "|---|---:|---:|---:|---:|",
    ]
    for rule, (jobs, seconds, cpu, rss) in costs.items():
        lines.append(f"| {rule} | {jobs} | {seconds:.1f} | {cpu:.1f} | {rss:.0f} |")
    total_cpu = sum(cpu for _, _, cpu, _ in costs.values())
    lines.append(f"| all | {sum(j for j, _, _, _ in costs.values())} | | {total_cpu:.1f} | |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--photos", type=int, default=600)
    parser.add_argument("--size", default="2016x1512", help="WIDTHxHEIGHT of the photos (a quarter turned)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--faces-per-photo", type=int, nargs=2, default=FACES_PER_PHOTO, metavar=("LEAST", "MOST"))
    parser.add_argument("--face-sides", type=int, nargs=2, default=FACE_SIDES, metavar=("LEAST", "MOST"), help="px")
    parser.add_argument("--library", type=Path, help="default /tmp/fc-library-v<version>-<seed>-<photos>-<size>")
    parser.add_argument("--workdir", type=Path, help="default: the library's folder + '-run' (wiped first)")
    parser.add_argument("--make-only", action="store_true", help="make the library, do not run the workflow")
    args = parser.parse_args()
    size = tuple(int(side) for side in args.size.split("x"))
    lfw_dir, negatives = args.datasets / "lfw-dev", args.datasets / "negatives"
    if not lfw_dir.is_dir():
        sys.exit(f"{lfw_dir} is absent: see ../shared/datasets/README.md")
    crowd = {"faces_per_photo": tuple(args.faces_per_photo), "face_sides": tuple(args.face_sides)}
    library = args.library or library_folder(args.seed, args.photos, size, **crowd)
    workdir = args.workdir or Path(f"{library}-run")

    started = time.perf_counter()
    truth = make_library(library, lfw_dir, negatives, args.photos, size, args.seed, args.cores, **crowd)
    print(f"library {library}: {time.perf_counter() - started:.0f} s (0 when reused)", flush=True)
    if args.make_only:
        return
    wall = run_workflow(library / "photos", workdir, args.cores, args.configfile)
    results = workdir / "results"
    figures = score(truth, library / "photos", results)
    costs = stage_costs(results)
    largest = largest_image(results / "experiments")
    (workdir / "library-figures.json").write_text(json.dumps({"figures": figures, "wall_s": wall}, indent=1))
    print(report(figures, costs, wall, largest))


if __name__ == "__main__":
    main()
