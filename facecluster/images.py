"""Decoding a photo: from bytes to an upright 8-bit RGB array, or a reason why not.

Every file is read once: its bytes give both the sha256 and the image.
"""

import hashlib
import io
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps


class RejectedPhoto(Exception):
    """The file cannot be used as a photo; str(exc) is the reason, for a person."""


@dataclass
class DecodedPhoto:
    rgb: np.ndarray  # (h, w, 3) uint8, upright, possibly downscaled
    original_size: tuple  # (width, height) upright, before any downscaling
    scale: float  # rgb pixels per original pixel (<= 1)


def read_bytes(path):
    """(file content, its sha256); RejectedPhoto when the file cannot be read."""
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
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise _unreadable(exc) from exc
    with handle, _pillow_errors_as_reasons():
        _open_checked(handle)


def _unreadable(exc):
    return RejectedPhoto(f"cannot read the file: {exc.strerror or exc}")


def decode_bytes(data, max_side):
    """Decode image bytes to a DecodedPhoto; RejectedPhoto with a clear reason if not a photo.

    Photos larger than `max_side` on their long side are decoded reduced
    (JPEG draft mode: the DCT does the downscaling) and resized to fit.
    """
    if not data:
        raise RejectedPhoto("empty file (0 bytes)")
    with _pillow_errors_as_reasons():
        image = _open_checked(io.BytesIO(data))
        original_size = _upright_size(image)
        if max(image.size) > max_side and image.format == "JPEG":
            image.draft("RGB", _fit(image.size, max_side))
        image.load()
        image = ImageOps.exif_transpose(image)
        rgb_image = _to_rgb(image)
    if max(rgb_image.size) > max_side:
        rgb_image = rgb_image.resize(_fit(rgb_image.size, max_side), Image.Resampling.BILINEAR)
    scale = rgb_image.size[0] / original_size[0]
    return DecodedPhoto(rgb=np.asarray(rgb_image), original_size=original_size, scale=scale)


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


def _open_checked(source):
    """Image.open (which stops bombs), then nothing too small to hold a face."""
    image = Image.open(source)
    width, height = image.size
    if width < 2 or height < 2:
        raise RejectedPhoto(f"image too small to hold a face ({width}x{height} pixels)")
    return image


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
    return image.convert("RGB")
