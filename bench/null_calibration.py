#!/usr/bin/python3
"""bench/null_calibration.py: are cohort's p-values calibrated?

Simulates many cohorts with no treatment effect (`lesionvol simulate --effect
0`, a different seed each), runs `lesionvol cohort` on each, and counts how
often every test of comparison.json rejects at alpha. A calibrated test
rejects a fraction alpha of the null cohorts; the table gives that fraction
with its 95% Clopper-Pearson interval (scipy), and says whether alpha lies
inside it.

usage: bench/null_calibration.py [--lesionvol build/lesionvol] [--cohorts 200]
           [--subjects 20] [--alpha 0.05] [--workdir DIR] [--threads N]

The cohorts are small on purpose (32x38x32 grids of 6 mm voxels: lesion
volumes keep their log-normal spread, the images take no time), so 200
cohorts take about 4 minutes on 2 cores. Not a test: with 200 cohorts a
calibrated test lands outside its interval 5% of the time.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from scipy import stats

TESTS = [  # (name, path in a session of comparison.json)
    ("ANCOVA of log volume (primary)", ("ancova_log", "p_value")),
    ("ANCOVA of volume", ("ancova_mm3", "p_value")),
    ("Welch t, change in mm3", ("delta_mm3", "welch", "p_value")),
    ("Mann-Whitney, change in mm3", ("delta_mm3", "mann_whitney", "p_value")),
    ("Welch t, percent change", ("percent_change", "welch", "p_value")),
    ("Mann-Whitney, percent change", ("percent_change", "mann_whitney", "p_value")),
]


def get(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def one_cohort(lv, work, seed, subjects, threads):
    data = os.path.join(work, "data")
    out = os.path.join(work, "out")
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([lv, "simulate", "-o", data, "-n", str(subjects), "--sessions", "2",
                    "--effect", "0", "--dims", "32x38x32", "--voxel-size", "6",
                    "--seed", str(seed), "--threads", str(threads), "-q"], check=True)
    subprocess.run([lv, "cohort", os.path.join(data, "cohort.tsv"), "-o", out,
                    "--threads", str(threads), "-q"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "comparison.json")) as f:
        sessions = json.load(f)["sessions"]
    return [get(sessions[0], path) for _, path in TESTS]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--lesionvol", default=os.path.join(here, "..", "build", "lesionvol"))
    ap.add_argument("--cohorts", type=int, default=200)
    ap.add_argument("--subjects", type=int, default=20)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--workdir", default="")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="lv-null-")
    os.makedirs(work, exist_ok=True)
    rejected = [0] * len(TESTS)
    counted = [0] * len(TESTS)
    try:
        for seed in range(1, args.cohorts + 1):
            for i, p in enumerate(one_cohort(args.lesionvol, work, seed, args.subjects,
                                             args.threads)):
                if p is not None:
                    counted[i] += 1
                    rejected[i] += p < args.alpha
            if seed % 20 == 0:
                print("%d/%d cohorts" % (seed, args.cohorts), file=sys.stderr)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("%d null cohorts (effect 0) of %d participants x 2 sessions; rejections at "
          "alpha = %g\n" % (args.cohorts, args.subjects, args.alpha))
    print("| test | rejected | rate | 95% CI | alpha inside |")
    print("|---|---|---|---|---|")
    for (name, _), k, n in zip(TESTS, rejected, counted):
        if n == 0:
            print("| %s | - | - | - | no p-value |" % name)
            continue
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        inside = ci.low <= args.alpha <= ci.high
        print("| %s | %d/%d | %.3f | %.3f-%.3f | %s |" % (
            name, k, n, k / n, ci.low, ci.high, "yes" if inside else "NO"))


if __name__ == "__main__":
    main()
