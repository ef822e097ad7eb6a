/* sim_random.c: the generator's random streams, exponential and smooth
 * value noise, built only from integer hashing and correctly rounded IEEE
 * arithmetic so that the same seed gives the same bits on any machine. */
#include "simulate_internal.h"

#include <math.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would change the bits */
#endif

uint64_t sim_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

void sim_rng_init(struct sim_rng *r, uint64_t seed, enum sim_stream stream,
		  uint64_t a, uint64_t b)
{
	/* a chain of bijective mixes keeps distinct (seed, stream, a, b) apart */
	uint64_t h = sim_mix64(seed + GOLDEN);
	h = sim_mix64(h ^ ((uint64_t)stream * UINT64_C(0xd1b54a32d192ed03)));
	h = sim_mix64(h ^ ((a + 1) * UINT64_C(0xaef17502108ef2d9)));
	h = sim_mix64(h ^ ((b + 1) * UINT64_C(0xf58d6d2b5c6b1b2d)));
	for (int i = 0; i < 4; i++) {
		h += GOLDEN; /* splitmix64 */
		r->s[i] = sim_mix64(h);
	}
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double sim_rng_uniform(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

double sim_rng_normal(struct sim_rng *r)
{
	double s = 0.0;
	for (int i = 0; i < 12; i++)
		s += sim_rng_uniform(r);
	return s - 6.0;
}

int sim_rng_int(struct sim_rng *r, int n)
{
	return (int)(sim_rng_uniform(r) * n);
}

uint64_t sim_rng_seed(struct sim_rng *r)
{
	return sim_rng_next(r);
}

double sim_exp(double x)
{
	/* e^x = 2^k e^r with |r| <= ln2/2, e^r by its Taylor series (error
	 * below 1e-16 at degree 13); ldexp is exact */
	if (x > 700.0)
		x = 700.0;
	if (x < -700.0)
		return 0.0;
	static const double ln2_hi = 6.93147180369123816490e-01;
	static const double ln2_lo = 1.90821492927058770002e-10;
	double k = floor(x * 1.44269504088896338700 + 0.5);
	double r = (x - k * ln2_hi) - k * ln2_lo;
	double p = 1.0;
	for (int n = 13; n >= 1; n--)
		p = 1.0 + p * r / (double)n;
	return ldexp(p, (int)k);
}

void sim_noise_init(struct sim_noise *n, uint64_t seed, double spacing)
{
	n->seed = sim_mix64(seed);
	n->inv_spacing = 1.0 / spacing;
	/* a random shift so that fields do not share lattice planes */
	for (int i = 0; i < 3; i++)
		n->offset[i] = (double)(sim_mix64(seed + (uint64_t)(i + 1) * GOLDEN) >> 44);
}

static inline double lattice(const struct sim_noise *n, int64_t x, int64_t y, int64_t z)
{
	uint64_t h = n->seed ^ ((uint64_t)x * UINT64_C(0x9e3779b97f4a7c15)) ^
		     ((uint64_t)y * UINT64_C(0xc2b2ae3d27d4eb4f)) ^
		     ((uint64_t)z * UINT64_C(0x165667b19e3779f9));
	return (double)(sim_mix64(h) >> 11) * 0x1.0p-52 - 1.0;
}

static inline double fade(double t)
{
	return t * t * t * (t * (t * 6.0 - 15.0) + 10.0);
}

static inline double lerp(double a, double b, double t)
{
	return a + (b - a) * t;
}

/* The value at lattice column x, blended in y and z. */
static inline double column(const struct sim_noise *n, int64_t x, int64_t y,
			    int64_t z, double ty, double tz)
{
	double a = lerp(lattice(n, x, y, z), lattice(n, x, y + 1, z), ty);
	double b = lerp(lattice(n, x, y, z + 1), lattice(n, x, y + 1, z + 1), ty);
	return lerp(a, b, tz);
}

double sim_noise_at(const struct sim_noise *n, double x, double y, double z)
{
	double u = x * n->inv_spacing + n->offset[0];
	double v = y * n->inv_spacing + n->offset[1];
	double w = z * n->inv_spacing + n->offset[2];
	double fu = floor(u), fv = floor(v), fw = floor(w);
	int64_t iu = (int64_t)fu, iv = (int64_t)fv, iw = (int64_t)fw;
	double ty = fade(v - fv), tz = fade(w - fw);
	return lerp(column(n, iu, iv, iw, ty, tz), column(n, iu + 1, iv, iw, ty, tz),
		    fade(u - fu));
}

void sim_noise_row(const struct sim_noise *n, const double *xs, int64_t count,
		   double y, double z, double *out)
{
	double v = y * n->inv_spacing + n->offset[1];
	double w = z * n->inv_spacing + n->offset[2];
	double fv = floor(v), fw = floor(w);
	int64_t iv = (int64_t)fv, iw = (int64_t)fw;
	double ty = fade(v - fv), tz = fade(w - fw);
	/* xs ascend, so the lattice columns are visited in order: two at a time */
	int64_t cur = INT64_MIN;
	double c0 = 0.0, c1 = 0.0;
	for (int64_t i = 0; i < count; i++) {
		double u = xs[i] * n->inv_spacing + n->offset[0];
		double fu = floor(u);
		int64_t iu = (int64_t)fu;
		if (iu != cur) {
			if (iu == cur + 1 && cur != INT64_MIN) {
				c0 = c1;
			} else {
				c0 = column(n, iu, iv, iw, ty, tz);
			}
			c1 = column(n, iu + 1, iv, iw, ty, tz);
			cur = iu;
		}
		out[i] = lerp(c0, c1, fade(u - fu));
	}
}
