/* simulate_internal.h: the pieces of the cohort generator (random streams,
 * smooth noise, anatomy, lesions), shared by the sim_*.c files only.
 *
 * Determinism: every value is made from integer hashing, IEEE-754 +, -, *,
 * / and sqrt (all correctly rounded), and our own sim_exp(), never libm's
 * transcendental functions, whose last bit may differ between machines. */
#ifndef LESIONVOL_SIMULATE_INTERNAL_H
#define LESIONVOL_SIMULATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lesionvol/simulate.h"

/* Independent random streams of one cohort, one per purpose. */
enum sim_stream {
	SIM_STREAM_BLOCK = 1,   /* group assignment of a block of participants */
	SIM_STREAM_SUBJECT,     /* age and lesion volumes */
	SIM_STREAM_ANATOMY,     /* head shape and tissue contrast */
	SIM_STREAM_LESION,      /* lesion territory and shape */
	SIM_STREAM_SESSION,     /* lesion boundary changes of one session */
	SIM_STREAM_NOISE,       /* image noise of one session */
};

/* xoshiro256** seeded through splitmix64 (Blackman and Vigna). */
struct sim_rng {
	uint64_t s[4];
};

/* sim_mix64() - splitmix64's finaliser: a bijective 64-bit hash. */
uint64_t sim_mix64(uint64_t z);

/* sim_rng_init() - the stream (@stream, @a, @b) of cohort seed @seed. */
void sim_rng_init(struct sim_rng *r, uint64_t seed, enum sim_stream stream,
		  uint64_t a, uint64_t b);
uint64_t sim_rng_next(struct sim_rng *r);
/* sim_rng_uniform() - uniform on [0, 1), 53 random bits. */
double sim_rng_uniform(struct sim_rng *r);
/* sim_rng_normal() - standard normal (sum of 12 uniforms; tails cut at 6). */
double sim_rng_normal(struct sim_rng *r);
/* sim_rng_int() - uniform integer in [0, @n). */
int sim_rng_int(struct sim_rng *r, int n);
/* sim_rng_seed() - a fresh 64-bit seed drawn from @r (for noise fields). */
uint64_t sim_rng_seed(struct sim_rng *r);

/* sim_normal_from_bits() - a cheap approximately normal deviate (mean 0,
 * sd 1, |z| < 3.47) from the four 16-bit quarters of @bits: image noise. */
static inline double sim_normal_from_bits(uint64_t bits)
{
	uint64_t s = (bits & 0xffff) + ((bits >> 16) & 0xffff) +
		     ((bits >> 32) & 0xffff) + (bits >> 48);
	return ((double)s - 131070.0) * (1.0 / 37837.22941);
}

/* sim_exp() - e^@x to within a few ulp, the same bits everywhere. */
double sim_exp(double x);

/*
 * struct sim_noise - smooth value noise: random values on a cubic lattice of
 * @spacing template mm, blended with a quintic fade (C2 smooth). Values in
 * [-1, 1], standard deviation about 0.3.
 */
struct sim_noise {
	uint64_t seed;
	double inv_spacing;
	double offset[3];
};

void sim_noise_init(struct sim_noise *n, uint64_t seed, double spacing);
/* sim_noise_at() - the value at template point (@x, @y, @z). */
double sim_noise_at(const struct sim_noise *n, double x, double y, double z);
/* sim_noise_row() - values at (@xs[i], @y, @z) for @count ascending @xs. */
void sim_noise_row(const struct sim_noise *n, const double *xs, int64_t count,
		   double y, double z, double *out);

/*
 * struct sim_grid - the image grid and its mapping to template space, the
 * millimetre space of an average adult head (RAS, origin at the centre of a
 * 182x218x182 mm field of view), scaled to fit the actual field of view.
 */
struct sim_grid {
	int64_t dim[3];
	int64_t n_voxels;
	double voxel_mm[3];
	double scale;            /* world mm per template mm */
	double voxel_volume_mm3;
};

/* sim_grid_init() - the grid of @p (already checked). */
void sim_grid_init(struct sim_grid *g, const struct lesion_sim_params *p);

/* sim_grid_coord() - template coordinate along @axis of (fractional) voxel
 * index @index. */
static inline double sim_grid_coord(const struct sim_grid *g, int axis, double index)
{
	return g->voxel_mm[axis] * (index - 0.5 * (double)(g->dim[axis] - 1)) / g->scale;
}

/* sim_grid_affine() - the voxel-to-world matrix written to every file. */
void sim_grid_affine(const struct sim_grid *g, double m[4][4]);

/* Flags of a voxel in the anatomy map. */
enum {
	SIM_PARENCHYMA = 1,     /* cerebral grey or white matter: may be lesion */
	SIM_BRAIN = 2,          /* inside the skull: kept by --skull-strip */
};

struct sim_anatomy; /* one subject's head, opaque */

/*
 * sim_anatomy_alloc() - draw the head of a subject aged @age from @rng.
 * sim_anatomy_render() - its bias-weighted FLAIR intensity (white matter 1)
 * into @image and its flags into @flags, both of g->n_voxels.
 * sim_anatomy_bias() - the bias field at template point @q.
 * sim_anatomy_to_head() - template (grid) coordinates to head coordinates
 * (the head is tilted), sim_anatomy_from_head() the inverse.
 */
struct sim_anatomy *sim_anatomy_alloc(const struct sim_grid *g,
				      struct sim_rng *rng, int age);
void sim_anatomy_free(struct sim_anatomy *a);
enum lesion_status sim_anatomy_render(const struct sim_anatomy *a, float *image,
				      uint8_t *flags);
double sim_anatomy_bias(const struct sim_anatomy *a, const double q[3]);
/* sim_anatomy_size() - the subject's brain size factor (about 1). */
double sim_anatomy_size(const struct sim_anatomy *a);
void sim_anatomy_to_head(const struct sim_anatomy *a, const double q[3], double p[3]);
void sim_anatomy_from_head(const struct sim_anatomy *a, const double p[3], double q[3]);

struct sim_lesion; /* one subject's infarct over time, opaque */

/*
 * sim_lesion_alloc() - plan the infarct of a subject whose acute volume is
 * @acute_mm3 (template mm^3) from @rng: its vascular territory, hemisphere
 * and shape, inside the parenchyma @flags of @a's head.
 */
struct sim_lesion *sim_lesion_alloc(const struct sim_grid *g,
				    const struct sim_anatomy *a,
				    const uint8_t *flags, struct sim_rng *rng,
				    double acute_mm3);
void sim_lesion_free(struct sim_lesion *l);

/* sim_lesion_side() - +1 for a right-hemisphere lesion, -1 for a left one. */
int sim_lesion_side(const struct sim_lesion *l);

/*
 * struct sim_lesion_result - one session's lesion: mask voxels (counted on
 * the mask as drawn) and its 26-connected components.
 */
struct sim_lesion_result {
	int64_t voxels;
	int64_t n_components;
};

/*
 * sim_lesion_session() - the lesion of one session with about @target_voxels
 * voxels: sets its voxels in @mask (zeroed by the caller) and blends its
 * FLAIR signal into @image (from sim_anatomy_render()); @days selects the
 * appearance (acute, subacute, chronic). @rng drives the boundary changes.
 */
enum lesion_status sim_lesion_session(struct sim_lesion *l, struct sim_rng *rng,
				      int64_t target_voxels, int days,
				      uint8_t *mask, float *image,
				      struct sim_lesion_result *res);

#endif
