"""Snakemake script: draw one experiment's figures."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.workflow.experiment import plot_experiment

plot_experiment(
    snakemake.wildcards.experiment,
    snakemake.input.assignments,
    snakemake.input.metrics,
    snakemake.input.coords,
    out=dict(snakemake.output.items()),
)
