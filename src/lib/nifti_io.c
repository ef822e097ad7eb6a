/* nifti_io.c: the only file that talks to niftilib; reads exactly the named
 * file, validates the header before allocating from it, and writes outputs
 * that inherit the input's geometry. */
#include "lesionvol/volume.h"
#include "io_internal.h"

#include <nifti2_io.h>

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The parsed header, kept so outputs can be written with the same geometry. */
struct lesion_header {
	nifti_image *nim; /* header fields only, nim->data stays NULL */
	struct lesion_gzip_cursor *gz; /* where the last volume read ended */
};

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void make_niftilib_quiet(void)
{
	nifti_set_debug_level(0);
}

/* The largest output one gzip stream of n bytes can inflate to: deflate
 * cannot do better than about 1032:1; anything claimed beyond that is a lie. */
static int64_t gzip_max_inflated(int64_t compressed)
{
	if (compressed > INT64_MAX / 1100)
		return INT64_MAX;
	return compressed * 1032 + (1 << 20);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int name_is_hdr(const char *p)
{
	return ends_with(p, ".hdr") || ends_with(p, ".hdr.gz") ||
	       ends_with(p, ".HDR") || ends_with(p, ".HDR.GZ");
}

static int name_is_img(const char *p)
{
	return ends_with(p, ".img") || ends_with(p, ".img.gz") ||
	       ends_with(p, ".IMG") || ends_with(p, ".IMG.GZ");
}

static int is_regular_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * The partner of a pair member: for "x.hdr" the image "x.img", else
 * "x.img.gz"; for "x.hdr.gz" first "x.img.gz" then "x.img"; and the reverse for
 * an .img name. Returns a new string or NULL when no partner exists.
 */
static char *pair_partner(const char *path, int want_img)
{
	size_t n = strlen(path);
	int gz = ends_with(path, ".gz") || ends_with(path, ".GZ");
	size_t stem = n - (gz ? 7 : 4);
	int upper = path[stem + 1] == 'H' || path[stem + 1] == 'I';
	const char *ext = want_img ? (upper ? ".IMG" : ".img")
				   : (upper ? ".HDR" : ".hdr");
	const char *gzext = upper ? ".GZ" : ".gz";
	char *cand = malloc(stem + 8);
	if (!cand)
		return NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		int with_gz = (attempt == 0) ? gz : !gz;
		memcpy(cand, path, stem);
		snprintf(cand + stem, 8, "%s%s", ext, with_gz ? gzext : "");
		if (is_regular_file(cand))
			return cand;
	}
	free(cand);
	return NULL;
}

static enum lesion_status check_input_file(const char *path, int64_t *size,
					   struct lesion_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': is a directory, not an image file", path);
	if (!S_ISREG(st.st_mode))
		return lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': not a regular file", path);
	*size = (int64_t)st.st_size;
	return LESION_OK;
}

static int file_is_gzip(const char *path)
{
	unsigned char m[2] = {0, 0};
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t got = fread(m, 1, 2, f);
	fclose(f);
	return got == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

/* Read up to @want bytes from the start of @path, inflating if gzip. */
static enum lesion_status read_prefix(const char *path, int gz, void *buf,
				      size_t want, size_t *got,
				      struct lesion_error *err)
{
	if (gz) {
		struct lesion_inflate_result r;
		enum lesion_status st = lesion_gzip_read_file_prefix(path, buf,
							want, &r, err);
		*got = r.n_out;
		return st;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': %s", path, strerror(errno));
	*got = fread(buf, 1, want, f);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': read error", path);
	return LESION_OK;
}

static int32_t bswap32(int32_t v)
{
	uint32_t u = (uint32_t)v;
	u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
	return (int32_t)u;
}

static const char *units_name(int code, double *to_mm)
{
	switch (code) {
	case NIFTI_UNITS_METER: *to_mm = 1000.0; return "m";
	case NIFTI_UNITS_MM: *to_mm = 1.0; return "mm";
	case NIFTI_UNITS_MICRON: *to_mm = 0.001; return "micron";
	default: *to_mm = 1.0; return "unknown";
	}
}

void lesion_volume_add_warning(struct lesion_volume *vol, const char *fmt, ...)
{
	char w[LESION_WARNING_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w, sizeof(w), fmt, ap);
	va_end(ap);
	/* a volume read twice says a thing once */
	for (int i = 0; i < vol->n_warnings; i++)
		if (strcmp(vol->warnings[i], w) == 0)
			return;
	if (vol->n_warnings < LESION_MAX_WARNINGS)
		memcpy(vol->warnings[vol->n_warnings++], w, sizeof(w));
}

void lesion_volume_warn_unchecked(struct lesion_volume *vol, int64_t unchecked)
{
	if (unchecked <= 0)
		return;
	int64_t limit = lesion_gzip_check_limit(vol->vox_offset +
		vol->n_volumes * vol->geom.n_voxels * vol->bytes_per_voxel);
	lesion_volume_add_warning(vol, "ignored the last %lld bytes of the file: gzip "
		"data after the image, not checked past %lld inflated bytes (the "
		"image's own size, at least 1 MiB)", (long long)unchecked, (long long)limit);
}

/* niftilib's name of a datatype code, or NULL for codes NIfTI does not
 * define (it says "UNKNOWN" or "**ILLEGAL**" for those). */
static const char *niftilib_datatype_name(int datatype)
{
	pthread_once(&quiet_once, make_niftilib_quiet);
	/* not nifti_is_valid_datatype(): it says no to DT_BINARY, a real code */
	const char *n = nifti_datatype_string(datatype);
	if (!n || datatype == DT_UNKNOWN || strchr(n, '*'))
		return NULL;
	return n;
}

static enum lesion_status datatype_error(const char *path, int datatype,
				       struct lesion_error *err)
{
	const char *name = niftilib_datatype_name(datatype);
	if (!name)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"unsupported datatype in '%s': unknown code %d", path, datatype);
	return lesion_error_set(err, LESION_ERR_INPUT,
		"unsupported datatype in '%s': %s (code %d) is not a scalar type; "
		"lesionvol reads uint8, int8, int16, uint16, int32, uint32, int64, "
		"uint64, float32 and float64", path, name, datatype);
}

/* Header checks done on raw fields, before niftilib or malloc trust them. */
static enum lesion_status validate_dims(const char *path, const int64_t dim[8],
					int datatype, int bitpix,
					int64_t vox_offset, int pair, int version,
					int lenient, struct lesion_error *err)
{
	if (dim[0] < 1 || dim[0] > 7)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"invalid header in '%s': dim[0] is %lld, must be 1 to 7",
			path, (long long)dim[0]);
	int64_t n = 1;
	for (int i = 1; i <= dim[0]; i++) {
		if (dim[i] < 1)
			return lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': dim[%d] is %lld, must be at least 1",
				path, i, (long long)dim[i]);
		if (__builtin_mul_overflow(n, dim[i], &n) || n > (INT64_C(1) << 40))
			return lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': dimensions overflow (more than 2^40 voxels)",
				path);
	}
	int size = lesion_dtype_size(datatype);
	/* even a lenient open refuses codes niftilib does not know: it would
	 * print its own error and give up */
	if (size == 0 && (!lenient || !nifti_is_valid_datatype(datatype)))
		return datatype_error(path, datatype, err);
	if (size > 0 && bitpix != size * 8)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"invalid header in '%s': bitpix %d disagrees with datatype %s (%d bits)",
			path, bitpix, lesion_dtype_name(datatype), size * 8);
	int64_t min_off = pair ? 0 : (version == 2 ? 544 : 352);
	/* 0 in a single file is read as "right after the header" (see below) */
	if (vox_offset < min_off && !(vox_offset == 0 && !pair))
		return lesion_error_set(err, LESION_ERR_INPUT,
			"invalid header in '%s': vox_offset %lld is before the end of the header (%lld)",
			path, (long long)vox_offset, (long long)min_off);
	return LESION_OK;
}

/*
 * niftilib builds the qform with a voxel size of 1 wherever pixdim is not
 * positive; the rule counts a negative pixdim by its absolute value, so the
 * qform is rebuilt from the quaternion with |pixdim|.
 */
static void fix_qform(nifti_image *nim, const double pixdim[8])
{
	if (nim->qform_code <= 0)
		return;
	double d[3];
	for (int i = 0; i < 3; i++) {
		d[i] = fabs(pixdim[i + 1]);
		if (!isfinite(d[i]) || d[i] == 0.0)
			d[i] = 1.0;
	}
	nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c,
		nim->quatern_d, nim->qoffset_x, nim->qoffset_y, nim->qoffset_z,
		d[0], d[1], d[2], nim->qfac);
	nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
}

static void copy_mat(double dst[4][4], const nifti_dmat44 *src)
{
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			dst[r][c] = src->m[r][c];
}

/* Whether @p is a normal number in the type the header stores it in:
 * float32, but double in NIfTI-2. */
static int pixdim_normal(const struct lesion_volume *vol, double p)
{
	int nifti2 = vol->format == LESION_FORMAT_NIFTI2 ||
		     vol->format == LESION_FORMAT_NIFTI2_PAIR;
	return isfinite(p) && fabs(p) >= (nifti2 ? DBL_MIN : FLT_MIN);
}

/*
 * Whether the voxel size is one a volume can be measured with: each pixdim
 * of a spatial axis a normal number (its sign is dropped, as for a flipped
 * axis); zero, NaN, infinite and subnormal sizes (4.9e-324 mm is no real
 * voxel) are not, nor a voxel volume that is not a normal number in mm^3.
 * 1 with @why saying which field and why, else 0. Needs voxel_size_mm and
 * voxel_volume_mm3 filled from the pixdims.
 */
static int voxel_size_problem(const struct lesion_volume *vol, char *why, size_t size)
{
	const struct lesion_geometry *g = &vol->geom;
	for (int i = 0; i < 3 && i < vol->ndim; i++) {
		double p = vol->pixdim[i + 1];
		if (!pixdim_normal(vol, p)) {
			const char *kind = p == 0.0 ? "zero" : isnan(p) ? "NaN"
					 : isinf(p) ? "infinite" : "subnormal";
			snprintf(why, size, "pixdim[%d] is %g (%s), not a voxel size", i + 1,
				 p, kind);
			return 1;
		}
	}
	if (fpclassify(g->voxel_volume_mm3) != FP_NORMAL) {
		snprintf(why, size, "the voxel volume pixdim[1] x pixdim[2] x pixdim[3] = "
			 "%g x %g x %g mm is %s", g->voxel_size_mm[0], g->voxel_size_mm[1],
			 g->voxel_size_mm[2], isinf(g->voxel_volume_mm3) ? "too large for a double"
			 : "too small for a double");
		return 1;
	}
	return 0;
}

static void fill_geometry(struct lesion_volume *vol, const nifti_image *nim,
			  int lenient)
{
	struct lesion_geometry *g = &vol->geom;
	double to_mm;
	int analyze = vol->format == LESION_FORMAT_ANALYZE;

	g->spatial_units = analyze ? "mm" : units_name(nim->xyz_units, &to_mm);
	if (analyze)
		to_mm = 1.0;
	for (int i = 0; i < 3; i++)
		g->dim[i] = (vol->ndim > i) ? vol->full_dim[i + 1] : 1;
	g->n_voxels = g->dim[0] * g->dim[1] * g->dim[2];
	g->voxel_volume_mm3 = 1.0;
	for (int i = 0; i < 3; i++) {
		double p = vol->pixdim[i + 1];
		if (i >= vol->ndim && !pixdim_normal(vol, p))
			p = 1.0; /* a 2D image's unused third axis */
		g->voxel_size_mm[i] = fabs(p) * to_mm;
		g->voxel_volume_mm3 *= g->voxel_size_mm[i];
	}
	char why[160];
	if (voxel_size_problem(vol, why, sizeof(why))) {
		g->voxel_volume_mm3 = NAN;
		if (lenient)
			lesion_volume_add_warning(vol, "%s; volumes cannot be measured", why);
	}
	if (!analyze && strcmp(g->spatial_units, "unknown") == 0)
		lesion_volume_add_warning(vol, "spatial units are not set (xyzt_units %d); taken as mm",
			    vol->xyzt_units);

	g->qform_code = analyze ? 0 : nim->qform_code;
	g->sform_code = analyze ? 0 : nim->sform_code;
	copy_mat(g->qform, &nim->qto_xyz);
	copy_mat(g->sform, &nim->sto_xyz);
	memset(g->vox_to_world, 0, sizeof(g->vox_to_world));
	if (g->sform_code > 0) {
		memcpy(g->vox_to_world, g->sform, sizeof(g->sform));
		g->world_source = "sform";
	} else if (g->qform_code > 0) {
		memcpy(g->vox_to_world, g->qform, sizeof(g->qform));
		g->world_source = "qform";
	} else {
		for (int i = 0; i < 3; i++)
			g->vox_to_world[i][i] = g->voxel_size_mm[i] / (to_mm ? to_mm : 1);
		g->vox_to_world[3][3] = 1.0;
		g->world_source = "pixdim";
	}
	/* world coordinates in mm whatever the header's spatial unit */
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++) {
			g->vox_to_world[r][c] *= to_mm;
			g->qform[r][c] *= to_mm;
			g->sform[r][c] *= to_mm;
		}
	nifti_dmat44 m;
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			m.m[r][c] = g->vox_to_world[r][c];
	int ic, jc, kc;
	nifti_dmat44_to_orientation(m, &ic, &jc, &kc);
	/* niftilib's codes name the direction an axis points to: L2R is 'R' */
	static const char code[] = "?RLAPSI";
	g->orientation[0] = code[(ic >= 1 && ic <= 6) ? ic : 0];
	g->orientation[1] = code[(jc >= 1 && jc <= 6) ? jc : 0];
	g->orientation[2] = code[(kc >= 1 && kc <= 6) ? kc : 0];
	g->orientation[3] = '\0';

	/* warn when |det| of the world matrix disagrees with pixdim */
	if (isfinite(g->voxel_volume_mm3) && g->sform_code > 0) {
		double (*a)[4] = g->sform;
		double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
			     a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
			     a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
		det = fabs(det);
		if (fabs(det - g->voxel_volume_mm3) > 1e-3 * g->voxel_volume_mm3)
			lesion_volume_add_warning(vol, "the sform's voxel volume (%g mm^3) disagrees with "
				    "pixdim's (%g mm^3) by more than 0.1%%; pixdim is used",
				    det, g->voxel_volume_mm3);
	}
	if (g->sform_code > 0 && g->qform_code > 0) {
		double dmax = 0;
		for (int r = 0; r < 3; r++)
			for (int c = 0; c < 4; c++)
				dmax = fmax(dmax, fabs(g->sform[r][c] - g->qform[r][c]));
		if (dmax > 1e-3)
			lesion_volume_add_warning(vol, "qform and sform disagree (by up to %.3g mm); "
				    "sform is used for world coordinates", dmax);
	}
	/* rodent data are often stored with voxel sizes x10 so that human tools
	 * work; a whole field of view under 40 mm at >= 1 mm voxels hints at it */
	double fov_max = 0;
	for (int i = 0; i < 3; i++)
		fov_max = fmax(fov_max, g->dim[i] * g->voxel_size_mm[i]);
	if (isfinite(g->voxel_volume_mm3) && fov_max > 0 && fov_max < 40.0 &&
	    g->n_voxels >= 4096 && g->voxel_size_mm[0] >= 1.0)
		lesion_volume_add_warning(vol, "field of view is only %.3g mm: if this is a rodent "
			    "scan stored with x10 voxel sizes, volumes are 1000x too large",
			    fov_max);
}

/* CIFTI-2 keeps surface and parcel data in a NIfTI-2 container (intent
 * codes 3000-3099): its "grid" is not a volume, so no volume can be measured. */
static int is_cifti(const struct lesion_volume *vol)
{
	return vol->intent_code >= 3000 && vol->intent_code <= 3099;
}

static enum lesion_status cifti_error(const struct lesion_volume *vol,
				      struct lesion_error *err)
{
	return lesion_error_set(err, LESION_ERR_INPUT,
		"unable to read '%s': a CIFTI-2 file (intent code %d), not a volume image",
		vol->path, vol->intent_code);
}

static enum lesion_status voxel_size_error(const struct lesion_volume *vol,
					  const char *path, struct lesion_error *err)
{
	char why[160];
	voxel_size_problem(vol, why, sizeof(why));
	return lesion_error_set(err, LESION_ERR_INPUT, "invalid header in '%s': %s",
				path, why);
}

enum lesion_status lesion_volume_open(const char *path, int flags,
				      struct lesion_volume **out,
				      struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	struct lesion_volume *vol = NULL;
	char *hdr_path = NULL, *img_path = NULL;
	unsigned char raw[544];
	size_t got = 0;
	int64_t hdr_size, img_size = 0;
	nifti_image *nim = NULL;
	int lenient = flags & LESION_OPEN_LENIENT;

	pthread_once(&quiet_once, make_niftilib_quiet);
	*out = NULL;
	st = check_input_file(path, &hdr_size, err);
	if (st)
		goto out;
	int pair = name_is_hdr(path) || name_is_img(path);
	if (name_is_img(path)) {
		img_path = strdup(path);
		hdr_path = pair_partner(path, 0);
		if (!hdr_path) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"unable to read '%s': no header file (.hdr or .hdr.gz) beside this image",
				path);
			goto out;
		}
		st = check_input_file(hdr_path, &hdr_size, err);
		if (st)
			goto out;
	} else {
		hdr_path = strdup(path);
		if (pair) {
			img_path = pair_partner(path, 1);
		} else {
			img_path = strdup(path);
		}
	}
	if (!hdr_path || (!img_path && !pair)) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}

	int hdr_gz = file_is_gzip(hdr_path);
	st = read_prefix(hdr_path, hdr_gz, raw, sizeof(raw), &got, err);
	if (st)
		goto out;
	if (got < 4) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': %s", hdr_path,
			got == 0 ? "empty file" : "file too short for a header");
		goto out;
	}
	int32_t sz;
	memcpy(&sz, raw, 4);
	int swapped = 0, version;
	if (sz == 348 || sz == 540) {
		version = sz == 348 ? 1 : 2;
	} else if (bswap32(sz) == 348 || bswap32(sz) == 540) {
		version = bswap32(sz) == 348 ? 1 : 2;
		swapped = 1;
	} else {
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': not a NIfTI or Analyze file "
			"(sizeof_hdr is %d, expected 348 or 540)", hdr_path, (int)sz);
		goto out;
	}
	size_t need = version == 1 ? sizeof(nifti_1_header) : sizeof(nifti_2_header);
	if (got < need) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': truncated header (%zu of %zu bytes)",
			hdr_path, got, need);
		goto out;
	}

	vol = calloc(1, sizeof(*vol));
	if (!vol) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	vol->volume_index = -1;
	int64_t dim[8];
	int datatype, bitpix;
	int64_t vox_offset;
	double raw_slope, raw_inter, spm_scale = 0.0;
	int zero_offset = 0;
	if (version == 1) {
		nifti_1_header h;
		memcpy(&h, raw, sizeof(h));
		int is_nifti = memcmp(h.magic, "n+1", 4) == 0 || memcmp(h.magic, "ni1", 4) == 0;
		if (swapped) {
			if (is_nifti)
				nifti_swap_as_nifti1(&h);
			else
				nifti_swap_as_analyze((nifti_analyze75 *)&h);
		}
		if (is_nifti && (memcmp(h.magic, "n+1", 4) == 0) == pair) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': magic '%.3s' does not fit a %s file",
				hdr_path, h.magic, pair ? ".hdr/.img pair" : "single .nii");
			goto out;
		}
		if (!is_nifti && !pair) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': no NIfTI magic; an Analyze 7.5 header "
				"must be a .hdr with an .img beside it", hdr_path);
			goto out;
		}
		vol->format = !is_nifti ? LESION_FORMAT_ANALYZE
			    : pair ? LESION_FORMAT_NIFTI1_PAIR : LESION_FORMAT_NIFTI1;
		for (int i = 0; i < 8; i++) {
			dim[i] = h.dim[i];
			vol->pixdim[i] = h.pixdim[i];
		}
		datatype = h.datatype;
		bitpix = h.bitpix;
		/* checked before the conversion, which is undefined out of range */
		if (!isfinite(h.vox_offset) || h.vox_offset < 0 ||
		    h.vox_offset != floorf(h.vox_offset) || h.vox_offset > 1e15f) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': vox_offset %g is not a non-negative whole number",
				hdr_path, (double)h.vox_offset);
			goto out;
		}
		vox_offset = (int64_t)h.vox_offset;
		vol->xyzt_units = is_nifti ? h.xyzt_units : 0;
		st = validate_dims(hdr_path, dim, datatype, bitpix, vox_offset, pair,
				   1, lenient, err);
		if (st)
			goto out;
		/* niftilib replaces non-finite floats by 0; keep what the file says */
		raw_slope = h.scl_slope;
		raw_inter = h.scl_inter;
		if (!is_nifti) {
			/* Analyze 7.5 files are unscaled; SPM kept a scale
			 * factor in this slot (funused1), which is worth a word */
			spm_scale = raw_slope;
			raw_slope = 0.0;
			raw_inter = 0.0;
			h.scl_slope = 0.0f;
			h.scl_inter = 0.0f;
		}
		if (lesion_dtype_size(datatype) == 0) {
			/* niftilib prints "bad datatype" whatever its debug level;
			 * it only keeps the geometry here, so give it a harmless one */
			h.datatype = DT_UINT8;
			h.bitpix = 8;
		}
		nim = nifti_convert_n1hdr2nim(h, hdr_path);
	} else {
		nifti_2_header h;
		memcpy(&h, raw, sizeof(h));
		if (swapped)
			nifti_swap_as_nifti2(&h);
		if (memcmp(h.magic, pair ? "ni2" : "n+2", 4) != 0) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': NIfTI-2 magic '%.3s' does not fit a %s file",
				hdr_path, h.magic, pair ? ".hdr/.img pair" : "single .nii");
			goto out;
		}
		vol->format = pair ? LESION_FORMAT_NIFTI2_PAIR : LESION_FORMAT_NIFTI2;
		for (int i = 0; i < 8; i++) {
			dim[i] = h.dim[i];
			vol->pixdim[i] = h.pixdim[i];
		}
		datatype = h.datatype;
		bitpix = h.bitpix;
		vox_offset = h.vox_offset;
		vol->xyzt_units = h.xyzt_units;
		st = validate_dims(hdr_path, dim, datatype, bitpix, vox_offset, pair,
				   2, lenient, err);
		if (st)
			goto out;
		raw_slope = h.scl_slope;
		raw_inter = h.scl_inter;
		if (lesion_dtype_size(datatype) == 0) {
			h.datatype = DT_UINT8; /* as above: keep niftilib quiet */
			h.bitpix = 8;
		}
		nim = nifti_convert_n2hdr2nim(h, hdr_path);
	}
	if (!nim) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"invalid header in '%s': niftilib rejected it", hdr_path);
		goto out;
	}
	if ((vol->format == LESION_FORMAT_NIFTI1 || vol->format == LESION_FORMAT_NIFTI2) &&
	    vox_offset == 0) {
		/* invalid in a single file, but old writers left it 0; niftilib
		 * then reads from byte 348 and nibabel from byte 0: only the first
		 * byte after header and extender is what the standard allows */
		vox_offset = version == 1 ? 352 : 544;
		zero_offset = vol->n_warnings + 1; /* which warning to amend below */
		lesion_volume_add_warning(vol, "vox_offset is 0, invalid in a single-file NIfTI-%d; "
			    "the voxels are taken to start at byte %lld", version,
			    (long long)vox_offset);
	}
	fix_qform(nim, vol->pixdim);

	vol->path = strdup(path);
	vol->data_path = img_path ? strdup(img_path) : NULL;
	vol->header = calloc(1, sizeof(*vol->header));
	if (!vol->path || (img_path && !vol->data_path) || !vol->header) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	vol->header->nim = nim;
	nim = NULL;
	vol->raw_datatype = datatype;
	vol->dtype = (enum lesion_dtype)datatype;
	vol->bytes_per_voxel = lesion_dtype_size(datatype);
	vol->big_endian = swapped ? !lesion_host_big_endian() : lesion_host_big_endian();
	vol->ndim = (int)dim[0];
	for (int i = 0; i < 8; i++)
		vol->full_dim[i] = (i <= dim[0]) ? dim[i] : 1;
	vol->full_dim[0] = dim[0];
	vol->n_volumes = 1;
	for (int i = 4; i <= dim[0]; i++)
		vol->n_volumes *= dim[i];
	vol->vox_offset = vox_offset;
	nifti_image *h = vol->header->nim;
	/* raw * scl_slope + scl_inter when the slope is finite and
	 * non-zero; a non-finite scl_inter counts as 0 */
	vol->scl_slope = raw_slope;
	vol->scl_inter = isfinite(raw_inter) ? raw_inter : 0.0;
	vol->scaled = vol->format != LESION_FORMAT_ANALYZE && isfinite(raw_slope) &&
		      raw_slope != 0.0 &&
		      !(raw_slope == 1.0 && vol->scl_inter == 0.0);
	if (!vol->scaled) {
		vol->scl_slope = 1.0;
		vol->scl_inter = 0.0;
	}
	if (!isfinite(raw_slope))
		lesion_volume_add_warning(vol, "scl_slope is %g: values are used unscaled", raw_slope);
	else if (vol->scaled && !isfinite(raw_inter))
		lesion_volume_add_warning(vol, "scl_inter is %g: taken as 0", raw_inter);
	if (spm_scale != 0.0 && spm_scale != 1.0 && isfinite(spm_scale))
		lesion_volume_add_warning(vol, "the Analyze header holds an SPM scale factor (%g) in "
			    "funused1; Analyze 7.5 files are read unscaled", spm_scale);
	vol->cal_min = h->cal_min;
	vol->cal_max = h->cal_max;
	vol->intent_code = h->intent_code;
	memcpy(vol->descrip, h->descrip, 80);
	vol->descrip[80] = '\0';
	fill_geometry(vol, h, lenient);
	if (!lenient && !isfinite(vol->geom.voxel_volume_mm3)) {
		st = voxel_size_error(vol, hdr_path, err);
		goto out;
	}
	if (!lenient && is_cifti(vol)) {
		st = cifti_error(vol, err);
		goto out;
	}

	/* the data must fit in the file (or in what its gzip stream can hold) */
	if (!img_path)
		goto out; /* header only; lesion_volume_load() says what is missing */
	st = check_input_file(img_path, &img_size, err);
	if (st)
		goto out;
	vol->gzipped = file_is_gzip(img_path);
	int64_t data_bytes;
	if (vol->bytes_per_voxel > 0) {
		int64_t total_vox = vol->geom.n_voxels * vol->n_volumes;
		if (__builtin_mul_overflow(total_vox, (int64_t)vol->bytes_per_voxel, &data_bytes) ||
		    __builtin_add_overflow(data_bytes, vox_offset, &data_bytes)) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': data size overflows", hdr_path);
			goto out;
		}
		if (zero_offset && !vol->gzipped && img_size == data_bytes - 4) {
			/* no extender either: the voxels follow the 348/540 bytes */
			vox_offset -= 4;
			data_bytes -= 4;
			vol->vox_offset = vox_offset;
			if (zero_offset <= vol->n_warnings)
				snprintf(vol->warnings[zero_offset - 1], LESION_WARNING_MAX,
					 "vox_offset is 0, invalid in a single-file NIfTI-%d; "
					 "the file holds the voxels right after the header, at "
					 "byte %lld", version, (long long)vox_offset);
		}
		if (!vol->gzipped && vox_offset >= img_size && data_bytes > vox_offset) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': vox_offset %lld is past the end of "
				"'%s' (%lld bytes)", hdr_path, (long long)vox_offset,
				img_path, (long long)img_size);
			goto out;
		}
		if (!vol->gzipped && data_bytes > img_size) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"truncated data in '%s': the header needs %lld bytes, the file has %lld",
				img_path, (long long)data_bytes, (long long)img_size);
			goto out;
		}
		if (vol->gzipped && data_bytes > gzip_max_inflated(img_size)) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"invalid header in '%s': it claims %lld bytes of data, more than "
				"a %lld-byte gzip file can hold", hdr_path,
				(long long)data_bytes, (long long)img_size);
			goto out;
		}
	}
out:
	if (nim)
		nifti_image_free(nim);
	free(hdr_path);
	free(img_path);
	if (st) {
		lesion_volume_free(vol);
		return st;
	}
	*out = vol;
	return LESION_OK;
}

static enum lesion_status no_image_error(const struct lesion_volume *vol,
					struct lesion_error *err)
{
	return lesion_error_set(err, LESION_ERR_INPUT,
		"unable to read '%s': no image file (.img or .img.gz) beside this header",
		vol->path);
}

enum lesion_status lesion_volume_check_index(const struct lesion_volume *vol,
					    int64_t *index, int all_ok,
					    struct lesion_error *err)
{
	if (vol->bytes_per_voxel == 0)
		return datatype_error(vol->path, vol->raw_datatype, err);
	if (!vol->data_path)
		return no_image_error(vol, err);
	if (*index < 0) {
		if (vol->n_volumes > 1 && !all_ok)
			return lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' is 4D with %lld volumes; choose one with --volume N "
				"(0 to %lld)", vol->path, (long long)vol->n_volumes,
				(long long)vol->n_volumes - 1);
		*index = vol->n_volumes > 1 ? -1 : 0;
	}
	if (*index >= vol->n_volumes)
		return lesion_error_set(err, LESION_ERR_INPUT,
			"'%s' has %lld volume%s; --volume %lld is out of range (0 to %lld)",
			vol->path, (long long)vol->n_volumes,
			vol->n_volumes == 1 ? "" : "s", (long long)*index,
			(long long)vol->n_volumes - 1);
	return LESION_OK;
}

enum lesion_status lesion_volume_load(struct lesion_volume *vol, int64_t index,
				      struct lesion_error *err)
{
	enum lesion_status st = lesion_volume_check_index(vol, &index, 0, err);
	if (st)
		return st;
	free(vol->data);
	vol->data = NULL;
	int64_t vol_bytes = vol->geom.n_voxels * vol->bytes_per_voxel;
	int64_t offset = vol->vox_offset + index * vol_bytes;
	void *data = NULL;
	int64_t unchecked = 0;
	if (vol->gzipped)
		st = lesion_gzip_read_range(vol->data_path, offset, vol_bytes,
			vol->vox_offset + vol->n_volumes * vol_bytes,
			vol->n_volumes > 1 ? &vol->header->gz : NULL, &data, &unchecked, err);
	else
		st = lesion_raw_read_range(vol->data_path, offset, vol_bytes, &data, err);
	if (st)
		return st;
	lesion_volume_warn_unchecked(vol, unchecked);
	if (vol->big_endian != lesion_host_big_endian())
		lesion_swap_bytes(data, vol->geom.n_voxels, vol->bytes_per_voxel);
	vol->data = data;
	vol->volume_index = index;
	return LESION_OK;
}

enum lesion_status lesion_volume_check(const struct lesion_volume *vol,
				       struct lesion_error *err)
{
	if (is_cifti(vol))
		return cifti_error(vol, err);
	if (vol->bytes_per_voxel == 0)
		return datatype_error(vol->path, vol->raw_datatype, err);
	if (!vol->data_path)
		return no_image_error(vol, err);
	if (!isfinite(vol->geom.voxel_volume_mm3))
		return voxel_size_error(vol, vol->path, err);
	return LESION_OK;
}

void lesion_volume_free(struct lesion_volume *vol)
{
	if (!vol)
		return;
	if (vol->header) {
		lesion_gzip_cursor_free(vol->header->gz);
		if (vol->header->nim)
			nifti_image_free(vol->header->nim);
		free(vol->header);
	}
	free(vol->path);
	free(vol->data_path);
	free(vol->data);
	free(vol);
}

enum lesion_status lesion_volume_create(const int64_t dim[3],
					const double vox_to_world[4][4],
					enum lesion_dtype dtype,
					struct lesion_volume **out,
					struct lesion_error *err)
{
	int size = lesion_dtype_size(dtype);
	int64_t dims[8] = {3, dim[0], dim[1], dim[2], 1, 1, 1, 1};
	int64_t n;
	*out = NULL;
	if (size == 0 || dim[0] < 1 || dim[1] < 1 || dim[2] < 1 ||
	    __builtin_mul_overflow(dim[0], dim[1], &n) ||
	    __builtin_mul_overflow(n, dim[2], &n) || n > (INT64_C(1) << 36))
		return lesion_error_set(err, LESION_ERR_USAGE,
			"cannot create a %lldx%lldx%lld volume", (long long)dim[0],
			(long long)dim[1], (long long)dim[2]);
	pthread_once(&quiet_once, make_niftilib_quiet);
	struct lesion_volume *vol = calloc(1, sizeof(*vol));
	nifti_image *nim = nifti_make_new_nim(dims, dtype, 0);
	if (vol)
		vol->header = calloc(1, sizeof(*vol->header));
	if (vol)
		vol->data = calloc((size_t)n, (size_t)size);
	if (!vol || !nim || !vol->header || !vol->data) {
		if (nim)
			nifti_image_free(nim);
		lesion_volume_free(vol);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	nifti_dmat44 m;
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			m.m[r][c] = vox_to_world[r][c];
	nim->sto_xyz = m;
	nim->sto_ijk = nifti_dmat44_inverse(m);
	nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
	nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
	double dx, dy, dz;
	nifti_dmat44_to_quatern(m, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d,
				&nim->qoffset_x, &nim->qoffset_y, &nim->qoffset_z,
				&dx, &dy, &dz, &nim->qfac);
	nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c,
		nim->quatern_d, nim->qoffset_x, nim->qoffset_y, nim->qoffset_z,
		dx, dy, dz, nim->qfac);
	nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
	nim->dx = nim->pixdim[1] = dx;
	nim->dy = nim->pixdim[2] = dy;
	nim->dz = nim->pixdim[3] = dz;
	nim->xyz_units = NIFTI_UNITS_MM;
	nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
	vol->header->nim = nim;
	vol->format = LESION_FORMAT_NIFTI1;
	vol->dtype = dtype;
	vol->raw_datatype = dtype;
	vol->bytes_per_voxel = size;
	vol->big_endian = lesion_host_big_endian();
	vol->ndim = 3;
	for (int i = 0; i < 8; i++)
		vol->full_dim[i] = dims[i];
	for (int i = 0; i < 8; i++)
		vol->pixdim[i] = nim->pixdim[i];
	vol->xyzt_units = NIFTI_UNITS_MM;
	vol->n_volumes = 1;
	vol->volume_index = 0;
	vol->vox_offset = 352;
	vol->scl_slope = 1.0;
	fill_geometry(vol, nim, 0);
	*out = vol;
	return LESION_OK;
}

/* Build the header of an output file: @like's header with a new datatype. */
static enum lesion_status build_header(const struct lesion_volume *like,
				       enum lesion_dtype dtype, double slope,
				       double inter, unsigned char *hdr,
				       size_t *hdr_size, struct lesion_error *err)
{
	nifti_image *nim = nifti_copy_nim_info(like->header->nim);
	if (!nim)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	int64_t dims[8] = {3, like->geom.dim[0], like->geom.dim[1], like->geom.dim[2],
			   1, 1, 1, 1};
	for (int i = 0; i < 8; i++)
		nim->dim[i] = dims[i];
	nim->ndim = 3;
	nim->nx = dims[1];
	nim->ny = dims[2];
	nim->nz = dims[3];
	nim->nt = nim->nu = nim->nv = nim->nw = 1;
	nim->nvox = like->geom.n_voxels;
	nim->datatype = dtype;
	nim->nbyper = lesion_dtype_size(dtype);
	nim->scl_slope = slope;
	nim->scl_inter = inter;
	nim->cal_min = nim->cal_max = 0;
	nim->intent_code = 0;
	if (like->format == LESION_FORMAT_ANALYZE)
		nim->xyz_units = NIFTI_UNITS_MM;
	int big = like->geom.dim[0] > 32767 || like->geom.dim[1] > 32767 ||
		  like->geom.dim[2] > 32767;
	memset(hdr, 0, 544);
	int rc;
	if (big) {
		nifti_2_header h2;
		rc = nifti_convert_nim2n2hdr(nim, &h2);
		memcpy(h2.magic, "n+2\0\r\n\032\n", 8);
		h2.vox_offset = 544;
		memcpy(hdr, &h2, sizeof(h2));
		*hdr_size = 544;
	} else {
		nifti_1_header h1;
		rc = nifti_convert_nim2n1hdr(nim, &h1);
		memcpy(h1.magic, "n+1", 4);
		h1.vox_offset = 352;
		memcpy(hdr, &h1, sizeof(h1));
		*hdr_size = 352;
	}
	nifti_image_free(nim);
	if (rc)
		return lesion_error_set(err, LESION_ERR_INTERNAL,
			"cannot build an output header");
	return LESION_OK;
}

enum lesion_status lesion_volume_write_like(const struct lesion_volume *like,
					    const char *path,
					    enum lesion_dtype dtype,
					    const void *data,
					    struct lesion_error *err)
{
	unsigned char hdr[544];
	size_t hdr_size;
	enum lesion_status st = build_header(like, dtype, 0.0, 0.0, hdr, &hdr_size, err);
	if (st)
		return st;
	size_t data_bytes = (size_t)like->geom.n_voxels * (size_t)lesion_dtype_size(dtype);
	return lesion_write_image_file(path, hdr, hdr_size, data, data_bytes, err);
}

enum lesion_status lesion_volume_write(const struct lesion_volume *vol,
				       const char *path,
				       struct lesion_error *err)
{
	unsigned char hdr[544];
	size_t hdr_size;
	enum lesion_status st = build_header(vol, vol->dtype,
		vol->scaled ? vol->scl_slope : 0.0, vol->scaled ? vol->scl_inter : 0.0,
		hdr, &hdr_size, err);
	if (st)
		return st;
	size_t data_bytes = (size_t)vol->geom.n_voxels * (size_t)vol->bytes_per_voxel;
	return lesion_write_image_file(path, hdr, hdr_size, vol->data, data_bytes, err);
}

const char *lesion_dtype_name(int datatype)
{
	switch (datatype) {
	case LESION_DT_UINT8: return "uint8";
	case LESION_DT_INT8: return "int8";
	case LESION_DT_INT16: return "int16";
	case LESION_DT_UINT16: return "uint16";
	case LESION_DT_INT32: return "int32";
	case LESION_DT_UINT32: return "uint32";
	case LESION_DT_INT64: return "int64";
	case LESION_DT_UINT64: return "uint64";
	case LESION_DT_FLOAT32: return "float32";
	case LESION_DT_FLOAT64: return "float64";
	}
	return NULL;
}

const char *lesion_datatype_label(int datatype)
{
	const char *n = lesion_dtype_name(datatype);
	if (!n)
		n = niftilib_datatype_name(datatype);
	return n ? n : "unknown";
}

const char *lesion_datatype_describe(int datatype)
{
	return lesion_datatype_label(datatype);
}
