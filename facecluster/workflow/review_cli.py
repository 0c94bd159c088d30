"""`facecluster review`: the review app of an experiment (facecluster.workflow.review_app), started
from the working folder of its runs, with the same config as they had."""

import argparse
import secrets
import socket
import sys
import webbrowser
from pathlib import Path

import yaml

from facecluster.workflow.config import ConfigError, validate_config
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.review_app import Experiment, Review, make_app
from facecluster.workflow.specs import resolve


def parse_args(argv, prog):
    parser = argparse.ArgumentParser(prog=prog, description="serve an experiment's review pages on this computer")
    parser.add_argument("experiment", nargs="?", help="default: the experiment whose results were written last")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--no-browser", action="store_true", help="print the address, open no browser")
    parser.add_argument("--results", default="results", help="the results folder (default results)")
    parser.add_argument("--configfile", default="config.yaml", help="the run's config (default config.yaml)")
    parser.add_argument(
        "--config", nargs="*", default=[], metavar="KEY=VALUE", help="as snakemake's --config (photos=PATH)"
    )
    return parser.parse_args(argv)


def load_config(configfile, overrides):
    """The config as Snakemake reads it: the file, then each KEY=VALUE (a YAML value) over it."""
    config = yaml.safe_load(Path(configfile).read_text(encoding="utf-8")) or {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--config {item!r}: expected KEY=VALUE")
        config[key] = yaml.safe_load(value)
    return config


def chosen_experiment(spec, paths, name):
    """The experiment asked for, else the one whose assignments.tsv was written last."""
    if name is not None:
        if name not in spec.experiments:
            raise ConfigError(f"no experiment {name!r} in the config (it has {', '.join(spec.experiments)})")
        return name
    written = {e: Path(paths.assignments(e)) for e in spec.experiments}
    made = [(path.stat().st_mtime, e) for e, path in written.items() if path.exists()]
    if not made:
        raise ConfigError(f"no experiment has results in {paths.root}/ yet: run the workflow first")
    return max(made)[1]


def main(argv=None, prog="facecluster review"):
    import uvicorn

    args = parse_args(argv, prog)
    try:
        spec = resolve(validate_config(load_config(args.configfile, args.config)))
        paths = ResultPaths(args.results)
        name = chosen_experiment(spec, paths, args.experiment)
    except (ConfigError, OSError, yaml.YAMLError) as error:
        sys.exit(f"{prog}: {error}")
    experiment = Experiment(spec.experiments[name], paths)
    if not (experiment.review / "index.html").exists():
        sys.exit(f"{prog}: {experiment.review} does not exist: run the workflow first")
    reviewing = Review(experiment)
    reviewing.write_data()  # the pages as the files are now (a corrections file edited by hand)
    listening = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((args.host, args.port))
    port = listening.getsockname()[1]
    token = secrets.token_urlsafe(24)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}/?token={token}"
    # Flushed: the address reaches a pipe (a script, a test) at once.
    print(f"Reviewing experiment {name}: {url}", flush=True)
    print(f"(corrections saved to {experiment.corrections}; Ctrl-C stops)", flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(make_app(reviewing, token, port, args.host), log_level="warning"))
    server.run(sockets=[listening])
    reviewing.written()  # the sidecars and contact sheets of the last edits, before the app ends
