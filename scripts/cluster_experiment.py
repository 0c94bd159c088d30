"""Snakemake script: sort one experiment's faces into persons over its K sweep and score every K."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

import numpy as np
from threadpoolctl import threadpool_limits

from facecluster.photos.dates import capture_years
from facecluster.photos.faces import read_faces
from facecluster.workflow.experiment import sort_experiment
from facecluster.workflow.sorting_state import SortingState

embeddings = np.load(snakemake.input.embeddings, mmap_mode="r", allow_pickle=False)
state = SortingState.read(snakemake.params.state)
with threadpool_limits(snakemake.threads):
    faces = read_faces(snakemake.input.faces)
    years = capture_years(snakemake.input.dates[0]) if snakemake.input.dates else None
    clustering = sort_experiment(embeddings, faces, snakemake.params.settings, state, years)
clustering.write(
    snakemake.output.clusters, snakemake.output.clustering, snakemake.output.coords, snakemake.output.table
)
clustering.state.write(snakemake.params.state)
