"""`facecluster xmp write EXPERIMENT --into-sidecars`: the experiment's names into the sidecars next to
its photos, every other tag kept (facecluster.outputs.photo_sidecars, docs/xmp.md)."""

import argparse
import sys
from pathlib import Path

from facecluster.workflow.paths import ResultPaths


def parse_args(argv, prog):
    parser = argparse.ArgumentParser(
        prog=prog,
        description="put an experiment's names into the XMP sidecars next to its photos, keeping every other tag",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the face regions of the experiment's people")
    write.add_argument("experiment", help="the experiment (results/experiments/EXPERIMENT/)")
    write.add_argument(
        "--into-sidecars",
        action="store_true",
        help="into the sidecars next to the photos (photo.jpg.xmp; created where missing, a .bak kept of each changed)",
    )
    write.add_argument("--dry-run", action="store_true", help="list what would change, write nothing")
    write.add_argument(
        "--lightroom-names",
        action="store_true",
        help="the sidecar named photo.xmp (Lightroom's) instead of photo.jpg.xmp",
    )
    write.add_argument("--results", default="results", help="the results folder (default results)")
    return parser.parse_args(argv)


def main(argv=None, prog="facecluster xmp"):
    from facecluster.outputs.photo_sidecars import write_into_sidecars

    args = parse_args(argv, prog)
    if not args.into_sidecars:
        sys.exit(
            f"{prog} write: say where: --into-sidecars (next to the photos); the sidecars under "
            f"{ResultPaths(args.results).xmp(args.experiment)}/ are written by every run"
        )
    assignments = Path(ResultPaths(args.results).assignments(args.experiment))
    if not assignments.is_file():
        sys.exit(f"{prog} write: {assignments} does not exist: run the workflow for {args.experiment} first")
    changes = write_into_sidecars(assignments, lightroom_names=args.lightroom_names, dry_run=args.dry_run)
    for change in changes:
        if change.action != "unchanged" or change.notes:
            print(change.describe())
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "update", "skipped")}
    verb = "would be" if args.dry_run else "were"
    print(
        f"{counts['create']} sidecars {verb} created, {counts['update']} updated (a .bak kept of each), "
        f"{counts['skipped']} skipped, {len(changes) - sum(counts.values())} unchanged"
        + (" (dry run: nothing written)" if args.dry_run else "")
    )
