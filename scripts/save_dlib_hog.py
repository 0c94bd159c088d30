"""Snakemake script: dlib's frontal face detector -> a file that loads in a millisecond."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from facecluster.detect import save_dlib_hog

save_dlib_hog(snakemake.output[0])
