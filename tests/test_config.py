"""Configuration: the shipped config is valid, mistakes are stopped with the key named."""

import copy

import pytest
import yaml

from conftest import PROJECT_ROOT, run_snakemake, write_config
from facecluster.config import ConfigError, validate_config

SHIPPED = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())


def test_shipped_config_is_valid_and_defaults_are_filled():
    config = validate_config(SHIPPED)
    assert config["models"]["dlib"]["detector"]["upsample"] == 1
    assert config["datasets"]["demo"]["labels"] == "folders"


def mutated(change):
    config = copy.deepcopy(SHIPPED)
    change(config)
    return config


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(batch_sise=3), "unknown key batch_sise"),
        (lambda c: c["models"]["dlib"]["detector"].update(upsampel=2),
         "unknown key models.dlib.detector.upsampel"),
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


def test_snakemake_stops_before_any_job_on_a_bad_key(tmp_path):
    write_config(tmp_path, {"x": {"path": str(tmp_path)}}, colour="blue")

    result = run_snakemake(tmp_path, check=False)

    assert result.returncode != 0
    assert "unknown key colour" in result.stderr
    assert not (tmp_path / "results").exists()


def test_snakemake_stops_on_a_missing_dataset_folder_naming_the_dataset(tmp_path):
    write_config(tmp_path, {"holiday": {"path": str(tmp_path / "nowhere")}})

    result = run_snakemake(tmp_path, check=False)

    assert result.returncode != 0
    assert "datasets.holiday.path" in result.stderr and "does not exist" in result.stderr
