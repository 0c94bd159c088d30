"""The faces drawn in several processes (facecluster.outputs.processes) from a script as Snakemake
runs one: its main module, the script, runs once, and every item is done."""

import subprocess
import sys

SCRIPT = """
import sys
from pathlib import Path

from facecluster.outputs import processes

out = Path(sys.argv[1])
with open(out / "main.txt", "a") as handle:  # a Snakemake script's top level: must run once
    handle.write("ran\\n")


def work(items):
    for item in items:
        (out / f"{item}.done").write_text(str(item))


processes.PARALLEL_FROM = 1
processes.in_processes(work, list(range(40)), workers=2)
"""


def test_a_script_drawing_in_two_processes_runs_its_top_level_once(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, timeout=120)
    assert (tmp_path / "main.txt").read_text() == "ran\n"
    assert sorted(int(path.stem) for path in tmp_path.glob("*.done")) == list(range(40))
