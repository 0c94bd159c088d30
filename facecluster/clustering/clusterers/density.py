"""Density-based clustering: DBSCAN and HDBSCAN; faces in no dense region are left out (-1)."""

from facecluster.clustering.clusterers import CLUSTERERS, METRIC, MIN_SAMPLES, Clusterer, maths


@CLUSTERERS.register
class Dbscan(Clusterer):
    name = "dbscan"
    description = "DBSCAN with eps = the threshold"
    takes_threshold = True
    settings = {**METRIC, **MIN_SAMPLES}

    @classmethod
    def find(cls, Y, settings, seed, notes):
        return maths().density(
            Y,
            method="dbscan",
            threshold=settings["threshold"],
            metric=settings["metric"],
            min_samples=settings["min_samples"],
        )


@CLUSTERERS.register
class Hdbscan(Clusterer):
    name = "hdbscan"
    description = "HDBSCAN"
    settings = {
        "min_cluster_size": {
            "type": "integer",
            "minimum": 2,
            "default": 2,
            "description": "smallest cluster",
        },
        **METRIC,
        **MIN_SAMPLES,
    }

    @classmethod
    def find(cls, Y, settings, seed, notes):
        return maths().density(
            Y,
            method="hdbscan",
            metric=settings["metric"],
            min_samples=settings["min_samples"],
            min_cluster_size=settings["min_cluster_size"],
        )
