"""The documentation of the choices a config makes, built from the registries.

    .venv/bin/facecluster docs > docs/components.md

tests/test_registry.py checks that docs/components.md is up to date.
"""

import json

from facecluster.clustering.clusterers import CLUSTERERS
from facecluster.photos.detectors import DETECTORS
from facecluster.photos.embedders import EMBEDDERS

SECTIONS = [
    (DETECTORS, "models.<name>.detector", "facecluster/photos/detectors/"),
    (EMBEDDERS, "models.<name>.embedder", "facecluster/photos/embedders/"),
    (CLUSTERERS, "experiments.<name>.cluster", "facecluster/clustering/clusterers/"),
]


def components_markdown():
    lines = [
        "# Detectors, embedders and clusterers",
        "",
        "Made by `facecluster docs` from the registries (each component's own",
        "module declares its name, settings and defaults); do not edit by hand.",
        "",
    ]
    for registry, where, folder in SECTIONS:
        lines += [f"## {registry.kind.capitalize()}s (`{where}.{registry.key}`, `{folder}`)", ""]
        if registry.common:
            lines += [f"Every {registry.kind} takes:", "", *_settings(registry.common), ""]
        for component in registry.components():
            lines += [f"### `{component.name}`", "", component.description + ".", ""]
            if component.settings:
                lines += [*_settings(component.settings, component.required), ""]
            thresholds = getattr(component, "thresholds", None)
            if thresholds:
                calibrated = ", ".join(f"{metric} {value}" for metric, value in thresholds.items())
                lines += [f"Calibrated distance threshold (`threshold: auto`): {calibrated}.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _settings(settings, required=()):
    rows = []
    for key, schema in settings.items():
        default = (
            "required"
            if key in required
            else f"default `{json.dumps(schema['default'])}`"
            if "default" in schema
            else "optional"
        )
        rows.append(f"- `{key}` ({default}): {schema.get('description', '')}")
    return rows


if __name__ == "__main__":
    print(components_markdown(), end="")
