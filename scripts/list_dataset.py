"""Snakemake script: write a dataset's id-to-path mapping."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.workflow.plan import write_listing

write_listing(snakemake.output[0], snakemake.params.dataset, snakemake.params.batch_size, snakemake.params.parts)
