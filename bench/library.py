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
- faces per scene: one to four (uniform; `--faces-per-photo`). The first is always family; of the
  others BYSTANDER_SHARE are bystanders: lfw-dev people outside the family. NEWCOMER_SHARE (70 %)
  of the bystander faces, spread at random, are someone met for the first time (the next of the
  bystanders, shuffled), while there are some: the 2,849 last to about 4,000 bystander faces (4,500
  photos), so at 20,000 photos 16 % are. The other bystander faces are someone met before (any of
  them alike: those met early are met again most; neighbours, friends): at 600 photos most
  bystanders are seen once and the most-seen in 8 photos, at 20,000 a bystander is in 6 photos on
  average (up to about 50). No person is twice in a scene.
- the photos pasted: a person's lfw-dev photos whose pasted oval would carry no other face (someone
  beside the person, found by yuface; kept for later libraries in OWN_PHOTOS_CACHE); a bystander
  with none of those is not met again: pasted again, the photo would bring that someone back.
- each face is seen anew (draw_look: no two faces of a library are one photo seen alike, though a
  family person's photo is pasted in up to ~40 scenes at 20,000 photos): mirrored half the time,
  exposure, white balance, gamma and saturation changed, another part of the photo shown around the
  face (the oval's size and centre), the face a little wider or narrower; and its size drawn
  log-uniformly from 40 to 400 px (`--face-sides`; at most a third of the photo's short side),
  turned up to 20 degrees, BLUR_SHARE of the faces blurred (Gaussian, radius 0.5-2 % of the face's
  size: 0.2-0.8 px at 40 px, 2-8 px at 400 px), pasted through the soft oval (bench/composites.py:
  the photo scaled so that its face box is the drawn size) at a free place (none within half a face
  of another). Backgrounds as bench/detection.py's composites: a no-face photo of negatives/
  stretched over the canvas, or a noisy colour gradient.
- ground truth: truth.tsv beside the photos, a row per pasted face: photo, box (the face, as
  bench/detection.py boxes it), identity, role (family or bystander), size, blur, source (the
  lfw-dev photo), burst (its first photo, empty for none) and look: a digest of the lfw-dev photo's
  pixels as the face's look sees them (mirrored, coloured; before scaling, turning, blurring),
  checked unique over the library when it is made.

A growing-up family (`--family fgnet`; the default, lfw, makes the libraries above, file for file
as before): the family is fgnet-dev people, photographed from early childhood to adulthood (the
age in each file's name: 002A07.JPG, person 2 at 7); the bystanders are lfw-dev's as above.

- who: `--family-people`: held-out (the default) or tune, fgnet-dev's halves (its people sorted,
  shuffled by random.Random(FGNET_SPLIT_SEED), the first 17 tune, the other 17 held-out: the
  cross-age work's split), or a comma list (p002,p004). All of them are the family (9-16 photos
  each: no FAMILY_PEOPLE, no FAMILY_MIN_PHOTOS), with the same Zipf-like weights (600 photos: 236
  faces of the first, 14 of the last of the 17 held-out).
- born: each on a day drawn uniformly over BIRTH_YEARS (5) years, the same for all (the family's
  own generator, seeded by the library's seed), ending so that the eldest photo's date falls
  before DATED_BEFORE (2025): every year of the family's photos holds several of them, and a date
  alone tells nobody apart.
- dated: each scene's first face is its person's next photo (shuffled, again from the first once
  all are used); the scene is taken on a day of that year of the person's life (birth + age years,
  a day drawn, a time between 8:00 and 20:00), and every other family face in it is someone who
  has a photo of the age they are on that day (their photo of that age pasted least so far), drawn
  by the same weights; a family slot with nobody of the right age goes to a bystander (2 % of the
  slots at 600 photos). Bystanders are not dated (adult news photos). A burst's shots are a second
  apart. Every composite carries its date in its EXIF (DateTimeOriginal, OffsetTimeOriginal
  TIME_OFFSET); the negatives are copied as they are, undated.
- the face: fgnet-dev's photos are scans cropped around the head, not aligned: each photo's face
  box is yuface's largest face, moved and scaled as YuNet's box in lfw-dev photos is to LFW_FACE
  (composites.as_lfw_face), and a photo with another face in its pasted oval is not used (yuface's
  boxes kept in FGNET_FACES_CACHE). The oval and its soft edge reach past such a photo's frame: the
  photo is widened with its edge pixels first (composites.with_room), so no frame's edge shows.
- truth.tsv has two more columns: age (the family face's age in its photo) and born (the person's
  birth date), empty for bystanders.

The library is kept in /tmp/fc-library-v<LIBRARY_VERSION>-<seed>-<n>-<size>/ (a growing-up
family's: -v<LIBRARY_VERSION>-fgnet-<seed>-... of the held-out people, -fgnet-tune-<seed>-...,
-fgnet-p002-p004-<seed>-...; and -faces<a>-<b>-px<c>-<d> after it when its faces per scene or
their sizes are not the defaults; photos/, truth.tsv written last) and reused by later runs. Then
the real workflow runs in a fresh folder:
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
about half an hour; the first library also finds the faces beside lfw-dev's people, 3 minutes, and
the first growing-up library fgnet-dev's faces, 1-2 minutes):

    flock /tmp/fc-heavy.lock .venv/bin/python bench/library.py --photos 600 --size 2016x1512
    flock /tmp/fc-heavy.lock .venv/bin/python bench/library.py --photos 5000 --size 2016x1512
    flock /tmp/fc-heavy.lock .venv/bin/python bench/library.py --family fgnet --photos 600 --size 2016x1512
"""

import argparse
import csv
import dataclasses
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

from composites import (
    LFW_FACE,
    Look,
    another_face_in_oval,
    as_lfw_face,
    background,
    face_size,
    free_place,
    match,
    paste_photo,
    seen_as,
    shows_another_face,
    yuface_boxes,
)
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from facecluster.clustering.metrics import external_metrics  # noqa: E402
from facecluster.outputs.assignments import read_assignments  # noqa: E402
from facecluster.photos.dates import CLOCK_EPOCHS, EXIF_IFD  # noqa: E402
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
FACES_PER_PHOTO = (1, 4)
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

# The growing-up family (--family fgnet): fgnet-dev's people, split in two halves shared with the
# cross-age work: sorted by name, shuffled by this seed, the first half "tune", the rest "held-out".
FGNET_SPLIT_SEED = 34
# Born within this many years of each other: every year holds photos of several of them, so that a
# photo's date tells nobody apart.
BIRTH_YEARS = 5
# Every photo of the family is dated before this year (the eldest photo's age sets the births).
DATED_BEFORE = 2025
# A scene's time of day (hours): a burst's shots a second apart stay on its day.
DAYTIME = (8, 20)
TIME_OFFSET = "+01:00"
DATE_TAKEN, OFFSET_TAKEN = 0x9003, 0x9011
# "002A07.JPG", "065A02a.JPG": the person's age in the photo.
AGE_IN_NAME = re.compile(r"A(\d+)[a-z]?\.jpg$", re.IGNORECASE)
# yuface's faces per fgnet-dev photo: kept for later libraries.
FGNET_FACES_CACHE = Path("/tmp/fc-fgnet-dev-faces.tsv")
# truth.tsv of a growing-up library has these too: a family face's age in its photo and the person's
# birth date (empty for bystanders); an lfw family's truth.tsv is without them.
GROWING_UP_COLUMNS = ["age", "born"]


# --- making a library ---------------------------------------------------------------------------


def plan_library(lfw_dir, negatives_dir, count, size, seed, own, growing_up=None, faces_per_photo=FACES_PER_PHOTO):
    """[(photo relpath, canvas size, [(identity, role, photo pasted)], burst, shot, taken)] for the
    composites (burst: the burst's first photo, "" for a photo of no burst; shot: its place in the
    burst, from 0; taken: when, a datetime, or None for an lfw family's photo), and [(relpath,
    source)] for the negatives copied in. Drawn from one seeded generator. own: {person: their
    lfw-dev photos whose pasted oval carries no other face}; growing_up: a GrowingFamily, the
    family instead of lfw-dev people; faces_per_photo: (least, most) faces a scene."""
    rng = random.Random(seed)
    people = {folder.name: sorted(folder.glob("*.jpg")) for folder in sorted(lfw_dir.iterdir()) if folder.is_dir()}
    if growing_up:
        family = growing_up.people
    else:
        candidates = [name for name, photos in people.items() if len(photos) >= FAMILY_MIN_PHOTOS]
        family = sorted(rng.sample(candidates, FAMILY_PEOPLE), key=lambda name: (-len(people[name]), name))
    newcomers = [name for name in people if name not in family]
    rng.shuffle(newcomers)

    negatives = sorted(p for p in negatives_dir.glob("*/*") if p.is_file()) if negatives_dir.is_dir() else []
    copied = [(f"negatives/{p.parent.name}-{p.name.replace(' ', '_')}", p) for p in negatives]
    shots = plan_shots(rng, count - len(copied))
    counts = [rng.randint(*faces_per_photo) for _ in shots]
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
        if growing_up:
            family_cast, taken = growing_up.cast(rng, family_slots)
        else:
            family_cast = [(name, None) for name in _weighted_sample(rng, family, weights, family_slots)]
            taken = None
        cast = [(name, "family", photo) for name, photo in family_cast]
        # A growing-up family's slot left without someone of the right age goes to a bystander.
        for _ in range(faces - len(family_cast)):
            name = bystanders.next(in_scene={name for name, _, _ in cast})
            cast += [(name, "bystander", None)] if name else []
        in_scene = []
        for name, role, photo in cast:
            if photo is None:
                photo = sources[name][appearances[name] % len(sources[name])]
                appearances[name] += 1
            in_scene.append((name, role, photo))
        burst = f"IMG_{index:05d}" if shots[scene] > 1 else ""
        for shot in range(shots[scene]):
            shot_taken = None if taken is None else taken + timedelta(seconds=shot)
            photos.append((f"IMG_{index:05d}.jpg", canvas, in_scene, burst, shot, shot_taken))
            index += 1
    return photos, copied


class GrowingFamily:
    """The growing-up family: fgnet-dev people photographed from early childhood on, born within
    BIRTH_YEARS of each other (uniformly, from its own seeded generator), the k-th (by photos, most
    first) in scenes with weight 1/k. A scene is dated by its first face: that person's next photo
    (shuffled, again from the first once all are used) at its age, on a day of that year of their
    life drawn; its other family faces are people with a photo at the age they are on that day
    (their photo of that age pasted least so far)."""

    def __init__(self, rng, photos):
        """photos: {person: their fgnet-dev photos to paste}."""
        self.people = sorted(photos, key=lambda name: (-len(photos[name]), name))
        self.weights = [1 / rank for rank in range(1, len(self.people) + 1)]
        eldest = max(age_in(photo) for theirs in photos.values() for photo in theirs)
        last_births = date(DATED_BEFORE - eldest - 1, 1, 1)
        first_births = date(last_births.year - BIRTH_YEARS, 1, 1)
        days = (last_births - first_births).days
        self.births = {name: first_births + timedelta(days=rng.randrange(days)) for name in self.people}
        self.next_photos = {name: itertools.cycle(_shuffled(rng, photos[name])) for name in self.people}
        self.at_age = {name: defaultdict(list) for name in self.people}
        for name in self.people:
            for photo in photos[name]:
                self.at_age[name][age_in(photo)].append(photo)
        self.pasted = Counter()

    def cast(self, rng, slots):
        """([(person, photo)] for up to `slots` family faces of a scene, the first always; when the
        scene was taken)."""
        (first,) = _weighted_sample(rng, self.people, self.weights, 1)
        photo = next(self.next_photos[first])
        taken = taken_at_age(rng, self.births[first], age_in(photo))
        ages = {name: whole_years(self.births[name], taken.date()) for name in self.people}
        others = [
            (name, weight)
            for name, weight in zip(self.people, self.weights)
            if name != first and ages[name] in self.at_age[name]
        ]
        names, weights = [name for name, _ in others], [weight for _, weight in others]
        chosen = _weighted_sample(rng, names, weights, min(slots - 1, len(others)))
        cast = [(first, photo)]
        cast += [(name, min(self.at_age[name][ages[name]], key=self.pasted.__getitem__)) for name in chosen]
        self.pasted.update(photo for _, photo in cast)
        return cast, taken


def age_in(photo):
    """The age in an fgnet-dev photo, from its name (002A07.JPG: 7)."""
    return int(AGE_IN_NAME.search(Path(photo).name).group(1))


def whole_years(birth, day):
    """Someone's age on `day`, in whole years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday(birth, age):
    """The day someone born on `birth` turns `age` (born on 29 February: 1 March in other years)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return date(birth.year + age, 3, 1)


def taken_at_age(rng, birth, age):
    """A moment in the year of life `age` of someone born on `birth`: a day drawn, a time of DAYTIME;
    never the first day of a year where the clock of a camera never set starts (the workflow takes
    such a date for none)."""
    first, last = birthday(birth, age), birthday(birth, age + 1)
    while True:
        day = first + timedelta(days=rng.randrange((last - first).days))
        if not (day.year in CLOCK_EPOCHS and (day.month, day.day) == (1, 1)):
            seconds = rng.randrange(DAYTIME[0] * 3600, DAYTIME[1] * 3600)
            return datetime.combine(day, datetime.min.time()) + timedelta(seconds=seconds)


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
    burst a little (the result does not depend on the workers). taken: when, written into the EXIF
    (None: no EXIF); face_boxes: {photo pasted: its face's box} for photos not of lfw-dev; face_sides
    (least, most px), last and optional: FACE_SIDES when the job leaves it out."""
    relpath, canvas_size, faces, folder, no_face_photos, seed, burst, shot, taken, face_boxes = job[:10]
    face_sides = job[10] if len(job) > 10 else FACE_SIDES
    scene_rng = random.Random(f"{seed}/{burst or relpath}")
    shot_rng = random.Random(f"{seed}/{relpath}")
    canvas = background(scene_rng, canvas_size, no_face_photos)
    quality = scene_rng.randint(75, 95)
    largest = min(face_sides[1], min(canvas_size) / 3)
    # Shots of a burst brighten step by step (the light changing): no two see a face alike.
    exposure = 1 + BURST_EXPOSURE_STEP * shot
    rows, boxes = [], []
    for identity, role, source in faces:
        side = math.exp(scene_rng.uniform(math.log(face_sides[0]), math.log(largest)))
        centre = free_place(scene_rng, canvas_size, side, boxes)
        blur = side * scene_rng.uniform(*BLUR_OF_SIZE) if scene_rng.random() < BLUR_SHARE else 0.0
        angle, look = scene_rng.uniform(-MOST_TURN, MOST_TURN), draw_look(scene_rng)
        if centre is None:
            continue
        if burst:
            side, centre, angle = _moved_a_little(shot_rng, side, centre, angle)
            look = dataclasses.replace(look, gains=tuple(gain * exposure for gain in look.gains))
        photo, face = seen_as(source, look, face_boxes.get(source, LFW_FACE))
        box, _ = paste_photo(canvas, photo, face, look, side, angle, blur, centre)
        boxes.append(box)
        digest = hashlib.sha1(photo.tobytes()).hexdigest()[:16]
        rows.append(
            [relpath, *(round(v, 1) for v in box), identity, role, round(face_size(box), 1), round(blur, 2)]
            + [os.path.relpath(source, Path(source).parents[1]), burst, digest]
        )
    canvas.save(Path(folder) / relpath, quality=quality, exif=b"" if taken is None else exif_taken(taken))
    return rows


def exif_taken(taken):
    """An EXIF block saying when the photo was taken (DateTimeOriginal, OffsetTimeOriginal)."""
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD).update({DATE_TAKEN: taken.strftime("%Y:%m:%d %H:%M:%S"), OFFSET_TAKEN: TIME_OFFSET})
    return exif


def _moved_a_little(rng, side, centre, angle):
    """A face in a shot of a burst: up to BURST_MOVE of its size bigger or smaller and moved, and
    up to BURST_TURN degrees turned."""
    move = BURST_MOVE * side
    centre = (centre[0] + rng.uniform(-move, move), centre[1] + rng.uniform(-move, move))
    return side * (1 + rng.uniform(-BURST_MOVE, BURST_MOVE)), centre, angle + rng.uniform(-BURST_TURN, BURST_TURN)


def library_folder(seed, count, size, faces_per_photo=FACES_PER_PHOTO, face_sides=FACE_SIDES, kind=""):
    """Where a library is kept: /tmp/fc-library-v<version>-<kind><seed>-<count>-<W>x<H> (kind: "" for
    an lfw family, "fgnet-" ... for a growing-up one), and -faces<a>-<b>-px<c>-<d> after it when its
    faces per scene or their sizes are not the defaults."""
    name = f"fc-library-v{LIBRARY_VERSION}-{kind}{seed}-{count}-{size[0]}x{size[1]}"
    if (tuple(faces_per_photo), tuple(face_sides)) != (FACES_PER_PHOTO, FACE_SIDES):
        name += "-faces{}-{}-px{}-{}".format(*faces_per_photo, *face_sides)
    return Path("/tmp") / name


def make_library(
    folder,
    lfw_dir,
    negatives_dir,
    count,
    size,
    seed,
    workers,
    growing_up=None,
    faces_per_photo=FACES_PER_PHOTO,
    face_sides=FACE_SIDES,
):
    """Write the library into folder (photos/, then truth.tsv); reuse it when truth.tsv exists.
    growing_up: fgnet-dev's folders of the people to make the family of, instead of lfw-dev's;
    faces_per_photo (least, most) and face_sides (px, least, most) as the module says."""
    truth_path = folder / "truth.tsv"
    if not truth_path.exists():
        # Spawned, not forked: a process whose models started threads (a test run's) deadlocks forked workers.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            own = own_photos(lfw_dir, pool)
            face_boxes, family = {}, None
            if growing_up:
                face_boxes = fgnet_face_boxes(growing_up, pool)
                photos = {
                    person.name: [photo for photo in sorted(person.iterdir()) if photo in face_boxes]
                    for person in growing_up
                }
                family = GrowingFamily(random.Random(f"{seed}/growing-up"), photos)
            photos, copied = plan_library(lfw_dir, negatives_dir, count, size, seed, own, family, faces_per_photo)
            (folder / "photos" / "negatives").mkdir(parents=True, exist_ok=True)
            for relpath, source in copied:
                shutil.copyfile(source, folder / "photos" / relpath)
            no_face = sorted((negatives_dir / "no_face").glob("*")) if negatives_dir.is_dir() else []
            out = folder / "photos"
            jobs = [
                (
                    relpath,
                    canvas,
                    faces,
                    out,
                    no_face,
                    seed,
                    burst,
                    shot,
                    taken,
                    _boxes_of(faces, face_boxes),
                    face_sides,
                )
                for relpath, canvas, faces, burst, shot, taken in photos
            ]
            rows = [row for photo_rows in pool.map(render_photo, jobs, chunksize=8) for row in photo_rows]
        rows = [dict(zip(TRUTH_COLUMNS, row)) for row in rows]
        alike = [digest for digest, n in Counter(row["look"] for row in rows).items() if n > 1]
        if alike:
            raise ValueError(f"faces seen alike (look digests): {alike[:10]}")
        columns = TRUTH_COLUMNS
        if family:
            columns = TRUTH_COLUMNS + GROWING_UP_COLUMNS
            for row in rows:
                if row["role"] == "family":
                    row.update(age=age_in(row["source"]), born=family.births[row["identity"]].isoformat())
        with open(str(truth_path) + ".tmp", "w", newline="") as handle:
            writer = csv.DictWriter(handle, columns, delimiter="\t")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(str(truth_path) + ".tmp", truth_path)
    return read_tsv(truth_path)


def _boxes_of(faces, face_boxes):
    """{photo pasted: its face's box} of a photo's faces whose box face_boxes holds."""
    return {source: face_boxes[source] for _, _, source in faces if source in face_boxes}


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


def fgnet_face_boxes(people, pool):
    """{photo: its face's box, as LFW_FACE boxes a face} of the photos in `people` (fgnet-dev's
    folders) whose largest face (yuface's) has no other face in its pasted oval. yuface's boxes per
    photo are kept in FGNET_FACES_CACHE (a tab-separated relpath and its boxes,
    "left,top,right,bottom" joined by ";") for later libraries, the photos it lacks found in `pool`."""
    known = {}
    if FGNET_FACES_CACHE.exists():
        with open(FGNET_FACES_CACHE, newline="") as handle:
            known = dict(csv.reader(handle, delimiter="\t"))
    fgnet_dir = people[0].parent
    paths = sorted(path for person in people for path in person.iterdir() if path.is_file())
    missing = [path for path in paths if os.path.relpath(path, fgnet_dir) not in known]
    for path, boxes in zip(missing, pool.map(yuface_boxes, missing, chunksize=8)):
        known[os.path.relpath(path, fgnet_dir)] = ";".join(",".join(f"{side:g}" for side in box) for box in boxes)
    if missing:
        with open(f"{FGNET_FACES_CACHE}.tmp", "w", newline="") as handle:
            csv.writer(handle, delimiter="\t").writerows(sorted(known.items()))
        os.replace(f"{FGNET_FACES_CACHE}.tmp", FGNET_FACES_CACHE)
    face_boxes = {}
    for path in paths:
        text = known[os.path.relpath(path, fgnet_dir)]
        boxes = [tuple(float(side) for side in box.split(",")) for box in text.split(";")] if text else []
        if boxes:
            face = as_lfw_face(max(boxes, key=lambda box: (box[2] - box[0]) * (box[3] - box[1])))
            if not another_face_in_oval(face, boxes):
                face_boxes[path] = face
    return face_boxes


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


# --- running the workflow -------------------------------------------------------------------------


def run_workflow(photos, workdir, cores, configfile, *config):
    """`snakemake --config photos=... *config` in a fresh workdir; its wall seconds (ValueError if it
    fails)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    return run_snakemake(photos, workdir, cores, configfile, *config)


def run_snakemake(photos, workdir, cores, configfile, *config):
    """`snakemake --config photos=... *config` in workdir as it is (its log appended to
    snakemake.log); its wall seconds (ValueError if it fails)."""
    command = [str(SNAKEMAKE), "-s", str(PROJECT_ROOT / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(configfile), "--cores", str(cores), "--config", f"photos={photos}", *config]
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


def fgnet_people(fgnet_dir, choice):
    """The fgnet-dev people `choice` names, sorted: "tune" or "held-out" (fgnet-dev's halves, see
    FGNET_SPLIT_SEED) or a comma list ("p002,p004")."""
    people = sorted(folder.name for folder in fgnet_dir.iterdir() if folder.is_dir())
    halves = list(people)
    random.Random(FGNET_SPLIT_SEED).shuffle(halves)
    named = {"tune": halves[: len(people) // 2], "held-out": halves[len(people) // 2 :]}
    chosen = named[choice] if choice in named else choice.split(",")
    unknown = sorted(set(chosen) - set(people))
    if unknown:
        raise ValueError(f"not fgnet-dev people: {', '.join(unknown)} (known: tune, held-out, {', '.join(people)})")
    return sorted(chosen)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--photos", type=int, default=600)
    parser.add_argument("--size", default="2016x1512", help="WIDTHxHEIGHT of the photos (a quarter turned)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", choices=("lfw", "fgnet"), default="lfw", help="whose photos the family's are")
    parser.add_argument(
        "--family-people",
        default="held-out",
        help="fgnet family: held-out or tune (fgnet-dev's halves), or a comma list (p002,p004)",
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument(
        "--faces-per-photo", type=int, nargs=2, default=FACES_PER_PHOTO, metavar=("LEAST", "MOST"), help="a scene's"
    )
    parser.add_argument("--face-sides", type=int, nargs=2, default=FACE_SIDES, metavar=("LEAST", "MOST"), help="px")
    parser.add_argument(
        "--library",
        type=Path,
        help="default /tmp/fc-library-v<version>-<seed>-<photos>-<size>; an fgnet family's: "
        "-v<version>-fgnet-<seed>-... (held-out people), -fgnet-tune-..., -fgnet-p002-p004-...; "
        "-faces<a>-<b>-px<c>-<d> after it for faces per photo or sides not the defaults",
    )
    parser.add_argument("--workdir", type=Path, help="default: the library's folder + '-run' (wiped first)")
    parser.add_argument("--make-only", action="store_true", help="make the library, do not run the workflow")
    args = parser.parse_args()
    size = tuple(int(side) for side in args.size.split("x"))
    lfw_dir, negatives = args.datasets / "lfw-dev", args.datasets / "negatives"
    if not lfw_dir.is_dir():
        sys.exit(f"{lfw_dir} is absent: see ../shared/datasets/README.md")
    crowd = {"faces_per_photo": tuple(args.faces_per_photo), "face_sides": tuple(args.face_sides)}
    if not 1 <= crowd["faces_per_photo"][0] <= crowd["faces_per_photo"][1]:
        sys.exit("--faces-per-photo: 1 <= LEAST <= MOST")
    if not 0 < crowd["face_sides"][0] <= crowd["face_sides"][1]:
        sys.exit("--face-sides: 0 < LEAST <= MOST")
    growing_up, kind = None, ""
    if args.family == "fgnet":
        fgnet_dir = args.datasets / "fgnet-dev"
        if not fgnet_dir.is_dir():
            sys.exit(f"{fgnet_dir} is absent: see ../shared/datasets/README.md")
        try:
            growing_up = [fgnet_dir / name for name in fgnet_people(fgnet_dir, args.family_people)]
        except ValueError as error:
            sys.exit(str(error))
        kind = "fgnet-" if args.family_people == "held-out" else f"fgnet-{args.family_people.replace(',', '-')}-"
    library = args.library or library_folder(args.seed, args.photos, size, kind=kind, **crowd)
    workdir = args.workdir or Path(f"{library}-run")

    started = time.perf_counter()
    truth = make_library(library, lfw_dir, negatives, args.photos, size, args.seed, args.cores, growing_up, **crowd)
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
