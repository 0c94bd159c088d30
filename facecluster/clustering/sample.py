"""Which faces an experiment sorts: a seeded sample of people and photos (its `sample:`)."""

import numpy as np


def sample_faces(faces, *, min_photos=None, people=None, photos_per_person=None, seed=0) -> list[int]:
    """Row indices (positions in ``faces``) of a seeded sample of people and photos.

    faces: n faces (facecluster.photos.faces.Face: their ``photo_id`` and ``label``). With no option set,
    returns all n rows. Otherwise unlabelled faces are excluded and a person is eligible
    with at least min_photos distinct photos (and at least photos_per_person, so that
    every chosen person contributes the same number). ``people`` eligible people are
    chosen with numpy.random.default_rng(seed) from the sorted names, then
    ``photos_per_person`` photos of each from their photo ids sorted; every face of a
    chosen photo is kept. Returns the sorted row indices (list of int).
    """
    if min_photos is None and people is None and photos_per_person is None:
        return list(range(len(faces)))
    for name, value in (
        ("min_photos", min_photos),
        ("people", people),
        ("photos_per_person", photos_per_person),
    ):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")

    rows_by_photo_by_person = {}  # label -> photo_id -> rows
    for row, face in enumerate(faces):
        if face.label:
            rows_by_photo_by_person.setdefault(face.label, {}).setdefault(face.photo_id, []).append(row)
    needed_photos = max(min_photos or 1, photos_per_person or 1)
    eligible = sorted(name for name, photos in rows_by_photo_by_person.items() if len(photos) >= needed_photos)

    rng = np.random.default_rng(seed)
    chosen = eligible
    if people is not None:
        if people > len(eligible):
            raise ValueError(f"asked for {people} people but only {len(eligible)} have at least {needed_photos} photos")
        chosen = [eligible[i] for i in sorted(rng.choice(len(eligible), size=people, replace=False))]

    rows = []
    for name in chosen:
        photo_ids = sorted(rows_by_photo_by_person[name])
        if photos_per_person is not None:
            picked = rng.choice(len(photo_ids), size=photos_per_person, replace=False)
            photo_ids = [photo_ids[i] for i in sorted(picked)]
        for photo_id in photo_ids:
            rows.extend(rows_by_photo_by_person[name][photo_id])
    return sorted(rows)
