/* sim_anatomy.c: a synthetic adult head for FLAIR-like images: scalp, skull,
 * CSF, folded cortex, white matter, deep grey nuclei, ventricles, cerebellum
 * and brainstem, built from smooth implicit shapes and value noise in a
 * template space that is scaled to the field of view. */
#include "simulate_internal.h"

#include <math.h>
#include <stdlib.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would change the bits */
#endif

/* Half the field of view of the template head (MNI's 182x218x182 mm). */
static const double template_half_mm[3] = {91.0, 109.0, 91.0};

void sim_grid_init(struct sim_grid *g, const struct lesion_sim_params *p)
{
	g->n_voxels = 1;
	g->voxel_volume_mm3 = 1.0;
	g->scale = INFINITY;
	for (int a = 0; a < 3; a++) {
		g->dim[a] = p->dim[a];
		g->voxel_mm[a] = p->voxel_size_mm[a];
		g->n_voxels *= p->dim[a];
		/* the order of the reader's product, so volumes match exactly */
		g->voxel_volume_mm3 *= p->voxel_size_mm[a];
		double s = 0.5 * (double)p->dim[a] * p->voxel_size_mm[a] / template_half_mm[a];
		if (s < g->scale)
			g->scale = s; /* the same scale on every axis keeps the shape */
	}
}

void sim_grid_affine(const struct sim_grid *g, double m[4][4])
{
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			m[r][c] = 0.0;
	/* RAS, world origin at the centre of the field of view */
	for (int a = 0; a < 3; a++) {
		m[a][a] = g->voxel_mm[a];
		m[a][3] = -0.5 * (double)(g->dim[a] - 1) * g->voxel_mm[a];
	}
	m[3][3] = 1.0;
}

enum { F_DEFORM, F_FOLD1, F_FOLD2, F_DEPTH, F_FOLIA, F_TEXTURE, F_WOBBLE, N_FIELDS };

struct sim_anatomy {
	const struct sim_grid *g;
	double cy, cz;          /* head centre, template mm */
	double rc, rs;          /* tilt (pitch) as cosine and sine */
	double size;            /* brain size factor */
	double cer_r[3];        /* cerebrum radii */
	double vent;            /* ventricle size factor: grows with age */
	double csf_mm;          /* subarachnoid CSF width: grows with age */
	double sulcus_w;        /* sulcal CSF half-width in noise units */
	double gm, wm, csf, deep;
	struct sim_noise field[N_FIELDS];
	struct sim_noise bias;
	double bias_amp, bias_gy, bias_gz;
};

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

struct sim_anatomy *sim_anatomy_alloc(const struct sim_grid *g,
				      struct sim_rng *rng, int age)
{
	struct sim_anatomy *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->g = g;
	double old = clamp(((double)age - 70.0) / 20.0, -2.0, 1.5);
	a->size = clamp(1.0 + 0.04 * sim_rng_normal(rng), 0.9, 1.1);
	a->cy = 2.0 * sim_rng_normal(rng);
	a->cz = 2.0 * sim_rng_normal(rng);
	/* an exact rotation from t = tan(angle / 2), no trigonometry */
	double t = clamp(0.03 * sim_rng_normal(rng), -0.08, 0.08);
	a->rc = (1.0 - t * t) / (1.0 + t * t);
	a->rs = 2.0 * t / (1.0 + t * t);
	static const double r0[3] = {67.0, 86.0, 60.0};
	for (int i = 0; i < 3; i++)
		a->cer_r[i] = r0[i] * a->size * (1.0 + 0.025 * sim_rng_normal(rng));
	a->vent = clamp(1.0 + 0.25 * old + 0.1 * sim_rng_normal(rng), 0.6, 1.7);
	a->csf_mm = clamp(2.0 + 0.8 * old + 0.3 * sim_rng_normal(rng), 1.0, 4.0);
	a->sulcus_w = clamp(0.03 + 0.01 * old, 0.012, 0.05);
	a->gm = 1.28 + 0.03 * sim_rng_normal(rng);
	a->wm = 1.0;
	a->csf = 0.22 + 0.03 * sim_rng_normal(rng);
	a->deep = 1.09 + 0.02 * sim_rng_normal(rng);
	static const double spacing[N_FIELDS] = {38.0, 11.0, 5.5, 30.0, 8.0, 5.0, 25.0};
	for (int i = 0; i < N_FIELDS; i++)
		sim_noise_init(&a->field[i], sim_rng_seed(rng), spacing[i]);
	sim_noise_init(&a->bias, sim_rng_seed(rng), 85.0);
	a->bias_amp = 0.35 + 0.1 * sim_rng_uniform(rng);
	a->bias_gy = 0.06 * sim_rng_normal(rng);
	a->bias_gz = 0.08 + 0.04 * sim_rng_normal(rng);
	return a;
}

void sim_anatomy_free(struct sim_anatomy *a)
{
	free(a);
}

double sim_anatomy_size(const struct sim_anatomy *a)
{
	return a->size;
}

void sim_anatomy_to_head(const struct sim_anatomy *a, const double q[3], double p[3])
{
	double y = q[1] - a->cy, z = q[2] - a->cz;
	p[0] = q[0];
	p[1] = a->rc * y + a->rs * z;
	p[2] = -a->rs * y + a->rc * z;
}

void sim_anatomy_from_head(const struct sim_anatomy *a, const double p[3], double q[3])
{
	q[0] = p[0];
	q[1] = a->rc * p[1] - a->rs * p[2] + a->cy;
	q[2] = a->rs * p[1] + a->rc * p[2] + a->cz;
}

static double bias_at(const struct sim_anatomy *a, double noise, double qy, double qz)
{
	return 1.0 + a->bias_amp * noise + a->bias_gy * qy / 109.0 + a->bias_gz * qz / 91.0;
}

double sim_anatomy_bias(const struct sim_anatomy *a, const double q[3])
{
	return bias_at(a, sim_noise_at(&a->bias, q[0], q[1], q[2]), q[1], q[2]);
}

/* Approximate signed distance (mm) to an axis-aligned ellipsoid at c. */
static double sd_ellipsoid(double x, double y, double z, const double c[3],
			   double rx, double ry, double rz)
{
	double ax = (x - c[0]) / rx, ay = (y - c[1]) / ry, az = (z - c[2]) / rz;
	double k0 = sqrt(ax * ax + ay * ay + az * az);
	double bx = ax / rx, by = ay / ry, bz = az / rz;
	double k1 = sqrt(bx * bx + by * by + bz * bz);
	if (k1 < 1e-12)
		return -fmin(rx, fmin(ry, rz));
	return k0 * (k0 - 1.0) / k1;
}

/* Signed distance to a capsule from a to b of radius r. */
static double sd_capsule(const double p[3], const double a[3], const double b[3],
			 double r)
{
	double pa[3], ba[3], dot_pb = 0.0, dot_bb = 0.0;
	for (int i = 0; i < 3; i++) {
		pa[i] = p[i] - a[i];
		ba[i] = b[i] - a[i];
		dot_pb += pa[i] * ba[i];
		dot_bb += ba[i] * ba[i];
	}
	double h = clamp(dot_pb / dot_bb, 0.0, 1.0);
	double s = 0.0;
	for (int i = 0; i < 3; i++) {
		double d = pa[i] - ba[i] * h;
		s += d * d;
	}
	return sqrt(s) - r;
}

/* Smooth minimum: shapes blend over k mm instead of meeting in a crease. */
static double smin(double a, double b, double k)
{
	double h = clamp(0.5 + 0.5 * (b - a) / k, 0.0, 1.0);
	return b + (a - b) * h - k * h * (1.0 - h);
}

/* Squared normalised distance to an ellipsoid (< 1 inside). */
static double in_ellipsoid(const double p[3], double cx, double cy, double cz,
			   double rx, double ry, double rz)
{
	double x = (p[0] - cx) / rx, y = (p[1] - cy) / ry, z = (p[2] - cz) / rz;
	return x * x + y * y + z * z;
}

/* Lateral ventricles (arched, diverging backwards) and third ventricle:
 * the smallest squared normalised distance. */
static double ventricles(const struct sim_anatomy *a, const double p[3])
{
	double s = a->size, v = a->vent;
	double yv = (p[1] - 8.0 * s) / (30.0 * s);
	double arch = 1.0 - yv * yv;
	double zc = (-3.0 + 7.0 * arch) * s;
	double xc = (5.5 - 0.1 * (p[1] / s - 8.0)) * s;
	double best = in_ellipsoid(p, 0.0, 5.0 * s, -18.0 * s, 1.2 * v, 11.0 * s, 9.0 * s);
	if (fabs(p[0]) > 0.9) { /* septum pellucidum between the two */
		double e = in_ellipsoid(p, p[0] > 0 ? xc : -xc, 8.0 * s, zc,
					4.5 * s * v, 30.0 * s, 6.5 * s * v);
		best = fmin(best, e);
	}
	return best;
}

static double cerebrum(const struct sim_anatomy *a, const double p[3], double depth,
		       const double *n, int *parenchyma)
{
	double s = a->size;
	double tex = 1.0 + 0.03 * n[F_TEXTURE];
	/* interhemispheric fissure, down to the arch of the corpus callosum */
	double yc = (p[1] - 6.0 * s) / (36.0 * s);
	double callosum_top = yc * yc < 1.0 ? (8.0 + 7.0 * (1.0 - yc * yc)) * s : -1e9;
	double ax = fabs(p[0] - 0.5 * n[F_WOBBLE]);
	if (callosum_top > -1e8 && fabs(p[0]) < 3.0 * s && p[2] <= callosum_top) {
		/* midline below the fissure: callosum, septal ventricle, diencephalon */
		*parenchyma = p[2] > callosum_top - 6.0 * s;
		if (*parenchyma)
			return a->wm * tex;
		if (p[2] > -8.0 * s && fabs(p[0]) < 0.5)
			return a->wm * tex; /* septum pellucidum */
		if (in_ellipsoid(p, 0.0, 0.0, -18.0 * s, 3.0 * s, 20.0 * s, 14.0 * s) < 1.0)
			return ventricles(a, p) < 1.0 ? a->csf : a->deep * tex;
	}
	if (p[2] > callosum_top) {
		if (ax < 0.4)
			return a->csf;
		depth = fmin(depth, ax - 0.4); /* the medial surface has a cortex too */
	}
	double e = ventricles(a, p);
	if (e < 1.0)
		return a->csf;
	*parenchyma = 1;
	/* sulci: thin sheets where the folding field crosses zero */
	double sulcal_depth = (13.0 + 10.0 * n[F_DEPTH]) * s;
	if (depth < sulcal_depth) {
		double f = fabs(0.65 * n[F_FOLD1] + 0.35 * n[F_FOLD2]);
		if (f < a->sulcus_w) {
			*parenchyma = 0;
			return a->csf;
		}
		if (f < a->sulcus_w + 0.13)
			return a->gm * tex;
	}
	if (depth < 3.0)
		return a->gm * tex;
	double side = p[0] > 0 ? 1.0 : -1.0;
	if (in_ellipsoid(p, side * 10.0 * s, -1.0 * s, -11.0 * s, 8.0 * s, 13.0 * s, 8.0 * s) < 1.0 ||
	    in_ellipsoid(p, side * 22.0 * s, 16.0 * s, -14.0 * s, 6.0 * s, 13.0 * s, 9.0 * s) < 1.0 ||
	    in_ellipsoid(p, side * 12.0 * s, 27.0 * s, -1.0 * s, 4.5 * s, 9.0 * s, 7.0 * s) < 1.0)
		return a->deep * tex;
	if (e < 1.5)
		return 1.2 * tex; /* periventricular caps */
	return a->wm * tex;
}

/* Cerebellum: folia as thin laminae parallel to its surface. */
static double cerebellum(const struct sim_anatomy *a, double depth, const double *n)
{
	double s = a->size;
	double tex = 1.0 + 0.03 * n[F_TEXTURE];
	double u = depth / (2.6 * s) + 2.0 * n[F_FOLIA];
	double tri = fabs(u - floor(u) - 0.5);
	if (depth < 13.0 * s && tri < 0.07)
		return a->csf;
	if (depth < 1.5 || (depth < 13.0 * s && tri < 0.28))
		return 1.2 * tex;
	return 0.98 * tex;
}

/* FLAIR intensity (white matter 1, before the bias field) at head point p. */
static double tissue(const struct sim_anatomy *a, const double p[3], const double *n,
		     int *parenchyma, int *brain)
{
	double s = a->size;
	const double *r = a->cer_r;
	*parenchyma = 0;
	*brain = 1;
	/* cerebrum: an egg, narrower in front, flat underneath, with temporal lobes */
	double rx = r[0] * (1.0 - 0.07 * clamp(p[1] / r[1], -1.0, 1.0));
	double rz = p[2] < 0.0 ? 0.8 * r[2] : r[2];
	static const double origin[3] = {0.0, 0.0, 0.0};
	double d = sd_ellipsoid(p[0], p[1], p[2], origin, rx, r[1], rz);
	double tl[3] = {(p[0] > 0 ? 44.0 : -44.0) * s, 12.0 * s, -24.0 * s};
	double dt = sd_ellipsoid(p[0], p[1], p[2], tl, 22.0 * s, 33.0 * s, 21.0 * s);
	double d_cer = smin(d, dt, 8.0) + 3.5 * n[F_DEFORM];
	double cb[3] = {0.0, -62.0 * s, -42.0 * s};
	double d_cb = sd_ellipsoid(p[0], p[1], p[2], cb, 50.0 * s, 28.0 * s, 19.0 * s) +
		      2.0 * n[F_DEFORM];
	double bs_a[3] = {0.0, -12.0 * s, -15.0 * s}, bs_b[3] = {0.0, -34.0 * s, -150.0 * s};
	double d_bs = sd_capsule(p, bs_a, bs_b, 11.0 * s);
	double tex = n[F_TEXTURE];

	if (d_cer < 0.0 && d_cb < 0.0 && fabs(d_cer - d_cb) < 0.8)
		return a->csf; /* the tentorium between cerebrum and cerebellum */
	if (d_cer < 0.0 && d_cer <= d_cb && d_cer <= d_bs)
		return cerebrum(a, p, -d_cer, n, parenchyma);
	if (d_cb < 0.0 && d_cb <= d_bs)
		return cerebellum(a, -d_cb, n);
	/* brain extraction keeps the brainstem down to the foramen magnum */
	*brain = p[2] > -70.0 * s;
	if (d_bs < 0.0)
		return 1.05 * (1.0 + 0.03 * tex);
	/* outside the brain: CSF, skull (tables and marrow), fat, skin, neck */
	double hull = smin(d_cer, d_cb, 12.0);
	double c = a->csf_mm * (1.0 + 0.6 * n[F_DEPTH]);
	if (hull < c || d_bs < 1.5)
		return a->csf;
	*brain = 0;
	double sh = hull - c;
	if (sh < 1.2)
		return 0.10;
	if (sh < 4.5)
		return 0.55 * (1.0 + 0.15 * tex);
	if (sh < 6.0)
		return 0.10;
	if (sh < 9.0)
		return 1.25 * (1.0 + 0.10 * tex);
	if (sh < 11.0)
		return 0.70 * (1.0 + 0.10 * tex);
	double na[3] = {0.0, -20.0 * s, -75.0 * s}, nb[3] = {0.0, -25.0 * s, -260.0 * s};
	if (sd_capsule(p, na, nb, 50.0 * s) < 0.0)
		return 0.55 * (1.0 + 0.10 * tex);
	return 0.0;
}

/* Half-width (template mm) of the head along x at head (y, z): a generous
 * bound (shapes, noise, CSF and scalp included); everything outside is air. */
static double head_half_width(const struct sim_anatomy *a, double y, double z)
{
	const double m = 28.0, s = a->size;
	double w = -1.0;
	double ey = y / (a->cer_r[1] + m), ez = z / (a->cer_r[2] + m);
	double t = 1.0 - ey * ey - ez * ez;
	if (t > 0.0)
		w = (1.07 * a->cer_r[0] + m) * sqrt(t);
	ey = (y + 62.0 * s) / (28.0 * s + m);
	ez = (z + 42.0 * s) / (19.0 * s + m);
	t = 1.0 - ey * ey - ez * ez;
	if (t > 0.0)
		w = fmax(w, (50.0 * s + m) * sqrt(t));
	if (z < -30.0 * s && fabs(y + 22.0 * s) < 56.0 * s)
		w = fmax(w, 56.0 * s); /* the neck */
	return w;
}

/* Samples per voxel along each axis: thin structures (cortex, sulci, skull
 * tables) are averaged over the voxel when voxels are coarse. */
static int supersampling(const struct sim_grid *g, int axis)
{
	double r = g->voxel_mm[axis] / g->scale / 1.01;
	int n = (int)ceil(r);
	return n < 1 ? 1 : (n > 2 ? 2 : n);
}

enum lesion_status sim_anatomy_render(const struct sim_anatomy *a, float *image,
				      uint8_t *flags)
{
	const struct sim_grid *g = a->g;
	int64_t nx = g->dim[0];
	int ss[3];
	for (int i = 0; i < 3; i++)
		ss[i] = supersampling(g, i);
	int64_t nsx = nx * ss[0];
	int n_sub = ss[0] * ss[1] * ss[2];
	double *buf = malloc(sizeof(double) * (size_t)(nsx * (N_FIELDS + 1) + nx * 3));
	int *count = malloc(sizeof(int) * (size_t)nx * 2);
	if (!buf || !count) {
		free(buf);
		free(count);
		return LESION_ERR_INTERNAL;
	}
	double *xs = buf;                       /* sample x, template mm */
	double *fields = xs + nsx;              /* N_FIELDS rows of noise */
	double *xv = fields + nsx * N_FIELDS;   /* voxel-centre x */
	double *acc = xv + nx;
	double *bias = acc + nx;
	for (int64_t i = 0; i < nsx; i++)
		xs[i] = sim_grid_coord(g, 0, (double)(i / ss[0]) +
				       ((double)(i % ss[0]) + 0.5) / ss[0] - 0.5);
	for (int64_t i = 0; i < nx; i++)
		xv[i] = sim_grid_coord(g, 0, (double)i);

	for (int64_t k = 0; k < g->dim[2]; k++) {
		for (int64_t j = 0; j < g->dim[1]; j++) {
			for (int64_t i = 0; i < nx; i++) {
				acc[i] = 0.0;
				count[i] = count[nx + i] = 0;
			}
			for (int sz = 0; sz < ss[2]; sz++) {
				for (int sy = 0; sy < ss[1]; sy++) {
					double q[3], p[3], n[N_FIELDS];
					q[1] = sim_grid_coord(g, 1, (double)j + (sy + 0.5) / ss[1] - 0.5);
					q[2] = sim_grid_coord(g, 2, (double)k + (sz + 0.5) / ss[2] - 0.5);
					q[0] = 0.0;
					sim_anatomy_to_head(a, q, p);
					double w = head_half_width(a, p[1], p[2]);
					int64_t i0 = 0, i1 = nsx;
					while (i0 < i1 && xs[i0] < -w)
						i0++;
					while (i1 > i0 && xs[i1 - 1] > w)
						i1--;
					for (int f = 0; f < N_FIELDS; f++)
						sim_noise_row(&a->field[f], xs + i0, i1 - i0, q[1],
							      q[2], fields + f * nsx + i0);
					for (int64_t i = i0; i < i1; i++) {
						q[0] = xs[i];
						sim_anatomy_to_head(a, q, p);
						for (int f = 0; f < N_FIELDS; f++)
							n[f] = fields[f * nsx + i];
						int par, brain;
						acc[i / ss[0]] += tissue(a, p, n, &par, &brain);
						count[i / ss[0]] += par;
						count[nx + i / ss[0]] += brain;
					}
				}
			}
			double qy = sim_grid_coord(g, 1, (double)j);
			double qz = sim_grid_coord(g, 2, (double)k);
			sim_noise_row(&a->bias, xv, nx, qy, qz, bias);
			int64_t v0 = nx * (j + g->dim[1] * k);
			for (int64_t i = 0; i < nx; i++) {
				image[v0 + i] = (float)(acc[i] / n_sub * bias_at(a, bias[i], qy, qz));
				flags[v0 + i] = (uint8_t)((2 * count[i] >= n_sub ? SIM_PARENCHYMA : 0) |
							  (2 * count[nx + i] >= n_sub ? SIM_BRAIN : 0));
			}
		}
	}
	free(buf);
	free(count);
	return LESION_OK;
}
