"""An OpenVINO IR network (the `.xml`'s layers and edges, the `.bin`'s constants) laid out as an ONNX graph.

Read with xml.etree and numpy, no OpenVINO: each layer becomes the ONNX node
that computes the same (Convolution -> Conv, GroupConvolution -> Conv with
`group`, PReLU -> PRelu or, of one slope, LeakyRelu, AvgPool -> AveragePool,
Add, Multiply, Sigmoid); Const layers and the Converts of them (the FP16
weights decompressed to FP32, as OpenVINO's CPU plugin does) become FP32
initializers. The batch axis of the
input is left free, so a call takes many faces. Only the layer types of
Intel's face-reidentification-retail-0095 are known; another type is refused,
naming it.
"""

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from facecluster.photos.networks.onnx_session import onnx_session, stamped_model

# The layout of build_model's graphs; a saved model of another layout is not used (onnx_session).
# 2: a PReLU of one slope is a LeakyRelu (the same descriptors, several times faster).
GRAPH_FORMAT = 2
INPUT, OUTPUT = "faces", "descriptors"
ELEMENT_TYPES = {"f16": np.float16, "f32": np.float32, "i64": np.int64, "i32": np.int32, "u8": np.uint8}


def _ints(text):
    return [int(v) for v in text.split(",")]


class _Layer:
    def __init__(self, element):
        self.id, self.type, self.name = element.get("id"), element.get("type"), element.get("name")
        data = element.find("data")
        self.data = dict(data.attrib) if data is not None else {}
        # The shape of each input port, by port id (the PReLU of a (C,) slope needs the rank).
        self.input_shapes = {
            port.get("id"): [int(dim.text) for dim in port.findall("dim")] for port in element.findall("input/port")
        }
        outputs = [port.get("id") for port in element.findall("output/port")]
        if len(outputs) > 1:
            raise ValueError(f"layer {self.name} has {len(outputs)} outputs; only one is supported")
        self.output = outputs[0] if outputs else None  # None for a Result


def build_model(xml_path, bin_path):
    """The ONNX model (onnx.ModelProto) of the IR at xml_path / bin_path: float32 (n, C, H, W)
    as the IR's input takes it -> its output flattened to (n, dim)."""
    from onnx import TensorProto, helper, numpy_helper

    root = ET.parse(xml_path).getroot()
    weights = Path(bin_path).read_bytes()
    layers = {layer.id: layer for layer in map(_Layer, root.find("layers"))}
    # (to-layer, to-port) -> (from-layer, from-port)
    sources = {
        (edge.get("to-layer"), edge.get("to-port")): (edge.get("from-layer"), edge.get("from-port"))
        for edge in root.find("edges")
    }
    nodes, initializers = [], []
    counter = itertools.count()
    constants = {}  # (layer, port) -> numpy array, for Const and the Converts of one
    tensors = {}  # (layer, port) -> ONNX tensor name

    def constant(array):
        name = f"c{next(counter)}"
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def name_of(source):
        """The ONNX tensor of a layer's output: a constant becomes an initializer the first time."""
        if source not in tensors:
            tensors[source] = constant(constants[source])
        return tensors[source]

    def node(op, inputs, **attributes):
        out = f"t{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], **attributes))
        return out

    input_shape = output = None
    for layer in _in_order(layers, sources):
        inputs = [sources[(layer.id, port)] for port in sorted(layer.input_shapes, key=int)]
        here = (layer.id, layer.output)
        if layer.type == "Parameter":
            input_shape = _ints(layer.data["shape"])
            tensors[here] = INPUT
        elif layer.type == "Const":
            dtype = ELEMENT_TYPES[layer.data["element_type"]]
            start, size = int(layer.data["offset"]), int(layer.data["size"])
            shape = _ints(layer.data["shape"]) if layer.data["shape"].strip() else []
            constants[here] = np.frombuffer(weights[start : start + size], dtype).reshape(shape)
        elif layer.type == "Convert":
            dtype = ELEMENT_TYPES[layer.data["destination_type"]]
            if inputs[0] in constants:  # decompressed weights: converted once here
                constants[here] = constants[inputs[0]].astype(dtype)
            else:
                tensors[here] = node("Cast", [name_of(inputs[0])], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
        elif layer.type in ("Convolution", "GroupConvolution"):
            kernel = constants[inputs[1]].astype(np.float32)
            group = 1
            if layer.type == "GroupConvolution":  # (groups, out / groups, in / groups, kh, kw)
                group = kernel.shape[0]
                kernel = kernel.reshape(-1, *kernel.shape[2:])
            tensors[here] = node(
                "Conv",
                [name_of(inputs[0]), constant(kernel)],
                kernel_shape=list(kernel.shape[2:]),
                strides=_ints(layer.data["strides"]),
                dilations=_ints(layer.data["dilations"]),
                pads=_pads(layer.data),
                group=group,
            )
        elif layer.type == "PReLU":
            slope = constants[inputs[1]].astype(np.float32)
            rank = len(layer.input_shapes["0"])
            if slope.size == 1:  # one slope: onnxruntime's LeakyRelu is 3x faster than its broadcast PRelu
                tensors[here] = node("LeakyRelu", [name_of(inputs[0])], alpha=float(slope.reshape(())))
            else:
                if slope.ndim == 1 and rank > 2:  # OpenVINO: along the channel axis
                    slope = slope.reshape(-1, *[1] * (rank - 2))
                tensors[here] = node("PRelu", [name_of(inputs[0]), constant(slope)])
        elif layer.type in ("Add", "Multiply"):
            if layer.data.get("auto_broadcast", "numpy") != "numpy":
                broadcast = layer.data["auto_broadcast"]
                raise ValueError(f"{layer.type} {layer.name}: broadcast {broadcast} is not supported")
            op = {"Add": "Add", "Multiply": "Mul"}[layer.type]
            tensors[here] = node(op, [name_of(source) for source in inputs])
        elif layer.type == "Sigmoid":
            tensors[here] = node("Sigmoid", [name_of(inputs[0])])
        elif layer.type == "AvgPool":
            tensors[here] = node(
                "AveragePool",
                [name_of(inputs[0])],
                kernel_shape=_ints(layer.data["kernel"]),
                strides=_ints(layer.data["strides"]),
                pads=_pads(layer.data),
                count_include_pad=0 if layer.data.get("exclude-pad") == "true" else 1,
                ceil_mode=1 if layer.data.get("rounding_type") == "ceil" else 0,
            )
        elif layer.type == "Result":
            output = node("Flatten", [name_of(inputs[0])])
        else:
            raise ValueError(f"{xml_path}: layer {layer.name} is of type {layer.type}, which is not supported")
    nodes.append(helper.make_node("Identity", [output], [OUTPUT]))
    graph = helper.make_graph(
        nodes,
        root.get("name", "openvino_ir"),
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, *input_shape[1:]])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None, None])],
        initializers,
    )
    return stamped_model(graph, GRAPH_FORMAT)


def _pads(data):
    if data.get("auto_pad", "explicit") not in ("explicit", "notset"):
        raise ValueError(f"auto_pad {data['auto_pad']} is not supported")
    return _ints(data["pads_begin"]) + _ints(data["pads_end"])


def _in_order(layers, sources):
    """The layers so that each comes after those it reads (the IR's own order need not be)."""
    reads = {layer_id: [] for layer_id in layers}
    for (to_layer, _), (from_layer, _) in sources.items():
        reads[to_layer].append(from_layer)
    done, ordered = set(), []
    for first in layers:
        stack = [(first, False)]
        while stack:
            layer_id, ready = stack.pop()
            if layer_id in done:
                continue
            if ready:
                done.add(layer_id)
                ordered.append(layers[layer_id])
            else:
                stack.append((layer_id, True))
                stack.extend((source, False) for source in reads[layer_id] if source not in done)
    return ordered


def save_model(xml_path, bin_path, path):
    """The IR at xml_path / bin_path saved as an ONNX model at `path`."""
    import onnx

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_model(xml_path, bin_path), str(path))


class OnnxNetwork:
    """A saved model as a function of float32 (n, C, H, W) -> (n, dim) float32, on `threads` threads."""

    def __init__(self, path, threads=1):
        self._session = onnx_session(path, threads, GRAPH_FORMAT)

    def __call__(self, batch):
        return self._session.run(None, {INPUT: np.ascontiguousarray(batch, np.float32)})[0]
