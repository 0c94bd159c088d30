"""Face tags people gave already: the named face regions of a photo's own XMP and of its sidecars.

A dataset's tags are read in one job (rule read_tags) from its listing: for each photo, its embedded
XMP (what Pillow finds in the file: a JPEG's APP1, a PNG's iTXt, a TIFF's tag 700, a WebP's chunk)
and its sidecars, `photo.jpg.xmp` (digiKam, darktable, Immich) and `photo.xmp` (Lightroom, Capture
One), matched without regard to case. Three forms are read:

- MWG regions (mwg-rs:Regions, digiKam, Lightroom, exiftool): a region of Type Face, its Name, its
  Area (centre x, y, width w, height h as fractions of the photo);
- Microsoft's people regions (MP:RegionInfo / MPRI:Regions, Windows Photo Gallery): a
  PersonDisplayName and a Rectangle "x, y, w, h" (top-left corner and size, fractions);
- IPTC Extension's PersonInImage: names without a box (the naming gives one to the photo's only
  face, else lists it as a hint);
- Picasa's faces: the `.picasa.ini` of the photo's folder, its section `[photo name]` holding
  `faces=rect64(<hex>),<contact id>;...`, each name found by its contact id in the file's
  `[Contacts2]` section (`<id>=<name>;;`, Picasa 3.9) or in Picasa's `contacts.xml` (`<contact
  id=... name=...>`, a file of Picasa's own data, named by the dataset's `picasa_contacts`).
  Read as exiftool's `picasa_faces.config` (shipped with exiftool, config_files/) reads them: the
  hex number, without its leading zeros, is four 16-bit numbers, left, top, right and bottom, each
  over 65535; a box of a JPEG is an MWG region's (the file's exiftool converts it to one as it is);
  contact ffffffffffffffff is a face Picasa left unnamed.

Boxes come out as the photo is displayed, its EXIF orientation applied, as the per-photo stage's
boxes are: the MWG guidelines (2.0, 5.9) apply a region to the stored image, to be turned with it
when the orientation is applied. A writer that gave the regions of the displayed photo instead
(facecluster's own sidecars under results/ did, and AppliedToDimensions then holds the displayed
size) is told apart by AppliedToDimensions: when it holds the displayed size and not the stored one,
the regions are taken as they are. Microsoft's rectangles, which carry no size, are taken as MWG's.

Regions facecluster wrote (mwg-rs:Description "facecluster", OURS) are not the user's, and skipped.

XMP is parsed by defusedxml: a document with a DTD (an entity expansion bomb, an external entity)
is refused, as is a sidecar over MAX_SIDECAR_BYTES (read no further); either becomes a problem on
the table's row, and the photo is sorted all the same.
"""

import csv
import math
import os
import re
from dataclasses import astuple, dataclass, fields
from pathlib import PurePosixPath
from xml.etree.ElementTree import ParseError

from facecluster.tables import tsv_writer

# The mark facecluster puts on the regions it writes (their mwg-rs:Description).
OURS = "facecluster"
# XMP sidecars hold text: a few kB, Lightroom's develop settings a few hundred. Larger ones are not read.
MAX_SIDECAR_BYTES = 16 * 2**20
# A sidecar's names for the photo `relpath`: `a.jpg.xmp`, then `a.xmp`.
SIDECAR_SUFFIX = ".xmp"
# More regions than this in one document is not a photo's tags.
MAX_REGIONS = 1000
DIGITS = 6

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS = {
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "MP": "http://ns.microsoft.com/photo/1.2/",
    "MPRI": "http://ns.microsoft.com/photo/1.2/t/RegionInfo#",
    "MPReg": "http://ns.microsoft.com/photo/1.2/t/Region#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    # A photo's dates (facecluster.photos.dates).
    "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
FORMATS = ("mwg", "mp", "iptc", "picasa")
# Picasa's file of each folder (Picasa 3 hides it; Picasa 2 wrote Picasa.ini).
PICASA_INI_NAMES = (".picasa.ini", "picasa.ini")
PICASA_UNNAMED = "ffffffffffffffff"


def q(name):
    """'mwg-rs:Name' -> '{http://...}Name' (ElementTree's qualified names)."""
    prefix, local = name.split(":")
    return f"{{{RDF if prefix == 'rdf' else NS[prefix]}}}{local}"


@dataclass(frozen=True)
class TagRow:
    """A name read for a photo (results/<dataset>/tags.tsv): a region's, or a problem met reading.

    source: the sidecar's path inside the folder, or "embedded"; format: mwg, mp or iptc ("" for a
    problem with a whole file); left, top, right, bottom: the region as fractions of the photo as
    displayed (NaN for a name without a box, IPTC's); problem: why the row is not a name to use."""

    photo_id: str
    relpath: str
    source: str
    format: str
    name: str
    left: float
    top: float
    right: float
    bottom: float
    problem: str

    @property
    def has_box(self):
        return not math.isnan(self.left)


COLUMNS = [f.name for f in fields(TagRow)]
_FLOATS = ("left", "top", "right", "bottom")
NO_BOX = (math.nan,) * 4


def write_tags(path, rows):
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = tsv_writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(["" if v != v else v for v in astuple(row)] for row in rows)  # NaN as ""


def read_tags(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            TagRow(**{**record, **{key: float(record[key]) if record[key] else math.nan for key in _FLOATS}})
            for record in csv.DictReader(handle, delimiter="\t")
        ]


@dataclass(frozen=True)
class Region:
    """A named region as a document holds it: box (x, y, w, h) in its own frame (centre for MWG,
    top-left for MP; None without one), the frame's size (AppliedToDimensions, or None)."""

    format: str
    name: str
    box: tuple | None
    applied_to: tuple | None = None
    problem: str = ""


def is_sidecar_name(relpath):
    """Whether a file of the folder is a sidecar by its name (read for its tags, not a photo)."""
    return relpath.lower().endswith(SIDECAR_SUFFIX)


def sidecars_of(relpath, listed):
    """The sidecars of the photo `relpath` among `listed` ({lower-case relpath: relpath}): `a.jpg.xmp`
    then `a.xmp`, each as the folder spells it."""
    path = PurePosixPath(relpath)
    names = [f"{relpath}{SIDECAR_SUFFIX}", str(path.with_suffix(SIDECAR_SUFFIX)) if path.suffix else None]
    return [listed[n.lower()] for n in dict.fromkeys(filter(None, names)) if n.lower() in listed]


def read_folder_tags(entries, picasa_contacts=None):
    """The TagRows of a dataset's photos (PhotoEntry-like: id, relpath, path, hidden), in listing order.

    Sidecars (by name) are read for the photos they belong to, and each folder's Picasa file for its
    photos (picasa_contacts: the path of Picasa's contacts.xml, or None); a file that is no photo
    Pillow opens is read for sidecars only (a HEIC's own XMP is not read)."""
    listed = {e.relpath.lower(): e.relpath for e in entries}
    by_relpath = {e.relpath: e for e in entries}
    picasa = PicasaFaces(entries, picasa_contacts)
    rows = []
    for entry in entries:
        if entry.hidden or is_sidecar_name(entry.relpath) or is_picasa_ini(entry.relpath):
            continue
        header = photo_header(entry.path)
        sources = [("embedded", header.xmp)] if header.xmp else []
        sources += [(relpath, None) for relpath in sidecars_of(entry.relpath, listed)]
        for source, data in sources:
            if data is None:
                data, problem = read_sidecar(by_relpath[source].path)
                if problem:
                    rows.append(TagRow(entry.id, entry.relpath, source, "", "", *NO_BOX, problem))
                    continue
            regions, problem = regions_of(data)
            rows += _region_rows(entry, header, source, "", regions, problem)
        source, regions, problem = picasa.of(entry.relpath)
        rows += _region_rows(entry, header, source, "picasa", regions, problem)
    return rows


def _region_rows(entry, header, source, kind, regions, problem):
    """The TagRows of a document's regions of a photo, after a row for the problem that kept the
    document (kind: its format, or "" for XMP) from being read, where there is one."""
    rows = [TagRow(entry.id, entry.relpath, source, kind, "", *NO_BOX, problem)] if problem else []
    for region in regions:
        box, region_problem = displayed_box(region, header)
        rows.append(
            TagRow(entry.id, entry.relpath, source, region.format, region.name, *box, region.problem or region_problem)
        )
    return rows


def is_picasa_ini(relpath):
    """Whether a file of the folder is Picasa's face file of its folder (read for its tags, not a photo)."""
    return PurePosixPath(relpath).name.lower() in PICASA_INI_NAMES


class PicasaFaces:
    """The Picasa faces of a dataset's photos: each folder's Picasa file, read once, and the names
    of Picasa's contacts.xml (picasa_contacts, when given)."""

    def __init__(self, entries, picasa_contacts=None):
        self._files = {}  # folder (lower case) -> the Picasa file's entry
        for entry in entries:
            if is_picasa_ini(entry.relpath):
                folder = str(PurePosixPath(entry.relpath).parent).lower()
                # .picasa.ini before Picasa.ini: the file Picasa 3 writes
                if folder not in self._files or PurePosixPath(entry.relpath).name.startswith("."):
                    self._files[folder] = entry
        self._read = {}
        self._contacts_path = picasa_contacts
        self._contacts, self._contacts_problem = None, ""

    def of(self, relpath):
        """(the Picasa file's relpath, [Region] of the photo relpath, problem) ("" and [] when none)."""
        path = PurePosixPath(relpath)
        entry = self._files.get(str(path.parent).lower())
        if entry is None:
            return "", [], ""
        if entry.relpath not in self._read:
            self._read[entry.relpath] = self._read_file(entry)
        names, faces, problem = self._read[entry.relpath]
        if problem:
            return entry.relpath, [], problem
        regions = []
        for box, contact in faces.get(path.name.lower(), []):
            if contact == PICASA_UNNAMED:
                continue  # a face Picasa found and nobody named
            name = names.get(contact) or self.contacts().get(contact)
            if name:
                regions.append(Region("picasa", name, box))
            elif box is None:
                regions.append(Region("picasa", "", None, problem=f"a face that is not rect64(hex),id: {contact!r}"))
            else:
                regions.append(Region("picasa", "", None, problem=self._unnamed(contact, entry.relpath)))
        return entry.relpath, regions, ""

    def _read_file(self, entry):
        data, problem = read_sidecar(entry.path)
        if problem:
            return {}, {}, problem.replace("sidecar", "Picasa file")
        return read_picasa_ini(data)

    def contacts(self):
        """{contact id: name} of Picasa's contacts.xml (read once; empty when not given or unreadable)."""
        if self._contacts is None:
            self._contacts = {}
            if self._contacts_path:
                self._contacts, self._contacts_problem = read_picasa_contacts(self._contacts_path)
        return self._contacts

    def _unnamed(self, contact, relpath):
        missing = f"Picasa contact {contact} has no name: no [Contacts2] entry in {relpath}"
        if not self._contacts_path:
            return f"{missing}, and no picasa_contacts (Picasa's contacts.xml) given"
        if self._contacts_problem:
            return f"{missing}; {self._contacts_problem}"
        return f"{missing}, nor in {self._contacts_path}"


def read_picasa_ini(data):
    """({contact id: name} of its [Contacts2] section, {photo name, lower case: [(box, contact id)]},
    problem) of a Picasa file's bytes; box: (x, y, w, h) of the top-left corner and size, fractions
    of the photo (None for a face not written as rect64(hex),id: its text in place of the id)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Picasa on Windows, before UTF-8
    names, faces, section = {}, {}, ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif "=" in line and section.lower() == "contacts2":
            contact, value = line.split("=", 1)
            name = value.split(";", 1)[0].strip()
            if name:
                names[contact.strip().lower()] = name
        elif line.lower().startswith("faces=") and section:
            for item in filter(None, line[len("faces=") :].split(";")):
                faces.setdefault(section.lower(), []).append(_picasa_face(item.strip()))
    return names, faces, ""


def _picasa_face(item):
    """(box, contact id) of one `rect64(<hex>),<id>` of a faces= line; (None, item) when it is not one."""
    match = re.fullmatch(r"rect64\(([0-9a-fA-F]{1,16})\),([0-9a-fA-F]{1,16})", item)
    if match is None:
        return None, item
    number = int(match.group(1), 16)
    left, top, right, bottom = (((number >> shift) & 0xFFFF) / 65535 for shift in (48, 32, 16, 0))
    return (left, top, right - left, bottom - top), match.group(2).lower()


def read_picasa_contacts(path):
    """({contact id: name}, problem) of Picasa's contacts.xml (its <contact id=... name=...> elements),
    parsed as the XMP is (defusedxml)."""
    data, problem = read_sidecar(path)
    if problem:
        return {}, problem.replace("sidecar", f"Picasa's contacts file {path}")
    root, problem = parse_xmp(data)
    if root is None:
        return {}, f"Picasa's contacts file {path}: {problem.replace('XMP', 'XML')}"
    return {
        contact.get("id", "").strip().lower(): contact.get("name", "").strip()
        for contact in root.iter("contact")
        if contact.get("id") and contact.get("name", "").strip()
    }, ""


@dataclass(frozen=True)
class Header:
    """What the tags need of a photo: its stored size, its EXIF orientation, its own XMP (bytes or None)."""

    size: tuple | None = None
    orientation: int = 1
    xmp: bytes | None = None


def photo_header(path):
    """The Header of a photo (its header only, no pixels decoded); an empty one for a file Pillow
    does not open (its ledger row says why)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                xmp = embedded_xmp(image)
                try:
                    orientation = int(image.getexif().get(0x0112, 1))
                except Exception:  # a damaged EXIF block: the photo's decoding says so
                    orientation = 1
                return Header(image.size, orientation if 1 <= orientation <= 8 else 1, xmp or None)
    except Exception:  # not an image (a sidecar, a text), damaged, a bomb: the per-photo stage records it
        return Header()


def embedded_xmp(image):
    """The XMP packet of an image Pillow opened (bytes), or None: a JPEG's APP1, a PNG's iTXt, a
    TIFF's tag 700, a WebP's chunk, a HEIF's (when pi-heif opened it)."""
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    # Some writers pad the segment with NULs after the packet, which no XML parser takes
    # (exiftool reads past them, and Pillow's own getxmp strips them too).
    return (xmp.rstrip(b"\x00") or None) if xmp else None


def read_sidecar(path):
    """(its bytes, None), or (None, why it is not read): too large (checked before reading), unreadable."""
    try:
        size = os.stat(path).st_size
        if size > MAX_SIDECAR_BYTES:
            return None, f"sidecar too large to be read ({size} bytes; at most {MAX_SIDECAR_BYTES} are read)"
        with open(path, "rb") as handle:
            return handle.read(MAX_SIDECAR_BYTES + 1), None
    except OSError as exc:
        return None, f"sidecar cannot be read: {exc.strerror or exc}"


def parse_xmp(data, namespaces=None):
    """(root element, None) or (None, why not): parsed by defusedxml, which refuses DTDs and entities.
    namespaces: a dict to fill with the document's {prefix: URI} (to write it back with its prefixes)."""
    # Imported here: the per-photo jobs import this module for is_sidecar_name alone.
    from xml.etree.ElementTree import TreeBuilder

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    class Builder(TreeBuilder):
        def start_ns(self, prefix, uri):
            if namespaces is not None:
                namespaces.setdefault(prefix, uri)

    try:
        parser = DefusedXMLParser(target=Builder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
        parser.feed(data)
        return parser.close(), None
    except DefusedXmlException as exc:
        return None, f"XMP refused: it declares a DTD or entities (an XML bomb or external entity?): {exc}"
    except (ParseError, ValueError) as exc:
        return None, f"malformed XMP: {exc}"


def regions_of(data):
    """([Region], problem) of an XMP document's bytes: its MWG and Microsoft face regions and IPTC
    names, facecluster's own regions left out; problem: why none could be read (else "")."""
    root, problem = parse_xmp(data)
    if root is None:
        return [], problem
    return regions_in(root)


def regions_in(root):
    """regions_of, for a document parsed already (parse_xmp's root)."""
    regions = []
    for description in descriptions(root):
        regions += _mwg_regions(description)
        regions += _mp_regions(description)
        regions += [Region("iptc", name, None) for name in _texts(field(description, "Iptc4xmpExt:PersonInImage"))]
    if len(regions) > MAX_REGIONS:
        return [], f"{len(regions)} face regions in one document (at most {MAX_REGIONS} are read)"
    return regions, ""


def descriptions(root):
    """The top rdf:Description elements of an XMP document (its properties)."""
    rdf_roots = [root] if root.tag == q("rdf:RDF") else list(root.iter(q("rdf:RDF")))
    return [d for rdf in rdf_roots for d in rdf if d.tag == q("rdf:Description")]


def field(node, name):
    """A property of an RDF resource node, in any of RDF/XML's forms: an attribute (text), or an element
    holding text, a struct (returned as the node holding its fields) or an array (a list of items)."""
    if node is None or isinstance(node, (str, list)):
        return None
    qualified = q(name)
    if qualified in node.attrib:
        return node.attrib[qualified]
    child = node.find(qualified)
    return None if child is None else value(child)


def value(element):
    """An RDF property element's (or array item's) value: text, a struct's node or a list of items."""
    if element.get(q("rdf:parseType")) == "Resource":
        return element
    for child in element:
        if child.tag == q("rdf:Description"):
            return child
        if child.tag in (q("rdf:Bag"), q("rdf:Seq"), q("rdf:Alt")):
            return [value(item) for item in child if item.tag == q("rdf:li")]
    if len(element) == 0 and any(not key.startswith(f"{{{RDF}}}") for key in element.attrib):
        return element  # a struct written as attributes: <mwg-rs:Area stArea:x="0.5" ... />
    return (element.text or "").strip()


def _texts(items):
    if isinstance(items, str):
        return [items] if items else []
    return [item.strip() for item in items or [] if isinstance(item, str) and item.strip()]


def _number(text):
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _mwg_regions(description):
    info = field(description, "mwg-rs:Regions")
    if info is None or isinstance(info, (str, list)):
        return []
    dimensions = field(info, "mwg-rs:AppliedToDimensions")
    applied_to = None
    if dimensions is not None and not isinstance(dimensions, (str, list)):
        w, h = _number(field(dimensions, "stDim:w")), _number(field(dimensions, "stDim:h"))
        applied_to = (w, h) if w and h and w > 0 and h > 0 else None
    regions = []
    for region in field(info, "mwg-rs:RegionList") or []:
        if region is None or isinstance(region, (str, list)):
            continue
        name = field(region, "mwg-rs:Name")
        kind = field(region, "mwg-rs:Type")
        if not isinstance(name, str) or not name.strip() or (kind not in (None, "Face")):
            continue  # unnamed, or a pet, a focus area, a barcode: not a person's tag
        if field(region, "mwg-rs:Description") == OURS:
            continue
        area = field(region, "mwg-rs:Area")
        box, problem = None, "a region without an area"
        if area is not None and not isinstance(area, (str, list)):
            unit = field(area, "stArea:unit")
            numbers = [_number(field(area, f"stArea:{key}")) for key in ("x", "y", "w", "h")]
            if unit not in (None, "normalized"):
                problem = f"a region's area in {unit!r} units (MWG areas are normalized)"
            elif None in numbers:
                problem = "a region's area without its x, y, w and h"
            else:
                x, y, w, h = numbers
                box, problem = (x - w / 2, y - h / 2, w, h), ""
        regions.append(Region("mwg", name.strip(), box, applied_to, problem))
    return regions


def _mp_regions(description):
    info = field(description, "MP:RegionInfo")
    if info is None or isinstance(info, (str, list)):
        return []
    regions = []
    for region in field(info, "MPRI:Regions") or []:
        if region is None or isinstance(region, (str, list)):
            continue
        name = field(region, "MPReg:PersonDisplayName")
        if not isinstance(name, str) or not name.strip():
            continue
        rectangle = field(region, "MPReg:Rectangle")
        numbers = [_number(part) for part in rectangle.split(",")] if isinstance(rectangle, str) else []
        if len(numbers) == 4 and None not in numbers:
            regions.append(Region("mp", name.strip(), tuple(numbers)))
        else:
            regions.append(
                Region("mp", name.strip(), None, problem=f"a rectangle that is not x, y, w, h: {rectangle!r}")
            )
    return regions


def displayed_box(region, header):
    """((left, top, right, bottom) as fractions of the photo as displayed, clipped to it; problem).

    region.box (x, y, w, h, top-left) is in the stored photo's frame (the MWG's), turned by the
    orientation; or already in the displayed one when AppliedToDimensions holds the displayed size
    and not the stored one."""
    if region.box is None:
        return NO_BOX, ""
    x, y, w, h = region.box
    if not (w > 0 and h > 0):
        return NO_BOX, f"a region of no size ({w:g} x {h:g})"
    orientation = header.orientation
    if region.applied_to is not None and header.size is not None and orientation in (5, 6, 7, 8):
        stored = tuple(float(v) for v in header.size)
        if _same_size(region.applied_to, stored[::-1]) and not _same_size(region.applied_to, stored):
            orientation = 1  # written in the displayed frame
    box = orient((x, y, x + w, y + h), orientation)
    clipped = tuple(min(max(v, 0.0), 1.0) for v in box)
    if clipped[2] - clipped[0] <= 0 or clipped[3] - clipped[1] <= 0:
        return NO_BOX, "a region outside the photo"
    return tuple(round(v, DIGITS) for v in clipped), ""


def _same_size(a, b):
    return abs(a[0] - b[0]) <= 1 and abs(a[1] - b[1]) <= 1


def orient(box, orientation):
    """A (left, top, right, bottom) box of fractions of the stored photo, in the photo as displayed
    (EXIF orientation 1-8 applied); facecluster.photos.decoding turns the pixels the same way."""
    left, top, right, bottom = box
    corners = [(left, top), (right, bottom)]
    turned = [_orient_point(px, py, orientation) for px, py in corners]
    xs, ys = [p[0] for p in turned], [p[1] for p in turned]
    return min(xs), min(ys), max(xs), max(ys)


def _orient_point(x, y, orientation):
    # Each orientation's transform of the unit square (EXIF 2.32, 4.6.4 A; PIL's exif_transpose).
    return {
        1: (x, y),
        2: (1 - x, y),  # mirrored left-right
        3: (1 - x, 1 - y),  # turned 180
        4: (x, 1 - y),  # mirrored top-bottom
        5: (y, x),  # transposed
        6: (1 - y, x),  # turned 90 clockwise to display
        7: (1 - y, 1 - x),  # transversed
        8: (y, 1 - x),  # turned 90 counter-clockwise to display
    }[orientation]


def stored_box(box, orientation):
    """The inverse of orient: a displayed (left, top, right, bottom) box of fractions in the stored frame."""
    inverse = {5: 5, 6: 8, 7: 7, 8: 6}.get(orientation, orientation)
    return orient(box, inverse)


@dataclass(frozen=True)
class _Listed:
    id: str
    relpath: str
    path: str
    hidden: bool


def listed_entries(listing_path):
    """The files of a dataset's listing (photos.tsv): id, relpath, path and hidden (under a dot folder)."""
    with open(listing_path, newline="", encoding="utf-8") as handle:
        return [
            _Listed(row["id"], row["relpath"], row["path"], any(p.startswith(".") for p in row["relpath"].split("/")))
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def read_listing_tags(listing_path, out_path, picasa_contacts=None):
    """Rule read_tags: the tags of every photo of a dataset's listing (photos.tsv) into tags.tsv;
    returns the rows written. picasa_contacts: Picasa's contacts.xml, or None."""
    rows = read_folder_tags(listed_entries(listing_path), picasa_contacts)
    write_tags(out_path, rows)
    return rows
