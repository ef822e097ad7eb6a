"""cli.fuzz_regressions: every input a fuzzer found a bug with (rebuilt by
tests/malformed/fuzz_regressions.py) gives `lesionvol info` and `measure`
exit 1 and a message naming the file and the problem (or, for a valid input
that crashed a fuzzer, exit 0); never a crash, a hang
or a multi-gigabyte allocation."""
import os
import sys
import unittest

import lvtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "malformed"))
import fuzz_regressions  # noqa: E402

MEMORY = 2 << 30  # ulimit -v: a lying header must not make us allocate more


def sanitized(program):
    """AddressSanitizer reserves terabytes of address space at start-up, so
    an ASan build cannot run under ulimit -v; it checks allocations itself."""
    with open(program, "rb") as f:
        return b"__asan_init" in f.read()


class FuzzRegressions(unittest.TestCase):
    def test_fuzz_regressions__each_input_is_refused_cleanly(self):
        memory = None if sanitized(lvtest.program()) else MEMORY
        cases = fuzz_regressions.write_all(lvtest.tmpdir())
        self.assertTrue(cases)
        commands = ["info"]
        if lvtest.run(["measure", "--help"])[0] == 0:
            commands.append("measure")
        for (name, why, path, expect, code), command in (
                (c, k) for c in cases for k in commands):
            with self.subTest(case=name, command=command):
                rc, out, err = lvtest.run([command, path], timeout=30,
                                          memory_bytes=memory)
                self.assertLess(rc, 128, "%s crashed (%s): %s" % (name, why, err))
                self.assertEqual(rc, code, "%s: exit %d, stderr: %s" % (name, rc, err))
                if code:
                    self.assertIn(path, err, "%s: the message must name the file" % name)
                self.assertIn(expect, err, "%s: %s" % (name, why))
                self.assertEqual(lvtest.stray_stderr_lines(err), [],
                                 "%s: only our own messages on stderr" % name)


if __name__ == "__main__":
    lvtest.program()
    unittest.main()
