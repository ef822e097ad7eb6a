/* change_internal.h: the volume-change formulas, one definition for a whole
 * lesion (change.c) and for a region's lesion load (atlas.c). Not installed. */
#ifndef LESIONVOL_CHANGE_INTERNAL_H
#define LESIONVOL_CHANGE_INTERNAL_H

#include <math.h>

/* 100 (v1 - v0) / v0; NaN without a baseline volume. */
static inline double lesion_percent_change(double v0, double v1)
{
	return v0 > 0 ? 100.0 * (v1 - v0) / v0 : NAN;
}

/* (v1 - v0) / days; NaN when the days are unknown or zero. */
static inline double lesion_rate_per_day(double v0, double v1, double days)
{
	return (isfinite(days) && days != 0) ? (v1 - v0) / days : NAN;
}

#endif
