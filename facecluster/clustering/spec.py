"""What sorting faces needs to know of an experiment, read once from its settings."""

from dataclasses import dataclass

from facecluster.clustering.clusterers import metric_of
from facecluster.photos.embedders.fitted import CutRule


@dataclass(frozen=True)
class SortSpec:
    """How facecluster.clustering.sort.sort_faces sorts an experiment's faces.

    method: the clusterer (facecluster.clustering.clusterers); settings: its settings, every
    default filled (the experiment's `cluster:`); k: the K to try (an int, a list or a range,
    facecluster.clustering.labels.parse_k), or None when the clusterer finds K itself;
    threshold, metric: the distance under which two faces may be one person, and its metric;
    cannot_link: never two faces of one photo in one cluster; cut_rule: the embedder's CutRule
    (None: none fitted); min_photos: the photos a person's cluster holds at least;
    choose_k_by: a score (silhouette, davies_bouldin, calinski_harabasz) or threshold, with
    choose_k_threshold the embedder's calibrated distance; seed: for everything random;
    attach: the experiment's `attach` ({"limit": auto or a multiple of the threshold, "margin"}),
    None for none.
    """

    method: str
    settings: dict
    k: object = None
    threshold: float = None
    metric: str = "euclidean"
    cannot_link: bool = True
    cut_rule: CutRule = None
    min_photos: int = 1
    choose_k_by: str = "silhouette"
    choose_k_threshold: float = None
    seed: int = 0
    attach: dict = None

    @classmethod
    def from_settings(cls, settings):
        """The spec of an experiment's settings, as config validation fills them (`cluster:` with
        its cut_rule, seed, min_photos, choose_k_by and, choosing by threshold, choose_k_threshold)."""
        cluster = settings["cluster"]
        return cls(
            method=cluster["method"],
            settings=cluster,
            k=cluster.get("k"),
            threshold=cluster.get("threshold"),
            metric=metric_of(cluster),
            cannot_link=cluster["cannot_link"],
            cut_rule=CutRule.from_settings(cluster.get("cut_rule")),
            min_photos=settings["min_photos"],
            choose_k_by=settings["choose_k_by"],
            choose_k_threshold=settings.get("choose_k_threshold"),
            seed=settings["seed"],
            attach=settings.get("attach"),
        )

    @property
    def persons_join(self):
        """The mean distance under which two persons the folder's cut split are one, or None: only
        where the folder chose its cut (K not given, cut gap) and the embedder's rule says so."""
        rule = self.cut_rule
        if self.k is not None or self.settings.get("cut") != "gap" or not (rule and rule.persons_join):
            return None
        return rule.persons_join * self.threshold

    @property
    def look_alike_far(self):
        """The multiple of the folder's cut beyond which a person's face with look-alikes about leaves
        it, or None: only where the clusterer finds K with a threshold and the embedder's rule says so."""
        rule = self.cut_rule
        if self.k is not None or self.threshold is None or not (rule and rule.look_alike_far):
            return None
        return rule.look_alike_far

    @property
    def attach_limit(self):
        """The distance under which a face of others joins the person it lies near, or None: only
        where the clusterer finds K with a threshold, and the experiment's `attach.limit` (auto:
        the embedder's rule's `attach`; 0: never) gives one."""
        limit = (self.attach or {}).get("limit", 0)
        if limit == "auto":
            limit = self.cut_rule.attach if self.cut_rule else None
        if not limit or self.k is not None or self.threshold is None:
            return None
        return limit * self.threshold
