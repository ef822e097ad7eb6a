#!/usr/bin/env python3
"""test_measure_cli.py: `lesionvol measure` end to end: exit codes and
messages (bad options 2, unreadable or unsupported input 1, unwritable
output 4), every output format parses, --top, --output, outputs that would
overwrite an input are refused, and results do not depend on --threads."""
import csv
import hashlib
import io
import json
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

import lvtest

TMP = lvtest.tmpdir()


def make_blobs(name, shape=(48, 40, 30), seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    data = (ndimage.gaussian_filter(rng.random(shape), 2.0) > 0.53).astype(dtype)
    path = os.path.join(TMP, name)
    nib.save(nib.Nifti1Image(data, np.diag([1.5, 1.5, 2.0, 1.0])), path)
    return path, data


BLOBS, BLOBS_DATA = make_blobs("blobs.nii.gz")
N_BLOBS = lvtest.components(BLOBS_DATA > 0, 26)["n"]


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_usage_errors_exit_2_with_short_usage():
    for args in (["--no-such-option", BLOBS], ["--connectivity", "7", BLOBS],
                 ["--thr", "abc", BLOBS], [], [BLOBS, BLOBS], ["--top", "-1", BLOBS],
                 ["--format", "xml", BLOBS], ["--min-voxels", "1.5", BLOBS]):
        rc, out, err = lvtest.run(["measure"] + args)
        assert rc == 2, (args, rc, err)
        assert "usage: lesionvol measure" in err, (args, err)
        assert out == "", args
    rc, _, err = lvtest.run(["measure", "--thr", "5", "--uthr", "1", BLOBS])
    assert rc == 2 and "--thr 5 is above --uthr 1" in err, err
    rc, _, err = lvtest.run(["measure", "--thr", "5", "--zthr", "1", BLOBS])
    assert rc == 2 and "--zthr" in err, err


def test_input_errors_exit_1_naming_the_problem():
    missing = os.path.join(TMP, "nope.nii.gz")
    rc, out, err = lvtest.run(["measure", missing])
    assert rc == 1 and "nope.nii.gz" in err and out == "", err
    rc, _, err = lvtest.run(["measure", BLOBS, "--mask", missing])
    assert rc == 1 and "nope.nii.gz" in err, err
    # 4D without --volume: the message says how many volumes there are
    data4 = np.zeros((5, 6, 7, 3), np.int16)
    data4[1:3, 2:4, 3:5, :] = 1
    p4 = os.path.join(TMP, "four.nii.gz")
    nib.save(nib.Nifti1Image(data4, np.eye(4)), p4)
    rc, out, err = lvtest.run(["measure", p4])
    assert rc == 1 and "3 volumes" in err and "--volume" in err, err
    rc, out, _ = lvtest.run(["measure", p4, "--volume", "2", "--format", "json"])
    assert rc == 0 and json.loads(out)["lesion_voxels"] == 8
    rc, _, err = lvtest.run(["measure", p4, "--volume", "3"])
    assert rc == 1 and "out of range" in err, err
    # RGB: refused with the datatype named
    rgb = np.zeros((3, 3, 3), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    prgb = os.path.join(TMP, "rgb.nii")
    nib.save(nib.Nifti1Image(rgb, np.eye(4)), prgb)
    for path in [prgb] + ([os.path.join(os.environ["LESIONVOL_REALDATA"], "nifti-rs/resources/rgb/3D.nii")]
                          if os.path.exists(os.path.join(os.environ.get("LESIONVOL_REALDATA", "/nonexistent"),
                                                         "nifti-rs/resources/rgb/3D.nii")) else []):
        rc, out, err = lvtest.run(["measure", path])
        assert rc == 1 and "RGB24" in err and out == "", (path, err)
    # a mask on another grid
    other = os.path.join(TMP, "other_grid.nii.gz")
    nib.save(nib.Nifti1Image(np.ones((10, 10, 10), np.uint8), np.eye(4)), other)
    rc, _, err = lvtest.run(["measure", BLOBS, "--mask", other])
    assert rc == 1 and "other_grid.nii.gz" in err and "grid" in err, err


def test_formats_parse():
    rc, out, err = lvtest.run(["measure", BLOBS, "--format", "json"])
    assert rc == 0, err
    js = json.loads(out)
    for key in ("voxel_volume_mm3", "voxel_volume_source", "lesion_voxels",
                "lesion_volume_mm3", "lesion_volume_ml", "n_components",
                "largest_component_mm3", "nan_voxels", "rule", "components"):
        assert key in js, key
    assert js["n_components"] == N_BLOBS == len(js["components"])
    assert js["voxel_volume_mm3"] == 4.5
    for key in ("label", "voxels", "volume_mm3", "centroid_vox", "centroid_mm",
                "bbox_min", "bbox_max", "mean", "max", "peak_vox"):
        assert key in js["components"][0], key
    for fmt, sep in (("tsv", "\t"), ("csv", ",")):
        rc, out, _ = lvtest.run(["measure", BLOBS, "--format", fmt])
        rows = list(csv.DictReader(io.StringIO(out), delimiter=sep))
        assert rc == 0 and len(rows) == 1, out
        assert rows[0]["image"] == BLOBS
        assert int(rows[0]["lesion_voxels"]) == js["lesion_voxels"]
        assert float(rows[0]["lesion_volume_mm3"]) == js["lesion_volume_mm3"]
        rc, out, _ = lvtest.run(["measure", BLOBS, "--format", fmt, "--components"])
        rows = list(csv.DictReader(io.StringIO(out), delimiter=sep))
        assert rc == 0 and len(rows) == N_BLOBS
        first = js["components"][0]
        assert [int(r["label"]) for r in rows] == list(range(1, N_BLOBS + 1))
        assert int(rows[0]["voxels"]) == first["voxels"]
        assert float(rows[0]["centroid_mm_y"]) == first["centroid_mm"][1]
        assert int(rows[0]["bbox_max_k"]) == first["bbox_max"][2]
        assert int(rows[0]["peak_vox_i"]) == first["peak_vox"][0]
    rc, out, _ = lvtest.run(["measure", BLOBS])
    assert rc == 0 and "lesion_volume_ml" in out and "components (largest first):" in out
    assert len([l for l in out.splitlines() if l.strip()]) >= 10 + N_BLOBS


def test_streamed_json_is_the_tree_json():
    """`measure --format json` streams its text (no cJSON tree, issue 9);
    with --atlas it prints a tree, which adds outside_atlas_mm3 and regions
    after the components: before them both must be the same bytes (layout,
    escaping of an odd file name, n/a as null, reference fields, soft
    volumes, --top, no lesion at all)."""
    rng = np.random.default_rng(3)
    v = ndimage.gaussian_filter(rng.random((30, 28, 20)), 1.5).astype(np.float32)
    v[0, 0, :4] = np.nan
    v[5, 5, 5] = np.inf
    aff = np.diag([1.1, 0.9, 2.0, 1.0])
    path = os.path.join(TMP, 'we"ird\\ \tname \u00e9.nii.gz')
    nib.save(nib.Nifti1Image(v, aff), path)
    labels = np.zeros(v.shape, np.int16)
    labels[:10] = 1
    atlas = os.path.join(TMP, "stream_atlas.nii.gz")
    nib.save(nib.Nifti1Image(labels, aff), atlas)
    for opts in ([], ["--top", "0"], ["--thr", "0.52", "--soft", "--top", "2"],
                 ["--zthr", "1.5"], ["--thr", "2"]):
        rc, stream, err = lvtest.run(["measure", path, "--format", "json", "-q", *opts])
        assert rc == 0, (opts, err)
        rc, tree, err = lvtest.run(["measure", path, "--format", "json", "-q", "--atlas",
                                    atlas, *opts])
        assert rc == 0, (opts, err)
        assert stream.endswith("]\n}\n"), (opts, stream[-40:])
        head = stream[:-3]
        assert tree.startswith(head) and tree[len(head):].startswith(',\n\t"outside_atlas_mm3"'), \
            (opts, head[-200:], tree[len(head) - 200:len(head) + 40])
        assert json.loads(stream)["image"] == path


def test_top_limits_listed_components_only():
    rc, out, _ = lvtest.run(["measure", BLOBS, "--format", "json", "--top", "2"])
    js = json.loads(out)
    assert rc == 0 and len(js["components"]) == 2 and js["n_components"] == N_BLOBS
    rc, out, _ = lvtest.run(["measure", BLOBS, "--top", "1"])
    assert f"... {N_BLOBS - 1} more (--top)" in out, out
    rc, out, _ = lvtest.run(["measure", BLOBS, "--format", "tsv", "--components", "-n", "3"])
    assert len(out.strip().splitlines()) == 4


def test_output_file_and_refused_overwrites():
    target = os.path.join(TMP, "result.json")
    rc, out, _ = lvtest.run(["measure", BLOBS, "--format", "json", "--output", target])
    assert rc == 0 and out == ""
    rc, direct, _ = lvtest.run(["measure", BLOBS, "--format", "json"])
    with open(target) as f:
        assert f.read() == direct
    before = sha(BLOBS)
    for opt in ("--out-mask", "--out-labels", "--output"):
        rc, out, err = lvtest.run(["measure", BLOBS, opt, BLOBS])
        assert rc == 2 and "refusing to overwrite" in err and out == "", (opt, err)
        # the same file under another name
        rc, _, err = lvtest.run(["measure", BLOBS, opt, os.path.join(TMP, ".", "blobs.nii.gz")])
        assert rc == 2 and "refusing to overwrite" in err, (opt, err)
    assert sha(BLOBS) == before
    m = os.path.join(TMP, "m.nii.gz")
    rc, _, err = lvtest.run(["measure", BLOBS, "--out-mask", m, "--out-labels", m])
    assert rc == 2 and "both name" in err, err
    # an output that cannot be written: exit 4 and no result on stdout
    rc, out, err = lvtest.run(["measure", BLOBS, "--out-mask", os.path.join(TMP, "no/such/dir/m.nii.gz")])
    assert rc == 4 and out == "" and "no/such/dir" in err, (rc, err)
    rc, out, err = lvtest.run(["measure", BLOBS, "--output", os.path.join(TMP, "no/such/dir/r.tsv")])
    assert rc == 4, (rc, err)


def test_empty_image_measures_zero():
    p = os.path.join(TMP, "empty.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((6, 7, 8), np.float32), np.eye(4)), p)
    rc, out, _ = lvtest.run(["measure", p, "--format", "json", "--soft"])
    js = json.loads(out)
    assert rc == 0 and js["lesion_voxels"] == 0 and js["n_components"] == 0
    assert js["largest_component_mm3"] == 0 and js["components"] == []
    assert js["soft_volume_mm3"] == 0
    rc, out, _ = lvtest.run(["measure", p, "--format", "tsv", "--components"])
    assert rc == 0 and out.startswith("image\tlabel\tvoxels") and len(out.splitlines()) == 1


def test_results_do_not_depend_on_threads():
    big, _ = make_blobs("big.nii.gz", shape=(120, 110, 90), seed=3)
    outs = set()
    for threads in ("1", "2", "3"):
        for conn in ("6", "26"):
            rc, out, _ = lvtest.run(["measure", big, "--threads", threads, "-c", conn,
                                     "--format", "json", "--fill-holes", "--soft"])
            assert rc == 0
            outs.add((conn, out))
    assert len(outs) == 2


def test_readme_measure_examples_print_what_the_program_prints():
    """README's `lesionvol measure` examples, run in a copy of sample_data/."""
    import re
    import shutil
    import subprocess
    with open(os.path.join(lvtest.SOURCE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    blocks = re.findall(r"```console\n\$ (lesionvol measure [^\n]*)\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2, "README lost its measure examples"
    sample = os.path.join(lvtest.SOURCE, "sample_data")
    if not os.path.isdir(sample):
        print("skipped: no sample_data/")
        return
    work = lvtest.tmpdir()
    shutil.copytree(sample, os.path.join(work, "sample_data"))
    for cmd, shown in blocks:
        args = cmd.split()[1:]
        p = subprocess.run([lvtest.program()] + args, cwd=work, capture_output=True, text=True)
        assert p.returncode == 0, (cmd, p.stderr)
        assert p.stdout == shown, (cmd, p.stdout)
        for i, a in enumerate(args):
            if a == "--out-mask":
                assert os.path.exists(os.path.join(work, args[i + 1]))


def test_help():
    rc, out, _ = lvtest.run(["measure", "--help"])
    assert rc == 0 and "--out-labels" in out and "--zthr" in out


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
