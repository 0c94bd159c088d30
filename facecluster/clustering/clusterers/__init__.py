"""Clusterers (one module each, registered in CLUSTERERS): the methods an experiment's `cluster:` names.

A clusterer says whether it takes a number of clusters K (`takes_k`:
required, optional or never) and a distance threshold (`takes_threshold`),
and clusters reduced embeddings Y (n, d) as a facecluster.clustering.spec.SortSpec says:
`sweep(Y, ks, spec, notes)` once per K, `find(Y, spec, notes)` when it finds K itself;
`places_new_faces`: faces added later can be placed among its persons (sort.place_new_faces)
by cutting them at the distance the folder was cut at.
Each module holds its method's maths too, importing scikit-learn and SciPy's clustering
only when it runs: the registry is read by every Snakemake start, which does not need them.
"""

from facecluster.registry import Component, Registry

COMMON_SETTINGS = {
    "k": {
        "$ref": "#/$defs/k",
        "description": "number of clusters: a number, a list [2, 4, 8] or a range {from: 2, to: 20, "
        "step: 1}; with several, the one with the best choose_k_by score wins",
    },
    "threshold": {
        "description": "distance under which two faces may be the same person; auto = the embedder's calibrated one",
        "oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": "auto"}],
    },
    "cannot_link": {
        "type": "boolean",
        "default": True,
        "description": "never put two faces of one photo in one cluster",
    },
}
# A setting several clusterers take, declared once.
METRIC = {
    "metric": {
        "enum": ["cosine", "euclidean"],
        "default": "euclidean",
        "description": "distance between embeddings",
    }
}
NEIGHBORS = {
    "neighbors": {
        "type": "integer",
        "minimum": 1,
        "default": 10,
        "description": "nearest neighbours per face in the graph",
    }
}
MIN_SAMPLES = {
    "min_samples": {
        "type": "integer",
        "minimum": 1,
        "default": 1,
        "description": "neighbours a face needs to be a core point",
    }
}

CLUSTERERS = Registry("clusterer", "facecluster.clustering.clusterers", key="method", common=COMMON_SETTINGS)


def metric_of(settings):
    """The distance an experiment's `cluster:` settings measure faces by: its `metric`, or Euclidean
    for a clusterer that takes none (K-means and spectral work in Euclidean space)."""
    return settings.get("metric", "euclidean")


def require_faces(Y, what):
    """ValueError unless Y holds at least 2 faces to cluster."""
    if len(Y) < 2:
        faces = "face" if len(Y) == 1 else "faces"
        raise ValueError(f"only {len(Y)} {faces} to cluster: {what} needs at least 2")


class Clusterer(Component):
    takes_k = "never"  # "required", "optional" or "never"
    takes_threshold = False
    places_new_faces = False

    @classmethod
    def sweep(cls, Y, ks, spec, notes):
        """{K: (n,) labels} for each K of `ks` up to the number of faces; a note for each K skipped."""
        notes.extend(f"K={k} skipped: only {len(Y)} faces" for k in ks if k > len(Y))
        return {k: cls.cluster(Y, k, spec) for k in ks if k <= len(Y)}

    @classmethod
    def cluster(cls, Y, k, spec):
        """(n,) labels in k clusters."""
        raise NotImplementedError(f"{cls.name} finds the number of clusters itself")

    @classmethod
    def find(cls, Y, spec, notes):
        """((n,) labels, K found by the method (-1: in no cluster), the distance the faces were cut at
        or None); a note for what the folder decided."""
        raise NotImplementedError(f"{cls.name} needs k")

    @classmethod
    def cut_at(cls, Y, cut, spec):
        """(n,) labels of Y cut at the distance `cut` (a clusterer that places_new_faces)."""
        raise NotImplementedError(f"{cls.name} places no new faces")

    @classmethod
    def describe(cls, settings):
        """The clustering of an experiment's `cluster:` settings in a few words, as its report says it."""
        cannot_link = ", cannot-link" if settings["cannot_link"] else ""
        return f"{cls.describe_method(settings)}, {cls.describe_cut(settings)}{cannot_link}"

    @classmethod
    def describe_method(cls, settings):
        """The method and the settings that shape it."""
        return cls.name

    @classmethod
    def describe_cut(cls, settings):
        """How the number of clusters is set: K, or a distance threshold."""
        if "k" in settings:
            return f"K {settings['k']}"
        return f"{metric_of(settings)} distance threshold {settings['threshold']}"
