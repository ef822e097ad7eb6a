/* segment_internal.h: the thresholding step of the segmentation rule, shared
 * by segment.c and measure.c (not installed). */
#ifndef LESIONVOL_SEGMENT_INTERNAL_H
#define LESIONVOL_SEGMENT_INTERNAL_H

#include <stdint.h>

#include "lesionvol/segment.h"

/*
 * struct lesion_bounds - which values are lesion, once relative thresholds
 * are resolved: lower < value (@lower_strict) or lower <= value, and
 * value <= upper, and value != 0 when @exclude_zero; NaN never.
 * Absent bounds are -INFINITY / +INFINITY.
 */
struct lesion_bounds {
	double lower, upper;
	int lower_strict;
	int exclude_zero;
	double ref_median, ref_mad; /* NaN unless --zthr/--uzthr */
	int64_t ref_voxels;
};

/*
 * lesion_rule_bounds() - resolve @rule on @vol: for --zthr/--uzthr the median
 * and MAD of the reference voxels (finite voxels inside @brain when given,
 * else every finite non-zero voxel) are computed exactly.
 * Returns LESION_OK, LESION_ERR_INPUT (no reference voxels) or
 * LESION_ERR_INTERNAL (out of memory).
 */
enum lesion_status lesion_rule_bounds(const struct lesion_volume *vol,
				      const struct lesion_volume *brain,
				      const struct lesion_rule *rule,
				      struct lesion_bounds *b,
				      struct lesion_error *err);

/*
 * lesion_rule_describe_bounds() - lesion_rule_describe() with the bounds
 * resolved on an image (@b; NULL: unknown), so "and value != 0" appears
 * exactly when the bounds alone would take zero in.
 */
void lesion_rule_describe_bounds(const struct lesion_rule *rule,
				 const struct lesion_bounds *b, char *buf, size_t size);

/*
 * lesion_threshold_mask() - one pass over @vol: @mask[i] = 1 where voxel i is
 * within @b (and non-zero, non-NaN in @brain when given), @nan_marker where
 * it is NaN, else 0. Returns the number of NaN voxels of @vol. Uses OpenMP;
 * the result does not depend on the number of threads.
 */
int64_t lesion_threshold_mask(const struct lesion_volume *vol,
			      const struct lesion_volume *brain,
			      const struct lesion_bounds *b, uint8_t nan_marker,
			      uint8_t *mask);

/*
 * struct lesion_threshold - the bounds of a rule, ready to test voxels of one
 * volume in their stored type (lesion_threshold_init()). Read-only after
 * init, so threads share one.
 */
enum { THR_DOUBLE, THR_INT, THR_FLOAT };
struct lesion_threshold {
	const struct lesion_volume *vol, *brain;
	struct lesion_bounds b;
	uint8_t nan_marker;
	int kind;
	int64_t ilo, ihi;
	float flo, fhi;
	int check_zero;
};

/* lesion_threshold_init() - prepare @t to test @vol's voxels against @b. */
void lesion_threshold_init(struct lesion_threshold *t,
			   const struct lesion_volume *vol,
			   const struct lesion_volume *brain,
			   const struct lesion_bounds *b, uint8_t nan_marker);

/*
 * lesion_threshold_span() - voxels [@start, @start + @n) of @t's volume into
 * @out as lesion_threshold_mask() would; returns their number of NaNs.
 */
int64_t lesion_threshold_span(const struct lesion_threshold *t, int64_t start,
			      int64_t n, uint8_t *out);

/* lesion_threshold_span_at() - lesion_threshold_span() of voxels whose
 * stored bytes are at @data (not necessarily in the volume's buffer). */
int64_t lesion_threshold_span_at(const struct lesion_threshold *t, const void *data,
				 int64_t start, int64_t n, uint8_t *out);

/* lesion_values_convert() - lesion_volume_values() of @count voxels of
 * @vol's type and scaling whose stored bytes are at @src. */
void lesion_values_convert(const struct lesion_volume *vol, const void *src,
			   int64_t count, double *out);

#endif
