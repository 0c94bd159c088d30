"""What a person's name may be: one folder name on every system the people folders may be copied to,
and not a name the tool gives itself. The review pages read the same rules (NAME_RULES, in their data),
so that the page and the workflow agree on what a name can be.
"""

import re

# The names the tool gives or reads itself: faces of nobody, and a move_out's "to nobody".
TOOL_NAMES = ("others", "unknown", "nobody")
# Names Windows keeps for its devices, whatever their case and extension (CON, CON.txt).
DEVICE_NAMES = ("CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10)))
# A folder name is at most 255 bytes on the usual file systems (ext4, APFS, NTFS counts 255 characters).
MAX_BYTES = 255
FORBIDDEN = '/\\<>:"|?*'
NUMBERED = re.compile(r"person_(\d+)")

NAME_RULES = {
    "max_bytes": MAX_BYTES,
    "forbidden": FORBIDDEN,
    "control_characters": True,  # no character below U+0020, nor U+007F
    "no_leading": ".",
    "no_trailing": " .",
    "reserved": list(TOOL_NAMES),
    "devices": list(DEVICE_NAMES),
    "numbered": NUMBERED.pattern,
}


def name_problem(name):
    """Why `name` cannot be a person's name (a sentence), or None when it can."""
    if not isinstance(name, str) or not name:
        return "a name cannot be empty"
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        return f"a name is at most {MAX_BYTES} bytes of UTF-8 (a folder name); this one has {size}"
    bad = sorted({c for c in name if c in FORBIDDEN or ord(c) < 32 or ord(c) == 127})
    if bad:
        shown = " ".join(c if c.isprintable() else f"U+{ord(c):04X}" for c in bad)
        return f"a name cannot hold {shown} (it becomes a folder name)"
    if name in (".", ".."):
        return f"{name!r} cannot be a folder name"
    if name.startswith("."):
        return "a name cannot start with '.' (a hidden folder)"
    if name[-1] in " .":
        return "a name cannot end with a space or '.' (Windows drops them)"
    if name.split(".")[0].upper() in DEVICE_NAMES:
        return f"{name.split('.')[0]!r} is a device name on Windows"
    if name.lower() in TOOL_NAMES:
        return f"{name!r} is a name the tool uses itself"
    if NUMBERED.fullmatch(name):
        return f"{name!r} is of the form of the tool's numbers (person_NNNN); merge into that person instead"
    return None
