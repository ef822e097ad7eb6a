/* volume_scan.c: value statistics of every volume of an image in one pass
 * over its file, so that the work follows the data the file holds, never the
 * number of volumes its header claims. */
#include "lesionvol/volume.h"
#include "io_internal.h"
#include "segment_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SCAN_BYTES = 1 << 20, CONVERT_STEP = 4096 };

/* Add the @n values of @v to @s (counts, extremes, sum in file order). */
static void add_values(struct lesion_value_stats *s, const double *v, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		double x = v[i];
		if (isnan(x)) {
			s->n_nan++;
		} else if (isinf(x)) {
			s->n_inf++;
		} else {
			s->n_finite++;
			s->n_nonzero += x != 0.0;
			s->sum += x;
			if (x < s->min)
				s->min = x;
			if (x > s->max)
				s->max = x;
		}
	}
}

/* Statistics of every volume: the voxel data read a megabyte at a time. */
static enum lesion_status scan_all(struct lesion_volume *vol, struct lesion_value_stats *s,
				   struct lesion_error *err)
{
	const int bpv = vol->bytes_per_voxel;
	const int64_t total = vol->geom.n_voxels * vol->n_volumes;
	const int64_t stream_bytes = vol->vox_offset + total * bpv;
	const int64_t step = SCAN_BYTES / bpv;
	const int swap = vol->big_endian != lesion_host_big_endian();
	struct lesion_gzip_cursor *cursor = NULL;
	enum lesion_status st = LESION_OK;
	int64_t unchecked = 0;
	double values[CONVERT_STEP];

	for (int64_t at = 0; at < total && !st;) {
		int64_t k = total - at < step ? total - at : step;
		int64_t offset = vol->vox_offset + at * bpv;
		void *chunk = NULL;
		st = vol->gzipped
			? lesion_gzip_read_range(vol->data_path, offset, k * bpv, stream_bytes,
						 &cursor, &chunk, &unchecked, err)
			: lesion_raw_read_range(vol->data_path, offset, k * bpv, &chunk, err);
		if (st)
			break;
		if (swap)
			lesion_swap_bytes(chunk, k, bpv);
		for (int64_t i = 0; i < k; i += CONVERT_STEP) {
			int64_t m = k - i < CONVERT_STEP ? k - i : CONVERT_STEP;
			lesion_values_convert(vol, (unsigned char *)chunk + i * bpv, m, values);
			add_values(s, values, m);
		}
		free(chunk);
		at += k;
	}
	lesion_gzip_cursor_free(cursor);
	if (!st)
		lesion_volume_warn_unchecked(vol, unchecked);
	return st;
}

enum lesion_status lesion_volume_stats_read(struct lesion_volume *vol, int64_t index,
					    struct lesion_value_stats *stats,
					    struct lesion_error *err)
{
	enum lesion_status st = lesion_volume_check_index(vol, &index, 1, err);
	if (st)
		return st;
	if (index >= 0) {
		/* one volume: loaded whole (one libdeflate call for a 3D .nii.gz) */
		st = lesion_volume_load(vol, index, err);
		if (st)
			return st;
		lesion_volume_stats(vol, stats);
		free(vol->data);
		vol->data = NULL;
		return LESION_OK;
	}
	memset(stats, 0, sizeof(*stats));
	stats->min = INFINITY;
	stats->max = -INFINITY;
	st = scan_all(vol, stats, err);
	if (!stats->n_finite)
		stats->min = stats->max = NAN;
	stats->mean = stats->n_finite ? stats->sum / (double)stats->n_finite : NAN;
	return st;
}
