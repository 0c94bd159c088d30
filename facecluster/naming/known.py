"""Reference photos (an experiment's `known:` folder): one embedding per photo, with the person's
name, and which known person is nearest each face."""

import numpy as np

from facecluster.photos.faces import read_faces
from facecluster.photos.ledger import read_ledger


class KnownPeople:
    """Reference faces: one embedding per reference photo, with the person's name."""

    def __init__(self, names, embeddings):
        self.names = list(names)
        self.embeddings = np.asarray(embeddings, np.float64)
        self.people = sorted(set(self.names))

    @classmethod
    def from_faces(cls, faces, embeddings):
        """From a processed `known:` folder (faces.tsv rows, labels = sub-folder names): the biggest
        face of each reference photo, as a reference photo may show someone else too."""
        biggest = {}
        for row, face in enumerate(faces):
            area = (face.right - face.left) * (face.bottom - face.top)
            if face.label and (face.photo_id not in biggest or area > biggest[face.photo_id][0]):
                biggest[face.photo_id] = (area, row)
        rows = sorted(row for _, row in biggest.values())
        return cls([faces[r].label for r in rows], np.asarray(embeddings)[rows])

    @classmethod
    def read(cls, processed):
        """(KnownPeople, the folder's sub-folder names) of a processed folder, from its
        {"embeddings", "faces", "ledger"} paths: a sub-folder whose photos show no face has a
        name but no reference."""
        people = cls.from_faces(read_faces(processed["faces"]), np.load(processed["embeddings"], allow_pickle=False))
        return people, sorted({row.label for row in read_ledger(processed["ledger"]) if row.label})

    def distances(self, X):
        """(faces, references) Euclidean distances (cdist: no (faces, references, dim) array in memory)."""
        from scipy.spatial.distance import cdist

        return cdist(np.asarray(X, np.float64), self.embeddings)

    def references_of(self, person):
        """A mask over the references: those of `person` (an index into people)."""
        return np.array([name == self.people[person] for name in self.names])

    def nearest(self, distances):
        """(person index, distance) per face: the known person whose nearest reference is closest."""
        per_person = np.stack([distances[:, self.references_of(p)].min(axis=1) for p in range(len(self.people))], 1)
        best = per_person.argmin(axis=1)
        return best, per_person[np.arange(len(distances)), best]
