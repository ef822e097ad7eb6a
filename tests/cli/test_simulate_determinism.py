#!/usr/bin/env python3
"""cli.simulate_determinism: `lesionvol simulate` gives the same bytes for the
same options, whatever the thread count, and refuses bad options.

- --threads 1 and --threads 2 write byte-identical datasets (SHA-256 of every
  file), and so do two runs of the same command;
- another seed changes every image;
- a participant's files do not depend on how many participants or sessions
  the cohort has;
- sample_data/ is what the command in sample_data/README.md makes, byte for
  byte (so a build on another machine reproduces it exactly);
- bad option values exit 2 with a message; a non-empty output folder is
  refused (exit 2) unless --force, which leaves other files alone; an output
  path that is a file exits 4.
"""
import hashlib
import os
import re
import unittest

import lvtest

SMALL = ["--voxel-size", "3", "--dims", "61x73x61"]


def digests(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


class SimulateDeterminism(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = lvtest.tmpdir()
        cls.runs = {}
        for name, extra in (("t1", ["--threads", "1"]), ("t2", ["--threads", "2"]),
                            ("t2b", ["--threads", "2"]), ("seed", ["--seed", "4"]),
                            ("two", ["--subjects", "2"]), ("one_ses", ["--sessions", "1"])):
            args = ["--subjects", "3", "--sessions", "2", "--seed", "3"] + SMALL
            # later options of the same name are refused, so drop the defaults
            for i in range(0, len(extra), 2):
                if extra[i] in args:
                    j = args.index(extra[i])
                    del args[j:j + 2]
            out = os.path.join(cls.tmp, name)
            rc, _, err = lvtest.run(["simulate", "-o", out, "-q"] + args + extra, timeout=300)
            assert rc == 0, "%s: exit %d: %s" % (name, rc, err)
            cls.runs[name] = digests(out)

    def test_thread_count_does_not_change_a_byte(self):
        t1, t2 = self.runs["t1"], self.runs["t2"]
        self.assertEqual(len(t1), 2 * 3 * 2 + 5)  # 2 images x 6 scans, 3 tables, 2 json
        self.assertEqual(sorted(t1), sorted(t2))
        for name in t1:
            self.assertEqual(t1[name], t2[name], "%s differs between 1 and 2 threads" % name)
        self.assertEqual(self.runs["t2"], self.runs["t2b"])

    def test_another_seed_changes_every_image(self):
        a, b = self.runs["t1"], self.runs["seed"]
        images = [n for n in a if n.endswith(".nii.gz")]
        self.assertEqual(len(images), 12)
        for name in images:
            self.assertNotEqual(a[name], b[name], name)
        self.assertNotEqual(a["truth.tsv"], b["truth.tsv"])

    def test_participants_do_not_depend_on_cohort_size(self):
        full, two, one = self.runs["t1"], self.runs["two"], self.runs["one_ses"]
        for name, digest in two.items():
            if name.startswith("sub-"):
                self.assertEqual(digest, full[name], name)
        self.assertFalse(any(n.startswith("sub-03") for n in two))
        for name, digest in one.items():
            if name.startswith("sub-"):
                self.assertIn("ses-01", name)
                self.assertEqual(digest, full[name], name)

    def test_sample_data_is_reproduced_byte_for_byte(self):
        sample = os.path.join(lvtest.SOURCE, "sample_data")
        if not os.path.isdir(sample):
            self.skipTest("no sample_data/")
        with open(os.path.join(sample, "README.md"), encoding="utf-8") as f:
            cmd = re.search(r"^lesionvol simulate -o sample_data (.*)$", f.read(), re.M)
        self.assertIsNotNone(cmd, "sample_data/README.md must give the command line")
        out = os.path.join(self.tmp, "sample_data")
        rc, _, err = lvtest.run(["simulate", "-o", out, "-q"] + cmd.group(1).split(),
                                timeout=300)
        self.assertEqual(rc, 0, err)
        want = {k: v for k, v in digests(sample).items() if k != "README.md"}
        got = digests(out)
        self.assertEqual(sorted(got), sorted(want))
        for name in want:
            self.assertEqual(got[name], want[name],
                             "%s differs from what its command makes now; if the "
                             "generator changed on purpose, regenerate sample_data/ "
                             "with that command and --force" % name)

    def test_bad_options_exit_2(self):
        out = os.path.join(self.tmp, "never")
        bad = [
            [],                                    # no --output-dir
            ["-o", out, "--dims", "10x10"],
            ["-o", out, "--dims", "0x10x10"],
            ["-o", out, "--dims", "8x100x100"],
            ["-o", out, "--dims", "64x64x64x2"],
            ["-o", out, "--voxel-size", "-1"],
            ["-o", out, "--voxel-size", "1,2"],
            ["-o", out, "--voxel-size", "abc"],
            ["-o", out, "--datatype", "int32"],
            ["-o", out, "--subjects", "0"],
            ["-o", out, "--sessions", "13"],
            ["-o", out, "--groups", "a,a"],
            ["-o", out, "--groups", "a,,b"],
            ["-o", out, "--groups", "a b"],
            ["-o", out, "--effect", "2"],
            ["-o", out, "--seed", "-1"],
            ["-o", out, "--gzip", "--no-gzip"],
            ["-o", out, "--no-such-option"],
            ["-o", out, "extra-argument"],
        ]
        for args in bad:
            with self.subTest(args=args):
                rc, so, se = lvtest.run(["simulate"] + args)
                self.assertEqual(rc, 2, se)
                self.assertIn("lesionvol simulate", se)
                self.assertEqual(so, "")
                self.assertEqual(lvtest.stray_stderr_lines(se), [])
        self.assertFalse(os.path.exists(out), "a refused run created its folder")

    def test_non_empty_folder_needs_force_and_keeps_other_files(self):
        out = os.path.join(self.tmp, "busy")
        os.makedirs(out)
        mine = os.path.join(out, "notes.txt")
        with open(mine, "w") as f:
            f.write("keep me\n")
        args = ["simulate", "-o", out, "--subjects", "1", "--sessions", "1"] + SMALL
        rc, _, err = lvtest.run(args)
        self.assertEqual(rc, 2)
        self.assertIn("not empty", err)
        self.assertEqual(sorted(os.listdir(out)), ["notes.txt"])
        rc, _, err = lvtest.run(args + ["--force"])
        self.assertEqual(rc, 0, err)
        with open(mine) as f:
            self.assertEqual(f.read(), "keep me\n")
        self.assertTrue(os.path.exists(os.path.join(out, "truth.tsv")))
        self.assertFalse([n for n in os.listdir(out) if lvtest.is_temp(n)])

    def test_output_that_is_a_file_exits_4(self):
        path = os.path.join(self.tmp, "a-file")
        with open(path, "w") as f:
            f.write("x")
        rc, _, err = lvtest.run(["simulate", "-o", path, "--subjects", "1"] + SMALL)
        self.assertEqual(rc, 4, err)
        self.assertIn("a-file", err)


if __name__ == "__main__":
    unittest.main()
