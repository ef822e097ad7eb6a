/* aggregate_internal.h: the group level's view of the participants' JSON
 * files, shared by aggregate.c (reading, rows) and tables.c (writing).
 * Not installed. */
#ifndef LESIONVOL_AGGREGATE_INTERNAL_H
#define LESIONVOL_AGGREGATE_INTERNAL_H

#include "cohort_internal.h"

/*
 * struct lesion_aggregate - per participant of the plan (same index): its
 * parsed file (NULL when there is none) and, when it cannot be used, why.
 */
struct lesion_aggregate {
	int n;
	cJSON **docs;
	char **errors;
	enum lesion_status *failed; /* a failure of the participant level other
				       than its input (e.g. an image not written) */
	char *params;     /* the parameters most participants were computed with */
};

/* lesion_aggregate_load() - read every participant's file under @out_dir,
 * or take the result kept in its outcome. */
enum lesion_status lesion_aggregate_load(const struct lesion_cohort_plan *plan,
					 const char *out_dir,
					 struct lesion_cohort_outcome *outcomes,
					 struct lesion_aggregate *a, struct lesion_error *err);

void lesion_aggregate_release(struct lesion_aggregate *a);

/* lesion_aggregate_failure() - why participant @i failed, NULL when ok. */
const char *lesion_aggregate_failure(const struct lesion_aggregate *a, int i);

/* lesion_aggregate_status() - how participant @i failed: LESION_OK when it
 * did not, LESION_ERR_INPUT when it could not be measured (its input, or no
 * usable result), else the status of what failed (writing an image...). */
enum lesion_status lesion_aggregate_status(const struct lesion_aggregate *a, int i);

/* Columns of timepoints.tsv and changes.tsv, NULL-terminated. */
extern const char *const lesion_timepoint_columns[];
extern const char *const lesion_change_columns[];

/* The columns of timepoints.tsv: the documented ones, then the plan's extra columns
 * (those whose name is not already one of ours); free() the array. */
const char **lesion_timepoint_columns_with_extra(const struct lesion_cohort_plan *plan);

/* Rows (objects keyed by column) in table order. Change rows also carry
 * "kind" ("baseline" or "consecutive"). */
cJSON *lesion_aggregate_timepoints(const struct lesion_cohort_plan *plan,
				   const struct lesion_aggregate *a);
cJSON *lesion_aggregate_changes(const struct lesion_cohort_plan *plan,
				const struct lesion_aggregate *a);

/*
 * lesion_aggregate_write_regions() - OUT_DIR/regions.tsv (columns
 * lesion_region_columns), atomically, when participants were measured with
 * an atlas: a row per participant, session and region (the regions lesioned
 * in some ok participant, or all with @all_regions; the same rows for
 * everyone), with the change against the first session; a failed
 * participant gets one error row per session. Without an atlas, removes a
 * stale regions.tsv.
 */
enum lesion_status lesion_aggregate_write_regions(const struct lesion_cohort_plan *plan,
						  const struct lesion_aggregate *a,
						  int all_regions, const char *out_dir,
						  struct lesion_error *err);
extern const char *const lesion_region_columns[];

/* lesion_aggregate_lock() - open and lock @out_dir (one group level at a
 * time); close *@fd to unlock. */
enum lesion_status lesion_aggregate_lock(const char *out_dir, int *fd,
					 struct lesion_error *err);

#endif
