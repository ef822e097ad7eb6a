/* progressive.c: loading a volume while telling the caller which voxels are
 * ready, so thresholding and labelling overlap the inflate (issue 9). */
#include "io_internal.h"
#include "lesionvol/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* input read per call and output inflated between two reports */
enum { IN_CHUNK = 1 << 20, OUT_STEP = 2 << 20 };

struct progress {
	struct lesion_volume *vol;
	lesion_ready_fn ready;
	void *ctx;
	int swap;
	int64_t reported; /* voxels reported ready */
};

/* Report the whole voxels among the first @bytes bytes of the data. */
static void report(struct progress *p, int64_t bytes)
{
	const int bpv = p->vol->bytes_per_voxel;
	int64_t n = bytes / bpv;
	if (n <= p->reported)
		return;
	if (p->swap)
		lesion_swap_bytes((unsigned char *)p->vol->data + p->reported * bpv,
				  n - p->reported, bpv);
	p->reported = n;
	if (p->ready)
		p->ready(p->ctx, n);
}

/*
 * The voxels not reported yet, read by the plain loader (zlib or pread)
 * into a scratch buffer: used when the fast path meets anything it does not
 * expect, so errors are worded as the plain loader words them and data it
 * accepts is accepted here too.
 */
static enum lesion_status finish_plain(struct progress *p, int64_t offset,
				       int64_t vol_bytes, int64_t stream_bytes,
				       struct lesion_error *err)
{
	struct lesion_volume *vol = p->vol;
	void *tmp = NULL;
	enum lesion_status st = vol->gzipped
		? lesion_gzip_read_range(vol->data_path, offset, vol_bytes, stream_bytes, NULL,
					 &tmp, err)
		: lesion_raw_read_range(vol->data_path, offset, vol_bytes, &tmp, err);
	if (st)
		return st;
	int64_t done = p->reported * vol->bytes_per_voxel;
	memcpy((unsigned char *)vol->data + done, (unsigned char *)tmp + done,
	       (size_t)(vol_bytes - done));
	free(tmp);
	report(p, vol_bytes);
	return LESION_OK;
}

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

/* .nii: large reads straight into the volume, reported one by one. */
static int load_raw(struct progress *p, int fd, int64_t offset, int64_t vol_bytes)
{
	unsigned char *out = p->vol->data;
	for (int64_t at = 0; at < vol_bytes;) {
		int64_t want = vol_bytes - at < 4 * OUT_STEP ? vol_bytes - at : 4 * OUT_STEP;
		if (read_full(fd, out + at, want, offset + at) != want)
			return -1;
		at += want;
		report(p, at);
	}
	return 0;
}

/*
 * .nii.gz: ISA-L's streaming inflate, the input read a megabyte at a time
 * and the output written straight into the volume (the bytes before the
 * wanted volume go to a scratch buffer). Concatenated gzip members are
 * followed. Returns 0 when the volume is complete, -1 on anything else.
 */
static int load_gzip(struct progress *p, int fd, int64_t offset, int64_t vol_bytes)
{
	struct inflate_state *zs = malloc(sizeof(*zs));
	unsigned char *in = malloc(IN_CHUNK);
	unsigned char *scratch = malloc(1 << 16);
	unsigned char *out = p->vol->data;
	int64_t in_pos = 0, skipped = 0, produced = 0, reported_at = 0;
	uint32_t in_len = 0;
	int rc = -1;
	if (!zs || !in || !scratch)
		goto out;
	isal_inflate_init(zs);
	zs->crc_flag = ISAL_GZIP;
	while (produced < vol_bytes) {
		if (zs->avail_in == 0) {
			int64_t got = read_full(fd, in, IN_CHUNK, in_pos);
			if (got <= 0)
				goto out; /* truncated */
			in_len = (uint32_t)got;
			in_pos += got;
			zs->next_in = in;
			zs->avail_in = in_len;
		}
		if (skipped < offset) {
			int64_t want = offset - skipped;
			zs->next_out = scratch;
			zs->avail_out = want < (1 << 16) ? (uint32_t)want : (1 << 16);
		} else {
			int64_t want = vol_bytes - produced;
			zs->next_out = out + produced;
			zs->avail_out = want < OUT_STEP ? (uint32_t)want : OUT_STEP;
		}
		uint32_t before = zs->avail_out, in_before = zs->avail_in;
		if (isal_inflate(zs) != ISAL_DECOMP_OK)
			goto out;
		int64_t made = before - zs->avail_out;
		if (made == 0 && zs->avail_in == in_before &&
		    zs->block_state != ISAL_BLOCK_FINISH)
			goto out; /* no progress: never loop on odd input */
		if (skipped < offset)
			skipped += made;
		else
			produced += made;
		if (produced - reported_at >= OUT_STEP || produced == vol_bytes) {
			report(p, produced);
			reported_at = produced;
		}
		if (zs->block_state == ISAL_BLOCK_FINISH && produced < vol_bytes) {
			/* end of a member: another must follow at once */
			if (zs->avail_in == 0) {
				int64_t got = read_full(fd, in, IN_CHUNK, in_pos);
				if (got <= 0)
					goto out;
				in_len = (uint32_t)got;
				in_pos += got;
				zs->next_in = in;
				zs->avail_in = in_len;
			}
			if (zs->next_in[0] != 0x1f)
				goto out;
			unsigned char *next = zs->next_in;
			uint32_t left = zs->avail_in;
			isal_inflate_reset(zs);
			zs->crc_flag = ISAL_GZIP;
			zs->next_in = next;
			zs->avail_in = left;
		}
	}
	rc = 0;
out:
	free(zs);
	free(in);
	free(scratch);
	return rc;
}

enum lesion_status lesion_volume_load_progressive(struct lesion_volume *vol,
						  int64_t index,
						  lesion_ready_fn ready, void *ctx,
						  struct lesion_error *err)
{
	struct progress p = {vol, ready, ctx, 0, 0};
	int fd = -1;
	enum lesion_status st;

	/* anything the plain loader refuses, it refuses with its own words;
	 * 4D images go through it too, for its cursor that reads volume after
	 * volume without inflating the file again */
	const int64_t asked = index;
	int plain = vol->bytes_per_voxel == 0 || !vol->data_path || vol->n_volumes > 1 ||
		    index >= vol->n_volumes;
	if (index < 0)
		index = 0;
	const int64_t vol_bytes = vol->geom.n_voxels * vol->bytes_per_voxel;
	const int64_t offset = vol->vox_offset + index * vol_bytes;
	const int64_t stream_bytes = vol->vox_offset + vol->n_volumes * vol_bytes;
	if (!plain) {
		fd = open(vol->data_path, O_RDONLY);
		struct stat sb;
		if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
			plain = 1;
		else if (vol->gzipped) {
			/* trust the header's size only when the gzip trailer agrees,
			 * as lesion_gzip_read_range() does */
			unsigned char t[4];
			plain = sb.st_size < 18 || read_full(fd, t, 4, sb.st_size - 4) != 4 ||
				((uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
				 (uint32_t)t[3] << 24) != (uint32_t)stream_bytes;
		} else {
			plain = sb.st_size < offset + vol_bytes;
		}
	}
	if (plain) {
		if (fd >= 0)
			close(fd);
		st = lesion_volume_load(vol, asked, err);
		if (!st && ready)
			ready(ctx, vol->geom.n_voxels);
		return st;
	}

	free(vol->data);
	vol->data = lesion_alloc_large((size_t)vol_bytes);
	if (!vol->data) {
		close(fd);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory reading '%s'",
					vol->data_path);
	}
	vol->volume_index = index;
	p.swap = vol->big_endian != lesion_host_big_endian();
	int rc = vol->gzipped ? load_gzip(&p, fd, offset, vol_bytes)
			      : load_raw(&p, fd, offset, vol_bytes);
	close(fd);
	if (rc == 0 && p.reported == vol->geom.n_voxels)
		return LESION_OK;
	return finish_plain(&p, offset, vol_bytes, stream_bytes, err);
}
