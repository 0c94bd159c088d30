"""Snakemake script: name the people of one experiment's sorting (known people, the names kept,
face tags, corrections)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.workflow.experiment import name_experiment

settings = snakemake.params.settings
name_experiment(
    snakemake.input.clusters,
    snakemake.input.clustering,
    snakemake.input.embeddings,
    snakemake.input.faces,
    settings,
    out_assignments=snakemake.output.assignments,
    out_metrics=snakemake.output.metrics,
    known=(
        {part: getattr(snakemake.input, f"known_{part}") for part in ("embeddings", "faces", "ledger")}
        if "known" in settings
        else None
    ),
    corrections=snakemake.params.corrections,
    state=snakemake.params.state,
    tags=snakemake.input.get("tags"),
    out_tags=snakemake.output.tags,
)
