"""Snakemake script: one batch of photos -> per-photo faces, chips and embeddings."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.photos.batch import BatchProcessor

processor = BatchProcessor(
    snakemake.params.model,
    cache_dir=snakemake.params.cache,
    photo_max_side=snakemake.params.photo_max_side,
    threads=snakemake.threads,
    files={"detector": snakemake.input.detector_files, "embedder": snakemake.input.embedder_files},
)
processor.process(snakemake.params.members, snakemake.output[0])
