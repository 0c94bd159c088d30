"""Snakemake script: every photo of the person of each query photo, ranked by distance."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.naming.find import find_people

find_people(
    {name: snakemake.input[name] for name in ("embeddings", "faces", "ledger")},
    snakemake.input.assignments,
    snakemake.input.folder_embeddings,
    snakemake.params.threshold,
    snakemake.output[0],
)
