"""dlib's face ResNet as a Keras model (channels last), built from the weights `dlib_format` reads.

The model takes RGB face chips `(n, 150, 150, 3)`, values 0..255 as float32
(dlib's own 150 px chips), and gives dlib's 128-D descriptors. It does what
dlib's layers do: the input layer's `(pixel - mean) / 256`, convolutions
(each followed by its affine layer, folded into it), ReLU, pooling, add_prev
(the sum of two tensors of different sizes, the smaller one zero-extended)
and the final fully-connected layer.

Importing this module imports Keras (TensorFlow): only the `dlib_tf`
embedder and the conversion do.
"""

import logging
from pathlib import Path

import keras
import numpy as np
from keras import layers

from facecluster.photos.networks.dlib_format import FACE_RESNET, fold_affine, packaged_model, read_network

logger = logging.getLogger(__name__)


@keras.saving.register_keras_serializable(package="facecluster")
class AddPrev(layers.Layer):
    """dlib's add_prev: the sum of two tensors, each zero-extended to the larger (at the end of each axis)."""

    def call(self, inputs):
        size = [max(sides) for sides in zip(*(x.shape[1:] for x in inputs))]
        return keras.ops.add(*(_zero_extend(x, size) for x in inputs))

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0], *(max(sides) for sides in zip(*(s[1:] for s in input_shapes))))


def _zero_extend(x, size):
    padding = [(0, 0)] + [(0, want - have) for have, want in zip(x.shape[1:], size)]
    return keras.ops.pad(x, padding) if any(after for _, after in padding) else x


def _conv(con):
    """A Keras convolution for dlib's (affine-folded) convolution, and its weights."""
    rows, cols = con.settings["size"]
    pad_y, pad_x = con.settings["padding"]
    same = con.settings["strides"] == (1, 1) and (pad_y, pad_x) == (rows // 2, cols // 2)
    if not same and (pad_y, pad_x) != (0, 0):
        raise ValueError(f"convolution padding {(pad_y, pad_x)} is not supported")
    conv = layers.Conv2D(
        con.settings["filters"],
        (rows, cols),
        strides=con.settings["strides"],
        padding="same" if same else "valid",
    )
    return conv, [con.weights["kernel"], con.weights["bias"]]


def _pool(layer):
    if layer.settings["padding"] != (0, 0):
        raise ValueError(f"pooling padding {layer.settings['padding']} is not supported")
    if layer.settings["size"] == (0, 0):  # avg_pool_everything
        return layers.GlobalAveragePooling2D(keepdims=True)
    pool = layers.MaxPooling2D if layer.kind == "max_pool" else layers.AveragePooling2D
    return pool(layer.settings["size"], strides=layer.settings["strides"])


def build_model(network):
    """The Keras model of a `DlibNetwork`: RGB chips 0..255 in, descriptors out."""
    rows, cols = network.input["size"]
    chips = keras.Input((rows, cols, 3), name="chips")
    mean = np.asarray(network.input["mean_rgb"], np.float32)
    x = layers.Normalization(mean=mean, variance=np.full(3, network.input["scale"] ** 2))(chips)
    tagged, weights = {}, []
    for layer in fold_affine(network.layers):
        if layer.kind == "con":
            conv, conv_weights = _conv(layer)
            x = conv(x)
            weights.append((conv, conv_weights))
        elif layer.kind == "relu":
            x = layers.ReLU()(x)
        elif layer.kind in ("max_pool", "avg_pool"):
            x = _pool(layer)(x)
        elif layer.kind == "tag":
            tagged[layer.tag] = x
        elif layer.kind == "skip":
            x = tagged[layer.tag]
        elif layer.kind == "add_prev":
            x = AddPrev()([x, tagged[layer.tag]])
        elif layer.kind == "fc":
            # dlib flattens channels first (NCHW).
            x = layers.Flatten()(layers.Permute((3, 1, 2))(x))
            dense = layers.Dense(layer.settings["outputs"], use_bias=layer.settings["bias"])
            x = dense(x)
            weights.append((dense, list(layer.weights.values())))  # weights, then biases if any
        else:
            raise ValueError(f"layer kind {layer.kind!r} is not supported")
    model = keras.Model(chips, x, name="dlib_face_recognition_resnet_model_v1")
    for layer, values in weights:
        layer.set_weights([np.asarray(v, np.float32) for v in values])
    return model


def convert(target, source=None):
    """Save dlib's network file `source` (default: face_recognition_models') as a Keras model (.keras)."""
    source = source or packaged_model(FACE_RESNET)
    network = read_network(source)
    model = build_model(network)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    model.save(target)
    logger.info(
        "converted %s (%d layers, %d weights) to %s",
        source,
        len(network.layers),
        model.count_params(),
        target,
    )


def load_model(path):
    """The converted model, loaded in safe mode (no code from the file is run)."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{path}: no converted dlib model there; the workflow's rule "
            "convert_dlib_tf makes it (facecluster.photos.networks.dlib_tf.convert)"
        )
    return keras.saving.load_model(path, compile=False, safe_mode=True)
