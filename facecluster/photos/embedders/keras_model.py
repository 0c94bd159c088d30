"""Any Keras face model: a Keras 3 `.keras` file or a TensorFlow SavedModel folder."""

from pathlib import Path

import numpy as np

from facecluster.photos.embedders import EMBEDDERS
from facecluster.photos.embedders.crop import CropEmbedder


@EMBEDDERS.register
class KerasEmbedder(CropEmbedder):
    """Any Keras face model: a Keras 3 `.keras` file (loaded with safe_mode) or a SavedModel folder.

    `output`: for a .keras file, the layer whose output is the embedding (for
    a classifier, its embedding layer); for a SavedModel, the serving
    signature's output name. Default: the model's only output.
    """

    name = "keras"
    description = (
        "any Keras face model: a .keras file (loaded in safe mode) or a SavedModel folder (a file you download)"
    )
    settings = {
        **CropEmbedder.settings,
        "output": {
            "type": "string",
            "minLength": 1,
            "description": "the layer whose output is the embedding (.keras), or the output's "
            "name (SavedModel); default: the model's only output",
        },
    }

    def __init__(self, settings, files, threads):
        super().__init__(settings)
        from facecluster.photos.networks.tfruntime import import_tensorflow

        tf = import_tensorflow(threads)
        path, output = Path(files[0]), settings.get("output")
        if path.is_dir():
            self._model = _SavedModelSignature(tf, path, output)
        else:
            self._model = _keras_model(path, output)
        self.dim = self._output_size()

    def _run(self, batch):
        vectors = self._model.predict_on_batch(batch)
        if isinstance(vectors, (list, tuple, dict)):
            raise ValueError("the Keras model has several outputs: set embedder.output to the embedding's")
        return np.asarray(vectors)


def _keras_model(path, output):
    import keras

    # safe_mode refuses models that would run arbitrary code (lambda layers) when loaded.
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    if output is None:
        return model
    return keras.Model(model.inputs, model.get_layer(output).output)


class _SavedModelSignature:
    """A SavedModel's `serving_default` signature, called like a Keras model."""

    def __init__(self, tf, path, output):
        self._tf = tf
        self._loaded = tf.saved_model.load(str(path))  # the signature needs its object alive
        self._signature = self._loaded.signatures["serving_default"]
        (self._input,) = self._signature.structured_input_signature[1]
        outputs = list(self._signature.structured_outputs)
        if output is None and len(outputs) != 1:
            raise ValueError(f"the SavedModel has outputs {outputs}: set embedder.output to one of them")
        if output is not None and output not in outputs:
            raise ValueError(f"embedder.output: {output!r} is not an output of the SavedModel ({outputs})")
        self._output = output or outputs[0]

    def predict_on_batch(self, batch):
        return self._signature(**{self._input: self._tf.constant(batch)})[self._output].numpy()
