"""The benchmark suite (bench/run.py) runs once on a tiny input, so that it cannot rot.

Nothing here is timed: speed is for the suite itself, not for the tests.
"""

import subprocess
import sys

from conftest import PROJECT_ROOT

LINES = ["model-only", "pipeline", "one-by-one", "per-photo jobs", "incremental", "DAG", "aggregate"]


def test_the_suite_writes_every_line_on_a_tiny_input(lfw_dir, tmp_path):
    out = tmp_path / "results.md"
    command = [
        sys.executable,
        str(PROJECT_ROOT / "bench" / "run.py"),
        "--dataset",
        str(lfw_dir),
        "--photos",
        "4",
        "--added",
        "2",
        "--one-by-one",
        "2",
        "--per-photo",
        "2",
        "--dag",
        "30",
        "--aggregate",
        "120x8",
        "--repeats",
        "1",
        "--out",
        str(out),
        "--workdir",
        str(tmp_path / "work"),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    table = out.read_text()
    assert "Measured " in table and " cores (" in table
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    header, *rows = rows
    assert header[0] == "| line" and header[-1] == "result |"
    assert [row[0].lstrip("| ") for row in rows] == LINES
    for row in rows:
        assert row[2].startswith("1: "), row  # one run each, as asked
        assert row[-1].rstrip(" |") in ("pass", "**fail**", "-"), row
    # The incremental rerun saw the added photos: the suite checks the ledger's row count.
    assert (tmp_path / "work" / "pipeline" / "results" / "photos" / "model" / "ledger.tsv").exists()
