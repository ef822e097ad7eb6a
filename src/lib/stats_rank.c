/* stats_rank.c: the Mann-Whitney U test and the Hodges-Lehmann shift with
 * its distribution-free confidence interval. */
#include "stats_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* above this many steps the exact distribution of U is not computed */
#define EXACT_MAX_STEPS 1e9

struct tagged {
	double v;
	int group;
};

static int cmp_tagged(const void *pa, const void *pb)
{
	const struct tagged *a = pa, *b = pb;
	if (a->v != b->v)
		return (a->v > b->v) - (a->v < b->v);
	return a->group - b->group;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/*
 * Rank the pooled values: *u_a = rank sum of A - n_a (n_a + 1) / 2 with
 * midranks for ties, *tie_term = sum over tie blocks of t^3 - t.
 */
static enum lesion_status rank_groups(const double *a, size_t na, const double *b,
				      size_t nb, double *u_a, double *tie_term,
				      struct lesion_error *err)
{
	size_t n = na + nb;
	struct tagged *t = malloc(n * sizeof(*t));
	if (!t)
		return lesion_error_set(err, LESION_ERR_INTERNAL,
					"mann-whitney: out of memory for %zu values", n);
	for (size_t i = 0; i < na; i++)
		t[i] = (struct tagged){ a[i], 0 };
	for (size_t i = 0; i < nb; i++)
		t[na + i] = (struct tagged){ b[i], 1 };
	qsort(t, n, sizeof(*t), cmp_tagged);
	double rank_sum = 0, ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && t[j].v == t[i].v)
			j++;
		double run = (double)(j - i), midrank = (double)(i + 1 + j) / 2;
		for (size_t k = i; k < j; k++)
			if (t[k].group == 0)
				rank_sum += midrank;
		ties += run * run * run - run;
		i = j;
	}
	free(t);
	*u_a = rank_sum - (double)na * (double)(na + 1) / 2;
	*tie_term = ties;
	return LESION_OK;
}

/* standard deviation of U under the null, corrected for ties */
static double u_sigma(size_t na, size_t nb, double tie_term)
{
	double n = (double)(na + nb), mn = (double)na * (double)nb;
	double v = mn / 12 * ((n + 1) - tie_term / (n * (n - 1)));
	return v > 0 ? sqrt(v) : 0;
}

static int exact_affordable(size_t na, size_t nb)
{
	double mn = (double)na * (double)nb;
	return mn * (mn / 2 + 2) <= EXACT_MAX_STEPS;
}

static int use_exact(enum lesion_rank_method method, size_t na, size_t nb, int ties)
{
	int exact = method == LESION_RANK_EXACT ||
		    (method == LESION_RANK_AUTO && (na <= 8 || nb <= 8) && !ties);
	return exact && exact_affordable(na, nb);
}

/*
 * The null distribution of U without ties: *count[k] = number of the
 * binom(m + n, m) orderings giving U = k, for k = 0..kmax, and *total. The
 * recursion f(i, j, k) = f(i - 1, j, k - j) + f(i, j - 1, k) (is the largest
 * value one of the i or one of the j?) runs over j, one row per i <= min(m,
 * n), so memory is (min + 1) (kmax + 1) doubles and every step is an
 * addition of non-negative integers (exact below 2^53).
 */
static enum lesion_status null_counts(size_t m, size_t n, size_t kmax,
				      double **count, double *total,
				      struct lesion_error *err)
{
	size_t s = m < n ? m : n, l = m < n ? n : m, w = kmax + 1;
	double *f = calloc((s + 1) * w, sizeof(*f));
	*count = NULL;
	if (!f)
		return lesion_error_set(err, LESION_ERR_INTERNAL,
					"mann-whitney: out of memory for the exact distribution");
	for (size_t i = 0; i <= s; i++)
		f[i * w] = 1;
	for (size_t j = 1; j <= l; j++)
		for (size_t i = 1; i <= s; i++) {
			double *row = f + i * w, *prev = f + (i - 1) * w;
			size_t top = i * j < kmax ? i * j : kmax;
			for (size_t k = j; k <= top; k++)
				row[k] += prev[k - j];
		}
	double *c = malloc(w * sizeof(*c));
	if (!c) {
		free(f);
		return lesion_error_set(err, LESION_ERR_INTERNAL,
					"mann-whitney: out of memory for the exact distribution");
	}
	memcpy(c, f + s * w, w * sizeof(*c));
	free(f);
	/* the distribution is symmetric about mn / 2 and kmax >= mn / 2 */
	size_t mn = m * n;
	double t = 0;
	for (size_t k = 0; 2 * k < mn; k++)
		t += c[k];
	t *= 2;
	if (mn % 2 == 0)
		t += c[mn / 2];
	*count = c;
	*total = t;
	return LESION_OK;
}

enum lesion_status lesion_mann_whitney_test(const double *a, size_t n_a,
					    const double *b, size_t n_b,
					    enum lesion_rank_method method,
					    struct lesion_mann_whitney *out,
					    struct lesion_error *err)
{
	double *fa, *fb, *count = NULL, tie_term, total;
	size_t na, nb, miss;
	enum lesion_status st = stats_two_groups(a, n_a, b, n_b, out, "mann-whitney",
						 &fa, &na, &fb, &nb, &miss, err);
	if (st)
		return st;
	memset(out, 0, sizeof(*out));
	out->n_a = na;
	out->n_b = nb;
	out->n_missing = miss;
	out->u_a = out->u_b = out->z = out->p_value = NAN;
	if (na == 0 || nb == 0) {
		stats_na(out->reason, "the %s has no values", stats_group_name(na != 0));
		goto out;
	}
	st = rank_groups(fa, na, fb, nb, &out->u_a, &tie_term, err);
	if (st)
		goto out;
	size_t mn = na * nb;
	out->u_b = (double)mn - out->u_a;
	out->ties = tie_term > 0;
	out->exact = use_exact(method, na, nb, out->ties);
	double u = fmax(out->u_a, out->u_b);
	if (out->exact) {
		size_t k = mn - (size_t)floor(u);  /* P(U >= u) = P(U <= mn - u) */
		st = null_counts(na, nb, (mn + 1) / 2, &count, &total, err);
		if (st)
			goto out;
		double c = 0;
		for (size_t i = 0; i <= k; i++)
			c += count[i];
		out->p_value = fmin(1.0, 2 * c / total);
	} else {
		double sigma = u_sigma(na, nb, tie_term);
		if (sigma > 0) {
			out->z = (u - (double)mn / 2 - 0.5) / sigma;
			out->p_value = fmin(1.0, 2 * lesion_stats_normal_sf(out->z));
		} else {
			out->p_value = 1;  /* all values tied: every permutation gives the same U */
		}
	}
out:
	free(count);
	free(fa);
	free(fb);
	return st;
}

/* doubles mapped to integers of the same order, so bisection can walk over
 * every representable value between two differences */
static int64_t order_key(double x)
{
	int64_t i;
	memcpy(&i, &x, sizeof(i));
	return i < 0 ? INT64_MIN - i : i;
}

static double key_value(int64_t k)
{
	int64_t i = k < 0 ? INT64_MIN - k : k;
	double x;
	memcpy(&x, &i, sizeof(x));
	return x;
}

/* number of pairs with b[j] - a[i] <= t; a and b sorted ascending */
static uint64_t count_le(const double *a, size_t na, const double *b, size_t nb,
			 double t)
{
	uint64_t c = 0;
	size_t p = 0;
	for (size_t j = 0; j < nb; j++) {
		while (p < na && b[j] - a[p] > t)
			p++;
		c += na - p;
	}
	return c;
}

/* the k-th smallest (1-based) of the differences b[j] - a[i]: the smallest
 * double t with at least k differences <= t, found in O((na + nb) 64) */
static double kth_difference(const double *a, size_t na, const double *b,
			     size_t nb, uint64_t k)
{
	int64_t lo = order_key(b[0] - a[na - 1]), hi = order_key(b[nb - 1] - a[0]);
	while (lo < hi) {
		int64_t mid = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2);
		if (count_le(a, na, b, nb, key_value(mid)) >= k)
			hi = mid;
		else
			lo = mid + 1;
	}
	return key_value(lo);
}

enum lesion_status lesion_hodges_lehmann_estimate(const double *a, size_t n_a,
						  const double *b, size_t n_b,
						  enum lesion_rank_method method,
						  struct lesion_hodges_lehmann *out,
						  struct lesion_error *err)
{
	double *fa, *fb, *count = NULL, u_a, tie_term, total;
	size_t na, nb, miss;
	enum lesion_status st = stats_two_groups(a, n_a, b, n_b, out, "hodges-lehmann",
						 &fa, &na, &fb, &nb, &miss, err);
	if (st)
		return st;
	memset(out, 0, sizeof(*out));
	out->n_a = na;
	out->n_b = nb;
	out->n_missing = miss;
	out->shift = out->ci_low = out->ci_high = out->ci_coverage = NAN;
	if (na == 0 || nb == 0) {
		stats_na(out->reason, "the %s has no values", stats_group_name(na != 0));
		goto out;
	}
	qsort(fa, na, sizeof(*fa), cmp_double);
	qsort(fb, nb, sizeof(*fb), cmp_double);
	uint64_t mn = (uint64_t)na * nb;
	if (mn % 2)
		out->shift = kth_difference(fa, na, fb, nb, (mn + 1) / 2);
	else
		out->shift = (kth_difference(fa, na, fb, nb, mn / 2) +
			      kth_difference(fa, na, fb, nb, mn / 2 + 1)) / 2;

	st = rank_groups(fa, na, fb, nb, &u_a, &tie_term, err);
	if (st)
		goto out;
	out->exact = use_exact(method, na, nb, tie_term > 0);
	double alpha2 = (1 - LESION_STATS_CI_LEVEL) / 2;
	uint64_t K = 0;
	if (out->exact) {
		st = null_counts(na, nb, (mn + 1) / 2, &count, &total, err);
		if (st)
			goto out;
		/* K - 1 = the largest u with P(U <= u) <= alpha / 2; compared in
		 * counts (1 / alpha2 = 40 is exact) so boundary cases are exact */
		double c = 0, inv = round(1 / alpha2);
		while (K <= (mn + 1) / 2 && (c + count[K]) * inv <= total)
			c += count[K++];
		if (K > 0)
			out->ci_coverage = 1 - 2 * c / total;
	} else {
		double sigma = u_sigma(na, nb, tie_term);
		double z = lesion_stats_normal_quantile(1 - alpha2);
		double k = floor((double)mn / 2 + 0.5 - z * sigma);
		K = k >= 1 ? (uint64_t)k : 0;
	}
	if (K == 0) {
		stats_na(out->reason, "groups of %zu and %zu values are too small for "
			 "a %g%% confidence interval", na, nb, 100 * LESION_STATS_CI_LEVEL);
		out->ci_coverage = NAN;
		goto out;
	}
	out->ci_rank = (size_t)K;
	out->ci_low = kth_difference(fa, na, fb, nb, K);
	out->ci_high = kth_difference(fa, na, fb, nb, mn + 1 - K);
out:
	free(count);
	free(fa);
	free(fb);
	return st;
}
