/* components.c: 3D connected components by run-length union-find, and hole
 * filling, with memory proportional to the number of runs. */
#include "lesionvol/components.h"
#include "io_internal.h"
#include "components_internal.h"

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

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* bit i of the result: byte i of @x (in memory order) is not zero */
static inline uint64_t nonzero_bytes(uint64_t x)
{
	const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
	uint64_t t = (((x & low7) + low7) | x) & ~low7;
	return ((t >> 7) * UINT64_C(0x0102040810204080)) >> 56;
}

/* 64 voxels of a row as bits: bit i set when voxel i is not @outside */
static inline uint64_t row_bits64(const uint8_t *p, uint64_t all_outside)
{
	uint64_t m = 0;
	for (int b = 0; b < 8; b++) {
		uint64_t w;
		memcpy(&w, p + 8 * b, 8);
		m |= nonzero_bytes(w ^ all_outside) << (8 * b);
	}
	return m;
}
#endif

/*
 * The runs of one row, in increasing x. Sixty-four voxels at a time become
 * a bit mask whose changes from one voxel to the next are the run
 * boundaries, so the cost is per 64 voxels plus per run, without a branch
 * per voxel. The last, partial block is padded with @outside, so a run
 * reaching the end of the row ends at nx like any other.
 */
static int64_t scan_row(const uint8_t *row, int64_t nx, uint8_t outside,
			struct lesion_run *runs)
{
	int64_t n = 0, x = 0, open = -1; /* open: x0 of the run in progress */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t all_outside = UINT64_C(0x0101010101010101) * outside;
	uint8_t tail[64];
	for (; x < nx; x += 64) {
		const uint8_t *p = row + x;
		if (nx - x < 64) {
			memset(tail, outside, sizeof(tail));
			memcpy(tail, p, (size_t)(nx - x));
			p = tail;
		}
		uint64_t m = row_bits64(p, all_outside);
		uint64_t edges = m ^ ((m << 1) | (uint64_t)(open >= 0));
		while (edges) {
			int64_t at = x + __builtin_ctzll(edges);
			edges &= edges - 1;
			if (open < 0) {
				open = at;
			} else {
				runs[n].x0 = (int32_t)open;
				runs[n].x1 = (int32_t)at;
				n++;
				open = -1;
			}
		}
	}
#endif
	for (; x < nx; x++) {
		int in = row[x] != outside;
		if (in && open < 0) {
			open = x;
		} else if (!in && open >= 0) {
			runs[n].x0 = (int32_t)open;
			runs[n].x1 = (int32_t)x;
			n++;
			open = -1;
		}
	}
	if (open >= 0) {
		runs[n].x0 = (int32_t)open;
		runs[n].x1 = (int32_t)nx;
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

/* Unite the runs [i, iend) of one row with the runs [j, jend) of another
 * that come within @reach of them along x. */
static void join_rows(const struct lesion_run *runs, int64_t *parent, int64_t i,
		      int64_t iend, int64_t j, int64_t jend, int reach)
{
	while (i < iend && j < jend) {
		if (runs[i].x0 < runs[j].x1 + reach && runs[j].x0 < runs[i].x1 + reach)
			unite(parent, i, j);
		/* the run that ends first cannot reach any later run of the other row */
		if (runs[i].x1 < runs[j].x1)
			i++;
		else
			j++;
	}
}

static void runset_release(struct runset *s)
{
	free(s->row_start);
	free(s->runs);
	free(s->parent);
	memset(s, 0, sizeof(*s));
}

/* The binary image: a mask in memory, labelling the voxels whose byte
 * differs from @outside. */
struct row_input {
	const uint8_t *mask;
	uint8_t outside;
};

/*
 * A slab of whole planes [k0, k1), scanned and united on its own by one
 * thread: its runs and their union-find forest use slab-local indices, and
 * row_start[r + 1] holds the local end of row r's runs until the slabs are
 * put together.
 */
struct slab {
	int64_t k0, k1;
	struct lesion_run *runs;
	int64_t *parent;
	int64_t n, cap;
	int failed;
};

struct lesion_labeller {
	struct runset s;
	const struct row_offset *off;
	int n_off;
	struct row_input in;
	struct slab *slabs;
	int64_t n_slabs;
};

static int grow_slab(struct slab *sl, int64_t need)
{
	if (sl->n + need <= sl->cap)
		return 0;
	int64_t cap = sl->cap * 2 + need + 1024;
	struct lesion_run *r = lesion_realloc_large(sl->runs, sizeof(*r) * (size_t)sl->cap,
						    sizeof(*r) * (size_t)cap);
	if (!r)
		return -1;
	sl->runs = r;
	sl->cap = cap;
	return 0;
}

/* Scan and unite slab @index on its own. */
static void run_slab(struct lesion_labeller *L, int64_t index)
{
	struct runset *s = &L->s;
	struct slab *sl = &L->slabs[index];
	const int64_t nx = s->nx, ny = s->ny;
	const int64_t r0 = sl->k0 * ny, r1 = sl->k1 * ny;
	for (int64_t r = r0; r < r1; r++) {
		/* a row holds at most (nx + 1) / 2 runs */
		if (grow_slab(sl, (nx + 1) / 2)) {
			sl->failed = 1;
			return;
		}
		int64_t k = scan_row(L->in.mask + r * nx, nx, L->in.outside, sl->runs + sl->n);
		sl->n += k;
		s->row_start[r + 1] = sl->n;
	}
	sl->parent = lesion_alloc_large(sizeof(int64_t) * (size_t)(sl->n + 1));
	if (!sl->parent) {
		sl->failed = 1;
		return;
	}
	for (int64_t i = 0; i < sl->n; i++)
		sl->parent[i] = i;
	/* unions with the earlier neighbour rows inside the slab */
	for (int64_t k = sl->k0; k < sl->k1; k++)
		for (int64_t j = 0; j < ny; j++) {
			int64_t r = j + ny * k;
			int64_t a = r == r0 ? 0 : s->row_start[r], aend = s->row_start[r + 1];
			if (a == aend)
				continue;
			for (int o = 0; o < L->n_off; o++) {
				int64_t jj = j + L->off[o].dj, kk = k + L->off[o].dk;
				if (jj < 0 || jj >= ny || kk < sl->k0)
					continue;
				int64_t rr = jj + ny * kk;
				int64_t b = rr == r0 ? 0 : s->row_start[rr];
				join_rows(sl->runs, sl->parent, a, aend, b, s->row_start[rr + 1],
					  L->off[o].reach);
			}
		}
}

static void labeller_free(struct lesion_labeller *L)
{
	if (!L)
		return;
	for (int64_t i = 0; L->slabs && i < L->n_slabs; i++) {
		free(L->slabs[i].runs);
		free(L->slabs[i].parent);
	}
	free(L->slabs);
	runset_release(&L->s);
	free(L);
}

/*
 * Check @dim and @connectivity, and start @s on them: its dims and an
 * empty row_start of n_rows + 1 entries (free with runset_release()), and
 * *@off and *@n_off, the neighbour rows to unite with.
 */
static enum lesion_status runset_init(struct runset *s, const int64_t dim[3],
				      int connectivity, const struct row_offset **off,
				      int *n_off, struct lesion_error *err)
{
	memset(s, 0, sizeof(*s));
	switch (connectivity) {
	case 6: *off = offsets6; *n_off = 2; break;
	case 18: *off = offsets18; *n_off = 4; break;
	case 26: *off = offsets26; *n_off = 4; break;
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
	s->row_start = lesion_alloc_large(sizeof(int64_t) * (size_t)(s->n_rows + 1));
	if (!s->row_start)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	s->row_start[0] = 0;
	return LESION_OK;
}

static enum lesion_status labeller_init(struct lesion_labeller **out,
					const struct row_input *in,
					const int64_t dim[3], int connectivity,
					struct lesion_error *err)
{
	*out = NULL;
	struct lesion_labeller *L = calloc(1, sizeof(*L));
	if (!L)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	enum lesion_status st = runset_init(&L->s, dim, connectivity, &L->off, &L->n_off, err);
	if (st) {
		free(L);
		return st;
	}
	L->in = *in;
	struct runset *s = &L->s;
	/* slabs of a quarter of a million voxels or more: enough of them to
	 * share among threads, few enough that their joins cost nothing */
	int64_t plane = s->nx * s->ny;
	int64_t per = plane >= (1 << 18) ? 1 : (1 << 18) / plane;
	L->n_slabs = (s->nz + per - 1) / per;
	L->slabs = calloc((size_t)L->n_slabs, sizeof(*L->slabs));
	if (!L->slabs)
		goto oom;
	for (int64_t i = 0; i < L->n_slabs; i++) {
		L->slabs[i].k0 = i * per;
		L->slabs[i].k1 = (i + 1) * per < s->nz ? (i + 1) * per : s->nz;
	}
	*out = L;
	return LESION_OK;
oom:
	labeller_free(L);
	return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
}

/* Put the slabs together into @L->s (global indices) and unite across the
 * slab boundaries; @L keeps nothing else. */
static enum lesion_status labeller_join(struct lesion_labeller *L, struct lesion_error *err)
{
	struct runset *s = &L->s;
	const int64_t ny = s->ny;
	int64_t total = 0;
	for (int64_t i = 0; i < L->n_slabs; i++) {
		if (L->slabs[i].failed)
			return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		total += L->slabs[i].n;
	}
	s->n_runs = total;
	s->runs = lesion_alloc_large(sizeof(*s->runs) * (size_t)(total + 1));
	s->parent = lesion_alloc_large(sizeof(int64_t) * (size_t)(total + 1));
	if (!s->runs || !s->parent)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	int64_t *base = malloc(sizeof(int64_t) * (size_t)(L->n_slabs + 1));
	if (!base)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	base[0] = 0;
	for (int64_t i = 0; i < L->n_slabs; i++)
		base[i + 1] = base[i] + L->slabs[i].n;
#pragma omp parallel for schedule(static)
	for (int64_t i = 0; i < L->n_slabs; i++) {
		struct slab *sl = &L->slabs[i];
		const int64_t b = base[i];
		for (int64_t r = sl->k0 * ny; r < sl->k1 * ny; r++)
			s->row_start[r + 1] += b;
		if (sl->n)
			memcpy(s->runs + b, sl->runs, sizeof(*s->runs) * (size_t)sl->n);
		for (int64_t q = 0; q < sl->n; q++)
			s->parent[b + q] = sl->parent[q] + b;
		free(sl->runs);
		free(sl->parent);
		sl->runs = NULL;
		sl->parent = NULL;
	}
	free(base);
	/* the first plane of each slab with the last plane(s) of the one before */
	for (int64_t i = 1; i < L->n_slabs; i++) {
		const int64_t k = L->slabs[i].k0;
		for (int64_t j = 0; j < ny; j++) {
			int64_t r = j + ny * k;
			if (s->row_start[r] == s->row_start[r + 1])
				continue;
			for (int o = 0; o < L->n_off; o++) {
				if (L->off[o].dk != -1)
					continue;
				int64_t jj = j + L->off[o].dj;
				if (jj < 0 || jj >= ny)
					continue;
				int64_t rr = jj + ny * (k - 1);
				join_rows(s->runs, s->parent, s->row_start[r], s->row_start[r + 1],
					  s->row_start[rr], s->row_start[rr + 1], L->off[o].reach);
			}
		}
	}
	/* parent[i] <= i, so one forward pass points every run at its root */
	for (int64_t i = 0; i < s->n_runs; i++)
		s->parent[i] = s->parent[s->parent[i]];
	return LESION_OK;
}

/* Scan every slab (in parallel) and put them together. */
static enum lesion_status runset_build(struct runset *out, const struct row_input *in,
				       const int64_t dim[3], int connectivity,
				       struct lesion_error *err)
{
	struct lesion_labeller *L;
	memset(out, 0, sizeof(*out));
	enum lesion_status st = labeller_init(&L, in, dim, connectivity, err);
	if (st)
		return st;
#pragma omp parallel for schedule(dynamic, 1)
	for (int64_t i = 0; i < L->n_slabs; i++)
		run_slab(L, i);
	st = labeller_join(L, err);
	if (!st) {
		*out = L->s;
		memset(&L->s, 0, sizeof(L->s));
	}
	labeller_free(L);
	return st;
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

/*
 * The components of the sets of @s, which @out takes over (or frees). One
 * pass in file order numbers the sets as their roots come (a root precedes
 * its set's runs, and parent[i] <= i, so each run copies the number its
 * parent already holds) and counts their voxels; after sorting the sets,
 * a second pass turns the numbers into labels.
 */
static enum lesion_status components_from_runset(struct runset *sp, const int64_t dim[3],
						 int connectivity,
						 struct lesion_components *out,
						 struct lesion_error *err)
{
	struct runset s = *sp;
	struct root_info *roots = NULL;
	int64_t *rank = NULL;
	int64_t n_comp = 0, cap = 0;
	memset(sp, 0, sizeof(*sp));
	memset(out, 0, sizeof(*out));
	/* parent becomes run_label: first -(set number) - 1 */
	int64_t *lab = s.parent;
	for (int64_t r = 0; r < s.n_rows; r++)
		for (int64_t i = s.row_start[r]; i < s.row_start[r + 1]; i++) {
			int64_t c;
			if (lab[i] == i) {
				if (n_comp == cap) {
					cap = cap * 2 + 64;
					struct root_info *g = realloc(roots, sizeof(*g) * (size_t)cap);
					if (!g)
						goto oom;
					roots = g;
				}
				c = n_comp++;
				roots[c].voxels = 0;
				roots[c].run = i;
				roots[c].first_voxel = s.runs[i].x0 + s.nx * r;
				lab[i] = -c - 1;
			} else {
				lab[i] = lab[lab[i]];
				c = -lab[i] - 1;
			}
			roots[c].voxels += s.runs[i].x1 - s.runs[i].x0;
		}
	out->voxels = malloc(sizeof(int64_t) * (size_t)(n_comp + 1));
	out->first_voxel = malloc(sizeof(int64_t) * (size_t)(n_comp + 1));
	rank = malloc(sizeof(int64_t) * (size_t)(n_comp + 1));
	if (!out->voxels || !out->first_voxel || !rank)
		goto oom;
	/* roots[c].run orders the sets as they were numbered, so the sort
	 * needs nothing else to tell rank from set number; no sets, no
	 * array (qsort must not be given NULL) */
	if (n_comp > 1)
		qsort(roots, (size_t)n_comp, sizeof(*roots), by_size_then_first);
	for (int64_t l = 0; l < n_comp; l++) {
		rank[-lab[roots[l].run] - 1] = l + 1;
		out->voxels[l] = roots[l].voxels;
		out->first_voxel[l] = roots[l].first_voxel;
	}
	for (int64_t i = 0; i < s.n_runs; i++)
		lab[i] = rank[-lab[i] - 1];

	memcpy(out->dim, dim, sizeof(out->dim));
	out->connectivity = connectivity;
	out->n_rows = s.n_rows;
	out->row_start = s.row_start;
	out->n_runs = s.n_runs;
	out->runs = s.runs;
	out->run_label = lab;
	out->n_components = n_comp;
	free(rank);
	free(roots);
	return LESION_OK;
oom:
	free(rank);
	free(roots);
	free(out->voxels);
	free(out->first_voxel);
	memset(out, 0, sizeof(*out));
	runset_release(&s);
	return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
}

static enum lesion_status label_input(const struct row_input *in,
				      const int64_t dim[3], int connectivity,
				      struct lesion_components *out, struct lesion_error *err)
{
	struct runset s;
	memset(out, 0, sizeof(*out));
	enum lesion_status st = runset_build(&s, in, dim, connectivity, err);
	if (st)
		return st;
	return components_from_runset(&s, dim, connectivity, out, err);
}

/*
 * The row labeller: rows handed over one by one in file order go straight
 * into one runset, each united with its earlier neighbour rows as it comes,
 * so nothing is joined or copied at the end.
 */
struct lesion_row_labeller {
	struct runset s;
	int64_t cap;      /* of s.runs and s.parent */
	int64_t next_row; /* the row add_row() expects */
	const struct row_offset *off;
	int n_off, connectivity;
};

enum lesion_status lesion_row_labeller_alloc(struct lesion_row_labeller **out,
					     const int64_t dim[3], int connectivity,
					     int64_t expected_runs, struct lesion_error *err)
{
	*out = NULL;
	struct lesion_row_labeller *L = calloc(1, sizeof(*L));
	if (!L)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	enum lesion_status st = runset_init(&L->s, dim, connectivity, &L->off, &L->n_off, err);
	if (st) {
		free(L);
		return st;
	}
	L->connectivity = connectivity;
	L->cap = expected_runs > 1024 ? expected_runs : 1024;
	L->s.runs = lesion_alloc_large(sizeof(*L->s.runs) * (size_t)L->cap);
	L->s.parent = lesion_alloc_large(sizeof(int64_t) * (size_t)L->cap);
	if (!L->s.runs || !L->s.parent) {
		lesion_row_labeller_free(L);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	*out = L;
	return LESION_OK;
}

int64_t lesion_row_labeller_add_row(struct lesion_row_labeller *L, const uint8_t *row,
				    const struct lesion_run **runs)
{
	struct runset *s = &L->s;
	const int64_t r = L->next_row++, a = s->n_runs;
	/* a row holds at most (nx + 1) / 2 runs */
	if (a + (s->nx + 1) / 2 > L->cap) {
		int64_t cap = L->cap * 2 + (s->nx + 1) / 2;
		struct lesion_run *nr = lesion_realloc_large(s->runs, sizeof(*nr) * (size_t)L->cap,
							     sizeof(*nr) * (size_t)cap);
		if (!nr)
			return -1;
		s->runs = nr;
		int64_t *np = lesion_realloc_large(s->parent, sizeof(*np) * (size_t)L->cap,
						   sizeof(*np) * (size_t)cap);
		if (!np)
			return -1;
		s->parent = np;
		L->cap = cap;
	}
	const int64_t k = scan_row(row, s->nx, 0, s->runs + a);
	s->n_runs = a + k;
	s->row_start[r + 1] = a + k;
	*runs = s->runs + a;
	if (!k)
		return 0;
	for (int64_t i = a; i < a + k; i++)
		s->parent[i] = i;
	const int64_t j = r % s->ny, kk = r / s->ny;
	for (int o = 0; o < L->n_off; o++) {
		int64_t jj = j + L->off[o].dj, k2 = kk + L->off[o].dk;
		if (jj < 0 || jj >= s->ny || k2 < 0)
			continue;
		int64_t rr = jj + s->ny * k2;
		join_rows(s->runs, s->parent, a, a + k, s->row_start[rr], s->row_start[rr + 1],
			  L->off[o].reach);
	}
	return k;
}

void lesion_row_labeller_add_empty_rows(struct lesion_row_labeller *L, int64_t n)
{
	struct runset *s = &L->s;
	for (int64_t i = 0; i < n && L->next_row < s->n_rows; i++)
		s->row_start[++L->next_row] = s->n_runs;
}

enum lesion_status lesion_row_labeller_finish(struct lesion_row_labeller *L,
					      struct lesion_components *out,
					      struct lesion_error *err)
{
	struct runset *s = &L->s;
	const int64_t dim[3] = {s->nx, s->ny, s->nz};
	memset(out, 0, sizeof(*out));
	if (L->next_row != s->n_rows) {
		lesion_row_labeller_free(L);
		return lesion_error_set(err, LESION_ERR_INTERNAL,
					"labelling finished before its last row");
	}
	enum lesion_status st = components_from_runset(s, dim, L->connectivity, out, err);
	free(L);
	return st;
}

void lesion_row_labeller_free(struct lesion_row_labeller *L)
{
	if (!L)
		return;
	runset_release(&L->s);
	free(L);
}

enum lesion_status lesion_components_label(const uint8_t *mask,
					   const int64_t dim[3],
					   int connectivity,
					   struct lesion_components *out,
					   struct lesion_error *err)
{
	const struct row_input in = {mask, 0};
	return label_input(&in, dim, connectivity, out, err);
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
	const struct row_input in = {mask, 1};
	enum lesion_status st = runset_build(&s, &in, dim, 6, err);
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
