"""The run a validated config describes, resolved into typed specs: what the config leaves to the
models (thresholds auto, the embedder's fitted rules, the detector's set-aside score, the naming
folders' datasets) worked out once, without adding a key to the config.

`resolve` raises ConfigError, naming the key, where settings that each pass the schema do not go
together (validate_config resolves to check them).
"""

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from facecluster.clustering.clusterers import metric_of
from facecluster.photos.embedders.fitted import CutRule, NamingRule
from facecluster.workflow.config import PHOTOS_EXPERIMENT, ConfigError, require_defined

# The parts of an experiment that become datasets of their own (labelled by their sub-folders).
NAMING_FOLDERS = ("known", "find")


@dataclass(frozen=True)
class Download:
    """Where a downloaded dataset's files come from: a pinned list and the address they are under."""

    manifest: str
    base_url: str


@dataclass(frozen=True)
class DatasetSpec:
    """A folder of photos: a dataset of the config, or an experiment's known or find folder."""

    name: str
    path: str
    labels: str
    download: Download | None
    settings: dict = field(repr=False)  # as validated: what the listing job gets

    @classmethod
    def of(cls, name, settings):
        download = Download(**settings["download"]) if "download" in settings else None
        return cls(name, settings["path"], settings["labels"], download, settings)

    def job_settings(self):
        return copy.deepcopy(self.settings)


@dataclass(frozen=True)
class ModelSpec:
    """A detector and an embedder, with what each job of theirs takes."""

    name: str
    detector: dict
    embedder: dict
    threads: int
    gpus: int
    settings: dict = field(repr=False)  # as validated: what the batch jobs get

    @classmethod
    def of(cls, name, settings):
        return cls(name, settings["detector"], settings["embedder"], settings["threads"], settings["gpus"], settings)

    def job_settings(self):
        return copy.deepcopy(self.settings)


@dataclass(frozen=True)
class ExperimentSpec:
    """An experiment with everything its settings leave to the model resolved.

    threshold: the clusterer's distance threshold (None where it takes K or none);
    cut_rule: the embedder's folder cut (None where none is fitted); choose_k_threshold: the
    calibrated threshold K is chosen by (None unless choose_k_by is threshold); min_score: the
    set-aside score; naming_rule and naming_threshold: how people take known names (None: the
    embedder has no calibrated threshold, and the experiment no known or find folder);
    corrections: the config's corrections file (None: the one in the state folder, if any);
    state_name: the folder under results/state/ keeping the names between runs (state_folder_name).
    """

    name: str
    dataset: DatasetSpec
    model: ModelSpec
    threshold: float | None
    cut_rule: CutRule | None
    choose_k_by: str
    choose_k_threshold: float | None
    min_score: float
    naming_rule: NamingRule
    naming_threshold: float | None
    known: DatasetSpec | None
    find: DatasetSpec | None
    corrections: str | None
    people_folders: str
    state_name: str
    settings: dict = field(repr=False)  # as validated

    def corrections_path(self, paths):
        """Where the experiment's corrections file is (it may not exist yet): the config's
        `corrections:`, else corrections.yaml in its state folder (paths: ResultPaths)."""
        return self.corrections if self.corrections is not None else paths.corrections(self.state_name)

    @property
    def face_tags(self):
        """Whether the names already in the photos and sidecars are read (facecluster.photos.tags)."""
        return self.settings.get("face_tags", True)

    @property
    def naming_pairs(self):
        return self.naming_rule.pairs

    @property
    def naming_datasets(self):
        return [dataset for dataset in (self.known, self.find) if dataset is not None]

    def job_settings(self):
        """The clustering job's settings, written into metrics.json as its recipe: the validated
        settings with what was resolved in their place (plain JSON values, which Snakemake compares
        between runs)."""
        settings = copy.deepcopy(self.settings)
        cluster = settings["cluster"]
        if self.threshold is not None:
            cluster["threshold"] = self.threshold
        cluster["cut_rule"] = self.cut_rule.settings() if self.cut_rule else None
        settings["choose_k_by"] = self.choose_k_by
        if self.choose_k_threshold is not None:
            settings["choose_k_threshold"] = self.choose_k_threshold
        settings["set_aside"]["min_score"] = self.min_score
        settings["naming_pairs"] = self.naming_pairs
        settings["naming_threshold"] = self.naming_threshold
        return settings


@dataclass(frozen=True)
class RunSpec:
    """Everything a run makes: its datasets (the experiments' known and find folders included,
    after the config's), models and experiments, by name."""

    batch_size: int
    photo_max_side: int
    default_model: str
    datasets: dict
    models: dict
    experiments: dict

    @property
    def naming_dataset_names(self):
        """The datasets made of experiments' known and find folders (built for those experiments)."""
        return {d.name for experiment in self.experiments.values() for d in experiment.naming_datasets}


def resolve(config):
    """The RunSpec of a validated config (facecluster.workflow.config.validate_config)."""
    datasets = {name: DatasetSpec.of(name, settings) for name, settings in config["datasets"].items()}
    models = {name: ModelSpec.of(name, settings) for name, settings in config["models"].items()}
    experiments = {}
    for name, settings in config["experiments"].items():
        experiments[name] = _experiment(name, settings, datasets, models, photos_run="photos" in config)
        datasets.update({dataset.name: dataset for dataset in experiments[name].naming_datasets})
    return RunSpec(
        config["batch_size"], config["photo_max_side"], config["default_model"], datasets, models, experiments
    )


def naming_dataset(experiment, key):
    """The dataset a `known` or `find` folder of an experiment becomes."""
    return f"{experiment}-{key}"


def state_folder_name(experiment, folder=None):
    """The folder under results/state/ an experiment keeps its names in: its name, or for the one
    folder of a `photos=PATH` run, `photos-<folder name>-<8 hex of the sha256 of its resolved path>`:
    sorting another folder never reads this one's names or corrections."""
    if folder is None:
        return experiment
    resolved = Path(folder).expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{experiment}-{resolved.name[:64] or 'root'}-{digest}"


def _experiment(name, settings, datasets, models, photos_run=False):
    key = f"experiments.{name}"
    require_defined(f"{key}.dataset", settings["dataset"], datasets, "datasets")
    require_defined(f"{key}.model", settings["model"], models, "models")
    model = models[settings["model"]]
    threshold, cut_rule = _clustering(key, settings, model.embedder)
    choose_k_by, choose_k_threshold = _choose_k_by(key, settings, model.embedder)
    naming_rule, naming_threshold = _naming(key, settings, model.embedder)
    return ExperimentSpec(
        name=name,
        dataset=datasets[settings["dataset"]],
        model=model,
        threshold=threshold,
        cut_rule=cut_rule,
        choose_k_by=choose_k_by,
        choose_k_threshold=choose_k_threshold,
        min_score=_set_aside_score(settings["set_aside"], model.detector),
        naming_rule=naming_rule,
        naming_threshold=naming_threshold,
        known=_naming_folder(key, name, settings, "known", datasets),
        find=_naming_folder(key, name, settings, "find", datasets),
        corrections=settings.get("corrections"),
        people_folders=settings["people_folders"],
        state_name=state_folder_name(
            name, datasets[settings["dataset"]].path if photos_run and name == PHOTOS_EXPERIMENT else None
        ),
        settings=settings,
    )


def _clustering(key, experiment, embedder):
    """Check k/threshold against the method: (the threshold, auto replaced by the calibrated value;
    the embedder's folder cut rule), for the cut without K and for choosing K by threshold."""
    from facecluster.clustering.clusterers import CLUSTERERS
    from facecluster.photos.embedders import fitted_rules

    cluster = experiment["cluster"]
    method, key = cluster["method"], f"{key}.cluster"
    clusterer = CLUSTERERS[method]
    k = cluster.get("k")
    if isinstance(k, dict) and k["from"] > k["to"]:
        raise ConfigError(f"{key}.k: the range from {k['from']} to {k['to']} is empty")
    if k is not None and clusterer.takes_k == "never":
        raise ConfigError(f"{key}.k: {method} finds the number of clusters itself; remove k")
    if "threshold" in cluster and not clusterer.takes_threshold:
        raise ConfigError(f"{key}.threshold: {method} takes no distance threshold; remove it")
    if clusterer.takes_k == "required" and k is None:
        raise ConfigError(f"{key}.k: {method} needs k (a number, a list or a from/to range)")
    if k is not None and "threshold" in cluster:
        raise ConfigError(f"{key}: give {method} either k or threshold, not both")
    threshold = None
    if clusterer.takes_threshold and k is None:
        threshold = _threshold(
            key, cluster.get("threshold", "auto"), metric_of(cluster), experiment["reduce"], embedder
        )
    return threshold, fitted_rules(embedder)[0]


def _several(k):
    """Whether a K setting sweeps more than one K."""
    if isinstance(k, dict):
        return k["to"] > k["from"]
    return isinstance(k, list) and len(set(k)) > 1


def _choose_k_by(key, experiment, embedder):
    """(choose_k_by, its threshold): threshold (facecluster.clustering.choose_k) by default for a sweep
    where the embedder's calibrated threshold applies, else silhouette; with threshold, that
    calibrated threshold."""
    metric, reduce = metric_of(experiment["cluster"]), experiment["reduce"]
    try:
        calibrated = _threshold(key, "auto", metric, reduce, embedder)
    except ConfigError:
        calibrated = None
    several_k = _several(experiment["cluster"].get("k"))
    choose_k_by = experiment.get("choose_k_by", "threshold" if several_k and calibrated else "silhouette")
    if choose_k_by != "threshold":
        return choose_k_by, None
    if calibrated is None:
        raise ConfigError(
            f"{key}.choose_k_by: threshold needs the embedder's calibrated threshold, valid on raw "
            "embeddings (reduce: {method: none}); choose K by silhouette here"
        )
    return choose_k_by, calibrated


def _threshold(key, threshold, metric, reduce, embedder):
    from facecluster.photos.embedders import calibrate_help, calibrated_thresholds

    if threshold != "auto":
        return threshold
    calibrated = calibrated_thresholds(embedder)
    if calibrated is None:
        raise ConfigError(
            f"{key}.threshold: embedder {embedder['name']!r} has no calibrated threshold; {calibrate_help(embedder)}"
        )
    if reduce["method"] != "none" or (metric == "euclidean" and reduce["l2_normalize"]):
        raise ConfigError(
            f"{key}.threshold: auto is calibrated on raw embeddings; use reduce: "
            "{method: none} or give a threshold for this reduction"
        )
    return calibrated[metric]


def _set_aside_score(set_aside, detector):
    """min_score auto: the score under which the experiment's detector's faces are set aside (none
    for a detector whose scores do not say how likely a face is, 0 meaning never)."""
    from facecluster.photos.detectors import DETECTORS

    if set_aside["min_score"] == "auto":
        return DETECTORS[detector["name"]].set_aside_score
    return set_aside["min_score"]


def _naming(key, experiment, embedder):
    """(The embedder's naming rule, naming_threshold with auto resolved); ConfigError where a known
    or find folder needs a threshold the embedder has not."""
    from facecluster.naming.persons import UNFITTED_NAMING
    from facecluster.photos.embedders import calibrate_help, calibrated_thresholds, fitted_rules

    rule = fitted_rules(embedder)[1] or UNFITTED_NAMING
    threshold = experiment["naming_threshold"]
    if threshold == "auto":
        calibrated = calibrated_thresholds(embedder)
        threshold = round(rule.scale * calibrated["euclidean"], 4) if calibrated else None
    for part in NAMING_FOLDERS:
        if part in experiment and threshold is None:
            raise ConfigError(
                f"{key}.naming_threshold: embedder {embedder['name']!r} has no calibrated threshold, which {part} "
                f"needs; {calibrate_help(embedder)}"
            )
    return rule, threshold


def _naming_folder(key, name, experiment, part, datasets):
    """The dataset an experiment's known or find folder becomes (processed, cached and in a ledger
    like any dataset, labelled by its sub-folders), or None."""
    if part not in experiment:
        return None
    dataset = DatasetSpec.of(naming_dataset(name, part), {"path": experiment[part], "labels": "folders"})
    if dataset.name in datasets and datasets[dataset.name].settings != dataset.settings:
        raise ConfigError(f"{key}.{part}: a dataset is already named {dataset.name!r}; rename it or the experiment")
    return dataset
