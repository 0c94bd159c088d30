"""The user's face tags (facecluster.photos.tags) put on the experiment's detected faces.

A tagged region and a detected face are one face when most of the smaller of the two lies inside
the other (their intersection is at least MIN_OVERLAP of the smaller's area) and neither is more
than MAX_SIZE_RATIO times the other's area; each region takes one face and each face one region of
a document, the pairs of largest intersection over union first.

Why not intersection over union >= 0.5: people draw a head, not the detector's box. A region drawn
around the head in digiKam or Lightroom takes in hair, ears and chin, 1.2 to 1.7 times the face
box's width and height, its centre above the box's: its union with the box is 1.6 to 2.6 times the
box, so that their IoU is 0.4 to 0.6 with the face wholly inside (tests/unit/test_tag_matching.py
measures it on YuNet's boxes). The overlap of the smaller one is 1 there, and falls to 0.3 or
less for the neighbour's face in a group photo; the size ratio keeps a big region off a small face
behind it.

What the names do (facecluster.naming.persons, step 3b): each tagged face is the tag's person, faces
with one tag are one person, the untagged faces of a cluster go with the tag most of its tagged
faces carry, and a cluster without a tag takes the name its faces lie near as with `known:`.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field

from facecluster.naming.names import name_problem
from facecluster.photos.faces import record_path
from facecluster.photos.tags import is_picasa_ini
from facecluster.tables import tsv_writer

MIN_OVERLAP = 0.5
MAX_SIZE_RATIO = 6.0
# Which of several tags of one face is the face's: the sidecars (the later edits) before the photo's
# own XMP, digiKam's name before Lightroom's, Picasa's file (a program long retired) last; MWG before
# Microsoft's, boxes before IPTC's names.
FORMAT_ORDER = {"mwg": 0, "mp": 1, "iptc": 2, "picasa": 3}

USED = "used"


def box_overlap(a, b):
    """(intersection over union, intersection over the smaller area, larger area over smaller) of two
    (left, top, right, bottom) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0.0) * max(height, 0.0)
    area_a = max(a[2] - a[0], 0.0) * max(a[3] - a[1], 0.0)
    area_b = max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0)
    small, large = sorted((area_a, area_b))
    if small <= 0:
        return 0.0, 0.0, float("inf")
    return inter / (area_a + area_b - inter), inter / small, large / small


def is_match(face_box, region_box):
    """Whether a detected face and a tagged region are one face (the module's rule)."""
    _, covered, ratio = box_overlap(face_box, region_box)
    return covered >= MIN_OVERLAP and ratio <= MAX_SIZE_RATIO


def match_regions(face_boxes, region_boxes):
    """[(face index, region index)]: each region onto at most one face and each face at most one
    region, the pairs that are one face (is_match) of largest IoU first. Boxes: (left, top, right,
    bottom) in one frame (pixels of the photo as displayed)."""
    pairs = []
    for i, face in enumerate(face_boxes):
        for j, region in enumerate(region_boxes):
            iou, covered, ratio = box_overlap(face, region)
            if covered >= MIN_OVERLAP and ratio <= MAX_SIZE_RATIO:
                pairs.append((-iou, i, j))
    taken_faces, taken_regions, matched = set(), set(), []
    for _, i, j in sorted(pairs):
        if i not in taken_faces and j not in taken_regions:
            taken_faces.add(i)
            taken_regions.add(j)
            matched.append((i, j))
    return matched


@dataclass
class FaceTags:
    """The tags put on an experiment's faces.

    names: {row in the experiment's faces: the tag's name}; rows: one dict per TagRow read for the
    experiment's photos, with its face_index ("" for none) and status ("used", or why not);
    disputes: faces tagged with two names ({"kind": "face", ...})."""

    names: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    disputes: list = field(default_factory=list)

    def counts(self):
        """{"read": names read, "used": put on a face, "problems": rows not read or not a name}."""
        named = [row for row in self.rows if row["name"] and not row["problem"]]
        return {
            "read": len(named),
            "used": sum(1 for row in named if row["status"] == USED),
            "problems": sum(1 for row in self.rows if row["problem"]),
        }


def tag_faces(faces, tag_rows, image_size):
    """FaceTags of the experiment's faces (Face-like: photo_id, path, face_index, left, top, right,
    bottom in pixels of the photo as displayed) from a dataset's TagRows; image_size(face): the
    (width, height) of the face's photo as displayed (its per-photo record's)."""
    by_photo = defaultdict(list)
    for row, face in enumerate(faces):
        by_photo[face.photo_id].append(row)
    tags = FaceTags()
    rows_by_photo = defaultdict(list)
    for tag in tag_rows:
        rows_by_photo[tag.photo_id].append(tag)
    for photo_id, tags_of_photo in rows_by_photo.items():
        _tag_photo(tags, faces, by_photo.get(photo_id, []), tags_of_photo, image_size)
    return tags


def _tag_photo(tags, faces, face_rows, tag_rows, image_size):
    statuses = {}
    candidates = defaultdict(list)  # face row -> [(precedence, tag index)]
    sources = list(dict.fromkeys(tag.source for tag in tag_rows))
    # Sidecars first (as listed: photo.jpg.xmp, then photo.xmp), then the photo's own XMP, then Picasa's.
    source_rank = {s: (2 if is_picasa_ini(s) else s == "embedded", i) for i, s in enumerate(sources)}
    usable = []
    for index, tag in enumerate(tag_rows):
        if tag.problem:
            statuses[index] = f"not read: {tag.problem}"
        elif name_problem(tag.name):
            statuses[index] = f"not a name a person can have: {name_problem(tag.name)}"
        elif not face_rows:
            statuses[index] = "no face of this photo in the experiment (none found, or not sampled)"
        else:
            usable.append(index)
    if face_rows:
        width, height = image_size(faces[face_rows[0]])
        boxes = [(f.left, f.top, f.right, f.bottom) for f in (faces[r] for r in face_rows)]
        groups = defaultdict(list)
        for index in usable:
            if tag_rows[index].has_box:
                groups[(tag_rows[index].source, tag_rows[index].format)].append(index)
        for (source, tag_format), indices in groups.items():
            regions = [_pixels(tag_rows[i], width, height) for i in indices]
            matched = dict((j, i) for i, j in match_regions(boxes, regions))
            for j, index in enumerate(indices):
                if j in matched:
                    precedence = (source_rank[source], FORMAT_ORDER[tag_format])
                    candidates[face_rows[matched[j]]].append((precedence, index))
                else:
                    statuses[index] = "no detected face under the region"
        names_only = [i for i in usable if not tag_rows[i].has_box]
        for index in names_only:
            if len(face_rows) == 1:
                candidates[face_rows[0]].append(((source_rank[tag_rows[index].source], 2), index))
            else:
                statuses[index] = f"hint: a name without a box, in a photo of {len(face_rows)} faces"
    for row, found in candidates.items():
        found.sort()
        chosen = tag_rows[found[0][1]]
        tags.names[row] = chosen.name
        statuses[found[0][1]] = USED
        for _, index in found[1:]:
            other = tag_rows[index]
            if other.name == chosen.name:
                statuses[index] = USED
            else:
                statuses[index] = f"disputed: the face is {chosen.name!r} in {chosen.source}"
                tags.disputes.append(
                    {
                        "kind": "face",
                        "photo": faces[row].path,
                        "face": faces[row].face_index,
                        "names": [chosen.name, other.name],
                        "text": f"Face {faces[row].face_index} of {faces[row].path} is tagged {chosen.name!r} "
                        f"in {chosen.source} and {other.name!r} in {other.source}: {chosen.name!r} taken",
                    }
                )
    row_of = {index: row for row, found in candidates.items() for _, index in found}
    for index, tag in enumerate(tag_rows):
        row = row_of.get(index)
        tags.rows.append(
            {
                "photo": faces[face_rows[0]].path if face_rows else tag.relpath,
                "source": tag.source,
                "format": tag.format,
                "name": tag.name,
                "row": row,
                "face": "" if row is None else faces[row].face_index,
                "status": statuses.get(index, ""),
                "problem": tag.problem,
            }
        )


def image_size_of():
    """image_size(face) for tag_faces: the (width, height) of the face's photo as displayed, from its
    per-photo record (read once a photo)."""
    sizes = {}

    def image_size(face):
        if face.photo_id not in sizes:
            sizes[face.photo_id] = tuple(json.loads(record_path(face).read_text())["image_size"])
        return sizes[face.photo_id]

    return image_size


TABLE_COLUMNS = ("photo", "source", "format", "name", "face", "person", "status")


def write_face_tags(path, face_tags, persons=None):
    """The experiment's tags.tsv: every name read for its photos, where from, the face it went on
    (face_index), that face's person now, and what became of it (status). persons: each face's person."""
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = tsv_writer(handle)
        writer.writerow(TABLE_COLUMNS)
        for row in face_tags.rows:
            person = persons[row["row"]] if persons is not None and row["row"] is not None else ""
            writer.writerow([*(row[key] for key in TABLE_COLUMNS[:5]), person, row["status"]])


def _pixels(tag, width, height):
    return (tag.left * width, tag.top * height, tag.right * width, tag.bottom * height)
