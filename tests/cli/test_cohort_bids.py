"""cli.cohort_bids: `lesionvol bids` on a BIDS dataset gives the same tables
as `lesionvol cohort` on its manifest, also when the participant level runs
as several processes at once; the participant level writes only
sub-<label>/; the group level reports participants without results; BIDS
naming variants (ATLAS, desc-lesion), --image-pattern, --session-label and
bad labels."""
import os
import subprocess
import sys
import unittest

import nibabel as nib
import numpy as np

import lvcohort as lv

TABLES = ("timepoints.tsv", "changes.tsv", "groups.tsv")


def same_tables(a, b):
    return all(lv.read_bytes(os.path.join(a, f)) == lv.read_bytes(os.path.join(b, f))
               for f in TABLES)


class Bids(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = lv.tmpdir()
        cls.data = os.path.join(cls.root, "data")
        os.mkdir(cls.data)
        cls.manifest = lv.make_cohort(cls.data, n_subjects=8, shape=(24, 26, 12), seed=9,
                                      nihss=False)
        cls.cohort_out = os.path.join(cls.root, "cohort-out")
        rc, _, err = lv.run(["cohort", cls.manifest, "-o", cls.cohort_out, "-q"])
        assert rc == 0, err

    @classmethod
    def tearDownClass(cls):
        lv.rmtree(cls.root)

    def test_concurrent_participant_jobs_then_group_equal_cohort(self):
        out = os.path.join(self.root, "bids-out")
        jobs = [["--participant-label", "01", "--participant-label", "sub-02"],
                ["--participant-label", "03"], ["--participant-label", "04"],
                ["--participant-label", "05"], [], []]  # two jobs do everyone
        procs = [subprocess.Popen([lv.LESIONVOL, "bids", self.data, out, "participant", "-q"]
                                  + j, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for j in jobs]
        for p in procs:
            _, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
        # the participant level writes nothing but sub-<label>/
        self.assertEqual(sorted(os.listdir(out)), ["sub-%02d" % i for i in range(1, 9)])
        for d in os.listdir(out):
            self.assertEqual(os.listdir(os.path.join(out, d)), [d + "_lesionvol.json"])
        rc, _, err = lv.run(["bids", self.data, out, "group"])
        self.assertEqual(rc, 0, err)
        self.assertTrue(same_tables(out, self.cohort_out))
        # run order and repetition do not matter
        rc, _, err = lv.run(["bids", self.data, out, "participant", "--participant-label", "07"])
        self.assertEqual(rc, 0, err)
        self.assertIn("(1 up to date)", err)
        rc, _, err = lv.run(["bids", self.data, out, "group", "-q"])
        self.assertEqual(rc, 0, err)
        self.assertTrue(same_tables(out, self.cohort_out))

    def test_group_level_reports_participants_without_results(self):
        out = os.path.join(self.root, "bids-partial")
        for label in ("01", "02", "04", "05", "06", "07", "08"):
            rc, _, err = lv.run(["bids", self.data, out, "participant", "-q",
                                 "--participant-label", label])
            self.assertEqual(rc, 0, err)
        rc, _, err = lv.run(["bids", self.data, out, "group"])
        self.assertEqual(rc, 3, err)
        rows = lv.read_tsv(os.path.join(out, "timepoints.tsv"))
        self.assertEqual(len(rows), 24)
        for r in rows:
            if r["participant_id"] == "sub-03":
                self.assertEqual(r["status"], "error")
                self.assertIn("no result", r["message"])
            else:
                self.assertEqual(r["status"], "ok")
        # a group level over a subset is that subset's tables
        rc, _, err = lv.run(["bids", self.data, out, "group", "--participant-label", "01",
                             "--participant-label", "02"])
        self.assertEqual(rc, 0, err)
        self.assertEqual({r["participant_id"] for r in
                          lv.read_tsv(os.path.join(out, "timepoints.tsv"))},
                         {"sub-01", "sub-02"})

    def test_group_level_refuses_results_of_other_options(self):
        out = os.path.join(self.root, "bids-mixed")
        rc, _, err = lv.run(["bids", self.data, out, "participant", "-q"])
        self.assertEqual(rc, 0, err)
        rc, _, err = lv.run(["bids", self.data, out, "participant", "-q",
                             "--participant-label", "04", "--min-voxels", "5"])
        self.assertEqual(rc, 0, err)
        rc, _, err = lv.run(["bids", self.data, out, "group"])
        self.assertEqual(rc, 3, err)
        for r in lv.read_tsv(os.path.join(out, "timepoints.tsv")):
            if r["participant_id"] == "sub-04":
                self.assertEqual(r["status"], "error")
                self.assertIn("computed with other parameters", r["message"])
                self.assertIn("components >= 5 voxels", r["message"])
            else:
                self.assertEqual(r["status"], "ok", r)

    def test_group_level_refuses_results_for_other_sessions(self):
        data = os.path.join(self.root, "changing")
        os.mkdir(data)
        lv.make_cohort(data, n_subjects=2, shape=(12, 12, 8), seed=4, nihss=False)
        out = os.path.join(self.root, "changing-out")
        rc, _, err = lv.run(["bids", data, out, "participant", "-q"])
        self.assertEqual(rc, 0, err)
        # a new session appears after the participant level ran
        src = os.path.join(data, "sub-01", "ses-acute", "anat")
        dst = os.path.join(data, "sub-01", "ses-late", "anat")
        os.makedirs(dst)
        with open(os.path.join(src, "sub-01_ses-acute_label-lesion_mask.nii.gz"), "rb") as f:
            mask = f.read()
        with open(os.path.join(dst, "sub-01_ses-late_label-lesion_mask.nii.gz"), "wb") as f:
            f.write(mask)
        rc, _, err = lv.run(["bids", data, out, "group"])
        self.assertEqual(rc, 3, err)
        rows = lv.read_tsv(os.path.join(out, "timepoints.tsv"))
        self.assertEqual(len(rows), 7)
        for r in rows:
            if r["participant_id"] == "sub-01":
                self.assertEqual(r["status"], "error", r)
                self.assertTrue(r["message"].startswith("out of date: "), r)
            else:
                self.assertEqual(r["status"], "ok", r)
        # the participant level brings it up to date
        rc, _, err = lv.run(["bids", data, out, "participant", "--participant-label", "01"])
        self.assertEqual(rc, 0, err)
        rc, _, err = lv.run(["bids", data, out, "group", "-q"])
        self.assertEqual(rc, 0, err)

    def test_groups_come_from_the_group_column(self):
        out = os.path.join(self.root, "bids-arm")
        rc, _, err = lv.run(["bids", self.data, out, "participant", "-q"])
        self.assertEqual(rc, 0, err)
        rc, _, err = lv.run(["bids", self.data, out, "group", "--group-column", "arm"])
        self.assertEqual(rc, 1, err)
        self.assertIn("no column 'arm'", err)

    def test_naming_variants_patterns_and_sessions(self):
        ds = os.path.join(self.root, "atlas")
        aff = np.diag([1.0, 1.0, 1.0, 1.0])
        def put(rel, n):
            path = os.path.join(ds, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            m = np.zeros((10, 10, 10), np.uint8)
            m.flat[:n] = 1
            nib.save(nib.Nifti1Image(m, aff), path)
        put("sub-r001s001/ses-1/anat/sub-r001s001_ses-1_space-orig_label-L_desc-T1lesion_mask.nii.gz", 5)
        put("sub-r001s001/ses-1/anat/sub-r001s001_ses-1_space-orig_T1w.nii.gz", 999)
        put("sub-r001s002/ses-1/anat/sub-r001s002_ses-1_desc-lesion_mask.nii.gz", 7)
        put("sub-r001s002/ses-2/dwi/sub-r001s002_ses-2_label-lesion_roi.nii.gz", 9)
        put("sub-r001s003/anat/sub-r001s003_label-lesion_mask.nii", 3)
        put("sub-r001s004/ses-1/anat/sub-r001s004_ses-1_label-lesion_mask.nii.gz", 2)
        put("sub-r001s004/ses-1/anat/sub-r001s004_ses-1_desc-manual_label-lesion_mask.nii.gz", 2)
        out = os.path.join(self.root, "atlas-out")
        rc, _, err = lv.run(["bids", ds, out, "participant", "-q"])
        self.assertEqual(rc, 3, err)  # sub-r001s004 has two masks for one session
        rc, _, err = lv.run(["bids", ds, out, "group", "-q"])
        self.assertEqual(rc, 3, err)
        rows = {(r["participant_id"], r["session"]): r
                for r in lv.read_tsv(os.path.join(out, "timepoints.tsv"))}
        self.assertEqual(rows["sub-r001s001", "1"]["lesion_voxels"], "5")
        self.assertEqual(rows["sub-r001s002", "1"]["lesion_voxels"], "7")
        self.assertNotIn(("sub-r001s002", "2"), rows)  # _roi is not a default name
        self.assertEqual(rows["sub-r001s003", "n/a"]["lesion_voxels"], "3")
        self.assertEqual(rows["sub-r001s004", "1"]["status"], "error")
        self.assertIn("2 lesion masks match", rows["sub-r001s004", "1"]["message"])
        self.assertEqual(rows["sub-r001s001", "1"]["image"],
                         "sub-r001s001/ses-1/anat/"
                         "sub-r001s001_ses-1_space-orig_label-L_desc-T1lesion_mask.nii.gz")
        # --image-pattern and --session-label
        out2 = os.path.join(self.root, "atlas-roi")
        for level in ("participant", "group"):
            rc, _, err = lv.run(["bids", ds, out2, level, "-q", "--image-pattern",
                                 "*_roi.nii.gz", "--session-label", "ses-2"])
            self.assertEqual(rc, 0, err)
        rows = lv.read_tsv(os.path.join(out2, "timepoints.tsv"))
        self.assertEqual([(r["participant_id"], r["session"], r["lesion_voxels"])
                          for r in rows], [("sub-r001s002", "2", "9")])

    def test_bad_arguments(self):
        out = os.path.join(self.root, "bad")
        rc, _, err = lv.run(["bids", self.data, out, "everything"])
        self.assertEqual(rc, 2)
        self.assertIn("'participant' or 'group'", err)
        rc, _, err = lv.run(["bids", self.data, out, "participant", "--participant-label",
                             "../x"])
        self.assertEqual(rc, 2)
        self.assertIn("invalid participant label '../x'", err)
        rc, _, err = lv.run(["bids", self.data, out, "participant", "--participant-label",
                             "99"])
        self.assertEqual(rc, 1)
        self.assertIn("'sub-99' is not in", err)
        rc, _, err = lv.run(["bids", self.data, self.data, "participant"])
        self.assertEqual(rc, 2)
        self.assertIn("OUT_DIR must differ from BIDS_DIR", err)
        empty = os.path.join(self.data, "sub-09", "anat")
        os.makedirs(empty, exist_ok=True)
        rc, _, err = lv.run(["bids", self.data, out, "participant", "--participant-label", "09"])
        self.assertEqual(rc, 3, err)
        self.assertIn("participant 'sub-09': no lesion masks", err)
        self.assertIn("--image-pattern chooses others", err)
        lv.rmtree(os.path.dirname(empty))
        lv.rmtree(out)
        rc, _, err = lv.run(["bids", os.path.join(self.root, "nothing"), out, "participant"])
        self.assertEqual(rc, 1)
        self.assertFalse(os.path.exists(out))


def simulated():
    """The simulate command's dataset, when simulate exists: bids and cohort agree."""
    if not lv.has_command("simulate"):
        print("simulate is not there yet: part skipped")
        return
    root = lv.tmpdir()
    data = os.path.join(root, "data")
    rc, _, err = lv.run(["simulate", "-o", data, "--subjects", "6", "--dims", "40x48x36",
                         "--voxel-size", "4", "--seed", "5", "-q"])
    assert rc == 0, err
    # simulate writes days into cohort.tsv only; BIDS keeps them in each
    # participant's sessions.tsv, where `bids` reads them
    days = {}
    for r in lv.read_tsv(os.path.join(data, "cohort.tsv")):
        days.setdefault(r["participant_id"], []).append((r["session"], r["days"]))
    for pid, rows in days.items():
        with open(os.path.join(data, pid, pid + "_sessions.tsv"), "w") as f:
            f.write("session_id\tdays\n" + "".join("%s\t%s\n" % r for r in rows))
    a, b = os.path.join(root, "cohort"), os.path.join(root, "bids")
    rc, _, err = lv.run(["cohort", os.path.join(data, "cohort.tsv"), "-o", a, "-q"])
    assert rc == 0, err
    for level in ("participant", "group"):
        rc, _, err = lv.run(["bids", data, b, level, "-q"])
        assert rc == 0, err
    assert same_tables(a, b)
    lv.rmtree(root)


if __name__ == "__main__":
    simulated()
    unittest.main()
