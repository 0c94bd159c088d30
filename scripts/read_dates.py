"""Snakemake script: read when each of a dataset's photos was taken (facecluster.photos.dates)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.photos.dates import read_listing_dates

rows = read_listing_dates(snakemake.input.listing, snakemake.output[0])
logging.info(
    "%d of %d photos dated, %d with a note", sum(1 for r in rows if r.date), len(rows), sum(1 for r in rows if r.note)
)
