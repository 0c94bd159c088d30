"""Contact sheets: faces in a grid under a title, composed with PIL, paged so that no image is
over MAX_SIDE pixels on a side. Apart from facecluster.outputs.plots (matplotlib), which a job that only
writes sheets (people folders) need not import."""

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

MAX_SIDE = 4096
GRID_GAP, GRID_TOP = 4, 36


def grid_capacity(columns=10, thumb_px=80):
    """The most faces a face_grid page holds within MAX_SIDE pixels."""
    return columns * ((MAX_SIDE - GRID_TOP) // (thumb_px + GRID_GAP))


def face_grid(path, chips, *, title, columns=10, thumb_px=80):
    """Faces in a grid under a title, composed with PIL; the first grid_capacity() of them
    (the title says when there were more). chips: a list, or a sequence that loads each one
    when indexed and slices (facecluster.workflow.experiment.LazyChips)."""
    gap, top = GRID_GAP, GRID_TOP
    most = grid_capacity(columns, thumb_px)
    shown = chips[:most]
    if len(chips) > most:
        title = f"{title} (first {most} shown)"
    rows = max(1, math.ceil(len(shown) / columns))
    cell = thumb_px + gap
    sheet = Image.new("RGB", (gap + columns * cell, top + rows * cell), "white")
    ImageDraw.Draw(sheet).text((gap, 8), title, fill="black", font=ImageFont.load_default(size=18))
    for i in range(len(shown)):
        chip = shown[i]
        thumb = ImageOps.pad(Image.fromarray(np.asarray(chip, dtype=np.uint8)), (thumb_px, thumb_px), color="white")
        sheet.paste(thumb, (gap + (i % columns) * cell, top + (i // columns) * cell))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")


def face_pages(path, chips, *, title):
    """Every face, on as many face_grid pages as they need: path itself, then path's name with
    _2, _3, ... (contact_sheet.png, contact_sheet_2.png); returns the pages written."""
    path, most = Path(path), grid_capacity()
    n_pages = max(1, math.ceil(len(chips) / most))
    pages = []
    for page in range(n_pages):
        page_path = path if page == 0 else path.with_name(f"{path.stem}_{page + 1}{path.suffix}")
        numbered = f"{title}, page {page + 1} of {n_pages}" if n_pages > 1 else title
        face_grid(page_path, chips[page * most : (page + 1) * most], title=numbered)
        pages.append(page_path)
    return pages
