/* test_number.c: lesion_double_shortest() against the snprintf("%.{p}g") +
 * strtod() loops it replaced, byte for byte, on millions of doubles.
 * LESIONVOL_NUMBER_TEST_SCALE=N runs N times as many (e.g. 50 for a long
 * check by hand). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lesionvol/number.h"

/* splitmix64: a fixed seed, so a failure can be re-run */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double uniform(void)
{
	return (double)(rng() >> 11) * 0x1p-53;
}

static double from_bits(uint64_t b)
{
	double v;
	memcpy(&v, &b, sizeof(v));
	return v;
}

static uint64_t to_bits(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof(b));
	return b;
}

static long scale(long n)
{
	const char *s = getenv("LESIONVOL_NUMBER_TEST_SCALE");
	long k = s ? atol(s) : 1;
	return n * (k > 0 ? k : 1);
}

/* The loops the library had (cli's started at 15, cohort's and simulate's
 * at 1, segment's at 6), exactly as they were written. */
static void glibc_loop(double v, int from, char *buf, size_t size)
{
	for (int p = from; p <= 17; p++) {
		snprintf(buf, size, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void glibc_shortest(double v, int from, char *buf, size_t size)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, size, "%.0f", v);
	else
		glibc_loop(v, from, buf, size);
}

static long n_checked;

/*
 * @v's text from lesion_double_shortest() must be the loop's from 1 byte for
 * byte and read back to the same bits. For normal doubles the loop from 15
 * (3 calls instead of up to 17) gives the same text; with @full that is
 * checked too, and lesion_double_shortest_g() against the loops from 1, 6
 * (segment.c's), 11, 15 (cli's), 16 and 17.
 */
static void check(double v, int full)
{
	char got[LESION_DOUBLE_TEXT_MAX], want[64], want1[64];
	int normal = fpclassify(v) == FP_NORMAL;
	size_t len = lesion_double_shortest(v, got, sizeof(got));
	glibc_shortest(v, normal ? 15 : 1, want, sizeof(want));
	if (strcmp(got, want) != 0 || len != strlen(want))
		fail_msg("%a (%.17g): got '%s' (%zu), glibc '%s'", v, v, got, len, want);
	if (isfinite(v) && to_bits(strtod(got, NULL)) != to_bits(v))
		fail_msg("%a: '%s' does not read back", v, got);
	if (full) {
		glibc_shortest(v, 1, want1, sizeof(want1));
		if (strcmp(got, want1) != 0)
			fail_msg("%a: got '%s', loop from 1 '%s'", v, got, want1);
		static const int from[] = {1, 6, 11, 15, 16, 17};
		for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
			lesion_double_shortest_g(v, from[i], got, sizeof(got));
			glibc_loop(v, from[i], want, sizeof(want));
			if (strcmp(got, want) != 0)
				fail_msg("%a from %d: got '%s', glibc '%s'", v, from[i], got, want);
		}
	}
	n_checked++;
}

/* @v and its neighbours up to @k doubles either side, both signs. */
static void check_around(double v, int k, int full)
{
	double up = v, down = v;
	check(v, full);
	check(-v, full);
	for (int i = 0; i < k; i++) {
		up = nextafter(up, INFINITY);
		down = nextafter(down, -INFINITY);
		check(up, full);
		check(down, full);
		check(-up, full);
		check(-down, full);
	}
}

static void test_number__matches_glibc_shortest_on_random_doubles(void **state)
{
	(void)state;
	long n = scale(150000);
	/* every bit pattern: subnormals, huge, negative, inf and nan (mostly
	 * outside the exact path, so fewer) */
	for (long i = 0; i < n / 4; i++)
		check(from_bits(rng()), (i & 31) == 0);
	/* magnitudes 1e-13 to 1e44: the exact path (1e-11 to 1e41) and its
	 * edges */
	for (long i = 0; i < n; i++) {
		uint64_t b = rng();
		int biased = 1023 - 43 + (int)((b >> 52) % 190);
		check(from_bits((b & ~(UINT64_C(0x7ff) << 52)) | ((uint64_t)biased << 52)),
		      (i & 63) == 0);
	}
}

static void test_number__matches_glibc_shortest_on_measurement_like_values(void **state)
{
	(void)state;
	long n = scale(45000);
	for (long i = 0; i < n; i++) {
		int full = (i & 15) == 0;
		double k = (double)(rng() % 2000000), d = (double)(1 + rng() % 1000);
		check(k / d, full);                        /* centroids, means */
		check((k + 73.4189453125) / 7.0, full);    /* sums of float32 / n */
		check(k * 0.1, full);                      /* steps of 0.1 */
		check(k * 0.001 * (double)(float)0.9375f, full);  /* mm^3 from mm */
		check((double)(float)(k / d), full);       /* float32 voxel values */
		check(uniform() * pow(10.0, (double)(int)(rng() % 50) - 20), full);
		check(sqrt(k) / d, full);                  /* standard deviations */
	}
}

static void test_number__matches_glibc_at_powers_of_two_and_ten(void **state)
{
	(void)state;
	/* mantissa 2^52: the gap below is half the gap above */
	for (int e = -1074; e <= 1023; e++)
		check_around(ldexp(1.0, e), 2, e >= -80 && e <= 200);
	/* where "%g" switches between fixed and exponent forms, and the
	 * 15/16/17-digit boundaries around 1e15..1e17 */
	for (int e = -40; e <= 40; e++) {
		char text[16];
		snprintf(text, sizeof(text), "1e%d", e);
		double p10 = strtod(text, NULL);
		check_around(p10, 10, 1);
		check_around(p10 * 9.999999999999999, 3, 1);
		check_around(p10 * 0.5, 3, 1);
	}
	for (double v = 9.99e14; v < 1.1e17; v *= 1.0003)
		check_around(v, 1, 0);
	check_around(9007199254740992.0, 40, 1);
	check_around(DBL_MAX, 3, 1);
	check_around(DBL_MIN, 3, 1);
	check_around(DBL_TRUE_MIN, 3, 1);
}

/* Exact decimals one digit longer than a precision and ending in 5: the
 * ties printf breaks to even. */
static void test_number__matches_glibc_on_halfway_cases(void **state)
{
	(void)state;
	long n = scale(45000);
	for (long i = 0; i < n; i++) {
		/* n + 0.5 and n + 0.25 with 14..16 integer digits */
		double big = ldexp(1.0, 46 + (int)(rng() % 7));
		double base = floor(big + uniform() * big);
		check(base + 0.5, 0);
		check(base + 0.25, 0);
		check(base + 0.75, 0);
		/* short dyadic fractions: exact decimals with 15..18 digits */
		double f = ldexp((double)(rng() >> 11), -(int)(rng() % 60));
		check(f, (i & 15) == 0);
		check((double)(int64_t)(rng() % 100000000) * 0.5 + 0.25, 0);
	}
}

static void test_number__prints_integers_like_percent_0f(void **state)
{
	(void)state;
	long n = scale(100000);
	for (long i = 0; i < n; i++) {
		int bits = 1 + (int)(rng() % 53);
		double v = (double)(rng() >> (64 - bits));
		check(v, 0);
		check(-v, 0);
		check(ldexp(v, (int)(rng() % 80)), (i & 15) == 0); /* past 2^53 */
	}
	char buf[LESION_DOUBLE_TEXT_MAX];
	lesion_double_shortest(9007199254740991.0, buf, sizeof(buf));
	assert_string_equal(buf, "9007199254740991");
	lesion_double_shortest(-0.0, buf, sizeof(buf));
	assert_string_equal(buf, "-0");
	lesion_double_shortest(0.0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	lesion_double_shortest(1e20, buf, sizeof(buf));
	assert_string_equal(buf, "1e+20");
}

static void test_number__examples_and_non_finite_values(void **state)
{
	(void)state;
	static const struct { double v; const char *text; } cases[] = {
		{0.1, "0.1"}, {0.1 + 0.2, "0.30000000000000004"}, {1e-5, "1e-05"},
		{1.5e-5, "1.5e-05"}, {0.0001, "0.0001"}, {1.5e20, "1.5e+20"},
		{73.4189453125 / 7, "10.488420758928571"}, {-2.5, "-2.5"},
		{1e100, "1e+100"}, {5e-324, "5e-324"}, {-3e-320, "-3e-320"},
		{DBL_MAX, "1.7976931348623157e+308"}, {123456.789, "123456.789"},
	};
	char buf[LESION_DOUBLE_TEXT_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lesion_double_shortest(cases[i].v, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
	const double odd[] = {INFINITY, -INFINITY, NAN, -NAN};
	for (size_t i = 0; i < 4; i++)
		check(odd[i], 1);
	lesion_double_shortest_g(1000000.0, 6, buf, sizeof(buf));
	assert_string_equal(buf, "1e+06");
	lesion_double_shortest_g(100000.0, 6, buf, sizeof(buf));
	assert_string_equal(buf, "100000");
	/* output.c's cli_format_number() starts at 15 digits, which only subnormals notice */
	lesion_double_shortest_g(5e-324, 15, buf, sizeof(buf));
	assert_string_equal(buf, "4.94065645841247e-324");
	lesion_double_shortest_g(-0.0, 6, buf, sizeof(buf));
	assert_string_equal(buf, "-0");
}

static void test_number__truncates_like_snprintf(void **state)
{
	(void)state;
	const double values[] = {10.488420758928571, -123456789, 1e-300};
	for (size_t i = 0; i < 3; i++) {
		char full[LESION_DOUBLE_TEXT_MAX];
		size_t len = lesion_double_shortest(values[i], full, sizeof(full));
		assert_int_equal(len, strlen(full));
		for (size_t size = 0; size <= len + 1; size++) {
			char small[LESION_DOUBLE_TEXT_MAX];
			memset(small, 'x', sizeof(small));
			assert_int_equal(lesion_double_shortest(values[i], small, size), len);
			if (size == 0) {
				assert_int_equal(small[0], 'x');
				continue;
			}
			assert_int_equal(strlen(small), size - 1 < len ? size - 1 : len);
			assert_memory_equal(small, full, strlen(small));
		}
	}
}

static int report(void **state)
{
	(void)state;
	printf("# %ld doubles compared with glibc\n", n_checked);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number__matches_glibc_shortest_on_random_doubles),
		cmocka_unit_test(test_number__matches_glibc_shortest_on_measurement_like_values),
		cmocka_unit_test(test_number__matches_glibc_at_powers_of_two_and_ten),
		cmocka_unit_test(test_number__matches_glibc_on_halfway_cases),
		cmocka_unit_test(test_number__prints_integers_like_percent_0f),
		cmocka_unit_test(test_number__examples_and_non_finite_values),
		cmocka_unit_test(test_number__truncates_like_snprintf),
	};
	return cmocka_run_group_tests(tests, NULL, report);
}
