/* volume.c: typed access to the voxels of a loaded volume and its geometry. */
#include "lesionvol/volume.h"
#include "segment_internal.h"

#include <math.h>
#include <string.h>

int lesion_dtype_size(int datatype)
{
	switch (datatype) {
	case LESION_DT_UINT8: case LESION_DT_INT8: return 1;
	case LESION_DT_INT16: case LESION_DT_UINT16: return 2;
	case LESION_DT_INT32: case LESION_DT_UINT32: case LESION_DT_FLOAT32: return 4;
	case LESION_DT_INT64: case LESION_DT_UINT64: case LESION_DT_FLOAT64: return 8;
	}
	return 0;
}

const char *lesion_format_name(enum lesion_file_format format)
{
	switch (format) {
	case LESION_FORMAT_NIFTI1: return "NIfTI-1";
	case LESION_FORMAT_NIFTI1_PAIR: return "NIfTI-1 pair";
	case LESION_FORMAT_NIFTI2: return "NIfTI-2";
	case LESION_FORMAT_NIFTI2_PAIR: return "NIfTI-2 pair";
	case LESION_FORMAT_ANALYZE: return "Analyze 7.5";
	}
	return "unknown";
}

enum lesion_status lesion_volume_read(const char *path, int64_t index,
				      struct lesion_volume **out,
				      struct lesion_error *err)
{
	struct lesion_volume *vol;
	enum lesion_status st = lesion_volume_open(path, 0, &vol, err);
	if (st)
		return st;
	st = lesion_volume_load(vol, index, err);
	if (st) {
		lesion_volume_free(vol);
		*out = NULL;
		return st;
	}
	*out = vol;
	return LESION_OK;
}

#define CONVERT(T)                                                        \
	do {                                                              \
		const T *src = (const T *)data;                           \
		if (vol->scaled)                                          \
			for (int64_t i = 0; i < count; i++)               \
				out[i] = (double)src[i] * slope + inter;  \
		else                                                      \
			for (int64_t i = 0; i < count; i++)               \
				out[i] = (double)src[i];                  \
	} while (0)

void lesion_volume_values(const struct lesion_volume *vol, int64_t start,
			  int64_t count, double *out)
{
	lesion_values_convert(vol, (const unsigned char *)vol->data +
			      start * vol->bytes_per_voxel, count, out);
}

void lesion_values_convert(const struct lesion_volume *vol, const void *data,
			   int64_t count, double *out)
{
	const double slope = vol->scl_slope, inter = vol->scl_inter;
	switch (vol->dtype) {
	case LESION_DT_UINT8: CONVERT(uint8_t); break;
	case LESION_DT_INT8: CONVERT(int8_t); break;
	case LESION_DT_INT16: CONVERT(int16_t); break;
	case LESION_DT_UINT16: CONVERT(uint16_t); break;
	case LESION_DT_INT32: CONVERT(int32_t); break;
	case LESION_DT_UINT32: CONVERT(uint32_t); break;
	case LESION_DT_INT64: CONVERT(int64_t); break;
	case LESION_DT_UINT64: CONVERT(uint64_t); break;
	case LESION_DT_FLOAT32: CONVERT(float); break;
	case LESION_DT_FLOAT64: CONVERT(double); break;
	}
}

double lesion_volume_value(const struct lesion_volume *vol, int64_t index)
{
	double v;
	lesion_volume_values(vol, index, 1, &v);
	return v;
}

void lesion_volume_stats(const struct lesion_volume *vol,
			 struct lesion_value_stats *stats)
{
	enum { CHUNK = 4096 };
	const int64_t n = vol->geom.n_voxels;
	const int64_t n_chunks = (n + CHUNK - 1) / CHUNK;
	int64_t n_finite = 0, n_nan = 0, n_inf = 0, n_nonzero = 0;
	double mn = INFINITY, mx = -INFINITY, sum = 0.0;

	/* counts and extremes do not depend on order; the sum does, so it is
	 * taken below in file order */
#pragma omp parallel for reduction(+:n_finite,n_nan,n_inf,n_nonzero) \
	reduction(min:mn) reduction(max:mx) schedule(static)
	for (int64_t c = 0; c < n_chunks; c++) {
		double buf[CHUNK];
		int64_t start = c * CHUNK;
		int64_t cnt = n - start < CHUNK ? n - start : CHUNK;
		lesion_volume_values(vol, start, cnt, buf);
		for (int64_t i = 0; i < cnt; i++) {
			double v = buf[i];
			if (isnan(v)) {
				n_nan++;
			} else if (isinf(v)) {
				n_inf++;
			} else {
				n_finite++;
				if (v != 0.0)
					n_nonzero++;
				if (v < mn)
					mn = v;
				if (v > mx)
					mx = v;
			}
		}
	}
	/* the sum in file order, for results independent of scheduling */
	for (int64_t c = 0; c < n_chunks; c++) {
		double buf[CHUNK];
		int64_t start = c * CHUNK;
		int64_t cnt = n - start < CHUNK ? n - start : CHUNK;
		lesion_volume_values(vol, start, cnt, buf);
		for (int64_t i = 0; i < cnt; i++)
			if (isfinite(buf[i]))
				sum += buf[i];
	}
	stats->n_finite = n_finite;
	stats->n_nan = n_nan;
	stats->n_inf = n_inf;
	stats->n_nonzero = n_nonzero;
	stats->sum = sum;
	stats->min = n_finite ? mn : NAN;
	stats->max = n_finite ? mx : NAN;
	stats->mean = n_finite ? sum / (double)n_finite : NAN;
}

int lesion_geometry_same_grid(const struct lesion_geometry *a,
			      const struct lesion_geometry *b, double tol_mm)
{
	for (int i = 0; i < 3; i++)
		if (a->dim[i] != b->dim[i])
			return 0;
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			if (!(fabs(a->vox_to_world[r][c] - b->vox_to_world[r][c]) <= tol_mm))
				return 0;
	return 1;
}

int lesion_geometry_orientation_known(const struct lesion_geometry *g)
{
	return g->qform_code > 0 || g->sform_code > 0;
}

void lesion_geometry_voxel_to_world(const struct lesion_geometry *g,
				    const double ijk[3], double xyz[3])
{
	for (int r = 0; r < 3; r++)
		xyz[r] = g->vox_to_world[r][0] * ijk[0] + g->vox_to_world[r][1] * ijk[1] +
			 g->vox_to_world[r][2] * ijk[2] + g->vox_to_world[r][3];
}
