"""The constants fitted to each embedder's distances: read from the data file beside its module."""

import dataclasses
import subprocess
import sys

import pytest
import yaml

from facecluster.photos.embedders import EMBEDDERS
from facecluster.photos.embedders.fitted import FOLDER, CutRule, NamingRule, read_fitted

FITTED = sorted(path.name.removesuffix(".fitted.yaml") for path in FOLDER.glob("*.fitted.yaml"))


def test_every_embedder_with_fitted_constants_has_its_data_file():
    assert FITTED == ["dlib", "fusion", "intel_reid"]
    rules = {name: EMBEDDERS[name].cut_rule for name in FITTED}
    for name in EMBEDDERS.names:
        if EMBEDDERS[name].cut_rule is not None:  # dlib_tf runs dlib's network: dlib's constants
            assert EMBEDDERS[name].cut_rule in rules.values()


@pytest.mark.parametrize("name", FITTED)
def test_a_data_file_gives_every_field_and_the_commands_that_measured_them(name):
    text = (FOLDER / f"{name}.fitted.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert set(raw["thresholds"]) == {"euclidean", "cosine"}
    assert set(raw["cut_rule"]) <= {field.name for field in dataclasses.fields(CutRule)}
    required = {field.name for field in dataclasses.fields(CutRule) if field.default is dataclasses.MISSING}
    assert required <= set(raw["cut_rule"])
    assert set(raw["naming_rule"]) == {field.name for field in dataclasses.fields(NamingRule)}
    assert "bench/calibrate_thresholds.py" in text and "bench/shapes.py" in text and "bench/naming.py" in text


@pytest.mark.parametrize("name", FITTED)
def test_the_embedder_uses_its_data_files_constants(name):
    fitted, embedder = read_fitted(name), EMBEDDERS[name]
    assert embedder.thresholds == fitted["thresholds"]
    assert embedder.cut_rule == fitted["cut_rule"]
    assert embedder.naming_rule == fitted["naming_rule"]
    assert isinstance(embedder.cut_rule.window, tuple)


def test_the_constants_are_the_measured_ones():
    assert EMBEDDERS["intel_reid"].thresholds == {"euclidean": 1.1380, "cosine": 0.6475}
    ages = EMBEDDERS["intel_reid"].cut_rule.ages
    assert EMBEDDERS["intel_reid"].cut_rule == CutRule(
        window=(0.82, 1.28), width=0.10, full_window_faces=100, floor=0.90, join=1.0, join_max_faces=0,
        persons_join=1.0, persons_join_photos=20, attach=0.80, window_large=0.95,
        look_alike_far=0.92, look_alike_ratio=0.90, look_alike_group=0.85, ages=ages,
    )  # fmt: skip
    # The age rule (facecluster.clustering.cross_age), fitted on bench/growing_up.py's tune people.
    assert (ages.bias, ages.clip, ages.min_dated, ages.min_span_years) == (-2.0, 20.0, 0.5, 8)
    assert ages.gaps[0] == 0.5 and ages.same[0] == (0.935, 0.142) and ages.different[0] == (1.36, 0.107)
    assert len(ages.gaps) == len(ages.same) == len(ages.different) == 8
    assert EMBEDDERS["intel_reid"].naming_rule == NamingRule(scale=0.9, pairs=2)
    assert EMBEDDERS["dlib"].thresholds == {"euclidean": 0.5459, "cosine": 0.0754}
    assert EMBEDDERS["dlib"].flip_thresholds == {"euclidean": 0.5347, "cosine": 0.0727}
    assert EMBEDDERS["dlib"].cut_rule == CutRule(
        window=(0.82, 1.28), width=0.15, full_window_faces=200, floor=0.98, join=1.0625, join_max_faces=200
    )
    assert EMBEDDERS["dlib"].naming_rule == NamingRule(scale=1.0, pairs=2)
    assert EMBEDDERS["fusion"].thresholds == {"euclidean": 1.4569, "cosine": 0.1422}
    assert EMBEDDERS["fusion"].cut_rule == CutRule(
        window=(0.82, 1.28), width=0.15, full_window_faces=200, floor=0.94, join=1.0, join_max_faces=0
    )
    assert EMBEDDERS["fusion"].naming_rule == NamingRule(scale=1.0, pairs=2)


def test_reading_an_embedders_constants_imports_neither_scikit_learn_nor_scipy():
    code = (
        "import sys, facecluster.photos.embedders.fusion; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
