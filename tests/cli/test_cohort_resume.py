"""cli.cohort_resume: a cohort run killed with SIGKILL part-way and started
again ends with outputs byte-identical to an uninterrupted run (apart from
the times in provenance.json), without recomputing the participants already
done; a third run recomputes nothing; --force recomputes everything."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import lvcohort as lv
import lvtest

N = 36


def json_files(out):
    return sorted(glob.glob(os.path.join(out, "sub-*", "sub-*_lesionvol.json")))


def mtimes(out):
    return {p: os.stat(p).st_mtime_ns for p in json_files(out)}


def provenance_without_times(tree):
    doc = json.loads(tree.pop("provenance.json"))
    doc.pop("started")
    doc.pop("finished")
    return doc


def assert_same_outputs(got, want):
    pg, pw = provenance_without_times(got), provenance_without_times(want)
    assert pg == pw, (pg, pw)
    assert sorted(got) == sorted(want), (sorted(set(got) ^ set(want)))
    for name in want:
        assert got[name] == want[name], "%s differs from the uninterrupted run" % name


def main():
    root = lv.tmpdir()
    manifest = lv.make_cohort(root, n_subjects=N, shape=(48, 48, 32), seed=3)
    out = os.path.join(root, "out")
    args = [lv.LESIONVOL, "cohort", manifest, "-o", out, "--threads", "2"]

    # the reference: an uninterrupted run, moved aside so the killed run has
    # the very same command line
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    reference = lv.tree_files(out)
    os.rename(out, os.path.join(root, "reference"))

    # killed as soon as the first participant's file appears
    killed_part_way = False
    for attempt in range(5):
        lv.rmtree(out)
        p = subprocess.Popen(args[:5] + ["-q", "--threads", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while p.poll() is None and not json_files(out):
            time.sleep(0.001)
        p.send_signal(signal.SIGKILL)
        p.wait()
        done = mtimes(out)
        if 0 < len(done) < N:
            killed_part_way = True
            break
    assert killed_part_way, "the run always finished before SIGKILL; make the cohort bigger"
    assert not os.path.exists(os.path.join(out, "timepoints.tsv"))

    # started again: finishes, same bytes, the done ones were not recomputed
    time.sleep(0.02)  # a rewritten file would get a later mtime
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "(%d up to date)" % len(done) in r.stderr, r.stderr
    for path, t in done.items():
        assert os.stat(path).st_mtime_ns == t, "%s was recomputed" % path
    got = lv.tree_files(out)
    assert not [f for f in got if lvtest.is_temp(f)], "temporary files left behind"
    assert_same_outputs(got, dict(reference))

    # nothing to do the third time
    before = mtimes(out)
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0 and "(%d up to date)" % N in r.stderr, r.stderr
    assert mtimes(out) == before

    # a changed input is noticed by its size and times, and only it is redone
    victim = os.path.join(root, "sub-05", "ses-chronic", "anat",
                          "sub-05_ses-chronic_label-lesion_mask.nii.gz")
    os.utime(victim, ns=(time.time_ns(), time.time_ns()))
    time.sleep(0.02)
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0 and "(%d up to date)" % (N - 1) in r.stderr, r.stderr
    after = mtimes(out)
    changed = [p for p in after if after[p] != before[p]]
    assert changed == [os.path.join(out, "sub-05", "sub-05_lesionvol.json")], changed

    # --force recomputes all (and rewrites them: pipelines go by mtimes),
    # to the same numbers
    before = mtimes(out)
    tables = {f: reference[f] for f in ("timepoints.tsv", "changes.tsv", "groups.tsv")}
    time.sleep(0.02)
    r = subprocess.run(args + ["--force"], capture_output=True, text=True)
    assert r.returncode == 0 and "(0 up to date)" in r.stderr, r.stderr
    after = mtimes(out)
    assert all(after[p] != before[p] for p in before), "--force skipped some"
    for f, b in tables.items():
        assert lv.read_bytes(os.path.join(out, f)) == b, f
    lv.rmtree(root)
    print("ok: killed after %d of %d participants, resumed to identical outputs"
          % (len(done), N))


if __name__ == "__main__":
    main()
    sys.exit(0)
