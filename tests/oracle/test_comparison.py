#!/usr/bin/python3
"""comparison.json/.tsv of `lesionvol cohort` against statsmodels and scipy:
a simulated cohort with a large treatment effect (volumes from truth.tsv, not
from our tool), covariates, a broken participant left out and counted, and
cohorts with nothing to compare."""
import csv
import json
import math
import os
import shutil
import subprocess
import unittest

import numpy as np
import statsmodels.api as sm
from scipy import stats

import lvtest

LV = lvtest.program()


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def close(a, b, rel=1e-6, abs_=1e-9):
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


class ComparisonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = lvtest.tmpdir()
        cls.sim = os.path.join(cls.tmp, "sim")
        rc, out, err = lvtest.run(["simulate", "-o", cls.sim, "--subjects", "16",
                                   "--sessions", "3", "--dims", "48x58x48",
                                   "--voxel-size", "3.5", "--effect", "0.6",
                                   "--seed", "11", "--datatype", "uint8"], timeout=300)
        if rc != 0:
            raise RuntimeError(err)
        cls.truth = read_tsv(os.path.join(cls.sim, "truth.tsv"))
        cls.participants = {r["participant_id"]: r for r in
                            read_tsv(os.path.join(cls.sim, "participants.tsv"))}

    def cohort(self, manifest, out, *extra):
        p = subprocess.run([LV, "cohort", manifest, "-o", out, "--quiet", *extra],
                           capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def volumes(self, session, exclude=()):
        """(group, baseline, follow-up, age) per participant from truth.tsv."""
        by = {}
        for r in self.truth:
            by.setdefault(r["participant_id"], {})[r["session"]] = float(r["lesion_volume_mm3"])
        rows = []
        for pid, v in sorted(by.items()):
            if pid in exclude or session not in v:
                continue
            rows.append((self.participants[pid]["group"], v["ses-01"], v[session],
                         float(self.participants[pid]["age"])))
        return rows

    def check_session(self, got, rows, covariate=False, c=1.0):
        g = np.array([1.0 if r[0] == "treated" else 0.0 for r in rows])
        base = np.array([r[1] for r in rows])
        fu = np.array([r[2] for r in rows])
        age = np.array([r[3] for r in rows])
        # primary model: log(follow-up mL + c) ~ group + log(baseline mL + c) [+ age]
        cols = [np.ones_like(g), g, np.log(base / 1000 + c)] + ([age] if covariate else [])
        fit = sm.OLS(np.log(fu / 1000 + c), np.column_stack(cols)).fit()
        a = got["ancova_log"]
        self.assertTrue(close(a["coefficient"], fit.params[1]), (a, fit.params))
        self.assertTrue(close(a["se"], fit.bse[1]))
        self.assertTrue(close(a["t"], fit.tvalues[1]))
        self.assertTrue(close(a["p_value"], fit.pvalues[1]))
        self.assertEqual(a["df"], fit.df_resid)
        lo, hi = fit.conf_int()[1]
        self.assertTrue(close(a["ci_low"], lo) and close(a["ci_high"], hi))
        self.assertTrue(close(a["ratio"], math.exp(fit.params[1])))
        self.assertTrue(close(a["ratio_ci_low"], math.exp(lo)))
        self.assertTrue(close(a["ratio_ci_high"], math.exp(hi)))
        cols = [np.ones_like(g), g, base] + ([age] if covariate else [])
        raw = sm.OLS(fu, np.column_stack(cols)).fit()
        self.assertTrue(close(got["ancova_mm3"]["coefficient"], raw.params[1]))
        self.assertTrue(close(got["ancova_mm3"]["p_value"], raw.pvalues[1]))
        # two-sample tests on delta and percent change, treated vs control
        for key, values in (("delta_mm3", fu - base), ("percent_change", 100 * (fu - base) / base)):
            ctl, trt = values[g == 0], values[g == 1]
            w = stats.ttest_ind(trt, ctl, equal_var=False)
            self.assertTrue(close(got[key]["welch"]["t"], w.statistic))
            self.assertTrue(close(got[key]["welch"]["p_value"], w.pvalue))
            self.assertTrue(close(got[key]["welch"]["difference"], trt.mean() - ctl.mean()))
            n1, n2 = len(ctl), len(trt)
            sp = math.sqrt(((n1 - 1) * ctl.var(ddof=1) + (n2 - 1) * trt.var(ddof=1)) / (n1 + n2 - 2))
            gval = (trt.mean() - ctl.mean()) / sp * (1 - 3 / (4 * (n1 + n2) - 9))
            self.assertTrue(close(got[key]["hedges_g"]["g"], gval))
            mw = stats.mannwhitneyu(ctl, trt, alternative="two-sided")
            self.assertTrue(close(got[key]["mann_whitney"]["u_reference"], mw.statistic))
            self.assertTrue(close(got[key]["mann_whitney"]["p_value"], mw.pvalue))
            hl = np.median(np.subtract.outer(trt, ctl))
            self.assertTrue(close(got[key]["hodges_lehmann"]["shift"], hl))
            d = got["descriptives"]
            for grp, vals in (("control", ctl), ("treated", trt)):
                self.assertTrue(close(d[grp][key]["mean"], vals.mean()))
                self.assertTrue(close(d[grp][key]["sd"], vals.std(ddof=1)))
                self.assertTrue(close(d[grp][key]["q1"], np.percentile(vals, 25)))
                self.assertTrue(close(d[grp][key]["median"], np.median(vals)))
        return fit

    def test_comparison__matches_statsmodels_and_scipy_and_finds_the_effect(self):
        out = os.path.join(self.tmp, "out")
        rc, stdout, err = self.cohort(os.path.join(self.sim, "cohort.tsv"), out)
        self.assertEqual(rc, 0, err)
        got = json.load(open(os.path.join(out, "comparison.json")))
        self.assertEqual(got["reference_group"], "control")
        self.assertEqual(got["comparison_group"], "treated")
        sessions = {s["session"]: s for s in got["sessions"]}
        self.assertEqual(sorted(sessions), ["02", "03"])
        for ses in ("02", "03"):
            fit = self.check_session(sessions[ses], self.volumes("ses-" + ses))
            self.assertEqual(sessions[ses]["left_out"], {"control": 0, "treated": 0})
        # a large effect is found, in the right direction
        self.assertLess(sessions["03"]["ancova_log"]["p_value"], 0.05)
        self.assertLess(sessions["03"]["ancova_log"]["ratio"], 1.0)
        self.assertRegex(stdout, r"session 03: treated follow-up volume 0\.\d\dx control, "
                                 r"95% CI [\d.]+-[\d.]+, p = ")
        tsv = read_tsv(os.path.join(out, "comparison.tsv"))
        self.assertEqual(len(tsv), 2 * 10)
        row = [r for r in tsv if r["session"] == "03" and r["test"] == "ancova_log"][0]
        self.assertEqual(float(row["p_value"]), sessions["03"]["ancova_log"]["p_value"])

    def test_comparison__covariate_offset_and_left_out_participants(self):
        man = os.path.join(self.tmp, "cov.tsv")
        rows = read_tsv(os.path.join(self.sim, "cohort.tsv"))
        broken = rows[0]["participant_id"]
        with open(man, "w") as f:
            f.write("\t".join(rows[0].keys()) + "\n")
            for r in rows:
                r = dict(r)
                r["image"] = os.path.join(self.sim, r["image"])
                if r["participant_id"] == broken and r["session"] == "ses-03":
                    r["image"] = os.path.join(self.tmp, "missing.nii.gz")
                f.write("\t".join(r.values()) + "\n")
        out = os.path.join(self.tmp, "cov")
        rc, _, err = self.cohort(man, out, "--covariate", "age", "--log-offset-ml", "0.5")
        self.assertEqual(rc, 3, err)
        got = json.load(open(os.path.join(out, "comparison.json")))
        self.assertEqual(got["covariates"], ["age"])
        group = self.participants[broken]["group"]
        for s in got["sessions"]:
            self.check_session(s, self.volumes("ses-" + s["session"], exclude=(broken,)),
                               covariate=True, c=0.5)
            self.assertEqual(s["left_out"][group], 1)

    def test_comparison__absent_or_refused_when_groups_do_not_allow_it(self):
        man = os.path.join(self.tmp, "one.tsv")
        rows = read_tsv(os.path.join(self.sim, "cohort.tsv"))
        with open(man, "w") as f:
            f.write("\t".join(rows[0].keys()) + "\n")
            for r in rows:
                r = dict(r, image=os.path.join(self.sim, r["image"]), group="all")
                f.write("\t".join(r.values()) + "\n")
        out = os.path.join(self.tmp, "one")
        rc, stdout, err = self.cohort(man, out)
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.exists(os.path.join(out, "comparison.json")))
        rc, _, err = self.cohort(os.path.join(self.sim, "cohort.tsv"),
                                 os.path.join(self.tmp, "bad"), "--compare", "control,nobody")
        self.assertEqual(rc, 2, err)
        self.assertIn("nobody", err)
        # --compare picks the reference explicitly
        out = os.path.join(self.tmp, "swap")
        rc, _, err = self.cohort(os.path.join(self.sim, "cohort.tsv"), out,
                                 "--compare", "treated,control")
        self.assertEqual(rc, 0, err)
        got = json.load(open(os.path.join(out, "comparison.json")))
        self.assertEqual(got["reference_group"], "treated")
        self.assertGreater(got["sessions"][-1]["ancova_log"]["ratio"], 1.0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
