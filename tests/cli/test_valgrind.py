"""cli.valgrind: tests/valgrind/run.sh under ctest: the end-to-end commands on
real and broken files run under valgrind memcheck with no leak, invalid access
or uninitialised read (skipped for sanitizer builds and without valgrind)."""
import os
import subprocess
import sys

import lvtest

script = os.path.join(lvtest.SOURCE, "tests", "valgrind", "run.sh")
p = subprocess.run(["sh", script, lvtest.program()], timeout=600)
sys.exit(p.returncode)
