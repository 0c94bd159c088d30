"""A small TensorFlow graph with FaceNet's interface, saved the ways davidsandberg/facenet ships models.

The real FaceNet weights cannot be downloaded in the tests. This graph has
the same placeholders (`input` (None, 160, 160, 3), `phase_train`) and an
L2-normalised `embeddings` output, and is simple enough that numpy computes
the same embeddings directly (`reference_embeddings`).
"""

import hashlib
from pathlib import Path

import numpy as np

SIZE = 160
POOL = 20  # 160 px -> 8 x 8 cells
FEATURES = (SIZE // POOL) ** 2 * 3
DIM = 16


def _weights(seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(FEATURES, DIM)) / np.sqrt(FEATURES)).astype(np.float32), rng.normal(size=DIM).astype(
        np.float32
    )


WEIGHTS, BIAS = _weights(0)


def reference_embeddings(normalized):
    """What the graph computes, in numpy: 20 px average pooling, a dense tanh layer, L2 norm."""
    n = len(normalized)
    cells = SIZE // POOL
    pooled = normalized.reshape(n, cells, POOL, cells, POOL, 3).mean(axis=(2, 4)).reshape(n, FEATURES)
    hidden = np.tanh(pooled.astype(np.float64) @ WEIGHTS + BIAS)
    return hidden / np.sqrt(np.maximum((hidden**2).sum(axis=1, keepdims=True), 1e-12))


def prewhitened(chips):
    """FaceNet's prewhiten, written out: per chip, (x - mean) / max(std, 1 / sqrt(pixels))."""
    return np.stack(
        [(chip - chip.mean()) / max(chip.std(), 1 / np.sqrt(chip.size)) for chip in np.asarray(chips, np.float64)]
    )


def save_facenet_models(folder):
    """(frozen .pb path, checkpoint folder) in davidsandberg's release layout.

    The folder holds model-test.meta and two checkpoints (steps 3 and 7, only
    step 7 has the right weights) and no `checkpoint` file, as the released
    zips: the loader must pick the highest step.
    """
    import tensorflow as tf

    folder = Path(folder)
    checkpoints = folder / "checkpoint-folder"
    checkpoints.mkdir(parents=True)
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, (None, SIZE, SIZE, 3), name="input")
        phase_train = tf.compat.v1.placeholder(tf.bool, (), name="phase_train")
        weights = tf.compat.v1.get_variable("weights", initializer=WEIGHTS)
        bias = tf.compat.v1.get_variable("bias", initializer=BIAS)
        pooled = tf.reshape(tf.nn.avg_pool2d(images, POOL, POOL, "VALID"), (-1, FEATURES))
        hidden = tf.tanh(tf.matmul(pooled, weights) + bias)
        # Training mode would drop units at random: feeding phase_train False must matter.
        hidden = tf.compat.v1.cond(phase_train, lambda: tf.nn.dropout(hidden, rate=0.5), lambda: hidden)
        tf.nn.l2_normalize(hidden, axis=1, name="embeddings")
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session:
            wrong_weights, _ = _weights(1)
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(weights.assign(wrong_weights))
            saver.save(session, str(checkpoints / "model-test.ckpt"), global_step=3, write_meta_graph=False)
            session.run(weights.assign(WEIGHTS))
            saver.save(session, str(checkpoints / "model-test.ckpt"), global_step=7, write_meta_graph=False)
            saver.export_meta_graph(str(checkpoints / "model-test.meta"))
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), ["embeddings"]
            )
    (checkpoints / "checkpoint").unlink()
    pb = folder / "test-facenet.pb"
    pb.write_bytes(frozen.SerializeToString())
    return pb, checkpoints


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
