"""Decoding a photo: from bytes to an upright 8-bit RGB array, or a reason why not.

Every file is read once: its bytes give both the sha256 and the image.
"""

import hashlib
import io
import os
import stat
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import PurePath

import numpy as np
from PIL import Image, ImageOps


class RejectedPhoto(Exception):
    """The file cannot be used as a photo; str(exc) is the reason, for a person."""


# Larger files are rejected unread: reading one whole would take a job's memory, and no image
# Pillow decodes under its decompression-bomb limit (89.5 Mpx, 16-bit RGBA: 716 MB) is larger.
MAX_FILE_BYTES = 2**30

# HEIF brands (the `ftyp` box's major brand), as pi-heif recognises them: HEIC/HEIF photos.
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1")

# Camera RAW is recognised to be rejected with its format's name, not read: reading it takes
# LibRaw, and Pillow alone would return a TIFF-based RAW's small embedded preview.
RAW_MAGIC = [
    (0, b"FUJIFILMCCD-RAW", "Fujifilm RAF"),
    (0, b"IIRO", "Olympus ORF"),
    (0, b"IIRS", "Olympus ORF"),
    (0, b"MMOR", "Olympus ORF"),
    (0, b"IIU\0", "Panasonic RW2"),
    (0, b"II\x1a\0\0\0HEAPCCDR", "Canon CRW"),
    (0, b"II*\0\x10\0\0\0CR", "Canon CR2"),
    (4, b"ftypcrx ", "Canon CR3"),
    (0, b"\0MRM", "Minolta MRW"),
    (0, b"FOVb", "Sigma X3F"),
]
# TIFF-based RAW formats look like any TIFF at the start: their extension names them.
RAW_EXTENSIONS = {
    ".dng": "DNG",
    ".nef": "Nikon NEF",
    ".nrw": "Nikon NRW",
    ".arw": "Sony ARW",
    ".srf": "Sony SRF",
    ".sr2": "Sony SR2",
    ".pef": "Pentax PEF",
    ".srw": "Samsung SRW",
    ".3fr": "Hasselblad 3FR",
    ".iiq": "Phase One IIQ",
    ".erf": "Epson ERF",
    ".kdc": "Kodak KDC",
    ".dcr": "Kodak DCR",
    ".rwl": "Leica RWL",
}
TIFF_MAGIC = (b"II*\0", b"MM\0*")
# A JPEG larger than the size asked for is decoded reduced by 2, 4 or 8 (draft mode, a fraction of a
# full decode's time) down to this share of it: an 8064 px photo asked at 4096 is decoded at 4032 px,
# where asking for 4096 or more would decode it whole and resize it.
DRAFT_FLOOR = 0.75
DNG_VERSION_TAG = 50706


@dataclass
class DecodedPhoto:
    image: Image.Image  # RGB, upright, possibly downscaled
    original_size: tuple  # (width, height) upright, before any downscaling
    scale: float  # image pixels per original pixel (<= 1)

    @cached_property
    def rgb(self):
        """(h, w, 3) uint8: the image as an array, made when first needed (0.05 s a 12 MP photo)."""
        return np.asarray(self.image)

    def to_search(self, side):
        """What a detector's copy of at most `side` pixels is made from: the image when it is
        reduced (the search copy needs no array of the whole photo), else the array."""
        return self.image if max(self.image.size) > side else self.rgb


def read_bytes(path):
    """(file content, its sha256); RejectedPhoto when the file cannot be read."""
    require_regular_file(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise _unreadable(exc) from exc
    return data, hashlib.sha256(data).hexdigest()


def check_header(path):
    """RejectedPhoto if the file's header already shows it is no usable photo.

    Cheap enough for listing time: reads the header only and decodes nothing,
    so a truncated photo passes here and is rejected when decoded.
    """
    require_regular_file(path)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise _unreadable(exc) from exc
    with handle, _pillow_errors_as_reasons():
        _open_checked(handle, path)


def require_regular_file(path):
    """RejectedPhoto unless `path` (links followed) is a regular file of at most MAX_FILE_BYTES.

    Checked before any open: opening a named pipe waits for a writer, for
    ever, and reading a device may never end.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _unreadable(exc) from exc
    if not stat.S_ISREG(info.st_mode):
        raise RejectedPhoto(f"not a regular file ({_file_kind(info.st_mode)})")
    if info.st_size > MAX_FILE_BYTES:
        raise RejectedPhoto(f"file too large to be a photo ({info.st_size} bytes; at most {MAX_FILE_BYTES} are read)")


def _file_kind(mode):
    kinds = [
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ]
    return next((kind for test, kind in kinds if test(mode)), "not a file")


def _unreadable(exc):
    return RejectedPhoto(f"cannot read the file: {exc.strerror or exc}")


def decode_bytes(data, max_side, name=""):
    """Decode image bytes to a DecodedPhoto; RejectedPhoto with a clear reason if not a photo.

    `name` (the file's name or path) only names a camera RAW format that its
    bytes do not. Photos larger than `max_side` on their long side are decoded
    reduced (JPEG draft mode: the DCT does the downscaling, by 2, 4 or 8, to no
    less than DRAFT_FLOOR of `max_side`) and resized to fit where still larger.
    """
    if not data:
        raise RejectedPhoto("empty file (0 bytes)")
    with _pillow_errors_as_reasons():
        image = _open_checked(io.BytesIO(data), name)
        original_size = _upright_size(image)
        if max(image.size) > max_side and image.format == "JPEG":
            image.draft("RGB", _fit(image.size, max_side * DRAFT_FLOOR))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # not a copy of the whole photo
        rgb_image = _to_rgb(image)
    if max(rgb_image.size) > max_side:
        rgb_image = rgb_image.resize(_fit(rgb_image.size, max_side), Image.Resampling.BILINEAR)
    scale = rgb_image.size[0] / original_size[0]
    return DecodedPhoto(image=rgb_image, original_size=original_size, scale=scale)


@contextmanager
def _pillow_errors_as_reasons():
    """Turn what Pillow raises on a bad file into RejectedPhoto with a reason for a person."""
    with warnings.catch_warnings():
        # Pillow warns above MAX_IMAGE_PIXELS (89.5 Mpx) and raises above twice
        # that: any photo past the warning is a decompression bomb, rejected.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except RejectedPhoto:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise RejectedPhoto(f"decompression bomb: {exc}") from exc
        except Image.UnidentifiedImageError as exc:
            raise RejectedPhoto("not an image Pillow can read") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise RejectedPhoto(f"damaged or truncated image: {exc}") from exc


def _open_checked(source, name):
    """Image.open (which stops bombs), then no camera RAW and nothing too small to hold a face."""
    header = source.read(16)
    source.seek(0)
    _reject_camera_raw(_camera_raw_format(header, name))
    register_opener_for(header)
    image = Image.open(source)
    if image.format == "TIFF" and DNG_VERSION_TAG in image.tag_v2:
        _reject_camera_raw("DNG")
    width, height = image.size
    if width < 2 or height < 2:
        raise RejectedPhoto(f"image too small to hold a face ({width}x{height} pixels)")
    return image


def _reject_camera_raw(raw_format):
    if raw_format is not None:
        raise RejectedPhoto(f"camera RAW photo ({raw_format}): not read; export it as JPEG, HEIC or TIFF")


def _camera_raw_format(header, name):
    """The camera RAW format the header (or, for a TIFF-based one, the name) shows, or None."""
    for offset, magic, raw_format in RAW_MAGIC:
        if header[offset : offset + len(magic)] == magic:
            return raw_format
    if header[:4] in TIFF_MAGIC:
        return RAW_EXTENSIONS.get(PurePath(str(name)).suffix.lower())
    return None


def register_opener_for(header):
    """Teach Pillow HEIF when a file's first bytes (`header`, 12 or more) show a HEIC/HEIF."""
    if header[4:8] == b"ftyp" and header[8:12] in HEIF_BRANDS:
        _register_heif_opener()


@cache
def _register_heif_opener():
    """Teach Pillow HEIC/HEIF (phones' photos), in the first process that meets one: pi-heif
    (libheif) costs about as much to import as Pillow itself, at every job start.

    pi-heif is pillow-heif's decode-only build (libheif and libde265, LGPL; no
    x265 encoder, whose GPL would cover pillow-heif's wheels): facecluster only
    reads HEIF, and never imports pillow_heif (the tests use it to write one).
    libheif applies the container's rotation and mirroring (irot/imir: how
    phones store orientation), and pi-heif then resets the EXIF orientation to
    1, so that exif_transpose does not turn the photo twice. Thumbnails, depth
    maps and auxiliary images are never used here.
    """
    import pi_heif

    pi_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _upright_size(image):
    """The (w, h) the image has once its EXIF orientation is applied."""
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _fit(size, max_side):
    width, height = size
    factor = max_side / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def _to_rgb(image):
    """8-bit RGB from any mode: transparency over white, 16-bit scaled down, CMYK converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: Pillow's convert('L') clips, so rescale by the true range.
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max() > 255 else 255.0
        image = Image.fromarray((values / top * 255).round().astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    # convert() of an RGB image is a copy of it (0.02-0.04 s for a 12 MP photo).
    return image if image.mode == "RGB" else image.convert("RGB")
