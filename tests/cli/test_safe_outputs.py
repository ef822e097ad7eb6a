#!/usr/bin/python3
"""cli.safe_outputs: no command overwrites an input with an output, however the
path is spelled (same text, ./ prefix, a symlink), and two outputs never name
one file; the input is left byte for byte intact and the exit code is 2."""
import hashlib
import os
import shutil
import unittest

import lvtest

SAMPLE = os.path.join(lvtest.SOURCE, "sample_data", "sub-01")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class SafeOutputs(unittest.TestCase):
    def setUp(self):
        if not os.path.isdir(SAMPLE):
            lvtest.skip("sample_data/ is absent")
        self.tmp = lvtest.tmpdir()
        for ses in ("01", "02"):
            shutil.copy(os.path.join(SAMPLE, f"ses-{ses}", "anat",
                                     f"sub-01_ses-{ses}_label-lesion_mask.nii.gz"),
                        os.path.join(self.tmp, f"t{ses}.nii.gz"))
        os.symlink("t01.nii.gz", os.path.join(self.tmp, "link.nii.gz"))
        self.before = {n: digest(os.path.join(self.tmp, n)) for n in ("t01.nii.gz", "t02.nii.gz")}

    def refused(self, args, words):
        rc, out, err = lvtest.run(args, cwd=self.tmp)
        self.assertEqual(rc, 2, (args, err))
        for w in words:
            self.assertIn(w, err, args)
        for n, d in self.before.items():
            self.assertEqual(digest(os.path.join(self.tmp, n)), d, f"{args} changed {n}")

    def test_safe_outputs__every_command_refuses_to_overwrite_an_input(self):
        cases = [
            (["info", "t01.nii.gz", "-o", "t01.nii.gz"], ["t01.nii.gz", "--output"]),
            (["info", "t01.nii.gz", "-o", "./t01.nii.gz"], ["t01.nii.gz"]),
            (["measure", "t01.nii.gz", "-o", "link.nii.gz"], ["t01.nii.gz"]),
            (["measure", "t01.nii.gz", "--out-mask", "./t01.nii.gz"], ["t01.nii.gz"]),
            (["change", "t01.nii.gz", "t02.nii.gz", "-o", "t02.nii.gz"], ["t02.nii.gz"]),
            (["change", "t01.nii.gz", "t02.nii.gz", "--out-change", "./t02.nii.gz"], ["t02.nii.gz"]),
            (["change", "t01.nii.gz", "t02.nii.gz", "--out-change", "link.nii.gz"], ["t01.nii.gz"]),
            (["change", "t01.nii.gz", "t02.nii.gz", "--mask", "t01.nii.gz",
              "--out-change", "t01.nii.gz"], ["--out-change"]),
            (["change", "t01.nii.gz", "t02.nii.gz", "--out-change", "c.nii.gz",
              "-o", "c.nii.gz"], ["--out-change", "--output", "c.nii.gz"]),
            (["quicklook", "t01.nii.gz", "--overlay", "t02.nii.gz", "-o", "t02.nii.gz"],
             ["--overlay"]),
            (["quicklook", "t01.nii.gz", "-o", "link.nii.gz"], ["t01.nii.gz"]),
            (["evaluate", "t01.nii.gz", "t02.nii.gz", "-o", "t01.nii.gz"], ["t01.nii.gz"]),
        ]
        for args, words in cases:
            self.refused(args, words)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "c.nii.gz")))

    def test_safe_outputs__distinct_outputs_are_written(self):
        rc, _, err = lvtest.run(["change", "t01.nii.gz", "t02.nii.gz", "--out-change",
                                 "map.nii.gz", "-f", "tsv", "-o", "change.tsv"], cwd=self.tmp)
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.getsize(os.path.join(self.tmp, "map.nii.gz")) > 0)
        with open(os.path.join(self.tmp, "change.tsv")) as f:
            self.assertTrue(f.readline().startswith("baseline_image\t"))

    def test_safe_outputs__files_and_folders_get_modes_from_the_umask(self):
        """Outputs are written under a temporary name and renamed; they must
        still get 0666/0777 less the umask, also while two threads write
        participants at once (the umask must never be changed to read it)."""
        manifest = os.path.join(lvtest.SOURCE, "sample_data", "cohort.tsv")
        for umask in (0o027, 0o002):
            old = os.umask(umask)
            try:
                out = os.path.join(self.tmp, f"study-{umask:o}")
                rc, _, err = lvtest.run(["cohort", manifest, "-o", out, "--threads", "2",
                                         "--quicklook", "--save-masks", "-q"])
                self.assertIn(rc, (0, 3), err)
                rc, _, err = lvtest.run(["measure", "t01.nii.gz", "-o", f"m-{umask:o}.tsv",
                                         "-f", "tsv", "--out-mask", f"m-{umask:o}.nii.gz"],
                                        cwd=self.tmp)
                self.assertEqual(rc, 0, err)
            finally:
                os.umask(old)
            paths = [os.path.join(self.tmp, f"m-{umask:o}.tsv"),
                     os.path.join(self.tmp, f"m-{umask:o}.nii.gz")]
            for root, dirs, files in os.walk(out):
                paths += [os.path.join(root, n) for n in dirs + files]
            self.assertGreater(len(paths), 20)
            for p in paths:
                want = (0o777 if os.path.isdir(p) else 0o666) & ~umask
                self.assertEqual(os.stat(p).st_mode & 0o777, want, p)


if __name__ == "__main__":
    unittest.main()
