"""bench/shapes.py's recipes run as an experiment's `cluster:` does, each clusterer with the defaults
config validation gives it, so that the shape sweep cannot rot when a clusterer's settings change."""

import sys

import numpy as np
from conftest import PROJECT_ROOT
from test_cluster import blobs

sys.path.insert(0, str(PROJECT_ROOT / "bench"))

import shapes  # noqa: E402

from facecluster.clustering.clusterers import CLUSTERERS  # noqa: E402
from facecluster.clustering.metrics import external_metrics  # noqa: E402


def test_every_recipe_of_the_sweep_sorts_well_separated_people():
    X, truth = blobs(people=4, per_person=8, dim=16, spread=0.02)
    X = 3 * X  # people about 4 apart, their faces about 0.3: every cut of the sweep lies between
    photo_ids = np.array([f"photo {i}" for i in range(len(X))])
    model = shapes.Model("intel_reid")

    for way, recipes in model.recipes().items():
        for recipe, run in recipes.items():
            found = run(X, photo_ids, 4, 0)
            assert external_metrics(truth, found)["bcubed_f1"] > 0.9, (way, recipe)


def test_a_recipe_gets_its_clusterers_own_defaults():
    assert CLUSTERERS.defaults("agglomerative")["neighbors"] == 50
    assert CLUSTERERS.defaults("graph")["neighbors"] == 10
    assert CLUSTERERS.defaults("kmeans")["cannot_link"] is True


def test_a_clusterers_defaults_are_those_config_validation_fills():
    from test_config import SHIPPED, resolved

    for method in CLUSTERERS.names:
        cluster = {"method": method, **({"k": 2} if CLUSTERERS[method].takes_k == "required" else {})}
        filled = resolved({**SHIPPED, "experiments": {"e": {"dataset": "demo", "cluster": cluster}}}, "e")["cluster"]
        assert {key: filled[key] for key in CLUSTERERS.defaults(method)} == CLUSTERERS.defaults(method), method
