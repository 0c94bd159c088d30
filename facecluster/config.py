"""Configuration: validated against schemas/config.schema.yaml, defaults filled in.

Every mistake becomes a ConfigError whose message names the key, raised
before Snakemake builds a single job.
"""

import copy
from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration mistake, with the offending key in the message."""


def load_schema():
    return yaml.safe_load(SCHEMA_PATH.read_text())


def validate_config(config):
    """A validated copy of `config` with schema defaults filled in; ConfigError if invalid."""
    config = copy.deepcopy(config)
    schema = load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid configuration:\n" + "\n".join(_describe(e) for e in errors))
    _fill_defaults(config, schema, schema)
    _check_references(config)
    return config


def _describe(error):
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {}))) or "none"
        unknown = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {}))))
        where = f"{key}." if error.absolute_path else ""
        return f"  unknown key {where}{unknown} (allowed here: {allowed})"
    if "propertyNames" in error.absolute_schema_path:
        return f"  {key}: name {error.instance!r} is not allowed: use letters, digits, '_' and '-' only"
    return f"  {key}: {error.message}"


def _fill_defaults(instance, schema, root):
    """Set `default` values from the schema where the config leaves a key out."""
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    if not isinstance(instance, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _fill_defaults(instance[key], sub, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in set(instance) - set(schema.get("properties", {})):
            _fill_defaults(instance[key], extra, root)


def _resolve(ref, root):
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _check_references(config):
    _require_defined("default_model", config["default_model"], config["models"], "models")
    for name, experiment in config["experiments"].items():
        experiment.setdefault("model", config["default_model"])
        _require_defined(f"experiments.{name}.dataset", experiment["dataset"],
                         config["datasets"], "datasets")
        _require_defined(f"experiments.{name}.model", experiment["model"],
                         config["models"], "models")
        k = experiment["cluster"]["k"]
        if isinstance(k, dict) and k["from"] > k["to"]:
            raise ConfigError(f"experiments.{name}.cluster.k: the range from {k['from']} "
                              f"to {k['to']} is empty")


def _require_defined(key, value, defined, section):
    if value not in defined:
        raise ConfigError(f"{key}: {value!r} is not defined under {section}: "
                          f"(defined: {', '.join(defined) or 'none'})")
