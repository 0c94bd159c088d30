"""Face embedders: aligned face chips in, one vector per face out.

An embedder is built once per job. It aligns each photo's faces into chips
(`align(rgb, detections) -> (chips, landmarks)`), and embeds the chips of
many photos in one call (`embed(chips) -> (n, dim) float32`).

The TensorFlow embedders (`facenet`, `keras`, `dlib_tf`) import TensorFlow
when built, never at module import: the dlib path (numpy, or dlib's own
runtime) does not load it.
"""

import re
from pathlib import Path

import numpy as np
from PIL import Image

from facecluster.dlib_format import FACE_RESNET, FIVE_POINT_LANDMARKS, packaged_model
from facecluster.dlib_numpy import NumpyFaceNet


# Where rule convert_dlib_tf puts dlib's ResNet converted to Keras (relative to the working directory).
DLIB_TF_MODEL = "models/dlib_tf/dlib_face_recognition_resnet_model_v1.keras"
# Where rule prepare_dlib_numpy puts it as the numpy runtime runs it (and a .json beside it).
DLIB_NUMPY_MODEL = "models/dlib_numpy/dlib_face_recognition_resnet_model_v1.npy"


class DlibAligner:
    """The base of the embedders of dlib's ResNet face model (128-D, 99.38 % on LFW).

    Alignment is dlib's own: 5 landmarks, a 150 px chip with padding 0.25,
    exactly what the network was trained on.
    """

    dim = 128
    chip_size = 150

    def __init__(self, padding=0.25):
        import dlib

        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(packaged_model(FIVE_POINT_LANDMARKS))
        self.padding = padding

    def align(self, rgb, detections):
        """Chips (k, 150, 150, 3) uint8 and landmarks (k, 5, 2) for k detections."""
        if not detections:
            return _no_chips(self.chip_size), np.zeros((0, 5, 2), np.float32)
        rgb = np.ascontiguousarray(rgb)
        shapes = self._dlib.full_object_detections()
        for detection in detections:
            left, top, right, bottom = (round(v) for v in detection.box)
            shapes.append(self._landmarks(rgb, self._dlib.rectangle(left, top, right, bottom)))
        chips = self._dlib.get_face_chips(rgb, shapes, size=self.chip_size, padding=self.padding)
        landmarks = [[(p.x, p.y) for p in shape.parts()] for shape in shapes]
        return np.stack(chips), np.asarray(landmarks, np.float32)


class DlibEmbedder(DlibAligner):
    """dlib's ResNet from `face_recognition_models`.

    `runtime` numpy (default) runs the network with numpy (`dlib_numpy`):
    dlib's descriptors within 1e-6, about 10x faster than dlib's own runtime,
    on `threads` threads, loaded from `prepared` where rule prepare_dlib_numpy
    made it (10x faster than from dlib's file). `runtime` dlib is dlib's own
    (one thread), the only one that can average `jitter` jittered copies of
    each chip.
    """

    def __init__(self, jitter=0, runtime="numpy", threads=1, padding=0.25, prepared=DLIB_NUMPY_MODEL):
        super().__init__(padding)
        path = packaged_model(FACE_RESNET)
        if runtime == "numpy":
            if jitter:
                raise ValueError("jitter needs runtime dlib")
            self._network = (NumpyFaceNet.from_prepared(prepared, threads)
                             or NumpyFaceNet.from_file(path, threads))
        else:
            self._network = _DlibRuntime(self._dlib.face_recognition_model_v1(path), jitter)

    def embed(self, chips):
        """(n, 128) float32 descriptors for n chips."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self._network(chips)


class _DlibRuntime:
    """dlib's own runtime, called like NumpyFaceNet: all chips in one call."""

    def __init__(self, network, jitter):
        self.network, self.jitter = network, jitter

    def __call__(self, chips):
        vectors = self.network.compute_face_descriptor(list(chips), self.jitter)
        return np.asarray([np.asarray(v) for v in vectors], np.float32)


class DlibTfEmbedder(DlibAligner):
    """dlib's ResNet run by TensorFlow: dlib's descriptors (within 1e-4), batched, on every thread or a GPU.

    `path` is the network converted by `facecluster.dlib_tf` (rule
    convert_dlib_tf); `batch_size` chips go through it per call.
    """

    def __init__(self, path=DLIB_TF_MODEL, batch_size=64, threads=1, padding=0.25):
        super().__init__(padding)
        from facecluster.tfruntime import import_tensorflow

        import_tensorflow(threads)
        from facecluster.dlib_tf import load_model

        self._model = load_model(path)
        self.batch_size = batch_size

    def embed(self, chips):
        """(n, 128) float32 descriptors for n chips."""
        return _in_batches(self._model.predict_on_batch, chips, self.batch_size, self.dim)


def _in_batches(run, chips, batch_size, dim):
    """`run` on `batch_size` chips (float32) at a time: (n, dim) float32."""
    batches = [run(chips[start : start + batch_size].astype(np.float32))
               for start in range(0, len(chips), batch_size)]
    return np.concatenate(batches or [np.zeros((0, dim))]).astype(np.float32)


def prewhiten(images):
    """Each image to mean 0 and standard deviation 1 (FaceNet's `prewhiten`, what the article used)."""
    axes = tuple(range(1, images.ndim))
    size = images[0].size
    std = np.maximum(images.std(axis=axes, keepdims=True), 1 / np.sqrt(size))
    return (images - images.mean(axis=axes, keepdims=True)) / std


NORMALIZATIONS = {
    "prewhiten": prewhiten,
    "fixed": lambda images: (images - 127.5) / 128,  # what FaceNet 20180402-114759 was trained with
    "unit": lambda images: images / 255,
    "none": lambda images: images,  # 0..255, for models that normalise inside
}


class CropEmbedder:
    """Base of the TensorFlow embedders: FaceNet's alignment, normalisation and batching.

    A chip is the detector's box grown by a margin, clipped to the photo and
    resized to `input_size` square, the way davidsandberg/facenet crops:
    `margin` is in chip pixels (32 at 160: the box fills the middle 128 px).
    Landmarks are the detector's (MTCNN's 5 points); NaN when it gives none.
    Subclasses set `dim` and run the network in `_run(float32 batch)`.
    """

    def __init__(self, input_size=160, margin=32, normalization="prewhiten", batch_size=64):
        if not 0 <= margin < input_size:
            raise ValueError(f"margin {margin} must be at least 0 and less than input_size {input_size}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {sorted(NORMALIZATIONS)}, not {normalization!r}")
        self.chip_size = input_size
        self.margin = margin
        self.normalize = NORMALIZATIONS[normalization]
        self.batch_size = batch_size

    def align(self, rgb, detections):
        """Chips (k, size, size, 3) uint8 and landmarks (k, 5, 2) for k detections."""
        if not detections:
            return _no_chips(self.chip_size), np.zeros((0, 5, 2), np.float32)
        chips = [crop_with_margin(rgb, d.box, self.chip_size, self.margin) for d in detections]
        landmarks = [d.landmarks if len(d.landmarks) == 5 else np.full((5, 2), np.nan)
                     for d in detections]
        return np.stack(chips), np.asarray(landmarks, np.float32)

    def embed(self, chips):
        """(n, dim) float32 for n chips, `batch_size` chips per network call."""
        return _in_batches(lambda batch: self._run(self.normalize(batch)), chips, self.batch_size, self.dim)

    def _output_size(self):
        """The network's output size, from one blank chip (also proves input_size fits the model)."""
        blank = np.zeros((1, self.chip_size, self.chip_size, 3), np.float32)
        return int(np.asarray(self._run(blank)).shape[-1])


def crop_with_margin(rgb, box, size, margin):
    """The box grown so that it fills `size - margin` of a `size`-pixel chip, clipped to the photo, resized."""
    left, top, right, bottom = box
    grow = margin / (size - margin) / 2  # of the box's side, on each side
    dx, dy = (right - left) * grow, (bottom - top) * grow
    height, width = rgb.shape[:2]
    crop = (max(0.0, left - dx), max(0.0, top - dy), min(width, right + dx), min(height, bottom + dy))
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR, box=crop))


class FacenetEmbedder(CropEmbedder):
    """davidsandberg/facenet models (20180402-114759: 512-D, VGGFace2; 20180408-102900: CASIA-WebFace).

    `path` is a frozen graph (.pb) or a checkpoint folder (one .meta and
    .ckpt-* files), loaded as facenet.load_model does, through tf.compat.v1
    in a graph and session of its own: eager execution stays on for the
    rest of the process (MTCNN, Keras). `phase_train_tensor` (if any) is fed
    False.
    """

    def __init__(self, path, input_tensor="input:0", phase_train_tensor="phase_train:0",
                 embeddings_tensor="embeddings:0", threads=1, **crop):
        super().__init__(**crop)
        from facecluster.tfruntime import import_tensorflow

        tf = import_tensorflow(threads)
        self._graph = tf.Graph()
        config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads,
                                          inter_op_parallelism_threads=threads)
        config.gpu_options.allow_growth = True
        self._session = tf.compat.v1.Session(graph=self._graph, config=config)
        with self._graph.as_default():
            _load_facenet(tf, self._session, Path(path))
        self._input = self._tensor(input_tensor, "input_tensor")
        self._embeddings = self._tensor(embeddings_tensor, "embeddings_tensor")
        self._feed = {self._tensor(phase_train_tensor, "phase_train_tensor"): False} if phase_train_tensor else {}
        self.dim = self._output_size()

    def _tensor(self, name, key):
        try:
            return self._graph.get_tensor_by_name(name)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"embedder.{key}: {name!r} is not a tensor of this model ({exc})") from None

    def _run(self, batch):
        return self._session.run(self._embeddings, feed_dict={self._input: batch, **self._feed})


def _load_facenet(tf, session, path):
    """Import a frozen graph, or a checkpoint's meta graph and its latest weights, into the default graph."""
    if path.is_file():
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(path.read_bytes())
        tf.compat.v1.import_graph_def(graph_def, name="")
        return
    metas = sorted(path.glob("*.meta"))
    if len(metas) != 1:
        raise ValueError(f"{path}: a FaceNet checkpoint folder holds exactly one .meta file, "
                         f"not {len(metas)}")
    saver = tf.compat.v1.train.import_meta_graph(str(metas[0]))
    saver.restore(session, _latest_checkpoint(tf, path))


def _latest_checkpoint(tf, folder):
    """The checkpoint that a `checkpoint` file names, else the highest-numbered .ckpt-N (facenet's rule)."""
    named = tf.train.latest_checkpoint(str(folder))
    if named:
        return named
    steps = {}
    for index in folder.glob("*.ckpt-*.index"):
        match = re.fullmatch(r"(.+\.ckpt-(\d+))\.index", index.name)
        if match:
            steps[int(match[2])] = str(folder / match[1])
    if not steps:
        raise ValueError(f"{folder}: no checkpoint (.ckpt-N.index) found")
    return steps[max(steps)]


class KerasEmbedder(CropEmbedder):
    """Any Keras face model: a Keras 3 `.keras` file (loaded with safe_mode) or a SavedModel folder.

    `output`: for a .keras file, the layer whose output is the embedding (for
    a classifier, its embedding layer); for a SavedModel, the serving
    signature's output name. Default: the model's only output.
    """

    def __init__(self, path, output=None, threads=1, **crop):
        super().__init__(**crop)
        from facecluster.tfruntime import import_tensorflow

        tf = import_tensorflow(threads)
        path = Path(path)
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


def _no_chips(size):
    return np.zeros((0, size, size, 3), np.uint8)


def _options(settings, keys):
    return {key: settings[key] for key in keys if key in settings}


CROP_KEYS = ("input_size", "margin", "normalization", "batch_size")
FACENET_TENSOR_KEYS = ("input_tensor", "phase_train_tensor", "embeddings_tensor")


def make_embedder(settings, threads=1):
    """Build the embedder a model's `embedder:` settings name (`threads`: for TensorFlow's)."""
    name = settings["name"]
    if name == "dlib":
        return DlibEmbedder(jitter=settings.get("jitter", 0), runtime=settings.get("runtime", "numpy"),
                            threads=threads)
    crop = _options(settings, CROP_KEYS)
    if name == "facenet":
        return FacenetEmbedder(settings["path"], threads=threads,
                               **_options(settings, FACENET_TENSOR_KEYS), **crop)
    if name == "keras":
        return KerasEmbedder(settings["path"], output=settings.get("output"), threads=threads, **crop)
    if name == "dlib_tf":
        return DlibTfEmbedder(threads=threads, **_options(settings, ("batch_size",)))
    raise ValueError(f"unknown embedder {name!r}")
