/* test_atlas.c: label atlases written here: names files in every supported
 * form, regions in label order, lesion load and the grid check. */
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

#include "lesionvol/atlas.h"

#define NX 6
#define NY 5
#define NZ 4
#define N (NX * NY * NZ)

static char dir[] = "/tmp/lesionvol-test-atlas-XXXXXX";

/* A path in the scratch folder; two calls may appear in one expression. */
static const char *file(const char *name)
{
	static char path[4][256];
	static int turn;
	char *p = path[turn++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(file(name), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct lesion_volume *grid(double shift_mm)
{
	const int64_t dim[3] = {NX, NY, NZ};
	double m[4][4] = {{2, 0, 0, shift_mm}, {0, 2, 0, 0}, {0, 0, 2, 0}, {0, 0, 0, 1}};
	struct lesion_volume *v = NULL;
	assert_int_equal(lesion_volume_create(dim, m, LESION_DT_INT16, &v, NULL), LESION_OK);
	return v;
}

/* labels: voxel i holds 7 for i < 40, 3 for 40 <= i < 100, 0 after (but
 * voxel 110 holds -2) */
static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	struct lesion_volume *v = grid(0);
	int16_t *d = v->data;
	for (int i = 0; i < N; i++)
		d[i] = (int16_t)(i < 40 ? 7 : i < 100 ? 3 : 0);
	d[110] = -2;
	assert_int_equal(lesion_volume_write(v, file("atlas.nii"), NULL), LESION_OK);
	lesion_volume_free(v);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	const char *names[] = {"atlas.nii", "a.tsv", "b.txt", "c.tsv", "d.txt", "e.txt"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(file(names[i]));
	rmdir(dir);
	return 0;
}

static void test_atlas__regions_in_label_order_with_named_extras(void **state)
{
	(void)state;
	/* MRIcron .txt: "index name code"; label 9 is named but absent */
	write_text("b.txt", "3 Caudate_L 7001\n7 Putamen_R 7012\n9 Nowhere 1\n");
	struct lesion_atlas *a = NULL;
	assert_int_equal(lesion_atlas_read(file("atlas.nii"), file("b.txt"), &a, NULL), LESION_OK);
	assert_int_equal(a->n_regions, 4);
	const int64_t labels[] = {-2, 3, 7, 9}, voxels[] = {1, 60, 40, 0};
	const char *names[] = {"", "Caudate_L", "Putamen_R", "Nowhere"};
	for (int r = 0; r < 4; r++) {
		assert_int_equal(a->regions[r].label, labels[r]);
		assert_int_equal(a->regions[r].voxels, voxels[r]);
		assert_string_equal(a->regions[r].name, names[r]);
		assert_true(a->regions[r].volume_mm3 == 8.0 * (double)voxels[r]);
	}
	lesion_atlas_free(a);
}

static void test_atlas__tsv_header_picks_the_index_and_name_columns(void **state)
{
	(void)state;
	/* BIDS dseg.tsv style: columns in any order, names with spaces */
	write_text("a.tsv", "\xef\xbb\xbfname\tindex\tcolor\r\nleft caudate\t3\t#ff0000\r\n"
			    "\r\n# comment\r\nright putamen\t7\t#00ff00\r\n");
	struct lesion_atlas *a = NULL;
	assert_int_equal(lesion_atlas_read(file("atlas.nii"), file("a.tsv"), &a, NULL), LESION_OK);
	assert_string_equal(a->regions[1].name, "left caudate");
	assert_string_equal(a->regions[2].name, "right putamen");
	lesion_atlas_free(a);
	/* FreeSurfer colour table: "index name R G B A", label 0 ignored */
	write_text("d.txt", "#No. Label Name: R G B A\n0 Unknown 0 0 0 0\n3  Left-Caudate 1 2 3 0\n");
	assert_int_equal(lesion_atlas_read(file("atlas.nii"), file("d.txt"), &a, NULL), LESION_OK);
	assert_int_equal(a->n_regions, 3);
	assert_string_equal(a->regions[1].name, "Left-Caudate");
	lesion_atlas_free(a);
}

static void test_atlas__a_label_named_twice_or_a_bad_index_is_refused(void **state)
{
	(void)state;
	struct lesion_atlas *a = NULL;
	struct lesion_error err;
	write_text("c.tsv", "index\tname\n3\tA\n3\tB\n");
	assert_int_equal(lesion_atlas_read(file("atlas.nii"), file("c.tsv"), &a, &err),
			 LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "twice"));
	write_text("e.txt", "3 A\nseven B\n");
	assert_int_equal(lesion_atlas_read(file("atlas.nii"), file("e.txt"), &a, &err),
			 LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "line 2"));
	assert_null(a);
}

static void test_atlas__load_counts_lesion_per_region_and_outside(void **state)
{
	(void)state;
	struct lesion_atlas *a = NULL;
	assert_int_equal(lesion_atlas_read(file("atlas.nii"), NULL, &a, NULL), LESION_OK);
	struct lesion_volume *img = grid(0);
	img->path = strdup("image.nii");
	uint8_t mask[N] = {0};
	for (int i = 30; i < 50; i++)
		mask[i] = 1; /* 10 in label 7, 10 in label 3 */
	mask[105] = mask[110] = 1;
	struct lesion_region_load loads[3];
	int64_t outside = -1;
	assert_int_equal(lesion_atlas_measure(a, img, mask, loads, &outside, NULL), LESION_OK);
	assert_int_equal(outside, 1);
	assert_int_equal(loads[0].lesion_voxels, 1);   /* label -2 */
	assert_true(loads[0].fraction == 1.0);
	assert_int_equal(loads[1].lesion_voxels, 10);  /* label 3: 10 of 60 */
	assert_true(fabs(loads[1].fraction - 10.0 / 60.0) < 1e-15);
	assert_true(loads[2].lesion_volume_mm3 == 80.0);
	lesion_volume_free(img);
	lesion_atlas_free(a);
}

static void test_atlas__another_grid_is_an_input_error(void **state)
{
	(void)state;
	struct lesion_atlas *a = NULL;
	struct lesion_error err;
	assert_int_equal(lesion_atlas_read(file("atlas.nii"), NULL, &a, NULL), LESION_OK);
	struct lesion_volume *img = grid(0.5); /* moved by half a voxel */
	img->path = strdup("moved.nii");
	uint8_t mask[N] = {0};
	struct lesion_region_load loads[3];
	assert_int_equal(lesion_atlas_measure(a, img, mask, loads, NULL, &err), LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "voxel-to-world"));
	lesion_volume_free(img);
	lesion_atlas_free(a);
}

static void test_atlas__region_change_is_na_where_change_is(void **state)
{
	(void)state;
	struct lesion_region_load empty = {0, 0.0, 0.0}, some = {3, 6.0, 0.25};
	struct lesion_region_change c;
	lesion_region_change_compute(&empty, &some, 10.0, &c);
	assert_true(c.baseline_mm3 == 0.0 && c.volume_mm3 == 6.0 && c.delta_mm3 == 6.0);
	assert_true(isnan(c.percent_change)); /* nothing at baseline */
	assert_true(c.rate_mm3_per_day == 0.6);
	assert_true(c.baseline_fraction == 0.0 && c.fraction == 0.25 && c.delta_fraction == 0.25);
	lesion_region_change_compute(&some, &empty, 0.0, &c);
	assert_true(c.percent_change == -100.0 && c.delta_mm3 == -6.0);
	assert_true(isnan(c.rate_mm3_per_day)); /* same day */
	lesion_region_change_compute(&some, &some, NAN, &c);
	assert_true(c.percent_change == 0.0 && isnan(c.rate_mm3_per_day));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atlas__regions_in_label_order_with_named_extras),
		cmocka_unit_test(test_atlas__tsv_header_picks_the_index_and_name_columns),
		cmocka_unit_test(test_atlas__a_label_named_twice_or_a_bad_index_is_refused),
		cmocka_unit_test(test_atlas__load_counts_lesion_per_region_and_outside),
		cmocka_unit_test(test_atlas__another_grid_is_an_input_error),
		cmocka_unit_test(test_atlas__region_change_is_na_where_change_is),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
