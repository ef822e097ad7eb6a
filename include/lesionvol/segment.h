/* lesionvol/segment.h: the segmentation rule and the measurements of
 * one image: lesion voxels, volume and every connected component. */
#ifndef LESIONVOL_SEGMENT_H
#define LESIONVOL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "lesionvol/status.h"
#include "lesionvol/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct lesion_rule - which voxels are lesion.
 *
 * Without any threshold the rule is value > 0. @thr alone: value >= thr;
 * @uthr alone: value <= uthr; both: thr <= value <= uthr. In every form
 * exact zero is background (value != 0: zero is what lies outside the brain
 * or the field of view of masks, skull-stripped maps and statistics maps),
 * and negative values count wherever the bounds take them in.
 * @zthr / @uzthr: value >= median + K * 1.4826 * MAD (or <= median - ...)
 * of the reference voxels (the finite voxels inside the brain mask when one
 * is given, else every non-zero finite voxel); they take the place of @thr /
 * @uthr and combine the same way. The median is numpy's (the mean of the
 * two middle values for an even count), computed exactly. NaN voxels are
 * never lesion.
 * A @has_* flag says whether the value next to it is set. Values are the
 * scaled values (raw * scl_slope + scl_inter). Then, in the documented order: the
 * brain mask, @fill_holes, components of @connectivity, and components
 * smaller than @min_voxels or @min_volume_mm3 are dropped.
 */
struct lesion_rule {
	int has_thr, has_uthr, has_zthr, has_uzthr;
	double thr, uthr, zthr, uzthr;
	int fill_holes;          /* enclosed background becomes lesion */
	int connectivity;        /* 6, 18 or 26 */
	int64_t min_voxels;      /* drop smaller components */
	double min_volume_mm3;   /* drop smaller components */
	int soft;                /* also report the partial-volume estimate */
};

/* lesion_rule_init() - the default rule: value > 0, 26-connected, keep all. */
void lesion_rule_init(struct lesion_rule *rule);

/*
 * lesion_rule_check() - LESION_ERR_USAGE with a message when the rule is
 * contradictory or out of range: --thr above --uthr, --zthr with --thr,
 * --uzthr with --uthr, non-finite thresholds, negative minimum sizes, a
 * connectivity other than 6, 18 or 26. LESION_OK otherwise.
 */
enum lesion_status lesion_rule_check(const struct lesion_rule *rule,
				     struct lesion_error *err);

/*
 * lesion_rule_describe() - the rule in words, e.g.
 * "value >= 0.5; 26-connected; components >= 10 voxels", into @buf of @size
 * bytes (NUL-terminated, truncated if needed). Numbers are written so that
 * they read back exactly. " and value != 0" follows the bounds when they
 * alone could take zero in ("-1 <= value <= 1 and value != 0"; always
 * with a relative bound, whose value depends on the image).
 */
void lesion_rule_describe(const struct lesion_rule *rule, char *buf, size_t size);

/*
 * struct lesion_component - one connected component. Components are numbered 1..n by decreasing size; ties go
 * to the one whose first voxel in file order comes first.
 */
struct lesion_component {
	int64_t label;
	int64_t voxels;
	double volume_mm3;
	double centroid_vox[3];   /* plain mean of voxel indices i, j, k */
	double centroid_mm[3];    /* centroid_vox through vox_to_world */
	int64_t bbox_min[3];
	int64_t bbox_max[3];
	double mean;              /* of the input's scaled values */
	double max;
	int64_t peak_vox[3];      /* first voxel (file order) holding max */
	/* bbox_min/bbox_max are inclusive voxel indices i, j, k */
	double soft_mm3;          /* with rule->soft, else NaN */
};

/*
 * struct lesion_measurement - the result of segmenting one volume.
 * Release with lesion_measurement_release().
 */
struct lesion_measurement {
	double voxel_volume_mm3;
	char voxel_volume_source[128]; /* e.g. "pixdim (mm)" */
	char world_source[64];         /* where centroid_mm comes from: "sform",
					  "qform", or "pixdim (orientation
					  unknown)" when neither code is set */
	int64_t lesion_voxels;
	double lesion_volume_mm3;
	double lesion_volume_ml;
	int64_t n_components;
	double largest_component_mm3;  /* 0 when there is no component */
	int64_t nan_voxels;            /* NaN voxels of the whole volume */
	double soft_volume_mm3;        /* with rule->soft, else NaN */
	double lower, upper;           /* effective bounds (NaN: none); the
					  default rule's lower bound 0 is
					  exclusive, every other inclusive */
	double ref_median, ref_mad;    /* for --zthr/--uzthr, else NaN */
	char rule[256];                /* lesion_rule_describe(), plus the
					  median and MAD when relative, and
					  "; inside the mask" */
	struct lesion_component *components; /* n_components, label order */
};

/*
 * struct lesion_segmentation - optional voxel outputs of lesion_measure():
 * ask for what you need by setting the pointers' owner flags.
 *
 * @want_mask:   fill @mask, n_voxels bytes, 1 for kept lesion voxels
 * @want_labels: fill @labels, n_voxels int32, component label or 0
 * Free with lesion_segmentation_release().
 */
struct lesion_segmentation {
	int want_mask;
	int want_labels;
	uint8_t *mask;
	int32_t *labels;
};

/*
 * lesion_measure() - apply @rule to @vol (loaded) and measure the result.
 *
 * @brain_mask may be NULL; when given it must be on @vol's grid (else
 * LESION_ERR_INPUT naming both files) and only its non-zero, non-NaN voxels
 * count. Holes are filled after the brain mask is applied (the documented order),
 * and never make a NaN voxel lesion.
 * @seg may be NULL. Fills @out (release with lesion_measurement_release())
 * and what @seg asks for. On failure nothing needs releasing.
 * Memory: one byte per voxel, plus four with @seg->want_labels, plus the
 * runs of the lesion; for --zthr/--uzthr eight per reference voxel.
 * Deterministic whatever the number of OpenMP threads. Thread safe.
 * Returns LESION_OK, LESION_ERR_USAGE (lesion_rule_check()), LESION_ERR_INPUT
 * (grid mismatch, no reference voxels, unusable voxel size) or
 * LESION_ERR_INTERNAL (out of memory).
 */
enum lesion_status lesion_measure(const struct lesion_volume *vol,
				  const struct lesion_volume *brain_mask,
				  const struct lesion_rule *rule,
				  struct lesion_measurement *out,
				  struct lesion_segmentation *seg,
				  struct lesion_error *err);

/*
 * lesion_measure_keep() - lesion_measure() with a further criterion: a voxel
 * where @keep (@vol->geom.n_voxels bytes, file order; NULL: none) is 0 is
 * never lesion by thresholding. Rules that combine images (a DWI
 * co-criterion, a reference from the opposite hemisphere) compute @keep on
 * @vol's grid and pass it here; the threshold of @rule, the brain mask,
 * hole filling, components, size filters and the per-component values (of
 * @vol) then apply as in lesion_measure(). Holes are filled after @keep, as
 * after the brain mask. @vol must be loaded. Errors, memory and thread
 * safety as lesion_measure()'s, plus nothing for @keep (the caller's).
 */
enum lesion_status lesion_measure_keep(const struct lesion_volume *vol,
				       const struct lesion_volume *brain_mask,
				       const uint8_t *keep,
				       const struct lesion_rule *rule,
				       struct lesion_measurement *out,
				       struct lesion_segmentation *seg,
				       struct lesion_error *err);

/*
 * lesion_measure_load() - measure volume @index (-1: the image must be 3D)
 * of @vol, opened with lesion_volume_open() and not loaded: the result of
 * lesion_volume_load() then lesion_measure(), bit for bit, but faster and
 * in less memory. When the rule needs nothing but the voxels' rows (no
 * --zthr/--uzthr, no --fill-holes, no @seg->want_mask) the file is read a
 * slab of planes at a time and each slab thresholded, labelled and its
 * values summed while the next is inflated; the volume is never held whole
 * and @vol->data stays NULL. Otherwise @vol is loaded first and keeps its
 * data. A @vol already loaded is simply measured. Errors as those two
 * functions'. Deterministic whatever the number of OpenMP threads.
 */
enum lesion_status lesion_measure_load(struct lesion_volume *vol, int64_t index,
				       const struct lesion_volume *brain_mask,
				       const struct lesion_rule *rule,
				       struct lesion_measurement *out,
				       struct lesion_segmentation *seg,
				       struct lesion_error *err);

/* lesion_measurement_release() - free what @m owns; the struct stays. */
void lesion_measurement_release(struct lesion_measurement *m);

/* lesion_segmentation_release() - free what @seg owns. */
void lesion_segmentation_release(struct lesion_segmentation *seg);

#ifdef __cplusplus
}
#endif
#endif
