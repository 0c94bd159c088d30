"""Model files a user downloads and a config pins (FaceNet, Keras): there, and exactly the bytes the config pins.

Checked before the first job that uses the model; the dlib model ships in a
package and has nothing to check. A file is pinned by its sha256, a folder
(checkpoint, SavedModel) by the sha256 of every file in it.
"""

import os
from pathlib import Path

from facecluster.photos.embedders.crop import DOWNLOAD_HELP as HELP
from facecluster.registry import file_sha256
from facecluster.workflow.config import ConfigError


def check_pinned_files(name, settings):
    """ConfigError, saying what to download and where, unless model `name`'s files match its sha256."""
    embedder = settings["embedder"]
    if "path" not in embedder:
        return
    key = f"models.{name}.embedder"
    path = Path(embedder["path"])
    if not path.exists():
        raise ConfigError(
            f"{key}.path: the {embedder['name']} model {str(path)!r} is not there (relative to "
            f"{os.getcwd()}). Download it and put it at that path, or set {key}.path to where it "
            f"is: {HELP}."
        )
    expected = embedder["sha256"]
    if path.is_dir() != isinstance(expected, dict):
        form = "each file's sha256 (file: sha256)" if path.is_dir() else "the file's sha256"
        raise ConfigError(f"{key}.sha256: {str(path)!r} is a {'folder' if path.is_dir() else 'file'}: give {form}")
    problems = _folder_problems(path, expected) if path.is_dir() else _file_problems(path, expected)
    if problems:
        raise ConfigError(
            f"{key}.sha256: {str(path)!r} is not the model the config names:\n"
            + "\n".join(f"  {problem}" for problem in problems)
            + f"\nA damaged or different download: fetch it again ({HELP}); if it is the model "
            "you mean, put its sha256 (sha256sum) in the config."
        )


def _file_problems(path, expected):
    actual = file_sha256(path)
    return [] if actual == expected.lower() else [f"its sha256 is {actual}, the config says {expected}"]


def _folder_problems(folder, expected):
    found = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    problems = [f"{name}: missing" for name in expected if name not in found]
    problems += [f"{name}: in the folder but not listed in sha256" for name in found if name not in expected]
    for name in sorted(expected.keys() & found.keys()):
        problems += [f"{name}: {problem}" for problem in _file_problems(found[name], expected[name])]
    return problems
