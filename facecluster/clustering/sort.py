"""Sorting faces into persons, in memory: cut, cannot-link, persons join, choose K; or new faces
placed among the persons of an earlier sorting.

Each step is a function of its own; sort_faces runs them in order. No file is read or written.
"""

from dataclasses import dataclass

import numpy as np

from facecluster.clustering import neighbors
from facecluster.clustering.attach_others import FACES, attach_to_persons, persons_of
from facecluster.clustering.cannot_link import enforce_cannot_link
from facecluster.clustering.choose_k import choose_k
from facecluster.clustering.clusterers import CLUSTERERS
from facecluster.clustering.cross_age import cross_age_cut, uses_dates
from facecluster.clustering.folder_cut import join_lone_faces
from facecluster.clustering.labels import canonical_labels, parse_k
from facecluster.clustering.look_alikes import part_look_alikes
from facecluster.clustering.metrics import evaluate_sweep
from facecluster.clustering.persons_join import join_split_persons
from facecluster.tables import UNKNOWN

# In an earlier sorting's labels given to sort_faces: a face it did not have.
NEW = -2


@dataclass(frozen=True)
class Sorting:
    """What sort_faces found: labels_by_k, {K: (n,) int64 canonical labels, -1 in no cluster}
    (one entry per K of a sweep, or one keyed by the number of clusters found when the
    clusterer finds K itself); k, the chosen K; notes, what the steps decided (cut,
    cannot-link, persons join), and k_notes, why K fell back when it could not be chosen;
    scores, {K: evaluate_sweep's scores} (None when not asked for); cut, the distance the faces
    were cut at when the clusterer found K (None: cut at K, or no one distance)."""

    labels_by_k: dict
    k: int
    notes: tuple = ()
    k_notes: tuple = ()
    scores: dict = None
    cut: float = None

    @property
    def labels(self):
        """(n,) labels at the chosen K."""
        return self.labels_by_k[self.k]


@dataclass(frozen=True)
class Earlier:
    """An earlier sorting of the same faces and more: labels (n,) its clusters, NEW for a face
    added since, UNKNOWN in none; cut, the distance it cut the faces at."""

    labels: object
    cut: float


def sort_faces(Y, photo_ids, spec, *, truth=None, scored=True, earlier=None, years=None) -> Sorting:
    """Sort n faces into persons.

    Y: (n, d) float array, the faces' reduced embeddings (facecluster.clustering.reduce), n >= 2;
    photo_ids: (n,) the photo each face is in; spec: a facecluster.clustering.spec.SortSpec
    (SortSpec.from_settings(experiment settings)). The steps, each a function of this module:

    1. cut_faces: the clusterer (spec.method) clusters Y once per K of spec.k, or finds K
       itself (agglomerative: cut in the folder's gap near spec.threshold, by spec.cut_rule; with
       `years` and the rule's age rule, by the faces' dates instead: cut_by_dates; and no step 3
       for dated faces, placed or cut).
    2. apply_cannot_link: with spec.cannot_link, where a photo has several faces in a cluster
       the one nearest the cluster's mean stays and the others each leave to a cluster of
       their own (a person is never twice in one photo).
    3. join_persons: where the folder chose its cut and the embedder's rule says so, two
       persons (clusters of at least spec.min_photos photos) that share no photo and lie near
       on average are joined (a person the cut split).
    4. part_look_alikes_of: where the clusterer found K and the embedder's rule says so, a face
       of a person whose nearest face of it lies near the cut, and hardly nearer than a face
       elsewhere, leaves it (a look-alike the cut took in; facecluster.clustering.look_alikes);
       where some left, join_persons again, those that left taking no part: a person rid of a
       look-alike can lie near a piece of its own that the look-alike kept away.
    5. attach_others: where the clusterer found K and spec.attach_limit says, each face in no
       person (a cluster of fewer than spec.min_photos photos, or none) joins the person it lies
       near and far from everyone else (facecluster.clustering.attach_others).
    6. choose_k (facecluster.clustering.choose_k): the K of a sweep by spec.choose_k_by, a
       score or the number of people found without K near spec.choose_k_threshold.

    earlier: an Earlier sorting, whose clusterer places_new_faces: step 1 is place_new_faces
    instead of cut_faces. years: (n,) each face's capture date in years (NaN: none), or None.

    truth: (n,) true person names, or None: with scored, each K's scores (evaluate_sweep)
    include the external ones against them. scored False: no scores beyond those choosing
    K needs. Returns a Sorting; the same inputs give the same labels.
    """
    notes = []
    labels_by_k, cut = sweep_faces(Y, photo_ids, spec, notes, earlier, years)
    scores = evaluate_sweep(Y, truth, labels_by_k) if scored else None
    k, k_notes = choose_k(Y, labels_by_k, spec, scores)
    return Sorting(labels_by_k, k, tuple(notes), tuple(k_notes), scores, cut)


def sweep_faces(Y, photo_ids, spec, notes, earlier=None, years=None) -> tuple[dict, float]:
    """Steps 1 to 5 of sort_faces: ({K: (n,) canonical labels}, the cut); `notes` gets what each decided."""
    dated = spec.k is None and cuts_by_dates(Y, spec, years)
    if dated and earlier is None:
        # New faces are placed later at the folder cut's floor: the dates cut at no one distance.
        cut = spec.cut_rule.floor * spec.threshold
        labels_by_k = {0: cut_by_dates(Y, years, photo_ids, spec.cut_rule.ages, notes)}
    elif earlier is None:
        labels_by_k, cut = cut_faces(Y, spec, notes)
    else:
        labels_by_k, cut = place_new_faces(Y, photo_ids, earlier, spec, notes), earlier.cut
    labels_by_k = apply_cannot_link(labels_by_k, Y, photo_ids, spec, notes)
    if not dated:  # the dates weighed every pair already; these constants are fitted to the folder cut
        labels_by_k = join_persons(labels_by_k, Y, photo_ids, spec, notes)
        labels_by_k, parted = part_look_alikes_of(labels_by_k, Y, photo_ids, spec, cut, notes, earlier)
        if parted.any():  # a person rid of look-alikes can lie near a piece of its own now
            labels_by_k = join_persons(labels_by_k, Y, photo_ids, spec, notes, apart=parted)
    labels_by_k = attach_others(labels_by_k, Y, photo_ids, spec, notes)
    if spec.k is None:  # the clusterer found K: key the result by it
        (labels,) = labels_by_k.values()
        labels_by_k = {int(len(np.unique(labels[labels != UNKNOWN]))): labels}
    return {k: canonical_labels(labels) for k, labels in labels_by_k.items()}, cut


def cut_faces(Y, spec, notes) -> tuple[dict, float]:
    """({K: (n,) labels}, the cut) by the spec's clusterer: one per K of spec.k (cut None), or
    {0: labels} found without K and the distance the faces were cut at."""
    clusterer = CLUSTERERS[spec.method]
    if spec.k is None:
        labels, cut = clusterer.find(Y, spec, notes)
        return {0: labels}, cut
    return clusterer.sweep(Y, parse_k(spec.k), spec, notes), None


def cuts_by_dates(Y, spec, years) -> bool:
    """Whether the faces are cut by their dates (facecluster.clustering.cross_age): the folder
    chooses its cut (agglomerative, cut gap), the embedder has an age rule, most faces are dated,
    and the folder is small enough for every pair to be weighed (neighbors.EXACT_MAX_ROWS)."""
    rule = spec.cut_rule.ages if spec.cut_rule else None
    return (
        spec.method == "agglomerative"
        and spec.settings.get("cut") == "gap"
        and len(Y) <= neighbors.EXACT_MAX_ROWS
        and uses_dates(years, rule)
    )


def cut_by_dates(Y, years, photo_ids, rule, notes) -> np.ndarray:
    """(n,) labels: cross_age_cut's, with a note of how many faces were dated."""
    labels = cross_age_cut(Y, years, photo_ids, rule)
    dated = int(np.sum(~np.isnan(np.asarray(years, np.float64))))
    notes.append(
        f"cut by the capture dates: {dated} of {len(Y)} faces dated, the faces of each time sorted, then joined "
        f"across the years (age rule, bias {rule.bias})"
    )
    return labels


def place_new_faces(Y, photo_ids, earlier, spec, notes) -> dict:
    """{0: labels}: the faces of an earlier sorting keep their clusters; each new face near one
    person and far from everyone else joins that person (facecluster.clustering.attach_others,
    within the earlier cut); then the faces in no person, new and earlier, are cut among
    themselves at the earlier cut, where several new photos of someone new become a person; in a
    small folder a face left alone joins a near cluster (folder_cut.join_lone_faces).

    The persons stay as the whole folder's cut made them: a face added cannot move an earlier
    face, only the steps after (cannot-link, persons join, attach) may, as in a full sorting.
    """
    labels = np.asarray(earlier.labels, np.int64).copy()
    new = labels == NEW
    labels[new] = UNKNOWN
    labels, placed = attach_to_persons(
        Y,
        labels,
        photo_ids,
        min_photos=spec.min_photos,
        limit=earlier.cut,
        margin=spec.attach.get("margin", 1.0) if spec.attach else 1.0,
        metric=spec.metric,
        seed=spec.seed,
        among=new,
    )
    photo_codes = np.unique(np.asarray(photo_ids), return_inverse=True)[1].astype(np.int64)
    pool = np.flatnonzero(persons_of(labels, photo_codes, spec.min_photos) == UNKNOWN)
    if len(pool) >= 2:
        pool_labels = CLUSTERERS[spec.method].cut_at(Y[pool], earlier.cut, spec)
        labels[pool] = np.where(pool_labels >= 0, pool_labels + labels.max() + 1, UNKNOWN)
    rule = spec.cut_rule
    if rule is not None and len(Y) <= rule.join_max_faces:  # as the folder's cut does in a small folder
        labels = join_lone_faces(Y, labels, rule.join * spec.threshold, spec.metric)
    notes.append(
        f"{int(new.sum())} new faces placed among the persons of the earlier sorting ({placed} joined a "
        f"person at once), then the {len(pool)} faces in no person cut at {earlier.cut:.4f}"
    )
    return {0: labels}


def apply_cannot_link(labels_by_k, Y, photo_ids, spec, notes) -> dict:
    """{K: labels} with no two faces of one photo in one cluster (facecluster.clustering.cannot_link),
    when spec.cannot_link; a note per K where faces moved."""
    if not spec.cannot_link:
        return labels_by_k
    separated = {}
    for k, labels in labels_by_k.items():
        separated[k], moved = enforce_cannot_link(labels, photo_ids, Y)
        if moved:
            notes.append(
                f"K={k}: cannot-link moved {moved} faces out of a cluster that already held a face of the same photo"
            )
    return separated


def join_persons(labels_by_k, Y, photo_ids, spec, notes, apart=None) -> dict:
    """{K: labels} with persons the folder's cut split joined (facecluster.clustering.persons_join)
    where spec.persons_join says; unchanged otherwise. apart: (n,) bool, faces whose clusters take
    no part (the look-alikes parted: never joined back)."""
    limit = spec.persons_join
    if limit is None:
        return labels_by_k
    ((k, labels),) = labels_by_k.items()
    joined_labels, joined = join_split_persons(
        Y,
        labels,
        photo_ids,
        min_photos=spec.min_photos,
        limit=limit,
        large_photos=spec.cut_rule.persons_join_photos,
        metric=spec.metric,
        apart=apart,
    )
    if joined:
        after = "" if apart is None else ", after the look-alikes left"
        notes.append(f"{joined} joins of persons the cut split (on average under {limit:.4f} apart{after})")
    return {k: joined_labels}


def part_look_alikes_of(labels_by_k, Y, photo_ids, spec, cut, notes, earlier=None) -> tuple[dict, np.ndarray]:
    """({K: labels} with the look-alikes a person took in parted from it, (n,) bool the faces
    parted) (facecluster.clustering.look_alikes) where spec.look_alike_far says, in multiples of
    the distance the faces were `cut` at (None: the threshold), as is the rule's look_alike_group;
    unchanged otherwise. With an `earlier` sorting only the new faces may leave: the faces sorted
    before were weighed then, and keep their clusters as placing new faces does."""
    if spec.look_alike_far is None:
        return labels_by_k, np.zeros(len(Y), bool)
    far = spec.look_alike_far * (cut or spec.threshold)
    group = spec.cut_rule.look_alike_group * (cut or spec.threshold)
    ((k, labels),) = labels_by_k.items()
    ratio = spec.cut_rule.look_alike_ratio
    parted_labels, parted = part_look_alikes(
        Y,
        labels,
        photo_ids,
        min_photos=spec.min_photos,
        far=far,
        ratio=ratio,
        group=group,
        metric=spec.metric,
        seed=spec.seed,
        among=None if earlier is None else np.asarray(earlier.labels) == NEW,
    )
    if parted:
        notes.append(
            f"{parted} faces parted from their person: their nearest face of it over {far:.4f} away and "
            f"at least {ratio:g} x as far as the nearest face elsewhere"
            + (f" (faces under {group:.4f} apart weighed and parted together)" if group else "")
        )
    return {k: parted_labels}, parted_labels != np.asarray(labels)


def attach_others(labels_by_k, Y, photo_ids, spec, notes) -> dict:
    """{K: labels} with each face of others near one person and far from everyone else attached to
    that person (facecluster.clustering.attach_others) where spec.attach_limit says; unchanged
    otherwise."""
    limit = spec.attach_limit
    if limit is None:
        return labels_by_k
    ((k, labels),) = labels_by_k.items()
    attached_labels, attached = attach_to_persons(
        Y,
        labels,
        photo_ids,
        min_photos=spec.min_photos,
        limit=limit,
        margin=spec.attach.get("margin", 1.0),
        metric=spec.metric,
        seed=spec.seed,
    )
    if attached:
        notes.append(
            f"{attached} faces of others attached to the nearest person (their {FACES} nearest faces of it "
            f"on average under {limit:.4f} apart, no other face nearer)"
        )
    return {k: attached_labels}
