"""Snakemake script: dlib's face ResNet -> the numpy runtime's copy, which a batch job maps in milliseconds."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from facecluster.dlib_numpy import NumpyFaceNet

NumpyFaceNet.from_file(snakemake.input[0]).save_prepared(snakemake.output[0])
