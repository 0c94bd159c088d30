"""Download a pinned list of photos and check each one against its sha256.

The manifest is a TSV file with the header ``path<TAB>sha256``; each ``path`` is
relative (``<Name>/<file>``) and is both the URL path under ``base_url`` and the
file's place under ``dest_dir``. ``base_url`` may be ``http(s)://``, ``file://``
or a plain local folder. A file only reaches its final name after its hash has
been checked, so an interrupted or failed run never leaves a half or wrong file
there, and a rerun fetches only what is missing or wrong.
"""

import hashlib
import logging
import os
import re
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path, PureWindowsPath

logger = logging.getLogger(__name__)

MANIFEST_HEADER = ["path", "sha256"]
CHUNK_SIZE = 1024 * 1024
URL_SCHEMES = {"http", "https", "file"}
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


class ChecksumError(ValueError):
    """A fetched file's sha256 differs from the one pinned in the manifest."""


class DownloadError(OSError):
    """A file could not be fetched; str(exc) says which, from where, why and what to do, in a few lines."""


def sha256_file(path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(manifest_path) -> list[tuple[str, str]]:
    """Return the manifest's (path, sha256) entries in file order.

    Raises ValueError naming the line for a wrong header, a wrong number of
    columns, an absolute path, a ``..`` component or a malformed sha256.
    """
    lines = Path(manifest_path).read_text(encoding="utf-8").splitlines()
    entries = []
    for line_number, line in enumerate(lines, start=1):
        try:
            if line_number == 1:
                if line.split("\t") != MANIFEST_HEADER:
                    raise ValueError(f"expected the header {'<TAB>'.join(MANIFEST_HEADER)!r}")
            elif line.strip():
                entries.append(_parse_entry(line))
        except ValueError as error:
            raise ValueError(f"{manifest_path}, line {line_number}: {error}: {line!r}") from None
    return entries


def _parse_entry(line) -> tuple[str, str]:
    columns = line.split("\t")
    if len(columns) != 2:
        raise ValueError("expected 2 tab-separated columns")
    path, sha256 = columns[0], columns[1].lower()
    # PureWindowsPath splits on both / and \, so this also catches
    # Windows-style paths that would escape dest_dir on another system.
    windows_path = PureWindowsPath(path)
    if not path or windows_path.anchor:
        raise ValueError("path must be relative")
    if ".." in windows_path.parts:
        raise ValueError("path must not contain '..'")
    if not SHA256_PATTERN.fullmatch(sha256):
        raise ValueError("sha256 must be 64 hex digits")
    return path, sha256


def fetch_photos(manifest_path, base_url, dest_dir, *, timeout=30, retries=3, setting="base_url") -> list[Path]:
    """Fetch every manifest entry into dest_dir and return the paths in manifest order.

    Files already there with the right sha256 are kept. A network error is
    retried ``retries`` more times with a growing pause; a sha256 mismatch
    raises ChecksumError at once. A file that cannot be fetched raises
    DownloadError, whose message names `setting` (where base_url is set) as
    the way to a mirror or a local folder.
    """
    base_url = _as_url(base_url).rstrip("/")
    dest_dir = Path(dest_dir)
    final_paths = []
    fetched = 0
    for path, expected_sha256 in read_manifest(manifest_path):
        target = dest_dir / path
        final_paths.append(target)
        if target.is_file() and sha256_file(target) == expected_sha256:
            logger.debug("%s: already present", path)
            continue
        url = f"{base_url}/{urllib.parse.quote(path)}"
        logger.info("fetching %s", url)
        try:
            _fetch_verified(url, target, expected_sha256, timeout, retries)
        except ChecksumError:
            raise
        except OSError as error:
            raise DownloadError(_failure_message(path, url, error, dest_dir, manifest_path, setting)) from None
        fetched += 1
    logger.info("%d photos in %s, %d fetched", len(final_paths), dest_dir, fetched)
    return final_paths


def _failure_message(path, url, error, dest_dir, manifest_path, setting):
    return (
        f"download failed: {path} could not be fetched into {dest_dir}\n"
        f"  from: {url}\n"
        f"  why:  {_why(error)}\n"
        f"To fetch from elsewhere, set {setting} to a mirror's URL or to a local\n"
        f"folder holding the files {manifest_path} lists (each is checked against its sha256);\n"
        f"or put them in {dest_dir} yourself. Then run the same command again."
    )


def _why(error) -> str:
    """What went wrong, in words, from what urllib raises."""
    if isinstance(error, urllib.error.HTTPError):
        return f"the server answered HTTP {error.code} {error.reason}"
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, socket.gaierror):
        return f"the host name could not be resolved (no network?): {reason.strerror or reason}"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused (nothing listens at that address)"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "no answer in time"
    if isinstance(reason, FileNotFoundError):
        return "no such file in the local folder"
    return str(getattr(reason, "strerror", None) or reason)


def _as_url(base_url) -> str:
    """Turn a plain local folder into a file:// URL; pass supported URLs through."""
    base_url = str(base_url)
    scheme = urllib.parse.urlsplit(base_url).scheme
    if scheme in URL_SCHEMES:
        return base_url
    if "://" in base_url:
        raise ValueError(f"unsupported URL scheme {scheme!r} in {base_url!r}")
    return Path(base_url).resolve().as_uri()


def _fetch_verified(url, target: Path, expected_sha256, timeout, retries):
    """Download url to a temp file next to target and move it there once its hash matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as target, so os.replace is an atomic rename.
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        _download_with_retries(url, temp_path, timeout, retries)
        actual_sha256 = sha256_file(temp_path)
        if actual_sha256 != expected_sha256:
            raise ChecksumError(
                f"sha256 mismatch for {target}: expected {expected_sha256}, got {actual_sha256} (from {url})"
            )
        os.replace(temp_path, target)
    finally:
        temp_path.unlink(missing_ok=True)


def _download_with_retries(url, destination: Path, timeout, retries):
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(destination, "wb") as out:
                shutil.copyfileobj(response, out, CHUNK_SIZE)
            return
        except OSError as error:  # URLError, HTTPError and timeouts are all OSErrors
            # Only transient failures are worth another try: not a 404, not a missing local file,
            # not a refused connection (nothing listens there).
            reason = getattr(error, "reason", error)
            transient = not (
                url.startswith("file:")
                or (isinstance(error, urllib.error.HTTPError) and error.code < 500)
                or isinstance(reason, ConnectionRefusedError)
            )
            if not transient or attempt == retries:
                raise
            pause = 2**attempt
            logger.warning("%s: %s; retrying in %d s", url, error, pause)
            time.sleep(pause)
