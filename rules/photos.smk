# The per-photo stage: batches of photos -> per-photo faces, chips and
# embeddings (one job per batch, models loaded once per job), then one
# ledger and one embeddings matrix per dataset and model.


rule list_dataset:
    output:
        PATHS.listing("{dataset}"),
    log:
        PATHS.log("list_dataset", "{dataset}"),
    benchmark:
        PATHS.benchmark("list_dataset", "{dataset}")
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
        batch_size=SPEC.batch_size,
        parts=PLAN.parts,
    script:
        "../scripts/list_dataset.py"


rule process_batch:
    input:
        photos=batch_photos,
        detector_files=detector_files,
        embedder_files=embedder_files,
    output:
        directory(PATHS.batch("{dataset}", "{model}", "{batch}")),
    log:
        PATHS.log("process_batch", "{dataset}", "{model}", "{batch}"),
    benchmark:
        PATHS.benchmark("process_batch", "{dataset}", "{model}", "{batch}")
    priority: batch_priority
    # On a cluster, --group-components photos=N submits N batches as one job.
    group:
        "photos"
    conda:
        "../envs/models.yaml"
    # The model's threads; more where fewer batches are left to compute than --cores.
    threads: batch_threads
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=model_gpus,
    params:
        members=batch_members,
        model=model_settings,
        cache=cache_folder,
        photo_max_side=SPEC.photo_max_side,
    script:
        "../scripts/process_batch.py"


rule gather_photos:
    input:
        batches=dataset_batches,
    output:
        # ledger, embeddings, faces
        **PATHS.processed("{dataset}", "{model}"),
    log:
        PATHS.log("gather_photos", "{dataset}", "{model}"),
    benchmark:
        PATHS.benchmark("gather_photos", "{dataset}", "{model}")
    conda:
        "../envs/files.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/gather_photos.py"
