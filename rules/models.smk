# Model files the workflow makes itself, once, into models/<name>/: each is
# declared by the detector or embedder that loads it (facecluster.registry's
# prepared_model), e.g. YuNet's and dlib's ResNet's ONNX graphs, dlib's HOG
# detector saved to a file, dlib's ResNet prepared for numpy or converted for TensorFlow.
from facecluster.workflow.plan import prepared_model_sources, prepared_models


rule prepare_model:
    input:
        prepared_model_sources,
    output:
        directory("models/{prepared}"),
    log:
        PATHS.log("prepare_model", "{prepared}"),
    benchmark:
        PATHS.benchmark("prepare_model", "{prepared}")
    wildcard_constraints:
        prepared="|".join(prepared_models()),
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/prepare_model.py"
