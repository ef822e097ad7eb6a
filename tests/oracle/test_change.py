#!/usr/bin/python3
"""lesionvol change against numpy + scipy: synthetic pairs whose answer is known
by construction, real masks paired with transformed copies, and images on
different grids."""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import nibabel as nib
import numpy as np
from scipy import ndimage

LV = os.environ.get("LESIONVOL", "lesionvol")
REAL = os.environ.get("LESIONVOL_REALDATA", "")
STRUCT = {6: ndimage.generate_binary_structure(3, 1),
          18: ndimage.generate_binary_structure(3, 2),
          26: ndimage.generate_binary_structure(3, 3)}


def run(*args):
    p = subprocess.run([LV, *map(str, args)], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def save(path, data, affine=None, zooms=None):
    affine = np.diag([1.5, 1.5, 2.0, 1.0]) if affine is None else affine
    img = nib.Nifti1Image(data.astype(np.uint8), affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, path)
    return path


def expected(a, b, vox, conn=26, days=None):
    """Every change field computed independently with numpy/scipy."""
    a = a > 0
    b = b > 0
    v0 = a.sum() * vox
    v1 = b.sum() * vox
    e = {"baseline_mm3": v0, "volume_mm3": v1, "delta_mm3": v1 - v0,
         "percent_change": 100 * (v1 - v0) / v0 if v0 > 0 else None,
         "log_ratio": math.log(v1 / v0) if v0 > 0 and v1 > 0 else None}
    if days:
        e["rate_mm3_per_day"] = (v1 - v0) / (days[1] - days[0])
    both = (a & b).sum()
    e["dice"] = 2 * both / (a.sum() + b.sum()) if a.sum() + b.sum() else None
    e["persistent_mm3"] = both * vox
    e["resolved_mm3"] = (a & ~b).sum() * vox
    e["new_mm3"] = (~a & b).sum() * vox
    la, na = ndimage.label(a, STRUCT[conn])
    lb, nb = ndimage.label(b, STRUCT[conn])
    touch = {(x, y) for x, y in zip(la[a & b].tolist(), lb[a & b].tolist())}
    ta = {i: {y for x, y in touch if x == i} for i in range(1, na + 1)}
    tb = {j: {x for x, y in touch if y == j} for j in range(1, nb + 1)}
    e["n_new"] = sum(1 for j in tb if not tb[j])
    e["n_persistent"] = sum(1 for j in tb if tb[j])
    e["n_merged"] = sum(1 for j in tb if len(tb[j]) >= 2)
    e["n_resolved"] = sum(1 for i in ta if not ta[i])
    e["n_split"] = sum(1 for i in ta if len(ta[i]) >= 2)
    return e


def ball(shape, centre, r):
    idx = np.indices(shape)
    d2 = sum((idx[i] - centre[i]) ** 2 for i in range(3))
    return d2 <= r * r


class ChangeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lv-change-")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def change(self, *args):
        rc, out, err = run("change", "--format", "json", *args)
        self.assertEqual(rc, 0, err)
        return json.loads(out), err

    def check(self, got, exp, rel=1e-9):
        for k, v in exp.items():
            if v is None:
                self.assertIsNone(got[k], k)
            elif isinstance(v, (int, np.integer)) and k.startswith("n_"):
                self.assertEqual(got[k], int(v), k)
            else:
                self.assertTrue(math.isclose(got[k], float(v), rel_tol=rel, abs_tol=1e-9),
                                f"{k}: got {got[k]}, expected {v}")

    def test_change__shifted_grown_split_merged_blobs(self):
        shape = (40, 36, 30)
        vox = 1.5 * 1.5 * 2.0
        t0 = ball(shape, (12, 12, 10), 5) | ball(shape, (28, 12, 10), 4) | ball(shape, (20, 28, 20), 3)
        # later: first blob shifted and grown, second and a bridge merged into
        # it, third split into two, a new lesion elsewhere
        t1 = ball(shape, (13, 12, 10), 7) | ball(shape, (28, 12, 10), 4)
        t1[12:29, 11:13, 9:11] = True
        t1 |= ball(shape, (18, 28, 20), 1.5) | ball(shape, (22, 28, 20), 1.5)
        t1[20, 28, 20] = False
        t1 |= ball(shape, (5, 30, 25), 2)
        self.assertGreater(ndimage.label(t1[:, 26:31, 17:24], STRUCT[26])[1], 1)
        p0 = save(self.path("t0.nii.gz"), t0)
        p1 = save(self.path("t1.nii.gz"), t1)
        for conn in (6, 18, 26):
            got, _ = self.change(p0, p1, "--connectivity", str(conn), "--days", "1,8")
            self.assertEqual(len(got["changes"]), 1)
            exp = expected(t0, t1, vox, conn, days=(1, 8))
            self.check(got["changes"][0], exp)
            self.assertTrue(got["changes"][0]["same_grid"])
        # by construction, at 26-connectivity: one merge (blobs 1+2), one split
        exp = expected(t0, t1, vox, 26)
        self.assertEqual(exp["n_merged"], 1)
        self.assertEqual(exp["n_split"], 1)
        self.assertEqual(exp["n_new"], 1)

    def test_change__empty_vanishing_and_appearing_lesions(self):
        shape = (20, 20, 20)
        empty = np.zeros(shape, bool)
        blob = ball(shape, (10, 10, 10), 4)
        pe = save(self.path("empty.nii"), empty)
        pb = save(self.path("blob.nii"), blob)
        vox = 4.5
        got, _ = self.change(pb, pe)  # vanishes
        c = got["changes"][0]
        self.check(c, expected(blob, empty, vox))
        self.assertEqual(c["percent_change"], -100)
        self.assertIsNone(c["log_ratio"])
        self.assertEqual(c["n_resolved"], 1)
        got, _ = self.change(pe, pb)  # appears
        c = got["changes"][0]
        self.assertIsNone(c["percent_change"])
        self.assertIsNone(c["log_ratio"])
        self.assertEqual(c["n_new"], 1)
        self.check(c, expected(empty, blob, vox))
        got, _ = self.change(pe, pe)  # nothing at all
        c = got["changes"][0]
        self.assertIsNone(c["dice"])
        self.assertIsNone(c["percent_change"])
        self.assertEqual(c["delta_mm3"], 0)
        self.assertIsNone(c["rate_mm3_per_day"])

    def test_change__days_order_consecutive_and_change_map(self):
        shape = (24, 24, 24)
        a = ball(shape, (12, 12, 12), 6)
        b = ball(shape, (12, 12, 12), 8)
        c = ball(shape, (14, 12, 12), 3)
        pa, pb, pc = (save(self.path(f"{n}.nii.gz"), m) for n, m in (("a", a), ("b", b), ("c", c)))
        vox = 4.5
        cmap = self.path("change.nii.gz")
        # given out of order: days make 'a' the baseline
        got, _ = self.change(pc, pa, pb, "--days", "90,1,7", "--consecutive",
                             "--out-change", cmap)
        self.assertEqual([t["image"] for t in got["timepoints"]], [pa, pb, pc])
        rows = [(r["baseline_image"], r["image"]) for r in got["changes"]]
        self.assertEqual(rows, [(pa, pb), (pa, pc), (pb, pc)])
        self.check(got["changes"][0], expected(a, b, vox, days=(1, 7)))
        self.check(got["changes"][1], expected(a, c, vox, days=(1, 90)))
        self.check(got["changes"][2], expected(b, c, vox, days=(7, 90)))
        img = nib.load(cmap)
        ref = nib.load(pa)
        np.testing.assert_allclose(img.affine, ref.affine, atol=1e-6)
        m = np.asarray(img.dataobj)
        want = np.zeros(shape, np.uint8)
        want[a & ~c] = 1
        want[a & c] = 2
        want[~a & c] = 3
        np.testing.assert_array_equal(m, want)

    def test_change__different_grids_give_volumes_and_na_overlap(self):
        shape = (20, 20, 20)
        blob = ball(shape, (10, 10, 10), 4)
        p0 = save(self.path("g0.nii.gz"), blob)
        shifted = np.diag([1.5, 1.5, 2.0, 1.0])
        shifted[0, 3] = 5.0
        p1 = save(self.path("g1.nii.gz"), blob, affine=shifted)
        bigger = np.zeros((22, 20, 20), bool)
        bigger[:20] = blob
        p2 = save(self.path("g2.nii.gz"), bigger)
        for other in (p1, p2):
            got, err = self.change(p0, other)
            c = got["changes"][0]
            self.assertFalse(c["same_grid"])
            self.assertEqual(c["baseline_mm3"], blob.sum() * 4.5)
            self.assertEqual(c["volume_mm3"], blob.sum() * 4.5)
            for k in ("dice", "persistent_mm3", "new_mm3", "n_new", "n_merged"):
                self.assertIsNone(c[k], k)
            self.assertIn("different grids" if other == p2 else "voxel-to-world", err)
            self.assertIn("co-register", err)
        rc, _, err = run("change", p0, p1, "--out-change", self.path("x.nii.gz"))
        self.assertEqual(rc, 1)
        self.assertIn("different grids", err)

    def test_change__real_masks_against_shifted_and_eroded_copies(self):
        if not REAL or not os.path.isdir(REAL):
            self.skipTest("LESIONVOL_REALDATA absent")
        picks = []
        for sub in ("lesymap/inst/extdata/lesions", "soop/NIfTI"):
            root = os.path.join(REAL, sub)
            files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                           if f.endswith(".nii.gz"))
            picks += files[:: max(1, len(files) // 2)][:2]
        self.assertTrue(picks)
        for i, src in enumerate(picks):
            img = nib.load(src)
            data = np.asarray(img.dataobj) > 0
            vox = float(abs(np.prod(img.header.get_zooms()[:3])))
            variants = {
                "shift": np.roll(data, 3, axis=0) & np.roll(np.ones_like(data), 3, axis=0),
                "erode": ndimage.binary_erosion(data, STRUCT[6]),
                "dilate": ndimage.binary_dilation(data, STRUCT[26]),
            }
            variants["shift"][:3] = False
            for name, later in variants.items():
                p0 = save(self.path(f"r{i}.nii.gz"), data, affine=img.affine)
                p1 = save(self.path(f"r{i}_{name}.nii.gz"), later, affine=img.affine)
                got, _ = self.change(p0, p1)
                e = expected(data, later, vox)
                self.check(got["changes"][0], e)

    def test_change__bad_days_is_a_usage_error(self):
        blob = ball((10, 10, 10), (5, 5, 5), 3)
        p = save(self.path("b.nii"), blob)
        for days in ("1", "1,x", "1,2,3", "1,,2"):
            rc, _, err = run("change", p, p, "--days", days)
            self.assertEqual(rc, 2, days)
            self.assertIn("--days", err)
        rc, _, err = run("change", p)
        self.assertEqual(rc, 2)
        rc, _, err = run("change", p, os.path.join(self.tmp, "missing.nii.gz"))
        self.assertEqual(rc, 1)
        self.assertIn("missing.nii.gz", err)


if __name__ == "__main__":
    unittest.main()
