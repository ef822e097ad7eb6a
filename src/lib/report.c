/* report.c: the cohort's report.html from the group-level tables of an
 * output folder: one self-contained XHTML page, plots from report_svg.c. */
#include "lesionvol/report.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lesionvol/io.h"
#include "report_internal.h"

#define MAX_QUICKLOOK_BYTES (8 << 20)

void lesion_buf_escaped(struct lesion_buf *b, const char *s)
{
	char one[2] = {0, 0};
	for (; s && *s; s++) {
		switch (*s) {
		case '&': lesion_buf_puts(b, "&amp;"); break;
		case '<': lesion_buf_puts(b, "&lt;"); break;
		case '>': lesion_buf_puts(b, "&gt;"); break;
		case '"': lesion_buf_puts(b, "&quot;"); break;
		default:
			/* control characters are not allowed in XML */
			one[0] = (unsigned char)*s < 0x20 && *s != '\t' ? ' ' : *s;
			lesion_buf_puts(b, one);
		}
	}
}

static int find_string(const char **list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Participants, sessions and groups from timepoints.tsv and changes.tsv. */
static enum lesion_status build(const struct lesion_rtable *tp, const struct lesion_rtable *ch,
				struct report_data *d, struct lesion_error *err)
{
	int c_id = lesion_rtable_column(tp, "participant_id"), c_ses = lesion_rtable_column(tp, "session");
	int c_grp = lesion_rtable_column(tp, "group"), c_days = lesion_rtable_column(tp, "days");
	int c_vol = lesion_rtable_column(tp, "lesion_volume_ml"), c_st = lesion_rtable_column(tp, "status");
	int c_msg = lesion_rtable_column(tp, "message");
	if (c_id < 0 || c_ses < 0 || c_vol < 0)
		return lesion_error_set(err, LESION_ERR_INPUT, "timepoints.tsv lacks the "
					"participant_id, session or lesion_volume_ml column");
	int n = tp->n_rows;
	const char **ids = calloc((size_t)n + 1, sizeof(char *));
	d->sessions = calloc((size_t)n + 1, sizeof(char *));
	d->groups = calloc((size_t)n + 1, sizeof(char *));
	double *key = calloc((size_t)n + 1, sizeof(double)), *cnt = calloc((size_t)n + 1, sizeof(double));
	int *order = calloc((size_t)n + 1, sizeof(int)), *first = calloc((size_t)n + 1, sizeof(int));
	if (!ids || !d->sessions || !d->groups || !key || !cnt || !order || !first) {
		free(ids); free(key); free(cnt); free(order); free(first);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	d->days_known = 1;
	for (int r = 0; r < n; r++) {
		const char *id = lesion_rtable_cell(tp, r, c_id), *g = lesion_na_to_null(lesion_rtable_cell(tp, r, c_grp));
		int p = find_string(ids, d->n_parts, id);
		if (p < 0) {
			p = d->n_parts++;
			ids[p] = id;
			first[p] = r;
		}
		order[r] = r - first[p]; /* position of this timepoint in its participant */
		if (find_string(d->sessions, d->n_sessions, lesion_rtable_cell(tp, r, c_ses)) < 0)
			d->sessions[d->n_sessions++] = lesion_rtable_cell(tp, r, c_ses);
		if (find_string(d->groups, d->n_groups, g ? g : "(no group)") < 0)
			d->groups[d->n_groups++] = g ? g : "(no group)";
		if (!isfinite(lesion_rtable_number(lesion_rtable_cell(tp, r, c_days))))
			d->days_known = 0;
	}
	/* sessions in time order: by mean day, else by mean position within
	 * each participant (so "acute, subacute, chronic" keep their order) */
	for (int r = 0; r < n; r++) {
		int s = find_string(d->sessions, d->n_sessions, lesion_rtable_cell(tp, r, c_ses));
		key[s] += d->days_known ? lesion_rtable_number(lesion_rtable_cell(tp, r, c_days)) : order[r];
		cnt[s] += 1;
	}
	for (int s = 0; s < d->n_sessions; s++)
		key[s] /= cnt[s];
	for (int i = 1; i < d->n_sessions; i++)
		for (int j = i; j > 0 && key[j] < key[j - 1]; j--) {
			double tk = key[j];
			key[j] = key[j - 1];
			key[j - 1] = tk;
			const char *ts = d->sessions[j];
			d->sessions[j] = d->sessions[j - 1];
			d->sessions[j - 1] = ts;
		}
	qsort(d->groups, (size_t)d->n_groups, sizeof(char *), cmp_str);
	d->parts = calloc((size_t)d->n_parts + 1, sizeof(*d->parts));
	double *vals = malloc(sizeof(double) * 3 * (size_t)(d->n_parts * d->n_sessions + 1));
	d->values = vals;
	if (!vals || !d->parts) {
		free(ids); free(key); free(cnt); free(order); free(first);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	for (int i = 0; i < 3 * d->n_parts * d->n_sessions; i++)
		vals[i] = NAN;
	for (int p = 0; p < d->n_parts; p++) {
		struct rpart *q = &d->parts[p];
		q->id = ids[p];
		q->ok = 1;
		q->volume_ml = vals + (size_t)(3 * p) * (size_t)d->n_sessions;
		q->days = q->volume_ml + d->n_sessions;
		q->percent = q->days + d->n_sessions;
		const char *g = lesion_na_to_null(lesion_rtable_cell(tp, first[p], c_grp));
		q->group = find_string(d->groups, d->n_groups, g ? g : "(no group)");
	}
	for (int r = 0; r < n; r++) {
		struct rpart *q = &d->parts[find_string(ids, d->n_parts, lesion_rtable_cell(tp, r, c_id))];
		int s = find_string(d->sessions, d->n_sessions, lesion_rtable_cell(tp, r, c_ses));
		const char *st = lesion_rtable_cell(tp, r, c_st);
		if (st && strcmp(st, "ok") != 0) {
			q->ok = 0;
			if (!q->message)
				q->message = lesion_na_to_null(lesion_rtable_cell(tp, r, c_msg));
			continue;
		}
		q->volume_ml[s] = lesion_rtable_number(lesion_rtable_cell(tp, r, c_vol));
		q->days[s] = lesion_rtable_number(lesion_rtable_cell(tp, r, c_days));
	}
	/* percent change against each participant's first timepoint */
	int h_id = ch ? lesion_rtable_column(ch, "participant_id") : -1, h_base = ch ? lesion_rtable_column(ch, "baseline_session") : -1;
	int h_ses = ch ? lesion_rtable_column(ch, "session") : -1, h_pc = ch ? lesion_rtable_column(ch, "percent_change") : -1;
	int h_st = ch ? lesion_rtable_column(ch, "status") : -1;
	for (int r = 0; ch && h_id >= 0 && h_base >= 0 && h_ses >= 0 && h_pc >= 0 && r < ch->n_rows; r++) {
		int p = find_string(ids, d->n_parts, lesion_rtable_cell(ch, r, h_id));
		int s = find_string(d->sessions, d->n_sessions, lesion_rtable_cell(ch, r, h_ses));
		const char *st = lesion_rtable_cell(ch, r, h_st);
		if (p < 0 || s < 0 || (st && strcmp(st, "ok") != 0) ||
		    strcmp(lesion_rtable_cell(ch, r, h_base), lesion_rtable_cell(tp, first[p], c_ses)) != 0)
			continue;
		d->parts[p].percent[s] = lesion_rtable_number(lesion_rtable_cell(ch, r, h_pc));
	}
	free(ids); free(key); free(cnt); free(order); free(first);
	return LESION_OK;
}

static void report_data_release(struct report_data *d)
{
	free(d->values);
	free(d->parts);
	free(d->sessions);
	free(d->groups);
}

static void base64(struct lesion_buf *b, const unsigned char *p, size_t n)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[5] = {0};
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		q[0] = abc[v >> 18 & 63];
		q[1] = abc[v >> 12 & 63];
		q[2] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? abc[v & 63] : '=';
		lesion_buf_puts(b, q);
	}
}

/* <img> of every OUT_DIR/sub-<label>/sub-<label>*_quicklook.png, by name */
static void quicklooks(struct lesion_buf *b, const char *out_dir, const char *id)
{
	const char *label = strncmp(id, "sub-", 4) == 0 ? id + 4 : id;
	if (!*label)
		return;
	for (const char *c = label; *c; c++)
		if (!isalnum((unsigned char)*c))
			return; /* never build a path from an id that is not a label */
	char dir[4096], prefix[300];
	snprintf(dir, sizeof(dir), "%s/sub-%s", out_dir, label);
	snprintf(prefix, sizeof(prefix), "sub-%s", label);
	struct dirent **names = NULL;
	DIR *dh = opendir(dir);
	int n = 0;
	if (!dh)
		return;
	for (struct dirent *e; (e = readdir(dh));) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 14 ||
		    strcmp(e->d_name + len - 14, "_quicklook.png") != 0)
			continue;
		struct dirent **nn = realloc(names, sizeof(*names) * (size_t)(n + 1));
		struct dirent *copy = malloc(sizeof(*copy));
		if (!nn || !copy) {
			free(copy);
			names = nn ? nn : names;
			b->failed = 1;
			break;
		}
		names = nn;
		memcpy(copy, e, sizeof(*copy));
		names[n++] = copy;
	}
	closedir(dh);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(names[j]->d_name, names[j - 1]->d_name) < 0; j--) {
			struct dirent *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		FILE *f = fopen(path, "rb");
		unsigned char *png = malloc(MAX_QUICKLOOK_BYTES);
		size_t size = f && png ? fread(png, 1, MAX_QUICKLOOK_BYTES, f) : 0;
		if (f)
			fclose(f);
		if (size > 8 && size < MAX_QUICKLOOK_BYTES && memcmp(png, "\x89PNG", 4) == 0) {
			lesion_buf_puts(b, "<img class=\"ql\" alt=\"");
			lesion_buf_escaped(b, names[i]->d_name);
			lesion_buf_puts(b, "\" title=\"");
			lesion_buf_escaped(b, names[i]->d_name);
			lesion_buf_puts(b, "\" src=\"data:image/png;base64,");
			base64(b, png, size);
			lesion_buf_puts(b, "\"/>");
		}
		free(png);
		free(names[i]);
	}
	free(names);
}

static void number_text(struct lesion_buf *b, double v, const char *fmt)
{
	if (isfinite(v))
		lesion_buf_printf(b, fmt, v);
	else
		lesion_buf_puts(b, "n/a");
}

static const char style[] =
	"body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}"
	"h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}"
	"svg{font-size:12px;display:block;margin:8px 0}svg .axis{font-size:13px}"
	"svg .note{font-size:11px;fill:#555}table{border-collapse:collapse;font-size:13px}"
	"td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}"
	"th{background:#f2f2f2}td.l,th.l{text-align:left}tr.error td{background:#fde8e8}"
	".wide{overflow-x:auto}img.ql{max-width:420px;display:block;margin:2px 0}"
	"span.pc{color:#555;font-size:11px}p.meta{color:#555}"
	"p.headline{font-size:15px;font-weight:bold}"
	"table.stats td{white-space:nowrap}";

enum lesion_status lesion_report_write(const char *out_dir, struct lesion_error *err)
{
	char path[4096];
	struct lesion_rtable tp, ch, cmp;
	struct report_data d;
	struct lesion_buf b = {0};
	enum lesion_status st = LESION_OK;
	memset(&d, 0, sizeof(d));
	memset(&ch, 0, sizeof(ch));
	memset(&cmp, 0, sizeof(cmp));
	snprintf(path, sizeof(path), "%s/timepoints.tsv", out_dir);
	int got = lesion_rtable_read(path, &tp, err);
	if (got <= 0)
		return got < 0 ? err ? err->status : LESION_ERR_INPUT
			       : lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s'", path);
	snprintf(path, sizeof(path), "%s/changes.tsv", out_dir);
	int have_changes = lesion_rtable_read(path, &ch, NULL) > 0;
	snprintf(path, sizeof(path), "%s/comparison.tsv", out_dir);
	int have_comparison = lesion_rtable_read(path, &cmp, NULL) > 0;
	if ((st = build(&tp, have_changes ? &ch : NULL, &d, err)))
		goto out;

	int n_failed = 0;
	for (int i = 0; i < d.n_parts; i++)
		n_failed += !d.parts[i].ok;
	lesion_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		      "<title>lesionvol cohort report</title>\n<style>");
	lesion_buf_puts(&b, style);
	lesion_buf_puts(&b, "</style>\n</head>\n<body>\n<h1>Lesion volume: cohort report</h1>\n");
	lesion_buf_printf(&b, "<p class=\"meta\">%d participants (%d failed), %d sessions, %d group%s; "
		    "made by lesionvol %s from timepoints.tsv%s%s.</p>\n", d.n_parts, n_failed,
		    d.n_sessions, d.n_groups, d.n_groups == 1 ? "" : "s", lesion_version(),
		    have_changes ? ", changes.tsv" : "", have_comparison ? ", comparison.tsv" : "");
	lesion_buf_puts(&b, "<h2>Lesion volume over time</h2>\n");
	lesion_report_plot_trajectories(&b, &d);
	lesion_buf_puts(&b, "<h2>Percent change from baseline</h2>\n");
	lesion_report_plot_percent(&b, &d);
	lesion_buf_puts(&b, "<p class=\"meta\">Boxes: quartiles and median; whiskers: the furthest "
		      "values within 1.5 interquartile ranges; dots: participants.</p>\n");
	lesion_buf_puts(&b, "<h2>Group comparison</h2>\n");
	if (!have_comparison || cmp.n_rows == 0)
		lesion_buf_puts(&b, "<p>No comparison.tsv in this folder (a comparison needs two groups, "
				     "or --compare A,B).</p>\n");
	else if (!lesion_report_comparison_results(&b, &cmp))
		lesion_report_comparison_table(&b, &cmp);

	lesion_buf_puts(&b, "<h2>Participants</h2>\n<div class=\"wide\"><table>\n<tr>"
		      "<th class=\"l\">participant</th><th class=\"l\">group</th>");
	for (int s = 0; s < d.n_sessions; s++) {
		lesion_buf_puts(&b, "<th>");
		lesion_buf_escaped(&b, d.sessions[s]);
		lesion_buf_puts(&b, "<br/>mL (change)</th>");
	}
	/* the quicklook column only when some participant has one */
	struct lesion_buf probe = {0};
	for (int i = 0; i < d.n_parts && !probe.len; i++)
		quicklooks(&probe, out_dir, d.parts[i].id);
	int with_ql = probe.len > 0;
	free(probe.data);
	lesion_buf_puts(&b, with_ql ? "<th class=\"l\">status</th><th class=\"l\">quicklook</th></tr>\n"
			      : "<th class=\"l\">status</th></tr>\n");
	for (int i = 0; i < d.n_parts; i++) {
		const struct rpart *p = &d.parts[i];
		lesion_buf_puts(&b, p->ok ? "<tr><td class=\"l\">" : "<tr class=\"error\"><td class=\"l\">");
		lesion_buf_escaped(&b, p->id);
		lesion_buf_puts(&b, "</td><td class=\"l\">");
		lesion_buf_escaped(&b, p->group >= 0 ? d.groups[p->group] : "");
		lesion_buf_puts(&b, "</td>");
		for (int s = 0; s < d.n_sessions; s++) {
			lesion_buf_puts(&b, "<td>");
			number_text(&b, p->volume_ml[s], "%.2f");
			if (isfinite(p->percent[s]))
				lesion_buf_printf(&b, "<br/><span class=\"pc\">%+.1f%%</span>", p->percent[s]);
			lesion_buf_puts(&b, "</td>");
		}
		lesion_buf_puts(&b, "<td class=\"l\">");
		lesion_buf_puts(&b, p->ok ? "ok" : "error");
		if (p->message) {
			lesion_buf_puts(&b, ": ");
			lesion_buf_escaped(&b, p->message);
		}
		if (with_ql) {
			lesion_buf_puts(&b, "</td><td class=\"l\">");
			quicklooks(&b, out_dir, p->id);
		}
		lesion_buf_puts(&b, "</td></tr>\n");
	}
	lesion_buf_puts(&b, "</table></div>\n</body>\n</html>\n");
	if (b.failed) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/report.html", out_dir);
	st = lesion_write_file_atomic(path, b.data, b.len, err);
out:
	free(b.data);
	report_data_release(&d);
	lesion_rtable_release(&tp);
	lesion_rtable_release(&ch);
	lesion_rtable_release(&cmp);
	return st;
}
