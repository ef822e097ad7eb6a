/* test_simulate.c: the generator's building blocks (random streams, exp,
 * value noise), its parameter checks, and a tiny cohort whose masks are
 * read back and counted against its truth. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/simulate.h"
#include "lesionvol/volume.h"
#include "simulate_internal.h"

static void test_simulate__mix64_is_splitmix64(void **state)
{
	(void)state;
	/* splitmix64's published first two outputs from state 0 */
	assert_true(sim_mix64(UINT64_C(0x9e3779b97f4a7c15)) == UINT64_C(0xe220a8397b1dcdaf));
	assert_true(sim_mix64(UINT64_C(0x3c6ef372fe94f82a)) == UINT64_C(0x6e789e6aa1b965f4));
}

static void test_simulate__streams_are_reproducible_and_distinct(void **state)
{
	(void)state;
	struct sim_rng a, b, c;
	sim_rng_init(&a, 1, SIM_STREAM_NOISE, 3, 2);
	sim_rng_init(&b, 1, SIM_STREAM_NOISE, 3, 2);
	sim_rng_init(&c, 1, SIM_STREAM_NOISE, 2, 3);
	int same_c = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = sim_rng_next(&a);
		assert_true(x == sim_rng_next(&b));
		same_c += x == sim_rng_next(&c);
	}
	assert_int_equal(same_c, 0);
}

static void test_simulate__exp_agrees_with_libm(void **state)
{
	(void)state;
	for (double x = -60.0; x <= 60.0; x += 0.173) {
		double e = exp(x), s = sim_exp(x);
		assert_true(fabs(s - e) <= 4e-16 * e);
	}
	assert_true(sim_exp(0.0) == 1.0);
	assert_true(sim_exp(-800.0) == 0.0);
}

static void test_simulate__normals_have_unit_variance(void **state)
{
	(void)state;
	struct sim_rng r;
	sim_rng_init(&r, 7, SIM_STREAM_SUBJECT, 0, 0);
	double s1 = 0, s2 = 0, f1 = 0, f2 = 0;
	const int n = 200000;
	for (int i = 0; i < n; i++) {
		double z = sim_rng_normal(&r), w = sim_normal_from_bits(sim_rng_next(&r));
		s1 += z;
		s2 += z * z;
		f1 += w;
		f2 += w * w;
	}
	assert_true(fabs(s1 / n) < 0.01 && fabs(s2 / n - 1.0) < 0.02);
	assert_true(fabs(f1 / n) < 0.01 && fabs(f2 / n - 1.0) < 0.02);
}

static void test_simulate__noise_row_equals_points(void **state)
{
	(void)state;
	struct sim_noise n;
	sim_noise_init(&n, 42, 7.5);
	double xs[300], row[300];
	for (int i = 0; i < 300; i++)
		xs[i] = -90.0 + 0.6 * i;
	sim_noise_row(&n, xs, 300, 12.25, -33.5, row);
	for (int i = 0; i < 300; i++) {
		double p = sim_noise_at(&n, xs[i], 12.25, -33.5);
		assert_true(row[i] == p);
		assert_true(p >= -1.0 && p <= 1.0);
		if (i)
			/* lattice steps are at most 2, the fade slope at most 1.875 */
			assert_true(fabs(row[i] - row[i - 1]) <= 0.6 * 2.0 * 1.875 / 7.5);
	}
}

static void test_simulate__session_days(void **state)
{
	(void)state;
	static const int want[] = {1, 7, 90, 180, 365, 730, 1095};
	for (int i = 0; i < 7; i++)
		assert_int_equal(lesion_sim_session_days(i), want[i]);
}

static void test_simulate__params_check_refuses_bad_values(void **state)
{
	(void)state;
	struct lesion_sim_params p;
	struct lesion_error err;
	lesion_sim_params_init(&p);
	assert_int_equal(lesion_sim_params_check(&p, &err), LESION_OK);
	p.dim[1] = 8;
	assert_int_equal(lesion_sim_params_check(&p, &err), LESION_ERR_USAGE);
	assert_non_null(strstr(err.message, "dimension"));
	lesion_sim_params_init(&p);
	p.voxel_size_mm[2] = 0.0;
	assert_int_equal(lesion_sim_params_check(&p, &err), LESION_ERR_USAGE);
	lesion_sim_params_init(&p);
	strcpy(p.groups[1], "treated");
	assert_int_equal(lesion_sim_params_check(&p, &err), LESION_ERR_USAGE);
	assert_non_null(strstr(err.message, "twice"));
	lesion_sim_params_init(&p);
	strcpy(p.groups[0], "a b");
	assert_int_equal(lesion_sim_params_check(&p, &err), LESION_ERR_USAGE);
	lesion_sim_params_init(&p);
	p.effect = 1.0;
	assert_int_equal(lesion_sim_params_check(&p, NULL), LESION_ERR_USAGE);
	lesion_sim_params_init(&p);
	p.datatype = LESION_DT_INT32;
	assert_int_equal(lesion_sim_params_check(&p, NULL), LESION_ERR_USAGE);
	lesion_sim_params_init(&p);
	p.dim[0] = p.dim[1] = p.dim[2] = 2048;
	assert_int_equal(lesion_sim_params_check(&p, NULL), LESION_ERR_USAGE);
}

static void test_simulate__voxel_size_is_rounded_to_float32(void **state)
{
	(void)state;
	struct lesion_sim_params p;
	lesion_sim_params_init(&p);
	p.voxel_size_mm[0] = 1.2;
	assert_int_equal(lesion_sim_params_check(&p, NULL), LESION_OK);
	assert_true(p.voxel_size_mm[0] == (double)1.2f);
}

static void test_simulate__tiny_cohort_truth_matches_its_masks(void **state)
{
	(void)state;
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/lesionvol-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct lesion_sim_params p;
	struct lesion_error err;
	struct lesion_sim_truth *truth = NULL;
	lesion_sim_params_init(&p);
	p.n_subjects = 2;
	p.n_sessions = 2;
	p.dim[0] = 40;
	p.dim[1] = 48;
	p.dim[2] = 40;
	for (int i = 0; i < 3; i++)
		p.voxel_size_mm[i] = 4.5;
	p.gzip = 0;
	assert_int_equal(lesion_simulate_cohort(dir, &p, &truth, &err), LESION_OK);
	assert_non_null(truth);
	for (int i = 0; i < 4; i++) {
		char path[256];
		struct lesion_volume *v;
		snprintf(path, sizeof(path), "%s/%s", dir, truth[i].image);
		assert_int_equal(lesion_volume_read(path, -1, &v, &err), LESION_OK);
		int64_t n = 0;
		for (int64_t k = 0; k < v->geom.n_voxels; k++)
			n += ((const uint8_t *)v->data)[k] != 0;
		assert_true(n == truth[i].lesion_voxels);
		assert_true(n > 0);
		assert_true(truth[i].lesion_volume_mm3 == (double)n * v->geom.voxel_volume_mm3);
		assert_true(truth[i].n_components >= 1);
		lesion_volume_free(v);
	}
	free(truth);
	/* a second run into the same, now non-empty, folder is refused */
	assert_int_equal(lesion_simulate_cohort(dir, &p, NULL, &err), LESION_ERR_USAGE);
	assert_non_null(strstr(err.message, "not empty"));
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulate__mix64_is_splitmix64),
		cmocka_unit_test(test_simulate__streams_are_reproducible_and_distinct),
		cmocka_unit_test(test_simulate__exp_agrees_with_libm),
		cmocka_unit_test(test_simulate__normals_have_unit_variance),
		cmocka_unit_test(test_simulate__noise_row_equals_points),
		cmocka_unit_test(test_simulate__session_days),
		cmocka_unit_test(test_simulate__params_check_refuses_bad_values),
		cmocka_unit_test(test_simulate__voxel_size_is_rounded_to_float32),
		cmocka_unit_test(test_simulate__tiny_cohort_truth_matches_its_masks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
