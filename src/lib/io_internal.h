/* io_internal.h: byte-level file reading and writing shared inside the library
 * (not installed; no niftilib types). */
#ifndef LESIONVOL_IO_INTERNAL_H
#define LESIONVOL_IO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lesionvol/io.h"
#include "lesionvol/status.h"

struct lesion_inflate_result {
	size_t n_out;
};

/* lesion_host_big_endian() - 1 on a big-endian host. */
int lesion_host_big_endian(void);

/* lesion_swap_bytes() - reverse the bytes of each of @n values of @size bytes. */
void lesion_swap_bytes(void *data, int64_t n, int size);

/* lesion_gzip_read_file_prefix() - the first @want inflated bytes of @path. */
enum lesion_status lesion_gzip_read_file_prefix(const char *path, void *buf,
						size_t want,
						struct lesion_inflate_result *r,
						struct lesion_error *err);

/*
 * lesion_alloc_large() - malloc(@size) (at least 1 byte) for a buffer that
 * will be filled front to back: from 256 KiB on, aligned to 2 MiB and
 * rounded up to whole 2 MiB with transparent huge pages asked for, so
 * touching it costs one page fault per 2 MiB instead of one per 4 KiB.
 * Free with free(). NULL when out of memory.
 */
void *lesion_alloc_large(size_t size);

/* lesion_realloc_large() - realloc() of a block of @old_size bytes from
 * lesion_alloc_large() (or NULL), keeping its advice; NULL when out of
 * memory, and then @old is untouched. */
void *lesion_realloc_large(void *old, size_t old_size, size_t size);

/* lesion_raw_read_range() - @nbytes at @offset of @path into a new buffer. */
enum lesion_status lesion_raw_read_range(const char *path, int64_t offset,
					 int64_t nbytes, void **out,
					 struct lesion_error *err);

/* A resumable zlib inflate of one gzip file (see lesion_gzip_read_range()). */
struct lesion_gzip_cursor;

/* lesion_gzip_cursor_free() - free @c and what it holds; NULL is a no-op. */
void lesion_gzip_cursor_free(struct lesion_gzip_cursor *c);

/*
 * How far past the image a gzip stream is inflated to check its checksums:
 * lesion_gzip_check_limit() of the image's inflated size (@stream_bytes,
 * header and voxels) is that size, at least LESION_GZIP_CHECK_MIN bytes. A
 * last member holding the image that goes on past it cannot be vouched for
 * (lesion_gzip_limit_error(), LESION_ERR_INPUT naming @path); members after
 * the image's are then left unchecked and ignored, with a warning. Every
 * reader (libdeflate, zlib, ISA-L) keeps to this, so a gzip bomb after a
 * small image costs at most about the image's size again.
 */
#define LESION_GZIP_CHECK_MIN (INT64_C(1) << 20)
int64_t lesion_gzip_check_limit(int64_t stream_bytes);
enum lesion_status lesion_gzip_limit_error(const char *path, int64_t limit,
					   struct lesion_error *err);

/*
 * lesion_gzip_read_range() - inflated bytes [@offset, @offset + @nbytes) of the
 * gzip file @path into a new buffer. @stream_bytes is the inflated size the
 * header promises (vox_offset + all volumes). A 3D image whose gzip trailer
 * agrees with that size is inflated in one libdeflate call into a buffer of
 * @stream_bytes; anything else (one volume of a 4D image, multi-member
 * streams, a trailer that disagrees) streams through zlib into a buffer that
 * grows with what the stream really holds. Memory: the compressed file plus
 * the output, never more than the stream can fill.
 *
 * @cursor (may be NULL) keeps the zlib stream between calls: a later range
 * of the same file continues from where this one ended instead of inflating
 * the file from its start again, so reading every volume of a 4D image in
 * order costs one inflate. Free it with lesion_gzip_cursor_free().
 *
 * A range that ends at @stream_bytes also checks what follows it, up to
 * lesion_gzip_check_limit(); *@unchecked (may be NULL) gets the number of
 * compressed bytes left unchecked past that limit, 0 when none were.
 */
enum lesion_status lesion_gzip_read_range(const char *path, int64_t offset,
					  int64_t nbytes, int64_t stream_bytes,
					  struct lesion_gzip_cursor **cursor,
					  void **out, int64_t *unchecked,
					  struct lesion_error *err);

/*
 * lesion_remove_stale_temps() - remove from @dir the temporaries killed
 * lesionvol processes left there (".lesionvol-SSSSSSSS-PID-XXXXXX.tmp"
 * regular files whose writer on this machine is dead, or untouched for an
 * hour), never anything else; a live writer's, here or on another machine
 * sharing the folder, stays. lesion_write_file_atomic() does this itself on
 * its first write into a folder; call it to sweep a folder before then (e.g.
 * under the folder's lock). Thread safe.
 */
void lesion_remove_stale_temps(const char *dir);

/* lesion_temps_folder_is_new() - @dir was just made by this process, so
 * it holds no leftovers: writes into it sweep nothing. */
void lesion_temps_folder_is_new(const char *dir);

/*
 * lesion_write_image_file() - write @hdr then @data to @path (gzip when it
 * ends in ".gz", deterministic bytes) under a temporary name, then rename.
 */
enum lesion_status lesion_write_image_file(const char *path,
					   const void *hdr, size_t hdr_size,
					   const void *data, size_t data_bytes,
					   struct lesion_error *err);

/*
 * struct lesion_voxel_reader - the voxels of one volume, read front to back
 * in pieces of any size: a .nii.gz is inflated by ISA-L a megabyte of input
 * at a time, a .nii read with pread(). Nothing proportional to the volume is
 * held, unless the stream surprises it (then the plain loader reads the rest
 * of the volume, so errors read as lesion_volume_load()'s).
 */
struct lesion_volume;
struct lesion_voxel_reader;

/*
 * lesion_voxel_reader_open() - a reader of volume @index of @vol (opened).
 * *@out is NULL with LESION_OK when the file is one to load with
 * lesion_volume_load() instead: 4D images, pairs without an image, files
 * whose size disagrees with the header, unusual datatypes.
 */
enum lesion_status lesion_voxel_reader_open(struct lesion_volume *vol, int64_t index,
					    struct lesion_voxel_reader **out,
					    struct lesion_error *err);

/* lesion_voxel_reader_read() - the next @n_voxels voxels, native byte order. */
enum lesion_status lesion_voxel_reader_read(struct lesion_voxel_reader *r, void *buf,
					    int64_t n_voxels, struct lesion_error *err);

/* lesion_voxel_reader_free() - close @r; NULL is a no-op. */
void lesion_voxel_reader_free(struct lesion_voxel_reader *r);

/*
 * lesion_volume_check_index() - whether volume *@index of @vol can be read:
 * LESION_ERR_INPUT for an unsupported datatype, a header without its image,
 * an index out of range, or (unless @all_ok) a 4D image without an index.
 * A negative *@index becomes 0 for a 3D image, -1 ("all") for a 4D one.
 */
enum lesion_status lesion_volume_check_index(const struct lesion_volume *vol,
					    int64_t *index, int all_ok,
					    struct lesion_error *err);

/* lesion_volume_add_warning() - add a warning (printf-style) to @vol's
 * list, unless it is there already or the list is full. */
void lesion_volume_add_warning(struct lesion_volume *vol, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* lesion_volume_warn_unchecked() - the warning for @unchecked (> 0)
 * compressed bytes after the image left unchecked (lesion_gzip_check_limit()). */
void lesion_volume_warn_unchecked(struct lesion_volume *vol, int64_t unchecked);

/* lesion_datatype_describe() - a name for any NIfTI datatype code. */
const char *lesion_datatype_describe(int datatype);

#endif
