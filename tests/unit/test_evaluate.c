/* test_evaluate.c: the distance transform against brute force, numpy's
 * percentile, and the ISLES'22 lesion-wise counts on masks built here. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evaluate_internal.h"
#include "lesionvol/evaluate.h"

/* |a - b| <= tol; exact comparison when tol is 0 */
#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

#define NX 11
#define NY 9
#define NZ 7
#define N (NX * NY * NZ)
#define IDX(i, j, k) ((i) + NX * ((j) + NY * (k)))

static uint32_t rng = 12345;
static uint32_t next_random(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

static void grid(struct lesion_geometry *g, double sx, double sy, double sz)
{
	memset(g, 0, sizeof(*g));
	g->dim[0] = NX;
	g->dim[1] = NY;
	g->dim[2] = NZ;
	g->n_voxels = N;
	g->voxel_size_mm[0] = sx;
	g->voxel_size_mm[1] = sy;
	g->voxel_size_mm[2] = sz;
	g->voxel_volume_mm3 = sx * sy * sz;
}

static void test_evaluate__edt_equals_brute_force_with_anisotropic_voxels(void **state)
{
	(void)state;
	const int64_t dim[3] = {NX, NY, NZ};
	const double sp[3] = {0.7, 1.9, 3.1};
	double *f = malloc(N * sizeof(*f));
	uint8_t feat[N];
	for (int trial = 0; trial < 20; trial++) {
		/* from a single feature to dense ones */
		int every = trial < 5 ? 500 : trial < 10 ? 60 : 7;
		int any = 0;
		for (int i = 0; i < N; i++) {
			feat[i] = next_random() % every == 0;
			any |= feat[i];
		}
		if (!any)
			feat[next_random() % N] = 1;
		for (int i = 0; i < N; i++)
			f[i] = feat[i] ? 0.0 : INFINITY;
		assert_int_equal(lesion_edt_squared(f, dim, sp, NULL), LESION_OK);
		for (int k = 0; k < NZ; k++)
			for (int j = 0; j < NY; j++)
				for (int i = 0; i < NX; i++) {
					double best = INFINITY;
					for (int c = 0; c < NZ; c++)
						for (int b = 0; b < NY; b++)
							for (int a = 0; a < NX; a++) {
								if (!feat[IDX(a, b, c)])
									continue;
								double dx = (i - a) * sp[0];
								double dy = (j - b) * sp[1];
								double dz = (k - c) * sp[2];
								double d = dx * dx + dy * dy + dz * dz;
								if (d < best)
									best = d;
							}
					NEAR(f[IDX(i, j, k)], best, 1e-9);
				}
	}
	free(f);
}

static void test_evaluate__edt_without_features_stays_infinite(void **state)
{
	(void)state;
	const int64_t dim[3] = {NX, NY, NZ};
	const double sp[3] = {1, 1, 1};
	double *f = malloc(N * sizeof(*f));
	for (int i = 0; i < N; i++)
		f[i] = INFINITY;
	assert_int_equal(lesion_edt_squared(f, dim, sp, NULL), LESION_OK);
	for (int i = 0; i < N; i++)
		assert_true(isinf(f[i]));
	free(f);
}

static void test_evaluate__percentile_interpolates_like_numpy(void **state)
{
	(void)state;
	const double v[] = {0, 1, 2, 10};
	/* numpy.percentile([0, 1, 2, 10], q): index 3 * q / 100 */
	NEAR(lesion_percentile_linear(v, 4, 95), 8.8, 1e-12);
	NEAR(lesion_percentile_linear(v, 4, 50), 1.5, 1e-12);
	NEAR(lesion_percentile_linear(v, 4, 100), 10, 0);
	NEAR(lesion_percentile_linear(v, 4, 0), 0, 0);
	NEAR(lesion_percentile_linear(v, 1, 95), 0, 0);
	assert_true(isnan(lesion_percentile_linear(v, 0, 95)));
}

/* Labels of hand-made lesions: @ids[i] at the listed voxels. */
static void paint(int32_t *labels, int label, const int (*ijk)[3], int n)
{
	for (int i = 0; i < n; i++)
		labels[IDX(ijk[i][0], ijk[i][1], ijk[i][2])] = label;
}

static void test_evaluate__lesion_wise_counts_follow_isles22(void **state)
{
	(void)state;
	struct lesion_geometry g;
	grid(&g, 1, 1, 2);
	int32_t *seg = calloc(N, sizeof(*seg)), *ref = calloc(N, sizeof(*ref));
	/* reference: lesion 1 (3 voxels), lesion 2 (1 voxel), lesion 3 (1) */
	const int r1[][3] = {{2, 2, 2}, {3, 2, 2}, {4, 2, 2}};
	const int r2[][3] = {{8, 6, 4}};
	const int r3[][3] = {{1, 7, 5}};
	paint(ref, 1, r1, 3);
	paint(ref, 2, r2, 1);
	paint(ref, 3, r3, 1);
	/* segmentation: lesion 1 touches reference 1 by one voxel; lesion 2
	 * covers reference 2; lesion 3 touches nothing; reference 3 missed */
	const int s1[][3] = {{4, 2, 2}, {5, 2, 2}};
	const int s2[][3] = {{8, 6, 4}, {8, 7, 4}};
	const int s3[][3] = {{9, 1, 1}};
	paint(seg, 1, s1, 2);
	paint(seg, 2, s2, 2);
	paint(seg, 3, s3, 1);
	struct lesion_evaluation e;
	assert_int_equal(lesion_evaluate_labels(&g, seg, 3, ref, 3, &e, NULL), LESION_OK);
	assert_int_equal(e.lesion_tp, 2);
	assert_int_equal(e.lesion_fn, 1);
	assert_int_equal(e.lesion_fp, 1);
	NEAR(e.lesion_f1, 2.0 / (2.0 + 1.0), 1e-15);
	assert_int_equal(e.lesion_count_difference, 0);
	assert_int_equal(e.overlap_voxels, 2);
	NEAR(e.dice, 2.0 * 2 / (5 + 5), 1e-15);
	NEAR(e.jaccard, 2.0 / 8, 1e-15);
	NEAR(e.volume_similarity, 1.0, 0);
	NEAR(e.abs_volume_difference_ml, 0.0, 0);
	free(seg);
	free(ref);
}

static void test_evaluate__both_empty_is_perfect_and_distances_undefined(void **state)
{
	(void)state;
	struct lesion_geometry g;
	grid(&g, 1, 1, 1);
	int32_t *seg = calloc(N, sizeof(*seg)), *ref = calloc(N, sizeof(*ref));
	struct lesion_evaluation e;
	assert_int_equal(lesion_evaluate_labels(&g, seg, 0, ref, 0, &e, NULL), LESION_OK);
	NEAR(e.dice, 1, 0);
	NEAR(e.jaccard, 1, 0);
	NEAR(e.lesion_f1, 1, 0);
	NEAR(e.volume_similarity, 1, 0);
	assert_true(isnan(e.sensitivity) && isnan(e.precision));
	assert_true(isnan(e.hd95_mm) && isnan(e.hausdorff_mm) && isnan(e.assd_mm));
	/* one side empty: F1 0, distances still undefined */
	ref[IDX(3, 3, 3)] = 1;
	assert_int_equal(lesion_evaluate_labels(&g, seg, 0, ref, 1, &e, NULL), LESION_OK);
	NEAR(e.lesion_f1, 0, 0);
	NEAR(e.sensitivity, 0, 0);
	assert_true(isnan(e.precision) && isnan(e.hd95_mm));
	free(seg);
	free(ref);
}

static void test_evaluate__surface_touching_the_border_counts(void **state)
{
	(void)state;
	struct lesion_geometry g;
	grid(&g, 2, 1, 1);
	int32_t *a = calloc(N, sizeof(*a)), *b = calloc(N, sizeof(*b));
	/* a: the whole grid (every voxel on the border is surface, the inside is
	 * not); b: one corner voxel */
	for (int i = 0; i < N; i++)
		a[i] = 1;
	b[IDX(0, 0, 0)] = 1;
	struct lesion_surface_stats s;
	assert_int_equal(lesion_surface_distances(&g, a, b, &s, NULL), LESION_OK);
	int64_t inner = (int64_t)(NX - 2) * (NY - 2) * (NZ - 2);
	assert_int_equal(s.n_a, N - inner);
	assert_int_equal(s.n_b, 1);
	/* farthest surface voxel of a from (0,0,0): the opposite corner */
	double far = sqrt(pow(2.0 * (NX - 1), 2) + pow(NY - 1, 2) + pow(NZ - 1, 2));
	NEAR(s.hausdorff_mm, far, 1e-12);
	free(a);
	free(b);
}

static void test_evaluate__label_out_of_range_is_an_input_error(void **state)
{
	(void)state;
	struct lesion_geometry g;
	grid(&g, 1, 1, 1);
	int32_t *seg = calloc(N, sizeof(*seg)), *ref = calloc(N, sizeof(*ref));
	seg[5] = 2;
	struct lesion_evaluation e;
	struct lesion_error err;
	assert_int_equal(lesion_evaluate_labels(&g, seg, 1, ref, 0, &e, &err),
			 LESION_ERR_INPUT);
	free(seg);
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evaluate__edt_equals_brute_force_with_anisotropic_voxels),
		cmocka_unit_test(test_evaluate__edt_without_features_stays_infinite),
		cmocka_unit_test(test_evaluate__percentile_interpolates_like_numpy),
		cmocka_unit_test(test_evaluate__lesion_wise_counts_follow_isles22),
		cmocka_unit_test(test_evaluate__both_empty_is_perfect_and_distances_undefined),
		cmocka_unit_test(test_evaluate__surface_touching_the_border_counts),
		cmocka_unit_test(test_evaluate__label_out_of_range_is_an_input_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
