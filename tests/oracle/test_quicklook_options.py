"""oracle.quicklook_options: `measure --quicklook`, `change --quicklook` and
`cohort --quicklook` draw exactly what was counted: lesion colour on the
tiles of slices that hold kept lesion voxels and nowhere else; for change,
red only on new voxels, blue only on resolved ones, yellow on persistent.

Images are made here with nibabel; which voxels are lesion, new, resolved
or persistent is computed with numpy. The PNGs are decoded with PIL, and
every coloured pixel is mapped back to the voxel under it (RAS storage,
1 mm voxels, tiles enlarged by a whole factor), so a colour on the wrong
voxel, slice or side fails.
"""
import json
import os
import sys
import unittest

import nibabel as nib
import numpy as np

import lvtest

TMP = lvtest.tmpdir()
SHAPE = (36, 40, 24)
AFFINE = np.diag([1.0, 1.0, 1.0, 1.0])
AFFINE[:3, 3] = [-17.5, -19.5, -11.5]

# outline colours of src/lib/quicklook.c (every other pixel is grey)
COLOURS = {(255, 32, 32): "red", (40, 120, 255): "blue", (255, 220, 0): "yellow"}


def png_rgb(path):
    from PIL import Image
    with Image.open(path) as im:
        assert im.mode == "RGB", im.mode
        return np.asarray(im).astype(int)


def save(data, name):
    img = nib.Nifti1Image(data, AFFINE)
    img.set_qform(AFFINE, 1)
    img.set_sform(AFFINE, 1)
    img.header.set_xyzt_units("mm")
    path = os.path.join(TMP, name)
    nib.save(img, path)
    return path


def ball(centre, radius):
    ijk = np.indices(SHAPE).astype(float)
    return ((ijk - np.array(centre, float)[:, None, None, None]) ** 2).sum(0) <= radius ** 2


def anatomy():
    """An ellipsoid 'head' (values 50..150) with gentle noise."""
    ijk = np.indices(SHAPE).astype(float)
    c = (np.array(SHAPE) - 1) / 2
    r2 = sum(((ijk[a] - c[a]) / (0.48 * SHAPE[a])) ** 2 for a in range(3))
    rng = np.random.default_rng(11)
    return np.where(r2 < 1, 50 + 100 * (1 - r2) + rng.normal(0, 2, SHAPE), 0).astype(np.float32)


def layout(image, overlay, kind="auto"):
    """Tiles of `lesionvol quicklook` for the same image and overlay (the
    options' picture must be that picture), and its PNG."""
    png = os.path.join(TMP, "reference_%s.png" % os.path.basename(overlay).split(".")[0])
    rc, out, err = lvtest.run(["quicklook", image, "--overlay", overlay, "--overlay-kind",
                               kind, "-o", png, "-f", "json"])
    assert rc == 0, err
    return json.loads(out)["tiles"], png


def colours_by_voxel(case, png, tiles):
    """{slice k: {colour: set of (i, j)}} of every coloured pixel, mapped back
    to its voxel: axial RAS tiles show i right to left and j bottom to top."""
    px = png_rgb(png)
    grey = (px[..., 0] == px[..., 1]) & (px[..., 1] == px[..., 2])
    found = {}
    seen = np.zeros(grey.shape, bool)
    for t in tiles:
        x, y, w, h = t["x"], t["y"], t["width"], t["height"]
        s = w // SHAPE[0]
        case.assertEqual((w, h), (s * SHAPE[0], s * SHAPE[1]), "whole-factor tiles")
        seen[y:y + h, x:x + w] = True
        per = found.setdefault(t["slice"], {})
        for py, pxx in zip(*np.nonzero(~grey[y:y + h, x:x + w])):
            rgb = tuple(px[y + py, x + pxx])
            case.assertIn(rgb, COLOURS, "a colour that is neither grey nor an outline")
            i = SHAPE[0] - 1 - pxx // s
            j = SHAPE[1] - 1 - py // s
            per.setdefault(COLOURS[rgb], set()).add((i, j))
    case.assertFalse((~grey & ~seen).any(), "colour outside the tiles")
    return found


class Quicklook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.anat = anatomy()
        cls.anat_path = save(cls.anat, "flair.nii.gz")

    def test_quicklook_options__measure_draws_the_kept_lesion_only(self):
        # a bright lesion (kept) and a 2-voxel speck (dropped by --min-voxels)
        img = self.anat.copy()
        # two kept lesions with lesion-free slices 15..17 between them
        lesion = (ball((12, 24, 10), 4) | ball((20, 20, 19), 1.5)) & (self.anat > 0)
        speck = np.zeros(SHAPE, bool)
        speck[24, 14, 9:11] = True
        img[lesion] = 400
        img[speck] = 400
        path = save(img, "t2.nii.gz")
        png = os.path.join(TMP, "measure.png")
        rc, out, err = lvtest.run(["measure", path, "--thr", "300", "--min-voxels", "5",
                                   "--quicklook", png, "-f", "json"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["lesion_voxels"], int(lesion.sum()))
        ref = save(lesion.astype(np.uint8), "expected_mask.nii.gz")
        tiles, ref_png = layout(path, ref)
        np.testing.assert_array_equal(png_rgb(png), png_rgb(ref_png))
        found = colours_by_voxel(self, png, tiles)
        self.assertIn(10, found, "the speck's slice is in the lesion's extent")
        self.assertTrue(set(found) & {15, 16, 17}, "a tile without lesion")
        for k, per in found.items():
            self.assertEqual(set(per) - {"red"}, set(), "a mask is drawn red")
            red = per.get("red", set())
            self.assertEqual(bool(red), bool(lesion[:, :, k].any()), "slice %d" % k)
            self.assertTrue(all(lesion[i, j, k] for i, j in red), "red off the lesion")
            self.assertFalse(any(speck[i, j, k] for i, j in red), "the dropped speck")

    def test_quicklook_options__measure_draws_over_the_anatomy(self):
        mask = (ball((22, 16, 12), 3) & (self.anat > 0)).astype(np.uint8)
        path = save(mask, "mask.nii.gz")
        png = os.path.join(TMP, "measure_anat.png")
        rc, _, err = lvtest.run(["measure", path, "--anatomy", self.anat_path,
                                 "--quicklook", png])
        self.assertEqual(rc, 0, err)
        tiles, ref_png = layout(self.anat_path, path)
        np.testing.assert_array_equal(png_rgb(png), png_rgb(ref_png))
        found = colours_by_voxel(self, png, tiles)
        for k, per in found.items():
            self.assertEqual(bool(per.get("red")), bool(mask[:, :, k].any()))
        # a mask alone is drawn over itself: other greys, same outline
        bare = os.path.join(TMP, "measure_bare.png")
        rc, _, err = lvtest.run(["measure", path, "--quicklook", bare])
        self.assertEqual(rc, 0, err)
        self.assertFalse(np.array_equal(png_rgb(bare), png_rgb(png)))
        self.assertEqual(colours_by_voxel(self, bare, tiles), found)

    def test_quicklook_options__change_colours_new_resolved_persistent(self):
        a = ball((11, 20, 12), 4.5) | ball((25, 28, 6), 2)      # second one resolves
        b = ball((12, 20, 12), 4)
        c = ball((12, 21, 12), 3.5) | ball((24, 10, 15), 2.5)   # a new lesion
        paths = [save(m.astype(np.uint8), "tp%d.nii.gz" % n) for n, m in enumerate((a, b, c))]
        # the timepoints are ordered by days: a (1), b (7), c (30)
        png = os.path.join(TMP, "change.png")
        rc, _, err = lvtest.run(["change", paths[2], paths[0], paths[1], "--days", "30,1,7",
                                 "--anatomy", self.anat_path, "--quicklook", png])
        self.assertEqual(rc, 0, err)
        cmap = np.zeros(SHAPE, np.uint8)
        cmap[a & ~c] = 1
        cmap[a & c] = 2
        cmap[c & ~a] = 3
        ref = save(cmap, "expected_change.nii.gz")
        tiles, ref_png = layout(self.anat_path, ref, "change")
        np.testing.assert_array_equal(png_rgb(png), png_rgb(ref_png))
        found = colours_by_voxel(self, png, tiles)
        want = {"blue": a & ~c, "yellow": a & c, "red": c & ~a}
        drawn = set()
        for k, per in found.items():
            for colour, voxels in want.items():
                got = per.get(colour, set())
                self.assertEqual(bool(got), bool(voxels[:, :, k].any()), (colour, k))
                self.assertTrue(all(voxels[i, j, k] for i, j in got), (colour, k))
                if got:
                    drawn.add(colour)
        self.assertEqual(drawn, set(want))
        # without --anatomy: the same outlines over the last timepoint
        bare = os.path.join(TMP, "change_bare.png")
        rc, _, err = lvtest.run(["change", paths[0], paths[2], "--quicklook", bare])
        self.assertEqual(rc, 0, err)
        self.assertEqual(colours_by_voxel(self, bare, tiles), found)

    def test_quicklook_options__refusals(self):
        mask = save(ball((18, 20, 12), 3).astype(np.uint8), "r.nii.gz")
        other = nib.Nifti1Image(np.zeros((10, 10, 10), np.uint8), np.eye(4))
        nib.save(other, os.path.join(TMP, "small.nii.gz"))
        cases = [
            (["measure", mask, "--quicklook", mask], 2, "refusing to overwrite"),
            (["measure", mask, "--anatomy", self.anat_path, "--quicklook",
              self.anat_path], 2, "refusing to overwrite"),
            (["change", mask, self.anat_path, "--quicklook", self.anat_path], 2,
             "refusing to overwrite"),
            (["measure", mask, "--out-mask", "x.nii.gz", "--quicklook", "x.nii.gz"], 2,
             "both name"),
            (["measure", mask, "--anatomy", self.anat_path], 2, "--quicklook"),
            (["measure", mask, "--anatomy", os.path.join(TMP, "small.nii.gz"),
              "--quicklook", "q.png"], 1, "not on the grid"),
            (["change", mask, os.path.join(TMP, "small.nii.gz"), "--quicklook", "q.png"],
             1, "different grids"),
        ]
        before = {n: os.stat(os.path.join(TMP, n)).st_mtime_ns for n in os.listdir(TMP)}
        for args, code, words in cases:
            rc, _, err = lvtest.run(args, cwd=TMP)
            self.assertEqual(rc, code, (args, err))
            self.assertIn(words, err, args)
        self.assertFalse(os.path.exists(os.path.join(TMP, "q.png")))
        for n, t in before.items():
            self.assertEqual(os.stat(os.path.join(TMP, n)).st_mtime_ns, t, n)


def report_images(case, out_dir):
    """alt texts of report.html's embedded PNGs, after the checks of
    oracle.report: well-formed, no external URL, no script."""
    import re
    import xml.etree.ElementTree as ET
    with open(os.path.join(out_dir, "report.html"), encoding="utf-8") as f:
        html = f.read()
    root = ET.fromstring(html.split("\n", 1)[1])  # after <!DOCTYPE html>
    case.assertIsNone(re.search(r"(https?:|ftp:)?//[\w.-]+\.\w", html), "an external URL")
    case.assertNotIn("<script", html)
    alts = {}
    for tr in root.iter("tr"):
        cells = ["".join(td.itertext()) for td in tr.findall("td")]
        for img in tr.iter("img"):
            case.assertTrue(img.get("src").startswith("data:image/png;base64,"))
            alts.setdefault(cells[0], []).append(img.get("alt"))
    case.assertEqual(html.count('src="data:image/png;base64,'), sum(map(len, alts.values())))
    return alts


def stamp(path):
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns


class CohortQuicklook(unittest.TestCase):
    """cohort --quicklook: a change-map picture per participant with several
    sessions, a mask picture for a single session, none (a warning) across
    grids; embedded in report.html; redrawn only when its inputs change."""

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(TMP, "cohort")
        os.makedirs(cls.dir)
        cls.anat = anatomy()
        cls.a = ball((11, 20, 12), 4.5) | ball((25, 28, 6), 2)
        cls.c = ball((12, 21, 12), 3.5) | ball((24, 10, 15), 2.5)
        cls.single = ball((20, 16, 10), 3)
        files = {
            "s1_t0.nii.gz": cls.a, "s1_t1.nii.gz": cls.c, "s2.nii.gz": cls.single,
            "s3_t0.nii.gz": cls.a,
        }
        for name, m in files.items():
            save(m.astype(np.uint8), os.path.join("cohort", name))
        save(cls.anat, os.path.join("cohort", "flair1.nii.gz"))
        small = nib.Nifti1Image(np.ones((10, 10, 10), np.uint8), np.eye(4))
        nib.save(small, os.path.join(cls.dir, "s3_t1.nii.gz"))
        rows = ["participant_id\tsession\timage\tdays\tanatomy",
                "sub-01\tb\ts1_t1.nii.gz\t30\tflair1.nii.gz",
                "sub-01\ta\ts1_t0.nii.gz\t1\tn/a",
                "sub-02\ta\ts2.nii.gz\t1\tn/a",
                "sub-03\ta\ts3_t0.nii.gz\t1\t",
                "sub-03\tb\ts3_t1.nii.gz\t30\t",
                "sub-04\ta\tmissing.nii.gz\t1\t"]
        cls.manifest = os.path.join(cls.dir, "cohort.tsv")
        with open(cls.manifest, "w") as f:
            f.write("\n".join(rows) + "\n")
        cls.out = os.path.join(cls.dir, "out")
        cls.png = {s: os.path.join(cls.out, "sub-%s" % s, "sub-%s_quicklook.png" % s)
                   for s in ("01", "02", "03", "04")}

    def cohort(self, *extra):
        rc, _, err = lvtest.run(["cohort", self.manifest, "-o", self.out, "--quicklook",
                                 "-q"] + list(extra), timeout=120)
        self.assertEqual(rc, 3, err)  # sub-04 fails alone
        return err

    def test_cohort_quicklook__pictures_resume_and_report(self):
        self.cohort()
        # sub-01: the change map of day 1 vs day 30 over the day-30 anatomy
        cmap = np.zeros(SHAPE, np.uint8)
        cmap[self.a & ~self.c] = 1
        cmap[self.a & self.c] = 2
        cmap[self.c & ~self.a] = 3
        ref = save(cmap, "cohort_expected_change.nii.gz")
        tiles, ref_png = self.reference(os.path.join(self.dir, "flair1.nii.gz"), ref)
        np.testing.assert_array_equal(png_rgb(self.png["01"]), png_rgb(ref_png))
        found = colours_by_voxel(self, self.png["01"], tiles)
        want = {"blue": self.a & ~self.c, "yellow": self.a & self.c, "red": self.c & ~self.a}
        for k, per in found.items():
            for colour, voxels in want.items():
                got = per.get(colour, set())
                self.assertEqual(bool(got), bool(voxels[:, :, k].any()), (colour, k))
                self.assertTrue(all(voxels[i, j, k] for i, j in got), (colour, k))
        # sub-02: one session, its lesion in red over its own image
        s2 = os.path.join(self.dir, "s2.nii.gz")
        tiles, ref_png = self.reference(s2, s2)
        np.testing.assert_array_equal(png_rgb(self.png["02"]), png_rgb(ref_png))
        for k, per in colours_by_voxel(self, self.png["02"], tiles).items():
            self.assertEqual(set(per), {"red"} if self.single[:, :, k].any() else set())
        # sub-03: grids differ, no picture, a warning, the numbers still ok
        self.assertFalse(os.path.exists(self.png["03"]))
        with open(os.path.join(self.out, "sub-03", "sub-03_lesionvol.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["status"], "ok")
        self.assertTrue(any("different grids" in w for w in doc["warnings"]), doc["warnings"])
        self.assertFalse(os.path.exists(self.png["04"]))
        self.assertEqual(report_images(self, self.out), {
            "sub-01": ["sub-01_quicklook.png"], "sub-02": ["sub-02_quicklook.png"]})

        # a rerun without changes draws nothing; --force redraws
        before = {s: stamp(self.png[s]) for s in ("01", "02")}
        self.cohort()
        self.assertEqual({s: stamp(self.png[s]) for s in ("01", "02")}, before)
        self.cohort("--force")
        for s in ("01", "02"):
            self.assertNotEqual(stamp(self.png[s]), before[s], s)
        # without --quicklook up-to-date pictures stay and stay in the report
        before = {s: stamp(self.png[s]) for s in ("01", "02")}
        rc, _, err = lvtest.run(["cohort", self.manifest, "-o", self.out, "-q"])
        self.assertEqual(rc, 3, err)
        self.assertEqual({s: stamp(self.png[s]) for s in ("01", "02")}, before)
        self.assertEqual(len(report_images(self, self.out)), 2)
        # a new anatomy redraws sub-01 only
        anat = self.anat.copy()
        anat[anat > 0] += 7
        save(anat, os.path.join("cohort", "flair1.nii.gz"))
        self.cohort()
        self.assertNotEqual(stamp(self.png["01"]), before["01"])
        self.assertEqual(stamp(self.png["02"]), before["02"])
        # a changed image makes sub-02's picture stale: removed without
        # --quicklook, so the report never shows it; drawn again with it
        save((self.single | ball((8, 30, 10), 2)).astype(np.uint8),
             os.path.join("cohort", "s2.nii.gz"))
        rc, _, err = lvtest.run(["cohort", self.manifest, "-o", self.out, "-q"])
        self.assertEqual(rc, 3, err)
        self.assertFalse(os.path.exists(self.png["02"]))
        self.assertEqual(sorted(report_images(self, self.out)), ["sub-01"])
        self.cohort()
        self.assertTrue(os.path.exists(self.png["02"]))
        self.assertEqual(sorted(report_images(self, self.out)), ["sub-01", "sub-02"])
        save(self.single.astype(np.uint8), os.path.join("cohort", "s2.nii.gz"))

    def reference(self, image, overlay):
        png = os.path.join(TMP, "cohort_reference.png")
        rc, out, err = lvtest.run(["quicklook", image, "--overlay", overlay, "--slices", "8",
                                   "--tile-size", "160", "-o", png, "-f", "json"])
        self.assertEqual(rc, 0, err)
        return json.loads(out)["tiles"], png

    def test_cohort_quicklook__bids_participant_level(self):
        bids = os.path.join(TMP, "bids")
        for ses, m in (("1", self.a), ("2", self.c)):
            d = os.path.join(bids, "sub-07", "ses-" + ses, "anat")
            os.makedirs(d)
            save(m.astype(np.uint8), os.path.join(d, "sub-07_ses-%s_label-lesion_mask.nii.gz"
                                                  % ses))
            # each session's FLAIR; the last session's is the background
            save(self.anat + (40 if ses == "1" else 0), os.path.join(d, "sub-07_ses-%s_FLAIR"
                                                                     ".nii.gz" % ses))
        with open(os.path.join(bids, "dataset_description.json"), "w") as f:
            json.dump({"Name": "t", "BIDSVersion": "1.8.0"}, f)
        out = os.path.join(TMP, "bids_out")
        rc, _, err = lvtest.run(["bids", bids, out, "participant", "--quicklook",
                                 "--anatomy-pattern", "*_FLAIR.nii.gz", "-q"])
        self.assertEqual(rc, 0, err)
        png = os.path.join(out, "sub-07", "sub-07_quicklook.png")
        cmap = np.zeros(SHAPE, np.uint8)
        cmap[self.a & ~self.c] = 1
        cmap[self.a & self.c] = 2
        cmap[self.c & ~self.a] = 3
        ref = save(cmap, "bids_expected_change.nii.gz")
        _, ref_png = self.reference(os.path.join(bids, "sub-07", "ses-2", "anat",
                                                 "sub-07_ses-2_FLAIR.nii.gz"), ref)
        np.testing.assert_array_equal(png_rgb(png), png_rgb(ref_png))
        rc, _, err = lvtest.run(["bids", bids, out, "group", "-q"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(report_images(self, out), {"sub-07": ["sub-07_quicklook.png"]})
        before = stamp(png)
        rc, _, err = lvtest.run(["bids", bids, out, "participant", "--quicklook",
                                 "--anatomy-pattern", "*_FLAIR.nii.gz", "-q"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(stamp(png), before, "an up-to-date picture is not redrawn")
        # another background is another picture
        rc, _, err = lvtest.run(["bids", bids, out, "participant", "--quicklook", "-q"])
        self.assertEqual(rc, 0, err)
        self.assertNotEqual(stamp(png), before)


if __name__ == "__main__":
    lvtest.program()
    try:
        import PIL  # noqa: F401
    except ImportError:
        lvtest.skip("python3-pil is not installed (.ci/run installs it)")
    unittest.main(verbosity=2)
