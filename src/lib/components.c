/* components.c: 3D connected components by run-length union-find, and hole
 * filling, with memory proportional to the number of runs. */
#include "lesionvol/components.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/*
 * The voxels being labelled are those whose byte differs from @outside: 0
 * for the foreground of a mask, 1 for the background when filling holes.
 * A run is a maximal stretch of such voxels along x; two runs of
 * neighbouring rows are connected when their x ranges come within @reach
 * (0: they overlap; 1: they overlap or touch diagonally).
 */
struct runset {
	int64_t nx, ny, nz, n_rows;
	int64_t *row_start;
	struct lesion_run *runs;
	int64_t n_runs;
	int64_t *parent; /* after runset_build(): the root (first run) of each set */
};

/* Neighbouring rows that come before a row in file order, with their reach. */
struct row_offset {
	int dj, dk, reach;
};

static const struct row_offset offsets6[] = {{-1, 0, 0}, {0, -1, 0}};
static const struct row_offset offsets18[] = {
	{-1, 0, 1}, {0, -1, 1}, {-1, -1, 0}, {1, -1, 0}};
static const struct row_offset offsets26[] = {
	{-1, 0, 1}, {0, -1, 1}, {-1, -1, 1}, {1, -1, 1}};

static int64_t scan_row(const uint8_t *row, int64_t nx, uint8_t outside,
			struct lesion_run *runs)
{
	const uint64_t all_outside = UINT64_C(0x0101010101010101) * outside;
	int64_t n = 0, x = 0;
	while (x < nx) {
		/* lesions are small: skip the rest eight voxels at a time */
		while (x + 8 <= nx) {
			uint64_t w;
			memcpy(&w, row + x, 8);
			if (w != all_outside)
				break;
			x += 8;
		}
		while (x < nx && row[x] == outside)
			x++;
		if (x >= nx)
			break;
		int64_t x0 = x;
		while (x < nx && row[x] != outside)
			x++;
		if (runs) {
			runs[n].x0 = (int32_t)x0;
			runs[n].x1 = (int32_t)x;
		}
		n++;
	}
	return n;
}

static int64_t find_root(int64_t *parent, int64_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]]; /* path halving keeps parent <= index */
		x = parent[x];
	}
	return x;
}

/* Link the larger root under the smaller, so a set's root is its first run. */
static void unite(int64_t *parent, int64_t a, int64_t b)
{
	a = find_root(parent, a);
	b = find_root(parent, b);
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

static void join_rows(const struct runset *s, int64_t ra, int64_t rb, int reach)
{
	const struct lesion_run *runs = s->runs;
	int64_t i = s->row_start[ra], iend = s->row_start[ra + 1];
	int64_t j = s->row_start[rb], jend = s->row_start[rb + 1];
	while (i < iend && j < jend) {
		if (runs[i].x0 < runs[j].x1 + reach && runs[j].x0 < runs[i].x1 + reach)
			unite(s->parent, i, j);
		/* the run that ends first cannot reach any later run of the other row */
		if (runs[i].x1 < runs[j].x1)
			i++;
		else
			j++;
	}
}

/* Join row (j, k) with its earlier neighbours whose plane is >= @k_min. */
static void join_row(const struct runset *s, const struct row_offset *off, int n_off,
		     int64_t j, int64_t k, int64_t k_min, int64_t k_max)
{
	int64_t r = j + s->ny * k;
	if (s->row_start[r] == s->row_start[r + 1])
		return;
	for (int o = 0; o < n_off; o++) {
		int64_t jj = j + off[o].dj, kk = k + off[o].dk;
		if (jj < 0 || jj >= s->ny || kk < k_min || kk > k_max)
			continue;
		join_rows(s, r, jj + s->ny * kk, off[o].reach);
	}
}

static void runset_release(struct runset *s)
{
	free(s->row_start);
	free(s->runs);
	free(s->parent);
	memset(s, 0, sizeof(*s));
}

static enum lesion_status runset_build(struct runset *s, const uint8_t *mask,
				       const int64_t dim[3], uint8_t outside,
				       int connectivity, struct lesion_error *err)
{
	const struct row_offset *off;
	int n_off;
	memset(s, 0, sizeof(*s));
	switch (connectivity) {
	case 6: off = offsets6; n_off = 2; break;
	case 18: off = offsets18; n_off = 4; break;
	case 26: off = offsets26; n_off = 4; break;
	default:
		return lesion_error_set(err, LESION_ERR_USAGE,
			"connectivity must be 6, 18 or 26, not %d", connectivity);
	}
	if (dim[0] < 1 || dim[1] < 1 || dim[2] < 1 || dim[0] > INT32_MAX - 2 ||
	    dim[1] > (INT64_C(1) << 40) / dim[2])
		return lesion_error_set(err, LESION_ERR_USAGE,
			"cannot label a %lldx%lldx%lld volume", (long long)dim[0],
			(long long)dim[1], (long long)dim[2]);
	s->nx = dim[0];
	s->ny = dim[1];
	s->nz = dim[2];
	s->n_rows = s->ny * s->nz;
	const int64_t nx = s->nx, n_rows = s->n_rows;
	s->row_start = malloc(sizeof(int64_t) * (size_t)(n_rows + 1));
	if (!s->row_start)
		goto oom;

	/* runs per row, then their positions, then the runs themselves: two
	 * scans of the mask but no buffer proportional to the volume */
	s->row_start[0] = 0;
#pragma omp parallel for schedule(dynamic, 256)
	for (int64_t r = 0; r < n_rows; r++)
		s->row_start[r + 1] = scan_row(mask + r * nx, nx, outside, NULL);
	for (int64_t r = 0; r < n_rows; r++)
		s->row_start[r + 1] += s->row_start[r];
	s->n_runs = s->row_start[n_rows];
	s->runs = malloc(sizeof(*s->runs) * (size_t)(s->n_runs + 1));
	s->parent = malloc(sizeof(int64_t) * (size_t)(s->n_runs + 1));
	if (!s->runs || !s->parent)
		goto oom;
#pragma omp parallel for schedule(dynamic, 256)
	for (int64_t r = 0; r < n_rows; r++)
		scan_row(mask + r * nx, nx, outside, s->runs + s->row_start[r]);
	for (int64_t i = 0; i < s->n_runs; i++)
		s->parent[i] = i;

	/* Unions inside slabs of planes in parallel (a slab's unions only touch
	 * its own runs, which are contiguous), then across slab boundaries. The
	 * partition, and each set's root (its first run), do not depend on the
	 * slabs, so neither does anything computed from them. */
	int64_t n_slabs = (int64_t)omp_get_max_threads() * 4;
	if (n_slabs > s->nz)
		n_slabs = s->nz;
	if (s->n_runs < 4096)
		n_slabs = 1;
#pragma omp parallel for schedule(dynamic, 1)
	for (int64_t sl = 0; sl < n_slabs; sl++) {
		int64_t k0 = s->nz * sl / n_slabs, k1 = s->nz * (sl + 1) / n_slabs;
		for (int64_t k = k0; k < k1; k++)
			for (int64_t j = 0; j < s->ny; j++)
				join_row(s, off, n_off, j, k, k0, k1 - 1);
	}
	for (int64_t sl = 1; sl < n_slabs; sl++) {
		int64_t k0 = s->nz * sl / n_slabs;
		for (int64_t j = 0; j < s->ny; j++)
			join_row(s, off, n_off, j, k0, k0 - 1, k0 - 1);
	}
	/* parent[i] <= i, so one forward pass points every run at its root */
	for (int64_t i = 0; i < s->n_runs; i++)
		s->parent[i] = s->parent[s->parent[i]];
	return LESION_OK;
oom:
	runset_release(s);
	return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
}

struct root_info {
	int64_t voxels;
	int64_t run;
	int64_t first_voxel;
};

static int by_size_then_first(const void *pa, const void *pb)
{
	const struct root_info *a = pa, *b = pb;
	if (a->voxels != b->voxels)
		return a->voxels > b->voxels ? -1 : 1;
	return (a->run > b->run) - (a->run < b->run);
}

enum lesion_status lesion_components_label(const uint8_t *mask,
					   const int64_t dim[3],
					   int connectivity,
					   struct lesion_components *out,
					   struct lesion_error *err)
{
	struct runset s;
	struct root_info *roots = NULL;
	int64_t *size = NULL;
	memset(out, 0, sizeof(*out));
	enum lesion_status st = runset_build(&s, mask, dim, 0, connectivity, err);
	if (st)
		return st;
	size = calloc((size_t)s.n_runs + 1, sizeof(int64_t));
	if (!size)
		goto oom;
	int64_t n_comp = 0;
	for (int64_t r = 0; r < s.n_rows; r++)
		for (int64_t i = s.row_start[r]; i < s.row_start[r + 1]; i++) {
			size[s.parent[i]] += s.runs[i].x1 - s.runs[i].x0;
			n_comp += s.parent[i] == i;
		}
	roots = malloc(sizeof(*roots) * (size_t)(n_comp + 1));
	out->voxels = malloc(sizeof(int64_t) * (size_t)(n_comp + 1));
	out->first_voxel = malloc(sizeof(int64_t) * (size_t)(n_comp + 1));
	if (!roots || !out->voxels || !out->first_voxel)
		goto oom;
	int64_t c = 0;
	for (int64_t r = 0; r < s.n_rows; r++)
		for (int64_t i = s.row_start[r]; i < s.row_start[r + 1]; i++)
			if (s.parent[i] == i) {
				roots[c].voxels = size[i];
				roots[c].run = i;
				roots[c].first_voxel = s.runs[i].x0 + s.nx * r;
				c++;
			}
	qsort(roots, (size_t)n_comp, sizeof(*roots), by_size_then_first);

	/* parent becomes run_label: roots first hold -(label + 1), which every
	 * later run of the set then copies (a root precedes its set's runs) */
	int64_t *lab = s.parent;
	for (int64_t l = 0; l < n_comp; l++) {
		lab[roots[l].run] = -(l + 1) - 1;
		out->voxels[l] = roots[l].voxels;
		out->first_voxel[l] = roots[l].first_voxel;
	}
	for (int64_t i = 0; i < s.n_runs; i++)
		if (lab[i] >= 0)
			lab[i] = lab[lab[i]];
	for (int64_t i = 0; i < s.n_runs; i++)
		lab[i] = -lab[i] - 1;

	memcpy(out->dim, dim, sizeof(out->dim));
	out->connectivity = connectivity;
	out->n_rows = s.n_rows;
	out->row_start = s.row_start;
	out->n_runs = s.n_runs;
	out->runs = s.runs;
	out->run_label = lab;
	out->n_components = n_comp;
	free(size);
	free(roots);
	return LESION_OK;
oom:
	free(size);
	free(roots);
	free(out->voxels);
	free(out->first_voxel);
	memset(out, 0, sizeof(*out));
	runset_release(&s);
	return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
}

void lesion_components_truncate(struct lesion_components *c, int64_t n_keep)
{
	if (n_keep < 0)
		n_keep = 0;
	if (n_keep >= c->n_components)
		return;
	for (int64_t i = 0; i < c->n_runs; i++)
		if (c->run_label[i] > n_keep)
			c->run_label[i] = 0;
	c->n_components = n_keep;
}

void lesion_components_paint(const struct lesion_components *c, int32_t *labels)
{
	const int64_t nx = c->dim[0];
	memset(labels, 0, sizeof(int32_t) * (size_t)(c->n_rows * nx));
	for (int64_t r = 0; r < c->n_rows; r++)
		for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++) {
			int32_t l = (int32_t)c->run_label[i];
			int32_t *p = labels + r * nx;
			if (l)
				for (int64_t x = c->runs[i].x0; x < c->runs[i].x1; x++)
					p[x] = l;
		}
}

void lesion_components_release(struct lesion_components *c)
{
	free(c->row_start);
	free(c->runs);
	free(c->run_label);
	free(c->voxels);
	free(c->first_voxel);
	memset(c, 0, sizeof(*c));
}

enum lesion_status lesion_mask_fill_holes(uint8_t *mask, const int64_t dim[3],
					  struct lesion_error *err)
{
	struct runset s;
	enum lesion_status st = runset_build(&s, mask, dim, 1, 6, err);
	if (st)
		return st;
	/* a background set that reaches the border is not a hole */
	uint8_t *border = calloc((size_t)s.n_runs + 1, 1);
	if (!border) {
		runset_release(&s);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	for (int64_t r = 0; r < s.n_rows; r++) {
		int64_t j = r % s.ny, k = r / s.ny;
		int edge_row = j == 0 || j == s.ny - 1 || k == 0 || k == s.nz - 1;
		for (int64_t i = s.row_start[r]; i < s.row_start[r + 1]; i++)
			if (edge_row || s.runs[i].x0 == 0 || s.runs[i].x1 == s.nx)
				border[s.parent[i]] = 1;
	}
	for (int64_t r = 0; r < s.n_rows; r++)
		for (int64_t i = s.row_start[r]; i < s.row_start[r + 1]; i++) {
			if (border[s.parent[i]])
				continue;
			uint8_t *p = mask + r * s.nx;
			for (int64_t x = s.runs[i].x0; x < s.runs[i].x1; x++)
				if (p[x] == 0)
					p[x] = 1;
		}
	free(border);
	runset_release(&s);
	return LESION_OK;
}
