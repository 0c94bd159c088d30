"""The user's corrections file: read and checked, {kind: entries} in the form facecluster.naming.persons
applies them.

A corrections file that is not one (CorrectionsError, with its file and line) stops the workflow
before it starts: the Snakefile checks it (Plan.check_naming), on every start, so this module
imports nothing heavy.
"""

from pathlib import Path

import yaml

from facecluster.naming.names import name_problem

CORRECTION_KINDS = ("rename", "merge", "move_out", "hide", "confirm", "apart")


def no_corrections():
    """The corrections of a run that has none: every kind, no entries."""
    return {kind: [] for kind in CORRECTION_KINDS}


class CorrectionsError(Exception):
    """A corrections file that is not valid YAML or not in the corrections' form, with its file and line."""

    def __init__(self, path, line, problem):
        where = f"{str(path)!r}, line {line}" if line else repr(str(path))
        super().__init__(f"corrections file {where}: {problem}")


# What a move_out entry holds; `to` (a person's name, or nobody) is optional. A confirm entry
# ("this face flagged is right") holds the same face and person, and no `to`.
MOVE_OUT_KEYS = ("photo", "face", "person")
MOVE_OUT_OPTIONAL = ("to",)


def read_corrections(path):
    """(corrections, problem): {kind: entries} from a YAML file (see check_corrections), and why
    none could be read (None when they could). A missing file gives no corrections, as does one
    made invalid after the run started (the workflow checks the file first)."""
    empty = no_corrections()
    if path is None:
        return empty, None
    if not Path(path).exists():
        return empty, f"corrections file {str(path)!r} does not exist"
    try:
        return check_corrections(path), None
    except CorrectionsError as exc:
        return empty, str(exc)


def check_corrections(path):
    """The corrections a YAML file holds, {kind: entries}: rename [(old, new)], merge [[names]],
    move_out [{photo, face, person, to?}], hide [names], confirm [{photo, face, person}], apart
    [[name, name]] (two persons the review pages are not to suggest merging: the naming reads none);
    CorrectionsError, naming the file and line, where it is not valid YAML, holds a key or an entry
    of another form, or renames someone to a name a person cannot have (facecluster.naming.names)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorrectionsError(path, None, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise CorrectionsError(path, None, f"cannot be read ({exc.strerror})") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = "; ".join(filter(None, [getattr(exc, "context", None), getattr(exc, "problem", None)])) or str(exc)
        raise CorrectionsError(path, mark.line + 1 if mark else None, f"not valid YAML: {problem}") from None
    try:
        _check_corrections_form(root)
    except _FormError as exc:
        raise CorrectionsError(path, exc.node.start_mark.line + 1, exc.problem) from None
    data = yaml.safe_load(text) or {}
    return {
        "rename": [(str(old), str(new)) for old, new in (data.get("rename") or {}).items()],
        "merge": [[str(name) for name in names] for names in data.get("merge") or []],
        "move_out": data.get("move_out") or [],
        "hide": [str(name) for name in data.get("hide") or []],
        "confirm": data.get("confirm") or [],
        "apart": [[str(name) for name in names] for names in data.get("apart") or []],
    }


class _FormError(Exception):
    def __init__(self, node, problem):
        super().__init__(problem)
        self.node, self.problem = node, problem


def _check_corrections_form(root):
    """_FormError at the first YAML node (with its line) that is not in the corrections' form."""
    if root is None or _is_null(root):
        return
    if not isinstance(root, yaml.MappingNode):
        raise _FormError(root, f"expected a mapping with the keys {', '.join(CORRECTION_KINDS)}")
    forms = {
        "rename": _check_rename,
        "merge": _check_merge,
        "move_out": _check_move_out,
        "hide": _check_hide,
        "confirm": _check_confirm,
        "apart": _check_apart,
    }
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode) or key.value not in forms:
            raise _FormError(key, f"unknown key {_text(key)!r} (accepted: {', '.join(CORRECTION_KINDS)})")
        if not _is_null(value):
            forms[key.value](value)


def _check_rename(node):
    form = "rename maps each old name to its new name ({person_0007: obama})"
    if not isinstance(node, yaml.MappingNode):
        raise _FormError(node, form)
    for old, new in node.value:
        _check_name(old, form)
        _check_name(new, form)
        problem = name_problem(new.value)
        if problem:
            raise _FormError(new, f"{old.value} cannot be renamed {new.value!r}: {problem}")


def _check_merge(node):
    form = "merge is a list of lists of two or more names ([[person_0003, person_0011]])"
    if not isinstance(node, yaml.SequenceNode):
        raise _FormError(node, form)
    for names in node.value:
        if not isinstance(names, yaml.SequenceNode) or len(names.value) < 2:
            raise _FormError(names, form)
        for name in names.value:
            _check_name(name, form)


def _check_apart(node):
    form = "apart is a list of pairs of names ([[person_0003, person_0011]]): not one person"
    if not isinstance(node, yaml.SequenceNode):
        raise _FormError(node, form)
    for names in node.value:
        if not isinstance(names, yaml.SequenceNode) or len(names.value) != 2:
            raise _FormError(names, form)
        for name in names.value:
            _check_name(name, form)


def _check_move_out(node):
    form = f"move_out is a list of {{{', '.join(MOVE_OUT_KEYS)}}} entries, each with {MOVE_OUT_OPTIONAL[0]} if wanted"
    _check_face_entries(node, "move_out", form, MOVE_OUT_OPTIONAL)


def _check_confirm(node):
    form = f"confirm is a list of {{{', '.join(MOVE_OUT_KEYS)}}} entries"
    _check_face_entries(node, "confirm", form, ())


def _check_face_entries(node, kind, form, optional):
    """A list of entries naming a face (photo, face, person) and the `optional` keys."""
    keys = MOVE_OUT_KEYS + optional
    if not isinstance(node, yaml.SequenceNode):
        raise _FormError(node, form)
    for entry in node.value:
        if not isinstance(entry, yaml.MappingNode):
            raise _FormError(entry, form)
        given = {}
        for key, value in entry.value:
            if not isinstance(key, yaml.ScalarNode) or key.value not in keys:
                raise _FormError(key, f"unknown key {_text(key)!r} in a {kind} entry (accepted: {', '.join(keys)})")
            given[key.value] = value
        missing = [key for key in MOVE_OUT_KEYS if key not in given]
        if missing:
            needs = ", ".join(MOVE_OUT_KEYS)
            raise _FormError(entry, f"a {kind} entry needs {needs} (missing: {', '.join(missing)})")
        face = given["face"]
        if not (isinstance(face, yaml.ScalarNode) and face.tag == "tag:yaml.org,2002:int" and face.value.isdigit()):
            raise _FormError(face, f"face is the face's number in its photo (its face_index), not {_text(face)!r}")
        for key in ("photo", "person", *optional):
            if key in given:
                _check_name(given[key], f"{key} is a name, not a list or a mapping")


def _check_hide(node):
    form = "hide is a list of names ([person_0012, person_0020])"
    if not isinstance(node, yaml.SequenceNode):
        raise _FormError(node, form)
    for name in node.value:
        _check_name(name, form)


def _check_name(node, form):
    if not isinstance(node, yaml.ScalarNode) or _is_null(node):
        raise _FormError(node, form)


def _is_null(node):
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _text(node):
    return node.value if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
