# The review pages of an experiment: its people in a browser, opened from disk, where
# the user renames, merges, moves faces out and hides people, and saves the corrections
# file the next run applies (facecluster/outputs/review.py).


rule review_pages:
    input:
        unpack(experiment_corrections),
        assignments=rules.cluster_experiment.output.assignments,
        metrics=rules.cluster_experiment.output.metrics,
        embeddings=experiment_input("embeddings.npy"),
    output:
        directory(f"{RESULTS}/experiments/{{experiment}}/review"),
    log:
        f"{RESULTS}/logs/review_pages/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/review_pages/{{experiment}}.tsv"
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        threshold=lambda wildcards: experiment_settings(wildcards)["naming_threshold"],
        corrections=lambda wildcards: experiment_settings(wildcards).get("corrections"),
    script:
        "../scripts/review_pages.py"
