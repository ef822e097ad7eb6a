#!/usr/bin/python3
"""cli.leftover_temps: every temporary file lesionvol makes is named
".lesionvol-SSSSSSSS-PID-XXXXXX.tmp" (process space: host name and PID
namespace; process id; random letters). A run killed during the group phase
leaves one in the output folder; the next run removes it and ends with the
outputs of an uninterrupted run. A sweep removes only temporaries whose
writer is dead (same process space, no such process) or that nobody touched
for an hour; a live writer's (here or on another machine), anything of
another form, a symlink or a folder of that form, stay."""
import json
import os
import resource
import signal
import socket
import subprocess
import time
import unittest

import lvcohort as lv
import lvtest


def process_space():
    """The 8 hex digits lesionvol puts in its temporaries' names here."""
    h = 2166136261
    data = socket.gethostname().encode()
    try:
        data += os.readlink("/proc/self/ns/pid").encode()
    except OSError:
        pass
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return "%08x" % h


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def tree_temps(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files
            if lvtest.is_temp(f)]


class LeftoverTemps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = lvtest.tmpdir()
        cls.manifest = lv.make_cohort(cls.root, n_subjects=6, shape=(24, 24, 12), seed=5)

    def test_leftover_temps__kill_in_group_phase_then_rerun_removes_it(self):
        ref = os.path.join(self.root, "reference")
        rc, _, err = lvtest.run(["cohort", self.manifest, "-o", ref, "-q"])
        self.assertEqual(rc, 0, err)
        # a file size limit above every participant's file and below the
        # group level's largest kills the run while the group level writes
        # that file, as SIGKILL would, at a moment known in advance
        part = max(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ref)
                   for f in fs if d != ref)
        group = max(os.path.getsize(os.path.join(ref, f)) for f in os.listdir(ref)
                    if os.path.isfile(os.path.join(ref, f)))
        self.assertGreater(group, part + 1)
        out = os.path.join(self.root, "killed")

        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (part + 1, part + 1))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        p = subprocess.run([lvtest.program(), "cohort", self.manifest, "-o", out, "-q"],
                           preexec_fn=limit, capture_output=True)
        self.assertEqual(p.returncode, -signal.SIGXFSZ, p.stderr)
        left = tree_temps(out)
        self.assertEqual([os.path.dirname(t) for t in left], [out], left)
        rc, _, err = lvtest.run(["cohort", self.manifest, "-o", out])
        self.assertEqual(rc, 0, err)
        self.assertIn("(6 up to date)", err)
        self.assertEqual(tree_temps(out), [])
        got, want = lv.tree_files(out), lv.tree_files(ref)
        for tree in (got, want):
            prov = json.loads(tree.pop("provenance.json"))
            self.assertIn("finished", prov)
        self.assertEqual(sorted(got), sorted(want))
        for name in want:
            self.assertEqual(got[name], want[name], name)

    def test_leftover_temps__only_dead_writers_temps_are_removed(self):
        folder = os.path.join(self.root, "shared")
        os.mkdir(folder)
        me = process_space()
        other = "%08x" % (int(me, 16) ^ 1)
        live = subprocess.Popen(["sleep", "60"])
        self.addCleanup(live.kill)
        names = {
            # removed: dead writer here; anybody's, untouched for two hours
            ".lesionvol-%s-%d-AbCd12.tmp" % (me, dead_pid()): False,
            ".lesionvol-%s-%d-old012.tmp" % (other, 4242): False,
            # kept: a live writer here, one elsewhere, and other names
            ".lesionvol-%s-%d-LiVe99.tmp" % (me, live.pid): True,
            ".lesionvol-%s-%d-NoDe01.tmp" % (other, dead_pid()): True,
            ".lesionvol-%s-%d-short.tmp" % (me, dead_pid()): True,
            "x.nii.gz.tmp.AbCd12": True,
            "notes.tmp": True,
            ".lesionvol-%s-%d-AbCd12.tmp.bak" % (me, dead_pid()): True,
        }
        for name in names:
            with open(os.path.join(folder, name), "w") as f:
                f.write("partial")
        two_hours_ago = time.time() - 7200
        os.utime(os.path.join(folder, ".lesionvol-%s-4242-old012.tmp" % other),
                 (two_hours_ago, two_hours_ago))
        # a symlink and a folder of the right form are never removed
        link = ".lesionvol-%s-%d-LiNk00.tmp" % (me, dead_pid())
        os.symlink("notes.tmp", os.path.join(folder, link))
        sub = ".lesionvol-%s-%d-DiR000.tmp" % (me, dead_pid())
        os.mkdir(os.path.join(folder, sub))
        names.update({link: True, sub: True})

        mask = os.path.join(lvtest.SOURCE, "sample_data", "sub-01", "ses-01", "anat",
                            "sub-01_ses-01_label-lesion_mask.nii.gz")
        rc, _, err = lvtest.run(["measure", mask, "--format", "tsv",
                                 "-o", os.path.join(folder, "result.tsv")])
        self.assertEqual(rc, 0, err)
        present = set(os.listdir(folder))
        for name, kept in names.items():
            self.assertEqual(name in present, kept, name)
        self.assertIn("result.tsv", present)
        self.assertEqual(len(present), sum(names.values()) + 1, present)


if __name__ == "__main__":
    unittest.main()
