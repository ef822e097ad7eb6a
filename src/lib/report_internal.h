/* report_internal.h: what report.c (tables, page) and report_svg.c (plots)
 * share: a growing text buffer and the cohort data the plots draw. */
#ifndef LESIONVOL_REPORT_INTERNAL_H
#define LESIONVOL_REPORT_INTERNAL_H

#include <stddef.h>

/* A growing NUL-terminated text; @failed once memory ran out. */
struct rbuf {
	char *data;
	size_t len, cap;
	int failed;
};

void rbuf_puts(struct rbuf *b, const char *s);
void rbuf_printf(struct rbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* @s with &, <, > and " escaped for HTML/XML text and attributes */
void rbuf_escaped(struct rbuf *b, const char *s);

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

/* report_colour() - the colour of group @g (colour-blind safe palette). */
const char *report_colour(int g);

/* report_plot_trajectories() - SVG: volume over time per participant and
 * group means. */
void report_plot_trajectories(struct rbuf *b, const struct report_data *d);

/* report_plot_percent() - SVG: strip and box plot of percent change per
 * group and follow-up session; nothing when there is no change. */
void report_plot_percent(struct rbuf *b, const struct report_data *d);

#endif
