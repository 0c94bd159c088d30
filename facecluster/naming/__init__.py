"""Stage 3: give the persons of a sorting their names: reference photos, the names kept from
the last run, and the user's corrections; find given people in the sorted photos."""
