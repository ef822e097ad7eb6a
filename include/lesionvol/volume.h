/* lesionvol/volume.h: one 3D scalar image with its geometry, read from NIfTI-1,
 * NIfTI-2 or Analyze 7.5 and written back as NIfTI with the same geometry. */
#ifndef LESIONVOL_VOLUME_H
#define LESIONVOL_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "lesionvol/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stored datatypes, numbered as NIfTI's DT_* codes. */
enum lesion_dtype {
	LESION_DT_UINT8 = 2,
	LESION_DT_INT16 = 4,
	LESION_DT_INT32 = 8,
	LESION_DT_FLOAT32 = 16,
	LESION_DT_FLOAT64 = 64,
	LESION_DT_INT8 = 256,
	LESION_DT_UINT16 = 512,
	LESION_DT_UINT32 = 768,
	LESION_DT_INT64 = 1024,
	LESION_DT_UINT64 = 1280,
};

enum lesion_file_format {
	LESION_FORMAT_NIFTI1 = 1,   /* single file .nii(.gz) */
	LESION_FORMAT_NIFTI1_PAIR,  /* .hdr + .img */
	LESION_FORMAT_NIFTI2,
	LESION_FORMAT_NIFTI2_PAIR,
	LESION_FORMAT_ANALYZE,      /* Analyze 7.5 .hdr + .img */
};

#define LESION_MAX_WARNINGS 8
#define LESION_WARNING_MAX 256

/*
 * struct lesion_geometry - where the voxels are.
 *
 * @dim:             nx, ny, nz (nz is 1 for a 2D image)
 * @n_voxels:        nx * ny * nz
 * @voxel_size_mm:   |pixdim[1..3]| converted to mm with xyzt_units
 * @voxel_volume_mm3: the product of @voxel_size_mm (NaN when a pixdim is 0 or
 *                   NaN, which only a LESION_OPEN_LENIENT open accepts)
 * @spatial_units:   "mm", "m", "micron" or "unknown" (unknown is taken as mm)
 * @vox_to_world:    voxel (i,j,k,1) to world mm: sform when sform_code > 0,
 *                   else qform when qform_code > 0, else pixdim scaling
 * @world_source:    "sform", "qform" or "pixdim"
 * @orientation:     axis codes of @vox_to_world, e.g. "RAS", "LPI"; with
 *                   neither code set (lesion_geometry_orientation_known()
 *                   is 0) they are those of the pixdim scaling and say
 *                   nothing about the patient
 */
struct lesion_geometry {
	int64_t dim[3];
	int64_t n_voxels;
	double voxel_size_mm[3];
	double voxel_volume_mm3;
	const char *spatial_units;
	double vox_to_world[4][4];
	const char *world_source;
	char orientation[4];
	double qform[4][4];
	double sform[4][4];
	int qform_code;
	int sform_code;
};

struct lesion_header; /* opaque: the parsed header, kept to write outputs */

/*
 * struct lesion_volume - one 3D volume of an image file.
 *
 * @data holds @geom.n_voxels values of @dtype in native byte order, exactly
 * as stored (unscaled); NULL after a header-only open. The value of voxel i
 * is raw * scl_slope + scl_inter when @scaled, else raw.
 * Voxels are in file order: i + nx * (j + ny * k).
 */
struct lesion_volume {
	char *path;                  /* the file the user named */
	char *data_path;             /* where the voxels are (.img for pairs) */
	enum lesion_file_format format;
	int gzipped;                 /* the voxel file is gzip-compressed */
	enum lesion_dtype dtype;
	int raw_datatype;            /* datatype code as stored in the header */
	int bytes_per_voxel;
	int big_endian;              /* file byte order */
	int ndim;                    /* dim[0] */
	int64_t full_dim[8];         /* dim[0..7] as stored */
	double pixdim[8];
	int xyzt_units;
	int64_t n_volumes;           /* product of dim[4..7] */
	int64_t volume_index;        /* which volume @data holds */
	int64_t vox_offset;
	int scaled;
	double scl_slope;
	double scl_inter;
	double cal_min, cal_max;
	int intent_code;
	char descrip[81];
	struct lesion_geometry geom;
	void *data;
	int n_warnings;
	char warnings[LESION_MAX_WARNINGS][LESION_WARNING_MAX];
	struct lesion_header *header;
};

/* Flags for lesion_volume_open(). */
enum {
	/* accept zero/NaN pixdim and non-scalar datatypes (for `info`) */
	LESION_OPEN_LENIENT = 1,
};

/*
 * lesion_volume_open() - read and validate the header of @path, no voxels.
 *
 * Reads exactly @path (never a sibling: asked for x.nii.gz it never opens
 * x.nii). A pair may be named by its .hdr(.gz) or its .img(.gz). Checks the
 * header before anything is allocated from it: sizeof_hdr, dim[0] and dims
 * (positive, product without overflow, data that fits in the file or a gzip
 * stream of its size), datatype (scalar types only unless LESION_OPEN_LENIENT),
 * bitpix, vox_offset, pixdim (finite and non-zero unless LENIENT).
 *
 * On success *@out is a new volume with @data NULL; free it with
 * lesion_volume_free(). Returns LESION_OK, LESION_ERR_INPUT (message names the
 * file and the problem) or LESION_ERR_INTERNAL (out of memory).
 * Thread safe: yes (call from any thread; niftilib's messages are silenced).
 */
enum lesion_status lesion_volume_open(const char *path, int flags,
				      struct lesion_volume **out,
				      struct lesion_error *err);

/*
 * lesion_volume_load() - read the voxels of volume @index (0-based) of an
 * opened image into @vol->data, byte-swapped to native order.
 *
 * @index -1 means "the image must be 3D": a 4D image then fails with a
 * message saying how many volumes it has and that --volume chooses one.
 * Truncated files, corrupt or truncated gzip streams give LESION_ERR_INPUT.
 * Thread safe for distinct volumes.
 */
enum lesion_status lesion_volume_load(struct lesion_volume *vol, int64_t index,
				      struct lesion_error *err);

/*
 * lesion_volume_check() - whether a volume opened with LESION_OPEN_LENIENT
 * can be measured: a scalar datatype, a voxel file beside a .hdr, a finite
 * non-zero voxel size. Returns LESION_OK, or LESION_ERR_INPUT with the
 * message a strict open or load would give. Thread safe.
 */
enum lesion_status lesion_volume_check(const struct lesion_volume *vol,
				       struct lesion_error *err);

/*
 * lesion_ready_fn - told by lesion_volume_load_progressive() that voxels
 * [0, @n_ready) of the volume's data are final.
 */
typedef void (*lesion_ready_fn)(void *ctx, int64_t n_ready);

/*
 * lesion_volume_load_progressive() - lesion_volume_load(), calling @ready
 * (may be NULL) as the voxels arrive, so a caller can work on the start of
 * an image while the rest is still being read: each call reports a longer
 * prefix of @vol->data (native byte order, final), the last one all
 * n_voxels. @vol->data is allocated before the first call and does not move.
 * @ready runs on the calling thread, between reads; a .nii.gz is inflated
 * by ISA-L a few megabytes at a time, a .nii read in 8 MiB pieces, anything
 * unusual loaded whole and reported once. Errors and their messages are
 * lesion_volume_load()'s; after an error @ready may have seen a prefix,
 * which the caller must discard (@vol->data is freed with the volume).
 * Thread safe for distinct volumes.
 */
enum lesion_status lesion_volume_load_progressive(struct lesion_volume *vol,
						  int64_t index,
						  lesion_ready_fn ready, void *ctx,
						  struct lesion_error *err);

/*
 * lesion_volume_read() - lesion_volume_open() then lesion_volume_load(), for
 * a scalar image with a usable voxel size.
 */
enum lesion_status lesion_volume_read(const char *path, int64_t index,
				      struct lesion_volume **out,
				      struct lesion_error *err);

/* lesion_volume_free() - free @vol and everything it owns; NULL is a no-op. */
void lesion_volume_free(struct lesion_volume *vol);

/*
 * lesion_volume_values() - scaled values of voxels [@start, @start + @count)
 * into @out as doubles. @vol must be loaded. Thread safe.
 */
void lesion_volume_values(const struct lesion_volume *vol, int64_t start,
			  int64_t count, double *out);

/* lesion_volume_value() - the scaled value of voxel @index. */
double lesion_volume_value(const struct lesion_volume *vol, int64_t index);

/*
 * lesion_volume_create() - a new zero-filled volume of @dtype on a grid of
 * @dim voxels whose voxel-to-world matrix is @vox_to_world (written as both
 * sform and qform, code 1 "scanner"); units mm, unscaled. For generated data.
 * Free with lesion_volume_free().
 */
enum lesion_status lesion_volume_create(const int64_t dim[3],
					const double vox_to_world[4][4],
					enum lesion_dtype dtype,
					struct lesion_volume **out,
					struct lesion_error *err);

/*
 * lesion_volume_write() - write @vol (its data, dtype and scaling) to @path as
 * NIfTI-1 (NIfTI-2 when a dimension exceeds 32767), gzip-compressed when
 * @path ends in ".gz". The file is written under a temporary name in the
 * same folder and renamed, so a reader never sees half a file.
 * Returns LESION_OK or LESION_ERR_WRITE.
 */
enum lesion_status lesion_volume_write(const struct lesion_volume *vol,
				       const char *path,
				       struct lesion_error *err);

/*
 * lesion_volume_write_like() - write @data (@like's grid, @dtype, unscaled)
 * to @path with @like's geometry: sform, qform, pixdim and units are copied
 * from @like's header, so the output overlays the input in any viewer.
 * Atomic as lesion_volume_write().
 */
enum lesion_status lesion_volume_write_like(const struct lesion_volume *like,
					    const char *path,
					    enum lesion_dtype dtype,
					    const void *data,
					    struct lesion_error *err);

/* lesion_dtype_name() - "uint8", "int16", ... or NULL for unsupported codes. */
const char *lesion_dtype_name(int datatype);

/*
 * lesion_datatype_label() - a name for any NIfTI datatype code, for messages:
 * "uint8"... for supported types, niftilib's name ("RGB24", "COMPLEX64")
 * for the others, "unknown" for codes NIfTI does not define.
 */
const char *lesion_datatype_label(int datatype);

/* lesion_dtype_size() - bytes per voxel of a supported @dtype, else 0. */
int lesion_dtype_size(int datatype);

/* lesion_format_name() - "NIfTI-1", "NIfTI-1 pair", "Analyze 7.5", ... */
const char *lesion_format_name(enum lesion_file_format format);

/*
 * lesion_geometry_same_grid() - whether @a and @b have the same dims and
 * voxel-to-world matrices equal within @tol_mm (the tools use 1e-3 mm).
 */
int lesion_geometry_same_grid(const struct lesion_geometry *a,
			      const struct lesion_geometry *b, double tol_mm);

/*
 * lesion_geometry_orientation_known() - 1 when @g's header says where the
 * patient is (qform_code > 0 or sform_code > 0), 0 otherwise: every Analyze
 * 7.5 file, and NIfTI files with both codes 0, whose world coordinates are
 * voxel indices times pixdim, so left and right cannot be told from them.
 */
int lesion_geometry_orientation_known(const struct lesion_geometry *g);

/*
 * lesion_geometry_voxel_to_world() - world mm of (fractional) voxel
 * coordinates @ijk through @g->vox_to_world.
 */
void lesion_geometry_voxel_to_world(const struct lesion_geometry *g,
				    const double ijk[3], double xyz[3]);

/*
 * struct lesion_value_stats - summary of the scaled values of a volume.
 */
struct lesion_value_stats {
	int64_t n_finite;
	int64_t n_nan;
	int64_t n_inf;
	int64_t n_nonzero;     /* finite, non-zero */
	double min, max, mean; /* over finite values; NaN when n_finite is 0 */
	double sum;
};

/* lesion_volume_stats() - value statistics of a loaded volume. Thread safe;
 * uses OpenMP inside. */
void lesion_volume_stats(const struct lesion_volume *vol,
			 struct lesion_value_stats *stats);

/*
 * lesion_volume_stats_read() - value statistics of volume @index of an
 * opened @vol, or of every volume of a 4D image when @index < 0, read from
 * its file: one volume is loaded (then released: @data is NULL after), every
 * volume is read front to back in one pass a megabyte at a time, so time
 * and memory follow the data in the file, whatever number of volumes the
 * header claims. The sum is taken in file order (the result does not depend
 * on threads). May add a warning to @vol (gzip data left unchecked after the
 * image). Returns what lesion_volume_load() returns.
 */
enum lesion_status lesion_volume_stats_read(struct lesion_volume *vol, int64_t index,
					    struct lesion_value_stats *stats,
					    struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
