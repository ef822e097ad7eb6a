/* tables.c: the group level's outputs: timepoints.tsv, changes.tsv,
 * groups.tsv (descriptives per group and session), dataset_description.json
 * and provenance.json, each written atomically. */
#include "aggregate_internal.h"
#include "io_internal.h"

#include <cJSON.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lesionvol/io.h"
#include "lesionvol/report.h"
#include "lesionvol/stats.h"

void lesion_cohort_group_options_init(struct lesion_cohort_group_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->log_offset_ml = 1.0;
	clock_gettime(CLOCK_REALTIME, &opt->started);
}

/* ---- TSV ---- */

static void tsv_cell(struct lesion_buf *b, const cJSON *v)
{
	char num[40];
	if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0])) {
		lesion_buf_puts(b, "n/a");
	} else if (cJSON_IsNumber(v)) {
		lesion_number_format(v->valuedouble, num, sizeof(num));
		lesion_buf_puts(b, num);
	} else if (cJSON_IsBool(v)) {
		lesion_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsString(v)) {
		/* a tab or line break inside a value would break the table */
		for (const char *p = v->valuestring; *p; p++)
			lesion_buf_put(b, (*p == '\t' || *p == '\n' || *p == '\r') ? " " : p, 1);
	} else {
		lesion_buf_puts(b, "n/a");
	}
}

static void tsv_rows(struct lesion_buf *b, const char *const *columns, const cJSON *rows)
{
	for (int c = 0; columns[c]; c++)
		lesion_buf_printf(b, "%s%s", c ? "\t" : "", columns[c]);
	lesion_buf_puts(b, "\n");
	const cJSON *r;
	cJSON_ArrayForEach(r, rows) {
		for (int c = 0; columns[c]; c++) {
			if (c)
				lesion_buf_puts(b, "\t");
			tsv_cell(b, cJSON_GetObjectItemCaseSensitive(r, columns[c]));
		}
		lesion_buf_puts(b, "\n");
	}
}

static enum lesion_status write_buf(const char *out_dir, const char *name,
				    struct lesion_buf *b, struct lesion_error *err)
{
	if (b->failed)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	char *path = lesion_path_join(out_dir, name);
	if (!path)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	enum lesion_status st = lesion_write_file_atomic(path, b->data ? b->data : "",
							 b->len, err);
	free(path);
	return st;
}

static enum lesion_status write_json(const char *out_dir, const char *name,
				     const cJSON *doc, struct lesion_error *err)
{
	struct lesion_buf b = {0};
	lesion_json_print(doc, &b);
	enum lesion_status st = write_buf(out_dir, name, &b, err);
	lesion_buf_release(&b);
	return st;
}

/* ---- sessions and groups in table order ---- */

struct session_key {
	const char *name;
	double sum_days, sum_rank;
	int n_days, n;
};

static int cmp_session(const void *a, const void *b)
{
	const struct session_key *x = a, *y = b;
	/* by mean days when known, then by mean position in participants'
	 * series, then by name: acute, subacute, chronic whatever the names */
	if ((x->n_days > 0) != (y->n_days > 0))
		return x->n_days > 0 ? -1 : 1;
	if (x->n_days > 0) {
		double dx = x->sum_days / x->n_days, dy = y->sum_days / y->n_days;
		if (dx != dy)
			return dx < dy ? -1 : 1;
	}
	double rx = x->sum_rank / x->n, ry = y->sum_rank / y->n;
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_group(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	if (!x || !y)
		return (x == NULL) - (y == NULL); /* no group last */
	return strcmp(x, y);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int order_sessions(const struct lesion_cohort_plan *plan,
			  struct lesion_cohort_data *d)
{
	int cap = 0;
	for (int i = 0; i < plan->n_participants; i++)
		cap += plan->participants[i].n_timepoints;
	struct session_key *k = calloc((size_t)cap + 1, sizeof(*k));
	d->sessions = calloc((size_t)cap + 1, sizeof(char *));
	if (!k || !d->sessions) {
		free(k);
		return -1;
	}
	int n = 0;
	for (int i = 0; i < plan->n_participants; i++) {
		const struct lesion_cohort_participant *p = &plan->participants[i];
		for (int t = 0; t < p->n_timepoints; t++) {
			int j = 0;
			while (j < n && strcmp(k[j].name, p->timepoints[t].session) != 0)
				j++;
			if (j == n)
				k[n++].name = p->timepoints[t].session;
			k[j].n++;
			k[j].sum_rank += t;
			if (isfinite(p->timepoints[t].days)) {
				k[j].n_days++;
				k[j].sum_days += p->timepoints[t].days;
			}
		}
	}
	qsort(k, (size_t)n, sizeof(*k), cmp_session);
	for (int j = 0; j < n; j++)
		d->sessions[j] = k[j].name;
	d->n_sessions = n;
	free(k);
	return 0;
}

static int order_groups(const struct lesion_cohort_plan *plan, struct lesion_cohort_data *d)
{
	d->groups = calloc((size_t)plan->n_participants + 1, sizeof(char *));
	d->participant_ids = calloc((size_t)plan->n_participants + 1, sizeof(char *));
	d->participant_groups = calloc((size_t)plan->n_participants + 1, sizeof(char *));
	if (!d->groups || !d->participant_ids || !d->participant_groups)
		return -1;
	d->n_participants = plan->n_participants;
	for (int i = 0; i < plan->n_participants; i++) {
		const char *g = plan->participants[i].group;
		d->participant_ids[i] = plan->participants[i].participant_id;
		d->participant_groups[i] = g;
		int j = 0;
		while (j < d->n_groups && !same_str(d->groups[j], g))
			j++;
		if (j == d->n_groups)
			d->groups[d->n_groups++] = g;
	}
	qsort(d->groups, (size_t)d->n_groups, sizeof(char *), cmp_group);
	return 0;
}

static const char *const group_columns[] = {
	"group", "session", "measure", "n", "mean", "sd", "median", "q1", "q3", NULL,
};

static int is_ok(const cJSON *row)
{
	const char *s = lesion_json_string(row, "status");
	return s && strcmp(s, "ok") == 0;
}

static int row_in(const cJSON *row, const char *group, const char *session)
{
	return same_str(lesion_json_string(row, "group"), group) &&
	       same_str(lesion_json_string(row, "session"), session);
}

/* One groups.tsv row; values of @key over @rows of (@group, @session). */
static int group_row(cJSON *out, const cJSON *rows, const char *group, const char *session,
		     const char *measure, const char *key, int baseline_only)
{
	int cap = cJSON_GetArraySize(rows), n = 0;
	double *x = malloc(sizeof(double) * (size_t)(cap + 1));
	if (!x)
		return -1;
	const cJSON *r;
	cJSON_ArrayForEach(r, rows) {
		if (!row_in(r, group, session) || !is_ok(r))
			continue;
		const char *kind = lesion_json_string(r, "kind");
		if (baseline_only && (!kind || strcmp(kind, "baseline") != 0))
			continue;
		x[n++] = lesion_json_number(r, key);
	}
	struct lesion_descriptives s;
	enum lesion_status st = lesion_descriptives_compute(x, (size_t)n, &s, NULL);
	free(x);
	if (st)
		return -1;
	cJSON *o = cJSON_CreateObject();
	lesion_json_add_string(o, "group", group);
	cJSON_AddStringToObject(o, "session", session);
	cJSON_AddStringToObject(o, "measure", measure);
	cJSON_AddNumberToObject(o, "n", (double)s.n);
	lesion_json_add_number(o, "mean", s.mean);
	lesion_json_add_number(o, "sd", s.sd);
	lesion_json_add_number(o, "median", s.median);
	lesion_json_add_number(o, "q1", s.q1);
	lesion_json_add_number(o, "q3", s.q3);
	cJSON_AddItemToArray(out, o);
	return 0;
}

static int has_rows(const cJSON *rows, const char *group, const char *session, int baseline)
{
	const cJSON *r;
	cJSON_ArrayForEach(r, rows) {
		const char *kind = lesion_json_string(r, "kind");
		if (row_in(r, group, session) &&
		    (!baseline || !kind || strcmp(kind, "baseline") == 0))
			return 1;
	}
	return 0;
}

/*
 * Per group and session: volume_mm3 over the timepoints; for sessions that
 * follow a baseline also baseline_mm3, delta_mm3 and percent_change over
 * the baseline changes (so those four describe the same participants).
 */
static cJSON *group_rows(const struct lesion_cohort_data *d, const cJSON *tps,
			 const cJSON *changes)
{
	cJSON *out = cJSON_CreateArray();
	for (int g = 0; g < d->n_groups; g++)
		for (int s = 0; s < d->n_sessions; s++) {
			const char *G = d->groups[g], *S = d->sessions[s];
			if (!has_rows(tps, G, S, 0))
				continue;
			int follow = has_rows(changes, G, S, 1);
			int rc = 0;
			if (follow)
				rc |= group_row(out, changes, G, S, "baseline_mm3", "baseline_mm3", 1);
			rc |= group_row(out, tps, G, S, "volume_mm3", "lesion_volume_mm3", 0);
			if (follow) {
				rc |= group_row(out, changes, G, S, "delta_mm3", "delta_mm3", 1);
				rc |= group_row(out, changes, G, S, "percent_change",
						"percent_change", 1);
			}
			if (rc) {
				cJSON_Delete(out);
				return NULL;
			}
		}
	return out;
}

/* The ok baseline changes, for the statistics. */
static int collect_pairs(const struct lesion_cohort_plan *plan,
			 const struct lesion_aggregate *a, struct lesion_cohort_data *d)
{
	int cap = 0;
	for (int i = 0; i < plan->n_participants; i++)
		cap += plan->participants[i].n_timepoints;
	d->pairs = calloc((size_t)cap + 1, sizeof(*d->pairs));
	if (!d->pairs)
		return -1;
	for (int i = 0; i < a->n; i++) {
		if (lesion_aggregate_failure(a, i))
			continue;
		const cJSON *tps = cJSON_GetObjectItemCaseSensitive(a->docs[i], "timepoints");
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(a->docs[i], "changes")) {
			const char *kind = lesion_json_string(c, "kind");
			if (!kind || strcmp(kind, "baseline") != 0)
				continue;
			struct lesion_cohort_pair *pr = &d->pairs[d->n_pairs++];
			pr->participant_id = plan->participants[i].participant_id;
			pr->group = plan->participants[i].group;
			pr->session = lesion_json_string(c, "session");
			pr->baseline_mm3 = lesion_json_number(c, "baseline_mm3");
			pr->volume_mm3 = lesion_json_number(c, "volume_mm3");
			pr->delta_mm3 = lesion_json_number(c, "delta_mm3");
			pr->percent_change = lesion_json_number(c, "percent_change");
			const cJSON *t;
			cJSON_ArrayForEach(t, tps) {
				const char *ses = lesion_json_string(t, "session");
				const cJSON *extra = cJSON_GetObjectItemCaseSensitive(t, "extra");
				if (same_str(ses, pr->session))
					pr->extra = extra;
				if (same_str(ses, lesion_json_string(c, "baseline_session")))
					pr->baseline_extra = extra;
			}
		}
	}
	return 0;
}

/* ---- dataset_description.json, provenance.json ---- */

static cJSON *description(void)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "Name", "lesionvol: lesion volumes and their change");
	cJSON_AddStringToObject(d, "BIDSVersion", "1.9.0");
	cJSON_AddStringToObject(d, "DatasetType", "derivative");
	cJSON *gen = cJSON_AddArrayToObject(d, "GeneratedBy");
	cJSON *me = cJSON_CreateObject();
	cJSON_AddStringToObject(me, "Name", "lesionvol");
	cJSON_AddStringToObject(me, "Version", lesion_version());
	cJSON_AddStringToObject(me, "Description",
				"lesion volume per timepoint, its change and group descriptives");
	cJSON_AddItemToArray(gen, me);
	return d;
}

static void add_time(cJSON *o, const char *key, struct timespec ts)
{
	char buf[64];
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *provenance(const struct lesion_cohort_plan *plan,
			 const struct lesion_aggregate *a,
			 const struct lesion_cohort_group_options *opt,
			 const struct lesion_cohort_summary *sum)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "lesionvol_version", lesion_version());
	lesion_json_add_string(d, "command", opt->command);
	cJSON *argv = cJSON_AddArrayToObject(d, "command_line");
	for (int i = 0; i < opt->argc; i++)
		cJSON_AddItemToArray(argv, cJSON_CreateString(opt->argv[i]));
	cJSON *par = cJSON_AddObjectToObject(d, "parameters");
	for (int i = 0; i < opt->n_parameters; i++)
		lesion_json_add_string(par, opt->parameter_names[i], opt->parameter_values[i]);
	cJSON *used = a->params ? cJSON_Parse(a->params) : NULL;
	cJSON_AddItemToObject(d, "measurement_parameters", used ? used : cJSON_CreateNull());
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	add_time(d, "started", opt->started);
	add_time(d, "finished", now);
	cJSON_AddNumberToObject(d, "participants", sum->n_participants);
	cJSON_AddNumberToObject(d, "participants_failed", sum->n_failed);
	cJSON *src = cJSON_AddArrayToObject(d, "sources");
	for (int s = 0; s < plan->n_sources; s++) {
		struct stat sb;
		char hex[65];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", plan->sources[s]);
		lesion_json_add_number(o, "size", stat(plan->sources[s], &sb) == 0
				       ? (double)sb.st_size : NAN);
		lesion_json_add_string(o, "sha256", lesion_sha256_file(plan->sources[s], hex,
					NULL) == LESION_OK ? hex : NULL);
		cJSON_AddItemToArray(src, o);
	}
	/* the inputs as hashed when each participant was measured */
	cJSON *inputs = cJSON_AddArrayToObject(d, "inputs");
	for (int i = 0; i < a->n; i++) {
		const cJSON *in;
		if (!a->docs[i] || a->errors[i])
			continue;
		cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(a->docs[i], "inputs")) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "participant_id",
						plan->participants[i].participant_id);
			static const char *const keys[] = {"session", "role", "path", "size",
							   "sha256"};
			for (int k = 0; k < 5; k++) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[k]);
				cJSON_AddItemToObject(o, keys[k], v ? cJSON_Duplicate(v, 1)
								    : cJSON_CreateNull());
			}
			cJSON_AddItemToArray(inputs, o);
		}
	}
	return d;
}

/* ---- the group level ---- */

enum lesion_status lesion_cohort_aggregate(const struct lesion_cohort_plan *plan,
					   const char *out_dir,
					   struct lesion_cohort_outcome *outcomes,
					   const struct lesion_cohort_group_options *opt,
					   struct lesion_cohort_summary *sum,
					   struct lesion_error *err)
{
	struct lesion_aggregate a;
	struct lesion_cohort_data data;
	struct lesion_buf b = {0};
	cJSON *tps = NULL, *changes = NULL, *groups = NULL, *doc = NULL;
	int fd = -1;
	memset(sum, 0, sizeof(*sum));
	memset(&data, 0, sizeof(data));
	enum lesion_status st = lesion_aggregate_lock(out_dir, &fd, err);
	if (st)
		return st;
	lesion_remove_stale_temps(out_dir);
	st = lesion_aggregate_load(plan, out_dir, outcomes, &a, err);
	if (st)
		goto out_unlocked;
	sum->n_participants = a.n;
	int n_unmeasured = 0;
	for (int i = 0; i < a.n; i++) {
		enum lesion_status fs = lesion_aggregate_status(&a, i);
		sum->n_failed += fs != LESION_OK;
		n_unmeasured += fs == LESION_ERR_INPUT;
	}
	tps = lesion_aggregate_timepoints(plan, &a);
	changes = lesion_aggregate_changes(plan, &a);
	if (!tps || !changes || order_sessions(plan, &data) || order_groups(plan, &data) ||
	    collect_pairs(plan, &a, &data) || !(groups = group_rows(&data, tps, changes))) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	sum->n_timepoints = cJSON_GetArraySize(tps);
	sum->n_changes = cJSON_GetArraySize(changes);

	const char **columns = lesion_timepoint_columns_with_extra(plan);
	if (!columns) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	tsv_rows(&b, columns, tps);
	free(columns);
	if ((st = write_buf(out_dir, "timepoints.tsv", &b, err)))
		goto out;
	lesion_buf_release(&b);
	tsv_rows(&b, lesion_change_columns, changes);
	if ((st = write_buf(out_dir, "changes.tsv", &b, err)))
		goto out;
	lesion_buf_release(&b);
	tsv_rows(&b, group_columns, groups);
	if ((st = write_buf(out_dir, "groups.tsv", &b, err)))
		goto out;
	if ((st = lesion_aggregate_write_regions(plan, &a, opt->all_regions, out_dir, err)))
		goto out;
	if ((st = lesion_cohort_write_comparison(&data, opt, out_dir, err)))
		goto out;
	doc = description();
	if ((st = write_json(out_dir, "dataset_description.json", doc, err)))
		goto out;
	cJSON_Delete(doc);
	doc = provenance(plan, &a, opt, sum);
	if ((st = write_json(out_dir, "provenance.json", doc, err)))
		goto out;
	/* report.html reads the tables just written */
	if ((st = lesion_report_write(out_dir, err)))
		goto out;
	if (n_unmeasured && n_unmeasured == sum->n_participants)
		/* tables of nothing but errors are no result: say so */
		st = lesion_error_set(err, LESION_ERR_INPUT, "no participant could be "
				      "measured: all %d failed (see the status and message "
				      "columns of '%s/timepoints.tsv')", sum->n_participants,
				      out_dir);
	else if (sum->n_failed)
		st = lesion_error_set(err, LESION_ERR_PARTIAL, "%d of %d participants failed",
				      sum->n_failed, sum->n_participants);
out:
	lesion_aggregate_release(&a);
out_unlocked:
	close(fd);
	lesion_buf_release(&b);
	cJSON_Delete(tps);
	cJSON_Delete(changes);
	cJSON_Delete(groups);
	cJSON_Delete(doc);
	free(data.pairs);
	free(data.sessions);
	free(data.groups);
	free(data.participant_ids);
	free(data.participant_groups);
	return st;
}
