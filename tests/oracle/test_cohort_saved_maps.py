"""oracle.cohort_saved_maps: `cohort --save-masks --save-change-maps` (and
`bids ... participant` with them) write, for every session, exactly the
voxels numpy + scipy count (threshold, brain mask, holes filled, 26-connected
components of at least --min-voxels) and, for every later session, numpy's
classification of baseline vs follow-up (0 background, 1 resolved, 2
persistent, 3 new), each with its input's header geometry (nibabel). Also:
a pair on different grids gets no map and says why; a rerun rewrites
nothing; a rerun without the options keeps images that still match and
removes those that no longer do; options turned on later produce the files;
an image that cannot be written fails its participant only (exit 3); a
saved image never replaces an input. Real data: test_cohort_saved_maps_realdata.py."""
import json
import math
import os
import shutil
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

import lvcohort as lv
import lvtest

SHAPE = (30, 34, 18)
ZOOMS = (1.1, 0.9, 2.0)
RULE = ["--thr", "0.4", "--min-voxels", "4", "--fill-holes"]
THR, MIN_VOXELS = 0.4, 4
# participants: sessions (label, days); sub-03's last session is on another grid,
# sub-04 has a single session (the streaming path when nothing is saved)
PLAN = {"sub-01": [("acute", 2), ("sub", 9), ("chronic", 95)],
        "sub-02": [("b", 30), ("a", 1)],            # listed out of days order
        "sub-03": [("t0", 1), ("t1", 7), ("t2", 90)],
        "sub-04": [("only", 1)]}


def affine_of(shift=0.0):
    """A rotated, anisotropic voxel-to-world matrix (so nothing is diagonal)."""
    c, s = math.cos(0.3), math.sin(0.3)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    a = np.eye(4)
    a[:3, :3] = rot @ np.diag(ZOOMS)
    a[:3, 3] = [-18.0 + shift, -20.0, -15.0]
    return a


def lesion_values(shape, centre, radius, rng):
    """Probability-like values: a lumpy blob with a hole, noise, speckles
    (small components --min-voxels drops) and a few NaNs."""
    m = lv.blob(shape, centre, [radius, radius, radius / 2], rng)
    v = np.where(m, rng.uniform(0.45, 1.0, shape), rng.uniform(0, 0.3, shape))
    c = np.round(centre).astype(int)
    v[c[0], c[1], c[2]] = 0.1                        # a hole for --fill-holes
    for _ in range(6):                               # 1-2 voxel speckles
        p = rng.integers([0, 0, 0], shape)
        v[tuple(p)] = 0.9
    v[0, 0, :3] = np.nan
    return v.astype(np.float32)


def save(path, values, affine, int16_scaled=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if int16_scaled:
        raw = np.round(np.nan_to_num(values) * 1000).astype(np.int16)
        img = nib.Nifti1Image(raw, affine)
        img.header.set_slope_inter(0.001, 0.0)
    else:
        img = nib.Nifti1Image(values, affine)
    img.header.set_sform(affine, code=4)             # MNI
    img.header.set_qform(affine, code=1)             # scanner
    img.header.set_xyzt_units("mm", "sec")
    nib.save(img, path)


def make_study(root, seed=11):
    """The images, brain masks and the manifest (days, a mask column)."""
    rng = np.random.default_rng(seed)
    rows = ["participant_id\tsession\timage\tgroup\tdays\tmask"]
    for pid, sessions in PLAN.items():
        centre = np.array(SHAPE) / 2 + rng.normal(0, 2, 3)
        brain = None
        if pid == "sub-01":
            brain = np.ones(SHAPE, np.uint8)
            brain[:, :, :3] = 0                       # the brain mask cuts a slab
            save(os.path.join(root, pid, pid + "_brain.nii.gz"), brain, affine_of())
        for k, (ses, days) in enumerate(sessions):
            shape, shift = SHAPE, 0.0
            if pid == "sub-03" and k == 2:
                shape = (SHAPE[0] + 2, SHAPE[1], SHAPE[2])   # resampled: other grid
            radius = 5.0 * (1 + 0.2 * k * (-1) ** k)
            v = lesion_values(shape, centre, radius, rng)
            rel = "%s/ses-%s/anat/%s_ses-%s_label-lesion_mask.nii.gz" % (pid, ses, pid, ses)
            save(os.path.join(root, rel), v, affine_of(shift), int16_scaled=pid == "sub-02")
            rows.append("%s\t%s\t%s\t%s\t%d\t%s" % (pid, ses, rel, "A" if pid < "sub-03"
                                                   else "B", days,
                                                   pid + "/" + pid + "_brain.nii.gz"
                                                   if brain is not None else "n/a"))
        with open(os.path.join(root, pid, pid + "_sessions.tsv"), "w") as f:
            f.write("session_id\tdays\n" + "".join("ses-%s\t%d\n" % s for s in sessions))
    manifest = os.path.join(root, "cohort.tsv")
    with open(manifest, "w") as f:
        f.write("\n".join(rows) + "\n")
    return manifest


def read_plan(manifest):
    """{pid: [(session, days, image path, brain path or None)]} in days order."""
    base = os.path.dirname(manifest)
    plan = {}
    for r in lv.read_tsv(manifest):
        mask = None if r["mask"] == "n/a" else os.path.join(base, r["mask"])
        plan.setdefault(r["participant_id"], []).append(
            (r["session"], float(r["days"]), os.path.join(base, r["image"]), mask))
    for tps in plan.values():
        tps.sort(key=lambda t: t[1])
    return plan


def oracle_mask(image, brain):
    """the segmentation rule with RULE, in numpy/scipy: value >= thr (NaN never),
    inside the brain mask, holes filled (never a NaN voxel), 26-connected
    components of at least MIN_VOXELS voxels."""
    v = nib.load(image).get_fdata(dtype=np.float64)
    nan = np.isnan(v)
    m = np.zeros(v.shape, bool)
    m[~nan] = v[~nan] >= THR
    if brain:
        b = nib.load(brain).get_fdata()
        m &= (b != 0) & ~np.isnan(b)
    m = ndimage.binary_fill_holes(m) & ~nan
    labels, n = ndimage.label(m, np.ones((3, 3, 3), bool))
    sizes = np.bincount(labels.ravel())
    keep = sizes >= MIN_VOXELS
    keep[0] = False
    return keep[labels]


def fixture_exercises_the_rule(plan):
    """Every step of the rule changes some image, so a saved mask that
    skipped one would differ from the oracle."""
    filled = dropped = cut = 0
    for pid, tps in plan.items():
        for ses, _, image, brain in tps:
            v = nib.load(image).get_fdata(dtype=np.float64)
            m = np.nan_to_num(v, nan=-1) >= THR
            f = ndimage.binary_fill_holes(m)
            filled += int(f.sum() - m.sum())
            labels, n = ndimage.label(f, np.ones((3, 3, 3), bool))
            dropped += int((np.bincount(labels.ravel())[1:] < MIN_VOXELS).sum())
            if brain:
                cut += int((m & (nib.load(brain).get_fdata() == 0)).sum())
    assert filled > 0 and dropped > 0 and cut > 0, (filled, dropped, cut)


def oracle_change(a, b):
    out = np.zeros(a.shape, np.uint8)
    out[a & ~b] = 1
    out[a & b] = 2
    out[~a & b] = 3
    return out


GEOMETRY_FIELDS = ("sform_code", "qform_code", "quatern_b", "quatern_c", "quatern_d",
                   "qoffset_x", "qoffset_y", "qoffset_z", "srow_x", "srow_y", "srow_z",
                   "xyzt_units")


def check_image(path, like, want, ctx):
    """@path holds @want (uint8, unscaled) with @like's geometry."""
    assert os.path.isfile(path), "missing %s (%s)" % (path, ctx)
    img, ref = nib.load(path), nib.load(like)
    assert img.get_data_dtype() == np.uint8, (ctx, img.get_data_dtype())
    assert img.dataobj.slope == 1 and img.dataobj.inter == 0, ctx
    data = np.asanyarray(img.dataobj)
    assert data.shape == want.shape, (ctx, data.shape, want.shape)
    diff = int((data != want).sum())
    assert diff == 0, "%s: %d voxels differ from the oracle" % (ctx, diff)
    h, r = img.header, ref.header
    for k in GEOMETRY_FIELDS:
        assert np.array_equal(h[k], r[k]), (ctx, k, h[k], r[k])
    assert np.array_equal(h["pixdim"][:4], r["pixdim"][:4]), (ctx, h["pixdim"], r["pixdim"])
    assert np.allclose(img.affine, ref.affine, atol=1e-6), ctx


def doc(out, pid):
    with open(os.path.join(out, pid, pid + "_lesionvol.json")) as f:
        return json.load(f)


def mask_name(pid, ses):
    return "%s_ses-%s_label-lesion_mask.nii.gz" % (pid, ses)


def change_name(pid, ses):
    return "%s_ses-%s_desc-change_dseg.nii.gz" % (pid, ses)


def check_outputs(out, plan, masks=True, changes=True):
    """Every saved image against the oracle; the records and messages."""
    ch_rows = {(r["participant_id"], r["session"]): r
               for r in lv.read_tsv(os.path.join(out, "changes.tsv"))}
    n_images = 0
    for pid, tps in plan.items():
        want = {ses: oracle_mask(img, brain) for ses, _, img, brain in tps}
        d = doc(out, pid)
        assert d["status"] == "ok", d["message"]
        files = set(f for f in os.listdir(os.path.join(out, pid)) if f.endswith(".nii.gz"))
        expected = set()
        if masks:
            for ses, _, img, _ in tps:
                check_image(os.path.join(out, pid, mask_name(pid, ses)), img,
                            want[ses].astype(np.uint8), (pid, ses, "mask"))
                expected.add(mask_name(pid, ses))
                n_images += 1
            assert [(f["session"], f["file"]) for f in d["masks"]["files"]] == \
                [(ses, mask_name(pid, ses)) for ses, *_ in tps], d["masks"]
        base_ses, _, base_img, _ = tps[0]
        for ses, _, img, _ in tps[1:] if changes else []:
            a, b = want[base_ses], want[ses]
            rec = [f for f in d["change_maps"]["files"] if f["session"] == ses]
            assert len(rec) == 1 and rec[0]["baseline_session"] == base_ses, rec
            if a.shape != b.shape:
                # different grids: no map, and changes.tsv says why
                assert rec[0]["file"] is None, rec
                msg = ch_rows[pid, ses]["message"]
                assert "different grids" in msg and "no change map written" in msg, msg
                continue
            assert rec[0]["file"] == change_name(pid, ses), rec
            check_image(os.path.join(out, pid, change_name(pid, ses)), img,
                        oracle_change(a, b), (pid, ses, "change map"))
            expected.add(change_name(pid, ses))
            n_images += 1
        assert files == expected, (pid, sorted(files ^ expected))
    return n_images


def snapshot(out):
    """(inode, mtime_ns) of every file under out/sub-*/."""
    snap = {}
    for pid in PLAN:
        d = os.path.join(out, pid)
        for f in os.listdir(d):
            st = os.stat(os.path.join(d, f))
            snap[pid + "/" + f] = (st.st_ino, st.st_mtime_ns)
    return snap


def cohort(manifest, out, *extra, expect=0):
    rc, so, se = lv.run(["cohort", manifest, "-o", out, "--threads", "2"] + RULE +
                        list(extra))
    assert rc == expect, (rc, expect, se)
    return se


def test_cohort_maps_and_resume(root, manifest, plan):
    out = os.path.join(root, "out")
    cohort(manifest, out, "--save-masks", "--save-change-maps")
    n = check_outputs(out, plan)
    assert n == 9 + 4, n         # 9 masks; changes: 2 + 1 + 1 (one pair on other grids)

    # a rerun with the same options rewrites nothing
    before = snapshot(out)
    err = cohort(manifest, out, "--save-masks", "--save-change-maps")
    assert "(4 up to date)" in err, err
    assert snapshot(out) == before

    # without the options: images that still match their results are kept
    err = cohort(manifest, out)
    assert "(4 up to date)" in err, err
    assert snapshot(out) == before
    check_outputs(out, plan)

    # an input changes, the rerun has no options: that participant's images
    # no longer match and go; the others stay
    ses, _, img, _ = plan["sub-01"][1]
    v = nib.load(img).get_fdata(dtype=np.float32)
    v[v >= THR] = 0.2
    v[2:6, 2:6, 5:8] = 0.8
    save(img, v, affine_of())
    cohort(manifest, out)
    left = os.listdir(os.path.join(out, "sub-01"))
    assert not [f for f in left if f.endswith(".nii.gz")], left
    d = doc(out, "sub-01")
    assert "masks" not in d and "change_maps" not in d, sorted(d)
    for pid in ("sub-02", "sub-03", "sub-04"):
        assert {k: v for k, v in snapshot(out).items() if k.startswith(pid)} == \
            {k: v for k, v in before.items() if k.startswith(pid)}, pid

    # turned on again: sub-01 is recomputed with its images, the rest skipped
    err = cohort(manifest, out, "--save-masks", "--save-change-maps")
    assert "(3 up to date)" in err, err
    check_outputs(out, plan)
    print("cohort: %d images match the oracle; resume and option off ok" % n)


def test_options_turned_on_later(root, manifest, plan):
    out = os.path.join(root, "later")
    cohort(manifest, out)
    assert not [f for pid in PLAN for f in os.listdir(os.path.join(out, pid))
                if f.endswith(".nii.gz")]
    cohort(manifest, out, "--save-masks")
    check_outputs(out, plan, masks=True, changes=False)
    masks = snapshot(out)
    cohort(manifest, out, "--save-masks", "--save-change-maps")
    check_outputs(out, plan)
    now = snapshot(out)
    # the masks were written again with the participant (same voxels)
    assert set(masks) <= set(now)


def test_write_failure_fails_one_participant(root, manifest, plan):
    out = os.path.join(root, "fail")
    # a folder where sub-02's second mask goes: rename() cannot replace it
    ses = plan["sub-02"][1][0]
    os.makedirs(os.path.join(out, "sub-02", mask_name("sub-02", ses)))
    err = cohort(manifest, out, "--save-masks", "--save-change-maps", expect=3)
    assert "sub-02" in err, err
    rows = lv.read_tsv(os.path.join(out, "timepoints.tsv"))
    for r in rows:
        failed = r["participant_id"] == "sub-02"
        assert r["status"] == ("error" if failed else "ok"), r
        if failed:
            assert mask_name("sub-02", ses) in r["message"], r
    # nothing half-done of sub-02 stays; the others are complete
    left = [f for f in os.listdir(os.path.join(out, "sub-02")) if f.endswith(".nii.gz")]
    assert left == [mask_name("sub-02", ses)], left   # only the folder put there
    assert os.path.isdir(os.path.join(out, "sub-02", left[0]))
    assert not [f for f in os.listdir(os.path.join(out, "sub-02")) if lvtest.is_temp(f)]
    for pid in ("sub-01", "sub-03", "sub-04"):
        assert doc(out, pid)["status"] == "ok"
    # the obstacle gone, a rerun retries sub-02 only
    os.rmdir(os.path.join(out, "sub-02", mask_name("sub-02", ses)))
    err = cohort(manifest, out, "--save-masks", "--save-change-maps")
    assert "(3 up to date)" in err, err
    check_outputs(out, plan)


def test_never_replaces_an_input(root):
    """A manifest whose image sits where its saved mask would go."""
    out = os.path.join(root, "inplace")
    rng = np.random.default_rng(5)
    img = os.path.join(out, "sub-09", mask_name("sub-09", "1"))
    save(img, lesion_values(SHAPE, np.array(SHAPE) / 2, 4.0, rng), affine_of())
    manifest = os.path.join(root, "inplace.tsv")
    with open(manifest, "w") as f:
        f.write("participant_id\tsession\timage\nsub-09\t1\t%s\n" % img)
    before = lv.read_bytes(img)
    rc, _, err = lv.run(["cohort", manifest, "-o", out, "--save-masks"])
    assert rc == 3, (rc, err)
    assert "inputs" in err, err
    assert lv.read_bytes(img) == before


def test_session_must_be_a_label(root):
    rng = np.random.default_rng(6)
    img = os.path.join(root, "lab", "a.nii.gz")
    save(img, lesion_values(SHAPE, np.array(SHAPE) / 2, 4.0, rng), affine_of())
    manifest = os.path.join(root, "lab", "m.tsv")
    with open(manifest, "w") as f:
        f.write("participant_id\tsession\timage\n01\tday_1\ta.nii.gz\n")
    out = os.path.join(root, "lab", "out")
    rc, _, err = lv.run(["cohort", manifest, "-o", out, "--save-masks"])
    assert rc == 3 and "not a BIDS label" in err, (rc, err)
    # without the option the participant is fine (the failure is not kept)
    rc, _, err = lv.run(["cohort", manifest, "-o", out])
    assert rc == 0, (rc, err)


def test_bids_participant_level(root, manifest, plan):
    """The manifest's tree is BIDS-shaped: the participant level writes the
    same images (sub-01's brain mask is a manifest column, so it is left out
    of both runs here)."""
    out_c, out_b = os.path.join(root, "c"), os.path.join(root, "b")
    nomask = os.path.join(root, "nomask.tsv")
    with open(manifest) as f, open(nomask, "w") as g:
        for line in f:
            g.write(line.rsplit("\t", 1)[0] + "\n")
    with open(os.path.join(root, "participants.tsv"), "w") as f:
        f.write("participant_id\tgroup\n" + "".join("%s\tA\n" % p for p in PLAN))
    with open(os.path.join(root, "dataset_description.json"), "w") as f:
        json.dump({"Name": "saved maps", "BIDSVersion": "1.8.0"}, f)
    cohort(nomask, out_c, "--save-masks", "--save-change-maps")
    rc, _, err = lv.run(["bids", root, out_b, "participant", "--save-masks",
                         "--save-change-maps", "--threads", "2"] + RULE)
    assert rc == 0, err
    n = 0
    for pid in PLAN:
        fc = sorted(f for f in os.listdir(os.path.join(out_c, pid)) if f.endswith(".nii.gz"))
        fb = sorted(f for f in os.listdir(os.path.join(out_b, pid)) if f.endswith(".nii.gz"))
        assert fc == fb and fc, (pid, fc, fb)
        for name in fc:
            a = nib.load(os.path.join(out_c, pid, name))
            b = nib.load(os.path.join(out_b, pid, name))
            assert np.array_equal(np.asanyarray(a.dataobj), np.asanyarray(b.dataobj)), name
            assert a.header.binaryblock == b.header.binaryblock, name
            n += 1
    # against the oracle too (no brain mask), with the group level's tables
    rc, _, err = lv.run(["bids", root, out_b, "group"])
    assert rc == 0, err
    plan_nomask = {p: [(s, d, i, None) for s, d, i, _ in t] for p, t in plan.items()}
    check_outputs(out_b, plan_nomask)
    print("bids: participant level wrote the same %d images" % n)


def main():
    root = lv.tmpdir()
    manifest = make_study(root)
    plan = read_plan(manifest)
    assert plan["sub-02"][0][0] == "a"
    fixture_exercises_the_rule(plan)
    test_cohort_maps_and_resume(root, manifest, read_plan(manifest))
    test_options_turned_on_later(root, manifest, read_plan(manifest))
    test_write_failure_fails_one_participant(root, manifest, read_plan(manifest))
    test_never_replaces_an_input(root)
    test_session_must_be_a_label(root)
    test_bids_participant_level(root, manifest, read_plan(manifest))
    shutil.rmtree(root, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
