"""XMP sidecars: the people found, as face regions photo managers read (digiKam, Lightroom, Immich).

One sidecar per photo with a face of a person (named, or numbered as person_NNNN), written
as the Metadata Working Group's regions (MWG 2.0, mwg-rs): a region of Type Face per face,
its Name the person's, its Area the box's centre, width and height as fractions of the photo
(stArea:unit normalized), and AppliedToDimensions the photo's size in pixels. Boxes are those
of the photo as displayed, its EXIF orientation applied: what the per-photo stage stores, and
what AppliedToDimensions gives (the displayed width and height), as digiKam writes them.

Sidecars mirror the photo folder: the photo `trips/2019/a.jpg` gets `trips/2019/a.jpg.xmp`
under the output folder, never beside the photo (docs/xmp.md: how to put them there).
"""

import csv
import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from facecluster.naming.persons import NO_PERSON
from facecluster.outputs.assignments import read_assignments
from facecluster.photos.faces import record_path
from facecluster.photos.tags import OURS
from facecluster.tables import tsv_writer

NAMESPACES = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
}
for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)
# Faces told to no photo manager: nobody's, and the faces of non-persons (bystanders).
NOT_A_PERSON = set(NO_PERSON)
DIGITS = 6


def _q(name):
    prefix, local = name.split(":")
    return f"{{{NAMESPACES[prefix]}}}{local}"


# Under the sidecars' folder: a line per sidecar (photo_id, sidecar: its path in the folder, regions:
# its faces' names and boxes as JSON), and the same kept hidden as what the sidecars hold, which the
# next run compares with the assignments to rewrite only the sidecars that change (Snakemake deletes
# the index before the job).
INDEX = "sidecars.tsv"
SHOWN = ".shown.tsv"


def refresh_sidecars(assignments_path, listing_path, out_dir):
    """Bring the sidecars under out_dir up to date with an experiment's assignments.tsv: only those
    whose faces, names or path changed since they were last written are rewritten, and those of
    photos with no person's face any more removed (all are written when no record is kept). Writes
    INDEX; returns {"photos": sidecars, "regions": faces in them, "written": sidecars written}."""
    rows = read_assignments(assignments_path)
    now = told_regions(rows, listed_paths(listing_path))
    out_dir = Path(out_dir)
    shown = _read_index(out_dir / SHOWN)
    if shown is None:
        shutil.rmtree(out_dir, ignore_errors=True)
        shown = {}
    changed = {photo_id for photo_id, told in now.items() if shown.get(photo_id) != told}
    for photo_id, (sidecar_path, _) in shown.items():
        if photo_id not in now or now[photo_id][0] != sidecar_path:
            (out_dir / sidecar_path).unlink(missing_ok=True)
    write_sidecars(assignments_path, listing_path, out_dir, changed, rows=rows)
    record_sidecars(out_dir, now)
    return {"photos": len(now), "regions": sum(len(json.loads(r)) for _, r in now.values()), "written": len(changed)}


def told_regions(rows, relpaths):
    """{photo_id: (its sidecar's path in the folder, its regions as JSON)} of the photos with a face
    told (is_told), from assignments' rows and the listing's {photo_id: relpath}."""
    regions = defaultdict(list)
    for face in rows:
        if is_told(face):
            regions[face.photo_id].append([face.person, face.left, face.top, face.right, face.bottom])
    return {
        photo_id: (f"{relpaths[photo_id]}.xmp", json.dumps(told, ensure_ascii=False))
        for photo_id, told in regions.items()
    }


def record_sidecars(out_dir, told):
    """Write INDEX and SHOWN: what the sidecars under out_dir hold now (told_regions). Call it once
    every sidecar is written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (SHOWN, INDEX):
        temporary = out_dir / f".{name}.tmp"
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = tsv_writer(handle)
            writer.writerow(["photo_id", "sidecar", "regions"])
            writer.writerows([photo_id, *told[photo_id]] for photo_id in sorted(told))
        os.replace(temporary, out_dir / name)


def _read_index(path):
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["photo_id"]: (row["sidecar"], row["regions"]) for row in csv.DictReader(handle, delimiter="\t")}


def listed_paths(listing_path):
    """{photo_id: its path in the folder} of a dataset's listing (photos.tsv)."""
    with open(listing_path, newline="", encoding="utf-8") as handle:
        return {row["id"]: row["relpath"] for row in csv.DictReader(handle, delimiter="\t")}


def write_sidecars(assignments_path, listing_path, out_dir, photos=None, *, rows=None, sizes=None):
    """A sidecar per photo with a person's face, from an experiment's assignments.tsv and its
    dataset's listing (photos.tsv: each photo's path inside the folder); returns
    {"photos": sidecars written, "regions": faces in them}.

    photos: the photo ids whose sidecars to rewrite (None: all); one of them left with no
    person's face loses its sidecar. rows: assignments.tsv's rows when the caller holds them (the
    file is not read then); sizes: {photo_id: (width, height)} known, filled with those read."""
    relpaths = listed_paths(listing_path)
    rows = read_assignments(assignments_path) if rows is None else rows
    sizes = {} if sizes is None else sizes
    faces = [face for face in rows if is_told(face)]
    by_photo = defaultdict(list)
    for face in faces:
        if photos is None or face.photo_id in photos:
            by_photo[face.photo_id].append(face)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for photo_id in set(photos or ()) - set(by_photo):
        (out_dir / f"{relpaths[photo_id]}.xmp").unlink(missing_ok=True)
    for photo_id, photo_faces in by_photo.items():
        if photo_id not in sizes:
            sizes[photo_id] = json.loads(record_path(photo_faces[0]).read_text())["image_size"]
        width, height = sizes[photo_id]
        regions = [(face.person, [face.left, face.top, face.right, face.bottom]) for face in photo_faces]
        path = out_dir / f"{relpaths[photo_id]}.xmp"
        path.parent.mkdir(parents=True, exist_ok=True)
        document = sidecar(width, height, regions)
        ET.indent(document)
        text = ET.tostring(document, encoding="unicode")
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{text}\n', encoding="utf-8")
        os.replace(temporary, path)
    return {"photos": len(by_photo), "regions": sum(len(f) for f in by_photo.values())}


def is_told(face):
    """Whether a face of assignments.tsv goes into the sidecars: a person's, neither set aside as too
    poor nor of a person a correction hid."""
    return face.person not in NOT_A_PERSON and not face.set_aside and not face.hidden


def area(box, width, height):
    """{x, y, w, h}: a (left, top, right, bottom) box in pixels as MWG normalises it (x, y its
    centre), clipped to the photo (a detector's box may reach past an edge)."""
    left, top = max(box[0], 0.0), max(box[1], 0.0)
    right, bottom = min(box[2], width), min(box[3], height)
    return {
        "x": round((left + right) / 2 / width, DIGITS),
        "y": round((top + bottom) / 2 / height, DIGITS),
        "w": round((right - left) / width, DIGITS),
        "h": round((bottom - top) / height, DIGITS),
    }


def sidecar(width, height, regions):
    """The XMP document (an Element) of a photo of width x height pixels and its
    (name, (left, top, right, bottom)) regions."""
    meta = ET.Element(_q("x:xmpmeta"))
    description = ET.SubElement(ET.SubElement(meta, _q("rdf:RDF")), _q("rdf:Description"), {_q("rdf:about"): ""})
    info = ET.SubElement(description, _q("mwg-rs:Regions"), {_q("rdf:parseType"): "Resource"})
    dimensions = {_q("stDim:w"): str(width), _q("stDim:h"): str(height), _q("stDim:unit"): "pixel"}
    ET.SubElement(info, _q("mwg-rs:AppliedToDimensions"), dimensions)
    bag = ET.SubElement(ET.SubElement(info, _q("mwg-rs:RegionList")), _q("rdf:Bag"))
    for name, box in regions:
        region = ET.SubElement(
            ET.SubElement(bag, _q("rdf:li")),
            _q("rdf:Description"),
            # Marked as facecluster's: never read back as the user's tag (facecluster.photos.tags).
            {_q("mwg-rs:Name"): name, _q("mwg-rs:Type"): "Face", _q("mwg-rs:Description"): OURS},
        )
        attributes = {_q(f"stArea:{key}"): str(value) for key, value in area(box, width, height).items()}
        ET.SubElement(region, _q("mwg-rs:Area"), {**attributes, _q("stArea:unit"): "normalized"})
    return meta
