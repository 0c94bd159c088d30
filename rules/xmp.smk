# XMP sidecars: per photo with a person's face, the faces' names and boxes as MWG face
# regions (facecluster.outputs.xmp), in a folder mirroring the photo folder, never beside the photos
# (docs/xmp.md: how to copy them there for digiKam, Lightroom or Immich).


rule xmp_sidecars:
    input:
        assignments=rules.name_experiment.output.assignments,
        listing=experiment_listing,
    output:
        # The folder is kept and only the sidecars that change are rewritten: its index is the output.
        PATHS.xmp_index("{experiment}"),
    log:
        PATHS.log("xmp_sidecars", "{experiment}"),
    benchmark:
        PATHS.benchmark("xmp_sidecars", "{experiment}")
    conda:
        "../envs/aggregate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/xmp_sidecars.py"
