#!/usr/bin/env bash
# Set up (once) and run: `bash quickstart.sh demo` or `bash quickstart.sh test`.
# Needs Python 3.11; everything else is installed into .venv from PyPI.
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
venv=.venv
# The demo installs facecluster alone; the tests add the test extra (pytest, linters, and
# pillow-heif to write HEIC files: GPL-2.0 wheels no user needs).
extra=""
[ "${1:-}" = test ] && extra="[test]"
stamp="$venv/.installed$extra-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "facecluster needs Python 3.11, found " + sys.version' 
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -e ".$extra"
  touch "$stamp"
fi

case "${1:-}" in
  demo) shift; exec "$venv/bin/snakemake" --cores all "$@" ;;
  test) shift; exec "$venv/bin/python" -m pytest "$@" ;;
  *) echo "usage: bash quickstart.sh demo|test [extra arguments]" >&2; exit 2 ;;
esac
