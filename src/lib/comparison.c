/* comparison.c: comparison.json/.tsv, the group comparison
 * "Cohorts" (issue 7): per follow-up session, the ANCOVA of log follow-up
 * volume adjusted for log baseline (primary), the ANCOVA on mm^3, and
 * Welch / Hedges' g / Mann-Whitney / Hodges-Lehmann on delta and percent
 * change, with descriptives per group. */
#include "cohort_internal.h"

#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lesionvol/io.h"
#include "lesionvol/stats.h"

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int looks_like_control(const char *g)
{
	static const char *const words[] = {
		"control", "placebo", "sham", "standard", "usual", "vehicle", NULL,
	};
	for (int i = 0; words[i]; i++)
		if (strncasecmp(g, words[i], strlen(words[i])) == 0)
			return 1;
	return 0;
}

/*
 * The reference (A) and comparison (B) groups: --compare A,B, else the two
 * groups there are, the control-like one (control, placebo, sham...) or the
 * first in table order as the reference. Returns 0 when there is nothing to
 * compare (and says why in @why), -1 for a --compare naming a missing group.
 */
static int pick_groups(const struct lesion_cohort_data *d,
		       const struct lesion_cohort_group_options *opt,
		       const char **a, const char **b, char *why, size_t size)
{
	const char *named[2] = {NULL, NULL};
	int n = 0;
	for (int i = 0; i < d->n_groups; i++)
		if (d->groups[i]) {
			if (n < 2)
				named[n] = d->groups[i];
			n++;
		}
	if (opt->compare_a && opt->compare_b) {
		const char *want[2] = {opt->compare_a, opt->compare_b};
		for (int k = 0; k < 2; k++) {
			int found = 0;
			for (int i = 0; i < d->n_groups; i++)
				found |= same_str(d->groups[i], want[k]);
			if (!found) {
				snprintf(why, size, "--compare names group '%s', which no "
					 "participant belongs to", want[k]);
				return -1;
			}
		}
		*a = opt->compare_a;
		*b = opt->compare_b;
		return 1;
	}
	if (n != 2) {
		snprintf(why, size, "a comparison needs exactly two groups (there %s %d); "
			 "choose two with --compare A,B", n == 1 ? "is" : "are", n);
		return 0;
	}
	int ref = looks_like_control(named[1]) && !looks_like_control(named[0]) ? 1 : 0;
	*a = named[ref];
	*b = named[!ref];
	return 1;
}

static void add_num(cJSON *o, const char *key, double v)
{
	lesion_json_add_number(o, key, v);
}

static void add_reason(cJSON *o, const char *reason)
{
	if (reason && reason[0])
		cJSON_AddStringToObject(o, "reason", reason);
	else
		cJSON_AddNullToObject(o, "reason");
}

static cJSON *descriptives_json(const double *x, size_t n)
{
	struct lesion_descriptives d;
	cJSON *o = cJSON_CreateObject();
	if (lesion_descriptives_compute(x, n, &d, NULL) != LESION_OK)
		return o;
	add_num(o, "n", (double)d.n);
	add_num(o, "n_missing", (double)d.n_missing);
	add_num(o, "mean", d.mean);
	add_num(o, "sd", d.sd);
	add_num(o, "median", d.median);
	add_num(o, "q1", d.q1);
	add_num(o, "q3", d.q3);
	add_num(o, "min", d.min);
	add_num(o, "max", d.max);
	return o;
}

/* One line of comparison.tsv. */
struct tsv_row {
	const char *outcome, *test;
	double n_a, n_b, estimate, se, statistic, df, p, lo, hi, ratio, rlo, rhi;
	const char *note;
};

static void tsv_put(struct lesion_buf *b, const char *session, const char *ga,
		    const char *gb, const struct tsv_row *r)
{
	double v[] = {r->n_a, r->n_b, r->estimate, r->se, r->statistic, r->df, r->p,
		      r->lo, r->hi, r->ratio, r->rlo, r->rhi};
	lesion_buf_printf(b, "%s\t%s\t%s\t%s\t%s", session, ga, gb, r->outcome, r->test);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char num[64];
		lesion_number_format(v[i], num, sizeof(num));
		lesion_buf_printf(b, "\t%s", num);
	}
	char note[LESION_STATS_REASON_MAX + 64];
	snprintf(note, sizeof(note), "%s", r->note && r->note[0] ? r->note : "n/a");
	for (char *p = note; *p; p++)
		if (*p == '\t' || *p == '\n')
			*p = ' ';
	lesion_buf_printf(b, "\t%s\n", note);
}

static const char tsv_header[] =
	"session\treference_group\tcomparison_group\toutcome\ttest\tn_reference\t"
	"n_comparison\testimate\tse\tstatistic\tdf\tp_value\tci_low\tci_high\tratio\t"
	"ratio_ci_low\tratio_ci_high\tnote\n";

/* The two-sample tests of one outcome (delta or percent change). */
static cJSON *two_sample(const double *a, size_t na, const double *b, size_t nb,
			 const char *outcome, struct lesion_buf *tsv,
			 const char *session, const char *ga, const char *gb)
{
	struct lesion_welch w;
	struct lesion_hedges_g g;
	struct lesion_mann_whitney mw;
	struct lesion_hodges_lehmann hl;
	cJSON *o = cJSON_CreateObject(), *x;
	lesion_welch_test(a, na, b, nb, &w, NULL);
	lesion_hedges_g_compute(a, na, b, nb, &g, NULL);
	lesion_mann_whitney_test(a, na, b, nb, LESION_RANK_AUTO, &mw, NULL);
	lesion_hodges_lehmann_estimate(a, na, b, nb, LESION_RANK_AUTO, &hl, NULL);

	x = cJSON_AddObjectToObject(o, "welch");
	add_num(x, "difference", w.difference);
	add_num(x, "se", w.se);
	add_num(x, "t", w.t);
	add_num(x, "df", w.df);
	add_num(x, "p_value", w.p_value);
	add_num(x, "ci_low", w.ci_low);
	add_num(x, "ci_high", w.ci_high);
	add_reason(x, w.reason);
	tsv_put(tsv, session, ga, gb, &(struct tsv_row){outcome, "welch_t", (double)w.n_a,
		(double)w.n_b, w.difference, w.se, w.t, w.df, w.p_value, w.ci_low,
		w.ci_high, NAN, NAN, NAN, w.reason});

	x = cJSON_AddObjectToObject(o, "hedges_g");
	add_num(x, "g", g.g);
	add_num(x, "cohen_d", g.cohen_d);
	add_num(x, "se", g.se);
	add_num(x, "ci_low", g.ci_low);
	add_num(x, "ci_high", g.ci_high);
	add_reason(x, g.reason);
	tsv_put(tsv, session, ga, gb, &(struct tsv_row){outcome, "hedges_g", (double)g.n_a,
		(double)g.n_b, g.g, g.se, NAN, NAN, NAN, g.ci_low, g.ci_high, NAN, NAN,
		NAN, g.reason});

	x = cJSON_AddObjectToObject(o, "mann_whitney");
	add_num(x, "u_reference", mw.u_a);
	add_num(x, "u_comparison", mw.u_b);
	add_num(x, "z", mw.z);
	add_num(x, "p_value", mw.p_value);
	cJSON_AddStringToObject(x, "method", mw.exact ? "exact" :
				"normal approximation, tie-corrected, continuity-corrected");
	add_reason(x, mw.reason);
	tsv_put(tsv, session, ga, gb, &(struct tsv_row){outcome, "mann_whitney_u",
		(double)mw.n_a, (double)mw.n_b, NAN, NAN, mw.u_a, NAN, mw.p_value, NAN,
		NAN, NAN, NAN, NAN, mw.reason[0] ? mw.reason
				    : mw.exact ? "exact p" : "normal approximation"});

	x = cJSON_AddObjectToObject(o, "hodges_lehmann");
	add_num(x, "shift", hl.shift);
	add_num(x, "ci_low", hl.ci_low);
	add_num(x, "ci_high", hl.ci_high);
	add_num(x, "ci_coverage", hl.ci_coverage);
	add_reason(x, hl.reason);
	tsv_put(tsv, session, ga, gb, &(struct tsv_row){outcome, "hodges_lehmann",
		(double)hl.n_a, (double)hl.n_b, hl.shift, NAN, NAN, NAN, NAN, hl.ci_low,
		hl.ci_high, NAN, NAN, NAN, hl.reason});
	return o;
}

static cJSON *ancova_json(const struct lesion_ancova *m, const char *ga,
			  const char *gb, const char *session, struct lesion_buf *tsv,
			  char *sentence, size_t size)
{
	cJSON *o = cJSON_CreateObject();
	int log_scale = m->scale == LESION_ANCOVA_LOG;
	add_num(o, "n_reference", (double)m->n_a);
	add_num(o, "n_comparison", (double)m->n_b);
	add_num(o, "n_left_out", (double)m->n_missing);
	add_num(o, "coefficient", m->coef);
	add_num(o, "se", m->se);
	add_num(o, "t", m->t);
	add_num(o, "df", m->df);
	add_num(o, "p_value", m->p_value);
	add_num(o, "ci_low", m->ci_low);
	add_num(o, "ci_high", m->ci_high);
	if (log_scale) {
		add_num(o, "ratio", m->ratio);
		add_num(o, "ratio_ci_low", m->ratio_ci_low);
		add_num(o, "ratio_ci_high", m->ratio_ci_high);
	}
	add_reason(o, m->reason);
	sentence[0] = '\0';
	if (log_scale && isfinite(m->ratio) && isfinite(m->ratio_ci_low))
		snprintf(sentence, size, "session %s: %s follow-up volume %.2fx %s, "
			 "95%% CI %.2f-%.2f, p = %.3g (ANCOVA of log volume adjusted for "
			 "log baseline, n = %zu + %zu)", session, gb, m->ratio, ga,
			 m->ratio_ci_low, m->ratio_ci_high, m->p_value, m->n_b, m->n_a);
	if (sentence[0])
		cJSON_AddStringToObject(o, "summary", sentence);
	tsv_put(tsv, session, ga, gb, &(struct tsv_row){"followup_volume",
		log_scale ? "ancova_log" : "ancova_mm3", (double)m->n_a, (double)m->n_b,
		m->coef, m->se, m->t, m->df, m->p_value, m->ci_low, m->ci_high,
		log_scale ? m->ratio : NAN, log_scale ? m->ratio_ci_low : NAN,
		log_scale ? m->ratio_ci_high : NAN, m->reason[0] ? m->reason : sentence});
	return o;
}

/* A covariate's value for one pair: the baseline's column, else the later one's. */
static double covariate_value(const struct lesion_cohort_pair *p, const char *name)
{
	const cJSON *srcs[2] = {p->baseline_extra, p->extra};
	for (int k = 0; k < 2; k++) {
		const cJSON *v = srcs[k] ? cJSON_GetObjectItemCaseSensitive(srcs[k], name) : NULL;
		if (cJSON_IsNumber(v))
			return v->valuedouble;
		if (cJSON_IsString(v) && v->valuestring[0]) {
			char *end;
			double x = strtod(v->valuestring, &end);
			while (isspace((unsigned char)*end))
				end++;
			return *end ? NAN : x;
		}
	}
	return NAN;
}

/* Everything about one follow-up session; NULL when it has no pair. */
static cJSON *session_json(const struct lesion_cohort_data *d,
			   const struct lesion_cohort_group_options *opt,
			   const char *session, const char *ga, const char *gb,
			   struct lesion_buf *tsv)
{
	size_t n = 0;
	int np = d->n_pairs;
	int *group = calloc((size_t)np + 1, sizeof(int));
	double *base = calloc((size_t)np + 1, sizeof(double));
	double *fu = calloc((size_t)np + 1, sizeof(double));
	double *cov = calloc((size_t)(np + 1) * (size_t)(opt->n_covariates + 1), sizeof(double));
	/* per group: delta, percent, baseline, volume */
	double *v[2][4];
	size_t nv[2] = {0, 0};
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < 4; k++)
			v[g][k] = calloc((size_t)np + 1, sizeof(double));
	cJSON *o = NULL;
	int ok = group && base && fu && cov;
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < 4; k++)
			ok = ok && v[g][k];
	if (!ok)
		goto out;
	for (int i = 0; i < np; i++) {
		const struct lesion_cohort_pair *p = &d->pairs[i];
		if (!same_str(p->session, session))
			continue;
		int g = same_str(p->group, ga) ? 0 : same_str(p->group, gb) ? 1 : -1;
		if (g < 0)
			continue;
		group[n] = g;
		base[n] = p->baseline_mm3;
		fu[n] = p->volume_mm3;
		for (int c = 0; c < opt->n_covariates; c++)
			cov[(size_t)c * (size_t)np + n] = covariate_value(p, opt->covariates[c]);
		n++;
		v[g][0][nv[g]] = p->delta_mm3;
		v[g][1][nv[g]] = p->percent_change;
		v[g][2][nv[g]] = p->baseline_mm3;
		v[g][3][nv[g]] = p->volume_mm3;
		nv[g]++;
	}
	if (n == 0)
		goto out;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "session", session);
	cJSON *desc = cJSON_AddObjectToObject(o, "descriptives");
	static const char *const measures[] = {
		"delta_mm3", "percent_change", "baseline_mm3", "volume_mm3",
	};
	for (int g = 0; g < 2; g++) {
		cJSON *dg = cJSON_AddObjectToObject(desc, g ? gb : ga);
		for (int k = 0; k < 4; k++)
			cJSON_AddItemToObject(dg, measures[k], descriptives_json(v[g][k], nv[g]));
	}
	const double *covp[LESION_OLS_MAX_TERMS];
	for (int c = 0; c < opt->n_covariates && c < LESION_OLS_MAX_TERMS; c++)
		covp[c] = cov + (size_t)c * (size_t)np;
	struct lesion_ancova_input in = {
		.n = n, .group = group, .baseline_mm3 = base, .followup_mm3 = fu,
		.n_covariates = (size_t)opt->n_covariates, .covariates = covp,
		.covariate_names = opt->covariates, .log_offset_ml = opt->log_offset_ml,
	};
	struct lesion_ancova m;
	char sentence[512];
	lesion_ancova_fit(&in, LESION_ANCOVA_LOG, &m, NULL);
	cJSON_AddItemToObject(o, "ancova_log", ancova_json(&m, ga, gb, session, tsv,
							   sentence, sizeof(sentence)));
	lesion_ancova_fit(&in, LESION_ANCOVA_RAW, &m, NULL);
	cJSON_AddItemToObject(o, "ancova_mm3", ancova_json(&m, ga, gb, session, tsv,
							   sentence, sizeof(sentence)));
	cJSON_AddItemToObject(o, "delta_mm3", two_sample(v[0][0], nv[0], v[1][0], nv[1],
						"delta_mm3", tsv, session, ga, gb));
	cJSON_AddItemToObject(o, "percent_change", two_sample(v[0][1], nv[0], v[1][1], nv[1],
						"percent_change", tsv, session, ga, gb));
out:
	free(group);
	free(base);
	free(fu);
	free(cov);
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < 4; k++)
			free(v[g][k]);
	return o;
}

/* Participants of a group without an ok pair for @session (left out). */
static int left_out(const struct lesion_cohort_data *d, const char *group,
		    const char *session)
{
	int missing = 0;
	for (int i = 0; i < d->n_participants; i++) {
		if (!same_str(d->participant_groups[i], group))
			continue;
		int found = 0;
		for (int k = 0; k < d->n_pairs && !found; k++)
			found = same_str(d->pairs[k].participant_id, d->participant_ids[i]) &&
				same_str(d->pairs[k].session, session);
		missing += !found;
	}
	return missing;
}

enum lesion_status lesion_cohort_write_comparison(const struct lesion_cohort_data *data,
						  const struct lesion_cohort_group_options *opt,
						  const char *out_dir,
						  struct lesion_error *err)
{
	const char *ga = NULL, *gb = NULL;
	char why[256] = "";
	enum lesion_status st = LESION_OK;
	struct lesion_buf tsv = {0}, js = {0};
	char *path = NULL;

	int picked = pick_groups(data, opt, &ga, &gb, why, sizeof(why));
	if (picked < 0)
		return lesion_error_set(err, LESION_ERR_USAGE, "%s", why);
	if (picked == 0)
		return LESION_OK; /* the report says why there is no comparison */
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "reference_group", ga);
	cJSON_AddStringToObject(root, "comparison_group", gb);
	cJSON_AddStringToObject(root, "differences", "comparison minus reference; ratios comparison / reference");
	add_num(root, "log_offset_ml", opt->log_offset_ml);
	cJSON *covs = cJSON_AddArrayToObject(root, "covariates");
	for (int c = 0; c < opt->n_covariates; c++)
		cJSON_AddItemToArray(covs, cJSON_CreateString(opt->covariates[c]));
	cJSON *sessions = cJSON_AddArrayToObject(root, "sessions");
	lesion_buf_puts(&tsv, tsv_header);
	for (int s = 0; s < data->n_sessions; s++) {
		cJSON *one = session_json(data, opt, data->sessions[s], ga, gb, &tsv);
		if (!one)
			continue;
		cJSON *lo = cJSON_CreateObject();
		add_num(lo, ga, left_out(data, ga, data->sessions[s]));
		add_num(lo, gb, left_out(data, gb, data->sessions[s]));
		cJSON_AddItemToObject(one, "left_out", lo);
		cJSON_AddItemToArray(sessions, one);
	}
	lesion_json_print(root, &js);
	cJSON_Delete(root);
	if (tsv.failed || js.failed) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	path = lesion_path_join(out_dir, "comparison.json");
	if (!path || (st = lesion_write_file_atomic(path, js.data, js.len, err)))
		goto out;
	free(path);
	path = lesion_path_join(out_dir, "comparison.tsv");
	if (!path || (st = lesion_write_file_atomic(path, tsv.data, tsv.len, err)))
		goto out;
out:
	if (!path && !st)
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	free(path);
	lesion_buf_release(&tsv);
	lesion_buf_release(&js);
	return st;
}
