"""Snakemake script: fetch a dataset's pinned photos, each checked against its sha256."""

import logging
import shutil
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.workflow.download import ChecksumError, DownloadError, fetch_photos

try:
    fetch_photos(
        snakemake.input.manifest,
        snakemake.params.base_url,
        snakemake.params.folder,
        setting=f"datasets.{snakemake.wildcards.dataset}.download.base_url",
    )
except (DownloadError, ChecksumError) as error:
    # A few lines that say what to do, in the log Snakemake prints, not a traceback.
    print(error, file=sys.stderr)
    sys.exit(1)
# The verified manifest marks the download as complete.
shutil.copyfile(snakemake.input.manifest, snakemake.output[0])
