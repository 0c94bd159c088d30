"""Every photo people keep, and files that are not photos: HEIC, camera RAW, pipes, sockets, devices, huge
files; and the TSV outputs read back with ordinary readers whatever the file names hold."""

import csv
import io
import os
import re
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import PROJECT_ROOT, heic_on_its_side
from PIL import Image

from facecluster.outputs.assignments import Assignment, read_assignments, write_assignments
from facecluster.outputs.people_folders import PeopleRow, read_people, write_people
from facecluster.photos.decoding import MAX_FILE_BYTES, RejectedPhoto, check_header, decode_bytes, read_bytes
from facecluster.photos.faces import Face, read_faces, write_faces
from facecluster.photos.ledger import LedgerRow, read_ledger, write_ledger
from facecluster.tables import tsv_writer

FACE = "Hans_Blix/Hans_Blix_0001.jpg"


def test_a_heic_photo_decodes_upright(lfw_dir, tmp_path):
    # Not square, so that a photo left on its side has the wrong shape too.
    upright = Image.open(lfw_dir / FACE).convert("RGB").crop((0, 0, 250, 200))
    data = heic_on_its_side(upright)
    assert data[4:12] == b"ftypheic"
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(data)

    check_header(path)
    decoded = decode_bytes(read_bytes(path)[0], max_side=1600, name=str(path))

    assert decoded.original_size == (250, 200)
    assert decoded.rgb.shape == (200, 250, 3)
    difference = np.abs(decoded.rgb.astype(int) - np.asarray(upright, int)).mean()
    assert difference < 5, difference
    # The same pixels left on their side would be far off: the check above can fail.
    on_its_side = np.asarray(upright.transpose(Image.Transpose.ROTATE_90).resize((250, 200)), int)
    assert np.abs(decoded.rgb.astype(int) - on_its_side).mean() > 30


# Decodes a HEIC file in a process where pillow-heif cannot be imported; prints the size and the opener's package.
READ_WITHOUT_PILLOW_HEIF = """
import sys
sys.modules["pillow_heif"] = None  # importing it now raises ImportError
from PIL import Image
from facecluster.photos.decoding import check_header, decode_bytes, read_bytes
check_header(sys.argv[1])
decoded = decode_bytes(read_bytes(sys.argv[1])[0], max_side=1600, name=sys.argv[1])
print(decoded.original_size, decoded.rgb.shape, Image.OPEN["HEIF"][0].__module__)
"""


def test_heic_is_read_by_pi_heif_never_by_pillow_heif(lfw_dir, tmp_path):
    """pillow-heif's wheels are GPL-2.0 (they bundle x265): it only writes the tests' HEIC files."""
    upright = Image.open(lfw_dir / FACE).convert("RGB").crop((0, 0, 250, 200))
    path = tmp_path / "IMG_0002.HEIC"
    path.write_bytes(heic_on_its_side(upright))

    result = subprocess.run(
        [sys.executable, "-c", READ_WITHOUT_PILLOW_HEIF, str(path)], capture_output=True, text=True, cwd=PROJECT_ROOT
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(250,", "200)", "(200,", "250,", "3)", "pi_heif.as_plugin"]
    for source in [*(PROJECT_ROOT / "facecluster").rglob("*.py"), *(PROJECT_ROOT / "scripts").glob("*.py")]:
        assert not re.search(r"^\s*(import|from)\s+pillow_heif\b", source.read_text(), re.M), f"{source} imports it"


def encoded(image, image_format, **options):
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


TIFF = encoded(Image.new("RGB", (64, 48), (120, 90, 60)), "TIFF")


@pytest.mark.parametrize(
    "name, data, raw_format",
    [
        ("IMG_0001.CR2", b"II*\0\x10\0\0\0CR\x02\0" + bytes(64), "Canon CR2"),
        ("IMG_0001.CR3", b"\0\0\0\x18ftypcrx " + bytes(64), "Canon CR3"),
        ("DSCF0001.RAF", b"FUJIFILMCCD-RAW 0201" + bytes(64), "Fujifilm RAF"),
        ("DSC_0001.NEF", TIFF, "Nikon NEF"),
        ("DSC00001.ARW", TIFF, "Sony ARW"),
        ("IMG_0001.dng", TIFF, "DNG"),
        ("no extension", encoded(Image.new("RGB", (64, 48)), "TIFF", tiffinfo={50706: b"\1\4\0\0"}), "DNG"),
    ],
)
def test_camera_raw_is_rejected_naming_its_format(tmp_path, name, data, raw_format):
    path = tmp_path / name
    path.write_bytes(data)
    reason = f"camera RAW photo ({raw_format}): not read"

    with pytest.raises(RejectedPhoto, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_header(path)
    with pytest.raises(RejectedPhoto, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decode_bytes(data, max_side=1600, name=str(path))


def test_a_plain_tiff_is_still_a_photo(tmp_path):
    path = tmp_path / "scan.tif"
    path.write_bytes(TIFF)

    check_header(path)
    assert decode_bytes(TIFF, max_side=1600, name=str(path)).rgb.shape == (48, 64, 3)


def rejected_within(seconds, check, path):
    """The RejectedPhoto reason `check(path)` gives, failing (not hanging) if it takes longer."""
    outcome = []

    def run():
        try:
            check(path)
            outcome.append("accepted")
        except RejectedPhoto as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"{check.__name__} still blocked on {path} after {seconds} s"
    return outcome[0]


@pytest.mark.parametrize("check", [read_bytes, check_header])
def test_a_named_pipe_is_rejected_without_being_opened(tmp_path, check):
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer, for ever

    assert rejected_within(5, check, fifo) == "not a regular file (a named pipe)"


@pytest.mark.parametrize("check", [read_bytes, check_header])
def test_sockets_and_devices_are_rejected(tmp_path, check):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.jpg"))
    sock.close()  # the socket file stays
    (tmp_path / "zero.jpg").symlink_to("/dev/zero")  # reading it would never end

    assert rejected_within(5, check, tmp_path / "s.jpg") == "not a regular file (a socket)"
    assert rejected_within(5, check, tmp_path / "zero.jpg") == "not a regular file (a character device)"


def test_a_file_too_large_to_be_a_photo_is_rejected_unread(tmp_path):
    path = tmp_path / "huge.jpg"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written

    for check in (read_bytes, check_header):
        assert rejected_within(5, check, path).startswith("file too large to be a photo")


ODD_NAMES = [
    "tab\there.jpg",
    "new\nline.jpg",
    "carriage\rreturn.jpg",
    "windows\r\nline end.jpg",
    "ends in\r",
    'it\'s "quoted".jpg',
    "plain.jpg",
    "NA",
]


@pytest.fixture
def odd_ledger(tmp_path):
    rows = [
        LedgerRow(id=f"p{i}", path=f"photos/{name}", label="", status="no_face") for i, name in enumerate(ODD_NAMES)
    ]
    path = tmp_path / "ledger.tsv"
    write_ledger(path, rows)
    return path


def test_names_with_tabs_newlines_and_carriage_returns_are_quoted_and_read_back_by_csv(odd_ledger):
    text = odd_ledger.read_bytes().decode("utf-8")  # read_text would turn "\r" into "\n"
    assert '"photos/tab\there.jpg"' in text and '"photos/new\nline.jpg"' in text
    assert '"photos/carriage\rreturn.jpg"' in text and '"photos/ends in\r"' in text

    # The reader settings docs/outputs.md gives.
    with open(odd_ledger, newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle, delimiter="\t"))

    assert [row[1] for row in table[1:]] == [f"photos/{name}" for name in ODD_NAMES]
    assert [row.path for row in read_ledger(odd_ledger)] == [f"photos/{name}" for name in ODD_NAMES]


def test_names_with_tabs_newlines_and_carriage_returns_are_read_back_by_pandas(odd_ledger):
    pd = pytest.importorskip("pandas", reason="pandas is not installed (it is no dependency of facecluster)")

    # The reader settings docs/outputs.md gives.
    table = pd.read_csv(odd_ledger, sep="\t", quoting=csv.QUOTE_MINIMAL, keep_default_na=False)

    assert table["path"].tolist() == [f"photos/{name}" for name in ODD_NAMES]
    assert table["label"].tolist() == [""] * len(ODD_NAMES)


CELLS = [
    ["id", "path", 3, 0.25, -1, None, "", 'say "cheese"', "a\tb", "a\nb", "plain name.jpg", "\udcff.jpg"],
    ["", "x", 1e-07, True],
]


def test_the_shared_tsv_writers_change_no_byte_but_a_carriage_returns_quoting(tmp_path):
    """tsv_writer writes what csv.writer(lineterminator="\n") wrote (runs compare outputs byte for byte),
    except that a field holding a "\r" is quoted."""
    written = {}
    for name, make in [("before", lambda h: csv.writer(h, delimiter="\t", lineterminator="\n")), ("now", tsv_writer)]:
        with open(tmp_path / name, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
            make(handle).writerows(CELLS)
        written[name] = (tmp_path / name).read_bytes()
    assert written["now"] == written["before"]

    rows = [PeopleRow("person_0001", (0, 3), 2, 2, "a\rb", 0.5), PeopleRow("others", (), 1, 1, "", None)]
    write_people(tmp_path / "people.tsv", rows)
    assert (tmp_path / "people.tsv").read_bytes() == (
        b"folder\tclusters\tfaces\tphotos\ttop_label\ttop_label_share\n"
        b'person_0001\t0,3\t2\t2\t"a\rb"\t0.5\nothers\t\t1\t1\t\t\n'
    )
    assert read_people(tmp_path / "people.tsv") == rows


def test_every_tsv_output_is_written_through_the_shared_writers():
    for source in (PROJECT_ROOT / "facecluster").rglob("*.py"):
        if source.name != "tables.py":
            text = source.read_text()
            assert "csv.writer(" not in text and "csv.DictWriter(" not in text, f"{source}: use facecluster.tables"


def test_faces_and_assignments_read_back_as_written_numbers_parsed(tmp_path):
    face = Face(3, "p-1", "a b.jpg", "obama", 1, 10, 20.5, 110, 140.25, 0.9412, "batch/p-1.chips.npy")
    write_faces(tmp_path / "faces.tsv", [face])
    (read,) = read_faces(tmp_path / "faces.tsv")
    assert read == face and isinstance(read.left, float) and isinstance(read.row, int)
    assigned = Assignment.of_face(read, cluster=-1, person="others", set_aside="too_small", hidden=True)
    write_assignments(tmp_path / "assignments.tsv", [assigned])
    assert read_assignments(tmp_path / "assignments.tsv") == [assigned]
    assert (tmp_path / "assignments.tsv").read_text().splitlines()[1].split("\t")[4:] == [
        "10.0",
        "20.5",
        "110.0",
        "140.25",
        "obama",
        "-1",
        "batch/p-1.chips.npy",
        "others",
        "too_small",
        "yes",
    ]
