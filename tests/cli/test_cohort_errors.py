"""cli.cohort_errors: one broken participant (missing file, corrupt image,
brain mask on another grid) fails alone with exit 3 and a message in the
tables while the others' rows stay right; labels such as ../../etc are
refused and nothing is written outside OUT_DIR; bad manifests (missing
columns, duplicates, bad numbers) give line-numbered messages, and BOM/CRLF
manifests give the same tables as plain ones."""
import os
import pty
import subprocess
import sys
import unittest

import nibabel as nib
import numpy as np

import lvcohort as lv


def snapshot(root, skip):
    """Every path under root except below @skip."""
    seen = set()
    for d, dirs, files in os.walk(root):
        if os.path.abspath(d).startswith(os.path.abspath(skip)):
            continue
        for f in dirs + files:
            seen.add(os.path.relpath(os.path.join(d, f), root))
    return seen


class CohortErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = lv.tmpdir()
        cls.manifest = lv.make_cohort(cls.root, n_subjects=6, shape=(24, 26, 12), seed=5)

    @classmethod
    def tearDownClass(cls):
        lv.rmtree(cls.root)

    def write_manifest(self, name, text, encoding="utf-8"):
        path = os.path.join(self.root, name)
        with open(path, "wb") as f:
            f.write(text.encode(encoding) if isinstance(text, str) else text)
        return path

    def image(self, pid, ses):
        return os.path.join(self.root, pid, "ses-" + ses, "anat",
                            "%s_ses-%s_label-lesion_mask.nii.gz" % (pid, ses))

    def test_one_bad_participant_each_fails_alone_with_exit_3(self):
        lines = lv.read_text(self.manifest).splitlines()
        rows = [l.split("\t") for l in lines]
        rows[0].append("mask")
        for r in rows[1:]:
            r.append("n/a")
        # sub-02: the chronic image is corrupt (gzip cut in half)
        bad = os.path.join(self.root, "corrupt.nii.gz")
        data = lv.read_bytes(self.image("sub-02", "chronic"))
        self.write_manifest("corrupt.nii.gz", data[:len(data) // 2])
        # sub-04: the subacute image does not exist
        # sub-05: a brain mask on another grid
        other = os.path.join(self.root, "brain_other_grid.nii.gz")
        nib.save(nib.Nifti1Image(np.ones((10, 10, 10), np.uint8), np.eye(4)), other)
        for r in rows[1:]:
            if r[0] == "sub-02" and r[1] == "chronic":
                r[2] = "corrupt.nii.gz"
            if r[0] == "sub-04" and r[1] == "subacute":
                r[2] = "missing.nii.gz"
            if r[0] == "sub-05":
                r[-1] = "brain_other_grid.nii.gz"
        manifest = self.write_manifest("broken.tsv", "\n".join("\t".join(r) for r in rows) + "\n")
        out = os.path.join(self.root, "out-broken")
        rc, _, err = lv.run(["cohort", manifest, "-o", out])
        self.assertEqual(rc, 3, err)
        for pid in ("sub-02", "sub-04", "sub-05"):
            self.assertIn("participant '%s'" % pid, err)
        tps = lv.read_tsv(os.path.join(out, "timepoints.tsv"))
        chs = lv.read_tsv(os.path.join(out, "changes.tsv"))
        self.assertEqual(len(tps), 18)
        self.assertEqual(len(chs), 12)
        why = {"sub-02": "corrupt.nii.gz", "sub-04": "missing.nii.gz",
               "sub-05": "brain_other_grid.nii.gz"}
        for row in tps + chs:
            pid = row["participant_id"]
            if pid in why:
                self.assertEqual(row["status"], "error", row)
                self.assertIn(why[pid], row["message"])
                self.assertEqual(row.get("lesion_voxels", row.get("volume_mm3")), "n/a")
                continue
            self.assertEqual(row["status"], "ok", row)
        for row in tps:
            if row["participant_id"] not in why:
                m = lv.measure(self.image(row["participant_id"], row["session"]))
                self.assertEqual(int(row["lesion_voxels"]), m["lesion_voxels"])
                self.assertEqual(int(row["n_components"]), m["n_components"])
                self.assertTrue(lv.close(row["lesion_volume_mm3"], m["lesion_volume_mm3"]))
        # groups.tsv counts only the ok participants
        groups = lv.read_tsv(os.path.join(out, "groups.tsv"))
        n = {(g["group"], g["session"], g["measure"]): int(g["n"]) for g in groups}
        self.assertEqual(n["treated", "acute", "volume_mm3"], 2)   # sub-01, sub-03 (not sub-05)
        self.assertEqual(n["control", "acute", "volume_mm3"], 1)   # sub-06 only
        # a rerun keeps the recorded failures without rereading and still exits 3
        rc, _, err = lv.run(["cohort", manifest, "-o", out])
        self.assertEqual(rc, 3)
        self.assertIn("(6 up to date)", err)

    def test_labels_that_are_not_bids_labels_are_refused(self):
        text = ("participant_id\tsession\timage\n"
                "../../../etc\t1\tsub-01/ses-acute/anat/sub-01_ses-acute_label-lesion_mask.nii.gz\n"
                "sub-a/b\t1\tsub-01/ses-acute/anat/sub-01_ses-acute_label-lesion_mask.nii.gz\n"
                "x_y\t1\tsub-01/ses-acute/anat/sub-01_ses-acute_label-lesion_mask.nii.gz\n"
                "..\t1\tsub-01/ses-acute/anat/sub-01_ses-acute_label-lesion_mask.nii.gz\n"
                "sub-01\t1\tsub-01/ses-acute/anat/sub-01_ses-acute_label-lesion_mask.nii.gz\n")
        manifest = self.write_manifest("evil.tsv", text)
        out = os.path.join(self.root, "deep", "er", "out-evil")
        before = snapshot(self.root, out)
        rc, _, err = lv.run(["cohort", manifest, "-o", out])
        self.assertEqual(rc, 3, err)
        self.assertIn("invalid participant label: '../../../etc' (line 2)", err)
        after = snapshot(self.root, out)
        self.assertEqual(after - before, {"deep", os.path.join("deep", "er"),
                                          os.path.join("deep", "er", "out-evil")})
        self.assertEqual(sorted(os.listdir(out)),
                         ["changes.tsv", "dataset_description.json", "groups.tsv",
                          "provenance.json", "report.html", "sub-01", "timepoints.tsv"])
        rows = {r["participant_id"]: r for r in lv.read_tsv(os.path.join(out, "timepoints.tsv"))}
        self.assertEqual(set(rows), {"../../../etc", "sub-a/b", "x_y", "..", "sub-01"})
        for pid in ("../../../etc", "sub-a/b", "x_y", ".."):
            self.assertEqual(rows[pid]["status"], "error")
            self.assertIn("only letters and digits", rows[pid]["message"])
        self.assertEqual(rows["sub-01"]["status"], "ok")

    def bad(self, name, text, *needles):
        manifest = self.write_manifest(name, text)
        out = os.path.join(self.root, "out-" + name)
        rc, stdout, err = lv.run(["cohort", manifest, "-o", out])
        self.assertEqual(rc, 1, err)
        for n in needles:
            self.assertIn(n, err)
        self.assertTrue(err.startswith("lesionvol cohort: error: "), err)
        self.assertFalse(os.path.exists(out), "nothing is written for a bad manifest")

    def test_bad_manifests_name_the_line(self):
        self.bad("nocol.tsv", "participant_id\tsession\tfile\n01\t1\tx.nii\n",
                 "'%s' line 1: missing required column 'image'" % os.path.join(self.root, "nocol.tsv"))
        self.bad("dup.tsv", "participant_id\tsession\timage\n01\t1\ta.nii\n02\t1\tb.nii\n"
                 "sub-01\t1\tc.nii\n", "line 4: participant 'sub-01' session '1' is listed "
                 "twice (also line 2)")
        self.bad("days.tsv", "participant_id\tsession\timage\tdays\n01\t1\ta.nii\t3 days\n",
                 "line 2: days '3 days' is not a number")
        self.bad("fields.tsv", "participant_id,session,image\n01,1,a.nii\n",
                 "line 1: missing required column 'participant_id'")
        self.bad("header.tsv", "participant_id\tsession\timage\tgroup\n\n",
                 "'%s' lists no scans: it has a header row and nothing else"
                 % os.path.join(self.root, "header.tsv"))
        self.bad("utf16.tsv", "participant_id\tsession\timage\n".encode("utf-16"), "UTF-16")
        rc, _, err = lv.run(["cohort", os.path.join(self.root, "nope.tsv"), "-o",
                             os.path.join(self.root, "o")])
        self.assertEqual(rc, 1)
        self.assertIn("nope.tsv", err)

    def test_bom_and_crlf_give_the_same_tables(self):
        plain = os.path.join(self.root, "out-plain")
        rc, _, err = lv.run(["cohort", self.manifest, "-o", plain, "-q"])
        self.assertEqual(rc, 0, err)
        text = lv.read_text(self.manifest)
        windows = self.write_manifest("windows.tsv",
                                      b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
        out = os.path.join(self.root, "out-windows")
        rc, _, err = lv.run(["cohort", windows, "-o", out, "-q"])
        self.assertEqual(rc, 0, err)
        for f in ("timepoints.tsv", "changes.tsv", "groups.tsv"):
            self.assertEqual(lv.read_bytes(os.path.join(out, f)),
                             lv.read_bytes(os.path.join(plain, f)), f)

    def on_terminal(self, args):
        """stderr of lesionvol ARGS when it is a terminal (a pty)."""
        master, slave = pty.openpty()
        p = subprocess.Popen([lv.LESIONVOL] + args, stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the program closed its end
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        self.assertIn(p.wait(), (0, 3))
        return b"".join(chunks).decode()

    def test_progress_only_on_a_terminal_and_not_with_quiet(self):
        out = os.path.join(self.root, "out-progress")
        err = self.on_terminal(["cohort", self.manifest, "-o", out, "--force"])
        self.assertIn("\r[", err)
        self.assertIn("6/6 participants", err)
        self.assertIn("ETA", err)
        err = self.on_terminal(["cohort", self.manifest, "-o", out, "--force", "-q"])
        self.assertEqual(err, "")
        rc, _, err = lv.run(["cohort", self.manifest, "-o", out, "--force"])
        self.assertEqual(rc, 0)
        self.assertNotIn("\r", err)
        self.assertNotIn("ETA", err)

    def test_usage_errors(self):
        rc, _, err = lv.run(["cohort", self.manifest])
        self.assertEqual(rc, 2)
        self.assertIn("-o OUT_DIR", err)
        afile = self.write_manifest("a-file", "")
        rc, _, err = lv.run(["cohort", self.manifest, "-o", afile])
        self.assertEqual(rc, 4, err)
        self.assertIn("unable to create folder '%s': not a folder" % afile, err)
        rc, _, err = lv.run(["cohort", self.manifest, "-o", "x", "--covariate", "weight"])
        self.assertEqual(rc, 2, err)
        self.assertIn("no column 'weight' (extra columns: 'age', 'nihss')", err)
        rc, _, err = lv.run(["cohort", self.manifest, "-o", "x", "--compare", "treated,placebo"])
        self.assertEqual(rc, 2, err)
        self.assertIn("no participant is in group 'placebo'", err)
        self.assertFalse(os.path.exists("x"))
        for bad in ("A", "A,", "A,A", "A,B,C"):
            rc, _, err = lv.run(["cohort", self.manifest, "-o", "x", "--compare", bad])
            self.assertEqual(rc, 2, bad)
            self.assertIn("--compare", err)


if __name__ == "__main__":
    unittest.main()
