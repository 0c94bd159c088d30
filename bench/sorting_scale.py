"""The clustering stage (rule cluster_experiment) at a library's scale: time and peak memory.

A 100,000-photo library (about 250,000 faces) does not fit these machines' disk and time through
the per-photo stage, so its faces are made from a real library run's (bench/library.py, e.g. 5,000
photos: 12,679 faces, intel_reid) by copying its photos over and over:

- copy 0 is the real run as it is (its faces.tsv rows and embeddings);
- in every further copy, each real photo comes again with the same faces (box, score and chip:
  the same faces are set aside), as a photo of its own (cannot-link within it, as in the real one):
  - a family face (one of the library's 30 people, weights 1/k) is a new face of the same person:
    centre + cos t * its deviation + sin t * another deviation of that person, t uniform within
    +-ANGLE: for Gaussian deviations, whatever t, a draw with the person's own mean and
    covariance, so each person's spread stays as measured; a small t keeps the new face near its
    real one, as the library's reused photos are (bursts): with ANGLE 0.3 rad one synthetic copy's
    family faces lie as near their nearest face as the real ones (median 0.285, real 0.257; same
    person 5/50/95 % 0.608/0.786/1.005, real 0.609/0.786/1.006), where t uniform over the circle
    (--angle 3.1416: no bursts, a person's faces spread evenly) gives 0.379. The family keeps its
    share of the faces (the first person holds about a sixth of them at every size);
  - a bystander's (or stray detection's) face becomes a new stranger: the copy's own random
    rotation of the bystanders' whitened space (mu + A R A^-1 (x - mu)), which maps their
    distribution (its mean and covariance) onto itself while keeping the copy's bystanders as far
    from one another as the real ones are; the copies' strangers crowd the same space, so a larger
    library has nearer look-alikes, as it would;
- the last copy is a random part of the photos, to reach the size asked.

`check` sorts one synthetic copy (12,679 faces, no real face) and the real faces alike, and
prints, for each, the distances (same person, different people, nearest other face: quantiles)
and BCubed F1 over the family faces, the person being a cluster of faces of at least min_photos
photos (a face in none counts alone): where they agree, the copies stand for the library.

Each size is measured in a fresh process (peak memory its own): faces.tsv read, embeddings
memory-mapped and sort_experiment with config.yaml's default experiment for a photos folder (as
`--config photos=...` runs it), the outputs written, under the job's 2 threads (threadpool_limits,
as scripts/cluster_experiment.py). Run it under the shared lock:

    flock /tmp/fc-heavy.lock .venv/bin/python bench/sorting_scale.py measure --faces 12679 58000 250000
    flock /tmp/fc-heavy.lock .venv/bin/python bench/sorting_scale.py check
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from library import found_faces, read_tsv  # noqa: E402
from others import job_settings  # noqa: E402

from facecluster.clustering.attach_others import persons_of  # noqa: E402
from facecluster.clustering.metrics import external_metrics  # noqa: E402
from facecluster.photos.faces import read_faces, write_faces  # noqa: E402

REAL_LIBRARY = Path("/tmp/fc-library-v4-0-5000-2016x1512")  # bench/library.py --photos 5000 --size 2016x1512
ANGLE = 0.3  # radians: how far a family face's copy turns from its real face (bursts)
JOB_THREADS = 2  # rule cluster_experiment's threads
FAMILY = "family"


# --- the faces ----------------------------------------------------------------------------------


def real_library(run, library):
    """The real run's faces: (embeddings (n, d) float32, faces.tsv rows with absolute chips paths,
    identities, roles). A detection matching no pasted face is a stranger of its own ("stray")."""
    found = found_faces(read_tsv(library / "truth.tsv"), library / "photos", run / "results")
    faces = [replace(face, chips=str(run / face.chips)) for _, _, _, face in found]
    assert [face.row for face in faces] == list(range(len(faces)))
    identities = [t["identity"] if t else f"stray/{face.row}" for t, _, _, face in found]
    roles = [t["role"] if t else "stray" for t, _, _, _ in found]
    embeddings = np.load(next((run / "results" / "photos").glob("*/embeddings.npy")))
    return embeddings, faces, np.array(identities), np.array(roles)


def stranger_map(strangers, rng):
    """A function making new strangers of strangers' embeddings: a random rotation of their
    whitened space, which keeps their mean and covariance (exactly, were they Gaussian)."""
    mean = strangers.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(strangers - mean, rowvar=False))
    scale = np.sqrt(np.maximum(values, values.max() * 1e-9))
    rotation, signs = np.linalg.qr(rng.standard_normal((len(mean), len(mean))))
    rotation *= np.sign(np.diag(signs))  # uniform over rotations (Haar)
    to_white, from_white = vectors / scale, (vectors * scale).T
    return lambda X: mean + (X - mean) @ to_white @ rotation @ from_white


def new_family_faces(X, identities, rng, angle):
    """Each family face again, as a new face of its person: centre + cos t * its deviation +
    sin t * another face's deviation of the person, t uniform within +-angle (the person's mean
    and covariance whatever t)."""
    new = np.empty_like(X, dtype=np.float64)
    for person in np.unique(identities):
        members = np.flatnonzero(identities == person)
        centre = X[members].mean(axis=0)
        deviations = X[members] - centre
        turn = rng.uniform(-angle, angle, (len(members), 1))
        partner = deviations[rng.integers(0, len(members), len(members))]
        new[members] = centre + np.cos(turn) * deviations + np.sin(turn) * partner
    return new


def synthetic_copy(X, identities, roles, copy, rng, angle):
    """Copy `copy` (>= 1) of the real faces: (embeddings, identities); unit length as the real."""
    family = roles == FAMILY
    new = np.empty_like(X, dtype=np.float64)
    new[family] = new_family_faces(X[family], identities[family], rng, angle)
    new[~family] = stranger_map(X[~family], rng)(X[~family])
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    named = np.where(family, identities, np.char.add(identities, f"~{copy}"))
    return new.astype(np.float32), named


def make_library(folder, n_faces, real, seed=0, first_copy=0, angle=ANGLE):
    """Write `n_faces` faces (whole photos) into folder: embeddings.npy, faces.tsv (no labels, as the
    real run) and truth.tsv (identity, role); copies from first_copy on (0: the real faces)."""
    X, faces, identities, roles = real
    rng = np.random.default_rng(seed)
    photo_of = np.unique([face.photo_id for face in faces], return_inverse=True)[1]
    blocks, rows, made, copy = [], [], 0, first_copy
    while made < n_faces:
        embeddings, named = (X, identities) if copy == 0 else synthetic_copy(X, identities, roles, copy, rng, angle)
        # The last copy: photos drawn at random, whole, to the size asked.
        photos = rng.permutation(photo_of.max() + 1)
        cumulative = np.cumsum(np.bincount(photo_of)[photos])
        kept = np.flatnonzero(np.isin(photo_of, photos[: np.searchsorted(cumulative, n_faces - made) + 1]))
        blocks.append(embeddings[kept])
        rows += [(faces[i], named[i], roles[i], copy) for i in kept]
        made += len(kept)
        copy += 1
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "embeddings.npy", np.concatenate(blocks), allow_pickle=False)
    written = [
        replace(face, row=row, photo_id=f"{face.photo_id}~{copy}", path=f"{face.path}~{copy}", label="")
        for row, (face, _, _, copy) in enumerate(rows)
    ]
    write_faces(folder / "faces.tsv", written)
    with open(folder / "truth.tsv", "w", encoding="utf-8") as handle:
        handle.write("identity\trole\n")
        handle.writelines(f"{identity}\t{role}\n" for _, identity, role, _ in rows)


# --- measuring ----------------------------------------------------------------------------------


def sort_folder(folder):
    """The clustering stage on folder's faces, as the job runs it; its cost and what it found."""
    from threadpoolctl import threadpool_limits

    from facecluster.workflow.experiment import sort_experiment

    settings = job_settings(PROJECT_ROOT / "config.yaml", folder, "none", {})
    out = folder / "out"
    out.mkdir(exist_ok=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    embeddings = np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False)
    faces = read_faces(folder / "faces.tsv")
    with threadpool_limits(JOB_THREADS):
        clustering = sort_experiment(embeddings, faces, settings)
    clustering.write(*(out / name for name in ("clusters.tsv", "clustering.json", "coords.npy", "metrics.tsv")))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    truth = read_tsv(folder / "truth.tsv")
    return {
        "faces": len(faces),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
        "notes": clustering.summary["notes"],
        **family_scores(faces, truth, clustering, settings["min_photos"]),
    }


def family_scores(faces, truth, clustering, min_photos):
    """BCubed over the family faces sorted, as bench/library.py scores (a face in no person alone),
    and the persons found."""
    sorted_rows = np.array([i for i, reason in enumerate(clustering.reasons) if not reason])
    photo_codes = np.unique([faces[i].photo_id for i in sorted_rows], return_inverse=True)[1]
    person = persons_of(clustering.clusters[sorted_rows], photo_codes, min_photos)
    alone = np.arange(len(person)) + person.max() + 1
    family = np.array([truth[i]["role"] == FAMILY for i in sorted_rows])
    scores = external_metrics(
        [truth[i]["identity"] for i in sorted_rows[family]], np.where(person >= 0, person, alone)[family]
    )
    return {"persons": int(len(np.unique(person[person >= 0]))), "family_bcubed_f1": round(scores["bcubed_f1"], 4)}


def measure_in_fresh_process(folder):
    """sort_folder in a process of its own, so that its peak memory is its own."""
    command = [sys.executable, __file__, "sort", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


# --- checking the faces stand for the library ---------------------------------------------------


def distance_quantiles(X, identities, rng, pairs=200_000):
    """Quantiles (5, 50, 95 %) of the Euclidean distances of pairs of faces of one person, of two
    people, and of each face to its nearest other face."""
    from facecluster.clustering import neighbors

    first, second = rng.integers(0, len(X), (2, pairs))
    same = identities[first] == identities[second]
    distances = np.linalg.norm(X[first] - X[second], axis=1)
    nearest = neighbors.knn(X, 1)[0][:, 0]
    at = [5, 50, 95]
    return {
        "same_person": np.round(np.percentile(distances[same & (first != second)], at), 3).tolist(),
        "two_people": np.round(np.percentile(distances[~same], at), 3).tolist(),
        "nearest_face": np.round(np.percentile(nearest, at), 3).tolist(),
    }


def check(real, workdir, angle):
    """The real faces and one synthetic copy of them, side by side: distances and sorting."""
    X = real[0]
    for name, first_copy in (("real", 0), ("synthetic", 1)):
        folder = workdir / f"check-{name}-{angle}"
        make_library(folder, len(X), real, first_copy=first_copy, angle=angle)
        made = np.load(folder / "embeddings.npy")
        made_identities = np.array([row["identity"] for row in read_tsv(folder / "truth.tsv")])
        figures = distance_quantiles(made, made_identities, np.random.default_rng(0))
        print(json.dumps({"faces": name, **figures, **measure_in_fresh_process(folder)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["measure", "check", "sort"])
    parser.add_argument("folder", nargs="?", type=Path, help="sort: a folder made by measure")
    parser.add_argument("--faces", type=int, nargs="+", default=[12_679, 58_000, 250_000])
    parser.add_argument("--angle", type=float, default=ANGLE, help="family faces' turn from their real one")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fc-sorting-scale"))
    parser.add_argument("--library", type=Path, default=REAL_LIBRARY, help="a 5,000-photo bench/library.py library")
    parser.add_argument("--run", type=Path, help="its run (default: LIBRARY-run, bench/library.py's)")
    args = parser.parse_args()
    if args.what == "sort":
        print(json.dumps(sort_folder(args.folder)))
        return
    real = real_library(args.run or args.library.with_name(args.library.name + "-run"), args.library)
    if args.what == "check":
        check(real, args.workdir, args.angle)
        return
    print("| faces | photos | wall s | CPU s | peak GB | persons | family BCubed F1 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n_faces in args.faces:
        folder = args.workdir / f"faces-{n_faces}-{args.angle}"
        make_library(folder, n_faces, real, angle=args.angle)
        photos = len({face.photo_id for face in read_faces(folder / "faces.tsv")})
        row = measure_in_fresh_process(folder)
        print(
            f"| {row['faces']:,} | {photos:,} | {row['wall_s']:.0f} | {row['cpu_s']:.0f} | {row['peak_gb']:.2f} | "
            f"{row['persons']} | {row['family_bcubed_f1']:.3f} |",
            flush=True,
        )
        print(f"<!-- {json.dumps(row)} -->", flush=True)


if __name__ == "__main__":
    main()
