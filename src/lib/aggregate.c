/* aggregate.c: the group level: every participant's JSON file read back,
 * checked against the plan and turned into the rows of timepoints.tsv and
 * changes.tsv, so a single cohort run and many participant jobs give the
 * same tables. */
#include "aggregate_internal.h"

#include <cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int same_days(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* Whether the file @doc is for the plan's timepoints of @p; else a reason. */
static int matches_plan(const cJSON *doc, const struct lesion_cohort_participant *p,
			struct lesion_buf *why)
{
	const cJSON *tps = cJSON_GetObjectItemCaseSensitive(doc, "timepoints");
	const char *pid = lesion_json_string(doc, "participant_id");
	if (!pid || strcmp(pid, p->participant_id) != 0 || !cJSON_IsArray(tps)) {
		lesion_buf_printf(why, "it is not a result for '%s'", p->participant_id);
		return 0;
	}
	int n = cJSON_GetArraySize(tps);
	int ok = n == p->n_timepoints;
	for (int t = 0; ok && t < n; t++) {
		const cJSON *o = cJSON_GetArrayItem(tps, t);
		const struct lesion_cohort_timepoint *tp = &p->timepoints[t];
		const char *ses = lesion_json_string(o, "session");
		const char *img = lesion_json_string(o, "image");
		ok = ses && img && strcmp(ses, tp->session) == 0 && strcmp(img, tp->image) == 0 &&
		     same_days(lesion_json_number(o, "days"), tp->days);
	}
	if (!ok)
		lesion_buf_puts(why, "it was computed for other sessions, days or images "
				     "than the dataset now lists");
	return ok;
}

void lesion_aggregate_release(struct lesion_aggregate *a)
{
	/* also after lesion_aggregate_load() ran out of memory for one array */
	for (int i = 0; i < a->n; i++) {
		if (a->docs)
			cJSON_Delete(a->docs[i]);
		if (a->errors)
			free(a->errors[i]);
	}
	free(a->docs);
	free(a->errors);
	free(a->failed);
	free(a->params);
	memset(a, 0, sizeof(*a));
}

static char *params_text(const cJSON *doc)
{
	struct lesion_buf b = {0};
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "parameters");
	if (!p)
		return NULL;
	lesion_json_print(p, &b);
	return b.data;
}

static const char *rule_of(const cJSON *doc)
{
	const char *r = lesion_json_string(cJSON_GetObjectItemCaseSensitive(doc, "parameters"),
					   "rule");
	return r ? r : "?";
}

/*
 * Participants computed with other parameters than most others cannot share
 * a table with them (a threshold changes every volume).
 */
static enum lesion_status check_parameters(struct lesion_aggregate *a)
{
	char **texts = calloc((size_t)a->n + 1, sizeof(char *));
	if (!texts)
		return LESION_ERR_INTERNAL;
	int best = -1, best_count = 0, first = -1, all_same = 1;
	for (int i = 0; i < a->n; i++)
		if (a->docs[i] && !a->errors[i] && (texts[i] = params_text(a->docs[i]))) {
			if (first < 0)
				first = i;
			else if (strcmp(texts[i], texts[first]) != 0)
				all_same = 0;
		}
	/* the usual case in one pass; counting is quadratic */
	for (int i = all_same ? a->n : 0; i < a->n; i++) {
		if (!texts[i])
			continue;
		int count = 0;
		for (int j = 0; j < a->n; j++)
			count += texts[j] && strcmp(texts[i], texts[j]) == 0;
		if (count > best_count) {
			best = i;
			best_count = count;
		}
	}
	if (all_same && first >= 0)
		best = first;
	enum lesion_status st = LESION_OK;
	for (int i = 0; best >= 0 && i < a->n; i++) {
		if (!texts[i] || strcmp(texts[i], texts[best]) == 0)
			continue;
		struct lesion_buf b = {0};
		lesion_buf_printf(&b, "other parameters: computed with other parameters (%s) than most "
				  "participants (%s, e.g. '%s'); rerun its participant level with "
				  "the same options", rule_of(a->docs[i]), rule_of(a->docs[best]),
				  lesion_json_string(a->docs[best], "participant_id"));
		if (b.failed)
			st = LESION_ERR_INTERNAL;
		a->errors[i] = b.data;
	}
	if (best >= 0) {
		a->params = texts[best];
		texts[best] = NULL;
	}
	for (int i = 0; i < a->n; i++)
		free(texts[i]);
	free(texts);
	return st;
}

enum lesion_status lesion_aggregate_load(const struct lesion_cohort_plan *plan,
					 const char *out_dir,
					 struct lesion_cohort_outcome *outcomes,
					 struct lesion_aggregate *a, struct lesion_error *err)
{
	memset(a, 0, sizeof(*a));
	a->n = plan->n_participants;
	a->docs = calloc((size_t)a->n + 1, sizeof(cJSON *));
	a->errors = calloc((size_t)a->n + 1, sizeof(char *));
	a->failed = calloc((size_t)a->n + 1, sizeof(*a->failed));
	if (!a->docs || !a->errors || !a->failed)
		goto oom;
	/* reading and parsing a result per participant is the serial part of
	 * a cohort run that grows with the cohort; each lands in its own slot */
	int failed = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(|:failed) if (a->n > 64)
	for (int i = 0; i < a->n; i++) {
		const struct lesion_cohort_participant *p = &plan->participants[i];
		struct lesion_buf why = {0};
		char *path = NULL, *text = NULL;
		size_t size;
		if (p->error) {
			lesion_buf_puts(&why, p->error);
		} else if (outcomes && outcomes[i].status != LESION_OK &&
			   outcomes[i].status != LESION_ERR_INPUT) {
			lesion_buf_puts(&why, outcomes[i].message);
			a->failed[i] = outcomes[i].status;
		} else if (outcomes && outcomes[i].result) {
			/* computed or checked by this process: the file's document */
			a->docs[i] = outcomes[i].result;
			outcomes[i].result = NULL;
			struct lesion_buf m = {0};
			if (!matches_plan(a->docs[i], p, &m))
				lesion_buf_printf(&why, "out of date: %s",
						  m.data ? m.data : "");
			lesion_buf_release(&m);
		} else if (!(path = lesion_cohort_participant_json_path(out_dir, p->label))) {
			why.failed = 1;
		} else if (lesion_read_text_file(path, &text, &size, NULL) != LESION_OK) {
			lesion_buf_printf(&why, "no result: '%s' does not exist (the participant "
					  "level has not run for '%s' or did not finish)", path,
					  p->participant_id);
		} else if (!(a->docs[i] = cJSON_Parse(text))) {
			lesion_buf_printf(&why, "unable to parse '%s'", path);
		} else {
			lesion_cohort_drop_components(a->docs[i]);
			struct lesion_buf m = {0};
			if (!matches_plan(a->docs[i], p, &m))
				lesion_buf_printf(&why, "out of date: '%s': %s; rerun the "
						  "participant level", path, m.data ? m.data : "");
			lesion_buf_release(&m);
		}
		free(path);
		free(text);
		failed |= why.failed;
		a->errors[i] = why.data;
	}
	if (failed)
		goto oom;
	if (check_parameters(a))
		goto oom;
	return LESION_OK;
oom:
	lesion_aggregate_release(a);
	return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
}

/* The doc's message, or the reason it is not usable; NULL when ok. */
const char *lesion_aggregate_failure(const struct lesion_aggregate *a, int i)
{
	if (a->errors[i])
		return a->errors[i];
	const char *status = lesion_json_string(a->docs[i], "status");
	if (status && strcmp(status, "ok") == 0)
		return NULL;
	const char *m = lesion_json_string(a->docs[i], "message");
	return m && *m ? m : "failed";
}

enum lesion_status lesion_aggregate_status(const struct lesion_aggregate *a, int i)
{
	if (!lesion_aggregate_failure(a, i))
		return LESION_OK;
	if (a->failed[i])
		return a->failed[i];
	double es = a->errors[i] ? NAN : lesion_json_number(a->docs[i], "error_status");
	return isfinite(es) && es > 0 ? (enum lesion_status)es : LESION_ERR_INPUT;
}

/* Warnings of the participant that name this timepoint's image. */
static void timepoint_warnings(const cJSON *doc, const char *session, struct lesion_buf *b)
{
	const cJSON *in, *w;
	const char *path = NULL;
	cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(doc, "inputs")) {
		const char *role = lesion_json_string(in, "role");
		const char *ses = lesion_json_string(in, "session");
		if (role && ses && strcmp(role, "image") == 0 && strcmp(ses, session) == 0)
			path = lesion_json_string(in, "path");
	}
	if (!path)
		return;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc, "warnings")) {
		if (!cJSON_IsString(w) || !strstr(w->valuestring, path))
			continue;
		lesion_buf_printf(b, "%s%s", b->len ? "; " : "", w->valuestring);
	}
}

static void copy_field(cJSON *row, const cJSON *from, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
	cJSON_AddItemToObject(row, key, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

static cJSON *row_start(const struct lesion_cohort_participant *p)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "participant_id", p->participant_id);
	lesion_json_add_string(r, "group", p->group);
	return r;
}

static void row_end(cJSON *r, const char *failure, const char *warning)
{
	cJSON_AddStringToObject(r, "status", failure ? "error" : "ok");
	const char *m = failure ? failure : warning;
	lesion_json_add_string(r, "message", m && *m ? m : NULL);
}

const char *const lesion_timepoint_columns[] = {
	"participant_id", "group", "session", "days", "image", "lesion_voxels",
	"lesion_volume_mm3", "lesion_volume_ml", "n_components",
	"largest_component_mm3", "status", "message", NULL,
};

const char **lesion_timepoint_columns_with_extra(const struct lesion_cohort_plan *plan)
{
	int n = 0;
	while (lesion_timepoint_columns[n])
		n++;
	const char **c = calloc((size_t)(n + plan->n_extra + 1), sizeof(char *));
	if (!c)
		return NULL;
	int k = 0;
	for (; k < n; k++)
		c[k] = lesion_timepoint_columns[k];
	for (int e = 0; e < plan->n_extra; e++) {
		int clash = 0;
		for (int j = 0; j < k; j++)
			clash |= strcmp(c[j], plan->extra_names[e]) == 0;
		if (!clash)
			c[k++] = plan->extra_names[e];
	}
	return c;
}

const char *const lesion_change_columns[] = {
	"participant_id", "group", "baseline_session", "session", "baseline_mm3",
	"volume_mm3", "delta_mm3", "percent_change", "log_ratio", "rate_mm3_per_day",
	"dice", "persistent_mm3", "resolved_mm3", "new_mm3", "n_new", "n_resolved",
	"n_persistent", "n_merged", "n_split", "status", "message", NULL,
};

cJSON *lesion_aggregate_timepoints(const struct lesion_cohort_plan *plan,
				   const struct lesion_aggregate *a)
{
	cJSON *rows = cJSON_CreateArray();
	for (int i = 0; i < a->n; i++) {
		const struct lesion_cohort_participant *p = &plan->participants[i];
		const char *failure = lesion_aggregate_failure(a, i);
		const cJSON *tps = a->docs[i] && !a->errors[i]
			? cJSON_GetObjectItemCaseSensitive(a->docs[i], "timepoints") : NULL;
		if (p->n_timepoints == 0) {
			/* nothing to measure (e.g. a folder whose label is invalid):
			 * still one row, so the failure shows */
			cJSON *r = row_start(p);
			for (int k = 2; k < 10; k++)
				cJSON_AddNullToObject(r, lesion_timepoint_columns[k]);
			row_end(r, failure ? failure : "no timepoints", NULL);
			cJSON_AddItemToArray(rows, r);
			continue;
		}
		for (int t = 0; t < p->n_timepoints; t++) {
			const struct lesion_cohort_timepoint *tp = &p->timepoints[t];
			const cJSON *o = tps ? cJSON_GetArrayItem(tps, t) : NULL;
			cJSON *r = row_start(p);
			cJSON_AddStringToObject(r, "session", tp->session);
			lesion_json_add_number(r, "days", tp->days);
			cJSON_AddStringToObject(r, "image", tp->image);
			for (int k = 5; k < 10; k++)
				if (failure || !o)
					cJSON_AddNullToObject(r, lesion_timepoint_columns[k]);
				else
					copy_field(r, o, lesion_timepoint_columns[k]);
			struct lesion_buf w = {0};
			if (!failure && o)
				timepoint_warnings(a->docs[i], tp->session, &w);
			row_end(r, failure, w.data);
			lesion_buf_release(&w);
			/* extra columns pass through (a value, not a name, may repeat
			 * one of ours: those stay in the JSON only) */
			for (int e = 0; e < plan->n_extra; e++)
				if (!cJSON_GetObjectItemCaseSensitive(r, plan->extra_names[e]))
					lesion_json_add_string(r, plan->extra_names[e], tp->extra[e]);
			cJSON_AddItemToArray(rows, r);
		}
	}
	return rows;
}

cJSON *lesion_aggregate_changes(const struct lesion_cohort_plan *plan,
				const struct lesion_aggregate *a)
{
	cJSON *rows = cJSON_CreateArray();
	for (int i = 0; i < a->n; i++) {
		const struct lesion_cohort_participant *p = &plan->participants[i];
		const char *failure = lesion_aggregate_failure(a, i);
		if (failure) {
			/* one row per later session, against the first */
			for (int t = 1; t < p->n_timepoints; t++) {
				cJSON *r = row_start(p);
				cJSON_AddStringToObject(r, "baseline_session", p->timepoints[0].session);
				cJSON_AddStringToObject(r, "session", p->timepoints[t].session);
				for (int k = 4; k < 19; k++)
					cJSON_AddNullToObject(r, lesion_change_columns[k]);
				row_end(r, failure, NULL);
				cJSON_AddItemToArray(rows, r);
			}
			continue;
		}
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(a->docs[i], "changes")) {
			cJSON *r = row_start(p);
			for (int k = 2; k < 19; k++)
				copy_field(r, c, lesion_change_columns[k]);
			row_end(r, NULL, lesion_json_string(c, "warning"));
			/* the kind stays out of the table (baseline_session says it) but
			 * the group statistics need it */
			copy_field(r, c, "kind");
			cJSON_AddItemToArray(rows, r);
		}
	}
	return rows;
}

enum lesion_status lesion_aggregate_lock(const char *out_dir, int *fd,
					 struct lesion_error *err)
{
	*fd = open(out_dir, O_RDONLY | O_DIRECTORY);
	if (*fd < 0)
		return lesion_error_set(err, LESION_ERR_WRITE, "unable to open folder '%s': %s",
					out_dir, strerror(errno));
	while (flock(*fd, LOCK_EX) != 0 && errno == EINTR)
		;
	return LESION_OK;
}
