#!/usr/bin/python3
"""cli.hostile_bounds: work follows the data in the file, never a header's or
a gzip stream's claims. `info` on a header of a million one-voxel volumes
reads them in one pass; gigabytes of gzip data after a small image are
checked only up to the image's own size (at least 1 MiB), the same way by
every reader (libdeflate, ISA-L streaming, zlib): trailing members past it
are ignored with a warning naming the file, and an image whose own last
member goes on past it is refused (its checksum is out of reach).

Each case must finish within a generous TIMEOUT (the unbounded program took
20 s and 24 s; bench/hostile.py records the real times)."""
import json
import os
import unittest

import numpy as np

import lvhostile
import lvtest

TIMEOUT = 10
GIB = 1 << 30


class MillionVolumes(unittest.TestCase):
    def test_info__million_volume_header_read_in_one_pass(self):
        tmp = lvtest.tmpdir()
        for name in ("mv.nii", "mv.nii.gz"):
            path = os.path.join(tmp, name)
            values = lvhostile.million_volume_nii(path).astype(np.float64)
            rc, out, err = lvtest.run(["info", path, "--format", "json"], timeout=TIMEOUT)
            self.assertEqual(rc, 0, err)
            rep = json.loads(out)
            self.assertEqual(rep["n_volumes"], 1000 * 1000)
            self.assertEqual(rep["volume"], "all")
            self.assertEqual(rep["min"], values.min())
            self.assertEqual(rep["max"], values.max())
            self.assertEqual(rep["sum"], values.sum())  # exact: integers < 2^53
            self.assertEqual(rep["nonzero_voxels"], int(np.count_nonzero(values)))
            # one volume of the million still reads as that volume
            rc, out, err = lvtest.run(["info", path, "--format", "json", "--volume", "765432"],
                                      timeout=TIMEOUT)
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out)["max"], 765432)


class GzipBombs(unittest.TestCase):
    """A 10x10x10 mask followed by >= 2 GiB of zeros. With a trailer whose
    size is the image's (mod 2^32) the fast readers take the file (ISA-L in
    `measure`, libdeflate in `measure --fill-holes` and `info`); with any
    other, zlib does."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = lvtest.tmpdir()
        cls.nii, cls.voxels = lvhostile.small_mask_nii()
        n = len(cls.nii)
        cls.files = {}
        for same in (False, True):
            for fast in (False, True):
                # the last member's ISIZE: n + zeros (same member) or zeros
                zeros = (1 << 32) + (0 if same else n) if fast else 2 * GIB
                path = os.path.join(cls.tmp, "%s_%s.nii.gz" % (
                    "inside" if same else "after", "fast" if fast else "zlib"))
                lvhostile.write_bomb(path, cls.nii, zeros, same)
                cls.files[same, fast] = path

    @classmethod
    def tearDownClass(cls):
        for path in cls.files.values():
            os.remove(path)

    COMMANDS = (["measure"], ["measure", "--fill-holes"], ["info"])

    def run_all(self, path):
        for cmd in self.COMMANDS:
            rc, out, err = lvtest.run(cmd + [path, "--format", "json"], timeout=TIMEOUT)
            yield cmd, rc, out, err

    def test_gzip_bomb__trailing_members_ignored_past_the_image_size_with_a_warning(self):
        warnings = set()
        for fast in (False, True):
            path = self.files[False, fast]
            for cmd, rc, out, err in self.run_all(path):
                self.assertEqual(rc, 0, (cmd, path, err))
                rep = json.loads(out)
                if cmd[0] == "measure":
                    self.assertEqual(rep["lesion_voxels"], self.voxels, cmd)
                else:
                    self.assertEqual(rep["nonzero_voxels"], self.voxels)
                line = [l for l in err.splitlines() if "ignored the last" in l]
                self.assertEqual(len(line), 1, (cmd, path, err))
                self.assertIn("'%s'" % path, line[0])
                self.assertIn("gzip data after the image", line[0])
                # the whole file but the image's own member was ignored
                ignored = os.path.getsize(path) - len(lvhostile.gzip.compress(self.nii, mtime=0))
                self.assertIn("the last %d bytes" % ignored, line[0])
                warnings.add(line[0].split(": warning: ")[1])
        self.assertEqual(len(warnings), 2, "every reader says the same: %s" % warnings)

    def test_gzip_bomb__image_member_past_the_limit_is_an_error(self):
        messages = set()
        for fast in (False, True):
            path = self.files[True, fast]
            for cmd, rc, out, err in self.run_all(path):
                self.assertEqual(rc, 1, (cmd, path, err))
                if cmd[0] == "measure":
                    self.assertEqual(out, "")  # info still shows the header
                self.assertIn("unable to read '%s'" % path, err)
                self.assertIn("checksum", err)
                messages.add(err.split("error: ")[1])
        self.assertEqual(len(messages), 2, "every reader says the same: %s" % messages)

    def test_gzip_bomb__cohort_participant_gets_the_warning(self):
        out = os.path.join(self.tmp, "study")
        manifest = os.path.join(self.tmp, "m.tsv")
        with open(manifest, "w") as f:
            f.write("participant_id\tsession\timage\n")
            f.write("sub-01\t01\t%s\n" % self.files[False, True])
            f.write("sub-02\t01\t%s\n" % self.files[True, True])
        rc, _, err = lvtest.run(["cohort", manifest, "-o", out], timeout=TIMEOUT)
        self.assertEqual(rc, 3, err)
        with open(os.path.join(out, "sub-01", "sub-01_lesionvol.json")) as f:
            one = json.load(f)
        self.assertTrue(any("ignored the last" in w for w in one["warnings"]), one["warnings"])
        with open(os.path.join(out, "timepoints.tsv")) as f:
            rows = [l.rstrip("\n").split("\t") for l in f]
        head = rows[0]
        by_id = {r[0]: dict(zip(head, r)) for r in rows[1:]}
        self.assertEqual(by_id["sub-01"]["status"], "ok")
        self.assertEqual(by_id["sub-01"]["lesion_voxels"], str(self.voxels))
        self.assertEqual(by_id["sub-02"]["status"], "error")
        self.assertIn("checksum", by_id["sub-02"]["message"])

    def test_gzip_bomb__corrupt_trailing_member_within_the_limit_is_still_an_error(self):
        path = os.path.join(self.tmp, "corrupt_tail.nii.gz")
        tail = bytearray(lvhostile.gzip.compress(bytes(1000), mtime=0))
        tail[-8] ^= 0xFF  # its CRC-32
        with open(path, "wb") as f:
            f.write(lvhostile.gzip.compress(self.nii, mtime=0) + bytes(tail))
        for cmd, rc, out, err in self.run_all(path):
            self.assertEqual(rc, 1, (cmd, err))
            self.assertIn(path, err)


class ExtremeNumbers(unittest.TestCase):
    """Every finite double an option's meaning allows is accepted; a voxel
    size that is not a normal number is an input error naming the field."""

    def setUp(self):
        self.tmp = lvtest.tmpdir()
        self.mask = os.path.join(self.tmp, "m.nii")
        nii, self.voxels = lvhostile.small_mask_nii()
        with open(self.mask, "wb") as f:
            f.write(nii)

    def measure(self, *args):
        rc, out, err = lvtest.run(["measure", self.mask, "--format", "json", *args])
        return rc, (json.loads(out) if rc == 0 else None), err

    def test_numbers__subnormal_and_huge_option_values_are_accepted(self):
        rc, rep, err = self.measure("--thr", "5e-324")  # the smallest double above 0
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["lesion_voxels"], self.voxels)  # the mask's 1s are >= it
        rc, rep, err = self.measure("--min-volume", "1e308")
        self.assertEqual(rc, 0, err)
        self.assertEqual((rep["n_components"], rep["lesion_voxels"]), (0, 0))
        # a float64 map holding the extremes: 5e-324 is a value like any other
        import nibabel as nib
        d = np.zeros((4, 4, 4))
        d[0, 0, 0], d[1, 1, 1], d[2, 2, 2], d[3, 3, 3] = 5e-324, 1e-300, 1.0, 1.7e308
        tiny = os.path.join(self.tmp, "tiny.nii")
        nib.save(nib.Nifti1Image(d, np.eye(4)), tiny)
        for args, want in ((["--thr", "5e-324"], 4), (["--thr", "1e-310"], 3),
                           (["--uthr", "5e-324"], 1), (["--thr", "1e-300", "--uthr", "1e308"], 2),
                           (["--thr", "1.7e308"], 1)):
            rc, out, err = lvtest.run(["measure", tiny, "--format", "json", *args])
            self.assertEqual(rc, 0, (args, err))
            self.assertEqual(json.loads(out)["lesion_voxels"], want, args)
        rc, out, err = lvtest.run(["change", self.mask, self.mask, "--days", "5e-324,1e308",
                                   "--format", "json"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["changes"][0]["days"], 1e308)

    def test_numbers__values_no_double_holds_are_usage_errors(self):
        for opt, v in (("--thr", "1e-400"), ("--thr", "1e309"), ("--thr", "nan"),
                       ("--min-volume", "inf"), ("--min-volume", "-1")):
            rc, _, err = self.measure(opt, v)
            self.assertEqual(rc, 2, (opt, v, err))
            self.assertIn(opt, err)
            self.assertIn(v, err)

    def test_numbers__manifest_days_take_any_finite_double(self):
        manifest = os.path.join(self.tmp, "c.tsv")
        with open(manifest, "w") as f:
            f.write("participant_id\tsession\timage\tdays\n")
            f.write("sub-01\t01\tm.nii\t5e-324\nsub-01\t02\tm.nii\t1e308\n")
        rc, _, err = lvtest.run(["cohort", manifest, "-o", os.path.join(self.tmp, "o")])
        self.assertEqual(rc, 0, err)

    def test_numbers__pixdim_not_a_normal_number_is_an_input_error_naming_it(self):
        import nibabel as nib
        d = np.ones((4, 4, 4), np.uint8)
        for cls, field, value in ((nib.Nifti2Image, 1, 5e-324), (nib.Nifti1Image, 3, 1e-40),
                                  (nib.Nifti1Image, 2, 0.0), (nib.Nifti2Image, 3, np.inf)):
            img = cls(d, None)
            zooms = [1.0, 1.0, 1.0]
            zooms[field - 1] = value
            img.header["pixdim"][1:4] = zooms
            path = os.path.join(self.tmp, "pix%d.nii" % field)
            nib.save(img, path)
            rc, _, err = lvtest.run(["measure", path])
            self.assertEqual(rc, 1, (value, err))
            self.assertIn("'%s'" % path, err)
            self.assertIn("pixdim[%d] is" % field, err)
            rc, _, err = lvtest.run(["info", path])  # info shows it, exits 1
            self.assertEqual(rc, 1, err)
            self.assertIn("pixdim[%d] is" % field, err)
        # both limits of a normal voxel volume: a product past a double's range
        img = nib.Nifti2Image(d, None)
        img.header["pixdim"][1:4] = [1e200, 1e200, 1.0]
        path = os.path.join(self.tmp, "huge.nii")
        nib.save(img, path)
        rc, _, err = lvtest.run(["measure", path])
        self.assertEqual(rc, 1, err)
        self.assertIn("voxel volume", err)


if __name__ == "__main__":
    unittest.main()
