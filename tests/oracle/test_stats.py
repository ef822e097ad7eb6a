"""Oracle test of lesionvol/stats.h: every statistic against scipy.stats,
statsmodels OLS and independent numpy/integer implementations, on skewed
random volumes and on edge cases (n = 2, all equal, zeros, ties, empty group).

The library runs through tests/oracle/stats_driver.c (env var
LESIONVOL_STATS_DRIVER), which reads a JSON job and prints every result.
"""
import itertools
import json
import math
import os
import subprocess
import sys
import unittest
from fractions import Fraction

import numpy as np
from scipy import stats
import statsmodels.api as sm

DRIVER = os.environ.get("LESIONVOL_STATS_DRIVER")
RTOL = 1e-6


def run(job, expect_rc=0):
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, (list, tuple, np.ndarray)):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (np.floating, np.integer)):
            return clean(v.item())
        return v
    p = subprocess.run([DRIVER], input=json.dumps(clean(job)), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == expect_rc, (p.returncode, p.stdout, p.stderr)
    return json.loads(p.stdout)


def volumes(rng, n, median_mm3=8000.0, sigma=1.2):
    """Skewed, log-normal lesion volumes in mm^3, as in stroke cohorts."""
    return rng.lognormal(math.log(median_mm3), sigma, n)


# ---- independent reference implementations -------------------------------

def u_null_counts(m, n):
    """Counts of U = 0..mn over the C(m+n, m) orderings, from the Gaussian
    binomial coefficient prod (1 - q^(n+i)) / (1 - q^i) in exact integers."""
    poly = [1] + [0] * (m * n)
    for i in range(1, m + 1):
        for k in range(m * n, n + i - 1, -1):   # times (1 - q^(n+i))
            poly[k] -= poly[k - n - i]
        for k in range(i, m * n + 1):           # divided by (1 - q^i)
            poly[k] += poly[k - i]
    assert all(c >= 0 for c in poly) and sum(poly) == math.comb(m + n, m)
    return poly


def scipy_would_be_exact(a, b):
    pooled = np.concatenate([a, b])
    return min(len(a), len(b)) <= 8 and len(np.unique(pooled)) == len(pooled)


def hodges_lehmann_reference(a, b, exact):
    """Shift = median of b_j - a_i; CI = K-th smallest and K-th largest
    difference, K from the exact null distribution of U (Bauer 1972) or its
    continuity-corrected normal approximation with tie correction."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = np.sort(np.subtract.outer(b, a).ravel())
    m, n = len(a), len(b)
    shift = float(np.median(d))
    if exact:
        counts = u_null_counts(m, n)
        total = sum(counts)
        k, c = 0, 0
        while Fraction(c + counts[k], total) <= Fraction(1, 40):
            c += counts[k]
            k += 1
        coverage = 1 - 2 * c / total if k else None
    else:
        ranks = stats.rankdata(np.concatenate([a, b]))
        sigma = math.sqrt(stats.tiecorrect(ranks) * m * n * (m + n + 1) / 12)
        k = max(0, math.floor(m * n / 2 + 0.5 - stats.norm.ppf(0.975) * sigma))
        coverage = None
    if k == 0:
        return shift, None, None, 0, None
    return shift, float(d[k - 1]), float(d[m * n - k]), k, coverage


def hedges_reference(a, b):
    n1, n2 = len(a), len(b)
    sp = math.sqrt(((n1 - 1) * np.var(a, ddof=1) + (n2 - 1) * np.var(b, ddof=1))
                   / (n1 + n2 - 2))
    d = (np.mean(b) - np.mean(a)) / sp
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    g = j * d
    se = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)))
    z = stats.norm.ppf(0.975)
    return dict(pooled_sd=sp, cohen_d=d, correction=j, g=g, se=se,
                ci_low=g - z * se, ci_high=g + z * se)


class StatsOracle(unittest.TestCase):

    def close(self, got, want, what, rtol=RTOL, atol=0.0):
        self.assertIsNotNone(got, f"{what}: n/a, expected {want}")
        self.assertTrue(math.isfinite(want), f"{what}: reference {want}")
        self.assertLessEqual(abs(got - want), rtol * abs(want) + atol,
                             f"{what}: got {got!r}, want {want!r}")

    # -- two groups ----------------------------------------------------------

    def check_two_groups(self, a, b, method="auto", label=""):
        a = np.asarray(a, float)
        b = np.asarray(b, float)
        r = run({"a": list(a), "b": list(b), "method": method})
        fa, fb = a[np.isfinite(a)], b[np.isfinite(b)]
        missing = len(a) + len(b) - len(fa) - len(fb)

        for key, x in (("descriptives_a", fa), ("descriptives_b", fb)):
            d = r[key]
            self.assertEqual(d["n"], len(x))
            if len(x):
                q1, med, q3 = np.percentile(x, [25, 50, 75])
                for k, v in (("mean", np.mean(x)), ("median", np.median(x)),
                             ("q1", q1), ("q3", q3), ("min", x.min()),
                             ("max", x.max())):
                    self.close(d[k], float(v), f"{label} {key}.{k}", atol=1e-12)
            if len(x) >= 2:
                self.close(d["sd"], float(np.std(x, ddof=1)), f"{label} {key}.sd",
                           atol=1e-12)
                self.assertIsNone(d["reason"])
            else:
                self.assertIsNone(d["sd"])
                self.assertIn("at least 2" if len(x) == 1 else "no values", d["reason"])

        w = r["welch"]
        self.assertEqual(w["n_missing"], missing)
        var_ok = len(fa) >= 2 and len(fb) >= 2 and (np.var(fa) > 0 or np.var(fb) > 0)
        if var_ok:
            t, p = stats.ttest_ind(fb, fa, equal_var=False)
            cm = sm.stats.CompareMeans(sm.stats.DescrStatsW(fb), sm.stats.DescrStatsW(fa))
            _, _, df = cm.ttest_ind(usevar="unequal")
            lo, hi = cm.tconfint_diff(alpha=0.05, usevar="unequal")
            self.assertIsNone(w["reason"], label)
            self.close(w["difference"], float(np.mean(fb) - np.mean(fa)), f"{label} welch.diff",
                       atol=1e-12 * np.abs(np.concatenate([fa, fb])).max())
            self.close(w["t"], float(t), f"{label} welch.t", atol=1e-12)
            self.close(w["p_value"], float(p), f"{label} welch.p")
            self.close(w["df"], float(df), f"{label} welch.df")
            self.close(w["ci_low"], float(lo), f"{label} welch.ci_low")
            self.close(w["ci_high"], float(hi), f"{label} welch.ci_high")
        else:
            for k in ("t", "p_value", "df", "ci_low", "ci_high", "se"):
                self.assertIsNone(w[k], f"{label} welch.{k}")
            self.assertTrue(w["reason"], label)

        h = r["hedges_g"]
        if var_ok:
            self.assertIsNone(h["reason"])
            for k, v in hedges_reference(fa, fb).items():
                self.close(h[k], float(v), f"{label} hedges.{k}", atol=1e-12)
        else:
            self.assertIsNone(h["g"])
            self.assertTrue(h["reason"], label)

        mw = r["mann_whitney"]
        hl = r["hodges_lehmann"]
        if len(fa) == 0 or len(fb) == 0:
            for res in (mw, hl):
                self.assertIn("has no values", res["reason"], label)
            self.assertIsNone(mw["p_value"])
            self.assertIsNone(hl["shift"])
            return r
        smethod = method if method != "auto" else "auto"
        ref = stats.mannwhitneyu(fa, fb, method=smethod, alternative="two-sided",
                                 use_continuity=True)
        exact = (method == "exact" or
                 (method == "auto" and scipy_would_be_exact(fa, fb)))
        self.assertEqual(mw["exact"], exact, label)
        self.assertIsNone(mw["reason"])
        self.assertEqual(mw["u_a"], float(ref.statistic), label)
        self.assertEqual(mw["u_b"], len(fa) * len(fb) - float(ref.statistic))
        self.close(mw["p_value"], float(ref.pvalue), f"{label} mwu.p")
        if exact and len(np.unique(np.concatenate([fa, fb]))) == len(fa) + len(fb):
            # the exact p also from the integer null distribution
            counts = u_null_counts(len(fa), len(fb))
            u = int(max(mw["u_a"], mw["u_b"]))
            p = min(Fraction(1), Fraction(2 * sum(counts[u:]), sum(counts)))
            self.close(mw["p_value"], float(p), f"{label} mwu.p (integers)")

        shift, lo, hi, k, coverage = hodges_lehmann_reference(fa, fb, exact)
        self.assertEqual(hl["exact"], exact)
        scale = np.abs(np.concatenate([fa, fb])).max()
        self.close(hl["shift"], shift, f"{label} hl.shift", atol=1e-15 * scale)
        self.assertEqual(hl["ci_rank"], k, label)
        if k:
            self.assertIsNone(hl["reason"])
            self.assertEqual(hl["ci_low"], lo, label)
            self.assertEqual(hl["ci_high"], hi, label)
            if coverage is not None:
                self.close(hl["ci_coverage"], coverage, f"{label} hl.coverage")
                self.assertGreaterEqual(hl["ci_coverage"], 0.95)
        else:
            self.assertIsNone(hl["ci_low"])
            self.assertIn("too small", hl["reason"])
        return r

    def test_random_lognormal_volumes(self):
        sizes = [(5, 7), (8, 8), (8, 30), (3, 40), (9, 9), (20, 25), (60, 55), (1, 6)]
        for seed, (n1, n2) in enumerate(sizes):
            rng = np.random.default_rng(seed)
            a = volumes(rng, n1)
            b = volumes(rng, n2) * 0.6
            self.check_two_groups(a, b, label=f"seed {seed} n={n1},{n2}")

    def test_every_small_size_exact_matches_scipy_exact(self):
        rng = np.random.default_rng(100)
        for n1, n2 in itertools.product(range(1, 9), repeat=2):
            a, b = volumes(rng, n1), volumes(rng, n2)
            r = run({"a": list(a), "b": list(b)})
            mw = r["mann_whitney"]
            ref = stats.mannwhitneyu(a, b, method="exact")
            self.assertTrue(mw["exact"])
            self.assertEqual(mw["u_a"], float(ref.statistic))
            self.close(mw["p_value"], float(ref.pvalue), f"exact p {n1},{n2}")

    def test_separated_groups_give_tiny_p_values_accurately(self):
        a = np.arange(1.0, 31.0)
        b = np.arange(101.0, 131.0)
        r = self.check_two_groups(a, b, label="separated")
        self.assertLess(r["mann_whitney"]["p_value"], 1e-9)
        self.assertLess(r["welch"]["p_value"], 1e-30)

    def test_forced_methods_match_scipy(self):
        rng = np.random.default_rng(7)
        a, b = volumes(rng, 6), volumes(rng, 7)
        self.check_two_groups(a, b, method="asymptotic", label="asymptotic small")
        self.check_two_groups(volumes(rng, 12), volumes(rng, 10), method="exact",
                              label="exact 12,10")
        # forced exact with ties: the no-ties distribution at floor(U), as scipy
        self.check_two_groups([1.0, 2, 2, 3, 5], [2.0, 4, 6, 6], method="exact",
                              label="exact with ties")

    def test_two_per_group(self):
        self.check_two_groups([1200.0, 3400.0], [800.0, 900.0], label="n=2")

    def test_ties_use_tie_corrected_normal_approximation(self):
        rng = np.random.default_rng(3)
        a = np.round(volumes(rng, 15), -3)  # volumes rounded to whole mL tie
        b = np.round(volumes(rng, 12), -3)
        r = self.check_two_groups(a, b, label="ties")
        self.assertTrue(r["mann_whitney"]["ties"])
        self.assertFalse(r["mann_whitney"]["exact"])
        self.check_two_groups([1.0, 2, 2, 3], [2.0, 3, 3, 4, 5], label="small ties")

    def test_zeros(self):
        self.check_two_groups([0.0, 0, 0, 150, 2000], [0.0, 0, 10, 0, 0, 40],
                              label="zeros")

    def test_all_equal_volumes_are_na_with_reason(self):
        r = self.check_two_groups([500.0] * 4, [500.0] * 5, label="all equal")
        self.assertIn("zero variance", r["welch"]["reason"])
        self.assertEqual(r["mann_whitney"]["p_value"], 1.0)
        self.assertEqual(r["hodges_lehmann"]["shift"], 0.0)
        self.check_two_groups([500.0] * 4, [700.0] * 5, label="two constants")

    def test_one_empty_group_is_na_with_reason(self):
        for a, b in (([], [1.0, 2, 3]), ([1.0, 2, 3], []), ([], [])):
            r = self.check_two_groups(a, b, label=f"empty {len(a)},{len(b)}")
            self.assertIn("has 0 values", r["welch"]["reason"])
        r = run({"a": [], "b": [1.0, 2, 3]})
        self.assertIn("reference group", r["welch"]["reason"])
        self.assertIn("reference group", r["mann_whitney"]["reason"])

    def test_one_value_in_a_group(self):
        r = self.check_two_groups([100.0], [1.0, 2, 3, 50], label="n=1")
        self.assertIn("has 1 value;", r["welch"]["reason"])

    def test_missing_values_are_skipped_and_counted(self):
        rng = np.random.default_rng(11)
        a = volumes(rng, 10)
        b = volumes(rng, 9)
        a[[2, 5]] = np.nan
        b[4] = np.inf
        r = self.check_two_groups(a, b, label="missing")
        self.assertEqual(r["welch"]["n_missing"], 3)
        self.assertEqual(r["descriptives_a"]["n_missing"], 2)

    # -- regression ----------------------------------------------------------

    def check_ols(self, fit, X, y, label):
        res = sm.OLS(y, X).fit()
        ci = res.conf_int(0.05)
        self.assertIsNone(fit["reason"], label)
        self.assertEqual(fit["df"], res.df_resid)
        self.close(fit["residual_sd"], float(np.sqrt(res.scale)), f"{label} resid sd")
        for j in range(X.shape[1]):
            se = float(res.bse[j])
            self.close(fit["coef"][j], float(res.params[j]), f"{label} coef[{j}]",
                       atol=1e-9 * se)
            self.close(fit["se"][j], se, f"{label} se[{j}]")
            self.close(fit["t"][j], float(res.tvalues[j]), f"{label} t[{j}]", atol=1e-9)
            self.close(fit["p_value"][j], float(res.pvalues[j]), f"{label} p[{j}]")
            self.close(fit["ci_low"][j], float(ci[j, 0]), f"{label} ci_low[{j}]",
                       atol=1e-9 * se)
            self.close(fit["ci_high"][j], float(ci[j, 1]), f"{label} ci_high[{j}]",
                       atol=1e-9 * se)

    def check_ancova(self, group, base, fu, covariates=(), c=1.0, label=""):
        group = np.asarray(group)
        base = np.asarray(base, float)
        fu = np.asarray(fu, float)
        job = {"ancova": {"group": group.tolist(), "baseline_mm3": list(base),
                          "followup_mm3": list(fu), "log_offset_ml": c,
                          "covariates": [list(v) for v in covariates]}}
        r = run(job)
        for key in ("ancova_log", "ancova_raw"):
            if key == "ancova_log":
                with np.errstate(divide="ignore"):
                    y, xb = np.log(fu / 1000 + c), np.log(base / 1000 + c)
            else:
                y, xb = fu, base
            X = np.column_stack([np.ones(len(y)), group, xb] + [np.asarray(v, float)
                                                               for v in covariates])
            keep = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
            X, y, g = X[keep], y[keep], group[keep]
            a = r[key]
            self.assertEqual(a["n_missing"], int((~keep).sum()), label)
            self.assertEqual((a["n_a"], a["n_b"]), (int((g == 0).sum()), int((g == 1).sum())))
            self.check_ols(a["fit"], X, y, f"{label} {key}")
            res = sm.OLS(y, X).fit()
            ci = res.conf_int(0.05)
            self.close(a["coef"], float(res.params[1]), f"{label} {key} coef",
                       atol=1e-9 * float(res.bse[1]))
            self.close(a["p_value"], float(res.pvalues[1]), f"{label} {key} p")
            self.assertEqual(a["df"], res.df_resid)
            if key == "ancova_log":
                self.close(a["ratio"], math.exp(res.params[1]), f"{label} ratio")
                self.close(a["ratio_ci_low"], math.exp(ci[1, 0]), f"{label} ratio lo")
                self.close(a["ratio_ci_high"], math.exp(ci[1, 1]), f"{label} ratio hi")
            else:
                self.assertIsNone(a["ratio"])
        return r

    def simulated_cohort(self, seed, n_per_group, effect):
        rng = np.random.default_rng(seed)
        group = np.repeat([0, 1], n_per_group)
        base = volumes(rng, 2 * n_per_group, 15000, 1.0)
        growth = rng.lognormal(0.3, 0.4, 2 * n_per_group) * np.where(group == 1, effect, 1)
        fu = base * growth
        age = rng.normal(68, 10, 2 * n_per_group)
        nihss = rng.integers(2, 25, 2 * n_per_group).astype(float)
        return group, base, fu, age, nihss

    def test_ancova_matches_statsmodels(self):
        for seed, n in ((1, 6), (2, 20), (3, 80)):
            group, base, fu, age, nihss = self.simulated_cohort(seed, n, 0.7)
            self.check_ancova(group, base, fu, label=f"seed {seed}")
            self.check_ancova(group, base, fu, (age, nihss), label=f"seed {seed} cov")
            self.check_ancova(group, base, fu, (age,), c=0.1, label=f"seed {seed} c=0.1")

    def test_ancova_large_effect_has_right_direction(self):
        group, base, fu, _, _ = self.simulated_cohort(5, 40, 0.4)
        r = self.check_ancova(group, base, fu, label="effect")
        self.assertLess(r["ancova_log"]["p_value"], 0.05)
        self.assertLess(r["ancova_log"]["ratio_ci_high"], 1.0)

    def test_ancova_two_per_group_zeros_and_missing(self):
        self.check_ancova([0, 0, 1, 1, 1], [1000.0, 0, 3000, 500, 0],
                          [1500.0, 0, 2000, 700, 100], label="n=2,3 zeros")
        group, base, fu, age, _ = self.simulated_cohort(9, 10, 1.0)
        fu[3] = np.nan
        age[7] = np.nan
        r = self.check_ancova(group, base, fu, (age,), label="missing")
        self.assertEqual(r["ancova_log"]["n_missing"], 2)
        # c = 0: a zero volume has no logarithm and is left out, counted
        r = self.check_ancova([0, 0, 0, 1, 1, 1], [1000.0, 0, 3000, 500, 800, 90],
                              [1500.0, 2000, 1700, 700, 100, 80], c=0.0, label="c=0")
        self.assertEqual(r["ancova_log"]["n_missing"], 1)
        self.assertEqual(r["ancova_raw"]["n_missing"], 0)

    def test_ancova_na_cases(self):
        r = run({"ancova": {"group": [0, 0, 0], "baseline_mm3": [1.0, 2, 3],
                            "followup_mm3": [1.0, 2, 4]}})
        self.assertIn("comparison group has no subject", r["ancova_log"]["reason"])
        self.assertIsNone(r["ancova_log"]["p_value"])
        # all-equal baselines: collinear with the intercept
        r = run({"ancova": {"group": [0, 0, 1, 1, 1], "baseline_mm3": [500.0] * 5,
                            "followup_mm3": [400.0, 600, 300, 350, 200]}})
        for key in ("ancova_log", "ancova_raw"):
            self.assertIn("rank deficient", r[key]["reason"])
            self.assertIn("baseline", r[key]["reason"])
            self.assertIsNone(r[key]["coef"])
        # as many subjects as terms: no residual degrees of freedom
        r = run({"ancova": {"group": [0, 1, 1], "baseline_mm3": [5.0, 7, 9],
                            "followup_mm3": [4.0, 6, 3]}})
        self.assertIn("needs more observations", r["ancova_raw"]["reason"])
        # bad group code and negative offset are usage errors (status 2)
        r = run({"ancova": {"group": [0, 2], "baseline_mm3": [1.0, 2],
                            "followup_mm3": [1.0, 2]}}, expect_rc=2)
        self.assertIn("must be 0 or 1", r["error"])
        r = run({"ancova": {"group": [0, 1], "baseline_mm3": [1.0, 2],
                            "followup_mm3": [1.0, 2], "log_offset_ml": -1}}, expect_rc=2)
        self.assertIn("log offset", r["error"])

    def test_ols_rank_deficiency_and_exact_fit(self):
        rng = np.random.default_rng(4)
        x1 = rng.normal(size=12)
        X = np.column_stack([np.ones(12), x1, 2 * x1 + 1])
        r = run({"ols": {"x": X.tolist(), "y": list(rng.normal(size=12)),
                         "names": ["intercept", "age", "age2"]}})
        self.assertIn("'age2' is a linear combination", r["ols"]["reason"])
        self.assertEqual(r["ols"]["rank"], 2)
        self.assertEqual(r["ols"]["coef"], [None, None, None])
        y = 3 - 2 * x1
        r = run({"ols": {"x": X[:, :2].tolist(), "y": list(y)}})
        fit = r["ols"]
        self.close(fit["coef"][0], 3.0, "exact coef 0")
        self.close(fit["coef"][1], -2.0, "exact coef 1")
        # a badly scaled but full-rank design still matches statsmodels
        X = np.column_stack([np.ones(30), rng.normal(1e6, 1, 30), rng.normal(size=30)])
        y = X[:, 1] * 1e-3 + rng.normal(size=30)
        r = run({"ols": {"x": X.tolist(), "y": list(y)}})
        self.check_ols(r["ols"], X, y, "ill-conditioned")


if __name__ == "__main__":
    if not DRIVER or not os.path.exists(DRIVER):
        print("skipped: LESIONVOL_STATS_DRIVER is not set", file=sys.stderr)
        sys.exit(77)
    unittest.main()
