# The names people gave already: the face regions in a dataset's photos, their sidecars
# (photo.jpg.xmp, photo.xmp) and Picasa's .picasa.ini files, read from the listing without decoding a photo
# (facecluster/photos/tags.py). Its own job: a sidecar edited reruns this and the naming,
# never a photo's detection (the stamps of the folder's files are its parameter).


rule read_tags:
    input:
        listing=PATHS.listing("{dataset}"),
    output:
        PATHS.tags("{dataset}"),
    log:
        PATHS.log("read_tags", "{dataset}"),
    benchmark:
        PATHS.benchmark("read_tags", "{dataset}")
    conda:
        "../envs/files.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        # Changes when a file of the folder (or Picasa's contacts file) is added, removed or
        # changed (size, mtime).
        stamps=dataset_file_stamps,
        picasa_contacts=dataset_picasa_contacts,
    script:
        "../scripts/read_tags.py"
