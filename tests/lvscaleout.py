"""lvscaleout.py: helpers of the scale-out tests (participant jobs run apart,
then the group level): a small simulated BIDS cohort, the reference single
`lesionvol cohort` run, and comparisons of group outputs."""
import csv
import json
import os
import subprocess

LESIONVOL = os.environ.get("LESIONVOL", "lesionvol")
SOURCE = os.environ.get(
    "LESIONVOL_SOURCE", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# what the group level writes; comparison.* only with two groups
GROUP_FILES = ("timepoints.tsv", "changes.tsv", "groups.tsv", "comparison.json",
               "comparison.tsv", "report.html", "dataset_description.json")
TABLES = ("timepoints.tsv", "changes.tsv", "groups.tsv")


def lesionvol(*args, check=True, **kw):
    """Run lesionvol ARGS; returns the CompletedProcess (text)."""
    p = subprocess.run([LESIONVOL] + [str(a) for a in args], capture_output=True,
                       text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError("lesionvol %s: exit %d\n%s" % (" ".join(map(str, args)),
                                                          p.returncode, p.stderr))
    return p


def simulated_cohort(root, subjects=6, sessions=2, seed=11):
    """A simulated BIDS dataset in ROOT/data (4 mm voxels: fast) whose days
    are also in each participant's sessions.tsv, where `bids` reads them
    (simulate writes them into cohort.tsv only). Returns the dataset folder."""
    data = os.path.join(root, "data")
    lesionvol("simulate", "-o", data, "--subjects", subjects, "--sessions", sessions,
              "--dims", "40x48x40", "--voxel-size", "4", "--seed", seed, "-q")
    days = {}
    with open(os.path.join(data, "cohort.tsv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            days.setdefault(r["participant_id"], []).append((r["session"], r["days"]))
    for pid, rows in days.items():
        with open(os.path.join(data, pid, pid + "_sessions.tsv"), "w") as f:
            f.write("session_id\tdays\n" + "".join("%s\t%s\n" % r for r in rows))
    return data


def participant_labels(data):
    with open(os.path.join(data, "participants.tsv"), newline="", encoding="utf-8-sig") as f:
        return [r["participant_id"][4:] for r in csv.DictReader(f, delimiter="\t")]


def cohort_reference(data, out):
    """The single-process run every scale-out must equal."""
    lesionvol("cohort", os.path.join(data, "cohort.tsv"), "-o", out, "-q")
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def group_differences(got, want, names=GROUP_FILES):
    """Names of group outputs that differ between folders GOT and WANT (a file
    present in one only counts as different); the three tables must exist."""
    diff = []
    for name in names:
        a, b = os.path.join(got, name), os.path.join(want, name)
        if not os.path.exists(a) and not os.path.exists(b) and name not in TABLES:
            continue
        if not (os.path.exists(a) and os.path.exists(b)) or read(a) != read(b):
            diff.append(name)
    return diff


def provenance_core(out):
    """provenance.json without what may differ between equal runs: times and
    the command line (and paths, which differ between cohort and bids)."""
    with open(os.path.join(out, "provenance.json"), encoding="utf-8") as f:
        doc = json.load(f)
    inputs = sorted((i["participant_id"], i["session"] or "", i["role"], i["size"],
                     i["sha256"]) for i in doc["inputs"])
    return {"measurement_parameters": doc["measurement_parameters"],
            "participants": doc["participants"],
            "participants_failed": doc["participants_failed"],
            "lesionvol_version": doc["lesionvol_version"], "inputs": inputs}


def participant_files(out):
    """Relative path -> bytes of everything under OUT/sub-*/."""
    files = {}
    for d in sorted(os.listdir(out)):
        if not d.startswith("sub-"):
            continue
        for base, _, names in os.walk(os.path.join(out, d)):
            for n in names:
                p = os.path.join(base, n)
                files[os.path.relpath(p, out)] = read(p)
    return files


def tsv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))
