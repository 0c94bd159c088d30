"""Listing, photo ids and batches."""

import re

import pytest

from facecluster.photos.listing import entries_for, list_photos, make_batches, photo_id

SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")


def test_ids_are_safe_unique_and_stable_for_awkward_names():
    names = [
        "a/photo 1.jpg",
        "b/photo 1.jpg",  # same file name in another folder
        "Zoë/ça va.jpg",
        'x/it\'s "quoted".png',
        "x/{wildcard}.jpg",
        "x/../up.jpg",
        "x/日本語.jpg",
        "x/.hidden.jpg",
    ]
    ids = [photo_id(name) for name in names]
    assert len(set(ids)) == len(ids)
    assert all(SAFE.match(i) and not i.startswith(".") for i in ids)
    assert ids == [photo_id(name) for name in names]
    assert photo_id("Zoë/ça va.jpg").startswith("ca_va.jpg-")


def test_listing_finds_every_file_with_folder_labels(tmp_path):
    for relpath in ["Ann/1.jpg", "Ann/2", "Bob/sub/3.gif", ".cache/x.jpg", "top.jpg"]:
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_bytes(b"not decoded at listing time")

    entries = list_photos(tmp_path, labels="folders")

    by_path = {e.relpath: e for e in entries}
    assert sorted(by_path) == [".cache/x.jpg", "Ann/1.jpg", "Ann/2", "Bob/sub/3.gif", "top.jpg"]
    assert by_path["Ann/2"].label == "Ann"
    assert by_path["Bob/sub/3.gif"].label == "sub"
    assert by_path["top.jpg"].label == ""
    assert by_path[".cache/x.jpg"].hidden and not by_path["Ann/1.jpg"].hidden
    assert {e.label for e in list_photos(tmp_path, labels="none")} == {""}


def test_links_are_followed_and_loops_walked_once(tmp_path):
    (tmp_path / "people" / "Ann").mkdir(parents=True)
    (tmp_path / "people" / "Ann" / "1.jpg").write_bytes(b"x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "people" / "back").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "more").symlink_to(tmp_path / "people" / "Ann", target_is_directory=True)

    relpaths = [e.relpath for e in list_photos(tmp_path)]

    assert relpaths == ["loop", "people/Ann/1.jpg"]


def sample_entries(count, prefix="p"):
    return entries_for("/photos", [f"{prefix}{i:06d}.jpg" for i in range(count)])


def test_batches_cover_every_entry_once_in_order_in_regular_sizes():
    entries = sample_entries(1000)
    batches = make_batches(entries, 50)
    flattened = [e for members in batches.values() for e in members]
    assert flattened == entries
    sizes = [len(m) for m in batches.values()]
    assert 15 <= len(batches) <= 25
    # Boundaries are at least half a batch apart, and from the ends of the listing.
    assert min(sizes) >= 25 and max(sizes) <= 200


def test_adding_photos_changes_only_the_batches_they_fall_into():
    entries = sample_entries(1000)
    added = sample_entries(10, prefix="new")
    before = make_batches(entries, 50)
    after = make_batches(sorted(entries + added, key=lambda e: e.relpath), 50)

    changed = {name for name, members in after.items() if before.get(name) != members}
    # Each added photo changes the batch it lands in, at most with its neighbours.
    assert len(changed) <= 3 * len(added)
    untouched = sum(len(m) for name, m in after.items() if name not in changed)
    assert untouched >= 1000 - 3 * 4 * 50
    # Photos added side by side (as in a new folder) change few batches.
    clustered = make_batches(sorted(entries + sample_entries(10, prefix="p000500x"), key=lambda e: e.relpath), 50)
    assert len({name for name, members in clustered.items() if before.get(name) != members}) <= 3


@pytest.mark.parametrize("count, parts", [(40, 2), (40, 8), (100, 16), (5, 8), (127, 2)])
def test_a_small_folder_gives_every_core_a_batch(count, parts):
    entries = sample_entries(count, prefix=f"small{count}-")

    batches = make_batches(entries, 64, parts)

    assert [e for members in batches.values() for e in members] == entries
    assert len(batches) >= min(parts, count)
    # About count / parts each, not one core's batch of 64 and idle others.
    assert max(len(m) for m in batches.values()) <= 4 * -(-count // parts)


def test_a_folder_of_cores_x_batch_size_or_more_is_batched_as_before():
    entries = sample_entries(1000)
    assert make_batches(entries, 50, parts=2) == make_batches(entries, 50, parts=10) == make_batches(entries, 50)


def test_many_seeds_a_small_folder_always_fills_every_core():
    for seed in range(200):
        entries = sample_entries(40, prefix=f"s{seed}-")
        assert len(make_batches(entries, 64, parts=2)) >= 2
        assert len(make_batches(entries, 64, parts=8)) >= 8


def test_a_small_folder_is_balanced_by_file_bytes_not_count(tmp_path):
    # Two phone photos' worth of bytes, then twenty small ones: each core gets half the bytes.
    names = [f"{i:02d}.jpg" for i in range(22)]
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(b"x" * (1000 if i < 2 else 100))

    batches = list(make_batches(entries_for(tmp_path, names), 64, parts=2).values())

    assert [len(members) for members in batches] == [2, 20]
