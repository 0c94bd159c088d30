# Config becomes file lists here: validation, dataset listings, batches and
# every input function. Rules stay declarative.
import os
import sys

# The library lives next to this workflow; make it importable here and in
# every job (local or cluster), whether or not it is pip-installed.
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")])
    )
)

from facecluster.workflow.config import validate_config
from facecluster.naming.corrections import CorrectionsError
from facecluster.naming.state import StateError
from facecluster.workflow.plan import Plan
from facecluster.workflow.specs import resolve
from facecluster.workflow.lock import Busy, ResultsLock
from facecluster.outputs.report import describe_unhonoured
from snakemake.exceptions import WorkflowError


def local_cores():
    """The cores of a local run, over which a small folder's batches are spread; on a
    cluster, 1: batch_size alone decides there (jobs start slower, cores are many). A job
    that reads the Snakefile again on its node (exec mode remote) says 1 too: its threads
    must be those the main process asked the cluster for."""
    if not workflow.local_exec or not workflow.is_main_process:
        return 1
    try:
        return workflow.cores
    except WorkflowError:  # no --cores given (a dry run without it has 1)
        return 1


PLAN = Plan(resolve(validate_config(config)), results="results", cores=local_cores())
PLAN.check_pinned_files()
try:
    PLAN.check_naming()
except (StateError, CorrectionsError) as error:
    # A mistake in the user's files, not in the code: its message, no traceback, before
    # Snakemake builds a job (and deletes the outputs of those it reruns).
    sys.exit(f"facecluster: {error}\nNothing was run and nothing deleted.")
RESULTS = PLAN.results
# Where each result goes (facecluster.workflow.paths): the rules' outputs, logs and benchmarks.
PATHS = PLAN.paths
SPEC = PLAN.spec


def say_unhonoured_corrections():
    """At the end of a run, what report.md says too: the corrections not honoured, and why."""
    lines = describe_unhonoured(PLAN.unhonoured_corrections(), RESULTS)
    if lines:
        print("\n".join(lines), file=sys.stderr)


AT_SUCCESS.append(say_unhonoured_corrections)

# Held for the whole run: the review app (facecluster review) refuses to save corrections while a
# run may rewrite what it writes (facecluster.workflow.lock).
RUN_LOCK = ResultsLock(RESULTS)


onstart:
    try:
        RUN_LOCK.take(wait=False)
    except Busy:
        print(
            "facecluster: waiting for the review app to finish saving a correction",
            file=sys.stderr,
        )
        RUN_LOCK.take(wait=True)


AT_END.append(RUN_LOCK.release)


wildcard_constraints:
    dataset="|".join(PLAN.dataset_names) or "(?!)",
    model="|".join(PLAN.model_names) or "(?!)",
    batch=r"b[0-9a-f]{10}",
    experiment="|".join(PLAN.experiment_names) or "(?!)",


def all_targets():
    return PLAN.targets()


def batch_photos(wildcards):
    return PLAN.batch_inputs(wildcards.dataset, wildcards.batch)


def batch_members(wildcards):
    return PLAN.batch_members(wildcards.dataset, wildcards.batch)


def batch_priority(wildcards):
    return PLAN.batch_priority(wildcards.dataset, wildcards.batch)


def model_settings(wildcards):
    return PLAN.model_settings(wildcards.model)


def cache_folder(wildcards):
    return PLAN.cache_folder(wildcards.model)


def detector_files(wildcards):
    return PLAN.model_inputs(wildcards.model)["detector"]


def embedder_files(wildcards):
    return PLAN.model_inputs(wildcards.model)["embedder"]


def batch_threads(wildcards):
    return PLAN.batch_threads(wildcards.dataset, wildcards.model, wildcards.batch)


def people_folders_threads(wildcards):
    return PLAN.drawing_threads(PATHS.people_index(wildcards.experiment))


def review_pages_threads(wildcards):
    return PLAN.drawing_threads(PATHS.review_data(wildcards.experiment))


def model_gpus(wildcards):
    return SPEC.models[wildcards.model].gpus


def dataset_batches(wildcards):
    return PLAN.batch_folders(wildcards.dataset, wildcards.model)


def dataset_listing_digest(wildcards):
    return PLAN.listing_digest(wildcards.dataset)


def dataset_file_stamps(wildcards):
    return PLAN.file_stamps(wildcards.dataset)


def dataset_picasa_contacts(wildcards):
    return SPEC.datasets[wildcards.dataset].settings.get("picasa_contacts", "")


def dataset_settings(wildcards):
    return SPEC.datasets[wildcards.dataset].job_settings()


def download_manifest(wildcards):
    return SPEC.datasets[wildcards.dataset].download.manifest


def download_base_url(wildcards):
    return SPEC.datasets[wildcards.dataset].download.base_url


def dataset_folder(wildcards):
    return SPEC.datasets[wildcards.dataset].path


def experiment_settings(wildcards):
    """The clustering job's settings: its metrics.json's recipe."""
    return SPEC.experiments[wildcards.experiment].job_settings()


def naming_threshold(wildcards):
    return SPEC.experiments[wildcards.experiment].naming_threshold


def experiment_corrections_file(wildcards):
    """Where the experiment's corrections file is (the config's, else its state folder's)."""
    return PLAN.corrections_path(wildcards.experiment)


def experiment_input(part):
    """Input function: a gathered per-photo output (ledger, embeddings or faces) the experiment reads."""

    def input_path(wildcards):
        return PLAN.experiment_input(wildcards.experiment, part)

    return input_path


def experiment_dates(wildcards):
    return PLAN.experiment_dates(wildcards.experiment)


def sorting_dates(wildcards):
    return PLAN.sorting_dates(wildcards.experiment)


def experiment_figure_outputs(experiment):
    """The figures of an experiment, flagged for `snakemake --report` with their captions."""
    return {
        name: report(
            path,
            caption=f"../report/{name}.rst",
            category="{experiment}",
            subcategory="figures",
            labels={"experiment": "{experiment}", "figure": name.replace("_", " ")},
        )
        for name, path in PATHS.figures(experiment).items()
    }


def experiment_naming_inputs(wildcards):
    """{known_embeddings, known_faces, known_ledger, corrections}: those the experiment has."""
    return PLAN.naming_inputs(wildcards.experiment)


def experiment_corrections(wildcards):
    """{corrections: the file}, when the experiment has one that exists."""
    inputs = PLAN.naming_inputs(wildcards.experiment)
    return {key: inputs[key] for key in ("corrections",) if key in inputs}


def experiment_listing(wildcards):
    return PLAN.experiment_listing(wildcards.experiment)


def experiment_find_inputs(wildcards):
    return PLAN.find_inputs(wildcards.experiment)


def naming_state(wildcards):
    return PLAN.state_folder(wildcards.experiment)


def job_corrections(wildcards):
    """The corrections file the clustering job reads, or None (facecluster.workflow.plan)."""
    return PLAN.job_corrections(wildcards.experiment)


def experiment_people(wildcards):
    return SPEC.experiments[wildcards.experiment].people_folders


def experiment_figures(wildcards):
    """{figure name: PNG path}."""
    return PATHS.figures(wildcards.experiment)


def experiment_figure_files(wildcards):
    return list(experiment_figures(wildcards).values())
