"""People folders: one folder per person, something a person can browse.

Each folder is named after the person as assignments.tsv's `person` column names them
(facecluster.naming.persons): a known person's name (`obama/`), a name kept from the previous
run or given by a correction, or a number (`person_0001/`, the biggest cluster on a
first run; a person keeps their number on later runs). Everyone else's faces are in
one folder, `others/`.

people/
  people.tsv                 folder (the person, or others), clusters (the clusterer's ids;
                             empty for others), faces, photos, most common label and its
                             share; persons most faces first, others last
  <person>/
    <photo name>             a link to (or copy of) each original photo with a face here
    <photo name>.face<i>.png the face itself (the aligned chip), per face of this person
    contact_sheet.png        the person's faces on one page (the first ones, when more
                             than fit in 4,096 px: facecluster.outputs.sheets.grid_capacity)
  others/                    the same for the faces no person holds: those in clusters of
                             fewer than min_photos photos (by cluster), then those set
                             aside (by reason); contact_sheet.png, contact_sheet_2.png, ...
                             show them all
A person the corrections hide (assignments.tsv's `hidden`) gets no folder.
"""

import csv
import os
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, fields
from pathlib import Path

from PIL import Image

from facecluster.outputs import sheets
from facecluster.outputs.assignments import LazyChips, read_assignments
from facecluster.tables import OTHERS, tsv_writer

LINK_MODES = ("symlink", "copy")


@dataclass(frozen=True)
class PeopleRow:
    """A row of people.tsv: a folder, the clusters it gathers (none for others), its faces and
    photos, and its most common label and that label's share (None: no face labelled)."""

    folder: str
    clusters: tuple[int, ...]
    faces: int
    photos: int
    top_label: str
    top_label_share: float | None


COLUMNS = [f.name for f in fields(PeopleRow)]


def write_people(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = tsv_writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(
            [
                row.folder,
                ",".join(map(str, row.clusters)),
                row.faces,
                row.photos,
                row.top_label,
                "" if row.top_label_share is None else row.top_label_share,
            ]
            for row in rows
        )


def read_people(path) -> list[PeopleRow]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            PeopleRow(
                record["folder"],
                tuple(int(c) for c in record["clusters"].split(",") if c),
                int(record["faces"]),
                int(record["photos"]),
                record["top_label"],
                float(record["top_label_share"]) if record["top_label_share"] else None,
            )
            for record in csv.DictReader(handle, delimiter="\t")
        ]


def write_people_folders(assignments_path, out_dir, *, mode="symlink"):
    """Build the folders from an experiment's assignments.tsv; returns the index rows (PeopleRow)."""
    if mode not in LINK_MODES:
        raise ValueError(f"mode must be one of {LINK_MODES}, not {mode!r}")
    faces, members = _members(assignments_path)
    chips = LazyChips(faces)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for person in members:
        _write_person(out_dir / person, person, members[person], faces, chips, mode)
    return _write_index(out_dir, members, faces)


def update_people_folders(assignments_path, out_dir, persons, *, mode="symlink"):
    """Rewrite the folders of `persons` (names; a name no face holds any more loses its folder) and
    people.tsv, from assignments.tsv as it is now: what write_people_folders would make, for the
    persons a correction changed. Each folder is built beside its place, then swapped in."""
    faces, members = _members(assignments_path)
    chips = LazyChips(faces)
    out_dir = Path(out_dir)
    for person in sorted(persons):
        folder = out_dir / person
        old = out_dir / f".{person}.old"
        shutil.rmtree(old, ignore_errors=True)
        if person in members:
            new = out_dir / f".{person}.new"
            shutil.rmtree(new, ignore_errors=True)
            _write_person(new, person, members[person], faces, chips, mode)
        if folder.exists():
            folder.rename(old)
        if person in members:
            new.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    return _write_index(out_dir, members, faces)


def _members(assignments_path):
    """(assignments' rows, {person: their positions}): the persons not hidden, others included."""
    faces = read_assignments(assignments_path)
    members = defaultdict(list)
    for position, face in enumerate(faces):
        if not face.hidden:
            members[face.person].append(position)
    return faces, members


def _write_person(folder, person, positions, faces, chips, mode):
    """A person's folder: their photos, faces and contact sheet."""
    folder.mkdir()
    if person == OTHERS:  # a bystander's faces together, then those set aside
        positions.sort(key=lambda p: (faces[p].set_aside, faces[p].cluster, p))
    in_folder = [faces[p] for p in positions]
    names = _place_photos(in_folder, folder, mode)
    for position in positions:
        face = faces[position]
        path = folder / f"{names[face.photo_id]}.face{face.face_index}.png"
        # zlib's fastest level: 1.2 ms a chip against 6.3 at the default, files 10 % larger
        # (a library's 12,600 faces: most of this job's CPU).
        Image.fromarray(chips[position]).save(path, compress_level=1)
    title = f"{person}: {len(in_folder)} faces"
    if person == OTHERS:
        aside = sum(1 for face in in_folder if face.set_aside)
        title += f" ({len(in_folder) - aside} in no person's cluster, then {aside} set aside)" if aside else ""
        sheets.face_pages(folder / "contact_sheet.png", LazyChips(in_folder), title=title)
    else:
        sheets.face_grid(folder / "contact_sheet.png", LazyChips(in_folder), title=title)


def _write_index(out_dir, members, faces):
    """people.tsv (written whole, then renamed into place); returns its rows."""
    index = []
    for person in _by_size(members):
        in_folder = [faces[p] for p in members[person]]
        index.append(_index_row(person, in_folder, len({face.photo_id for face in in_folder})))
    temporary = out_dir / ".people.tsv.tmp"
    write_people(temporary, index)
    os.replace(temporary, out_dir / "people.tsv")
    return index


def _by_size(members):
    """Person names, most faces first (ties by name), others last."""
    return sorted(members, key=lambda p: (p == OTHERS, -len(members[p]), p))


def _place_photos(faces, folder, mode):
    """Link or copy each photo once into folder; {photo_id: the name it got}."""
    names = {}
    for face in faces:
        if face.photo_id in names:
            continue
        name = _free_name(folder, Path(face.path).name)
        source = Path(face.path).resolve()
        if mode == "symlink":
            os.symlink(source, folder / name)
        else:
            shutil.copyfile(source, folder / name)
        names[face.photo_id] = name
    return names


def _free_name(folder, name):
    """name, or name with a number added when the folder already holds one (same name, two folders)."""
    stem, suffix = os.path.splitext(name)
    candidate, number = name, 2
    while (folder / candidate).exists() or (folder / candidate).is_symlink():
        candidate, number = f"{stem}-{number}{suffix}", number + 1
    return candidate


def _index_row(folder, faces, n_photos):
    labels = Counter(face.label for face in faces if face.label)
    top, count = labels.most_common(1)[0] if labels else ("", 0)
    return PeopleRow(
        folder,
        () if folder == OTHERS else tuple(sorted({face.cluster for face in faces})),
        len(faces),
        n_photos,
        top,
        round(count / len(faces), 4) if labels else None,
    )
