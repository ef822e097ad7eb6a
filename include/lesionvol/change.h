/* lesionvol/change.h: lesion change between timepoints of one subject. */
#ifndef LESIONVOL_CHANGE_H
#define LESIONVOL_CHANGE_H

#include <stdint.h>

#include "lesionvol/atlas.h"
#include "lesionvol/segment.h"
#include "lesionvol/status.h"
#include "lesionvol/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Values of a change map (--out-change). */
enum {
	LESION_CHANGE_BACKGROUND = 0,
	LESION_CHANGE_RESOLVED = 1,   /* baseline only */
	LESION_CHANGE_PERSISTENT = 2, /* in both */
	LESION_CHANGE_NEW = 3,        /* later only */
};

/*
 * struct lesion_change - one later timepoint against a reference (the
 * baseline, or with --consecutive the timepoint before). Fields that are n/a
 * hold NaN, counts that are n/a hold -1.
 */
struct lesion_change {
	int from;                  /* index of the reference timepoint (input order) */
	int to;                    /* index of the later timepoint (input order) */
	double baseline_mm3;       /* volume of the reference */
	double volume_mm3;
	double delta_mm3;
	double percent_change;     /* NaN when the reference is empty */
	double log_ratio;          /* ln(V/V0); NaN when either is 0 */
	double days;               /* days between the two, NaN when unknown */
	double rate_mm3_per_day;   /* NaN when days are unknown or equal */
	int same_grid;             /* overlap fields below are valid */
	double dice;               /* NaN when both are empty or grids differ */
	double persistent_mm3, resolved_mm3, new_mm3;
	int64_t n_new, n_resolved, n_persistent, n_merged, n_split;
	char warning[256];         /* why overlap is n/a, else "" */
};

/*
 * lesion_change_compare() - volumes, overlap and lesion-wise tracking of @b
 * (later) against @a (reference).
 *
 * @va/@vb give the grids; @ma/@mb their measurements; @sa/@sb must hold
 * masks and labels (want_mask, want_labels) from lesion_measure() with the
 * same rule. @days_a/@days_b may be NaN. When the grids differ (dims, or
 * voxel-to-world matrices by more than 1e-3 mm) the overlap fields are n/a
 * and @out->warning says why. @change_map, when not NULL, receives n_voxels
 * bytes (0 background, 1 resolved, 2 persistent, 3 new); it is left untouched
 * on different grids. Thread safe.
 */
void lesion_change_compare(const struct lesion_volume *va,
			   const struct lesion_measurement *ma,
			   const struct lesion_segmentation *sa, double days_a,
			   const struct lesion_volume *vb,
			   const struct lesion_measurement *mb,
			   const struct lesion_segmentation *sb, double days_b,
			   struct lesion_change *out, uint8_t *change_map);

/*
 * struct lesion_series_options - how lesion_series_run() reads timepoints.
 */
struct lesion_series_options {
	struct lesion_rule rule;
	const char *mask_path;        /* brain mask for every timepoint, or NULL */
	int64_t volume_index;         /* -1: images must be 3D */
	int consecutive;              /* also each against the one before */
	const double *days;           /* n_timepoints values (NaN: unknown) or NULL */
	const char *change_map_path;  /* write baseline vs last map here, or NULL */
	const struct lesion_atlas *atlas; /* lesion load per region, or NULL; only read */
	int keep_map;                 /* keep lesion_series.map (for a quicklook) */
	/*
	 * @on_mask, when not NULL, is called once per timepoint, in days order,
	 * with @vol (its header and grid; the voxels may be gone) and @mask,
	 * one byte per voxel of that grid, 1 for the lesion voxels counted
	 * (after every rule option). Asking for it makes a single-timepoint
	 * series load its volume instead of streaming it.
	 * @on_change_map, when not NULL, is called once per later timepoint
	 * with its change map against the baseline (@from; values as
	 * --out-change) on @vol's grid (that of @to), or with NULL @map when
	 * the two are on different grids (the change's warning says why).
	 * Both get @hook_ctx; a status other than LESION_OK stops the series
	 * and is returned with their @err. Called from the calling thread.
	 */
	enum lesion_status (*on_mask)(void *hook_ctx, int index,
				      const struct lesion_volume *vol, const uint8_t *mask,
				      struct lesion_error *err);
	enum lesion_status (*on_change_map)(void *hook_ctx, int from, int to,
					    const struct lesion_volume *vol,
					    const uint8_t *map, struct lesion_error *err);
	void *hook_ctx;
};

/*
 * struct lesion_series - the measurements of every timepoint and the
 * changes. Timepoints stay in input order; @order lists them sorted by days
 * (stable; input order when days are unknown), @order[0] is the baseline.
 * Release with lesion_series_release().
 */
struct lesion_series {
	int n_timepoints;
	int *order;
	struct lesion_measurement *measurements;
	int n_changes;
	struct lesion_change *changes; /* baseline vs each later, then consecutive */
	int n_warnings;
	char (*warnings)[LESION_WARNING_MAX]; /* from the headers and the grids */
	int64_t n_regions;       /* regions of opt->atlas; 0 without an atlas */
	struct lesion_region_load *region_loads; /* timepoint i's loads start at
						    i x n_regions (input order) */
	int64_t *outside_atlas_voxels; /* per timepoint: lesion on atlas background */
	/*
	 * With @keep_map: one byte per voxel on the last timepoint's grid
	 * (@order[n - 1]), what a picture of the series shows: the baseline-vs-
	 * last change map (@map_is_change, values as --out-change) when there
	 * are several timepoints, the lesion mask (0/1) when there is one.
	 * NULL when the baseline and the last are on different grids.
	 */
	uint8_t *map;
	int map_is_change;
};

/*
 * lesion_series_run() - read, segment and measure each of @paths in turn,
 * holding at most three segmentations at once, and compare them. With
 * @opt->atlas, also the lesion load of every atlas region at each timepoint
 * (the atlas must be on every image's grid).
 * Returns LESION_OK, LESION_ERR_INPUT (a file could not be read, or the
 * atlas is on another grid; the message names the files), LESION_ERR_WRITE
 * (change map), LESION_ERR_INTERNAL, or what a hook returned.
 */
enum lesion_status lesion_series_run(const char *const *paths, int n,
				     const struct lesion_series_options *opt,
				     struct lesion_series *out,
				     struct lesion_error *err);

/* lesion_series_release() - free what @s owns. */
void lesion_series_release(struct lesion_series *s);

#ifdef __cplusplus
}
#endif
#endif
