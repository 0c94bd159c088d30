"""Snakemake script of bench/per_photo.smk: one photo, its own models, the product's BatchProcessor."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.photos import BatchProcessor

processor = BatchProcessor(
    snakemake.params.model,
    cache_dir=snakemake.params.cache,
    photo_max_side=snakemake.params.photo_max_side,
)
processor.process([snakemake.params.member], snakemake.output[0])
