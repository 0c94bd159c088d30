"""bench/library.py's libraries: bursts in a known share, bystanders met again, and no two faces
seen alike."""

import random
import sys
from collections import Counter

from conftest import DATASETS, PROJECT_ROOT
from PIL import Image

sys.path.insert(0, str(PROJECT_ROOT / "bench"))

import composites  # noqa: E402
import library  # noqa: E402


def plan(lfw_dir, count, seed=0):
    """A library's plan, every photo taken as one without another face (yuface is slow)."""
    own = {folder.name: sorted(folder.glob("*.jpg")) for folder in lfw_dir.iterdir()}
    return library.plan_library(lfw_dir, DATASETS / "negatives", count, (640, 480), seed, own)


def test_a_tenth_of_the_photos_are_bursts_of_one_scene(lfw_dir):
    photos, copied = plan(lfw_dir, 2006)
    assert len(photos) + len(copied) == 2006
    shots = [photo for photo in photos if photo[3]]
    assert abs(len(shots) - 200) <= 1
    for burst, members in _grouped(shots).items():
        assert 2 <= len(members) <= 5 and members[0][0] == f"{burst}.jpg"
        assert [shot for *_, shot in members] == list(range(len(members)))
        assert all(faces == members[0][2] for _, _, faces, _, _ in members)


def _grouped(shots):
    groups = {}
    for photo in shots:
        groups.setdefault(photo[3], []).append(photo)
    return groups


def test_bystanders_are_met_again_and_nobody_is_twice_in_a_photo(lfw_dir):
    photos, _ = plan(lfw_dir, 5000)
    bystander_faces = Counter(
        name for _, _, faces, _, shot in photos if shot == 0 for name, role, _ in faces if role == "bystander"
    )
    family = {name for _, _, faces, _, _ in photos for name, role, _ in faces if role == "family"}
    assert not family & set(bystander_faces)
    # 70 % newcomers, as long as the 2,849 people outside the family last.
    assert len(bystander_faces) == len({p.name for p in lfw_dir.iterdir()}) - len(family)
    assert max(bystander_faces.values()) > 3 and Counter(bystander_faces.values())[1] > len(bystander_faces) / 2
    for _, _, faces, _, _ in photos:
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
    jobs = [(relpath, canvas, faces, tmp_path, [], 1, b, shot) for relpath, canvas, faces, b, shot in photos]
    rows = [row for job in jobs if job[6] == burst for row in library.render_photo(job)]
    assert len({row[0] for row in rows}) >= 2 and all(row[-2] == burst for row in rows)
    assert len({row[-1] for row in rows}) == len(rows)
