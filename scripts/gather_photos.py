"""Snakemake script: a dataset's batches -> ledger, embeddings matrix and faces table."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.photos.gather import gather

gather(
    snakemake.input.batches,
    ledger_path=snakemake.output.ledger,
    embeddings_path=snakemake.output.embeddings,
    faces_path=snakemake.output.faces,
)
