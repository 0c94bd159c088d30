"""Each figure is a valid, non-blank PNG, respects its size limits, and is reproducible."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecluster.outputs import plots, sheets
from facecluster.workflow import experiment


def make_chip(rng, size=32):
    """A face-sized uint8 chip: a bright disc with a random tint on a dark background."""
    yy, xx = np.mgrid[:size, :size]
    disc = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (size / 3) ** 2
    chip = np.full((size, size, 3), 30, dtype=np.uint8)
    chip[disc] = rng.integers(100, 256, size=3)
    return chip


def make_points(n_people=4, per_person=25, seed=0):
    """Blobs in 2-D, with true person names and clusters that get a few faces wrong."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6, size=(n_people, 2))
    person = np.repeat(np.arange(n_people), per_person)
    coords = centres[person] + rng.normal(size=(len(person), 2))
    clusters = person.copy()
    clusters[::7] = -1
    labels = [f"person_{p}" for p in person]
    return coords, clusters, labels


def read_png(path):
    """Open the PNG, check it is not empty or blank, and return its pixels."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert pixels.shape[0] > 0 and pixels.shape[1] > 0
    assert pixels.std() > 5, "image is (nearly) blank"
    return pixels


METRICS_BY_K = {
    k: {
        "same_person_share": 0.5 + k / 40,
        "purity": 0.4 + k / 30,
        "ari": 0.3 + k / 50,
        "nmi": None if k == 6 else 0.6,
        "silhouette": 0.1 + k / 100,
        "davies_bouldin": 2.0 - k / 10,
        "calinski_harabasz": 50.0 + k,
    }
    for k in range(2, 11)
}


def draw_figure(name, path):
    """Draw one figure from fixed inputs."""
    coords, clusters, labels = make_points()
    rng = np.random.default_rng(1)
    chips = [make_chip(rng) for _ in coords]
    if name == "scatter":
        plots.scatter_clusters(path, coords, clusters, labels, title="t")
    elif name == "thumbnails":
        plots.thumbnail_scatter(path, coords, chips, clusters, title="t", max_faces=50)
    elif name == "metrics":
        plots.metrics_vs_k(path, METRICS_BY_K, chosen_k=4, title="t")
    elif name == "confusion":
        plots.confusion_matrix(path, [[5, 0, 1], [0, 7, 2]], ["ann", "bob"], [0, 1, -1], title="t")
    else:
        plots.contact_sheet(path, {0: chips[:5], -1: chips[5:8]}, title="t")


def test_scatter_with_labels_is_wider_than_without(tmp_path):
    coords, clusters, labels = make_points()
    plots.scatter_clusters(tmp_path / "one.png", coords, clusters, title="clusters")
    plots.scatter_clusters(tmp_path / "two.png", coords, clusters, labels, title="clusters")
    one, two = read_png(tmp_path / "one.png"), read_png(tmp_path / "two.png")
    assert two.shape[1] > one.shape[1] * 1.5


def test_scatter_handles_many_clusters_and_creates_parent_dirs(tmp_path):
    coords, _, _ = make_points(n_people=30, per_person=10)
    clusters = np.arange(len(coords)) % 60 - 1  # 59 clusters plus unknown: no legend
    path = tmp_path / "deep" / "er" / "scatter.png"
    plots.scatter_clusters(path, coords, clusters, title="many")
    read_png(path)


def test_thumbnail_scatter_draws_at_most_max_faces(tmp_path):
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(500, 2))
    chips = [make_chip(rng) for _ in range(500)]
    clusters = rng.integers(-1, 8, size=500)
    drawn = plots.thumbnail_scatter(tmp_path / "t.png", coords, chips, clusters, title="faces", max_faces=120)
    assert drawn == 120
    read_png(tmp_path / "t.png")
    assert plots.thumbnail_scatter(tmp_path / "all.png", coords[:30], chips[:30], clusters[:30], title="faces") == 30


def test_thumbnail_scatter_draws_each_chip_whole_at_its_point(tmp_path):
    """One chip pixel is one output pixel, centred on the face's point: three chips of colours found
    nowhere else, at the corners of a triangle, are found whole and where the points lie."""
    coords = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 10.0]])
    colours = [(255, 0, 255), (0, 255, 255), (255, 255, 0)]
    chips = [np.full((32, 32, 3), colour, np.uint8) for colour in colours]
    plots.thumbnail_scatter(tmp_path / "t.png", coords, chips, [0, 1, -1], title="three faces")
    pixels = np.asarray(Image.open(tmp_path / "t.png").convert("RGB"))
    centres = []
    for colour in colours:
        rows, cols = np.nonzero((pixels == colour).all(axis=2))
        assert len(rows) == 32 * 32 and np.ptp(rows) == np.ptp(cols) == 31
        centres.append((rows.mean(), cols.mean()))
    (left_row, left_col), (right_row, right_col), (top_row, top_col) = centres
    assert abs(left_row - right_row) <= 1 and right_col - left_col > 300
    assert abs(top_col - (left_col + right_col) / 2) <= 1 and left_row - top_row > 300


def test_metrics_vs_k_tolerates_none_and_missing_labels(tmp_path):
    plots.metrics_vs_k(tmp_path / "m.png", METRICS_BY_K, chosen_k=5, title="scores")
    read_png(tmp_path / "m.png")
    unlabelled = {k: {"purity": None, "ari": None, "silhouette": 0.2 + k / 50} for k in range(2, 6)}
    plots.metrics_vs_k(tmp_path / "u.png", unlabelled, title="no labels")
    read_png(tmp_path / "u.png")


def test_confusion_matrix_with_unknown_column_and_many_rows(tmp_path):
    plots.confusion_matrix(
        tmp_path / "c.png", [[3, 0, 1], [0, 4, 2]], ["ann", "bob"], [0, 1, -1], title="people vs clusters"
    )
    read_png(tmp_path / "c.png")
    rng = np.random.default_rng(0)
    big = rng.integers(0, 5, size=(200, 210))
    plots.confusion_matrix(tmp_path / "big.png", big, [f"p{i}" for i in range(200)], list(range(-1, 209)), title="big")
    read_png(tmp_path / "big.png")


def test_contact_sheet_grows_with_clusters(tmp_path):
    rng = np.random.default_rng(0)
    few = {k: [make_chip(rng) for _ in range(20)] for k in range(2)}
    many = {k: [make_chip(rng) for _ in range(3)] for k in [*range(300), -1]}
    plots.contact_sheet(tmp_path / "few.png", few, title="few", per_cluster=5)
    plots.contact_sheet(tmp_path / "many.png", many, title="many", per_cluster=5)
    few_px, many_px = read_png(tmp_path / "few.png"), read_png(tmp_path / "many.png")
    assert many_px.shape[0] > few_px.shape[0]
    assert 4000 <= many_px.shape[0] <= sheets.MAX_SIDE  # one row of 64-px chips per cluster, as many as fit


def test_no_image_is_over_4096_px(tmp_path):
    rng = np.random.default_rng(0)
    chips = [make_chip(rng, size=150) for _ in range(1200)]
    sheets.face_grid(tmp_path / "one.png", chips, title="a person of 1200 faces")  # the first ones
    sheets.face_grid(tmp_path / "one.jpg", chips, title="a person of 1200 faces")  # a people folder's
    coords = rng.normal(size=(20000, 2))
    plots.scatter_clusters(tmp_path / "scatter.png", coords, rng.integers(-1, 600, 20000), title="many")
    plots.thumbnail_scatter(tmp_path / "thumbs.png", coords, chips * 17, rng.integers(-1, 600, 20000), title="many")
    many = {k: chips[:12] for k in range(600)}
    plots.contact_sheet(tmp_path / "sheet.png", many, title="600 persons")
    drawn = sorted(tmp_path.glob("*.*"))
    assert [path.name for path in drawn] == ["one.jpg", "one.png", "scatter.png", "sheet.png", "thumbs.png"]
    for path in drawn:
        with Image.open(path) as image:
            assert max(image.size) <= sheets.MAX_SIDE, (path.name, image.size)


@pytest.mark.parametrize("name", ["scatter", "thumbnails", "metrics", "confusion", "sheet"])
def test_same_inputs_give_identical_bytes(tmp_path, name):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    draw_figure(name, first)
    draw_figure(name, second)
    read_png(first)
    assert first.read_bytes() == second.read_bytes()


NAMES = ["Mádonna", "Ελένη", "Дмитрий", "王小明"]
NO_FONT_HAS = "\U0010fffd"  # a private-use character: every font draws its .notdef box for it


def glyph(font, char):
    """The pixels of one character drawn alone."""
    return np.asarray(font.getmask(char))


@pytest.mark.parametrize("name", NAMES)
def test_a_name_in_any_script_is_drawn_in_its_own_letters_or_as_placeholders_never_as_boxes(name):
    font, shown = sheets.text_font(name, 32)

    box = glyph(font, NO_FONT_HAS)
    assert all(not np.array_equal(glyph(font, char), box) for char in shown)
    # A character no font here draws is the placeholder (a CJK name on a computer without CJK fonts).
    assert all(char == drawn or drawn == sheets.UNDRAWN for char, drawn in zip(name, shown, strict=True))
    assert sheets.drawn_as("Mádonna Ελένη Дмитрий") == "Mádonna Ελένη Дмитрий"  # DejaVu Sans draws them all


@pytest.fixture
def system_fonts(monkeypatch):
    """Sets the system fonts text_font may choose from (the choices made before are forgotten)."""

    def use(fonts):
        monkeypatch.setattr(sheets, "_system_fonts", lambda chars: fonts)
        sheets._drawable.cache_clear()

    yield use
    sheets._drawable.cache_clear()


def test_a_name_dejavu_sans_lacks_is_drawn_in_a_system_font_that_has_it_else_with_placeholders(system_fonts):
    mono = sheets.DEJAVU_SANS.with_name("DejaVuSansMono.ttf")  # draws U+2312, DejaVu Sans does not
    system_fonts([("/no/such/font.ttf", 0), (mono, 0)])
    font, shown = sheets.text_font("ann \u2312", 20)
    assert shown == "ann \u2312" and Path(font.path) == mono

    system_fonts([])
    assert sheets.text_font("ann \u2312", 20)[1] == f"ann {sheets.UNDRAWN}"


@pytest.mark.parametrize("draw", ["face_grid", "contact_sheet"])
def test_a_sheet_draws_an_accented_name_not_the_box_drawn_for_a_character_no_font_has(tmp_path, draw):
    chips = [make_chip(np.random.default_rng(0))] * 3

    def sheet(name):
        if draw == "face_grid":
            sheets.face_grid(tmp_path / "sheet.png", chips, title=name)
        else:
            plots.contact_sheet(tmp_path / "sheet.png", {name: chips}, title="t")
        return read_png(tmp_path / "sheet.png")

    assert not np.array_equal(sheet("Mádonna"), sheet(f"M{NO_FONT_HAS}donna"))


def test_when_the_clusterer_found_k_the_scores_figure_says_so_not_k_chosen_by_a_score(tmp_path, monkeypatch):
    titles = []
    for figure in ("message", "metrics_vs_k"):
        drawn = getattr(plots, figure)
        monkeypatch.setattr(plots, figure, lambda *a, drawn=drawn, **kw: titles.append(kw["title"]) or drawn(*a, **kw))
    found = {"recipe": {"cluster": {"method": "agglomerative", "threshold": 1.1}}, "choose_k_by": "silhouette"}
    found |= {"chosen_k": 12, "per_k": {"12": {"silhouette": 0.31, "ari": None}}}
    swept = found | {"recipe": {"cluster": {"method": "kmeans", "k": [4, 5]}}, "chosen_k": 4}
    swept["per_k"] = {str(k): METRICS_BY_K[k] for k in (4, 5)}

    for name, summary in (("found", found), ("swept", swept)):
        experiment._metrics_vs_k(tmp_path / f"{name}.png", name, summary)
        read_png(tmp_path / f"{name}.png")
    assert titles == ["found: K = 12 found by the clusterer", "swept: scores against K (K chosen by silhouette)"]


def test_a_long_name_on_a_sheet_keeps_its_start_and_its_counts_within_the_page():
    width = 844 - 2 * sheets.GRID_GAP  # a people folder's page
    short = "Ann Lee: 12 faces"
    assert sheets.fitted_title(short, width)[1] == short
    long = "Zoë Þórunn Ōkubo-Wąsowicz de la Cruz y Montenegro-Ferreira, the one from the lake house: 986 faces"
    font, shown = sheets.fitted_title(long, width)
    assert font.getlength(shown) <= width
    assert shown.startswith("Zoë Þórunn") and shown.endswith("986 faces")
    longer = long.replace(", the one", ", the one who brings the cake to the summer party") + " (first 480 shown)"
    font, shown = sheets.fitted_title(longer, width)
    assert font.getlength(shown) <= width and "…" in shown and shown.endswith("(first 480 shown)")


def drawn_names(monkeypatch, tmp_path, draw, names):
    """The names' texts of the figure `draw` makes for faces of persons `names`: (text, the font
    file matplotlib draws it in)."""
    from matplotlib.font_manager import findfont

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    coords = make_points(n_people=1, per_person=len(names))[0]
    if draw == "scatter_clusters":
        plots.scatter_clusters(tmp_path / "s.png", coords, list(range(len(names))), names, title="t")
    elif draw == "thumbnail_scatter":
        chips = [make_chip(np.random.default_rng(i)) for i in range(len(names))]
        plots.thumbnail_scatter(tmp_path / "t.png", coords, chips, names, title="t")
    else:
        plots.confusion_matrix(tmp_path / "c.png", np.eye(len(names), dtype=int), names, names, title="t")
    (fig,) = figures
    texts = [text for ax in fig.axes for text in (*ax.texts, *ax.get_xticklabels(), *ax.get_yticklabels())]
    texts += [text for ax in fig.axes if ax.get_legend() for text in ax.get_legend().texts]
    return {text.get_text(): findfont(text.get_fontproperties()) for text in texts if text.get_text()}


@pytest.mark.parametrize("draw", ["scatter_clusters", "thumbnail_scatter", "confusion_matrix"])
def test_a_name_in_a_figure_is_drawn_in_a_font_that_has_its_letters_and_a_long_one_is_cut(
    monkeypatch, tmp_path, system_fonts, draw
):
    mono = sheets.DEJAVU_SANS.with_name("DejaVuSansMono.ttf")  # draws U+2312, DejaVu Sans does not
    long = "Zoë Þórunn Ōkubo-Wąsowicz de la Cruz y Montenegro-Ferreira"
    system_fonts([(mono, 0)])
    drawn = drawn_names(monkeypatch, tmp_path, draw, ["Ελένη", "ann \u2312", long])

    assert Path(drawn["ann \u2312"]).samefile(mono) and Path(drawn["Ελένη"]).samefile(sheets.DEJAVU_SANS)
    assert long[: plots.NAME_CHARS - 1] + "…" in drawn and long not in drawn
    for text, font in drawn.items():
        assert set(text) <= sheets._characters(font, 0)  # no empty box
    # No font here has it: the placeholder, as on the sheets.
    system_fonts([])
    assert f"ann {sheets.UNDRAWN}" in drawn_names(monkeypatch, tmp_path, draw, ["Ελένη", "ann \u2312", long])
