"""`python -m facecluster.calibrate`, the command's old form: it runs `facecluster calibrate`
(facecluster.workflow.cli), and says so."""

import sys

from facecluster.workflow.cli import main

if __name__ == "__main__":
    print("note: this command is now `facecluster calibrate` (.venv/bin/facecluster calibrate)", file=sys.stderr)
    main(["calibrate", *sys.argv[1:]])
