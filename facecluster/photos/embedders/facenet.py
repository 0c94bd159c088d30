"""davidsandberg/facenet's models in TensorFlow: frozen graphs and checkpoints."""

import re
from pathlib import Path

from facecluster.photos.embedders import EMBEDDERS
from facecluster.photos.embedders.crop import CropEmbedder


@EMBEDDERS.register
class FacenetEmbedder(CropEmbedder):
    """davidsandberg/facenet models (20180402-114759: 512-D, VGGFace2; 20180408-102900: CASIA-WebFace).

    `path` is a frozen graph (.pb) or a checkpoint folder (one .meta and
    .ckpt-* files), loaded as facenet.load_model does, through tf.compat.v1
    in a graph and session of its own: eager execution stays on for the
    rest of the process (MTCNN, Keras). `phase_train_tensor` (if any) is fed
    False.
    """

    name = "facenet"
    description = "davidsandberg/facenet's TensorFlow models, the original experiment's (a file you download)"
    settings = {
        **CropEmbedder.settings,
        "input_tensor": {
            "type": "string",
            "minLength": 1,
            "default": "input:0",
            "description": "the graph's input tensor",
        },
        "phase_train_tensor": {
            "type": ["string", "null"],
            "default": "phase_train:0",
            "description": "the graph's phase_train tensor, fed False (null if it has none)",
        },
        "embeddings_tensor": {
            "type": "string",
            "minLength": 1,
            "default": "embeddings:0",
            "description": "the graph's embeddings tensor",
        },
    }

    def __init__(self, settings, files, threads):
        super().__init__(settings)
        from facecluster.photos.networks.tfruntime import import_tensorflow

        (path,) = files
        input_tensor, embeddings_tensor = settings["input_tensor"], settings["embeddings_tensor"]
        phase_train_tensor = settings["phase_train_tensor"]

        tf = import_tensorflow(threads)
        self._graph = tf.Graph()
        config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
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
        raise ValueError(f"{path}: a FaceNet checkpoint folder holds exactly one .meta file, not {len(metas)}")
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
