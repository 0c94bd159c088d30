"""The `facecluster` command: the tools a user runs besides `snakemake`.

.venv/bin/facecluster calibrate FOLDER --model NAME   an embedder's thresholds, from labelled photos
.venv/bin/facecluster docs                            docs/components.md, from the registries
.venv/bin/facecluster review [EXPERIMENT]             the review pages served, each correction applied
                                                      as it is made (docs/review.md)
.venv/bin/facecluster xmp write EXPERIMENT --into-sidecars [--dry-run] [--lightroom-names]
                                                      the names into the sidecars next to the photos,
                                                      every other tag kept (docs/xmp.md)
"""

import argparse
import sys


def _calibrate(argv):
    from facecluster.clustering.calibrate import main

    main(argv, prog="facecluster calibrate")


def _docs(argv):
    from facecluster.workflow.docs import components_markdown

    argparse.ArgumentParser(prog="facecluster docs", description="print docs/components.md").parse_args(argv)
    print(components_markdown(), end="")


def _review(argv):
    from facecluster.workflow.review_cli import main

    main(argv, prog="facecluster review")


def _xmp(argv):
    from facecluster.workflow.xmp_cli import main

    main(argv, prog="facecluster xmp")


COMMANDS = {
    "calibrate": (_calibrate, "measure an embedder's distance thresholds on labelled photos"),
    "docs": (_docs, "print docs/components.md, made from the registered components"),
    "review": (_review, "review an experiment's people in the browser, corrections applied at once"),
    "xmp": (_xmp, "write an experiment's names into the sidecars next to its photos (xmp write --into-sidecars)"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        listed = "\n".join(f"  {name:<10} {help}" for name, (_, help) in COMMANDS.items())
        print(f"usage: facecluster COMMAND [arguments]\n\ncommands:\n{listed}", file=sys.stderr)
        raise SystemExit(0 if argv[:1] in (["-h"], ["--help"]) else 2)
    run, _ = COMMANDS[argv[0]]
    run(argv[1:])


if __name__ == "__main__":
    main()
