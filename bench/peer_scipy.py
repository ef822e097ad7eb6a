#!/usr/bin/python3
"""peer_scipy.py: the nibabel + scipy.ndimage peer of `lesionvol measure`.

usage: peer_scipy.py IMAGE THRESHOLD

Loads IMAGE with nibabel (scaled values), keeps voxels >= THRESHOLD,
labels them 26-connected (3x3x3 structure) and prints the voxel count,
the number of components and the volume in mm^3, as a researcher's
script would.
"""
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage


def main():
    img = nib.load(sys.argv[1])
    thr = float(sys.argv[2])
    data = np.asanyarray(img.dataobj)
    mask = data >= thr
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), bool))
    voxels = int(np.count_nonzero(mask))
    sizes = np.bincount(labels.ravel())[1:] if n else np.zeros(0, np.int64)
    vox_mm3 = float(np.prod(img.header.get_zooms()[:3]))
    print(f"lesion_voxels {voxels}")
    print(f"n_components {n}")
    print(f"largest_component_voxels {int(sizes.max()) if n else 0}")
    print(f"lesion_volume_mm3 {voxels * vox_mm3:.6g}")


if __name__ == "__main__":
    main()
