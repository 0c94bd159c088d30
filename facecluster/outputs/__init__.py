"""Stage 4: what a person reads: assignments, people folders and contact sheets, plots, the
report, the review pages and XMP sidecars."""
