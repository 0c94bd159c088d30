"""What the clustering job keeps between runs: when new faces are placed, when every face is sorted again."""

import copy

import numpy as np
import pytest
from conftest import a_face

from facecluster.workflow.config import validate_config
from facecluster.workflow.experiment import sort_experiment
from facecluster.workflow.sorting_state import FILE_NAME, SortingState
from facecluster.workflow.specs import resolve

NO_CHIPS = {"min_side": 0, "min_score": 0, "min_sharpness": 0}  # nothing set aside: no chip read


@pytest.fixture(scope="module")
def settings():
    experiments = {"e": {"dataset": "any", "set_aside": NO_CHIPS, "min_photos": 3}}
    model = {"detector": {"name": "yunet"}, "embedder": {"name": "dlib"}}
    config = validate_config(
        {"datasets": {"any": {"path": "."}}, "models": {"m": model}, "default_model": "m", "experiments": experiments}
    )
    return resolve(config).experiments["e"].job_settings()


def folder(per_person, people=3, seed=0):
    """(embeddings, faces): `per_person` faces of each person, one photo each, in dlib's 128-D."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(people, 128))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    points, faces = [], []
    for person in range(people):
        for i in range(per_person[person] if isinstance(per_person, list) else per_person):
            points.append(centres[person] + rng.normal(0, 0.02, 128))
            faces.append(a_face(row=len(faces), photo_id=f"p{person}-{i}", path=f"p{person}-{i}.jpg"))
    return np.array(points), faces


def placed(clustering):
    return [note for note in clustering.summary["notes"] if "new faces placed" in note]


def test_new_faces_are_placed_until_their_share_since_the_last_full_sorting_passes_the_setting(settings):
    assert settings["place_new_faces"] == 0.1
    X, faces = folder(8)
    first = sort_experiment(X, faces, settings)
    assert not placed(first) and first.state.full_faces == 24 and first.state.cut > 0

    X, faces = folder([10, 8, 8])  # the same faces (same seed), and two new of the first person
    second = sort_experiment(X, faces, settings, first.state)
    assert placed(second)[0].startswith("2 new faces placed")
    assert len(set(second.clusters[:10].tolist())) == 1  # with the person's eight
    assert (second.state.full_faces, second.state.added) == (24, 2)

    X, faces = folder([10, 10, 8])  # 2 more: 4 added since the full sorting of 24 faces, over 0.1
    third = sort_experiment(X, faces, settings, second.state)
    assert not placed(third) and (third.state.full_faces, third.state.added) == (28, 0)


def test_a_removed_face_or_other_settings_sort_every_face_again(settings):
    X, faces = folder(8)
    first = sort_experiment(X, faces, settings)
    X2, faces2 = folder([9, 8, 8])
    assert placed(sort_experiment(X2, faces2, settings, first.state))
    assert not placed(sort_experiment(X2[1:], [f for f in faces2[1:]], settings, first.state))  # p0-0 removed
    other = copy.deepcopy(settings)
    other["min_photos"] = 4
    assert not placed(sort_experiment(X2, faces2, other, first.state))


def test_the_state_is_written_atomically_and_a_damaged_one_means_a_full_sorting(settings, tmp_path):
    X, faces = folder(8)
    state = sort_experiment(X, faces, settings).state
    state.write(tmp_path)
    read = SortingState.read(tmp_path)
    assert (read.keys, read.labels.tolist(), read.cut, read.digest) == (
        state.keys,
        state.labels.tolist(),
        state.cut,
        state.digest,
    )
    assert read.sharpness == state.sharpness
    assert [path.name for path in tmp_path.iterdir()] == [FILE_NAME]

    (tmp_path / FILE_NAME).write_bytes(b"PK\x03\x04 cut short")
    assert SortingState.read(tmp_path).cut is None
    assert SortingState.read(None).cut is None
