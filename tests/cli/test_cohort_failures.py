"""cli.cohort_failures: who could not be measured, and why, on generated
BIDS studies and their equivalent manifests: a participant listed without
images is a row with status error and the reason "no lesion masks" (also at
the participant level with --participant-label, exit 3 and a record, never
exit 1); when not one participant could be measured the batch exits 1, not
3; `cohort` and `bids` give the same tables for the same study."""
import json
import os
import unittest

import lvcohort as lv

TABLES = ("timepoints.tsv", "changes.tsv", "groups.tsv")


def add_never_imaged(data, manifest, pid="sub-09", group="control", age=61):
    """PID enrolled (participants.tsv, a manifest row without an image) but
    never imaged: no folder in the BIDS tree."""
    with open(os.path.join(data, "participants.tsv"), "a") as f:
        f.write("%s\t%s\t%d\n" % (pid, group, age))
    with open(manifest, "a") as f:
        f.write("%s\tn/a\tn/a\t%s\tn/a\t%d\n" % (pid, group, age))


def tables_equal(test, a, b):
    for name in TABLES:
        test.assertEqual(lv.read_text(os.path.join(a, name)),
                         lv.read_text(os.path.join(b, name)), name)


class NeverImaged(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = lv.tmpdir()
        cls.data = os.path.join(cls.root, "data")
        os.mkdir(cls.data)
        cls.manifest = lv.make_cohort(cls.data, n_subjects=4, shape=(16, 16, 10), seed=3,
                                      nihss=False)
        add_never_imaged(cls.data, cls.manifest)

    @classmethod
    def tearDownClass(cls):
        lv.rmtree(cls.root)

    def check_row(self, out):
        rows = [r for r in lv.read_tsv(os.path.join(out, "timepoints.tsv"))
                if r["participant_id"] == "sub-09"]
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual((rows[0]["group"], rows[0]["session"], rows[0]["status"],
                          rows[0]["message"]), ("control", "n/a", "error", "no lesion masks"))
        others = [r for r in lv.read_tsv(os.path.join(out, "timepoints.tsv"))
                  if r["participant_id"] != "sub-09"]
        self.assertEqual(len(others), 12)
        self.assertTrue(all(r["status"] == "ok" for r in others))

    def test_cohort_lists_the_participant_with_its_reason_exit_3(self):
        out = os.path.join(self.root, "cohort")
        rc, _, err = lv.run(["cohort", self.manifest, "-o", out])
        self.assertEqual(rc, 3, err)
        self.assertIn("participant 'sub-09': no lesion masks", err)
        self.check_row(out)
        with open(os.path.join(out, "sub-09", "sub-09_lesionvol.json")) as f:
            doc = json.load(f)
        self.assertEqual((doc["status"], doc["message"], doc["timepoints"]),
                         ("error", "no lesion masks", []))

    def test_participant_job_records_the_error_exit_3_then_group_equals_cohort(self):
        out = os.path.join(self.root, "bids")
        labels = ["01", "02", "03", "04", "09"]
        for label in labels:
            rc, _, err = lv.run(["bids", self.data, out, "participant", "-q",
                                 "--participant-label", label])
            self.assertEqual(rc, 3 if label == "09" else 0, (label, err))
        # the job of the never-imaged participant leaves its record, which a
        # pipeline waiting for the file (Snakemake) needs
        with open(os.path.join(out, "sub-09", "sub-09_lesionvol.json")) as f:
            doc = json.load(f)
        self.assertEqual((doc["participant_id"], doc["group"], doc["status"],
                          doc["message"]), ("sub-09", "control", "error", "no lesion masks"))
        rc, _, err = lv.run(["bids", self.data, out, "group"])
        self.assertEqual(rc, 3, err)
        self.check_row(out)
        cohort = os.path.join(self.root, "cohort-same")
        rc, _, err = lv.run(["cohort", self.manifest, "-o", cohort, "-q"])
        self.assertEqual(rc, 3, err)
        tables_equal(self, out, cohort)

    def test_a_folder_without_masks_is_the_same_as_no_folder(self):
        os.makedirs(os.path.join(self.data, "sub-09", "anat"))
        try:
            with open(os.path.join(self.data, "sub-09", "anat", "sub-09_T1w.nii.gz"), "wb"):
                pass
            out = os.path.join(self.root, "bids-folder")
            for level in ("participant", "group"):
                rc, _, err = lv.run(["bids", self.data, out, level, "-q"])
                self.assertEqual(rc, 3, err)
            self.check_row(out)
        finally:
            lv.rmtree(os.path.join(self.data, "sub-09"))

    def test_not_listed_anywhere_is_still_an_input_error(self):
        rc, _, err = lv.run(["bids", self.data, os.path.join(self.root, "x"), "participant",
                             "--participant-label", "77"])
        self.assertEqual(rc, 1, err)
        self.assertIn("'sub-77' is not in", err)


class NobodyMeasured(unittest.TestCase):
    """Every participant failed: exit 1 for the batch (cohort, group level),
    3 for a participant level (its records are written), tables all the same."""

    @classmethod
    def setUpClass(cls):
        cls.root = lv.tmpdir()
        cls.data = os.path.join(cls.root, "data")
        os.mkdir(cls.data)
        cls.manifest = lv.make_cohort(cls.data, n_subjects=2, shape=(12, 12, 8), seed=5,
                                      nihss=False)
        for d, _, names in os.walk(cls.data):
            for n in names:
                if n.endswith("_mask.nii.gz"):
                    with open(os.path.join(d, n), "wb") as f:
                        f.write(b"not a nifti file")

    @classmethod
    def tearDownClass(cls):
        lv.rmtree(cls.root)

    def test_cohort_exits_1_and_still_writes_the_tables(self):
        out = os.path.join(self.root, "cohort")
        rc, _, err = lv.run(["cohort", self.manifest, "-o", out])
        self.assertEqual(rc, 1, err)
        self.assertIn("error: no participant could be measured: all 2 failed", err)
        rows = lv.read_tsv(os.path.join(out, "timepoints.tsv"))
        self.assertEqual(len(rows), 6)
        self.assertTrue(all(r["status"] == "error" for r in rows), rows)

    def test_participant_level_exits_3_and_group_level_1(self):
        out = os.path.join(self.root, "bids")
        rc, _, err = lv.run(["bids", self.data, out, "participant", "-q"])
        self.assertEqual(rc, 3, err)
        self.assertEqual(sorted(os.listdir(out)), ["sub-01", "sub-02"])
        rc, _, err = lv.run(["bids", self.data, out, "group"])
        self.assertEqual(rc, 1, err)
        self.assertIn("no participant could be measured", err)
        self.assertTrue(os.path.exists(os.path.join(out, "timepoints.tsv")))

    def test_group_level_before_any_participant_job_exits_1(self):
        out = os.path.join(self.root, "nothing-yet")
        os.mkdir(out)
        rc, _, err = lv.run(["bids", self.data, out, "group"])
        self.assertEqual(rc, 1, err)
        rows = lv.read_tsv(os.path.join(out, "timepoints.tsv"))
        self.assertTrue(all(r["message"].startswith("no result: ") for r in rows), rows)


if __name__ == "__main__":
    unittest.main()
