#!/bin/sh
# tools/update-readme.sh [PROGRAM]: regenerate README.md's command reference
# from the command descriptors (`PROGRAM --help-markdown`; default
# build/lesionvol), so help and documentation never drift.
set -eu
cd "$(dirname "$0")/.."
prog=$(realpath "${1:-build/lesionvol}")
LESIONVOL="$prog" LESIONVOL_SOURCE="$PWD" PYTHONPATH="$PWD/tests" \
	exec /usr/bin/python3 tests/cli/test_readme_reference.py --fix
