"""Configuration: validated against schemas/config.schema.yaml, defaults filled in.

Every mistake becomes a ConfigError whose message names the key, raised
before Snakemake builds a single job.
"""

import copy
from pathlib import Path

import jsonschema
import yaml

from facecluster.calibration import CALIBRATED_THRESHOLDS

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
    _check_models(config)
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
    if error.validator == "oneOf":
        return _describe_choice(key, error)
    return f"  {key}: {error.message}"


def _describe_choice(key, error):
    """One clear line for a value that fits none of several forms (such as a K).

    jsonschema's own message only says "not valid under any of the given
    schemas"; the form of the value's own type says what is wrong with it.
    """
    expected = error.schema.get("description", "one of the allowed forms")
    own_type = [sub for sub in error.context if sub.relative_path or sub.validator != "type"]
    if own_type:
        return f"{_describe(own_type[0])} ({error.absolute_path[-1]} must be {expected})"
    return f"  {key}: {error.instance!r} is not {expected}"


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
    # Defaults that depend on another key (an embedder's, by its name): if/then rules.
    for rule in schema.get("allOf", []):
        if "if" in rule and jsonschema.Draft202012Validator(rule["if"]).is_valid(instance):
            _fill_defaults(instance, rule.get("then", {}), root)


def _resolve(ref, root):
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _check_models(config):
    for name, model in config["models"].items():
        embedder = model["embedder"]
        if embedder.get("jitter") and embedder.get("runtime") != "dlib":
            raise ConfigError(f"models.{name}.embedder.jitter: only dlib's own runtime jitters; "
                              "add runtime: dlib (about 10x slower) or set jitter: 0")


def _check_references(config):
    _require_defined("default_model", config["default_model"], config["models"], "models")
    for name, experiment in config["experiments"].items():
        experiment.setdefault("model", config["default_model"])
        _require_defined(f"experiments.{name}.dataset", experiment["dataset"],
                         config["datasets"], "datasets")
        _require_defined(f"experiments.{name}.model", experiment["model"],
                         config["models"], "models")
        embedder = config["models"][experiment["model"]]["embedder"]["name"]
        _check_clustering(f"experiments.{name}", experiment, embedder)


# Which clusterers take K, a distance threshold, or neither (they find both themselves).
TAKES_K = {"kmeans", "spectral", "agglomerative"}
TAKES_THRESHOLD = {"agglomerative", "dbscan", "graph"}


def _check_clustering(key, experiment, embedder):
    """Check k/threshold against the method; replace threshold auto by the calibrated value."""
    cluster = experiment["cluster"]
    method, key = cluster["method"], f"{key}.cluster"
    k = cluster.get("k")
    if isinstance(k, dict) and k["from"] > k["to"]:
        raise ConfigError(f"{key}.k: the range from {k['from']} to {k['to']} is empty")
    if k is not None and method not in TAKES_K:
        raise ConfigError(f"{key}.k: {method} finds the number of clusters itself; remove k")
    if "threshold" in cluster and method not in TAKES_THRESHOLD:
        raise ConfigError(f"{key}.threshold: {method} takes no distance threshold; remove it")
    if method in ("kmeans", "spectral") and k is None:
        raise ConfigError(f"{key}.k: {method} needs k (a number, a list or a from/to range)")
    if method == "agglomerative" and k is not None and "threshold" in cluster:
        raise ConfigError(f"{key}: give agglomerative either k or threshold, not both")
    if method in TAKES_THRESHOLD and k is None:
        cluster["threshold"] = _threshold(key, cluster.get("threshold", "auto"), cluster["metric"],
                                          experiment["reduce"], embedder)


def _threshold(key, threshold, metric, reduce, embedder):
    if threshold != "auto":
        return threshold
    calibrated = CALIBRATED_THRESHOLDS.get(embedder)
    if calibrated is None:
        raise ConfigError(f"{key}.threshold: embedder {embedder!r} has no calibrated threshold; "
                          "give one (see bench/calibrate_thresholds.py)")
    if reduce["method"] != "none" or (metric == "euclidean" and reduce["l2_normalize"]):
        raise ConfigError(f"{key}.threshold: auto is calibrated on raw embeddings; use reduce: "
                          "{method: none} or give a threshold for this reduction")
    return calibrated[metric]


def _require_defined(key, value, defined, section):
    if value not in defined:
        raise ConfigError(f"{key}: {value!r} is not defined under {section} "
                          f"(defined: {', '.join(defined) or 'none'})")
