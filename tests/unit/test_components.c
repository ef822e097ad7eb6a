/* test_components.c: run-length component labelling and hole filling against
 * hand-checked cases and a brute-force flood fill written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <omp.h>

#include "lesionvol/components.h"

#define IDX(x, y, z, nx, ny) ((x) + (int64_t)(nx) * ((y) + (int64_t)(ny) * (z)))

static int32_t *label_map(const uint8_t *mask, const int64_t dim[3], int conn,
			  struct lesion_components *c)
{
	assert_int_equal(lesion_components_label(mask, dim, conn, c, NULL), LESION_OK);
	int32_t *labels = malloc(sizeof(int32_t) * (size_t)(dim[0] * dim[1] * dim[2]));
	assert_non_null(labels);
	lesion_components_paint(c, labels);
	return labels;
}

static int64_t count_components(const uint8_t *mask, const int64_t dim[3], int conn)
{
	struct lesion_components c;
	assert_int_equal(lesion_components_label(mask, dim, conn, &c, NULL), LESION_OK);
	int64_t n = c.n_components;
	lesion_components_release(&c);
	return n;
}

static void test_components__diagonal_touch_joins_only_at_26(void **state)
{
	(void)state;
	const int64_t dim[3] = {3, 3, 3};
	uint8_t m[27] = {0};
	m[IDX(0, 0, 0, 3, 3)] = 1;
	m[IDX(1, 1, 1, 3, 3)] = 1; /* corner contact */
	assert_int_equal(count_components(m, dim, 6), 2);
	assert_int_equal(count_components(m, dim, 18), 2);
	assert_int_equal(count_components(m, dim, 26), 1);
}

static void test_components__edge_touch_joins_at_18_and_26(void **state)
{
	(void)state;
	const int64_t dim[3] = {3, 3, 3};
	uint8_t m[27] = {0};
	m[IDX(0, 0, 0, 3, 3)] = 1;
	m[IDX(1, 0, 1, 3, 3)] = 1; /* edge contact in x-z */
	m[IDX(2, 1, 2, 3, 3)] = 1; /* corner contact with (1, 0, 1) */
	m[IDX(2, 2, 1, 3, 3)] = 1; /* edge contact in y-z */
	assert_int_equal(count_components(m, dim, 6), 4);
	assert_int_equal(count_components(m, dim, 18), 2);
	assert_int_equal(count_components(m, dim, 26), 1);
}

static void test_components__numbered_by_decreasing_size(void **state)
{
	(void)state;
	const int64_t dim[3] = {10, 4, 4};
	uint8_t m[160] = {0};
	m[IDX(0, 0, 0, 10, 4)] = 1;                 /* 1 voxel, first in file order */
	for (int x = 3; x < 6; x++)
		m[IDX(x, 0, 0, 10, 4)] = 1;         /* 3 voxels */
	for (int x = 0; x < 5; x++)
		m[IDX(x, 3, 3, 10, 4)] = 1;         /* 5 voxels, last */
	struct lesion_components c;
	int32_t *lab = label_map(m, dim, 26, &c);
	assert_int_equal(c.n_components, 3);
	assert_int_equal(c.voxels[0], 5);
	assert_int_equal(c.voxels[1], 3);
	assert_int_equal(c.voxels[2], 1);
	assert_int_equal(lab[IDX(2, 3, 3, 10, 4)], 1);
	assert_int_equal(lab[IDX(4, 0, 0, 10, 4)], 2);
	assert_int_equal(lab[0], 3);
	assert_int_equal(c.first_voxel[0], IDX(0, 3, 3, 10, 4));
	free(lab);
	lesion_components_release(&c);
}

static void test_components__ties_go_to_first_voxel_in_file_order(void **state)
{
	(void)state;
	/* two 2-voxel components: B's first voxel comes first in file order
	 * (plane 0) although A has the smaller x and y */
	const int64_t dim[3] = {6, 6, 3};
	uint8_t m[108] = {0};
	m[IDX(0, 0, 2, 6, 6)] = m[IDX(1, 0, 2, 6, 6)] = 1;       /* A */
	m[IDX(5, 5, 0, 6, 6)] = m[IDX(5, 5, 1, 6, 6)] = 1;       /* B */
	struct lesion_components c;
	int32_t *lab = label_map(m, dim, 6, &c);
	assert_int_equal(c.n_components, 2);
	assert_int_equal(lab[IDX(5, 5, 0, 6, 6)], 1);
	assert_int_equal(lab[IDX(5, 5, 1, 6, 6)], 1);
	assert_int_equal(lab[IDX(0, 0, 2, 6, 6)], 2);
	free(lab);
	lesion_components_release(&c);
}

static void test_components__u_shape_merges_later_rows(void **state)
{
	(void)state;
	/* two arms that only meet at the last row: the union must relabel */
	const int64_t dim[3] = {5, 4, 1};
	uint8_t m[20] = {
		1, 0, 0, 0, 1,
		1, 0, 0, 0, 1,
		1, 0, 0, 0, 1,
		1, 1, 1, 1, 1,
	};
	assert_int_equal(count_components(m, dim, 6), 1);
	uint8_t n[20] = {
		1, 0, 1, 0, 1,
		0, 1, 0, 1, 0,
		0, 0, 0, 0, 0,
		1, 0, 0, 0, 0,
	};
	assert_int_equal(count_components(n, dim, 6), 6);
	assert_int_equal(count_components(n, dim, 26), 2);
}

static void test_components__empty_and_full(void **state)
{
	(void)state;
	const int64_t dim[3] = {4, 3, 2};
	uint8_t m[24] = {0};
	assert_int_equal(count_components(m, dim, 26), 0);
	memset(m, 7, sizeof(m)); /* any non-zero byte is foreground */
	struct lesion_components c;
	assert_int_equal(lesion_components_label(m, dim, 6, &c, NULL), LESION_OK);
	assert_int_equal(c.n_components, 1);
	assert_int_equal(c.voxels[0], 24);
	assert_int_equal(c.n_runs, 6);
	lesion_components_release(&c);
	assert_int_equal(lesion_components_label(m, dim, 8, &c, NULL), LESION_ERR_USAGE);
}

static void test_components__truncate_drops_smallest(void **state)
{
	(void)state;
	const int64_t dim[3] = {8, 1, 1};
	uint8_t m[8] = {1, 1, 1, 0, 1, 0, 1, 1};
	struct lesion_components c;
	assert_int_equal(lesion_components_label(m, dim, 26, &c, NULL), LESION_OK);
	lesion_components_truncate(&c, 2);
	int32_t lab[8];
	lesion_components_paint(&c, lab);
	const int32_t want[8] = {1, 1, 1, 0, 0, 0, 2, 2};
	assert_memory_equal(lab, want, sizeof(want));
	assert_int_equal(c.n_components, 2);
	lesion_components_release(&c);
}

/* ---- brute force: flood fill with an explicit stack, labels by discovery */

static int64_t flood(const uint8_t *m, const int64_t d[3], int conn, int64_t *lab)
{
	const int64_t n = d[0] * d[1] * d[2];
	int64_t *stack = malloc(sizeof(int64_t) * (size_t)n);
	int64_t next = 0;
	for (int64_t i = 0; i < n; i++)
		lab[i] = 0;
	for (int64_t s = 0; s < n; s++) {
		if (!m[s] || lab[s])
			continue;
		int64_t top = 0;
		lab[s] = ++next;
		stack[top++] = s;
		while (top) {
			int64_t v = stack[--top];
			int64_t x = v % d[0], y = v / d[0] % d[1], z = v / (d[0] * d[1]);
			for (int dz = -1; dz <= 1; dz++)
				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++) {
						int nz = abs(dx) + abs(dy) + abs(dz);
						if (nz == 0 || (conn == 6 && nz > 1) ||
						    (conn == 18 && nz > 2))
							continue;
						int64_t a = x + dx, b = y + dy, e = z + dz;
						if (a < 0 || b < 0 || e < 0 || a >= d[0] ||
						    b >= d[1] || e >= d[2])
							continue;
						int64_t w = IDX(a, b, e, d[0], d[1]);
						if (m[w] && !lab[w]) {
							lab[w] = lab[s];
							stack[top++] = w;
						}
					}
		}
	}
	free(stack);
	return next;
}

static uint32_t rng_state = 12345u;
static uint32_t rnd(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

/* Same partition, same sizes in label order, same tie rule, any threads. */
static void check_against_flood(const int64_t d[3], int density_pct)
{
	const int64_t n = d[0] * d[1] * d[2];
	uint8_t *m = malloc((size_t)n);
	int64_t *ref = malloc(sizeof(int64_t) * (size_t)n);
	int64_t *size = calloc((size_t)n + 1, sizeof(int64_t));
	int64_t *map = calloc((size_t)n + 1, sizeof(int64_t));
	int64_t *first = calloc((size_t)n + 1, sizeof(int64_t));
	for (int64_t i = 0; i < n; i++)
		m[i] = (uint8_t)((int)(rnd() % 100) < density_pct);
	static const int conns[3] = {6, 18, 26};
	for (int ci = 0; ci < 3; ci++) {
		int64_t n_ref = flood(m, d, conns[ci], ref);
		for (int64_t i = 0; i <= n; i++)
			size[i] = map[i] = 0;
		for (int64_t i = 0; i < n; i++)
			size[ref[i]]++;
		for (int threads = 1; threads <= 3; threads++) {
			omp_set_num_threads(threads);
			struct lesion_components c;
			int32_t *lab = label_map(m, d, conns[ci], &c);
			assert_int_equal(c.n_components, n_ref);
			/* flood labels go by first voxel: a bijection onto ours whose
			 * sizes decrease, ties in flood order */
			for (int64_t i = 0; i <= n; i++)
				map[i] = 0;
			for (int64_t i = 0; i < n; i++) {
				assert_int_equal(lab[i] == 0, ref[i] == 0);
				if (!ref[i])
					continue;
				if (!map[ref[i]]) {
					map[ref[i]] = lab[i];
					first[ref[i]] = i;
				}
				assert_int_equal(map[ref[i]], lab[i]);
			}
			for (int64_t r = 1; r <= n_ref; r++) {
				int64_t l = map[r];
				assert_int_equal(c.voxels[l - 1], size[r]);
				assert_int_equal(c.first_voxel[l - 1], first[r]);
				if (l > 1) {
					int64_t prev = c.voxels[l - 2];
					assert_true(prev >= c.voxels[l - 1]);
					if (prev == c.voxels[l - 1])
						assert_true(c.first_voxel[l - 2] < c.first_voxel[l - 1]);
				}
			}
			free(lab);
			lesion_components_release(&c);
		}
	}
	omp_set_num_threads(1);
	free(m);
	free(ref);
	free(size);
	free(map);
	free(first);
}

static void test_components__random_masks_match_flood_fill(void **state)
{
	(void)state;
	const int64_t small[3] = {7, 5, 6};
	check_against_flood(small, 40);
	const int64_t odd[3] = {1, 9, 13};
	check_against_flood(odd, 55);
	/* enough runs for the slab-parallel path */
	const int64_t big[3] = {40, 37, 33};
	check_against_flood(big, 30);
	check_against_flood(big, 60);
	/* rows of whole 64-voxel blocks plus a padded partial one, and rows of
	 * whole blocks only, dense enough that runs reach the row's end */
	const int64_t wide[3] = {70, 9, 8};
	check_against_flood(wide, 50);
	const int64_t blocks[3] = {128, 6, 5};
	check_against_flood(blocks, 85);
}

static void test_components__fill_holes_fills_enclosed_cavity_only(void **state)
{
	(void)state;
	/* a 5x5x5 shell around a 3x3x3 cavity, and one tunnel to the outside
	 * in a second shell: only the closed one is filled */
	const int64_t dim[3] = {12, 7, 7};
	const int64_t n = 12 * 7 * 7;
	uint8_t *m = calloc((size_t)n, 1);
	for (int z = 1; z < 6; z++)
		for (int y = 1; y < 6; y++)
			for (int x = 0; x < 12; x++) {
				int inner = z > 1 && z < 5 && y > 1 && y < 5;
				int shell_a = x >= 0 && x < 5 && !(inner && x > 0 && x < 4);
				int shell_b = x >= 6 && x < 11 && !(inner && x > 6 && x < 10);
				m[IDX(x, y, z, 12, 7)] = (uint8_t)(shell_a || shell_b);
			}
	m[IDX(10, 3, 3, 12, 7)] = 0; /* tunnel from shell B's cavity outwards */
	m[IDX(2, 3, 3, 12, 7)] = 2;  /* a marker inside shell A's cavity */
	assert_int_equal(lesion_mask_fill_holes(m, dim, NULL), LESION_OK);
	assert_int_equal(m[IDX(1, 2, 2, 12, 7)], 1);
	assert_int_equal(m[IDX(3, 4, 4, 12, 7)], 1);
	assert_int_equal(m[IDX(2, 3, 3, 12, 7)], 2);
	assert_int_equal(m[IDX(8, 3, 3, 12, 7)], 0);
	assert_int_equal(m[IDX(5, 3, 3, 12, 7)], 0);
	assert_int_equal(m[IDX(11, 0, 0, 12, 7)], 0);
	free(m);
}

static void test_components__fill_holes_background_is_6_connected(void **state)
{
	(void)state;
	/* a cavity that meets the outside only through a corner is a hole */
	const int64_t dim[3] = {3, 3, 3};
	uint8_t m[27];
	memset(m, 1, sizeof(m));
	m[IDX(1, 1, 1, 3, 3)] = 0;
	m[IDX(0, 0, 0, 3, 3)] = 0;
	m[IDX(1, 0, 0, 3, 3)] = 1;
	assert_int_equal(lesion_mask_fill_holes(m, dim, NULL), LESION_OK);
	assert_int_equal(m[IDX(1, 1, 1, 3, 3)], 1);
	assert_int_equal(m[IDX(0, 0, 0, 3, 3)], 0);
	/* thin volumes are all border */
	const int64_t flat[3] = {5, 5, 1};
	uint8_t f[25] = {
		1, 1, 1, 1, 1,
		1, 0, 0, 0, 1,
		1, 0, 0, 0, 1,
		1, 0, 0, 0, 1,
		1, 1, 1, 1, 1,
	};
	assert_int_equal(lesion_mask_fill_holes(f, flat, NULL), LESION_OK);
	assert_int_equal(f[IDX(2, 2, 0, 5, 5)], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_components__diagonal_touch_joins_only_at_26),
		cmocka_unit_test(test_components__edge_touch_joins_at_18_and_26),
		cmocka_unit_test(test_components__numbered_by_decreasing_size),
		cmocka_unit_test(test_components__ties_go_to_first_voxel_in_file_order),
		cmocka_unit_test(test_components__u_shape_merges_later_rows),
		cmocka_unit_test(test_components__empty_and_full),
		cmocka_unit_test(test_components__truncate_drops_smallest),
		cmocka_unit_test(test_components__random_masks_match_flood_fill),
		cmocka_unit_test(test_components__fill_holes_fills_enclosed_cavity_only),
		cmocka_unit_test(test_components__fill_holes_background_is_6_connected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
