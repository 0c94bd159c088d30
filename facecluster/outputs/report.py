"""A readable Markdown report per experiment: the people found first, then what was run, how well
it did, the figures."""

import json
import os
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from facecluster.clustering.clusterers import CLUSTERERS
from facecluster.clustering.set_aside import REASONS
from facecluster.outputs.people_folders import CONTACT_SHEET, read_people
from facecluster.photos.dates import read_dates
from facecluster.photos.ledger import read_ledger
from facecluster.tables import OTHERS
from facecluster.workflow.paths import ResultPaths

# Columns of the per-K table, in reading order, with their headings.
EXTERNAL_COLUMNS = {
    "same_person_share": "same person",
    "purity": "purity",
    "ari": "ARI",
    "nmi": "NMI",
    "v_measure": "V",
    "pairwise_precision": "pair P",
    "pairwise_recall": "pair R",
    "pairwise_f1": "pair F1",
    "bcubed_precision": "B3 P",
    "bcubed_recall": "B3 R",
    "bcubed_f1": "B3 F1",
}
INTERNAL_COLUMNS = {
    "silhouette": "silhouette",
    "davies_bouldin": "Davies-Bouldin",
    "calinski_harabasz": "Calinski-Harabasz",
    "inertia": "inertia",
}
# The persons listed in the people index, and those whose contact sheet the report shows.
INDEX_PERSONS = 100
SHOWN_SHEETS = 6
# The photos whose dates have a note (dates.tsv has them all) the report lists.
DATE_NOTES_LISTED = 5
PLOT_CAPTIONS = {
    "scatter": "PCA 2-D view, coloured by person found (others in grey).",
    "labelled_scatter": "PCA 2-D view, coloured by person found (left; others in grey) and by true person (right).",
    "thumbnails": "The faces themselves at their PCA 2-D positions, framed in their person's colour.",
    "metrics_vs_k": "Scores against K; the dashed line is the chosen K.",
    "k_found": "The clusterer found K itself (no K swept): its scores.",
    "confusion": "People (rows) against clusters (columns), matched pairs on the diagonal: "
    "off-diagonal counts are faces grouped with someone else.",
    "contact_sheet": "The first faces of each person, most faces first, then others.",
}


def write_report(name, metrics_path, ledger_path, plots, out_path, *, people_folder, dates_path=None):
    """The report of an experiment; people_folder: its people folders (facecluster.outputs.people_folders), whose
    index opens the report and whose contact sheets it shows or links; dates_path: the dataset's dates.tsv
    (facecluster.photos.dates), or None."""
    summary = json.loads(Path(metrics_path).read_text())
    statuses = Counter(row.status for row in read_ledger(ledger_path))
    dates = list(read_dates(dates_path).values()) if dates_path is not None else None
    out_dir = Path(out_path).parent
    lines = [f"# Experiment `{name}`", ""]
    lines += _people(summary, Path(people_folder), out_dir)
    lines += _recipe(summary, statuses, dates)
    if summary["status"] == "clustered":
        lines += _results(summary)
        lines += _naming(summary["naming"])
    else:
        lines += ["## Not clustered", "", summary["reason"], ""]
    lines += ["## Figures", ""]
    for plot, path in plots.items():
        if plot == "confusion" and not summary["n_people"]:
            continue  # no labels: nothing to compare the persons with
        caption = PLOT_CAPTIONS[_caption_of(plot, summary)]
        lines += [f"![{plot}]({_link(path, out_dir)})", "", f"*{caption}*", ""]
    Path(out_path).write_text("\n".join(lines))


def _caption_of(plot, summary):
    if plot == "scatter" and summary["n_people"]:
        return "labelled_scatter"
    if plot == "metrics_vs_k" and summary["status"] == "clustered" and k_found(summary):
        return "k_found"
    return plot


def k_found(summary):
    """Whether the clusterer found K by itself (no K given to sweep), from an experiment's metrics.json."""
    return "k" not in summary["recipe"]["cluster"]


def _people(summary, folder, out_dir):
    """The people index (persons, their photos and faces), the first persons' contact sheets and
    a link to every other's, and where everyone else's faces went. Counts are of the persons listed:
    those the corrections hide are named apart."""
    index = read_people(folder / "people.tsv")
    persons = [row for row in index if row.folder != OTHERS]
    people = summary["people"]
    min_photos = summary["recipe"].get("min_photos", 1)
    aside = ", ".join(f"{people['set_aside'][r]} {r.replace('_', ' ')}" for r in REASONS if people["set_aside"][r])
    others = (
        f"Others: {count(people['others_faces'], 'face')} in no person's cluster (a person needs faces in "
        f"{count(min_photos, 'photo')}, or a name)"
    )
    if aside:
        others += f", {sum(people['set_aside'].values())} set aside as not worth sorting ({aside})"
    if len(persons) < len(index):
        others += f": [others/]({_link(folder / OTHERS, out_dir)})"
    listed = f"{count(len(persons), 'person')}: {count(sum(row.faces for row in persons), 'face')}"
    hidden = summary.get("naming", {}).get("hidden", [])
    if hidden:  # the photos of the persons listed are not known apart from those of the hidden ones
        persons_line = f"{listed}; hidden by the corrections, not counted: {', '.join(hidden)}."
    else:
        persons_line = f"{listed} in {count(people['person_photos'], 'photo')}."
    lines = ["## People", "", f"{persons_line} {others}.", ""]
    if persons:
        lines += ["| person | photos | faces |", "|---|---:|---:|"]
        for row in persons[:INDEX_PERSONS]:
            sheet = _link(folder / row.folder / CONTACT_SHEET, out_dir)
            lines.append(f"| [{row.folder}]({sheet}) | {row.photos} | {row.faces} |")
        if len(persons) > INDEX_PERSONS:
            lines.append(f"| ... {len(persons) - INDEX_PERSONS} more in people/people.tsv | | |")
        lines.append("")
    for row in persons[:SHOWN_SHEETS]:
        lines += [f"![{row.folder}]({_link(folder / row.folder / CONTACT_SHEET, out_dir)})", ""]
    if len(persons) > SHOWN_SHEETS:
        lines += ["Every other person's contact sheet: follow their name in the table (people/<person>/).", ""]
    return lines


def count(n, noun):
    """'1 face', '2 faces'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _link(path, out_dir):
    """A path relative to the report, as a Markdown link writes it."""
    return quote(Path(os.path.relpath(path, out_dir)).as_posix())


def _recipe(summary, statuses, dates):
    recipe = summary["recipe"]
    ledger = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    lines = [
        "## What was run",
        "",
        f"- dataset `{recipe['dataset']}` with model `{recipe['model']}` (ledger: {ledger})",
        *_dates(dates),
        f"- sample: {_describe(recipe.get('sample')) or 'every face'}",
        f"- reduction: {_describe_reduction(recipe['reduce'])}",
        f"- clustering: {_describe_clustering(recipe['cluster'])}",
        f"- {count(summary['n_faces'], 'face')} clustered, from {count(summary['n_photos'], 'photo')}"
        + (f" of {summary['n_people']} labelled people" if summary["n_people"] else ""),
        "",
    ]
    for note in summary["notes"]:
        lines.insert(-1, f"- note: {note}")
    return lines


def _dates(rows):
    """The dataset's photo dates (facecluster.photos.dates): how many dated, and the first notes
    (dates kept out, fields holding no date)."""
    if rows is None:
        return []
    noted = [row for row in rows if row.note]
    lines = [f"- photo dates: {sum(1 for row in rows if row.date)} of {count(len(rows), 'photo')} dated (dates.tsv)"]
    if noted:
        lines += [f"- **date notes** on {count(len(noted), 'photo')}; the first:"]
        lines += [f"  - `{row.relpath}`: {row.note}" for row in noted[:DATE_NOTES_LISTED]]
    return lines


def _results(summary):
    per_k = {int(k): scores for k, scores in summary["per_k"].items()}
    chosen = summary["chosen_k"]
    columns = {**(EXTERNAL_COLUMNS if "ari" in per_k[chosen] else {}), **INTERNAL_COLUMNS}
    lines = ["## Results", ""]
    if k_found(summary):
        lines += [f"The clusterer found K = {chosen} clusters by itself.", ""]
    elif len(per_k) > 1:
        lines += [
            f"K = {chosen} was chosen by the best {summary['choose_k_by']} "
            "(an internal score: it does not look at the labels).",
            "",
        ]
    if "same_person_share" in per_k[chosen]:
        scores = per_k[chosen]
        lines += [
            f"At K = {chosen}, **{scores['same_person_share']:.1%}** of the faces are "
            f"grouped with their own person (clusters matched to people one-to-one), "
            f"BCubed F1 {scores['bcubed_f1']:.3f}, ARI {scores['ari']:.3f}.",
            "",
        ]
    lines += ["| K | " + " | ".join(columns.values()) + " |", "|---:|" + "---:|" * len(columns)]
    for k, scores in sorted(per_k.items()):
        mark = f"**{k}**" if k == chosen else str(k)
        lines.append(f"| {mark} | " + " | ".join(_number(scores.get(c)) for c in columns) + " |")
    return lines + [""]


def _naming(naming):
    """Who was recognised, what was kept, and every correction that could not be honoured."""
    lines = ["## Names", ""]
    if "known_people" in naming:
        found = ", ".join(f"{name} ({count(faces, 'face')})" for name, faces in naming["known"].items()) or "none"
        lines += [f"- known people found: {found} (of {len(naming['known_people'])} with reference photos)"]
        if naming["known_without_reference"]:
            missing = ", ".join(naming["known_without_reference"])
            lines += [f"- **no face in the reference photos of**: {missing} (see their ledger)"]
    lines += [f"- names kept from the previous run: {len(naming['kept'])}; new: {len(naming['new'])}"]
    honoured = [c for c in naming["corrections"] if c["honoured"]]
    if naming["corrections"]:
        lines += [f"- corrections honoured: {len(honoured)} of {len(naming['corrections'])}"]
    lines += [
        f"- **not honoured**: {c['correction']}: {c['reason']}" for c in naming["corrections"] if not c["honoured"]
    ]
    return lines + _tags(naming.get("tags")) + [""]


def _tags(tags):
    """The face tags read from the photos and sidecars: how many read, used, disputed, and why not."""
    if not tags or not tags["read_tags"]:
        return ["- face tags in the photos, sidecars and Picasa files: not read (face_tags: false)"] if tags else []
    named = ", ".join(f"{name} ({count(faces, 'face')})" for name, faces in tags["named"].items())
    lines = [
        f"- face tags in the photos, sidecars and Picasa files: {tags['read']} read, {tags['used']} used, "
        f"{tags['disputed']} disputed" + (f"; people they name: {named}" if named else "") + " (tags.tsv)"
    ]
    lines += [f"- **tags disputed**: {dispute['text']}" for dispute in tags["disputes"]]
    if tags["problems"]:
        lines += [f"- **tags not read**: {count(tags['problems'], 'problem')}; the first:"]
        lines += [f"  - {problem}" for problem in tags["problem_list"]]
    return lines


def describe_unhonoured(by_experiment, results="results"):
    """Lines for the end of a run: per experiment, the corrections not honoured and why (as in its
    report.md); none when every correction was honoured."""
    lines = []
    for experiment, corrections in sorted(by_experiment.items()):
        report = ResultPaths(results).report(experiment)
        lines.append(
            f"facecluster: {len(corrections)} correction(s) of experiment {experiment} not honoured (see {report}):"
        )
        lines += [f"  {c['correction']}: {c['reason']}" for c in corrections]
    return lines


def _describe_clustering(settings):
    return CLUSTERERS[settings["method"]].describe(settings)


def _describe_reduction(settings):
    normalised = "L2-normalised, " if settings["l2_normalize"] else ""
    if settings["method"] == "none":
        return f"{normalised}no reduction (the embeddings themselves)"
    whitened = ", whitened" if settings["whiten"] else ""
    return f"{normalised}PCA to {settings['components']} components{whitened}"


def _describe(settings):
    return ", ".join(f"{key} {value}" for key, value in (settings or {}).items())


def _number(value):
    if value is None:
        return "-"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"
