/* report_internal.h: what report.c (tables, page) and report_svg.c (plots)
 * share: the cohort data the plots draw. */
#ifndef LESIONVOL_REPORT_INTERNAL_H
#define LESIONVOL_REPORT_INTERNAL_H

#include <stddef.h>

#include "lesionvol/status.h"

#include "cohort_internal.h" /* struct lesion_buf */

/* @s with &, <, > and " escaped for HTML/XML text and attributes */
void lesion_buf_escaped(struct lesion_buf *b, const char *s);

/* A TSV table: the whole file, cut in place into fields. */
struct lesion_rtable {
	char *text;
	int n_cols, n_rows;
	char **cells; /* (n_rows + 1) * n_cols, row 0 the header */
};

/* lesion_rtable_read() - @path as a table: 1 read, 0 no such file, -1 error
 * (in @err: rows of different lengths, binary data, out of memory). */
int lesion_rtable_read(const char *path, struct lesion_rtable *t, struct lesion_error *err);
void lesion_rtable_release(struct lesion_rtable *t);
/* the cell of data row @row (0-based) and column @col; NULL when @col < 0 */
const char *lesion_rtable_cell(const struct lesion_rtable *t, int row, int col);
/* the index of column @name, or -1 */
int lesion_rtable_column(const struct lesion_rtable *t, const char *name);
/* the number in @s; NaN for NULL, empty, "n/a" or anything else */
double lesion_rtable_number(const char *s);
/* @s, or NULL when it is NULL, empty or "n/a" */
const char *lesion_na_to_null(const char *s);

/* lesion_report_comparison_results() - comparison.tsv in its long form (a
 * row per session, outcome and test): the primary result's sentences, then
 * a table. Returns 0, writing nothing, when @t does not have that form. */
int lesion_report_comparison_results(struct lesion_buf *b, const struct lesion_rtable *t);

/* lesion_report_comparison_table() - any comparison table as it is,
 * numbers rounded; transposed when it is a few rows of many columns. */
void lesion_report_comparison_table(struct lesion_buf *b, const struct lesion_rtable *t);

/* One participant: volume (mL) and days per session (NaN when absent). */
struct rpart {
	const char *id;
	int group;          /* index into report_data.groups, -1: none */
	int ok;             /* every timepoint measured */
	const char *message;
	double *volume_ml;  /* [n_sessions] */
	double *days;       /* [n_sessions] */
	double *percent;    /* [n_sessions] change from baseline, NaN: none */
};

struct report_data {
	int n_sessions;
	const char **sessions;  /* in time order */
	int days_known;         /* every measured timepoint has days */
	int n_groups;
	const char **groups;    /* sorted; "(no group)" stands for none */
	int n_parts;
	struct rpart *parts;
	double *values;         /* what the parts' arrays point into */
};

/* lesion_report_colour() - the colour of group @g (colour-blind safe palette). */
const char *lesion_report_colour(int g);

/* lesion_report_plot_trajectories() - SVG: volume over time per participant and
 * group means. */
void lesion_report_plot_trajectories(struct lesion_buf *b, const struct report_data *d);

/* lesion_report_plot_percent() - SVG: strip and box plot of percent change per
 * group and follow-up session; nothing when there is no change. */
void lesion_report_plot_percent(struct lesion_buf *b, const struct report_data *d);

#endif
