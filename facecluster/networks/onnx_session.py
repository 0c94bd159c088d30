"""onnxruntime sessions of the project's ONNX graphs (YuNet, dlib's ResNet)."""


def onnx_session(path, threads=1, graph_format=None):
    """An onnxruntime.InferenceSession of the model at `path` on `threads` threads: on a GPU
    where onnxruntime has one (the onnxruntime-gpu build on a CUDA machine), else on the CPU.

    `graph_format`: the layout the model must say it has (its `facecluster_format` property, set
    when it was built); ValueError for another, saying what to do: rule prepare_model rebuilds a
    model only when its source changes, not when the code that lays it out does."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    available = onnxruntime.get_available_providers()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    session = onnxruntime.InferenceSession(str(path), options, providers=providers)
    found = session.get_modelmeta().custom_metadata_map.get("facecluster_format")
    if graph_format is not None and found != str(graph_format):
        raise ValueError(
            f"{path} was laid out in another format ({found}, this version reads {graph_format}): "
            "delete it and run again"
        )
    return session
