"""lvtest: helpers shared by the Python tests (run the program, find data).

Every test script runs under ctest with these environment variables:
LESIONVOL (the built program), LESIONVOL_REALDATA (../shared/realdata),
LESIONVOL_SOURCE (the repository root). Exit code 77 means "skipped".
"""
import atexit
import os
import resource
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

PROGRAM = os.environ.get("LESIONVOL", "")
SOURCE = os.environ.get(
    "LESIONVOL_SOURCE", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REALDATA = os.environ.get("LESIONVOL_REALDATA",
                          os.path.join(SOURCE, "..", "shared", "realdata"))


def skip(reason):
    """Print why and exit 77, which ctest reports as 'skipped'."""
    print("SKIP: " + reason)
    sys.exit(SKIP)


def program():
    """Path of the lesionvol program; skips when it was not built."""
    if not PROGRAM or not os.access(PROGRAM, os.X_OK):
        skip("LESIONVOL is not set to the built program (run through ctest)")
    return PROGRAM


def limit_memory(max_bytes):
    """A preexec_fn for subprocess that caps the address space (ulimit -v)."""
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    return apply


_sanitized = None


def sanitized():
    """Whether the program was built with AddressSanitizer (-DLESIONVOL_SANITIZE=ON)."""
    global _sanitized
    if _sanitized is None:
        with open(program(), "rb") as f:
            _sanitized = b"__asan_init" in f.read()
    return _sanitized


def run(args, timeout=60, memory_bytes=None, cwd=None, env=None, stdin=None):
    """Run lesionvol with @args; returns (returncode, stdout, stderr) as text.

    A negative return code (killed by a signal) is reported as 128 + signal,
    like a shell would, so 'rc < 128' means 'did not crash'. A timeout raises
    subprocess.TimeoutExpired (a hang is a failure). @memory_bytes caps the
    address space like `ulimit -v`; under ASan, which reserves terabytes of
    address space for its shadow memory, it caps each allocation instead.
    """
    cmd = [program()] + [str(a) for a in args]
    preexec = None
    if memory_bytes and sanitized():
        env = dict(os.environ if env is None else env)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":max_allocation_size_mb=%d:allocator_may_return_null=1"
                               % (memory_bytes >> 20)).lstrip(":")
    elif memory_bytes:
        preexec = limit_memory(memory_bytes)
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=cwd, env=env,
                       stdin=subprocess.DEVNULL if stdin is None else stdin,
                       preexec_fn=preexec)
    rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return (rc, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def realdata(*parts):
    """Path under ../shared/realdata; skips the whole test when it is absent."""
    path = os.path.join(REALDATA, *parts)
    if not os.path.exists(path):
        skip("real data not found at %s (set LESIONVOL_REALDATA)" % path)
    return path


def tmpdir():
    """A fresh temporary folder, removed when the test exits."""
    d = tempfile.mkdtemp(prefix="lesionvol-test-")
    atexit.register(shutil.rmtree, d, True)
    return d


def stray_stderr_lines(stderr):
    """Lines on stderr that lesionvol did not write (niftilib chatter...).

    Every message of ours starts with 'lesionvol' (errors, warnings) or is
    part of a usage text ('usage:', 'Try '); anything else leaked.
    """
    bad = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        if line.startswith(("lesionvol", "usage:", "Try ", "  ")):
            continue
        bad.append(line)
    return bad
