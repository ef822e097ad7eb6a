/* progressive.c: reading the voxels of a volume front to back in pieces, so
 * thresholding and labelling can start before the file is inflated and the
 * whole volume never has to be held (issue 9). */
#include "io_internal.h"
#include "lesionvol/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { IN_CHUNK = 1 << 20, REPORT_STEP = 2 << 20 };

struct lesion_voxel_reader {
	struct lesion_volume *vol; /* gets the warning of a stream left unchecked */
	int fd;
	int64_t file_size;
	int swap;
	int64_t offset;       /* of the volume's first byte in the (inflated) file */
	int64_t vol_bytes;
	int64_t stream_bytes; /* inflated size the header promises */
	int64_t done;         /* bytes of the volume delivered */
	/* gzip: ISA-L's state and the compressed input */
	struct inflate_state *zs;
	unsigned char *in;
	int64_t in_pos;       /* file offset of the next compressed read */
	int64_t skipped;      /* inflated bytes before the volume thrown away */
	/* after a surprise: the rest of the volume, read by the plain loader */
	unsigned char *rest;
};

/* pread() everything asked for; the number of bytes read (short at EOF). */
static int64_t read_full(int fd, void *buf, int64_t n, int64_t at)
{
	int64_t done = 0;
	while (done < n) {
		ssize_t k = pread(fd, (unsigned char *)buf + done, (size_t)(n - done),
				  (off_t)(at + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		done += k;
	}
	return done;
}

void lesion_voxel_reader_free(struct lesion_voxel_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->zs);
	free(r->in);
	free(r->rest);
	free(r);
}

enum lesion_status lesion_voxel_reader_open(struct lesion_volume *vol, int64_t index,
					    struct lesion_voxel_reader **out,
					    struct lesion_error *err)
{
	struct lesion_voxel_reader *r;
	struct stat sb;
	*out = NULL;
	/* the plain loader's cases: its refusals in its words, and 4D images
	 * for its cursor that reads volume after volume in one inflate */
	if (vol->bytes_per_voxel == 0 || !vol->data_path || vol->n_volumes > 1 || index > 0)
		return LESION_OK;
	r = calloc(1, sizeof(*r));
	if (!r)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	r->vol = vol;
	r->vol_bytes = vol->geom.n_voxels * vol->bytes_per_voxel;
	r->offset = vol->vox_offset;
	r->stream_bytes = vol->vox_offset + r->vol_bytes;
	r->swap = vol->big_endian != lesion_host_big_endian();
	r->fd = open(vol->data_path, O_RDONLY);
	int plain = r->fd < 0 || fstat(r->fd, &sb) != 0 || !S_ISREG(sb.st_mode);
	r->file_size = plain ? 0 : (int64_t)sb.st_size;
	if (!plain && vol->gzipped) {
		/* trust the header's size only when the gzip trailer agrees, as
		 * lesion_gzip_read_range() does */
		unsigned char t[4];
		plain = sb.st_size < 18 || read_full(r->fd, t, 4, sb.st_size - 4) != 4 ||
			((uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
			 (uint32_t)t[3] << 24) != (uint32_t)r->stream_bytes;
		if (!plain) {
			r->zs = malloc(sizeof(*r->zs));
			r->in = lesion_alloc_large(IN_CHUNK);
			if (!r->zs || !r->in) {
				lesion_voxel_reader_free(r);
				return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			}
			isal_inflate_init(r->zs);
			r->zs->crc_flag = ISAL_GZIP;
		}
	} else if (!plain) {
		plain = sb.st_size < r->offset + r->vol_bytes;
	}
	if (plain) {
		lesion_voxel_reader_free(r);
		return LESION_OK;
	}
	*out = r;
	return LESION_OK;
}

/* Refill ISA-L's input; 0 at the end of the file. */
static int64_t refill(struct lesion_voxel_reader *r)
{
	int64_t got = read_full(r->fd, r->in, IN_CHUNK, r->in_pos);
	if (got > 0) {
		r->in_pos += got;
		r->zs->next_in = r->in;
		r->zs->avail_in = (uint32_t)got;
	}
	return got;
}

/* Start inflating the next gzip member, which begins at zs->next_in. */
static void next_member(struct inflate_state *zs)
{
	unsigned char *next = zs->next_in;
	uint32_t left = zs->avail_in;
	isal_inflate_reset(zs);
	zs->crc_flag = ISAL_GZIP;
	zs->next_in = next;
	zs->avail_in = left;
}

/*
 * Inflate the next @n bytes of the volume into @out with ISA-L, following
 * concatenated gzip members; the number of bytes produced, short when the
 * stream is corrupt, truncated or otherwise unexpected.
 */
static int64_t inflate_some(struct lesion_voxel_reader *r, unsigned char *out, int64_t n)
{
	struct inflate_state *zs = r->zs;
	unsigned char scratch[4096];
	int64_t made_total = 0;
	while (made_total < n) {
		if (zs->avail_in == 0 && refill(r) <= 0)
			break;
		int skipping = r->skipped < r->offset;
		if (skipping) {
			int64_t want = r->offset - r->skipped;
			zs->next_out = scratch;
			zs->avail_out = want < (int64_t)sizeof(scratch) ? (uint32_t)want : sizeof(scratch);
		} else {
			int64_t want = n - made_total;
			zs->next_out = out + made_total;
			zs->avail_out = want < (INT64_C(1) << 30) ? (uint32_t)want : (1u << 30);
		}
		uint32_t before = zs->avail_out, in_before = zs->avail_in;
		if (isal_inflate(zs) != ISAL_DECOMP_OK)
			break;
		int64_t made = before - zs->avail_out;
		if (skipping)
			r->skipped += made;
		else
			made_total += made;
		if (zs->block_state == ISAL_BLOCK_FINISH) {
			if (made_total == n && !skipping)
				break;
			/* end of a member: another must follow at once */
			if (zs->avail_in == 0 && refill(r) <= 0)
				break;
			if (zs->next_in[0] != 0x1f)
				break;
			next_member(zs);
		} else if (made == 0 && zs->avail_in == in_before) {
			break; /* no progress: never loop on odd input */
		}
	}
	return made_total;
}

enum ending { ENDS_WELL, ENDS_UNCHECKED, ENDS_BADLY };

/*
 * After the volume's last byte: inflate what is left of the stream so that
 * ISA-L checks the CRC-32 and size in every member's trailer, as far as
 * lesion_gzip_check_limit() goes. ENDS_BADLY when the data that came out do
 * not match their checksum, the stream stops early, or the image's last
 * member goes on past the limit (the plain loader then words it);
 * ENDS_UNCHECKED when later members were left at the limit, the bytes from
 * the start of the member it stopped in in *@unchecked.
 */
static enum ending stream_ends(struct lesion_voxel_reader *r, int64_t *unchecked)
{
	struct inflate_state *zs = r->zs;
	unsigned char scratch[4096];
	const int64_t limit = lesion_gzip_check_limit(r->stream_bytes);
	int image_member = zs->block_state != ISAL_BLOCK_FINISH;
	int64_t made = 0, member_pos = 0;
	for (;;) {
		if (zs->block_state == ISAL_BLOCK_FINISH) {
			if (zs->avail_in == 0 && refill(r) <= 0)
				return ENDS_WELL;
			if (zs->next_in[0] != 0x1f)
				return ENDS_WELL; /* trailing bytes, ignored as zlib's path does */
			member_pos = r->in_pos - zs->avail_in;
			next_member(zs);
			image_member = 0;
		}
		if (made > limit) {
			if (image_member)
				return ENDS_BADLY;
			/* counted from where the unfinished member starts, as
			 * zlib's check counts it */
			*unchecked = r->file_size - member_pos;
			return ENDS_UNCHECKED;
		}
		if (zs->avail_in == 0 && refill(r) <= 0)
			return ENDS_BADLY;
		uint32_t in_before = zs->avail_in;
		zs->next_out = scratch;
		zs->avail_out = sizeof(scratch);
		if (isal_inflate(zs) != ISAL_DECOMP_OK)
			return ENDS_BADLY;
		made += (int64_t)(sizeof(scratch) - zs->avail_out);
		if (zs->block_state != ISAL_BLOCK_FINISH && zs->avail_in == in_before &&
		    zs->avail_out == sizeof(scratch))
			return ENDS_BADLY; /* no progress: never loop on odd input */
	}
}

enum lesion_status lesion_voxel_reader_read(struct lesion_voxel_reader *r, void *buf,
					    int64_t n_voxels, struct lesion_error *err)
{
	const int bpv = r->vol->bytes_per_voxel;
	int64_t n = n_voxels * bpv, got = 0, unchecked = 0;
	if (n > r->vol_bytes - r->done)
		return lesion_error_set(err, LESION_ERR_INTERNAL,
			"read past the end of '%s'", r->vol->path);
	if (r->rest) {
		memcpy(buf, r->rest + r->done, (size_t)n);
		got = n;
	} else if (r->zs) {
		got = inflate_some(r, buf, n);
		if (got == n && r->done + n == r->vol_bytes &&
		    stream_ends(r, &unchecked) == ENDS_BADLY) {
			/* the plain loader words what is wrong (it checks the
			 * trailers too, as far); if it finds nothing, nor do we */
			void *tmp = NULL;
			enum lesion_status st = lesion_gzip_read_range(r->vol->data_path,
				r->offset, r->vol_bytes, r->stream_bytes, NULL, &tmp,
				&unchecked, err);
			free(tmp);
			if (st)
				return st;
		}
	} else {
		got = read_full(r->fd, buf, n, r->offset + r->done);
	}
	if (got < n) {
		/* The plain loader reads the rest, so errors are worded as it
		 * words them and data it accepts is accepted here too. */
		void *tmp = NULL;
		int64_t from = r->done + got;
		enum lesion_status st = r->vol->gzipped
			? lesion_gzip_read_range(r->vol->data_path, r->offset + from,
						 r->vol_bytes - from, r->stream_bytes, NULL, &tmp,
						 &unchecked, err)
			: lesion_raw_read_range(r->vol->data_path, r->offset + from,
						r->vol_bytes - from, &tmp, err);
		if (st)
			return st;
		/* keep the whole volume's layout so later reads index it alike */
		r->rest = malloc((size_t)r->vol_bytes);
		if (!r->rest) {
			free(tmp);
			return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		}
		memcpy(r->rest + from, tmp, (size_t)(r->vol_bytes - from));
		free(tmp);
		memcpy((unsigned char *)buf + got, r->rest + from, (size_t)(n - got));
	}
	r->done += n;
	lesion_volume_warn_unchecked(r->vol, unchecked);
	if (r->swap)
		lesion_swap_bytes(buf, n_voxels, bpv);
	return LESION_OK;
}

enum lesion_status lesion_volume_load_progressive(struct lesion_volume *vol,
						  int64_t index,
						  lesion_ready_fn ready, void *ctx,
						  struct lesion_error *err)
{
	struct lesion_voxel_reader *r = NULL;
	enum lesion_status st = lesion_voxel_reader_open(vol, index, &r, err);
	if (st)
		return st;
	if (!r) {
		st = lesion_volume_load(vol, index, err);
		if (!st && ready)
			ready(ctx, vol->geom.n_voxels);
		return st;
	}
	free(vol->data);
	vol->data = lesion_alloc_large((size_t)r->vol_bytes);
	if (!vol->data) {
		lesion_voxel_reader_free(r);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory reading '%s'",
					vol->data_path);
	}
	vol->volume_index = 0;
	const int bpv = vol->bytes_per_voxel;
	const int64_t step = REPORT_STEP / bpv > 0 ? REPORT_STEP / bpv : 1;
	for (int64_t at = 0; at < vol->geom.n_voxels && !st;) {
		int64_t k = vol->geom.n_voxels - at < step ? vol->geom.n_voxels - at : step;
		st = lesion_voxel_reader_read(r, (unsigned char *)vol->data + at * bpv, k, err);
		at += k;
		if (!st && ready)
			ready(ctx, at);
	}
	lesion_voxel_reader_free(r);
	return st;
}
