/* evaluate_internal.h: the exact Euclidean distance transform and surface
 * distances behind lesion_evaluate_labels() (not installed; unit-tested). */
#ifndef LESIONVOL_EVALUATE_INTERNAL_H
#define LESIONVOL_EVALUATE_INTERNAL_H

#include <stdint.h>

#include "lesionvol/status.h"
#include "lesionvol/volume.h"

/*
 * lesion_edt_squared() - exact squared Euclidean distance transform in place:
 * on entry @f holds 0 at feature voxels and INFINITY elsewhere (@dim voxels,
 * file order); on return each voxel holds the squared distance in mm^2 to the
 * nearest feature voxel, axis d scaled by @spacing_mm[d] (INFINITY when there
 * is no feature). Separable lower envelopes of parabolas (Felzenszwalb and
 * Huttenlocher 2012), one pass per axis; OpenMP over lines, so the result
 * does not depend on the number of threads. Returns LESION_OK or
 * LESION_ERR_INTERNAL (out of memory).
 */
enum lesion_status lesion_edt_squared(double *f, const int64_t dim[3],
				      const double spacing_mm[3],
				      struct lesion_error *err);

/*
 * struct lesion_surface_stats - MedPy's surface distances between masks A
 * and B (see struct lesion_evaluation): the 95th percentile and the maximum
 * of the pooled distances, and the mean of the two directed means. NaN when
 * either mask is empty. @n_a and @n_b count the surface voxels.
 */
struct lesion_surface_stats {
	int64_t n_a, n_b;
	double hd95_mm, hausdorff_mm, assd_mm;
};

/*
 * lesion_surface_distances() - the surface distances between the non-zero
 * voxels of @a and of @b (label maps on @geom's grid). The work is confined to
 * the bounding box of both masks, which holds every surface voxel, so the
 * distances are those of the whole grid. Returns LESION_OK or
 * LESION_ERR_INTERNAL.
 */
enum lesion_status lesion_surface_distances(const struct lesion_geometry *geom,
					    const int32_t *a, const int32_t *b,
					    struct lesion_surface_stats *out,
					    struct lesion_error *err);

/*
 * lesion_percentile_linear() - the @q-th percentile (0..100) of @n sorted
 * values, interpolated linearly between order statistics exactly as
 * numpy.percentile's default method. NaN when @n is 0.
 */
double lesion_percentile_linear(const double *sorted, int64_t n, double q);

#endif
