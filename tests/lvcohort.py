"""lvcohort.py: helpers for the cohort and bids tests: running the program,
a small synthetic cohort written with nibabel, reading our TSV tables, and
the oracle (volumes, components, changes and overlap computed with numpy and
scipy, independently of lesionvol)."""
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile

import nibabel as nib
import numpy as np
from scipy import ndimage

LESIONVOL = os.environ.get("LESIONVOL", "lesionvol")
STRUCT = {6: ndimage.generate_binary_structure(3, 1),
          18: ndimage.generate_binary_structure(3, 2),
          26: np.ones((3, 3, 3), bool)}


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def run(args, **kw):
    """(returncode, stdout, stderr) of lesionvol ARGS."""
    p = subprocess.run([LESIONVOL] + [str(a) for a in args], capture_output=True,
                       text=True, **kw)
    return p.returncode, p.stdout, p.stderr


def tmpdir():
    d = tempfile.mkdtemp(prefix="lvtest-")
    return d


def has_command(name):
    rc, out, _ = run(["--help"])
    return any(line.split()[:1] == [name] for line in out.splitlines())


def read_tsv(path):
    """Rows of a TSV as dicts of strings."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def num(s):
    return math.nan if s == "n/a" else float(s)


def blob(shape, center, radii, rng):
    """A lumpy ellipsoid: the union of a few jittered ellipsoids."""
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    out = np.zeros(shape, bool)
    for _ in range(3):
        c = np.asarray(center) + rng.normal(0, 1.0, 3)
        r = np.maximum(np.asarray(radii) * rng.uniform(0.7, 1.1, 3), 0.6)
        out |= (((grid - c) / r) ** 2).sum(-1) <= 1
    return out


def make_cohort(root, n_subjects=8, shape=(40, 44, 24), zooms=(1.0, 1.2, 2.5),
                sessions=(("acute", 1), ("subacute", 7), ("chronic", 90)),
                seed=7, nihss=True):
    """A BIDS-shaped cohort with a manifest (cohort.tsv), participants.tsv and
    sessions.tsv files; the manifest's extra columns are age (as in
    participants.tsv) and, with @nihss, a per-session score. Lesions grow or
    shrink, split into several components, new ones appear; one subject has
    an empty baseline. Returns the manifest path."""
    rng = np.random.default_rng(seed)
    affine = np.diag(list(zooms) + [1.0])
    affine[:3, 3] = [-20.0, -30.0, -25.0]
    rows = ["participant_id\tsession\timage\tgroup\tdays\tage\tnihss"]
    parts = ["participant_id\tgroup\tage"]
    for s in range(1, n_subjects + 1):
        pid = "sub-%02d" % s
        group = "treated" if s % 2 else "control"
        age = 50 + int(rng.integers(0, 30))
        parts.append("%s\t%s\t%d" % (pid, group, age))
        c = np.array(shape) / 2 + rng.normal(0, 3, 3)
        r0 = rng.uniform(2.5, 6.0)
        ses_lines = ["session_id\tdays"]
        for k, (ses, days) in enumerate(sessions):
            growth = 1 + k * (0.25 if group == "control" else 0.05) + rng.normal(0, 0.1)
            m = blob(shape, c, [r0 * growth] * 3, rng)
            if k >= 1 and rng.random() < 0.6:  # a satellite lesion appears
                m |= blob(shape, c + [9, 0, 0], [2, 2, 1.5], rng)
            if s == 3 and k == 0:
                m[:] = False  # empty baseline: percent change and log ratio n/a
            d = os.path.join(root, pid, "ses-" + ses, "anat")
            os.makedirs(d, exist_ok=True)
            rel = "%s/ses-%s/anat/%s_ses-%s_label-lesion_mask.nii.gz" % (pid, ses, pid, ses)
            nib.save(nib.Nifti1Image(m.astype(np.uint8), affine), os.path.join(root, rel))
            rows.append("%s\t%s\t%s\t%s\t%s\t%d\t%d" % (pid, ses, rel, group, days, age,
                                                        int(rng.integers(0, 20))))
            ses_lines.append("ses-%s\t%s" % (ses, days))
        with open(os.path.join(root, pid, pid + "_sessions.tsv"), "w") as f:
            f.write("\n".join(ses_lines) + "\n")
    manifest = os.path.join(root, "cohort.tsv")
    with open(manifest, "w") as f:
        f.write("\n".join(rows if nihss else [r.rsplit("\t", 1)[0] for r in rows]) + "\n")
    with open(os.path.join(root, "participants.tsv"), "w") as f:
        f.write("\n".join(parts) + "\n")
    return manifest


# ---- the oracle ----

def load_mask(path):
    img = nib.load(path)
    data = img.get_fdata()  # scaled values, as the segmentation rule uses
    vox = float(abs(np.prod(np.asarray(img.header.get_zooms()[:3], dtype=np.float64))))
    return data > 0, vox, img.affine


def measure(path, connectivity=26):
    """Voxels, volume, components and largest component of the default rule."""
    m, vox, affine = load_mask(path)
    labels, n = ndimage.label(m, STRUCT[connectivity])
    sizes = np.bincount(labels.ravel())[1:] if n else np.array([], int)
    return {"mask": m, "labels": labels, "n": n, "vox": vox, "affine": affine,
            "lesion_voxels": int(m.sum()), "lesion_volume_mm3": float(m.sum()) * vox,
            "n_components": int(n),
            "largest_component_mm3": float(sizes.max()) * vox if n else 0.0}


def change(a, b, days_a, days_b):
    """the change fields of b against a (dicts from measure())."""
    v0, v1 = a["lesion_volume_mm3"], b["lesion_volume_mm3"]
    out = {"baseline_mm3": v0, "volume_mm3": v1, "delta_mm3": v1 - v0,
           "percent_change": 100.0 * (v1 - v0) / v0 if v0 > 0 else math.nan,
           "log_ratio": math.log(v1 / v0) if v0 > 0 and v1 > 0 else math.nan}
    dd = days_b - days_a
    out["rate_mm3_per_day"] = (v1 - v0) / dd if dd and not math.isnan(dd) else math.nan
    same = a["mask"].shape == b["mask"].shape and np.allclose(a["affine"], b["affine"],
                                                              atol=1e-3)
    if not same:
        for k in ("dice", "persistent_mm3", "resolved_mm3", "new_mm3", "n_new",
                  "n_resolved", "n_persistent", "n_merged", "n_split"):
            out[k] = math.nan
        return out
    A, B, vox = a["mask"], b["mask"], a["vox"]
    both = int((A & B).sum())
    out["dice"] = 2.0 * both / (A.sum() + B.sum()) if A.sum() + B.sum() else math.nan
    out["persistent_mm3"] = both * vox
    out["resolved_mm3"] = int((A & ~B).sum()) * vox
    out["new_mm3"] = int((B & ~A).sum()) * vox
    la, lb = a["labels"], b["labels"]
    touch_b = [set(np.unique(la[lb == j])) - {0} for j in range(1, b["n"] + 1)]
    touch_a = [set(np.unique(lb[la == i])) - {0} for i in range(1, a["n"] + 1)]
    out["n_new"] = sum(1 for t in touch_b if not t)
    out["n_persistent"] = sum(1 for t in touch_b if t)
    out["n_merged"] = sum(1 for t in touch_b if len(t) >= 2)
    out["n_resolved"] = sum(1 for t in touch_a if not t)
    out["n_split"] = sum(1 for t in touch_a if len(t) >= 2)
    return out


def describe(values):
    """n, mean, sd (ddof 1), median, q1, q3 as numpy computes them."""
    x = np.array([v for v in values if not math.isnan(v)], dtype=np.float64)
    if len(x) == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "median": math.nan,
                "q1": math.nan, "q3": math.nan}
    q1, q3 = np.percentile(x, [25, 75])
    return {"n": len(x), "mean": float(np.mean(x)),
            "sd": float(np.std(x, ddof=1)) if len(x) > 1 else math.nan,
            "median": float(np.median(x)), "q1": float(q1), "q3": float(q3)}


def close(got, want, rel=1e-12, abs_=1e-9):
    if isinstance(want, float) and math.isnan(want):
        return got == "n/a"
    if got == "n/a":
        return False
    g = float(got)
    return abs(g - want) <= max(rel * abs(want), abs_)


def tree_files(root, skip_names=()):
    """Relative path -> bytes of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if f in skip_names:
                continue
            with open(p, "rb") as fh:
                out[rel] = fh.read()
    return out


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
