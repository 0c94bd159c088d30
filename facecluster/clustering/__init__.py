"""Stage 2, across photos: sort the faces into persons (set aside, reduce, cluster, cannot-link,
join split persons) and score the sorting against labels when there are any.

sort_faces (facecluster.clustering.sort), SortSpec and Sorting are imported on first use: the
clusterers' registry, read by every Snakemake start, lives in this package and must not bring
scikit-learn.
"""

_LAZY = {"sort_faces": "sort", "Sorting": "sort", "SortSpec": "spec"}
__all__ = list(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
