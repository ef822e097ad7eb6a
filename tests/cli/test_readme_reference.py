#!/usr/bin/env python3
"""cli.readme_reference: README tells the truth about the program.

- README's command reference (between the BEGIN/END COMMAND REFERENCE markers)
  is exactly `lesionvol --help-markdown`, so help and docs cannot drift;
- README's quick-start test command is the line .ci/run runs;
- every example of every command descriptor runs and exits 0 (examples using
  sample_data/ are skipped while sample_data/ does not exist), and so does
  the main job of the quick start.

When the reference drifted, regenerate it with
    tools/update-readme.sh build/lesionvol
(or: LESIONVOL=build/lesionvol python3 tests/cli/test_readme_reference.py --fix)
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

import lvtest

BEGIN = "<!-- BEGIN COMMAND REFERENCE -->"
END = "<!-- END COMMAND REFERENCE -->"
README = os.path.join(lvtest.SOURCE, "README.md")
CI_RUN = os.path.join(lvtest.SOURCE, ".ci", "run")
SAMPLE_DATA = os.path.join(lvtest.SOURCE, "sample_data")
HOWTO = ("regenerate it with: tools/update-readme.sh build/lesionvol "
         "(or run this test with --fix)")


def help_markdown():
    rc, out, err = lvtest.run(["--help-markdown"])
    assert rc == 0, "lesionvol --help-markdown failed (%d): %s" % (rc, err)
    return out


def split_readme(text):
    """(before, reference, after) around the markers; raises when missing."""
    b = text.index(BEGIN) + len(BEGIN)
    e = text.index(END, b)
    return text[:b], text[b:e], text[e:]


def fix():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    before, _, after = split_readme(text)
    new = before + "\n" + help_markdown().strip("\n") + "\n" + after
    if new != text:
        with open(README + ".tmp", "w", encoding="utf-8") as f:
            f.write(new)
        os.replace(README + ".tmp", README)
        print("README.md: command reference regenerated")
    else:
        print("README.md: command reference already up to date")


def examples(markdown):
    """Every example command line of every command, from the generated help."""
    found = []
    for block in re.findall(r"Examples:\n\n```sh\n(.*?)```", markdown, re.S):
        found += [line for line in block.splitlines() if line.strip()]
    return found


class ReadmeReference(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(README, encoding="utf-8") as f:
            cls.readme = f.read()
        cls.markdown = help_markdown()

    def test_reference_equals_help_markdown(self):
        self.assertIn(BEGIN, self.readme, "README.md lacks the %s marker" % BEGIN)
        self.assertIn(END, self.readme, "README.md lacks the %s marker" % END)
        _, ref, _ = split_readme(self.readme)
        if ref.strip("\n") != self.markdown.strip("\n"):
            import difflib
            diff = "".join(difflib.unified_diff(
                ref.strip("\n").splitlines(True), self.markdown.strip("\n").splitlines(True),
                "README.md (command reference)", "lesionvol --help-markdown"))
            self.fail("README's command reference differs from `lesionvol "
                      "--help-markdown`;\n" + HOWTO + "\n" + diff)

    def test_every_command_has_a_readme_section(self):
        names = re.findall(r"^### `lesionvol (\S+)`", self.markdown, re.M)
        self.assertTrue(names)
        head = self.readme.split(BEGIN)[0]
        for name in names:
            self.assertRegex(head, r"(?m)^### `?(lesionvol )?%s`?\s*$" % re.escape(name),
                             "README has no section '### %s' under Commands" % name)

    def test_quick_start_test_command_is_what_ci_runs(self):
        lines = [l.strip() for l in self.readme.splitlines()
                 if l.strip().startswith("cmake -S . -B build -DLESIONVOL_WERROR=ON")]
        self.assertEqual(len(lines), 1, "README must give exactly one test command line")
        with open(CI_RUN, encoding="utf-8") as f:
            ci = [l.strip() for l in f]
        self.assertIn(lines[0], ci, ".ci/run does not run README's test command "
                      "verbatim: %s" % lines[0])

    def test_quick_start_packages_are_installed_by_ci(self):
        m = re.search(r"apt-get install ([^&\n]*)&&", self.readme)
        self.assertIsNotNone(m, "quick start 1 must install its packages with apt-get")
        wanted = [w for w in m.group(1).split() if not w.startswith("-")]
        with open(CI_RUN, encoding="utf-8") as f:
            ci = f.read()
        for pkg in wanted:
            self.assertRegex(ci, r"(?m)^\s*%s\s*$" % re.escape(pkg),
                             "README's quick start installs %s but .ci/run does not" % pkg)

    def run_in_sandbox(self, command):
        """Run a README/descriptor command line in a scratch folder holding a
        copy of sample_data/, with `lesionvol` on PATH being the built one."""
        work = lvtest.tmpdir()
        bindir = os.path.join(work, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(lvtest.program()), os.path.join(bindir, "lesionvol"))
        if os.path.isdir(SAMPLE_DATA):
            shutil.copytree(SAMPLE_DATA, os.path.join(work, "sample_data"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        p = subprocess.run(["/bin/bash", "-c", command], cwd=work, env=env,
                           capture_output=True, timeout=600)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def test_info_examples_show_real_output(self):
        # README's `info` examples print what the program prints today
        blocks = re.findall(r"```console\n\$ (lesionvol info [^\n]*)\n(.*?)```", self.readme, re.S)
        self.assertTrue(blocks, "README has no `lesionvol info` example with its output")
        for cmd, shown in blocks:
            with self.subTest(example=cmd):
                files = [w for w in cmd.split()[2:] if not w.startswith("-")]
                if any(f.startswith("sample_data/") for f in files) and not os.path.isdir(SAMPLE_DATA):
                    continue
                if any(f.startswith("/") and not os.path.exists(f) for f in files):
                    continue
                rc, out, err = self.run_in_sandbox(cmd)
                self.assertEqual(rc, 0, err)
                self.assertEqual(out, shown, "README shows another output for: %s" % cmd)

    def test_every_example_runs(self):
        cmds = examples(self.markdown)
        self.assertTrue(cmds, "no examples found in --help-markdown")
        ran = 0
        for cmd in cmds:
            with self.subTest(example=cmd):
                if "sample_data/" in cmd and not os.path.isdir(SAMPLE_DATA):
                    print("skipped (no sample_data/ yet): " + cmd)
                    continue
                rc, out, err = self.run_in_sandbox(cmd)
                self.assertEqual(rc, 0, "example failed (exit %d): %s\nstdout:\n%s\nstderr:\n%s"
                                 % (rc, cmd, out[-2000:], err[-2000:]))
                ran += 1
        print("%d of %d examples ran" % (ran, len(cmds)))

    def test_quick_start_main_job_runs(self):
        m = re.search(r"&& (build/lesionvol [^\n`]*)", self.readme)
        self.assertIsNotNone(m, "quick start 1 must end with '&& build/lesionvol ...'")
        cmd = m.group(1).strip()
        if "sample_data/" in cmd and not os.path.isdir(SAMPLE_DATA):
            self.skipTest("no sample_data/ yet")
        name = cmd.split()[1]
        if "`lesionvol %s`" % name not in self.markdown:
            self.skipTest("command '%s' is not built yet" % name)
        rc, out, err = self.run_in_sandbox(cmd.replace("build/lesionvol", "lesionvol", 1))
        self.assertEqual(rc, 0, "quick start failed (exit %d): %s\n%s" % (rc, cmd, err))


if __name__ == "__main__":
    if "--fix" in sys.argv:
        fix()
        sys.exit(0)
    unittest.main()
