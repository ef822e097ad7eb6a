"""cli.scaleout: participant jobs run apart (examples/slurm/ under a fake
sbatch: array tasks in a shuffled order, some twice, some at the same time,
from a copy of the script as SLURM runs it) and the group level after them
give byte for byte the tables of one `lesionvol cohort` run; any order gives
the same per-participant files; the group level reads nothing but OUT_DIR
(a dataset of empty images will do); a participant job that died part-way,
also mid-write, leaves nothing the group level takes for a result, and
running it again completes the study."""
import json
import os
import random
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time

import lvscaleout as lv
import lvtest
from lvtest import skip, tmpdir

SLURM = os.path.join(lv.SOURCE, "examples", "slurm")

# sbatch that queues instead of running: each call appends the job to
# $FAKE_SLURM_DIR/jobs.json and prints its id as `sbatch --parsable` does
FAKE_SBATCH = r'''#!/usr/bin/python3
import json, os, sys
path = os.path.join(os.environ["FAKE_SLURM_DIR"], "jobs.json")
args, opts = sys.argv[1:], {}
while args and args[0].startswith("--"):
    key, _, value = args.pop(0)[2:].partition("=")
    opts[key] = value
jobs = json.load(open(path)) if os.path.exists(path) else []
job = {"id": str(4000 + len(jobs)), "options": opts, "script": os.path.abspath(args[0]),
       "args": args[1:], "cwd": os.getcwd()}
jobs.append(job)
json.dump(jobs, open(path, "w"))
print(job["id"] + ";fakecluster" if "parsable" in opts else "Submitted batch job " + job["id"])
'''


def fake_slurm(root):
    """PATH and environment under which `sbatch` is the fake one."""
    bin_dir = os.path.join(root, "fake-bin")
    state = os.path.join(root, "fake-slurm")
    os.makedirs(bin_dir)
    os.makedirs(state)
    sbatch = os.path.join(bin_dir, "sbatch")
    with open(sbatch, "w") as f:
        f.write(FAKE_SBATCH)
    os.chmod(sbatch, 0o755)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"],
               FAKE_SLURM_DIR=state, LESIONVOL=os.path.abspath(lv.LESIONVOL))
    return env, os.path.join(state, "jobs.json")


def job_env(job, base, task=None):
    """The environment SLURM gives a job: --export=ALL,K=V... plus its ids."""
    env = dict(base)
    export = job["options"].get("export", "ALL").split(",")
    assert export[0] == "ALL", export
    env.update(kv.split("=", 1) for kv in export[1:])
    env.update(SLURM_JOB_ID=job["id"], SLURM_CPUS_PER_TASK="1", SLURM_SUBMIT_DIR=job["cwd"])
    if task is not None:
        env.update(SLURM_ARRAY_JOB_ID=job["id"], SLURM_ARRAY_TASK_ID=str(task))
    return env


def start(job, base, spool, task=None):
    """Start JOB (task TASK of an array) as slurmd does: a copy of the script
    in a spool folder, run in the submission folder."""
    d = os.path.join(spool, "job%s_%s" % (job["id"], task))
    os.makedirs(d, exist_ok=True)
    script = os.path.join(d, "slurm_script")
    shutil.copy(job["script"], script)
    os.chmod(script, stat.S_IRWXU)
    return subprocess.Popen([script] + job["args"], cwd=job["cwd"],
                            env=job_env(job, base, task), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def array_tasks(job):
    spec = job["options"]["array"]
    first, last = spec.split("%")[0].split("-")
    return list(range(int(first), int(last) + 1))


def slurm_array_in_any_order(root, data, reference):
    env, jobs_file = fake_slurm(root)
    out = os.path.join(root, "slurm-out")
    p = subprocess.run([os.path.join(SLURM, "submit.sh"), data, out, "--threads", "1"],
                       cwd=root, env=dict(env, ARRAY_MAX="4"), capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    with open(jobs_file) as f:
        jobs = json.load(f)
    # 6 participants in arrays of at most 4 tasks, then the group after both
    arrays, group = jobs[:-1], jobs[-1]
    assert [a["options"]["array"] for a in arrays] == ["1-4", "1-2"], jobs
    assert [a["options"]["export"].rsplit(",", 1)[1] for a in arrays] == \
        ["LESIONVOL_ARRAY_OFFSET=0", "LESIONVOL_ARRAY_OFFSET=4"]
    assert all(a["script"].endswith("participant.sbatch") for a in arrays)
    assert group["script"].endswith("group.sbatch")
    assert group["options"]["dependency"] == "afterok:%s:%s" % (arrays[0]["id"],
                                                               arrays[1]["id"]), group
    assert group["options"]["kill-on-invalid-dep"] == "yes"
    assert group["args"] == arrays[0]["args"] == [data, out, "--threads", "1"]
    assert p.stdout.count("job array") == 2 and "job " + group["id"] in p.stdout, p.stdout

    # every task, shuffled; two run twice, one of them twice at the same time
    rng = random.Random(2024)
    tasks = [(a, t) for a in arrays for t in array_tasks(a)]
    rng.shuffle(tasks)
    tasks += [tasks[2], tasks[4]]
    waves = [tasks[0:3] + [tasks[0]], tasks[3:6], tasks[6:]]
    spool = os.path.join(root, "spool")
    seen = {}
    for wave in waves:
        procs = [(a, t, start(a, env, spool, t)) for a, t in wave]
        for a, t, proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            label = err.split(" is sub-", 1)[1].split()[0]
            seen.setdefault(label, set()).add((a["id"], t))
    labels = lv.participant_labels(data)
    assert sorted(seen) == sorted(labels), seen
    assert all(len(v) == 1 for v in seen.values()), "two tasks did one participant"
    # the participant level writes nothing but sub-<label>/<its JSON>
    assert sorted(os.listdir(out)) == ["sub-" + s for s in sorted(labels)]
    for d in os.listdir(out):
        assert os.listdir(os.path.join(out, d)) == [d + "_lesionvol.json"], d

    proc = start(group, env, spool)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    diff = lv.group_differences(out, reference)
    assert not diff, "group outputs differ from the cohort run: %s" % diff
    assert lv.provenance_core(out) == lv.provenance_core(reference)
    return out


def sequential_reverse_order(root, data, labels, slurm_out):
    """Plain `lesionvol bids` jobs one after the other, last participant
    first: the same bytes as the shuffled, repeated, concurrent run."""
    out = os.path.join(root, "reverse-out")
    for label in reversed(labels):
        lv.lesionvol("bids", data, out, "participant", "--participant-label", label, "-q")
    lv.lesionvol("bids", data, out, "group", "-q")
    a, b = lv.participant_files(out), lv.participant_files(slurm_out)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], "%s depends on the order of the jobs" % name
    assert not lv.group_differences(out, slurm_out)
    assert lv.provenance_core(out) == lv.provenance_core(slurm_out)


def group_reads_only_out_dir(root, data, slurm_out, reference):
    """The group level on a copy of the dataset whose images are empty files:
    it must not need them."""
    skeleton = os.path.join(root, "skeleton")
    for base, _, names in os.walk(data):
        rel = os.path.relpath(base, data)
        os.makedirs(os.path.join(skeleton, rel), exist_ok=True)
        for n in names:
            src, dst = os.path.join(base, n), os.path.join(skeleton, rel, n)
            if n.endswith(".tsv"):
                shutil.copy(src, dst)
            elif "_label-lesion_mask" in n:
                open(dst, "wb").close()
    out = os.path.join(root, "skeleton-out")
    shutil.copytree(slurm_out, out)
    for name in lv.GROUP_FILES + ("provenance.json",):
        if os.path.exists(os.path.join(out, name)):
            os.unlink(os.path.join(out, name))
    lv.lesionvol("bids", skeleton, out, "group", "-q")
    diff = lv.group_differences(out, reference)
    assert not diff, "the group level needs more than OUT_DIR: %s differ" % diff


def assert_missing_only(out, reference, label, why):
    """OUT's tables are the reference's, except that participant LABEL has
    status 'error' with message WHY and no numbers."""
    for table in ("timepoints.tsv", "changes.tsv"):
        got = lv.tsv_rows(os.path.join(out, table))
        want = lv.tsv_rows(os.path.join(reference, table))
        assert len(got) == len(want), table
        for g, w in zip(got, want):
            if g["participant_id"] != "sub-" + label:
                assert g == w, (table, g, w)
                continue
            assert g["status"] == "error" and why in g["message"], g
            numbers = [k for k in ("lesion_voxels", "lesion_volume_mm3", "volume_mm3",
                                   "delta_mm3") if k in g]
            assert numbers and all(g[k] == "n/a" for k in numbers), g


def died_mid_write(root, data, labels, reference):
    """A participant job killed while writing its JSON (a file size limit
    stops it after 200 bytes, as SIGKILL would) leaves only a temporary
    file; the group level reports that participant as missing; a rerun
    removes the leftover and completes the study."""
    out = os.path.join(root, "killed-out")
    for label in labels:
        lv.lesionvol("bids", data, out, "participant", "--participant-label", label, "-q")
    victim = labels[1]
    folder = os.path.join(out, "sub-" + victim)
    os.unlink(os.path.join(folder, "sub-%s_lesionvol.json" % victim))

    def limit_writes():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    p = subprocess.run([lv.LESIONVOL, "bids", data, out, "participant",
                        "--participant-label", victim, "-q"], preexec_fn=limit_writes,
                       capture_output=True, text=True)
    assert p.returncode == -signal.SIGXFSZ, (p.returncode, p.stderr)
    left = os.listdir(folder)
    assert len(left) == 1 and lvtest.is_temp(left[0]), left
    assert os.path.getsize(os.path.join(folder, left[0])) == 200
    p = lv.lesionvol("bids", data, out, "group", check=False)
    assert p.returncode == 3, p.stderr
    assert_missing_only(out, reference, victim, "no result")
    lv.lesionvol("bids", data, out, "participant", "--participant-label", victim, "-q")
    assert os.listdir(folder) == ["sub-%s_lesionvol.json" % victim]
    lv.lesionvol("bids", data, out, "group", "-q")
    assert not lv.group_differences(out, reference)
    return out


def killed_at_any_time(root, data, labels, done_out, reference):
    """SIGKILL at a sweep of moments through a participant job: its JSON is
    then absent or the complete one, never anything else; the group level
    gives the reference or reports the participant missing."""
    victim = labels[-1]
    folder = os.path.join(done_out, "sub-" + victim)
    json_path = os.path.join(folder, "sub-%s_lesionvol.json" % victim)
    complete = lv.read(json_path)
    t0 = time.monotonic()
    lv.lesionvol("bids", data, done_out, "participant", "--participant-label", victim,
                 "--force", "-q")
    duration = time.monotonic() - t0
    outcomes = {"absent": 0, "complete": 0}
    for k in range(16):
        if os.path.exists(json_path):
            os.unlink(json_path)
        proc = subprocess.Popen([lv.LESIONVOL, "bids", data, done_out, "participant",
                                 "--participant-label", victim, "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * k / 12)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for name in os.listdir(folder):
            assert name == os.path.basename(json_path) or lvtest.is_temp(name), name
        if os.path.exists(json_path):
            assert lv.read(json_path) == complete, "a killed job left a different result"
            outcomes["complete"] += 1
            continue
        outcomes["absent"] += 1
        p = lv.lesionvol("bids", data, done_out, "group", check=False)
        assert p.returncode == 3, p.stderr
        assert_missing_only(done_out, reference, victim, "no result")
    assert outcomes["absent"] > 0, "every job finished before SIGKILL: %s" % outcomes
    # and redone: the study is complete again
    lv.lesionvol("bids", data, done_out, "participant", "-q")
    assert lv.read(json_path) == complete
    lv.lesionvol("bids", data, done_out, "group", "-q")
    assert not lv.group_differences(done_out, reference)
    return outcomes


def bad_participant_does_not_block_the_array(root, data):
    """participant.sbatch: a participant lesionvol cannot measure (exit 3)
    is a successful task, so the group job (afterok) still runs and lists
    it; a task number past the last participant is an error. group.sbatch:
    some participants failed is a success, none measured a failure."""
    broken = os.path.join(root, "broken")
    shutil.copytree(data, broken)
    labels = lv.participant_labels(broken)
    mask = os.path.join(broken, "sub-" + labels[2], "ses-02", "anat",
                        "sub-%s_ses-02_label-lesion_mask.nii.gz" % labels[2])
    with open(mask, "r+b") as f:
        f.truncate(100)
    out = os.path.join(root, "broken-out")
    job = {"id": "77", "options": {"export": "ALL"},
           "script": os.path.join(SLURM, "participant.sbatch"), "args": [broken, out],
           "cwd": root}
    env = dict(os.environ, LESIONVOL=os.path.abspath(lv.LESIONVOL))
    spool = os.path.join(root, "spool-broken")
    for task in range(1, len(labels) + 1):
        proc = start(job, env, spool, task)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert ("sub-%s has status 'error'" % labels[2] in err) == (task == 3), err
    proc = start(job, env, spool, len(labels) + 1)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "no participant number %d" % (len(labels) + 1) in err, err
    # some failed (lesionvol's exit code 3): the group job succeeds, its
    # log says so
    gjob = dict(job, script=os.path.join(SLURM, "group.sbatch"))
    proc = start(gjob, env, spool)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "some participants have status 'error'" in err, err
    rows = [r for r in lv.tsv_rows(os.path.join(out, "timepoints.tsv"))
            if r["status"] != "ok"]
    assert {r["participant_id"] for r in rows} == {"sub-" + labels[2]}, rows
    # all failed (no participant has a result): exit code 1, a failed job
    os.makedirs(os.path.join(root, "broken-none"))
    empty = dict(gjob, args=[broken, os.path.join(root, "broken-none")])
    proc = start(empty, env, spool)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "no participant could be measured" in err, err


def main():
    if not os.access(lv.LESIONVOL, os.X_OK):
        skip("LESIONVOL is not set to the built program (run through ctest)")
    root = tmpdir()
    data = lv.simulated_cohort(root)
    # a byte-order mark and CRLF line ends, as spreadsheets write them
    tsv = os.path.join(data, "participants.tsv")
    with open(tsv, encoding="utf-8") as f:
        text = f.read()
    with open(tsv, "w", encoding="utf-8-sig", newline="") as f:
        f.write(text.replace("\n", "\r\n"))
    labels = lv.participant_labels(data)
    reference = lv.cohort_reference(data, os.path.join(root, "cohort-out"))

    slurm_out = slurm_array_in_any_order(root, data, reference)
    sequential_reverse_order(root, data, labels, slurm_out)
    group_reads_only_out_dir(root, data, slurm_out, reference)
    killed_out = died_mid_write(root, data, labels, reference)
    outcomes = killed_at_any_time(root, data, labels, killed_out, reference)
    bad_participant_does_not_block_the_array(root, data)
    print("ok: %d participants; SIGKILL sweep: %d before the result, %d after"
          % (len(labels), outcomes["absent"], outcomes["complete"]))


if __name__ == "__main__":
    main()
    sys.exit(0)
