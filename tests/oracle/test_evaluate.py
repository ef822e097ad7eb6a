#!/usr/bin/env python3
"""oracle.evaluate: `lesionvol evaluate` equals an independent numpy + scipy
implementation of the ISLES'22 metrics (scipy.ndimage.label with a 3x3x3
structure, the conventions of the challenge's eval_utils.py) and of MedPy's
surface distances (binary_erosion with the 6-neighbourhood, border as
background; scipy.ndimage.distance_transform_edt with the voxel sizes as
sampling; numpy.percentile of both directions pooled).

Pairs are built from real LESYMAP stroke masks (181x217x181, 1 mm):
identical, shifted, eroded, with blobs added and components removed, two
different patients, empty against non-empty and both empty; plus anisotropic
voxels, a thresholded probability map, --connectivity 6 and --min-voxels.
Every field is compared to 1e-9 (distances to 1e-6 mm). Then --pairs: one
broken case gives its error row and exit 3 while the rest are scored as
alone, the means are numpy's, and 1 or 2 threads give the same bytes.
Different grids exit 1."""
import json
import os
import sys
import unittest

import nibabel as nib
import numpy as np
from scipy import ndimage

import lvtest

LESIONS = "lesymap/inst/extdata/lesions"
FULL = np.ones((3, 3, 3), bool)
FACE = ndimage.generate_binary_structure(3, 1)


def surface(mask):
    return mask & ~ndimage.binary_erosion(mask, structure=FACE, border_value=0)


def surface_distances(s, r, zooms):
    """MedPy's d(S->R) and d(R->S). Cropped to the masks' bounding box plus
    one voxel, which changes nothing (outside the box there is no mask)."""
    idx = np.argwhere(s | r)
    lo = np.maximum(idx.min(0) - 1, 0)
    hi = idx.max(0) + 2
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    bs, br = surface(s[box]), surface(r[box])
    d_sr = ndimage.distance_transform_edt(~br, sampling=zooms)[bs]
    d_rs = ndimage.distance_transform_edt(~bs, sampling=zooms)[br]
    return d_sr, d_rs


def oracle(seg, ref, zooms, conn=26):
    """Every field of `lesionvol evaluate` from two boolean masks."""
    structure = FULL if conn == 26 else (
        FACE if conn == 6 else ndimage.generate_binary_structure(3, 2))
    ns, nr = int(seg.sum()), int(ref.sum())
    both = int((seg & ref).sum())
    vv = float(np.prod(zooms))
    lab_s, n_s = ndimage.label(seg, structure=structure)
    lab_r, n_r = ndimage.label(ref, structure=structure)
    tp = len(np.unique(lab_r[ref & seg]))
    fn = n_r - tp
    fp = n_s - len(np.unique(lab_s[seg & ref]))
    empty = ns + nr == 0
    out = {
        "segmentation_voxels": ns, "reference_voxels": nr, "overlap_voxels": both,
        "voxel_volume_mm3": vv,
        "segmentation_volume_ml": ns * vv / 1000, "reference_volume_ml": nr * vv / 1000,
        "dice": 1.0 if empty else 2 * both / (ns + nr),
        "jaccard": 1.0 if empty else both / (ns + nr - both),
        "sensitivity": both / nr if nr else None,
        "precision": both / ns if ns else None,
        "volume_similarity": 1.0 if empty else 1 - abs(ns - nr) / (ns + nr),
        # ISLES'22: |sum(gt) * voxel_ml - sum(pred) * voxel_ml|
        "abs_volume_difference_ml": abs(ns * vv / 1000 - nr * vv / 1000),
        "segmentation_lesions": n_s, "reference_lesions": n_r,
        "lesion_count_difference": abs(n_s - n_r),
        "lesion_tp": tp, "lesion_fp": fp, "lesion_fn": fn,
        "lesion_f1": 1.0 if tp + fp + fn == 0 else tp / (tp + (fp + fn) / 2),
        "hd95_mm": None, "hausdorff_mm": None, "assd_mm": None,
    }
    if ns and nr:
        d_sr, d_rs = surface_distances(seg, ref, zooms)
        pooled = np.hstack((d_sr, d_rs))
        out["hd95_mm"] = float(np.percentile(pooled, 95))
        out["hausdorff_mm"] = float(pooled.max())
        out["assd_mm"] = float(np.mean((d_sr.mean(), d_rs.mean())))
    return out


def save(path, data, like, zooms=None, dtype=np.uint8):
    img = nib.Nifti1Image(np.asarray(data, dtype=dtype), like.affine)
    img.header.set_data_dtype(dtype)
    if zooms is not None:
        img.header.set_zooms(zooms)
        aff = np.diag(list(zooms) + [1.0])
        aff[:3, 3] = like.affine[:3, 3]
        img.set_sform(aff, 1)
        img.set_qform(aff, 1)
    nib.save(img, path)
    return path


def shifted(mask, by):
    out = np.zeros_like(mask)
    src = tuple(slice(max(0, -b), mask.shape[d] - max(0, b)) for d, b in enumerate(by))
    dst = tuple(slice(max(0, b), mask.shape[d] - max(0, -b)) for d, b in enumerate(by))
    out[dst] = mask[src]
    return out


def ball(shape, centre, radius):
    g = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum((g[d] - centre[d]) ** 2 for d in range(3)) <= radius ** 2


class Evaluate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lvtest.tmpdir()
        root = lvtest.realdata(LESIONS)
        cls.img = {}
        cls.mask = {}
        for s in ("001", "011", "019", "009"):
            img = nib.load(os.path.join(root, "Subject_%s.nii.gz" % s))
            cls.img[s] = img
            cls.mask[s] = np.asarray(img.dataobj) > 0
        cls.like = cls.img["001"]
        cls.zooms = tuple(float(z) for z in cls.like.header.get_zooms()[:3])

    def path(self, name, data, **kw):
        return save(os.path.join(self.dir, name), data, self.like, **kw)

    def evaluate(self, seg_path, ref_path, *opts):
        rc, out, err = lvtest.run(["evaluate", seg_path, ref_path, "--format", "json",
                                   *opts])
        self.assertEqual(rc, 0, err)
        self.assertEqual(lvtest.stray_stderr_lines(err), [])
        return json.loads(out)

    def compare(self, got, want, what):
        for key, value in want.items():
            self.assertIn(key, got, "%s: %s missing" % (what, key))
            if value is None:
                self.assertIsNone(got[key], "%s: %s should be n/a" % (what, key))
                continue
            self.assertIsNotNone(got[key], "%s: %s is n/a, want %r" % (what, key, value))
            tol = 1e-6 if key.endswith("_mm") else 1e-9
            self.assertAlmostEqual(got[key], value, delta=tol * max(1.0, abs(value)),
                                   msg="%s: %s" % (what, key))

    def pair(self, name, seg, ref, *opts, zooms=None, conn=26, seg_data=None):
        sp = self.path(name + "_seg.nii", seg if seg_data is None else seg_data,
                       zooms=zooms, dtype=np.uint8 if seg_data is None else np.float32)
        rp = self.path(name + "_ref.nii", ref, zooms=zooms)
        # the voxel size as stored (float32 pixdim)
        zooms_used = tuple(float(z) for z in nib.load(rp).header.get_zooms()[:3])
        got = self.evaluate(sp, rp, *opts)
        self.compare(got, oracle(seg, ref, zooms_used, conn), name)
        return got

    def test_identical_masks_agree_perfectly(self):
        m = self.mask["011"]
        got = self.pair("identical", m, m)
        self.assertEqual((got["dice"], got["lesion_f1"], got["hd95_mm"]), (1, 1, 0))

    def test_shifted_mask(self):
        self.pair("shifted", shifted(self.mask["001"], (3, -2, 1)), self.mask["001"])

    def test_eroded_mask(self):
        m = self.mask["019"]
        self.pair("eroded", ndimage.binary_erosion(m, FULL, iterations=2), m)

    def test_added_blobs_and_removed_components(self):
        ref = self.mask["011"]
        lab, n = ndimage.label(ref, structure=FULL)
        self.assertGreater(n, 4)
        seg = ref & ~np.isin(lab, [2, 4, n])       # three lesions missed
        for centre, radius in (((130, 60, 50), 4), ((140, 150, 120), 3), ((90, 30, 30), 1)):
            blob = ball(ref.shape, centre, radius)
            self.assertFalse((blob & ref).any())
            seg = seg | blob                       # three false positives
        got = self.pair("blobs", seg, ref)
        self.assertEqual((got["lesion_fp"], got["lesion_fn"]), (3, 3))

    def test_different_patients(self):
        self.pair("patients", self.mask["001"], self.mask["009"])

    def test_empty_segmentation(self):
        got = self.pair("emptyseg", np.zeros_like(self.mask["001"]), self.mask["001"])
        self.assertIsNone(got["precision"])
        self.assertEqual(got["lesion_f1"], 0)

    def test_empty_reference(self):
        got = self.pair("emptyref", self.mask["019"], np.zeros_like(self.mask["019"]))
        self.assertIsNone(got["sensitivity"])

    def test_both_empty_is_perfect_by_convention(self):
        z = np.zeros_like(self.mask["001"])
        got = self.pair("bothempty", z, z)
        self.assertEqual((got["dice"], got["lesion_f1"]), (1, 1))
        self.assertIsNone(got["hd95_mm"])

    def test_anisotropic_voxels(self):
        ref = self.mask["019"]
        seg = ndimage.binary_dilation(shifted(ref, (0, 2, -1)), FACE)
        self.pair("aniso", seg, ref, zooms=(0.9, 1.3, 2.7))

    def test_thresholded_probability_map(self):
        ref = self.mask["001"]
        prob = ndimage.gaussian_filter(shifted(ref, (1, 1, 0)).astype(np.float32), 2.0)
        seg = prob >= np.float32(0.5)
        self.pair("prob", seg, ref, "--thr", "0.5", seg_data=prob)

    def test_connectivity_6(self):
        ref = self.mask["011"]
        seg = ndimage.binary_erosion(ref, FACE)
        self.pair("conn6", seg, ref, "--connectivity", "6", conn=6)

    def test_min_voxels_drops_specks_first(self):
        ref = self.mask["001"]
        speck = ball(ref.shape, (30, 40, 40), 1)       # 7 voxels
        seg = ref | speck
        sp = self.path("speck_seg.nii", seg)
        rp = self.path("speck_ref.nii", ref)
        got = self.evaluate(sp, rp, "--min-voxels", "8")
        self.compare(got, oracle(ref, ref, self.zooms), "min-voxels")

    def test_different_grids_exit_1(self):
        soop = lvtest.realdata("soop/NIfTI/bwsrsub-10_lesion.nii.gz")
        seg = os.path.join(lvtest.realdata(LESIONS), "Subject_001.nii.gz")
        rc, out, err = lvtest.run(["evaluate", seg, soop])
        self.assertEqual(rc, 1, err)
        self.assertIn("not on the same grid", err)
        self.assertEqual(out, "")
        # same dims, world moved by 2 mm
        moved = nib.Nifti1Image(self.mask["001"].astype(np.uint8),
                                self.like.affine + np.array([[0, 0, 0, 2.0]] * 3 + [[0] * 4]))
        mp = os.path.join(self.dir, "moved.nii")
        nib.save(moved, mp)
        rc, out, err = lvtest.run(["evaluate", seg, mp])
        self.assertEqual(rc, 1, err)
        self.assertIn("voxel-to-world", err)

    def test_pairs_manifest(self):
        sub = os.path.join(self.dir, "pairs")
        os.makedirs(os.path.join(sub, "masks"), exist_ok=True)
        ref = self.mask["011"]
        cases = [
            ("a", shifted(ref, (2, 0, 0)), ref),
            ("b", ndimage.binary_erosion(self.mask["019"], FULL), self.mask["019"]),
            ("c", self.mask["001"], self.mask["009"]),
            ("d", np.zeros_like(ref), self.mask["001"]),
        ]
        rows = ["case_id\tsegmentation\treference\tnote"]
        want = {}
        for cid, s, r in cases:
            save(os.path.join(sub, "masks", cid + "_seg.nii"), s, self.like)
            save(os.path.join(sub, "masks", cid + "_ref.nii"), r, self.like)
            rows.append("%s\tmasks/%s_seg.nii\tmasks/%s_ref.nii\tx" % (cid, cid, cid))
            want[cid] = oracle(s, r, self.zooms)
        rows.insert(3, "broken\tmasks/missing.nii\tmasks/a_ref.nii\t")
        tsv = os.path.join(sub, "pairs.tsv")
        with open(tsv, "w") as f:
            f.write("\n".join(rows) + "\n")
        outs = []
        for threads in ("1", "2"):
            rc, out, err = lvtest.run(["evaluate", "--pairs", tsv, "--format", "json",
                                       "--threads", threads])
            self.assertEqual(rc, 3, err)
            self.assertIn("case 'broken'", err)
            outs.append(out)
        self.assertEqual(outs[0], outs[1], "output depends on the thread count")
        got = json.loads(outs[0])
        ids = [c["case_id"] for c in got["cases"]]
        self.assertEqual(ids, ["a", "b", "broken", "c", "d"])
        self.assertEqual((got["n_cases"], got["n_failed"]), (5, 1))
        for c in got["cases"]:
            if c["case_id"] == "broken":
                self.assertEqual(c["status"], "error")
                self.assertIn("missing.nii", c["message"])
                continue
            self.assertEqual(c["status"], "ok")
            self.compare(c, want[c["case_id"]], "pairs " + c["case_id"])
        for key in ("dice", "lesion_f1", "hd95_mm", "precision", "abs_volume_difference_ml"):
            vals = [w[key] for w in want.values() if w[key] is not None]
            self.assertAlmostEqual(got["mean"][key], float(np.mean(vals)), delta=1e-9,
                                   msg="mean " + key)
        self.assertEqual(got["mean"]["n_cases"], 4)
        # the table ends with the means; TSV has a row per case and "mean"
        rc, out, err = lvtest.run(["evaluate", "--pairs", tsv, "--format", "tsv"])
        self.assertEqual(rc, 3, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1 + 5 + 1)
        self.assertTrue(lines[-1].startswith("mean\t"))
        header = lines[0].split("\t")
        self.assertEqual(lines[3].split("\t")[header.index("status")], "error")

    def test_usage_and_manifest_errors(self):
        seg = os.path.join(lvtest.realdata(LESIONS), "Subject_001.nii.gz")
        for args in (["evaluate", seg], ["evaluate", seg, seg, seg],
                     ["evaluate", seg, seg, "--soft"],
                     ["evaluate", seg, seg, "--pairs", "x.tsv"]):
            rc, out, err = lvtest.run(args)
            self.assertEqual(rc, 2, "%s: %s" % (args, err))
            self.assertIn("usage:", err)
        bad = os.path.join(self.dir, "bad.tsv")
        for text, why in (("seg\tref\na\tb\n", "must name the columns"),
                          ("segmentation\treference\n", "lists no pairs"),
                          ("", "is empty")):
            with open(bad, "w") as f:
                f.write(text)
            rc, out, err = lvtest.run(["evaluate", "--pairs", bad])
            self.assertEqual(rc, 1, err)
            self.assertIn(why, err)
        rc, out, err = lvtest.run(["evaluate", "--pairs", os.path.join(self.dir, "none.tsv")])
        self.assertEqual(rc, 1, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
