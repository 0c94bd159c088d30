"""The conda environments (envs/*.yaml) name the versions pyproject.toml pins, and every rule has one."""

import ast
import importlib.metadata
import re
import sys
import tomllib

import pytest
import yaml
from conftest import PROJECT_ROOT
from packaging.requirements import Requirement

ENV_FILES = sorted((PROJECT_ROOT / "envs").glob("*.yaml"))
RULE_FILES = sorted((PROJECT_ROOT / "rules").glob("*.smk"))


def split_requirement(text):
    """'dlib_bin == 20.0' -> ('dlib-bin', '==20.0'): the normalised name and the version part."""
    name, spec = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*", text).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), spec.replace(" ", "")


def pyproject_pins():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return dict(map(split_requirement, requirements)), project["requires-python"]


def env_pins(env_file):
    """(name, version part, how it was written) for every package of a conda environment file."""
    for dependency in yaml.safe_load(env_file.read_text())["dependencies"]:
        if isinstance(dependency, dict):
            for requirement in dependency["pip"]:
                yield *split_requirement(requirement), f"pip: {requirement}"
        else:
            name, _, version = dependency.partition("=")
            yield name, "==" + version.lstrip("=") if version else "", dependency


def test_there_are_environments():
    assert {"files.yaml", "models.yaml", "aggregate.yaml"} <= {f.name for f in ENV_FILES}


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda f: f.name)
def test_every_package_is_pinned_as_in_pyproject(env_file):
    pins, requires_python = pyproject_pins()
    for name, spec, written in env_pins(env_file):
        if name == "pip":
            continue
        if name == "python":
            assert spec == "==3.11" and requires_python == ">=3.11,<3.12", (written, requires_python)
            continue
        assert name in pins, f"{env_file.name}: {written!r} is not pinned in pyproject.toml"
        assert spec == pins[name], f"{env_file.name}: {written!r}, but pyproject.toml pins {name}{pins[name]}"


def rules_of(rule_file):
    """(name, body) of every rule of a .smk file."""
    parts = re.split(r"^rule (\w+):", rule_file.read_text(), flags=re.M)[1:]
    return list(zip(parts[::2], parts[1::2]))


def directive(body, name):
    found = re.search(rf'^\s+{name}:\s+"([^"]+)"', body, flags=re.M)
    return found and found[1]


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda f: f.name)
def test_every_rule_has_a_conda_environment_that_exists(rule_file):
    for name, body in rules_of(rule_file):
        conda = directive(body, "conda")
        assert conda, f"rule {name} ({rule_file.name}) has no conda: file"
        assert (rule_file.parent / conda).resolve().is_file(), f"rule {name}: {conda} does not exist"


def normalised(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_closure(names):
    """The distributions `names` pull in, following the installed packages' own requirements."""
    closure, pending = set(), [normalised(n) for n in names]
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(normalised(requirement.name))
    return closure


def module_level_imports(path):
    """Top-level names a Python file imports when it is loaded (imports inside functions are lazy)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def imported_distributions(script):
    """The distributions a script loads: its own imports and the project modules' it reaches."""
    providers = importlib.metadata.packages_distributions()
    distributions, seen, pending = set(), set(), [script]
    while pending:
        path = pending.pop()
        for name in module_level_imports(path):
            if name.split(".")[0] == "facecluster":
                module = PROJECT_ROOT / (name.replace(".", "/") + ".py")
                if module.is_file() and module not in seen:
                    seen.add(module)
                    pending.append(module)
            elif name.split(".")[0] not in sys.stdlib_module_names:
                distributions.update(normalised(d) for d in providers.get(name.split(".")[0], []))
    return distributions


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda f: f.name)
def test_every_rules_environment_holds_what_its_script_imports(rule_file):
    """A package a script loads but its rule's environment lacks would fail only under --sdm conda."""
    for name, body in rules_of(rule_file):
        script = directive(body, "script")
        if not script:
            continue
        env_file = (rule_file.parent / directive(body, "conda")).resolve()
        available = installed_closure(pin[0] for pin in env_pins(env_file))
        missing = imported_distributions((rule_file.parent / script).resolve()) - available
        assert not missing, f"rule {name}: {script} imports {sorted(missing)}, not in {env_file.name}"
