"""Naming the people of a clustering: reference photos, names kept across runs, corrections.

A clustering gives anonymous groups; `name_people` turns them into the name of a
person per face, in one pass, in this order of precedence:

1. merges the user asked for ("person_0003 and person_0011 are one person"): the
   faces those people had in the previous run are put in one group;
2. reference photos (`known:`): a group takes a known person's name when most of
   its faces lie within the naming distance of that person's nearest reference
   face, that person having the most such faces, and at least the embedder's
   NamingRule.pairs face-reference pairs are that close (one for one face and
   one reference); groups that take one name become one group (a known person
   is never split);
3. renames the user asked for ("person_0007 is obama");
4. the previous run's names: a group keeps the name of the previous person it
   shares most faces with (each name taken once, the biggest overlaps first);
5. new people get new numbers, after the highest number ever given;
6. moves out the user asked for ("this face is not person_0002"): the face joins
   the person the entry names (`to: person_0005`), or nobody (`to: nobody`: the others),
   or else the nearest other group within the distance, or a group of its own;
7. people the user hid (`hide: [person_0009]`): their faces keep their person, marked
   hidden (no people folder, no review card).

A group becomes a person (a name or number, a people folder) only when it holds faces of
at least `min_photos` photos, or when a known person's name, a correction or a name a
person gave in an earlier run names it: in a library most faces are bystanders seen once,
who are nobody's person. Every other face is `others` (OTHERS), its cluster kept in
assignments.tsv, so that someone seen again in later photos becomes a person then.
Numbers go to persons only.

A name the user or the previous run gives is read through the aliases (names that became
another) in one place, Aliases: the previous run's names as its aliases left them, then as this
run's corrections change them (every change through Aliases.point and Aliases.drop). The names kept
between runs are read and written by facecluster.naming.state, the corrections file by
facecluster.naming.corrections, the reference photos by facecluster.naming.known.
"""

import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from facecluster.naming.corrections import no_corrections
from facecluster.naming.state import NamingState
from facecluster.photos.embedders.fitted import NamingRule
from facecluster.tables import OTHERS, UNKNOWN

NUMBERED = re.compile(r"person_(\d+)")
# What such faces are called in a state written by older versions ("unknown"): no name either.
NO_PERSON = (OTHERS, "unknown")
# A name becomes a folder name: one path component, not hidden.
SAFE_NAME = re.compile(r"[^/\\\0]+")
# A move_out's `to:` for "nobody": the face goes with the faces no cluster took.
NOBODY = "nobody"


# An embedder none is fitted to: its calibrated threshold, a majority of the group's faces near
# one person's references and nothing more.
UNFITTED_NAMING = NamingRule(scale=1.0, pairs=1)


def person_number(number):
    return f"person_{number:04d}"


def highest_number(names):
    """The highest N of the person_NNNN among `names` (0 for none)."""
    return max((int(m.group(1)) for m in map(NUMBERED.fullmatch, names) if m), default=0)


class Aliases:
    """Names that became another (renamed, merged, known), {old name: its name now}: the one place
    a name is read through them."""

    def __init__(self, aliases=None):
        self.now = dict(aliases or {})

    def __contains__(self, name):
        return name in self.now

    def resolve(self, name):
        """The name `name` goes by now (a cycle, from names given back and forth, stops where it closes)."""
        seen = set()
        while name in self.now and name not in seen:
            seen.add(name)
            name = self.now[name]
        return name

    def point(self, old, new):
        """`old` is now called `new`."""
        self.now[old] = new

    def drop(self, name):
        """`name` is nobody's alias any more (a name given back)."""
        self.now.pop(name, None)

    def without(self, names):
        """{old name: its name now}, less the aliases of `names` (a name in use is nobody's alias)."""
        return {old: new for old, new in self.now.items() if old not in names}


def name_people(faces, X, clusters, *, threshold, pairs=1, known=None, previous=None, corrections=None, min_photos=1):
    """Name every face; returns (persons, state, report).

    faces: the clustered faces (facecluster.photos.faces.Face: path, face_index, photo_id); X: their raw
    embeddings; clusters: (n,) cluster ids, UNKNOWN for faces no cluster took;
    threshold: the naming distance (Euclidean); pairs: the face-reference pairs within it a
    known name needs (the embedder's NamingRule); known: KnownPeople or None;
    previous: the last run's NamingState; corrections: read_corrections' mapping; min_photos:
    the photos a group needs to become a person unless a name given to it says so (else OTHERS).
    report: {"known": {name: faces}, "kept": names carried over, "new": new names,
    "corrections": [{"correction", "honoured", "reason"}], "hidden": the names hidden}.
    """
    previous = previous or NamingState()
    keys = {(face.path, face.face_index) for face in faces}
    if not any(key in keys for key in previous.faces):
        # Another folder altogether (photos=PATH run on a new one): its people start at person_0001.
        previous = NamingState()
    naming = _Naming(faces, np.asarray(X, np.float64), clusters, threshold, pairs, previous, min_photos)
    corrections = corrections or no_corrections()
    # The order of the module's docstring, 1 to 7.
    for names in corrections["merge"]:
        naming.merge(names)
    if known is not None and len(known.names):
        naming.name_known(known)
    for old, new in corrections["rename"]:
        naming.rename(old, new)
    naming.carry_previous_names()
    naming.number_the_rest()
    for entry in corrections["move_out"]:
        naming.move_out(entry)
    for name in corrections.get("hide", []):
        naming.hide(name)
    return naming.result()


class _Naming:
    def __init__(self, faces, X, clusters, threshold, pairs, previous, min_photos):
        self.faces, self.X, self.threshold, self.pairs = faces, X, threshold, pairs
        self.min_photos = min_photos
        self.group = np.asarray(clusters, np.int64).copy()
        self.name = {}  # group id -> person name
        self.merged = set()  # groups a merge made: a correction says they are someone
        self.aliases = Aliases(previous.aliases)
        self.corrections = []
        self.known_names = set()
        self.hidden = set()
        self.key_row = {(face.path, face.face_index): row for row, face in enumerate(faces)}
        # The previous run's person of each face still here, under the name it went by at that run's end.
        self.before = [self.aliases.resolve(previous.faces.get(key)) for key in self._keys()]
        # Numbers go on after the highest the previous run gave or aliased.
        self.highest_before = highest_number(
            [*previous.faces.values(), *previous.aliases.keys(), *previous.aliases.values()]
        )

    def _keys(self):
        return [(face.path, face.face_index) for face in self.faces]

    def _groups(self):
        return sorted(set(self.group.tolist()) - {UNKNOWN})

    def _record(self, correction, honoured, reason=""):
        self.corrections.append({"correction": correction, "honoured": honoured, "reason": reason})

    def _rows_of(self, name):
        """Rows whose face the previous run gave `name` (or a name that became it)."""
        current = self._resolve(name)
        return [
            row for row, before in enumerate(self.before) if before is not None and self._resolve(before) == current
        ]

    def _resolve(self, name):
        """The name `name` goes by now, this run's renames and merges included."""
        return self.aliases.resolve(name)

    def _main_group(self, rows):
        """The group holding most of `rows` (a cluster over the unknown faces)."""
        counts = Counter(int(self.group[r]) for r in rows)
        clustered = [(n, -g) for g, n in counts.items() if g != UNKNOWN]
        return -max(clustered)[1] if clustered else None

    def _join(self, keep, other):
        """Group `other` becomes part of group `keep`."""
        if keep != other:
            self.group[self.group == other] = keep
            self.name.pop(other, None)

    def _new_group(self):
        return int(self.group.max()) + 1 if len(self.group) else 0

    def _photos_per_group(self):
        """{group: the photos its faces are in}, in one pass over the faces."""
        photos = defaultdict(set)
        for g, face in zip(self.group.tolist(), self.faces):
            photos[g].add(face.photo_id)
        return {g: len(ids) for g, ids in photos.items()}

    def _is_person(self, g, photos=None):
        """Whether group g holds faces of min_photos photos at least, or a merge made it
        (photos: _photos_per_group's, when the groups did not change since)."""
        if g in self.merged:
            return True
        photos = photos if photos is not None else self._photos_per_group()
        return photos.get(g, 0) >= self.min_photos

    def merge(self, names):
        text = f"merge {names}"
        if not isinstance(names, list) or len(names) < 2:
            self._record(text, False, "a merge lists two or more names")
            return
        names = [str(n) for n in names]
        found = {n: self._rows_of(n) for n in names}
        missing = [n for n, rows in found.items() if not rows]
        if missing:
            self._record(text, False, f"no face of {', '.join(missing)} in the previous run's names (or gone since)")
            return
        rows = [r for n in names for r in found[n]]
        target = self._main_group(rows)
        if target is None:
            target = self._new_group()
        self.group[rows] = target
        self.merged.add(target)
        first = self._resolve(names[0])
        for n in names[1:]:
            if self._resolve(n) != first:
                self.aliases.point(self._resolve(n), first)
        self._record(text, True)

    def name_known(self, known):
        distances = known.distances(self.X)
        best, distance = known.nearest(distances)
        by_person = defaultdict(list)
        for g in self._groups():
            rows = np.flatnonzero(self.group == g)
            votes = Counter(int(best[r]) for r in rows if distance[r] < self.threshold)
            if not votes:
                continue
            person, count = votes.most_common(1)[0]
            references = known.references_of(person)
            # Evidence from `pairs` face-reference pairs at least (one when one face meets one
            # reference): a lone face near one of many references is too often someone else
            # (bench/naming.py, dlib: 6.7 % of the others named with one pair, 3.6 % with two).
            close = int((distances[np.ix_(rows, references)] < self.threshold).sum())
            if 2 * count > len(rows) and close >= min(self.pairs, len(rows) * int(references.sum())):
                by_person[known.people[person]].append(g)
        for person, groups in by_person.items():
            keep = max(groups, key=lambda g: (np.sum(self.group == g), -g))
            for g in groups:
                self._join(keep, g)
            self.name[keep] = person
            self.known_names.add(person)

    def rename(self, old, new):
        text = f"rename {old} to {new}"
        if not SAFE_NAME.fullmatch(new) or new in (".", "..", *NO_PERSON) or new.startswith("."):
            self._record(text, False, f"{new!r} cannot be a folder name")
            return
        rows = self._rows_of(old)
        if not rows:
            self._record(text, False, f"no face of {old} in the previous run's names (or gone since)")
            return
        target = self._main_group(rows)
        if target is None:
            self._record(text, False, f"the faces of {old} are all unclustered now")
            return
        for g, name in list(self.name.items()):
            if name == new and g != target:
                self._join(target, g)
        self.name[target] = new
        current = self._resolve(old)
        if current != new:
            self.aliases.point(current, new)
        self.aliases.drop(new)
        self._record(text, True)

    def carry_previous_names(self):
        taken = set(self.name.values())
        photos = self._photos_per_group()
        overlaps = Counter(
            (int(self.group[row]), self._resolve(before))
            for row, before in enumerate(self.before)
            if before is not None and self.group[row] != UNKNOWN and before not in NO_PERSON
        )
        for (g, before), _ in sorted(overlaps.items(), key=lambda item: (-item[1], item[0])):
            if g in self.name:
                if before != self.name[g] and before not in taken and NUMBERED.fullmatch(before):
                    # The people once called `before` are now known by another name.
                    if before not in self.aliases:
                        self.aliases.point(before, self.name[g])
                continue
            # A number is a person's while their group holds min_photos photos; a name someone
            # gave (a correction, reference photos) stays a person's.
            if before in taken or (NUMBERED.fullmatch(before) and not self._is_person(g, photos)):
                continue
            self.name[g] = before
            taken.add(before)

    def number_the_rest(self):
        number = self._highest_number()
        photos = self._photos_per_group()
        ids, first, sizes = np.unique(self.group, return_index=True, return_counts=True)
        order = sorted(zip(-sizes, first, ids.tolist()))  # biggest first, then first seen
        for _, _, g in order:
            if g == UNKNOWN or g in self.name or not self._is_person(g, photos):
                continue
            number += 1
            self.name[g] = person_number(number)

    def move_out(self, entry):
        if not isinstance(entry, dict) or not {"photo", "face", "person"} <= set(entry):
            self._record(f"move_out {entry}", False, "a move_out entry has photo, face and person")
            return
        photo, face, person = str(entry["photo"]), entry["face"], str(entry["person"])
        to = str(entry["to"]) if entry.get("to") is not None else None
        text = f"face {face} of {photo} is not {person}" + (f", it is {to}" if to else "")
        row = self._find_face(photo, face)
        if row is None:
            self._record(text, False, f"no face {face} of photo {photo!r} in this experiment")
            return
        current = OTHERS if person in NO_PERSON else self._resolve(person)
        if self.name.get(int(self.group[row]), OTHERS) != current:
            self._record(text, True, "already elsewhere")
            return
        if to is None:
            self.group[row] = self._group_moved_to(row, current)
        elif to == NOBODY:
            self.group[row] = UNKNOWN
        else:
            holder = self._group_named(self._resolve(to))
            if holder is None:
                self._record(text, False, f"no person {to} in this run")
                return
            self.group[row] = holder
        group = int(self.group[row])
        if group != UNKNOWN and group not in self.name and self._is_person(group):
            self.name[int(self.group[row])] = person_number(self._highest_number() + 1)
        self._record(text, True)

    def _group_named(self, name):
        return next((g for g, given in self.name.items() if given == name and np.any(self.group == g)), None)

    def hide(self, name):
        text = f"hide {name}"
        current = self._resolve(name)
        if self._group_named(current) is None:
            self._record(text, False, f"no person {name} in this run")
            return
        self.hidden.add(current)
        self._record(text, True)

    def _group_moved_to(self, row, excluded):
        """Where the previous run had the face, when that was someone else (a move out sticks),
        else the nearest other group."""
        before = self._resolve(self.before[row]) if self.before[row] else None
        if before not in (None, excluded, *NO_PERSON):
            holder = next((g for g, name in self.name.items() if name == before), None)
            if holder is None:
                holder = self._new_group()
                self.name[holder] = before
            return holder
        return self._nearest_other_group(row)

    def _find_face(self, photo, face):
        if not isinstance(face, int):
            return None
        row = self.key_row.get((photo, face))
        if row is None:  # the same photo written another way (absolute, ./...)
            wanted = Path(photo).resolve()
            row = next(
                (r for (path, index), r in self.key_row.items() if index == face and Path(path).resolve() == wanted),
                None,
            )
        if row is None and "/" not in photo:  # a file name alone, as the people folders show it: if unique
            rows = [r for (path, index), r in self.key_row.items() if index == face and Path(path).name == photo]
            row = rows[0] if len(rows) == 1 else None
        return row

    def _nearest_other_group(self, row):
        """The group nearest the face (mean distance) other than its own, within the threshold and
        holding no other face of its photo; else a new group."""
        own, photo = int(self.group[row]), self.faces[row].photo_id
        best, best_distance = None, self.threshold or 0.0
        for g in self._groups():
            members = np.flatnonzero(self.group == g)
            if g == own or any(self.faces[m].photo_id == photo for m in members):
                continue
            distance = float(np.linalg.norm(self.X[members] - self.X[row], axis=1).mean())
            if distance < best_distance:
                best, best_distance = g, distance
        return best if best is not None else self._new_group()

    def _highest_number(self):
        return max(self.highest_before, highest_number(self.name.values()))

    def result(self):
        persons = [self.name.get(int(g), OTHERS) for g in self.group.tolist()]
        # A name in use is nobody's alias: a name given back (rename to an old name) wins.
        state = NamingState(dict(zip(self._keys(), persons)), self.aliases.without(set(persons)))
        previous_names = {p for p in self.before if p}
        report = {
            "known": dict(sorted(Counter(p for p in persons if p in self.known_names).items())),
            "kept": sorted(set(persons) & previous_names - {OTHERS}),
            "new": sorted(set(persons) - previous_names - {OTHERS}),
            "corrections": self.corrections,
            "hidden": sorted(self.hidden),
        }
        return persons, state, report
