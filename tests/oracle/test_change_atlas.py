#!/usr/bin/env python3
"""oracle.change_atlas: `lesionvol change --atlas` gives, for every atlas
region, the lesion volume and the fraction of the region lesioned at each
timepoint and their change, equal to numpy's.

Timepoints are built from a real LESYMAP stroke mask (Subject_004, ch2 grid
181x217x181, 1 mm) with scipy: the mask itself (day 1), the mask eroded by
two voxels and shifted 3 voxels along i (day 7: shrinks, and moves into
other regions), and the mask plus a ball in the right hemisphere (day 90:
a region whose baseline load is 0, so percent_change is n/a). They are
given out of day order; the atlas is MRIcron's AAL (aal.nii.gz, on exactly
the ch2 grid; nothing is resampled) with its names list. Checked: every
listed region (those lesioned at some timepoint; all 116 with
--all-regions), region size, lesion voxels/volume/fraction per timepoint,
and per change (baseline vs each later, and with --consecutive each against
the one before) baseline_mm3, volume_mm3, delta_mm3, percent_change,
rate_mm3_per_day, fractions and delta_fraction; TSV rows; an atlas or a
timepoint on another grid exits 1 naming both files."""
import csv
import io
import json
import os
import unittest

import nibabel as nib
import numpy as np
from scipy import ndimage

import lvtest

template = lvtest.mricron_template


class ChangeAtlas(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.aal = template("aal.nii.gz")
        cls.names_path = template("aal.nii.txt")
        cls.names = lvtest.mricron_names(cls.names_path)
        src = os.path.join(lvtest.realdata("lesymap/inst/extdata/lesions"),
                           "Subject_004.nii.gz")
        img = nib.load(src)
        atlas = nib.load(cls.aal)
        if img.shape != atlas.shape or not np.allclose(img.affine, atlas.affine, atol=1e-3):
            lvtest.skip("LESYMAP masks and aal.nii.gz are not on one grid here")
        cls.labels = np.asarray(atlas.dataobj).astype(np.int64)
        cls.vv = float(np.prod(img.header.get_zooms()[:3]))
        m0 = np.asarray(img.dataobj) > 0
        m1 = np.zeros_like(m0)
        m1[3:] = ndimage.binary_erosion(m0, iterations=2)[:-3]
        g = np.ogrid[tuple(slice(0, n) for n in m0.shape)]
        ball = sum((g[d] - c) ** 2 for d, c in enumerate((50, 120, 90))) <= 8 ** 2
        m2 = m0 | ball
        cls.dir = lvtest.tmpdir()
        cls.masks = {1: m0, 7: m1, 90: m2}
        cls.paths = {}
        for day, m in cls.masks.items():
            p = os.path.join(cls.dir, "day%d.nii.gz" % day)
            nib.save(nib.Nifti1Image(m.astype(np.uint8), img.affine, img.header), p)
            cls.paths[day] = p
        cls.region_voxels = np.bincount(cls.labels.ravel())
        cls.regions = sorted(set(np.unique(cls.labels[cls.labels > 0]).tolist()) |
                             set(k for k in cls.names if k))

    def load(self, day):
        m = self.masks[day]
        lv = np.bincount(self.labels[m].ravel(), minlength=len(self.region_voxels))
        return {r: int(lv[r]) for r in self.regions}

    def run_change(self, *opts, fmt="json"):
        # out of day order on purpose: baseline is day 1
        rc, out, err = lvtest.run(["change", self.paths[90], self.paths[1], self.paths[7],
                                   "--days", "90,1,7", "--atlas", self.aal,
                                   "--atlas-names", self.names_path, "--format", fmt,
                                   "--quiet", *opts])
        self.assertEqual(rc, 0, err)
        self.assertEqual(lvtest.stray_stderr_lines(err), [])
        return json.loads(out) if fmt == "json" else out

    def listed(self, all_regions=False):
        loads = [self.load(d) for d in (1, 7, 90)]
        return [r for r in self.regions if all_regions or any(l[r] for l in loads)]

    def check_timepoints(self, got, all_regions=False):
        listed = self.listed(all_regions)
        self.assertEqual([t["days"] for t in got["timepoints"]], [1, 7, 90])
        for t in got["timepoints"]:
            day = t["days"]
            load = self.load(day)
            what = "day %d" % day
            self.assertEqual([r["label"] for r in t["regions"]], listed, what)
            outside = int((self.masks[day] & (self.labels == 0)).sum())
            self.assertEqual(t["outside_atlas_mm3"], outside * self.vv, what)
            for r in t["regions"]:
                k = r["label"]
                rv = int(self.region_voxels[k]) if k < len(self.region_voxels) else 0
                self.assertEqual(r["name"], self.names.get(k, ""), what)
                self.assertEqual(r["region_voxels"], rv, what)
                self.assertEqual(r["region_volume_mm3"], rv * self.vv, what)
                self.assertEqual(r["lesion_voxels"], load[k], "%s region %d" % (what, k))
                self.assertEqual(r["lesion_volume_mm3"], load[k] * self.vv, what)
                self.assertAlmostEqual(r["lesion_fraction"], load[k] / rv, delta=1e-15,
                                       msg="%s region %d" % (what, k))

    def check_change(self, c, d0, d1, all_regions=False):
        a, b = self.load(d0), self.load(d1)
        what = "day %d -> %d" % (d0, d1)
        self.assertEqual((c["baseline_days"], c["days"]), (d0, d1))
        self.assertEqual([r["label"] for r in c["regions"]], self.listed(all_regions))
        for r in c["regions"]:
            k = r["label"]
            rv = int(self.region_voxels[k])
            v0, v1 = a[k] * self.vv, b[k] * self.vv
            msg = "%s region %d" % (what, k)
            self.assertEqual(r["baseline_mm3"], v0, msg)
            self.assertEqual(r["volume_mm3"], v1, msg)
            self.assertEqual(r["delta_mm3"], v1 - v0, msg)
            if v0 > 0:
                self.assertAlmostEqual(r["percent_change"], 100 * (v1 - v0) / v0,
                                       delta=1e-12, msg=msg)
            else:
                self.assertIsNone(r["percent_change"], msg)
            self.assertAlmostEqual(r["rate_mm3_per_day"], (v1 - v0) / (d1 - d0),
                                   delta=1e-12, msg=msg)
            self.assertAlmostEqual(r["baseline_fraction"], a[k] / rv, delta=1e-15, msg=msg)
            self.assertAlmostEqual(r["fraction"], b[k] / rv, delta=1e-15, msg=msg)
            self.assertAlmostEqual(r["delta_fraction"], b[k] / rv - a[k] / rv,
                                   delta=1e-15, msg=msg)

    def test_regions_per_timepoint_and_change_vs_baseline(self):
        got = self.run_change()
        self.check_timepoints(got)
        self.assertEqual(len(got["changes"]), 2)
        self.check_change(got["changes"][0], 1, 7)
        self.check_change(got["changes"][1], 1, 90)
        # the ball reaches regions the baseline lesion does not touch
        base = self.load(1)
        self.assertTrue(any(r["percent_change"] is None and base[r["label"]] == 0
                            for r in got["changes"][1]["regions"]))
        self.assertEqual([(c["baseline_timepoint"], c["timepoint"]) for c in got["changes"]],
                         [(0, 1), (0, 2)])

    def test_consecutive_adds_each_interval(self):
        got = self.run_change("--consecutive")
        pairs = [(c["baseline_days"], c["days"]) for c in got["changes"]]
        self.assertEqual(pairs, [(1, 7), (1, 90), (7, 90)])
        self.check_change(got["changes"][2], 7, 90)

    def test_all_regions(self):
        got = self.run_change("--all-regions")
        self.assertEqual(len(got["timepoints"][0]["regions"]), 116)
        self.check_timepoints(got, all_regions=True)
        self.check_change(got["changes"][1], 1, 90, all_regions=True)

    def test_tsv_rows_per_change_and_region_and_per_timepoint(self):
        listed = self.listed()
        rows = list(csv.DictReader(io.StringIO(self.run_change(fmt="tsv")), delimiter="\t"))
        self.assertEqual(len(rows), 2 * len(listed))
        self.assertEqual(rows[0]["image"], self.paths[7])
        self.assertEqual(rows[0]["baseline_image"], self.paths[1])
        k = int(rows[0]["label"])
        a, b = self.load(1)[k], self.load(7)[k]
        self.assertEqual(float(rows[0]["delta_mm3"]), (b - a) * self.vv)
        self.assertEqual(rows[0]["name"], self.names[k])
        rows = list(csv.DictReader(io.StringIO(self.run_change("--timepoints", fmt="csv"))))
        self.assertEqual(len(rows), 3 * len(listed))
        self.assertEqual([int(r["timepoint"]) for r in rows[::len(listed)]], [0, 1, 2])
        self.assertEqual(float(rows[-1]["lesion_volume_mm3"]),
                         self.load(90)[int(rows[-1]["label"])] * self.vv)
        table = self.run_change(fmt="table")
        self.assertIn("Region changes:", table)
        self.assertIn(self.names[listed[0]], table)

    def test_atlas_or_timepoint_on_another_grid_exits_1(self):
        rc, out, err = lvtest.run(["change", self.paths[1], self.paths[7], "--atlas",
                                   template("jhu189.nii.gz")])
        self.assertEqual(rc, 1, err)
        self.assertIn("jhu189.nii.gz", err)
        self.assertIn(self.paths[1], err)
        self.assertIn("dims 157x189x136 vs 181x217x181", err)
        self.assertEqual(out, "")
        # a follow-up moved by 2 mm: its own grid, not the atlas's
        img = nib.load(self.paths[7])
        aff = img.affine.copy()
        aff[0, 3] += 2
        moved = os.path.join(self.dir, "moved.nii.gz")
        nib.save(nib.Nifti1Image(self.masks[7].astype(np.uint8), aff), moved)
        rc, out, err = lvtest.run(["change", self.paths[1], moved, "--atlas", self.aal])
        self.assertEqual(rc, 1, err)
        self.assertIn("moved.nii.gz", err)
        self.assertIn("aal.nii.gz", err)
        self.assertEqual(out, "")
        rc, out, err = lvtest.run(["change", self.paths[1], self.paths[7],
                                   "--atlas-names", self.names_path])
        self.assertEqual(rc, 2, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
