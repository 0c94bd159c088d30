"""dlib's face ResNet run with numpy: dlib's own descriptors, about 10x faster than dlib on a CPU.

dlib-bin is built without BLAS, so dlib runs its convolutions in its own
loops. Here every convolution is one matrix product over the unrolled input
windows (im2col) in numpy's BLAS, giving descriptors within 1e-6 of dlib's.
Reading dlib's file and folding its weights is slow for every batch job's
start, so `save_prepared` writes the result once (rule prepare_model) and a
job maps it.
"""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

from facecluster.photos.networks.dlib_format import Layer, fold_affine, read_network

# The layout of save_prepared's files; a prepared copy of another layout is not used.
PREPARED_FORMAT = 1

# Chips per pass through the network: 8 keeps each unrolled input small enough
# for the CPU's caches (7.5 ms a chip on one core, against 15 ms in passes of 64).
CHIPS_PER_PASS = 8


class NumpyFaceNet:
    """A `DlibNetwork` (dlib_format) as a function of RGB chips `(n, rows, cols, 3)` 0..255 -> descriptors."""

    def __init__(self, layers, mean, scale, threads=1):
        self.layers = layers  # dlib's, each convolution's affine layer folded in (`_as_float32`)
        self.mean = np.asarray(mean, np.float32)
        self.scale = np.float32(scale)
        self.dim = next(layer.settings["outputs"] for layer in self.layers if layer.kind == "fc")
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None

    @classmethod
    def from_file(cls, path, threads=1):
        """The network of dlib's file `path`."""
        network = read_network(path)
        layers = [_as_float32(layer) for layer in fold_affine(network.layers)]
        return cls(layers, network.input["mean_rgb"], network.input["scale"], threads)

    @classmethod
    def from_prepared(cls, path, threads=1):
        """The network `save_prepared` wrote to `path`, its weights memory-mapped.

        ValueError when it was written in another layout (by another version):
        delete it, and the workflow makes it again."""
        path = Path(path)
        layout = json.loads(prepared_layout(path).read_text())
        if layout.get("format") != PREPARED_FORMAT:
            raise ValueError(
                f"{path} was prepared in another layout (format {layout.get('format')}, "
                f"this version reads {PREPARED_FORMAT}): delete it and run again"
            )
        values = np.load(path, mmap_mode="r", allow_pickle=False)
        layers = [
            Layer(
                layer["kind"],
                layer["tag"],
                _tuples(layer["settings"]),
                {
                    name: values[start : start + int(np.prod(shape))].reshape(shape)
                    for name, (start, shape) in layer["weights"].items()
                },
            )
            for layer in layout["layers"]
        ]
        return cls(layers, layout["mean"], layout["scale"], threads)

    def save_prepared(self, path):
        """Write the network as it runs: every weight in one float32 array (`path`, .npy), and
        the layers with where their weights start (the .json beside it, written last)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        chunks, layers, start = [], [], 0
        for layer in self.layers:
            weights = {}
            for name, values in layer.weights.items():
                weights[name] = (start, list(values.shape))
                chunks.append(values.ravel())
                start += values.size
            layers.append({"kind": layer.kind, "tag": layer.tag, "settings": layer.settings, "weights": weights})
        np.save(path, np.concatenate(chunks).astype(np.float32), allow_pickle=False)
        layout = {
            "format": PREPARED_FORMAT,
            "mean": self.mean.tolist(),
            "scale": float(self.scale),
            "layers": layers,
        }
        prepared_layout(path).write_text(json.dumps(layout))

    def __call__(self, chips):
        """(n, dim) float32 descriptors, `CHIPS_PER_PASS` chips a pass, the passes spread over
        `threads` threads of one BLAS thread each: 1.8x as fast on 2 threads, where BLAS's own
        2 threads gave 1.3x (much of a pass is numpy outside BLAS, on one thread)."""
        passes = [chips[start : start + CHIPS_PER_PASS] for start in range(0, len(chips), CHIPS_PER_PASS)]
        with threadpool_limits(1, user_api="blas"):
            outputs = list(self._pool.map(self._forward, passes) if self._pool else map(self._forward, passes))
        return np.concatenate(outputs) if outputs else np.zeros((0, self.dim), np.float32)

    def _forward(self, chips):
        x = (chips.astype(np.float32) - self.mean) / self.scale
        tagged = {}
        for layer in self.layers:
            if layer.kind == "con":
                x = _convolve(x, layer)
            elif layer.kind == "relu":
                x = np.maximum(x, 0)
            elif layer.kind in ("max_pool", "avg_pool"):
                x = _pool(x, layer)
            elif layer.kind == "tag":
                tagged[layer.tag] = x
            elif layer.kind == "skip":
                x = tagged[layer.tag]
            elif layer.kind == "add_prev":
                x = _add_prev(x, tagged[layer.tag])
            elif layer.kind == "fc":
                # dlib flattens channels first (NCHW).
                x = x.transpose(0, 3, 1, 2).reshape(len(x), -1) @ layer.weights["weights"]
                if "biases" in layer.weights:
                    x += layer.weights["biases"]
            else:
                raise ValueError(f"layer kind {layer.kind!r} is not supported")
        return x


def _as_float32(layer):
    weights = {key: np.asarray(value, np.float32) for key, value in layer.weights.items()}
    if layer.kind == "con":
        # (rows, cols, in, out) -> (rows * cols * in, out): the order of _convolve's unrolled columns.
        weights["kernel"] = weights["kernel"].reshape(-1, layer.settings["filters"])
    return Layer(layer.kind, layer.tag, layer.settings, weights)


def prepared_layout(path):
    """Where save_prepared writes the layout of the weights it writes to `path`."""
    return Path(path).with_suffix(".json")


def _tuples(settings):
    """Settings read back from JSON: its lists were tuples (sizes, strides, padding)."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()}


def _convolve(x, con):
    windows = _windows(
        np.pad(x, [(0, 0), *((pad, pad) for pad in con.settings["padding"]), (0, 0)]),
        con.settings["size"],
        con.settings["strides"],
    )
    n, rows, cols = windows.shape[:3]
    # (n, rows, cols, channels, r, c) -> one row per output pixel: (r, c, channels) unrolled.
    unrolled = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * rows * cols, -1)
    out = unrolled @ con.weights["kernel"]
    out += con.weights["bias"]
    return out.reshape(n, rows, cols, -1)


def _windows(x, size, strides):
    return sliding_window_view(x, size, axis=(1, 2))[:, :: strides[0], :: strides[1]]


def _pool(x, layer):
    if layer.settings["padding"] != (0, 0):
        raise ValueError(f"pooling padding {layer.settings['padding']} is not supported")
    if layer.settings["size"] == (0, 0):  # avg_pool_everything
        return x.mean(axis=(1, 2), keepdims=True)
    windows = _windows(x, layer.settings["size"], layer.settings["strides"])
    return windows.max(axis=(4, 5)) if layer.kind == "max_pool" else windows.mean(axis=(4, 5))


def _add_prev(x, y):
    """dlib's add_prev: the sum, each tensor zero-extended to the larger (at the end of each axis)."""
    size = [max(sides) for sides in zip(x.shape[1:], y.shape[1:])]
    x, y = (np.pad(t, [(0, 0), *((0, want - have) for have, want in zip(t.shape[1:], size))]) for t in (x, y))
    return x + y
