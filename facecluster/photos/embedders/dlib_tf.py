"""dlib's ResNet run by TensorFlow: dlib's descriptors (within 1e-4), batched, on every thread or a GPU."""

from facecluster.photos.embedders import BATCH_SIZE, EMBEDDERS, in_batches
from facecluster.photos.embedders.dlib import DlibAligner
from facecluster.photos.networks.dlib_format import FACE_RESNET, packaged_model
from facecluster.registry import prepared_model

CONVERTED_NAME = "dlib_face_recognition_resnet_model_v1.keras"


def _convert(folder):
    from facecluster.photos.networks.dlib_tf import convert

    convert(f"{folder}/{CONVERTED_NAME}")


CONVERTED = prepared_model("dlib_tf", _convert, sources=[packaged_model(FACE_RESNET)])


@EMBEDDERS.register
class DlibTfEmbedder(DlibAligner):
    """The network converted once by `facecluster.photos.networks.dlib_tf` (rule prepare_model);
    `batch_size` chips go through it per call. Starting TensorFlow costs seconds
    per job: it pays where the descriptor dominates (a GPU, many faces, big batches).
    """

    name = "dlib_tf"
    description = "dlib's ResNet and chips, run by TensorFlow: batched, on every thread or a GPU"
    settings = {**BATCH_SIZE}

    @classmethod
    def model_files(cls, settings):
        return [CONVERTED.model_file]

    def __init__(self, settings, files, threads):
        super().__init__()
        from facecluster.photos.networks.tfruntime import import_tensorflow

        import_tensorflow(threads)
        from facecluster.photos.networks.dlib_tf import load_model

        (folder,) = files
        self._model = load_model(f"{folder}/{CONVERTED_NAME}")
        self.batch_size = settings["batch_size"]

    def embed(self, chips):
        """(n, 128) float32 descriptors for n chips."""
        return in_batches(self._model.predict_on_batch, chips, self.batch_size, self.dim)
