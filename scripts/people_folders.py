"""Snakemake script: one folder per cluster, with the photos and their faces."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.outputs.people_folders import write_people_folders

write_people_folders(snakemake.input.assignments, snakemake.output[0], mode=snakemake.params.mode)
