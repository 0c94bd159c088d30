"""Snakemake script: an experiment's review pages (facecluster.outputs.review)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from pathlib import Path

from facecluster.outputs.review import write_review

write_review(
    snakemake.input.assignments,
    snakemake.input.embeddings,
    snakemake.input.metrics,
    Path(snakemake.output[0]).parent,
    experiment=snakemake.wildcards.experiment,
    threshold=snakemake.params.threshold,
    corrections=snakemake.params.corrections,
    dates=snakemake.input.dates,
    workers=snakemake.threads,
)
