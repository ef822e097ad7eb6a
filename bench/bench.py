#!/usr/bin/python3
"""bench.py: time lesionvol against its peers and the inflate floor (issue 9).

usage: bench.py --lesionvol PATH --data DIR [--runs N] [--json FILE]

Every tool runs on the same files in one run, alternating (run 1 of every
tool on every input, then run 2, ...), after one untimed warm-up run whose
output is checked for agreement. Wall time is measured around fork/exec and
wait4(); peak memory is the child's ru_maxrss (for a pipeline, the largest
process of it). Medians are printed with the ratios the issue's targets use.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nibabel as nib

HERE = os.path.dirname(os.path.abspath(__file__))

# (key, file, threshold, description)
CASES = [
    ("t1_1mm", "t1_1mm_uint8.nii.gz", 100, "real T1, 1 mm, uint8 (mricron ch2), >= 100"),
    ("t1_05mm", "t1_05mm_int16.nii.gz", 100, "same T1 at 0.5 mm, int16, >= 100"),
    ("prob_1mm", "prob_1mm_float32.nii.gz", 0.5, "lesion probability map, 1 mm, float32, >= 0.5"),
    ("prob_05mm", "prob_05mm_float32.nii.gz", 0.5, "same map at 0.5 mm, float32, >= 0.5"),
    ("lesion_1mm", "lesion_1mm_float32.nii.gz", 0.5, "real lesion mask (LESYMAP), 1 mm, float32, >= 0.5"),
    ("lesion_ms", "lesion_ms_native_int16.nii.gz", 0.5, "real MS lesion mask, native 0.47 mm, int16, >= 0.5"),
]


def peer_env():
    """The environment for the Python peer: without the OpenBLAS overrides
    that slow a current numpy here (they are set for old-OpenBLAS safety)."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def timed(argv, stdout=subprocess.DEVNULL, shell=False, env=None):
    """Run argv once; return (wall seconds, peak RSS MiB, exit code, stdout,
    CPU seconds (user + system))."""
    out = tempfile.TemporaryFile() if stdout is None else stdout
    # Peak memory through /usr/bin/time: a child forked from this Python
    # process starts with its pages, so its own ru_maxrss would never be
    # below this script's (about 56 MiB with nibabel loaded).
    fd, rss_file = tempfile.mkstemp(prefix="lv-rss-")
    os.close(fd)
    if shell:
        argv = ["sh", "-c", argv]
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + list(argv)
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    with open(rss_file) as f:
        lines = [line for line in f.read().split() if line.isdigit()]
    os.unlink(rss_file)
    mib = int(lines[-1]) / 1024.0 if lines else float("nan")
    text = ""
    if stdout is None:
        out.seek(0)
        text = out.read().decode(errors="replace")
        out.close()
    return wall, mib, p.returncode, text, ru.ru_utime + ru.ru_stime


def lv_counts(text):
    doc = json.loads(text)
    if isinstance(doc, list):
        doc = doc[0]
    if "summary" in doc:
        doc = doc["summary"]
    return int(doc["lesion_voxels"]), int(doc["n_components"])


def kv_counts(text):
    kv = dict(line.split(None, 1) for line in text.splitlines() if line.strip())
    return int(kv["lesion_voxels"]), int(kv["n_components"])


def mrtrix_counts(text):
    nums = text.split()
    # mrstats -output count -output max prints "count max": count of non-zero
    # voxels, and the largest label, which is the number of components
    return int(float(nums[0])), int(float(nums[1]))


def make_tools(args):
    """name -> (argv builder(path, thr) or None, counts parser, env)."""
    tools = {}
    lv = args.lesionvol
    if subprocess.run([lv, "measure", "--help"], capture_output=True).returncode == 0:
        extra = args.lesionvol_args.split() if args.lesionvol_args else []
        tools["lesionvol"] = (lambda f, t: [lv, "measure", f, "--thr", str(t),
                                            "--connectivity", "26", "--format", "json"] + extra,
                              lv_counts, None, False)
    else:
        print("note: `lesionvol measure` is not built yet; its column is empty", file=sys.stderr)
        tools["lesionvol"] = None
    tools["nibabel+scipy"] = (lambda f, t: ["/usr/bin/python3", os.path.join(HERE, "peer_scipy.py"), f, str(t)],
                              kv_counts, peer_env(), False)
    if shutil.which("mrthreshold"):
        # -comparison ge makes MRtrix3 keep value >= thr, as the others do
        tools["MRtrix3"] = (lambda f, t: (
            f"mrthreshold -quiet '{f}' -abs {t} -comparison ge - | "
            f"maskfilter -quiet - connect -connectivity - | "
            f"mrstats -quiet - -ignorezero -output count -output max"),
            mrtrix_counts, None, True)
    else:
        tools["MRtrix3"] = None
    tools["igzip -dc"] = ((lambda f, t: ["igzip", "-dc", f]), None, None, False) if shutil.which("igzip") else None
    tools["libdeflate-gunzip -c"] = ((lambda f, t: ["libdeflate-gunzip", "-c", f]), None, None, False) \
        if shutil.which("libdeflate-gunzip") else None
    return tools


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")}


def fmt_s(x):
    return "n/a" if x is None else (f"{x:.3f} s" if x < 10 else f"{x:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lesionvol", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cohort-runs", type=int, default=3)
    ap.add_argument("--peer-runs", type=int, default=0,
                    help="timed runs of the (slow) peers; default: --runs")
    ap.add_argument("--lesionvol-args", default="", help="extra arguments for lesionvol measure")
    ap.add_argument("--only", default="", help="comma-separated case keys")
    ap.add_argument("--tools", default="", help="comma-separated tool names (default: all)")
    ap.add_argument("--json", default="")
    args = ap.parse_args()

    load0 = os.getloadavg()[0]
    tools = make_tools(args)
    if args.tools:
        keep = args.tools.split(",")
        tools = {k: (v if k in keep else None) for k, v in tools.items()}
    cases = [c for c in CASES if not args.only or c[0] in args.only.split(",")]
    results = {c[0]: {} for c in cases}
    info = {}
    for key, name, thr, desc in cases:
        path = os.path.join(args.data, name)
        img = nib.load(path)
        n = 1
        for d in img.shape[:3]:
            n *= d
        info[key] = {"voxels": n, "stored_bytes": n * img.get_data_dtype().itemsize,
                     "gz_bytes": os.path.getsize(path), "desc": desc}

    # warm-up: page cache, and the answers must agree
    agree = {}
    for key, name, thr, _ in cases:
        path = os.path.join(args.data, name)
        answers = {}
        for tname, tool in tools.items():
            if tool is None:
                continue
            build, parse, env, shell = tool
            _, _, rc, text, _ = timed(build(path, thr), stdout=None if parse else subprocess.DEVNULL,
                                   shell=shell, env=env)
            if rc != 0:
                print(f"warning: {tname} failed on {name} (exit {rc})", file=sys.stderr)
                results[key][tname] = {"error": rc}
                continue
            if parse:
                try:
                    answers[tname] = parse(text)
                except Exception as e:  # report, do not hide
                    print(f"warning: cannot parse {tname} output on {name}: {e}", file=sys.stderr)
        agree[key] = answers
        print(f"{key}: (voxels, components) = {answers}", file=sys.stderr)

    peer_runs = args.peer_runs or args.runs
    for r in range(args.runs):
        for key, name, thr, _ in cases:
            path = os.path.join(args.data, name)
            for tname, tool in tools.items():
                if tool is None or "error" in results[key].get(tname, {}):
                    continue
                if tname in ("nibabel+scipy", "MRtrix3") and r >= peer_runs:
                    continue
                build, _, env, shell = tool
                wall, mib, rc, _, cpu = timed(build(path, thr), shell=shell, env=env)
                rec = results[key].setdefault(tname, {"wall": [], "mib": [], "cpu": []})
                rec["wall"].append(wall)
                rec["mib"].append(mib)
                rec["cpu"].append(cpu)
        print(f"run {r + 1}/{args.runs} done", file=sys.stderr)

    def med(key, tname, what):
        rec = results[key].get(tname)
        if not rec or "wall" not in rec:
            return None
        return statistics.median(rec[what])

    peers = ["nibabel+scipy", "MRtrix3"]
    floors = ["igzip -dc", "libdeflate-gunzip -c"]
    print()
    print("| input (.nii.gz) | voxels | lesionvol | nibabel+scipy | MRtrix3 | igzip -dc / libdeflate-gunzip -c | lesionvol / igzip | fastest peer / lesionvol | memory target |")
    print("|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for key, _, _, _ in cases:
        inf = info[key]
        cells = []
        for t in ["lesionvol"] + peers:
            w, m = med(key, t, "wall"), med(key, t, "mib")
            cells.append("n/a" if w is None else f"{fmt_s(w)}, {m:.0f} MiB")
        fl = " / ".join(fmt_s(med(key, t, "wall")) for t in floors)
        lv = med(key, "lesionvol", "wall")
        ig = med(key, "igzip -dc", "wall")
        peer_best = min([w for w in (med(key, p, "wall") for p in peers) if w is not None], default=None)
        target_mib = (inf["stored_bytes"] + inf["voxels"]) / 2**20 + 32
        lv_mib = med(key, "lesionvol", "mib")
        r_floor = f"{lv / ig:.2f}x" if lv and ig else "n/a"
        r_peer = f"{peer_best / lv:.1f}x" if lv and peer_best else "n/a"
        mem = f"<= {target_mib:.0f} MiB" + (f" ({'met' if lv_mib <= target_mib else 'missed'})" if lv_mib else "")
        print(f"| {inf['desc']} | {inf['voxels'] / 1e6:.1f} M | {cells[0]} | {cells[1]} | {cells[2]} | {fl} "
              f"| {r_floor} | {r_peer} | {mem} |")
        summary[key] = {"info": inf, "median_wall": {t: med(key, t, "wall") for t in tools},
                        "median_mib": {t: med(key, t, "mib") for t in tools},
                        "answers": agree.get(key)}

    cohort = run_cohort(args)
    mach = machine()
    print()
    load1 = os.getloadavg()[0]
    mach["load"] = [load0, load1]
    runs = f"{args.runs} runs" if peer_runs == args.runs else \
        f"{args.runs} runs of lesionvol and the floors, {peer_runs} of the peers"
    print(f"machine: {mach['nproc']} cores, {mach['cpu']}, {mach['memory_gib']} GiB; "
          f"{mach['date']}; medians of {runs}; load average {load0:.1f} at start, "
          f"{load1:.1f} at end")
    if load0 > 0.5:
        print("warning: the machine was busy (load average above 0.5 at the start): times are inflated "
              "and ratios are less reliable; rerun on a quiet machine")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": mach, "runs": args.runs, "cases": summary,
                       "raw": results, "cohort": cohort}, f, indent=1)


def run_cohort(args):
    lv = args.lesionvol
    manifest = os.path.join(args.data, "soop", "manifest.tsv")
    if args.cohort_runs < 1:
        return None
    if subprocess.run([lv, "cohort", "--help"], capture_output=True).returncode != 0:
        print("\ncohort: `lesionvol cohort` is not built yet; skipped")
        return None
    with open(manifest) as f:
        n_scans = sum(1 for _ in f) - 1
    walls = {1: [], 2: []}
    # Every run writes a fresh folder, as a study does; they are removed only
    # at the end: ext4 searches past recently deleted inodes when it creates
    # new ones (find_inode_bit/recently_deleted), so deleting 3,000 files
    # right before a run slowed its mkdir()s, serially, by up to 10%.
    keep = tempfile.mkdtemp(prefix="lv-cohort-")
    try:
        for r in range(args.cohort_runs):
            for threads in (1, 2):
                out = os.path.join(keep, f"run{r}-{threads}")
                wall, mib, rc, _, _ = timed([lv, "cohort", manifest, "-o", out, "--threads", str(threads)])
                if rc != 0:
                    print(f"\ncohort: failed with exit {rc} at --threads {threads}")
                    return None
                walls[threads].append(wall)
    finally:
        shutil.rmtree(keep, ignore_errors=True)
    m1, m2 = statistics.median(walls[1]), statistics.median(walls[2])
    print(f"\ncohort over {n_scans} real SOOP masks: --threads 1 {m1:.2f} s ({n_scans / m1:.0f} scans/s), "
          f"--threads 2 {m2:.2f} s ({n_scans / m2:.0f} scans/s), speed-up {m1 / m2:.2f}x "
          f"(medians of {args.cohort_runs})")
    return {"n_scans": n_scans, "wall_1": m1, "wall_2": m2}


if __name__ == "__main__":
    main()
