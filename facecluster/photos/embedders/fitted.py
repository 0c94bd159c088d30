"""The constants fitted to one embedder's distances (facecluster.photos.embedders: `thresholds`,
`cut_rule`, `naming_rule`), read from the data file beside the embedder's module
(`<embedder>.fitted.yaml`, which names the bench commands that measured them), and kept apart from
the code that uses them (facecluster.clustering.folder_cut, facecluster.naming.persons) so that
loading an embedder in a batch job does not import scikit-learn and SciPy (1 s of CPU a job)."""

from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class CutRule:
    """How a folder cuts its dendrogram, fitted to one embedder's distances (its `cut_rule`,
    facecluster.photos.embedders): every distance a multiple of the embedder's calibrated threshold.

    window, width: where the widest gap is looked for, and the width of the weighting towards the
    calibrated value; full_window_faces, window_large: above full_window_faces faces the window's
    upper end falls in proportion towards window_large (the more faces, the more pairs of different
    people look alike, and a gap near or above the calibrated value merges them); floor: the
    lowest cut; join: the mean distance under which a lone face joins a cluster, in folders of at
    most join_max_faces faces; persons_join: the mean distance under which two persons that share
    no photo are one, when one of them holds faces of persons_join_photos photos at least
    (join_split_persons; None: never); attach: the distance
    under which a face of others near one person and far from everyone else joins that person
    (facecluster.clustering.attach_others; None: never, unless an experiment gives one);
    look_alike_far, look_alike_ratio: a face of a person whose nearest face of it lies beyond
    look_alike_far x the folder's cut and at least look_alike_ratio x as far as the nearest face
    elsewhere leaves it for others (facecluster.clustering.look_alikes; None: never);
    look_alike_group: faces of a person linked by distances under look_alike_group x the cut are
    weighed, and leave, together (0: each face alone).
    """

    window: tuple
    width: float
    full_window_faces: int
    floor: float
    join: float
    join_max_faces: int
    persons_join: float = None
    persons_join_photos: int = 0
    attach: float = None
    window_large: float = 1.0
    look_alike_far: float = None
    look_alike_ratio: float = 1.0
    look_alike_group: float = 0.0
    ages: "AgeRule" = None

    @classmethod
    def from_settings(cls, settings):
        """The rule of an experiment's `cut_rule` (the dict config validation fills), or None."""
        if settings is None:
            return None
        ages = settings.get("ages")
        return cls(
            **{**settings, "window": tuple(settings["window"]), "ages": AgeRule.from_settings(ages) if ages else None}
        )

    def settings(self):
        """As an experiment's `cut_rule` (plain YAML/JSON values)."""
        return {**asdict(self), "window": list(self.window), "ages": self.ages.settings() if self.ages else None}


@dataclass(frozen=True)
class AgeRule:
    """How far apart a pair of faces lies when it is one person and when two, given the years
    between their capture dates (facecluster.clustering.cross_age), fitted to one embedder's
    distances between faces centred on their folder's mean and scaled back to unit length.

    gaps: years, ascending; same, different: a (mean, standard deviation) of a pair's distance
    per gap, one person and two, read between the gaps linearly (beyond them, the last);
    undated_same, undated_different: the same where a face of the pair has no date; bias: added
    to every pair's log-likelihood ratio (the odds of one person before the distance is seen);
    clip: the largest weight one pair's ratio carries either way; min_dated: the share of a
    folder's faces that must be dated, and min_span_years the years their dates must span (from
    the 5th to the 95th percentile), for the dates to be used.
    """

    gaps: tuple
    same: tuple
    different: tuple
    undated_same: tuple
    undated_different: tuple
    bias: float
    clip: float
    min_dated: float
    min_span_years: float

    @classmethod
    def from_settings(cls, settings):
        pairs = ("same", "different")
        return cls(
            **{
                **settings,
                "gaps": tuple(settings["gaps"]),
                **{key: tuple(map(tuple, settings[key])) for key in pairs},
                **{f"undated_{key}": tuple(settings[f"undated_{key}"]) for key in pairs},
            }
        )

    def settings(self):
        return {key: _plain(value) for key, value in asdict(self).items()}


def _plain(value):
    """Tuples as lists, for YAML/JSON."""
    return [_plain(item) for item in value] if isinstance(value, tuple | list) else value


@dataclass(frozen=True)
class NamingRule:
    """Naming's constants fitted to one embedder's distances (its `naming_rule`,
    facecluster.photos.embedders): naming_threshold auto is `scale` x the embedder's calibrated
    Euclidean threshold, and a group takes a known name only when at least `pairs`
    face-reference pairs are within it (one when one face meets one reference)."""

    scale: float
    pairs: int


def read_fitted(embedder):
    """The constants fitted to `embedder` (its module's name), from FOLDER/<embedder>.fitted.yaml:
    {"thresholds": {metric: distance}, "cut_rule": CutRule, "naming_rule": NamingRule, and any
    other thresholds the file gives (e.g. "flip_thresholds") as they are}."""
    with open(FOLDER / f"{embedder}.fitted.yaml", encoding="utf-8") as stream:
        fitted = yaml.safe_load(stream)
    return {
        **fitted,
        "cut_rule": CutRule.from_settings(fitted["cut_rule"]),
        "naming_rule": NamingRule(**fitted["naming_rule"]),
    }
