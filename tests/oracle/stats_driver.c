/* stats_driver.c: runs every function of lesionvol/stats.h on a JSON job read
 * from stdin and prints the results as JSON, for tests/oracle/test_stats.py.
 *
 * Job: {"a": [...], "b": [...], "method": "auto|exact|asymptotic",
 *       "ancova": {"group": [0|1...], "baseline_mm3": [...],
 *                  "followup_mm3": [...], "covariates": [[...]...],
 *                  "covariate_names": [...], "log_offset_ml": 1},
 *       "ols": {"x": [[row]...], "y": [...], "names": [...]}}
 * Every part is optional; null in a number array means NaN. Output: one
 * object per statistic, NaN printed as null. A library error prints
 * {"error": message} and exits with its status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "lesionvol/stats.h"

static char *read_all(FILE *f)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* the numbers of @arr as doubles (null -> NaN); *n gets the length */
static double *numbers(const cJSON *arr, size_t *n)
{
	*n = (size_t)cJSON_GetArraySize(arr);
	double *v = malloc((*n ? *n : 1) * sizeof(*v));
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
		v[i++] = cJSON_IsNumber(it) ? it->valuedouble : NAN;
	return v;
}

/* cJSON prints 15 significant digits when they round-trip within its
 * tolerance, which is not exact; the test compares to the last bit */
static cJSON *exact_number(double v)
{
	char buf[40];
	if (!isfinite(v))
		return cJSON_CreateNull();
	snprintf(buf, sizeof(buf), "%.17g", v);
	return cJSON_CreateRaw(buf);
}

static void num(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddItemToObject(o, key, exact_number(v));
	else if (isnan(v))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, v > 0 ? "inf" : "-inf");
}

static void reason(cJSON *o, const char *r)
{
	if (r[0])
		cJSON_AddStringToObject(o, "reason", r);
	else
		cJSON_AddNullToObject(o, "reason");
}

static int fail(const struct lesion_error *err, enum lesion_status st)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", err->message);
	char *s = cJSON_PrintUnformatted(o);
	puts(s);
	free(s);
	cJSON_Delete(o);
	return (int)st;
}

static enum lesion_rank_method parse_method(const cJSON *job)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(job, "method");
	if (cJSON_IsString(m) && !strcmp(m->valuestring, "exact"))
		return LESION_RANK_EXACT;
	if (cJSON_IsString(m) && !strcmp(m->valuestring, "asymptotic"))
		return LESION_RANK_ASYMPTOTIC;
	return LESION_RANK_AUTO;
}

static enum lesion_status two_groups(const cJSON *job, cJSON *res,
				     struct lesion_error *err)
{
	size_t na, nb;
	double *a = numbers(cJSON_GetObjectItemCaseSensitive(job, "a"), &na);
	double *b = numbers(cJSON_GetObjectItemCaseSensitive(job, "b"), &nb);
	enum lesion_status st;
	struct lesion_descriptives d;
	const char *dname[2] = { "descriptives_a", "descriptives_b" };
	for (int g = 0; g < 2; g++) {
		if ((st = lesion_descriptives_compute(g ? b : a, g ? nb : na, &d, err)))
			goto out;
		cJSON *o = cJSON_AddObjectToObject(res, dname[g]);
		num(o, "n", (double)d.n);
		num(o, "n_missing", (double)d.n_missing);
		num(o, "mean", d.mean);
		num(o, "sd", d.sd);
		num(o, "median", d.median);
		num(o, "q1", d.q1);
		num(o, "q3", d.q3);
		num(o, "min", d.min);
		num(o, "max", d.max);
		reason(o, d.reason);
	}

	struct lesion_welch w;
	if ((st = lesion_welch_test(a, na, b, nb, &w, err)))
		goto out;
	cJSON *o = cJSON_AddObjectToObject(res, "welch");
	num(o, "n_a", (double)w.n_a);
	num(o, "n_b", (double)w.n_b);
	num(o, "n_missing", (double)w.n_missing);
	num(o, "mean_a", w.mean_a);
	num(o, "mean_b", w.mean_b);
	num(o, "sd_a", w.sd_a);
	num(o, "sd_b", w.sd_b);
	num(o, "difference", w.difference);
	num(o, "se", w.se);
	num(o, "t", w.t);
	num(o, "df", w.df);
	num(o, "p_value", w.p_value);
	num(o, "ci_low", w.ci_low);
	num(o, "ci_high", w.ci_high);
	reason(o, w.reason);

	struct lesion_hedges_g h;
	if ((st = lesion_hedges_g_compute(a, na, b, nb, &h, err)))
		goto out;
	o = cJSON_AddObjectToObject(res, "hedges_g");
	num(o, "pooled_sd", h.pooled_sd);
	num(o, "cohen_d", h.cohen_d);
	num(o, "correction", h.correction);
	num(o, "g", h.g);
	num(o, "se", h.se);
	num(o, "ci_low", h.ci_low);
	num(o, "ci_high", h.ci_high);
	reason(o, h.reason);

	enum lesion_rank_method method = parse_method(job);
	struct lesion_mann_whitney mw;
	if ((st = lesion_mann_whitney_test(a, na, b, nb, method, &mw, err)))
		goto out;
	o = cJSON_AddObjectToObject(res, "mann_whitney");
	num(o, "n_a", (double)mw.n_a);
	num(o, "n_b", (double)mw.n_b);
	num(o, "n_missing", (double)mw.n_missing);
	num(o, "u_a", mw.u_a);
	num(o, "u_b", mw.u_b);
	cJSON_AddBoolToObject(o, "exact", mw.exact);
	cJSON_AddBoolToObject(o, "ties", mw.ties);
	num(o, "z", mw.z);
	num(o, "p_value", mw.p_value);
	reason(o, mw.reason);

	struct lesion_hodges_lehmann hl;
	if ((st = lesion_hodges_lehmann_estimate(a, na, b, nb, method, &hl, err)))
		goto out;
	o = cJSON_AddObjectToObject(res, "hodges_lehmann");
	num(o, "shift", hl.shift);
	cJSON_AddBoolToObject(o, "exact", hl.exact);
	num(o, "ci_rank", (double)hl.ci_rank);
	num(o, "ci_low", hl.ci_low);
	num(o, "ci_high", hl.ci_high);
	num(o, "ci_coverage", hl.ci_coverage);
	reason(o, hl.reason);
out:
	free(a);
	free(b);
	return st;
}

static void ols_json(cJSON *o, const struct lesion_ols *f)
{
	num(o, "n", (double)f->n);
	num(o, "n_missing", (double)f->n_missing);
	num(o, "rank", (double)f->rank);
	num(o, "df", f->df);
	num(o, "residual_sd", f->residual_sd);
	const char *keys[] = { "coef", "se", "t", "p_value", "ci_low", "ci_high" };
	const double *vals[] = { f->coef, f->se, f->t, f->p_value, f->ci_low, f->ci_high };
	for (int k = 0; k < 6; k++) {
		cJSON *arr = cJSON_AddArrayToObject(o, keys[k]);
		for (size_t j = 0; j < f->n_terms; j++)
			cJSON_AddItemToArray(arr, exact_number(vals[k][j]));
	}
	reason(o, f->reason);
}

static enum lesion_status ancova(const cJSON *job, cJSON *res, struct lesion_error *err)
{
	size_t n, nb, nf, ng = 0;
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(job, "group"), *it;
	int *group = malloc(((size_t)cJSON_GetArraySize(groups) + 1) * sizeof(*group));
	cJSON_ArrayForEach(it, groups)
		group[ng++] = it->valueint;
	double *base = numbers(cJSON_GetObjectItemCaseSensitive(job, "baseline_mm3"), &nb);
	double *fu = numbers(cJSON_GetObjectItemCaseSensitive(job, "followup_mm3"), &nf);
	n = ng;
	const cJSON *covs = cJSON_GetObjectItemCaseSensitive(job, "covariates");
	const cJSON *cnames = cJSON_GetObjectItemCaseSensitive(job, "covariate_names");
	const cJSON *offset = cJSON_GetObjectItemCaseSensitive(job, "log_offset_ml");
	size_t nc = (size_t)cJSON_GetArraySize(covs), k = 0, dummy;
	double *cov[LESION_OLS_MAX_TERMS] = { 0 };
	const char *names[LESION_OLS_MAX_TERMS] = { 0 };
	cJSON_ArrayForEach(it, covs)
		if (k < LESION_OLS_MAX_TERMS)
			cov[k++] = numbers(it, &dummy);
	k = 0;
	cJSON_ArrayForEach(it, cnames)
		if (k < LESION_OLS_MAX_TERMS)
			names[k++] = it->valuestring;
	struct lesion_ancova_input in = {
		.n = n, .group = group, .baseline_mm3 = base, .followup_mm3 = fu,
		.n_covariates = nc, .covariates = (const double *const *)cov,
		.covariate_names = cnames ? names : NULL,
		.log_offset_ml = cJSON_IsNumber(offset) ? offset->valuedouble : 1.0,
	};
	enum lesion_status st = LESION_OK;
	const char *key[2] = { "ancova_log", "ancova_raw" };
	for (int s = 0; s < 2 && !st; s++) {
		struct lesion_ancova r;
		st = lesion_ancova_fit(&in, s ? LESION_ANCOVA_RAW : LESION_ANCOVA_LOG, &r, err);
		if (st)
			break;
		cJSON *o = cJSON_AddObjectToObject(res, key[s]);
		num(o, "n_a", (double)r.n_a);
		num(o, "n_b", (double)r.n_b);
		num(o, "n_missing", (double)r.n_missing);
		num(o, "coef", r.coef);
		num(o, "se", r.se);
		num(o, "t", r.t);
		num(o, "df", r.df);
		num(o, "p_value", r.p_value);
		num(o, "ci_low", r.ci_low);
		num(o, "ci_high", r.ci_high);
		num(o, "ratio", r.ratio);
		num(o, "ratio_ci_low", r.ratio_ci_low);
		num(o, "ratio_ci_high", r.ratio_ci_high);
		reason(o, r.reason);
		ols_json(cJSON_AddObjectToObject(o, "fit"), &r.fit);
	}
	for (size_t i = 0; i < LESION_OLS_MAX_TERMS; i++)
		free(cov[i]);
	free(group);
	free(base);
	free(fu);
	return st;
}

static enum lesion_status ols(const cJSON *job, cJSON *res, struct lesion_error *err)
{
	size_t n, p = 0, r = 0;
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(job, "x"), *row, *it;
	double *y = numbers(cJSON_GetObjectItemCaseSensitive(job, "y"), &n);
	if (cJSON_GetArraySize(rows) > 0)
		p = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
	double *x = malloc((n * p + 1) * sizeof(*x));
	cJSON_ArrayForEach(row, rows) {
		size_t j = 0;
		cJSON_ArrayForEach(it, row)
			if (j < p)
				x[r * p + j++] = cJSON_IsNumber(it) ? it->valuedouble : NAN;
		r++;
	}
	const char *names[LESION_OLS_MAX_TERMS] = { 0 };
	const cJSON *jn = cJSON_GetObjectItemCaseSensitive(job, "names");
	size_t k = 0;
	cJSON_ArrayForEach(it, jn)
		if (k < LESION_OLS_MAX_TERMS)
			names[k++] = it->valuestring;
	struct lesion_ols fit;
	enum lesion_status st = lesion_ols_fit(x, y, n, p, jn ? names : NULL, &fit, err);
	if (!st)
		ols_json(cJSON_AddObjectToObject(res, "ols"), &fit);
	free(x);
	free(y);
	return st;
}

int main(void)
{
	struct lesion_error err = { 0 };
	enum lesion_status st = LESION_OK;
	char *text = read_all(stdin);
	cJSON *job = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!job) {
		fputs("stats_driver: cannot parse the job on stdin\n", stderr);
		return 2;
	}
	cJSON *res = cJSON_CreateObject();
	if (cJSON_GetObjectItemCaseSensitive(job, "a"))
		st = two_groups(job, res, &err);
	const cJSON *part = cJSON_GetObjectItemCaseSensitive(job, "ancova");
	if (!st && part)
		st = ancova(part, res, &err);
	part = cJSON_GetObjectItemCaseSensitive(job, "ols");
	if (!st && part)
		st = ols(part, res, &err);
	int rc = 0;
	if (st) {
		rc = fail(&err, st);
	} else {
		char *s = cJSON_PrintUnformatted(res);
		puts(s);
		free(s);
	}
	cJSON_Delete(res);
	cJSON_Delete(job);
	return rc;
}
