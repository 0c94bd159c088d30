"""K-means, the original experiment's clusterer."""

from contextlib import nullcontext

import numpy as np

from facecluster.clustering.clusterers import CLUSTERERS, Clusterer, require_faces
from facecluster.clustering.labels import canonical_labels

MINIBATCH_SIZE = 4096


@CLUSTERERS.register
class KMeans(Clusterer):
    name = "kmeans"
    description = "K-means (needs k); MiniBatchKMeans above 20,000 faces"
    takes_k = "required"

    @classmethod
    def sweep(cls, Y, ks, spec, notes):
        labels_by_k, skipped = kmeans_sweep(Y, ks, seed=spec.seed)
        notes.extend(skipped)
        return labels_by_k


def kmeans_sweep(Y, ks, *, seed=0, n_init=10, minibatch_above=20000) -> tuple[dict[int, np.ndarray], list[str]]:
    """K-means once per K.

    Y: (n, d) coordinates; ks: ints (see parse_k). Uses sklearn KMeans, or MiniBatchKMeans
    when n > minibatch_above. Returns ({K: (n,) int64 canonical labels}, notes): a K above
    n is skipped with a note. Raises ValueError with fewer than 2 faces.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    Y = np.asarray(Y)
    require_faces(Y, "K-means")
    n = len(Y)
    minibatch = n > minibatch_above
    labels_by_k, notes = {}, []
    # A mini-batch step is too little work to share between threads: they wait for each
    # other longer than they work (10x slower than one thread on a busy 2-core machine).
    with threadpool_limits(1, user_api="openmp") if minibatch else nullcontext():
        for k in sorted(ks):
            if k > n:
                notes.append(f"K={k} skipped: only {n} faces")
                continue
            if minibatch:
                model = MiniBatchKMeans(n_clusters=k, batch_size=MINIBATCH_SIZE, n_init=n_init, random_state=seed)
            else:
                model = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
            labels_by_k[k] = canonical_labels(model.fit_predict(Y))
    return labels_by_k, notes
