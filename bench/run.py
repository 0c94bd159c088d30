"""The benchmark suite: how fast the workflow is, against what, and how it grows.

    .venv/bin/python bench/run.py                    # the full suite (20-40 minutes on 2 cores)
    .venv/bin/python bench/run.py --photos 4 --added 2 --one-by-one 2 --per-photo 2 \\
        --dag 30 --aggregate 120x8 --repeats 1 --out /tmp/results.md   # a smoke run

Runs every line of the table on the first photos of ../shared/datasets/lfw-dev
(sorted path order, symlinked into a temporary folder) and on generated data,
with the product's model settings (or --model's) and batch size from config.yaml, and writes
a Markdown table (bench/results.md): per line the median of --repeats runs
(a DAG or aggregate run longer than --slow-seconds is not repeated past
--slow-repeats runs), its target, and pass or fail. See bench/README.md.
"""

import argparse
import csv
import datetime
import io
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

import yaml

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
K_SWEEP = {"from": 2, "to": 50}
# One 8x8 PNG, the DAG line's stand-in for a photo (listing reads no pixels).
TINY_PNG_SIDE = 8
PARTS = ["photos", "dag", "aggregate"]


def main():
    args = parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="facecluster-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    suite = Suite(args, work)
    rows = suite.run()
    write_section(args.out, results_table(rows))
    print(f"wrote its section of {args.out}")
    if not args.workdir:
        shutil.rmtree(work)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=PROJECT_ROOT.parent / "shared/datasets/lfw-dev")
    parser.add_argument("--photos", type=int, default=1000, help="pipeline and model-only photos")
    parser.add_argument("--added", type=int, default=10, help="photos added for the incremental rerun")
    parser.add_argument("--one-by-one", type=int, default=300, help="photos of the one-by-one line")
    parser.add_argument("--per-photo", type=int, default=100, help="photos of the per-photo jobs line")
    parser.add_argument("--dag", type=int, nargs="+", default=[10_000, 100_000], help="photo counts of the DAG line")
    parser.add_argument(
        "--aggregate",
        nargs="+",
        default=["100000x512", "1000000x128"],
        help="FACESxDIM synthetic embeddings of the aggregate line",
    )
    parser.add_argument("--components", type=int, default=2, help="PCA components of the aggregate line")
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=PARTS,
        help="photos: model-only, pipeline, one-by-one, per-photo jobs, incremental",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="a YAML file of one model's settings (as under config.yaml's models:) "
        "for the photo lines; default: config.yaml's default model",
    )
    parser.add_argument("--batch-size", type=int, help="photos per per-photo job; default: config.yaml's")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-seconds", type=float, default=120)
    parser.add_argument("--slow-repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=BENCH / "results.md")
    parser.add_argument("--workdir", type=Path, help="kept afterwards (default: a temporary folder, removed)")
    args = parser.parse_args()
    if not args.dataset.is_dir():
        parser.error(f"--dataset {args.dataset} does not exist (see ../shared/datasets/README.md)")
    args.aggregate = [tuple(int(v) for v in case.split("x")) for case in args.aggregate]
    return args


class Suite:
    def __init__(self, args, work):
        from facecluster.photos.listing import list_photos
        from facecluster.workflow.config import validate_config

        self.args = args
        self.work = work
        # The product's defaults: the model and batch size users run.
        product = validate_config(yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text()))
        self.model = self.validated_model(args.model) if args.model else product["models"][product["default_model"]]
        self.batch_size = args.batch_size or product["batch_size"]
        self.photo_max_side = product["photo_max_side"]
        self.entries = list_photos(args.dataset)[: args.photos + args.added]
        self.paths = [os.path.abspath(entry.path) for entry in self.entries]

    def run(self):
        parts = self.args.parts
        return (
            (self.photo_rows() if "photos" in parts else [])
            + (self.dag_rows() if "dag" in parts else [])
            + (self.aggregate_rows() if "aggregate" in parts else [])
        )

    def photo_rows(self):
        """The lines on real photos. They run in rounds, one of each line per round, and the
        ratios are per round (then their median), so that a busy spell on a shared machine
        weighs on both sides of a ratio."""
        self.models_home = self.prepare_models()
        args, n = self.args, self.args.photos
        runs = {line: [] for line in ("model-only", "pipeline", "incremental", "one-by-one", "per-photo jobs")}
        for _ in range(args.repeats):
            runs["model-only"].append(sampled(self.model_only()))
            full, incremental = self.pipeline_and_incremental()
            runs["pipeline"].append(sampled(full))
            runs["incremental"].append(sampled(incremental))
            runs["one-by-one"].append(sampled(self.one_by_one()))
            runs["per-photo jobs"].append(sampled(self.per_photo_jobs()))
        seconds = {line: [s for s, _ in line_runs] for line, line_runs in runs.items()}
        speed = {
            line: count / median(seconds[line])
            for line, count in [
                ("model-only", n),
                ("pipeline", n),
                ("one-by-one", args.one_by_one),
                ("per-photo jobs", args.per_photo),
            ]
        }
        # Per round: pipeline photos/s over model-only's and over per-photo jobs'; incremental share.
        versus_model = [m / f for m, f in zip(seconds["model-only"], seconds["pipeline"])]
        versus_jobs = [n * p / (f * args.per_photo) for f, p in zip(seconds["pipeline"], seconds["per-photo jobs"])]
        shares = [i / f for i, f in zip(seconds["incremental"], seconds["pipeline"])]
        return [
            Row(
                "model-only",
                f"detect + embed, {args.cores} processes on {n:,} pre-decoded photos "
                "split in equal parts, no Snakemake",
                runs["model-only"],
                f"{speed['model-only']:.1f} photos/s",
            ),
            Row(
                "pipeline",
                f"`snakemake --cores {args.cores}` end to end on {n:,} photos, fresh "
                "results and content cache (the model files made once beforehand, untimed)",
                runs["pipeline"],
                f"{speed['pipeline']:.1f} photos/s; {listed(versus_model)} x model-only per round",
                ">= 0.8 x model-only",
                median(versus_model) >= 0.8,
            ),
            Row(
                "one-by-one",
                f"1 process (1 core), {args.one_by_one:,} photos one at a time, one "
                "network call per face, an .npy per photo, model load included",
                runs["one-by-one"],
                f"{speed['one-by-one']:.1f} photos/s; pipeline per core: {speed['pipeline'] / args.cores:.1f}",
            ),
            Row(
                "per-photo jobs",
                f"`bench/per_photo.smk`, --cores {args.cores}, {args.per_photo:,} "
                "photos, a job per photo loading the models (files made beforehand, as for the pipeline)",
                runs["per-photo jobs"],
                f"{speed['per-photo jobs']:.2f} photos/s; pipeline {listed(versus_jobs)} x this per round",
                "pipeline >= 10 x per-photo jobs",
                median(versus_jobs) >= 10,
            ),
            Row(
                "incremental",
                f"rerun after adding {args.added} photos to the {n:,}",
                runs["incremental"],
                f"{median(seconds['incremental']):.1f} s; {listed(shares, percent=True)} of the full run per round",
                "<= 10 % of the full run",
                median(shares) <= 0.10,
            ),
        ]

    def dag_rows(self):
        rows = []
        for photos in self.args.dag:
            runs = self.measure(lambda photos=photos: self.dag(photos))
            seconds, target = median([s for s, _ in runs]), photos == 100_000
            rows.append(
                Row(
                    "DAG",
                    f"`snakemake -n`, {photos:,} photos ({TINY_PNG_SIDE}x{TINY_PNG_SIDE} PNGs)",
                    runs,
                    f"{seconds:.1f} s",
                    "<= 60 s" if target else "",
                    seconds <= 60 if target else None,
                )
            )
        return rows

    def aggregate_rows(self):
        return [self.aggregate_row(faces, dim) for faces, dim in self.args.aggregate]

    def measure(self, run):
        """[(result, load)] of --repeats runs of `run()`; --slow-repeats when a run takes --slow-seconds."""
        results = []
        for _ in range(self.args.repeats):
            started = time.perf_counter()
            results.append(sampled(run()))
            if time.perf_counter() - started > self.args.slow_seconds and len(results) >= self.args.slow_repeats:
                break
        return results

    # --- the lines ---------------------------------------------------------------------

    def model_only(self):
        """Seconds for `cores` processes to detect and embed their share of pre-decoded photos."""
        parts = [self.paths[i : self.args.photos : self.args.cores] for i in range(self.args.cores)]
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(len(parts))
        return max(
            in_processes(
                _model_only,
                [(part, self.model, self.photo_max_side, self.models_home, barrier) for part in parts],
            )
        )

    def pipeline_and_incremental(self):
        """(seconds of a fresh run on --photos, seconds of the rerun with --added more)."""
        folder = self.fresh_folder("pipeline")
        link_photos(self.entries[: self.args.photos], self.args.dataset, folder / "photos")
        self.write_config(folder)
        (folder / "models").symlink_to(self.models_home / "models")
        full = snakemake(folder, self.args.cores)
        link_photos(self.entries[self.args.photos :], self.args.dataset, folder / "photos")
        incremental = snakemake(folder, self.args.cores)
        require_ledger_rows(folder, len(self.entries))
        return full, incremental

    def one_by_one(self):
        out = self.fresh_folder("one-by-one")
        (seconds,) = in_processes(
            _one_by_one,
            [(self.paths[: self.args.one_by_one], self.model, self.photo_max_side, self.models_home, out)],
        )
        return seconds

    def per_photo_jobs(self):
        folder = self.fresh_folder("per-photo")
        link_photos(self.entries[: self.args.per_photo], self.args.dataset, folder / "photos")
        config = {
            "photos": str(folder / "photos"),
            "model": self.model,
            "photo_max_side": self.photo_max_side,
        }
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        (folder / "models").symlink_to(self.models_home / "models")
        return snakemake(folder, self.args.cores, snakefile=BENCH / "per_photo.smk")

    def dag(self, photos):
        folder = self.work / f"dag-{photos}"
        if not (folder / "config.yaml").exists():
            write_tiny_photos(folder / "photos", photos)
            self.write_config(folder)
        shutil.rmtree(folder / "results", ignore_errors=True)
        shutil.rmtree(folder / ".snakemake", ignore_errors=True)
        return snakemake(folder, self.args.cores, "-n")

    def aggregate_row(self, faces, dim):
        folder = self.fresh_folder(f"aggregate-{faces}x{dim}")
        in_processes(_write_synthetic, [(folder, faces, dim)])
        settings = self.experiment_settings(folder)
        runs = self.measure(lambda: in_processes(_cluster_experiment, [(folder, settings, self.args.cores)])[0])
        seconds = median([s for (s, _), _ in runs])
        peak_gb = max(gb for (_, gb), _ in runs)
        time_target, memory_target = (faces, dim) == (100_000, 512), (faces, dim) == (1_000_000, 128)
        return Row(
            "aggregate",
            f"PCA to {self.args.components} + K-means K=2..50, {faces:,} x {dim} "
            f"synthetic embeddings (`cluster_experiment`, {self.args.cores} threads as its rule), "
            "a fresh process per run",
            [(s, load) for (s, _), load in runs],
            f"{seconds:.1f} s, peak RSS {peak_gb:.2f} GB",
            "<= 60 s" if time_target else "<= 24 GB" if memory_target else "",
            seconds <= 60 if time_target else peak_gb <= 24 if memory_target else None,
        )

    # --- helpers -----------------------------------------------------------------------

    def fresh_folder(self, name):
        folder = self.work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def prepare_models(self):
        """A folder whose models/ holds the files the workflow makes once per installation
        (dlib's saved detector, its ResNet prepared for numpy, dlib_tf's conversion), made by
        the product's own rules, untimed: every photo line uses them, as a user's runs after
        the first find them."""
        from facecluster.workflow.plan import model_inputs

        folder = self.fresh_folder("models-home")
        link_photos(self.entries[:1], self.args.dataset, folder / "photos")
        self.write_config(folder)
        snakemake(folder, self.args.cores, *sum(model_inputs(self.model).values(), []))
        return folder

    def validated_model(self, path):
        from facecluster.workflow.config import validate_config

        config = validate_config(
            {
                "datasets": {"photos": {"path": "photos"}},
                "models": {"model": yaml.safe_load(path.read_text())},
                "default_model": "model",
                "experiments": {},
            }
        )
        return config["models"]["model"]

    def write_config(self, folder):
        config = {
            "batch_size": self.batch_size,
            "photo_max_side": self.photo_max_side,
            "datasets": {"photos": {"path": "photos", "labels": "folders"}},
            "models": {"model": self.model},
            "default_model": "model",
        }
        (folder / "config.yaml").write_text(yaml.safe_dump(config))

    def experiment_settings(self, folder):
        from facecluster.workflow.config import validate_config
        from facecluster.workflow.specs import resolve

        config = validate_config(
            {
                "datasets": {"synthetic": {"path": str(folder)}},
                "models": {"model": self.model},
                "default_model": "model",
                "experiments": {
                    "sweep": {
                        "dataset": "synthetic",
                        "reduce": {"method": "pca", "components": self.args.components},
                        "cluster": {"method": "kmeans", "k": K_SWEEP},
                    }
                },
            }
        )
        return resolve(config).experiments["sweep"].job_settings()


class Row:
    """A line of the table; runs: [(seconds, 1-minute load average just after)]."""

    def __init__(self, line, what, runs, value, target="", passed=None):
        self.line, self.what, self.runs, self.value = line, what, runs, value
        self.target, self.passed = target, passed

    def markdown(self):
        result = "-" if self.passed is None else "pass" if self.passed else "**fail**"
        runs = ", ".join(f"{seconds:.1f} ({load:.1f})" for seconds, load in self.runs)
        return (
            f"| {self.line} | {self.what} | {len(self.runs)}: {runs} | {self.value} | {self.target or '-'} | {result} |"
        )


def sampled(result):
    """(result, the 1-minute load average now): other work on the machine shows there."""
    return result, os.getloadavg()[0]


def listed(ratios, percent=False):
    """'0.85, 0.83, 0.90 (median 0.85)' of per-round ratios."""
    show = (lambda r: f"{r:.1%}") if percent else (lambda r: f"{r:.2f}")
    text = ", ".join(map(show, ratios))
    return f"{text} (median {show(median(ratios))})" if len(ratios) > 1 else text


def median(values):
    return statistics.median(values)


# This benchmark's section of bench/results.md, which holds every benchmark's.
SECTION = "## End to end: the pipeline against the models alone (`bench/run.py`)"


def write_section(path, section):
    """Replace this benchmark's section of `path`, keeping the others; a new file holds it alone."""
    text = path.read_text() if path.exists() else ""
    start = text.find(SECTION)
    if start < 0:
        path.write_text(text + ("\n" if text else "") + section)
        return
    end = text.find("\n## ", start + len(SECTION))
    path.write_text(text[:start] + section + (text[end + 1 :] if end >= 0 else ""))


def results_table(rows):
    command = " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]])
    lines = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores ({cpu_model()}), "
        f"{memory_gb():.0f} GB, Python {platform.python_version()}, by `{command}` "
        "(see bench/README.md). Each line: how many runs, the seconds of each and, in brackets, "
        f"the 1-minute load average just after it (up to {os.cpu_count()}: this suite alone; "
        "more: other work shared the machine); then the medians, the target and the result. "
        "The photo lines run in rounds (one of each per round) and their ratios are per round.",
        "",
        "| line | what | runs: seconds (load) | value: medians | target | result |",
        "|---|---|---|---|---|---|",
        *(row.markdown() for row in rows),
        "",
    ]
    return "\n".join(lines)


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def memory_gb():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3


def link_photos(entries, dataset, folder):
    for entry in entries:
        target = folder / entry.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to((dataset / entry.relpath).resolve())


def write_tiny_photos(folder, photos, per_folder=100):
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (TINY_PNG_SIDE, TINY_PNG_SIDE), (128, 128, 128)).save(png, format="PNG")
    data = png.getvalue()
    for index in range(photos):
        person = folder / f"person{index // per_folder:05d}"
        person.mkdir(parents=True, exist_ok=True)
        (person / f"{index % per_folder:03d}.png").write_bytes(data)


def snakemake(folder, cores, *args, snakefile=PROJECT_ROOT / "Snakefile"):
    """Seconds of one Snakemake run in `folder` with its config.yaml; its output goes to snakemake-N.log."""
    command = [
        str(SNAKEMAKE),
        "-s",
        str(snakefile),
        "--directory",
        str(folder),
        "--configfile",
        str(folder / "config.yaml"),
        "--cores",
        str(cores),
        *args,
    ]
    log = folder / f"snakemake-{len(list(folder.glob('snakemake-*.log')))}.log"
    started = time.perf_counter()
    with open(log, "w") as handle:
        finished = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"snakemake failed in {folder}:\n{log.read_text()[-4000:]}")
    return seconds


def require_ledger_rows(folder, expected):
    with open(folder / "results/photos/model/ledger.tsv", newline="") as handle:
        rows = sum(1 for _ in csv.DictReader(handle, delimiter="\t"))
    if rows != expected:
        raise RuntimeError(f"{folder}: the ledger has {rows} rows, not {expected}")


def in_processes(function, calls):
    """`function(*args)` for each args, each in a fresh process of its own, all at once; the results."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_report, args=(queue, index, function, args), daemon=True)
        for index, args in enumerate(calls)
    ]
    for process in processes:
        process.start()
    results = {}
    while len(results) < len(processes):
        try:
            index, result = queue.get(timeout=10)
        except Empty:
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            if dead:  # killed without a word (out of memory)
                raise RuntimeError(f"{function.__name__}: a process died (exit code {dead[0]})") from None
            continue
        if isinstance(result, Exception):
            raise result
        results[index] = result
    for process in processes:
        process.join()
    return [results[index] for index in range(len(calls))]


def _report(queue, index, function, args):
    try:
        queue.put((index, function(*args)))
    except Exception as exc:
        queue.put((index, RuntimeError(f"{function.__name__}: {exc!r}")))
        raise


# --- what runs in the fresh processes ------------------------------------------------------


def _model_only(paths, model, photo_max_side, home, barrier):
    """Decode `paths`, load the models (the files in `home`/models), wait for the other processes;
    seconds to detect and embed."""
    import numpy as np

    from facecluster.photos.batch import BatchProcessor
    from facecluster.photos.decoding import decode_bytes, read_bytes

    photos = [(None, decode_bytes(read_bytes(path)[0], photo_max_side)) for path in paths]
    # The product's own steps (BatchProcessor's detect/align and embed), without files.
    os.chdir(home)
    processor = BatchProcessor(model, cache_dir=os.devnull, photo_max_side=photo_max_side)
    barrier.wait()
    started = time.perf_counter()
    step = processor.detect_batch
    aligned = [
        chips
        for start in range(0, len(photos), step)
        for _, (_, chips) in processor.detect_and_align(photos[start : start + step])
    ]
    stacked = np.concatenate(aligned)
    for start in range(0, len(stacked), processor.embed_batch):
        processor.embedder.embed(stacked[start : start + processor.embed_batch])
    return time.perf_counter() - started


def _one_by_one(paths, model, photo_max_side, home, out):
    """The article's way: seconds to load the models (the files in `home`/models), then per photo
    decode, detect, embed face by face, save."""
    import numpy as np

    from facecluster.photos.batch import BatchProcessor, find_faces
    from facecluster.photos.decoding import decode_bytes, read_bytes

    os.chdir(home)
    started = time.perf_counter()
    processor = BatchProcessor(model, cache_dir=os.devnull, photo_max_side=photo_max_side)
    for index, path in enumerate(paths):
        photo = decode_bytes(read_bytes(path)[0], photo_max_side)
        _, chips = processor.align(photo, find_faces(processor.detector, photo.rgb, processor.search_side))
        vectors = [processor.embedder.embed(chip[None]) for chip in chips]
        empty = np.zeros((0, processor.embedder.dim), np.float32)
        np.save(out / f"{index}.npy", np.concatenate(vectors) if vectors else empty)
    return time.perf_counter() - started


def _write_synthetic(folder, faces, dim):
    """embeddings.npy and faces.tsv of `faces` synthetic faces (10 per person), as gather writes them."""
    import numpy as np
    from cluster_scale import synthetic_faces

    from facecluster.photos.faces import Face, write_faces

    points, labels = synthetic_faces(faces, dim=dim)
    np.save(folder / "embeddings.npy", points, allow_pickle=False)
    write_faces(
        folder / "faces.tsv",
        [Face(row, f"photo{row}", "", f"person{label}", 0, 0, 0, 0, 0, 1.0, "") for row, label in enumerate(labels)],
    )


def _cluster_experiment(folder, settings, threads):
    """(seconds, peak RSS in GB) of the experiment rule's library call, in this fresh process."""
    from threadpoolctl import threadpool_limits

    from facecluster.workflow.experiment import cluster_experiment

    started = time.perf_counter()
    with threadpool_limits(threads):  # as scripts/cluster_experiment.py does
        cluster_experiment(
            folder / "embeddings.npy",
            folder / "faces.tsv",
            settings,
            folder / "assignments.tsv",
            folder / "metrics.json",
            folder / "coords.npy",
            folder / "metrics.tsv",
        )
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


if __name__ == "__main__":
    main()
