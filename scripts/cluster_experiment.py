"""Snakemake script: cluster one experiment's faces over its K sweep and score every K."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from threadpoolctl import threadpool_limits

from facecluster.experiment import cluster_experiment

with threadpool_limits(snakemake.threads):
    cluster_experiment(
        snakemake.input.embeddings,
        snakemake.input.faces,
        snakemake.params.settings,
        out_assignments=snakemake.output.assignments,
        out_metrics=snakemake.output.metrics,
        out_coords=snakemake.output.coords,
        out_table=snakemake.output.table,
    )
