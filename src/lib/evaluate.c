/* evaluate.c: a segmentation scored against a reference: voxel overlap, the
 * ISLES'22 lesion-wise metrics and surface distances. */
#include "lesionvol/evaluate.h"
#include "evaluate_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lesion_geometry_mismatch(const struct lesion_geometry *a,
			     const struct lesion_geometry *b, char *buf, size_t size)
{
	buf[0] = '\0';
	if (a->dim[0] != b->dim[0] || a->dim[1] != b->dim[1] || a->dim[2] != b->dim[2]) {
		snprintf(buf, size, "dims %lldx%lldx%lld vs %lldx%lldx%lld",
			 (long long)a->dim[0], (long long)a->dim[1], (long long)a->dim[2],
			 (long long)b->dim[0], (long long)b->dim[1], (long long)b->dim[2]);
		return 1;
	}
	if (lesion_geometry_same_grid(a, b, 1e-3))
		return 0;
	double worst = 0.0;
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++) {
			double d = fabs(a->vox_to_world[r][c] - b->vox_to_world[r][c]);
			if (!(d <= worst))
				worst = d; /* NaN counts as the worst */
		}
	snprintf(buf, size,
		 "same dims %lldx%lldx%lld but different voxel-to-world matrices "
		 "(%s vs %s, elements differ by up to %.6g mm)",
		 (long long)a->dim[0], (long long)a->dim[1], (long long)a->dim[2],
		 a->orientation, b->orientation, worst);
	return 1;
}

/* ISLES'22: F1 of detected lesions, 1 when there is no lesion at all. */
static double lesion_f1(int64_t tp, int64_t fp, int64_t fn)
{
	if (tp + fp + fn == 0)
		return 1.0;
	return (double)tp / ((double)tp + (double)(fp + fn) / 2.0);
}

enum lesion_status lesion_evaluate_labels(const struct lesion_geometry *geom,
					  const int32_t *seg_labels, int64_t n_seg,
					  const int32_t *ref_labels, int64_t n_ref,
					  struct lesion_evaluation *out,
					  struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	const int64_t n = geom->n_voxels;
	/* hit_ref[l]: reference lesion l has a voxel in S; hit_seg[l]: segmented
	 * lesion l has a voxel in R */
	uint8_t *hit_ref = calloc((size_t)n_ref + 1, 1);
	uint8_t *hit_seg = calloc((size_t)n_seg + 1, 1);
	int64_t ns = 0, nr = 0, both = 0;

	memset(out, 0, sizeof(*out));
	if (!hit_ref || !hit_seg) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (int64_t i = 0; i < n; i++) {
		const int32_t s = seg_labels[i], r = ref_labels[i];
		if (s < 0 || s > n_seg || r < 0 || r > n_ref) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
					      "label out of range at voxel %lld", (long long)i);
			goto out;
		}
		ns += s != 0;
		nr += r != 0;
		if (s && r) {
			both++;
			hit_ref[r] = 1;
			hit_seg[s] = 1;
		}
	}
	const double vv = geom->voxel_volume_mm3;
	out->voxel_volume_mm3 = vv;
	out->segmentation_voxels = ns;
	out->reference_voxels = nr;
	out->overlap_voxels = both;
	out->segmentation_volume_ml = (double)ns * vv / 1000.0;
	out->reference_volume_ml = (double)nr * vv / 1000.0;
	const double dns = (double)ns, dnr = (double)nr, db = (double)both;
	const int empty = ns + nr == 0;
	out->dice = empty ? 1.0 : 2.0 * db / (dns + dnr);
	out->jaccard = empty ? 1.0 : db / (dns + dnr - db);
	out->sensitivity = nr ? db / dnr : NAN;
	out->precision = ns ? db / dns : NAN;
	out->volume_similarity = empty ? 1.0 : 1.0 - fabs(dns - dnr) / (dns + dnr);
	out->abs_volume_difference_ml = fabs(dns - dnr) * vv / 1000.0;

	out->segmentation_lesions = n_seg;
	out->reference_lesions = n_ref;
	out->lesion_count_difference = n_seg > n_ref ? n_seg - n_ref : n_ref - n_seg;
	for (int64_t l = 1; l <= n_ref; l++)
		out->lesion_tp += hit_ref[l];
	out->lesion_fn = n_ref - out->lesion_tp;
	for (int64_t l = 1; l <= n_seg; l++)
		out->lesion_fp += !hit_seg[l];
	out->lesion_f1 = lesion_f1(out->lesion_tp, out->lesion_fp, out->lesion_fn);

	struct lesion_surface_stats sd;
	st = lesion_surface_distances(geom, seg_labels, ref_labels, &sd, err);
	if (st)
		goto out;
	out->hd95_mm = sd.hd95_mm;
	out->hausdorff_mm = sd.hausdorff_mm;
	out->assd_mm = sd.assd_mm;
out:
	free(hit_ref);
	free(hit_seg);
	return st;
}

enum lesion_status lesion_evaluate(const struct lesion_volume *segmentation,
				   const struct lesion_volume *reference,
				   const struct lesion_volume *brain_mask,
				   const struct lesion_rule *rule,
				   struct lesion_evaluation *out,
				   struct lesion_error *err)
{
	enum lesion_status st;
	struct lesion_rule ref_rule;
	struct lesion_measurement ms = {0}, mr = {0};
	struct lesion_segmentation ss = {0}, sr = {0};
	char why[256];

	if (lesion_geometry_mismatch(&segmentation->geom, &reference->geom, why,
				     sizeof(why)))
		return lesion_error_set(err, LESION_ERR_INPUT,
					"'%s' and '%s' are not on the same grid (%s): "
					"register or resample one onto the other first",
					segmentation->path, reference->path, why);
	lesion_rule_init(&ref_rule);
	ref_rule.connectivity = rule->connectivity;
	ss.want_labels = sr.want_labels = 1;
	st = lesion_measure(segmentation, brain_mask, rule, &ms, &ss, err);
	if (st)
		goto out;
	st = lesion_measure(reference, brain_mask, &ref_rule, &mr, &sr, err);
	if (st)
		goto out;
	st = lesion_evaluate_labels(&segmentation->geom, ss.labels, ms.n_components,
				    sr.labels, mr.n_components, out, err);
out:
	lesion_segmentation_release(&ss);
	lesion_segmentation_release(&sr);
	lesion_measurement_release(&ms);
	lesion_measurement_release(&mr);
	return st;
}
