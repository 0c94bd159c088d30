"""Registries: every detector, embedder and clusterer declared once; the schema and docs built from them."""

import pytest
from conftest import PROJECT_ROOT

from facecluster.clustering.clusterers import CLUSTERERS
from facecluster.photos.detectors import DETECTORS, Detector
from facecluster.photos.embedders import EMBEDDERS
from facecluster.registry import Registry, UnknownComponent
from facecluster.workflow.config import ConfigError, load_schema, validated_model
from facecluster.workflow.docs import components_markdown


def test_every_component_is_registered_from_its_own_module():
    assert DETECTORS.names == ["dlib_hog", "mtcnn", "none", "yunet"]
    assert EMBEDDERS.names == ["dlib", "dlib_tf", "facenet", "fusion", "intel_reid", "keras", "onnx"]
    assert CLUSTERERS.names == ["agglomerative", "dbscan", "graph", "hdbscan", "kmeans", "spectral"]


def test_the_schema_names_exactly_the_registered_components():
    defs = load_schema()["$defs"]
    assert defs["detector"]["properties"]["name"]["enum"] == DETECTORS.names
    assert defs["embedder"]["properties"]["name"]["enum"] == EMBEDDERS.names
    assert defs["cluster"]["properties"]["method"]["enum"] == CLUSTERERS.names


def test_an_unknown_name_is_a_schema_error_listing_the_known_ones():
    with pytest.raises(
        ConfigError, match=r"detector.name: 'retina' is not one of \['dlib_hog', 'mtcnn', 'none', 'yunet'\]"
    ):
        validated_model({"detector": {"name": "retina"}, "embedder": {"name": "dlib"}})
    with pytest.raises(UnknownComponent, match="unknown embedder 'arcface' \\(known: dlib, dlib_tf"):
        EMBEDDERS["arcface"]


def test_defaults_come_from_the_named_component_only():
    model = validated_model({"detector": {"name": "mtcnn"}, "embedder": {"name": "dlib"}})

    assert model["detector"] == {
        "name": "mtcnn",
        "keep": "all",
        "min_size": 0,
        "min_face_size": 20,
        "stage_thresholds": [0.6, 0.7, 0.8],
        "batch_size": 8,
        "max_side": 1024,
    }
    assert model["embedder"] == {"name": "dlib", "runtime": "onnx", "jitter": 0, "flip": False}


def test_a_setting_of_another_component_is_named():
    with pytest.raises(ConfigError, match="models.model.detector.upsample: detector mtcnn takes no upsample"):
        validated_model({"detector": {"name": "mtcnn", "upsample": 2}, "embedder": {"name": "dlib"}})


def test_a_new_component_is_one_class_with_its_settings():
    registry = Registry("detector", "facecluster.photos.detectors")

    @registry.register
    class Squares(Detector):
        name = "squares"
        description = "A toy"
        settings = {"side": {"type": "integer", "minimum": 1, "default": 8, "description": "square side"}}

    schema = registry.schema()
    assert schema["properties"]["side"] == {"type": "integer", "minimum": 1}
    assert {
        "if": {"properties": {"name": {"const": "squares"}}},
        "then": {"properties": {"side": {"default": 8}}},
    } in schema["allOf"]
    assert "squares" in registry.names


def test_docs_components_md_is_made_from_the_registries():
    # After changing a component: .venv/bin/facecluster docs > docs/components.md
    assert (PROJECT_ROOT / "docs/components.md").read_text() == components_markdown()
