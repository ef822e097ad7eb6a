#!/usr/bin/python3
"""prepare.py: build the benchmark inputs of issue 9 from real data into a work dir.

usage: prepare.py REALDATA_DIR OUT_DIR

Writes (and reuses when already there, keyed by this script's version):
  t1_1mm_uint8.nii.gz      Debian mricron-data's ch2 T1, byte for byte
  t1_05mm_int16.nii.gz     the same T1 upsampled to 0.5 mm (trilinear), int16
  prob_1mm_float32.nii.gz  a real LESYMAP lesion mask smoothed into 0..1
  prob_05mm_float32.nii.gz the same map upsampled to 0.5 mm, float32
  lesion_1mm_float32.nii.gz  a real LESYMAP lesion mask as shipped (0/1 float32)
  lesion_ms_native_int16.nii.gz  a real MS lesion mask in native FLAIR space
                           (int16, 192x512x512 = 50 M voxels)
  soop/manifest.tsv        every real SOOP lesion mask, one row per participant
Generated files are gzip level 6 (zlib's and FSL's default), so the inflate
cost is that of a typical .nii.gz.
"""
import gzip
import json
import os
import shutil
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

VERSION = 2  # bump when an input changes, so stale work dirs are rebuilt
T1 = "/usr/share/mricron/templates/ch2.nii.gz"
LESYMAP_MASK = "lesymap/inst/extdata/lesions/Subject_002.nii.gz"
MS_MASK = "open_ms_data/cross_sectional/raw/patient01/consensus_gt.nii.gz"
SOOP_DIR = "soop/NIfTI"


def save_gz(img, path):
    """Write img as .nii.gz at gzip level 6, atomically."""
    tmp = path + ".tmp"
    nii = path[:-3] + ".tmp.nii"
    nib.save(img, nii)
    with open(nii, "rb") as f, gzip.open(tmp, "wb", compresslevel=6) as g:
        shutil.copyfileobj(f, g, 1 << 22)
    os.unlink(nii)
    os.replace(tmp, path)


def upsample2(img, dtype, order=1):
    """The image on a grid of half the voxel size (2x per axis), same field of view."""
    data = np.asarray(img.dataobj, dtype=np.float32)
    up = ndimage.zoom(data, 2, order=order, grid_mode=True, mode="grid-constant")
    if np.issubdtype(dtype, np.integer):
        up = np.clip(np.rint(up), np.iinfo(dtype).min, np.iinfo(dtype).max)
    else:
        up = np.clip(up, 0, 1)
    aff = img.affine.copy()
    aff[:3, :3] = aff[:3, :3] / 2
    # voxel centres of the fine grid: old centre minus a quarter voxel
    aff[:3, 3] = img.affine[:3, 3] - img.affine[:3, :3] @ np.array([0.25] * 3)
    out = nib.Nifti1Image(up.astype(dtype), aff)
    out.set_qform(aff, code=int(img.header["qform_code"]) or 1)
    out.set_sform(aff, code=int(img.header["sform_code"]) or 1)
    out.header.set_xyzt_units("mm")
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: prepare.py REALDATA_DIR OUT_DIR")
    real, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    stamp = os.path.join(out, "prepared.json")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if json.load(f).get("version") == VERSION:
                print(f"inputs already prepared in {out}")
                return
    for p in (T1, os.path.join(real, LESYMAP_MASK), os.path.join(real, MS_MASK)):
        if not os.path.exists(p):
            sys.exit(f"prepare.py: missing input '{p}'")

    def dst(name):
        return os.path.join(out, name)

    print("T1 1 mm (copy of mricron-data ch2)")
    shutil.copyfile(T1, dst("t1_1mm_uint8.nii.gz"))
    t1 = nib.load(T1)
    print("T1 0.5 mm int16 (trilinear upsampling)")
    save_gz(upsample2(t1, np.int16), dst("t1_05mm_int16.nii.gz"))

    les = nib.load(os.path.join(real, LESYMAP_MASK))
    shutil.copyfile(os.path.join(real, LESYMAP_MASK), dst("lesion_1mm_float32.nii.gz"))
    print("probability map 1 mm float32 (LESYMAP mask, Gaussian sigma 2 mm)")
    m = np.asarray(les.dataobj, dtype=np.float32)
    prob = np.clip(ndimage.gaussian_filter(m, 2.0), 0, 1).astype(np.float32)
    prob[prob < 1e-3] = 0  # a real map has a true zero background
    pimg = nib.Nifti1Image(prob, les.affine, les.header)
    pimg.header.set_data_dtype(np.float32)
    pimg.header["scl_slope"], pimg.header["scl_inter"] = 1, 0
    save_gz(pimg, dst("prob_1mm_float32.nii.gz"))
    print("probability map 0.5 mm float32")
    save_gz(upsample2(pimg, np.float32), dst("prob_05mm_float32.nii.gz"))

    shutil.copyfile(os.path.join(real, MS_MASK), dst("lesion_ms_native_int16.nii.gz"))

    print("SOOP cohort manifest")
    soop = os.path.join(real, SOOP_DIR)
    names = sorted(n for n in os.listdir(soop) if n.endswith("_lesion.nii.gz"))
    os.makedirs(dst("soop"), exist_ok=True)
    with open(dst("soop/manifest.tsv"), "w") as f:
        f.write("participant_id\tsession\timage\n")
        for n in names:
            pid = n[len("bwsr"):-len("_lesion.nii.gz")]
            f.write(f"{pid}\tacute\t{os.path.join(soop, n)}\n")
    print(f"  {len(names)} masks")
    with open(stamp, "w") as f:
        json.dump({"version": VERSION}, f)


if __name__ == "__main__":
    main()
