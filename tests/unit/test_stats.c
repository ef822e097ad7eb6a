/* test_stats.c: hand-checkable cases of lesionvol/stats.h (the thorough
 * comparison with scipy and statsmodels is tests/oracle/test_stats.py). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lesionvol/stats.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void test_stats__descriptives_interpolate_quartiles_like_numpy(void **state)
{
	(void)state;
	double x[] = { 4, NAN, 1, 3, 2 };
	struct lesion_descriptives d;
	assert_int_equal(lesion_descriptives_compute(x, 5, &d, NULL), LESION_OK);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.n_missing, 1);
	NEAR(d.mean, 2.5, 1e-15);
	NEAR(d.sd, sqrt(5.0 / 3), 1e-15);   /* sum of squares 5, n - 1 = 3 */
	NEAR(d.q1, 1.75, 1e-15);            /* position 0.75 between 1 and 2 */
	NEAR(d.median, 2.5, 1e-15);
	NEAR(d.q3, 3.25, 1e-15);
	assert_true(d.min == 1 && d.max == 4);
	assert_string_equal(d.reason, "");
}

static void test_stats__descriptives_of_one_value_have_no_sd(void **state)
{
	(void)state;
	double x[] = { 7 };
	struct lesion_descriptives d;
	assert_int_equal(lesion_descriptives_compute(x, 1, &d, NULL), LESION_OK);
	assert_true(d.median == 7 && d.q1 == 7 && d.q3 == 7);
	assert_true(isnan(d.sd));
	assert_non_null(strstr(d.reason, "at least 2"));
}

static void test_stats__t_with_one_df_is_cauchy(void **state)
{
	(void)state;
	/* P(T > t) = 1/2 - atan(t) / pi for one degree of freedom */
	NEAR(lesion_stats_t_sf(1, 1), 0.25, 1e-14);
	NEAR(lesion_stats_t_sf(3, 1), 0.5 - atan(3.0) / acos(-1.0), 1e-14);
	NEAR(lesion_stats_t_quantile(0.975, 1), tan(acos(-1.0) * 0.475), 1e-9);
	NEAR(lesion_stats_normal_quantile(0.975), 1.959963984540054, 1e-12);
	assert_true(isnan(lesion_stats_t_sf(1, 0)));
}

static void test_stats__welch_on_two_samples_of_three(void **state)
{
	(void)state;
	/* means 2 and 5, variances 1 and 1: se^2 = 1/3 + 1/3, df = 4 */
	double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
	struct lesion_welch w;
	assert_int_equal(lesion_welch_test(a, 3, b, 3, &w, NULL), LESION_OK);
	assert_string_equal(w.reason, "");
	double t = 3 / sqrt(2.0 / 3);
	NEAR(w.difference, 3, 1e-15);
	NEAR(w.t, t, 1e-12);
	NEAR(w.df, 4, 1e-12);
	/* the t(4) distribution function in closed form */
	double s = t / sqrt(4 + t * t);
	double p = 2 * (0.5 - (1.5 * s - 0.5 * s * s * s) / 2);
	NEAR(w.p_value, p, 1e-12);
	double q = lesion_stats_t_quantile(0.975, 4);
	NEAR(w.ci_low, 3 - q * sqrt(2.0 / 3), 1e-12);
}

static void test_stats__welch_needs_two_values_and_some_variance(void **state)
{
	(void)state;
	double a[] = { 1 }, b[] = { 4, 5, 6 }, c[] = { 2, 2 }, d[] = { 3, 3 };
	struct lesion_welch w;
	assert_int_equal(lesion_welch_test(a, 1, b, 3, &w, NULL), LESION_OK);
	assert_true(isnan(w.p_value) && isnan(w.t));
	assert_non_null(strstr(w.reason, "reference group has 1 value"));
	assert_int_equal(lesion_welch_test(NULL, 0, b, 3, &w, NULL), LESION_OK);
	assert_non_null(strstr(w.reason, "has 0 values"));
	assert_int_equal(lesion_welch_test(c, 2, d, 2, &w, NULL), LESION_OK);
	assert_string_equal(w.reason, "both groups have zero variance");
	assert_int_equal(lesion_welch_test(NULL, 3, b, 3, &w, NULL), LESION_ERR_USAGE);
}

static void test_stats__hedges_g_applies_small_sample_correction(void **state)
{
	(void)state;
	double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
	struct lesion_hedges_g h;
	assert_int_equal(lesion_hedges_g_compute(a, 3, b, 3, &h, NULL), LESION_OK);
	NEAR(h.pooled_sd, 1, 1e-15);
	NEAR(h.cohen_d, 3, 1e-15);
	NEAR(h.correction, 0.8, 1e-15);     /* 1 - 3 / (4 * 6 - 9) */
	NEAR(h.g, 2.4, 1e-14);
	NEAR(h.se, sqrt(6.0 / 9 + 2.4 * 2.4 / 12), 1e-14);
}

static void test_stats__mann_whitney_exact_p_counted_by_hand(void **state)
{
	(void)state;
	/* 2 + 3 values: C(5, 2) = 10 orderings, U counts 1 1 2 2 2 1 1 */
	double a[] = { 1, 2 }, b[] = { 3, 4, 5 };
	struct lesion_mann_whitney m;
	assert_int_equal(lesion_mann_whitney_test(a, 2, b, 3, LESION_RANK_AUTO, &m, NULL),
			 LESION_OK);
	assert_true(m.exact && !m.ties);
	assert_true(m.u_a == 0 && m.u_b == 6);
	NEAR(m.p_value, 2 * 1.0 / 10, 1e-15);       /* P(U = 6) = 1/10 */
	double c[] = { 1, 3 }, d[] = { 2, 4, 5 };
	assert_int_equal(lesion_mann_whitney_test(c, 2, d, 3, LESION_RANK_AUTO, &m, NULL),
			 LESION_OK);
	assert_true(m.u_a == 1 && m.u_b == 5);
	NEAR(m.p_value, 2 * 2.0 / 10, 1e-15);       /* P(U >= 5) = 2/10 */
	assert_true(isnan(m.z));
}

static void test_stats__mann_whitney_with_all_values_tied_has_p_one(void **state)
{
	(void)state;
	double a[] = { 5, 5, 5 }, b[] = { 5, 5 };
	struct lesion_mann_whitney m;
	assert_int_equal(lesion_mann_whitney_test(a, 3, b, 2, LESION_RANK_AUTO, &m, NULL),
			 LESION_OK);
	assert_true(m.ties && !m.exact);
	assert_true(m.u_a == 3 && m.p_value == 1);
	assert_string_equal(m.reason, "");
}

static void test_stats__hodges_lehmann_is_median_of_differences(void **state)
{
	(void)state;
	/* b - a: 2 1 3 2 4 3 -> median (2 + 3) / 2; P(U = 0) = 1/10 > 2.5%,
	 * so no 95% interval exists */
	double a[] = { 1, 2 }, b[] = { 3, 4, 5 };
	struct lesion_hodges_lehmann h;
	assert_int_equal(lesion_hodges_lehmann_estimate(a, 2, b, 3, LESION_RANK_AUTO,
							 &h, NULL), LESION_OK);
	NEAR(h.shift, 2.5, 1e-15);
	assert_true(isnan(h.ci_low) && h.ci_rank == 0);
	assert_non_null(strstr(h.reason, "too small"));
	/* 4 + 4: P(U <= 0) = 1/70 <= 2.5% < P(U <= 1) = 2/70, so K = 1: the CI
	 * spans the smallest to the largest difference */
	double c[] = { 0, 1, 2, 3 }, d[] = { 10, 11, 12, 13 };
	assert_int_equal(lesion_hodges_lehmann_estimate(c, 4, d, 4, LESION_RANK_AUTO,
							 &h, NULL), LESION_OK);
	assert_int_equal(h.ci_rank, 1);
	NEAR(h.shift, 10, 1e-15);
	assert_true(h.ci_low == 7 && h.ci_high == 13);
	NEAR(h.ci_coverage, 1 - 2.0 / 70, 1e-15);
}

static void test_stats__ols_recovers_noiseless_coefficients(void **state)
{
	(void)state;
	/* y = 2 + 3 x1 - 0.5 x2 exactly */
	double x[6 * 3], y[6];
	for (int i = 0; i < 6; i++) {
		double x1 = i, x2 = (i * i) % 5;
		x[i * 3] = 1;
		x[i * 3 + 1] = x1;
		x[i * 3 + 2] = x2;
		y[i] = 2 + 3 * x1 - 0.5 * x2;
	}
	struct lesion_ols f;
	assert_int_equal(lesion_ols_fit(x, y, 6, 3, NULL, &f, NULL), LESION_OK);
	assert_int_equal(f.rank, 3);
	NEAR(f.df, 3, 0);
	NEAR(f.coef[0], 2, 1e-12);
	NEAR(f.coef[1], 3, 1e-12);
	NEAR(f.coef[2], -0.5, 1e-12);
	NEAR(f.residual_sd, 0, 1e-12);
}

static void test_stats__ols_names_the_collinear_column(void **state)
{
	(void)state;
	double x[5 * 3], y[5] = { 1, 4, 2, 8, 5 };
	for (int i = 0; i < 5; i++) {
		x[i * 3] = 1;
		x[i * 3 + 1] = i;
		x[i * 3 + 2] = 10 - 2 * i;   /* 10 * intercept - 2 * x1 */
	}
	const char *names[] = { "intercept", "x1", "x2" };
	struct lesion_ols f;
	assert_int_equal(lesion_ols_fit(x, y, 5, 3, names, &f, NULL), LESION_OK);
	assert_int_equal(f.rank, 2);
	assert_true(isnan(f.coef[0]) && isnan(f.p_value[1]));
	assert_string_equal(f.reason, "the design is rank deficient: 'x2' is a linear "
			    "combination of the terms before it");
	assert_int_equal(lesion_ols_fit(x, y, 5, 0, NULL, &f, NULL), LESION_ERR_USAGE);
}

static void test_stats__ancova_log_ratio_is_exp_of_group_coefficient(void **state)
{
	(void)state;
	/* ln(fu + 1) = 0.2 + 0.9 ln(base + 1) - 0.3 group + small noise (mL) */
	double base[8], fu[8], noise[8] = { 0.01, -0.02, 0.015, 0, -0.01, 0.02, -0.005, 0 };
	int group[8];
	for (int i = 0; i < 8; i++) {
		group[i] = i >= 4;
		base[i] = 1000.0 * (i + 1) * 3;
		double lfu = 0.2 + 0.9 * log(base[i] / 1000 + 1) - 0.3 * group[i] + noise[i];
		fu[i] = (exp(lfu) - 1) * 1000;
	}
	struct lesion_ancova_input in = { .n = 8, .group = group, .baseline_mm3 = base,
					  .followup_mm3 = fu, .log_offset_ml = 1 };
	struct lesion_ancova r;
	assert_int_equal(lesion_ancova_fit(&in, LESION_ANCOVA_LOG, &r, NULL), LESION_OK);
	assert_string_equal(r.reason, "");
	assert_true(r.n_a == 4 && r.n_b == 4 && r.df == 5);
	NEAR(r.coef, -0.3, 0.03);
	NEAR(r.ratio, exp(r.coef), 1e-15);
	NEAR(r.ratio_ci_low, exp(r.ci_low), 1e-15);
	assert_true(r.ratio_ci_low < r.ratio && r.ratio < r.ratio_ci_high);
	assert_true(r.p_value < 0.05);
	assert_int_equal(lesion_ancova_fit(&in, LESION_ANCOVA_RAW, &r, NULL), LESION_OK);
	assert_true(isnan(r.ratio) && r.coef < 0);
}

/* nifticdf keeps its state in static variables: without the library's lock,
 * threads computing different p-values at once get each other's answers */
struct cdf_job {
	double df;
	int wrong;
};

static void *cdf_worker(void *arg)
{
	struct cdf_job *job = arg;
	double want_p = lesion_stats_t_sf(2.5, job->df);
	double want_q = lesion_stats_t_quantile(0.975, job->df);
	for (int i = 0; i < 20000; i++)
		if (lesion_stats_t_sf(2.5, job->df) != want_p ||
		    lesion_stats_t_quantile(0.975, job->df) != want_q)
			job->wrong++;
	return NULL;
}

static void test_stats__distributions_are_thread_safe(void **state)
{
	(void)state;
	pthread_t th[4];
	struct cdf_job jobs[4] = { { 1.5, 0 }, { 3, 0 }, { 7.25, 0 }, { 40, 0 } };
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, cdf_worker, &jobs[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].wrong, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats__descriptives_interpolate_quartiles_like_numpy),
		cmocka_unit_test(test_stats__descriptives_of_one_value_have_no_sd),
		cmocka_unit_test(test_stats__t_with_one_df_is_cauchy),
		cmocka_unit_test(test_stats__distributions_are_thread_safe),
		cmocka_unit_test(test_stats__welch_on_two_samples_of_three),
		cmocka_unit_test(test_stats__welch_needs_two_values_and_some_variance),
		cmocka_unit_test(test_stats__hedges_g_applies_small_sample_correction),
		cmocka_unit_test(test_stats__mann_whitney_exact_p_counted_by_hand),
		cmocka_unit_test(test_stats__mann_whitney_with_all_values_tied_has_p_one),
		cmocka_unit_test(test_stats__hodges_lehmann_is_median_of_differences),
		cmocka_unit_test(test_stats__ols_recovers_noiseless_coefficients),
		cmocka_unit_test(test_stats__ols_names_the_collinear_column),
		cmocka_unit_test(test_stats__ancova_log_ratio_is_exp_of_group_coefficient),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
