# The per-photo stage: batches of photos -> per-photo faces, chips and
# embeddings (one job per batch, models loaded once per job), then one
# ledger and one embeddings matrix per dataset and model.


rule list_dataset:
    output:
        f"{RESULTS}/{{dataset}}/photos.tsv",
    log:
        f"{RESULTS}/logs/list_dataset/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/list_dataset/{{dataset}}.tsv"
    conda:
        "../envs/files.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        # A change in the listing changes this digest, which reruns the rule.
        listing=dataset_listing_digest,
        dataset=dataset_settings,
        batch_size=PLAN.config["batch_size"],
        parts=PLAN.parts,
    script:
        "../scripts/list_dataset.py"


rule process_batch:
    input:
        photos=batch_photos,
        detector_files=detector_files,
        embedder_files=embedder_files,
    output:
        directory(f"{RESULTS}/{{dataset}}/{{model}}/batches/{{batch}}"),
    log:
        f"{RESULTS}/logs/process_batch/{{dataset}}/{{model}}/{{batch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/process_batch/{{dataset}}/{{model}}/{{batch}}.tsv"
    priority: batch_priority
    # On a cluster, --group-components photos=N submits N batches as one job.
    group:
        "photos"
    conda:
        "../envs/models.yaml"
    threads: model_threads
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=model_gpus,
    params:
        members=batch_members,
        model=model_settings,
        cache=cache_folder,
        photo_max_side=PLAN.config["photo_max_side"],
    script:
        "../scripts/process_batch.py"


rule gather_photos:
    input:
        batches=dataset_batches,
    output:
        ledger=f"{RESULTS}/{{dataset}}/{{model}}/ledger.tsv",
        embeddings=f"{RESULTS}/{{dataset}}/{{model}}/embeddings.npy",
        faces=f"{RESULTS}/{{dataset}}/{{model}}/faces.tsv",
    log:
        f"{RESULTS}/logs/gather_photos/{{dataset}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/gather_photos/{{dataset}}/{{model}}.tsv"
    conda:
        "../envs/files.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/gather_photos.py"
