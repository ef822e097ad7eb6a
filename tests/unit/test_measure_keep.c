/* test_measure_keep.c: lesion_measure_keep(), the hook of multi-image rules,
 * against the same rule measured on an image where the excluded voxels were
 * set to background by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lesionvol/segment.h"
#include "lesionvol/volume.h"

enum { NX = 17, NY = 13, NZ = 11, NV = NX * NY * NZ };

static struct lesion_volume *make_volume(void)
{
	const int64_t dim[3] = {NX, NY, NZ};
	double aff[4][4] = {{2, 0, 0, -10}, {0, 2, 0, 5}, {0, 0, 3, 0}, {0, 0, 0, 1}};
	struct lesion_volume *v = NULL;
	assert_int_equal(lesion_volume_create(dim, aff, LESION_DT_FLOAT32, &v, NULL), LESION_OK);
	return v;
}

/* a deterministic pseudo-random field with values in [-1, 3) and a few NaNs */
static void fill(struct lesion_volume *v, uint32_t seed)
{
	float *f = v->data;
	for (int i = 0; i < NV; i++) {
		seed = seed * 1664525u + 1013904223u;
		f[i] = (float)((seed >> 8) % 4000) / 1000.0f - 1.0f;
		if (i % 97 == 5)
			f[i] = NAN;
	}
}

static void test_measure_keep__equals_the_rule_on_an_image_with_excluded_voxels_zeroed(void **state)
{
	(void)state;
	struct lesion_volume *v = make_volume(), *w = make_volume();
	fill(v, 7);
	uint8_t *keep = malloc(NV);
	assert_non_null(keep);
	const float *src = v->data;
	float *dst = w->data;
	uint32_t seed = 99;
	for (int i = 0; i < NV; i++) {
		seed = seed * 1664525u + 1013904223u;
		keep[i] = (uint8_t)((seed >> 12) % 3 != 0) * (uint8_t)(1 + (seed >> 20) % 200);
		dst[i] = keep[i] || isnan(src[i]) ? src[i] : 0.0f;
	}
	for (int conn = 6; conn <= 26; conn += conn == 6 ? 12 : 8) {
		struct lesion_rule rule;
		lesion_rule_init(&rule);
		rule.connectivity = conn;
		rule.has_thr = 1;
		rule.thr = 0.5; /* zeroed voxels fail it as excluded ones must */
		rule.min_voxels = 2;
		struct lesion_measurement a, b;
		assert_int_equal(lesion_measure_keep(v, NULL, keep, &rule, &a, NULL, NULL), LESION_OK);
		assert_int_equal(lesion_measure(w, NULL, &rule, &b, NULL, NULL), LESION_OK);
		assert_true(a.lesion_voxels > 0);
		assert_int_equal(a.lesion_voxels, b.lesion_voxels);
		assert_int_equal(a.n_components, b.n_components);
		assert_int_equal(a.nan_voxels, b.nan_voxels);
		for (int64_t l = 0; l < a.n_components; l++) {
			assert_int_equal(a.components[l].voxels, b.components[l].voxels);
			assert_true(a.components[l].mean == b.components[l].mean);
			assert_true(a.components[l].max == b.components[l].max);
		}
		lesion_measurement_release(&a);
		lesion_measurement_release(&b);
	}
	free(keep);
	lesion_volume_free(v);
	lesion_volume_free(w);
}

static void test_measure_keep__null_keep_is_lesion_measure(void **state)
{
	(void)state;
	struct lesion_volume *v = make_volume();
	fill(v, 3);
	struct lesion_rule rule;
	lesion_rule_init(&rule);
	struct lesion_measurement a, b;
	assert_int_equal(lesion_measure_keep(v, NULL, NULL, &rule, &a, NULL, NULL), LESION_OK);
	assert_int_equal(lesion_measure(v, NULL, &rule, &b, NULL, NULL), LESION_OK);
	assert_int_equal(a.lesion_voxels, b.lesion_voxels);
	assert_int_equal(a.n_components, b.n_components);
	lesion_measurement_release(&a);
	lesion_measurement_release(&b);
	lesion_volume_free(v);
}

/* holes are filled after @keep, as after the brain mask: a shell kept by
 * the criterion encloses voxels the criterion excluded, which become lesion */
static void test_measure_keep__holes_are_filled_after_keep(void **state)
{
	(void)state;
	struct lesion_volume *v = make_volume();
	float *f = v->data;
	uint8_t *keep = calloc(NV, 1);
	assert_non_null(keep);
	for (int k = 2; k <= 6; k++)
		for (int j = 2; j <= 6; j++)
			for (int i = 2; i <= 6; i++) {
				int idx = i + NX * (j + NY * k);
				f[idx] = 1.0f;
				int inner = i > 2 && i < 6 && j > 2 && j < 6 && k > 2 && k < 6;
				keep[idx] = (uint8_t)!inner;
			}
	struct lesion_rule rule;
	lesion_rule_init(&rule);
	struct lesion_measurement m;
	struct lesion_segmentation seg = {.want_mask = 1};
	assert_int_equal(lesion_measure_keep(v, NULL, keep, &rule, &m, &seg, NULL), LESION_OK);
	assert_int_equal(m.lesion_voxels, 125 - 27);
	assert_int_equal(seg.mask[4 + NX * (4 + NY * 4)], 0);
	lesion_measurement_release(&m);
	lesion_segmentation_release(&seg);
	rule.fill_holes = 1;
	assert_int_equal(lesion_measure_keep(v, NULL, keep, &rule, &m, NULL, NULL), LESION_OK);
	assert_int_equal(m.lesion_voxels, 125);
	assert_int_equal(m.n_components, 1);
	lesion_measurement_release(&m);
	free(keep);
	lesion_volume_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measure_keep__equals_the_rule_on_an_image_with_excluded_voxels_zeroed),
		cmocka_unit_test(test_measure_keep__null_keep_is_lesion_measure),
		cmocka_unit_test(test_measure_keep__holes_are_filled_after_keep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
