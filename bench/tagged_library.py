"""Face tags on a library: a share of the family's faces named in digiKam-style sidecars, sorted by
the real workflow; are the tagged people named by their tags, their other faces with them, and no
bystander?

On a library of `bench/library.py` (its photos/ and truth.tsv), in a work folder (wiped first):

1. WORK/photos: the library's photos hard-linked (negatives/ included; copied where a photo has
   too many links already), and for the photos holding a tagged face a sidecar `photo.jpg.xmp` as
   digiKam writes it: MWG regions (mwg-rs:Regions, Type Face, Name the identity as a person writes
   it, "Colin Powell" for lfw's Colin_Powell, Area the normalized centre x, y and w, h,
   AppliedToDimensions the photo's size in pixels), Exiv2's XMP toolkit name, and without the mark
   facecluster puts on its own regions (mwg-rs:Description "facecluster"), which the reading skips.
   Each sidecar is read back by facecluster.photos.tags, and by exiftool where it is installed,
   every name found, before the run.
   The tagged faces: --share (10 %) of the family's pasted faces (truth.tsv), spread over the
   family people in proportion to their faces (each person gets floor(share x faces), the rest of
   round(share x all) to the largest remainders, ties to the person with more faces), each person's
   drawn at random (seeded) among their pasted faces, found by the detector or not.
   Each region is a head as people draw one around the face (tests/unit/test_tag_matching.py's
   head_region): 1.2-1.7 times the face box's width and 1.2-1.6 times its height, its centre up to a
   tenth of the width aside and 5-20 % of the height above, clipped to the photo; the face box is
   truth.tsv's (as bench/detection.py boxes a pasted face).
2. The one-command form in WORK/run: `snakemake --cores N --config photos=WORK/photos`; with
   --seed-cache, an earlier run's content cache of the same photos is hard-linked into
   WORK/run/results/cache first (content-keyed: each photo's faces and embeddings are taken from it,
   not detected again; the run's figure is then not a first run's).
3. Scored from assignments.tsv matched to truth.tsv (bench/library.py's matching: IoU >= 0.4,
   greedy), a face "sorted" when found and not set aside:
   - per family person with a tag: their tagged faces found and sorted, how many of those are in the
     person named with the tag's name, their untagged faces sorted, how many of those take it, and
     whether the person is named by the tag (every tagged face sorted in it, and the folder holding
     most of the person's sorted faces is it);
   - over the untagged faces of tagged people (sorted): the share that took the right name (the
     issue's target: at least 99 %);
   - bystander faces (sorted) that took a family name (a tag's; target: none), faces matching no
     pasted face that did, and faces of family people without a tag that took another's tag name;
   - the tags read, used, disputed and with problems (metrics.json's naming.tags), the status of each
     (the experiment's tags.tsv), the disputes; and bench/library.py's figures (BCubed over the
     family faces sorted, bystanders in a family person's folder, ...).
4. Growth: the command again with nothing changed (no-op), then with one sidecar edited: the tag of
   the family person with fewest tags (one, where there is such a person) renamed; per step its wall
   time and the rules that ran (jobs, wall s, CPU s, peak MB from Snakemake's benchmark files), and
   where the renamed tag's faces went.

    flock /tmp/fc-heavy.lock nice .venv/bin/python bench/tagged_library.py \\
        --library /tmp/fc-library-v4-0-600-2016x1512 --workdir /tmp/fc-tagged-600 \\
        --seed-cache /tmp/fc-library-v4-0-600-2016x1512-run/results/cache

--share 0 runs the same folder without a tag (the figures to compare with). --make-only writes
WORK/photos alone: bench/growth.py --library WORK measures a day's new photos (with their sidecars)
and a corrections file on it.
"""

import argparse
import errno
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

from growth import seed_cache, stages_since
from library import found_faces, read_tsv, run_snakemake, score
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from facecluster.outputs.xmp import sidecar  # noqa: E402
from facecluster.photos.tags import OURS, q, regions_of  # noqa: E402

# digiKam's sidecars carry Exiv2's toolkit name (x:xmptk); facecluster's own do not say theirs.
TOOLKIT = "XMP Core 4.4.0-Exiv2"
TARGET_UNTAGGED = 0.99


# --- the tagged library --------------------------------------------------------------------------


def face_key(face):
    """A truth.tsv row's identity as a pasted face: its photo and box."""
    return (face["photo"], face["left"], face["top"], face["right"], face["bottom"])


def human_name(identity):
    """lfw's Colin_Powell as a person types it: Colin Powell."""
    return identity.replace("_", " ")


def draw_tagged(truth, share, seed):
    """The keys (face_key) of the family faces to tag: share of them, apportioned over the family
    people by largest remainder, drawn at random (seeded) within each person."""
    by_person = defaultdict(list)
    for face in truth:
        if face["role"] == "family":
            by_person[face["identity"]].append(face)
    total = round(share * sum(len(faces) for faces in by_person.values()))
    quotas = {person: share * len(faces) for person, faces in by_person.items()}
    counts = {person: math.floor(quota) for person, quota in quotas.items()}
    by_remainder = sorted(quotas, key=lambda p: (-(quotas[p] - counts[p]), -len(by_person[p]), p))
    for person in by_remainder[: total - sum(counts.values())]:
        counts[person] += 1
    rng = random.Random(f"tags/{seed}")
    return {face_key(face) for person in sorted(by_person) for face in rng.sample(by_person[person], counts[person])}


def head_region(box, rng):
    """A head as people draw it around a face box (left, top, right, bottom): 1.2-1.7 times its width,
    1.2-1.6 times its height, its centre up to a tenth of the width aside and 5-20 % of the height
    above (the hair). The same as tests/unit/test_tag_matching.py's."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    w, h = width * rng.uniform(1.2, 1.7), height * rng.uniform(1.2, 1.6)
    x = (left + right) / 2 + width * rng.uniform(-0.1, 0.1)
    y = (top + bottom) / 2 - height * rng.uniform(0.05, 0.2)
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def user_sidecar(width, height, regions):
    """The bytes of a sidecar as digiKam writes one: MWG face regions (name, (left, top, right,
    bottom) in pixels), without facecluster's mark."""
    document = sidecar(width, height, regions)
    document.set("{adobe:ns:meta/}xmptk", TOOLKIT)
    for element in document.iter():
        if element.attrib.get(q("mwg-rs:Description")) == OURS:
            del element.attrib[q("mwg-rs:Description")]
    ET.indent(document)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{ET.tostring(document, encoding="unicode")}\n'.encode()


def write_sidecar(photo, regions):
    """Write photo.jpg.xmp for regions [(name, box in pixels)]; check that facecluster reads each back."""
    with Image.open(photo) as image:
        width, height = image.size
    data = user_sidecar(width, height, regions)
    read, problem = regions_of(data)
    if problem or sorted(r.name for r in read) != sorted(name for name, _ in regions):
        raise ValueError(f"{photo}: the sidecar written is not read back ({problem or [r.name for r in read]})")
    Path(f"{photo}.xmp").write_bytes(data)


def make_tagged_folder(library, photos, truth, share, seed):
    """Hard-link the library's photos into `photos` and write the sidecars; returns
    {face_key: name} of the faces tagged."""
    for path in sorted((library / "photos").rglob("*")):
        if path.is_file():
            target = photos / path.relative_to(library / "photos")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError as exc:  # EMLINK: linked too often already (a planning bench's folders)
                if exc.errno != errno.EMLINK:
                    raise
                shutil.copy2(path, target)
    chosen = draw_tagged(truth, share, seed)
    rng = random.Random(f"heads/{seed}")
    by_photo = defaultdict(list)
    for face in truth:  # truth.tsv's order: the same heads for the same seed
        if face_key(face) in chosen:
            box = tuple(float(face[key]) for key in ("left", "top", "right", "bottom"))
            by_photo[face["photo"]].append((human_name(face["identity"]), head_region(box, rng)))
    for photo, regions in by_photo.items():
        write_sidecar(photos / photo, regions)
    names = {face_key(f): human_name(f["identity"]) for f in truth if face_key(f) in chosen}
    exiftool_check(photos, by_photo)
    return names, by_photo


def exiftool_check(photos, by_photo):
    """Where exiftool is installed: it reads the same names from every sidecar (as digiKam's)."""
    exiftool = shutil.which("exiftool")
    if not by_photo:
        return
    if exiftool is None:
        print("exiftool not found: the sidecars are checked by facecluster's reading alone")
        return
    command = [exiftool, "-json", "-struct", "-RegionInfo", *(f"{photos / photo}.xmp" for photo in sorted(by_photo))]
    read = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    for item in read:
        photo = os.path.relpath(item["SourceFile"], photos)[: -len(".xmp")]
        names = sorted(region["Name"] for region in item["RegionInfo"]["RegionList"])
        if names != sorted(name for name, _ in by_photo[photo]):
            raise ValueError(f"exiftool reads {names} from {photo}.xmp")
    print(f"{len(read)} sidecars written, each read back by exiftool and by facecluster")


# --- scoring --------------------------------------------------------------------------------------


def tag_figures(truth, photos, results, tagged):
    """The tags' figures (a dict) of a run: per tagged person, the untagged share, bystanders named."""
    found = found_faces(truth, photos, results)
    tag_names = set(tagged.values())
    name_of = {}
    for face in truth:
        if face_key(face) in tagged:
            name_of[face["identity"]] = tagged[face_key(face)]
    people = {}
    for identity, name in sorted(name_of.items()):
        faces = [(f, p, r) for f, p, r, _ in found if f is not None and f["identity"] == identity]
        sorted_faces = [(f, p) for f, p, r in faces if not r]
        tag_faces = [(f, p) for f, p in sorted_faces if face_key(f) in tagged]
        untagged = [(f, p) for f, p in sorted_faces if face_key(f) not in tagged]
        holder = Counter(p for _, p in sorted_faces).most_common(1)
        people[identity] = {
            "name": name,
            "faces": sum(f["identity"] == identity for f in truth),
            "tags": sum(f["identity"] == identity and face_key(f) in tagged for f in truth),
            "tags_sorted": len(tag_faces),
            "tags_named": sum(p == name for _, p in tag_faces),
            "untagged_sorted": len(untagged),
            "untagged_named": sum(p == name for _, p in untagged),
            "untagged_elsewhere": dict(Counter(str(p) for _, p in untagged if p != name)),
            "holder": holder[0][0] if holder else None,
            "named_by_tag": all(p == name for _, p in tag_faces) and bool(holder) and holder[0][0] == name,
        }
    family = {f["identity"] for f in truth if f["role"] == "family"}
    untagged_people = family - set(name_of)
    metrics = json.loads((results / "experiments" / "photos" / "metrics.json").read_text())
    table = read_tsv(results / "experiments" / "photos" / "tags.tsv")
    return {
        "people": people,
        "family_people": len(family),
        "untagged_sorted": sum(p["untagged_sorted"] for p in people.values()),
        "untagged_named": sum(p["untagged_named"] for p in people.values()),
        "bystanders_sorted": sum(1 for f, p, r, _ in found if f is not None and f["role"] == "bystander" and not r),
        "bystanders_named": sum(
            1 for f, p, r, _ in found if f is not None and f["role"] == "bystander" and p in tag_names
        ),
        "strays_named": sum(1 for f, p, r, _ in found if f is None and p in tag_names),
        "others_named": sum(
            1 for f, p, r, _ in found if f is not None and f["identity"] in untagged_people and p in tag_names
        ),
        "others_faces_sorted": sum(
            1 for f, p, r, _ in found if f is not None and f["identity"] in untagged_people and not r
        ),
        "metrics": metrics["naming"].get("tags", {}),
        "statuses": dict(Counter(row["status"].split(":")[0] for row in table)),
    }


def tag_report(tags, library_figures, truth, tagged):
    people = tags["people"]
    family_faces = sum(f["role"] == "family" for f in truth)
    untagged = tags["untagged_named"] / max(1, tags["untagged_sorted"])
    named = sum(p["named_by_tag"] for p in people.values())
    metrics = tags["metrics"]
    lines = [
        f"{library_figures['photos']} photos, {tags['family_people']} family people, {family_faces} family faces; "
        f"{len(tagged)} faces tagged ({len(tagged) / family_faces:.1%}) in "
        f"{len({key[0] for key in tagged})} sidecars, {len(people)} family people with a tag",
        "",
        "| person (tag) | faces | tagged | tagged sorted: named | untagged sorted: named | named by the tag |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for p in sorted(people.values(), key=lambda person: -person["faces"]):
        elsewhere = ", ".join(f"{k}: {v}" for k, v in sorted(p["untagged_elsewhere"].items()))
        lines.append(
            f"| {p['name']} | {p['faces']} | {p['tags']} | {p['tags_sorted']}: {p['tags_named']} | "
            f"{p['untagged_sorted']}: {p['untagged_named']}{f' (else {elsewhere})' if elsewhere else ''} | "
            f"{'yes' if p['named_by_tag'] else 'NO (folder ' + str(p['holder']) + ')'} |"
        )
    lines += [
        "",
        "| figure | value | target |",
        "|---|---:|---:|",
        f"| family people with a tag named by it | {named} / {len(people)} | all |",
        f"| untagged faces of tagged people (sorted) that took the right name | {tags['untagged_named']} / "
        f"{tags['untagged_sorted']} ({untagged:.2%}) | >= {TARGET_UNTAGGED:.0%} |",
        f"| bystander faces (sorted) that took a family name | {tags['bystanders_named']} / "
        f"{tags['bystanders_sorted']} | 0 |",
        f"| faces matching no pasted face that took a family name | {tags['strays_named']} | |",
        f"| faces of family people without a tag that took a tag's name | {tags['others_named']} / "
        f"{tags['others_faces_sorted']} | |",
        f"| tags (metrics.json naming.tags): read, used, disputed, problems | {metrics.get('read')}, "
        f"{metrics.get('used')}, {metrics.get('disputed')}, {metrics.get('problems')} | |",
        "| tags by status (tags.tsv) | "
        + ", ".join(f"{status or '-'}: {n}" for status, n in sorted(tags["statuses"].items()))
        + " | |",
        f"| BCubed over family faces sorted: F1 (precision, recall) | {library_figures['bcubed_f1']:.3f} "
        f"({library_figures['bcubed_precision']:.3f}, {library_figures['bcubed_recall']:.3f}) | |",
        f"| family faces sorted (found, not set aside) | {library_figures['family_sorted']} / {family_faces} | |",
        f"| bystander faces in a family person's folder | {library_figures['bystanders_with_family']} / "
        f"{library_figures['bystanders_found']} found | |",
        f"| person folders (a family person's) | {library_figures['person_folders']} "
        f"({library_figures['family_folders']}) | |",
    ]
    for dispute in metrics.get("disputes", []):
        lines.append(f"- dispute ({dispute['kind']}): {dispute['text']}")
    for problem in metrics.get("problem_list", []):
        lines.append(f"- problem: {problem}")
    return "\n".join(lines)


# --- growth ---------------------------------------------------------------------------------------


def rename_one_tag(photos, sidecars, people):
    """Rewrite the sidecar of the tag of the family person with fewest tags, that tag renamed;
    returns (old name, new name, the photo)."""
    fewest = min(people.values(), key=lambda p: (p["tags"], p["name"]))
    old, new = fewest["name"], f"{fewest['name']} (renamed)"
    photo, regions = next((photo, r) for photo, r in sorted(sidecars.items()) if any(n == old for n, _ in r))
    write_sidecar(photos / photo, [(new if name == old else name, box) for name, box in regions])
    return old, new, photo


def step(name, workdir, photos, args):
    started = time.time()
    seconds = run_snakemake(photos, workdir, args.cores, args.configfile)
    stages = stages_since(workdir / "results", started)
    ran = "; ".join(
        f"{rule} {jobs}, {wall:.1f}, {cpu:.1f}, {peak:.0f}" for rule, (jobs, wall, cpu, peak) in stages.items()
    )
    return f"| {name} | {seconds:.1f} | {ran or 'none'} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", type=Path, default=Path("/tmp/fc-library-v4-0-600-2016x1512"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fc-tagged-600"), help="wiped first")
    parser.add_argument("--share", type=float, default=0.1, help="of the family's faces tagged")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--seed-cache", type=Path, help="an earlier run's results/cache/ of the library's photos")
    parser.add_argument("--make-only", action="store_true", help="write WORK/photos (for bench/growth.py), no run")
    args = parser.parse_args()
    if not (args.library / "truth.tsv").is_file():
        sys.exit(f"{args.library}/truth.tsv is absent: make the library with bench/library.py --make-only")

    shutil.rmtree(args.workdir, ignore_errors=True)
    photos, workdir = args.workdir / "photos", args.workdir / "run"
    workdir.mkdir(parents=True)
    truth = read_tsv(args.library / "truth.tsv")
    tagged, sidecars = make_tagged_folder(args.library, photos, truth, args.share, args.seed)
    if args.make_only:
        return
    if args.seed_cache:
        seed_cache(args.seed_cache, workdir / "results" / "cache", set())
        print(f"per-photo results from the content cache of an earlier run: {args.seed_cache}")

    seconds = run_snakemake(photos, workdir, args.cores, args.configfile)
    results = workdir / "results"
    figures = score(truth, photos, results)
    tags = tag_figures(truth, photos, results, tagged)
    (args.workdir / "tag-figures.json").write_text(
        json.dumps({"tags": tags, "library": figures, "wall_s": seconds}, indent=1)
    )
    print(f"first run: {seconds:.1f} s{' (per-photo results from the cache)' if args.seed_cache else ''}\n")
    print(tag_report(tags, figures, truth, tagged))

    print("\n| step | wall s | rules run: jobs, wall s, CPU s, peak MB |")
    print("|---|---:|---|")
    print(step("no-op rerun", workdir, photos, args), flush=True)
    if not tags["people"]:
        return  # --share 0: the same library without tags
    old, new, photo = rename_one_tag(photos, sidecars, tags["people"])
    print(step(f"a sidecar edited ({photo}.xmp: {old!r} renamed {new!r})", workdir, photos, args))
    after = read_tsv(results / "experiments" / "photos" / "assignments.tsv")
    persons = Counter(row["person"] for row in after)
    print(f"\nafter the edit: {persons.get(new, 0)} faces named {new!r}, {persons.get(old, 0)} named {old!r}")


if __name__ == "__main__":
    main()
