/* change.c: lesion change between two timepoints of one subject: volumes,
 * voxel overlap, and lesion-wise tracking by component overlap. */
#include "lesionvol/change.h"
#include "change_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_na_overlap(struct lesion_change *c)
{
	c->same_grid = 0;
	c->dice = NAN;
	c->persistent_mm3 = c->resolved_mm3 = c->new_mm3 = NAN;
	c->n_new = c->n_resolved = c->n_persistent = c->n_merged = c->n_split = -1;
}

static void describe_grid_difference(const struct lesion_volume *va,
				     const struct lesion_volume *vb, char *buf,
				     size_t size)
{
	const struct lesion_geometry *a = &va->geom, *b = &vb->geom;
	if (a->dim[0] != b->dim[0] || a->dim[1] != b->dim[1] || a->dim[2] != b->dim[2]) {
		snprintf(buf, size,
			 "'%s' (%lldx%lldx%lld) and '%s' (%lldx%lldx%lld) are on different "
			 "grids; overlap fields are n/a (co-register the images first, "
			 "e.g. with ANTs or FSL)", va->path, (long long)a->dim[0],
			 (long long)a->dim[1], (long long)a->dim[2], vb->path,
			 (long long)b->dim[0], (long long)b->dim[1], (long long)b->dim[2]);
		return;
	}
	double dmax = 0;
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			dmax = fmax(dmax, fabs(a->vox_to_world[r][c] - b->vox_to_world[r][c]));
	snprintf(buf, size,
		 "'%s' and '%s' have voxel-to-world matrices differing by up to %.3g mm; "
		 "overlap fields are n/a (co-register the images first, e.g. with ANTs "
		 "or FSL)", va->path, vb->path, dmax);
}

struct pair {
	int32_t a, b;
};

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return 0;
}

/* Distinct (baseline label, later label) pairs that share a voxel. */
static struct pair *touching_pairs(const int32_t *la, const int32_t *lb, int64_t n,
				   int64_t *n_pairs)
{
	size_t cap = 1024, used = 0;
	struct pair *p = malloc(cap * sizeof(*p));
	if (!p)
		return NULL;
	struct pair last = {0, 0};
	for (int64_t i = 0; i < n; i++) {
		if (!la[i] || !lb[i])
			continue;
		if (la[i] == last.a && lb[i] == last.b)
			continue;
		last.a = la[i];
		last.b = lb[i];
		if (used == cap) {
			/* compact before growing: most repeats are already adjacent */
			qsort(p, used, sizeof(*p), pair_cmp);
			size_t u = 0;
			for (size_t k = 0; k < used; k++)
				if (u == 0 || pair_cmp(&p[u - 1], &p[k]) != 0)
					p[u++] = p[k];
			used = u;
			if (used > cap / 2) {
				struct pair *q = realloc(p, 2 * cap * sizeof(*p));
				if (!q) {
					free(p);
					return NULL;
				}
				p = q;
				cap *= 2;
			}
		}
		p[used++] = last;
	}
	qsort(p, used, sizeof(*p), pair_cmp);
	size_t u = 0;
	for (size_t k = 0; k < used; k++)
		if (u == 0 || pair_cmp(&p[u - 1], &p[k]) != 0)
			p[u++] = p[k];
	*n_pairs = (int64_t)u;
	return p;
}

static int track_components(const struct lesion_measurement *ma,
			    const struct lesion_segmentation *sa,
			    const struct lesion_measurement *mb,
			    const struct lesion_segmentation *sb, int64_t n,
			    struct lesion_change *out)
{
	int64_t n_pairs = 0;
	struct pair *pairs = touching_pairs(sa->labels, sb->labels, n, &n_pairs);
	int32_t *touch_a = calloc((size_t)ma->n_components + 1, sizeof(int32_t));
	int32_t *touch_b = calloc((size_t)mb->n_components + 1, sizeof(int32_t));
	if (!pairs || !touch_a || !touch_b) {
		free(pairs);
		free(touch_a);
		free(touch_b);
		return -1;
	}
	for (int64_t k = 0; k < n_pairs; k++) {
		touch_a[pairs[k].a]++;
		touch_b[pairs[k].b]++;
	}
	out->n_new = out->n_persistent = out->n_merged = 0;
	out->n_resolved = out->n_split = 0;
	for (int64_t l = 1; l <= mb->n_components; l++) {
		if (touch_b[l] == 0)
			out->n_new++;
		else
			out->n_persistent++;
		if (touch_b[l] >= 2)
			out->n_merged++;
	}
	for (int64_t l = 1; l <= ma->n_components; l++) {
		if (touch_a[l] == 0)
			out->n_resolved++;
		if (touch_a[l] >= 2)
			out->n_split++;
	}
	free(pairs);
	free(touch_a);
	free(touch_b);
	return 0;
}

void lesion_change_compare(const struct lesion_volume *va,
			   const struct lesion_measurement *ma,
			   const struct lesion_segmentation *sa, double days_a,
			   const struct lesion_volume *vb,
			   const struct lesion_measurement *mb,
			   const struct lesion_segmentation *sb, double days_b,
			   struct lesion_change *out, uint8_t *change_map)
{
	const double v0 = ma->lesion_volume_mm3, v1 = mb->lesion_volume_mm3;
	out->warning[0] = '\0';
	out->baseline_mm3 = v0;
	out->volume_mm3 = v1;
	out->delta_mm3 = v1 - v0;
	out->percent_change = lesion_percent_change(v0, v1);
	out->log_ratio = (v0 > 0 && v1 > 0) ? log(v1 / v0) : NAN;
	out->days = (isfinite(days_a) && isfinite(days_b)) ? days_b - days_a : NAN;
	out->rate_mm3_per_day = lesion_rate_per_day(v0, v1, out->days);
	set_na_overlap(out);
	if (!lesion_geometry_same_grid(&va->geom, &vb->geom, 1e-3)) {
		describe_grid_difference(va, vb, out->warning, sizeof(out->warning));
		return;
	}
	const int64_t n = va->geom.n_voxels;
	const uint8_t *a = sa->mask, *b = sb->mask;
	int64_t both = 0, only_a = 0, only_b = 0;
#pragma omp parallel for reduction(+:both,only_a,only_b) schedule(static)
	for (int64_t i = 0; i < n; i++) {
		int x = a[i] != 0, y = b[i] != 0;
		both += x & y;
		only_a += x & !y;
		only_b += (!x) & y;
		if (change_map)
			change_map[i] = (uint8_t)(x & y ? LESION_CHANGE_PERSISTENT
						  : x ? LESION_CHANGE_RESOLVED
						  : y ? LESION_CHANGE_NEW
						  : LESION_CHANGE_BACKGROUND);
	}
	const double vox = ma->voxel_volume_mm3;
	out->same_grid = 1;
	out->persistent_mm3 = (double)both * vox;
	out->resolved_mm3 = (double)only_a * vox;
	out->new_mm3 = (double)only_b * vox;
	int64_t total = 2 * both + only_a + only_b;
	out->dice = total > 0 ? 2.0 * (double)both / (double)total : NAN;
	if (sa->labels && sb->labels && track_components(ma, sa, mb, sb, n, out) != 0)
		out->n_new = out->n_resolved = out->n_persistent = out->n_merged =
			out->n_split = -1;
}
