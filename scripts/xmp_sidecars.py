"""Snakemake script: write one experiment's XMP sidecars (face regions with the people's names)."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from pathlib import Path

from facecluster.outputs.xmp import refresh_sidecars

written = refresh_sidecars(snakemake.input.assignments, snakemake.input.listing, Path(snakemake.output[0]).parent)
logging.info("%(regions)d faces in %(photos)d sidecars, %(written)d of them written", written)
