/* components_internal.h: labelling slab by slab as the voxels arrive, for
 * lesion_measure_load() (not installed). */
#ifndef LESIONVOL_COMPONENTS_INTERNAL_H
#define LESIONVOL_COMPONENTS_INTERNAL_H

#include <stdint.h>

#include "lesionvol/components.h"

/*
 * struct lesion_row_source - the rows of a binary image produced on demand.
 *
 * @fill writes voxels [@start, @start + @n) (one row along x, file order)
 * into @out: 1 for foreground, 0 for background, and returns a count that
 * is summed over all rows (e.g. NaN voxels). @runs (may be NULL) is then
 * told the row's runs, in order, while the row is still at hand; it returns
 * non-zero when out of memory. @slab says which slab of planes the row
 * belongs to (0 when the whole image is one). Both are called from several
 * threads at once, for different slabs; each row once, rows of a slab in
 * file order.
 */
struct lesion_row_source {
	int64_t (*fill)(void *ctx, int64_t slab, int64_t start, int64_t n, uint8_t *out);
	int (*runs)(void *ctx, int64_t slab, int64_t start, const struct lesion_run *runs,
		    int64_t n);
	void *ctx;
};

/*
 * struct lesion_labeller - lesion_components_label_rows() in steps: the
 * image is cut into slabs of whole planes, each scanned and united by
 * lesion_labeller_run_slab() (any thread, any order, each slab once, once
 * its voxels are there), then lesion_labeller_finish() joins the slabs.
 */
struct lesion_labeller;

/* lesion_labeller_alloc() - a labeller of @src's rows over @dim. */
enum lesion_status lesion_labeller_alloc(struct lesion_labeller **L,
					 const struct lesion_row_source *src,
					 const int64_t dim[3], int connectivity,
					 struct lesion_error *err);

/* lesion_labeller_n_slabs() - how many slabs there are. */
int64_t lesion_labeller_n_slabs(const struct lesion_labeller *L);

/* lesion_labeller_slab_start() - the file-order voxel index where slab
 * @index starts. */
int64_t lesion_labeller_slab_start(const struct lesion_labeller *L, int64_t index);

/* lesion_labeller_slab_end() - the file-order voxel index where slab @index
 * ends (exclusive): it can run once voxels [0, that) are there. */
int64_t lesion_labeller_slab_end(const struct lesion_labeller *L, int64_t index);

/* lesion_labeller_run_slab() - scan and unite slab @index; @scratch holds
 * one row (nx bytes), owned by the calling thread. */
void lesion_labeller_run_slab(struct lesion_labeller *L, int64_t index, uint8_t *scratch);

/*
 * lesion_labeller_finish() - join the slabs (all of them must have run)
 * into @out, as lesion_components_label_rows() would; frees @L.
 */
enum lesion_status lesion_labeller_finish(struct lesion_labeller *L,
					  struct lesion_components *out,
					  int64_t *fill_sum, struct lesion_error *err);

/* lesion_labeller_free() - free @L without finishing; NULL is a no-op. */
void lesion_labeller_free(struct lesion_labeller *L);

#endif
