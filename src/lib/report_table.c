/* report_table.c: the TSV tables report.html is made from, and the group
 * comparison (comparison.tsv) laid out for reading. */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/status.h"

void lesion_rtable_release(struct lesion_rtable *t)
{
	free(t->text);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

const char *lesion_rtable_cell(const struct lesion_rtable *t, int row, int col)
{
	return col < 0 ? NULL : t->cells[(size_t)(row + 1) * (size_t)t->n_cols + (size_t)col];
}

int lesion_rtable_column(const struct lesion_rtable *t, const char *name)
{
	for (int c = 0; c < t->n_cols; c++)
		if (strcmp(t->cells[c], name) == 0)
			return c;
	return -1;
}

double lesion_rtable_number(const char *s)
{
	char *end;
	if (!s || !*s)
		return NAN;
	double v = strtod(s, &end);
	return *end ? NAN : v;
}

/* 1: read, 0: no such file, -1: error (in @err) */
int lesion_rtable_read(const char *path, struct lesion_rtable *t, struct lesion_error *err)
{
	memset(t, 0, sizeof(*t));
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	struct lesion_buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk) - 1, f)) > 0) {
		chunk[n] = '\0';
		if (strlen(chunk) != n) {
			fclose(f);
			free(b.data);
			lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s': not a text table", path);
			return -1;
		}
		lesion_buf_puts(&b, chunk);
	}
	fclose(f);
	if (b.failed || !b.data) {
		free(b.data);
		lesion_error_set(err, b.failed ? LESION_ERR_INTERNAL : LESION_ERR_INPUT,
				 b.failed ? "out of memory" : "'%s' is empty", path);
		return -1;
	}
	t->text = b.data;
	int lines = 1, tabs = 0;
	for (char *p = t->text; *p; p++) {
		lines += *p == '\n';
		tabs += *p == '\t';
	}
	t->cells = calloc((size_t)(lines + tabs + 1), sizeof(char *));
	if (!t->cells) {
		lesion_rtable_release(t);
		lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		return -1;
	}
	int row = 0, k = 0;
	for (char *line = t->text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (!len)
			continue;
		int fields = 0;
		for (char *fld = line, *tab; fld; fld = tab) {
			tab = strchr(fld, '\t');
			if (tab)
				*tab++ = '\0';
			t->cells[k++] = fld;
			fields++;
		}
		if (row == 0)
			t->n_cols = fields;
		else if (fields != t->n_cols) {
			lesion_error_set(err, LESION_ERR_INPUT, "'%s': row %d has %d fields, the "
					 "header has %d", path, row + 1, fields, t->n_cols);
			lesion_rtable_release(t);
			return -1;
		}
		row++;
	}
	t->n_rows = row > 0 ? row - 1 : 0;
	return 1;
}

const char *lesion_na_to_null(const char *s)
{
	return !s || !*s || strcmp(s, "n/a") == 0 ? NULL : s;
}

/* comparison.tsv as it is, numbers rounded for reading; transposed when
 * it is a few rows of many columns */
void lesion_report_comparison_table(struct lesion_buf *b, const struct lesion_rtable *t)
{
	int transpose = t->n_rows <= 6 && t->n_cols > t->n_rows;
	int outer = transpose ? t->n_cols : t->n_rows + 1;
	int inner = transpose ? t->n_rows + 1 : t->n_cols;
	lesion_buf_puts(b, "<div class=\"wide\"><table class=\"stats\">\n");
	for (int i = 0; i < outer; i++) {
		lesion_buf_puts(b, "<tr>");
		for (int j = 0; j < inner; j++) {
			int row = transpose ? j : i, col = transpose ? i : j;
			const char *s = t->cells[(size_t)row * (size_t)t->n_cols + (size_t)col];
			int head = row == 0;
			double v = lesion_rtable_number(s);
			lesion_buf_puts(b, head ? "<th>" : "<td>");
			if (!head && isfinite(v) && strchr(s, '.'))
				lesion_buf_printf(b, "%.4g", v);
			else
				lesion_buf_escaped(b, s);
			lesion_buf_puts(b, head ? "</th>" : "</td>");
		}
		lesion_buf_puts(b, "</tr>\n");
	}
	lesion_buf_puts(b, "</table></div>\n");
}

static const char *test_name(const char *test)
{
	static const char *const names[][2] = {
		{"ancova_log", "ANCOVA of log volume (primary)"},
		{"ancova_mm3", "ANCOVA of volume (mm<sup>3</sup>)"},
		{"welch_t", "Welch t-test"},
		{"hedges_g", "Hedges' g"},
		{"mann_whitney_u", "Mann-Whitney U"},
		{"hodges_lehmann", "Hodges-Lehmann shift"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(test, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

static void stat_cell(struct lesion_buf *b, const char *s, int p_value)
{
	double v = lesion_rtable_number(s);
	lesion_buf_puts(b, "<td>");
	if (!isfinite(v))
		lesion_buf_puts(b, "");
	else if (p_value && v < 0.001)
		lesion_buf_puts(b, "&lt; 0.001");
	else
		lesion_buf_printf(b, p_value ? "%.3f" : "%.4g", v);
	lesion_buf_puts(b, "</td>");
}

/*
 * comparison.tsv in long form (a row per session, outcome and test): the
 * primary result's sentences first, then a table for reading. Returns 0
 * (nothing written) when the table does not have that form.
 */
int lesion_report_comparison_results(struct lesion_buf *b, const struct lesion_rtable *t)
{
	int c_ses = lesion_rtable_column(t, "session"), c_out = lesion_rtable_column(t, "outcome");
	int c_test = lesion_rtable_column(t, "test"), c_est = lesion_rtable_column(t, "estimate");
	int c_lo = lesion_rtable_column(t, "ci_low"), c_hi = lesion_rtable_column(t, "ci_high");
	int c_p = lesion_rtable_column(t, "p_value"), c_stat = lesion_rtable_column(t, "statistic");
	int c_df = lesion_rtable_column(t, "df"), c_nr = lesion_rtable_column(t, "n_reference");
	int c_nc = lesion_rtable_column(t, "n_comparison"), c_note = lesion_rtable_column(t, "note");
	int c_ratio = lesion_rtable_column(t, "ratio"), c_rlo = lesion_rtable_column(t, "ratio_ci_low");
	int c_rhi = lesion_rtable_column(t, "ratio_ci_high");
	int c_ref = lesion_rtable_column(t, "reference_group"), c_cmp = lesion_rtable_column(t, "comparison_group");
	if (c_ses < 0 || c_out < 0 || c_test < 0 || c_est < 0 || c_lo < 0 || c_hi < 0 ||
	    c_p < 0)
		return 0;
	if (c_ref >= 0 && c_cmp >= 0) {
		lesion_buf_puts(b, "<p>");
		lesion_buf_escaped(b, lesion_rtable_cell(t, 0, c_cmp));
		lesion_buf_puts(b, " compared with ");
		lesion_buf_escaped(b, lesion_rtable_cell(t, 0, c_ref));
		lesion_buf_puts(b, " (the reference): differences are ");
		lesion_buf_escaped(b, lesion_rtable_cell(t, 0, c_cmp));
		lesion_buf_puts(b, " minus ");
		lesion_buf_escaped(b, lesion_rtable_cell(t, 0, c_ref));
		lesion_buf_puts(b, ", ratios ");
		lesion_buf_escaped(b, lesion_rtable_cell(t, 0, c_cmp));
		lesion_buf_puts(b, " over ");
		lesion_buf_escaped(b, lesion_rtable_cell(t, 0, c_ref));
		lesion_buf_puts(b, ".</p>\n");
	}
	for (int r = 0; r < t->n_rows; r++)
		if (strcmp(lesion_rtable_cell(t, r, c_test), "ancova_log") == 0 && c_note >= 0 &&
		    lesion_na_to_null(lesion_rtable_cell(t, r, c_note))) {
			lesion_buf_puts(b, "<p class=\"headline\">");
			lesion_buf_escaped(b, lesion_rtable_cell(t, r, c_note));
			lesion_buf_puts(b, "</p>\n");
		}
	lesion_buf_puts(b, "<div class=\"wide\"><table class=\"stats\">\n<tr><th class=\"l\">session"
		     "</th><th class=\"l\">outcome</th><th class=\"l\">test</th><th>n</th>"
		     "<th>estimate</th><th>95% CI</th><th>statistic</th><th>df</th><th>p</th>"
		     "<th>ratio (95% CI)</th><th class=\"l\">note</th></tr>\n");
	for (int r = 0; r < t->n_rows; r++) {
		const char *test = lesion_rtable_cell(t, r, c_test), *nice = test_name(test);
		lesion_buf_puts(b, "<tr><td class=\"l\">");
		lesion_buf_escaped(b, lesion_rtable_cell(t, r, c_ses));
		lesion_buf_puts(b, "</td><td class=\"l\">");
		lesion_buf_escaped(b, lesion_rtable_cell(t, r, c_out));
		lesion_buf_puts(b, "</td><td class=\"l\">");
		if (nice)
			lesion_buf_puts(b, nice);
		else
			lesion_buf_escaped(b, test);
		lesion_buf_puts(b, "</td><td>");
		if (c_nr >= 0 && c_nc >= 0) {
			lesion_buf_escaped(b, lesion_rtable_cell(t, r, c_nr));
			lesion_buf_puts(b, " + ");
			lesion_buf_escaped(b, lesion_rtable_cell(t, r, c_nc));
		}
		lesion_buf_puts(b, "</td>");
		stat_cell(b, lesion_rtable_cell(t, r, c_est), 0);
		double lo = lesion_rtable_number(lesion_rtable_cell(t, r, c_lo)), hi = lesion_rtable_number(lesion_rtable_cell(t, r, c_hi));
		if (isfinite(lo) && isfinite(hi))
			lesion_buf_printf(b, "<td>%.4g to %.4g</td>", lo, hi);
		else
			lesion_buf_puts(b, "<td></td>");
		stat_cell(b, c_stat >= 0 ? lesion_rtable_cell(t, r, c_stat) : NULL, 0);
		stat_cell(b, c_df >= 0 ? lesion_rtable_cell(t, r, c_df) : NULL, 0);
		stat_cell(b, lesion_rtable_cell(t, r, c_p), 1);
		double ra = c_ratio >= 0 ? lesion_rtable_number(lesion_rtable_cell(t, r, c_ratio)) : NAN;
		double rl = c_rlo >= 0 ? lesion_rtable_number(lesion_rtable_cell(t, r, c_rlo)) : NAN;
		double rh = c_rhi >= 0 ? lesion_rtable_number(lesion_rtable_cell(t, r, c_rhi)) : NAN;
		if (isfinite(ra))
			lesion_buf_printf(b, "<td>%.3g (%.3g to %.3g)</td>", ra, rl, rh);
		else
			lesion_buf_puts(b, "<td></td>");
		lesion_buf_puts(b, "<td class=\"l\">");
		/* the primary result's sentence is above the table already */
		if (c_note >= 0 && lesion_na_to_null(lesion_rtable_cell(t, r, c_note)) && strcmp(test, "ancova_log") != 0)
			lesion_buf_escaped(b, lesion_rtable_cell(t, r, c_note));
		lesion_buf_puts(b, "</td></tr>\n");
	}
	lesion_buf_puts(b, "</table></div>\n");
	return 1;
}

