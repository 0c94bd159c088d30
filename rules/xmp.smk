# XMP sidecars: per photo with a person's face, the faces' names and boxes as MWG face
# regions (facecluster.outputs.xmp), in a folder mirroring the photo folder, never beside the photos
# (docs/xmp.md: how to copy them there for digiKam, Lightroom or Immich).


rule xmp_sidecars:
    input:
        assignments=rules.cluster_experiment.output.assignments,
        listing=experiment_listing,
    output:
        directory(f"{RESULTS}/experiments/{{experiment}}/xmp"),
    log:
        f"{RESULTS}/logs/xmp_sidecars/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/xmp_sidecars/{{experiment}}.tsv"
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/xmp_sidecars.py"
