"""intel_reid's throughput: its ONNX graph run by onnxruntime against OpenVINO's runtime of the original IR.

The chips: the centre face of the first `--photos` lfw-dev photos (sorted by
path), found by YuNet and aligned as the embedder aligns them (alignment not
timed). Each engine embeds the same chips on `--threads` threads: onnxruntime
(the embedder, `batch_size` chips a call, and one chip a call), and OpenVINO's CPU runtime on the
IR, as published (batch 1) and reshaped to take `batch_size` chips a call, in
its default precision on this CPU (bfloat16 where the CPU has it) and in FP32;
and dlib's ResNet by onnxruntime (today's default embedder) on its own 150 px
chips of the same faces.
Measured in `--rounds` interleaved rounds, each engine keeping its best, so that
a neighbour's load on a shared machine hits them alike. Also prints each
engine's least cosine similarity to onnxruntime's descriptors.

    flock /tmp/fc-heavy.lock .venv/bin/python bench/intel_reid_speed.py --photos 200 --threads 1
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facecluster.photos.detectors import make_detector, select_faces  # noqa: E402
from facecluster.photos.embedders import in_batches, make_embedder  # noqa: E402
from facecluster.photos.embedders.intel_reid import IR_FILES  # noqa: E402
from facecluster.workflow.config import validated_model  # noqa: E402
from facecluster.workflow.plan import prepare_model_files  # noqa: E402

LFW_DEV = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "lfw-dev"


def aligned_chips(embedders, detector, count):
    """Each embedder's chips of the centre face of the first `count` lfw-dev photos."""
    chips = [[] for _ in embedders]
    for path in sorted(LFW_DEV.glob("*/*"))[:count]:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = select_faces(detector.detect(rgb), rgb.shape[1::-1], keep="center", min_size=0)
        for chips_of, embedder in zip(chips, embedders):
            chips_of.append(embedder.align(rgb, faces)[0])
    return [np.concatenate(chips_of) for chips_of in chips]


def openvino_engine(threads, batch, precision):
    """OpenVINO's runtime of the IR on `threads` threads, `batch` chips a call (the IR's own batch
    is 1: reshaped otherwise): RGB uint8 chips -> (n, 256)."""
    import openvino

    core = openvino.Core()
    model = core.read_model(*IR_FILES)
    if batch > 1:
        model.reshape([batch, 3, 128, 128])
    config = {"INFERENCE_NUM_THREADS": threads, **({"INFERENCE_PRECISION_HINT": precision} if precision else {})}
    network = core.compile_model(model, "CPU", config)

    def run(batch_chips):
        bgr = np.ascontiguousarray(batch_chips[..., ::-1].transpose(0, 3, 1, 2), np.float32)
        if len(bgr) < batch:  # the last call: padded to the compiled batch
            bgr = np.concatenate([bgr, np.zeros((batch - len(bgr), *bgr.shape[1:]), np.float32)])
        return network(bgr)[0].reshape(batch, -1)[: len(batch_chips)]

    return lambda chips: in_batches(run, chips, batch, 256)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = validated_model({"detector": {"name": "yunet"}, "embedder": {"name": "intel_reid"}})
    with tempfile.TemporaryDirectory() as folder:
        files = prepare_model_files(model, folder)
        detector = make_detector(model["detector"], files["detector"])
        embedder = make_embedder(model["embedder"], files["embedder"], args.threads)
        dlib_model = validated_model({"detector": {"name": "yunet"}, "embedder": {"name": "dlib"}})
        dlib = make_embedder(dlib_model["embedder"], prepare_model_files(dlib_model, folder)["embedder"], args.threads)
        start = time.perf_counter()
        (chips,) = aligned_chips([embedder], detector, args.photos)
        per_photo = (time.perf_counter() - start) / args.photos
        (dlib_chips,) = aligned_chips([dlib], detector, args.photos)
        batch = model["embedder"]["batch_size"]
        engines = {("onnxruntime (the embedder)", batch, "FP32"): embedder.embed}
        one_a_call = make_embedder({**model["embedder"], "batch_size": 1}, files["embedder"], args.threads)
        engines[("onnxruntime", 1, "FP32")] = one_a_call.embed
        for engine_batch in (1, batch):
            engines[("OpenVINO", engine_batch, "default")] = openvino_engine(args.threads, engine_batch, None)
            engines[("OpenVINO", engine_batch, "FP32")] = openvino_engine(args.threads, engine_batch, "f32")
        engines[("dlib's ResNet, onnxruntime (today's default)", "all", "FP32")] = dlib.embed
        reference = embedder.embed(chips)
        best, agreement = dict.fromkeys(engines, 0.0), {}
        for _ in range(args.rounds):
            for key, embed in engines.items():
                start = time.perf_counter()
                if key[0].startswith("dlib"):  # its own chips; its descriptors are not comparable
                    embed(dlib_chips)
                    best[key] = max(best[key], len(dlib_chips) / (time.perf_counter() - start))
                    agreement[key] = np.nan
                    continue
                vectors = embed(chips)
                best[key] = max(best[key], len(chips) / (time.perf_counter() - start))
                norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
                cosine = (vectors * reference).sum(axis=1) / norms
                agreement[key] = cosine.min()
    onnx = best[("onnxruntime (the embedder)", batch, "FP32")]
    print(f"{len(chips)} lfw-dev chips, {args.threads} thread(s), best of {args.rounds} rounds")
    print(f"(reading, YuNet's detection and the alignment, not timed below: {per_photo * 1000:.1f} ms a photo)\n")
    print("| runtime | chips a call | precision | chips/s | x onnxruntime | least cosine to onnxruntime's |")
    print("|---|---:|---|---:|---:|---:|")
    for (name, engine_batch, precision), speed in best.items():
        row = f"| {name} | {engine_batch} | {precision} | {speed:.1f} | {speed / onnx:.2f} |"
        print(f"{row} {agreement[(name, engine_batch, precision)]:.6f} |")


if __name__ == "__main__":
    main()
