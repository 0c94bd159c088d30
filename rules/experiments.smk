# The aggregate stage: per experiment, cluster the gathered embeddings over a
# K sweep, score every K, name the people, draw the figures and write a report.


# Sorting and naming are two jobs: a corrections file (or a face tag, or a known
# person) changed reruns the naming alone, in seconds, never the sorting.
rule cluster_experiment:
    input:
        embeddings=experiment_input("embeddings"),
        faces=experiment_input("faces"),
        # Capture dates link a person's faces across the years (use_dates; none for an embedder
        # with no age rule, so that a date edited sorts nothing again).
        dates=sorting_dates,
    output:
        clusters=PATHS.clusters("{experiment}"),
        clustering=PATHS.clustering("{experiment}"),
        coords=PATHS.coords("{experiment}"),
        table=report(
            PATHS.metrics_table("{experiment}"),
            caption="../report/metrics.rst",
            category="{experiment}",
            subcategory="scores",
            labels={"experiment": "{experiment}", "figure": "scores per K"},
        ),
    log:
        PATHS.log("cluster_experiment", "{experiment}"),
    benchmark:
        PATHS.benchmark("cluster_experiment", "{experiment}")
    conda:
        "../envs/aggregate.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        settings=experiment_settings,
        # Kept between runs (facecluster.workflow.sorting_state): each face's sharpness, and the
        # sorting new photos' faces are placed in.
        state=naming_state,
    script:
        "../scripts/cluster_experiment.py"


# The names given are kept in params.state (results/state/<experiment>/), read
# and rewritten by the job: Snakemake deletes a job's outputs before it runs, and
# the next run needs this run's names to keep them (facecluster.naming.persons).
# params.corrections: the config's corrections file, else the state folder's.
# input.tags (unless face_tags: false): the names read from the photos and sidecars.
rule name_experiment:
    input:
        unpack(experiment_naming_inputs),
        clusters=rules.cluster_experiment.output.clusters,
        clustering=rules.cluster_experiment.output.clustering,
        embeddings=experiment_input("embeddings"),
        faces=experiment_input("faces"),
    output:
        assignments=PATHS.assignments("{experiment}"),
        metrics=PATHS.metrics("{experiment}"),
        tags=PATHS.experiment_tags("{experiment}"),
    log:
        PATHS.log("name_experiment", "{experiment}"),
    benchmark:
        PATHS.benchmark("name_experiment", "{experiment}")
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=experiment_settings,
        state=naming_state,
        corrections=job_corrections,
    script:
        "../scripts/name_experiment.py"


rule plot_experiment:
    input:
        assignments=rules.name_experiment.output.assignments,
        metrics=rules.name_experiment.output.metrics,
        coords=rules.cluster_experiment.output.coords,
    output:
        **experiment_figure_outputs("{experiment}"),
    log:
        PATHS.log("plot_experiment", "{experiment}"),
    benchmark:
        PATHS.benchmark("plot_experiment", "{experiment}")
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
        metrics=rules.name_experiment.output.metrics,
        ledger=experiment_input("ledger"),
        # How many photos are dated, and the dates kept out.
        dates=experiment_dates,
        # The report shows the first persons' contact sheets and links the rest.
        people=PATHS.people_index("{experiment}"),
    output:
        PATHS.report("{experiment}"),
    log:
        PATHS.log("report_experiment", "{experiment}"),
    benchmark:
        PATHS.benchmark("report_experiment", "{experiment}")
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
        assignments=rules.name_experiment.output.assignments,
    output:
        # The folder is kept and only the folders that change are rewritten: its index is the output.
        PATHS.people_index("{experiment}"),
    log:
        PATHS.log("people_folders", "{experiment}"),
    benchmark:
        PATHS.benchmark("people_folders", "{experiment}")
    conda:
        "../envs/aggregate.yaml"
    # A first build draws every face (50,000 at 20,000 photos) in two processes; a later run, the
    # few faces that changed, in one, beside the plots and the sidecars.
    threads: people_folders_threads
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
        assignments=rules.name_experiment.output.assignments,
        folder_embeddings=experiment_input("embeddings"),
    output:
        directory(PATHS.find("{experiment}")),
    log:
        PATHS.log("find_person", "{experiment}"),
    benchmark:
        PATHS.benchmark("find_person", "{experiment}")
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        threshold=naming_threshold,
    script:
        "../scripts/find_person.py"
