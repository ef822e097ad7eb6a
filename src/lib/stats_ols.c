/* stats_ols.c: least squares by Householder QR, and the ANCOVA of
 * follow-up on group adjusted for baseline built on it. */
#include "stats_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a column whose part orthogonal to the columns before it is shorter than
 * this fraction of its length counts as a linear combination of them */
#define RANK_TOL 1e-10

static void ols_clear(struct lesion_ols *out, size_t n_terms)
{
	memset(out, 0, sizeof(*out));
	out->n_terms = n_terms;
	out->df = out->residual_sd = NAN;
	for (size_t j = 0; j < LESION_OLS_MAX_TERMS; j++)
		out->coef[j] = out->se[j] = out->t[j] = out->p_value[j] =
			out->ci_low[j] = out->ci_high[j] = NAN;
}

static void column_name(const char *const *names, size_t j, char *buf, size_t size)
{
	if (names && names[j])
		snprintf(buf, size, "'%s'", names[j]);
	else
		snprintf(buf, size, "column %zu", j + 1);
}

/*
 * Householder QR of the n x p column-major matrix @a in place (R on and above
 * the diagonal, the reflectors below), applied to @y as well. Returns the
 * index of the first column that is a linear combination of the ones before
 * it, or p when X has full column rank.
 */
static size_t householder_qr(double *a, double *y, size_t n, size_t p, double *rdiag)
{
	for (size_t k = 0; k < p; k++) {
		double *ak = a + k * n;
		double orig = 0, nrm = 0;
		for (size_t i = 0; i < n; i++)
			orig += ak[i] * ak[i];
		for (size_t i = k; i < n; i++)
			nrm += ak[i] * ak[i];
		orig = sqrt(orig);
		nrm = sqrt(nrm);
		if (nrm <= RANK_TOL * orig || nrm == 0)
			return k;
		double alpha = ak[k] > 0 ? -nrm : nrm;
		ak[k] -= alpha;
		double vtv = 0;
		for (size_t i = k; i < n; i++)
			vtv += ak[i] * ak[i];
		for (size_t j = k + 1; j <= p; j++) {
			double *c = j < p ? a + j * n : y;
			double s = 0;
			for (size_t i = k; i < n; i++)
				s += ak[i] * c[i];
			s = 2 * s / vtv;
			for (size_t i = k; i < n; i++)
				c[i] -= s * ak[i];
		}
		rdiag[k] = alpha;
	}
	return p;
}

enum lesion_status lesion_ols_fit(const double *x, const double *y, size_t n,
				  size_t n_terms, const char *const *names,
				  struct lesion_ols *out, struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	double *a = NULL, *z = NULL;
	size_t p = n_terms;

	if (!out || (n && (!x || !y)))
		return lesion_error_set(err, LESION_ERR_USAGE, "ols: NULL argument");
	if (p == 0 || p > LESION_OLS_MAX_TERMS)
		return lesion_error_set(err, LESION_ERR_USAGE,
					"ols: %zu terms, must be 1 to %d", p,
					LESION_OLS_MAX_TERMS);
	ols_clear(out, p);

	/* keep complete rows; the matrix goes column-major for the QR */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		int ok = isfinite(y[i]);
		for (size_t j = 0; j < p && ok; j++)
			ok = isfinite(x[i * p + j]);
		m += ok;
	}
	out->n = m;
	out->n_missing = n - m;
	out->df = (double)m - (double)p;
	if (m <= p) {
		stats_na(out->reason, "%zu complete observation%s for %zu model terms; "
			 "least squares needs more observations than terms",
			 m, m == 1 ? "" : "s", p);
		out->df = NAN;
		return LESION_OK;
	}
	a = malloc(m * p * sizeof(*a));
	z = malloc(m * sizeof(*z));
	if (!a || !z) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL,
				      "ols: out of memory for %zu observations", m);
		goto out;
	}
	for (size_t i = 0, r = 0; i < n; i++) {
		int ok = isfinite(y[i]);
		for (size_t j = 0; j < p && ok; j++)
			ok = isfinite(x[i * p + j]);
		if (!ok)
			continue;
		for (size_t j = 0; j < p; j++)
			a[j * m + r] = x[i * p + j];
		z[r++] = y[i];
	}

	double rdiag[LESION_OLS_MAX_TERMS];
	size_t bad = householder_qr(a, z, m, p, rdiag);
	out->rank = bad;
	if (bad < p) {
		char name[96];
		column_name(names, bad, name, sizeof(name));
		stats_na(out->reason, "the design is rank deficient: %s is %s",
			 name, bad == 0 ? "all zero" :
			 "a linear combination of the terms before it");
		goto out;
	}

	/* R is upper triangular: a[j * m + i] for i < j, rdiag[i] on the diagonal */
#define R(i, j) ((i) == (j) ? rdiag[i] : a[(j) * m + (i)])
	double rinv[LESION_OLS_MAX_TERMS][LESION_OLS_MAX_TERMS] = { { 0 } };
	for (size_t i = p; i-- > 0;) {
		double s = z[i];
		for (size_t j = i + 1; j < p; j++)
			s -= R(i, j) * out->coef[j];
		out->coef[i] = s / rdiag[i];
		/* column i of R^-1, from R rinv = I */
		rinv[i][i] = 1 / rdiag[i];
		for (size_t r = i; r-- > 0;) {
			double t = 0;
			for (size_t k = r + 1; k <= i; k++)
				t += R(r, k) * rinv[k][i];
			rinv[r][i] = -t / rdiag[r];
		}
	}
#undef R
	double rss = 0;
	for (size_t i = p; i < m; i++)
		rss += z[i] * z[i];
	out->residual_sd = sqrt(rss / out->df);

	double q = lesion_stats_t_quantile(0.5 + LESION_STATS_CI_LEVEL / 2, out->df);
	int exact_fit = 0;
	for (size_t j = 0; j < p; j++) {
		double v = 0;
		for (size_t k = j; k < p; k++)
			v += rinv[j][k] * rinv[j][k];
		out->se[j] = out->residual_sd * sqrt(v);
		out->t[j] = out->coef[j] / out->se[j];
		if (!(out->se[j] > 0) || !isfinite(out->t[j]))
			exact_fit = 1;
		out->p_value[j] = fmin(1.0, 2 * lesion_stats_t_sf(fabs(out->t[j]), out->df));
		out->ci_low[j] = out->coef[j] - q * out->se[j];
		out->ci_high[j] = out->coef[j] + q * out->se[j];
	}
	if (exact_fit) {
		for (size_t j = 0; j < p; j++)
			out->se[j] = out->t[j] = out->p_value[j] =
				out->ci_low[j] = out->ci_high[j] = NAN;
		stats_na(out->reason, "the model fits the data exactly (residual sd 0); "
			 "standard errors, t, p and CI are undefined");
	}
out:
	free(a);
	free(z);
	return st;
}

enum lesion_status lesion_ancova_fit(const struct lesion_ancova_input *in,
				     enum lesion_ancova_scale scale,
				     struct lesion_ancova *out,
				     struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	double *x = NULL, *y = NULL;

	if (!in || !out || (in->n && (!in->group || !in->baseline_mm3 ||
				      !in->followup_mm3 ||
				      (in->n_covariates && !in->covariates))))
		return lesion_error_set(err, LESION_ERR_USAGE, "ancova: NULL argument");
	if (in->n_covariates > LESION_OLS_MAX_TERMS - 3)
		return lesion_error_set(err, LESION_ERR_USAGE,
					"ancova: %zu covariates, at most %d allowed",
					in->n_covariates, LESION_OLS_MAX_TERMS - 3);
	if (scale == LESION_ANCOVA_LOG &&
	    (!isfinite(in->log_offset_ml) || in->log_offset_ml < 0))
		return lesion_error_set(err, LESION_ERR_USAGE,
					"ancova: log offset '%g' must be a finite value >= 0 mL",
					in->log_offset_ml);
	for (size_t i = 0; i < in->n; i++)
		if (in->group[i] != 0 && in->group[i] != 1)
			return lesion_error_set(err, LESION_ERR_USAGE,
						"ancova: group of subject %zu is %d, must be 0 or 1",
						i, in->group[i]);
	for (size_t k = 0; k < in->n_covariates; k++)
		if (in->n && !in->covariates[k])
			return lesion_error_set(err, LESION_ERR_USAGE,
						"ancova: covariate %zu is NULL", k + 1);

	memset(out, 0, sizeof(*out));
	out->scale = scale;
	out->coef = out->se = out->t = out->df = out->p_value = NAN;
	out->ci_low = out->ci_high = NAN;
	out->ratio = out->ratio_ci_low = out->ratio_ci_high = NAN;
	size_t p = 3 + in->n_covariates;
	ols_clear(&out->fit, p);

	x = malloc((in->n ? in->n : 1) * p * sizeof(*x));
	y = malloc((in->n ? in->n : 1) * sizeof(*y));
	if (!x || !y) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL,
				      "ancova: out of memory for %zu subjects", in->n);
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < in->n; i++) {
		double base = in->baseline_mm3[i], fu = in->followup_mm3[i];
		if (scale == LESION_ANCOVA_LOG) {
			base = log(base / 1000 + in->log_offset_ml);
			fu = log(fu / 1000 + in->log_offset_ml);
		}
		double *row = x + m * p;
		row[0] = 1;
		row[1] = in->group[i];
		row[2] = base;
		int ok = isfinite(base) && isfinite(fu);
		for (size_t k = 0; k < in->n_covariates; k++) {
			row[3 + k] = in->covariates[k][i];
			ok = ok && isfinite(row[3 + k]);
		}
		if (!ok)
			continue;
		y[m++] = fu;
		if (in->group[i])
			out->n_b++;
		else
			out->n_a++;
	}
	out->n_missing = in->n - m;
	if (out->n_a == 0 || out->n_b == 0) {
		stats_na(out->reason, "the %s has no subject with complete values",
			 stats_group_name(out->n_a != 0));
		goto out;
	}

	const char *names[LESION_OLS_MAX_TERMS] = {
		"intercept", "group",
		scale == LESION_ANCOVA_LOG ? "log baseline" : "baseline",
	};
	for (size_t k = 0; k < in->n_covariates; k++)
		names[3 + k] = in->covariate_names ? in->covariate_names[k] : NULL;
	st = lesion_ols_fit(x, y, m, p, names, &out->fit, err);
	if (st)
		goto out;
	out->fit.n_missing = out->n_missing;
	out->df = out->fit.df;
	out->coef = out->fit.coef[1];
	out->se = out->fit.se[1];
	out->t = out->fit.t[1];
	out->p_value = out->fit.p_value[1];
	out->ci_low = out->fit.ci_low[1];
	out->ci_high = out->fit.ci_high[1];
	memcpy(out->reason, out->fit.reason, sizeof(out->reason));
	if (scale == LESION_ANCOVA_LOG) {
		out->ratio = exp(out->coef);
		out->ratio_ci_low = exp(out->ci_low);
		out->ratio_ci_high = exp(out->ci_high);
		if (!out->reason[0] && (!isfinite(out->ratio) ||
					!isfinite(out->ratio_ci_high))) {
			out->ratio = out->ratio_ci_low = out->ratio_ci_high = NAN;
			stats_na(out->reason, "the ratio exp(%g) overflows", out->ci_high);
		}
	}
out:
	free(x);
	free(y);
	return st;
}
