"""Shared fixtures: the real photos in ../shared/datasets, a local HTTP server, Snakemake runs."""

import csv
import io
import shutil
import socket
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from PIL import Image

from facecluster.outputs.assignments import Assignment
from facecluster.photos.faces import Face
from facecluster.workflow.download import read_manifest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
LFW_DIR = DATASETS / "lfw-dev"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
# The first 10 people of lfw-dev with >= 20 photos: 2 photos each make the descriptor tests' 20 chips.
TEN_PEOPLE = [
    "Alejandro_Toledo",
    "Alvaro_Uribe",
    "Andre_Agassi",
    "Angelina_Jolie",
    "Ariel_Sharon",
    "Arnold_Schwarzenegger",
    "Atal_Bihari_Vajpayee",
    "Carlos_Menem",
    "Colin_Powell",
    "George_W_Bush",
]


def require_datasets():
    if not LFW_DIR.is_dir():
        pytest.skip(
            f"../shared/datasets is absent: the real photos are expected in {DATASETS} "
            "(see its README); tests on real photos cannot run without them"
        )
    return DATASETS


@pytest.fixture(scope="session")
def datasets():
    return require_datasets()


@pytest.fixture(scope="session")
def lfw_dir(datasets):
    return LFW_DIR


@pytest.fixture
def lfw_server(lfw_dir):
    """Serve lfw-dev over HTTP on 127.0.0.1 (the LFW site's layout) and record every GET path."""
    requested_paths = []

    class CountingHandler(SimpleHTTPRequestHandler):
        def do_GET(self):
            requested_paths.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(CountingHandler, directory=str(lfw_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/", requested_paths=requested_paths)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def heic_on_its_side(upright):
    """A HEIC file as a phone writes one: pixels stored on their side, the orientation (EXIF 6,
    "rotate 90 degrees clockwise to display") in the EXIF and in the container (irot)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    buffer = io.BytesIO()
    # pillow-heif writes it (pi-heif, which facecluster reads with, cannot encode): the test extra only, as
    # its wheels are GPL-2.0. Its Pillow opener is never registered; facecluster's reading registers pi-heif's.
    import pillow_heif

    pillow_heif.from_pillow(stored).save(buffer, format="HEIF", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def copy_photos(sources, folder):
    """Copy (source, relative destination) pairs into folder; return folder."""
    for source, relpath in sources:
        target = Path(folder) / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return Path(folder)


def lfw_sample(people, per_person, offset=0):
    """(source, 'Name/file') pairs: photos offset..offset+per_person of each person, sorted."""
    pairs = []
    for person in people:
        files = sorted((LFW_DIR / person).iterdir())[offset : offset + per_person]
        pairs.extend((f, f"{person}/{f.name}") for f in files)
    return pairs


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory):
    """Where the tests' model files are made, once per session (as rule prepare_model would)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def make_processor(model_folder):
    """A BatchProcessor for a model's settings (as under `models:`), its model files made."""
    from facecluster.photos.batch import BatchProcessor
    from facecluster.workflow.config import validated_model
    from facecluster.workflow.plan import prepare_model_files

    def make(model, cache, photo_max_side=1600, threads=1):
        settings = validated_model(model)
        return BatchProcessor(
            settings,
            cache,
            photo_max_side=photo_max_side,
            threads=threads,
            files=prepare_model_files(settings, model_folder),
        )

    return make


@pytest.fixture(scope="session")
def make_model(model_folder):
    """(detector, embedder) for a model's settings (as under `models:`), its model files made."""
    from facecluster.photos.detectors import make_detector
    from facecluster.photos.embedders import make_embedder
    from facecluster.workflow.config import validated_model
    from facecluster.workflow.plan import prepare_model_files

    def make(model, threads=1):
        settings = validated_model(model)
        files = prepare_model_files(settings, model_folder)
        return (
            make_detector(settings["detector"], files["detector"], threads),
            make_embedder(settings["embedder"], files["embedder"], threads),
        )

    return make


def build_embedder(files=(), **settings):
    """The embedder of `settings` (as under `embedder:`, validated, defaults filled) built from `files`."""
    from facecluster.photos.embedders import make_embedder
    from facecluster.workflow.config import validated_model

    model = validated_model({"detector": {"name": "none"}, "embedder": settings})
    return make_embedder(model["embedder"], files)


def dlib_model(**detector):
    return {
        "detector": {"name": "dlib_hog", "upsample": 1, "keep": "center", "min_size": 20, **detector},
        "embedder": {"name": "dlib"},
    }


def write_config(folder, datasets, models=None, **extra):
    config = {
        "batch_size": 8,
        "datasets": datasets,
        "models": models or {"dlib": dlib_model()},
        "default_model": "dlib",
        **extra,
    }
    path = Path(folder) / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def a_face(**given):
    """A faces.tsv row: what is given, zeros and empty strings elsewhere."""
    return Face(
        **{"row": 0, "photo_id": "", "path": "", "label": "", "face_index": 0, **_BOX, "score": 0.0, "chips": ""}
        | given
    )


def an_assignment(**given):
    """An assignments.tsv row: what is given, zeros and empty strings elsewhere (a face in no cluster)."""
    blank = {"row": 0, "photo_id": "", "path": "", "face_index": 0, **_BOX, "label": "", "cluster": -1, "chips": ""}
    return Assignment(**blank | {"person": "", "set_aside": "", "hidden": False} | given)


_BOX = {"left": 0.0, "top": 0.0, "right": 0.0, "bottom": 0.0}


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
HEADLESS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync"
).split()


def start_chromium(profile, downloads=None):
    """Debian's chromium, headless, driven by selenium (skips without them): a fresh profile in
    `profile`, files saved to `downloads`, 1280 x 900, a find waiting up to 5 s for what a click shows."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} is absent: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in HEADLESS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if downloads is not None:
        prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
        options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_window_size(1280, 900)
    # A link's view is drawn on the hashchange event, after the click returns: wait for what it shows.
    driver.implicitly_wait(5)
    return driver


def run_snakemake(workdir, *args, check=True, env=None, timeout=None):
    """Run the project's workflow in workdir with workdir/config.yaml; return the CompletedProcess.

    `env`: the environment (default: this one's); `timeout`: seconds, after which it fails."""
    command = [
        str(SNAKEMAKE),
        "-s",
        str(PROJECT_ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(Path(workdir) / "config.yaml"),
        "--cores",
        "2",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stderr[-6000:]}")
    return result


# Downloads: the demo's manifest, a manifest of one of its photos, and a URL that refuses.
DEMO_MANIFEST = PROJECT_ROOT / "data" / "demo-photos.tsv"


def write_manifest(path, rows):
    path.write_text("path\tsha256\n" + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def one_photo_manifest(folder):
    path, sha256 = read_manifest(DEMO_MANIFEST)[0]
    return path, write_manifest(folder / "one.tsv", [f"{path}\t{sha256}"])


def refused_url():
    """An http:// URL on 127.0.0.1 where nothing listens: a port just bound, then freed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/images"


# The review tests' folder: four lfw people, sorted by dlib's descriptors with the face kept centred.
REVIEW_PEOPLE = ["Arnold_Schwarzenegger", "Hugo_Chavez", "Jennifer_Capriati", "Vladimir_Putin"]
REVIEW_MODEL = {"detector": {"name": "yunet", "keep": "center", "min_size": 16}, "embedder": {"name": "dlib"}}


def sort_review_folder(work, photos, **experiment):
    """Sort `photos` (labelled by folder) in `work` as experiment `four`, agglomerative, with `experiment`'s
    settings besides; returns `work`."""
    experiment = {"dataset": "four", "cluster": {"method": "agglomerative"}, **experiment}
    write_config(
        work,
        {"four": {"path": str(photos), "labels": "folders"}},
        models={"dlib": REVIEW_MODEL},
        experiments={"four": experiment},
    )
    run_snakemake(work)
    return work


def require_exiftool():
    """exiftool's path; skips without it (Debian's libimage-exiftool-perl, which .ci/run installs)."""
    path = shutil.which("exiftool")
    if path is None:
        pytest.skip("exiftool is absent: install Debian's libimage-exiftool-perl (.ci/run does) to write the tags")
    return path


def exiftool_write(target, tags, photo=None):
    """Write `tags` ({exiftool tag: value}, structures as dicts and lists) with exiftool itself: into
    `target` (a photo, in place), or, where `target` does not exist, into a new sidecar made from
    `photo` (its tags copied, as digiKam's sidecars hold them) or from nothing."""
    import json

    exiftool = require_exiftool()
    target = Path(target)
    spec = target.with_name(f".{target.name}.json")
    spec.write_text(json.dumps([{"SourceFile": "*", **tags}], ensure_ascii=False), encoding="utf-8")
    if target.exists():
        command = [exiftool, "-q", "-overwrite_original", f"-json={spec}", str(target)]
    else:
        command = [exiftool, "-q", f"-json={spec}", "-o", str(target), *([str(photo)] if photo else [])]
    subprocess.run(command, check=True, capture_output=True)
    spec.unlink()
    return target


def exiftool_read(path, *tags):
    """exiftool's -json -struct reading of a file (all its tags, or `tags`: ["-RegionInfo", ...])."""
    import json

    command = [require_exiftool(), "-json", "-struct", "-G1", *tags, str(path)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)[0]


def mwg_regions(width, height, regions):
    """exiftool's XMP-mwg-rs:RegionInfo of (name, (left, top, right, bottom) in pixels) regions."""
    return {
        "AppliedToDimensions": {"W": width, "H": height, "Unit": "pixel"},
        "RegionList": [
            {
                "Area": {
                    "X": (left + right) / 2 / width,
                    "Y": (top + bottom) / 2 / height,
                    "W": (right - left) / width,
                    "H": (bottom - top) / height,
                    "Unit": "normalized",
                },
                "Name": name,
                "Type": kind,
            }
            for name, (left, top, right, bottom), kind in ((*r, "Face") if len(r) == 2 else r for r in regions)
        ],
    }


@pytest.fixture(scope="session")
def yunet_boxes(model_folder):
    """YuNet's boxes [(left, top, right, bottom)] of a photo (a path, EXIF orientation applied), as the
    per-photo stage finds them at full size."""
    import numpy as np
    from PIL import ImageOps

    from facecluster.photos.detectors import make_detector
    from facecluster.workflow.config import validated_model
    from facecluster.workflow.plan import prepare_model

    folder = model_folder / "yunet"
    if not folder.exists():
        prepare_model("yunet", folder)
    model = {"detector": {"name": "yunet", "keep": "all", "min_size": 16}, "embedder": {"name": "dlib"}}
    detector = make_detector(validated_model(model)["detector"], [str(folder)], 1)

    def boxes(path):
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        return [tuple(float(v) for v in d.box) for d in detector.detect(rgb)]

    return boxes


def folder_entries(folder):
    """PhotoEntry-like rows of every file of a folder, as the listing gives them."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
    return [
        SimpleNamespace(id=p.name, relpath=p.relative_to(folder).as_posix(), path=str(p), hidden=p.name.startswith("."))
        for p in files
    ]
