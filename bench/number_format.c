/* number_format.c: nanoseconds per number of lesion_double_shortest() against
 * the snprintf("%.{p}g") + strtod() loops it replaced, on the kind of values
 * lesionvol writes (centroids, means, volumes, counts). Not part of the build:
 *
 *   cc -O2 -Iinclude bench/number_format.c src/lib/number.c -lm -o /tmp/nf
 *   /tmp/nf            # a few seconds; prints one line per kind of value
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lesionvol/number.h"

enum { N = 1 << 16, ROUNDS = 8 };

/* the loops the library had: output.c's tried 15, 16, then 17 digits;
 * cohort_util.c's and simulate.c's 1 to 17 */
static size_t old_loop(double v, int from, char *buf, size_t size)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return (size_t)snprintf(buf, size, "%.0f", v);
	for (int p = from; p <= 17; p++) {
		snprintf(buf, size, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return strlen(buf);
}

static size_t old_from_15(double v, char *buf, size_t size)
{
	return old_loop(v, 15, buf, size);
}

static size_t old_from_1(double v, char *buf, size_t size)
{
	return old_loop(v, 1, buf, size);
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double time_ns(size_t (*fn)(double, char *, size_t), const double *v)
{
	char buf[LESION_DOUBLE_TEXT_MAX];
	size_t sink = 0;
	double best = INFINITY;
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();
		for (int i = 0; i < N; i++)
			sink += fn(v[i], buf, sizeof(buf));
		double t = (now_ns() - t0) / N;
		if (t < best)
			best = t;
	}
	if (sink == 0)
		puts("");
	return best;
}

int main(void)
{
	static double v[N];
	static const char *kinds[] = {
		"centroid mm (sum / count)", "mean intensity", "volume mm^3 (count * float32 voxel)",
		"voxel count (integer)",
	};
	uint64_t s = 42;
	printf("%-38s %10s %10s %10s\n", "values", "old 15..17", "old 1..17", "new");
	for (int kind = 0; kind < 4; kind++) {
		for (int i = 0; i < N; i++) {
			s = s * 6364136223846793005u + 1442695040888963407u;
			double count = (double)(1 + (s >> 40) % 5000);
			double x = (double)((s >> 20) % 100000);
			if (kind == 0)
				v[i] = (x * 0.5 + 73.4189453125) / count;
			else if (kind == 1)
				v[i] = (x * 3.0 + 0.25) / count;
			else if (kind == 2)
				v[i] = count * (double)(0.9375f * 0.9375f * 1.2f);
			else
				v[i] = count;
		}
		printf("%-38s %8.0f ns %8.0f ns %8.0f ns\n", kinds[kind], time_ns(old_from_15, v),
		       time_ns(old_from_1, v), time_ns(lesion_double_shortest, v));
	}
	return 0;
}
