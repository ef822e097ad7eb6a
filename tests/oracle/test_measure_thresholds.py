#!/usr/bin/env python3
"""test_measure_thresholds.py: every step of the segmentation rule in
`lesionvol measure` gives the numbers nibabel + numpy + scipy give: --thr,
--uthr, both, --zthr/--uzthr (median and MAD), --mask, --fill-holes,
--min-voxels/--min-volume and --soft on scaled int16/uint8 images, a
big-endian file and a 4D file; voxel volumes and world coordinates with
anisotropic voxels and metre/micron units; --out-mask/--out-labels read back
with nibabel; and a voxelised sphere and ellipsoid against 4/3 pi r^3."""
import math
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

import lvtest

FUNCTIONAL = "nibabel/nibabel/tests/data/functional.nii"       # int16, scaled, 4D
ANATOMICAL = "nibabel/nibabel/tests/data/anatomical.nii"       # int16 big-endian
SOMEONE = "nibabel/doc/source/downloads/someones_anatomy.nii.gz"  # uint8, scaled
NAN_IMAGE = "nibabel/nibabel/tests/data/resampled_anat_moved.nii"  # 153 NaN
T2 = "clinical/Tutorial/tutorial/T2.nii"
PROBMAP = "soop/NIfTI/lesion_mean_1449.nii.gz"                 # uint8 scaled 0..0.1
F32 = "nifti-rs/resources/f32.nii.gz"                          # float32 0..1
ANISO = "open_ms_data/longitudinal/coregistered/patient19/gt.nii.gz"

TMP = lvtest.tmpdir()


def values_of(rel, volume=None):
    img = lvtest.load_image(lvtest.realdata(rel))
    return img, lvtest.scaled_volume(img, volume)


def measure(path, *opts):
    return lvtest.run_json(["measure", path, "--quiet"] + list(opts))


def assert_counts(got, mask, vv, conn=26, ctx=""):
    """lesion_voxels, n_components, volume and sizes equal scipy's."""
    exp = lvtest.components(mask, conn)
    assert got["lesion_voxels"] == int(mask.sum()), (ctx, got["lesion_voxels"], int(mask.sum()))
    assert got["n_components"] == exp["n"], (ctx, got["n_components"], exp["n"])
    want = int(mask.sum()) * vv
    assert abs(got["lesion_volume_mm3"] - want) <= 1e-9 * max(want, 1e-300), ctx
    assert [c["voxels"] for c in got["components"]] == list(exp["voxels"]), ctx
    return exp


def robust(ref):
    """numpy's median and MAD, and the --zthr/--uzthr bounds for K."""
    med = float(np.median(ref))
    mad = float(np.median(np.abs(ref - med)))
    return med, mad


# ---- absolute thresholds on scaled values --------------------------------

def test_thresholds_on_scaled_int16_4d_volume():
    img, v = values_of(FUNCTIONAL, 7)
    path = lvtest.realdata(FUNCTIONAL)
    vv = lvtest.voxel_volume_mm3(img.header)
    u = np.unique(v[np.isfinite(v)])
    x1, x2 = float(u[len(u) // 3]), float(u[2 * len(u) // 3])   # exact data values
    cases = [
        (["--thr", repr(x1)], (v >= x1) & (v != 0)),
        (["--uthr", repr(x2)], (v <= x2) & (v != 0)),
        (["--thr", repr(x1), "--uthr", repr(x2)], (v >= x1) & (v <= x2) & (v != 0)),
        ([], v > 0),
    ]
    for opts, mask in cases:
        for conn in ("6", "26"):
            got = measure(path, "--volume", "7", "-c", conn, *opts)
            assert_counts(got, mask, vv, int(conn), ctx=opts)
    # thresholding raw values instead of scaled ones would give another count
    raw = np.asanyarray(img.dataobj.get_unscaled())[..., 7]
    assert int((raw >= x1).sum()) != int((v >= x1).sum())


def test_uthr_and_thr_keep_zero_background_big_endian():
    img, v = values_of(ANATOMICAL)
    path = lvtest.realdata(ANATOMICAL)
    assert img.header.endianness == ">" and (v < 0).sum() > 0
    vv = lvtest.voxel_volume_mm3(img.header)
    for x in (-1.0, 620.0, 9000.0):
        got = measure(path, "--uthr", repr(x))
        assert_counts(got, (v <= x) & (v != 0), vv, ctx=x)
        assert got["rule"].startswith("value <= ")
    got = measure(path, "--thr", "-300", "--uthr", "0")
    assert_counts(got, (v >= -300) & (v < 0), vv)
    # the same image with a zero background, written big-endian by nibabel
    data = np.asanyarray(img.dataobj).copy()
    data[data < 6000] = 0
    hdr = img.header.copy()
    out = nib.Nifti1Image(data.astype(">i2"), img.affine, hdr)
    zpath = os.path.join(TMP, "anatomical_zero_bg.nii")
    nib.save(out, zpath)
    assert nib.load(zpath).header.endianness == ">"
    w = nib.load(zpath).get_fdata()
    assert (w == 0).sum() > 1000
    for x in (3000.0, 9000.0, 1e9):
        got = measure(zpath, "--uthr", repr(x))
        assert_counts(got, (w <= x) & (w != 0), vv, ctx=("zero background", x))
    got = measure(zpath, "--thr", "0", "--uthr", "3000")
    assert_counts(got, (w > 0) & (w <= 3000), vv)


def test_thresholds_on_scaled_uint8():
    img, v = values_of(SOMEONE)
    path = lvtest.realdata(SOMEONE)
    vv = lvtest.voxel_volume_mm3(img.header)
    u = np.unique(v)
    for x in (float(u[10]), float(u[len(u) // 2]), 50.0):
        got = measure(path, "--thr", repr(x), "-c", "18")
        assert_counts(got, v >= x, vv, 18, ctx=x)
    # every voxel is above zero once scaled (scl_inter 6.68)
    got = measure(path)
    assert got["lesion_voxels"] == v.size


# ---- relative thresholds: median and MAD of the reference voxels ---------

def test_zthr_and_uzthr_use_median_and_mad_of_nonzero_voxels():
    for rel, volume in ((FUNCTIONAL, 3), (ANATOMICAL, None), (SOMEONE, None)):
        img, v = values_of(rel, volume)
        path = lvtest.realdata(rel)
        vv = lvtest.voxel_volume_mm3(img.header)
        ref = v[np.isfinite(v) & (v != 0)]
        med, mad = robust(ref)
        vol_opt = ["--volume", str(volume)] if volume is not None else []
        for k in (0.0, 1.5, 2.0, -0.5):
            lower = med + k * 1.4826 * mad
            got = measure(path, "--zthr", repr(k), *vol_opt)
            assert got["reference_median"] == med, (rel, got["reference_median"], med)
            assert got["reference_mad"] == mad, (rel, got["reference_mad"], mad)
            assert got["lower_threshold"] == lower, (rel, k)
            assert_counts(got, (v >= lower) & (v != 0), vv, ctx=(rel, "zthr", k))
            upper = med - k * 1.4826 * mad
            got = measure(path, "--uzthr", repr(k), *vol_opt)
            assert got["upper_threshold"] == upper
            assert_counts(got, (v <= upper) & (v != 0), vv, ctx=(rel, "uzthr", k))
        got = measure(path, "--zthr", "1", "--uzthr", "-1", *vol_opt)
        lo, hi = med + 1 * 1.4826 * mad, med - (-1) * 1.4826 * mad
        assert_counts(got, (v >= lo) & (v <= hi) & (v != 0), vv, ctx=(rel, "both"))


def test_mask_restricts_lesion_and_is_the_reference():
    img, v = values_of(SOMEONE)
    path = lvtest.realdata(SOMEONE)
    vv = lvtest.voxel_volume_mm3(img.header)
    brain = v > 30
    brain_path = os.path.join(TMP, "brain.nii.gz")
    out = nib.Nifti1Image(brain.astype(np.uint8), img.affine, img.header)
    out.set_data_dtype(np.uint8)
    out.header.set_slope_inter(1, 0)
    nib.save(out, brain_path)
    got = measure(path, "--thr", "60", "--mask", brain_path)
    assert_counts(got, (v >= 60) & brain, vv)
    assert got["rule"].endswith("inside the mask")
    med, mad = robust(v[brain])
    got = measure(path, "--zthr", "1", "--mask", brain_path)
    assert got["reference_median"] == med and got["reference_mad"] == mad
    assert_counts(got, (v >= med + 1 * 1.4826 * mad) & brain, vv)


# ---- fill holes, minimum sizes, NaN ---------------------------------------

def test_fill_holes_matches_scipy_binary_fill_holes():
    img, v = values_of(T2)
    path = lvtest.realdata(T2)
    vv = lvtest.voxel_volume_mm3(img.header)
    for thr in (40.0, 120.0):
        filled = ndimage.binary_fill_holes(v >= thr)
        assert filled.sum() > (v >= thr).sum()          # there were holes
        got = measure(path, "--thr", repr(thr), "--fill-holes")
        assert_counts(got, filled, vv, ctx=thr)
    # holes are filled after the brain mask, in the documented order of the steps
    brain = np.zeros(v.shape, bool)
    brain[20:130, 20:150, 30:120] = True
    brain_path = os.path.join(TMP, "box.nii.gz")
    nib.save(nib.Nifti1Image(brain.astype(np.uint8), img.affine, img.header), brain_path)
    got = measure(path, "--thr", "120", "--fill-holes", "--mask", brain_path)
    assert_counts(got, ndimage.binary_fill_holes((v >= 120) & brain), vv)


def test_nan_never_lesion_even_inside_a_filled_hole():
    shape = (21, 22, 23)
    g = np.indices(shape).astype(float)
    r = np.sqrt(((g - 10.3) ** 2).sum(axis=0))
    data = np.where((r >= 5) & (r <= 8), 1.0, 0.0).astype(np.float32)
    data[10, 10, 10] = np.nan                            # inside the cavity
    data[0, 0, 0] = np.nan
    path = os.path.join(TMP, "shell_nan.nii.gz")
    nib.save(nib.Nifti1Image(data, np.diag([1.0, 1.0, 1.0, 1.0])), path)
    got = measure(path, "--fill-holes")
    want = ndimage.binary_fill_holes(data > 0) & ~np.isnan(data)
    assert got["nan_voxels"] == 2
    assert_counts(got, want, 1.0)
    got = measure(path)
    assert_counts(got, data > 0, 1.0)
    # a real image with NaN voxels
    img, v = values_of(NAN_IMAGE)
    got = measure(lvtest.realdata(NAN_IMAGE), "--fill-holes")
    assert got["nan_voxels"] == int(np.isnan(v).sum()) == 153
    assert_counts(got, ndimage.binary_fill_holes(v > 0) & ~np.isnan(v),
                  lvtest.voxel_volume_mm3(img.header))


def test_min_voxels_and_min_volume_drop_small_components():
    img, v = values_of(T2)
    path = lvtest.realdata(T2)
    vv = lvtest.voxel_volume_mm3(img.header)
    exp = lvtest.components(v >= 150, 6)
    for n in (2, 10, 1000):
        keep = exp["voxels"] >= n
        got = measure(path, "--thr", "150", "-c", "6", "--min-voxels", str(n))
        assert got["n_components"] == int(keep.sum()), n
        assert got["lesion_voxels"] == int(exp["voxels"][keep].sum()), n
        assert [c["voxels"] for c in got["components"]] == list(exp["voxels"][keep])
    img, v = values_of(ANISO)                            # 0.72 x 0.72 x 3 mm
    vv = lvtest.voxel_volume_mm3(img.header)
    exp = lvtest.components(v > 0, 26)
    for mm3 in (5.0, 20.0, 100.0):
        keep = exp["voxels"] * vv >= mm3
        got = measure(lvtest.realdata(ANISO), "--min-volume", repr(mm3))
        assert got["n_components"] == int(keep.sum()), mm3
        assert got["lesion_voxels"] == int(exp["voxels"][keep].sum())
    got = measure(lvtest.realdata(ANISO), "--min-volume", "20", "--min-voxels", "15")
    keep = (exp["voxels"] * vv >= 20) & (exp["voxels"] >= 15)
    assert got["n_components"] == int(keep.sum())


def test_soft_volume_sums_clamped_values():
    for rel, opts in ((PROBMAP, []), (PROBMAP, ["--thr", "0.02"]), (F32, []),
                      (F32, ["--thr", "0.5"]), (FUNCTIONAL, ["--volume", "0"])):
        img, v = values_of(rel, 0 if rel == FUNCTIONAL else None)
        vv = lvtest.voxel_volume_mm3(img.header)
        got = measure(lvtest.realdata(rel), "--soft", *opts)
        mask = v >= float(opts[1]) if opts and opts[0] == "--thr" else v > 0
        want = float(np.clip(v[mask], 0, 1).sum()) * vv
        assert math.isclose(got["soft_volume_mm3"], want, rel_tol=1e-12, abs_tol=1e-12), (rel, opts)
        exp = lvtest.components(mask, 26, want_labels=True)
        for c in got["components"][:20]:
            w = float(np.clip(v[exp["labels"] == c["label"]], 0, 1).sum()) * vv
            assert math.isclose(c["soft_mm3"], w, rel_tol=1e-12, abs_tol=1e-12)


# ---- geometry: anisotropic voxels, units, world coordinates ---------------

def synthetic(shape, zooms, unit, sform=True, qform=True, seed=1):
    """Blobs on a rotated, shifted grid; the header says exactly which of
    sform and qform is set."""
    rng = np.random.default_rng(seed)
    data = (ndimage.gaussian_filter(rng.random(shape), 1.5) > 0.52).astype(np.int16)
    rot = np.array([[0.96, -0.28, 0], [0.28, 0.96, 0], [0, 0, 1]])
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag(zooms)
    aff[:3, 3] = [-12.5 * zooms[0], 7.25 * zooms[1], 3.0]
    hdr = nib.Nifti1Header()
    hdr.set_data_dtype(np.int16)
    hdr.set_data_shape(shape)
    hdr.set_qform(aff, code=1 if qform else 0)
    hdr.set_sform(aff, code=2 if sform else 0)
    hdr.set_zooms(zooms)
    hdr.set_xyzt_units(xyz=unit)
    return nib.Nifti1Image(data, None, hdr), data


def test_units_and_anisotropic_voxels():
    cases = [((0.7, 0.9, 2.5), "mm", True, True),
             ((0.0007, 0.0009, 0.0025), "meter", True, True),
             ((700.0, 900.0, 2500.0), "micron", False, True),
             ((1.2, 0.8, 3.0), "mm", False, False)]
    for i, (zooms, unit, sform, qform) in enumerate(cases):
        img, data = synthetic((40, 35, 18), zooms, unit, sform, qform, seed=i)
        path = os.path.join(TMP, f"units{i}.nii.gz")
        nib.save(img, path)
        hdr = nib.load(path).header
        factor = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}[unit]
        vv = float(np.prod(np.abs(hdr.get_zooms()[:3]), dtype=np.float64)) * factor ** 3
        got = measure(path, "-c", "6")
        assert abs(got["voxel_volume_mm3"] - vv) <= 1e-9 * vv, (unit, got["voxel_volume_mm3"], vv)
        assert {"mm": "pixdim (mm)", "meter": "pixdim (m, converted to mm)",
                "micron": "pixdim (micron, converted to mm)"}[unit] == got["voxel_volume_source"]
        exp = lvtest.components(data > 0, 6, lvtest.world_affine_mm(hdr))
        assert_counts(got, data > 0, vv, 6, ctx=unit)
        assert (int(hdr["sform_code"]) > 0, int(hdr["qform_code"]) > 0) == (sform, qform)
        if sform:
            aff = hdr.get_sform()
        elif qform:
            aff = hdr.get_qform()
        else:
            aff = np.diag(list(np.abs(hdr.get_zooms()[:3])) + [1.0])
        aff = np.array(aff, dtype=np.float64)
        aff[:3] *= factor
        cm = np.array([c["centroid_mm"] for c in got["components"]])
        want = exp["centroid_vox"] @ aff[:3, :3].T + aff[:3, 3]
        assert np.abs(cm - want).max() <= 1e-6 * max(1.0, np.abs(want).max()), unit


# ---- written images ------------------------------------------------------

def assert_same_geometry(out, img):
    """What a viewer uses to place voxels: affine, codes, sform, qform (when
    its code says it means something), pixdim and units."""
    h, h0 = out.header, img.header
    assert out.shape == img.shape
    assert np.array_equal(out.affine, img.affine)
    assert int(h["sform_code"]) == int(h0["sform_code"])
    assert int(h["qform_code"]) == int(h0["qform_code"])
    assert np.array_equal(h.get_sform(), h0.get_sform())
    if int(h0["qform_code"]) > 0:
        assert np.array_equal(h.get_qform(), h0.get_qform())
    assert np.array_equal(h["pixdim"][1:4], h0["pixdim"][1:4])
    assert h.get_xyzt_units()[0] == h0.get_xyzt_units()[0]


def test_out_mask_and_labels_keep_geometry_and_voxels():
    for rel, thr, conn, extra, label_dtype in (
            (T2, 100, "26", ["--min-voxels", "3"], np.int16),   # sform only
            (T2, 1, "6", [], np.int32),                         # > 32767 labels
            (SOMEONE, 60, "18", [], np.int16),                  # qform and sform
            (ANATOMICAL, 9000, "26", ["--min-volume", "50"], np.int16)):  # big-endian
        img, v = values_of(rel)
        path = lvtest.realdata(rel)
        mpath = os.path.join(TMP, f"mask{conn}.nii.gz")
        lpath = os.path.join(TMP, f"labels{conn}.nii")
        got = measure(path, "--thr", str(thr), "-c", conn, "--out-mask", mpath,
                      "--out-labels", lpath, *extra)
        exp = lvtest.components(v >= thr, int(conn), want_labels=True)
        n_keep = got["n_components"]
        labels = np.where(exp["labels"] <= n_keep, exp["labels"], 0)
        m = nib.load(mpath)
        lab = nib.load(lpath)
        assert_same_geometry(m, img)
        assert_same_geometry(lab, img)
        assert m.get_data_dtype() == np.uint8
        assert lab.get_data_dtype() == label_dtype, (lab.get_data_dtype(), n_keep)
        assert np.array_equal(np.asanyarray(m.dataobj), (labels > 0).astype(np.uint8))
        assert np.array_equal(np.asanyarray(lab.dataobj), labels)
        assert int((labels > 0).sum()) == got["lesion_voxels"]


# ---- analytic check -------------------------------------------------------

def test_voxelised_sphere_and_ellipsoid_volume():
    """A voxel is in when its centre is inside the body. Any voxel whose
    centre is on the wrong side of the surface lies within h (half its
    diagonal) of the surface, so |N * vv - V| is at most the volume of the
    shell of half-width h around the surface (rigorous). Boundary voxels
    err in both directions; with an off-grid centre their errors behave like
    independent terms of size <= vv, so the error is also within 6 sqrt(N_b)
    voxels, N_b = shell volume / vv (a 6-sigma tolerance)."""
    for radii, zooms in (((10.0, 10.0, 10.0), (1.0, 1.0, 1.0)),
                         ((10.0, 10.0, 10.0), (0.5, 0.5, 0.5)),
                         ((10.0, 10.0, 10.0), (0.7, 0.9, 1.3)),
                         ((12.0, 8.0, 5.0), (0.6, 0.6, 2.0)),
                         ((12.0, 8.0, 5.0), (1.0, 1.0, 1.0))):
        zooms = np.array(zooms)
        radii = np.array(radii)
        shape = tuple(int(math.ceil(2 * r / z)) + 4 for r, z in zip(radii, zooms))
        centre = (np.array(shape) - 1) / 2 * zooms + np.array([0.1234, -0.2718, 0.3141])
        g = np.indices(shape).astype(float)
        xyz = [g[d] * zooms[d] for d in range(3)]
        inside = sum(((xyz[d] - centre[d]) / radii[d]) ** 2 for d in range(3)) <= 1.0
        path = os.path.join(TMP, "ball.nii.gz")
        nib.save(nib.Nifti1Image(inside.astype(np.uint8), np.diag(list(zooms) + [1.0])), path)
        got = measure(path)
        vv = lvtest.voxel_volume_mm3(nib.load(path).header)    # float32 pixdim
        assert got["lesion_voxels"] == int(inside.sum())
        assert got["n_components"] == 1
        assert abs(got["lesion_volume_mm3"] - inside.sum() * vv) <= 1e-9 * inside.sum() * vv
        exact = 4.0 / 3.0 * math.pi * float(np.prod(radii))
        h = 0.5 * float(np.linalg.norm(zooms))
        a, b, c = radii
        shell = 4.0 / 3.0 * math.pi * ((a + h) * (b + h) * (c + h) - max(a - h, 0) * max(b - h, 0) * max(c - h, 0))
        err = abs(got["lesion_volume_mm3"] - exact)
        assert err <= shell, (radii, zooms, err, shell)
        assert err <= 6 * math.sqrt(shell / vv) * vv, (radii, zooms, err)
        cv = np.array(got["components"][0]["centroid_mm"])
        assert np.abs(cv - centre).max() <= h, (cv, centre)


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print(f"ok {name}")
        except AssertionError as e:
            failed += 1
            print(f"FAIL {name}: {e!r}")
            import traceback
            traceback.print_exc()
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
