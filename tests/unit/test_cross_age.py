"""facecluster.clustering.cross_age: pairs weighed by the years between their photos, and sort_faces
with and without dates. The rule is intel_reid's fitted one (facecluster/photos/embedders/
intel_reid.fitted.yaml); real photos sorted by their dates: tests/workflow/test_workflow_growing_up.py."""

import itertools
from dataclasses import replace

import numpy as np

from facecluster.clustering import SortSpec, cross_age, sort_faces
from facecluster.clustering.cross_age import centred, cross_age_cut, merge_suggestions, pair_evidence, uses_dates
from facecluster.photos.embedders.fitted import read_fitted

RULE = read_fitted("intel_reid")["cut_rule"]
AGES = RULE.ages


def two_faces_apart(distance, dimensions=8):
    """Four unit faces whose folder mean is 0 (two pairs mirrored), the first two `distance` apart:
    centring leaves them as they are."""
    angle = 2 * np.arcsin(distance / 2)
    first, second = np.zeros(dimensions), np.zeros(dimensions)
    first[0], second[0], second[1] = 1.0, np.cos(angle), np.sin(angle)
    return np.stack([first, second, -first, -second])


def test_centring_keeps_a_folder_whose_mean_is_zero_and_scales_faces_to_unit_length():
    Y = two_faces_apart(1.2)
    assert np.allclose(centred(Y), Y)
    shifted = centred(Y + 0.3)
    assert np.allclose(np.linalg.norm(shifted, axis=1), 1.0)
    assert np.allclose(shifted, Y)  # the shift is the folder's mean: taken off again


def test_a_distance_that_says_two_people_a_year_apart_says_one_person_decades_apart():
    Y = two_faces_apart(1.2)
    near_in_time = pair_evidence(Y, np.array([2000.0, 2000.5, 1990.0, 1990.0]), AGES)[0]
    decades_apart = pair_evidence(Y, np.array([2000.0, 2028.0, 1990.0, 1990.0]), AGES)[0]
    assert near_in_time < 0 < decades_apart


def test_a_pair_with_an_undated_face_is_weighed_by_the_undated_distributions():
    Y = two_faces_apart(1.0)
    evidence = pair_evidence(Y, np.array([2000.0, np.nan, 1990.0, 1990.0]), AGES)[0]
    (same_mean, same_sd), (different_mean, different_sd) = AGES.undated_same, AGES.undated_different
    expected = (
        -0.5 * ((1.0 - same_mean) / same_sd) ** 2
        + 0.5 * ((1.0 - different_mean) / different_sd) ** 2
        + np.log(different_sd / same_sd)
        + AGES.bias
    )
    assert np.isclose(evidence, expected)


def test_one_pairs_weight_is_clipped():
    Y = two_faces_apart(0.0001)  # a burst: the same face twice
    evidence = pair_evidence(Y, np.array([2000.0, 2000.0, 1990.0, 1990.0]), AGES)
    assert evidence[0] == AGES.clip
    assert np.all(np.abs(evidence) <= AGES.clip)


def test_dates_are_used_where_most_faces_have_one_and_they_span_years():
    assert uses_dates(np.array([2000.0, 2020.0, np.nan]), AGES)
    assert not uses_dates(np.array([2000.0, np.nan, np.nan]), AGES)  # most undated
    assert not uses_dates(np.array([2000.0, 2001.0, 2004.0]), AGES)  # 4 years: no face grows up
    assert not uses_dates(None, AGES)
    assert not uses_dates(np.array([2000.0, 2020.0]), None)


def growing_child_and_a_sibling(seed=0):
    """A child photographed yearly for 12 years, whose face drifts a step a year (near faces a year
    apart, far ones a decade apart), and a sibling as near the child's first years, photographed in
    the same years: 24 faces of 16 dimensions, their years and who is who."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000.0, 2012.0)
    drift = np.zeros((12, 16))
    drift[:, 0] = np.linspace(0, 4.0, 12)
    child = np.eye(16)[1] + drift + rng.normal(0, 0.08, (12, 16))
    sibling = np.eye(16)[2] + drift + rng.normal(0, 0.08, (12, 16))
    Y = np.concatenate([child, sibling])
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    return Y, np.concatenate([years, years]), np.array(["child"] * 12 + ["sibling"] * 12)


def test_a_drifting_face_is_one_person_across_the_years_and_a_sibling_another():
    Y, years, truth = growing_child_and_a_sibling()
    labels = cross_age_cut(Y, years, np.arange(len(Y)), AGES)
    for person in ("child", "sibling"):
        assert len(set(labels[truth == person])) == 1, labels
    assert labels[0] != labels[12]
    # Were all the photos of one year, the child's early and late faces would be two people.
    one_year = cross_age_cut(Y, np.full(len(Y), 2000.0), np.arange(len(Y)), AGES)
    assert len(set(one_year[truth == "child"])) > 1


def test_sort_faces_with_no_date_is_the_sorting_without_dates():
    Y, _, _ = growing_child_and_a_sibling(seed=1)
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])
    settings = {"linkage": "average", "metric": "euclidean", "neighbors": 50, "cannot_link": True, "cut": "gap"}
    spec = SortSpec("agglomerative", settings, threshold=1.138, cut_rule=RULE, min_photos=4)
    undated = sort_faces(Y, photo_ids, spec, years=np.full(len(Y), np.nan))
    assert np.array_equal(undated.labels, sort_faces(Y, photo_ids, spec).labels)
    assert undated.cut is not None
    dated = sort_faces(Y, photo_ids, spec, years=np.arange(len(Y), dtype=float) % 12 + 2000)
    assert dated.cut == RULE.floor * 1.138  # new faces are placed at the folder cut's floor
    assert dated.notes[0].startswith("cut by the capture dates: 24 of 24 faces dated")
    years = np.arange(len(Y), dtype=float) % 12 + 2000
    no_age_rule = replace(spec, cut_rule=replace(RULE, ages=None))  # an embedder none is fitted to
    assert sort_faces(Y, photo_ids, no_age_rule, years=years).cut is not None


def test_the_pieces_of_a_child_split_over_the_years_are_suggested_as_one_and_a_sibling_is_not():
    """The child's faces in two persons, its first 6 years and its last 6; the sibling, of the same years,
    in a third: the child's pieces follow each other in time and meet where they touch."""
    Y, years, truth = growing_child_and_a_sibling()
    child = np.flatnonzero(truth == "child")
    groups = [list(child[:6]), list(child[6:]), list(np.flatnonzero(truth == "sibling"))]  # as the pages give them
    photo_ids = np.array([f"photo {i}" for i in range(len(Y))])

    suggested = merge_suggestions(Y, years, groups, photo_ids, AGES)

    assert [(a, b) for a, b, _ in suggested] == [(0, 1)]  # the sibling's years overlap both pieces
    photo_ids[groups[1][0]] = photo_ids[groups[0][0]]  # one photo shows both pieces: two people
    assert merge_suggestions(Y, years, groups, photo_ids, AGES) == []
    assert merge_suggestions(Y, np.full(len(Y), np.nan), groups, photo_ids, AGES) == []  # no dates, no suggestion


def a_person_with_a_burst_and_a_stranger_in_their_years(seed=0):
    """Unit faces of 16 dimensions: a person photographed yearly for 24 years, whose face drifts
    (near a year apart, far decades apart); a burst of 4 shots of them in 2011; a stranger met 4
    times over the same years. Their years, photo ids (one face a photo) and labels: each its own
    group, as step 1 might leave them."""
    rng = np.random.default_rng(seed)
    person_years = np.arange(2000.0, 2024.0) + 0.3
    burst_years = np.full(4, 2011.6)
    stranger_years = np.array([2003.5, 2009.5, 2015.5, 2021.5])
    turn = 0.1 * np.concatenate([person_years, burst_years]) - 200.0
    faces = np.zeros((32, 16))
    faces[:28, 0], faces[:28, 1] = np.cos(turn), np.sin(turn)
    faces[28:, 5] = 1.0
    faces += rng.normal(0, 0.04, faces.shape)
    faces /= np.linalg.norm(faces, axis=1, keepdims=True)
    years = np.concatenate([person_years, burst_years, stranger_years])
    labels = np.repeat([0, 1, 2], [24, 4, 4])
    return faces, years, np.array([f"photo {i}" for i in range(32)]), labels


def test_a_burst_within_the_years_of_a_person_seen_often_joins_them_or_is_suggested_and_a_stranger_is_not(monkeypatch):
    faces, years, photo_ids, labels = a_person_with_a_burst_and_a_stranger_in_their_years()

    joined = cross_age.join_nearest_in_time(faces, years, labels, photo_ids, AGES)

    assert set(joined[:28]) == {joined[0]}  # the burst is the person's
    assert set(joined[28:]) == {joined[28]} and joined[28] != joined[0]  # the stranger is not
    shared = photo_ids.copy()
    shared[24] = shared[11]  # a shot of the burst shows the person too: two people
    assert set(cross_age.join_nearest_in_time(faces, years, labels, shared, AGES)[24:28]) == {1}
    groups = [np.flatnonzero(labels == label) for label in (0, 1, 2)]
    assert [(a, b) for a, b, _ in merge_suggestions(faces, years, groups, photo_ids, AGES)] == [(0, 1)]
    monkeypatch.setattr(cross_age, "WITHIN_PERSON_PHOTOS", 25)  # a person seen in fewer photos
    assert set(cross_age.join_nearest_in_time(faces, years, labels, photo_ids, AGES)[24:28]) == {1}
    assert merge_suggestions(faces, years, groups, photo_ids, AGES) == []


def test_which_groups_may_be_one_person_at_other_ages_is_found_for_all_pairs_at_once():
    rng = np.random.default_rng(3)
    years = rng.uniform(1990, 2020, 120)
    years[rng.choice(120, 10, replace=False)] = np.nan
    order = np.argsort(np.nan_to_num(years, nan=2050.0))  # the undated last
    mixed = rng.permutation(order[80:110])
    # Groups (disjoint, as labels make them) of nearby years, of any years, and of no date at all.
    groups = [order[i : i + 5] for i in range(0, 80, 5)] + [mixed[i : i + 6] for i in range(0, 30, 6)]
    groups.append(order[112:])
    photo_ids = np.array([f"photo {i % 100}" for i in range(120)])  # faces 100-119 share photos with 0-19
    apart = cross_age._apart_all(years, groups, photo_ids)
    for a, b in itertools.combinations(range(len(groups)), 2):
        first, second = (g[~np.isnan(years[g])] for g in (groups[a], groups[b]))
        photos = [set(photo_ids[g]) for g in (groups[a], groups[b])]
        assert apart[a, b] == apart[b, a] == one_pair_apart(years, first, second, *photos), (a, b)
    assert apart.sum() < apart.size - len(groups) - 10  # some pairs may be one person


def one_pair_apart(years, first, second, first_photos, second_photos):
    """What _apart_all says of one pair, written plainly: they share a photo, one has no dated face,
    or over MAX_OVERLAP of either's dates lie within the other's years."""
    if not len(first) or not len(second) or first_photos & second_photos:
        return True
    within = lambda these, those: np.mean((these >= those.min()) & (these <= those.max()))  # noqa: E731
    share = max(within(years[first], years[second]), within(years[second], years[first]))
    return share > cross_age.MAX_OVERLAP
