/* test_sweep.c: the fast paths of measure give exactly what the plain ones
 * give: thresholds tested in the stored type, the one-sweep labelling from
 * memory or streamed from the file, on any thread count. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "components_internal.h"
#include "lesionvol/volume.h"
#include "segment_internal.h"
#include "sweep_internal.h"

static char tmp_dir[64];

static int make_tmp_dir(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/lesionvol-unit-XXXXXX");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_tmp_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint32_t rng = 2463534242u;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static struct lesion_volume *new_volume(const int64_t dim[3], enum lesion_dtype dt)
{
	double m[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	struct lesion_volume *v = NULL;
	struct lesion_error err;
	assert_int_equal(lesion_volume_create(dim, m, dt, &v, &err), LESION_OK);
	return v;
}

/* Store @x (a value the type can hold, or nearly) as voxel @i. */
static void set_value(struct lesion_volume *v, int64_t i, double x)
{
	switch (v->dtype) {
	case LESION_DT_UINT8: ((uint8_t *)v->data)[i] = (uint8_t)fmin(fmax(x, 0), 255); break;
	case LESION_DT_INT8: ((int8_t *)v->data)[i] = (int8_t)fmin(fmax(x, -128), 127); break;
	case LESION_DT_INT16: ((int16_t *)v->data)[i] = (int16_t)fmin(fmax(x, -32768), 32767); break;
	case LESION_DT_UINT16: ((uint16_t *)v->data)[i] = (uint16_t)fmin(fmax(x, 0), 65535); break;
	/* clamped: a double outside the type is undefined behaviour to cast
	 * (-fsanitize=float-cast-overflow); 0x1p63 - 1024 and 0x1p64 - 2048 are
	 * the largest doubles below 2^63 and 2^64 */
	case LESION_DT_INT32:
		((int32_t *)v->data)[i] = (int32_t)fmin(fmax(x, INT32_MIN), INT32_MAX); break;
	case LESION_DT_UINT32:
		((uint32_t *)v->data)[i] = (uint32_t)fmin(fmax(x, 0), UINT32_MAX); break;
	case LESION_DT_INT64:
		((int64_t *)v->data)[i] = (int64_t)fmin(fmax(x, -0x1p63), 0x1p63 - 1024); break;
	case LESION_DT_UINT64:
		((uint64_t *)v->data)[i] = (uint64_t)fmin(fmax(x, 0), 0x1p64 - 2048); break;
	case LESION_DT_FLOAT32: ((float *)v->data)[i] = (float)x; break;
	case LESION_DT_FLOAT64: ((double *)v->data)[i] = x; break;
	}
}

/* the segmentation rule on doubles, as a reader would write it. */
static uint8_t reference_in(double v, const struct lesion_bounds *b)
{
	if (isnan(v))
		return 0;
	int lower = b->lower_strict ? v > b->lower : v >= b->lower;
	return (uint8_t)(lower && v <= b->upper && !(b->exclude_zero && v == 0.0));
}

static void test_sweep__threshold_in_stored_type_matches_doubles(void **state)
{
	(void)state;
	static const enum lesion_dtype types[] = {
		LESION_DT_UINT8, LESION_DT_INT8, LESION_DT_INT16, LESION_DT_UINT16,
		LESION_DT_INT32, LESION_DT_UINT32, LESION_DT_INT64, LESION_DT_UINT64,
		LESION_DT_FLOAT32, LESION_DT_FLOAT64};
	static const double bounds[] = {-INFINITY, -1e10, -129, -1.5, -1, -0.1, 0, 0.1,
		0.5, 0.49999999999999994, 1, 1.5, 99.5, 100, 255, 256, 32767.5, 1e10,
		16777217.0, 0.1f, INFINITY};
	const int nb = (int)(sizeof(bounds) / sizeof(bounds[0]));
	const int64_t dim[3] = {97, 3, 2};
	for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
		for (int scaled = 0; scaled < 2; scaled++) {
			struct lesion_volume *v = new_volume(dim, types[ti]);
			const int64_t n = v->geom.n_voxels;
			for (int64_t i = 0; i < n; i++) {
				/* values next to every bound, and plain noise */
				double x = i < nb ? bounds[i] : (double)(int32_t)next_random() / 1e5;
				if (i >= nb && i < 2 * nb)
					x = nextafter(bounds[i - nb], 0);
				if (i % 17 == 0)
					x = 0;
				if (i % 31 == 0 && (types[ti] == LESION_DT_FLOAT32 ||
						    types[ti] == LESION_DT_FLOAT64))
					x = NAN;
				set_value(v, i, isinf(x) ? (x > 0 ? 1e300 : -1e300) : x);
			}
			if (scaled) {
				v->scaled = 1;
				v->scl_slope = 0.37;
				v->scl_inter = -3.25;
			}
			double *vals = malloc(sizeof(double) * (size_t)n);
			uint8_t *got = malloc((size_t)n);
			lesion_volume_values(v, 0, n, vals);
			for (int lo = 0; lo < nb; lo++)
				for (int hi = 0; hi < nb; hi += 3)
					for (int flags = 0; flags < 4; flags++) {
						struct lesion_bounds b = {0};
						b.lower = bounds[lo];
						b.upper = bounds[hi];
						b.lower_strict = flags & 1;
						b.exclude_zero = (flags >> 1) & 1;
						struct lesion_threshold t;
						lesion_threshold_init(&t, v, NULL, &b, 2);
						int64_t nan = lesion_threshold_span(&t, 0, n, got);
						int64_t want_nan = 0;
						for (int64_t i = 0; i < n; i++) {
							uint8_t want = isnan(vals[i]) ? 2 : reference_in(vals[i], &b);
							want_nan += isnan(vals[i]);
							if (got[i] != want)
								fail_msg("type %d scaled %d voxel %lld value %.17g "
									 "bounds [%.17g, %.17g] flags %d: %d, want %d",
									 types[ti], scaled, (long long)i, vals[i],
									 b.lower, b.upper, flags, got[i], want);
						}
						assert_int_equal(nan, want_nan);
					}
			free(vals);
			free(got);
			lesion_volume_free(v);
		}
	}
}

/* Blobs of random sizes, so components touch by faces, edges and corners,
 * on a background of small values or, @sparse, of zeros (as in a lesion
 * mask: most rows stored as zero bytes). */
static void fill_blobs(struct lesion_volume *v, int sparse)
{
	const int64_t nx = v->geom.dim[0], ny = v->geom.dim[1], nz = v->geom.dim[2];
	for (int64_t i = 0; i < v->geom.n_voxels; i++)
		set_value(v, i, sparse ? 0.0 : (double)(next_random() % 7) / 10.0);
	for (int b = 0; b < 40; b++) {
		int64_t cx = next_random() % nx, cy = next_random() % ny, cz = next_random() % nz;
		int64_t r = 1 + next_random() % 4;
		double level = 1 + next_random() % 90;
		for (int64_t k = cz - r; k <= cz + r; k++)
			for (int64_t j = cy - r; j <= cy + r; j++)
				for (int64_t i = cx - r; i <= cx + r; i++)
					if (i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz &&
					    (i - cx) * (i - cx) + (j - cy) * (j - cy) + (k - cz) * (k - cz) <=
					    r * r + (int64_t)(next_random() % 3))
						set_value(v, i + nx * (j + ny * k), level + (next_random() % 100) / 7.0);
	}
}

static void assert_same_components(const struct lesion_components *a,
				   const struct lesion_run_stat *sa,
				   const struct lesion_components *b,
				   const struct lesion_run_stat *sb)
{
	assert_int_equal(a->n_runs, b->n_runs);
	assert_int_equal(a->n_components, b->n_components);
	assert_memory_equal(a->row_start, b->row_start, sizeof(int64_t) * (size_t)(a->n_rows + 1));
	assert_memory_equal(a->runs, b->runs, sizeof(*a->runs) * (size_t)a->n_runs);
	assert_memory_equal(a->run_label, b->run_label, sizeof(int64_t) * (size_t)a->n_runs);
	assert_memory_equal(a->voxels, b->voxels, sizeof(int64_t) * (size_t)a->n_components);
	for (int64_t i = 0; i < a->n_runs; i++) {
		assert_true(sa[i].sum == sb[i].sum);
		assert_true(sa[i].soft == sb[i].soft);
		assert_true(sa[i].max == sb[i].max);
		assert_int_equal(sa[i].peak, sb[i].peak);
	}
}

/* @lower: the threshold; with @sparse at or below 0, the zero rows are
 * lesion and must not be skipped as background. */
static void check_paths(const int64_t dim[3], enum lesion_dtype dt, int connectivity,
			int sparse, double lower)
{
	struct lesion_error err;
	struct lesion_volume *v = new_volume(dim, dt);
	char path[128];
	fill_blobs(v, sparse);
	snprintf(path, sizeof(path), "%s/blobs.nii.gz", tmp_dir);
	assert_int_equal(lesion_volume_write(v, path, &err), LESION_OK);
	struct lesion_bounds b = {0};
	b.lower = lower;
	b.upper = INFINITY;

	/* the plain way: a mask, then the runs of the mask, then their values */
	uint8_t *mask = malloc((size_t)v->geom.n_voxels);
	struct lesion_components ref;
	struct lesion_run_stat *ref_stats;
	lesion_threshold_mask(v, NULL, &b, 0, mask);
	assert_int_equal(lesion_components_label(mask, dim, connectivity, &ref, &err), LESION_OK);
	assert_int_equal(lesion_run_stats(v, &ref, &ref_stats, &err), LESION_OK);

	for (int threads = 1; threads <= 3; threads++) {
		omp_set_num_threads(threads);
		struct lesion_components c;
		struct lesion_run_stat *st;
		int64_t nan;
		/* from memory */
		assert_int_equal(lesion_sweep_label(v, NULL, NULL, &b, connectivity, &c, &st,
						    &nan, &err), LESION_OK);
		assert_same_components(&ref, ref_stats, &c, st);
		lesion_components_release(&c);
		free(st);
		/* streamed from the file */
		struct lesion_volume *f = NULL;
		struct lesion_voxel_reader *r = NULL;
		assert_int_equal(lesion_volume_open(path, 0, &f, &err), LESION_OK);
		assert_int_equal(lesion_voxel_reader_open(f, -1, &r, &err), LESION_OK);
		assert_non_null(r);
		assert_int_equal(lesion_sweep_label(f, r, NULL, &b, connectivity, &c, &st,
						    &nan, &err), LESION_OK);
		assert_same_components(&ref, ref_stats, &c, st);
		lesion_components_release(&c);
		free(st);
		lesion_voxel_reader_free(r);
		lesion_volume_free(f);
	}
	omp_set_num_threads(2);
	lesion_components_release(&ref);
	free(ref_stats);
	free(mask);
	lesion_volume_free(v);
}

static void test_sweep__streamed_and_in_memory_match_the_mask_path(void **state)
{
	(void)state;
	const int64_t wide[3] = {131, 40, 37};   /* rows longer than 64, not a multiple */
	const int64_t narrow[3] = {9, 11, 300};  /* rows shorter than 64, many slabs */
	const int64_t exact[3] = {128, 64, 70};
	check_paths(wide, LESION_DT_INT16, 26, 0, 1.0);
	check_paths(wide, LESION_DT_FLOAT32, 6, 0, 1.0);
	check_paths(narrow, LESION_DT_UINT8, 18, 0, 1.0);
	check_paths(exact, LESION_DT_FLOAT64, 26, 0, 1.0);
	check_paths(exact, LESION_DT_UINT16, 6, 0, 1.0);
}

/* Rows stored as zeros are skipped unlooked-at only when zero is not lesion. */
static void test_sweep__zero_rows_of_sparse_masks_match_the_mask_path(void **state)
{
	(void)state;
	const int64_t wide[3] = {131, 40, 37};
	const int64_t narrow[3] = {9, 11, 300};
	check_paths(wide, LESION_DT_UINT8, 26, 1, 1.0);
	check_paths(wide, LESION_DT_FLOAT32, 6, 1, 0.5);
	check_paths(narrow, LESION_DT_INT16, 18, 1, 1.0);
	/* zero is lesion: every zero row is one run */
	check_paths(wide, LESION_DT_INT16, 26, 1, -1.0);
	check_paths(narrow, LESION_DT_FLOAT32, 6, 1, 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep__threshold_in_stored_type_matches_doubles),
		cmocka_unit_test(test_sweep__streamed_and_in_memory_match_the_mask_path),
		cmocka_unit_test(test_sweep__zero_rows_of_sparse_masks_match_the_mask_path),
	};
	return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
