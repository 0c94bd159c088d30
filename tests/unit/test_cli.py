"""The `facecluster` command: its commands listed, each reachable, and the old calibrate form kept."""

import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from facecluster.workflow.cli import COMMANDS, main


def test_without_a_command_it_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as ended:
        main([])
    assert ended.value.code == 2
    listed = capsys.readouterr().err
    assert all(name in listed for name in COMMANDS)


def test_docs_prints_the_components_page(capsys):
    main(["docs"])
    assert capsys.readouterr().out == (PROJECT_ROOT / "docs" / "components.md").read_text()


def test_the_old_calibrate_form_still_works_and_says_where_it_went():
    result = subprocess.run(
        [sys.executable, "-m", "facecluster.calibrate", "--help"], capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    assert result.returncode == 0
    assert "usage: facecluster calibrate" in result.stdout
    assert "now `facecluster calibrate`" in result.stderr
