"""Contact sheets: faces in a grid under a title, composed with PIL, paged so that no image is
over MAX_SIDE pixels on a side. Apart from facecluster.outputs.plots (matplotlib), which a job that only
writes sheets (people folders) need not import.

Names are drawn in a real font, whatever their script (text_font): DejaVu Sans, which comes with
matplotlib and draws Latin, Greek and Cyrillic; for a name it cannot draw (Chinese, Japanese,
Korean, ...), a system font that draws every character of it; when there is none, each character
no font draws is shown as UNDRAWN and the title says where the exact name is, never as empty boxes.
"""

import functools
import math
import os
import shutil
import subprocess
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

MAX_SIDE = 4096
GRID_GAP, GRID_TOP = 4, 36
# matplotlib's own copy (its package data, found without importing matplotlib).
DEJAVU_SANS = Path(find_spec("matplotlib").origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
UNDRAWN = "?"
# How a sheet is saved, by its name's suffix. A full page of 480 faces (844 x 4,068 px): PNG at
# zlib's fastest level 0.47 s and 5.5 MB, JPEG at quality 90 without chroma subsampling (the
# title's letters stay sharp) 0.02 s and 1.1 MB: the people folders' sheets are JPEGs.
SAVED_AS = {
    ".png": {"format": "PNG", "compress_level": 1},
    ".jpg": {"format": "JPEG", "quality": 90, "subsampling": 0},
}
UNDRAWN_NOTE = f"({UNDRAWN} = a letter no font here draws: see the folder's name)"


def grid_capacity(columns=10, thumb_px=80):
    """The most faces a face_grid page holds within MAX_SIDE pixels."""
    return columns * ((MAX_SIDE - GRID_TOP) // (thumb_px + GRID_GAP))


def face_grid(path, chips, *, title, columns=10, thumb_px=80, drawn=0):
    """Faces in a grid under a title, composed with PIL; the first grid_capacity() of them
    (the title says when there were more). chips: a list, or a sequence that loads each one
    when indexed and slices (facecluster.outputs.assignments.LazyChips).

    drawn: how many of the first chips the page at path shows already, where they stay; the page
    gets the faces after them and its new title. A person of thousands of faces shows the same
    first ones after a day's photos, only more of them counted; a smaller person's page gains a
    few at its end. A full page kept so costs 0.05 s, where drawing its 480 faces takes 0.15-0.25.
    The part kept is a JPEG saved again: page after page at the same quality, it settles within
    53 dB (PSNR) of the first drawing, and no loss builds up."""
    gap, top = GRID_GAP, GRID_TOP
    shown = chips[: grid_capacity(columns, thumb_px)]
    rows = max(1, math.ceil(len(shown) / columns))
    cell = thumb_px + gap
    sheet = Image.new("RGB", (gap + columns * cell, top + rows * cell), "white")
    path = Path(path)
    if drawn:
        with Image.open(path) as page:
            sheet.paste(page.convert("RGB").crop((0, top, page.width, page.height)), (0, top))
    _draw_title(sheet, title, len(chips), grid_capacity(columns, thumb_px))
    for i in range(drawn, len(shown)):
        chip = shown[i]
        thumb = ImageOps.pad(Image.fromarray(np.asarray(chip, dtype=np.uint8)), (thumb_px, thumb_px), color="white")
        sheet.paste(thumb, (gap + (i % columns) * cell, top + (i // columns) * cell))
    _save(sheet, path)


def _draw_title(sheet, title, count, most):
    """A page's title, over the white band at its top."""
    if count > most:
        title = f"{title} (first {most} shown)"
    if drawn_as(title) != title:
        title = f"{title} {UNDRAWN_NOTE}"
    font, shown_title = fitted_title(title, sheet.width - 2 * GRID_GAP)
    ImageDraw.Draw(sheet).text((GRID_GAP, 8), shown_title, fill="black", font=font)


def fitted_title(title, width, sizes=(18, 16, 14, 12)):
    """(font, text) of a title within `width` pixels: smaller letters first, then the middle left
    out (an ellipsis), so that a long name keeps its start and the counts after it."""
    for size in sizes:
        font, shown = text_font(title, size)
        if font.getlength(shown) <= width:
            return font, shown
    keep = len(shown)
    while keep > 2 and font.getlength(_middle_out(shown, keep)) > width:
        keep -= 1
    return font, _middle_out(shown, keep)


def _middle_out(text, keep):
    """text with all but `keep` of its characters left out of its middle, an ellipsis in their place."""
    if keep >= len(text):
        return text
    head = (keep + 1) // 2
    return f"{text[:head]}…{text[len(text) - (keep - head) :]}"


def _save(sheet, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its place, then renamed over it: a page redrawn while someone looks at the
    # folder (the review app) is never seen half-written.
    temporary = path.with_name(f".{path.name}.tmp")
    sheet.save(temporary, **SAVED_AS[path.suffix.lower()])
    os.replace(temporary, path)


def text_font(text, size):
    """(font, text to draw) for text at size pixels: see the module's docstring."""
    path, index, shown = _drawable(text)
    return _font(path, index, size), shown


@functools.lru_cache(maxsize=32)
def _font(path, index, size):
    return ImageFont.truetype(path, size, index=index)


def drawn_as(text):
    """text as text_font draws it: each character no font here draws replaced by UNDRAWN."""
    return _drawable(text)[2]


def font_file(text):
    """The font file text_font draws text in."""
    return _drawable(text)[0]


@functools.cache
def _drawable(text):
    """(font file, face index in it, text to draw)."""
    chars = set(text)
    if chars <= _characters(DEJAVU_SANS, 0):
        return DEJAVU_SANS, 0, text
    for path, index in _system_fonts(chars):
        if chars <= _characters(path, index):
            return path, index, text
    known = _characters(DEJAVU_SANS, 0)
    return DEJAVU_SANS, 0, "".join(c if c in known else UNDRAWN for c in text)


def _system_fonts(chars):
    """[(font file, face index)] that may draw chars: fontconfig's best sans-serif match for them
    where fontconfig is installed, else every font matplotlib's font manager finds (sorted)."""
    if shutil.which("fc-match"):
        charset = " ".join(f"{ord(c):x}" for c in sorted(chars))
        found = subprocess.run(
            ["fc-match", "--format=%{file}\t%{index}", f"sans-serif:charset={charset}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split("\t")
        return [(found[0], int(found[1]))] if len(found) == 2 and found[1].isdigit() else []
    from matplotlib import font_manager

    return [(path, 0) for path in sorted(font_manager.findSystemFonts())]


@functools.lru_cache(maxsize=32)
def _characters(path, index):
    """The characters a font draws (its character map); none when it cannot be read."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            return frozenset(chr(code) for code in font.getBestCmap() or {})
    except (OSError, TTLibError):
        return frozenset()
