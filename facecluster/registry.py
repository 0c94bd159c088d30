"""Registries: every detector, embedder and clusterer is declared once, by name.

A component is a class in its own module of `facecluster/photos/detectors/`,
`facecluster/photos/embedders/` or `facecluster/clustering/clusterers/`, registered with the
package's registry. It declares

- `name` (what a config writes) and `description` (one line, for people);
- `settings`: the JSON-schema properties it takes, each with its default and
  description. The config schema is built from them (facecluster.workflow.config), and
  so is the documentation of the choices (`docs/components.md`);
- `model_files(settings)`: the files a job needs to build it, each a
  `ModelFile` naming the rule that makes it (a `PreparedModel` the workflow
  builds once, or a file the user pins by sha256);
- for embedders, `thresholds`: the calibrated distance thresholds.

Every module of a registry's package is imported the first time the registry
is looked into, so adding a component is one new file (and its tests).
Modules import heavy libraries (TensorFlow) inside the component, never at
module level: the registry imports them all.
"""

import copy
import hashlib
import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

# Where the workflow puts the model files it makes (relative to the working directory).
MODELS_FOLDER = "models"


def file_sha256(path):
    """The sha256 of the file at `path`, as sha256sum prints it."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class UnknownComponent(KeyError):
    """A name no component of a registry has."""

    def __str__(self):
        return self.args[0]


@dataclass(frozen=True)
class PreparedModel:
    """Model files the workflow makes once, into `models/<name>/`, by rule prepare_model.

    `build(folder)` writes them; `sources` are the files they are made from
    (the rule's inputs, so that a new copy of a source rebuilds them).
    """

    name: str
    build: object
    sources: tuple = ()

    @property
    def folder(self):
        return f"{MODELS_FOLDER}/{self.name}"

    @property
    def model_file(self):
        """The folder as a component's ModelFile (a job's input is the folder the rule makes)."""
        return ModelFile(self.folder, f"rule prepare_model (snakemake {self.folder})", self)


# Every PreparedModel a component declares, by name: the targets of rule prepare_model.
PREPARED_MODELS = {}


def prepared_model(name, build, sources=()):
    """Declare (once, at import) model files the workflow makes; returns the PreparedModel."""
    prepared = PreparedModel(name, build, tuple(sources))
    if PREPARED_MODELS.setdefault(name, prepared) is not prepared:
        raise ValueError(f"two prepared models are named {name!r}")
    return prepared


@dataclass(frozen=True)
class ModelFile:
    """A file (or folder) a component loads, and what makes it: a rule, or the user."""

    path: str
    made_by: str  # "rule prepare_model (...)" or what the user must do
    prepared: PreparedModel = None  # when the workflow makes it

    def require(self):
        """The path, or FileNotFoundError saying what makes it."""
        if not Path(self.path).exists():
            raise FileNotFoundError(f"{self.path} is missing: {self.made_by} makes it")
        return self.path


def model_paths(component, settings, files=None):
    """The paths a component is built with: `files` (a job's inputs), or where its
    model files are made; FileNotFoundError naming the rule when one is missing."""
    declared = component.model_files(settings)
    if files is None:
        return [model_file.require() for model_file in declared]
    files = [str(path) for path in files]
    if len(files) != len(declared):
        raise ValueError(
            f"{component.name} loads {len(declared)} model files "
            f"({', '.join(f.path for f in declared) or 'none'}), given {len(files)}"
        )
    for path, model_file in zip(files, declared):
        ModelFile(path, model_file.made_by).require()
    return files


class Component:
    """The base of every registered detector, embedder and clusterer."""

    name = None
    description = ""
    settings = {}
    required = ()  # settings without a default that must be given

    @classmethod
    def check(cls, settings):
        """A message when settings that each pass the schema do not go together; else None."""
        return None

    @classmethod
    def model_files(cls, settings):
        """The ModelFiles a job must hand to the constructor, in order; none by default."""
        return []


@dataclass
class Registry:
    """Components of one kind by name, and the config schema of that kind.

    `key` is the setting that names the component (`name`, or a clusterer's
    `method`); `common` are settings every component of the kind takes. Only the named
    component's defaults are filled in: two components may give one setting different
    defaults (a clusterer's `neighbors`).
    """

    kind: str
    package: str
    key: str = "name"
    common: dict = field(default_factory=dict)
    _by_name: dict = field(default_factory=dict)
    _loaded: bool = False

    def register(self, cls):
        """Class decorator: add `cls` under `cls.name`."""
        if cls.name in self._by_name:
            raise ValueError(f"two {self.kind}s are named {cls.name!r}")
        self._by_name[cls.name] = cls
        return cls

    def _load(self):
        # Importing the package's modules registers their components.
        if not self._loaded:
            package = importlib.import_module(self.package)
            for module in pkgutil.iter_modules(package.__path__):
                importlib.import_module(f"{self.package}.{module.name}")
            self._loaded = True

    @property
    def names(self):
        self._load()
        return sorted(self._by_name)

    def __getitem__(self, name):
        self._load()
        if name not in self._by_name:
            raise UnknownComponent(f"unknown {self.kind} {name!r} (known: {', '.join(self.names)})")
        return self._by_name[name]

    def components(self):
        return [self[name] for name in self.names]

    def schema(self):
        """The JSON schema of a `{key: name, ...settings}` mapping of this kind.

        Properties are the union of every component's settings (so a misspelt
        key is named with what is allowed); which ones the named component
        takes is checked by `check_keys`, and its defaults come from an
        if/then rule per component.
        """
        union = {}
        for component in self.components():
            for key, schema in {**self.common, **component.settings}.items():
                bare = _without_default(schema)
                if union.setdefault(key, bare) != bare:
                    raise ValueError(
                        f"{self.kind} setting {key!r} is declared differently by two "
                        f"{self.kind}s; give them one schema or two names"
                    )
        properties = {self.key: {"enum": self.names}}
        properties.update(union)
        rules = [
            {
                "if": {"properties": {self.key: {"const": component.name}}},
                "then": {
                    "properties": _defaults_only({**self.common, **component.settings}),
                    **({"required": list(component.required)} if component.required else {}),
                },
            }
            for component in self.components()
        ]
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [self.key],
            "properties": properties,
            "allOf": rules,
        }

    def check_keys(self, settings):
        """The keys of `settings` (as the user wrote them) its component does not take."""
        component = self[settings[self.key]]
        allowed = {self.key, *self.common, *component.settings}
        return sorted(set(settings) - allowed)

    def allowed_keys(self, name):
        return sorted({*self.common, *self[name].settings})

    def defaults(self, name):
        """{setting: default} that validation gives the component `name` where a config leaves
        the setting out (its own default over the common one)."""
        settings = _defaults_only({**self.common, **self[name].settings})
        return {key: schema["default"] for key, schema in settings.items()}


def _without_default(schema):
    """A setting's schema less what may differ between components: its default and description."""
    return {key: value for key, value in schema.items() if key not in ("default", "description")}


def _defaults_only(settings):
    return {
        key: {"default": copy.deepcopy(schema["default"])} for key, schema in settings.items() if "default" in schema
    }
