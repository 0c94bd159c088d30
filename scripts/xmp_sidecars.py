"""Snakemake script: write one experiment's XMP sidecars (face regions with the people's names)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.outputs.xmp import write_sidecars

written = write_sidecars(snakemake.input.assignments, snakemake.input.listing, snakemake.output[0])
logging.info("%(regions)d faces in %(photos)d sidecars", written)
