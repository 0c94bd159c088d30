# The review pages of an experiment: its people in a browser, opened from disk, where
# the user renames, merges, moves faces out and hides people, and saves the corrections
# file the next run applies (facecluster/outputs/review.py).


rule review_pages:
    input:
        unpack(experiment_corrections),
        assignments=rules.name_experiment.output.assignments,
        metrics=rules.name_experiment.output.metrics,
        embeddings=experiment_input("embeddings"),
        # When each photo was taken: shown under its faces, a person's faces in that order.
        dates=experiment_dates,
    output:
        # The folder is kept: a run writes the thumbnails of new faces only. data.js is the output.
        PATHS.review_data("{experiment}"),
    log:
        PATHS.log("review_pages", "{experiment}"),
    benchmark:
        PATHS.benchmark("review_pages", "{experiment}")
    conda:
        "../envs/aggregate.yaml"
    # A first build makes every face's thumbnail (50,000 at 20,000 photos) in two processes; a
    # later run, the new faces', in one, beside the plots and the sidecars.
    threads: review_pages_threads
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        threshold=naming_threshold,
        corrections=experiment_corrections_file,
    script:
        "../scripts/review_pages.py"
