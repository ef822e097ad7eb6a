/* sweep_internal.h: thresholding, labelling and per-run value statistics in
 * one sweep (not installed). */
#ifndef LESIONVOL_SWEEP_INTERNAL_H
#define LESIONVOL_SWEEP_INTERNAL_H

#include <stdint.h>

#include "io_internal.h"
#include "lesionvol/components.h"
#include "segment_internal.h"

/*
 * struct lesion_run_stat - the values of one run: their sum and the sum of
 * the values clamped to 0..1, taken voxel by voxel in file order, their
 * maximum and where it first occurs (offset from the run's start).
 */
struct lesion_run_stat {
	double sum, soft, max;
	int64_t peak;
};

/* lesion_run_stat_of() - the statistics of @count voxels stored at @src. */
void lesion_run_stat_of(const struct lesion_volume *vol, const void *src, int64_t count,
			struct lesion_run_stat *st);

/* lesion_run_stats() - the statistics of every run of @c from @vol's data,
 * in run order; free *@out with free(). */
enum lesion_status lesion_run_stats(const struct lesion_volume *vol,
				    const struct lesion_components *c,
				    struct lesion_run_stat **out, struct lesion_error *err);

/*
 * lesion_sweep_label() - the components of the voxels of @vol within @b
 * (and inside @brain when given), with each run's statistics (*@stats, free
 * with free()) and the number of NaN voxels. The voxels come from @reader
 * when given (then @vol need not be loaded, and only a ring of slabs is held
 * while one thread reads and the others label), else from @vol->data. The
 * result is the same either way and whatever the number of threads.
 */
enum lesion_status lesion_sweep_label(const struct lesion_volume *vol,
				      struct lesion_voxel_reader *reader,
				      const struct lesion_volume *brain,
				      const struct lesion_bounds *b, int connectivity,
				      struct lesion_components *comps,
				      struct lesion_run_stat **stats, int64_t *nan_voxels,
				      struct lesion_error *err);

#endif
