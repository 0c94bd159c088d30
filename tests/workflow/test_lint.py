"""The workflow passes Snakemake's linter and snakefmt, the Python code ruff; the README lists every path."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, SNAKEMAKE

WORKFLOW_FILES = [PROJECT_ROOT / "Snakefile", *sorted((PROJECT_ROOT / "rules").glob("*.smk"))]


def test_snakemake_lint_is_clean():
    result = subprocess.run(
        [str(SNAKEMAKE), "--lint", "-s", str(PROJECT_ROOT / "Snakefile"), "--directory", str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefmt_check_is_clean():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    result = subprocess.run([str(snakefmt), "--check", *map(str, WORKFLOW_FILES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_and_format_are_clean():
    ruff = Path(sys.executable).with_name("ruff")
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(ruff), *command, str(PROJECT_ROOT)], capture_output=True, text=True, cwd=PROJECT_ROOT
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_layout_table_lists_every_top_level_path():
    if not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    top_level = {path.split("/")[0] for path in tracked.stdout.splitlines()} - {".gitignore", "README.md"}
    readme = (PROJECT_ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :].split("\n## ")[0]
    listed = set(re.findall(r"`([^`/]+)", layout))
    assert top_level <= listed, f"not in the README's layout table: {sorted(top_level - listed)}"
