"""Snakemake script: one folder per person, with the photos and their faces (those that changed since
the last run rewritten)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from pathlib import Path

from facecluster.outputs.people_folders import write_people_folders

rebuilt = write_people_folders(
    snakemake.input.assignments,
    Path(snakemake.output[0]).parent,
    mode=snakemake.params.mode,
    workers=snakemake.threads,
)
logging.info("%d folders written: %s", len(rebuilt), ", ".join(rebuilt))
