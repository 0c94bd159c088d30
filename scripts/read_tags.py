"""Snakemake script: read the face tags of a dataset's photos and sidecars (facecluster.photos.tags)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.photos.tags import read_listing_tags

rows = read_listing_tags(snakemake.input.listing, snakemake.output[0], snakemake.params.picasa_contacts or None)
logging.info(
    "%d names read, %d problems", sum(1 for r in rows if r.name and not r.problem), sum(1 for r in rows if r.problem)
)
