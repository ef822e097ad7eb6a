/* test_quicklook.c: the mosaic's slice choice, grid check and orientation
 * on volumes built here, and the PNG encoder read back with libpng. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>

#include "lesionvol/quicklook.h"

#define NX 12
#define NY 10
#define NZ 8
#define IDX(i, j, k) ((i) + NX * ((j) + NY * (k)))

/* A uint8 volume on a 2 mm grid; @flip_i stores the i axis mirrored. */
static struct lesion_volume *make(int flip_i)
{
	double m[4][4] = {{2, 0, 0, -11}, {0, 2, 0, -9}, {0, 0, 2, -7}, {0, 0, 0, 1}};
	const int64_t dim[3] = {NX, NY, NZ};
	if (flip_i) {
		m[0][0] = -2;
		m[0][3] = 11;
	}
	struct lesion_volume *v = NULL;
	assert_int_equal(lesion_volume_create(dim, m, LESION_DT_UINT8, &v, NULL), LESION_OK);
	return v;
}

static void set(struct lesion_volume *v, int flip_i, int i, int j, int k, uint8_t value)
{
	((uint8_t *)v->data)[IDX(flip_i ? NX - 1 - i : i, j, k)] = value;
}

/* an anatomy with a gradient along i, so a mirror image would show */
static struct lesion_volume *anatomy(int flip_i)
{
	struct lesion_volume *v = make(flip_i);
	for (int k = 0; k < NZ; k++)
		for (int j = 0; j < NY; j++)
			for (int i = 0; i < NX; i++)
				set(v, flip_i, i, j, k, (uint8_t)(10 + 10 * i + j));
	return v;
}

static void test_quicklook__mirrored_storage_draws_the_same_picture(void **state)
{
	(void)state;
	struct lesion_volume *a = anatomy(0), *b = anatomy(1);
	struct lesion_volume *ma = make(0), *mb = make(1);
	set(ma, 0, 2, 3, 4, 1);
	set(mb, 1, 2, 3, 4, 1);
	struct lesion_quicklook_options o;
	lesion_quicklook_options_init(&o);
	struct lesion_quicklook *qa = NULL, *qb = NULL;
	assert_int_equal(lesion_quicklook_render(a, ma, &o, &qa, NULL), LESION_OK);
	assert_int_equal(lesion_quicklook_render(b, mb, &o, &qb, NULL), LESION_OK);
	assert_int_equal(qa->width, qb->width);
	assert_int_equal(qa->height, qb->height);
	assert_memory_equal(qa->rgb, qb->rgb, (size_t)qa->width * (size_t)qa->height * 3);
	assert_int_equal(qa->screen_flip[0], 1); /* +i is the patient's right: shown left */
	assert_int_equal(qb->screen_flip[0], 0);
	assert_string_equal(qa->label, "RLAP");
	lesion_quicklook_free(qa);
	lesion_quicklook_free(qb);
	lesion_volume_free(a);
	lesion_volume_free(b);
	lesion_volume_free(ma);
	lesion_volume_free(mb);
}

static void test_quicklook__thin_lesion_gets_one_tile_per_slice(void **state)
{
	(void)state;
	struct lesion_volume *a = anatomy(0), *m = make(0);
	set(m, 0, 5, 5, 2, 1);
	set(m, 0, 5, 5, 4, 1);
	struct lesion_quicklook_options o;
	lesion_quicklook_options_init(&o);
	struct lesion_quicklook *q = NULL;
	assert_int_equal(lesion_quicklook_render(a, m, &o, &q, NULL), LESION_OK);
	assert_int_equal(q->n_tiles, 3);
	assert_int_equal(q->tiles[0].slice, 2);
	assert_int_equal(q->tiles[1].slice, 3);
	assert_int_equal(q->tiles[2].slice, 4);
	assert_int_equal(q->tiles[0].lesion_voxels, 1);
	assert_int_equal(q->tiles[1].lesion_voxels, 0);
	assert_int_equal(q->overlay, LESION_OVERLAY_MASK);
	lesion_quicklook_free(q);
	lesion_volume_free(a);
	lesion_volume_free(m);
}

static void test_quicklook__empty_overlay_spreads_over_the_image(void **state)
{
	(void)state;
	struct lesion_volume *a = anatomy(0), *m = make(0);
	struct lesion_quicklook_options o;
	lesion_quicklook_options_init(&o);
	o.n_slices = 4;
	struct lesion_quicklook *q = NULL;
	assert_int_equal(lesion_quicklook_render(a, m, &o, &q, NULL), LESION_OK);
	assert_int_equal(q->n_tiles, 4);
	/* the middle slices of four equal parts of 0..7 */
	assert_int_equal(q->tiles[0].slice, 1);
	assert_int_equal(q->tiles[1].slice, 3);
	assert_int_equal(q->tiles[2].slice, 5);
	assert_int_equal(q->tiles[3].slice, 7);
	lesion_quicklook_free(q);
	lesion_volume_free(a);
	lesion_volume_free(m);
}

static void test_quicklook__refuses_overlay_on_another_grid(void **state)
{
	(void)state;
	struct lesion_volume *a = anatomy(0), *m = make(1);
	struct lesion_quicklook_options o;
	lesion_quicklook_options_init(&o);
	struct lesion_quicklook *q = NULL;
	struct lesion_error err;
	assert_int_equal(lesion_quicklook_render(a, m, &o, &q, &err), LESION_ERR_INPUT);
	assert_null(q);
	assert_non_null(strstr(err.message, "not on the grid"));
	lesion_volume_free(a);
	lesion_volume_free(m);
}

/* a byte map draws exactly what the same values in an overlay volume draw */
static void test_quicklook__map_draws_as_the_overlay_volume(void **state)
{
	(void)state;
	struct lesion_volume *a = anatomy(0), *m = make(0);
	struct lesion_quicklook_options o;
	lesion_quicklook_options_init(&o);
	for (int i = 3; i < 7; i++) {
		set(m, 0, i, 4, 2, 1);     /* resolved */
		set(m, 0, i, 5, 3, 2);     /* persistent */
		set(m, 0, i, 6, 5, 3);     /* new */
	}
	struct lesion_quicklook *q1 = NULL, *q2 = NULL;
	o.overlay_kind = LESION_OVERLAY_CHANGE;
	assert_int_equal(lesion_quicklook_render(a, m, &o, &q1, NULL), LESION_OK);
	assert_int_equal(lesion_quicklook_render_map(a, m->data, LESION_OVERLAY_CHANGE, &o,
						     &q2, NULL), LESION_OK);
	assert_int_equal(q2->overlay, LESION_OVERLAY_CHANGE);
	assert_int_equal(q1->width, q2->width);
	assert_int_equal(q1->height, q2->height);
	assert_memory_equal(q1->rgb, q2->rgb, (size_t)q1->width * (size_t)q1->height * 3);
	lesion_quicklook_free(q1);
	lesion_quicklook_free(q2);
	lesion_volume_free(a);
	lesion_volume_free(m);
}

/* colours are looked up by class: values a kind does not have are refused */
static void test_quicklook__map_out_of_range_is_refused(void **state)
{
	(void)state;
	struct lesion_volume *a = anatomy(0), *m = make(0);
	struct lesion_quicklook_options o;
	lesion_quicklook_options_init(&o);
	struct lesion_quicklook *q = NULL;
	struct lesion_error err;
	set(m, 0, 2, 2, 2, 2);
	assert_int_equal(lesion_quicklook_render_map(a, m->data, LESION_OVERLAY_MASK, &o, &q,
						     &err), LESION_ERR_INPUT);
	assert_null(q);
	set(m, 0, 2, 2, 2, 4);
	assert_int_equal(lesion_quicklook_render_map(a, m->data, LESION_OVERLAY_CHANGE, &o, &q,
						     &err), LESION_ERR_INPUT);
	assert_int_equal(lesion_quicklook_render_map(a, m->data, LESION_OVERLAY_AUTO, &o, &q,
						     &err), LESION_ERR_USAGE);
	assert_null(q);
	lesion_volume_free(a);
	lesion_volume_free(m);
}

static void test_quicklook__png_reads_back_with_libpng(void **state)
{
	(void)state;
	const unsigned char rgb[2 * 3 * 3] = {
		255, 0, 0, 0, 255, 0, 0, 0, 255,
		1, 2, 3, 200, 100, 50, 7, 7, 7,
	};
	unsigned char *buf = NULL;
	size_t size = 0;
	assert_int_equal(lesion_png_encode(rgb, 3, 2, &buf, &size, NULL), LESION_OK);
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&img, buf, size));
	assert_int_equal(img.width, 3);
	assert_int_equal(img.height, 2);
	img.format = PNG_FORMAT_RGB;
	unsigned char back[sizeof(rgb)];
	assert_true(png_image_finish_read(&img, NULL, back, 0, NULL));
	assert_memory_equal(back, rgb, sizeof(rgb));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quicklook__mirrored_storage_draws_the_same_picture),
		cmocka_unit_test(test_quicklook__thin_lesion_gets_one_tile_per_slice),
		cmocka_unit_test(test_quicklook__empty_overlay_spreads_over_the_image),
		cmocka_unit_test(test_quicklook__refuses_overlay_on_another_grid),
		cmocka_unit_test(test_quicklook__png_reads_back_with_libpng),
		cmocka_unit_test(test_quicklook__map_draws_as_the_overlay_volume),
		cmocka_unit_test(test_quicklook__map_out_of_range_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
