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
    <photo name>.face<i>.jpg the face itself (the aligned chip), per face of this person
    contact_sheet.jpg        the person's faces on one page (the first ones, when more
                             than fit in 4,096 px: facecluster.outputs.sheets.grid_capacity)
  others/                    the same for the faces no person holds: those in clusters of
                             fewer than min_photos photos (by cluster), then, from a page
                             of their own, those set aside; contact_sheet.jpg,
                             contact_sheet_2.jpg, ... show them all
  .faces/                    each face's image once (<photo id>.face<i>.jpg): the folders'
                             face files are hard links to these, so that an edit moving a
                             face, or hiding a person and showing them again, writes no image
A person the corrections hide (assignments.tsv's `hidden`) gets no folder.
"""

import csv
import filecmp
import os
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, fields
from pathlib import Path

from PIL import Image

from facecluster.outputs import sheets
from facecluster.outputs.assignments import LazyChips, read_assignments, read_chip, write_assignments
from facecluster.outputs.processes import in_processes
from facecluster.tables import OTHERS, tsv_writer

LINK_MODES = ("symlink", "copy")
# Where each face's image is kept once (hidden: not a person's folder).
FACE_STORE = ".faces"
# What the folders show (assignments' rows), per mode: the next run rewrites only what differs.
SHOWN = ".shown-{mode}.tsv"
# A person's contact sheet; the others' further pages add _2, _3, ... to its name.
CONTACT_SHEET = "contact_sheet.jpg"
# Beside a person's folder while it changes in place (update_people_folders).
UPDATING = ".{person}.updating"


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


def write_people_folders(assignments_path, out_dir, *, mode="symlink", workers=1):
    """Bring the folders under out_dir up to date with an experiment's assignments.tsv, people.tsv
    included; returns the persons whose folders were rewritten.

    Only the files that differ since the folders were last written are rewritten (what they showed
    is kept beside them: SHOWN): a run after a correction or a day's new photos costs the faces it
    changed. A face whose chips file is another now (the batch of its photo made again when new
    photos joined it, or another model's chips) gets its image written again. With no record (a
    first run, another mode), every folder is written anew. workers: processes that write the face
    images and the contact sheets where there are many (facecluster.outputs.processes)."""
    _check_mode(mode)
    after = read_assignments(assignments_path)
    out_dir = Path(out_dir)
    before = _shown(out_dir, mode)
    if before is None:
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        before = []
    store = out_dir / FACE_STORE
    store.mkdir(exist_ok=True)
    chips = {(face.photo_id, face.face_index): face.chips for face in before}
    for face in after:
        if chips.get((face.photo_id, face.face_index), face.chips) != face.chips:
            (store / _stored_name(face)).unlink(missing_ok=True)
    stored = set(os.listdir(store))
    missing = [face for face in after if _stored_name(face) not in stored]
    in_processes(
        _write_faces, [(face.chips, face.face_index, str(store / _stored_name(face))) for face in missing], workers
    )
    rebuilt = _update_folders(before, after, out_dir, mode, workers)
    pages = [
        (str(out_dir / person / name), [(face.chips, face.face_index) for face in in_page], title, 0)
        for person, plan in rebuilt.items()
        for name, in_page, title in _sheet_pages(person, plan, after)
        if not (out_dir / person / name).exists()
    ]
    in_processes(_draw_pages, pages, workers, weight=_faces_to_draw)
    _forget_other_faces(out_dir, after)
    record_shown(out_dir, mode, after)
    return list(rebuilt)


def _write_faces(jobs):
    """Each face's image into the store: jobs are (chips file, face index, path)."""
    for chips, index, path in jobs:
        _save_face(read_chip(chips, index), Path(path))


def _draw_pages(pages):
    """Contact sheet pages: (path, [(chips file, face index)], title, how many of the first faces
    the page shows already: sheets.face_grid's `drawn`)."""
    for path, where, title, drawn in pages:
        sheets.face_grid(path, LazyChips(None, where), title=title, drawn=drawn)


def _faces_to_draw(page):
    """What a page costs to draw, in faces: those it gains, and a quarter for each it keeps (the
    page decoded and saved again)."""
    _, where, _, drawn = page
    return len(where[: sheets.grid_capacity()]) - drawn + drawn // 4


def record_shown(out_dir, mode, rows):
    """Keep what the folders under out_dir show now (assignments' rows): the next write_people_folders
    rewrites only what differs. Call it once every folder is whole, its contact sheets drawn."""
    path = Path(out_dir) / SHOWN.format(mode=mode)
    temporary = path.with_name(f"{path.name}.tmp")
    write_assignments(temporary, rows)
    os.replace(temporary, path)


def _shown(out_dir, mode):
    """The rows the folders under out_dir showed when last written in this mode, or None."""
    path = out_dir / SHOWN.format(mode=mode)
    return read_assignments(path) if path.is_file() else None


def _forget_other_faces(out_dir, faces):
    """Remove from the face store the faces no row holds any more (photos removed from the folder)."""
    store = out_dir / FACE_STORE
    if store.is_dir():
        kept = {_stored_name(face) for face in faces}
        for name in os.listdir(store):
            if name not in kept:
                (store / name).unlink()


def update_people_folders(before, after, out_dir, *, mode="symlink", workers=1):
    """Bring the folders from one version of the assignments' rows to another (an edit, or a run
    with new photos), people.tsv included: what a fresh build of `after` holds, the contact sheets
    aside. A person no face holds any more loses their folder. Returns the persons whose folders
    changed: each has its photos and faces, and the contact sheet pages that changed are still to
    be drawn (draw_contact_sheet, page by page; a page that keeps its first faces gets the ones
    after them and its new title here: sheets.face_grid's `drawn`).

    A person's folder is changed in place, by the files that differ: a person of 4,000 faces who
    gains three costs three photos and faces. A new person's folder is built beside its place, then
    renamed into it. A photo the old folders hold already is linked from there, and each face's
    image from the folders' store (FACE_STORE, which keeps the faces of hidden persons too). While
    a folder changes in place a mark (UPDATING) lies beside it: a run killed meanwhile leaves it,
    and the next one builds that folder anew. workers: processes that draw the faces that pages
    gain, where they are many (facecluster.outputs.processes)."""
    _check_mode(mode)
    return list(_update_folders(before, after, Path(out_dir), mode, workers))


def _update_folders(before, after, out_dir, mode, workers):
    """update_people_folders' work; returns {person whose folder changed: their _Plan in after}."""
    old, new = _members(before), _members(after)
    cut_short = _marked(out_dir)
    old_plans, new_plans = _changed_plans(old, new, before, after, also=cut_short & new.keys())
    changed = sorted(old_plans.keys() | new_plans.keys())
    whole = [person for person in old_plans if person not in cut_short and (out_dir / person).is_dir()]
    renamed = _renamed(whole, old, new, before, after)
    for person, was in renamed.items():  # the folder takes its new name, then changes in place
        (out_dir / UPDATING.format(person=person)).touch()
        _remove(out_dir / person)
        (out_dir / was).rename(out_dir / person)
    was = {**{person: person for person in whole if person in new_plans}, **renamed}  # whose folder each had
    in_place = sorted(was)
    folder_of = {was[person]: out_dir / person for person in in_place}
    sources = {}
    for person in whole:
        sources.update(old_plans[person].photo_files(folder_of.get(person, out_dir / person)))
    for person in new_plans.keys() - set(in_place):
        building = out_dir / f".{person}.new"
        shutil.rmtree(building, ignore_errors=True)
        _fill_folder(building, new_plans[person], after, mode, sources)
    for person in in_place:
        (out_dir / UPDATING.format(person=person)).touch()
    # Every folder's new files first, then what they lose: a photo moving between persons is
    # linked from the folder it leaves.
    leaving = [
        _add_changed_files(out_dir / person, old_plans[was[person]], before, new_plans[person], after, mode, sources)
        for person in in_place
    ]
    growing = []
    for person, names in zip(in_place, leaving):
        for name in names:
            _remove(out_dir / person / name)
        growing += _update_sheets(out_dir / person, _sheet_pages(was[person], old_plans[was[person]], before),
                                  _sheet_pages(person, new_plans[person], after))  # fmt: skip
    in_processes(_draw_pages, growing, workers, weight=_faces_to_draw)
    for person in in_place:
        (out_dir / UPDATING.format(person=person)).unlink()
    for person in new_plans.keys() - set(in_place):
        folder, gone = out_dir / person, out_dir / f".{person}.old"
        shutil.rmtree(gone, ignore_errors=True)
        if folder.exists():
            folder.rename(gone)
        (out_dir / f".{person}.new").rename(folder)
    # What no person holds: the old folders, those a run killed halfway left, and their marks.
    for entry in os.scandir(out_dir):
        if entry.is_dir(follow_symlinks=False) and entry.name != FACE_STORE and entry.name not in new:
            shutil.rmtree(entry.path)
    for person in cut_short:
        (out_dir / UPDATING.format(person=person)).unlink(missing_ok=True)
    _write_index(out_dir, new, after)
    return {person: new_plans[person] for person in changed if person in new}


def _face_rows(positions, rows):
    """What a folder shows of each face (others' order also follows their clusters)."""
    return [
        (face.photo_id, face.path, face.face_index, face.chips, face.set_aside, face.cluster)
        for face in map(rows.__getitem__, positions)
    ]


def _changed_plans(old, new, before, after, also):
    """({person: plan in before}, {person: plan in after}) of the persons whose folders differ
    between two versions of the rows, and of those in `also`. A person whose faces are the same
    rows in the same order is the same folder (compared first: plans for every person cost 4 of
    20 s at 20,000 photos); each plan is made once (0.5 s a plan of a person of 7,000 faces)."""
    differ = {
        person
        for person in {*old, *new}
        if person not in old or person not in new or _face_rows(old[person], before) != _face_rows(new[person], after)
    }
    old_plans = {person: _Plan.of(person, old[person], before) for person in differ | also if person in old}
    new_plans = {person: _Plan.of(person, new[person], after) for person in differ | also if person in new}
    for person in (differ - also) & old_plans.keys() & new_plans.keys():
        if old_plans[person].content(before) == new_plans[person].content(after):
            del old_plans[person], new_plans[person]
    return old_plans, new_plans


def _renamed(whole, old, new, before, after):
    """{a new person: the person gone whose folder they take}: the same faces under another name
    (a rename), so that the folder is renamed rather than built again (7,327 faces: 0.5 s)."""
    gone = {}
    for person in whole:
        if person not in new and person != OTHERS:
            gone.setdefault(tuple(_face_rows(old[person], before)), person)
    renamed = {}
    for person in new:
        if person not in old and person != OTHERS and gone:
            was = gone.pop(tuple(_face_rows(new[person], after)), None)
            if was is not None:
                renamed[person] = was
    return renamed


def _marked(out_dir):
    """The persons whose folders a killed run left changed halfway (their UPDATING marks)."""
    prefix, suffix = UPDATING.split("{person}")
    return {
        name[len(prefix) : -len(suffix)]
        for name in os.listdir(out_dir)
        if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix)
    }


def contact_sheet_pages(faces, person):
    """How many contact sheet pages a person's folder holds (0: the person has no folder)."""
    positions = _members(faces).get(person)
    return len(_sheet_pages(person, _Plan.of(person, positions, faces), faces)) if positions else 0


def draw_contact_sheet(faces, out_dir, person, page=0):
    """Draw page `page` of a person's contact sheets in their folder under out_dir, from the
    assignments' rows `faces` (written beside its place, then renamed over it); a page there
    already is one update_people_folders kept or added to."""
    plan = _Plan.of(person, _members(faces)[person], faces)
    _draw_page(out_dir, person, _sheet_pages(person, plan, faces)[page])


def _draw_page(out_dir, person, page):
    """One of _sheet_pages' pages (name, faces, title), unless the folder holds it already."""
    name, in_page, title = page
    path = Path(out_dir) / person / name
    if not path.exists():
        sheets.face_grid(path, LazyChips(in_page), title=title)


def _check_mode(mode):
    if mode not in LINK_MODES:
        raise ValueError(f"mode must be one of {LINK_MODES}, not {mode!r}")


def _members(faces):
    """{person: their positions in the assignments' rows}: the persons not hidden, others included."""
    members = defaultdict(list)
    for position, face in enumerate(faces):
        if not face.hidden:
            members[face.person].append(position)
    return dict(members)


@dataclass(frozen=True)
class _Plan:
    """What a person's folder holds: their faces in the folder's order (positions in the
    assignments' rows), the name each photo gets in it and each face's file."""

    positions: tuple[int, ...]
    photos: dict  # photo_id -> file name
    chips: dict  # position -> file name

    @classmethod
    def of(cls, person, positions, faces):
        if (
            person == OTHERS
        ):  # a bystander's faces together (clusters in the order of their first face), then those set aside
            first = {}
            for p in positions:
                first.setdefault(faces[p].cluster, p)
            positions = sorted(positions, key=lambda p: (faces[p].set_aside, first[faces[p].cluster], p))
        photos, taken = {}, set()
        for p in positions:
            if faces[p].photo_id not in photos:
                photos[faces[p].photo_id] = name = _free_name(taken, os.path.basename(faces[p].path))
                taken.add(name)
        chips = {p: f"{photos[faces[p].photo_id]}.face{faces[p].face_index}.jpg" for p in positions}
        return cls(tuple(positions), photos, chips)

    def content(self, faces):
        """What the folder holds, in its order: each face's photo, its file names and its chip
        (a folder whose content is the same is left as it is)."""
        return [
            (faces[p].photo_id, faces[p].path, faces[p].face_index, faces[p].chips, faces[p].set_aside, self.chips[p])
            for p in self.positions
        ]

    def photo_files(self, folder):
        """{photo_id: its file in folder}."""
        return {photo_id: folder / name for photo_id, name in self.photos.items()}


def _fill_folder(folder, plan, faces, mode, sources):
    """A person's folder, its contact sheets aside: a link to (or copy of) each photo, then each face's
    image, hard-linked from the store beside the folder (written there first when missing). A photo
    `sources` holds already ({photo_id: path}, _Plan.photo_files) is hard-linked from there."""
    folder.mkdir()
    store = folder.parent / FACE_STORE
    store.mkdir(exist_ok=True)
    for name, what in _files(plan, faces).items():
        if what[0] == "photo":
            _put_photo(folder / name, what[2], sources.get(what[1]), mode)
        else:
            _put_face(folder / name, store / what[1], what[3])


def _put_photo(target, path, source, mode):
    """A link to (or copy of) the photo at `path`, hard-linked from `source` when that is this
    photo's link (or copy): a folder changed in place may have given that name to another photo."""
    photo = Path(path).resolve()
    if source is not None and _is_photo_file(source, photo, mode) and _linked(source, target):
        return
    if mode == "symlink":
        os.symlink(photo, target)
    else:
        shutil.copyfile(photo, target)


def _is_photo_file(file, photo, mode):
    """Whether a folder's file is a link to the photo (symlink mode) or a copy of it (its bytes:
    only photos moving between folders are compared)."""
    try:
        if mode == "symlink":
            return file.is_symlink() and os.readlink(file) == str(photo)
        return not file.is_symlink() and filecmp.cmp(file, photo, shallow=False)
    except OSError:
        return False


def _put_face(target, stored, face):
    """A face's image, hard-linked from the store (written there first when missing)."""
    if not stored.exists():
        _save_face(read_chip(face.chips, face.face_index), stored)
    if not _linked(stored, target):  # a file system without hard links
        shutil.copyfile(stored, target)


def _add_changed_files(folder, old_plan, before, new_plan, after, mode, sources):
    """Put into a person's folder the photos and faces `after` gives it that it lacks (or that are
    other files now); returns the names of the files it holds that `after` does not, its contact
    sheets aside (_update_sheets)."""
    held, wanted = _files(old_plan, before), _files(new_plan, after)
    present = set(os.listdir(folder))
    store = folder.parent / FACE_STORE
    for name, what in wanted.items():
        if name in present and held.get(name, ())[:3] == what[:3]:  # (a face's row number may change)
            continue
        temporary = folder / f".{name}.tmp"
        _remove(temporary)
        if what[0] == "photo":
            _put_photo(temporary, what[2], sources.get(what[1]), mode)
        else:
            _put_face(temporary, store / what[1], what[3])
        if (folder / name).is_dir() and not (folder / name).is_symlink():
            shutil.rmtree(folder / name)  # someone's folder in the way
        os.replace(temporary, folder / name)
    stem, suffix = os.path.splitext(CONTACT_SHEET)
    pages = {name for name in present if name.startswith(stem) and name.endswith(suffix)}
    return sorted(present - wanted.keys() - pages)


def _files(plan, faces):
    """{file name: what it is} in a person's folder, contact sheets aside, photos first: ("photo",
    photo_id, path) or ("face", its file in the store, its chips file, its row)."""
    paths = {faces[p].photo_id: faces[p].path for p in plan.positions}
    files = {name: ("photo", photo_id, paths[photo_id]) for photo_id, name in plan.photos.items()}
    files.update((name, ("face", _stored_name(faces[p]), faces[p].chips, faces[p])) for p, name in plan.chips.items())
    return files


def _update_sheets(folder, old_pages, new_pages):
    """Keep each contact sheet page that shows the same faces under the same title; add to one
    whose faces come first on its new version the faces after them and its new title
    (sheets.face_grid's `drawn`); remove the others (drawn again later). A person of thousands of
    faces shows the same first faces after a day's photos, a smaller one gains a few at the end,
    and others' many pages change at the last of each part and the first, which counts them.
    Returns the pages to add faces to (_draw_pages)."""
    growing = []
    shown = {name: (title, _page_faces(in_page)) for name, in_page, title in old_pages}
    for name in shown.keys() - {name for name, _, _ in new_pages}:
        _remove(folder / name)
    for name, in_page, title in new_pages:
        path, now = folder / name, _page_faces(in_page)
        was = shown.get(name, ("", []))[1]
        if not was or now[: len(was)] != was or not path.is_file():
            _remove(path)
        elif shown[name] != (title, now):
            growing.append((str(path), [(face.chips, face.face_index) for face in in_page], title, len(was)))
    return growing


def _page_faces(in_page):
    """The faces a contact sheet page shows (a person's one page shows their first ones)."""
    return [(face.photo_id, face.face_index, face.chips) for face in in_page[: sheets.grid_capacity()]]


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _stored_name(face):
    return f"{face.photo_id}.face{face.face_index}.jpg"


def _save_face(chip, path):
    """A face's image, written beside its place and renamed into it (a store's file is whole or absent).
    A JPEG at quality 92 without chroma subsampling: 0.15 ms a 128 px chip and 5.7 kB, where a PNG
    at zlib's fastest level took 2.2 ms and 25 kB (a 10,000-photo library's 25,000 faces: 55 s of
    this job's 77 s, and 644 MB)."""
    temporary = path.with_name(f".{path.name}.tmp")
    Image.fromarray(chip).save(temporary, format="JPEG", quality=92, subsampling=0)
    os.replace(temporary, path)


def _linked(source, target):
    """Whether `target` could be made a hard link to `source` (the link itself when a symlink)."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _sheet_pages(person, plan, faces):
    """[(file name, faces, title)]: a person's contact sheet pages (plan: their _Plan in faces). A
    person's one sheet shows their first faces (as many as fit); the others' pages show them all."""
    in_folder = [faces[p] for p in plan.positions]
    title = f"{person}: {len(in_folder)} faces"
    if person != OTHERS:
        return [(CONTACT_SHEET, in_folder, title)]
    clustered = [face for face in in_folder if not face.set_aside]
    aside = in_folder[len(clustered) :]
    if aside:
        title += f" ({len(clustered)} in no person's cluster, then {len(aside)} set aside)"
    # The set-aside faces from a page of their own, and the counts on the first page only: a run's
    # new faces change the last page of their part, and the first.
    most = sheets.grid_capacity()
    parts = [(clustered[i : i + most], "in no person's cluster") for i in range(0, len(clustered), most)]
    parts += [(aside[i : i + most], "set aside") for i in range(0, len(aside), most)]
    if len(parts) == 1:
        return [(CONTACT_SHEET, in_folder, title)]
    return [
        (
            CONTACT_SHEET if page == 0 else f"{Path(CONTACT_SHEET).stem}_{page + 1}{Path(CONTACT_SHEET).suffix}",
            in_page,
            # The first page's counts say what its faces are, and fill its width.
            f"{title}, page 1 of {len(parts)}" if page == 0 else f"{person}, page {page + 1} of {len(parts)}: {what}",
        )
        for page, (in_page, what) in enumerate(parts)
    ]


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


def _free_name(taken, name):
    """name, or name with a number added when another photo of the folder took it (same name, two folders)."""
    stem, suffix = os.path.splitext(name)
    candidate, number = name, 2
    while candidate in taken:
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
