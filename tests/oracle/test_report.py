"""oracle.report: `lesionvol cohort` writes a report.html that is one
well-formed, self-contained page whose numbers are the volumes nibabel +
numpy find, and that headless Chromium renders to a non-blank picture.

A small two-group cohort of synthetic masks is made here with nibabel.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

import nibabel as nib
import numpy as np

PROGRAM = os.environ.get("LESIONVOL", "")
TMP = tempfile.mkdtemp(prefix="lesionvol-report-")


def run(*args, timeout=300):
    p = subprocess.run([PROGRAM] + [str(a) for a in args], capture_output=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html, png):
    """Headless Chromium's picture of @html (no network, no GPU)."""
    profile = tempfile.mkdtemp(dir=TMP)
    p = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--user-data-dir=" + profile, "--window-size=1280,2000",
                        "--screenshot=" + png, "file://" + html],
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return p.returncode


def make_cohort():
    """Six participants in two groups, two sessions each (days 1 and 30):
    one spherical lesion per image, volumes known only through numpy."""
    shape, zooms = (32, 36, 28), (1.5, 1.5, 2.0)
    affine = np.diag(list(zooms) + [1.0])
    grid = np.indices(shape).astype(float)
    rows = ["participant_id\tsession\timage\tgroup\tdays"]
    rng = np.random.default_rng(3)
    for i in range(1, 7):
        group = "control" if i <= 3 else "treated"
        for ses, days in (("acute", 1), ("chronic", 30)):
            r = rng.uniform(3, 7) * (0.6 if ses == "chronic" and group == "treated" else 1)
            c = rng.uniform(10, 20, 3)
            mask = (((grid - c[:, None, None, None]) ** 2).sum(axis=0) <= r * r)
            name = "sub-%02d_ses-%s_mask.nii.gz" % (i, ses)
            img = nib.Nifti1Image(mask.astype(np.uint8), affine)
            img.header.set_xyzt_units("mm")
            nib.save(img, os.path.join(TMP, name))
            rows.append("sub-%02d\t%s\t%s\t%s\t%d" % (i, ses, name, group, days))
    manifest = os.path.join(TMP, "cohort.tsv")
    with open(manifest, "w") as f:
        f.write("\n".join(rows) + "\n")
    return manifest


def volume_ml(path):
    img = nib.load(path)
    n = int((np.asarray(img.dataobj) > 0).sum())
    return n * float(np.prod(img.header.get_zooms()[:3])) / 1000.0


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifest = make_cohort()
        cls.out = os.path.join(TMP, "out")
        rc, so, se = run("cohort", cls.manifest, "-o", cls.out)
        assert rc == 0, (rc, se)
        cls.html_path = os.path.join(cls.out, "report.html")
        with open(cls.html_path, encoding="utf-8") as f:
            cls.html = f.read()

    def test_well_formed_and_self_contained(self):
        root = ET.fromstring(self.html.split("\n", 1)[1])  # after <!DOCTYPE html>
        self.assertEqual(root.tag, "html")
        self.assertGreaterEqual(len(root.findall(".//svg")), 2, "two inline plots")
        self.assertIsNone(re.search(r"(https?:|ftp:)?//[\w.-]+\.\w", self.html),
                          "an external URL")
        self.assertNotIn("<script", self.html)
        for el in root.iter():
            for attr in ("src", "href"):
                v = el.get(attr)
                if v is not None:
                    self.assertTrue(v.startswith("data:") or v.startswith("#"), v)

    def test_numbers_are_the_volumes_numpy_finds(self):
        root = ET.fromstring(self.html.split("\n", 1)[1])
        rows = {}
        for tr in root.iter("tr"):
            cells = ["".join(td.itertext()) for td in tr.findall("td")]
            if cells and cells[0].startswith("sub-"):
                rows[cells[0]] = cells
        self.assertEqual(sorted(rows), ["sub-%02d" % i for i in range(1, 7)])
        for pid, cells in rows.items():
            v0 = volume_ml(os.path.join(TMP, "%s_ses-acute_mask.nii.gz" % pid))
            v1 = volume_ml(os.path.join(TMP, "%s_ses-chronic_mask.nii.gz" % pid))
            self.assertEqual(cells[1], "control" if int(pid[4:]) <= 3 else "treated")
            self.assertEqual(cells[2], "%.2f" % v0)
            self.assertEqual(cells[3], "%.2f%+.1f%%" % (v1, 100 * (v1 - v0) / v0))
            self.assertTrue(cells[4].startswith("ok"))

    def test_primary_comparison_leads(self):
        path = os.path.join(self.out, "comparison.tsv")
        if not os.path.exists(path):
            self.skipTest("the cohort wrote no comparison.tsv")
        with open(path, encoding="utf-8") as f:
            head, *rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
        notes = [dict(zip(head, r))["note"] for r in rows
                 if dict(zip(head, r)).get("test") == "ancova_log"]
        self.assertTrue(notes)
        root = ET.fromstring(self.html.split("\n", 1)[1])
        headlines = ["".join(p.itertext()) for p in root.iter("p")
                     if p.get("class") == "headline"]
        self.assertEqual(headlines, [n for n in notes if n != "n/a"])

    def test_quicklooks_are_embedded(self):
        sub = os.path.join(self.out, "sub-02")
        rc, so, se = run("quicklook", os.path.join(TMP, "sub-02_ses-chronic_mask.nii.gz"),
                         "--tile-size", "64", "--slices", "4",
                         "-o", os.path.join(sub, "sub-02_ses-chronic_quicklook.png"))
        self.assertEqual(rc, 0, se)
        rc, so, se = run("cohort", self.manifest, "-o", self.out)
        self.assertEqual(rc, 0, se)
        with open(self.html_path, encoding="utf-8") as f:
            html = f.read()
        self.assertEqual(html.count('src="data:image/png;base64,'), 1)
        self.assertIn('alt="sub-02_ses-chronic_quicklook.png"', html)

    def test_chromium_renders_a_picture(self):
        if not chromium():
            self.skipTest("chromium is not installed (.ci/run installs it)")
        png = os.path.join(TMP, "shot.png")
        self.assertEqual(screenshot(self.html_path, png), 0)
        try:
            from PIL import Image
        except ImportError:
            self.skipTest("python3-pil is not installed (.ci/run installs it)")
        with Image.open(png) as im:
            px = np.asarray(im.convert("RGB")).astype(int)
        ink = (px.sum(axis=2) < 600).mean()
        colour = ((px.max(axis=2) - px.min(axis=2)) > 60).mean()
        self.assertGreater(ink, 0.01, "the page looks blank")
        self.assertGreater(colour, 0.001, "no coloured plot marks")


if __name__ == "__main__":
    if not PROGRAM:
        print("SKIP: LESIONVOL not set")
        sys.exit(77)
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
