#!/usr/bin/env python3
"""cli.malformed_inputs: broken and tricky files never crash, hang, allocate
gigabytes or give a silent wrong number.

Every file is made here from a valid image written by nibabel, then broken
on purpose (truncated, corrupt gzip, lying dims, vox_offset, datatype,
bitpix, pixdim, scaling...). Each case asserts the exit code (1 for input
errors, 0 where SPEC.md says the data are fine), that the message names the
file and the problem, that nothing but lesionvol wrote to stderr, and it
runs under a 2 GiB address-space limit (`ulimit -v`), so a header that
talks the loader into a huge allocation fails the test. Also: the twin
guard (x.nii beside x.nii.gz), .hdr/.img pairs in both byte orders and
compressions, Analyze scaling, and the command-line contract (usage errors
exit 2, --help and --version exit 0).
"""
import gzip
import json
import os
import struct
import unittest

import numpy as np
import nibabel as nib

import lvtest

MEMORY = 2 << 30  # 2 GiB, as `ulimit -v 2097152`
SHAPE = (9, 8, 7)

# NIfTI-1 header field offsets (bytes)
O_DIM, O_DATATYPE, O_BITPIX, O_PIXDIM = 40, 70, 72, 76
O_VOX_OFFSET, O_SLOPE, O_INTER, O_MAGIC = 108, 112, 116, 344
# NIfTI-2
O2_DIM, O2_VOX_OFFSET = 16, 168


def values(seed=1, shape=SHAPE):
    rng = np.random.default_rng(seed)
    v = rng.integers(-50, 200, size=shape).astype(np.int16)
    v[0, 0, 0] = 0
    return v


def affine():
    a = np.diag([2.0, 2.0, 2.5, 1.0])
    a[:3, 3] = [-9.0, -8.0, -7.0]
    return a


def nifti_bytes(data, cls=nib.Nifti1Image, endian="<", slope=None, inter=None):
    """Bytes of a .nii as nibabel writes it (header, extender, voxels)."""
    img = cls(data, affine())
    img.header.set_xyzt_units("mm")
    img.header.set_qform(affine(), 1)
    img.header.set_sform(affine(), 1)
    if endian == ">":
        img = cls(data, affine(), img.header.as_byteswapped(">"))
    if slope is not None:
        img.header.set_slope_inter(slope, inter)
    p = os.path.join(lvtest.tmpdir(), "x.nii")
    nib.save(img, p)
    with open(p, "rb") as f:
        return f.read()


def patch(buf, offset, fmt, *vals):
    b = bytearray(buf)
    struct.pack_into("<" + fmt, b, offset, *vals)
    return bytes(b)


class Malformed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lvtest.tmpdir()
        cls.data = values()
        cls.good = nifti_bytes(cls.data)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, content, gz=False):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(gzip.compress(content, mtime=0) if gz else content)
        return p

    def info(self, path, *extra):
        rc, out, err = lvtest.run(["info", "--format", "json", *extra, path],
                                  timeout=60, memory_bytes=MEMORY)
        self.assertLess(rc, 128, "crashed on %s (rc %d): %s" % (path, rc, err))
        self.assertNotIn("AddressSanitizer", err)
        self.assertNotIn("runtime error", err)
        self.assertEqual(lvtest.stray_stderr_lines(err), [],
                         "something other than lesionvol wrote to stderr for %s" % path)
        return rc, out, err

    def refused(self, path, *words, names=None):
        """info must exit 1, name the file and say one of @words."""
        rc, out, err = self.info(path)
        self.assertEqual(rc, 1, "%s should be refused; exit %d\nstderr: %s" % (path, rc, err))
        self.assertIn("error:", err)
        named = names or [path]
        self.assertTrue(any("'%s'" % n in err for n in named),
                        "the message must name %s: %s" % (named, err))
        self.assertTrue(any(w.lower() in err.lower() for w in words),
                        "the message should say one of %s: %s" % (words, err))
        return err

    def accepted(self, path, *extra):
        rc, out, err = self.info(path, *extra)
        self.assertEqual(rc, 0, "%s should be read; exit %d\n%s" % (path, rc, err))
        return json.loads(out), err

    def assert_values(self, report, expect):
        expect = np.asarray(expect, dtype=np.float64)
        self.assertEqual(report["min"], float(expect.min()))
        self.assertEqual(report["max"], float(expect.max()))
        self.assertEqual(report["nonzero_voxels"], int(np.count_nonzero(expect)))
        self.assertAlmostEqual(report["sum"], float(expect.sum()), delta=1e-9 * np.abs(expect).sum())

    # --- the valid baseline: the test's own fixture is right ---------------
    def test_baseline_is_read(self):
        self.assertEqual(struct.unpack_from("<f", self.good, O_VOX_OFFSET)[0], 352.0)
        rep, _ = self.accepted(self.write("good.nii", self.good))
        self.assertEqual(rep["dims"], list(SHAPE))
        self.assert_values(rep, self.data)

    # --- truncation and gzip ----------------------------------------------
    def test_truncated_header(self):
        self.refused(self.write("short_hdr.nii", self.good[:200]), "truncated header", "too short")

    def test_four_byte_file(self):
        self.refused(self.write("tiny.nii", self.good[:3]), "too short", "truncated", "empty")

    def test_truncated_data(self):
        n = 352 + self.data.nbytes // 2
        self.refused(self.write("short_data.nii", self.good[:n]), "truncated data")

    def test_gzip_garbage(self):
        rng = np.random.default_rng(3)
        junk = b"\x1f\x8b\x08\x00" + rng.bytes(4000)
        self.refused(self.write("garbage.nii.gz", junk), "gzip", "not a NIfTI", "truncated")

    def test_truncated_gzip(self):
        big = values(seed=5, shape=(40, 40, 40))
        whole = gzip.compress(nifti_bytes(big), mtime=0)
        p = self.write("cut.nii.gz", whole[: int(len(whole) * 0.6)])
        self.refused(p, "truncated", "gzip")

    def test_gzip_stream_shorter_than_the_header_says(self):
        # a valid gzip stream holding half the voxels the header promises:
        # the zlib path must say so without allocating what is not there
        raw = self.good[: 352 + self.data.nbytes // 2]
        self.refused(self.write("half.nii.gz", raw, gz=True), "truncated")

    def test_multi_member_gzip_is_read(self):
        # bgzip-style files: several gzip members one after the other
        a, b = self.good[:1000], self.good[1000:]
        content = gzip.compress(a, mtime=0) + gzip.compress(b, mtime=0)
        rep, _ = self.accepted(self.write("members.nii.gz", content))
        self.assert_values(rep, self.data)

    def test_gz_claiming_a_terabyte(self):
        h = patch(self.good, O_DIM, "8h", 3, 10000, 10000, 10000, 1, 1, 1, 1)
        h = patch(h, O_DATATYPE, "hh", 2, 8)
        self.refused(self.write("tera.nii.gz", h, gz=True), "claims", "gzip", "truncated")

    def test_nii_claiming_a_terabyte(self):
        h = patch(self.good, O_DIM, "8h", 3, 10000, 10000, 10000, 1, 1, 1, 1)
        h = patch(h, O_DATATYPE, "hh", 2, 8)
        self.refused(self.write("tera.nii", h), "truncated data")

    # --- dimensions -------------------------------------------------------
    def nifti2(self, dims, datatype=4, bitpix=16):
        img = nib.Nifti2Image(self.data, affine())
        h = bytearray(img.header.binaryblock) + b"\0" * 4
        struct.pack_into("<8q", h, O2_DIM, *dims)
        struct.pack_into("<hh", h, 12, datatype, bitpix)
        return bytes(h) + self.data.tobytes(order="F")

    def test_dims_of_2_to_the_31(self):
        p = self.write("dim2p31.nii", self.nifti2([3, 2 ** 31, 1, 1, 1, 1, 1, 1]))
        self.refused(p, "truncated data")
        p = self.write("dim2p31x3.nii", self.nifti2([3, 2 ** 31, 2 ** 31, 2 ** 31, 1, 1, 1, 1]))
        self.refused(p, "overflow")

    def test_dims_product_past_2_to_the_63(self):
        p = self.write("dim2p63.nii", self.nifti2([4, 2 ** 32, 2 ** 32, 2 ** 20, 2 ** 20, 1, 1, 1]))
        self.refused(p, "overflow")
        p = self.write("dimneg2.nii", self.nifti2([3, -(2 ** 40), 4, 4, 1, 1, 1, 1]))
        self.refused(p, "dim[1]")

    def test_negative_dim(self):
        p = self.write("negdim.nii", patch(self.good, O_DIM + 4, "h", -8))
        self.refused(p, "dim[2]")

    def test_zero_dim(self):
        p = self.write("zerodim.nii", patch(self.good, O_DIM + 6, "h", 0))
        self.refused(p, "dim[3]")

    def test_dim0_zero_and_eight(self):
        for d0 in (0, 8, -1):
            with self.subTest(dim0=d0):
                p = self.write("dim0_%d.nii" % d0, patch(self.good, O_DIM, "h", d0))
                self.refused(p, "dim[0]")

    # --- vox_offset -------------------------------------------------------
    def test_vox_offset_negative(self):
        p = self.write("negoff.nii", patch(self.good, O_VOX_OFFSET, "f", -352.0))
        self.refused(p, "vox_offset")

    def test_vox_offset_inside_header(self):
        p = self.write("lowoff.nii", patch(self.good, O_VOX_OFFSET, "f", 100.0))
        self.refused(p, "vox_offset")

    def test_vox_offset_fractional_and_nan(self):
        for v in (352.5, float("nan"), float("inf"), 3e38):
            with self.subTest(vox_offset=v):
                p = self.write("off_%r.nii" % v, patch(self.good, O_VOX_OFFSET, "f", v))
                self.refused(p, "vox_offset")

    def test_vox_offset_past_the_end(self):
        p = self.write("faroff.nii", patch(self.good, O_VOX_OFFSET, "f", 1048576.0))
        self.refused(p, "past the end", "vox_offset")
        p = self.write("faroff.nii.gz", patch(self.good, O_VOX_OFFSET, "f", 1048576.0), gz=True)
        self.refused(p, "truncated", "claims")

    def test_vox_offset_zero_without_extender(self):
        # a 348-byte header, no extender, the voxels right after it
        h = patch(self.good[:348], O_VOX_OFFSET, "f", 0.0) + self.good[352:]
        rep, err = self.accepted(self.write("zerooff348.nii", h))
        self.assert_values(rep, self.data)
        self.assertIn("at byte 348", err)
        # the same, gzip-compressed: the size is unknown up front, so it is
        # taken to start at 352 and the stream is then 4 bytes short
        self.refused(self.write("zerooff348.nii.gz", h, gz=True), "truncated")

    def test_vox_offset_zero_means_after_the_header(self):
        # invalid in a .nii; niftilib would read from byte 348 and nibabel from
        # byte 0; the voxels are after the 352-byte header + extender
        rep, err = self.accepted(self.write("zerooff.nii", patch(self.good, O_VOX_OFFSET, "f", 0.0)))
        self.assert_values(rep, self.data)
        self.assertIn("vox_offset is 0", err)

    # --- datatype, bitpix, magic ------------------------------------------
    def test_unknown_datatype(self):
        p = self.write("dt9999.nii", patch(self.good, O_DATATYPE, "h", 9999))
        self.refused(p, "unknown code 9999")

    def test_binary_datatype(self):
        p = self.write("dtbinary.nii", patch(self.good, O_DATATYPE, "hh", 1, 1))
        self.refused(p, "BINARY (code 1)")
        p = self.write("dtcomplex.nii", patch(self.good, O_DATATYPE, "hh", 32, 64))
        self.refused(p, "COMPLEX64 (code 32)")

    def test_bitpix_disagrees_with_datatype(self):
        p = self.write("bitpix.nii", patch(self.good, O_BITPIX, "h", 32))
        self.refused(p, "bitpix")

    def test_pair_magic_in_a_single_file(self):
        p = self.write("magic.nii", patch(self.good, O_MAGIC, "4s", b"ni1\0"))
        self.refused(p, "magic")

    def test_not_a_nifti(self):
        p = self.write("text.nii", b"this is not an image, just some text" * 20)
        self.refused(p, "not a NIfTI")

    # --- pixdim ------------------------------------------------------------
    def test_nan_and_zero_pixdim(self):
        for name, v in (("nan", float("nan")), ("zero", 0.0), ("inf", float("inf"))):
            with self.subTest(pixdim=name):
                p = self.write("pixdim_%s.nii" % name, patch(self.good, O_PIXDIM + 8, "f", v))
                self.refused(p, "pixdim", "voxel size")

    def test_negative_pixdim_counts_by_absolute_value(self):
        p = self.write("negpix.nii", patch(self.good, O_PIXDIM + 4, "f", -2.0))
        rep, _ = self.accepted(p)
        self.assertEqual(rep["voxel_size_mm"], [2.0, 2.0, 2.5])
        self.assertEqual(rep["voxel_volume_mm3"], 10.0)

    # --- scaling -------------------------------------------------------------
    def test_non_finite_slope_means_unscaled(self):
        for name, v in (("nan", float("nan")), ("inf", float("inf")), ("-inf", float("-inf"))):
            with self.subTest(scl_slope=name):
                h = patch(self.good, O_SLOPE, "ff", v, 100.0)
                rep, err = self.accepted(self.write("slope_%s.nii" % name, h))
                self.assertFalse(rep["scaled"])
                self.assert_values(rep, self.data)
                self.assertIn("scl_slope", err)

    def test_zero_slope_means_unscaled(self):
        rep, _ = self.accepted(self.write("slope0.nii", patch(self.good, O_SLOPE, "ff", 0.0, 5.0)))
        self.assertFalse(rep["scaled"])
        self.assert_values(rep, self.data)

    def test_non_finite_inter_counts_as_zero(self):
        rep, _ = self.accepted(self.write("inter_nan.nii",
                                          patch(self.good, O_SLOPE, "ff", 0.5, float("nan"))))
        self.assertTrue(rep["scaled"])
        self.assert_values(rep, self.data.astype(np.float64) * 0.5)

    def test_scaling_applied_in_double(self):
        slope, inter = np.float32(0.1), np.float32(1000.3)
        h = patch(self.good, O_SLOPE, "ff", slope, inter)
        rep, _ = self.accepted(self.write("scaled.nii", h))
        self.assert_values(rep, self.data.astype(np.float64) * float(slope) + float(inter))

    def test_analyze_scale_factor_is_ignored(self):
        for order in ("<", ">"):
            with self.subTest(byte_order=order):
                name = self.path("spm_%s.hdr" % ("le" if order == "<" else "be"))
                hdr = nib.Spm2AnalyzeHeader(endianness=order)
                img = nib.Spm2AnalyzeImage(self.data, affine(), hdr)
                img.header["scl_slope"] = 4.0  # SPM's funused1
                nib.save(img, name)
                with open(name, "rb") as f:
                    self.assertEqual(f.read(4), struct.pack(order + "i", 348))
                rep, err = self.accepted(name)
                self.assertEqual(rep["format"], "Analyze 7.5")
                self.assertEqual(rep["dims"], list(SHAPE))
                self.assertEqual(rep["voxel_size_mm"], [2.0, 2.0, 2.5])
                self.assertFalse(rep["scaled"])
                self.assert_values(rep, self.data)
                self.assertIn("SPM scale factor", err)

    # --- files that are not images ----------------------------------------
    def test_empty_file(self):
        self.refused(self.write("empty.nii", b""), "empty")

    def test_directory(self):
        d = self.path("folder.nii")
        os.mkdir(d)
        self.refused(d, "directory")

    def test_fifo_and_device_do_not_hang(self):
        fifo = self.path("pipe.nii")
        os.mkfifo(fifo)
        self.refused(fifo, "not a regular file")
        self.refused("/dev/zero", "not a regular file")

    def test_missing_file(self):
        self.refused(self.path("nowhere.nii.gz"), "no such file")

    def test_unreadable_file(self):
        if os.geteuid() == 0:
            self.skipTest("root reads files whatever their permissions")
        p = self.write("locked.nii", self.good)
        os.chmod(p, 0)
        try:
            self.refused(p, "permission denied")
        finally:
            os.chmod(p, 0o644)

    def test_hdr_without_img(self):
        nib.save(nib.Nifti1Pair(self.data, affine()), self.path("lonely.hdr"))
        os.unlink(self.path("lonely.img"))
        self.refused(self.path("lonely.hdr"), "no image file")

    def test_img_without_hdr(self):
        nib.save(nib.Nifti1Pair(self.data, affine()), self.path("headless.hdr"))
        os.unlink(self.path("headless.hdr"))
        self.refused(self.path("headless.img"), "no header file")

    # --- exactly the named file ---------------------------------------------
    def test_twin_guard(self):
        a, b = values(seed=11), values(seed=12)
        self.write("twin.nii", nifti_bytes(a))
        self.write("twin.nii.gz", nifti_bytes(b), gz=True)
        rep, _ = self.accepted(self.path("twin.nii.gz"))
        self.assert_values(rep, b)
        self.assertTrue(rep["compressed"])
        rep, _ = self.accepted(self.path("twin.nii"))
        self.assert_values(rep, a)
        self.assertFalse(rep["compressed"])

    def test_pair_named_by_hdr_or_img_both_byte_orders(self):
        for order in ("<", ">"):
            with self.subTest(byte_order=order):
                stem = self.path("pair_%s" % ("le" if order == "<" else "be"))
                img = nib.Nifti1Pair(self.data, affine())
                img.header.set_xyzt_units("mm")
                if order == ">":
                    img = nib.Nifti1Pair(self.data, affine(), img.header.as_byteswapped(">"))
                nib.save(img, stem + ".hdr")
                with open(stem + ".hdr", "rb") as f:
                    self.assertEqual(f.read(4), struct.pack(order + "i", 348))
                for name in (stem + ".hdr", stem + ".img"):
                    rep, _ = self.accepted(name)
                    self.assertEqual(rep["format"], "NIfTI-1 pair")
                    self.assertEqual(rep["path"], name)
                    self.assertEqual(rep["voxel_size_mm"], [2.0, 2.0, 2.5])
                    self.assert_values(rep, self.data)

    def test_compressed_pairs(self):
        nib.save(nib.Nifti1Pair(self.data, affine()), self.path("zp.hdr"))
        with open(self.path("zp.img"), "rb") as f:
            img_bytes = f.read()
        with open(self.path("zp.hdr"), "rb") as f:
            hdr_bytes = f.read()
        os.unlink(self.path("zp.img"))
        self.write("zp.img.gz", img_bytes, gz=True)       # .hdr + .img.gz
        self.write("zz.hdr.gz", hdr_bytes, gz=True)       # .hdr.gz + .img.gz
        self.write("zz.img.gz", img_bytes, gz=True)
        for name in ("zp.hdr", "zp.img.gz", "zz.hdr.gz", "zz.img.gz"):
            with self.subTest(file=name):
                rep, _ = self.accepted(self.path(name))
                self.assertTrue(rep["compressed"])
                self.assert_values(rep, self.data)

    def test_big_endian_single_file_nifti2(self):
        img = nib.Nifti2Image(self.data.astype(">f4") / 3, affine())
        nib.save(img, self.path("be2.nii"))
        hdr = img.header.as_byteswapped(">")
        nib.save(nib.Nifti2Image(self.data.astype(">f4") / 3, affine(), hdr), self.path("be2.nii"))
        with open(self.path("be2.nii"), "rb") as f:
            self.assertEqual(f.read(4), struct.pack(">i", 540))
        rep, _ = self.accepted(self.path("be2.nii"))
        self.assertEqual(rep["format"], "NIfTI-2")
        self.assert_values(rep, nib.load(self.path("be2.nii")).get_fdata(dtype=np.float64))

    def test_4d_volumes(self):
        vols = np.stack([values(seed=s) for s in (21, 22, 23)], axis=-1)
        nib.save(nib.Nifti1Image(vols, affine()), self.path("four.nii.gz"))
        rep, _ = self.accepted(self.path("four.nii.gz"))
        self.assertEqual(rep["n_volumes"], 3)
        self.assert_values(rep, vols)
        for v in range(3):
            rep, _ = self.accepted(self.path("four.nii.gz"), "--volume", str(v))
            self.assert_values(rep, vols[..., v])
        rc, _, err = self.info(self.path("four.nii.gz"), "--volume", "3")
        self.assertEqual(rc, 1)
        self.assertIn("3 volumes", err)


class CommandLine(unittest.TestCase):
    def test_bad_option_is_a_usage_error(self):
        for args in (["info", "--no-such-option", "x.nii"], ["info"],
                     ["info", "--format", "xml", "x.nii"], ["info", "--volume", "abc", "x.nii"],
                     ["no-such-command"], []):
            with self.subTest(args=args):
                rc, out, err = lvtest.run(args)
                self.assertEqual(rc, 2, "%s: exit %d" % (args, rc))
                self.assertIn("usage: lesionvol", err)
                self.assertEqual(out, "")

    def test_version(self):
        rc, out, err = lvtest.run(["--version"])
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^lesionvol \d+\.\d+\.\d+\n$")

    def test_help(self):
        for args in (["--help"], ["-h"], ["info", "--help"], ["help", "info"]):
            with self.subTest(args=args):
                rc, out, err = lvtest.run(args)
                self.assertEqual(rc, 0)
                self.assertIn("usage: lesionvol", out)
                self.assertEqual(err, "")
        rc, out, _ = lvtest.run(["info", "--help"])
        self.assertIn("--format", out)
        self.assertIn("Exit codes:", out)


if __name__ == "__main__":
    lvtest.program()
    unittest.main()
