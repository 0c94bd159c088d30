"""The code's layout stays readable: stages as subpackages, no lab notes in the product, bench/ on
the public API, unit tests without Snakemake."""

import ast
import re

from conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "facecluster"
STAGES = {"photos", "clustering", "naming", "outputs", "workflow"}


def test_the_package_top_level_holds_the_stages_and_a_small_core():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert folders == STAGES
    assert all((PACKAGE / stage / "__init__.py").is_file() for stage in STAGES)
    assert len(modules) <= 4, modules


def test_no_issue_numbers_in_code_config_rules_or_scripts():
    places = [*PACKAGE.rglob("*.py"), PROJECT_ROOT / "config.yaml", *PROJECT_ROOT.glob("rules/*.smk")]
    places += [*PROJECT_ROOT.glob("scripts/*.py"), PROJECT_ROOT / "Snakefile"]
    found = [
        f"{p.relative_to(PROJECT_ROOT)}: {m.group(0)}" for p in places for m in re.finditer(r"issue \d+", p.read_text())
    ]
    assert not found


def private_names_used(tree):
    """facecluster names starting with `_` that a module imports, or calls as an attribute."""
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("facecluster"):
            used += [alias.name for alias in node.names if alias.name.startswith("_")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            used.append(node.attr)
    return used


def test_benchmarks_use_only_public_names_of_facecluster():
    found = {}
    for script in PROJECT_ROOT.glob("bench/*.py"):
        tree = ast.parse(script.read_text())
        # The script's own private names (defined in it) are its business.
        own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        own |= {
            t.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Attribute)
        }
        names = [name for name in private_names_used(tree) if name not in own]
        if names:
            found[script.name] = names
    assert not found


def test_a_private_name_of_facecluster_is_caught():
    tree = ast.parse("from facecluster.workflow.experiment import _cluster\nprocessor._align(x)\n")
    assert private_names_used(tree) == ["_cluster", "_align"]


def test_unit_tests_run_no_snakemake():
    """conftest.run_snakemake is the tests' one way to run the workflow: tests/workflow's."""
    for test in (PROJECT_ROOT / "tests" / "unit").glob("test_*.py"):
        imported = [
            alias.name
            for node in ast.walk(ast.parse(test.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module == "conftest"
            for alias in node.names
        ]
        assert "run_snakemake" not in imported, test.name


def test_test_files_have_unique_names():
    """pytest imports test files by their name (no packages under tests/): two alike clash."""
    names = [p.name for p in (PROJECT_ROOT / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
