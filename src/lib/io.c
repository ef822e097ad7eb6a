/* io.c: reading byte ranges of plain and gzip files (libdeflate for whole
 * 3D streams, zlib for partial ones); writing is in atomic_write.c. */
#include "io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

int lesion_host_big_endian(void)
{
	const uint16_t one = 1;
	unsigned char b;
	memcpy(&b, &one, 1);
	return b == 0;
}

void lesion_swap_bytes(void *data, int64_t n, int size)
{
	unsigned char *p = data;
	if (size < 2)
		return;
	for (int64_t i = 0; i < n; i++, p += size)
		for (int a = 0, b = size - 1; a < b; a++, b--) {
			unsigned char t = p[a];
			p[a] = p[b];
			p[b] = t;
		}
}

enum lesion_status lesion_gzip_read_file_prefix(const char *path, void *buf,
						size_t want,
						struct lesion_inflate_result *r,
						struct lesion_error *err)
{
	r->n_out = 0;
	gzFile f = gzopen(path, "rb");
	if (!f)
		return lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s': %s",
					path, strerror(errno));
	int n = gzread(f, buf, (unsigned)want);
	if (n < 0) {
		int code;
		const char *msg = gzerror(f, &code);
		size_t plen = strlen(path); /* zlib puts the path first: say it once */
		if (strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
			msg += plen + 2;
		enum lesion_status st = lesion_error_set(err, LESION_ERR_INPUT,
			"unable to read '%s': corrupt gzip stream (%s)", path, msg);
		gzclose(f);
		return st;
	}
	gzclose(f);
	r->n_out = (size_t)n;
	return LESION_OK;
}

/*
 * A volume buffer is written once, front to back. In 4 KiB pages that is
 * one page fault per 4 KiB, and on a virtual machine a fault costs more
 * than inflating the page did (113 MB: 0.38 s of faults against 0.10 s of
 * inflate, bench/README.md); transparent huge pages map it 2 MiB at a time.
 * The kernel maps a huge page only where an aligned 2 MiB lies wholly inside
 * the advised range, so large buffers start on a 2 MiB boundary and are
 * rounded up to whole huge pages (untouched pages cost nothing). The advice
 * is only a hint: without THP nothing changes.
 */
enum { HUGE_PAGE = 2 << 20, HUGE_FROM = 256 << 10 };

void *lesion_alloc_large(size_t size)
{
	if (size < (size_t)HUGE_FROM)
		return malloc(size ? size : 1);
	size_t whole = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (whole < size)
		return NULL;
	void *p = aligned_alloc(HUGE_PAGE, whole);
#ifdef MADV_HUGEPAGE
	if (p)
		(void)madvise(p, whole, MADV_HUGEPAGE);
#endif
	return p;
}

void *lesion_realloc_large(void *old, size_t old_size, size_t size)
{
	if (size < (size_t)HUGE_FROM)
		return realloc(old, size ? size : 1);
	void *p = lesion_alloc_large(size);
	if (p && old) {
		memcpy(p, old, old_size < size ? old_size : size);
		free(old);
	}
	return p;
}

static enum lesion_status slurp(const char *path, unsigned char **buf,
				size_t *size, struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	struct stat sb;
	*buf = NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s': %s",
					path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
				      "unable to read '%s': not a regular file", path);
		goto out;
	}
	*size = (size_t)sb.st_size;
	*buf = lesion_alloc_large(*size);
	if (!*buf) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory reading '%s'", path);
		goto out;
	}
	size_t done = 0;
	while (done < *size) {
		ssize_t n = read(fd, *buf + done, *size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"unable to read '%s': %s", path, n < 0 ? strerror(errno) : "file shrank while reading");
			goto out;
		}
		done += (size_t)n;
	}
out:
	close(fd);
	if (st) {
		free(*buf);
		*buf = NULL;
	}
	return st;
}

enum lesion_status lesion_raw_read_range(const char *path, int64_t offset,
					 int64_t nbytes, void **out,
					 struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	*out = NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s': %s",
					path, strerror(errno));
	unsigned char *buf = lesion_alloc_large((size_t)nbytes);
	if (!buf) {
		close(fd);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory reading '%s'", path);
	}
	int64_t done = 0;
	while (done < nbytes) {
		ssize_t n = pread(fd, buf + done, (size_t)(nbytes - done), (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"truncated data in '%s': %lld of %lld bytes at offset %lld",
				path, (long long)done, (long long)nbytes, (long long)offset);
			break;
		}
		done += n;
	}
	close(fd);
	if (st) {
		free(buf);
		return st;
	}
	*out = buf;
	return LESION_OK;
}

/*
 * Where a zlib inflate of one gzip file stands: the compressed bytes, the
 * stream state and how many inflated bytes it has produced, so that reading
 * the volumes of a 4D image one after the other inflates the file once.
 */
struct lesion_gzip_cursor {
	unsigned char *in;
	size_t in_size;
	size_t pos;        /* next byte of @in to give zlib */
	z_stream zs;
	int64_t out_pos;   /* inflated bytes produced so far */
	int64_t member_start; /* @out_pos where the current gzip member began */
	size_t member_pos;    /* and the offset of its first byte in @in */
};

void lesion_gzip_cursor_free(struct lesion_gzip_cursor *c)
{
	if (!c)
		return;
	inflateEnd(&c->zs);
	free(c->in);
	free(c);
}

/* A cursor at the start of @in (owned by the cursor from now on). */
static struct lesion_gzip_cursor *cursor_new(unsigned char *in, size_t in_size)
{
	struct lesion_gzip_cursor *c = calloc(1, sizeof(*c));
	if (!c || inflateInit2(&c->zs, 16 + MAX_WBITS) != Z_OK) {
		free(c);
		free(in);
		return NULL;
	}
	c->in = in;
	c->in_size = in_size;
	return c;
}

int64_t lesion_gzip_check_limit(int64_t stream_bytes)
{
	return stream_bytes > LESION_GZIP_CHECK_MIN ? stream_bytes : LESION_GZIP_CHECK_MIN;
}

enum lesion_status lesion_gzip_limit_error(const char *path, int64_t limit,
					   struct lesion_error *err)
{
	return lesion_error_set(err, LESION_ERR_INPUT,
		"unable to read '%s': its last gzip member goes on for more than %lld "
		"bytes after the image (its own size, at least 1 MiB), so the checksum that would vouch "
		"for the image was not checked", path, (long long)limit);
}

/*
 * Inflate what is left of the stream of cursor @c (standing at the end of
 * the image's data) into scratch space, so that zlib checks the CRC-32 and
 * size in the trailer of every member: data that inflated but does not
 * match its checksum is corrupt, not an image. At most
 * lesion_gzip_check_limit() bytes are inflated: past that, a member that
 * still holds the image is an error (its checksum is out of reach), and
 * further members are left alone: *@unchecked gets the bytes from the start
 * of the member the check stopped in (the same whichever reader checked).
 */
static enum lesion_status zlib_check_rest(const char *path, struct lesion_gzip_cursor *c,
					  int64_t limit, int64_t *unchecked,
					  struct lesion_error *err)
{
	unsigned char scratch[1 << 16];
	z_stream *zs = &c->zs;
	const int64_t image_end = c->out_pos;
	for (;;) {
		int64_t room = limit + 1 - (c->out_pos - image_end);
		if (room <= 0) {
			if (c->member_start < image_end)
				return lesion_gzip_limit_error(path, limit, err);
			*unchecked = (int64_t)(c->in_size - c->member_pos);
			return LESION_OK;
		}
		size_t chunk = c->in_size - c->pos > (1u << 30) ? (1u << 30) : c->in_size - c->pos;
		zs->next_in = c->in + c->pos;
		zs->avail_in = (uInt)chunk;
		zs->next_out = scratch;
		zs->avail_out = room < (int64_t)sizeof(scratch) ? (uInt)room : sizeof(scratch);
		uInt out_before = zs->avail_out;
		int rc = inflate(zs, Z_NO_FLUSH);
		size_t used = chunk - zs->avail_in;
		int64_t made = (int64_t)(out_before - zs->avail_out);
		c->pos += used;
		c->out_pos += made;
		if (rc == Z_STREAM_END) {
			if (c->pos >= c->in_size || c->in[c->pos] != 0x1f)
				return LESION_OK;
			inflateReset(zs);
			c->member_start = c->out_pos;
			c->member_pos = c->pos;
			continue;
		}
		if (rc == Z_MEM_ERROR)
			return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return lesion_error_set(err, LESION_ERR_INPUT,
				"unable to read '%s': corrupt gzip stream (%s)", path,
				zs->msg ? zs->msg : "invalid data");
		if (used == 0 && made == 0)
			return lesion_error_set(err, LESION_ERR_INPUT,
				"unable to read '%s': truncated gzip stream (it ends "
				"before its checksum)", path);
	}
}

/*
 * Inflate [offset, offset+nbytes) from cursor @c (which must not be past
 * @offset) through zlib, following concatenated members, into a new buffer
 * *@out that grows with what the stream really holds: a header that claims
 * more than is there costs no more memory than the data that is there.
 * With @check_limit > 0 (the range ends where the header's data end), the
 * rest of the stream is checked against its trailers too, as far as
 * zlib_check_rest() goes.
 */
static enum lesion_status zlib_range(const char *path, struct lesion_gzip_cursor *c,
				     int64_t offset, int64_t nbytes, int64_t check_limit,
				     int64_t *unchecked, unsigned char **out,
				     struct lesion_error *err)
{
	unsigned char scratch[1 << 16];
	int64_t produced = 0;
	int64_t cap = nbytes;
	unsigned char *buf = NULL;
	enum lesion_status st = LESION_OK;
	z_stream *zs = &c->zs;

	*out = NULL;
	if (cap > (INT64_C(1) << 24) && (uint64_t)cap / 8 > c->in_size)
		cap = (int64_t)c->in_size * 8 > (INT64_C(1) << 24) ? (int64_t)c->in_size * 8
								  : (INT64_C(1) << 24);
	buf = lesion_alloc_large((size_t)cap);
	if (!buf)
		return lesion_error_set(err, LESION_ERR_INTERNAL,
					"out of memory reading '%s'", path);
	while (produced < nbytes) {
		int skipping = c->out_pos < offset;
		if (!skipping && produced == cap) {
			int64_t ncap = cap > nbytes / 2 ? nbytes : cap * 2;
			unsigned char *nb = realloc(buf, (size_t)ncap);
			if (!nb) {
				st = lesion_error_set(err, LESION_ERR_INTERNAL,
						      "out of memory reading '%s'", path);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t chunk = c->in_size - c->pos > (1u << 30) ? (1u << 30) : c->in_size - c->pos;
		zs->next_in = c->in + c->pos;
		zs->avail_in = (uInt)chunk;
		if (skipping) {
			int64_t want = offset - c->out_pos;
			zs->next_out = scratch;
			zs->avail_out = want < (int64_t)sizeof(scratch) ? (uInt)want : sizeof(scratch);
		} else {
			int64_t want = cap - produced;
			zs->next_out = buf + produced;
			zs->avail_out = want > (1 << 30) ? (1u << 30) : (uInt)want;
		}
		uInt out_before = zs->avail_out;
		int rc = inflate(zs, Z_NO_FLUSH);
		size_t used = chunk - zs->avail_in;
		c->pos += used;
		int64_t made = out_before - zs->avail_out;
		c->out_pos += made;
		if (!skipping)
			produced += made;
		if (rc == Z_STREAM_END) {
			if (c->pos >= c->in_size || c->in[c->pos] != 0x1f)
				break;
			inflateReset(zs); /* another gzip member follows */
			c->member_start = c->out_pos;
			c->member_pos = c->pos;
			continue;
		}
		if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"unable to read '%s': corrupt gzip stream (%s)", path,
				zs->msg ? zs->msg : "invalid data");
			goto out;
		}
		if (rc == Z_MEM_ERROR) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
		if (used == 0 && made == 0 && c->pos >= c->in_size)
			break; /* input exhausted */
	}
	if (produced < nbytes)
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"truncated data in '%s': the gzip stream ends after %lld of %lld bytes",
			path, (long long)c->out_pos, (long long)(offset + nbytes));
	else if (check_limit > 0)
		st = zlib_check_rest(path, c, check_limit, unchecked, err);
out:
	if (st) {
		free(buf);
		return st;
	}
	*out = buf;
	return LESION_OK;
}

/* ISIZE, the last field of a gzip member: its inflated size modulo 2^32. */
static uint32_t gzip_trailer_size(const unsigned char *in, size_t in_size)
{
	if (in_size < 18)
		return 0;
	const unsigned char *p = in + in_size - 4;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

enum lesion_status lesion_gzip_read_range(const char *path, int64_t offset,
					  int64_t nbytes, int64_t stream_bytes,
					  struct lesion_gzip_cursor **cursor,
					  void **out, int64_t *unchecked,
					  struct lesion_error *err)
{
	unsigned char *in = NULL, *buf = NULL;
	size_t in_size = 0;
	struct lesion_gzip_cursor *c = NULL;
	enum lesion_status st = LESION_OK;
	int64_t ignored = 0;
	const int64_t limit = lesion_gzip_check_limit(stream_bytes);
	*out = NULL;
	if (unchecked)
		*unchecked = 0;

	/* go on from where the last read of this file stopped */
	if (cursor && *cursor && (*cursor)->out_pos <= offset) {
		c = *cursor;
		*cursor = NULL;
		goto stream;
	}
	if (cursor) {
		lesion_gzip_cursor_free(*cursor);
		*cursor = NULL;
	}
	st = slurp(path, &in, &in_size, err);
	if (st)
		return st;
	/*
	 * The fast path: one libdeflate call per member into a buffer sized by
	 * the header, taken when the range is the whole stream (a 3D image, not
	 * the last volume of a 4D one) and the gzip trailer agrees with the
	 * header about the size, so a header that lies is never trusted with
	 * an allocation; anything else streams through zlib.
	 */
	int whole = offset + nbytes == stream_bytes && offset <= nbytes &&
		    gzip_trailer_size(in, in_size) == (uint32_t)stream_bytes;
	if (whole) {
		buf = lesion_alloc_large((size_t)stream_bytes);
		if (!buf) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory reading '%s'", path);
			goto out;
		}
		struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
		if (!d) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
		size_t ipos = 0, opos = 0;
		int fallback = 0;
		while (opos < (size_t)stream_bytes && ipos < in_size) {
			size_t in_used = 0, out_got = 0;
			enum libdeflate_result r = libdeflate_gzip_decompress_ex(d,
				in + ipos, in_size - ipos, buf + opos,
				(size_t)stream_bytes - opos, &in_used, &out_got);
			if (r != LIBDEFLATE_SUCCESS) {
				fallback = 1; /* let zlib say what is wrong, or cope */
				break;
			}
			ipos += in_used;
			opos += out_got;
			if (out_got == 0)
				break;
		}
		libdeflate_free_decompressor(d);
		if (!fallback && opos == (size_t)stream_bytes) {
			/* the image ended with a member whose checksum libdeflate
			 * checked; members after it are checked as zlib's path
			 * checks them, as far as it goes */
			if (ipos < in_size && in[ipos] == 0x1f) {
				c = cursor_new(in, in_size);
				in = NULL;
				if (!c) {
					st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
					goto out;
				}
				c->pos = c->member_pos = ipos;
				c->out_pos = c->member_start = stream_bytes;
				st = zlib_check_rest(path, c, limit, &ignored, err);
				lesion_gzip_cursor_free(c);
				c = NULL;
				if (st)
					goto out;
			}
			if (offset > 0)
				memmove(buf, buf + offset, (size_t)nbytes);
			unsigned char *shrunk = realloc(buf, nbytes ? (size_t)nbytes : 1);
			*out = shrunk ? shrunk : buf;
			buf = NULL;
			goto out;
		}
		free(buf);
		buf = NULL;
	}
	c = cursor_new(in, in_size);
	in = NULL;
	if (!c) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
stream:
	st = zlib_range(path, c, offset, nbytes, offset + nbytes >= stream_bytes ? limit : 0,
			&ignored, &buf, err);
	if (!st) {
		*out = buf;
		buf = NULL;
	}
	if (cursor && !st)
		*cursor = c; /* kept for the next volume */
	else
		lesion_gzip_cursor_free(c);
	c = NULL;
out:
	free(in);
	free(buf);
	if (!st && unchecked)
		*unchecked = ignored;
	return st;
}
