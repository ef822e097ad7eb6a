/* test_volume.c: the volume API: create, write, read back, grids, scaling,
 * datatypes, and the strict loader's refusals. */
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
#include <unistd.h>

#include <zlib.h>

#include "lesionvol/volume.h"

static char tmp_dir[64];

static int make_tmp_dir(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/lesionvol-unit-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	/* the library never prints (niftilib neither): stderr is kept in a
	 * file that the last test checks is empty */
	char path[128];
	snprintf(path, sizeof(path), "%s/stderr", tmp_dir);
	return freopen(path, "w", stderr) ? 0 : -1;
}

static int remove_tmp_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/%s", tmp_dir, name);
	return buf;
}

/* An oblique-free but flipped, shifted, anisotropic grid: LAS, 1.5x2x3 mm. */
static void test_affine(double m[4][4])
{
	memset(m, 0, 16 * sizeof(double));
	m[0][0] = -1.5;
	m[1][1] = 2.0;
	m[2][2] = 3.0;
	m[0][3] = 90.0;
	m[1][3] = -126.0;
	m[2][3] = -72.0;
	m[3][3] = 1.0;
}

static struct lesion_volume *make_int16(int64_t nx, int64_t ny, int64_t nz)
{
	double m[4][4];
	int64_t dim[3] = {nx, ny, nz};
	struct lesion_volume *v = NULL;
	test_affine(m);
	assert_int_equal(lesion_volume_create(dim, m, LESION_DT_INT16, &v, NULL), LESION_OK);
	int16_t *d = v->data;
	for (int64_t i = 0; i < v->geom.n_voxels; i++)
		d[i] = (int16_t)((i * 37) % 301 - 100);
	return v;
}

static void round_trip(const char *name)
{
	struct lesion_volume *v = make_int16(5, 4, 3), *r = NULL;
	struct lesion_error err;
	const char *path = tmp_path(name);
	assert_int_equal(lesion_volume_write(v, path, &err), LESION_OK);
	enum lesion_status st = lesion_volume_read(path, -1, &r, &err);
	if (st)
		fail_msg("%s", err.message);
	assert_int_equal(r->dtype, LESION_DT_INT16);
	assert_int_equal(r->geom.dim[0], 5);
	assert_int_equal(r->geom.dim[1], 4);
	assert_int_equal(r->geom.dim[2], 3);
	assert_int_equal(r->n_volumes, 1);
	assert_int_equal(r->gzipped, strstr(name, ".gz") != NULL);
	assert_string_equal(r->geom.orientation, "LAS");
	assert_string_equal(r->geom.spatial_units, "mm");
	assert_true(r->geom.voxel_size_mm[0] == 1.5 && r->geom.voxel_size_mm[1] == 2.0 &&
		    r->geom.voxel_size_mm[2] == 3.0);
	assert_true(r->geom.voxel_volume_mm3 == 9.0);
	assert_true(lesion_geometry_same_grid(&v->geom, &r->geom, 1e-6));
	assert_int_equal(r->geom.sform_code, 1);
	assert_int_equal(r->geom.qform_code, 1);
	assert_memory_equal(v->data, r->data, (size_t)v->geom.n_voxels * 2);
	assert_false(r->scaled);
	assert_string_equal(r->path, path);
	lesion_volume_free(v);
	lesion_volume_free(r);
}

static void test_volume__round_trip_nii(void **state)
{
	(void)state;
	round_trip("round.nii");
}

static void test_volume__round_trip_nii_gz(void **state)
{
	(void)state;
	round_trip("round.nii.gz");
}

static void test_volume__large_dimension_is_written_as_nifti2(void **state)
{
	(void)state;
	double m[4][4];
	int64_t dim[3] = {40000, 2, 1};
	struct lesion_volume *v = NULL, *r = NULL;
	struct lesion_error err;
	test_affine(m);
	assert_int_equal(lesion_volume_create(dim, m, LESION_DT_UINT8, &v, NULL), LESION_OK);
	((uint8_t *)v->data)[39999] = 7;
	assert_int_equal(lesion_volume_write(v, tmp_path("wide.nii.gz"), &err), LESION_OK);
	assert_int_equal(lesion_volume_read(tmp_path("wide.nii.gz"), -1, &r, &err), LESION_OK);
	assert_int_equal(r->format, LESION_FORMAT_NIFTI2);
	assert_int_equal(r->geom.dim[0], 40000);
	assert_true(lesion_volume_value(r, 39999) == 7.0);
	assert_true(lesion_geometry_same_grid(&v->geom, &r->geom, 1e-6));
	lesion_volume_free(v);
	lesion_volume_free(r);
}

static void test_volume__write_like_keeps_geometry(void **state)
{
	(void)state;
	struct lesion_volume *v = make_int16(6, 5, 4), *r = NULL;
	struct lesion_error err;
	uint8_t *mask = calloc((size_t)v->geom.n_voxels, 1);
	assert_non_null(mask);
	mask[7] = 1;
	mask[42] = 1;
	assert_int_equal(lesion_volume_write_like(v, tmp_path("mask.nii.gz"), LESION_DT_UINT8,
						  mask, &err), LESION_OK);
	assert_int_equal(lesion_volume_read(tmp_path("mask.nii.gz"), -1, &r, &err), LESION_OK);
	assert_int_equal(r->dtype, LESION_DT_UINT8);
	assert_true(lesion_geometry_same_grid(&v->geom, &r->geom, 1e-6));
	assert_memory_equal(r->data, mask, (size_t)v->geom.n_voxels);
	free(mask);
	lesion_volume_free(v);
	lesion_volume_free(r);
}

static void test_volume__same_grid_tolerance(void **state)
{
	(void)state;
	struct lesion_volume *v = make_int16(4, 4, 4);
	struct lesion_geometry g = v->geom;
	assert_true(lesion_geometry_same_grid(&v->geom, &g, 1e-3));
	g.vox_to_world[0][3] += 0.9e-3;
	assert_true(lesion_geometry_same_grid(&v->geom, &g, 1e-3));
	g.vox_to_world[0][3] += 0.2e-3;
	assert_false(lesion_geometry_same_grid(&v->geom, &g, 1e-3));
	g = v->geom;
	g.vox_to_world[1][0] = 0.01; /* a small rotation */
	assert_false(lesion_geometry_same_grid(&v->geom, &g, 1e-3));
	g = v->geom;
	g.vox_to_world[2][2] = NAN;
	assert_false(lesion_geometry_same_grid(&v->geom, &g, 1e-3));
	g = v->geom;
	g.dim[2] = 5;
	assert_false(lesion_geometry_same_grid(&v->geom, &g, 1e-3));
	lesion_volume_free(v);
}

static void test_volume__scaling_applied_after_round_trip(void **state)
{
	(void)state;
	struct lesion_volume *v = make_int16(3, 3, 3), *r = NULL;
	struct lesion_error err;
	v->scaled = 1;
	v->scl_slope = 0.25;
	v->scl_inter = -3.5;
	assert_int_equal(lesion_volume_write(v, tmp_path("scaled.nii"), &err), LESION_OK);
	assert_int_equal(lesion_volume_read(tmp_path("scaled.nii"), -1, &r, &err), LESION_OK);
	assert_true(r->scaled);
	assert_true(r->scl_slope == 0.25 && r->scl_inter == -3.5);
	double vals[27];
	lesion_volume_values(r, 0, 27, vals);
	const int16_t *raw = v->data;
	double sum = 0, mn = INFINITY, mx = -INFINITY;
	int64_t nonzero = 0;
	for (int i = 0; i < 27; i++) {
		double want = raw[i] * 0.25 - 3.5;
		assert_true(vals[i] == want);
		assert_true(lesion_volume_value(r, i) == want);
		sum += want;
		mn = fmin(mn, want);
		mx = fmax(mx, want);
		nonzero += want != 0;
	}
	struct lesion_value_stats s;
	lesion_volume_stats(r, &s);
	assert_int_equal(s.n_finite, 27);
	assert_int_equal(s.n_nan, 0);
	assert_int_equal(s.n_nonzero, nonzero);
	assert_true(s.min == mn && s.max == mx);
	assert_true(fabs(s.sum - sum) < 1e-9);
	lesion_volume_free(v);
	lesion_volume_free(r);
}

static void test_volume__stats_count_nan_and_inf(void **state)
{
	(void)state;
	double m[4][4];
	int64_t dim[3] = {10000, 1, 1};
	struct lesion_volume *v = NULL;
	test_affine(m);
	assert_int_equal(lesion_volume_create(dim, m, LESION_DT_FLOAT32, &v, NULL), LESION_OK);
	float *d = v->data;
	d[1] = NAN;
	d[9000] = NAN;
	d[2] = INFINITY;
	d[5000] = -2.5f;
	d[9999] = 4.0f;
	struct lesion_value_stats s;
	lesion_volume_stats(v, &s);
	assert_int_equal(s.n_nan, 2);
	assert_int_equal(s.n_inf, 1);
	assert_int_equal(s.n_finite, 9997);
	assert_int_equal(s.n_nonzero, 2);
	assert_true(s.min == -2.5 && s.max == 4.0 && s.sum == 1.5);
	lesion_volume_free(v);
}

static void test_volume__dtype_sizes_and_names(void **state)
{
	(void)state;
	static const struct { int code, size; const char *name; } t[] = {
		{LESION_DT_UINT8, 1, "uint8"}, {LESION_DT_INT8, 1, "int8"},
		{LESION_DT_INT16, 2, "int16"}, {LESION_DT_UINT16, 2, "uint16"},
		{LESION_DT_INT32, 4, "int32"}, {LESION_DT_UINT32, 4, "uint32"},
		{LESION_DT_INT64, 8, "int64"}, {LESION_DT_UINT64, 8, "uint64"},
		{LESION_DT_FLOAT32, 4, "float32"}, {LESION_DT_FLOAT64, 8, "float64"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(lesion_dtype_size(t[i].code), t[i].size);
		assert_string_equal(lesion_dtype_name(t[i].code), t[i].name);
		assert_string_equal(lesion_datatype_label(t[i].code), t[i].name);
	}
	/* RGB24, COMPLEX64, FLOAT128, BINARY, unknown: not scalar types we read */
	static const int unsupported[] = {128, 32, 1536, 1, 0, 9999, -4};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		assert_int_equal(lesion_dtype_size(unsupported[i]), 0);
		assert_null(lesion_dtype_name(unsupported[i]));
	}
	assert_string_equal(lesion_datatype_label(128), "RGB24");
	assert_string_equal(lesion_datatype_label(32), "COMPLEX64");
	assert_string_equal(lesion_datatype_label(9999), "unknown");
}

static void test_volume__values_of_every_dtype(void **state)
{
	(void)state;
	static const int codes[] = {LESION_DT_UINT8, LESION_DT_INT8, LESION_DT_INT16,
		LESION_DT_UINT16, LESION_DT_INT32, LESION_DT_UINT32, LESION_DT_INT64,
		LESION_DT_UINT64, LESION_DT_FLOAT32, LESION_DT_FLOAT64};
	double m[4][4];
	int64_t dim[3] = {2, 2, 1};
	test_affine(m);
	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
		struct lesion_volume *v = NULL, *r = NULL;
		struct lesion_error err;
		assert_int_equal(lesion_volume_create(dim, m, codes[c], &v, NULL), LESION_OK);
		unsigned char *p = v->data;
		/* the value 100 + i in each type, written through a byte image */
		for (int i = 0; i < 4; i++) {
			switch (codes[c]) {
			case LESION_DT_UINT8: ((uint8_t *)p)[i] = (uint8_t)(100 + i); break;
			case LESION_DT_INT8: ((int8_t *)p)[i] = (int8_t)(100 + i); break;
			case LESION_DT_INT16: ((int16_t *)p)[i] = (int16_t)(100 + i); break;
			case LESION_DT_UINT16: ((uint16_t *)p)[i] = (uint16_t)(100 + i); break;
			case LESION_DT_INT32: ((int32_t *)p)[i] = 100 + i; break;
			case LESION_DT_UINT32: ((uint32_t *)p)[i] = (uint32_t)(100 + i); break;
			case LESION_DT_INT64: ((int64_t *)p)[i] = 100 + i; break;
			case LESION_DT_UINT64: ((uint64_t *)p)[i] = (uint64_t)(100 + i); break;
			case LESION_DT_FLOAT32: ((float *)p)[i] = 100.0f + (float)i; break;
			case LESION_DT_FLOAT64: ((double *)p)[i] = 100.0 + i; break;
			}
		}
		assert_int_equal(lesion_volume_write(v, tmp_path("dt.nii"), &err), LESION_OK);
		assert_int_equal(lesion_volume_read(tmp_path("dt.nii"), -1, &r, &err), LESION_OK);
		assert_int_equal(r->dtype, codes[c]);
		assert_int_equal(r->bytes_per_voxel, lesion_dtype_size(codes[c]));
		for (int i = 0; i < 4; i++)
			assert_true(lesion_volume_value(r, i) == 100.0 + i);
		lesion_volume_free(v);
		lesion_volume_free(r);
	}
}

/* Overwrite @n bytes at @offset of the file @path. */
static void poke(const char *path, long offset, const void *bytes, size_t n)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, offset, SEEK_SET), 0);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_volume__zero_pixdim_refused_by_strict_open_only(void **state)
{
	(void)state;
	struct lesion_volume *v = make_int16(3, 3, 3), *r = NULL;
	struct lesion_error err;
	const char *path = tmp_path("zeropix.nii");
	assert_int_equal(lesion_volume_write(v, path, &err), LESION_OK);
	float zero = 0.0f;
	poke(path, 80, &zero, 4); /* pixdim[1] */
	assert_int_equal(lesion_volume_read(path, -1, &r, &err), LESION_ERR_INPUT);
	assert_null(r);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "pixdim"));
	assert_int_equal(lesion_volume_open(path, LESION_OPEN_LENIENT, &r, &err), LESION_OK);
	assert_true(isnan(r->geom.voxel_volume_mm3));
	assert_int_equal(lesion_volume_check(r, &err), LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "pixdim"));
	assert_int_equal(lesion_volume_load(r, -1, &err), LESION_OK);
	lesion_volume_free(r);
	lesion_volume_free(v);
}

static void test_volume__read_never_opens_a_twin(void **state)
{
	(void)state;
	struct lesion_volume *a = make_int16(3, 3, 3), *b = make_int16(3, 3, 3), *r = NULL;
	struct lesion_error err;
	((int16_t *)b->data)[0] = 12345;
	assert_int_equal(lesion_volume_write(a, tmp_path("twin.nii"), &err), LESION_OK);
	assert_int_equal(lesion_volume_write(b, tmp_path("twin.nii.gz"), &err), LESION_OK);
	assert_int_equal(lesion_volume_read(tmp_path("twin.nii.gz"), -1, &r, &err), LESION_OK);
	assert_true(lesion_volume_value(r, 0) == 12345.0);
	lesion_volume_free(r);
	assert_int_equal(lesion_volume_read(tmp_path("twin.nii"), -1, &r, &err), LESION_OK);
	assert_true(lesion_volume_value(r, 0) == ((int16_t *)a->data)[0]);
	lesion_volume_free(r);
	lesion_volume_free(a);
	lesion_volume_free(b);
}

/* A 4D .nii.gz of @nt volumes of 4x3x2 int16, voxel i of volume t = 1000t + i. */
static const char *write_4d_gz(const char *name, int nt, int members)
{
	struct lesion_volume *v = make_int16(4, 3, 2);
	struct lesion_error err;
	const char *plain = tmp_path("plain4d.nii");
	assert_int_equal(lesion_volume_write(v, plain, &err), LESION_OK);
	unsigned char hdr[352];
	FILE *f = fopen(plain, "rb");
	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, 352, f), 352);
	fclose(f);
	int16_t dim[8] = {4, 4, 3, 2, (int16_t)nt, 1, 1, 1};
	memcpy(hdr + 40, dim, sizeof(dim));
	const char *path = tmp_path(name);
	gzFile g = gzopen(path, "wb");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, hdr, 352), 352);
	for (int t = 0; t < nt; t++) {
		int16_t d[24];
		for (int i = 0; i < 24; i++)
			d[i] = (int16_t)(1000 * t + i);
		if (members && t == 1) { /* start a new gzip member, as bgzip does */
			assert_int_equal(gzclose(g), Z_OK);
			g = gzopen(path, "ab");
			assert_non_null(g);
		}
		assert_int_equal(gzwrite(g, d, sizeof(d)), (int)sizeof(d));
	}
	assert_int_equal(gzclose(g), Z_OK);
	lesion_volume_free(v);
	return path;
}

static void test_volume__4d_gz_volumes_in_any_order(void **state)
{
	(void)state;
	for (int members = 0; members < 2; members++) {
		char path[256];
		snprintf(path, sizeof(path), "%s", write_4d_gz(members ? "m4d.nii.gz" : "s4d.nii.gz",
							       5, members));
		struct lesion_volume *v = NULL;
		struct lesion_error err;
		assert_int_equal(lesion_volume_open(path, 0, &v, &err), LESION_OK);
		assert_int_equal(v->n_volumes, 5);
		static const int order[] = {0, 1, 2, 4, 3, 0, 4, 4, 2};
		for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			int t = order[k];
			if (lesion_volume_load(v, t, &err))
				fail_msg("volume %d: %s", t, err.message);
			assert_int_equal(v->volume_index, t);
			for (int i = 0; i < 24; i++)
				assert_true(lesion_volume_value(v, i) == 1000.0 * t + i);
		}
		assert_int_equal(lesion_volume_load(v, 5, &err), LESION_ERR_INPUT);
		assert_int_equal(lesion_volume_load(v, -1, &err), LESION_ERR_INPUT);
		assert_non_null(strstr(err.message, "5 volumes"));
		lesion_volume_free(v);
	}
}

static const char *realdata(const char *rel)
{
	static char buf[1024];
	const char *root = getenv("LESIONVOL_REALDATA");
	if (!root)
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

static void test_volume__4d_needs_a_volume_index(void **state)
{
	(void)state;
	const char *p = realdata("nibabel/nibabel/tests/data/example4d.nii.gz");
	if (!p)
		skip();
	struct lesion_volume *r = NULL;
	struct lesion_error err;
	assert_int_equal(lesion_volume_read(p, -1, &r, &err), LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "2 volumes"));
	assert_non_null(strstr(err.message, "--volume"));
	assert_int_equal(lesion_volume_read(p, 2, &r, &err), LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "out of range"));
	assert_int_equal(lesion_volume_read(p, 1, &r, &err), LESION_OK);
	assert_int_equal(r->volume_index, 1);
	assert_int_equal(r->geom.n_voxels, 128 * 96 * 24);
	lesion_volume_free(r);
}

static void test_volume__rgb_is_refused_with_its_name(void **state)
{
	(void)state;
	const char *p = realdata("nifti-rs/resources/rgb/3D.nii");
	if (!p)
		skip();
	struct lesion_volume *r = NULL;
	struct lesion_error err;
	assert_int_equal(lesion_volume_read(p, -1, &r, &err), LESION_ERR_INPUT);
	assert_null(r);
	assert_non_null(strstr(err.message, "RGB24"));
}

static void test_volume__errors_accept_a_null_error(void **state)
{
	(void)state;
	struct lesion_volume *r = NULL;
	assert_int_equal(lesion_volume_read(tmp_path("absent.nii"), -1, &r, NULL),
			 LESION_ERR_INPUT);
	assert_null(r);
	lesion_volume_free(NULL);
}

static void test_volume__library_printed_nothing(void **state)
{
	(void)state;
	char path[128];
	fflush(stderr);
	snprintf(path, sizeof(path), "%s/stderr", tmp_dir);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char buf[512] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n)
		fail_msg("stderr got: %s", buf);
}

static void test_volume__create_refuses_overflowing_dims(void **state)
{
	(void)state;
	double m[4][4];
	int64_t huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 2};
	int64_t zero[3] = {4, 0, 4};
	struct lesion_volume *v = (struct lesion_volume *)1;
	test_affine(m);
	assert_int_not_equal(lesion_volume_create(huge, m, LESION_DT_UINT8, &v, NULL), LESION_OK);
	assert_null(v);
	assert_int_not_equal(lesion_volume_create(zero, m, LESION_DT_UINT8, &v, NULL), LESION_OK);
	assert_int_not_equal(lesion_volume_create(huge, m, 128, &v, NULL), LESION_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_volume__round_trip_nii),
		cmocka_unit_test(test_volume__round_trip_nii_gz),
		cmocka_unit_test(test_volume__large_dimension_is_written_as_nifti2),
		cmocka_unit_test(test_volume__write_like_keeps_geometry),
		cmocka_unit_test(test_volume__same_grid_tolerance),
		cmocka_unit_test(test_volume__scaling_applied_after_round_trip),
		cmocka_unit_test(test_volume__stats_count_nan_and_inf),
		cmocka_unit_test(test_volume__dtype_sizes_and_names),
		cmocka_unit_test(test_volume__values_of_every_dtype),
		cmocka_unit_test(test_volume__zero_pixdim_refused_by_strict_open_only),
		cmocka_unit_test(test_volume__read_never_opens_a_twin),
		cmocka_unit_test(test_volume__4d_needs_a_volume_index),
		cmocka_unit_test(test_volume__4d_gz_volumes_in_any_order),
		cmocka_unit_test(test_volume__rgb_is_refused_with_its_name),
		cmocka_unit_test(test_volume__errors_accept_a_null_error),
		cmocka_unit_test(test_volume__create_refuses_overflowing_dims),
		cmocka_unit_test(test_volume__library_printed_nothing),
	};
	return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
