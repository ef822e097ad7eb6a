/* number.c: the shortest text that reads back as a double, as glibc's "%g"
 * prints it, computed exactly with 128-bit integers instead of printf and
 * strtod (which cost about a microsecond a number in JSON results). */
#include "lesionvol/number.h"
#include <errno.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

static const uint64_t five_pow[] = {
	UINT64_C(1), UINT64_C(5), UINT64_C(25),
	UINT64_C(125), UINT64_C(625), UINT64_C(3125),
	UINT64_C(15625), UINT64_C(78125), UINT64_C(390625),
	UINT64_C(1953125), UINT64_C(9765625), UINT64_C(48828125),
	UINT64_C(244140625), UINT64_C(1220703125), UINT64_C(6103515625),
	UINT64_C(30517578125), UINT64_C(152587890625), UINT64_C(762939453125),
	UINT64_C(3814697265625), UINT64_C(19073486328125), UINT64_C(95367431640625),
	UINT64_C(476837158203125), UINT64_C(2384185791015625), UINT64_C(11920928955078125),
	UINT64_C(59604644775390625), UINT64_C(298023223876953125),
	UINT64_C(1490116119384765625), UINT64_C(7450580596923828125),
};
enum { FIVE_POW_MAX = (int)(sizeof(five_pow) / sizeof(five_pow[0])) - 1 };

static const uint64_t ten_pow[] = {
	UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
	UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
	UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
	UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
	UINT64_C(1000000000000000), UINT64_C(10000000000000000),
	UINT64_C(100000000000000000),
};

static const char pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Every sum and product below stays under 2^126 when num, den and ulp
 * have at most this many bits. */
enum { SCALED_BITS = 124 };

static int bit_length(u128 x)
{
	uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
	if (hi)
		return 128 - __builtin_clzll(hi);
	return lo ? 64 - __builtin_clzll(lo) : 0;
}

/*
 * v * 10^k for v = m * 2^e, as the exact fraction num / den, and the gap
 * between v and the next double up, in the same units (ulp / den).
 * den is 2^shift when k >= 0 (shift -1 when it has a factor 5^-k).
 */
struct scaled {
	u128 num, den, ulp;
	int shift;
};

static int scale(uint64_t m, int e, int k, struct scaled *s)
{
	if (k > FIVE_POW_MAX || -k > FIVE_POW_MAX)
		return 0;
	u128 num = m, den = 1, ulp = 1;
	if (k >= 0) {
		num *= five_pow[k];
		ulp = five_pow[k];
	} else {
		den = five_pow[-k];
	}
	int t = e + k;
	s->shift = k >= 0 ? 0 : -1;
	if (t >= 0) {
		if (bit_length(num) + t > SCALED_BITS)
			return 0;
		num <<= t;
		ulp <<= t;
	} else {
		if (bit_length(den) - t > SCALED_BITS)
			return 0;
		den <<= -t;
		if (k >= 0)
			s->shift = -t;
	}
	s->num = num;
	s->den = den;
	s->ulp = ulp;
	return 1;
}

/*
 * floor(e2 * log10(2)), give or take one: 78913 / 2^18 is log10(2) to six
 * digits. The caller corrects the estimate against the digits it gets.
 */
static int log10_pow2_estimate(int e2)
{
	long q = (long)e2 * 78913;
	return (int)(q >= 0 ? q >> 18 : -((-q + 262143) >> 18));
}

/*
 * The shortest digits of v = m * 2^e (m a normal double's 53-bit mantissa)
 * by the rule of the snprintf("%.{p}g") + strtod() loop: the digits glibc
 * prints for p = @first (15..17), then up to 17 (the exact value rounded,
 * ties to even), the first that lie within the interval strtod() rounds
 * back to v (half a gap either side, a quarter below at a power of two, the
 * ends included when m is even, as strtod() rounds ties to even). A loop
 * from below 15 gives the same digits: any shorter text that reads back is
 * within 2^-53 v of v, well inside half a unit of the 15th digit, so it is
 * the 15-digit one without its trailing zeros (not so for subnormals, which
 * have fewer bits and never come here).
 * Gives the digits without trailing zeros in *digits (*n of them), the
 * decimal exponent of the first in *x10, and the precision that read back
 * in *p_found. Returns 0 when v is out of the exact range (about 1e-11 to
 * 1e41): then the caller falls back to snprintf() and strtod().
 */
static int shortest_digits(uint64_t m, int e, int quarter_below, int first,
			   uint64_t *digits, int *n, int *x10, int *p_found)
{
	int x = log10_pow2_estimate(e + 52);
	for (int p = first; p <= 17; p++) {
		struct scaled s;
		uint64_t f = 0;
		u128 r = 0;
		int tries = 0;
		for (;;) {
			if (++tries > 3 || !scale(m, e, p - 1 - x, &s))
				return 0;
			u128 q;
			if (s.shift >= 0) {
				q = s.num >> s.shift;
				r = s.num & (s.den - 1);
			} else {
				q = s.num / s.den;
				r = s.num % s.den;
			}
			if (q >= ten_pow[p]) {
				x++;
				continue;
			}
			if (q < ten_pow[p - 1]) {
				x--;
				continue;
			}
			f = (uint64_t)q;
			break;
		}
		/* glibc's printf rounds the exact value, ties to even */
		u128 err;
		int up = 2 * r > s.den || (2 * r == s.den && (f & 1));
		if (up) {
			f++;
			err = s.den - r;
		} else {
			err = r;
		}
		u128 limit = s.ulp;
		u128 twice = 2 * err;
		if (!up && quarter_below)
			twice *= 2;
		int even = !(m & 1);
		if (!(twice < limit || (twice == limit && even)))
			continue;
		int len = p, x_out = x;
		if (f == ten_pow[p]) { /* 9.99... rounded up to 10 */
			f = ten_pow[p - 1];
			x_out++;
		}
		while (len > 1 && f % 100000000 == 0) {
			f /= 100000000;
			len -= 8;
		}
		while (len > 1 && f % 10 == 0) {
			f /= 10;
			len--;
		}
		*digits = f;
		*n = len;
		*x10 = x_out;
		*p_found = p;
		return 1;
	}
	return 0;
}

/* The decimal digits of @v (at most 20) ending just before @end; returns
 * where they start. */
static char *put_uint(uint64_t v, char *end)
{
	while (v >= 100000000) {
		uint32_t low = (uint32_t)(v % 100000000);
		v /= 100000000;
		for (int i = 0; i < 4; i++) {
			end -= 2;
			memcpy(end, pairs + 2 * (low % 100), 2);
			low /= 100;
		}
	}
	uint32_t w = (uint32_t)v;
	while (w >= 100) {
		end -= 2;
		memcpy(end, pairs + 2 * (w % 100), 2);
		w /= 100;
	}
	if (w >= 10) {
		end -= 2;
		memcpy(end, pairs + 2 * w, 2);
	} else {
		*--end = (char)('0' + w);
	}
	return end;
}

/* @n digits with decimal exponent @x in "%.{precision}g"'s layout. */
static size_t render_g(int negative, const char *dig, int n, int x, int precision,
		       char *out)
{
	char *o = out;
	if (negative)
		*o++ = '-';
	if (x < -4 || x >= precision) {
		*o++ = dig[0];
		if (n > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)n - 1);
			o += n - 1;
		}
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		int ax = abs(x);
		if (ax >= 100) {
			*o++ = (char)('0' + ax / 100);
			ax %= 100;
		}
		memcpy(o, pairs + 2 * ax, 2);
		o += 2;
	} else if (x >= 0) {
		if (n <= x + 1) {
			memcpy(o, dig, (size_t)n);
			o += n;
			memset(o, '0', (size_t)(x + 1 - n));
			o += x + 1 - n;
		} else {
			memcpy(o, dig, (size_t)x + 1);
			o += x + 1;
			*o++ = '.';
			memcpy(o, dig + x + 1, (size_t)(n - x - 1));
			o += n - x - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		memset(o, '0', (size_t)(-x - 1));
		o += -x - 1;
		memcpy(o, dig, (size_t)n);
		o += n;
	}
	*o = '\0';
	return (size_t)(o - out);
}

/*
 * The loop this file replaces, for what the exact path does not cover
 * (subnormals, magnitudes below about 1e-11 or above 1e41). For normal
 * doubles below 1e-5 or from 1e17 "%g" uses the exponent form at every
 * precision, so starting at 15 prints the same text as starting lower (see
 * shortest_digits()).
 */
static size_t shortest_slow(double v, int min_precision, char *out)
{
	double a = fabs(v);
	int p = min_precision;
	if (a >= DBL_MIN && (a < 1e-5 || a >= 1e17) && p < 15)
		p = 15;
	for (; p <= 17; p++) {
		snprintf(out, LESION_DOUBLE_TEXT_MAX, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			break;
	}
	return strlen(out);
}

static size_t shortest_g(double v, int min_precision, char *out)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	int negative = (int)(bits >> 63);
	int biased = (int)((bits >> 52) & 0x7ff);
	uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
	if (biased == 0x7ff) {
		const char *s = m ? (negative ? "-nan" : "nan") : (negative ? "-inf" : "inf");
		strcpy(out, s);
		return strlen(s);
	}
	if (biased == 0 && m == 0) {
		strcpy(out, negative ? "-0" : "0");
		return (size_t)(1 + negative);
	}
	if (min_precision < 1)
		min_precision = 1;
	if (min_precision > 17)
		min_precision = 17;
	uint64_t digits;
	int n, x, p_found;
	if (biased == 0 ||
	    !shortest_digits(m | (UINT64_C(1) << 52), biased - 1075,
			     m == 0 && biased > 1, min_precision > 15 ? min_precision : 15,
			     &digits, &n, &x, &p_found))
		return shortest_slow(v, min_precision, out);
	char dig[24];
	char *end = dig + sizeof(dig);
	char *start = put_uint(digits, end);
	/* the loop stops at the first precision that reads back; when that is
	 * 15, a loop from lower would have stopped at the number of digits */
	int p = p_found == 15 ? n : p_found;
	if (p < min_precision)
		p = min_precision;
	return render_g(negative, start, n, x, p, out);
}

static size_t copy_out(const char *text, size_t len, char *buf, size_t size)
{
	if (size) {
		size_t k = len < size ? len : size - 1;
		memcpy(buf, text, k);
		buf[k] = '\0';
	}
	return len;
}

size_t lesion_double_shortest_g(double v, int min_precision, char *buf, size_t size)
{
	char text[LESION_DOUBLE_TEXT_MAX];
	size_t len = shortest_g(v, min_precision, text);
	return copy_out(text, len, buf, size);
}

size_t lesion_double_shortest(double v, char *buf, size_t size)
{
	char text[LESION_DOUBLE_TEXT_MAX];
	size_t len;
	/* the cast is exact below 2^53, so equality means v is integral */
	if (fabs(v) < 9007199254740992.0 && (double)(int64_t)v == v) {
		int64_t i = (int64_t)v;
		char *end = text + sizeof(text) - 1;
		char *start = put_uint((uint64_t)(i < 0 ? -i : i), end);
		if (signbit(v))
			*--start = '-';
		len = (size_t)(end - start);
		return copy_out(start, len, buf, size);
	}
	len = shortest_g(v, 1, text);
	return copy_out(text, len, buf, size);
}

int lesion_double_parse(const char *text, char **end, double *out)
{
	char *stop;
	int saved = errno;
	errno = 0;
	double x = strtod(text, &stop);
	int range = errno == ERANGE;
	errno = saved;
	if (end)
		*end = stop;
	/* ERANGE on a finite non-zero result is a subnormal: a real double */
	if (stop == text || !isfinite(x) || (range && x == 0.0))
		return -1;
	*out = x;
	return 0;
}
