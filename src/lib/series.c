/* series.c: one subject's timepoints read in turn, segmented, measured and
 * compared, holding at most three segmentations at a time. */
#include "lesionvol/change.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A timepoint being held: its header/grid, measurement and voxel masks. */
struct held {
	int index;                 /* input order */
	struct lesion_volume *vol; /* header and grid; voxels freed after measuring */
	struct lesion_segmentation seg;
};

static void held_release(struct held *h)
{
	lesion_volume_free(h->vol);
	lesion_segmentation_release(&h->seg);
	memset(h, 0, sizeof(*h));
	h->index = -1;
}

static void add_warning(struct lesion_series *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_warning(struct lesion_series *s, const char *fmt, ...)
{
	char (*w)[LESION_WARNING_MAX] = realloc(s->warnings,
		sizeof(*w) * (size_t)(s->n_warnings + 1));
	if (!w)
		return;
	s->warnings = w;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w[s->n_warnings++], LESION_WARNING_MAX, fmt, ap);
	va_end(ap);
}

static enum lesion_status load_timepoint(const char *path, int index,
					 const struct lesion_series_options *opt,
					 const struct lesion_volume *mask,
					 int want_voxels, struct held *h,
					 struct lesion_measurement *m,
					 struct lesion_series *s,
					 struct lesion_error *err)
{
	/* only the header first: lesion_measure_load() streams the voxels
	 * through the sweep when it can, so the volume is never held whole */
	enum lesion_status st = lesion_volume_open(path, 0, &h->vol, err);
	if (st)
		return st;
	h->index = index;
	h->seg.want_mask = want_voxels || opt->atlas || opt->on_mask;
	h->seg.want_labels = want_voxels;
	st = lesion_measure_load(h->vol, opt->volume_index, mask, &opt->rule, m, &h->seg, err);
	/* after reading: the voxels can add to the header's warnings */
	for (int k = 0; k < h->vol->n_warnings; k++)
		add_warning(s, "'%s': %s", path, h->vol->warnings[k]);
	if (!st && opt->on_mask)
		st = opt->on_mask(opt->hook_ctx, index, h->vol, h->seg.mask, err);
	if (!st && opt->atlas)
		st = lesion_atlas_measure(opt->atlas, h->vol, h->seg.mask,
					  s->region_loads + (size_t)index * (size_t)s->n_regions,
					  &s->outside_atlas_voxels[index], err);
	/* only the grid is needed from here on */
	free(h->vol->data);
	h->vol->data = NULL;
	return st;
}

static int *order_by_days(int n, const double *days)
{
	int *order = malloc(sizeof(int) * (size_t)n);
	if (!order)
		return NULL;
	for (int i = 0; i < n; i++)
		order[i] = i;
	int all_known = days != NULL;
	for (int i = 0; all_known && i < n; i++)
		all_known = isfinite(days[i]);
	if (!all_known)
		return order;
	/* stable insertion sort: equal days keep their input order */
	for (int i = 1; i < n; i++) {
		int v = order[i], j = i - 1;
		while (j >= 0 && days[order[j]] > days[v]) {
			order[j + 1] = order[j];
			j--;
		}
		order[j + 1] = v;
	}
	return order;
}

enum lesion_status lesion_series_run(const char *const *paths, int n,
				     const struct lesion_series_options *opt,
				     struct lesion_series *out,
				     struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	struct lesion_volume *mask = NULL;
	struct held base = {.index = -1}, prev = {.index = -1}, cur = {.index = -1};
	uint8_t *change_map = NULL;

	memset(out, 0, sizeof(*out));
	out->n_timepoints = n;
	out->order = order_by_days(n, opt->days);
	out->measurements = calloc((size_t)n, sizeof(*out->measurements));
	int max_changes = n > 1 ? (opt->consecutive ? 2 * (n - 1) : n - 1) : 0;
	out->changes = calloc((size_t)max_changes + 1, sizeof(*out->changes));
	if (opt->atlas) {
		out->n_regions = opt->atlas->n_regions;
		out->region_loads = calloc((size_t)n * (size_t)out->n_regions + 1,
					   sizeof(*out->region_loads));
		out->outside_atlas_voxels = calloc((size_t)n, sizeof(*out->outside_atlas_voxels));
		if (!out->region_loads || !out->outside_atlas_voxels) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (!out->order || !out->measurements || !out->changes) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (opt->mask_path) {
		st = lesion_volume_read(opt->mask_path, -1, &mask, err);
		if (st)
			goto out;
	}
	int want_voxels = n > 1 || opt->keep_map;
	const double *days = opt->days;
	for (int k = 0; k < n; k++) {
		int i = out->order[k];
		struct held *h = k == 0 ? &base : &cur;
		st = load_timepoint(paths[i], i, opt, mask, want_voxels, h,
				    &out->measurements[i], out, err);
		if (st)
			goto out;
		if (k == 0)
			continue;
		int is_last = k == n - 1;
		int same = lesion_geometry_same_grid(&base.vol->geom, &cur.vol->geom, 1e-3);
		if (is_last && opt->change_map_path && !same) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"cannot write change map '%s': '%s' and '%s' are on "
				"different grids (co-register them first)",
				opt->change_map_path, paths[base.index], paths[i]);
			goto out;
		}
		if (same && (opt->on_change_map ||
			     (is_last && (opt->change_map_path || opt->keep_map)))) {
			change_map = malloc((size_t)cur.vol->geom.n_voxels);
			if (!change_map) {
				st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
				goto out;
			}
		}
		struct lesion_change *c = &out->changes[out->n_changes++];
		lesion_change_compare(base.vol, &out->measurements[base.index], &base.seg,
				      days ? days[base.index] : NAN, cur.vol,
				      &out->measurements[i], &cur.seg,
				      days ? days[i] : NAN, c, change_map);
		c->from = base.index;
		c->to = i;
		if (c->warning[0])
			add_warning(out, "%s", c->warning);
		if (opt->on_change_map &&
		    (st = opt->on_change_map(opt->hook_ctx, base.index, i, cur.vol, change_map,
					     err)))
			goto out;
		if (opt->consecutive && k >= 2) {
			struct lesion_change *cc = &out->changes[out->n_changes++];
			lesion_change_compare(prev.vol, &out->measurements[prev.index],
					      &prev.seg, days ? days[prev.index] : NAN,
					      cur.vol, &out->measurements[i], &cur.seg,
					      days ? days[i] : NAN, cc, NULL);
			cc->from = prev.index;
			cc->to = i;
			if (cc->warning[0])
				add_warning(out, "%s", cc->warning);
		}
		if (is_last && change_map && opt->change_map_path) {
			st = lesion_volume_write_like(base.vol, opt->change_map_path,
						      LESION_DT_UINT8, change_map, err);
			if (st)
				goto out;
		}
		if (is_last && change_map && opt->keep_map) {
			out->map = change_map;
			out->map_is_change = 1;
			change_map = NULL;
		}
		free(change_map);
		change_map = NULL;
		/* keep the previous timepoint only when --consecutive needs it */
		held_release(&prev);
		if (opt->consecutive) {
			prev = cur;
		} else {
			held_release(&cur);
		}
		memset(&cur, 0, sizeof(cur));
		cur.index = -1;
	}
	if (n == 1 && opt->keep_map) {
		out->map = base.seg.mask;
		base.seg.mask = NULL;
	}
out:
	held_release(&base);
	held_release(&prev);
	held_release(&cur);
	lesion_volume_free(mask);
	free(change_map);
	if (st)
		lesion_series_release(out);
	return st;
}

void lesion_series_release(struct lesion_series *s)
{
	if (s->measurements)
		for (int i = 0; i < s->n_timepoints; i++)
			lesion_measurement_release(&s->measurements[i]);
	free(s->measurements);
	free(s->order);
	free(s->changes);
	free(s->warnings);
	free(s->region_loads);
	free(s->outside_atlas_voxels);
	free(s->map);
	memset(s, 0, sizeof(*s));
}
