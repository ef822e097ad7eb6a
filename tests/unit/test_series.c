/* test_series.c: lesion_series_run()'s hooks: every timepoint's counted
 * voxels in days order, every later timepoint's change map against the
 * baseline (NULL on another grid), and a hook's failure stopping the series. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lesionvol/change.h"

#define NX 8
#define NY 6
#define NZ 5
#define N (NX * NY * NZ)

static char dir[] = "/tmp/lesionvol-test-series-XXXXXX";

static const char *file(const char *name)
{
	static char path[4][256];
	static int turn;
	char *p = path[turn++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

/* voxel lists of each timepoint, in input order: t0 (days 30), t1 (days 1:
 * the baseline), t2 (days 90); t1 also has a one-voxel speck at 200 that
 * --min-voxels 2 drops */
static const int lesion_t0[] = {10, 11, 12, 18, 19};
static const int lesion_t1[] = {11, 12, 13, 200};
static const int lesion_t2[] = {12, 13, 14, 15};

static void write_mask(const char *name, const int *vox, size_t n, int nx)
{
	const int64_t dim[3] = {nx, NY, NZ};
	double m[4][4] = {{2, 0, 0, -5}, {0, 2, 0, 3}, {0, 0, 3, 1}, {0, 0, 0, 1}};
	struct lesion_volume *v = NULL;
	assert_int_equal(lesion_volume_create(dim, m, LESION_DT_UINT8, &v, NULL), LESION_OK);
	uint8_t *d = v->data;
	for (size_t i = 0; i < n; i++)
		d[vox[i]] = 1;
	assert_int_equal(lesion_volume_write(v, file(name), NULL), LESION_OK);
	lesion_volume_free(v);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	write_mask("t0.nii", lesion_t0, 5, NX);
	write_mask("t1.nii", lesion_t1, 4, NX);
	write_mask("t2.nii", lesion_t2, 4, NX);
	write_mask("other.nii", lesion_t2, 4, NX + 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	const char *names[] = {"t0.nii", "t1.nii", "t2.nii", "other.nii"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(file(names[i]));
	rmdir(dir);
	return 0;
}

/* What the hooks saw. */
struct seen {
	int n_masks, mask_index[4];
	uint8_t masks[4][N + NY * NZ];
	int n_maps, map_from[4], map_to[4], map_null[4];
	uint8_t maps[4][N];
	int fail_on_mask;               /* fail at this call (1-based), 0: never */
};

static enum lesion_status on_mask(void *ctx, int index, const struct lesion_volume *vol,
				  const uint8_t *mask, struct lesion_error *err)
{
	struct seen *s = ctx;
	assert_non_null(mask);
	memcpy(s->masks[s->n_masks], mask, (size_t)vol->geom.n_voxels);
	s->mask_index[s->n_masks++] = index;
	if (s->n_masks == s->fail_on_mask)
		return lesion_error_set(err, LESION_ERR_PARTIAL, "unable to write 'x'");
	return LESION_OK;
}

static enum lesion_status on_map(void *ctx, int from, int to, const struct lesion_volume *vol,
				 const uint8_t *map, struct lesion_error *err)
{
	(void)err;
	struct seen *s = ctx;
	s->map_from[s->n_maps] = from;
	s->map_to[s->n_maps] = to;
	s->map_null[s->n_maps] = map == NULL;
	if (map)
		memcpy(s->maps[s->n_maps], map, (size_t)vol->geom.n_voxels);
	s->n_maps++;
	return LESION_OK;
}

static void options(struct lesion_series_options *so, struct seen *s, const double *days)
{
	memset(so, 0, sizeof(*so));
	lesion_rule_init(&so->rule);
	so->rule.min_voxels = 2;
	so->volume_index = -1;
	so->days = days;
	so->on_mask = on_mask;
	so->on_change_map = on_map;
	so->hook_ctx = s;
}

static void expect_mask(const uint8_t *mask, const int *vox, size_t n, int skip)
{
	uint8_t want[N] = {0};
	for (size_t i = 0; i < n; i++)
		if (vox[i] != skip)
			want[vox[i]] = 1;
	assert_memory_equal(mask, want, N);
}

static void test_series__hooks_get_counted_voxels_and_baseline_maps(void **state)
{
	(void)state;
	const char *paths[] = {file("t0.nii"), file("t1.nii"), file("t2.nii")};
	const double days[] = {30, 1, 90};
	struct lesion_series_options so;
	struct lesion_series s;
	struct seen *seen = calloc(1, sizeof(*seen));
	assert_non_null(seen);
	options(&so, seen, days);
	assert_int_equal(lesion_series_run(paths, 3, &so, &s, NULL), LESION_OK);
	/* masks in days order, each after the size filter */
	assert_int_equal(seen->n_masks, 3);
	assert_int_equal(seen->mask_index[0], 1);
	assert_int_equal(seen->mask_index[1], 0);
	assert_int_equal(seen->mask_index[2], 2);
	expect_mask(seen->masks[0], lesion_t1, 4, 200);
	expect_mask(seen->masks[1], lesion_t0, 5, -1);
	expect_mask(seen->masks[2], lesion_t2, 4, -1);
	assert_int_equal(s.measurements[1].lesion_voxels, 3);
	/* maps of t0 and t2 against t1, as --out-change codes them */
	assert_int_equal(seen->n_maps, 2);
	for (int k = 0; k < 2; k++) {
		int to = k == 0 ? 0 : 2;
		assert_int_equal(seen->map_from[k], 1);
		assert_int_equal(seen->map_to[k], to);
		assert_false(seen->map_null[k]);
		uint8_t want[N] = {0};
		const int *later = to == 0 ? lesion_t0 : lesion_t2;
		size_t n_later = to == 0 ? 5 : 4;
		for (size_t i = 0; i < 3; i++)
			want[lesion_t1[i]] = LESION_CHANGE_RESOLVED;
		for (size_t i = 0; i < n_later; i++)
			want[later[i]] = want[later[i]] ? LESION_CHANGE_PERSISTENT
				       : LESION_CHANGE_NEW;
		assert_memory_equal(seen->maps[k], want, N);
	}
	lesion_series_release(&s);
	free(seen);
}

static void test_series__other_grid_gets_null_map(void **state)
{
	(void)state;
	const char *paths[] = {file("t1.nii"), file("other.nii")};
	struct lesion_series_options so;
	struct lesion_series s;
	struct seen *seen = calloc(1, sizeof(*seen));
	assert_non_null(seen);
	options(&so, seen, NULL);
	assert_int_equal(lesion_series_run(paths, 2, &so, &s, NULL), LESION_OK);
	assert_int_equal(seen->n_masks, 2);
	assert_int_equal(seen->n_maps, 1);
	assert_true(seen->map_null[0]);
	assert_false(s.changes[0].same_grid);
	assert_true(strstr(s.changes[0].warning, "different grids") != NULL);
	lesion_series_release(&s);
	free(seen);
}

static void test_series__single_timepoint_mask_without_streaming(void **state)
{
	(void)state;
	const char *paths[] = {file("t1.nii")};
	struct lesion_series_options so;
	struct lesion_series s;
	struct seen *seen = calloc(1, sizeof(*seen));
	assert_non_null(seen);
	options(&so, seen, NULL);
	assert_int_equal(lesion_series_run(paths, 1, &so, &s, NULL), LESION_OK);
	assert_int_equal(seen->n_masks, 1);
	expect_mask(seen->masks[0], lesion_t1, 4, 200);
	assert_int_equal(seen->n_maps, 0);
	lesion_series_release(&s);
	free(seen);
}

static void test_series__hook_failure_stops_the_series(void **state)
{
	(void)state;
	const char *paths[] = {file("t0.nii"), file("t1.nii"), file("t2.nii")};
	struct lesion_series_options so;
	struct lesion_series s;
	struct lesion_error err = {0};
	struct seen *seen = calloc(1, sizeof(*seen));
	assert_non_null(seen);
	options(&so, seen, NULL);
	seen->fail_on_mask = 2;
	assert_int_equal(lesion_series_run(paths, 3, &so, &s, &err), LESION_ERR_PARTIAL);
	assert_string_equal(err.message, "unable to write 'x'");
	assert_int_equal(seen->n_masks, 2);
	assert_int_equal(seen->n_maps, 0);
	lesion_series_release(&s);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series__hooks_get_counted_voxels_and_baseline_maps),
		cmocka_unit_test(test_series__other_grid_gets_null_map),
		cmocka_unit_test(test_series__single_timepoint_mask_without_streaming),
		cmocka_unit_test(test_series__hook_failure_stops_the_series),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
