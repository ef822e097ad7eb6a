#!/usr/bin/env python3
"""test_measure_realdata.py: `lesionvol measure` on real images equals
nibabel + scipy.ndimage: lesion voxels, component counts at connectivity 6,
18 and 26, voxel volume, component sizes in label order (the documented tie rule),
centroids in voxels and world mm, bounding boxes, mean/max/peak.

Images: every scalar image of nibabel's and nifti-rs's test data (volume 0 of
4D ones), the clinical T2 and its lesion, and 50 masks each from SOOP,
LESYMAP and open_ms_data, picked evenly from the sorted file lists, plus
one 50-million-voxel native-space mask of open_ms_data."""
import concurrent.futures
import glob
import os
import sys
import time

import numpy as np

import lvtest

CONNECTIVITIES = (6, 18, 26)

# components compared one by one (all of them in every mask; the raw T2
# has 43 648 6-connected pieces, of which the largest TOP are enough)
TOP = 2000


def candidates(root, per_set):
    files = []
    for sub in ("nibabel", "nifti-rs"):
        for f in sorted(glob.glob(os.path.join(root, sub, "**", "*"), recursive=True)):
            if os.path.isfile(f):
                files.append(f)
    files += [os.path.join(root, "clinical/Tutorial/tutorial/lesionT2.nii"),
              os.path.join(root, "clinical/Tutorial/tutorial/T2.nii")]
    files += lvtest.spread(glob.glob(os.path.join(root, "soop/NIfTI/bwsrsub-*_lesion.nii.gz")), per_set)
    files += lvtest.spread(glob.glob(os.path.join(root, "lesymap/inst/extdata/lesions/*.nii.gz")), per_set)
    # open_ms_data: the 30 MNI and 20 longitudinal masks, and one of the
    # three 50-million-voxel native masks (the others cost 10 s each in
    # scipy and are the benchmark's job)
    files += lvtest.spread(glob.glob(os.path.join(root, "open_ms_data/cross_sectional/MNI/*/*.nii.gz")) +
                           glob.glob(os.path.join(root, "open_ms_data/longitudinal/coregistered/*/*.nii.gz")), per_set)
    files.append(os.path.join(root, "open_ms_data/cross_sectional/raw/patient03/consensus_gt.nii.gz"))
    return files


def header_only(path):
    """(nibabel image, volume index or None) for scalar images, else None
    (non-images and unreadable ones belong to the error tests)."""
    import nibabel as nib
    try:
        if isinstance(nib.load(path), nib.Cifti2Image):
            return None                 # refused by design (a CIFTI-2 container)
        img = lvtest.load_image(path)
        if img.get_data_dtype().kind not in "iuf":
            return None
        if not os.path.exists(img.file_map["image"].filename):
            return None                 # a pair header without its image
        return img, (0 if len(img.shape) > 3 else None)
    except Exception:
        return None


def program_runs(pool, path, volume):
    """The program's JSON for each connectivity, computed in the background."""
    futures = {}
    for conn in CONNECTIVITIES:
        args = ["measure", path, "--connectivity", conn, "--quiet", "--top", TOP]
        if volume is not None:
            args += ["--volume", volume]
        futures[conn] = pool.submit(lvtest.run_json, args)
    return futures


def check(path, img, volume, futures):
    values = lvtest.scaled_volume(img, volume, keep_dtype=True)
    hdr, ndim = img.header, len(img.shape)
    mask = values > 0                        # NaN is never lesion
    affine = lvtest.world_affine_mm(hdr)
    vv = lvtest.voxel_volume_mm3(hdr, min(ndim, 3))
    n_nan = int(np.isnan(values).sum())
    where = f"'{os.path.relpath(path, lvtest.realdata())}'"
    for conn in CONNECTIVITIES:
        got = futures[conn].result()
        exp = lvtest.components(mask, conn, affine, values)
        ctx = f"{where} at connectivity {conn}"
        assert got["lesion_voxels"] == int(mask.sum()), ctx
        assert got["n_components"] == exp["n"], (ctx, got["n_components"], exp["n"])
        assert got["nan_voxels"] == n_nan, ctx
        assert abs(got["voxel_volume_mm3"] - vv) <= 1e-12 * vv, (ctx, got["voxel_volume_mm3"], vv)
        want_mm3 = int(mask.sum()) * vv
        assert abs(got["lesion_volume_mm3"] - want_mm3) <= 1e-9 * max(want_mm3, 1e-300), ctx
        assert abs(got["lesion_volume_ml"] * 1000 - want_mm3) <= 1e-9 * max(want_mm3, 1e-300), ctx
        comps = got["components"]
        assert len(comps) == min(exp["n"], TOP), ctx
        if not comps:
            assert got["largest_component_mm3"] == 0, ctx
            continue
        exp.update({k: exp[k][:TOP] for k in ("voxels", "first", "centroid_vox", "centroid_mm",
                                              "bbox_min", "bbox_max", "mean", "max")})
        sizes = np.array([c["voxels"] for c in comps])
        # the label order itself: sizes, then first voxel in file order
        assert np.array_equal(sizes, exp["voxels"]), ctx
        assert [c["label"] for c in comps] == list(range(1, len(comps) + 1)), ctx
        vol_mm3 = np.array([c["volume_mm3"] for c in comps])
        assert np.allclose(vol_mm3, sizes * vv, rtol=1e-9, atol=0), ctx
        assert abs(got["largest_component_mm3"] - sizes[0] * vv) <= 1e-9 * sizes[0] * vv, ctx
        cv = np.array([c["centroid_vox"] for c in comps], dtype=np.float64)
        cm = np.array([c["centroid_mm"] for c in comps], dtype=np.float64)
        assert np.allclose(cv, exp["centroid_vox"], rtol=0, atol=1e-9), ctx
        err_mm = np.abs(cm - exp["centroid_mm"]).max()
        assert err_mm <= 1e-6, (ctx, "centroid_mm off by", err_mm)
        assert np.array_equal(np.array([c["bbox_min"] for c in comps]), exp["bbox_min"]), ctx
        assert np.array_equal(np.array([c["bbox_max"] for c in comps]), exp["bbox_max"]), ctx
        mx = np.array([c["max"] for c in comps], dtype=np.float64)
        mean = np.array([c["mean"] for c in comps], dtype=np.float64)
        assert np.array_equal(mx, exp["max"]), ctx
        assert np.allclose(mean, exp["mean"], rtol=1e-12, atol=0), ctx
        peaks = np.array([c["peak_vox"] for c in comps], dtype=np.int64)
        assert np.array_equal(values[tuple(peaks.T)], mx), (ctx, "peak value")
        assert np.array_equal(lvtest.label_at(exp, peaks), np.arange(1, len(comps) + 1)), \
            (ctx, "peak outside its component")


def main():
    root = lvtest.realdata()
    t0 = time.time()
    n_checked = 0
    groups = {}
    # the program runs in two background threads (one per core) while the
    # oracle is computed here, a few images ahead
    # under ASan+UBSan the job is to find memory errors, not breadth: fewer
    # masks of each set keep that run short
    per_set = 12 if lvtest.sanitized() else 50
    images = [(p,) + h for p in candidates(root, per_set) for h in [header_only(p)] if h]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pending = [program_runs(pool, p, v) for p, _, v in images[:4]]
        for i, (path, img, volume) in enumerate(images):
            if i + 4 < len(images):
                pending.append(program_runs(pool, images[i + 4][0], images[i + 4][2]))
            check(path, img, volume, pending[i])
            pending[i] = None
            n_checked += 1
            top = os.path.relpath(path, root).split(os.sep)[0]
            groups[top] = groups.get(top, 0) + 1
    for g in ("nibabel", "nifti-rs", "clinical", "soop", "lesymap", "open_ms_data"):
        assert groups.get(g, 0) > 0, f"no image checked from {g}"
    for g in ("soop", "lesymap"):
        assert groups[g] == per_set, (g, groups[g])
    assert groups["open_ms_data"] == per_set + 1, groups
    print(f"{n_checked} images x {len(CONNECTIVITIES)} connectivities equal "
          f"nibabel + scipy ({groups}) in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
