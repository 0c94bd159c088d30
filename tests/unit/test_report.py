"""The experiment report (facecluster.outputs.report) counts what it lists."""

import json

from facecluster.outputs.people_folders import PeopleRow, write_people
from facecluster.outputs.report import write_report
from facecluster.photos.ledger import LedgerRow, write_ledger

SUMMARY = {
    "status": "clustered",
    "choose_k_by": "silhouette",
    "chosen_k": 5,
    "n_faces": 120,
    "n_people": 0,
    "n_photos": 1,
    "notes": [],
    "per_k": {"5": {"silhouette": 0.4, "davies_bouldin": 1.0, "calinski_harabasz": 20.0, "inertia": 12.0}},
    "recipe": {
        "dataset": "photos",
        "model": "lfw_crops",
        "min_photos": 1,
        "sample": {},
        "reduce": {"components": 2, "l2_normalize": False, "method": "none", "whiten": False},
        "cluster": {"method": "agglomerative", "linkage": "average", "metric": "euclidean", "threshold": 1.1}
        | {"cannot_link": True, "cut": "fixed", "min_cluster_size": 2},
    },
    # Five persons, one of them hidden by a correction: four listed, 110 of their 114 faces.
    "people": {
        "persons": 5,
        "person_faces": 114,
        "person_photos": 90,
        "others_faces": 1,
        "set_aside": {"blurred": 0, "low_score": 0, "too_small": 0},
    },
    "naming": {"corrections": [], "hidden": ["person_0005"], "kept": [], "known": {}, "new": []},
}


def report(tmp_path, summary, persons):
    people = tmp_path / "people"
    people.mkdir()
    write_people(people / "people.tsv", [*persons, PeopleRow("others", (), 1, 1, "", None)])
    (tmp_path / "metrics.json").write_text(json.dumps(summary))
    write_ledger(tmp_path / "ledger.tsv", [LedgerRow("p1", "p1.jpg", "", status="ok", n_faces=1)])
    out = tmp_path / "report.md"
    write_report("photos", tmp_path / "metrics.json", tmp_path / "ledger.tsv", {}, out, people_folder=people)
    return out.read_text()


def test_the_report_counts_the_persons_it_lists_not_those_hidden_and_says_1_face(tmp_path):
    faces = [60, 30, 19, 1]
    persons = [PeopleRow(f"person_000{i + 1}", (i,), n, n, "", None) for i, n in enumerate(faces)]
    text = report(tmp_path, SUMMARY, persons)

    assert "4 persons: 110 faces; hidden by the corrections, not counted: person_0005." in text
    assert text.count("](people/person_000") == 8  # the table's four rows and their four sheets
    assert "Others: 1 face in no person's cluster (a person needs faces in 1 photo, or a name)" in text
    assert "1 faces" not in text and "1 photos" not in text


def test_without_hidden_persons_the_report_also_counts_their_photos(tmp_path):
    summary = SUMMARY | {"naming": SUMMARY["naming"] | {"hidden": []}}
    summary["people"] = SUMMARY["people"] | {"persons": 1, "person_faces": 1, "person_photos": 1}
    text = report(tmp_path, summary, [PeopleRow("Mádonna", (0,), 1, 1, "", None)])

    assert "1 person: 1 face in 1 photo." in text
