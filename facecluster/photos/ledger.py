"""The ledger: one row per file found in a dataset, saying what happened to it."""

import csv
from dataclasses import astuple, dataclass, fields

from facecluster.tables import tsv_writer

STATUSES = ("embedded", "no_face", "rejected")


@dataclass
class LedgerRow:
    id: str
    path: str
    label: str
    sha256: str = ""
    status: str = ""
    n_faces: int = 0
    reason: str = ""

    def reject(self, reason):
        self.status, self.n_faces, self.reason = "rejected", 0, reason
        return self

    def finish(self, record):
        """Fill status from a per-photo record (dict with 'faces')."""
        self.n_faces = len(record["faces"])
        if self.n_faces:  # the reason says how the faces were found where the detector tells (a crop's)
            self.status = "embedded"
            self.reason = "; ".join(sorted({face["how"] for face in record["faces"] if face.get("how")}))
        else:
            self.status, self.reason = "no_face", "no face found by the detector"
        return self


COLUMNS = [f.name for f in fields(LedgerRow)]


def write_ledger(path, rows):
    """Tab-separated, with a header; fields holding tabs, newlines or carriage returns are quoted."""
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = tsv_writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(row) for row in rows)


def read_ledger(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return [LedgerRow(**{**record, "n_faces": int(record["n_faces"])}) for record in reader]
