#!/usr/bin/env python3
"""oracle.atlas: lesion load per atlas region (`lesionvol regions`, and
`lesionvol measure --atlas`) equals
numpy's on real MNI-space lesion masks and the real atlases of Debian's
mricron-data, taken on their own grids (nothing is resampled):

- LESYMAP stroke masks (ch2 grid, 181x217x181) with MRIcron's AAL atlas and
  its names list aal.nii.txt ("index name code" per line), and with the
  Brodmann atlas;
- SOOP acute stroke masks (157x189x136) with MRIcron's jhu189.nii.gz (the
  189-region JHU atlas, on exactly SOOP's grid), names from a TSV with a
  header row written here;
- open_ms_data MS lesions (FSL MNI152 grid) against MRIcron's
  JHU-WhiteMatter-labels-1mm.nii.gz, whose sform maps voxel i to x = i - 91
  where the MNI152 grid has x = 90 - i: a different grid, exit 1.

For every region: region voxels and mm^3, lesion voxels and mm^3 inside it,
and the fraction (lesion voxels / region voxels, LESYMAP's getLesionLoad),
exactly; the lesion outside every region; names as listed."""
import json
import os
import unittest

import nibabel as nib
import numpy as np

import lvtest

template = lvtest.mricron_template


def expected(lesion_path, atlas_path, names, all_regions):
    les = nib.load(lesion_path)
    atl = nib.load(atlas_path)
    assert np.allclose(les.affine, atl.affine, atol=1e-3) and les.shape == atl.shape
    mask = np.asarray(les.dataobj) > 0
    labels = np.asarray(atl.dataobj).astype(np.int64)
    vv = float(np.prod(les.header.get_zooms()[:3]))
    present = set(np.unique(labels[labels != 0]).tolist())
    regions = sorted(present | {k for k in names if k != 0})
    region_voxels = np.bincount(labels[labels > 0].ravel(), minlength=max(regions) + 1)
    lesion_voxels = np.bincount(labels[mask & (labels > 0)].ravel(),
                                minlength=max(regions) + 1)
    rows = []
    for r in regions:
        if not all_regions and lesion_voxels[r] == 0:
            continue
        rv, lv = int(region_voxels[r]), int(lesion_voxels[r])
        rows.append({"label": r, "name": names.get(r, ""), "region_voxels": rv,
                     "region_volume_mm3": rv * vv, "lesion_voxels": lv,
                     "lesion_volume_mm3": lv * vv,
                     "lesion_fraction": lv / rv if rv else None})
    summary = {"lesion_voxels": int(mask.sum()), "lesion_volume_mm3": mask.sum() * vv,
               "outside_atlas_mm3": int((mask & (labels == 0)).sum()) * vv}
    return summary, rows


class Atlas(unittest.TestCase):
    def regions(self, image, atlas, *opts):
        rc, out, err = lvtest.run(["regions", image, "--atlas", atlas, "--format", "json",
                                   "--quiet", *opts])
        self.assertEqual(rc, 0, err)
        self.assertEqual(lvtest.stray_stderr_lines(err), [])
        return json.loads(out)

    def check(self, image, atlas, names, names_path=None, all_regions=False):
        opts = (["--atlas-names", names_path] if names_path else []) + (
            ["--all-regions"] if all_regions else [])
        got = self.regions(image, atlas, *opts)
        summary, rows = expected(image, atlas, names, all_regions)
        what = os.path.basename(image) + " in " + os.path.basename(atlas)
        for key, value in summary.items():
            self.assertEqual(got[key], value, "%s: %s" % (what, key))
        self.assertEqual([r["label"] for r in got["regions"]], [r["label"] for r in rows],
                         what + ": regions listed")
        for g, w in zip(got["regions"], rows):
            for key, value in w.items():
                if key == "lesion_fraction" and value is not None:
                    self.assertAlmostEqual(g[key], value, delta=1e-15,
                                           msg="%s: region %d %s" % (what, w["label"], key))
                else:
                    self.assertEqual(g[key], value,
                                     "%s: region %d %s" % (what, w["label"], key))
        return got

    def test_lesymap_masks_in_aal_with_mricron_names(self):
        aal = template("aal.nii.gz")
        names_path = template("aal.nii.txt")
        names = lvtest.mricron_names(names_path)
        self.assertEqual(len(names), 116)
        root = lvtest.realdata("lesymap/inst/extdata/lesions")
        for s in ("001", "004", "011"):
            got = self.check(os.path.join(root, "Subject_%s.nii.gz" % s), aal, names,
                             names_path)
            self.assertTrue(got["regions"], "Subject_%s hits no AAL region" % s)
        # every region, touched or not
        got = self.check(os.path.join(root, "Subject_001.nii.gz"), aal, names, names_path,
                         all_regions=True)
        self.assertEqual(len(got["regions"]), 116)

    def test_lesymap_mask_in_brodmann_without_names(self):
        root = lvtest.realdata("lesymap/inst/extdata/lesions")
        self.check(os.path.join(root, "Subject_002.nii.gz"), template("brodmann.nii.gz"), {})

    def test_soop_masks_in_jhu_atlas_with_tsv_names(self):
        jhu = template("jhu189.nii.gz")
        labels = np.unique(np.asarray(nib.load(jhu).dataobj))
        names = {int(l): "region %d" % l for l in labels if l and l % 2}
        tsv = os.path.join(lvtest.tmpdir(), "jhu189.tsv")
        with open(tsv, "w") as f:
            f.write("index\tname\tcolor\n")
            for k, v in sorted(names.items()):
                f.write("%d\t%s\t#ffffff\n" % (k, v))
        root = lvtest.realdata("soop/NIfTI")
        for s in ("1", "16", "35"):
            self.check(os.path.join(root, "bwsrsub-%s_lesion.nii.gz" % s), jhu, names, tsv)

    def test_measure_with_atlas_reports_the_same_regions(self):
        aal, names_path = template("aal.nii.gz"), template("aal.nii.txt")
        image = os.path.join(lvtest.realdata("lesymap/inst/extdata/lesions"),
                             "Subject_004.nii.gz")
        rc, out, err = lvtest.run(["measure", image, "--atlas", aal, "--atlas-names",
                                   names_path, "--format", "json", "--quiet"])
        self.assertEqual(rc, 0, err)
        got = json.loads(out)
        summary, rows = expected(image, aal, lvtest.mricron_names(names_path), False)
        self.assertEqual(got["outside_atlas_mm3"], summary["outside_atlas_mm3"])
        self.assertEqual(len(got["regions"]), len(rows))
        for g, w in zip(got["regions"], rows):
            for key, value in w.items():
                if isinstance(value, float):
                    self.assertAlmostEqual(g[key], value, delta=1e-15, msg=key)
                else:
                    self.assertEqual(g[key], value, key)
        rc, out, err = lvtest.run(["measure", image, "--atlas", template("jhu189.nii.gz")])
        self.assertEqual(rc, 1, err)
        self.assertIn("not on the grid", err)
        rc, out, err = lvtest.run(["measure", image, "--atlas-names", names_path])
        self.assertEqual(rc, 2, err)

    def test_tsv_and_csv_have_a_row_per_image_and_region(self):
        aal, names_path = template("aal.nii.gz"), template("aal.nii.txt")
        root = lvtest.realdata("lesymap/inst/extdata/lesions")
        images = [os.path.join(root, "Subject_%s.nii.gz" % s) for s in ("001", "004")]
        rc, out, err = lvtest.run(["regions", *images, "--atlas", aal, "--atlas-names",
                                   names_path, "--format", "tsv", "--quiet"])
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        header = lines[0].split("\t")
        self.assertEqual(header[:3], ["image", "label", "name"])
        want = sum(len(expected(i, aal, {}, False)[1]) for i in images)
        self.assertEqual(len(lines) - 1, want)

    def test_atlas_on_another_grid_exits_1(self):
        jhu = template("JHU-WhiteMatter-labels-1mm.nii.gz")
        ms = lvtest.realdata("open_ms_data/cross_sectional/MNI/patient01/"
                             "GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz")
        rc, out, err = lvtest.run(["regions", ms, "--atlas", jhu])
        self.assertEqual(rc, 1, err)
        self.assertIn("not on the grid", err)
        self.assertIn("voxel-to-world", err)
        self.assertEqual(out, "")
        # other dims
        lesymap = os.path.join(lvtest.realdata("lesymap/inst/extdata/lesions"),
                               "Subject_001.nii.gz")
        rc, out, err = lvtest.run(["regions", lesymap, "--atlas", template("jhu189.nii.gz")])
        self.assertEqual(rc, 1, err)
        self.assertIn("dims 157x189x136 vs 181x217x181", err)

    def test_a_failing_image_among_several_exits_3(self):
        aal = template("aal.nii.gz")
        root = lvtest.realdata("lesymap/inst/extdata/lesions")
        soop = lvtest.realdata("soop/NIfTI/bwsrsub-1_lesion.nii.gz")
        rc, out, err = lvtest.run(["regions", os.path.join(root, "Subject_001.nii.gz"), soop,
                                   "--atlas", aal, "--format", "json", "--quiet"])
        self.assertEqual(rc, 3, err)
        self.assertEqual(len(json.loads(out)), 1)

    def test_non_integer_atlas_is_refused(self):
        d = lvtest.tmpdir()
        bad = os.path.join(d, "float.nii")
        data = np.zeros((5, 6, 7), np.float32)
        data[2, 3, 4] = 1.5
        nib.save(nib.Nifti1Image(data, np.eye(4)), bad)
        img = os.path.join(d, "mask.nii")
        nib.save(nib.Nifti1Image((data > 0).astype(np.uint8), np.eye(4)), img)
        rc, out, err = lvtest.run(["regions", img, "--atlas", bad])
        self.assertEqual(rc, 1, err)
        self.assertIn("not a whole number", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
