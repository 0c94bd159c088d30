"""What the workflow will make, from the run's spec (facecluster.workflow.specs): the Snakefile's planner.

Kept out of the .smk files so it can be unit-tested and so the rules stay
declarative. Dataset folders are listed once, lazily, without decoding.
"""

import hashlib
import json
import os
from functools import cached_property
from pathlib import Path

from facecluster.naming.corrections import check_corrections
from facecluster.naming.state import NamingState, StateError
from facecluster.photos.batch import model_fingerprint
from facecluster.photos.decoding import RejectedPhoto, check_header
from facecluster.photos.detectors import DETECTORS
from facecluster.photos.embedders import EMBEDDERS
from facecluster.photos.listing import entries_for, list_photos, make_batches
from facecluster.photos.tags import is_picasa_ini, is_sidecar_name
from facecluster.registry import PREPARED_MODELS
from facecluster.tables import tsv_writer
from facecluster.workflow.config import ConfigError
from facecluster.workflow.download import read_manifest
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.pinned_files import check_pinned_files


def dataset_entries(settings):
    """The PhotoEntry list of a dataset's settings (a downloaded one is listed from its manifest)."""
    if "download" in settings:
        relpaths = [path for path, _ in read_manifest(settings["download"]["manifest"])]
        return entries_for(settings["path"], relpaths, settings["labels"])
    return list_photos(settings["path"], settings["labels"])


def _file_stamp(path):
    """`size:mtime_ns` of a file, or None where it cannot be read (a broken link: the job records it)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _holds_tags_only(relpath):
    return is_sidecar_name(relpath) or is_picasa_ini(relpath)


def model_inputs(settings):
    """{"detector": paths, "embedder": paths}: the files a model's validated settings load
    (what the workflow prepares, what the user pins), as each component declares them."""
    return {
        part: [f.path for f in registry[settings[part]["name"]].model_files(settings[part])]
        for part, registry in (("detector", DETECTORS), ("embedder", EMBEDDERS))
    }


def prepare_model_files(settings, folder):
    """For the library's users outside the workflow (tests, benchmarks): make the files a
    model's validated settings load into `folder` (once) and return them as
    {"detector": paths, "embedder": paths}, the job's inputs."""
    files = {}
    for part, registry in (("detector", DETECTORS), ("embedder", EMBEDDERS)):
        files[part] = []
        for model_file in registry[settings[part]["name"]].model_files(settings[part]):
            path = model_file.path
            if model_file.prepared is not None:
                path = Path(folder) / model_file.prepared.name
                if not path.exists():
                    prepare_model(model_file.prepared.name, path)
            files[part].append(str(path))
    return files


def prepared_models():
    """{name: PreparedModel} of every detector and embedder (their modules declare them)."""
    DETECTORS.components(), EMBEDDERS.components()
    return PREPARED_MODELS


def prepared_model_sources(wildcards):
    """Input function of rule prepare_model: the files a PreparedModel is made from."""
    return list(prepared_models()[wildcards.prepared].sources)


def prepare_model(name, folder):
    """Make the model files declared as `name` (a PreparedModel) into `folder`."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    prepared_models()[name].build(folder)


class Plan:
    def __init__(self, spec, results="results", cores=1):
        """`spec`: the run (facecluster.workflow.specs.RunSpec). `cores`: what the run has (a
        local run's --cores; 1 where batch_size alone should decide, as on a cluster). A folder
        too small to give each of them a batch of batch_size photos is split over them
        (facecluster.photos.listing.make_batches)."""
        self.spec = spec
        self.results = results
        self.paths = ResultPaths(results)
        self._checked_models = set()
        self.cores = cores
        # Batches that run at once: a job takes its model's threads.
        self.parts = max(1, cores // spec.models[spec.default_model].threads)
        self._batches_to_compute = {}

    @property
    def dataset_names(self):
        return list(self.spec.datasets)

    @property
    def experiment_names(self):
        return list(self.spec.experiments)

    @property
    def model_names(self):
        return list(self.spec.models)

    @cached_property
    def _listings(self):
        return {name: self._list(dataset) for name, dataset in self.spec.datasets.items()}

    def _list(self, dataset):
        folder = Path(dataset.path)
        key = f"datasets.{dataset.name}.path"
        local = dataset.download is None  # a download's files do not exist yet
        if local and not folder.is_dir():
            raise ConfigError(f"{key}: folder {str(folder)!r} does not exist")
        entries = dataset_entries(dataset.settings)
        if not entries:
            raise ConfigError(f"{key}: folder {str(folder)!r} holds no files")
        if local:
            _require_a_photo(key, folder, entries)
        return entries, make_batches(entries, self.spec.batch_size, self.parts)

    def entries(self, dataset):
        return self._listings[dataset][0]

    def batches(self, dataset):
        return self._listings[dataset][1]

    def listing_digest(self, dataset):
        """Changes whenever a file is added, removed or renamed, or the batching changes."""
        digest = hashlib.sha256()
        for batch, members in self.batches(dataset).items():
            digest.update(batch.encode())
            for entry in members:
                digest.update(f"\0{entry.id}\0{entry.relpath}".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def file_stamps(self, dataset):
        """A digest of every file of a local dataset with its size and modification time (a
        download's files are pinned: its listing's digest), and of Picasa's contacts file where the
        dataset names one: rule read_tags reruns when a sidecar, a Picasa file or a photo changes."""
        contacts = self.spec.datasets[dataset].settings.get("picasa_contacts")
        stamp = f"\0{contacts}\0{_file_stamp(contacts)}" if contacts else ""
        if self.spec.datasets[dataset].download is not None:
            return self.listing_digest(dataset) + stamp
        digest = hashlib.sha256(stamp.encode("utf-8", "surrogateescape"))
        for entry in self.entries(dataset):
            digest.update(f"\0{entry.relpath}\0{_file_stamp(entry.path)}".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def batch_members(self, dataset, batch):
        """A batch job's photos. In a local folder each carries its file's size and
        modification time, so that an edited photo reruns its batch (the members
        are a job parameter); a download's files are pinned by their sha256."""
        stamped = self.spec.datasets[dataset].download is None
        return [
            {
                "id": e.id,
                "path": e.path,
                "label": e.label,
                "hidden": e.hidden,
                # A sidecar (or Picasa's file) is no photo, whatever it holds: its edits rerun rule
                # read_tags alone.
                **({"stamp": _file_stamp(e.path)} if stamped and not _holds_tags_only(e.relpath) else {}),
            }
            for e in self.batches(dataset)[batch]
        ]

    def batch_threads(self, dataset, model, batch):
        """A batch job's threads: its model's; where fewer batches hold photos left to compute than
        the run has cores (a library's new photos: one batch, beside hundreds done), each a share of
        the cores. YuNet takes a photo per thread and the embedder's runtime uses them all, so the
        day's photos are not computed on one core while the others wait for them."""
        threads = self.spec.models[model].threads
        key = (dataset, model)
        if key not in self._batches_to_compute:
            self._batches_to_compute[key] = self._batches_with_new_photos(dataset, model)
        left = self._batches_to_compute[key]
        return max(threads, self.cores // len(left)) if batch in left else threads

    def drawing_threads(self, output):
        """The threads of a job that draws every face of an experiment into its folder (the people
        folders, the review pages), whose `output` is the folder's index: 2 where it is not there
        yet (a first build: 50,000 faces at 20,000 photos, in two processes); 1 where it is (a later
        run draws the few faces that changed, and so runs beside the run's other jobs). On a cluster
        (cores 1), always 2: a job's node reads the Snakefile again, when the output may be gone,
        and must ask for the threads the main process asked for."""
        return 1 if self.cores > 1 and Path(output).is_file() else 2

    def _batches_with_new_photos(self, dataset, model):
        """The batches with a photo whose record (`<id>.json`, written for every photo, rejected
        ones too) is not in the batch's folder: new photos joined it, or it was never computed."""
        found = set()
        for batch, members in self.batches(dataset).items():
            folder = Path(self.paths.batch(dataset, model, batch))
            done = set(os.listdir(folder)) if folder.is_dir() else set()
            if any(f"{entry.id}.json" not in done for entry in members):
                found.add(batch)
        return found

    def batch_priority(self, dataset, batch):
        """Bigger batches first: the last jobs of a run are then the short ones, and
        no core waits long on one big batch at the end."""
        return len(self.batches(dataset)[batch])

    def batch_inputs(self, dataset, batch):
        """What a batch job waits for: the download of a downloaded dataset; nothing else.

        The photos are not inputs: each time Snakemake picks jobs to run it
        looks at every input of every job ready to run, and at 6,000 photos
        that took most of a core from the jobs (184 s for the per-photo stage,
        against 126 s without). Their stamps in `batch_members` rerun a batch
        instead, broken links and names holding "{...}" (which Snakemake would
        read as a wildcard) included.
        """
        if self.spec.datasets[dataset].download is not None:
            return [self.paths.downloaded(dataset)]
        return []

    def batch_folders(self, dataset, model):
        return [self.paths.batch(dataset, model, b) for b in self.batches(dataset)]

    def model_settings(self, model):
        """A model's settings (a batch job's parameter), its pinned files checked the first time
        (ConfigError if wrong)."""
        settings = self.spec.models[model].job_settings()
        if model not in self._checked_models:
            check_pinned_files(model, settings)
            self._checked_models.add(model)
        return settings

    def check_pinned_files(self):
        """Check the models the default targets use, before Snakemake builds a job.

        A model only an explicit target asks for is checked before its first
        job runs (`model_settings` gives the jobs' parameters); models nobody
        uses are never checked, so they cost no hashing.
        """
        used = {self.spec.default_model}
        used.update(experiment.model.name for experiment in self.spec.experiments.values())
        for model in sorted(used):
            self.model_settings(model)

    def model_inputs(self, model):
        return model_inputs(self.spec.models[model].settings)

    def cache_folder(self, model):
        fingerprint = model_fingerprint(self.spec.models[model].settings, self.spec.photo_max_side)
        return self.paths.cache(model, fingerprint)

    def experiment_listing(self, experiment):
        return self.paths.listing(self.spec.experiments[experiment].dataset.name)

    def photo_outputs(self, dataset, model):
        return list(self.paths.processed(dataset, model).values())

    def experiment_input(self, experiment, part):
        """A gathered per-photo output (`part`: ledger, embeddings or faces) the experiment reads."""
        spec = self.spec.experiments[experiment]
        return self.paths.processed(spec.dataset.name, spec.model.name)[part]

    def experiment_dates(self, experiment):
        """The dates of the experiment's photos (rule read_dates' table), which its pages and report show."""
        return self.paths.dates(self.spec.experiments[experiment].dataset.name)

    def sorting_dates(self, experiment):
        """[the dates table] where the experiment's sorting reads the dates (use_dates, and its
        embedder has an age rule: facecluster.clustering.cross_age), else []: a date edited then
        sorts nothing again."""
        from facecluster.photos.embedders import fitted_rules

        spec = self.spec.experiments[experiment]
        cut_rule = fitted_rules(spec.model.embedder)[0]
        if not spec.settings["use_dates"] or cut_rule is None or cut_rule.ages is None:
            return []
        return [self.experiment_dates(experiment)]

    def naming_inputs(self, experiment):
        """Inputs of an experiment's clustering besides its faces: the processed reference photos
        (`known`), the corrections file, when it exists (a missing one is recorded by the job), and
        the face tags read from the dataset's photos (`tags`, unless the experiment turns them off)."""
        spec = self.spec.experiments[experiment]
        inputs = {}
        if spec.known is not None:
            known = self.paths.processed(spec.known.name, spec.model.name)
            inputs.update({f"known_{name}": path for name, path in known.items()})
        corrections = self.corrections_path(experiment)
        if Path(corrections).is_file():
            inputs["corrections"] = corrections
        if spec.face_tags:
            inputs["tags"] = self.paths.tags(spec.dataset.name)
        return inputs

    def corrections_path(self, experiment):
        """Where an experiment's corrections file is (ExperimentSpec.corrections_path): the config's,
        else corrections.yaml in its state folder."""
        return self.spec.experiments[experiment].corrections_path(self.paths)

    def job_corrections(self, experiment):
        """The corrections file the clustering job reads: the config's (a missing one is recorded by
        the job), else the state folder's when it exists, else None."""
        spec = self.spec.experiments[experiment]
        path = self.corrections_path(experiment)
        return path if spec.corrections is not None or Path(path).is_file() else None

    def state_folder(self, experiment):
        """The folder keeping an experiment's names between runs (ExperimentSpec.state_name)."""
        return self.paths.state(self.spec.experiments[experiment].state_name)

    def find_inputs(self, experiment):
        """The processed query photos of an experiment's `find` folder."""
        spec = self.spec.experiments[experiment]
        return self.paths.processed(spec.find.name, spec.model.name)

    def check_naming(self):
        """Read every experiment's names state and check its corrections file, before Snakemake
        runs (or deletes) anything: StateError or CorrectionsError where one cannot be used (a name a
        person cannot have included, so that a correction that cannot be honoured never costs an
        output). A corrections file not written yet is no mistake: its job records it. A photos=PATH
        run first takes over the state of older versions (results/state/photos/) when its names are
        of this folder's photos (_take_over_unkeyed_state)."""
        for experiment, spec in self.spec.experiments.items():
            if spec.state_name != experiment:
                self._take_over_unkeyed_state(experiment, spec)
            NamingState.read(self.state_folder(experiment))
            corrections = self.corrections_path(experiment)
            if Path(corrections).exists():
                check_corrections(corrections)

    def _take_over_unkeyed_state(self, experiment, spec):
        """Move the state older versions kept for every photos=PATH run alike (results/state/photos/)
        to this folder's own state folder, when it has none yet and the old names are of photos in
        this folder; else leave it alone (it may be another folder's)."""
        old, new = Path(self.paths.state(experiment)), Path(self.paths.state(spec.state_name))
        if not old.is_dir() or new.exists():
            return
        folder = Path(spec.dataset.path).expanduser().resolve()
        try:
            paths = {path for path, _ in NamingState.read(old).faces}
        except StateError:
            return  # whoever's it is, not this folder's to stop on
        if paths and all(Path(path).resolve().is_relative_to(folder) for path in paths):
            old.rename(new)

    def unhonoured_corrections(self):
        """{experiment: the corrections its last clustering could not honour, each with why}, from
        the metrics.json of each experiment that has one."""
        found = {}
        for experiment in self.experiment_names:
            metrics = Path(self.paths.metrics(experiment))
            if metrics.exists():
                naming = json.loads(metrics.read_text()).get("naming", {})
                found[experiment] = [c for c in naming.get("corrections", []) if not c["honoured"]]
        return {experiment: corrections for experiment, corrections in found.items() if corrections}

    def targets(self):
        model = self.spec.default_model
        targets = []
        naming = self.spec.naming_dataset_names  # built with their experiment's model, for it
        for dataset in self.dataset_names:
            if dataset not in naming:
                targets.append(self.paths.listing(dataset))
                targets.extend(self.photo_outputs(dataset, model))
        for experiment, spec in self.spec.experiments.items():
            targets += self.paths.outputs(experiment)
            if spec.find is not None:
                targets.append(self.paths.find(experiment))
        return targets


def _require_a_photo(key, folder, entries):
    """ConfigError unless some file has a usable photo's header.

    Headers are read in listing order until the first usable one, so a
    folder of photos costs one file open, whatever its size.
    """
    reasons = []
    for entry in entries:
        if entry.hidden:  # rejected by the per-photo stage whatever it holds
            reasons.append(f"{entry.relpath!r}: hidden file")
            continue
        try:
            check_header(entry.path)
            return
        except RejectedPhoto as exc:
            reasons.append(f"{entry.relpath!r}: {exc}")
    more = "; ..." if len(reasons) > 3 else ""
    raise ConfigError(
        f"{key}: folder {str(folder)!r} holds no readable photo: {len(entries)} files, "
        f"none usable ({'; '.join(reasons[:3])}{more})"
    )


def write_listing(path, settings, batch_size, parts=1):
    """The id-to-path mapping of a dataset, with each photo's batch (see Plan.parts)."""
    entries = dataset_entries(settings)
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = tsv_writer(handle)
        writer.writerow(["id", "relpath", "path", "label", "batch"])
        for batch, members in make_batches(entries, batch_size, parts).items():
            writer.writerows([e.id, e.relpath, e.path, e.label, batch] for e in members)
