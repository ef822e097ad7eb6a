/* stats_internal.h: helpers shared by stats.c, stats_ols.c and stats_rank.c. */
#ifndef LESIONVOL_STATS_INTERNAL_H
#define LESIONVOL_STATS_INTERNAL_H

#include <stddef.h>

#include "lesionvol/stats.h"

/* stats_na() - write a printf-style reason into @reason
 * (LESION_STATS_REASON_MAX bytes). */
void stats_na(char *reason, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * stats_two_groups() - check the arguments of a two-group function and copy
 * the finite values of @a and @b into fresh arrays *@fa and *@fb (free with
 * free(); NULL when empty), their counts in *@na, *@nb and the skipped values
 * in *@n_missing.
 */
enum lesion_status stats_two_groups(const double *a, size_t n_a,
				    const double *b, size_t n_b,
				    const void *out, const char *what,
				    double **fa, size_t *na, double **fb,
				    size_t *nb, size_t *n_missing,
				    struct lesion_error *err);

/* stats_mean_var() - mean and sample variance (n - 1; NaN for n < 2) by two
 * passes. */
void stats_mean_var(const double *x, size_t n, double *mean, double *var);

/* stats_group_name() - "reference group" (0) or "comparison group" (1). */
const char *stats_group_name(int which);

#endif
