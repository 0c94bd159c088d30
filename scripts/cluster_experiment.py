"""Snakemake script: cluster one experiment's faces over its K sweep, score every K, name the people."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from threadpoolctl import threadpool_limits

from facecluster.workflow.experiment import cluster_experiment

settings = snakemake.params.settings
with threadpool_limits(snakemake.threads):
    cluster_experiment(
        snakemake.input.embeddings,
        snakemake.input.faces,
        settings,
        out_assignments=snakemake.output.assignments,
        out_metrics=snakemake.output.metrics,
        out_coords=snakemake.output.coords,
        out_table=snakemake.output.table,
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
