"""Stage 1, per photo: list a folder, decode each photo, detect and align its faces, embed each
face, and keep every photo's results in files of its own (cached by content); then gather a
dataset's photos into one table of faces, one array of embeddings and a ledger of what became
of every file."""
