# Datasets with a `download:` section (the demo) are fetched from a pinned,
# sha256-checked list before their photos are processed.


rule download_dataset:
    input:
        manifest=download_manifest,
    output:
        PATHS.downloaded("{dataset}"),
    log:
        PATHS.log("download_dataset", "{dataset}"),
    benchmark:
        PATHS.benchmark("download_dataset", "{dataset}")
    # On a cluster it runs on the submit host: compute nodes often have no internet.
    localrule: True
    conda:
        "../envs/files.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        base_url=download_base_url,
        folder=dataset_folder,
    script:
        "../scripts/download_dataset.py"
