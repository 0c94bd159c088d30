"""Snakemake script: make the model files a detector or embedder declared (models/<name>/)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.workflow.plan import prepare_model

prepare_model(snakemake.wildcards.prepared, snakemake.output[0])
