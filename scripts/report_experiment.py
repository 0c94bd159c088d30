"""Snakemake script: write one experiment's Markdown report."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from pathlib import Path

from facecluster.outputs.report import write_report

write_report(
    snakemake.wildcards.experiment,
    metrics_path=snakemake.input.metrics,
    ledger_path=snakemake.input.ledger,
    dates_path=snakemake.input.dates,
    people_folder=Path(snakemake.input.people).parent,
    plots=snakemake.params.plots,
    out_path=snakemake.output[0],
)
