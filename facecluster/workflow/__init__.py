"""The workflow around the stages: the config (validated, resolved), the plan of the files
Snakemake makes, the paths of results, downloads, pinned model files and the jobs' entry points."""
