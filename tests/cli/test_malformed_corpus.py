#!/usr/bin/env python3
"""cli.malformed_corpus: every case of the hostile-input corpus
(tests/malformed/make_corpus.py: broken and lying images, odd files, masks on
another grid, bad cohort manifests, odd paths that must work) gives no crash
(exit < 128, no sanitizer report), the documented exit code, a message naming the
file and the problem, only lesionvol's own lines on stderr, and the values
numpy expects for the files that must be read; each run is capped at 2 GiB
of address space (`ulimit -v`; under ASan, which reserves terabytes of
address space, each allocation is capped instead), so a header that talks the
loader into a huge allocation fails the test.
"""
import concurrent.futures
import json
import math
import os
import sys
import unittest

import lvtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "malformed"))
import make_corpus  # noqa: E402

MEMORY = 2 << 30  # 2 GiB, as `ulimit -v 2097152`


def same(got, want):
    if isinstance(want, float) or isinstance(want, int) and not isinstance(want, bool):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return False
        if math.isnan(want):
            return math.isnan(got)
        return got == want or abs(got - want) <= 1e-9 * max(abs(want), 1e-300)
    if isinstance(want, list):
        return (isinstance(got, list) and len(got) == len(want)
                and all(same(g, w) for g, w in zip(got, want)))
    return got == want


class MalformedCorpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lvtest.tmpdir()
        cls.cases = make_corpus.write_all(cls.dir)

    def test_corpus_is_large_and_distinct(self):
        names = [c["name"] for c in self.cases]
        self.assertEqual(len(names), len(set(names)))
        self.assertGreaterEqual(sum(c["exit"] != 0 for c in self.cases), 30)
        with open(os.path.join(self.dir, "manifest.json")) as f:
            self.assertEqual(json.load(f), self.cases)

    def run_case(self, case):
        return lvtest.run(case["args"], timeout=60, memory_bytes=MEMORY, cwd=self.dir)

    def check(self, case, rc, out, err):
        if lvtest.sanitized():
            # allocator_may_return_null=1 (lvtest.run's cap) warns first
            err = "\n".join(l for l in err.splitlines()
                            if "WARNING: AddressSanitizer failed to allocate" not in l)
        what = "%s (lesionvol %s): exit %d\nstderr: %s" % (
            case["name"], " ".join(case["args"]), rc, err)
        self.assertLess(rc, 128, "crashed: " + what)
        self.assertNotIn("AddressSanitizer", err, what)
        self.assertNotIn("runtime error", err, what)
        self.assertEqual(rc, case["exit"], what)
        if rc != 2:  # a usage error may print the usage text
            self.assertEqual(lvtest.stray_stderr_lines(err), [],
                             "only lesionvol's own messages on stderr: " + what)
        self.assertIn(case["expect"].lower(), err.lower(), what)
        if rc in (1, 4, 70):
            self.assertIn("error:", err, what)
        if case["file"]:
            self.assertIn(case["file"], err, "the message must name the file: " + what)
        if case["stdout"]:
            self.assertIn(case["stdout"], out, what)
        if case["json"]:
            report = json.loads(out)
            for key, want in case["json"].items():
                self.assertTrue(same(report.get(key), want),
                                "%s: %s is %r, numpy says %r" % (
                                    case["name"], key, report.get(key), want))
        if case["args"][:1] == ["cohort"] and rc == 1:
            out_dir = os.path.join(self.dir, case["args"][-1])
            self.assertFalse(os.path.exists(out_dir), "nothing is written for " + what)

    def test_every_case(self):
        skipped = [c["name"] for c in self.cases if c["needs_non_root"] and os.geteuid() == 0]
        cases = [c for c in self.cases if c["name"] not in skipped]
        # two at a time: the runs are short and mostly start-up
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(self.run_case, cases))
        for case, (rc, out, err) in zip(cases, results):
            with self.subTest(case=case["name"]):
                self.check(case, rc, out, err)
        for name in skipped:
            print("note: case %s skipped: running as root, which reads files "
                  "whatever their permissions" % name, file=sys.stderr)


if __name__ == "__main__":
    lvtest.program()
    unittest.main()
