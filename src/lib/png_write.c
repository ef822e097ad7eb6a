/* png_write.c: RGB pixels to a PNG in memory with libpng, so the file can be
 * written atomically (and embedded in a report) like every other output. */
#include "lesionvol/quicklook.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/io.h"

struct png_sink {
	unsigned char *buf;
	size_t size, capacity;
	int out_of_memory;
	char message[256];
};

static void sink_write(png_structp png, png_bytep data, size_t length)
{
	struct png_sink *s = png_get_io_ptr(png);
	if (s->size + length > s->capacity) {
		size_t cap = s->capacity ? s->capacity : 65536;
		while (cap < s->size + length)
			cap *= 2;
		unsigned char *nb = realloc(s->buf, cap);
		if (!nb) {
			s->out_of_memory = 1;
			png_error(png, "out of memory");
		}
		s->buf = nb;
		s->capacity = cap;
	}
	memcpy(s->buf + s->size, data, length);
	s->size += length;
}

static void sink_flush(png_structp png)
{
	(void)png;
}

/* libpng prints errors and warnings by default; the library never prints */
static void on_error(png_structp png, png_const_charp msg)
{
	struct png_sink *s = png_get_error_ptr(png);
	snprintf(s->message, sizeof(s->message), "%s", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/*
 * Everything libpng may longjmp out of happens here; the caller owns @s and
 * @rows, so no local of this function is read after the jump.
 */
static int encode(struct png_sink *s, png_bytep *rows, int width, int height)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s,
						  on_error, on_warning);
	if (!png)
		return -1;
	png_infop info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -1;
	}
	png_set_write_fn(png, s, sink_write, sink_flush);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 6);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

enum lesion_status lesion_png_encode(const unsigned char *rgb, int width,
				     int height, unsigned char **png,
				     size_t *size, struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	struct png_sink sink;
	memset(&sink, 0, sizeof(sink));
	*png = NULL;
	*size = 0;
	if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
		return lesion_error_set(err, LESION_ERR_INTERNAL,
					"cannot encode a %dx%d picture", width, height);
	png_bytep *rows = malloc(sizeof(*rows) * (size_t)height);
	if (!rows)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	for (int y = 0; y < height; y++)
		rows[y] = (png_bytep)(rgb + (size_t)y * (size_t)width * 3);
	if (encode(&sink, rows, width, height) != 0) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "unable to encode PNG: %s",
				      sink.out_of_memory ? "out of memory"
				      : sink.message[0] ? sink.message : "libpng failed");
		free(sink.buf);
		goto out;
	}
	*png = sink.buf;
	*size = sink.size;
out:
	free(rows);
	return st;
}

enum lesion_status lesion_png_write(const char *path, const unsigned char *rgb,
				    int width, int height,
				    struct lesion_error *err)
{
	unsigned char *buf;
	size_t size;
	enum lesion_status st = lesion_png_encode(rgb, width, height, &buf, &size, err);
	if (st)
		return st;
	st = lesion_write_file_atomic(path, buf, size, err);
	free(buf);
	return st;
}
