/* fuzz_measure.c: libFuzzer target over segmentation and measurement
 * (lesion_measure) of a small volume built in memory from the input.
 *
 * Input layout (missing bytes read as 0):
 *   0      rule: bits 0-1 bounds (0 value > 0, 1 --thr, 2 --uthr, 3 both),
 *          bit 2 --zthr, bit 3 --uzthr, bit 4 --fill-holes, bit 5 --soft,
 *          bit 6 brain mask, bit 7 the mask is on another grid
 *   1      bits 0-1 connectivity (6, 18, 26, 26), bit 2 want the mask,
 *          bit 3 want the labels, bit 4 measure again on 3 threads and compare
 *   2      --min-voxels (0-255)
 *   3      --min-volume in quarter mm^3
 *   4-5    --thr, int16 in eighths;  6-7 --uthr, likewise
 *   8, 9   --zthr, --uzthr K, int8 in sixteenths
 *   10     datatype (index into dtypes[] below; 0 is uint8)
 *   11-12  scl_slope (int8 in sixteenths; 0 = unscaled), scl_inter (int8)
 *   13-14  voxel size x (1 + b) / 8 mm, y and z scaled by (1 + b) / 64
 *   15     bits 0-2: flip the sign of the x, y, z axes
 *   16-18  nx (1 + b % 24), ny (1 + b % 24), nz (1 + b % 16)
 *   19...  the voxels, raw bytes in native order; then the brain mask bits
 *
 * Besides the sanitizers, the target aborts when the measurement breaks one
 * of the documented invariants (component voxels summing to the lesion, labels by
 * decreasing size, boxes and centroids inside the grid, the voxel outputs
 * agreeing with the counts), when a second run on more threads differs, and
 * when the library prints anything.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "lesionvol/segment.h"
#include "lesionvol/volume.h"
#include "quiet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum lesion_dtype dtypes[] = {
	LESION_DT_UINT8, LESION_DT_INT8, LESION_DT_INT16, LESION_DT_UINT16,
	LESION_DT_INT32, LESION_DT_UINT32, LESION_DT_INT64, LESION_DT_UINT64,
	LESION_DT_FLOAT32, LESION_DT_FLOAT64,
};

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_measure: %s:%d: %s\n",       \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	omp_set_num_threads(1);
	char scratch[256];
	const char *base = getenv("TMPDIR");
	snprintf(scratch, sizeof(scratch), "%s/lesionvol-fuzz-printed-%ld",
		 base && *base ? base : "/tmp", (long)getpid());
	quiet_init(scratch);
	return 0;
}

static unsigned byte_at(const uint8_t *d, size_t n, size_t i)
{
	return i < n ? d[i] : 0;
}

static int16_t i16_at(const uint8_t *d, size_t n, size_t i)
{
	return (int16_t)(uint16_t)(byte_at(d, n, i) | byte_at(d, n, i + 1) << 8);
}

static void check_measurement(const struct lesion_volume *vol,
			      const struct lesion_rule *rule,
			      const struct lesion_measurement *m,
			      const struct lesion_segmentation *seg)
{
	const struct lesion_geometry *g = &vol->geom;
	int64_t sum = 0;
	CHECK(m->n_components >= 0);
	CHECK(m->lesion_voxels >= 0 && m->lesion_voxels <= g->n_voxels);
	CHECK(m->nan_voxels >= 0 && m->nan_voxels <= g->n_voxels);
	if (!rule->fill_holes)
		CHECK(m->lesion_voxels + m->nan_voxels <= g->n_voxels);
	CHECK(m->n_components == 0 || m->components);
	for (int64_t c = 0; c < m->n_components; c++) {
		const struct lesion_component *k = &m->components[c];
		CHECK(k->label == c + 1);
		CHECK(k->voxels >= 1);
		CHECK(k->voxels >= rule->min_voxels);
		if (c > 0)
			CHECK(k->voxels <= m->components[c - 1].voxels);
		sum += k->voxels;
		int64_t box = 1;
		for (int a = 0; a < 3; a++) {
			CHECK(k->bbox_min[a] >= 0 && k->bbox_min[a] <= k->bbox_max[a]);
			CHECK(k->bbox_max[a] < g->dim[a]);
			CHECK(k->centroid_vox[a] >= (double)k->bbox_min[a] - 1e-9);
			CHECK(k->centroid_vox[a] <= (double)k->bbox_max[a] + 1e-9);
			CHECK(k->peak_vox[a] >= k->bbox_min[a] && k->peak_vox[a] <= k->bbox_max[a]);
			box *= k->bbox_max[a] - k->bbox_min[a] + 1;
		}
		CHECK(k->voxels <= box);
		if (isfinite(k->mean) && isfinite(k->max))
			CHECK(k->mean <= k->max + 1e-9 * fabs(k->max) + 1e-300);
	}
	CHECK(sum == m->lesion_voxels);
	if (m->n_components > 0)
		CHECK(m->largest_component_mm3 == m->components[0].volume_mm3);
	if (seg && seg->want_mask) {
		int64_t n = 0;
		CHECK(seg->mask);
		for (int64_t i = 0; i < g->n_voxels; i++) {
			CHECK(seg->mask[i] <= 1);
			n += seg->mask[i];
		}
		CHECK(n == m->lesion_voxels);
	}
	if (seg && seg->want_labels) {
		int64_t *count = calloc((size_t)m->n_components + 1, sizeof(int64_t));
		CHECK(seg->labels && count);
		for (int64_t i = 0; i < g->n_voxels; i++) {
			int32_t l = seg->labels[i];
			CHECK(l >= 0 && l <= m->n_components);
			count[l]++;
			if (seg->want_mask)
				CHECK((l > 0) == (seg->mask[i] == 1));
		}
		for (int64_t c = 0; c < m->n_components; c++)
			CHECK(count[c + 1] == m->components[c].voxels);
		free(count);
	}
}

/* Bit-for-bit equality of two measurements (NaN fields included). */
static int same_measurement(const struct lesion_measurement *a,
			    const struct lesion_measurement *b)
{
	if (a->n_components != b->n_components || a->lesion_voxels != b->lesion_voxels ||
	    a->nan_voxels != b->nan_voxels ||
	    memcmp(&a->lesion_volume_mm3, &b->lesion_volume_mm3, sizeof(double)) ||
	    memcmp(&a->soft_volume_mm3, &b->soft_volume_mm3, sizeof(double)) ||
	    memcmp(&a->ref_median, &b->ref_median, sizeof(double)) ||
	    memcmp(&a->ref_mad, &b->ref_mad, sizeof(double)))
		return 0;
	for (int64_t c = 0; c < a->n_components; c++) {
		const struct lesion_component *x = &a->components[c], *y = &b->components[c];
		if (x->voxels != y->voxels || memcmp(x->centroid_vox, y->centroid_vox,
						     sizeof(x->centroid_vox)) ||
		    memcmp(x->bbox_min, y->bbox_min, sizeof(x->bbox_min)) ||
		    memcmp(&x->mean, &y->mean, sizeof(double)) ||
		    memcmp(&x->max, &y->max, sizeof(double)) ||
		    memcmp(&x->soft_mm3, &y->soft_mm3, sizeof(double)) ||
		    memcmp(x->peak_vox, y->peak_vox, sizeof(x->peak_vox)))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *d = data;
	const size_t n = size;
	struct lesion_rule rule;
	lesion_rule_init(&rule);
	unsigned r = byte_at(d, n, 0), o = byte_at(d, n, 1);
	rule.has_thr = (r & 3) == 1 || (r & 3) == 3;
	rule.has_uthr = (r & 3) == 2 || (r & 3) == 3;
	rule.thr = i16_at(d, n, 4) / 8.0;
	rule.uthr = i16_at(d, n, 6) / 8.0;
	rule.has_zthr = (r >> 2) & 1;
	rule.has_uzthr = (r >> 3) & 1;
	rule.zthr = (int8_t)byte_at(d, n, 8) / 16.0;
	rule.uzthr = (int8_t)byte_at(d, n, 9) / 16.0;
	rule.fill_holes = (r >> 4) & 1;
	rule.soft = (r >> 5) & 1;
	static const int conn[4] = {6, 18, 26, 26};
	rule.connectivity = conn[o & 3];
	rule.min_voxels = byte_at(d, n, 2);
	rule.min_volume_mm3 = byte_at(d, n, 3) / 4.0;
	struct lesion_error err;
	if (lesion_rule_check(&rule, &err) != LESION_OK)
		return 0;

	enum lesion_dtype dt = dtypes[byte_at(d, n, 10) % 10];
	int64_t dim[3] = {1 + byte_at(d, n, 16) % 24, 1 + byte_at(d, n, 17) % 24,
			  1 + byte_at(d, n, 18) % 16};
	double vx = (1 + byte_at(d, n, 13)) / 8.0;
	double aniso = (1 + byte_at(d, n, 14)) / 64.0;
	unsigned flip = byte_at(d, n, 15);
	double m[4][4] = {{vx, 0, 0, 0}, {0, vx * aniso, 0, 0}, {0, 0, vx / aniso, 0},
			  {0, 0, 0, 1}};
	for (int a = 0; a < 3; a++)
		if ((flip >> a) & 1) {
			m[a][a] = -m[a][a];
			m[a][3] = (double)(dim[a] - 1) * -m[a][a];
		}
	struct lesion_volume *vol = NULL, *mask = NULL;
	if (lesion_volume_create(dim, m, dt, &vol, &err) != LESION_OK)
		abort();
	size_t bytes = (size_t)vol->geom.n_voxels * (size_t)vol->bytes_per_voxel;
	size_t avail = n > 19 ? n - 19 : 0;
	memcpy(vol->data, d + 19, avail < bytes ? avail : bytes);
	int8_t slope = (int8_t)byte_at(d, n, 11);
	if (slope != 0) {
		vol->scaled = 1;
		vol->scl_slope = slope / 16.0;
		vol->scl_inter = (int8_t)byte_at(d, n, 12);
	}
	if (r & 0x40) {
		int64_t mdim[3] = {dim[0], dim[1], dim[2] + ((r & 0x80) ? 1 : 0)};
		if (lesion_volume_create(mdim, m, LESION_DT_UINT8, &mask, &err) != LESION_OK)
			abort();
		uint8_t *mb = mask->data;
		const uint8_t *bits = d + 19 + bytes;
		size_t nbits = avail > bytes ? (avail - bytes) * 8 : 0;
		for (int64_t i = 0; i < mask->geom.n_voxels; i++)
			mb[i] = (size_t)i < nbits ? (bits[i / 8] >> (i % 8)) & 1 : 1;
	}

	struct lesion_measurement meas;
	struct lesion_segmentation seg = {0};
	seg.want_mask = (o >> 2) & 1;
	seg.want_labels = (o >> 3) & 1;
	memset(&meas, 0, sizeof(meas));
	quiet_begin();
	enum lesion_status st = lesion_measure(vol, mask, &rule, &meas, &seg, &err);
	quiet_end();
	if (st == LESION_OK) {
		check_measurement(vol, &rule, &meas, &seg);
		if ((o >> 4) & 1) {
			struct lesion_measurement again;
			memset(&again, 0, sizeof(again));
			omp_set_num_threads(3);
			quiet_begin();
			enum lesion_status st2 = lesion_measure(vol, mask, &rule, &again,
								NULL, &err);
			quiet_end();
			omp_set_num_threads(1);
			CHECK(st2 == LESION_OK);
			CHECK(same_measurement(&meas, &again));
			lesion_measurement_release(&again);
		}
		lesion_measurement_release(&meas);
	} else {
		CHECK(st == LESION_ERR_INPUT || st == LESION_ERR_USAGE);
		CHECK(err.message[0] != '\0');
		/* input errors: a mask on another grid, or no reference voxels
		 * for a relative threshold */
		if (st == LESION_ERR_INPUT)
			CHECK((mask && (r & 0x80)) || rule.has_zthr || rule.has_uzthr);
	}
	if (mask && (r & 0x80))
		CHECK(st == LESION_ERR_INPUT);
	lesion_segmentation_release(&seg);
	lesion_volume_free(mask);
	lesion_volume_free(vol);
	return 0;
}
