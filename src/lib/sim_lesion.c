/* sim_lesion.c: infarcts that look like infarcts: a few noise-perturbed blobs
 * (and sometimes satellites) in one vascular territory of one hemisphere,
 * confined to parenchyma; each session thresholds one shared potential at the
 * level that gives its volume, so later lesions grow and shrink around the
 * earlier ones the way real ones do. */
#include "simulate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/components.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would change the bits */
#endif

#define MAX_BLOBS 10

struct blob {
	double c[3];      /* centre, head coordinates */
	double m[3][3];   /* d = |m (p - c)| is 1 on the blob's surface */
	double height;
	double reach;     /* radius of a sphere holding everything it adds */
};

struct sim_lesion {
	const struct sim_grid *g;
	const struct sim_anatomy *a;
	int side;
	int n_blobs;
	struct blob blobs[MAX_BLOBS];
	double rho;                 /* radius of the acute volume, template mm */
	double edge;                /* soft edge of the FLAIR signal */
	int64_t min_keep;           /* smaller specks are dropped */
	int64_t lo[3], n[3], n_box; /* the box that holds every session */
	float *base;                /* potential, shared by the sessions */
	float *bias;
	uint8_t *ok;                /* parenchyma on the lesion's side */
	float *fs, *select;         /* one session's potential, a scratch copy */
	uint8_t *inside;            /* one session's lesion before cleaning */
	int32_t *label;             /* its components */
};

/* Vascular territories, right hemisphere, head coordinates (template mm). */
static const struct territory {
	double c[3], spread[3];
} territories[] = {
	{{46.0, 4.0, 0.0}, {8.0, 18.0, 14.0}},    /* middle cerebral artery */
	{{9.0, 36.0, 30.0}, {3.0, 14.0, 10.0}},   /* anterior cerebral artery */
	{{20.0, -60.0, -10.0}, {6.0, 9.0, 8.0}},  /* posterior cerebral artery */
	{{21.0, 14.0, -10.0}, {4.0, 8.0, 6.0}},   /* deep perforators (lacunes) */
};

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* Cube root by Newton's method: libm's cbrt is not correctly rounded. */
static double cube_root(double v)
{
	int e;
	frexp(v, &e);
	double x = ldexp(1.0, e / 3);
	for (int i = 0; i < 60; i++)
		x = (2.0 * x + v / (x * x)) / 3.0;
	return x;
}

static int pick(struct sim_rng *rng, const double *p, int n)
{
	double u = sim_rng_uniform(rng), s = 0.0;
	for (int i = 0; i < n - 1; i++) {
		s += p[i];
		if (u < s)
			return i;
	}
	return n - 1;
}

/* A blob of radii r[] at c, randomly turned (a uniform random rotation from a
 * normalised Gaussian quaternion: no trigonometry). */
static void make_blob(struct blob *b, struct sim_rng *rng, const double c[3],
		      const double r[3], double height)
{
	double q[4], nq = 0.0;
	for (int i = 0; i < 4; i++) {
		q[i] = sim_rng_normal(rng);
		nq += q[i] * q[i];
	}
	nq = sqrt(nq);
	for (int i = 0; i < 4; i++)
		q[i] /= nq;
	double w = q[0], x = q[1], y = q[2], z = q[3];
	double rot[3][3] = {
		{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
		{2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
		{2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)},
	};
	double rmax = 0.0;
	for (int i = 0; i < 3; i++) {
		b->c[i] = c[i];
		for (int j = 0; j < 3; j++)
			b->m[i][j] = rot[j][i] / r[i]; /* row i: axis i of the blob */
		rmax = fmax(rmax, r[i]);
	}
	b->height = height;
	b->reach = 1.9 * rmax + 2.0;
}

static double blob_distance(const struct blob *b, const double p[3])
{
	double d[3] = {p[0] - b->c[0], p[1] - b->c[1], p[2] - b->c[2]}, s = 0.0;
	for (int i = 0; i < 3; i++) {
		double t = b->m[i][0] * d[0] + b->m[i][1] * d[1] + b->m[i][2] * d[2];
		s += t * t;
	}
	return sqrt(s);
}

static void random_direction(struct sim_rng *rng, double u[3])
{
	double n = 0.0;
	for (int i = 0; i < 3; i++) {
		u[i] = sim_rng_normal(rng);
		n += u[i] * u[i];
	}
	n = sqrt(n) + 1e-12;
	for (int i = 0; i < 3; i++)
		u[i] /= n;
}

static void plan_blobs(struct sim_lesion *l, struct sim_rng *rng, double volume,
		       double size)
{
	/* small infarcts are mostly lacunes, large ones mostly MCA */
	static const double p_small[4] = {0.30, 0.07, 0.08, 0.55};
	static const double p_mid[4] = {0.60, 0.10, 0.15, 0.15};
	static const double p_large[4] = {0.80, 0.10, 0.10, 0.00};
	const double *pt = volume < 1500.0 ? p_small : (volume < 20000.0 ? p_mid : p_large);
	const struct territory *t = &territories[pick(rng, pt, 4)];
	l->side = sim_rng_uniform(rng) < 0.5 ? 1 : -1;
	l->rho = cube_root(3.0 * volume / (4.0 * 3.14159265358979323846));

	static const double p_count[4] = {0.35, 0.35, 0.20, 0.10};
	int m = volume < 1500.0 ? 1 : 1 + pick(rng, p_count, 4);
	double c0[3];
	for (int i = 0; i < 3; i++)
		c0[i] = (t->c[i] + t->spread[i] * clamp(sim_rng_normal(rng), -1.5, 1.5)) * size;
	c0[0] = l->side * fmax(fabs(c0[0]), 6.0);
	double rk = l->rho * 1.1 / cube_root((double)m);
	for (int k = 0; k < m; k++) {
		double c[3], r[3], u[3];
		random_direction(rng, u);
		for (int i = 0; i < 3; i++) {
			c[i] = c0[i] + (k ? 0.7 * l->rho * u[i] : 0.0);
			r[i] = rk * (1.0 + 0.25 * clamp(sim_rng_normal(rng), -1.6, 1.6));
		}
		make_blob(&l->blobs[l->n_blobs++], rng, c, r,
			  0.9 + 0.2 * sim_rng_uniform(rng));
	}
	/* satellites: small separate pieces nearby, as after embolic showers */
	if (volume >= 1500.0 && sim_rng_uniform(rng) < 0.35) {
		int ns = 1 + sim_rng_int(rng, 4);
		for (int k = 0; k < ns && l->n_blobs < MAX_BLOBS; k++) {
			double c[3], r[3], u[3];
			random_direction(rng, u);
			double dist = l->rho * (1.3 + 1.2 * sim_rng_uniform(rng));
			double rs = fmax(l->rho * (0.18 + 0.2 * sim_rng_uniform(rng)), 2.5);
			for (int i = 0; i < 3; i++) {
				c[i] = c0[i] + dist * u[i];
				r[i] = rs * (1.0 + 0.2 * clamp(sim_rng_normal(rng), -1.5, 1.5));
			}
			c[0] = l->side * fmax(fabs(c[0]), 4.0);
			make_blob(&l->blobs[l->n_blobs++], rng, c, r,
				  0.6 + 0.4 * sim_rng_uniform(rng));
		}
	}
}

/* The box of voxels that any session may use: every blob's reach, on the
 * lesion's side of the midline, inside the grid. */
static void plan_box(struct sim_lesion *l)
{
	const struct sim_grid *g = l->g;
	double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
	for (int b = 0; b < l->n_blobs; b++) {
		double q[3];
		sim_anatomy_from_head(l->a, l->blobs[b].c, q);
		for (int i = 0; i < 3; i++) {
			lo[i] = fmin(lo[i], q[i] - l->blobs[b].reach);
			hi[i] = fmax(hi[i], q[i] + l->blobs[b].reach);
		}
	}
	if (l->side > 0)
		lo[0] = fmax(lo[0], 0.0);
	else
		hi[0] = fmin(hi[0], 0.0);
	l->n_box = 1;
	for (int i = 0; i < 3; i++) {
		double step = g->voxel_mm[i] / g->scale;
		double c = 0.5 * (double)(g->dim[i] - 1);
		double a = floor(lo[i] / step + c), b = ceil(hi[i] / step + c);
		a = clamp(a, 0.0, (double)(g->dim[i] - 1));
		b = clamp(b, 0.0, (double)(g->dim[i] - 1));
		l->lo[i] = (int64_t)a;
		l->n[i] = (int64_t)b - (int64_t)a + 1;
		l->n_box *= l->n[i];
	}
}

struct sim_lesion *sim_lesion_alloc(const struct sim_grid *g,
				    const struct sim_anatomy *a,
				    const uint8_t *flags, struct sim_rng *rng,
				    double acute_mm3)
{
	struct sim_lesion *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->g = g;
	l->a = a;
	plan_blobs(l, rng, acute_mm3, sim_anatomy_size(a));
	struct sim_noise shape1, shape2;
	sim_noise_init(&shape1, sim_rng_seed(rng), fmax(0.8 * l->rho, 4.0));
	sim_noise_init(&shape2, sim_rng_seed(rng), fmax(0.35 * l->rho, 2.5));
	plan_box(l);
	double vt = (g->voxel_mm[0] + g->voxel_mm[1] + g->voxel_mm[2]) / (3.0 * g->scale);
	l->edge = 1.5 * vt / l->rho;
	double vox_per_mm3 = g->scale * g->scale * g->scale / g->voxel_volume_mm3;
	l->min_keep = (int64_t)ceil(8.0 * vox_per_mm3);
	if (l->min_keep < 2)
		l->min_keep = 2;

	size_t n = (size_t)l->n_box;
	l->base = malloc(n * sizeof(float));
	l->bias = malloc(n * sizeof(float));
	l->ok = malloc(n);
	l->fs = malloc(n * sizeof(float));
	l->select = malloc(n * sizeof(float));
	l->inside = malloc(n);
	l->label = malloc(n * sizeof(int32_t));
	if (!l->base || !l->bias || !l->ok || !l->fs || !l->select || !l->inside || !l->label) {
		sim_lesion_free(l);
		return NULL;
	}
	int64_t b = 0;
	for (int64_t k = 0; k < l->n[2]; k++)
		for (int64_t j = 0; j < l->n[1]; j++)
			for (int64_t i = 0; i < l->n[0]; i++, b++) {
				int64_t gi = l->lo[0] + i, gj = l->lo[1] + j, gk = l->lo[2] + k;
				double q[3] = {sim_grid_coord(g, 0, (double)gi),
					       sim_grid_coord(g, 1, (double)gj),
					       sim_grid_coord(g, 2, (double)gk)}, p[3];
				int64_t v = gi + g->dim[0] * (gj + g->dim[1] * gk);
				l->ok[b] = (flags[v] & SIM_PARENCHYMA) && q[0] * l->side > 1.0;
				sim_anatomy_to_head(a, q, p);
				double f = -1e30;
				for (int c = 0; c < l->n_blobs; c++) {
					const struct blob *bl = &l->blobs[c];
					f = fmax(f, bl->height * (1.0 - blob_distance(bl, p)));
				}
				f += 0.45 * (0.7 * sim_noise_at(&shape1, q[0], q[1], q[2]) +
					     0.3 * sim_noise_at(&shape2, q[0], q[1], q[2]));
				l->base[b] = (float)f;
				l->bias[b] = (float)sim_anatomy_bias(a, q);
			}
	return l;
}

void sim_lesion_free(struct sim_lesion *l)
{
	if (!l)
		return;
	free(l->base);
	free(l->bias);
	free(l->ok);
	free(l->fs);
	free(l->select);
	free(l->inside);
	free(l->label);
	free(l);
}

int sim_lesion_side(const struct sim_lesion *l)
{
	return l->side;
}

/* The k-th largest (0-based) of v[0..n), by quickselect (v is reordered). */
static float kth_largest(float *v, int64_t n, int64_t k)
{
	int64_t lo = 0, hi = n - 1;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		/* median of three as pivot */
		float a = v[lo], b = v[mid], c = v[hi];
		float pivot = (a > b) ? ((b > c) ? b : (a > c ? c : a))
				      : ((a > c) ? a : (b > c ? c : b));
		int64_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] > pivot)
				i++;
			while (v[j] < pivot)
				j--;
			if (i <= j) {
				float t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

/* FLAIR signal of the lesion: bright when acute, brighter with oedema, and
 * chronic lesions turn into a CSF-like cavity inside a bright gliotic rim. */
static double lesion_signal(int days, double depth, double texture)
{
	double s;
	if (days <= 3)
		s = 1.75;
	else if (days <= 30)
		s = 1.95;
	else
		s = 1.75 - 1.2 * clamp((depth - 0.25) / 0.35, 0.0, 1.0);
	return s * (1.0 + 0.1 * texture);
}

enum lesion_status sim_lesion_session(struct sim_lesion *l, struct sim_rng *rng,
				      int64_t target_voxels, int days,
				      uint8_t *mask, float *image,
				      struct sim_lesion_result *res)
{
	const struct sim_grid *g = l->g;
	struct sim_noise pert;
	sim_noise_init(&pert, sim_rng_seed(rng), fmax(0.5 * l->rho, 3.0));
	const double amp = 0.12;
	int64_t n_cand = 0;
	int64_t b = 0;
	for (int64_t k = 0; k < l->n[2]; k++)
		for (int64_t j = 0; j < l->n[1]; j++)
			for (int64_t i = 0; i < l->n[0]; i++, b++) {
				if (!l->ok[b])
					continue;
				double x = sim_grid_coord(g, 0, (double)(l->lo[0] + i));
				double y = sim_grid_coord(g, 1, (double)(l->lo[1] + j));
				double z = sim_grid_coord(g, 2, (double)(l->lo[2] + k));
				l->fs[b] = (float)(l->base[b] + amp * sim_noise_at(&pert, x, y, z));
				l->select[n_cand++] = l->fs[b];
			}
	res->voxels = 0;
	res->n_components = 0;
	if (n_cand == 0)
		return LESION_OK;
	float t;
	if (target_voxels >= n_cand) {
		t = l->select[0];
		for (int64_t s = 1; s < n_cand; s++)
			t = fminf(t, l->select[s]);
		t -= 1.0f; /* every candidate is lesion */
	} else {
		t = kth_largest(l->select, n_cand, target_voxels);
	}
	for (b = 0; b < l->n_box; b++)
		l->inside[b] = l->ok[b] && l->fs[b] > t;
	/* the library's labelling (the one `measure` uses) gives the truth's
	 * component count; labels go by decreasing size, so dropping the specks
	 * is keeping the first labels */
	struct lesion_components comps;
	struct lesion_error err;
	enum lesion_status st = lesion_components_label(l->inside, l->n, 26, &comps, &err);
	if (st)
		return st;
	int64_t keep = 1;
	while (keep < comps.n_components && comps.voxels[keep] >= l->min_keep)
		keep++;
	lesion_components_truncate(&comps, keep);
	lesion_components_paint(&comps, l->label);
	res->n_components = comps.n_components;
	lesion_components_release(&comps);
	b = 0;
	for (int64_t k = 0; k < l->n[2]; k++)
		for (int64_t j = 0; j < l->n[1]; j++)
			for (int64_t i = 0; i < l->n[0]; i++, b++) {
				if (!l->ok[b])
					continue;
				int64_t v = (l->lo[0] + i) +
					    g->dim[0] * ((l->lo[1] + j) + g->dim[1] * (l->lo[2] + k));
				int kept = l->label[b] > 0;
				double depth = (double)l->fs[b] - (double)t;
				double m = clamp(0.5 + depth / l->edge, 0.0, 1.0);
				if (kept) {
					mask[v] = 1;
					res->voxels++;
				} else if (m > 0.45) {
					m = 0.45; /* a dropped speck stays below half signal */
				}
				double tex = ((double)l->fs[b] - (double)l->base[b]) / amp;
				double sig = lesion_signal(days, depth, tex) * l->bias[b];
				image[v] = (float)(image[v] * (1.0 - m) + sig * m);
			}
	return LESION_OK;
}
