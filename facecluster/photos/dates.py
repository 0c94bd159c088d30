"""When each photo was taken, as the photo and its sidecars say, and where it was read.

A dataset's dates are read in one job (rule read_dates) from its listing, without decoding a photo,
into results/<dataset>/dates.tsv: one row per photo, its date (or none), the field it came from,
and a note on what was met and not used. The per-photo stage and its cache never see the dates:
a photo's date read, or read again, never detects its faces again.

The first of these that holds a plausible date is the photo's:

1. its sidecars, `photo.jpg.xmp` then `photo.xmp` (facecluster.photos.tags.sidecars_of): a sidecar
   is where a photo manager (darktable, digiKam, Lightroom for RAW) keeps the user's edits, a
   camera clock's date corrected included; in each, XMP_FIELDS in order;
2. the photo's EXIF (a JPEG's APP1, a HEIC's, a PNG's eXIf, a TIFF's, a WebP's): DateTimeOriginal,
   with SubSecTimeOriginal and OffsetTimeOriginal, then DateTimeDigitized (exiftool's CreateDate),
   with SubSecTimeDigitized and OffsetTimeDigitized;
3. the photo's own XMP, XMP_FIELDS in order;
4. the EXIF's GPS date and time (GPSDateStamp, GPSTimeStamp): when the position was fixed, in UTC.

Not read: the EXIF's DateTime (ModifyDate) and the file's modification time, both the time of the
last program that wrote the file, not of the photo; IPTC's DateCreated, which cameras and phones
do not write (programs that do write XMP's photoshop:DateCreated too). A PNG's EXIF and XMP are
read where Pillow finds them before the pixels (exiftool, phones and Pillow write them there).

A date keeps the precision written ("1987-05": a month) and its offset where the photo gives one
("2021-06-03T14:22:05.12+02:00"); without one, it is the local time of the camera's clock. Kept
out, each with a note in the row, and the next field read (`implausible`):

- a date before 1826, the first photograph's year;
- the first day of 1900, 1904, 1970 or 1980 (a date to the day): where the clocks of cameras and
  computers start when they were never set (NTP's and IBM's epoch, the Mac's, Unix's, DOS's);
- a date more than a day after the run (a day: a local time in a time zone ahead of the run's).

A field of spaces or zeros ("0000:00:00 00:00:00") is EXIF's "unknown", and no note; another text
that is not a date is noted. A photo with no plausible date has none: sorted last.
"""

import csv
import re
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime, timedelta, timezone

from facecluster.photos.tags import (
    descriptions,
    embedded_xmp,
    field,
    is_picasa_ini,
    is_sidecar_name,
    listed_entries,
    parse_xmp,
    read_sidecar,
    sidecars_of,
)
from facecluster.tables import tsv_writer

# The XMP properties holding when a photo was taken, in the order they are read (MWG's guidelines:
# exif:DateTimeOriginal and photoshop:DateCreated are the date taken, xmp:CreateDate the digitized).
XMP_FIELDS = ("exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate", "exif:DateTimeDigitized")
# The EXIF tags: (date and time, its sub-seconds, its offset) as the Exif IFD (0x8769) numbers them.
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
EXIF_FIELDS = {
    "exif:DateTimeOriginal": (0x9003, 0x9291, 0x9011),
    "exif:CreateDate": (0x9004, 0x9292, 0x9012),
}
GPS_DATE, GPS_TIME = 29, 7

FIRST_PHOTOGRAPH = 1826
# Years on whose first day the clocks of cameras never set start.
CLOCK_EPOCHS = (1900, 1904, 1970, 1980)
FUTURE_MARGIN = timedelta(days=1)

# ISO 8601 as XMP writes it, as precise as given ("2021", "2021-06-03T14:22:05.12+02:00"), and
# EXIF's "2021:06:03 14:22:05" (some programs write that form in XMP too).
DATE = re.compile(
    r"(?P<year>\d{4})(?:[-:](?P<month>\d{2})(?:[-:](?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?)?)?)?"
)
OFFSET = re.compile(r"(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2})|Z")


@dataclass(frozen=True)
class DateRow:
    """A photo's date (results/<dataset>/dates.tsv).

    date: ISO 8601, as precise as written, with its offset when the photo gives one ("" undated);
    source: the field it was read from (exif:DateTimeOriginal, xmp:photoshop:DateCreated, ...);
    sidecar: the sidecar's path inside the folder it was read in ("" for the photo itself);
    note: the dates met and kept out, the fields that hold no date, the sidecars not read."""

    photo_id: str
    relpath: str
    date: str
    source: str
    sidecar: str
    note: str


COLUMNS = [f.name for f in fields(DateRow)]


def write_dates(path, rows):
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = tsv_writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(row) for row in rows)


def read_dates(path):
    """{photo_id: DateRow} of a dates.tsv."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {record["photo_id"]: DateRow(**record) for record in csv.DictReader(handle, delimiter="\t")}


def capture_years(path) -> dict:
    """{photo_id: its capture date in years (2019.5: the middle of 2019)} of a dates.tsv's dated
    photos, for sorting by the years between photos (the offset left out: hours do not count)."""
    return {photo_id: years_of(row) for photo_id, row in read_dates(path).items() if row.date}


def years_of(row):
    """A dated DateRow's date in years (2019.5: the middle of 2019)."""
    moment = parse_date(row.date).moment.replace(tzinfo=None)
    start = datetime(moment.year, 1, 1)
    return moment.year + (moment - start).total_seconds() / (datetime(moment.year + 1, 1, 1) - start).total_seconds()


@dataclass(frozen=True)
class PhotoDate:
    """A date read: its ISO 8601 text, its first instant (naive without an offset), and whether it
    names a day (a year or a month alone does not)."""

    text: str
    moment: datetime
    to_the_day: bool


def parse_date(text, subseconds="", offset=""):
    """The PhotoDate of a field's text, None for EXIF's unknown (spaces, zeros); ValueError for a
    text that is no date. subseconds, offset: EXIF's SubSecTime and OffsetTime fields."""
    text = _text(text)
    if not text.strip(" :-0T"):
        return None
    match = DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is no date")
    parts = match.groupdict()
    subseconds, offset = _text(subseconds).strip(), _text(offset).strip()
    fraction = parts["fraction"] or (subseconds if subseconds.isdigit() else "")
    # EXIF's offset goes with a time; a malformed one is no offset.
    offset = parts["offset"] or (offset if parts["hour"] and OFFSET.fullmatch(offset) else "")
    numbers = [int(parts[key] or default) for key, default in _DEFAULTS]
    try:
        moment = datetime(*numbers, tzinfo=_zone(offset))
    except ValueError as error:
        raise ValueError(f"{text!r} is no date ({error})") from None
    iso = parts["year"]
    for key, separator in (("month", "-"), ("day", "-"), ("hour", "T"), ("minute", ":"), ("second", ":")):
        iso += f"{separator}{parts[key]}" if parts[key] else ""
    iso += f".{fraction}" if fraction and parts["second"] else ""
    iso += _offset_text(moment) if offset else ""
    return PhotoDate(iso, moment, parts["day"] is not None)


_DEFAULTS = (("year", 0), ("month", 1), ("day", 1), ("hour", 0), ("minute", 0), ("second", 0))


def _text(value):
    """An EXIF or XMP value as text: EXIF's ASCII may come as bytes, and end in NULs."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value or "").strip("\x00 ")


def _zone(offset):
    match = OFFSET.fullmatch(offset) if offset else None
    if match is None:
        return None
    if offset == "Z":
        return UTC
    sign = -1 if match["sign"] == "-" else 1
    return timezone(sign * timedelta(hours=int(match["hours"]), minutes=int(match["minutes"])))


def _offset_text(moment):
    """ "+02:00" of an aware datetime ("Z" comes out as "+00:00")."""
    minutes = int(moment.utcoffset().total_seconds() // 60)
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def implausible(date, now):
    """Why a PhotoDate cannot be when the photo was taken (see the module's docstring), or "".
    now: the run's time (aware)."""
    moment = date.moment
    if moment.year < FIRST_PHOTOGRAPH:
        return f"before {FIRST_PHOTOGRAPH}, the first photograph's year"
    if date.to_the_day and moment.year in CLOCK_EPOCHS and (moment.month, moment.day) == (1, 1):
        return f"the first day of {moment.year}, where the clock of a camera never set starts"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if aware > now + FUTURE_MARGIN:
        return f"in the future (this run is on {now:%Y-%m-%d})"
    return ""


@dataclass(frozen=True)
class Found:
    """A field read: where (source, sidecar), and its PhotoDate or why it holds none (problem)."""

    source: str
    sidecar: str
    date: PhotoDate | None
    problem: str = ""


def read_folder_dates(entries, now=None):
    """The DateRows of a dataset's photos (PhotoEntry-like: id, relpath, path, hidden), in listing
    order; sidecars, Picasa's files and hidden files have none. now: the run's time (aware; default: now)."""
    now = now or datetime.now(UTC)
    listed = {e.relpath.lower(): e.relpath for e in entries}
    by_relpath = {e.relpath: e for e in entries}
    return [
        photo_date(entry, [(s, by_relpath[s].path) for s in sidecars_of(entry.relpath, listed)], now)
        for entry in entries
        if not (entry.hidden or is_sidecar_name(entry.relpath) or is_picasa_ini(entry.relpath))
    ]


def photo_date(entry, sidecars, now):
    """A photo's DateRow: the first plausible date of its fields, in the module's order, and a note
    on those met before it. sidecars: its (relpath, path) pairs."""
    notes = []
    for found in _fields(entry.path, sidecars):
        where = " in ".join(filter(None, (found.source, found.sidecar)))
        if found.problem:
            notes.append(f"{where}: {found.problem}")
            continue
        if found.date is None:
            continue
        why = implausible(found.date, now)
        if why:
            notes.append(f"{found.date.text} ({where}) kept out: {why}")
            continue
        return DateRow(entry.id, entry.relpath, found.date.text, found.source, found.sidecar, "; ".join(notes))
    return DateRow(entry.id, entry.relpath, "", "", "", "; ".join(notes))


def _fields(path, sidecars):
    """The Found fields of a photo, in the order they are read (lazily: the photo is opened only
    when its sidecars hold no date)."""
    for relpath, sidecar_path in sidecars:
        data, problem = read_sidecar(sidecar_path)
        if problem:
            yield Found("", relpath, None, problem)
        else:
            yield from xmp_dates(data, sidecar=relpath)
    exif, gps, xmp, problem = photo_metadata(path)
    if problem:
        yield Found("exif", "", None, problem)
    yield from exif_dates(exif)
    yield from xmp_dates(xmp)
    yield from gps_dates(gps)


def xmp_dates(data, sidecar=""):
    """The Found of an XMP document's XMP_FIELDS, in order (none for no document)."""
    if not data:
        return
    root, problem = parse_xmp(data)
    if root is None:
        yield Found("xmp", sidecar, None, problem)
        return
    for name in XMP_FIELDS:
        for description in descriptions(root):
            value = field(description, name)
            if isinstance(value, str) and value:
                yield _found(f"xmp:{name}", sidecar, value)
                break


def exif_dates(ifd):
    """The Found of an Exif IFD's ({tag: value}) dates taken and digitized, in order."""
    for source, (date, subseconds, offset) in EXIF_FIELDS.items():
        if date in ifd:
            yield _found(source, "", ifd[date], ifd.get(subseconds, ""), ifd.get(offset, ""))


def gps_dates(gps):
    """The Found of a GPS IFD's ({tag: value}) date and time (UTC; the day alone without a time), or nothing."""
    if GPS_DATE not in gps:
        return
    text = _text(gps[GPS_DATE])
    if GPS_TIME in gps:
        try:
            hours, minutes, seconds = (int(float(v)) for v in gps[GPS_TIME])
            text += f" {hours:02d}:{minutes:02d}:{seconds:02d}"
        except (TypeError, ValueError, ZeroDivisionError):
            text += f" {gps[GPS_TIME]}"  # noted as no date
    yield _found("exif:GPSDateTime", "", text, offset="Z")


def _found(source, sidecar, text, subseconds="", offset=""):
    try:
        return Found(source, sidecar, parse_date(text, subseconds, offset))
    except ValueError as error:
        return Found(source, sidecar, None, str(error))


def photo_metadata(path):
    """(its Exif IFD, its GPS IFD ({tag: value} each, empty without), its own XMP (bytes, or None),
    problem): a photo's headers, no pixels decoded; problem: why its EXIF could not be read.

    A file Pillow does not open has neither, and no problem here: the per-photo stage's ledger
    says why it is not a photo."""
    import warnings

    from PIL import Image

    from facecluster.photos.decoding import register_opener_for

    try:
        with open(path, "rb") as handle:
            register_opener_for(handle.read(12))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                xmp = embedded_xmp(image)
                # A PNG's getexif decodes the pixels to look for an eXIf after them: only one before.
                if image.format == "PNG" and "exif" not in image.info:
                    return {}, {}, xmp, ""
                try:
                    # Read while the file is open: a TIFF's IFDs are read from it.
                    exif = image.getexif()
                    return dict(exif.get_ifd(EXIF_IFD)), dict(exif.get_ifd(GPS_IFD)), xmp, ""
                except Exception as error:  # a damaged EXIF block
                    return {}, {}, xmp, f"cannot be read ({error})"
    except Exception:  # not an image (a text), damaged, a bomb: the per-photo stage records it
        return {}, {}, None, ""


def read_listing_dates(listing_path, out_path, now=None):
    """Rule read_dates: the dates of every photo of a dataset's listing (photos.tsv) into dates.tsv;
    returns the rows written."""
    rows = read_folder_dates(listed_entries(listing_path), now)
    write_dates(out_path, rows)
    return rows
