"""cli.snakemake_example: examples/snakemake/ runs unchanged, on 2 cores, on
a simulated cohort, and its group outputs are byte for byte those of one
`lesionvol cohort` run; a changed image reruns that participant and the
group only. Then the same workflow through profiles/slurm, with a fake
sbatch that runs each job script in the background and a fake sacct that
reports how it ended. Skipped (77) when
snakemake is not installed (Debian: apt-get install snakemake)."""
import gzip
import os
import re
import shutil
import subprocess
import sys

import lvscaleout as lv
from lvtest import sanitized, skip, tmpdir

EXAMPLE = os.path.join(lv.SOURCE, "examples", "snakemake")

# sbatch --parsable ... JOBSCRIPT: runs the script detached, its exit code
# lands in $FAKE_SLURM_DIR/JOBID.rc
FAKE_SBATCH = r'''#!/usr/bin/python3
import itertools, os, subprocess, sys
state = os.environ["FAKE_SLURM_DIR"]
args = sys.argv[1:]
script = args[-1]
opts = dict(a[2:].partition("=")[::2] for a in args[:-1] if a.startswith("--"))
for n in itertools.count(5000):
    try:
        os.mkdir(os.path.join(state, str(n)))
        break
    except FileExistsError:
        pass
log = opts.get("output", "slurm-%j.out").replace("%j", str(n))
env = dict(os.environ, SLURM_JOB_ID=str(n), SLURM_CPUS_PER_TASK=opts["cpus-per-task"])
with open(os.path.join(state, str(n), "options"), "w") as f:
    f.write(" ".join(args[:-1]))
rc = os.path.join(state, "%d.rc" % n)
subprocess.Popen(["sh", "-c", 'sh "$0" >"$1" 2>&1; echo $? >"$2.tmp" && mv "$2.tmp" "$2"',
                  script, log, rc], env=env, start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
print(n)
'''

# sacct -j JOBID -X -n -P -o State
FAKE_SACCT = r'''#!/bin/sh
[ "$1" = -j ] || exit 2
id=$2
rc="$FAKE_SLURM_DIR/$id.rc"
if [ ! -e "$rc" ]; then echo RUNNING; elif [ "$(cat "$rc")" = 0 ]; then echo COMPLETED;
else echo FAILED; fi
'''


def snakemake(args, cwd, env=None, timeout=300):
    p = subprocess.run(["snakemake"] + args, cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, "snakemake %s: exit %d\n%s\n%s" % (
        " ".join(args), p.returncode, p.stdout[-3000:], p.stderr[-6000:])
    return p.stdout + p.stderr


def config(data, out):
    return ["--config", "bids_dir=" + data, "out_dir=" + out,
            "lesionvol=" + os.path.abspath(lv.LESIONVOL)]


def executed_rules(log):
    """Rule names of the jobs a snakemake log says it ran, sorted."""
    return sorted(re.findall(r"^(?:local)?rule (\w+):", log, re.M))


def local_run(root, data, reference):
    work = os.path.join(root, "work")
    os.makedirs(work)
    out = os.path.join(work, "results")
    args = ["--snakefile", os.path.join(EXAMPLE, "Snakefile"), "--cores", "2"] + \
        config(data, out)
    log = snakemake(args, work)
    n = len(lv.participant_labels(data))
    assert executed_rules(log) == ["all", "group"] + ["participant"] * n, log
    diff = lv.group_differences(out, reference)
    assert not diff, "snakemake's group outputs differ from the cohort run: %s" % diff
    assert lv.provenance_core(out) == lv.provenance_core(reference)
    for label in lv.participant_labels(data):
        with open(os.path.join(work, "logs", "participant", "sub-%s.log" % label)) as f:
            text = f.read()
        assert "1 participant (0 up to date), 0 failed" in text, (label, text)


    # a changed image (the same voxels, compressed differently: snakemake
    # compares the checksums of small files, not only their times) reruns
    # its participant and the group, to the same tables
    label = lv.participant_labels(data)[3]
    image = os.path.join(data, "sub-" + label, "ses-02", "anat",
                         "sub-%s_ses-02_label-lesion_mask.nii.gz" % label)
    before = lv.read(image)
    with open(image, "wb") as f:
        f.write(gzip.compress(gzip.decompress(before), compresslevel=1, mtime=1))
    assert lv.read(image) != before
    log = snakemake(args, work)
    assert executed_rules(log) == ["all", "group", "participant"], log
    assert "sub-%s_lesionvol.json" % label in log
    assert not lv.group_differences(out, reference)
    return out


def slurm_profile_run(root, data, done, reference):
    """Two participants and the group left to do (the others' results are
    copies of DONE's, newer than their inputs), through the profile."""
    bin_dir = os.path.join(root, "fake-bin")
    state = os.path.join(root, "fake-slurm")
    os.makedirs(bin_dir)
    os.makedirs(state)
    for name, text in (("sbatch", FAKE_SBATCH), ("sacct", FAKE_SACCT)):
        with open(os.path.join(bin_dir, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(bin_dir, name), 0o755)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"],
               FAKE_SLURM_DIR=state)
    work = os.path.join(root, "work-slurm")
    os.makedirs(work)
    out = os.path.join(work, "results")
    shutil.copytree(done, out)
    labels = lv.participant_labels(data)
    for name in os.listdir(out):
        if not name.startswith("sub-"):
            os.unlink(os.path.join(out, name))
    todo = labels[1], labels[4]
    for label in todo:
        os.unlink(os.path.join(out, "sub-" + label, "sub-%s_lesionvol.json" % label))
    profile = os.path.join(EXAMPLE, "profiles", "slurm")
    log = snakemake(["--snakefile", os.path.join(EXAMPLE, "Snakefile"), "--profile", profile,
                     "--max-status-checks-per-second", "20", "--latency-wait", "5"]
                    + config(data, out), work, env=env)
    jobs = sorted(d for d in os.listdir(state) if d.isdigit())
    assert len(jobs) == len(todo) + 1, (jobs, log)
    assert executed_rules(log) == ["all", "group", "participant", "participant"], log
    for j in jobs:
        with open(os.path.join(state, j + ".rc")) as f:
            assert f.read().strip() == "0", j
        with open(os.path.join(state, j, "options")) as f:
            opts = f.read()
        assert "--cpus-per-task=1 --mem=2000 --time=30" in opts, opts
        assert os.path.exists(os.path.join(work, "logs", "slurm", "%s-%s.out" % (
            "group" if "lesionvol-group" in opts else "participant", j))), opts
    diff = lv.group_differences(out, reference)
    assert not diff, "the SLURM profile's group outputs differ: %s" % diff


def main():
    if not shutil.which("snakemake"):
        skip("snakemake is not installed (apt-get install snakemake)")
    if not os.access(lv.LESIONVOL, os.X_OK):
        skip("LESIONVOL is not set to the built program (run through ctest)")
    if sanitized():
        # this checks the workflow, not the program's memory safety, and
        # snakemake is slow to start: once per CI job is enough
        skip("the Snakemake example runs in the plain build only")
    root = tmpdir()
    data = lv.simulated_cohort(root)
    reference = lv.cohort_reference(data, os.path.join(root, "cohort-out"))
    done = local_run(root, data, reference)
    slurm_profile_run(root, data, done, reference)
    print("ok")


if __name__ == "__main__":
    main()
    sys.exit(0)
