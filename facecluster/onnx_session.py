"""onnxruntime sessions of the project's ONNX graphs (YuNet, dlib's ResNet)."""


def onnx_session(path, threads=1):
    """An onnxruntime.InferenceSession of the model at `path` on `threads` threads: on a GPU
    where onnxruntime has one (the onnxruntime-gpu build on a CUDA machine), else on the CPU."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    available = onnxruntime.get_available_providers()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    return onnxruntime.InferenceSession(str(path), options, providers=providers)
