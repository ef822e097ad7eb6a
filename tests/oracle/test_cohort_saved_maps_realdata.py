"""oracle.cohort_saved_maps_realdata: `cohort --save-masks --save-change-maps`
on real stroke masks (LESIONVOL_REALDATA): two LESYMAP lesion maps (float32,
MNI, sform code 1 and qform code 2) as sessions 1 and 2 of one participant
and a SOOP mask (another MNI grid) as its session 3, plus a single-session
SOOP participant. Every saved mask equals numpy's value > 0 with scipy's
26-connected components of at least --min-voxels, the change map of
session 2 equals numpy's classification, session 3 gets no map and says
why, and every image carries its input's header geometry. Skips (77)
without the real data."""
import json
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

import lvcohort as lv
import lvtest

MIN_VOXELS = 20


def oracle_mask(path):
    v = nib.load(path).get_fdata(dtype=np.float64)
    m = np.nan_to_num(v, nan=0) > 0
    labels, _ = ndimage.label(m, np.ones((3, 3, 3), bool))
    keep = np.bincount(labels.ravel()) >= MIN_VOXELS
    keep[0] = False
    return keep[labels]


def check_geometry(path, like):
    h, r = nib.load(path).header, nib.load(like).header
    for k in ("sform_code", "qform_code", "quatern_b", "quatern_c", "quatern_d",
              "qoffset_x", "qoffset_y", "qoffset_z", "srow_x", "srow_y", "srow_z",
              "xyzt_units"):
        assert np.array_equal(h[k], r[k]), (path, k, h[k], r[k])
    assert np.array_equal(h["pixdim"][:4], r["pixdim"][:4]), path
    assert h.get_data_dtype() == np.uint8, path


def main():
    lesymap = lvtest.realdata("lesymap", "inst", "extdata", "lesions")
    soop = lvtest.realdata("soop", "NIfTI")
    images = {("sub-1", "1"): os.path.join(lesymap, "Subject_001.nii.gz"),
              ("sub-1", "2"): os.path.join(lesymap, "Subject_002.nii.gz"),
              ("sub-1", "3"): os.path.join(soop, "bwsrsub-1000_lesion.nii.gz"),
              ("sub-2", "1"): os.path.join(soop, "bwsrsub-1001_lesion.nii.gz")}
    for p in images.values():
        lvtest.realdata(p)
    root = lv.tmpdir()
    manifest = os.path.join(root, "real.tsv")
    with open(manifest, "w") as f:
        f.write("participant_id\tsession\timage\tdays\n")
        for (pid, ses), path in images.items():
            f.write("%s\t%s\t%s\t%s\n" % (pid, ses, path, {"1": 2, "2": 30, "3": 90}[ses]))
    out = os.path.join(root, "out")
    rc, _, err = lv.run(["cohort", manifest, "-o", out, "--min-voxels", str(MIN_VOXELS),
                         "--save-masks", "--save-change-maps"])
    assert rc == 0, (rc, err)

    want = {k: oracle_mask(p) for k, p in images.items()}
    for (pid, ses), path in images.items():
        saved = os.path.join(out, pid, "%s_ses-%s_label-lesion_mask.nii.gz" % (pid, ses))
        got = np.asanyarray(nib.load(saved).dataobj)
        assert got.shape == want[pid, ses].shape, saved
        assert int((got != want[pid, ses]).sum()) == 0, saved
        assert int(got.sum()) > 0, saved
        check_geometry(saved, path)

    a, b = want["sub-1", "1"], want["sub-1", "2"]
    code = np.zeros(a.shape, np.uint8)
    code[a & ~b], code[a & b], code[~a & b] = 1, 2, 3
    saved = os.path.join(out, "sub-1", "sub-1_ses-2_desc-change_dseg.nii.gz")
    got = np.asanyarray(nib.load(saved).dataobj)
    assert np.array_equal(got, code), int((got != code).sum())
    assert set(np.unique(got)) == {0, 1, 2, 3}, np.unique(got)   # real overlap
    check_geometry(saved, images["sub-1", "2"])

    # the SOOP session is on another grid: no map, and the tables say why
    assert not os.path.exists(os.path.join(out, "sub-1", "sub-1_ses-3_desc-change_dseg.nii.gz"))
    with open(os.path.join(out, "sub-1", "sub-1_lesionvol.json")) as f:
        rec = {r["session"]: r["file"] for r in json.load(f)["change_maps"]["files"]}
    assert rec == {"2": "sub-1_ses-2_desc-change_dseg.nii.gz", "3": None}, rec
    rows = {r["session"]: r for r in lv.read_tsv(os.path.join(out, "changes.tsv"))
            if r["participant_id"] == "sub-1"}
    assert "different grids" in rows["3"]["message"], rows["3"]
    assert "no change map written" in rows["3"]["message"], rows["3"]
    assert rows["2"]["message"] == "n/a", rows["2"]
    assert not [f for f in os.listdir(os.path.join(out, "sub-2")) if "change" in f]
    lv.rmtree(root)
    print("ok: 4 real masks and 1 change map match the oracle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
