"""Hierarchical (agglomerative) clustering, cut at K clusters or at a distance threshold."""

from facecluster.clustering import folder_cut as folder_threshold
from facecluster.clustering import neighbors
from facecluster.clustering.clusterers import CLUSTERERS, METRIC, NEIGHBORS, Clusterer, maths


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
        "cut": {
            "enum": ["gap", "threshold"],
            "default": "gap",
            "description": "without k: cut the dendrogram in its widest gap near the threshold, no lower "
            "than a floor, then in a small folder a face left alone joins the cluster it is near on average "
            "(the folder chooses, by constants fitted to the embedder: for dlib a floor of 0.98 of the "
            "threshold, a join within 1.0625x it in folders of at most 200 faces; measured with Euclidean "
            "distance and average linkage, bench/shapes.py; an embedder none are fitted to is cut at the "
            "threshold; above 20,000 faces, with no full dendrogram, at the floor), then persons the cut split "
            "are joined where the embedder's constants say (intel_reid: docs/people.md); or exactly at the "
            "threshold",
        },
        **METRIC,
        **NEIGHBORS,
    }

    @classmethod
    def sweep(cls, Y, ks, settings, seed, notes):
        if len(Y) > neighbors.EXACT_MAX_ROWS:  # merges follow the neighbour graph, a tree per K
            return super().sweep(Y, ks, settings, seed, notes)
        notes.extend(f"K={k} skipped: only {len(Y)} faces" for k in ks if k > len(Y))
        return maths().agglomerative_sweep(Y, ks, linkage=settings["linkage"], metric=settings["metric"])

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
    def find(cls, Y, settings, seed, notes):
        threshold = settings["threshold"]
        if settings["cut"] == "gap":
            rule = folder_threshold.CutRule.from_settings(settings.get("cut_rule"))
            chosen = folder_threshold.folder_cut(
                Y, threshold, rule, linkage=settings["linkage"], metric=settings["metric"]
            )
            notes.append(chosen.note(threshold))
            if chosen.labels is not None:  # cut from the dendrogram that chose the cut, not built again
                return chosen.labels
            threshold = chosen.cut
        return maths().agglomerative(
            Y,
            distance_threshold=threshold,
            linkage=settings["linkage"],
            metric=settings["metric"],
            n_neighbors=settings["neighbors"],
            seed=seed,
        )
