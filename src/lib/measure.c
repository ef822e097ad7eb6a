/* measure.c: lesion_measure(): the segmentation rule applied to one volume,
 * then the volume and every connected component measured run by run. */
#include "lesionvol/components.h"
#include "lesionvol/segment.h"
#include "io_internal.h"
#include "segment_internal.h"
#include "sweep_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 4096 };

/* marks NaN voxels while holes are filled: background, but never lesion */
enum { NAN_MARK = 2 };

static void voxel_volume_source(const struct lesion_volume *vol, char *buf, size_t size)
{
	const char *u = vol->geom.spatial_units;
	if (vol->format == LESION_FORMAT_ANALYZE)
		snprintf(buf, size, "pixdim (mm, Analyze 7.5)");
	else if (!u || strcmp(u, "unknown") == 0)
		snprintf(buf, size, "pixdim (units not set, taken as mm)");
	else if (strcmp(u, "mm") == 0)
		snprintf(buf, size, "pixdim (mm)");
	else
		snprintf(buf, size, "pixdim (%s, converted to mm)", u);
}

/* Per-component sums kept while the runs are visited in file order. */
struct accum {
	int64_t sum_ijk[3];
	double sum_value;
	double sum_soft;
	int seen; /* a value was seen: the first one is the max so far */
};

/* Every component's measurements from its runs and their statistics, in
 * file order, so the sums do not depend on how the runs were found. */
static enum lesion_status measure_components(const struct lesion_volume *vol,
					     const struct lesion_components *c,
					     const struct lesion_run_stat *rs,
					     int soft, struct lesion_measurement *m,
					     struct lesion_error *err)
{
	const int64_t n = c->n_components, ny = c->dim[1];
	const double vv = vol->geom.voxel_volume_mm3;
	struct accum *acc = calloc((size_t)n + 1, sizeof(*acc));
	m->components = calloc((size_t)n + 1, sizeof(*m->components));
	if (!acc || !m->components) {
		free(acc);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	for (int64_t l = 0; l < n; l++) {
		struct lesion_component *p = &m->components[l];
		p->label = l + 1;
		p->voxels = c->voxels[l];
		p->volume_mm3 = (double)p->voxels * vv;
		for (int d = 0; d < 3; d++) {
			p->bbox_min[d] = INT64_MAX;
			p->bbox_max[d] = -1;
		}
		p->max = -INFINITY;
	}
	double total_soft = 0.0;
	for (int64_t r = 0; r < c->n_rows; r++) {
		const int64_t j = r % ny, k = r / ny;
		for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++) {
			int64_t label = c->run_label[i];
			if (!label)
				continue;
			struct lesion_component *p = &m->components[label - 1];
			struct accum *a = &acc[label - 1];
			const int64_t x0 = c->runs[i].x0, x1 = c->runs[i].x1, len = x1 - x0;
			a->sum_ijk[0] += (x0 + x1 - 1) * len / 2;
			a->sum_ijk[1] += j * len;
			a->sum_ijk[2] += k * len;
			const int64_t lo[3] = {x0, j, k}, hi[3] = {x1 - 1, j, k};
			for (int d = 0; d < 3; d++) {
				if (lo[d] < p->bbox_min[d])
					p->bbox_min[d] = lo[d];
				if (hi[d] > p->bbox_max[d])
					p->bbox_max[d] = hi[d];
			}
			a->sum_value += rs[i].sum;
			if (rs[i].max > p->max || !a->seen) {
				a->seen = 1;
				p->max = rs[i].max;
				p->peak_vox[0] = x0 + rs[i].peak;
				p->peak_vox[1] = j;
				p->peak_vox[2] = k;
			}
			if (soft) {
				a->sum_soft += rs[i].soft;
				total_soft += rs[i].soft;
			}
		}
	}
	for (int64_t l = 0; l < n; l++) {
		struct lesion_component *p = &m->components[l];
		for (int d = 0; d < 3; d++)
			p->centroid_vox[d] = (double)acc[l].sum_ijk[d] / (double)p->voxels;
		lesion_geometry_voxel_to_world(&vol->geom, p->centroid_vox, p->centroid_mm);
		p->mean = acc[l].sum_value / (double)p->voxels;
		p->soft_mm3 = soft ? acc[l].sum_soft * vv : NAN;
	}
	m->soft_volume_mm3 = soft ? total_soft * vv : NAN;
	free(acc);
	return LESION_OK;
}

/* How many of the (size-ordered) components reach both minimum sizes. */
static int64_t n_large_enough(const struct lesion_components *c,
			      const struct lesion_rule *rule, double vv)
{
	int64_t n = 0;
	while (n < c->n_components && c->voxels[n] >= rule->min_voxels &&
	       (double)c->voxels[n] * vv >= rule->min_volume_mm3)
		n++;
	return n;
}

static void describe_applied(const struct lesion_rule *rule,
			     const struct lesion_volume *brain,
			     const struct lesion_bounds *b, char *buf, size_t size)
{
	lesion_rule_describe_bounds(rule, b, buf, size);
	size_t used = strlen(buf);
	if (rule->has_zthr || rule->has_uzthr)
		used += (size_t)snprintf(buf + used, size > used ? size - used : 0,
			"; median %.17g, MAD %.17g of %lld reference voxels",
			b->ref_median, b->ref_mad, (long long)b->ref_voxels);
	if (brain && used < size)
		snprintf(buf + used, size - used, "; inside the mask");
}

static enum lesion_status measure_impl(const struct lesion_volume *vol,
				       struct lesion_volume *to_load, int64_t index,
				       const struct lesion_volume *brain_mask,
				       const uint8_t *keep,
				       const struct lesion_rule *rule,
				       struct lesion_measurement *out,
				       struct lesion_segmentation *seg,
				       struct lesion_error *err)
{
	struct lesion_components comps = {0};
	struct lesion_bounds b;
	struct lesion_voxel_reader *reader = NULL;
	struct lesion_run_stat *rs = NULL;
	uint8_t *mask = NULL;
	enum lesion_status st;

	memset(out, 0, sizeof(*out));
	out->soft_volume_mm3 = out->lower = out->upper = NAN;
	out->ref_median = out->ref_mad = NAN;
	if (seg) {
		seg->mask = NULL;
		seg->labels = NULL;
	}
	st = lesion_rule_check(rule, err);
	if (st)
		return st;
	/*
	 * The sweep reads the file itself, a slab at a time, when it needs
	 * nothing but the rows: no relative threshold (every value first), no
	 * holes to fill and no mask to return. Then the volume is never held
	 * whole and labelling overlaps the inflate.
	 */
	int sweep = !rule->has_zthr && !rule->has_uzthr && !rule->fill_holes &&
		    !(seg && seg->want_mask) && !keep;
	if (to_load && !sweep) {
		st = lesion_volume_load(to_load, index, err);
		if (st)
			return st;
	}
	if (!vol->data && !(to_load && sweep))
		return lesion_error_set(err, LESION_ERR_INTERNAL,
			"'%s' was measured before its voxels were loaded", vol->path);
	const double vv = vol->geom.voxel_volume_mm3;
	if (!isfinite(vv) || vv <= 0.0)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"'%s' has no usable voxel size (pixdim %g x %g x %g)", vol->path,
			vol->pixdim[1], vol->pixdim[2], vol->pixdim[3]);
	if (brain_mask) {
		if (!brain_mask->data)
			return lesion_error_set(err, LESION_ERR_INTERNAL,
				"mask '%s' was used before its voxels were loaded",
				brain_mask->path);
		if (!lesion_geometry_same_grid(&vol->geom, &brain_mask->geom, 1e-3))
			return lesion_error_set(err, LESION_ERR_INPUT,
				"mask '%s' is not on the grid of '%s' (dims %lldx%lldx%lld vs "
				"%lldx%lldx%lld, or voxel-to-world matrices differ by more than "
				"1e-3 mm); resample it first",
				brain_mask->path, vol->path,
				(long long)brain_mask->geom.dim[0], (long long)brain_mask->geom.dim[1],
				(long long)brain_mask->geom.dim[2], (long long)vol->geom.dim[0],
				(long long)vol->geom.dim[1], (long long)vol->geom.dim[2]);
	}
	st = lesion_rule_bounds(vol, brain_mask, rule, &b, err);
	if (st)
		return st;
	out->lower = isinf(b.lower) ? NAN : b.lower;
	out->upper = isinf(b.upper) ? NAN : b.upper;
	out->ref_median = b.ref_median;
	out->ref_mad = b.ref_mad;

	if (to_load && sweep) {
		/* a file the reader does not stream is loaded whole */
		st = lesion_voxel_reader_open(to_load, index, &reader, err);
		if (!st && !reader)
			st = lesion_volume_load(to_load, index, err);
		if (st)
			goto out;
	}
	if (sweep) {
		st = lesion_sweep_label(vol, reader, brain_mask, &b, rule->connectivity,
					&comps, &rs, &out->nan_voxels, err);
		if (st)
			goto out;
	} else {
		mask = lesion_alloc_large((size_t)vol->geom.n_voxels);
		if (!mask) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
		out->nan_voxels = lesion_threshold_mask(vol, brain_mask, &b,
							rule->fill_holes ? NAN_MARK : 0, mask);
		if (keep) {
			/* the other criteria of a multi-image rule: a voxel they
			 * exclude is background (NaN marks stay) */
			const int64_t nv = vol->geom.n_voxels;
#pragma omp parallel for schedule(static)
			for (int64_t i = 0; i < nv; i++)
				if (mask[i] == 1 && !keep[i])
					mask[i] = 0;
		}
		if (rule->fill_holes) {
			st = lesion_mask_fill_holes(mask, vol->geom.dim, err);
			if (st)
				goto out;
			if (out->nan_voxels)
				for (int64_t i = 0; i < vol->geom.n_voxels; i++)
					mask[i] = mask[i] == 1;
		}
		st = lesion_components_label(mask, vol->geom.dim, rule->connectivity, &comps, err);
		if (!st)
			st = lesion_run_stats(vol, &comps, &rs, err);
		if (st)
			goto out;
	}
	lesion_components_truncate(&comps, n_large_enough(&comps, rule, vv));

	out->n_components = comps.n_components;
	for (int64_t l = 0; l < comps.n_components; l++)
		out->lesion_voxels += comps.voxels[l];
	out->voxel_volume_mm3 = vv;
	voxel_volume_source(vol, out->voxel_volume_source, sizeof(out->voxel_volume_source));
	snprintf(out->world_source, sizeof(out->world_source), "%s",
		 lesion_geometry_orientation_known(&vol->geom) ? vol->geom.world_source
		 : "pixdim (orientation unknown)");
	out->lesion_volume_mm3 = (double)out->lesion_voxels * vv;
	out->lesion_volume_ml = out->lesion_volume_mm3 / 1000.0;
	out->largest_component_mm3 = comps.n_components ? (double)comps.voxels[0] * vv : 0.0;
	describe_applied(rule, brain_mask, &b, out->rule, sizeof(out->rule));
	st = measure_components(vol, &comps, rs, rule->soft, out, err);
	if (st)
		goto out;

	if (seg && seg->want_labels) {
		if (comps.n_components > INT32_MAX) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' has %lld components, too many for an int32 label map",
				vol->path, (long long)comps.n_components);
			goto out;
		}
		seg->labels = malloc(sizeof(int32_t) * (size_t)vol->geom.n_voxels);
		if (!seg->labels) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
		lesion_components_paint(&comps, seg->labels);
	}
	if (seg && seg->want_mask) {
		/* the thresholded mask minus the dropped components */
		for (int64_t r = 0; r < comps.n_rows; r++)
			for (int64_t i = comps.row_start[r]; i < comps.row_start[r + 1]; i++)
				if (!comps.run_label[i])
					memset(mask + r * comps.dim[0] + comps.runs[i].x0, 0,
					       (size_t)(comps.runs[i].x1 - comps.runs[i].x0));
		seg->mask = mask;
		mask = NULL;
	}
out:
	free(mask);
	free(rs);
	lesion_voxel_reader_free(reader);
	lesion_components_release(&comps);
	if (st) {
		lesion_measurement_release(out);
		if (seg)
			lesion_segmentation_release(seg);
	}
	return st;
}

enum lesion_status lesion_measure(const struct lesion_volume *vol,
				  const struct lesion_volume *brain_mask,
				  const struct lesion_rule *rule,
				  struct lesion_measurement *out,
				  struct lesion_segmentation *seg,
				  struct lesion_error *err)
{
	return measure_impl(vol, NULL, 0, brain_mask, NULL, rule, out, seg, err);
}

enum lesion_status lesion_measure_keep(const struct lesion_volume *vol,
				       const struct lesion_volume *brain_mask,
				       const uint8_t *keep,
				       const struct lesion_rule *rule,
				       struct lesion_measurement *out,
				       struct lesion_segmentation *seg,
				       struct lesion_error *err)
{
	return measure_impl(vol, NULL, 0, brain_mask, keep, rule, out, seg, err);
}

enum lesion_status lesion_measure_load(struct lesion_volume *vol, int64_t index,
				       const struct lesion_volume *brain_mask,
				       const struct lesion_rule *rule,
				       struct lesion_measurement *out,
				       struct lesion_segmentation *seg,
				       struct lesion_error *err)
{
	if (vol->data)
		return measure_impl(vol, NULL, 0, brain_mask, NULL, rule, out, seg, err);
	return measure_impl(vol, vol, index, brain_mask, NULL, rule, out, seg, err);
}

void lesion_measurement_release(struct lesion_measurement *m)
{
	free(m->components);
	m->components = NULL;
}

void lesion_segmentation_release(struct lesion_segmentation *seg)
{
	free(seg->mask);
	free(seg->labels);
	seg->mask = NULL;
	seg->labels = NULL;
}
