"""Naming the people of a clustering: reference photos, names kept across runs, corrections.

A clustering gives anonymous groups; `name_people` turns them into the name of a person per face,
in two steps. First the automatic names, what the tool would call everyone without corrections:

1. reference photos (`known:`): a group takes a known person's name when most of its faces lie
   within the naming distance of that person's nearest reference face, that person having the most
   such faces, and at least the embedder's NamingRule.pairs face-reference pairs are that close
   (one for one face and one reference); groups that take one name become one group (a known
   person is never split);
2. the previous run's automatic names: a group keeps the name of the previous person it shares
   most faces with (each name taken once, the biggest overlaps first);
3. new people get new numbers, after the highest number the previous run gave.

These are what the state keeps (facecluster.naming.state). Then the names the user gave already,
face tags read from the photos and their sidecars (facecluster.naming.tags), with the force of a
correction:

3b. each tagged face is the tag's person, and faces tagged with one name are one person (the groups
   holding them joined, whatever the clustering said); a tagged face the clustering left out of
   every person joins the person holding its 3 nearest faces (the nearest within the naming
   distance, no other name tagged there); a group's untagged faces go with the name most of its
   tagged faces carry; a group without a tag takes a tag's name as from reference photos (step 1,
   the tagged faces the references). One name on groups lying farther apart than the naming
   distance, and two names in one group, are disputes the review pages list first.

Then the corrections file, the user's standing statement read by every run, is applied on top, in
this order:

4. merges ("person_0003 and person_0011 are one person"): one group, under the first name;
5. renames ("person_0007 is obama"): never to a name another person has (merge them instead),
   nor to one a person cannot have (facecluster.naming.names), nor of a person merged into
   another (the merge keeps the first name listed);
6. moves out ("this face is not person_0002"): the face joins the person the entry names
   (`to: person_0005`; a face set aside too: `person: others`), or nobody (`to: nobody`: the
   others), or else the nearest other group within the distance, or a group of its own;
7. people the user hid (`hide: [person_0009]`): their faces keep their person, marked hidden
   (no people folder, no review card); confirm entries change no name (the review pages read them).

A correction names people as the people folders show them: the names merges and renames give
are read through Aliases, built from this run's corrections alone, so nothing a correction did
outlives it: removing it gives back the automatic names, numbers included.

A group becomes a person (a name or number, a people folder) only when it holds faces of
at least `min_photos` photos, or when a known person's name, a merge or a correction naming its
previous name names it: in a library most faces are bystanders seen once, who are nobody's
person. Every other face is `others` (OTHERS), its cluster kept in assignments.tsv, so that
someone seen again in later photos becomes a person then. Numbers go to persons only.
"""

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from facecluster.naming.corrections import no_corrections
from facecluster.naming.names import NUMBERED, name_problem
from facecluster.naming.state import NamingState
from facecluster.photos.embedders.fitted import NamingRule
from facecluster.tables import OTHERS, UNKNOWN

# What such faces are called in a state written by older versions ("unknown"): no name either.
NO_PERSON = (OTHERS, "unknown")
# A move_out's `to:` for "nobody": the face goes with the faces no cluster took.
NOBODY = "nobody"
# A tagged face left out of every person joins the person holding this many of its nearest faces.
LONE_TAG_FACES = 3


# An embedder none is fitted to: its calibrated threshold, a majority of the group's faces near
# one person's references and nothing more.
UNFITTED_NAMING = NamingRule(scale=1.0, pairs=1)


def count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def person_number(number):
    return f"person_{number:04d}"


def highest_number(names):
    """The highest N of the person_NNNN among `names` (0 for none)."""
    return max((int(m.group(1)) for m in map(NUMBERED.fullmatch, names) if m), default=0)


class Aliases:
    """Names that became another this run (merged, renamed), {old name: its name now}: the one place
    a name is read through them."""

    def __init__(self, aliases=None):
        self.now = dict(aliases or {})

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


def mentioned_names(corrections):
    """Every name a corrections mapping (read_corrections') names."""
    names = {name for pair in corrections["rename"] for name in pair}
    names.update(name for names in corrections["merge"] for name in names)
    names.update(corrections["hide"])
    for entry in [*corrections["move_out"], *corrections.get("confirm", [])]:
        if isinstance(entry, dict):
            names.update(str(entry[key]) for key in ("person", "to") if entry.get(key) is not None)
    return names


def name_people(
    faces, X, clusters, *, threshold, pairs=1, known=None, previous=None, corrections=None, min_photos=1, tags=None
):
    """Name every face; returns (persons, state, report).

    faces: the experiment's faces (facecluster.photos.faces.Face: path, face_index, photo_id), the
    set-aside ones included; X: their raw embeddings; clusters: (n,) cluster ids, UNKNOWN for faces
    no cluster took (and those set aside); threshold: the naming distance (Euclidean); pairs: the
    face-reference pairs within it a known name needs (the embedder's NamingRule); known:
    KnownPeople or None; previous: the last run's NamingState; corrections: read_corrections'
    mapping; min_photos: the photos a group needs to become a person unless a name given to it
    says so (else OTHERS); tags: {row: name} of the faces the user tagged (facecluster.naming.tags).
    state: each face's automatic name (before the tags and corrections), what the next run carries on.
    report: {"known": {name: faces}, "kept": automatic names carried over, "new": new ones,
    "corrections": [{"correction", "honoured", "reason"}], "hidden": the names hidden, and with
    tags, "tags": {"named": {name: faces}, "disputes": [{"kind", "names", "text"}]}}.
    """
    previous = previous or NamingState()
    keys = {(face.path, face.face_index) for face in faces}
    if not any(key in keys for key in previous.faces):
        # Another folder altogether: its people start at person_0001.
        previous = NamingState()
    corrections = {**no_corrections(), **(corrections or {})}
    naming = _Naming(faces, np.asarray(X, np.float64), clusters, threshold, pairs, previous, min_photos)
    # The order of the module's docstring, 1 to 7.
    if known is not None and len(known.names):
        naming.name_known(known)
    naming.carry_previous_names(mentioned_names(corrections))
    naming.number_the_rest()
    automatic = naming.persons()
    tag_report = naming.apply_tags(tags) if tags else None
    # Merges come first, so a name a rename gives stands for the person that rename names.
    renamed_from = {new: old for old, new in corrections["rename"]}
    for names in corrections["merge"]:
        naming.merge(names, renamed_from)
    for old, new in corrections["rename"]:
        naming.rename(old, new)
    for entry in corrections["move_out"]:
        naming.move_out(entry)
    for name in corrections["hide"]:
        naming.hide(name)
    persons, state, report = naming.result(automatic)
    if tag_report is not None:
        names = tag_report.pop("names")
        tag_report["named"] = dict(sorted(Counter(p for p in persons if p in names).items()))
        report["tags"] = tag_report
    return persons, state, report


class _Naming:
    def __init__(self, faces, X, clusters, threshold, pairs, previous, min_photos):
        self.faces, self.X, self.threshold, self.pairs = faces, X, threshold, pairs
        self.min_photos = min_photos
        self.group = np.asarray(clusters, np.int64).copy()
        self.name = {}  # group id -> person name
        self.merged = set()  # groups a merge made: a correction says they are someone
        self.merged_away = set()  # names a merge put under another's
        self.aliases = Aliases()
        self.corrections = []
        self.known_names = set()
        self.hidden = set()
        self.key_row = {(face.path, face.face_index): row for row, face in enumerate(faces)}
        # The previous run's automatic name of each face still here.
        self.before = [previous.faces.get(key) for key in self._keys()]
        # Numbers go on after the highest the previous run gave.
        self.highest_before = highest_number(previous.faces.values())

    def _keys(self):
        return [(face.path, face.face_index) for face in self.faces]

    def _groups(self):
        return sorted(set(self.group.tolist()) - {UNKNOWN})

    def _record(self, correction, honoured, reason=""):
        self.corrections.append({"correction": correction, "honoured": honoured, "reason": reason})

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

    def persons(self):
        """Each face's person now."""
        return [self.name.get(int(g), OTHERS) for g in self.group.tolist()]

    def name_known(self, known):
        for person, groups in self._near_references(known, self._groups()).items():
            keep = max(groups, key=lambda g: (np.sum(self.group == g), -g))
            for g in groups:
                self._join(keep, g)
            self.name[keep] = person
            self.known_names.add(person)

    def _near_references(self, known, groups):
        """{name: the groups among `groups` whose faces lie near that person's references} (KnownPeople:
        the rule of step 1)."""
        distances = known.distances(self.X)
        best, distance = known.nearest(distances)
        by_person = defaultdict(list)
        for g in groups:
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
        return by_person

    def apply_tags(self, tags):
        """Step 3b: {row: name} of the tagged faces; returns {"disputes": [...], "names": the tags' names}."""
        from facecluster.naming.known import KnownPeople

        self._place_lone_tagged(tags)
        disputes = []
        rows_of = defaultdict(list)
        for row, name in sorted(tags.items()):
            rows_of[name].append(row)
        # The name of each group holding tagged faces: the one most of them carry.
        counts = defaultdict(Counter)
        for row, name in tags.items():
            if self.group[row] != UNKNOWN:
                counts[int(self.group[row])][name] += 1
        owner = {}
        for g, names in sorted(counts.items()):
            ranked = sorted(names.items(), key=lambda item: (-item[1], item[0]))
            owner[g] = ranked[0][0]
            if len(ranked) > 1:
                shown = ", ".join(f"{name} ({count(n, 'face')})" for name, n in ranked)
                disputes.append(
                    {
                        "kind": "two_names",
                        "names": [name for name, _ in ranked],
                        "text": f"One cluster ({self.name.get(g, OTHERS)}) holds faces tagged {shown}: "
                        f"each tagged face follows its tag, the cluster's other faces {ranked[0][0]}",
                    }
                )
        tagged_groups = set(owner)
        for name, rows in sorted(rows_of.items(), key=lambda item: (-len(item[1]), item[0])):
            groups = sorted((g for g, n in owner.items() if n == name), key=lambda g: -counts[g][name])
            far = self._far_apart(name, groups, rows)
            if far:
                disputes.append(far)
            holder = self._group_named(name)  # a known person of that name, say
            if holder is not None and owner.get(holder, name) != name:
                holder = None
            keep = groups[0] if groups else holder if holder is not None else self._new_group()
            for g in [*groups[1:], *([holder] if holder is not None else [])]:
                self._join(keep, g)
            for row in rows:
                self.group[row] = keep
            self.name[keep] = name
            self.merged.add(keep)  # a person whatever their photos: the user named them
        # Groups without a tag: named as by reference photos, the tagged faces the references.
        references = KnownPeople([tags[r] for r in sorted(tags)], self.X[sorted(tags)])
        if self.threshold is not None:
            untagged = [
                g for g in self._groups() if g not in tagged_groups and self.name.get(g) not in self.known_names
            ]
            for name, groups in self._near_references(references, untagged).items():
                keep = self._group_named(name)
                for g in groups:
                    self._join(keep, g)
        return {"disputes": disputes, "names": set(tags.values())}

    def _place_lone_tagged(self, tags):
        """Each tagged face the clustering left out of every person (and did not set aside) joins the
        person holding its LONE_TAG_FACES nearest faces, when the nearest lies within the naming
        distance, the person holds no face of its photo and no face tagged with another name: the tag
        says who it is, its neighbours where that person's faces are (a tag on a blurred or turned
        face the cut left alone)."""
        if self.threshold is None:
            return
        photos = self._photos_per_group()
        photo_ids = np.array([face.photo_id for face in self.faces])
        for row in sorted(tags):
            g = int(self.group[row])
            if g == UNKNOWN or self._is_person(g, photos):
                continue
            distances = np.linalg.norm(self.X - self.X[row], axis=1)
            distances[row] = np.inf
            nearest = np.argsort(distances, kind="stable")[:LONE_TAG_FACES]
            target = int(self.group[nearest[0]])
            if (
                target != UNKNOWN
                and self._is_person(target, photos)
                and distances[nearest[0]] < self.threshold
                and (self.group[nearest] == target).all()
                and not np.any((self.group == target) & (photo_ids == photo_ids[row]))
                and all(name == tags[row] for other, name in tags.items() if self.group[other] == target)
            ):
                self.group[row] = target

    def _far_apart(self, name, groups, rows):
        """The dispute of a name whose tagged faces lie in groups farther apart (mean distance between
        their tagged faces) than the naming distance, or None."""
        if len(groups) < 2 or self.threshold is None:
            return None
        by_group = [[r for r in rows if self.group[r] == g] for g in groups]
        worst = 0.0
        for i in range(len(by_group)):
            for j in range(i + 1, len(by_group)):
                a, b = self.X[by_group[i]], self.X[by_group[j]]
                worst = max(worst, float(np.linalg.norm(a[:, None] - b[None], axis=2).mean()))
        if worst <= self.threshold:
            return None
        clusters = ", ".join(self.name.get(g, OTHERS) for g in groups)
        return {
            "kind": "one_name",
            "names": [name],
            "text": f"The faces tagged {name} lie in clusters that look like different people ({clusters}; "
            f"mean distance {worst:.2f}, over the naming distance {self.threshold:.2f}): joined as the tags say",
        }

    def carry_previous_names(self, mentioned):
        """Each group keeps the previous automatic name it shares most faces with; a number only while
        its group holds min_photos photos, or while a correction names it (`mentioned`)."""
        taken = set(self.name.values())
        photos = self._photos_per_group()
        overlaps = Counter(
            (int(self.group[row]), before)
            for row, before in enumerate(self.before)
            if before is not None and self.group[row] != UNKNOWN and before not in NO_PERSON
        )
        for (g, before), _ in sorted(overlaps.items(), key=lambda item: (-item[1], item[0])):
            if g in self.name or before in taken:
                continue
            if NUMBERED.fullmatch(before) and before not in mentioned and not self._is_person(g, photos):
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

    def merge(self, names, renamed_from=None):
        """One group of the persons `names` names, under the first; renamed_from: {name a rename of the
        same corrections gives: the name it renames}, for names no person holds yet."""
        text = f"merge {names}"
        renamed_from = renamed_from or {}
        current = []
        for name in map(str, names):
            now = self.aliases.resolve(name)
            if self._group_named(now) is None and name in renamed_from:
                now = self.aliases.resolve(renamed_from[name])
            current.append(now)
        groups = {name: self._group_named(name) for name in current}
        missing = [str(n) for n, name in zip(names, current) if groups[name] is None]
        if missing:
            self._record(text, False, f"no person {', '.join(missing)} in this run")
            return
        keep, first = groups[current[0]], current[0]
        for name in current[1:]:
            if name != first:
                self._join(keep, groups[name])
                self.aliases.point(name, first)
                self.merged_away.add(name)
        self.merged.add(keep)
        self._record(text, True)

    def rename(self, old, new):
        text = f"rename {old} to {new}"
        problem = name_problem(new)
        if problem:
            self._record(text, False, problem)
            return
        if self.aliases.resolve(old) != old and self._merged_away(old):
            # The merge keeps the first name listed; only a rename of that one renames the person.
            self._record(text, False, f"{old} was merged into another person; rename that person")
            return
        current = self.aliases.resolve(old)
        target = self._group_named(current)
        if target is None:
            self._record(text, False, f"no person {old} in this run")
            return
        holder = self._group_named(new)
        if holder is not None and holder != target:
            self._record(text, False, f"{new} is another person's name; to make them one person, merge {old} and {new}")
            return
        self.name[target] = new
        if current != new:
            self.aliases.point(current, new)
        self.aliases.drop(new)
        self._record(text, True)

    def _merged_away(self, name):
        """Whether `name`, or a name it became, was put under another's by a merge."""
        seen = set()
        while name not in seen:
            if name in self.merged_away:
                return True
            seen.add(name)
            if name not in self.aliases.now:
                return False
            name = self.aliases.now[name]
        return False

    def move_out(self, entry):
        photo, face, person = str(entry["photo"]), entry["face"], str(entry["person"])
        to = str(entry["to"]) if entry.get("to") is not None else None
        text = f"face {face} of {photo} is not {person}" + (f", it is {to}" if to else "")
        row = self._find_face(photo, face)
        if row is None:
            self._record(text, False, f"no face {face} of photo {photo!r} in this experiment")
            return
        current = OTHERS if person in NO_PERSON else self.aliases.resolve(person)
        if self.name.get(int(self.group[row]), OTHERS) != current:
            self._record(text, True, "already elsewhere")
            return
        if to is None:
            self.group[row] = self._nearest_other_group(row)
        elif to == NOBODY:
            self.group[row] = UNKNOWN
        else:
            holder = self._group_named(self.aliases.resolve(to))
            if holder is None:
                self._record(text, False, f"no person {to} in this run")
                return
            self.group[row] = holder
        group = int(self.group[row])
        if group != UNKNOWN and group not in self.name and self._is_person(group):
            self.name[group] = person_number(self._highest_number() + 1)
        self._record(text, True)

    def _group_named(self, name):
        return next((g for g, given in self.name.items() if given == name and np.any(self.group == g)), None)

    def hide(self, name):
        text = f"hide {name}"
        current = self.aliases.resolve(name)
        if self._group_named(current) is None:
            self._record(text, False, f"no person {name} in this run")
            return
        self.hidden.add(current)
        self._record(text, True)

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

    def result(self, automatic):
        """(persons, state, report) of name_people; `automatic`: each face's name before the corrections."""
        persons = self.persons()
        state = NamingState(dict(zip(self._keys(), automatic)))
        previous_names = {p for p in self.before if p}
        report = {
            "known": dict(sorted(Counter(p for p in persons if p in self.known_names).items())),
            "kept": sorted(set(automatic) & previous_names - {OTHERS}),
            "new": sorted(set(automatic) - previous_names - {OTHERS}),
            "corrections": self.corrections,
            "hidden": sorted(self.hidden),
        }
        return persons, state, report
