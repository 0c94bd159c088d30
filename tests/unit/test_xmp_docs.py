"""docs/xmp.md's commands that put the sidecars next to the photos, run as written on a small folder."""

import re
import subprocess

import pytest
from conftest import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "xmp.md").read_text()


def command_after(heading):
    """The first bash block after the line starting with heading."""
    return re.search(re.escape(heading) + r".*?```bash\n(.*?)```", DOC, re.S).group(1)


@pytest.mark.parametrize(
    ("heading", "copied"),
    [
        ("`beach.jpg.xmp` (digiKam", ["a.jpg.xmp", "trips/c.jpg.xmp"]),
        ("`beach.xmp` (Lightroom", ["a.xmp", "trips/c.xmp"]),
    ],
)
def test_the_documented_copy_puts_only_sidecars_next_to_the_photos_and_keeps_those_there(tmp_path, heading, copied):
    xmp = tmp_path / "project/results/experiments/photos/xmp"
    (xmp / "trips").mkdir(parents=True)
    for sidecar in ("a.jpg.xmp", "trips/b.jpg.xmp", "trips/c.jpg.xmp"):
        (xmp / sidecar).write_text(f"new {sidecar}")
    (xmp / ".snakemake_timestamp").touch()  # what Snakemake leaves in a folder it writes
    photos = tmp_path / "my photos"
    (photos / "trips").mkdir(parents=True)
    for photo in ("a.jpg", "trips/b.jpg", "trips/c.jpg"):
        (photos / photo).touch()
    mine = ["trips/b.jpg.xmp", "trips/b.xmp"]
    for sidecar in mine:
        (photos / sidecar).write_text("mine")

    done = subprocess.run(
        ["bash", "-c", command_after(heading)],
        cwd=tmp_path / "project",
        env={"PHOTOS": str(photos), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr
    assert not (photos / ".snakemake_timestamp").exists()
    written = sorted(str(p.relative_to(photos)) for p in photos.rglob("*") if p.is_file() and p.stat().st_size)
    assert written == sorted([*copied, *mine])
    assert all((photos / sidecar).read_text() == "mine" for sidecar in mine)
    assert "kept:" in done.stdout
