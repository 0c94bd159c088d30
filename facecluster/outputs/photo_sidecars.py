"""The names put into the sidecars next to the photos, every other tag kept (`facecluster xmp write
EXPERIMENT --into-sidecars`, docs/xmp.md).

For each photo of the experiment, its sidecar `photo.jpg.xmp` (digiKam's name; `photo.xmp`,
Lightroom's, with lightroom_names) gets one MWG face region per face of a person shown
(facecluster.outputs.xmp.is_told), marked as facecluster's (mwg-rs:Description "facecluster"):

- facecluster's regions already there are replaced; every other region is kept (the user's faces,
  drawn by hand or by another program, pets, focus areas), and a face the user's own region already
  covers (facecluster.naming.tags's rule) gets none of facecluster's;
- every other property of the file is kept (ratings, keywords, labels, develop settings, unknown
  namespaces): the document is parsed (defusedxml) and written back as a tree, the regions alone
  changed. The XML is laid out anew (indentation, quotes), its content kept;
- a sidecar is created where there is none, and only where there is a region to write;
- a sidecar changed is first copied beside it (`photo.jpg.xmp.bak`, once: a backup made before is
  kept, the user's own file as it was), then replaced through a temporary file renamed over it;
- the photos themselves are never opened for writing; a sidecar the run would leave as it is is not
  written (a second run changes nothing).

A new region is in the MWG's frame, the stored photo's (AppliedToDimensions: its stored size), as
the guidelines say and as Immich and digiKam read them; in an existing RegionInfo, in the frame its
AppliedToDimensions shows (facecluster.photos.tags.displayed_box reads both).
"""

import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from facecluster.naming.tags import match_regions
from facecluster.outputs.assignments import read_assignments
from facecluster.outputs.xmp import is_told
from facecluster.photos.faces import record_path
from facecluster.photos.tags import (
    MAX_SIDECAR_BYTES,
    OURS,
    Header,
    descriptions,
    displayed_box,
    parse_xmp,
    photo_header,
    q,
    regions_in,
    stored_box,
)
from facecluster.photos.tags import (
    field as rdf_field,
)

X_NS = "adobe:ns:meta/"
PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
PACKET_END = '<?xpacket end="w"?>'
BACKUP_SUFFIX = ".bak"
DIGITS = 6


@dataclass
class SidecarChange:
    """What writing one photo's sidecar does: action "create", "update", "unchanged" or "skipped"."""

    sidecar: Path
    action: str
    written: list = field(default_factory=list)  # the names of facecluster's regions now in it
    removed: int = 0  # facecluster's regions replaced or removed
    notes: list = field(default_factory=list)
    content: bytes | None = None  # what the sidecar would hold

    def describe(self):
        names = ", ".join(self.written) or "none"
        text = f"{self.action:<9} {self.sidecar}: facecluster's regions {names}"
        if self.removed:
            text += f" ({self.removed} before)"
        return "\n".join([text, *(f"          {note}" for note in self.notes)])


def sidecar_path(photo, lightroom_names=False):
    """The sidecar of a photo: `a.jpg.xmp`, or with lightroom_names `a.xmp`."""
    photo = Path(photo)
    return photo.with_suffix(".xmp") if lightroom_names else photo.with_name(photo.name + ".xmp")


def plan_sidecars(assignments_path, lightroom_names=False):
    """[SidecarChange] of every photo of an experiment (its assignments.tsv), nothing written."""
    by_photo = defaultdict(list)
    for face in read_assignments(assignments_path):
        by_photo[face.path].append(face)
    return [_change(photo, faces, lightroom_names) for photo, faces in sorted(by_photo.items())]


def write_into_sidecars(assignments_path, *, lightroom_names=False, dry_run=False):
    """Put an experiment's names into the sidecars next to its photos (the module's docstring);
    returns the SidecarChanges (written unless dry_run)."""
    changes = plan_sidecars(assignments_path, lightroom_names)
    if not dry_run:
        for change in changes:
            if change.action in ("create", "update"):
                _write(change)
    return changes


def _write(change):
    path = change.sidecar
    if path.suffix.lower() != ".xmp":  # never anything but a sidecar
        raise ValueError(f"not a sidecar: {path}")
    if path.exists():
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        if not backup.exists():
            shutil.copy2(path, backup)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(change.content)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _change(photo, faces, lightroom_names):
    path = sidecar_path(photo, lightroom_names)
    told = [face for face in faces if is_told(face)]
    header = photo_header(photo)
    namespaces = {}
    if path.exists():
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            return SidecarChange(path, "skipped", notes=[f"too large to be read ({size} bytes)"])
        before = path.read_bytes()
        root, problem = parse_xmp(before, namespaces)
        if root is None:
            return SidecarChange(path, "skipped", notes=[f"not changed: {problem}"])
    else:
        before, root = None, None
        if not told:
            return SidecarChange(path, "unchanged")
    document = _Document(root)
    removed = document.remove_ours()
    display_size = tuple(json.loads(record_path(faces[0]).read_text())["image_size"])
    header = header if header.size is not None else Header(display_size, 1, None)
    kept, notes = _covered_by_the_users(told, document, header, display_size)
    to_write = [face for face in told if face not in kept]
    if to_write:
        document.add_regions(to_write, header, display_size)
    if before is None and not to_write:
        return SidecarChange(path, "unchanged", notes=notes)
    content = document.serialise(namespaces)
    if content == before:
        return SidecarChange(path, "unchanged", [f.person for f in to_write], notes=notes)
    action = "update" if before is not None else "create"
    return SidecarChange(path, action, [f.person for f in to_write], removed, notes, content)


def _covered_by_the_users(told, document, header, display_size):
    """(faces a region of the user's covers already, notes): those get no region of facecluster's."""
    width, height = display_size
    users = []
    for region in regions_in(document.root)[0] if document.root is not None else []:
        box, problem = displayed_box(region, header)
        if region.format == "mwg" and region.box is not None and not problem:
            users.append((region.name, (box[0] * width, box[1] * height, box[2] * width, box[3] * height)))
    faces_boxes = [(f.left, f.top, f.right, f.bottom) for f in told]
    covered, notes = set(), []
    for i, j in match_regions(faces_boxes, [box for _, box in users]):
        face, name = told[i], users[j][0]
        covered.add(face)
        if name != face.person:
            notes.append(
                f"face {face.face_index}: your region {name!r} kept (facecluster calls this face {face.person})"
            )
    return covered, notes


class _Document:
    """An XMP document being edited: its MWG regions, every other node as it was."""

    def __init__(self, root):
        if root is None:
            root = ET.Element(f"{{{X_NS}}}xmpmeta")
            ET.SubElement(root, q("rdf:RDF"))
        elif root.tag == q("rdf:RDF"):  # a bare RDF document: wrapped as XMP packets are
            meta = ET.Element(f"{{{X_NS}}}xmpmeta")
            meta.append(root)
            root = meta
        self.root = root

    def _region_lists(self):
        """(the Regions struct node, its RegionList's container element) of every mwg-rs:Regions."""
        for description in descriptions(self.root):
            info = rdf_field(description, "mwg-rs:Regions")
            if info is None or isinstance(info, (str, list)):
                continue
            holder = info.find(q("mwg-rs:RegionList"))
            container = None
            if holder is not None:
                container = next((c for c in holder if c.tag in (q("rdf:Bag"), q("rdf:Seq"), q("rdf:Alt"))), None)
            yield info, container

    def remove_ours(self):
        """Remove facecluster's regions; returns how many."""
        removed = 0
        for _, container in self._region_lists():
            if container is None:
                continue
            for item in list(container):
                region = _item_node(item)
                if region is not None and rdf_field(region, "mwg-rs:Description") == OURS:
                    container.remove(item)
                    removed += 1
        return removed

    def add_regions(self, faces, header, display_size):
        """A region of facecluster's per face, in the frame of the document's RegionInfo (a new one: the
        stored photo's, AppliedToDimensions its size)."""
        width, height = display_size
        found = next(iter(self._region_lists()), None)
        if found is None:
            rdf = self.root.find(q("rdf:RDF")) if self.root.tag != q("rdf:RDF") else self.root
            description = ET.SubElement(rdf, q("rdf:Description"), {q("rdf:about"): ""})
            info = ET.SubElement(description, q("mwg-rs:Regions"), {q("rdf:parseType"): "Resource"})
            stored = header.size
            dimensions = {q("stDim:w"): str(stored[0]), q("stDim:h"): str(stored[1]), q("stDim:unit"): "pixel"}
            ET.SubElement(info, q("mwg-rs:AppliedToDimensions"), dimensions)
            container = None
        else:
            info, container = found
        if container is None:
            holder = info.find(q("mwg-rs:RegionList"))
            if holder is None:
                holder = ET.SubElement(info, q("mwg-rs:RegionList"))
            container = ET.SubElement(holder, q("rdf:Bag"))
        displayed_frame = _displayed_frame(info, header)
        for face in faces:
            box = (face.left / width, face.top / height, face.right / width, face.bottom / height)
            box = tuple(min(max(v, 0.0), 1.0) for v in box)
            if not displayed_frame:
                box = stored_box(box, header.orientation)
            left, top, right, bottom = box
            area = {"x": (left + right) / 2, "y": (top + bottom) / 2, "w": right - left, "h": bottom - top}
            region = ET.SubElement(
                ET.SubElement(container, q("rdf:li")),
                q("rdf:Description"),
                {q("mwg-rs:Name"): face.person, q("mwg-rs:Type"): "Face", q("mwg-rs:Description"): OURS},
            )
            attributes = {q(f"stArea:{key}"): f"{round(value, DIGITS):g}" for key, value in area.items()}
            ET.SubElement(region, q("mwg-rs:Area"), {**attributes, q("stArea:unit"): "normalized"})

    def serialise(self, namespaces):
        """The document's bytes: an XMP packet, the prefixes the file had (else the usual ones)."""
        for prefix, uri in namespaces.items():
            try:
                ET.register_namespace(prefix, uri)
            except ValueError:  # a prefix of ElementTree's own form (ns0): it names it again
                pass
        ET.register_namespace("x", X_NS)
        ET.indent(self.root, space=" ")
        text = ET.tostring(self.root, encoding="unicode")
        return f"{PACKET_BEGIN}\n{text}\n{PACKET_END}\n".encode()


def _item_node(item):
    """The node holding an array item's fields (an rdf:li written in any of RDF/XML's forms)."""
    if item.get(q("rdf:parseType")) == "Resource":
        return item
    description = item.find(q("rdf:Description"))
    if description is not None:
        return description
    return item if item.attrib else None


def _displayed_frame(info, header):
    """Whether a RegionInfo's areas are of the displayed photo (its AppliedToDimensions the displayed
    size, not the stored one, of a photo turned on its side): as facecluster.photos.tags reads them."""
    from facecluster.photos.tags import Region

    dimensions = rdf_field(info, "mwg-rs:AppliedToDimensions")
    applied_to = None
    if dimensions is not None and not isinstance(dimensions, (str, list)):
        try:
            applied_to = (float(rdf_field(dimensions, "stDim:w")), float(rdf_field(dimensions, "stDim:h")))
        except (TypeError, ValueError):
            applied_to = None
    # displayed_box turns a box by the orientation unless the region is in the displayed frame:
    # a probe tells which, with the same rule.
    probe = Region("mwg", "", (0.0, 0.0, 0.5, 0.25), applied_to)
    turned, _ = displayed_box(probe, header)
    return turned == (0.0, 0.0, 0.5, 0.25)
