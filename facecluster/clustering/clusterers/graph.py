"""Graph clustering: faces linked to their near neighbours, the graph split into people."""

from facecluster.clustering.clusterers import CLUSTERERS, METRIC, NEIGHBORS, Clusterer, maths


@CLUSTERERS.register
class Graph(Clusterer):
    name = "graph"
    description = "Chinese whispers (dlib's method) or connected components over the thresholded neighbour graph"
    takes_threshold = True
    settings = {
        "algorithm": {
            "enum": ["chinese_whispers", "components"],
            "default": "chinese_whispers",
            "description": "how the graph is split",
        },
        **METRIC,
        **NEIGHBORS,
    }

    @classmethod
    def find(cls, Y, settings, seed, notes):
        return maths().neighbor_graph(
            Y,
            threshold=settings["threshold"],
            n_neighbors=settings["neighbors"],
            metric=settings["metric"],
            algorithm=settings["algorithm"],
            seed=seed,
        )
