#!/usr/bin/env python3
"""oracle.loader_nibabel: the loader never lies, checked against nibabel.

For every image file of ../shared/realdata/nibabel/ and nifti-rs/ (NIfTI-1,
NIfTI-2, Analyze, pairs in every compression, both byte orders, every scalar
datatype, scaled, 4D, RGB, complex, CIFTI, fuzzer crash files) and Debian's
niftilib example image, nibabel computes in this run what `lesionvol info
--format json` must report: dims, voxel size in mm, datatype, scaling,
orientation and voxel-to-world matrix, and of the scaled values the sum, min,
max and the counts of non-zero, NaN and infinite voxels (for 4D images: all
volumes, the first and the last). Files nibabel cannot read, or that are not
scalar volumes, must give exit 1 and a message naming the file and the
problem. Nothing may crash, hang, or print anything that is not ours.
"""
import gzip
import logging
import os
import shutil
import sys
import unittest

import numpy as np
import nibabel as nib

import lvtest

# nibabel reports the headers it repairs on stderr; the fuzz files are meant to be broken
logging.getLogger("nibabel.global").setLevel(logging.CRITICAL)

SUFFIXES = (".nii", ".nii.gz", ".hdr", ".hdr.gz", ".img", ".img.gz")
DEBIAN_EXAMPLE = ("/usr/share/doc/libnifti2-2/examples/"
                  "ATestReferenceImageForReadingAndWriting.nii.gz")
UNIT_TO_MM = {"meter": 1000.0, "mm": 1.0, "micron": 0.001, "unknown": 1.0}
TIMEOUT = 60


def image_files():
    root = lvtest.realdata()
    found = []
    for top in ("nibabel", "nifti-rs"):
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            lvtest.skip("missing %s" % base)
        for d, _, names in os.walk(base):
            for n in names:
                p = os.path.join(d, n)
                if n.lower().endswith(SUFFIXES) or "fuzz_artifacts" in d:
                    found.append(p)
    if os.path.exists(DEBIAN_EXAMPLE):
        found.append(DEBIAN_EXAMPLE)
    return sorted(found)


def pair_kind(path):
    """('hdr'|'img', stem, gz) for a pair member, else None."""
    low = path.lower()
    for ext, kind in ((".hdr.gz", "hdr"), (".img.gz", "img"), (".hdr", "hdr"), (".img", "img")):
        if low.endswith(ext):
            return kind, path[: -len(ext)], ext.endswith(".gz")
    return None


def partner(path):
    """The other file of a pair: same compression first, then the other one."""
    kind, stem, gz = pair_kind(path)
    want = "img" if kind == "hdr" else "hdr"
    for z in (gz, not gz):
        cand = stem + "." + want + (".gz" if z else "")
        if os.path.isfile(cand):
            return cand
    return None


def plain_copy(src, dst):
    """Copy @src to @dst, inflating it when it is gzip (sniffed, like the tool)."""
    with open(src, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        with gzip.open(src, "rb") as f, open(dst, "wb") as g:
            shutil.copyfileobj(f, g)
    else:
        shutil.copyfile(src, dst)


class Refusal(Exception):
    """The file must be refused; args[0] lists words one of which the message has."""


def nibabel_image(path, scratch):
    """The image as nibabel reads it, without nibabel's own file-name guessing
    or format-specific extras (SPM scale factors, CIFTI axes)."""
    if pair_kind(path):
        other = partner(path)
        if other is None:
            raise Refusal(["no image file"] if pair_kind(path)[0] == "hdr" else ["no header file"])
        hdr, img = (path, other) if pair_kind(path)[0] == "hdr" else (other, path)
        plain_copy(hdr, os.path.join(scratch, "t.hdr"))
        plain_copy(img, os.path.join(scratch, "t.img"))
        target = os.path.join(scratch, "t.hdr")
    else:
        target = path
    try:
        im = nib.load(target)
    except Exception as e:  # nibabel cannot read it: neither may we
        raise Refusal(["not a NIfTI", "invalid header", "truncated", "unable to read"]) from e
    if isinstance(im, nib.Cifti2Image):
        raise Refusal(["CIFTI"])
    if not isinstance(im, (nib.Nifti1Image, nib.Nifti2Image, nib.Nifti1Pair, nib.Nifti2Pair)):
        # Analyze 7.5 is read unscaled: no SPM scale factor
        im = nib.AnalyzeImage.from_filename(target)
    dt = im.header.get_data_dtype()
    if dt.fields is not None:
        raise Refusal(["RGB24" if dt.itemsize == 3 else "RGBA32"])
    if dt.kind == "c":
        raise Refusal(["COMPLEX"])
    return im


def value_stats(values):
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = v[np.isfinite(v)]
    return {
        "sum": float(np.sum(finite)) if finite.size else 0.0,
        "abs_sum": float(np.sum(np.abs(finite))) if finite.size else 0.0,
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "nonzero_voxels": int(np.count_nonzero(finite)),
        "nan_voxels": int(np.isnan(v).sum()),
        "inf_voxels": int(np.isinf(v).sum()),
    }


def merge(stats):
    out = {k: sum(s[k] for s in stats)
           for k in ("sum", "abs_sum", "nonzero_voxels", "nan_voxels", "inf_voxels")}
    mins = [s["min"] for s in stats if s["min"] is not None]
    maxs = [s["max"] for s in stats if s["max"] is not None]
    out["min"] = min(mins) if mins else None
    out["max"] = max(maxs) if maxs else None
    return out


class LoaderAgainstNibabel(unittest.TestCase):
    checked = {"compared": 0, "refused": 0}

    def info(self, path, *extra):
        rc, out, err = lvtest.run(["info", "--format", "json", *extra, path], timeout=TIMEOUT)
        self.assertLess(rc, 128, "lesionvol crashed on %s: %s" % (path, err))
        self.assertEqual(lvtest.stray_stderr_lines(err), [],
                         "something other than lesionvol wrote to stderr for %s" % path)
        return rc, out, err

    def assert_close(self, got, want, scale, what):
        if want is None:
            self.assertIsNone(got, what)
            return
        self.assertIsNotNone(got, what)
        tol = 1e-9 * max(abs(want), abs(scale), 1e-300)
        self.assertLessEqual(abs(got - want), tol, "%s: got %r, nibabel %r" % (what, got, want))

    def compare_values(self, path, report, want, label):
        for key in ("nonzero_voxels", "nan_voxels", "inf_voxels"):
            self.assertEqual(report[key], want[key], "%s %s %s" % (path, label, key))
        for key in ("min", "max"):
            self.assert_close(report[key], want[key], 0, "%s %s %s" % (path, label, key))
        self.assert_close(report["sum"], want["sum"], want["abs_sum"],
                          "%s %s sum" % (path, label))

    def check_file(self, path):
        scratch = lvtest.tmpdir()
        try:
            im = nibabel_image(path, scratch)
        except Refusal as r:
            rc, out, err = self.info(path)
            self.assertEqual(rc, 1, "%s: nibabel cannot use it, lesionvol exited %d\n%s"
                             % (path, rc, err))
            self.assertIn("error:", err)
            self.assertIn(path, err, "the message must name the file")
            self.assertTrue(any(w.lower() in err.lower() for w in r.args[0]),
                            "%s: message should say one of %s, got: %s" % (path, r.args[0], err))
            self.checked["refused"] += 1
            return

        hdr = im.header
        data = np.asanyarray(im.dataobj)
        shape = data.shape
        n3 = int(np.prod(shape[:3]))
        volumes = data.reshape(n3, -1, order="F")
        n_vol = volumes.shape[1]

        rc, out, err = self.info(path)
        self.assertEqual(rc, 0, "%s: nibabel reads it, lesionvol exited %d: %s" % (path, rc, err))
        import json
        rep = json.loads(out)
        self.assertEqual(rep["path"], path)
        self.assertEqual(rep["dims"], [int(x) for x in shape], path)
        self.assertEqual(rep["n_volumes"], n_vol, path)
        self.assertEqual(rep["datatype"], hdr.get_data_dtype().newbyteorder("=").name, path)

        units = hdr.get_xyzt_units()[0] if hasattr(hdr, "get_xyzt_units") else "unknown"
        zooms = list(hdr.get_zooms()[:3]) + [1.0] * (3 - min(3, len(shape)))
        for got, z in zip(rep["voxel_size_mm"], zooms[:3]):
            self.assertAlmostEqual(got, abs(float(z)) * UNIT_TO_MM[units], places=9,
                                   msg="%s voxel size" % path)

        # nibabel moves the scaling from the header into the data proxy
        slope, inter = float(im.dataobj.slope), float(im.dataobj.inter)
        scaled = not (slope == 1.0 and inter == 0.0)
        self.assertEqual(rep["scaled"], scaled, "%s scaled" % path)
        if scaled:
            self.assertEqual(rep["scl_slope"], float(slope), path)
            self.assertEqual(rep["scl_inter"], float(inter), path)

        if isinstance(hdr, nib.Nifti1Header) and (hdr["sform_code"] > 0 or hdr["qform_code"] > 0):
            aff = im.affine.copy()
            aff[:3, :] *= UNIT_TO_MM[units]
            np.testing.assert_allclose(np.array(rep["vox_to_world"]), aff, rtol=0, atol=1e-4,
                                       err_msg="%s vox_to_world" % path)
            self.assertEqual(rep["orientation"], "".join(nib.aff2axcodes(im.affine)),
                             "%s orientation" % path)

        per_volume = [value_stats(volumes[:, i]) for i in range(n_vol)]
        self.assertEqual(rep["volume"], "all" if n_vol > 1 else 0, path)
        self.compare_values(path, rep, merge(per_volume), "all volumes")
        if n_vol > 1:
            for v in sorted({0, n_vol // 2, n_vol - 1}):
                rc, out, err = self.info(path, "--volume", str(v))
                self.assertEqual(rc, 0, err)
                one = json.loads(out)
                self.assertEqual(one["volume"], v)
                self.compare_values(path, one, per_volume[v], "volume %d" % v)
            rc, out, err = self.info(path, "--volume", str(n_vol))
            self.assertEqual(rc, 1, "%s: --volume %d is out of range" % (path, n_vol))
            self.assertIn("out of range", err)
        self.checked["compared"] += 1

    def test_every_file(self):
        files = image_files()
        self.assertGreater(len(files), 40, "realdata looks incomplete")
        for path in files:
            with self.subTest(file=os.path.relpath(path, lvtest.REALDATA)):
                self.check_file(path)
        print("%(compared)d files compared with nibabel, %(refused)d refused as expected"
              % self.checked)

    def test_4d_without_volume_is_refused_where_a_volume_is_needed(self):
        # info summarises every volume; the strict loader (used by measure...)
        # is checked in the unit tests; here the message that names the count.
        path = lvtest.realdata("nibabel", "nibabel", "tests", "data", "example4d.nii.gz")
        rc, out, err = self.info(path, "--volume", "5")
        self.assertEqual(rc, 1)
        self.assertIn("2 volumes", err)

    def test_debian_example_scaling(self):
        if not os.path.exists(DEBIAN_EXAMPLE):
            self.skipTest("libnifti2-2's example image is not installed")
        import json
        rc, out, err = self.info(DEBIAN_EXAMPLE, "--volume", "0")
        self.assertEqual(rc, 0, err)
        rep = json.loads(out)
        self.assertEqual((rep["datatype"], rep["scl_slope"], rep["scl_inter"]),
                         ("int32", 0.25, 128))
        raw = nib.load(DEBIAN_EXAMPLE).dataobj.get_unscaled()
        first = raw.reshape(int(np.prod(raw.shape[:3])), -1, order="F")[:, 0]
        self.assertEqual(rep["max"], float(first.max()) * 0.25 + 128)
        self.assertEqual(rep["min"], float(first.min()) * 0.25 + 128)


if __name__ == "__main__":
    lvtest.program()
    lvtest.realdata("nibabel")
    unittest.main()
