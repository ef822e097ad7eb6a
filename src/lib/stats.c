/* stats.c: distributions, descriptives, Welch's t-test and Hedges' g. */
#include "stats_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nifti1.h>    /* NIFTI_INTENT_* codes only */
#include <nifticdf.h>

/*
 * nifticdf is DCDFLIB translated from Fortran: every local variable is
 * static, so two threads inside it at once corrupt each other's results.
 * All calls go through this lock. Arguments are checked before the call:
 * nifticdf answers a request out of range with a made-up value (1, 0 or
 * -9.99e37 seen), never NaN.
 */
static pthread_mutex_t cdf_lock = PTHREAD_MUTEX_INITIALIZER;

static double cdf_call(int quantile, double v, int code, double df)
{
	pthread_mutex_lock(&cdf_lock);
	double r = quantile ? nifti_cdf2stat(v, code, df, 0, 0)
			    : nifti_stat2rcdf(v, code, df, 0, 0);
	pthread_mutex_unlock(&cdf_lock);
	return isfinite(r) ? r : NAN;
}

double lesion_stats_t_sf(double t, double df)
{
	if (isnan(t) || !(df > 0) || !isfinite(df))
		return NAN;
	if (isinf(t))
		return t > 0 ? 0.0 : 1.0;
	return cdf_call(0, t, NIFTI_INTENT_TTEST, df);
}

double lesion_stats_t_quantile(double p, double df)
{
	if (!(p > 0 && p < 1) || !(df > 0) || !isfinite(df))
		return NAN;
	return cdf_call(1, p, NIFTI_INTENT_TTEST, df);
}

double lesion_stats_normal_sf(double z)
{
	if (isnan(z))
		return NAN;
	if (isinf(z))
		return z > 0 ? 0.0 : 1.0;
	return cdf_call(0, z, NIFTI_INTENT_ZSCORE, 0);
}

double lesion_stats_normal_quantile(double p)
{
	if (!(p > 0 && p < 1))
		return NAN;
	return cdf_call(1, p, NIFTI_INTENT_ZSCORE, 0);
}

void stats_na(char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, LESION_STATS_REASON_MAX, fmt, ap);
	va_end(ap);
}

const char *stats_group_name(int which)
{
	return which ? "comparison group" : "reference group";
}

static enum lesion_status finite_copy(const double *x, size_t n, double **out,
				      size_t *n_out, size_t *n_missing,
				      struct lesion_error *err)
{
	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return LESION_OK;
	double *c = malloc(n * sizeof(*c));
	if (!c)
		return lesion_error_set(err, LESION_ERR_INTERNAL,
					"out of memory for %zu values", n);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (isfinite(x[i]))
			c[k++] = x[i];
		else
			(*n_missing)++;
	}
	*out = c;
	*n_out = k;
	return LESION_OK;
}

enum lesion_status stats_two_groups(const double *a, size_t n_a,
				    const double *b, size_t n_b,
				    const void *out, const char *what,
				    double **fa, size_t *na, double **fb,
				    size_t *nb, size_t *n_missing,
				    struct lesion_error *err)
{
	*fa = *fb = NULL;
	*na = *nb = *n_missing = 0;
	if (!out || (!a && n_a) || (!b && n_b))
		return lesion_error_set(err, LESION_ERR_USAGE,
					"%s: NULL argument", what);
	enum lesion_status st = finite_copy(a, n_a, fa, na, n_missing, err);
	if (st)
		return st;
	st = finite_copy(b, n_b, fb, nb, n_missing, err);
	if (st) {
		free(*fa);
		*fa = NULL;
	}
	return st;
}

void stats_mean_var(const double *x, size_t n, double *mean, double *var)
{
	double s = 0, ss = 0;
	*mean = *var = NAN;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	*mean = s / (double)n;
	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++) {
		double d = x[i] - *mean;
		ss += d * d;
	}
	*var = ss / (double)(n - 1);
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* numpy's linear interpolation, including its switch to interpolating from
 * the upper neighbour when the fraction is >= 0.5 */
static double sorted_quantile(const double *s, size_t n, double q)
{
	double h = (double)(n - 1) * q;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return s[n - 1];
	double t = h - (double)lo, a = s[lo], b = s[lo + 1], d = b - a;
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

enum lesion_status lesion_descriptives_compute(const double *x, size_t n,
					       struct lesion_descriptives *out,
					       struct lesion_error *err)
{
	double *v;
	size_t nv;

	if (!out || (!x && n))
		return lesion_error_set(err, LESION_ERR_USAGE,
					"descriptives: NULL argument");
	memset(out, 0, sizeof(*out));
	out->mean = out->sd = out->median = out->q1 = out->q3 = NAN;
	out->min = out->max = NAN;
	enum lesion_status st = finite_copy(x, n, &v, &nv, &out->n_missing, err);
	if (st)
		return st;
	out->n = nv;
	if (nv == 0) {
		stats_na(out->reason, "no values");
		goto out;
	}
	double var;
	stats_mean_var(v, nv, &out->mean, &var);
	out->sd = sqrt(var);
	qsort(v, nv, sizeof(*v), cmp_double);
	out->min = v[0];
	out->max = v[nv - 1];
	out->median = sorted_quantile(v, nv, 0.5);
	out->q1 = sorted_quantile(v, nv, 0.25);
	out->q3 = sorted_quantile(v, nv, 0.75);
	if (nv < 2)
		stats_na(out->reason, "sd needs at least 2 values");
out:
	free(v);
	return LESION_OK;
}

/* 1 with a reason when a group has too few values for a variance */
static int too_small(char *reason, size_t na, size_t nb, const char *what)
{
	size_t n[2] = { na, nb };
	for (int g = 0; g < 2; g++) {
		if (n[g] < 2) {
			stats_na(reason, "the %s has %zu value%s; %s needs at least 2 per group",
				 stats_group_name(g), n[g], n[g] == 1 ? "" : "s", what);
			return 1;
		}
	}
	return 0;
}

enum lesion_status lesion_welch_test(const double *a, size_t n_a,
				     const double *b, size_t n_b,
				     struct lesion_welch *out,
				     struct lesion_error *err)
{
	double *fa, *fb, var_a, var_b;
	size_t na, nb, miss;
	enum lesion_status st = stats_two_groups(a, n_a, b, n_b, out, "welch test",
						 &fa, &na, &fb, &nb, &miss, err);
	if (st)
		return st;
	memset(out, 0, sizeof(*out));
	out->n_a = na;
	out->n_b = nb;
	out->n_missing = miss;
	stats_mean_var(fa, na, &out->mean_a, &var_a);
	stats_mean_var(fb, nb, &out->mean_b, &var_b);
	out->sd_a = sqrt(var_a);
	out->sd_b = sqrt(var_b);
	out->difference = out->mean_b - out->mean_a;
	out->se = out->t = out->df = out->p_value = NAN;
	out->ci_low = out->ci_high = NAN;
	if (too_small(out->reason, na, nb, "Welch's t-test"))
		goto out;
	double va = var_a / (double)na, vb = var_b / (double)nb;
	if (va + vb == 0) {
		stats_na(out->reason, "both groups have zero variance");
		goto out;
	}
	out->se = sqrt(va + vb);
	out->df = (va + vb) * (va + vb) /
		  (va * va / (double)(na - 1) + vb * vb / (double)(nb - 1));
	out->t = out->difference / out->se;
	out->p_value = fmin(1.0, 2 * lesion_stats_t_sf(fabs(out->t), out->df));
	double q = lesion_stats_t_quantile(0.5 + LESION_STATS_CI_LEVEL / 2, out->df);
	out->ci_low = out->difference - q * out->se;
	out->ci_high = out->difference + q * out->se;
out:
	free(fa);
	free(fb);
	return LESION_OK;
}

enum lesion_status lesion_hedges_g_compute(const double *a, size_t n_a,
					   const double *b, size_t n_b,
					   struct lesion_hedges_g *out,
					   struct lesion_error *err)
{
	double *fa, *fb, mean_a, mean_b, var_a, var_b;
	size_t na, nb, miss;
	enum lesion_status st = stats_two_groups(a, n_a, b, n_b, out, "hedges' g",
						 &fa, &na, &fb, &nb, &miss, err);
	if (st)
		return st;
	memset(out, 0, sizeof(*out));
	out->n_a = na;
	out->n_b = nb;
	out->n_missing = miss;
	out->pooled_sd = out->cohen_d = out->correction = out->g = NAN;
	out->se = out->ci_low = out->ci_high = NAN;
	if (too_small(out->reason, na, nb, "Hedges' g"))
		goto out;
	stats_mean_var(fa, na, &mean_a, &var_a);
	stats_mean_var(fb, nb, &mean_b, &var_b);
	double n = (double)(na + nb);
	out->pooled_sd = sqrt(((double)(na - 1) * var_a + (double)(nb - 1) * var_b) /
			      (n - 2));
	if (out->pooled_sd == 0) {
		stats_na(out->reason, "both groups have zero variance");
		goto out;
	}
	out->cohen_d = (mean_b - mean_a) / out->pooled_sd;
	out->correction = 1 - 3 / (4 * n - 9);
	out->g = out->correction * out->cohen_d;
	out->se = sqrt(n / ((double)na * (double)nb) + out->g * out->g / (2 * n));
	double z = lesion_stats_normal_quantile(0.5 + LESION_STATS_CI_LEVEL / 2);
	out->ci_low = out->g - z * out->se;
	out->ci_high = out->g + z * out->se;
out:
	free(fa);
	free(fb);
	return LESION_OK;
}
