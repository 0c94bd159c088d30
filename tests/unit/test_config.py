"""Configuration: the shipped config is valid, mistakes are stopped with the key named."""

import copy
import re

import pytest
import yaml
from conftest import PROJECT_ROOT

from facecluster.naming.persons import UNFITTED_NAMING
from facecluster.photos.embedders import EMBEDDERS
from facecluster.workflow.config import ConfigError, validate_config
from facecluster.workflow.specs import resolve

SHIPPED = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())


def resolved(config, experiment):
    """An experiment's settings as its clustering job gets them: validated, then resolved."""
    return resolve(validate_config(config)).experiments[experiment].job_settings()


def test_shipped_config_is_valid_and_defaults_are_filled():
    config = validate_config(SHIPPED)
    # The shipped default keeps every face (issue 16); the demo's LFW crops keep the centre one.
    assert config["default_model"] == "intel_reid"  # issue 24; dlib's stays a model to choose
    assert (
        config["models"]["intel_reid"]["detector"]
        == config["models"]["dlib"]["detector"]
        == {
            "name": "yunet",
            "keep": "all",
            "min_size": 16,
            "score_threshold": 0.5,
            "upsample_below": 1280,
            "search_side": 3072,
            "runtime": "auto",
            "nms_threshold": 0.3,
        }
    )
    assert {e["model"] for e in config["experiments"].values()} == {"lfw_crops"}
    assert config["datasets"]["demo"]["labels"] == "folders"


def test_persons_need_four_photos_and_the_set_aside_score_is_the_detectors_own():
    photos = resolved({**SHIPPED, "photos": "data/demo"}, "photos")
    assert photos["min_photos"] == 4
    assert photos["set_aside"] == {"min_side": 32, "min_score": 0.8, "min_sharpness": 0.03}  # yunet's score
    hog = copy.deepcopy(SHIPPED)
    hog["models"][SHIPPED["default_model"]]["detector"] = {"name": "dlib_hog"}
    photos = resolved({**hog, "photos": "data/demo"}, "photos")
    assert photos["set_aside"]["min_score"] == 0  # HOG's margins say no likelihood


def mutated(change):
    config = copy.deepcopy(SHIPPED)
    change(config)
    return config


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(batch_sise=3), "unknown key batch_sise"),
        (
            lambda c: c["models"]["dlib"]["detector"].update(upsampel=2),
            "unknown key models.dlib.detector.upsampel",
        ),
        (lambda c: c.update(batch_size="many"), "batch_size: 'many' is not of type 'integer'"),
        (lambda c: c.update(batch_size=0), "batch_size: 0 is less than the minimum of 1"),
        (lambda c: c["models"]["dlib"]["detector"].update(name="magic"), "models.dlib.detector.name"),
        (lambda c: c["datasets"].update({"../x": {"path": "p"}}), "name '../x' is not allowed"),
        (lambda c: c.update(default_model="facenet"), "default_model: 'facenet'"),
        (lambda c: c["datasets"]["demo"].pop("path"), "datasets.demo: 'path' is a required property"),
    ],
)
def test_mistakes_name_the_key(change, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        validate_config(mutated(change))


def kmeans(k, dataset="demo"):
    return {"dataset": dataset, "cluster": {"method": "kmeans", "k": k}}


K_FORMS = "(k must be a number of clusters, a list of them, or an inclusive range)"


@pytest.mark.parametrize(
    "experiments, message",
    [
        ({"e": kmeans([])}, f"experiments.e.cluster.k: [] should be non-empty {K_FORMS}"),
        ({"e": kmeans(0)}, f"experiments.e.cluster.k: 0 is less than the minimum of 1 {K_FORMS}"),
        ({"e": kmeans(-3)}, "experiments.e.cluster.k: -3 is less than the minimum of 1"),
        ({"e": kmeans([2, -1])}, "experiments.e.cluster.k.1: -1 is less than the minimum of 1"),
        ({"e": kmeans([2, "x"])}, "experiments.e.cluster.k.1: 'x' is not of type 'integer'"),
        ({"e": kmeans({"from": 0, "to": 4})}, "experiments.e.cluster.k.from: 0 is less than the minimum"),
        (
            {"e": kmeans("four")},
            "experiments.e.cluster.k: 'four' is not a number of clusters, a list of them, or an inclusive range",
        ),
        ({"e": kmeans({"from": 5, "to": 2})}, "experiments.e.cluster.k: the range from 5 to 2 is empty"),
        (
            {"e": kmeans(4, dataset="holiday")},
            "experiments.e.dataset: 'holiday' is not defined under datasets (defined: demo)",
        ),
        ({"e": kmeans(4, dataset="../x")}, "experiments.e.dataset: '../x' does not match"),
        ({"../x": kmeans(4)}, "experiments: name '../x' is not allowed"),
    ],
)
def test_experiment_mistakes_name_the_key(experiments, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_config(mutated(lambda c: c.update(experiments=experiments)))


def test_photos_replaces_the_datasets_and_experiments_by_one_folder_sorted_without_k():
    config = validate_config({**SHIPPED, "photos": "/home/me/Pictures"})

    assert config["datasets"] == {"photos": {"path": "/home/me/Pictures", "labels": "none"}}
    assert list(config["experiments"]) == ["photos"]
    experiment = resolved({**SHIPPED, "photos": "/home/me/Pictures"}, "photos")
    assert (experiment["dataset"], experiment["model"]) == ("photos", SHIPPED["default_model"])
    assert experiment["cluster"]["method"] == "agglomerative" and "k" not in experiment["cluster"]
    assert experiment["cluster"]["threshold"] > 0  # the embedder's calibrated one
    assert config["models"] == validate_config(SHIPPED)["models"]


@pytest.mark.parametrize(
    "photos, dataset",
    [
        (2019, {"path": "2019", "labels": "none"}),  # --config photos=2019 arrives as a number
        ({"path": "family", "labels": "folders"}, {"path": "family", "labels": "folders"}),
        (  # Picasa's names of the faces in the folders' .picasa.ini files
            {"path": "family", "picasa_contacts": "contacts.xml"},
            {"path": "family", "labels": "none", "picasa_contacts": "contacts.xml"},
        ),
    ],
)
def test_photos_other_forms(photos, dataset):
    assert validate_config({**SHIPPED, "photos": photos})["datasets"] == {"photos": dataset}


@pytest.mark.parametrize(
    "photos, message",
    [
        (None, "photos: None is not a folder to sort, or {path: FOLDER, labels: folders or none}"),
        (
            {"path": "x", "label": "folders"},
            "unknown key photos.label (allowed here: corrections, face_tags, find, known, labels, path, "
            "picasa_contacts)",
        ),
        ({"path": "x", "labels": "people"}, "photos.labels: 'people' is not one of ['folders', 'none']"),
    ],
)
def test_photos_mistakes_name_the_key(photos, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_config({**SHIPPED, "photos": photos})


def test_known_and_find_folders_become_datasets_of_their_experiment_with_the_calibrated_threshold():
    photos = {
        "path": "/home/me/Pictures",
        "known": "/home/me/known",
        "find": "/home/me/queries",
        "corrections": "f.yaml",
    }
    config = validate_config({**SHIPPED, "photos": photos})

    assert {name: dataset.settings for name, dataset in resolve(config).datasets.items()} == {
        "photos": {"path": "/home/me/Pictures", "labels": "none"},
        "photos-known": {"path": "/home/me/known", "labels": "folders"},
        "photos-find": {"path": "/home/me/queries", "labels": "folders"},
    }
    experiment = resolved(config, "photos")
    assert (experiment["known"], experiment["corrections"]) == ("/home/me/known", "f.yaml")
    # The calibrated threshold, and the default embedder's naming rule's share of it.
    scale = EMBEDDERS[config["models"][experiment["model"]]["embedder"]["name"]].naming_rule.scale
    assert experiment["naming_threshold"] == round(scale * experiment["cluster"]["threshold"], 4)


def test_a_known_folder_whose_dataset_name_is_taken_names_the_key():
    config = mutated(lambda c: c["datasets"].update({"default-known": {"path": "data/demo"}}))
    config["experiments"]["default"]["known"] = "/home/me/known"
    with pytest.raises(ConfigError, match="experiments.default.known: a dataset is already named 'default-known'"):
        validate_config(config)


@pytest.mark.parametrize(
    "experiment, method, choose_k_by",
    [
        ({"dataset": "demo"}, "agglomerative", "silhouette"),  # no cluster: K not given
        ({"dataset": "demo", "cluster": {}}, "agglomerative", "silhouette"),
        ({"dataset": "demo", "cluster": {"k": 13}}, "agglomerative", "silhouette"),  # K given
        ({"dataset": "demo", "cluster": {"k": {"from": 2, "to": 20}}}, "agglomerative", "threshold"),  # K swept
        ({"dataset": "demo", "cluster": {"method": "spectral", "k": [2, 4]}}, "spectral", "threshold"),
        ({"dataset": "demo", "reduce": {"method": "pca"}, "cluster": {"k": [2, 4]}}, "agglomerative", "silhouette"),
    ],
)
def test_cluster_without_a_method_gets_the_default_of_its_way_of_giving_k(experiment, method, choose_k_by):
    chosen = resolved(mutated(lambda c: c.update(experiments={"e": experiment})), "e")
    assert (chosen["cluster"]["method"], chosen["choose_k_by"]) == (method, choose_k_by)
    assert ("k" in chosen["cluster"]) == ("threshold" not in chosen["cluster"])
    assert (chosen.get("choose_k_threshold") is not None) == (choose_k_by == "threshold")


def test_choosing_k_by_threshold_needs_the_calibrated_one_to_apply():
    experiment = {"dataset": "demo", "reduce": {"method": "pca"}, "cluster": {"k": [2, 4]}, "choose_k_by": "threshold"}

    with pytest.raises(ConfigError, match=r"experiments\.e\.choose_k_by: threshold needs the embedder"):
        validate_config(mutated(lambda c: c.update(experiments={"e": experiment})))


def test_an_experiment_carries_its_embedders_fitted_constants_and_no_other_models():
    for model, embedder in (("intel_reid", EMBEDDERS["intel_reid"]), ("dlib", EMBEDDERS["dlib"])):
        experiment = resolved({**SHIPPED, "default_model": model, "photos": "/x"}, "photos")
        assert experiment["cluster"]["cut_rule"] == embedder.cut_rule.settings()
        assert experiment["naming_pairs"] == embedder.naming_rule.pairs
        assert experiment["naming_threshold"] == round(embedder.naming_rule.scale * embedder.thresholds["euclidean"], 4)
    assert EMBEDDERS["intel_reid"].cut_rule != EMBEDDERS["dlib"].cut_rule

    facenet = {"name": "facenet", "path": "m.pb", "sha256": "0" * 64}
    config = mutated(lambda c: c["models"]["lfw_crops"].update({"embedder": facenet}))
    config["experiments"] = {"people": {"dataset": "demo", "model": "lfw_crops", "cluster": {"threshold": 0.9}}}
    experiment = resolved(config, "people")
    assert experiment["cluster"]["cut_rule"] is None  # cut at the threshold given
    assert experiment["naming_pairs"] == UNFITTED_NAMING.pairs


def test_face_tags_are_read_unless_turned_off_and_the_setting_is_a_boolean():
    spec = resolve(validate_config(SHIPPED))
    assert all(experiment.face_tags for experiment in spec.experiments.values())
    off = copy.deepcopy(SHIPPED)
    off["experiments"]["people"]["face_tags"] = False
    assert not resolve(validate_config(off)).experiments["people"].face_tags
    photos = resolve(validate_config({**SHIPPED, "photos": {"path": "data/demo", "face_tags": False}}))
    assert not photos.experiments["photos"].face_tags
    off["experiments"]["people"]["face_tags"] = "no"
    with pytest.raises(ConfigError, match="experiments.people.face_tags: 'no' is not of type 'boolean'"):
        validate_config(off)
