#!/usr/bin/env python3
"""oracle.cohort_regions: `lesionvol cohort --atlas` (and `bids
participant|group --atlas`) write regions.tsv, a row per participant,
session and atlas region, equal to numpy's on a synthetic cohort (lvcohort's,
anisotropic 1 x 1.2 x 2.5 mm voxels) with a synthetic atlas on its grid:
region volume, lesion voxels/volume/fraction per session and the change
against the baseline session. Regions listed: those lesioned in some ok
participant (every one, including a label only named, with --all-regions).
A participant with a session on another grid than the atlas fails alone
(status error, message naming the files; exit 3). The atlas enters the
resume fingerprint: an unchanged rerun reuses every participant, a
rewritten atlas recomputes them all, a run without --atlas removes
regions.tsv. The BIDS participant + group levels give the same regions.tsv
as cohort."""
import math
import os
import unittest

import nibabel as nib
import numpy as np

import lvcohort as lv

SHAPE, ZOOMS = (40, 44, 24), (1.0, 1.2, 2.5)
NAMES = {1: "front left", 2: "front right", 3: "back left", 4: "back right",
         5: "cerebellum", 99: "named only"}


def make_atlas(path, affine, seed):
    """Labels 1-5 in slabs (a seed moves the borders), background below."""
    rng = np.random.default_rng(seed)
    i, j, k = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij")
    ci, cj = 20 + rng.integers(-3, 4), 22 + rng.integers(-3, 4)
    lab = 1 + (i >= ci) + 2 * (j < cj)
    lab[k < 6] = 5
    lab[k < 2] = 0
    nib.save(nib.Nifti1Image(lab.astype(np.int16), affine), path)
    return lab


class CohortRegions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lv.tmpdir()
        cls.data = os.path.join(cls.dir, "data")
        cls.manifest = lv.make_cohort(cls.data, n_subjects=6, shape=SHAPE, zooms=ZOOMS,
                                      seed=11)
        cls.affine = nib.load(os.path.join(
            cls.data, "sub-01/ses-acute/anat/sub-01_ses-acute_label-lesion_mask.nii.gz")).affine
        cls.atlas = os.path.join(cls.dir, "atlas.nii.gz")
        cls.labels = make_atlas(cls.atlas, cls.affine, 1)
        cls.names = os.path.join(cls.dir, "names.tsv")
        with open(cls.names, "w") as f:
            f.write("index\tname\n" + "".join("%d\t%s\n" % kv for kv in NAMES.items()))
        # sub-05's chronic scan is on another grid (not co-registered)
        bad = os.path.join(cls.data, "sub-05/ses-chronic/anat/"
                           "sub-05_ses-chronic_label-lesion_mask.nii.gz")
        img = nib.load(bad)
        aff = img.affine.copy()
        aff[0, 3] += 3.0
        nib.save(nib.Nifti1Image(np.asarray(img.dataobj), aff), bad)
        cls.bad = bad

    def plan(self):
        rows = lv.read_tsv(self.manifest)
        plan = {}
        for r in rows:
            plan.setdefault(r["participant_id"], []).append(
                (r["session"], float(r["days"]), os.path.join(self.data, r["image"]),
                 r["group"]))
        for tps in plan.values():
            tps.sort(key=lambda t: t[1])
        return plan

    def expected(self, labels, all_regions=False, failed=("sub-05",)):
        vv = float(np.prod(np.asarray(nib.load(self.atlas).header.get_zooms()[:3],
                                      dtype=np.float64)))
        plan = self.plan()
        loads = {}
        for pid, tps in plan.items():
            for ses, days, path, group in tps:
                m = np.asarray(nib.load(path).dataobj) > 0
                loads[pid, ses] = np.bincount(labels[m].ravel(), minlength=100)
        region_voxels = np.bincount(labels.ravel(), minlength=100)
        present = sorted(set(np.unique(labels[labels > 0]).tolist()) | set(NAMES))
        touched = {r for (pid, _), l in loads.items() if pid not in failed
                   for r in present if l[r]}
        listed = present if all_regions else sorted(touched)
        rows = []
        for pid in sorted(plan):
            tps = plan[pid]
            if pid in failed:
                rows += [dict(participant_id=pid, session=t[0], status="error") for t in tps]
                continue
            base = loads[pid, tps[0][0]]
            for ses, days, path, group in tps:
                cur = loads[pid, ses]
                for r in listed:
                    rv = int(region_voxels[r]) if r < len(region_voxels) else 0
                    f = cur[r] / rv if rv else math.nan
                    f0 = base[r] / rv if rv else math.nan
                    v0, v1 = base[r] * vv, cur[r] * vv
                    rows.append(dict(
                        participant_id=pid, group=group, session=ses, days=days, label=r,
                        name=NAMES.get(r, ""), region_volume_mm3=rv * vv,
                        lesion_voxels=int(cur[r]), lesion_volume_mm3=v1,
                        lesion_fraction=f, baseline_session=tps[0][0], baseline_mm3=v0,
                        delta_mm3=v1 - v0,
                        percent_change=100 * (v1 - v0) / v0 if v0 else math.nan,
                        baseline_fraction=f0, delta_fraction=f - f0, status="ok"))
        return rows

    def check(self, out, labels, **kw):
        got = lv.read_tsv(os.path.join(out, "regions.tsv"))
        want = self.expected(labels, **kw)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            what = "%s %s region %s" % (w["participant_id"], w["session"], w.get("label"))
            for key, value in w.items():
                if isinstance(value, str):
                    self.assertEqual(g[key], value if value else "n/a", what + " " + key)
                elif isinstance(value, int):
                    self.assertEqual(int(g[key]), value, what + " " + key)
                else:
                    self.assertTrue(lv.close(g[key], value),
                                    "%s %s: %s vs %r" % (what, key, g[key], value))
            if w["status"] == "error":
                self.assertIn("not on the grid", g["message"])
                self.assertIn("atlas.nii.gz", g["message"])
                self.assertIn(os.path.basename(self.bad), g["message"])
        return got

    def cohort(self, out, *opts, rc=3):
        code, _, err = lv.run(["cohort", self.manifest, "-o", out, "--threads", "2", *opts])
        self.assertEqual(code, rc, err)
        return err

    def test_regions_tsv_and_resume(self):
        out = os.path.join(self.dir, "out")
        opts = ("--atlas", self.atlas, "--atlas-names", self.names)
        err = self.cohort(out, *opts)
        self.assertIn("participant 'sub-05'", err)
        first = self.check(out, self.labels)
        tps = lv.read_tsv(os.path.join(out, "timepoints.tsv"))
        self.assertEqual({r["status"] for r in tps if r["participant_id"] != "sub-05"}, {"ok"})
        # unchanged: everyone reused, same table
        err = self.cohort(out, *opts)
        self.assertIn("(6 up to date)", err)
        self.assertEqual(lv.read_tsv(os.path.join(out, "regions.tsv")), first)
        # every region, the named-only one too (no voxels: fraction n/a)
        self.cohort(out, *opts, "--all-regions")
        got = self.check(out, self.labels, all_regions=True)
        self.assertIn("named only", {r["name"] for r in got})
        # a rewritten atlas recomputes everyone
        labels2 = make_atlas(self.atlas, self.affine, 2)
        self.assertFalse(np.array_equal(labels2, self.labels))
        err = self.cohort(out, *opts)
        self.assertIn("(0 up to date)", err)
        self.check(out, labels2)
        # without --atlas: recomputed, and no stale regions.tsv
        err = self.cohort(out, rc=0)  # sub-05 is fine without an atlas
        self.assertIn("(0 up to date)", err)
        self.assertFalse(os.path.exists(os.path.join(out, "regions.tsv")))
        make_atlas(self.atlas, self.affine, 1)

    def test_bids_levels_write_the_same_regions_tsv(self):
        opts = ("--atlas", self.atlas, "--atlas-names", self.names)
        co = os.path.join(self.dir, "co")
        self.cohort(co, *opts)
        bo = os.path.join(self.dir, "bids_out")
        code, _, err = lv.run(["bids", self.data, bo, "participant", "-q", *opts])
        self.assertEqual(code, 3, err)
        code, _, err = lv.run(["bids", self.data, bo, "group", "-q"])
        self.assertEqual(code, 3, err)
        a = lv.read_tsv(os.path.join(co, "regions.tsv"))
        b = lv.read_tsv(os.path.join(bo, "regions.tsv"))
        self.assertEqual(len(a), len(b))
        self.assertEqual(a, b)

    def test_usage_and_atlas_errors(self):
        out = os.path.join(self.dir, "usage")
        code, _, err = lv.run(["cohort", self.manifest, "-o", out, "--atlas-names",
                               self.names])
        self.assertEqual(code, 2, err)
        code, _, err = lv.run(["cohort", self.manifest, "-o", out, "--atlas",
                               os.path.join(self.dir, "missing.nii.gz")])
        self.assertEqual(code, 1, err)
        self.assertIn("missing.nii.gz", err)
        self.assertFalse(os.path.exists(os.path.join(out, "timepoints.tsv")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
