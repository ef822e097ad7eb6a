/* manifest.c: cohort manifests with line-numbered errors, BIDS labels, and
 * the plan of participants built from a manifest. */
#include "cohort_internal.h"
#include "lesionvol/number.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- labels ---- */

int lesion_label_valid(const char *label)
{
	if (!label || !*label)
		return 0;
	for (const char *p = label; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

const char *lesion_label_from_id(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(id, prefix, n) == 0 ? id + n : id;
}

size_t lesion_reason_length(const char *message)
{
	if (!message)
		return 0;
	const char *colon = strstr(message, ": ");
	return colon ? (size_t)(colon - message) : strlen(message);
}

static int is_na(const char *s)
{
	return !s || !*s || strcmp(s, "n/a") == 0;
}

/* ---- manifest ---- */

void lesion_manifest_release(struct lesion_manifest *m)
{
	for (int r = 0; r < m->n_rows; r++) {
		struct lesion_manifest_row *w = &m->rows[r];
		free(w->participant_id);
		free(w->session);
		free(w->image);
		free(w->image_path);
		free(w->group);
		free(w->mask_path);
		free(w->anatomy_path);
		for (int e = 0; w->extra && e < m->n_extra; e++)
			free(w->extra[e]);
		free(w->extra);
	}
	free(m->rows);
	for (int e = 0; e < m->n_extra; e++)
		free(m->extra_names[e]);
	free(m->extra_names);
	free(m->path);
	free(m->dir);
	memset(m, 0, sizeof(*m));
}

static const struct lesion_manifest *sort_manifest;

/* rows by (participant label, session label, line) */
static int cmp_rows(const void *a, const void *b)
{
	const struct lesion_manifest_row *x = &sort_manifest->rows[*(const int *)a];
	const struct lesion_manifest_row *y = &sort_manifest->rows[*(const int *)b];
	int c = strcmp(lesion_label_from_id(x->participant_id, "sub-"),
		       lesion_label_from_id(y->participant_id, "sub-"));
	if (!c) /* rows without an image last, so duplicates are neighbours */
		c = (x->image == NULL) - (y->image == NULL);
	if (!c)
		c = strcmp(lesion_label_from_id(x->session, "ses-"),
			   lesion_label_from_id(y->session, "ses-"));
	return c ? c : x->line - y->line;
}

/* Duplicates and conflicting groups; @order receives rows sorted by participant. */
static enum lesion_status check_rows(const struct lesion_manifest *m, const char *name,
				     int *order, struct lesion_error *err)
{
	for (int r = 0; r < m->n_rows; r++)
		order[r] = r;
	sort_manifest = m; /* qsort has no context argument in C11 */
	qsort(order, (size_t)m->n_rows, sizeof(int), cmp_rows);
	for (int i = 1; i < m->n_rows; i++) {
		const struct lesion_manifest_row *a = &m->rows[order[i - 1]];
		const struct lesion_manifest_row *b = &m->rows[order[i]];
		if (strcmp(lesion_label_from_id(a->participant_id, "sub-"),
			   lesion_label_from_id(b->participant_id, "sub-")) != 0)
			continue;
		if (a->image && b->image && strcmp(lesion_label_from_id(a->session, "ses-"),
						   lesion_label_from_id(b->session, "ses-")) == 0)
			return lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' line %d: participant '%s' session '%s' is listed twice (also line %d)",
				name, b->line, b->participant_id, b->session, a->line);
		int ga = a->group != NULL, gb = b->group != NULL;
		if (ga != gb || (ga && strcmp(a->group, b->group) != 0)) {
			const struct lesion_manifest_row *first = a->line < b->line ? a : b;
			const struct lesion_manifest_row *second = a->line < b->line ? b : a;
			return lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' line %d: participant '%s' is in group '%s' here but '%s' on line %d",
				name, second->line, second->participant_id,
				second->group ? second->group : "n/a",
				first->group ? first->group : "n/a", first->line);
		}
	}
	return LESION_OK;
}

enum lesion_status lesion_manifest_parse(const char *text, size_t size,
					 const char *name, const char *base_dir,
					 struct lesion_manifest *out,
					 struct lesion_error *err)
{
	static const char *const required[] = {"participant_id", "session", "image"};
	struct lesion_tsv t;
	int *order = NULL;
	memset(out, 0, sizeof(*out));
	enum lesion_status st = lesion_tsv_parse(text, size, name, &t, err);
	if (st)
		return st;
	int col[3];
	for (int i = 0; i < 3; i++) {
		col[i] = lesion_tsv_column(&t, required[i]);
		if (col[i] < 0) {
			struct lesion_buf have = {0};
			for (int c = 0; c < t.n_columns; c++)
				lesion_buf_printf(&have, "%s'%s'", c ? ", " : "", t.columns[c]);
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' line 1: missing required column '%s' (the manifest needs "
				"participant_id, session and image; found %s)",
				name, required[i], have.data ? have.data : "none");
			lesion_buf_release(&have);
			goto out;
		}
	}
	int c_group = lesion_tsv_column(&t, "group");
	int c_days = lesion_tsv_column(&t, "days");
	int c_mask = lesion_tsv_column(&t, "mask");
	int c_anatomy = lesion_tsv_column(&t, "anatomy");
	out->has_anatomy = c_anatomy >= 0;
	out->has_group = c_group >= 0;
	out->has_days = c_days >= 0;
	out->has_mask = c_mask >= 0;
	out->path = lesion_strdup(name);
	out->dir = lesion_strdup(base_dir ? base_dir : "");
	out->extra_names = calloc((size_t)t.n_columns + 1, sizeof(char *));
	out->rows = calloc((size_t)t.n_rows + 1, sizeof(*out->rows));
	order = calloc((size_t)t.n_rows + 1, sizeof(int));
	if (!out->path || !out->dir || !out->extra_names || !out->rows || !order)
		goto oom;
	int *extra_col = calloc((size_t)t.n_columns + 1, sizeof(int));
	if (!extra_col)
		goto oom;
	for (int c = 0; c < t.n_columns; c++) {
		if (c == col[0] || c == col[1] || c == col[2] || c == c_group ||
		    c == c_days || c == c_mask || c == c_anatomy)
			continue;
		extra_col[out->n_extra] = c;
		out->extra_names[out->n_extra] = lesion_strdup(t.columns[c]);
		if (!out->extra_names[out->n_extra++]) {
			free(extra_col);
			goto oom;
		}
	}
	if (t.n_rows == 0) {
		/* a header alone would give empty tables that look like a result */
		free(extra_col);
		st = lesion_error_set(err, LESION_ERR_INPUT,
				      "'%s' lists no scans: it has a header row and nothing else", name);
		goto out;
	}
	for (int r = 0; r < t.n_rows; r++) {
		char **cell = t.cells[r];
		struct lesion_manifest_row *w = &out->rows[r];
		w->line = t.lines[r];
		w->days = NAN;
		out->n_rows++;
		/* image n/a: the row lists a participant (or a session) without
		 * an image, e.g. enrolled but never imaged; the session may then
		 * be n/a too */
		int no_image = is_na(cell[col[2]]);
		for (int i = 0; i < 2; i++)
			if (is_na(cell[col[i]]) && !(i == 1 && no_image)) {
				free(extra_col);
				st = lesion_error_set(err, LESION_ERR_INPUT,
					"'%s' line %d: empty %s", name, w->line, required[i]);
				goto out;
			}
		w->participant_id = lesion_strdup(cell[col[0]]);
		w->session = lesion_strdup(is_na(cell[col[1]]) ? "" : cell[col[1]]);
		if (!no_image) {
			w->image = lesion_strdup(cell[col[2]]);
			w->image_path = lesion_path_join(base_dir, cell[col[2]]);
		}
		w->extra = calloc((size_t)out->n_extra + 1, sizeof(char *));
		if (!w->participant_id || !w->session || (!no_image && (!w->image ||
		    !w->image_path)) || !w->extra) {
			free(extra_col);
			goto oom;
		}
		if (c_group >= 0 && !is_na(cell[c_group]) &&
		    !(w->group = lesion_strdup(cell[c_group]))) {
			free(extra_col);
			goto oom;
		}
		if (c_mask >= 0 && !is_na(cell[c_mask]) &&
		    !(w->mask_path = lesion_path_join(base_dir, cell[c_mask]))) {
			free(extra_col);
			goto oom;
		}
		if (c_anatomy >= 0 && !is_na(cell[c_anatomy]) &&
		    !(w->anatomy_path = lesion_path_join(base_dir, cell[c_anatomy]))) {
			free(extra_col);
			goto oom;
		}
		if (c_days >= 0 && !is_na(cell[c_days])) {
			char *end;
			if (lesion_double_parse(cell[c_days], &end, &w->days) || *end) {
				st = lesion_error_set(err, LESION_ERR_INPUT,
					"'%s' line %d: days '%s' is not a number", name,
					w->line, cell[c_days]);
				free(extra_col);
				goto out;
			}
		}
		for (int e = 0; e < out->n_extra; e++) {
			const char *v = cell[extra_col[e]];
			if (!is_na(v) && !(w->extra[e] = lesion_strdup(v))) {
				free(extra_col);
				goto oom;
			}
		}
	}
	free(extra_col);
	st = check_rows(out, name, order, err);
	goto out;
oom:
	st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
out:
	free(order);
	lesion_tsv_release(&t);
	if (st)
		lesion_manifest_release(out);
	return st;
}

enum lesion_status lesion_manifest_read(const char *path, struct lesion_manifest *out,
					struct lesion_error *err)
{
	char *text = NULL, *dir = NULL, *abs = NULL;
	size_t size;
	memset(out, 0, sizeof(*out));
	enum lesion_status st = lesion_read_text_file(path, &text, &size, err);
	if (st)
		return st;
	dir = lesion_strdup(path);
	if (!dir)
		goto oom;
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		strcpy(dir, ".");
	abs = realpath(dir, NULL);
	if (!abs) {
		st = lesion_error_set(err, LESION_ERR_INPUT, "unable to resolve the folder of '%s': %s",
				      path, strerror(errno));
		goto out;
	}
	st = lesion_manifest_parse(text, size, path, abs, out, err);
	goto out;
oom:
	st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
out:
	free(text);
	free(dir);
	free(abs);
	return st;
}

/* ---- plan ---- */

static void timepoint_release(struct lesion_cohort_timepoint *tp, int n_extra)
{
	free(tp->session);
	free(tp->image);
	free(tp->image_path);
	free(tp->mask_path);
	free(tp->anatomy_path);
	for (int e = 0; tp->extra && e < n_extra; e++)
		free(tp->extra[e]);
	free(tp->extra);
}

void lesion_cohort_plan_release(struct lesion_cohort_plan *plan)
{
	for (int i = 0; i < plan->n_participants; i++) {
		struct lesion_cohort_participant *p = &plan->participants[i];
		free(p->participant_id);
		free(p->label);
		free(p->group);
		free(p->error);
		for (int t = 0; t < p->n_timepoints; t++)
			timepoint_release(&p->timepoints[t], plan->n_extra);
		free(p->timepoints);
	}
	free(plan->participants);
	for (int e = 0; e < plan->n_extra; e++)
		free(plan->extra_names[e]);
	free(plan->extra_names);
	for (int s = 0; s < plan->n_sources; s++)
		free(plan->sources[s]);
	free(plan->sources);
	memset(plan, 0, sizeof(*plan));
}

static int cmp_participants(const void *a, const void *b)
{
	const struct lesion_cohort_participant *x = a, *y = b;
	return strcmp(x->participant_id, y->participant_id);
}

void lesion_cohort_sort_timepoints(struct lesion_cohort_participant *p)
{
	/* ordered by days when known, else as given (a stable
	 * insertion sort keeps the given order among equal days) */
	for (int t = 0; t < p->n_timepoints; t++)
		if (isnan(p->timepoints[t].days))
			return;
	for (int i = 1; i < p->n_timepoints; i++) {
		struct lesion_cohort_timepoint x = p->timepoints[i];
		int j = i - 1;
		for (; j >= 0 && p->timepoints[j].days > x.days; j--)
			p->timepoints[j + 1] = p->timepoints[j];
		p->timepoints[j + 1] = x;
	}
}

enum lesion_status lesion_cohort_participant_set_id(struct lesion_cohort_participant *p,
						    const char *id, int line)
{
	const char *label = lesion_label_from_id(id, "sub-");
	if (lesion_label_valid(label)) {
		size_t n = strlen(label);
		p->label = lesion_strdup(label);
		p->participant_id = malloc(n + 5);
		if (!p->label || !p->participant_id)
			return LESION_ERR_INTERNAL;
		memcpy(p->participant_id, "sub-", 4);
		memcpy(p->participant_id + 4, label, n + 1);
		return LESION_OK;
	}
	struct lesion_buf b = {0};
	lesion_buf_printf(&b, "invalid participant label: '%s'", label);
	if (line > 0)
		lesion_buf_printf(&b, " (line %d)", line);
	lesion_buf_puts(&b, " is not a BIDS label, which holds only letters and digits, "
			    "so it can name a folder inside the output folder and nothing else");
	p->error = b.data;
	p->participant_id = lesion_strdup(id);
	return p->error && p->participant_id ? LESION_OK : LESION_ERR_INTERNAL;
}

enum lesion_status lesion_cohort_plan_from_manifest(const struct lesion_manifest *m,
						    struct lesion_cohort_plan *out,
						    struct lesion_error *err)
{
	int *order = NULL;
	memset(out, 0, sizeof(*out));
	out->extra_names = calloc((size_t)m->n_extra + 1, sizeof(char *));
	out->participants = calloc((size_t)m->n_rows + 1, sizeof(*out->participants));
	out->sources = calloc(2, sizeof(char *));
	order = calloc((size_t)m->n_rows + 1, sizeof(int));
	if (!out->extra_names || !out->participants || !out->sources || !order)
		goto oom;
	if (!(out->sources[0] = lesion_strdup(m->path)))
		goto oom;
	out->n_sources = 1;
	for (int e = 0; e < m->n_extra; e++) {
		if (!(out->extra_names[e] = lesion_strdup(m->extra_names[e])))
			goto oom;
		out->n_extra++;
	}
	/* rows of one participant, in manifest order */
	for (int r = 0; r < m->n_rows; r++)
		order[r] = r;
	sort_manifest = m;
	qsort(order, (size_t)m->n_rows, sizeof(int), cmp_rows);
	for (int i = 0; i < m->n_rows;) {
		const struct lesion_manifest_row *first = &m->rows[order[i]];
		const char *label = lesion_label_from_id(first->participant_id, "sub-");
		int j = i + 1;
		while (j < m->n_rows &&
		       strcmp(lesion_label_from_id(m->rows[order[j]].participant_id, "sub-"),
			      label) == 0)
			j++;
		/* restore manifest order inside the participant */
		for (int a = i + 1; a < j; a++)
			for (int b = a; b > i && order[b - 1] > order[b]; b--) {
				int x = order[b];
				order[b] = order[b - 1];
				order[b - 1] = x;
			}
		first = &m->rows[order[i]];
		struct lesion_cohort_participant *p = &out->participants[out->n_participants++];
		if (lesion_cohort_participant_set_id(p, first->participant_id, first->line))
			goto oom;
		if (first->group && !(p->group = lesion_strdup(first->group)))
			goto oom;
		p->timepoints = calloc((size_t)(j - i), sizeof(*p->timepoints));
		if (!p->timepoints)
			goto oom;
		for (int k = i; k < j; k++) {
			const struct lesion_manifest_row *w = &m->rows[order[k]];
			if (!w->image)
				continue; /* listed without an image: no timepoint */
			struct lesion_cohort_timepoint *tp = &p->timepoints[p->n_timepoints++];
			tp->days = w->days;
			tp->session = lesion_strdup(lesion_label_from_id(w->session, "ses-"));
			tp->image = lesion_strdup(w->image);
			tp->image_path = lesion_strdup(w->image_path);
			tp->extra = calloc((size_t)m->n_extra + 1, sizeof(char *));
			if (!tp->session || !tp->image || !tp->image_path || !tp->extra)
				goto oom;
			if (w->mask_path && !(tp->mask_path = lesion_strdup(w->mask_path)))
				goto oom;
			if (w->anatomy_path &&
			    !(tp->anatomy_path = lesion_strdup(w->anatomy_path)))
				goto oom;
			for (int e = 0; e < m->n_extra; e++)
				if (w->extra[e] && !(tp->extra[e] = lesion_strdup(w->extra[e])))
					goto oom;
		}
		if (p->n_timepoints == 0 && !p->error &&
		    !(p->error = lesion_strdup(LESION_REASON_NO_MASKS)))
			goto oom;
		lesion_cohort_sort_timepoints(p);
		i = j;
	}
	qsort(out->participants, (size_t)out->n_participants, sizeof(*out->participants),
	      cmp_participants);
	free(order);
	return LESION_OK;
oom:
	free(order);
	lesion_cohort_plan_release(out);
	return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
}
