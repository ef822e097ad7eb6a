/* surface_distance.c: exact Euclidean distance transform with anisotropic
 * voxels and the surface distances (HD95, Hausdorff, ASSD) built on it. */
#include "evaluate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * One line of the transform: @g holds n values (0 / squared distance so far /
 * INFINITY); @d receives min over p of (w (q - p))^2 + g[p]. @v and @z are
 * scratch of n and n + 1 entries. Sites with g = INFINITY are skipped, so
 * no infinity ever enters the arithmetic.
 */
static void edt_line(const double *g, int64_t n, double w, double *d, int64_t *v,
		     double *z)
{
	const double w2 = w * w;
	int64_t k = -1;
	for (int64_t q = 0; q < n; q++) {
		if (isinf(g[q]))
			continue;
		const double fq = g[q] + w2 * (double)q * (double)q;
		if (k < 0) {
			k = 0;
			v[0] = q;
			z[0] = -INFINITY;
			z[1] = INFINITY;
			continue;
		}
		/* drop the parabolas the new one hides; z[0] = -inf stops at k 0 */
		double s;
		for (;;) {
			const int64_t p = v[k];
			const double fp = g[p] + w2 * (double)p * (double)p;
			s = (fq - fp) / (2.0 * w2 * (double)(q - p));
			if (s > z[k])
				break;
			k--;
		}
		k++;
		v[k] = q;
		z[k] = s;
		z[k + 1] = INFINITY;
	}
	if (k < 0) {
		for (int64_t q = 0; q < n; q++)
			d[q] = INFINITY;
		return;
	}
	int64_t j = 0;
	for (int64_t q = 0; q < n; q++) {
		while (z[j + 1] < (double)q)
			j++;
		const double dq = w * (double)(q - v[j]);
		d[q] = dq * dq + g[v[j]];
	}
}

enum lesion_status lesion_edt_squared(double *f, const int64_t dim[3],
				      const double spacing_mm[3],
				      struct lesion_error *err)
{
	const int64_t nx = dim[0], ny = dim[1], nz = dim[2];
	int64_t longest = nx > ny ? nx : ny;
	if (nz > longest)
		longest = nz;
	int failed = 0;
	for (int axis = 0; axis < 3; axis++) {
		const int64_t n = dim[axis];
		const int64_t stride = axis == 0 ? 1 : axis == 1 ? nx : nx * ny;
		const int64_t n_lines = nx * ny * nz / n;
		if (n == 1 && axis > 0)
			continue; /* a single slice: nothing to propagate */
		#pragma omp parallel reduction(|:failed)
		{
			double *g = malloc((size_t)longest * sizeof(*g));
			double *d = malloc((size_t)longest * sizeof(*d));
			double *z = malloc((size_t)(longest + 1) * sizeof(*z));
			int64_t *v = malloc((size_t)longest * sizeof(*v));
			if (!g || !d || !z || !v)
				failed = 1;
			#pragma omp for schedule(static)
			for (int64_t line = 0; line < n_lines; line++) {
				if (failed)
					continue;
				/* first voxel of the line: the other two indices */
				int64_t base;
				if (axis == 0)
					base = line * nx;
				else if (axis == 1)
					base = (line % nx) + (line / nx) * nx * ny;
				else
					base = line;
				for (int64_t q = 0; q < n; q++)
					g[q] = f[base + q * stride];
				edt_line(g, n, spacing_mm[axis], d, v, z);
				for (int64_t q = 0; q < n; q++)
					f[base + q * stride] = d[q];
			}
			free(g);
			free(d);
			free(z);
			free(v);
		}
		if (failed)
			return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	return LESION_OK;
}

double lesion_percentile_linear(const double *sorted, int64_t n, double q)
{
	if (n <= 0)
		return NAN;
	/* numpy: virtual index (n - 1) * q / 100, then a lerp written so that
	 * it is exact at both ends */
	const double virt = (double)(n - 1) * (q / 100.0);
	double lo = floor(virt);
	if (lo >= (double)(n - 1))
		return sorted[n - 1];
	const double t = virt - lo;
	const double a = sorted[(int64_t)lo], b = sorted[(int64_t)lo + 1];
	const double diff = b - a;
	return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

static int cmp_double(const void *pa, const void *pb)
{
	const double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* 1 when voxel (i, j, k) of mask @m has a 6-neighbour outside the mask or
 * outside the grid (scipy's binary_erosion with border_value 0). */
static int on_surface(const int32_t *m, const int64_t dim[3], int64_t i, int64_t j,
		      int64_t k)
{
	const int64_t nx = dim[0], ny = dim[1], nz = dim[2];
	const int64_t at = i + nx * (j + ny * k);
	if (i == 0 || j == 0 || k == 0 || i == nx - 1 || j == ny - 1 || k == nz - 1)
		return 1;
	return !m[at - 1] || !m[at + 1] || !m[at - nx] || !m[at + nx] ||
	       !m[at - nx * ny] || !m[at + nx * ny];
}

/* Bounding box [lo, hi] of the voxels non-zero in @a or @b; 0 when none. */
static int union_bbox(const int32_t *a, const int32_t *b, const int64_t dim[3],
		      int64_t lo[3], int64_t hi[3])
{
	const int64_t nx = dim[0], ny = dim[1], nz = dim[2];
	int any = 0;
	for (int d = 0; d < 3; d++) {
		lo[d] = dim[d];
		hi[d] = -1;
	}
	for (int64_t k = 0; k < nz; k++)
		for (int64_t j = 0; j < ny; j++) {
			const int64_t row = nx * (j + ny * k);
			for (int64_t i = 0; i < nx; i++) {
				if (!a[row + i] && !b[row + i])
					continue;
				any = 1;
				const int64_t ijk[3] = {i, j, k};
				for (int d = 0; d < 3; d++) {
					if (ijk[d] < lo[d])
						lo[d] = ijk[d];
					if (ijk[d] > hi[d])
						hi[d] = ijk[d];
				}
			}
		}
	return any;
}

/*
 * Distances from every surface voxel of @from (in the box) to the nearest
 * surface voxel of @to: @dist (box-sized scratch) gets the transform, the
 * distances are appended to @out in file order.
 */
static enum lesion_status directed(const uint8_t *surf_from, const uint8_t *surf_to,
				   const int64_t box[3], const double spacing[3],
				   double *dist, double *out, struct lesion_error *err)
{
	const int64_t n = box[0] * box[1] * box[2];
	for (int64_t i = 0; i < n; i++)
		dist[i] = surf_to[i] ? 0.0 : INFINITY;
	enum lesion_status st = lesion_edt_squared(dist, box, spacing, err);
	if (st)
		return st;
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++)
		if (surf_from[i])
			out[m++] = sqrt(dist[i]);
	return LESION_OK;
}

enum lesion_status lesion_surface_distances(const struct lesion_geometry *geom,
					    const int32_t *a, const int32_t *b,
					    struct lesion_surface_stats *out,
					    struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	const int64_t *dim = geom->dim;
	int64_t lo[3], hi[3], box[3];
	uint8_t *sa = NULL, *sb = NULL;
	double *dist = NULL, *all = NULL;

	out->n_a = out->n_b = 0;
	out->hd95_mm = out->hausdorff_mm = out->assd_mm = NAN;
	if (!union_bbox(a, b, dim, lo, hi))
		return LESION_OK;
	for (int d = 0; d < 3; d++)
		box[d] = hi[d] - lo[d] + 1;
	const int64_t n = box[0] * box[1] * box[2];
	sa = calloc((size_t)n, 1);
	sb = calloc((size_t)n, 1);
	if (!sa || !sb) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	int64_t na = 0, nb = 0;
	#pragma omp parallel for reduction(+:na, nb) schedule(static)
	for (int64_t k = 0; k < box[2]; k++)
		for (int64_t j = 0; j < box[1]; j++)
			for (int64_t i = 0; i < box[0]; i++) {
				const int64_t gi = i + lo[0], gj = j + lo[1], gk = k + lo[2];
				const int64_t at = gi + dim[0] * (gj + dim[1] * gk);
				const int64_t bi = i + box[0] * (j + box[1] * k);
				if (a[at] && on_surface(a, dim, gi, gj, gk)) {
					sa[bi] = 1;
					na++;
				}
				if (b[at] && on_surface(b, dim, gi, gj, gk)) {
					sb[bi] = 1;
					nb++;
				}
			}
	out->n_a = na;
	out->n_b = nb;
	if (!na || !nb)
		goto out;
	dist = malloc((size_t)n * sizeof(*dist));
	all = malloc((size_t)(na + nb) * sizeof(*all));
	if (!dist || !all) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	st = directed(sa, sb, box, geom->voxel_size_mm, dist, all, err);
	if (!st)
		st = directed(sb, sa, box, geom->voxel_size_mm, dist, all + na, err);
	if (st)
		goto out;
	double sum_a = 0.0, sum_b = 0.0;
	for (int64_t i = 0; i < na; i++)
		sum_a += all[i];
	for (int64_t i = 0; i < nb; i++)
		sum_b += all[na + i];
	out->assd_mm = (sum_a / (double)na + sum_b / (double)nb) / 2.0;
	qsort(all, (size_t)(na + nb), sizeof(*all), cmp_double);
	out->hausdorff_mm = all[na + nb - 1];
	out->hd95_mm = lesion_percentile_linear(all, na + nb, 95.0);
out:
	free(sa);
	free(sb);
	free(dist);
	free(all);
	return st;
}
