"""PNG figures for a face-clustering experiment.

Every figure is a `matplotlib.figure.Figure` drawn on an Agg canvas, never pyplot's
global state, so plotting is safe in worker processes and no figure lingers after
its function returns. PNGs are saved at a fixed dpi without version or date
metadata, so the same inputs give byte-identical files.

Conventions: cluster labels are ints and -1 means "others" (no person's: drawn grey);
true labels are strings (a None label is also "others"); face chips are uint8 arrays
of shape (h, w, 3). No image is larger than MAX_SIDE pixels on a side: plots with many
faces draw a seeded sample (and say so), contact sheets are cut into pages.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image, ImageDraw, ImageOps

from facecluster.outputs import sheets
from facecluster.outputs.sheets import MAX_SIDE
from facecluster.tables import UNKNOWN

DPI = 120

UNKNOWN_COLOUR = "#9e9e9e"
MAX_LEGEND_GROUPS = 20
NAME_CHARS = 32
MAX_ANNOTATED_CELLS = 40

# tab20 reordered dark shades first, with its greys removed: grey means "others".
_TAB20 = colormaps["tab20"].colors
PALETTE = [c for i, c in enumerate(_TAB20[0::2] + _TAB20[1::2]) if i not in (7, 17)]

EXTERNAL_METRICS = {
    "same_person_share": "same-person share",
    "purity": "purity",
    "ari": "ARI",
    "nmi": "NMI",
    "v_measure": "V-measure",
    "pairwise_f1": "pairwise F1",
    "bcubed_f1": "BCubed F1",
}
# Each internal score's name, and which way is better.
INTERNAL_METRICS = {
    "silhouette": ("silhouette", "higher"),
    "davies_bouldin": ("Davies-Bouldin", "lower"),
    "calinski_harabasz": ("Calinski-Harabasz", "higher"),
}


def scatter_clusters(path, coords, clusters, labels=None, *, title, max_points=5000, seed=0):
    """2-D scatter coloured by person found (a cluster's name or number), and beside it by true
    person when labels are given. Draws a seeded random subset when there are more than
    max_points faces (the title says so)."""
    coords = np.asarray(coords, dtype=float)
    clusters = _as_list(clusters)
    if len(coords) > max_points:
        drawn = np.sort(np.random.default_rng(seed).choice(len(coords), max_points, replace=False))
        title = f"{title}\n{max_points} of {len(coords)} faces shown (random subset, seed {seed})"
        coords, clusters = coords[drawn], [clusters[i] for i in drawn]
        labels = None if labels is None else [_as_list(labels)[i] for i in drawn]
    panels = [(clusters, "person found", "people found")]
    if labels is not None:
        panels.append((labels, "true person", "people"))
    fig = _new_figure((6.5 * len(panels), 5.5))
    for ax, (values, noun, plural) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
        _scatter_panel(ax, coords, _as_list(values), noun, plural)
    fig.suptitle(title)
    _save(fig, path)


def thumbnail_scatter(path, coords, chips, clusters, *, title, max_faces=400, thumb_px=40, seed=0):
    """Face chips drawn at their 2-D positions, framed in their person's (cluster's) colour.

    Draws a seeded random subset when there are more than max_faces faces;
    returns the number of faces drawn.
    """
    coords = np.asarray(coords, dtype=float)
    clusters = _as_list(clusters)
    n_faces = len(coords)
    drawn = np.arange(n_faces)
    if n_faces > max_faces:
        drawn = np.sort(np.random.default_rng(seed).choice(n_faces, max_faces, replace=False))
        title = f"{title}\n{max_faces} of {n_faces} faces shown (random subset, seed {seed})"

    colours = _group_colours(clusters)
    fig = _new_figure((12, 10))
    ax = fig.add_subplot()
    # Every face as a faint dot, so the layout (and the axis limits) cover the hidden ones too.
    ax.scatter(coords[:, 0], coords[:, 1], s=4, color=UNKNOWN_COLOUR, alpha=0.4, linewidths=0)
    if len(colours) <= MAX_LEGEND_GROUPS:
        handles = [
            Line2D(
                [],
                [],
                marker="s",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor=colour,
                markeredgewidth=2,
                label=_group_name(key),
            )
            for key, colour in colours.items()
        ]
        _in_their_fonts(ax.legend(handles=handles, title="person", loc="upper left", bbox_to_anchor=(1.01, 1)).texts)
    ax.set(title=title, xlabel="PC 1", ylabel="PC 2")
    # The faces are pasted, one chip pixel to one output pixel, onto a single image over the figure
    # at their points' pixels once the layout is fixed: drawn as 400 matplotlib artists, they took
    # two thirds of the figures' time (4.5 s of 7 at 5,000 photos).
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    width, height = fig.canvas.get_width_height()
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    for i, (x, y) in zip(drawn, ax.transData.transform(coords[drawn])):
        thumb = Image.fromarray(np.asarray(chips[i], dtype=np.uint8))
        thumb.thumbnail((thumb_px, thumb_px))
        framed = ImageOps.expand(ImageOps.expand(thumb, 1, "white"), 3, to_hex(colours[_group_key(clusters[i])]))
        # Display pixels count up from the bottom, the image's rows down from the top.
        layer.paste(framed, (round(x - framed.width / 2), round(height - y - framed.height / 2)))
    fig.figimage(np.asarray(layer), zorder=3)
    _save(fig, path)
    return len(drawn)


def metrics_vs_k(path, metrics_by_k, *, chosen_k=None, title):
    """Scores against K: external scores together on the left, each internal score on its own axis."""
    ks = sorted(metrics_by_k)
    series = {}
    for key in [*EXTERNAL_METRICS, *INTERNAL_METRICS]:
        values = np.array([metrics_by_k[k].get(key) for k in ks], dtype=float)  # None -> nan
        if not np.all(np.isnan(values)):
            series[key] = values
    external = [key for key in EXTERNAL_METRICS if key in series]
    internal = [key for key in INTERNAL_METRICS if key in series]

    # Left column: one tall external panel; right column: one axis per internal score.
    if external and internal:
        mosaic = [["external", key] for key in internal]
    elif external:
        mosaic = [["external"]]
    else:
        mosaic = [[key] for key in internal] or [["empty"]]
    height_ratios = [2 if row[-1] == "silhouette" else 1 for row in mosaic]
    fig = _new_figure((12, 6))
    axes = fig.subplot_mosaic(mosaic, sharex=True, height_ratios=height_ratios)

    if "empty" in axes:
        axes["empty"].text(0.5, 0.5, "no scores available", ha="center", va="center", transform=axes["empty"].transAxes)
    if external:
        ax = axes["external"]
        for key in external:
            ax.plot(ks, series[key], marker="o", label=EXTERNAL_METRICS[key])
        ax.set(
            ylim=(min(0, np.nanmin([series[key] for key in external])), 1.02),
            ylabel="score vs true labels (higher is better)",
            title="external (needs labels)",
        )
    for i, key in enumerate(internal):
        ax = axes[key]
        ax.plot(ks, series[key], marker="o", color="black")
        label, better = INTERNAL_METRICS[key]
        ax.set_ylabel(f"{label}\n({better} is better)", fontsize="small")
        if i == 0:
            ax.set_title("internal (no labels needed)")
    for ax in axes.values():
        if chosen_k is not None:
            ax.axvline(chosen_k, color="tab:red", linestyle="--", label=f"chosen K = {chosen_k}")
        if len(ks) <= 25:  # a tick at every K tried; past that, fewer integer ticks
            ax.set_xticks(ks)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    for name in set(mosaic[-1]):  # bottom axis of each column
        axes[name].set_xlabel("K (number of clusters)")
    first = axes[mosaic[0][0]]
    if first.get_legend_handles_labels()[0]:
        first.legend(fontsize="small")
    fig.suptitle(title)
    _save(fig, path)


def k_found(path, k, scores, *, title):
    """In metrics_vs_k's place when the clusterer found K itself (no K swept, nothing to draw against
    K): a figure that says so, with the scores at that K."""
    names = {**EXTERNAL_METRICS, **{key: label for key, (label, _) in INTERNAL_METRICS.items()}}
    shown = [f"{names[key]} {value:.3f}" for key, value in scores.items() if key in names and value is not None]
    message(
        path,
        title=title,
        message=f"No K was swept: the clusterer found K = {k} itself, so there is nothing to draw against K.\n"
        f"Its scores: {', '.join(shown) or 'none'}.",
    )


def confusion_matrix(path, matrix, row_names, col_labels, *, title):
    """Heat map of face counts: rows are true people, columns are clusters."""
    matrix = np.asarray(matrix)
    n_rows, n_cols = matrix.shape
    # Cells shrink with the matrix so the figure stays under ~24 inches a side.
    cell_in = min(0.4, 24 / max(n_rows, n_cols, 1))
    font_pt = float(np.clip(cell_in * 72 * 0.7, 5, 9))
    # Label every tick_step-th row/column when cells are too small for a readable font.
    tick_step = math.ceil(font_pt / (cell_in * 72 * 0.8))
    fig = _new_figure((max(6, 3 + cell_in * n_cols), max(4, 2 + cell_in * n_rows)))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", aspect="auto", interpolation="nearest")
    fig.colorbar(image, ax=ax, label="faces", shrink=0.8)

    col_names = [_group_name(_group_key(c)) for c in col_labels]
    for set_ticks, set_labels, names, rotation in (
        (ax.set_xticks, ax.set_xticklabels, col_names, 90),
        (ax.set_yticks, ax.set_yticklabels, [_group_name(name) for name in row_names], 0),
    ):
        set_ticks(range(0, len(names), tick_step))
        _in_their_fonts(set_labels(names[::tick_step], rotation=rotation, fontsize=font_pt))

    if n_rows <= MAX_ANNOTATED_CELLS and n_cols <= MAX_ANNOTATED_CELLS:
        dark = matrix.max() / 2
        for r, c in zip(*np.nonzero(matrix)):  # zeros left blank so the counts stand out
            ax.text(
                c,
                r,
                str(matrix[r, c]),
                ha="center",
                va="center",
                fontsize=font_pt,
                color="white" if matrix[r, c] > dark else "black",
            )
    ax.set(title=title, xlabel="person found", ylabel="true person")
    _save(fig, path)


def contact_sheet(path, chips_by_cluster, *, title, per_cluster=12, thumb_px=64, sizes=None):
    """One row of face chips per person (keyed by their name, or by cluster number, UNKNOWN or
    None for the faces no cluster took), composed directly with PIL (fast for hundreds of rows).

    `sizes` gives each person's face count when the chips given are only its first few. Rows past
    MAX_SIDE pixels are left out (the title says how many are shown).
    """
    gap, top, row_height = 4, 40, thumb_px + 4
    most = (MAX_SIDE - top - gap) // row_height
    if len(chips_by_cluster) > most:
        title = f"{title} (the first {most} of {len(chips_by_cluster)} rows)"
        chips_by_cluster = dict(list(chips_by_cluster.items())[:most])
    sizes = sizes or {}
    counts = {key: sizes.get(key, len(chips)) for key, chips in chips_by_cluster.items()}
    texts = [f"{_group_name(_group_key(key))} ({n} face{'' if n == 1 else 's'})" for key, n in counts.items()]
    if any(sheets.drawn_as(text) != text for text in [title, *texts]):
        title = f"{title} {sheets.UNDRAWN_NOTE}"
    title_font, title = sheets.text_font(title, 20)
    captions = [sheets.text_font(text, 14) for text in texts]
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    caption_width = max((measure.textlength(text, font=font) for font, text in captions), default=0)
    left = int(caption_width) + 2 * gap
    width = max(left + per_cluster * (thumb_px + gap) + gap, int(measure.textlength(title, font=title_font)) + 2 * gap)
    sheet = Image.new("RGB", (width, top + len(captions) * row_height + gap), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((gap, 10), title, fill="black", font=title_font)

    for row, ((font, caption), chips) in enumerate(zip(captions, chips_by_cluster.values())):
        y = top + row * row_height
        draw.text((gap, y + thumb_px // 2), caption, fill="black", font=font, anchor="lm")
        for col, chip in enumerate(chips[:per_cluster]):
            thumb = ImageOps.pad(Image.fromarray(np.asarray(chip, dtype=np.uint8)), (thumb_px, thumb_px), color="white")
            sheet.paste(thumb, (left + col * (thumb_px + gap), y))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, **sheets.SAVED_AS[".png"])


def message(path, *, title, message):
    """A figure that says why there is nothing to draw (so every expected PNG exists)."""
    fig = _new_figure((8, 3))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_title(title)
    _save(fig, path)


def _scatter_panel(ax, coords, values, noun, plural):
    colours = _group_colours(values)
    index = {key: i for i, key in enumerate(colours)}
    group_of = np.array([index[_group_key(v)] for v in values])
    size = float(np.clip(3000 / max(len(values), 1), 6, 40))
    # One scatter for the known groups (a group after another, as drawn one by one) and one for
    # unknown, underneath, so the known groups stay visible: a library's sample shows hundreds of
    # groups, and a scatter each took most of the figures' time (929 at 20,000 photos: 4.4 s).
    unknown = index.get(None, -1)
    order = np.argsort(group_of, kind="stable")
    palette = np.array(list(colours.values()), dtype=object)
    for drawn, zorder in ((order[group_of[order] == unknown], 1), (order[group_of[order] != unknown], 2)):
        if len(drawn):
            ax.scatter(coords[drawn, 0], coords[drawn, 1], s=size, c=list(palette[group_of[drawn]]), zorder=zorder,
                       alpha=0.85, linewidths=0)  # fmt: skip
    n_known = len(colours) - (None in colours)
    panel_title = f"by {noun}: {n_known} {plural}" + (" + others" if None in colours else "")
    if len(colours) <= MAX_LEGEND_GROUPS:
        for key, colour in colours.items():  # the legend's markers: empty scatters, nothing drawn
            ax.scatter([], [], s=size, color=colour, label=_group_name(key), alpha=0.85, linewidths=0)
        legend = ax.legend(
            title=noun,
            fontsize="small",
            markerscale=max(1, (30 / size) ** 0.5),
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
        )
        _in_their_fonts(legend.texts)
    ax.set(title=panel_title, xlabel="PC 1", ylabel="PC 2")


def _group_key(value):
    """None for unknown (-1 cluster or None label), else the value itself."""
    if value is None or (not isinstance(value, str) and value == UNKNOWN):
        return None
    return value


def _group_name(key):
    """A group's name as the figures show it: as the sheets draw it (each letter no font here
    draws as sheets.UNDRAWN, never as an empty box), a long one cut to NAME_CHARS so that the
    legend leaves the plot its width."""
    name = "others" if key is None else sheets.drawn_as(str(key))
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _in_their_fonts(texts):
    """Each of the matplotlib `texts` (names) drawn in the font that has its letters: DejaVu Sans,
    matplotlib's own, or the system font the sheets chose for it (a Chinese name, ...)."""
    for text in texts:
        font = sheets.font_file(text.get_text())
        if font != sheets.DEJAVU_SANS:
            text.set_fontproperties(FontProperties(fname=font, size=text.get_fontsize()))


def _group_colours(values):
    """Colour per group in display order: known groups sorted, cycling the palette, unknown last in grey."""
    keys = {_group_key(v) for v in values}
    colours = {key: PALETTE[i % len(PALETTE)] for i, key in enumerate(sorted(keys - {None}))}
    if None in keys:
        colours[None] = UNKNOWN_COLOUR
    return colours


def _as_list(values):
    """Plain Python values, so numpy ints compare and print like ints."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _new_figure(size_in):
    fig = Figure(figsize=size_in, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Saved as the sheets' PNGs are, at zlib's fastest level: faces barely compress further.
    png = sheets.SAVED_AS[".png"]
    fig.savefig(
        path, dpi=DPI, format="png", metadata={"Software": None}, pil_kwargs={"compress_level": png["compress_level"]}
    )
