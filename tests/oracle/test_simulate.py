#!/usr/bin/env python3
"""oracle.simulate: `lesionvol simulate` writes the dataset it promises.

Generates small cohorts (2 mm default field of view; an anisotropic odd grid
in .nii float32 with three groups and five sessions; a skull-stripped uint8
one) and checks, with nibabel + numpy + scipy only:
- every file is where cohort.tsv says, with the intended dims, voxel size,
  affine, qform/sform codes and datatype;
- truth.tsv is exact: voxel counts and 26-connected component counts
  (scipy.ndimage.label) of every mask, volume = count x voxel volume;
- each lesion stays in one hemisphere, is hyperintense on the FLAIR, and the
  follow-up lesions lie mostly within the earlier ones;
- the treated group's follow-up/baseline ratios are smaller than control's by
  about --effect, groups are balanced, acute volumes spread like a cohort's;
- `lesionvol measure --format json MASK` equals truth.tsv for every mask
  (skipped while the measure command does not exist).
"""
import csv
import json
import os
import unittest

import numpy as np
import nibabel as nib
from scipy import ndimage

import lvtest

TRUTH_COLUMNS = ["participant_id", "session", "group", "days", "lesion_voxels",
                 "lesion_volume_mm3", "n_components", "voxel_volume_mm3"]
COHORT_COLUMNS = ["participant_id", "session", "image", "group", "days", "age"]
DAYS = [1, 7, 90, 180, 365]


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f, delimiter="\t")
        return r.fieldnames, list(r)


def simulate(out, *args):
    rc, so, se = lvtest.run(["simulate", "-o", out, "--quiet"] + list(args), timeout=300)
    assert rc == 0, "simulate %s failed (%d): %s" % (" ".join(map(str, args)), rc, se)
    return out


class Cohort:
    """A generated dataset and what the test expects of it."""

    def __init__(self, folder, dims, voxel, n_sub, n_ses, groups, dtype, gz):
        self.folder, self.dims, self.n_sub, self.n_ses = folder, dims, n_sub, n_ses
        self.voxel = [float(np.float32(v)) for v in voxel]
        self.groups, self.dtype, self.ext = groups, dtype, ".nii.gz" if gz else ".nii"
        self.vv = self.voxel[0] * self.voxel[1] * self.voxel[2]
        _, self.truth = read_tsv(os.path.join(folder, "truth.tsv"))
        self.masks = {}

    def mask(self, row):
        key = (row["participant_id"], row["session"])
        if key not in self.masks:
            img = nib.load(self.path(row, "label-lesion_mask"))
            self.masks[key] = (img, np.asarray(img.dataobj))
        return self.masks[key]

    def path(self, row, suffix):
        s, t = row["participant_id"], row["session"]
        return os.path.join(self.folder, s, t, "anat", "%s_%s_%s%s" % (s, t, suffix, self.ext))


class Simulate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = lvtest.tmpdir()
        cls.cohorts = [
            Cohort(simulate(os.path.join(tmp, "a"), "--subjects", 4, "--voxel-size", 2,
                            "--dims", "91x109x91", "--seed", 11),
                   (91, 109, 91), (2, 2, 2), 4, 3, ["treated", "control"], np.int16, True),
            Cohort(simulate(os.path.join(tmp, "b"), "--subjects", 3, "--sessions", 5,
                            "--groups", "drug,placebo,sham", "--voxel-size", "1.5,2.2,3",
                            "--dims", "100x90x50", "--datatype", "float32", "--no-gzip",
                            "--seed", 5, "--threads", 2),
                   (100, 90, 50), (1.5, 2.2, 3), 3, 5, ["drug", "placebo", "sham"],
                   np.float32, False),
            Cohort(simulate(os.path.join(tmp, "c"), "--subjects", 2, "--sessions", 2,
                            "--voxel-size", 3, "--dims", "61x73x61", "--datatype", "uint8",
                            "--skull-strip", "--seed", 2),
                   (61, 73, 61), (3, 3, 3), 2, 2, ["treated", "control"], np.uint8, True),
        ]

    def expected_affine(self, c):
        a = np.eye(4)
        for i in range(3):
            a[i, i] = c.voxel[i]
            a[i, 3] = -0.5 * (c.dims[i] - 1) * c.voxel[i]
        return a

    def test_tables_have_the_promised_columns_and_rows(self):
        for c in self.cohorts:
            with self.subTest(cohort=c.folder):
                cols, parts = read_tsv(os.path.join(c.folder, "participants.tsv"))
                self.assertEqual(cols, ["participant_id", "group", "age"])
                self.assertEqual([p["participant_id"] for p in parts],
                                 ["sub-%02d" % (i + 1) for i in range(c.n_sub)])
                for p in parts:
                    self.assertIn(p["group"], c.groups)
                    self.assertTrue(35 <= int(p["age"]) <= 95)
                cols, man = read_tsv(os.path.join(c.folder, "cohort.tsv"))
                self.assertEqual(cols, COHORT_COLUMNS)
                cols, truth = read_tsv(os.path.join(c.folder, "truth.tsv"))
                self.assertEqual(cols, TRUTH_COLUMNS)
                self.assertEqual(len(man), c.n_sub * c.n_ses)
                self.assertEqual(len(truth), c.n_sub * c.n_ses)
                group = {p["participant_id"]: p for p in parts}
                for m, t in zip(man, truth):
                    self.assertEqual((m["participant_id"], m["session"], m["group"], m["days"]),
                                     (t["participant_id"], t["session"], t["group"], t["days"]))
                    self.assertEqual(m["group"], group[m["participant_id"]]["group"])
                    self.assertEqual(m["age"], group[m["participant_id"]]["age"])
                    k = int(m["session"][4:]) - 1
                    self.assertEqual(int(m["days"]), DAYS[k])
                    self.assertEqual(os.path.join(c.folder, m["image"]),
                                     c.path(m, "label-lesion_mask"))
                with open(os.path.join(c.folder, "dataset_description.json")) as f:
                    desc = json.load(f)
                self.assertIn("BIDSVersion", desc)
                self.assertIn("lesionvol simulate", desc["GeneratedBy"][0]["Description"])

    def test_images_have_the_intended_geometry(self):
        for c in self.cohorts:
            for row in c.truth:
                for suffix, dtype in (("label-lesion_mask", np.uint8), ("FLAIR", c.dtype)):
                    with self.subTest(image=c.path(row, suffix)):
                        img = nib.load(c.path(row, suffix))
                        h = img.header
                        self.assertEqual(img.shape, c.dims)
                        self.assertEqual(h.get_data_dtype(), np.dtype(dtype))
                        self.assertEqual([float(z) for z in h.get_zooms()], c.voxel)
                        self.assertEqual(int(h["sform_code"]), 1)
                        self.assertEqual(int(h["qform_code"]), 1)
                        np.testing.assert_allclose(img.get_sform(), self.expected_affine(c),
                                                   atol=1e-4)
                        np.testing.assert_allclose(img.get_qform(), self.expected_affine(c),
                                                   atol=1e-4)
                        self.assertEqual(nib.aff2axcodes(img.affine), ("R", "A", "S"))
                        slope = float(h["scl_slope"])
                        self.assertTrue(np.isnan(slope) or slope in (0.0, 1.0))

    def test_truth_counts_equal_the_masks(self):
        for c in self.cohorts:
            for row in c.truth:
                with self.subTest(mask=c.path(row, "label-lesion_mask")):
                    _, m = c.mask(row)
                    self.assertTrue(set(np.unique(m)) <= {0, 1})
                    n = int(np.count_nonzero(m))
                    _, ncomp = ndimage.label(m > 0, structure=np.ones((3, 3, 3)))
                    self.assertGreater(n, 0)
                    self.assertEqual(int(row["lesion_voxels"]), n)
                    self.assertEqual(int(row["n_components"]), ncomp)
                    self.assertEqual(float(row["voxel_volume_mm3"]), c.vv)
                    self.assertEqual(float(row["lesion_volume_mm3"]), n * c.vv)

    def test_lesion_stays_in_one_hemisphere(self):
        for c in self.cohorts:
            mid = (c.dims[0] - 1) / 2.0
            sides = {}
            for row in c.truth:
                i = np.nonzero(c.mask(row)[1])[0]
                side = {bool(x) for x in (i > mid)}
                self.assertTrue(np.all(i != mid))
                self.assertEqual(len(side), 1, "%s %s crosses the midline"
                                 % (row["participant_id"], row["session"]))
                sides.setdefault(row["participant_id"], set()).update(side)
            for sub, s in sides.items():
                self.assertEqual(len(s), 1, "%s changes hemisphere" % sub)

    def test_lesion_is_hyperintense_on_flair(self):
        for c in self.cohorts:
            for row in c.truth:
                if int(row["days"]) > 30:
                    continue  # chronic lesions cavitate: dark core, bright rim
                with self.subTest(image=c.path(row, "FLAIR")):
                    f = np.asarray(nib.load(c.path(row, "FLAIR")).dataobj).astype(float)
                    m = c.mask(row)[1] > 0
                    ring = ndimage.binary_dilation(m, iterations=3) & ~m & (f > 0)
                    self.assertGreater(f[m].mean(), 1.3 * np.median(f[ring]))

    def test_follow_up_lesions_lie_mostly_within_earlier_ones(self):
        c = self.cohorts[0]
        by_sub = {}
        for row in c.truth:
            by_sub.setdefault(row["participant_id"], []).append(c.mask(row)[1] > 0)
        for sub, (acute, sub_acute, chronic) in by_sub.items():
            grown = ndimage.binary_dilation(acute, iterations=2)
            self.assertGreater((chronic & grown).sum() / chronic.sum(), 0.8, sub)
            dice = 2.0 * (acute & chronic).sum() / (acute.sum() + chronic.sum())
            self.assertGreater(dice, 0.3, sub)
            self.assertGreater(2.0 * (acute & sub_acute).sum() /
                               (acute.sum() + sub_acute.sum()), 0.5, sub)

    def test_treatment_effect_and_volume_spread(self):
        tmp = lvtest.tmpdir()
        out = simulate(os.path.join(tmp, "effect"), "--subjects", 24, "--sessions", 2,
                       "--voxel-size", 4, "--dims", "46x55x46", "--effect", 0.6, "--seed", 3)
        _, truth = read_tsv(os.path.join(out, "truth.tsv"))
        vol = {}
        for row in truth:
            vol.setdefault((row["participant_id"], row["group"]), {})[int(row["days"])] = \
                float(row["lesion_volume_mm3"])
        ratio = {"treated": [], "control": []}
        for (sub, g), v in vol.items():
            ratio[g].append(np.log(v[7] / v[1]))
        self.assertEqual(len(ratio["treated"]), 12)
        self.assertEqual(len(ratio["control"]), 12)
        gm_t, gm_c = np.exp(np.mean(ratio["treated"])), np.exp(np.mean(ratio["control"]))
        # control lesions swell by ~1.2x at day 7; treated ones by (1 - 0.6) x that
        self.assertTrue(0.9 < gm_c < 1.6, gm_c)
        self.assertTrue(0.25 < gm_t / gm_c < 0.6, gm_t / gm_c)
        acute_ml = np.array([v[1] for v in vol.values()]) / 1000.0
        # log-normal around 12 mL: a few mL to tens of mL even in 24 subjects
        self.assertLess(acute_ml.min(), 5.0)
        self.assertGreater(acute_ml.max(), 30.0)
        self.assertTrue(4.0 < np.median(acute_ml) < 40.0, np.median(acute_ml))

    def test_measure_equals_truth(self):
        rc, out, _ = lvtest.run(["--help"])
        if "measure" not in out.split("Commands:")[-1]:
            self.skipTest("lesionvol measure is not built yet")
        for c in self.cohorts:
            for row in c.truth:
                path = c.path(row, "label-lesion_mask")
                with self.subTest(mask=path):
                    rc, out, err = lvtest.run(["measure", "--format", "json", path])
                    self.assertEqual(rc, 0, err)
                    r = json.loads(out)
                    self.assertEqual(r["lesion_voxels"], int(row["lesion_voxels"]))
                    self.assertEqual(r["n_components"], int(row["n_components"]))
                    self.assertEqual(r["lesion_volume_mm3"], float(row["lesion_volume_mm3"]))
                    self.assertEqual(r["voxel_volume_mm3"], float(row["voxel_volume_mm3"]))


if __name__ == "__main__":
    unittest.main()
