"""K-means, the original experiment's clusterer."""

from facecluster.clustering.clusterers import CLUSTERERS, Clusterer, maths


@CLUSTERERS.register
class KMeans(Clusterer):
    name = "kmeans"
    description = "K-means (needs k); MiniBatchKMeans above 20,000 faces"
    takes_k = "required"

    @classmethod
    def sweep(cls, Y, ks, settings, seed, notes):
        labels_by_k, skipped = maths().kmeans_sweep(Y, ks, seed=seed)
        notes.extend(skipped)
        return labels_by_k
