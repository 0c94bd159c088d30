"""A photo library, not a folder: family people among bystanders, sorted by the real workflow.

How a library is made (seeded: the same seed, size and count give the same files):

- photos: N JPEGs (quality 75-95) of phone size, 4032x3024 or 2016x1512, a quarter of them
  portrait; N includes the six real photos of ../shared/datasets/negatives/ (three without a
  face, three group photos whose faces have no ground truth), copied as they are.
- scenes: a photo, or BURST_SHARE (a tenth) of the photos as bursts of BURST_SHOTS (2-5) photos
  in a row (the first photo names the burst in truth.tsv): one scene shot again seconds apart, the
  same background and people at the same places and looks, each face up to BURST_MOVE (3 %) of its
  size moved, bigger or smaller, up to BURST_TURN (2) degrees turned, and each shot
  BURST_EXPOSURE_STEP (1.5 %) brighter than the one before. About a tenth of the family's faces (and
  of the bystanders') are thus near-identical shots of one appearance, on purpose.
- the family: FAMILY_PEOPLE lfw-dev people drawn among those with at least FAMILY_MIN_PHOTOS
  photos. Zipf-like counts: the k-th (by lfw-dev photos, most first) appears with weight 1/k, so
  a few are in many scenes and the last in a few (600 photos: 216 faces down to 5). Each scene
  pastes the person's next lfw-dev photo (shuffled, again from the first once all are used).
- faces per scene: one to four (uniform). The first is always family; of the others
  BYSTANDER_SHARE are bystanders: lfw-dev people outside the family. NEWCOMER_SHARE (70 %) of the
  bystander faces, spread at random, are someone met for the first time (the next of the
  bystanders, shuffled), while there are some: the 2,849 last to about 4,000 bystander faces (4,500
  photos), so at 20,000 photos 16 % are. The other bystander faces are someone met before (any of
  them alike: those met early are met again most; neighbours, friends): at 600 photos most
  bystanders are seen once and the most-seen in 8 photos, at 20,000 a bystander is in 6 photos
  on average (up to about 50). No person is twice in a scene.
- the photos pasted: a person's lfw-dev photos whose pasted oval would carry no other face (someone
  beside the person, found by yuface; kept for later libraries in OWN_PHOTOS_CACHE); a bystander
  with none of those is not met again: pasted again, the photo would bring that someone back.
- each face is seen anew (draw_look: no two faces of a library are one photo seen alike, though a
  family person's photo is pasted in up to ~40 scenes at 20,000 photos): mirrored half the time,
  exposure, white balance, gamma and saturation changed, another part of the photo shown around
  the face (the oval's size and centre), the face a little wider or narrower; and its size drawn
  log-uniformly from 40 to 400 px (at most a third of the photo's short side), turned up to 20
  degrees, BLUR_SHARE of the faces blurred (Gaussian, radius 0.5-2 % of the face's size: 0.2-0.8 px
  at 40 px, 2-8 px at 400 px), pasted through the soft oval (bench/composites.py: the photo scaled
  so that its face box is the drawn size) at a free place (none within half a face of another).
  Backgrounds as bench/detection.py's composites: a no-face photo of negatives/ stretched over the
  canvas, or a noisy colour gradient.
- ground truth: truth.tsv beside the photos, a row per pasted face: photo, box (the face, as
  bench/detection.py boxes it), identity, role (family or bystander), size, blur, source (the
  lfw-dev photo), burst (its first photo, empty for none) and look: a digest of the lfw-dev photo's
  pixels as the face's look sees them (mirrored, coloured; before scaling, turning, blurring),
  checked unique over the library when it is made.

The library is kept in /tmp/fc-library-v<LIBRARY_VERSION>-<seed>-<n>-<size>/ (photos/, truth.tsv
written last) and reused by later runs. Then the real workflow runs in a fresh folder:
`snakemake --cores 2 --configfile config.yaml --config photos=LIBRARY/photos`, and this prints:

- family faces found (detected, and sorted: not set aside) out of the family faces pasted;
  a found face is a detection matching a pasted face's box with IoU >= 0.4 (greedy, best first);
- family faces in bursts, bystander faces and people;
- BCubed precision, recall and F1 over the family faces sorted, a face's cluster being its
  person folder (a face in no person's folder, unknown or others, counts alone);
- bystander faces put with a family person (a person folder most of whose faces with ground
  truth are one family person's), and detections matching no pasted face put there;
- person folders made: a family person's (as above; their count against the family's people is
  the figure to keep near 1: a family person split), and the others' (a bystander seen in a few
  photos with a folder of their own is right, not a mistake); faces set aside (by reason);
- faces of people pasted in at least OFTEN (4) photos that are sorted but left in `others` (family
  and bystanders met often), and faces of people pasted in fewer put with a person;
- the largest image written (no side over 4,096 px);
- per stage (rule): jobs, wall seconds summed over jobs, CPU seconds and peak memory
  (Snakemake's benchmark files), and the run's wall time.

Persons and set-aside faces are read from assignments.tsv: `person` (unknown and others are
no person) and, when present, `set_aside` (a reason; empty for a face sorted). A face of
faces.tsv missing from assignments.tsv counts as set aside.

Run it under the shared lock (generating 600 photos of 2016x1512 takes a minute on 2 cores, 20,000
about half an hour; the first library also finds the faces beside lfw-dev's people, 3 minutes):

    flock /tmp/fc-heavy.lock .venv/bin/python bench/library.py --photos 600 --size 2016x1512
    flock /tmp/fc-heavy.lock .venv/bin/python bench/library.py --photos 5000 --size 2016x1512
"""

import argparse
import csv
import dataclasses
import hashlib
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

from composites import Look, background, face_size, free_place, match, paste_photo, seen_as, shows_another_face
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
# Of the bystander faces, the share of people met for the first time (as long as there are some).
NEWCOMER_SHARE = 0.7
BURST_SHARE = 0.1
BURST_SHOTS = (2, 5)
BURST_MOVE = 0.03
BURST_TURN = 2
BURST_EXPOSURE_STEP = 0.015
# yuface's finding per lfw-dev photo (another face in the pasted oval): slow, kept for all libraries.
OWN_PHOTOS_CACHE = Path("/tmp/fc-lfw-dev-another-face.tsv")
FACE_SIDES = (40, 400)
MOST_TURN = 20
BLUR_SHARE = 0.2
BLUR_OF_SIZE = (0.005, 0.02)
PORTRAIT_SHARE = 0.25
NOT_A_PERSON = {"unknown", "others", ""}
# source: the lfw-dev photo (person/file); burst: the burst's first photo ("" for none); look: a digest of
# the photo's pixels as the face's look sees them (composites.seen_as), unique in a library.
TRUTH_COLUMNS = [
    "photo",
    "left",
    "top",
    "right",
    "bottom",
    "identity",
    "role",
    "size",
    "blur",
    "source",
    "burst",
    "look",
]
LARGEST_IMAGE = 4096
# "Seen often": a person pasted in at least this many photos (the default min_photos).
OFTEN = 4
# Bump when a change above changes the libraries made: it names their folders.
LIBRARY_VERSION = 4


# --- making a library ---------------------------------------------------------------------------


def plan_library(lfw_dir, negatives_dir, count, size, seed, own):
    """[(photo relpath, canvas size, [(identity, role, lfw-dev photo)], burst, shot)] for the
    composites (burst: the burst's first photo, "" for a photo of no burst; shot: its place in the
    burst, from 0), and [(relpath, source)] for the negatives copied in. Drawn from one seeded
    generator. own: {person: their lfw-dev photos whose pasted oval carries no other face}."""
    rng = random.Random(seed)
    people = {folder.name: sorted(folder.glob("*.jpg")) for folder in sorted(lfw_dir.iterdir()) if folder.is_dir()}
    candidates = [name for name, photos in people.items() if len(photos) >= FAMILY_MIN_PHOTOS]
    family = sorted(rng.sample(candidates, FAMILY_PEOPLE), key=lambda name: (-len(people[name]), name))
    newcomers = [name for name in people if name not in family]
    rng.shuffle(newcomers)

    negatives = sorted(p for p in negatives_dir.glob("*/*") if p.is_file()) if negatives_dir.is_dir() else []
    copied = [(f"negatives/{p.parent.name}-{p.name.replace(' ', '_')}", p) for p in negatives]
    shots = plan_shots(rng, count - len(copied))
    counts = [rng.randint(1, 4) for _ in shots]
    extra = [(scene, slot) for scene, faces in enumerate(counts) for slot in range(1, faces)]
    chosen = set(rng.sample(extra, round(BYSTANDER_SHARE * len(extra))))
    first_met = set(rng.sample(range(len(chosen)), min(len(newcomers), round(NEWCOMER_SHARE * len(chosen)))))
    bystanders = Bystanders(rng, newcomers, first_met, own)
    weights = [1 / rank for rank in range(1, len(family) + 1)]
    # A person's photos are pasted again and again: one carrying someone beside them would make that
    # someone a person seen in many photos, with no ground truth.
    sources = {name: _shuffled(rng, own.get(name) or theirs) for name, theirs in people.items()}
    appearances = Counter()

    photos, index = [], 0
    for scene, faces in enumerate(counts):
        canvas = size if rng.random() >= PORTRAIT_SHARE else size[::-1]
        family_slots = sum((scene, slot) not in chosen for slot in range(faces))
        cast = [(name, "family") for name in _weighted_sample(rng, family, weights, family_slots)]
        for _ in range(faces - family_slots):
            name = bystanders.next(in_scene={name for name, _ in cast})
            cast += [(name, "bystander")] if name else []
        in_scene = []
        for name, role in cast:
            in_scene.append((name, role, sources[name][appearances[name] % len(sources[name])]))
            appearances[name] += 1
        burst = f"IMG_{index:05d}" if shots[scene] > 1 else ""
        for shot in range(shots[scene]):
            photos.append((f"IMG_{index:05d}.jpg", canvas, in_scene, burst, shot))
            index += 1
    return photos, copied


def _shuffled(rng, items):
    return rng.sample(items, len(items))


def plan_shots(rng, photos):
    """Shots per scene, in order: 1, or a burst of BURST_SHOTS; BURST_SHARE of the photos (to one
    photo) are shots of a burst."""
    in_bursts = round(BURST_SHARE * photos)
    bursts = []
    while sum(bursts) + BURST_SHOTS[0] <= in_bursts:
        bursts.append(min(rng.randint(*BURST_SHOTS), in_bursts - sum(bursts)))
    scenes = bursts + [1] * (photos - sum(bursts))
    rng.shuffle(scenes)
    return scenes


class Bystanders:
    """Who each bystander face is: someone met for the first time (the next newcomer) at the
    bystander faces numbered in first_met, someone met before otherwise (any of them alike: those
    met early are seen most); never someone already in the scene. A newcomer without an own photo
    is not met again: each meeting would bring back whoever stands beside them."""

    def __init__(self, rng, newcomers, first_met, own_photos):
        self.rng, self.newcomers, self.first_met, self.own_photos = rng, iter(newcomers), first_met, own_photos
        self.met, self.faces = [], 0

    def next(self, in_scene):
        """The next bystander face's person (None when there is nobody to draw)."""
        first_time = self.faces in self.first_met
        self.faces += 1
        return (first_time and self._newcomer()) or self._met_before(in_scene) or self._newcomer()

    def _newcomer(self):
        name = next(self.newcomers, None)
        if name and self.own_photos.get(name):
            self.met.append(name)
        return name

    def _met_before(self, in_scene):
        for _attempt in range(10):
            name = self.rng.choice(self.met) if self.met else None
            if name not in in_scene:
                return name
        return None


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


def draw_look(rng):
    """How one appearance sees its photo (composites.Look): mirrored half the time, exposure 0.8-1.25
    with each channel's white balance within 8 %, gamma 0.8-1.25, saturation 0.7-1.3, the oval
    showing 75-90 % (across) and 75-85 % (down) of the face box around the face, its centre up to
    4 % (across) and 3 % (down) aside, the face 8 % wider or narrower against its height."""
    exposure = math.exp(rng.uniform(math.log(0.8), math.log(1.25)))
    return Look(
        mirrored=rng.random() < 0.5,
        gains=tuple(exposure * rng.uniform(0.92, 1.08) for _ in range(3)),
        gamma=math.exp(rng.uniform(math.log(0.8), math.log(1.25))),
        saturation=rng.uniform(0.7, 1.3),
        oval=(rng.uniform(0.75, 0.9), rng.uniform(0.75, 0.85)),
        oval_shift=(rng.uniform(-0.04, 0.04), rng.uniform(-0.03, 0.03)),
        aspect=math.exp(rng.uniform(math.log(0.92), math.log(1.08))),
    )


def render_photo(job):
    """Paste one photo's faces; its truth rows. The scene's generator draws the background, places and
    looks (a burst's shots share them); the photo's own generator moves each face of a shot of a
    burst a little (the result does not depend on the workers)."""
    relpath, canvas_size, faces, folder, no_face_photos, seed, burst, shot = job
    scene_rng = random.Random(f"{seed}/{burst or relpath}")
    shot_rng = random.Random(f"{seed}/{relpath}")
    canvas = background(scene_rng, canvas_size, no_face_photos)
    quality = scene_rng.randint(75, 95)
    largest = min(FACE_SIDES[1], min(canvas_size) / 3)
    # Shots of a burst brighten step by step (the light changing): no two see a face alike.
    exposure = 1 + BURST_EXPOSURE_STEP * shot
    rows, boxes = [], []
    for identity, role, source in faces:
        side = math.exp(scene_rng.uniform(math.log(FACE_SIDES[0]), math.log(largest)))
        centre = free_place(scene_rng, canvas_size, side, boxes)
        blur = side * scene_rng.uniform(*BLUR_OF_SIZE) if scene_rng.random() < BLUR_SHARE else 0.0
        angle, look = scene_rng.uniform(-MOST_TURN, MOST_TURN), draw_look(scene_rng)
        if centre is None:
            continue
        if burst:
            side, centre, angle = _moved_a_little(shot_rng, side, centre, angle)
            look = dataclasses.replace(look, gains=tuple(gain * exposure for gain in look.gains))
        photo, face = seen_as(source, look)
        box, _ = paste_photo(canvas, photo, face, look, side, angle, blur, centre)
        boxes.append(box)
        digest = hashlib.sha1(photo.tobytes()).hexdigest()[:16]
        rows.append(
            [relpath, *(round(v, 1) for v in box), identity, role, round(face_size(box), 1), round(blur, 2)]
            + [os.path.relpath(source, Path(source).parents[1]), burst, digest]
        )
    canvas.save(Path(folder) / relpath, quality=quality)
    return rows


def _moved_a_little(rng, side, centre, angle):
    """A face in a shot of a burst: up to BURST_MOVE of its size bigger or smaller and moved, and
    up to BURST_TURN degrees turned."""
    move = BURST_MOVE * side
    centre = (centre[0] + rng.uniform(-move, move), centre[1] + rng.uniform(-move, move))
    return side * (1 + rng.uniform(-BURST_MOVE, BURST_MOVE)), centre, angle + rng.uniform(-BURST_TURN, BURST_TURN)


def make_library(folder, lfw_dir, negatives_dir, count, size, seed, workers):
    """Write the library into folder (photos/, then truth.tsv); reuse it when truth.tsv exists."""
    truth_path = folder / "truth.tsv"
    if not truth_path.exists():
        with ProcessPoolExecutor(workers) as pool:
            own = own_photos(lfw_dir, pool)
            photos, copied = plan_library(lfw_dir, negatives_dir, count, size, seed, own)
            (folder / "photos" / "negatives").mkdir(parents=True, exist_ok=True)
            for relpath, source in copied:
                shutil.copyfile(source, folder / "photos" / relpath)
            no_face = sorted((negatives_dir / "no_face").glob("*")) if negatives_dir.is_dir() else []
            jobs = [
                (relpath, canvas, faces, folder / "photos", no_face, seed, *shot)
                for relpath, canvas, faces, *shot in photos
            ]
            rows = [row for photo_rows in pool.map(render_photo, jobs, chunksize=8) for row in photo_rows]
        alike = [digest for digest, n in Counter(row[-1] for row in rows).items() if n > 1]
        if alike:
            raise ValueError(f"faces seen alike (look digests): {alike[:10]}")
        with open(str(truth_path) + ".tmp", "w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(TRUTH_COLUMNS)
            writer.writerows(rows)
        os.replace(str(truth_path) + ".tmp", truth_path)
    return read_tsv(truth_path)


def own_photos(lfw_dir, pool):
    """{person: their lfw-dev photos whose pasted oval would carry no other face}: yuface's finding
    per photo, kept in OWN_PHOTOS_CACHE (a tab-separated relpath, 0 or 1 per photo) for later
    libraries, the photos it lacks found in `pool`."""
    known = {}
    if OWN_PHOTOS_CACHE.exists():
        with open(OWN_PHOTOS_CACHE, newline="") as handle:
            known = dict(csv.reader(handle, delimiter="\t"))
    paths = sorted(lfw_dir.glob("*/*.jpg"))
    missing = [path for path in paths if os.path.relpath(path, lfw_dir) not in known]
    for path, another in zip(missing, pool.map(shows_another_face, missing, chunksize=32)):
        known[os.path.relpath(path, lfw_dir)] = str(int(another))
    if missing:
        with open(f"{OWN_PHOTOS_CACHE}.tmp", "w", newline="") as handle:
            csv.writer(handle, delimiter="\t").writerows(sorted(known.items()))
        os.replace(f"{OWN_PHOTOS_CACHE}.tmp", OWN_PHOTOS_CACHE)
    own = defaultdict(list)
    for path in paths:
        if known[os.path.relpath(path, lfw_dir)] == "0":
            own[path.parent.name].append(path)
    return dict(own)


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
    # People by the photos they are pasted in: the family are seen again and again, most bystanders
    # in one to three photos.
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
        "bystander_people": len({face["identity"] for face in truth if face["role"] == "bystander"}),
        "family_in_bursts": sum(face["role"] == "family" and bool(face.get("burst")) for face in truth),
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
        f"{figures['bystander_faces']} bystander faces of {figures['bystander_people']} people; "
        f"{figures['family_in_bursts']} family faces in bursts",
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
        f"| person folders: a family person's (x the family's people); others | {figures['family_folders']} "
        f"({figures['family_folders'] / figures['family_people']:.2f} x); "
        f"{figures['person_folders'] - figures['family_folders']} |",
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
    parser.add_argument("--library", type=Path, help="default /tmp/fc-library-v<version>-<seed>-<photos>-<size>")
    parser.add_argument("--workdir", type=Path, help="default: the library's folder + '-run' (wiped first)")
    parser.add_argument("--make-only", action="store_true", help="make the library, do not run the workflow")
    args = parser.parse_args()
    size = tuple(int(side) for side in args.size.split("x"))
    lfw_dir, negatives = args.datasets / "lfw-dev", args.datasets / "negatives"
    if not lfw_dir.is_dir():
        sys.exit(f"{lfw_dir} is absent: see ../shared/datasets/README.md")
    library = args.library or Path(f"/tmp/fc-library-v{LIBRARY_VERSION}-{args.seed}-{args.photos}-{args.size}")
    workdir = args.workdir or Path(f"{library}-run")

    started = time.perf_counter()
    truth = make_library(library, lfw_dir, negatives, args.photos, size, args.seed, args.cores)
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
