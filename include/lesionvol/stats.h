/* lesionvol/stats.h: group statistics on plain arrays of doubles, for
 * comparison.json (descriptives, ANCOVA, Welch, Hedges' g,
 * Mann-Whitney U, Hodges-Lehmann). docs/statistics.md explains each one. */
#ifndef LESIONVOL_STATS_H
#define LESIONVOL_STATS_H

#include <stddef.h>

#include "lesionvol/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conventions shared by every function below.
 *
 * - Two groups: A is the reference (control), B the comparison (treated).
 *   Every difference, shift and coefficient is B minus A, every ratio B over
 *   A; the functions take A's values first.
 * - Values that are NaN or infinite are missing: they are skipped and counted
 *   in `n_missing`; the `n*` fields count the values actually used.
 * - Every confidence interval is two-sided 95% (LESION_STATS_CI_LEVEL).
 * - A result that cannot be computed (a group too small, no variance, a
 *   rank-deficient design...) is not an error: its undefined fields hold NaN
 *   and `reason` says why in words ("the reference group has fewer than 2
 *   values"), ready to print next to "n/a". `reason` is "" exactly when the
 *   main result (p-value, estimate and CI) is defined. No field is ever
 *   infinite.
 * - Functions return LESION_OK (also for n/a results), LESION_ERR_USAGE for
 *   invalid arguments (NULL arrays with a non-zero length, a NULL @out...)
 *   or LESION_ERR_INTERNAL when memory runs out; @err (may be NULL) then
 *   holds the message. They allocate only temporary memory, print nothing,
 *   keep no state and are thread safe.
 * - p-values and quantiles of the t (fractional df allowed) and normal
 *   distributions come from niftilib's nifticdf. nifticdf itself is not
 *   reentrant (static locals), so these calls are serialised by a mutex.
 */

#define LESION_STATS_REASON_MAX 160
#define LESION_STATS_CI_LEVEL 0.95
#define LESION_OLS_MAX_TERMS 16

/* lesion_stats_t_sf() - P(T > @t) for Student's t with @df > 0 degrees of
 * freedom (fractional allowed); NaN for invalid arguments. */
double lesion_stats_t_sf(double t, double df);

/* lesion_stats_t_quantile() - the value t with P(T <= t) = @p, 0 < @p < 1,
 * @df > 0 (fractional allowed); NaN for invalid arguments. */
double lesion_stats_t_quantile(double p, double df);

/* lesion_stats_normal_sf() - P(Z > @z) for the standard normal. */
double lesion_stats_normal_sf(double z);

/* lesion_stats_normal_quantile() - z with P(Z <= z) = @p, 0 < @p < 1;
 * NaN otherwise. */
double lesion_stats_normal_quantile(double p);

/*
 * struct lesion_descriptives - summary of one sample. sd uses n - 1; the
 * quartiles and the median use linear interpolation between order statistics
 * (numpy's default, R's type 7): position (n - 1) * q of the sorted values.
 */
struct lesion_descriptives {
	size_t n;          /* finite values used */
	size_t n_missing;  /* NaN or infinite values skipped */
	double mean, sd, median, q1, q3, min, max;
	char reason[LESION_STATS_REASON_MAX]; /* why sd (n < 2) or all (n = 0) are n/a */
};

/*
 * lesion_descriptives_compute() - n, mean, sd, median, quartiles, min and max
 * of the @n values at @x (@x may be NULL when @n is 0). With one value sd is
 * NaN; with none everything is NaN. Returns LESION_OK, LESION_ERR_USAGE or
 * LESION_ERR_INTERNAL.
 */
enum lesion_status lesion_descriptives_compute(const double *x, size_t n,
					       struct lesion_descriptives *out,
					       struct lesion_error *err);

/*
 * struct lesion_welch - Welch's unequal-variance t-test of B against A.
 * se = sqrt(sd_a^2 / n_a + sd_b^2 / n_b); df by Welch-Satterthwaite;
 * p two-sided; CI = difference -/+ t(0.975, df) * se. Needs at least two
 * values per group and a non-zero variance in at least one group.
 */
struct lesion_welch {
	size_t n_a, n_b, n_missing;
	double mean_a, mean_b, sd_a, sd_b;
	double difference;               /* mean_b - mean_a */
	double se, t, df, p_value, ci_low, ci_high;
	char reason[LESION_STATS_REASON_MAX];
};

/*
 * lesion_welch_test() - Welch's t-test of @b (B, n_b values) against @a (A,
 * the reference). Same answers as scipy.stats.ttest_ind(b, a,
 * equal_var=False). Returns LESION_OK, LESION_ERR_USAGE or
 * LESION_ERR_INTERNAL.
 */
enum lesion_status lesion_welch_test(const double *a, size_t n_a,
				     const double *b, size_t n_b,
				     struct lesion_welch *out,
				     struct lesion_error *err);

/*
 * struct lesion_hedges_g - standardised mean difference of B against A
 * (Hedges & Olkin 1985). cohen_d = (mean_b - mean_a) / pooled_sd with
 * pooled_sd^2 = ((n_a - 1) sd_a^2 + (n_b - 1) sd_b^2) / (n_a + n_b - 2);
 * g = J * d with the approximate small-sample correction
 * J = 1 - 3 / (4 (n_a + n_b) - 9) (not the exact gamma-function form);
 * se = sqrt((n_a + n_b) / (n_a n_b) + g^2 / (2 (n_a + n_b))), Hedges &
 * Olkin's large-sample variance evaluated at g; CI = g -/+ z(0.975) * se.
 * Needs at least two values per group and a non-zero pooled sd.
 */
struct lesion_hedges_g {
	size_t n_a, n_b, n_missing;
	double pooled_sd, cohen_d, correction, g, se, ci_low, ci_high;
	char reason[LESION_STATS_REASON_MAX];
};

/* lesion_hedges_g_compute() - Hedges' g of @b (B) against @a (A). Returns
 * LESION_OK, LESION_ERR_USAGE or LESION_ERR_INTERNAL. */
enum lesion_status lesion_hedges_g_compute(const double *a, size_t n_a,
					   const double *b, size_t n_b,
					   struct lesion_hedges_g *out,
					   struct lesion_error *err);

/*
 * enum lesion_rank_method - how the Mann-Whitney p-value and the
 * Hodges-Lehmann CI are obtained.
 *
 * LESION_RANK_AUTO follows scipy 1.10's mannwhitneyu(method='auto'): the
 * exact null distribution of U when the smaller group has at most 8 values
 * and the pooled values have no ties, else the normal approximation with tie
 * correction and continuity correction. (This includes, and is slightly
 * wider than, "exact when both groups have at most 8".) LESION_RANK_EXACT
 * and LESION_RANK_ASYMPTOTIC force one or the other; forced exact with ties
 * uses the no-ties distribution at floor(U), as scipy does. The exact
 * distribution is computed in O(n_a^2 n_b^2) steps; when that exceeds 1e9
 * (e.g. 8 against 5,600 values) the normal approximation is used instead and
 * `exact` says so.
 */
enum lesion_rank_method {
	LESION_RANK_AUTO = 0,
	LESION_RANK_EXACT = 1,
	LESION_RANK_ASYMPTOTIC = 2,
};

/*
 * struct lesion_mann_whitney - two-sided Mann-Whitney U test.
 * u_a is scipy's statistic for mannwhitneyu(a, b): the number of pairs with
 * a > b plus half the tied pairs (= rank sum of A - n_a (n_a + 1) / 2);
 * u_b = n_a n_b - u_a. p = min(1, 2 P(U >= max(u_a, u_b))). z is the
 * standardised max(u_a, u_b) with continuity correction (NaN when exact, or
 * when every value is tied: then p = 1, the exact permutation p-value).
 */
struct lesion_mann_whitney {
	size_t n_a, n_b, n_missing;
	double u_a, u_b;
	int exact;                 /* 1: exact null distribution was used */
	int ties;                  /* 1: the pooled values contain ties */
	double z, p_value;
	char reason[LESION_STATS_REASON_MAX];
};

/* lesion_mann_whitney_test() - Mann-Whitney U test of @a (A) against @b
 * (B). Needs at least one value per group. Returns LESION_OK,
 * LESION_ERR_USAGE or LESION_ERR_INTERNAL. */
enum lesion_status lesion_mann_whitney_test(const double *a, size_t n_a,
					    const double *b, size_t n_b,
					    enum lesion_rank_method method,
					    struct lesion_mann_whitney *out,
					    struct lesion_error *err);

/*
 * struct lesion_hodges_lehmann - the Hodges-Lehmann shift of B against A,
 * shift = median of the n_a n_b differences b_j - a_i (mean of the two middle
 * ones when n_a n_b is even), and its distribution-free CI (Bauer 1972):
 * [d(K), d(n_a n_b + 1 - K)], the K-th smallest and K-th largest difference.
 * Exact (same choice as lesion_rank_method): K - 1 is the largest u with
 * P(U <= u) <= 0.025 under the null, so the coverage 1 - 2 P(U <= K - 1) is
 * at least 95% (given in ci_coverage). Approximate: K = floor(n_a n_b / 2 +
 * 0.5 - z(0.975) * sigma_U) with the tie-corrected sigma_U of the
 * Mann-Whitney test (the continuity-corrected normal quantile of U);
 * ci_coverage is then NaN. When K < 1 (groups too small for 95%) the CI is
 * n/a and `reason` says so; the shift stays defined.
 */
struct lesion_hodges_lehmann {
	size_t n_a, n_b, n_missing;
	double shift;              /* median of b_j - a_i */
	int exact;                 /* 1: K from the exact null distribution */
	size_t ci_rank;            /* K; 0 when the CI is n/a */
	double ci_low, ci_high, ci_coverage;
	char reason[LESION_STATS_REASON_MAX];
};

/* lesion_hodges_lehmann_estimate() - the shift of @b (B) against @a (A) and
 * its CI. Memory is O(n_a + n_b) (the n_a n_b differences are never stored).
 * Returns LESION_OK, LESION_ERR_USAGE or LESION_ERR_INTERNAL. */
enum lesion_status lesion_hodges_lehmann_estimate(const double *a, size_t n_a,
						  const double *b, size_t n_b,
						  enum lesion_rank_method method,
						  struct lesion_hodges_lehmann *out,
						  struct lesion_error *err);

/*
 * struct lesion_ols - an ordinary least-squares fit y = X beta + e, solved by
 * Householder QR (never the normal equations). For each of the n_terms
 * columns of X: coefficient, standard error, t, two-sided p and 95% CI with
 * df = n - n_terms residual degrees of freedom. rank < n_terms means a column
 * is (numerically) a linear combination of the columns before it: its
 * component orthogonal to them is below 1e-10 of its own length; then every
 * per-term field is NaN and `reason` names the column. A perfect fit
 * (residual_sd = 0) keeps the coefficients and sets se, t, p and CI to NaN
 * with a reason.
 */
struct lesion_ols {
	size_t n, n_missing, n_terms, rank;
	double df;
	double coef[LESION_OLS_MAX_TERMS];
	double se[LESION_OLS_MAX_TERMS];
	double t[LESION_OLS_MAX_TERMS];
	double p_value[LESION_OLS_MAX_TERMS];
	double ci_low[LESION_OLS_MAX_TERMS];
	double ci_high[LESION_OLS_MAX_TERMS];
	double residual_sd;        /* sqrt(RSS / df) */
	char reason[LESION_STATS_REASON_MAX];
};

/*
 * lesion_ols_fit() - least squares of @y (@n values) on the design @x, @n
 * rows of @n_terms columns stored row by row (x[i * n_terms + j]); include
 * the intercept column of ones yourself. Rows where y or any x is NaN or
 * infinite are skipped and counted in n_missing. @names (may be NULL: then
 * "column 1"...) names the columns in `reason`. Needs n > n_terms.
 * Returns LESION_OK, LESION_ERR_USAGE (n_terms 0 or above
 * LESION_OLS_MAX_TERMS, NULL arrays) or LESION_ERR_INTERNAL.
 */
enum lesion_status lesion_ols_fit(const double *x, const double *y, size_t n,
				  size_t n_terms, const char *const *names,
				  struct lesion_ols *out, struct lesion_error *err);

/* The scale of an ANCOVA (lesion_ancova_fit()). */
enum lesion_ancova_scale {
	LESION_ANCOVA_LOG = 0,     /* log(mL + c) on group + log(baseline mL + c) */
	LESION_ANCOVA_RAW = 1,     /* mm^3 on group + baseline mm^3 */
};

/*
 * struct lesion_ancova_input - one subject per index i < n: group[i] is 0
 * for A (reference) or 1 for B, baseline_mm3[i] and followup_mm3[i] the
 * lesion volumes, covariates[k][i] the k-th extra covariate (age, NIHSS...).
 * Subjects with any missing (NaN or infinite) value, or whose log-scale value
 * is not finite (a zero volume with log_offset_ml = 0), are skipped and
 * counted.
 */
struct lesion_ancova_input {
	size_t n;
	const int *group;
	const double *baseline_mm3;
	const double *followup_mm3;
	size_t n_covariates;                 /* at most LESION_OLS_MAX_TERMS - 3 */
	const double *const *covariates;     /* n_covariates arrays of n values */
	const char *const *covariate_names;  /* for reasons; may be NULL */
	double log_offset_ml;                /* c >= 0, --log-offset-ml (1) */
};

/*
 * struct lesion_ancova - the group effect of an ANCOVA (Vickers & Altman
 * 2001). Model terms, in this order: intercept, group (B = 1, A = 0),
 * baseline, covariates. On LESION_ANCOVA_LOG the response is
 * ln(followup_ml + c) and the baseline term ln(baseline_ml + c) (ml =
 * mm3 / 1000); coef is the adjusted difference in log volume and ratio =
 * exp(coef) the ratio of adjusted geometric means of (volume + c), B over A,
 * with CI exp(ci_low), exp(ci_high). On LESION_ANCOVA_RAW the response is
 * followup_mm3 and the baseline term baseline_mm3; coef is the adjusted
 * difference in mm^3 and the ratio fields are NaN. `fit` holds the whole
 * model. Needs at least one subject per group and n above the number of
 * terms.
 */
struct lesion_ancova {
	enum lesion_ancova_scale scale;
	size_t n_a, n_b, n_missing;
	double coef, se, t, df, p_value, ci_low, ci_high;
	double ratio, ratio_ci_low, ratio_ci_high;
	struct lesion_ols fit;
	char reason[LESION_STATS_REASON_MAX];
};

/*
 * lesion_ancova_fit() - fit the ANCOVA of @in on @scale. Returns LESION_OK,
 * LESION_ERR_USAGE (group values other than 0 and 1, a negative or
 * non-finite log_offset_ml, too many covariates, NULL arrays) or
 * LESION_ERR_INTERNAL.
 */
enum lesion_status lesion_ancova_fit(const struct lesion_ancova_input *in,
				     enum lesion_ancova_scale scale,
				     struct lesion_ancova *out,
				     struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
