"""Robustness: bad photos, dataset mistakes, a crash mid-run, determinism, where files go.

The bad-input corpus is generated here from real LFW photos (no binary
fixtures). Run with -s to see the corpus table (input, status, reason) a run
produced; it is also written to corpus.md in the corpus's tmp folder.
"""

import ast
import csv
import io
import os
import signal
import socket
import struct
import subprocess
import time
import zlib

import numpy as np
import pytest
from conftest import (
    PROJECT_ROOT,
    SNAKEMAKE,
    copy_photos,
    heic_on_its_side,
    lfw_sample,
    read_tsv,
    run_snakemake,
    write_config,
)
from PIL import Image

pytestmark = pytest.mark.workflow

FACE = "Hans_Blix/Hans_Blix_0001.jpg"  # the face of every format variant
OTHER_FACES = [
    "Hugo_Chavez/Hugo_Chavez_0001.jpg",
    "Vladimir_Putin/Vladimir_Putin_0001.jpg",
    "Jennifer_Capriati/Jennifer_Capriati_0001.jpg",
    "Colin_Powell/Colin_Powell_0001.jpg",
]
HIDDEN = "hidden file (its name or a folder above it starts with '.')"
NO_FACE = "no face found by the detector"


def encoded(image, image_format, **options):
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side):
    """A valid 1-bit black PNG of side x side pixels: a few KB on disk, side**2 pixels decoded."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + side // 8)  # filter byte + packed bits
    pixels = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


def make_corpus(folder, lfw_dir):
    """Write the bad-input corpus; return {file name: (what it is, status, reason)}."""
    folder.mkdir()
    original = (lfw_dir / FACE).read_bytes()
    face = Image.open(lfw_dir / FACE)
    grey16 = Image.fromarray(np.asarray(face.convert("L")).astype(np.uint16) * 257)
    rgba = np.asarray(face.convert("RGBA")).copy()
    rgba[:60, :, 3] = 0  # a transparent band, down to the top of the face chip
    rotated_exif = Image.Exif()
    rotated_exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    stored_rotated = face.transpose(Image.Transpose.ROTATE_90)
    big = Image.new("RGB", (8000, 6000), (128, 140, 150))
    big.paste(face.resize((1500, 1500)), (3000, 2000))
    others = [(lfw_dir / name).read_bytes() for name in OTHER_FACES]
    corpus = {
        "empty.jpg": ("zero-byte file", b"", "rejected", "empty file (0 bytes)"),
        "truncated.jpg": (
            "truncated JPEG (first half)",
            original[: len(original) // 2],
            "rejected",
            "damaged or truncated image: image file is truncated",
        ),
        "notes.jpg": (
            "text file named .jpg",
            b"shopping list: milk, eggs\n",
            "rejected",
            "not an image Pillow can read",
        ),
        "cmyk.jpg": ("CMYK JPEG", encoded(face.convert("CMYK"), "JPEG"), "embedded", ""),
        "grey16.png": ("16-bit greyscale PNG", encoded(grey16, "PNG"), "embedded", ""),
        "rgba.png": ("RGBA PNG, transparent band", encoded(Image.fromarray(rgba), "PNG"), "embedded", ""),
        "palette.gif": (
            "palette GIF",
            encoded(face.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"),
            "embedded",
            "",
        ),
        "grey.jpg": ("greyscale JPEG", encoded(face.convert("L"), "JPEG"), "embedded", ""),
        "exif_rotated.jpg": (
            "stored on its side, EXIF orientation 6",
            encoded(stored_rotated, "JPEG", exif=rotated_exif),
            "embedded",
            "",
        ),
        "rotated_no_exif.jpg": (
            "the same pixels without the EXIF tag (control)",
            encoded(stored_rotated, "JPEG"),
            "no_face",
            NO_FACE,
        ),
        "1x1.png": (
            "1x1 image",
            encoded(Image.new("RGB", (1, 1)), "PNG"),
            "rejected",
            "image too small to hold a face (1x1 pixels)",
        ),
        "bomb.png": (
            "decompression bomb: 20000x20000 PNG of 50 KB",
            png_bomb(20000),
            "rejected",
            "decompression bomb",
        ),
        "bomb_100mpx.png": (
            "10000x10000 PNG, past Pillow's warning limit",
            png_bomb(10000),
            "rejected",
            "decompression bomb",
        ),
        "8000x6000.jpg": (
            "8000x6000 photo, face pasted in",
            encoded(big, "JPEG", quality=90),
            "embedded",
            "",
        ),
        "copy 1.jpg": ("byte-identical photo, first name", original, "embedded", ""),
        "copy 2.jpg": ("byte-identical photo, second name", original, "embedded", ""),
        "with space.jpg": ("name with spaces", others[0], "embedded", ""),
        "Zoë ünïcødé 日本.jpg": ("unicode name", others[1], "embedded", ""),
        'it\'s "quoted".jpg': ("quotes in the name", others[2], "embedded", ""),
        "{x}.jpg": ("braces in the name", others[3], "embedded", ""),
        ".hidden.jpg": ("hidden file (a real photo)", original, "rejected", HIDDEN),
    }
    for name, (_, data, _, _) in corpus.items():
        (folder / name).write_bytes(data)
    (folder / "link.jpg").symlink_to("copy 1.jpg")
    (folder / "loop.jpg").symlink_to("loop.jpg")
    table = {name: (what, status, reason) for name, (what, _, status, reason) in corpus.items()}
    table["link.jpg"] = ("symlink to copy 1.jpg", "embedded", "")
    table["loop.jpg"] = (
        "symlink to itself (a loop)",
        "rejected",
        "cannot read the file: Too many levels of symbolic links",
    )
    return table


def snapshot(folder):
    """{relative path: (size, mtime)} of every file, folder and link below folder (links not followed)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            stat = os.lstat(path)
            found[os.path.relpath(path, folder)] = (stat.st_size, stat.st_mtime_ns)
    return found


def written_outside_results(before, after):
    """Entries new or changed between two snapshots, except under results/, Snakemake's .snakemake/
    and models/ (the model files the workflow makes: dlib's saved HOG detector)."""
    changed = [path for path, state in after.items() if before.get(path) != state]
    return [path for path in changed if path.split(os.sep)[0] not in ("results", ".snakemake", "models")]


def markdown_table(expected, ledger):
    lines = ["| input | file | status | reason |", "|---|---|---|---|"]
    for name, (what, _, _) in expected.items():
        row = ledger[name]
        lines.append(f"| {what} | `{name}` | {row['status']} | {row['reason'] or '-'} |")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def corpus_run(lfw_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("corpus")
    expected = make_corpus(work / "corpus", lfw_dir)
    write_config(work, {"corpus": {"path": "corpus", "labels": "none"}})
    before = snapshot(work)
    run_snakemake(work)
    stray = written_outside_results(before, snapshot(work))
    ledger = {row["path"].removeprefix("corpus/"): row for row in read_tsv(work / "results/corpus/dlib/ledger.tsv")}
    table = markdown_table(expected, ledger)
    (work / "corpus.md").write_text(table + "\n")
    print(f"\nThe bad-input corpus, from a real run ({work / 'corpus.md'}):\n\n{table}\n")
    return work, expected, ledger, stray


def test_every_corpus_file_has_its_status_and_reason(corpus_run):
    work, expected, ledger, _ = corpus_run

    assert len(ledger) == len(expected) == len(os.listdir(work / "corpus"))
    assert sorted(ledger) == sorted(expected)
    for name, (_, status, reason) in expected.items():
        assert (ledger[name]["status"], ledger[name]["reason"][: len(reason)]) == (status, reason), name
        assert ledger[name]["n_faces"] == ("1" if status == "embedded" else "0"), name


def test_every_variant_of_the_face_embeds_as_the_same_person(corpus_run):
    work, _, ledger, _ = corpus_run
    faces = read_tsv(work / "results/corpus/dlib/faces.tsv")
    vectors = np.load(work / "results/corpus/dlib/embeddings.npy", allow_pickle=False)
    by_name = {face["path"].removeprefix("corpus/"): vector for face, vector in zip(faces, vectors)}
    variants = [
        "cmyk.jpg",
        "grey16.png",
        "rgba.png",
        "palette.gif",
        "grey.jpg",
        "exif_rotated.jpg",
        "8000x6000.jpg",
        "copy 2.jpg",
        "link.jpg",
    ]

    distances = {name: float(np.linalg.norm(by_name[name] - by_name["copy 1.jpg"])) for name in variants}

    assert max(distances.values()) < 0.4, distances  # dlib's same-person threshold is 0.6
    assert distances["copy 2.jpg"] == distances["link.jpg"] == 0.0
    assert ledger["copy 1.jpg"]["sha256"] == ledger["copy 2.jpg"]["sha256"] == ledger["link.jpg"]["sha256"]


def test_the_huge_photo_box_is_in_its_own_pixels(corpus_run):
    work, _, _, _ = corpus_run
    face = next(
        face for face in read_tsv(work / "results/corpus/dlib/faces.tsv") if face["path"] == "corpus/8000x6000.jpg"
    )
    # The 250 px photo's face, near (67, 68)-(175, 175), was scaled x6 and pasted at (3000, 2000).
    assert abs(float(face["left"]) - 3400) < 200 and abs(float(face["top"]) - 2410) < 200
    assert abs(float(face["right"]) - 4050) < 200 and abs(float(face["bottom"]) - 3050) < 200


def test_the_corpus_run_writes_only_under_results(corpus_run):
    _, _, _, stray = corpus_run
    assert stray == []


def test_a_folder_of_things_that_are_not_plain_photos_finishes_with_every_file_in_the_ledger(lfw_dir, tmp_path):
    """A phone's HEIC photo, a named pipe (which used to stall its batch for ever), a socket, a
    folder named x.jpg, a dangling link, a link loop, a camera RAW file and names holding a tab,
    a newline or a carriage return: the run ends, and each file has its row."""
    folder = tmp_path / "odd"
    face = Image.open(lfw_dir / FACE).convert("RGB")
    copy_photos([(lfw_dir / name, f"x.jpg/{i}.jpg") for i, name in enumerate(OTHER_FACES[:2])], folder)
    (folder / "IMG_0001.HEIC").write_bytes(heic_on_its_side(face))
    (folder / "tab\tname.jpg").write_bytes((lfw_dir / OTHER_FACES[2]).read_bytes())
    (folder / "new\nline.jpg").write_bytes((lfw_dir / OTHER_FACES[3]).read_bytes())
    (folder / "carriage\rreturn.jpg").write_bytes((lfw_dir / OTHER_FACES[1]).read_bytes())
    (folder / "DSC_0001.NEF").write_bytes(encoded(face, "TIFF"))
    os.mkfifo(folder / "fifo.jpg")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "socket.jpg"))
    (folder / "dangling.jpg").symlink_to("gone.jpg")
    (folder / "loop.jpg").symlink_to("loop.jpg")
    expected = {
        "x.jpg/0.jpg": ("embedded", ""),
        "x.jpg/1.jpg": ("embedded", ""),
        "IMG_0001.HEIC": ("embedded", ""),
        "tab\tname.jpg": ("embedded", ""),
        "new\nline.jpg": ("embedded", ""),
        "carriage\rreturn.jpg": ("embedded", ""),
        "DSC_0001.NEF": ("rejected", "camera RAW photo (Nikon NEF): not read"),
        "fifo.jpg": ("rejected", "not a regular file (a named pipe)"),
        "socket.jpg": ("rejected", "not a regular file (a socket)"),
        "dangling.jpg": ("rejected", "cannot read the file: No such file or directory"),
        "loop.jpg": ("rejected", "cannot read the file: Too many levels of symbolic links"),
    }
    write_config(tmp_path, {"odd": {"path": "odd", "labels": "none"}})

    run_snakemake(tmp_path, timeout=300)

    # Read back as the README says, names with a tab, a newline or a carriage return included.
    with open(tmp_path / "results/odd/dlib/ledger.tsv", newline="", encoding="utf-8") as handle:
        header, *rows = csv.reader(handle, delimiter="\t")
    ledger = {row["path"].removeprefix("odd/"): row for row in (dict(zip(header, row)) for row in rows)}
    assert sorted(ledger) == sorted(expected)
    for name, (status, reason) in expected.items():
        assert (ledger[name]["status"], ledger[name]["reason"][: len(reason)]) == (status, reason), name
    assert ledger["IMG_0001.HEIC"]["n_faces"] == "1"


def assert_stops_before_any_job(work, message):
    write_config(work, {"holiday": {"path": "holiday"}})

    result = run_snakemake(work, check=False)

    assert result.returncode != 0
    assert f"datasets.holiday.path: folder 'holiday' {message}" in result.stderr
    assert not (work / "results").exists()


def test_an_empty_dataset_folder_stops_before_any_job(tmp_path):
    (tmp_path / "holiday").mkdir()
    assert_stops_before_any_job(tmp_path, "holds no files")


def test_a_dataset_without_a_readable_photo_stops_before_any_job(lfw_dir, tmp_path):
    copy_photos([(lfw_dir / FACE, ".hidden/face.jpg")], tmp_path / "holiday")
    (tmp_path / "holiday/notes.txt").write_text("a list")
    (tmp_path / "holiday/empty.jpg").write_bytes(b"")
    assert_stops_before_any_job(
        tmp_path,
        "holds no readable photo: 3 files, none usable ('.hidden/face.jpg': hidden file; "
        "'empty.jpg': not an image Pillow can read; 'notes.txt': not an image Pillow can read)",
    )


PEOPLE = ["Hans_Blix", "Hugo_Chavez", "Vladimir_Putin", "Jennifer_Capriati"]
RESULTS = [
    "people/dlib/ledger.tsv",
    "people/dlib/embeddings.npy",
    "experiments/sweep/assignments.tsv",
    "experiments/sweep/metrics.json",
]


def people_workdir(root, name):
    """60 LFW photos and one experiment; dataset paths relative, so outputs compare byte for byte."""
    work = root / name
    copy_photos(lfw_sample(PEOPLE, 15), work / "photos")
    experiments = {"sweep": {"dataset": "people", "cluster": {"method": "kmeans", "k": [3, 4, 5]}}}
    write_config(work, {"people": {"path": "photos", "labels": "folders"}}, experiments=experiments)
    return work


def outputs(work):
    return {path: (work / "results" / path).read_bytes() for path in RESULTS}


def kill_mid_stage(work):
    """Start Snakemake; SIGKILL its process group once a batch is done and others are not."""
    command = [str(SNAKEMAKE), "-s", str(PROJECT_ROOT / "Snakefile"), "--cores", "2"]
    with open(work / "killed.log", "w") as log:
        process = subprocess.Popen(command, cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    batches = work / "results/people/dlib/batches"
    while not list(batches.glob("*/ledger.tsv")):
        if process.poll() is not None:
            raise AssertionError("snakemake ended before the kill:\n" + (work / "killed.log").read_text())
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return len(list(batches.glob("*/ledger.tsv")))


@pytest.fixture(scope="module")
def people_runs(lfw_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("people")
    cores1, cores2, crashed = (people_workdir(root, name) for name in ("cores1", "cores2", "crashed"))
    before = snapshot(cores1)
    run_snakemake(cores1, "--cores", "1")
    stray = written_outside_results(before, snapshot(cores1))
    run_snakemake(cores2)
    return cores1, cores2, crashed, stray


def test_cores_1_and_2_give_identical_results(people_runs):
    cores1, cores2, _, _ = people_runs
    assert outputs(cores1) == outputs(cores2)


def test_a_run_killed_mid_stage_resumes_to_identical_results(people_runs):
    cores1, _, crashed, _ = people_runs
    n_batches = len(list((cores1 / "results/people/dlib/batches").iterdir()))

    finished = kill_mid_stage(crashed)

    assert 1 <= finished < n_batches
    assert not (crashed / "results/people/dlib/ledger.tsv").exists()
    # SIGKILL leaves Snakemake's lock behind; docs/how-it-works.md says to unlock, then rerun as usual.
    locked = run_snakemake(crashed, check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stderr
    run_snakemake(crashed, "--unlock")
    run_snakemake(crashed)  # the plain command: no --rerun-incomplete needed
    assert outputs(crashed) == outputs(cores1)


def test_a_run_writes_only_under_results(people_runs):
    _, _, _, stray = people_runs
    assert stray == []


def unsafe_loads(source):
    """Calls in Python source that could run code from a data file: pickle, yaml.load, np.load with pickles."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + [getattr(node, "module", None)]
            found += [f"import {name}" for name in names if name in ("pickle", "dill", "joblib")]
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        call = f"{ast.unparse(node.func.value)}.{node.func.attr}"
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if call in ("yaml.load", "yaml.full_load", "yaml.unsafe_load"):
            found.append(call)
        if call in ("np.load", "numpy.load") and keywords.get("allow_pickle") != "False":
            found.append(f"{call} without allow_pickle=False")
    return found


def test_the_library_and_scripts_load_data_safely():
    sources = sorted((PROJECT_ROOT / "facecluster").glob("*.py")) + sorted((PROJECT_ROOT / "scripts").glob("*.py"))

    unsafe = {path.name: unsafe_loads(path.read_text()) for path in sources}

    assert {name: calls for name, calls in unsafe.items() if calls} == {}
    assert unsafe_loads("import pickle\nnp.load(p)\nyaml.load(f)\nnp.load(p, allow_pickle=False)") == [
        "import pickle",
        "np.load without allow_pickle=False",
        "yaml.load",
    ]
