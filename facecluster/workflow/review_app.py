"""The review app: an experiment's review pages served on this computer, each correction saved and
applied as it is made (`facecluster review`, docs/review.md).

An edit the pages send is checked, written into the experiment's corrections file (atomically,
under the results folder's lock: facecluster.workflow.lock), then applied to the run's results by
facecluster.workflow.experiment.Renaming (the naming step again on the clustering kept in
assignments.tsv); the pages' data and the people folders of the persons it changed are then
rewritten, and the answer sent. The XMP sidecars of the photos it changed and those persons'
contact sheets are written after the answer. The report, figures and metrics.tsv wait for the
next Snakemake run.

Security, for a server that writes files: it listens on 127.0.0.1 unless told otherwise; it
answers only requests naming a local host with its port (a web page elsewhere cannot reach it
through a DNS name made to point here); every edit needs the token printed at start (a header)
and an Origin or Referer of the app itself; it serves the review folder's files and, by their row
in assignments.tsv (never by a path), the photos and chips of the experiment; bodies are small.
"""

import io
import json
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from PIL import Image
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from facecluster.naming.corrections import CORRECTION_KINDS, CorrectionsError, check_corrections, read_corrections
from facecluster.naming.names import name_problem
from facecluster.naming.persons import NOBODY
from facecluster.outputs import review
from facecluster.outputs.assignments import LazyChips
from facecluster.outputs.people_folders import (
    contact_sheet_pages,
    draw_contact_sheet,
    record_shown,
    update_people_folders,
)
from facecluster.outputs.xmp import listed_paths, record_sidecars, told_regions, write_sidecars
from facecluster.workflow.experiment import Renaming
from facecluster.workflow.lock import Busy, ResultsLock
from facecluster.workflow.paths import ResultPaths

LOG = logging.getLogger(__name__)
TOKEN_HEADER = "x-facecluster-token"
# An edit is a few names and a path: a larger body is no edit.
MAX_BODY = 64 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# A thumbnail's name (facecluster.outputs.review.thumbnail_key).
THUMBNAIL = re.compile(r"[0-9a-f]{16}\.jpg")
# Sidecars written at a time after an edit (about 0.3 s): an edit made meanwhile waits no longer.
SIDECARS_AT_ONCE = 500


class Refused(Exception):
    """An edit not made: its HTTP status and why, for the page."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class Experiment:
    """What the app reviews: an experiment's spec and where its results are."""

    spec: object  # facecluster.workflow.specs.ExperimentSpec
    paths: ResultPaths

    @property
    def name(self):
        return self.spec.name

    @property
    def listing(self):
        return self.paths.listing(self.spec.dataset.name)

    @property
    def embeddings(self):
        return self.paths.processed(self.spec.dataset.name, self.spec.model.name)["embeddings"]

    @property
    def dates(self):
        """Its photos' dates (rule read_dates' table), shown under their faces."""
        return self.paths.dates(self.spec.dataset.name)

    @property
    def corrections(self):
        """Its corrections file: the config's `corrections:`, else one in its state folder."""
        return Path(self.spec.corrections_path(self.paths))

    @property
    def review(self):
        return Path(self.paths.review(self.name))


class Review:
    """An experiment's review: its current data, and edits applied one at a time."""

    def __init__(self, experiment):
        self.experiment = experiment
        self.lock = ResultsLock(experiment.paths.root)
        self._one_at_a_time = threading.Lock()
        # The experiment read once (rows, embeddings), and assignments.tsv's stamp when it was.
        self._renaming = None
        self._rows_stamp = None
        # The persons' splits, the faces near another person and the merge suggestions
        # (facecluster.outputs.review.review_data's kept): an edit recomputes those it changed.
        self._kept = {}
        # (the review's faces/ folder's modification time, the thumbnails it held then)
        self._thumbnails = None
        # Written after an edit's answer, a part at a time (_write_later): the sidecars of these
        # photos, then the contact sheets of these persons ({person: the next page to draw}).
        self._sidecars = set()
        self._sheets = {}
        self._writer = None
        self._photo_sizes = {}

    def version(self):
        experiment = self.experiment
        return review.review_version(experiment.paths.assignments(experiment.name), experiment.corrections)

    def renaming(self):
        """The experiment as facecluster.workflow.experiment.Renaming holds it: read again when
        assignments.tsv changed since (a workflow run)."""
        stamp = self._stamp()
        if stamp != self._rows_stamp:
            self._renaming, self._rows_stamp = Renaming(self.experiment.spec, self.experiment.paths), stamp
            self._kept.clear()  # a run's embeddings may be others (another model) for the same rows
        return self._renaming

    def rows(self):
        """assignments.tsv's rows."""
        return self.renaming().rows

    def _stamp(self):
        stat = Path(self.experiment.paths.assignments(self.experiment.name)).stat()
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def write_data(self):
        """data.js from the results as they are; a thumbnail missing is cut. Returns the data."""
        experiment, renaming = self.experiment, self.renaming()
        faces, data = review.write_review_data(
            experiment.paths.assignments(experiment.name),
            experiment.embeddings,
            experiment.paths.metrics(experiment.name),
            experiment.review,
            experiment=experiment.name,
            threshold=experiment.spec.naming_threshold,
            corrections=experiment.corrections,
            kept=self._kept,
            rows=renaming.rows,
            X=renaming.X,
            dates=experiment.dates,
        )
        folder = experiment.review / "faces"
        stamp = folder.stat().st_mtime_ns
        if self._thumbnails is None or self._thumbnails[0] != stamp:  # listed again when it changed
            self._thumbnails = (stamp, set(os.listdir(folder)))
        missing = [int(p) for p, shown in data["faces"].items() if f"{shown[5]}.jpg" not in self._thumbnails[1]]
        review.write_thumbnails(faces, missing, folder)
        return data

    def edit(self, request):
        """Apply edits made together ({version, edits: [{action: add or undo, kind, entry}]});
        returns (message, data). Refused: a malformed edit or a name refused (400), pages showing
        an older version (409), a run in progress (423); nothing is written then."""
        if not isinstance(request, dict) or not isinstance(request.get("edits"), list) or not request["edits"]:
            raise Refused(400, "An edit is a JSON object with a list of edits.")
        edits = [_checked_edit(edit) for edit in request["edits"]]
        with self._one_at_a_time:
            try:
                self.lock.take(wait=False)
            except Busy:
                raise Refused(423, "A workflow run is in progress: save this again when it has ended.") from None
            try:
                if request.get("version") != self.version():
                    raise Refused(409, "reload")
                return self._apply(edits)
            finally:
                self.lock.release()

    def _apply(self, edits):
        experiment = self.experiment
        path = experiment.corrections
        corrections, problem = read_corrections(path)
        if problem and path.exists():
            raise Refused(400, f"The corrections file cannot be read, fix it first: {problem}")
        renaming = self.renaming()
        before = renaming.rows
        messages = []
        for action, kind, entry in edits:
            if action == "add":
                _check_names(kind, entry, before)
                messages.append(_add(corrections, kind, entry))
            else:
                messages.append(_remove(corrections, kind, entry))
        message = messages[0] if len(messages) == 1 else f"{len(messages)} edits made."
        old_text = path.read_bytes() if path.exists() else None
        _write_corrections(path, corrections)
        try:
            after = renaming.apply(str(path))
        except Exception:
            # The file goes back as it was: the results still match it.
            if old_text is None:
                path.unlink()
            else:
                review.write_atomically(path, old_text)
            self._rows_stamp = None  # read again: the results may be half rewritten
            raise
        self._rows_stamp = self._stamp()
        self._rewrite_outputs(before, after)
        return message, self.write_data()

    def _rewrite_outputs(self, before, after):
        """The people folders of the persons whose faces changed; their contact sheets, and the
        sidecars of the photos whose names changed, are written after the answer (_write_later)."""
        experiment = self.experiment
        people = Path(experiment.paths.people(experiment.name))
        if people.is_dir():
            rebuilt = update_people_folders(before, after, people, mode=experiment.spec.people_folders)
            self._sheets.update(dict.fromkeys(rebuilt, 0))
        if Path(experiment.paths.xmp(experiment.name)).is_dir():
            self._sidecars.update(
                new.photo_id for old, new in zip(before, after) if (old.person, old.hidden) != (new.person, new.hidden)
            )
        if (self._sheets or self._sidecars) and self._writer is None:
            self._writer = threading.Thread(target=self._write_later, name="sidecars and sheets", daemon=True)
            self._writer.start()

    def _write_later(self):
        """Write what edits left to write after their answer (the sidecars, a few hundred photos at a
        time, then the contact sheets, a page at a time), each part under the lock: an edit waits for
        one part at most (0.4 s). When a workflow run holds the lock, the rest is left to it: it
        rewrites every sidecar and folder."""
        people = Path(self.experiment.paths.people(self.experiment.name))
        while True:
            with self._one_at_a_time:
                if self._sheets or self._sidecars:
                    try:
                        self.lock.take(wait=False)
                    except Busy:
                        self._sheets.clear()
                        self._sidecars.clear()
                        self._writer = None
                        return
                if not self._sheets and not self._sidecars:
                    self._writer = None  # (under the lock: an edit after this starts another writer)
                    self._record_written()
                    return
                try:
                    if self._sidecars:
                        self._write_sidecars(people)
                    else:
                        self._draw_sheet(people)
                except Exception:
                    # Left to the next run; edits go on.
                    LOG.exception("sidecars or contact sheets not written (the next workflow run writes them)")
                    self._sheets.clear()
                    self._sidecars.clear()
                    self._writer = None
                    return
                finally:
                    self.lock.release()

    def _record_written(self):
        """Every folder and sidecar now shows the rows: keep that, so that the next workflow run
        rewrites none of them (facecluster.outputs.people_folders.record_shown, xmp.record_sidecars).
        Without the lock (a run holds it), or after a run changed the assignments, nothing is
        recorded: the run compares for itself."""
        experiment = self.experiment
        try:
            self.lock.take(wait=False)
        except Busy:
            return
        try:
            if self._stamp() != self._rows_stamp:  # a run rewrote the assignments meanwhile
                return
            rows = self._renaming.rows
            people = Path(experiment.paths.people(experiment.name))
            if people.is_dir():
                record_shown(people, experiment.spec.people_folders, rows)
            xmp = Path(experiment.paths.xmp(experiment.name))
            if xmp.is_dir():
                record_sidecars(xmp, told_regions(rows, listed_paths(experiment.listing)))
        finally:
            self.lock.release()

    def _write_sidecars(self, people):
        experiment = self.experiment
        part = set(sorted(self._sidecars)[:SIDECARS_AT_ONCE])
        self._sidecars -= part
        write_sidecars(
            experiment.paths.assignments(experiment.name),
            experiment.listing,
            Path(experiment.paths.xmp(experiment.name)),
            part,
            rows=self.rows(),
            sizes=self._photo_sizes,
        )

    def _draw_sheet(self, people):
        faces = self.rows()
        person = min(self._sheets)
        page = self._sheets.pop(person)
        if page < contact_sheet_pages(faces, person):
            draw_contact_sheet(faces, people, person, page)
            self._sheets[person] = page + 1

    def written(self):
        """Wait until the sidecars and contact sheets of every edit made are written."""
        while (writer := self._writer) is not None:
            writer.join()


# ---- the edits --------------------------------------------------------------------------------
def _checked_edit(request):
    """(action, kind, entry) of an edit in the form the corrections file holds it; Refused (400)."""
    if not isinstance(request, dict):
        raise Refused(400, "An edit is a JSON object.")
    action, kind, entry = request.get("action"), request.get("kind"), request.get("entry")
    if action not in ("add", "undo") or kind not in CORRECTION_KINDS:
        raise Refused(400, f"Unknown edit: {action!r} {kind!r}.")
    text = lambda value: isinstance(value, str) and value != ""  # noqa: E731
    face = {"photo": text, "face": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "person": text}
    forms = {
        "rename": lambda e: isinstance(e, list) and len(e) == 2 and all(map(text, e)),
        "merge": lambda e: isinstance(e, list) and len(e) >= 2 and all(map(text, e)) and len(set(e)) == len(e),
        "hide": text,
        "move_out": lambda e: _is_record(e, face, {"to": text}),
        "confirm": lambda e: _is_record(e, face, {}),
        "apart": lambda e: isinstance(e, list) and len(e) == 2 and all(map(text, e)) and e[0] != e[1],
    }
    if not forms[kind](entry):
        raise Refused(400, f"A {kind} edit of another form: {json.dumps(entry, ensure_ascii=False)[:200]}.")
    return action, kind, entry


def _is_record(entry, needed, optional):
    if not isinstance(entry, dict) or not set(needed) <= set(entry) <= set(needed) | set(optional):
        return False
    return all(({**needed, **optional})[key](value) for key, value in entry.items())


def _check_names(kind, entry, rows):
    """Refused (400, why) for a name a person cannot take: a new name, or a move to one."""
    current = {face.person for face in rows}
    if kind == "rename":
        new = [entry[1]]
    elif kind == "move_out" and entry.get("to") not in (None, NOBODY, *current):
        new = [entry["to"]]
    else:
        new = []
    for name in new:
        problem = name_problem(name)
        if problem:
            raise Refused(400, f"\u201c{name}\u201d cannot be a name: {problem}.")


def _same_face(a, b):
    return a["photo"] == b["photo"] and int(a["face"]) == int(b["face"])


def _add(corrections, kind, entry):
    """Add an edit to the corrections ({kind: entries}); returns what the page says."""
    if kind == "rename":
        old, new = entry
        # Renaming a name given by a rename changes that rename.
        renames = dict(corrections["rename"])
        first = next((before for before, after in renames.items() if after == old), old)
        renames[first] = new
        corrections["rename"] = list(renames.items())
        return f"{old} is now called {new}."
    if kind == "merge":
        corrections["merge"].append(list(entry))
        return f"{', '.join(entry[1:])} merged into {entry[0]}."
    if kind == "hide":
        if entry not in corrections["hide"]:
            corrections["hide"].append(entry)
        return f"{entry} is hidden."
    if kind == "apart":
        if list(entry) not in corrections["apart"]:
            corrections["apart"].append(list(entry))
        return f"{entry[0]} and {entry[1]} are two people: not suggested again."
    corrections[kind] = [e for e in corrections.get(kind, []) if not _same_face(e, entry)] + [dict(entry)]
    if kind == "confirm":
        return f"Face {entry['face']} of {Path(entry['photo']).name} stays with {entry['person']}."
    to = {None: "the nearest other person", NOBODY: "nobody"}.get(entry.get("to"), entry.get("to"))
    return f"Face {entry['face']} of {Path(entry['photo']).name} moved to {to}."


def _remove(corrections, kind, entry):
    """Take an edit out of the corrections (undo); Refused (409) when the file no longer holds it."""
    if kind == "rename":
        entries = corrections["rename"]
        held = tuple(entry) in entries
        corrections["rename"] = [e for e in entries if e != tuple(entry)]
    else:
        entries = corrections.get(kind, [])
        held = entry in entries
        corrections[kind] = [e for e in entries if e != entry]
    if not held:
        raise Refused(409, "reload")
    return "Undone."


def _write_corrections(path, corrections):
    """The corrections file, checked as the workflow reads it before it replaces the file."""
    content = {kind: dict(entries) if kind == "rename" else entries for kind, entries in corrections.items() if entries}
    text = "# The corrections of the review app (facecluster review); each run applies them.\n"
    text += yaml.safe_dump(content, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.check")
    temporary.write_text(text, encoding="utf-8")
    try:
        check_corrections(temporary)
    except CorrectionsError as exc:
        raise Refused(400, str(exc)) from None
    finally:
        temporary.unlink(missing_ok=True)
    review.write_atomically(path, text.encode("utf-8"))


# ---- the web app ------------------------------------------------------------------------------
def make_app(reviewing, token, port, host="127.0.0.1"):
    """The Starlette app serving `reviewing` (a Review) on `port`; edits need `token`."""
    allowed = {f"{name}:{port}" for name in {*LOCAL_HOSTS, _bracketed(host)}}

    async def page(request):
        name = request.path_params.get("name") or "index.html"
        if name in review.STATIC_FILES:  # this version's page code, not the copy the last run left
            return _file_in(review.static_folder(), name, "no-store")
        if name != review.DATA_FILE:
            return _not_found()
        return _file_in(reviewing.experiment.review, name, "no-store")

    async def thumbnail(request):
        name = request.path_params["name"]
        if not THUMBNAIL.fullmatch(name):
            return _not_found()
        return _file_in(reviewing.experiment.review / "faces", name)

    async def photo(request):
        face = _row(reviewing, request.path_params["row"])
        if face is None or not Path(face.path).is_file():
            return _not_found()
        return FileResponse(face.path)

    async def chip(request):
        face = _row(reviewing, request.path_params["row"])
        if face is None:
            return _not_found()
        buffer = io.BytesIO()
        Image.fromarray(LazyChips([face])[0]).save(buffer, "PNG")
        return Response(buffer.getvalue(), media_type="image/png")

    async def state(request):
        return JSONResponse({"version": reviewing.version()})

    async def edit(request):
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            return PlainTextResponse("This edit needs the review's token (open the address the app printed).", 403)
        if not _same_origin(request):
            return PlainTextResponse("Edits come from the review pages only.", 403)
        body = await _body(request)
        if body is None:
            return PlainTextResponse(f"An edit is at most {MAX_BODY} bytes.", 413)
        try:
            message, data = reviewing.edit(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            return PlainTextResponse("An edit is a JSON object.", 400)
        except Refused as refused:
            return PlainTextResponse(refused.reason, refused.status)
        return JSONResponse({"message": message, "data": data})

    async def local_only(request, call_next):
        if request.headers.get("host", "").lower() not in allowed:
            return PlainTextResponse("This review is served to this computer only.", 403)
        return await call_next(request)

    routes = [
        Route("/", page),
        Route(r"/faces/{name}", thumbnail),
        Route("/photo/{row:int}", photo),
        Route("/chip/{row:int}.png", chip),
        Route("/api/state", state),
        Route("/api/edit", edit, methods=["POST"]),
        Route("/{name}", page),
    ]
    return Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=local_only)])


def _bracketed(host):
    return f"[{host}]" if ":" in host else host


def _same_origin(request):
    """Whether the request's Origin (else its Referer) is the app's own address."""
    origin = f"http://{request.headers['host']}"
    given = request.headers.get("origin")
    if given is not None:
        return given == origin
    referer = urlsplit(request.headers.get("referer", ""))
    return f"{referer.scheme}://{referer.netloc}" == origin


async def _body(request):
    """The request's body, or None when it is over MAX_BODY (read no further)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return body


def _row(reviewing, row):
    rows = reviewing.rows()
    return rows[row] if 0 <= row < len(rows) else None


def _file_in(folder, name, cache=None):
    """A file of `folder` (not a link leading out of it), or 404."""
    folder = Path(folder).resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return _not_found()
    headers = {"cache-control": cache} if cache else None
    return FileResponse(path, headers=headers)


def _not_found():
    return PlainTextResponse("Not found.", 404)
