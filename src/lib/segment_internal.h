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
 * lesion_threshold_mask() - one pass over @vol: @mask[i] = 1 where voxel i is
 * within @b (and non-zero, non-NaN in @brain when given), @nan_marker where
 * it is NaN, else 0. Returns the number of NaN voxels of @vol. Uses OpenMP;
 * the result does not depend on the number of threads.
 */
int64_t lesion_threshold_mask(const struct lesion_volume *vol,
			      const struct lesion_volume *brain,
			      const struct lesion_bounds *b, uint8_t nan_marker,
			      uint8_t *mask);

#endif
