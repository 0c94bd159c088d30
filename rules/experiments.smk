# The aggregate stage: per experiment, cluster the gathered embeddings over a
# K sweep, score every K, name the people, draw the figures and write a report.


# The names given are kept in params.state (results/state/<experiment>/), read
# and rewritten by the job: Snakemake deletes a job's outputs before it runs, and
# the next run needs this run's names to keep them (facecluster.naming.persons).
rule cluster_experiment:
    input:
        unpack(experiment_naming_inputs),
        embeddings=experiment_input("embeddings.npy"),
        faces=experiment_input("faces.tsv"),
    output:
        assignments=f"{RESULTS}/experiments/{{experiment}}/assignments.tsv",
        metrics=f"{RESULTS}/experiments/{{experiment}}/metrics.json",
        coords=f"{RESULTS}/experiments/{{experiment}}/coords.npy",
        table=report(
            f"{RESULTS}/experiments/{{experiment}}/metrics.tsv",
            caption="../report/metrics.rst",
            category="{experiment}",
            subcategory="scores",
            labels={"experiment": "{experiment}", "figure": "scores per K"},
        ),
    log:
        f"{RESULTS}/logs/cluster_experiment/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/cluster_experiment/{{experiment}}.tsv"
    conda:
        "../envs/aggregate.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        settings=experiment_settings,
        state=naming_state,
    script:
        "../scripts/cluster_experiment.py"


rule plot_experiment:
    input:
        assignments=rules.cluster_experiment.output.assignments,
        metrics=rules.cluster_experiment.output.metrics,
        coords=rules.cluster_experiment.output.coords,
    output:
        **experiment_figure_outputs("{experiment}"),
    log:
        f"{RESULTS}/logs/plot_experiment/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_experiment/{{experiment}}.tsv"
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/plot_experiment.py"


rule report_experiment:
    input:
        plots=experiment_figure_files,
        metrics=rules.cluster_experiment.output.metrics,
        ledger=experiment_input("ledger.tsv"),
        # The report shows the first persons' contact sheets and links the rest.
        people=f"{RESULTS}/experiments/{{experiment}}/people",
    output:
        f"{RESULTS}/experiments/{{experiment}}/report.md",
    log:
        f"{RESULTS}/logs/report_experiment/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/report_experiment/{{experiment}}.tsv"
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        plots=experiment_figures,
    script:
        "../scripts/report_experiment.py"


rule people_folders:
    input:
        assignments=rules.cluster_experiment.output.assignments,
    output:
        directory(f"{RESULTS}/experiments/{{experiment}}/people"),
    log:
        f"{RESULTS}/logs/people_folders/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/people_folders/{{experiment}}.tsv"
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        mode=experiment_people,
    script:
        "../scripts/people_folders.py"


# Every photo of the folder holding the person of each query (a sub-folder of the
# experiment's `find` folder), ranked by distance: a table and a contact sheet each.
rule find_person:
    input:
        unpack(experiment_find_inputs),
        assignments=rules.cluster_experiment.output.assignments,
        folder_embeddings=experiment_input("embeddings.npy"),
    output:
        directory(f"{RESULTS}/experiments/{{experiment}}/find"),
    log:
        f"{RESULTS}/logs/find_person/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/find_person/{{experiment}}.tsv"
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        threshold=lambda wildcards: experiment_settings(wildcards)["naming_threshold"],
    script:
        "../scripts/find_person.py"
