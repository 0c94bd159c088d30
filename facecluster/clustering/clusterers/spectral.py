"""Spectral clustering of the nearest-neighbour graph."""

from facecluster.clustering.clusterers import CLUSTERERS, NEIGHBORS, Clusterer, maths


@CLUSTERERS.register
class Spectral(Clusterer):
    name = "spectral"
    description = "spectral clustering of the nearest-neighbour graph (needs k)"
    takes_k = "required"
    settings = {**NEIGHBORS}

    @classmethod
    def cluster(cls, Y, k, settings, seed):
        return maths().spectral(Y, k=k, n_neighbors=settings["neighbors"], seed=seed)
