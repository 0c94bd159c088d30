"""A readable Markdown report per experiment: what was run, how well it did, the figures."""

import json
import os
from collections import Counter
from pathlib import Path

from facecluster.ledger import read_ledger

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
PLOT_CAPTIONS = {
    "scatter": "PCA 2-D view, coloured by cluster (left) and by true person (right).",
    "thumbnails": "The faces themselves at their PCA 2-D positions, framed in their cluster's colour.",
    "metrics_vs_k": "Scores against K; the dashed line is the chosen K.",
    "confusion": "People (rows) against clusters (columns), matched pairs on the diagonal: "
    "off-diagonal counts are faces grouped with someone else.",
    "contact_sheet": "The first faces of each cluster, biggest clusters first.",
}


def write_report(name, metrics_path, ledger_path, plots, out_path):
    summary = json.loads(Path(metrics_path).read_text())
    statuses = Counter(row.status for row in read_ledger(ledger_path))
    out_dir = Path(out_path).parent
    lines = [f"# Experiment `{name}`", ""]
    lines += _recipe(summary, statuses)
    if summary["status"] == "clustered":
        lines += _results(summary)
        lines += _naming(summary["naming"])
    else:
        lines += ["## Not clustered", "", summary["reason"], ""]
    lines += ["## Figures", ""]
    for plot, path in plots.items():
        relative = Path(os.path.relpath(path, out_dir)).as_posix()
        lines += [f"![{plot}]({relative})", "", f"*{PLOT_CAPTIONS[plot]}*", ""]
    Path(out_path).write_text("\n".join(lines))


def _recipe(summary, statuses):
    recipe = summary["recipe"]
    ledger = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    lines = [
        "## What was run",
        "",
        f"- dataset `{recipe['dataset']}` with model `{recipe['model']}` (ledger: {ledger})",
        f"- sample: {_describe(recipe.get('sample')) or 'every face'}",
        f"- reduction: {_describe_reduction(recipe['reduce'])}",
        f"- clustering: {_describe_clustering(recipe['cluster'])}",
        f"- {summary['n_faces']} faces from {summary['n_photos']} photos of {summary['n_people']} labelled people",
        "",
    ]
    for note in summary["notes"]:
        lines.insert(-1, f"- note: {note}")
    return lines


def _results(summary):
    per_k = {int(k): scores for k, scores in summary["per_k"].items()}
    chosen = summary["chosen_k"]
    columns = {**(EXTERNAL_COLUMNS if "ari" in per_k[chosen] else {}), **INTERNAL_COLUMNS}
    lines = ["## Results", ""]
    if "k" not in summary["recipe"]["cluster"]:
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
        found = ", ".join(f"{name} ({faces} faces)" for name, faces in naming["known"].items()) or "none"
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
    return lines + [""]


def describe_unhonoured(by_experiment, results="results"):
    """Lines for the end of a run: per experiment, the corrections not honoured and why (as in its
    report.md); none when every correction was honoured."""
    lines = []
    for experiment, corrections in sorted(by_experiment.items()):
        report = f"{results}/experiments/{experiment}/report.md"
        lines.append(
            f"facecluster: {len(corrections)} correction(s) of experiment {experiment} not honoured (see {report}):"
        )
        lines += [f"  {c['correction']}: {c['reason']}" for c in corrections]
    return lines


def _describe_clustering(settings):
    method = settings["method"]
    if "k" in settings:
        how = f"K {settings['k']}"
    elif "threshold" in settings:
        how = f"{settings['metric']} distance threshold {settings['threshold']}"
    else:
        how = f"min_cluster_size {settings['min_cluster_size']}, min_samples {settings['min_samples']}"
    if method == "agglomerative":
        method = f"agglomerative ({settings['linkage']} linkage)"
    elif method == "graph":
        method = f"graph ({settings['algorithm']}, {settings['neighbors']} neighbours)"
    cannot_link = ", cannot-link" if settings["cannot_link"] else ""
    return f"{method}, {how}{cannot_link}"


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
