"""dlib's face ResNet run with numpy: dlib's own descriptors, about 10x faster than dlib on a CPU.

dlib-bin is built without BLAS, so dlib runs its convolutions in its own
loops: about 70 ms a chip on one core. Here every convolution is one matrix
product over the unrolled input windows (im2col) in numpy's BLAS: about 8 ms
a chip on one core, descriptors within 1e-6 of dlib's, no TensorFlow to
start (the weights, read by `dlib_format`, load in 0.03 s).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

from facecluster.dlib_format import Layer, fold_affine, read_network

# Chips per pass through the network: 8 keeps each unrolled input small enough
# for the CPU's caches (7.5 ms a chip on one core, against 15 ms in passes of 64).
CHIPS_PER_PASS = 8


class NumpyFaceNet:
    """A `DlibNetwork` (dlib_format) as a function of RGB chips `(n, rows, cols, 3)` 0..255 -> descriptors."""

    def __init__(self, network, threads=1):
        self.layers = [_as_float32(layer) for layer in fold_affine(network.layers)]
        self.mean = np.asarray(network.input["mean_rgb"], np.float32)
        self.scale = np.float32(network.input["scale"])
        self.dim = next(layer.settings["outputs"] for layer in self.layers if layer.kind == "fc")
        self.threads = threads

    @classmethod
    def from_file(cls, path, threads=1):
        return cls(read_network(path), threads)

    def __call__(self, chips):
        """(n, dim) float32 descriptors, `CHIPS_PER_PASS` chips at a time, on `threads` BLAS threads."""
        with threadpool_limits(self.threads, user_api="blas"):
            passes = [self._forward(chips[start : start + CHIPS_PER_PASS])
                      for start in range(0, len(chips), CHIPS_PER_PASS)]
        return np.concatenate(passes) if passes else np.zeros((0, self.dim), np.float32)

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


def _convolve(x, con):
    windows = _windows(np.pad(x, [(0, 0), *((pad, pad) for pad in con.settings["padding"]), (0, 0)]),
                       con.settings["size"], con.settings["strides"])
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
    x, y = (np.pad(t, [(0, 0), *((0, want - have) for have, want in zip(t.shape[1:], size))])
            for t in (x, y))
    return x + y
