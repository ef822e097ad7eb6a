/* test_progressive.c: lesion_volume_load_progressive() gives the same voxels
 * and errors as lesion_volume_load(), reporting ever longer prefixes. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lesionvol/volume.h"

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

static const char *tmp_path(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/%s", tmp_dir, name);
	return buf;
}

struct seen {
	int calls;
	int64_t last;
	int monotonic;
};

static void on_ready(void *ctx, int64_t n)
{
	struct seen *s = ctx;
	if (n <= s->last)
		s->monotonic = 0;
	s->last = n;
	s->calls++;
}

/* Load @path both ways; return the progressive status, check the rest. */
static enum lesion_status load_both(const char *path, int64_t index, struct seen *s,
				    char *msg, size_t msg_size)
{
	struct lesion_volume *a = NULL, *b = NULL;
	struct lesion_error ea, eb;
	memset(s, 0, sizeof(*s));
	s->monotonic = 1;
	enum lesion_status oa = lesion_volume_open(path, 0, &a, &ea);
	if (oa)
		print_message("open: %s\n", ea.message);
	assert_int_equal(oa, LESION_OK);
	assert_int_equal(lesion_volume_open(path, 0, &b, &eb), LESION_OK);
	enum lesion_status sa = lesion_volume_load(a, index, &ea);
	enum lesion_status sb = lesion_volume_load_progressive(b, index, on_ready, s, &eb);
	if (sa != sb)
		print_message("%s: plain %d (%s), progressive %d (%s)\n", path, sa,
			      sa ? ea.message : "", sb, sb ? eb.message : "");
	assert_int_equal(sa, sb);
	if (sa == LESION_OK) {
		size_t bytes = (size_t)(a->geom.n_voxels * a->bytes_per_voxel);
		assert_memory_equal(a->data, b->data, bytes);
		assert_int_equal(s->last, b->geom.n_voxels);
		assert_true(s->monotonic);
	} else {
		assert_string_equal(ea.message, eb.message);
		if (msg)
			snprintf(msg, msg_size, "%.*s", (int)msg_size - 1, eb.message);
	}
	lesion_volume_free(a);
	lesion_volume_free(b);
	return sb;
}

/* A 160x160x96 int16 image (4.9 MB) whose bytes do not compress to nothing. */
static void write_test_image(const char *name)
{
	const int64_t dim[3] = {160, 160, 96};
	double m[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	struct lesion_volume *v = NULL;
	struct lesion_error err;
	assert_int_equal(lesion_volume_create(dim, m, LESION_DT_INT16, &v, &err), LESION_OK);
	int16_t *d = v->data;
	uint32_t x = 12345;
	for (int64_t i = 0; i < v->geom.n_voxels; i++) {
		x = x * 1103515245u + 12345u;
		d[i] = (int16_t)((i % 160) * 3 + (int)((x >> 16) & 7));
	}
	assert_int_equal(lesion_volume_write(v, tmp_path(name), &err), LESION_OK);
	lesion_volume_free(v);
}

static void test_progressive__gzip_matches_plain_load_in_several_steps(void **state)
{
	(void)state;
	struct seen s;
	write_test_image("img.nii.gz");
	assert_int_equal(load_both(tmp_path("img.nii.gz"), -1, &s, NULL, 0), LESION_OK);
	assert_true(s.calls > 1);
}

static void test_progressive__raw_matches_plain_load(void **state)
{
	(void)state;
	struct seen s;
	write_test_image("img.nii");
	assert_int_equal(load_both(tmp_path("img.nii"), -1, &s, NULL, 0), LESION_OK);
}

/* Cut @src to @keep bytes into @dst. */
static void truncate_copy(const char *src, const char *dst, double keep)
{
	FILE *f = fopen(src, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	f = fopen(dst, "wb");
	assert_non_null(f);
	fwrite(buf, 1, (size_t)(n * keep), f);
	fclose(f);
	free(buf);
}

static void test_progressive__truncated_gzip_fails_as_plain_load_does(void **state)
{
	(void)state;
	struct seen s;
	char msg[512];
	char full[256];
	write_test_image("full.nii.gz");
	snprintf(full, sizeof(full), "%s", tmp_path("full.nii.gz"));
	truncate_copy(full, tmp_path("cut.nii.gz"), 0.6);
	assert_int_equal(load_both(tmp_path("cut.nii.gz"), -1, &s, msg, sizeof(msg)),
			 LESION_ERR_INPUT);
}

static void test_progressive__corrupt_gzip_fails_as_plain_load_does(void **state)
{
	(void)state;
	struct seen s;
	char msg[512];
	write_test_image("good.nii.gz");
	FILE *f = fopen(tmp_path("good.nii.gz"), "r+b");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, n / 2, SEEK_SET);
	char junk[64];
	memset(junk, 0xff, sizeof(junk));
	fwrite(junk, 1, sizeof(junk), f);
	fclose(f);
	enum lesion_status st = load_both(tmp_path("good.nii.gz"), -1, &s, msg, sizeof(msg));
	assert_true(st == LESION_OK || st == LESION_ERR_INPUT);
}

static const char *realdata(const char *rel)
{
	static char buf[1024];
	const char *root = getenv("LESIONVOL_REALDATA");
	struct stat sb;
	if (!root)
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	return stat(buf, &sb) == 0 ? buf : NULL;
}

static void test_progressive__real_files_match_plain_load(void **state)
{
	(void)state;
	static const char *files[] = {
		"nibabel/nibabel/tests/data/anatomical.nii",          /* big-endian int16 */
		"nibabel/nibabel/tests/data/resampled_anat_moved.nii", /* big-endian float32 */
		"soop/NIfTI/bwsrsub-1373_lesion.nii.gz",
		"lesymap/inst/extdata/lesions/Subject_002.nii.gz",
		"nifti-rs/resources/minimal.nii.gz",
	};
	struct seen s;
	int found = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *p = realdata(files[i]);
		if (!p)
			continue;
		found++;
		assert_int_equal(load_both(p, -1, &s, NULL, 0), LESION_OK);
	}
	const char *p4 = realdata("nibabel/nibabel/tests/data/example4d.nii.gz");
	if (p4) {
		char msg[512];
		assert_int_equal(load_both(p4, 1, &s, NULL, 0), LESION_OK);
		assert_int_equal(load_both(p4, -1, &s, msg, sizeof(msg)), LESION_ERR_INPUT);
		assert_non_null(strstr(msg, "--volume"));
	}
	if (!found)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progressive__gzip_matches_plain_load_in_several_steps),
		cmocka_unit_test(test_progressive__raw_matches_plain_load),
		cmocka_unit_test(test_progressive__truncated_gzip_fails_as_plain_load_does),
		cmocka_unit_test(test_progressive__corrupt_gzip_fails_as_plain_load_does),
		cmocka_unit_test(test_progressive__real_files_match_plain_load),
	};
	return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
