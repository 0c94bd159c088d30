"""TensorFlow, imported only by the models that need it and set up once per job.

The dlib path never imports this module, so it never pays for TensorFlow.
"""

import os


def import_tensorflow(threads):
    """The `tensorflow` module, using `threads` threads; GPUs (when present) take memory as needed."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # keep TensorFlow's INFO lines out of job logs
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        for gpu in tf.config.list_physical_devices("GPU"):
            # Several jobs may share a GPU: none should reserve all of its memory.
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
        pass  # TensorFlow already started in this process (a second model): its settings stay
    return tf
