"""The review app on a large run: how long it takes to start, and to save, apply and answer an edit.

On the results of `bench/library.py --workdir DIR` (a library's photos sorted by the real workflow),
through the app's own HTTP interface (Starlette's TestClient: no network, the same requests the
pages send):

- start: the experiment's spec resolved, data.js rewritten (as `facecluster review` does at start)
  and the first data.js served;
- each edit: the POST answered, i.e. the corrections file written, the naming step run again
  (Renaming), the people folders of what changed and data.js rewritten, and the new data sent back
  (the page's drawing of it is not timed). Then, apart, the time until the XMP sidecars of the
  photos it changed and the contact sheets of the folders it rebuilt are written (the app writes
  them after the answer, a part at a time). Each kind
  in turn, `--edits` of each: rename a person, move a face to nobody, merge two persons, hide a
  person, confirm a flagged face, the persons taken in turn from the largest; each edit is undone
  at once (the undo timed too), leaving the corrections file as it was.

    flock /tmp/fc-heavy.lock .venv/bin/python bench/review_app.py --workdir /tmp/fc-library-v4-0-600-2016x1512-run \\
        --config photos=/tmp/fc-library-v4-0-600-2016x1512/photos
"""

import argparse
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

from starlette.testclient import TestClient

from facecluster.outputs.assignments import read_assignments
from facecluster.workflow.config import validate_config
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.review_app import TOKEN_HEADER, Experiment, Review, make_app
from facecluster.workflow.review_cli import chosen_experiment, load_config
from facecluster.workflow.specs import resolve

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PORT = 8765
TOKEN = "bench"


def start(configfile, overrides):
    began = time.perf_counter()
    spec = resolve(validate_config(load_config(configfile, overrides)))
    paths = ResultPaths(str(Path("results").resolve()))
    experiment = Experiment(spec.experiments[chosen_experiment(spec, paths, None)], paths)
    reviewing = Review(experiment)
    data = reviewing.write_data()
    client = TestClient(make_app(reviewing, TOKEN, PORT), base_url=f"http://127.0.0.1:{PORT}")
    assert client.get("/data.js").status_code == 200
    return time.perf_counter() - began, client, reviewing, data


def the_edits(reviewing, data, count):
    """{kind: `count` edits (entries)} on the run's persons (largest first) and faces."""
    people = [p for p in data["persons"] if p["kind"] == "person"]
    rows = read_assignments(reviewing.experiment.paths.assignments(reviewing.experiment.name))
    flagged = [rows[n["face"]] for n in data["near"]]
    edits = {kind: [] for kind in ("rename", "move_out", "merge", "hide", "confirm")}
    for i in range(count):
        person = people[i % len(people)]
        face = rows[person["faces"][0]]
        edits["rename"].append([person["name"], f"bench {i}"])
        edits["move_out"].append({"photo": face.path, "face": face.face_index, "person": face.person, "to": "nobody"})
        edits["merge"].append([person["name"], people[(i + 1) % len(people)]["name"]])
        edits["hide"].append(person["name"])
        if flagged:
            f = flagged[i % len(flagged)]
            edits["confirm"].append({"photo": f.path, "face": f.face_index, "person": f.person})
    return {kind: entries for kind, entries in edits.items() if entries}


def post(client, version, action, kind, entry):
    headers = {TOKEN_HEADER: TOKEN, "origin": f"http://127.0.0.1:{PORT}"}
    began = time.perf_counter()
    sent = {"version": version, "edits": [{"action": action, "kind": kind, "entry": entry}]}
    answer = client.post("/api/edit", json=sent, headers=headers)
    took = time.perf_counter() - began
    assert answer.status_code == 200, answer.text
    return took, answer.json()["data"]["version"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="bench/library.py's --workdir")
    parser.add_argument("--configfile", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--config", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    os.chdir(args.workdir)
    startup, client, reviewing, data = start(args.configfile, args.config)
    faces = len(data["faces"])
    answered, drawn = defaultdict(list), defaultdict(list)
    version = data["version"]
    for kind, entries in the_edits(reviewing, data, args.edits).items():
        for entry in entries:
            for action, label in (("add", kind), ("undo", "undo")):
                took, version = post(client, version, action, kind, entry)
                began = time.perf_counter()
                reviewing.written()
                answered[label].append(took)
                drawn[label].append(time.perf_counter() - began)
    print(f"experiment {reviewing.experiment.name}: {faces} faces shown, {len(data['persons'])} persons")
    print("| | edits | answered: median s | worst s | sidecars and contact sheets written after: median s | worst s |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| start | 1 | {startup:.2f} | {startup:.2f} | | |")
    for label, values in answered.items():
        sheets = drawn[label]
        print(
            f"| {label} | {len(values)} | {statistics.median(values):.2f} | {max(values):.2f}"
            f" | {statistics.median(sheets):.2f} | {max(sheets):.2f} |"
        )
    every = [t for values in answered.values() for t in values]
    print(f"| every edit and undo | {len(every)} | {statistics.median(every):.2f} | {max(every):.2f} | | |")


if __name__ == "__main__":
    main()
