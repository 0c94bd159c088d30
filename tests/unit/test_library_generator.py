"""bench/library.py's libraries: bursts in a known share, bystanders met again, no two faces
seen alike, an lfw family's library as it was; a growing-up family (fgnet-dev) dated by its ages."""

import hashlib
import random
import sys
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from conftest import DATASETS, PROJECT_ROOT
from PIL import Image

sys.path.insert(0, str(PROJECT_ROOT / "bench"))

import composites  # noqa: E402
import library  # noqa: E402


def plan(lfw_dir, count, seed=0):
    """A library's plan, every photo taken as one without another face (yuface is slow)."""
    return library.plan_library(lfw_dir, DATASETS / "negatives", count, (640, 480), seed, every_photo_own(lfw_dir))


def every_photo_own(lfw_dir):
    """own_photos' finding with every lfw-dev photo taken as one without another face."""
    return {folder.name: sorted(folder.glob("*.jpg")) for folder in lfw_dir.iterdir()}


def test_a_tenth_of_the_photos_are_bursts_of_one_scene(lfw_dir):
    photos, copied = plan(lfw_dir, 2006)
    assert len(photos) + len(copied) == 2006
    shots = [photo for photo in photos if photo[3]]
    assert abs(len(shots) - 200) <= 1
    for burst, members in _grouped(shots).items():
        assert 2 <= len(members) <= 5 and members[0][0] == f"{burst}.jpg"
        assert [shot for _, _, _, _, shot, _ in members] == list(range(len(members)))
        assert all(faces == members[0][2] and taken is None for _, _, faces, _, _, taken in members)


def _grouped(shots):
    groups = {}
    for photo in shots:
        groups.setdefault(photo[3], []).append(photo)
    return groups


def test_bystanders_are_met_again_and_nobody_is_twice_in_a_photo(lfw_dir):
    photos, _ = plan(lfw_dir, 5000)
    bystander_faces = Counter(
        name for _, _, faces, _, shot, _ in photos if shot == 0 for name, role, _ in faces if role == "bystander"
    )
    family = {name for _, _, faces, _, _, _ in photos for name, role, _ in faces if role == "family"}
    assert not family & set(bystander_faces)
    # 70 % newcomers, as long as the 2,849 people outside the family last.
    assert len(bystander_faces) == len({p.name for p in lfw_dir.iterdir()}) - len(family)
    assert max(bystander_faces.values()) > 3 and Counter(bystander_faces.values())[1] > len(bystander_faces) / 2
    for _, _, faces, _, _, _ in photos:
        assert len({name for name, _, _ in faces}) == len(faces)


def test_each_look_sees_a_photo_anew_and_as_it_is_changes_nothing(lfw_dir):
    source = sorted(lfw_dir.glob("*/*.jpg"))[0]
    looks = [library.draw_look(random.Random(seed)) for seed in range(50)]
    seen = {composites.seen_as(source, look)[0].tobytes() for look in looks}
    assert len(seen) == len(looks)
    plain, face = composites.seen_as(source, composites.AS_IT_IS)
    assert plain.tobytes() == Image.open(source).convert("RGB").tobytes() and face == composites.LFW_FACE


def test_a_burst_is_rendered_with_every_face_seen_alike_by_no_other(lfw_dir, tmp_path):
    photos, _ = plan(lfw_dir, 206, seed=1)
    burst = next(photo[3] for photo in photos if photo[3])
    jobs = [
        (relpath, canvas, faces, tmp_path, [], 1, b, shot, None, {}) for relpath, canvas, faces, b, shot, _ in photos
    ]
    rows = [row for job in jobs if job[6] == burst for row in library.render_photo(job)]
    assert len({row[0] for row in rows}) >= 2 and all(row[-2] == burst for row in rows)
    assert len({row[-1] for row in rows}) == len(rows)


def test_an_lfw_family_library_is_planned_and_rendered_as_before(lfw_dir, tmp_path):
    """Libraries made before the growing-up family stay valid: the same plan and truth rows (the
    digests were taken before it), and photos without EXIF."""
    photos, _ = plan(lfw_dir, 60, seed=2)
    planned = [(p[0], p[1], [(n, r, s.name) for n, r, s in p[2]], p[3], p[4]) for p in photos]
    assert hashlib.sha256(repr(planned).encode()).hexdigest() == (
        "2456450b602d45e29d26a1c796b35ec79337867fefb2c63523daa77c2365318a"
    )
    first_burst = next(photo[3] for photo in photos if photo[3])
    chosen = photos[:4] + [photo for photo in photos if photo[3] == first_burst]
    rows = hashlib.sha256()
    for relpath, canvas, faces, burst, shot, taken in chosen:
        assert taken is None
        rows.update(
            repr(library.render_photo((relpath, canvas, faces, tmp_path, [], 2, burst, shot, None, {}))).encode()
        )
        assert not Image.open(tmp_path / relpath).getexif()
    assert rows.hexdigest() == "c13efdb46b1c08ccfdadfd5d7c426fbd64409c3bd31fce5b651b13b69a30e4f3"


def test_crowded_photos_have_the_faces_and_sizes_asked_for_in_a_folder_of_their_own(lfw_dir, tmp_path):
    """--faces-per-photo and --face-sides (bench/phone_speed.py's crowded photos): the default
    library keeps its folder, another one gets a folder of its own."""
    own = every_photo_own(lfw_dir)
    photos, _ = library.plan_library(lfw_dir, DATASETS / "negatives", 66, (1200, 900), 1, own, None, (5, 8))
    assert {len(faces) for _, _, faces, _, _, _ in photos} == {5, 6, 7, 8}
    relpath, canvas, faces, burst, shot, taken = photos[0]
    rows = library.render_photo((relpath, canvas, faces, tmp_path, [], 1, burst, shot, taken, {}, (40, 120)))
    assert rows and all(float(row[7]) < 1.5 * 120 for row in rows)
    assert (
        str(library.library_folder(1, 46, (4032, 3024))) == f"/tmp/fc-library-v{library.LIBRARY_VERSION}-1-46-4032x3024"
    )
    crowded = library.library_folder(1, 46, (4032, 3024), (5, 8), (40, 240))
    assert crowded.name.endswith("-1-46-4032x3024-faces5-8-px40-240")


@pytest.fixture(scope="session")
def fgnet_dir(datasets):
    if not (datasets / "fgnet-dev").is_dir():
        pytest.skip(f"{datasets / 'fgnet-dev'} is absent (see ../shared/datasets/README.md)")
    return datasets / "fgnet-dev"


def test_fgnet_dev_splits_into_the_halves_the_cross_age_work_uses(fgnet_dir):
    held_out = library.fgnet_people(fgnet_dir, "held-out")
    tune = library.fgnet_people(fgnet_dir, "tune")
    assert len(held_out) == len(tune) == 17 and not set(held_out) & set(tune)
    assert held_out[:6] == ["p002", "p004", "p005", "p011", "p016", "p021"]
    assert library.fgnet_people(fgnet_dir, "p004,p002") == ["p002", "p004"]
    with pytest.raises(ValueError, match="p999"):
        library.fgnet_people(fgnet_dir, "p002,p999")


def test_a_growing_up_family_is_born_within_the_window_and_dated_by_its_ages(lfw_dir, fgnet_dir):
    people = library.fgnet_people(fgnet_dir, "held-out")
    family = library.GrowingFamily(random.Random(0), {name: sorted((fgnet_dir / name).iterdir()) for name in people})
    births = sorted(family.births.values())
    eldest = max(library.age_in(photo) for name in people for photo in (fgnet_dir / name).iterdir())
    assert date(library.DATED_BEFORE - eldest - 1 - library.BIRTH_YEARS, 1, 1) <= births[0]
    assert births[-1] < date(library.DATED_BEFORE - eldest - 1, 1, 1)
    own = every_photo_own(lfw_dir)
    photos, _ = library.plan_library(lfw_dir, DATASETS / "negatives", 400, (640, 480), 0, own, family)
    together = 0
    for _, _, faces, _, _, taken in photos:
        assert taken.year < library.DATED_BEFORE
        family_faces = [(name, photo) for name, role, photo in faces if role == "family"]
        assert faces[0][1] == "family" and not set(people) & {name for name, role, _ in faces if role != "family"}
        for name, photo in family_faces:
            assert age_on(family.births[name], taken.date()) == library.age_in(photo)
        together += len(family_faces) > 1
    assert together > len(photos) / 5
    for members in _grouped([photo for photo in photos if photo[3]]).values():
        assert [taken - members[0][5] for *_, taken in members] == [timedelta(seconds=s) for s in range(len(members))]


def test_a_day_drawn_in_a_year_of_life_has_that_age_born_on_29_february():
    born = date(1960, 2, 29)
    for seed in range(200):
        taken = library.taken_at_age(random.Random(seed), born, seed % 7)
        assert age_on(born, taken.date()) == seed % 7
        assert library.DAYTIME[0] <= taken.hour < library.DAYTIME[1]


def test_a_growing_up_library_has_every_face_at_its_age_on_the_exif_date(lfw_dir, fgnet_dir, tmp_path, monkeypatch):
    """A small library made whole (two fgnet-dev people, their faces found by yuface), the lfw-dev
    bystanders' photos all taken as ones without another face (yuface is slow)."""
    monkeypatch.setattr(library, "FGNET_FACES_CACHE", tmp_path / "faces.tsv")
    monkeypatch.setattr(library, "own_photos", lambda lfw_dir, pool: every_photo_own(lfw_dir))
    people = [fgnet_dir / name for name in ("p016", "p053")]
    truth = library.make_library(tmp_path / "lib", lfw_dir, DATASETS / "negatives", 30, (640, 480), 0, 2, people)
    taken = {}
    for path in sorted((tmp_path / "lib" / "photos").glob("IMG_*.jpg")):
        exif = Image.open(path).getexif().get_ifd(0x8769)
        assert exif[0x9011] == library.TIME_OFFSET
        taken[path.name] = datetime.strptime(exif[0x9003], "%Y:%m:%d %H:%M:%S")
    assert len(taken) == 30 - 6
    family = [row for row in truth if row["role"] == "family"]
    assert {row["identity"] for row in family} == {"p016", "p053"}
    for row in family:
        age = age_on(date.fromisoformat(row["born"]), taken[row["photo"]].date())
        assert age == int(row["age"]) == library.age_in(row["source"])
    births = {date.fromisoformat(row["born"]) for row in family}
    assert len(births) == 2 and max(births) - min(births) < timedelta(days=366 * library.BIRTH_YEARS)
    assert all(row["age"] == row["born"] == "" for row in truth if row["role"] == "bystander")


def age_on(born, day):
    """Someone's age on `day` in whole years: a year more on each birthday (29 February's in other
    years: 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
