/* segment.c: the segmentation rule: its checks and description, the
 * exact median/MAD of relative thresholds, and the one-pass thresholding. */
#include "lesionvol/segment.h"
#include "lesionvol/number.h"
#include "segment_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 4096 };

/* 1.4826 makes the MAD of normal data estimate its standard deviation */
#define MAD_TO_SD 1.4826

void lesion_rule_init(struct lesion_rule *rule)
{
	memset(rule, 0, sizeof(*rule));
	rule->thr = rule->uthr = rule->zthr = rule->uzthr = NAN;
	rule->connectivity = 26;
	rule->min_voxels = 0;
	rule->min_volume_mm3 = 0.0;
}

enum lesion_status lesion_rule_check(const struct lesion_rule *rule,
				     struct lesion_error *err)
{
	if (rule->connectivity != 6 && rule->connectivity != 18 &&
	    rule->connectivity != 26)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"connectivity must be 6, 18 or 26, not %d", rule->connectivity);
	if ((rule->has_thr && !isfinite(rule->thr)) ||
	    (rule->has_uthr && !isfinite(rule->uthr)) ||
	    (rule->has_zthr && !isfinite(rule->zthr)) ||
	    (rule->has_uzthr && !isfinite(rule->uzthr)))
		return lesion_error_set(err, LESION_ERR_USAGE, "thresholds must be finite numbers");
	if (rule->has_thr && rule->has_zthr)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"--thr and --zthr both set the lower threshold; give one");
	if (rule->has_uthr && rule->has_uzthr)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"--uthr and --uzthr both set the upper threshold; give one");
	if (rule->has_thr && rule->has_uthr && rule->thr > rule->uthr)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"--thr %.17g is above --uthr %.17g: no value could be lesion",
			rule->thr, rule->uthr);
	if (rule->min_voxels < 0)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"--min-voxels must not be negative");
	if (!(rule->min_volume_mm3 >= 0.0) || isinf(rule->min_volume_mm3))
		return lesion_error_set(err, LESION_ERR_USAGE,
			"--min-volume must be a finite number >= 0");
	return LESION_OK;
}

static void appendf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

void lesion_rule_describe(const struct lesion_rule *rule, char *buf, size_t size)
{
	lesion_rule_describe_bounds(rule, NULL, buf, size);
}

void lesion_rule_describe_bounds(const struct lesion_rule *rule,
				 const struct lesion_bounds *b, char *buf, size_t size)
{
	char lo[80] = "", hi[80] = "", num[32];
	if (!size)
		return;
	buf[0] = '\0';
	if (rule->has_thr) {
		lesion_double_shortest_g(rule->thr, 6, lo, sizeof(lo));
	} else if (rule->has_zthr) {
		lesion_double_shortest_g(rule->zthr, 6, num, sizeof(num));
		snprintf(lo, sizeof(lo), "median + %s x 1.4826 x MAD", num);
	}
	if (rule->has_uthr) {
		lesion_double_shortest_g(rule->uthr, 6, hi, sizeof(hi));
	} else if (rule->has_uzthr) {
		lesion_double_shortest_g(rule->uzthr, 6, num, sizeof(num));
		snprintf(hi, sizeof(hi), "median - %s x 1.4826 x MAD", num);
	}
	if (*lo && *hi)
		appendf(buf, size, "%s <= value <= %s", lo, hi);
	else if (*lo)
		appendf(buf, size, "value >= %s", lo);
	else if (*hi)
		appendf(buf, size, "value <= %s", hi);
	else
		appendf(buf, size, "value > 0");
	/* zero is background in every form; say so where the bounds alone
	 * would take it in (an unresolved relative bound may) */
	int zero_above_lower, zero_below_upper;
	if (b) {
		zero_above_lower = b->lower <= 0.0;
		zero_below_upper = b->upper >= 0.0;
	} else {
		zero_above_lower = !rule->has_thr || rule->thr <= 0.0;
		zero_below_upper = !rule->has_uthr || rule->uthr >= 0.0;
	}
	if ((*lo || *hi) && zero_above_lower && zero_below_upper)
		appendf(buf, size, " and value != 0");
	if (rule->fill_holes)
		appendf(buf, size, "; holes filled");
	appendf(buf, size, "; %d-connected", rule->connectivity);
	if (rule->min_voxels > 0)
		appendf(buf, size, "; components >= %lld voxels", (long long)rule->min_voxels);
	if (rule->min_volume_mm3 > 0) {
		lesion_double_shortest_g(rule->min_volume_mm3, 6, num, sizeof(num));
		appendf(buf, size, "; components >= %s mm^3", num);
	}
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

static double median3(double a, double b, double c)
{
	if (a > b) {
		double t = a;
		a = b;
		b = t;
	}
	if (b > c)
		b = c;
	return a > b ? a : b;
}

/*
 * The k-th smallest of @a[0..n) (finite values), leaving every element
 * before position k no larger than it. Quickselect with a three-way
 * partition (images repeat values a lot) and a deterministic pivot; past a
 * depth limit the rest is sorted, so the worst case stays O(n log n).
 */
static double select_kth(double *a, int64_t n, int64_t k)
{
	int64_t lo = 0, hi = n - 1;
	int depth = 0;
	while (hi > lo) {
		if (++depth > 64) {
			qsort(a + lo, (size_t)(hi - lo + 1), sizeof(double), cmp_double);
			return a[k];
		}
		double p = median3(a[lo], a[lo + (hi - lo) / 2], a[hi]);
		int64_t lt = lo, gt = hi, i = lo;
		while (i <= gt) {
			double v = a[i];
			if (v < p) {
				a[i++] = a[lt];
				a[lt++] = v;
			} else if (v > p) {
				a[i] = a[gt];
				a[gt--] = v;
			} else {
				i++;
			}
		}
		if (k < lt)
			hi = lt - 1;
		else if (k > gt)
			lo = gt + 1;
		else
			return p;
	}
	return a[k];
}

/* numpy.median's definition: the mean of the two middle values when n is even */
static double median_of(double *a, int64_t n)
{
	int64_t k = n / 2;
	double hi = select_kth(a, n, k);
	if (n % 2)
		return hi;
	double lo = a[0];
	for (int64_t i = 1; i < k; i++)
		if (a[i] > lo)
			lo = a[i];
	return (lo + hi) / 2;
}

static int is_reference(double v, const double *m, int64_t i)
{
	if (!isfinite(v))
		return 0;
	if (m)
		return m[i] != 0.0 && !isnan(m[i]);
	return v != 0.0;
}

/* The reference values in file order (the same array whatever the threads). */
static enum lesion_status reference_values(const struct lesion_volume *vol,
					   const struct lesion_volume *brain,
					   double **out, int64_t *n_out,
					   struct lesion_error *err)
{
	const int64_t n = vol->geom.n_voxels;
	const int64_t n_chunks = (n + CHUNK - 1) / CHUNK;
	int64_t *count = calloc((size_t)n_chunks + 1, sizeof(int64_t));
	if (!count)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
#pragma omp parallel for schedule(static)
	for (int64_t c = 0; c < n_chunks; c++) {
		double buf[CHUNK], mbuf[CHUNK];
		int64_t start = c * CHUNK, cnt = n - start < CHUNK ? n - start : CHUNK;
		lesion_volume_values(vol, start, cnt, buf);
		if (brain)
			lesion_volume_values(brain, start, cnt, mbuf);
		int64_t k = 0;
		for (int64_t i = 0; i < cnt; i++)
			k += is_reference(buf[i], brain ? mbuf : NULL, i);
		count[c + 1] = k;
	}
	for (int64_t c = 0; c < n_chunks; c++)
		count[c + 1] += count[c];
	int64_t total = count[n_chunks];
	double *vals = malloc(sizeof(double) * (size_t)(total + 1));
	if (!vals) {
		free(count);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
#pragma omp parallel for schedule(static)
	for (int64_t c = 0; c < n_chunks; c++) {
		double buf[CHUNK], mbuf[CHUNK];
		int64_t start = c * CHUNK, cnt = n - start < CHUNK ? n - start : CHUNK;
		lesion_volume_values(vol, start, cnt, buf);
		if (brain)
			lesion_volume_values(brain, start, cnt, mbuf);
		double *dst = vals + count[c];
		for (int64_t i = 0; i < cnt; i++)
			if (is_reference(buf[i], brain ? mbuf : NULL, i))
				*dst++ = buf[i];
	}
	free(count);
	*out = vals;
	*n_out = total;
	return LESION_OK;
}

enum lesion_status lesion_rule_bounds(const struct lesion_volume *vol,
				      const struct lesion_volume *brain,
				      const struct lesion_rule *rule,
				      struct lesion_bounds *b,
				      struct lesion_error *err)
{
	b->lower = -INFINITY;
	b->upper = INFINITY;
	b->lower_strict = 0;
	b->exclude_zero = 0;
	b->ref_median = b->ref_mad = NAN;
	b->ref_voxels = 0;
	if (rule->has_zthr || rule->has_uzthr) {
		double *vals = NULL;
		int64_t n = 0;
		enum lesion_status st = reference_values(vol, brain, &vals, &n, err);
		if (st)
			return st;
		if (n == 0) {
			free(vals);
			return lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' has no reference voxels for --zthr/--uzthr (%s)",
				vol->path ? vol->path : "image",
				brain ? "no finite voxel inside the mask" : "no finite non-zero voxel");
		}
		double med = median_of(vals, n);
		for (int64_t i = 0; i < n; i++)
			vals[i] = fabs(vals[i] - med);
		b->ref_mad = median_of(vals, n);
		b->ref_median = med;
		b->ref_voxels = n;
		free(vals);
		/* written as a reader would compute it, for identical rounding */
		if (rule->has_zthr)
			b->lower = med + rule->zthr * MAD_TO_SD * b->ref_mad;
		if (rule->has_uzthr)
			b->upper = med - rule->uzthr * MAD_TO_SD * b->ref_mad;
	}
	if (rule->has_thr)
		b->lower = rule->thr;
	if (rule->has_uthr)
		b->upper = rule->uthr;
	int lower = rule->has_thr || rule->has_zthr;
	int upper = rule->has_uthr || rule->has_uzthr;
	if (!lower && !upper) {
		b->lower = 0.0;
		b->lower_strict = 1;
	}
	/* exact zero is background in every form: it is what lies outside
	 * the brain or the field of view in masks, skull-stripped maps and
	 * statistics maps; negative values count whenever the bounds take
	 * them in (the default rule, value > 0, excludes zero by itself) */
	b->exclude_zero = lower || upper;
	return LESION_OK;
}

/*
 * Bounds on the stored values equivalent to the bounds on the scaled values,
 * so a voxel is tested in its own type without converting it: exact for
 * unscaled 8-, 16- and 32-bit integers (every such value is a double) and
 * for unscaled float32 (rounding the bound to the float next to it in the
 * right direction keeps every comparison's answer). Anything else (scaled
 * values, 64-bit integers, float64) is compared as the double the rule
 * defines.
 */
void lesion_threshold_init(struct lesion_threshold *t,
			   const struct lesion_volume *vol,
			   const struct lesion_volume *brain,
			   const struct lesion_bounds *b, uint8_t nan_marker)
{
	memset(t, 0, sizeof(*t));
	t->vol = vol;
	t->brain = brain;
	t->b = *b;
	t->nan_marker = nan_marker;
	t->kind = THR_DOUBLE;
	if (vol->scaled)
		return;
	int64_t tmin, tmax;
	switch (vol->dtype) {
	case LESION_DT_UINT8: tmin = 0; tmax = UINT8_MAX; break;
	case LESION_DT_INT8: tmin = INT8_MIN; tmax = INT8_MAX; break;
	case LESION_DT_INT16: tmin = INT16_MIN; tmax = INT16_MAX; break;
	case LESION_DT_UINT16: tmin = 0; tmax = UINT16_MAX; break;
	case LESION_DT_INT32: tmin = INT32_MIN; tmax = INT32_MAX; break;
	case LESION_DT_UINT32: tmin = 0; tmax = UINT32_MAX; break;
	case LESION_DT_FLOAT32: {
		/* the least float that passes the lower bound, the greatest that
		 * passes the upper one (NaN, which nothing passes, when there is
		 * none: a strict lower bound of +inf) */
		float lo = (float)b->lower, hi = (float)b->upper;
		if (b->lower_strict ? (double)lo <= b->lower : (double)lo < b->lower)
			lo = lo == INFINITY ? NAN : nextafterf(lo, INFINITY);
		if ((double)hi > b->upper)
			hi = nextafterf(hi, -INFINITY);
		t->flo = lo;
		t->fhi = hi;
		t->check_zero = b->exclude_zero && lo <= 0.0f && hi >= 0.0f;
		t->kind = THR_FLOAT;
		return;
	}
	default:
		return;
	}
	/* integers: lower <= v <= upper becomes ilo <= raw <= ihi */
	double lo = b->lower, hi = b->upper;
	double ilo = b->lower_strict ? floor(lo) + 1 : ceil(lo);
	double ihi = floor(hi);
	t->ilo = ilo < (double)tmin ? tmin : (ilo > (double)tmax ? tmax + 1 : (int64_t)ilo);
	t->ihi = ihi > (double)tmax ? tmax : (ihi < (double)tmin ? tmin - 1 : (int64_t)ihi);
	t->check_zero = b->exclude_zero && t->ilo <= 0 && t->ihi >= 0;
	t->kind = THR_INT;
}

/* in-range test as one unsigned comparison, which compilers vectorise */
#define THR_INT_LOOP(T)                                                        \
	do {                                                                   \
		const T *src = (const T *)data;                                \
		const int64_t lo = t->ilo;                                     \
		const uint64_t span = (uint64_t)(t->ihi - t->ilo);             \
		if (t->ihi < t->ilo) {                                         \
			memset(out, 0, (size_t)n);                             \
		} else if (t->check_zero) {                                    \
			for (int64_t i = 0; i < n; i++)                        \
				out[i] = (uint8_t)(((uint64_t)((int64_t)src[i] - lo) <= span) & \
						   (src[i] != 0));             \
		} else {                                                       \
			for (int64_t i = 0; i < n; i++)                        \
				out[i] = (uint8_t)((uint64_t)((int64_t)src[i] - lo) <= span); \
		}                                                              \
	} while (0)

/*
 * The narrow-type version: the test in the stored width U (the unsigned
 * type of T's size), as wide SIMD lanes as the type allows. Modulo 2^w,
 * v - lo <= hi - lo holds exactly when lo <= v <= hi, since both bounds are
 * values of T: a v below lo wraps to more than hi - lo.
 */
#define THR_INT_LOOP_NARROW(T, U)                                              \
	do {                                                                   \
		const T *src = (const T *)data;                                \
		const U lo = (U)t->ilo;                                        \
		const U span = (U)(t->ihi - t->ilo);                           \
		if (t->ihi < t->ilo) {                                         \
			memset(out, 0, (size_t)n);                             \
		} else if (t->check_zero) {                                    \
			for (int64_t i = 0; i < n; i++)                        \
				out[i] = (uint8_t)(((U)((U)src[i] - lo) <= span) & \
						   (src[i] != 0));             \
		} else {                                                       \
			for (int64_t i = 0; i < n; i++)                        \
				out[i] = (uint8_t)((U)((U)src[i] - lo) <= span); \
		}                                                              \
	} while (0)

int64_t lesion_threshold_span(const struct lesion_threshold *t, int64_t start,
			      int64_t n, uint8_t *out)
{
	return lesion_threshold_span_at(t, (const unsigned char *)t->vol->data +
					start * t->vol->bytes_per_voxel, start, n, out);
}

int64_t lesion_threshold_span_at(const struct lesion_threshold *t, const void *data,
				 int64_t start, int64_t n, uint8_t *out)
{
	int64_t n_nan = 0;
	const uint8_t mark = t->nan_marker;
	switch (t->kind) {
	case THR_INT:
		switch (t->vol->dtype) {
		case LESION_DT_UINT8: THR_INT_LOOP_NARROW(uint8_t, uint8_t); break;
		case LESION_DT_INT8: THR_INT_LOOP_NARROW(int8_t, uint8_t); break;
		case LESION_DT_INT16: THR_INT_LOOP_NARROW(int16_t, uint16_t); break;
		case LESION_DT_UINT16: THR_INT_LOOP_NARROW(uint16_t, uint16_t); break;
		case LESION_DT_INT32: THR_INT_LOOP(int32_t); break;
		case LESION_DT_UINT32: THR_INT_LOOP(uint32_t); break;
		default: break;
		}
		break;
	case THR_FLOAT: {
		/* locals, so the byte stores cannot be taken to change them and
		 * the loops vectorise */
		const float *src = (const float *)data;
		const float lo = t->flo, hi = t->fhi;
		if (t->check_zero)
			for (int64_t i = 0; i < n; i++)
				out[i] = (uint8_t)((src[i] >= lo) & (src[i] <= hi) & (src[i] != 0.0f));
		else
			for (int64_t i = 0; i < n; i++)
				out[i] = (uint8_t)((src[i] >= lo) & (src[i] <= hi));
		int64_t nn = 0;
		for (int64_t i = 0; i < n; i++)
			nn += src[i] != src[i];
		if (nn && mark)
			for (int64_t i = 0; i < n; i++)
				if (src[i] != src[i])
					out[i] = mark;
		n_nan = nn;
		break;
	}
	default: {
		/* v > lower is v >= the next double up (a strict bound is finite
		 * or -inf): one branch-free test that the compiler vectorises;
		 * NaN fails every comparison */
		const double lo = t->b.lower_strict ? nextafter(t->b.lower, INFINITY) : t->b.lower;
		const double hi = t->b.upper;
		const int no_zero = t->b.exclude_zero;
		double buf[CHUNK];
		for (int64_t s = 0; s < n; s += CHUNK) {
			int64_t cnt = n - s < CHUNK ? n - s : CHUNK;
			int64_t chunk_nan = 0;
			lesion_values_convert(t->vol, (const unsigned char *)data +
					      s * t->vol->bytes_per_voxel, cnt, buf);
			uint8_t *m = out + s;
			for (int64_t i = 0; i < cnt; i++) {
				double v = buf[i];
				int is_nan = v != v;
				int in = (v >= lo) & (v <= hi) & !(no_zero & (v == 0.0));
				chunk_nan += is_nan;
				m[i] = (uint8_t)(in | (-is_nan & mark));
			}
			n_nan += chunk_nan;
		}
		break;
	}
	}
	if (t->brain) {
		double mbuf[CHUNK];
		for (int64_t s = 0; s < n; s += CHUNK) {
			int64_t cnt = n - s < CHUNK ? n - s : CHUNK;
			lesion_volume_values(t->brain, start + s, cnt, mbuf);
			uint8_t *m = out + s;
			for (int64_t i = 0; i < cnt; i++)
				if (m[i] == 1 && (mbuf[i] == 0.0 || isnan(mbuf[i])))
					m[i] = 0;
		}
	}
	return n_nan;
}

int64_t lesion_threshold_mask(const struct lesion_volume *vol,
			      const struct lesion_volume *brain,
			      const struct lesion_bounds *b, uint8_t nan_marker,
			      uint8_t *mask)
{
	struct lesion_threshold t;
	const int64_t n = vol->geom.n_voxels;
	const int64_t step = 1 << 16;
	const int64_t n_chunks = (n + step - 1) / step;
	int64_t n_nan = 0;
	lesion_threshold_init(&t, vol, brain, b, nan_marker);
#pragma omp parallel for schedule(static) reduction(+:n_nan)
	for (int64_t c = 0; c < n_chunks; c++) {
		int64_t start = c * step, cnt = n - start < step ? n - start : step;
		n_nan += lesion_threshold_span(&t, start, cnt, mask + start);
	}
	return n_nan;
}
