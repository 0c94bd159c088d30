"""Configuration: validated against schemas/config.schema.yaml, defaults filled in.

Every mistake becomes a ConfigError whose message names the key, raised
before Snakemake builds a single job. The config keeps what the user wrote and
the schema's defaults; what is left to the models is resolved by
facecluster.workflow.specs.
"""

import copy
from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration mistake, with the offending key in the message."""


def load_schema():
    """schemas/config.schema.yaml, with the detector, embedder and cluster schemas built from
    the registries (each component's settings and defaults) in its $defs."""
    from facecluster.clustering.clusterers import CLUSTERERS
    from facecluster.photos.detectors import DETECTORS
    from facecluster.photos.embedders import EMBEDDERS

    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    schema["$defs"].update(detector=DETECTORS.schema(), embedder=EMBEDDERS.schema(), cluster=CLUSTERERS.schema())
    return schema


def _registries():
    """(where in the config, registry) for every registered part of a config."""
    from facecluster.clustering.clusterers import CLUSTERERS
    from facecluster.photos.detectors import DETECTORS
    from facecluster.photos.embedders import EMBEDDERS

    return [
        (("models", "detector"), DETECTORS),
        (("models", "embedder"), EMBEDDERS),
        (("experiments", "cluster"), CLUSTERERS),
    ]


# What `photos` (one folder to sort: --config photos=PATH) becomes: a dataset, sorted by the
# default model and the default clusterer, which needs no number of people.
PHOTOS_DATASET = "photos"
PHOTOS_EXPERIMENT = "photos"
# What `photos` may also say, for its experiment: reference photos, corrections, queries, face tags.
NAMING_KEYS = ("known", "corrections", "find", "face_tags")


def validate_config(config):
    """A validated copy of `config` with schema defaults filled in; ConfigError if invalid."""
    schema = load_schema()
    config = _with_photos_folder(copy.deepcopy(config), schema["properties"]["photos"])
    _with_default_method(config)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid configuration:\n" + "\n".join(_describe(e) for e in errors))
    _check_component_keys(config)
    _fill_defaults(config, schema, schema)
    _check_components(config)
    _check_references(config)
    return config


def _with_photos_folder(config, photos_schema):
    """With `photos` (a folder, or {path, labels, known, corrections, find}), the config's datasets
    and experiments give way to that folder alone: dataset `photos` (no labels unless given) and
    experiment `photos` (the default clusterer, and the naming keys given). Models and the rest stay."""
    photos = config.get("photos")
    if isinstance(photos, int) and not isinstance(photos, bool):
        photos = config["photos"] = str(photos)  # --config reads a folder named 2019 as a number
    if "photos" not in config or not jsonschema.Draft202012Validator(photos_schema).is_valid(photos):
        return config  # absent, or a mistake the schema names once, under photos
    dataset = {"labels": "none", **({"path": photos} if isinstance(photos, str) else photos)}
    naming = {key: dataset.pop(key) for key in NAMING_KEYS if key in dataset}
    config["datasets"] = {PHOTOS_DATASET: dataset}
    config["experiments"] = {PHOTOS_EXPERIMENT: {"dataset": PHOTOS_DATASET, **naming}}
    return config


# The clusterer of an experiment whose `cluster:` names no method, whether it gives K, a K to
# sweep or none: average linkage, the best worst case of each way over the folder shapes of
# bench/shapes.py (bench/results.md).
DEFAULT_METHOD = "agglomerative"


def _with_default_method(config):
    """An experiment without `cluster:` or without its method gets the default method."""
    experiments = config.get("experiments")
    if not isinstance(experiments, dict):
        return
    for experiment in experiments.values():
        if isinstance(experiment, dict):
            cluster = experiment.setdefault("cluster", {})
            if isinstance(cluster, dict):
                cluster.setdefault("method", DEFAULT_METHOD)


def validated_model(settings):
    """One model's settings (as under `models:`) validated, with defaults filled: for the
    library's users outside the workflow (tests, benchmarks)."""
    config = validate_config(
        {"datasets": {"any": {"path": "."}}, "models": {"model": settings}, "default_model": "model"}
    )
    return config["models"]["model"]


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


def _components(config):
    """(key, settings, registry) of every detector, embedder and clusterer the config names."""
    for (section, part), registry in _registries():
        for name, entry in config.get(section, {}).items():
            yield f"{section}.{name}.{part}", entry[part], registry


def _check_component_keys(config):
    """Settings written for a component that does not take them (before defaults are filled)."""
    for key, settings, registry in _components(config):
        foreign = registry.check_keys(settings)
        if foreign:
            name = settings[registry.key]
            raise ConfigError(
                f"{key}.{foreign[0]}: {registry.kind} {name} takes no {foreign[0]} "
                f"(its settings: {', '.join(registry.allowed_keys(name))})"
            )


def _check_components(config):
    """Settings that each pass the schema but do not go together, as each component says."""
    for key, settings, registry in _components(config):
        problem = registry[settings[registry.key]].check(settings)
        if problem:
            raise ConfigError(f"{key}.{problem}")


def _check_references(config):
    """The default model defined, every experiment's model (the default one where it names none),
    and the rules between keys, by resolving the run (facecluster.workflow.specs)."""
    from facecluster.workflow.specs import resolve

    require_defined("default_model", config["default_model"], config["models"], "models")
    for experiment in config["experiments"].values():
        experiment.setdefault("model", config["default_model"])
    resolve(config)


def require_defined(key, value, defined, section):
    """ConfigError unless `value` names one of `defined`, the names under `section`."""
    if value not in defined:
        raise ConfigError(f"{key}: {value!r} is not defined under {section} (defined: {', '.join(defined) or 'none'})")
