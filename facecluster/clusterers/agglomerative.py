"""Hierarchical (agglomerative) clustering, cut at K clusters or at a distance threshold."""

from facecluster.clusterers import CLUSTERERS, METRIC, NEIGHBORS, Clusterer, maths


@CLUSTERERS.register
class Agglomerative(Clusterer):
    name = "agglomerative"
    description = "agglomerative clustering cut at k clusters, or at a distance threshold (K found)"
    takes_k = "optional"
    takes_threshold = True
    settings = {
        "linkage": {
            "enum": ["average", "complete", "single"],
            "default": "average",
            "description": "how the distance between two clusters is measured",
        },
        **METRIC,
        **NEIGHBORS,
    }

    @classmethod
    def cluster(cls, Y, k, settings, seed):
        return maths().agglomerative(
            Y,
            k=k,
            linkage=settings["linkage"],
            metric=settings["metric"],
            n_neighbors=settings["neighbors"],
            seed=seed,
        )

    @classmethod
    def find(cls, Y, settings, seed):
        return maths().agglomerative(
            Y,
            distance_threshold=settings["threshold"],
            linkage=settings["linkage"],
            metric=settings["metric"],
            n_neighbors=settings["neighbors"],
            seed=seed,
        )
