/* lesionvol/evaluate.h: agreement of an automatic segmentation with a
 * reference (manual) one: the ISLES'22 challenge metrics and more. */
#ifndef LESIONVOL_EVALUATE_H
#define LESIONVOL_EVALUATE_H

#include <stdint.h>

#include "lesionvol/segment.h"
#include "lesionvol/status.h"
#include "lesionvol/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct lesion_evaluation - how a segmentation S agrees with a reference R,
 * both binary masks on one grid. Undefined values are NaN (printed "n/a").
 *
 * Voxel-wise, with |.| the number of voxels:
 * @dice:               2|S∩R| / (|S| + |R|); 1 when both are empty (ISLES'22)
 * @jaccard:            |S∩R| / |S∪R|; 1 when both are empty
 * @sensitivity:        |S∩R| / |R|; NaN when R is empty
 * @precision:          |S∩R| / |S|; NaN when S is empty
 * @volume_similarity:  1 - ||S| - |R|| / (|S| + |R|); 1 when both are empty
 * @abs_volume_difference_ml: ||S| - |R|| x voxel volume / 1000 (ISLES'22)
 *
 * Lesion-wise (ISLES'22), on the connected components of S and of R:
 * @lesion_count_difference: |components of S - components of R|
 * @lesion_tp:  components of R with at least one voxel in S
 * @lesion_fn:  components of R with no voxel in S
 * @lesion_fp:  components of S with no voxel in R
 * @lesion_f1:  TP / (TP + (FP + FN) / 2); 1 when TP + FP + FN is 0 (both empty)
 *
 * Surface distances (MedPy's definitions, in mm): the surface of a mask is
 * its voxels with a 6-neighbour outside the mask or outside the grid (the
 * mask minus its binary erosion by the 6-neighbourhood, image border as
 * background). d(S->R) is, for every surface voxel of S, the Euclidean
 * distance to the nearest surface voxel of R, with each voxel index axis
 * scaled by the voxel size in mm (pixdim); d(R->S) likewise.
 * @hd95_mm:      the 95th percentile of the pooled distances d(S->R) ∪ d(R->S)
 *                (linear interpolation between order statistics, as
 *                numpy.percentile; medpy.metric.binary.hd95)
 * @hausdorff_mm: the largest of the pooled distances (medpy hd)
 * @assd_mm:      (mean d(S->R) + mean d(R->S)) / 2 (medpy assd)
 * All three are NaN when S or R is empty.
 */
struct lesion_evaluation {
	double voxel_volume_mm3;
	int64_t segmentation_voxels;
	int64_t reference_voxels;
	int64_t overlap_voxels;
	double segmentation_volume_ml;
	double reference_volume_ml;
	double dice;
	double jaccard;
	double sensitivity;
	double precision;
	double volume_similarity;
	double abs_volume_difference_ml;
	int64_t segmentation_lesions;
	int64_t reference_lesions;
	int64_t lesion_count_difference;
	int64_t lesion_tp;
	int64_t lesion_fp;
	int64_t lesion_fn;
	double lesion_f1;
	double hd95_mm;
	double hausdorff_mm;
	double assd_mm;
};

/*
 * lesion_evaluate_labels() - the metrics of struct lesion_evaluation from two
 * component label maps on the grid @geom (n_voxels int32 values in file
 * order, i + nx * (j + ny * k)): a voxel belongs to a mask when its label is
 * non-zero, and labels 1..@n_seg (1..@n_ref) are the components, as
 * lesion_measure() paints them. The voxel size for distances and volumes is
 * @geom->voxel_size_mm and @geom->voxel_volume_mm3.
 *
 * Fills @out. Uses OpenMP inside; the result does not depend on the number
 * of threads. Thread safe. Returns LESION_OK, LESION_ERR_INPUT (a label out
 * of range) or LESION_ERR_INTERNAL (out of memory).
 */
enum lesion_status lesion_evaluate_labels(const struct lesion_geometry *geom,
					  const int32_t *seg_labels, int64_t n_seg,
					  const int32_t *ref_labels, int64_t n_ref,
					  struct lesion_evaluation *out,
					  struct lesion_error *err);

/*
 * lesion_evaluate() - segment @segmentation with @rule and @reference with the
 * default rule (value > 0) and @rule's connectivity, then compare them with
 * lesion_evaluate_labels().
 *
 * @brain_mask may be NULL; when given, only its non-zero voxels count in
 * both images (and it is the reference region of --zthr/--uzthr), so the
 * evaluation is restricted to it. The two images must be on the same grid
 * (same dims, voxel-to-world matrices equal within 1e-3 mm), else
 * LESION_ERR_INPUT with a message naming both files and how they differ.
 * Thread safe. Returns LESION_OK, LESION_ERR_INPUT or LESION_ERR_INTERNAL.
 */
enum lesion_status lesion_evaluate(const struct lesion_volume *segmentation,
				   const struct lesion_volume *reference,
				   const struct lesion_volume *brain_mask,
				   const struct lesion_rule *rule,
				   struct lesion_evaluation *out,
				   struct lesion_error *err);

/*
 * lesion_geometry_mismatch() - when @a and @b are not on the same grid (the
 * check of lesion_geometry_same_grid() at 1e-3 mm), describe how they differ
 * in @buf ("dims 181x217x181 vs 182x218x182" or "voxel-to-world matrices
 * differ by up to 182 mm") and return 1; else return 0 and leave "" in @buf.
 */
int lesion_geometry_mismatch(const struct lesion_geometry *a,
			     const struct lesion_geometry *b, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
