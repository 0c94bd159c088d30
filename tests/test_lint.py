"""The workflow passes Snakemake's linter and snakefmt."""

import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT, SNAKEMAKE

WORKFLOW_FILES = [PROJECT_ROOT / "Snakefile", *sorted((PROJECT_ROOT / "rules").glob("*.smk"))]


def test_snakemake_lint_is_clean():
    result = subprocess.run(
        [str(SNAKEMAKE), "--lint", "-s", str(PROJECT_ROOT / "Snakefile"), "--directory", str(PROJECT_ROOT)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefmt_check_is_clean():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    result = subprocess.run([str(snakefmt), "--check", *map(str, WORKFLOW_FILES)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
