/* lesionvol/components.h: 3D connected components of a binary mask, labelled
 * run by run (runs of voxels along x joined by union-find), and hole filling. */
#ifndef LESIONVOL_COMPONENTS_H
#define LESIONVOL_COMPONENTS_H

#include <stddef.h>
#include <stdint.h>

#include "lesionvol/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct lesion_run - voxels [@x0, @x1) of one row along x (x1 exclusive).
 * The row (j, k) of a run is implied by struct lesion_components' @row_start.
 */
struct lesion_run {
	int32_t x0, x1;
};

/*
 * struct lesion_components - the connected components of a mask, as runs.
 *
 * @dim:          nx, ny, nz of the mask
 * @connectivity: 6, 18 or 26
 * @n_rows:       ny * nz; row r holds the voxels (x, j, k) with r = j + ny * k
 * @row_start:    n_rows + 1 offsets: the runs of row r are
 *                runs[row_start[r] .. row_start[r + 1]), in increasing x,
 *                so the runs are in file order
 * @runs:         n_runs runs of foreground voxels
 * @run_label:    per run, its component's label (1..n_components), or 0 when
 *                its component was dropped by lesion_components_truncate()
 * @n_components: number of labelled components
 * @voxels:       per label (index label - 1), its number of voxels
 * @first_voxel:  per label, the file-order index (i + nx * (j + ny * k)) of
 *                its first voxel
 *
 * Labels are numbered by decreasing size; ties go to the component whose
 * first voxel in file order comes first, so label 1 is the largest.
 * Memory is proportional to the number of runs, not to the volume.
 */
struct lesion_components {
	int64_t dim[3];
	int connectivity;
	int64_t n_rows;
	int64_t *row_start;
	int64_t n_runs;
	struct lesion_run *runs;
	int64_t *run_label;
	int64_t n_components;
	int64_t *voxels;
	int64_t *first_voxel;
};

/*
 * lesion_components_label() - the connected components of the non-zero
 * voxels of @mask (@dim[0] * @dim[1] * @dim[2] bytes in file order,
 * i + nx * (j + ny * k)) under 3D @connectivity 6 (faces), 18 (faces and
 * edges) or 26 (faces, edges and corners).
 *
 * Fills @out (release with lesion_components_release(); on failure @out is
 * left empty and needs no release). The result does not depend on the number
 * of OpenMP threads used inside. Thread safe.
 * Returns LESION_OK, LESION_ERR_USAGE (bad connectivity or dims) or
 * LESION_ERR_INTERNAL (out of memory).
 */
enum lesion_status lesion_components_label(const uint8_t *mask,
					   const int64_t dim[3],
					   int connectivity,
					   struct lesion_components *out,
					   struct lesion_error *err);

/*
 * lesion_components_truncate() - keep only labels 1..@n_keep (the @n_keep
 * largest components): the runs of the others get label 0 and
 * @c->n_components becomes @n_keep. Since labels go by decreasing size,
 * dropping every component under a size threshold is such a truncation.
 * @n_keep >= @c->n_components is a no-op.
 */
void lesion_components_truncate(struct lesion_components *c, int64_t n_keep);

/*
 * lesion_components_paint() - write the label of every voxel into @labels
 * (@c's n_voxels int32 values, file order; 0 outside every kept component).
 * @c->n_components must fit in int32 (it always does for volumes below
 * 2^32 voxels).
 */
void lesion_components_paint(const struct lesion_components *c, int32_t *labels);

/*
 * lesion_components_release() - free what @c owns and zero it; a zeroed
 * struct is a no-op.
 */
void lesion_components_release(struct lesion_components *c);

/*
 * lesion_mask_fill_holes() - fill the holes of the foreground of @mask in
 * place, as scipy.ndimage.binary_fill_holes() does with its default
 * structure: voxels equal to 1 are foreground; every other voxel is
 * background, and background regions (6-connected) that do not reach the
 * border of the volume are holes. Hole voxels holding 0 become 1; hole
 * voxels holding another value (a marker such as "NaN, never lesion") keep
 * it. A volume with a dimension of 1 or 2 is all border and has no holes.
 *
 * Thread safe for distinct masks. Returns LESION_OK, LESION_ERR_USAGE (bad
 * dims) or LESION_ERR_INTERNAL (out of memory).
 */
enum lesion_status lesion_mask_fill_holes(uint8_t *mask, const int64_t dim[3],
					  struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
