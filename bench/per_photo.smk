# The straw man of bench/run.py's "per-photo jobs" line, NOT part of the
# product: every photo is its own job, which loads the models for that one
# photo. Config: photos (a folder, labels from folder names), model (a
# validated model's settings), photo_max_side.
from dataclasses import asdict

from facecluster.photos.listing import list_photos
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.plan import model_inputs

RESULTS = "results"
PATHS = ResultPaths(RESULTS)  # where rules/models.smk writes its logs
MODEL_FILES = model_inputs(config["model"])


# The product's model files (the same fast-loading copies as its jobs use) and its exit.
include: "../rules/models.smk"
include: "../rules/exit.smk"


PHOTOS = {entry.id: entry for entry in list_photos(config["photos"])}


def photo_path(wildcards):
    return PHOTOS[wildcards.photo].path


def photo_as_batch(wildcards):
    # A batch of one: BatchProcessor reads each member's id, path, label and hidden.
    return [asdict(PHOTOS[wildcards.photo])]


rule all:
    default_target: True
    input:
        expand("results/photos/{photo}", photo=PHOTOS),


rule process_photo:
    input:
        photo=photo_path,
        detector_files=MODEL_FILES["detector"],
        embedder_files=MODEL_FILES["embedder"],
    output:
        directory("results/photos/{photo}"),
    log:
        "results/logs/{photo}.log",
    threads: 1
    params:
        members=photo_as_batch,
        model=config["model"],
        cache="results/cache",
        photo_max_side=config["photo_max_side"],
    script:
        "../scripts/process_batch.py"
