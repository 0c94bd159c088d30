"""The conda environments (envs/*.yaml) name the versions pyproject.toml pins, and every rule has one."""

import re
import tomllib

import pytest
import yaml

from conftest import PROJECT_ROOT

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
    assert {"photos.yaml", "aggregate.yaml"} <= {f.name for f in ENV_FILES}


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


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda f: f.name)
def test_every_rule_has_a_conda_environment_that_exists(rule_file):
    rules = re.split(r"^rule (\w+):", rule_file.read_text(), flags=re.M)[1:]
    for name, body in zip(rules[::2], rules[1::2]):
        found = re.search(r'^\s+conda:\s+"([^"]+)"', body, flags=re.M)
        assert found, f"rule {name} ({rule_file.name}) has no conda: file"
        assert (rule_file.parent / found[1]).resolve().is_file(), f"rule {name}: {found[1]} does not exist"
