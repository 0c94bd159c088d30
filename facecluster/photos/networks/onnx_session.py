"""The project's ONNX graphs (YuNet, dlib's ResNet, Intel's re-identification network): built as
models stamped with their layout's format, run by onnxruntime sessions (or OpenVINO's compiled
models) that check it."""

import hashlib
import os
import platform
import re
from pathlib import Path

# Beside the models' folders (models/<name>/): what jobs learn about running them on a kind of machine.
RUNTIME_FOLDER = ".runtime"


def stamped_model(graph, graph_format):
    """The checked onnx.ModelProto (opset 17) of `graph`, stamped with `graph_format`, which
    onnx_session checks when the model is loaded."""
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="facecluster")
    helper.set_model_props(model, {"facecluster_format": str(graph_format)})
    onnx.checker.check_model(model)
    return model


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
    _check_format(path, session.get_modelmeta().custom_metadata_map.get("facecluster_format"), graph_format)
    return session


def openvino_model(path, streams=1, graph_format=None, precision=None):
    """OpenVINO's openvino.CompiledModel of the model at `path` on the CPU, running up to `streams`
    inferences at once (an infer request each), each on one thread; `graph_format` as onnx_session's.

    `precision`: None, OpenVINO's choice (bfloat16 on a CPU that has it: AVX-512 BF16 or AMX,
    1.7 x float32's speed on YuNet), or "f32". Compiled in each job: OpenVINO's own cache of
    compiled models (CACHE_DIR) writes its files in place, so that two jobs writing one at once
    could leave a file that loads and computes wrong (bench/results.md)."""
    import openvino

    core = openvino.Core()
    model = core.read_model(str(path))
    key = ["framework", "facecluster_format"]
    _check_format(path, model.get_rt_info(key).astype(str) if model.has_rt_info(key) else None, graph_format)
    # Not pinned to cores: a run's jobs, each its own process, would pin their threads to the same ones.
    config = {"NUM_STREAMS": streams, "INFERENCE_NUM_THREADS": streams, "ENABLE_CPU_PINNING": False}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    return core.compile_model(model, "CPU", config)


def machine_folder(model_path):
    """models/.runtime/<this kind of machine>/ for the model at `model_path` (models/<name>/<file>),
    made if missing; None where it cannot be written (a shared, read-only install). Jobs keep there
    what they learn about running models on this kind of machine (the faster runtime), so that a
    later job does not time again. A kind is the CPU's name and instruction sets and onnxruntime's
    providers (a GPU): a cluster's nodes may differ. Delete the folder to time again after upgrading
    OpenVINO or onnxruntime."""
    folder = Path(model_path).resolve().parent.parent / RUNTIME_FOLDER / _machine_kind()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _machine_kind():
    """A short name for this kind of machine: a hash of its CPU's name and instruction sets (Linux's
    /proc/cpuinfo; elsewhere what the platform module knows) and onnxruntime's providers."""
    import onnxruntime

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            info = handle.read()
        described = [re.search(rf"^{key}\s*:(.*)$", info, re.M) for key in ("model name", "(?:flags|Features)")]
    except OSError:
        described = []
    words = [platform.machine(), platform.processor(), *(match.group(1).strip() for match in described if match)]
    words += onnxruntime.get_available_providers()
    return hashlib.sha256("\n".join(words).encode()).hexdigest()[:16]


def _check_format(path, found, graph_format):
    if graph_format is not None and found != str(graph_format):
        raise ValueError(
            f"{path} was laid out in another format ({found}, this version reads {graph_format}): "
            "delete it and run again"
        )
