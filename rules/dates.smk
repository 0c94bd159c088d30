# When each photo was taken: the dates of a dataset's photos and their sidecars, read from the
# listing without decoding a photo (facecluster/photos/dates.py). Its own job: a date edited
# reruns this and the pages that show dates, never a sidecar's photo's detection (the stamps of
# the folder's files are its parameter; the per-photo stage and its cache hold no date).


rule read_dates:
    input:
        listing=PATHS.listing("{dataset}"),
    output:
        PATHS.dates("{dataset}"),
    log:
        PATHS.log("read_dates", "{dataset}"),
    benchmark:
        PATHS.benchmark("read_dates", "{dataset}")
    conda:
        "../envs/files.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        # Changes when a file of the folder is added, removed or changed (size, mtime).
        stamps=dataset_file_stamps,
    script:
        "../scripts/read_dates.py"
