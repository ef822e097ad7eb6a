/* fuzz_read.c: libFuzzer target over the whole read path (header checks,
 * gzip, voxel reading, byte swapping, scaling and value statistics).
 *
 * Input layout: byte 0 chooses how the rest is put on disk, the rest is the
 * file content.
 *   bits 0-1  0: "x.nii" with the bytes as they are
 *             1: "x.nii.gz" with the bytes as they are (the gzip decoders)
 *             2: "x.nii.gz" holding the bytes gzip-compressed here (header
 *                and data checks behind a valid gzip wrapper)
 *             3: a pair: "x.hdr" (the first 348 bytes, 540 for NIfTI-2) and
 *                "x.img" (the rest)
 *   bit 2     open with LESION_OPEN_LENIENT (as `info` does)
 *   bit 3     pair mode: the header is gzip-compressed here (x.hdr.gz)
 *   bits 4-5  volume index: -1 (must be 3D), 0, 1, 2
 *   bit 6     pair mode: the .img is gzip-compressed here (x.img.gz)
 *   bit 7     pair mode: name the pair by its image rather than its header
 *
 * Files go to a private folder under $TMPDIR (default /dev/shm, else /tmp)
 * that is emptied before every input, so no input sees another's files.
 *
 * Besides the sanitizers, the target aborts when a failure message does not
 * name the file, when the streaming reader of `measure`
 * (lesion_volume_load_progressive) disagrees with the plain loader about
 * the file or its bytes, and when the library writes anything to stdout or
 * stderr (it never prints; niftilib's own messages must not leak through). Run with
 * -close_fd_mask=2 so that libFuzzer's and the sanitizers' reports stay
 * visible while stderr is being watched.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <math.h>

#include <libdeflate.h>
#include <omp.h>
#include <sanitizer/common_interface_defs.h>

#include "lesionvol/volume.h"
#include "quiet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];
static char p_nii[300], p_niigz[300], p_hdr[300], p_hdrgz[300], p_img[300],
	p_imggz[300];

static void remove_dir(void)
{
	unlink(p_nii);
	unlink(p_niigz);
	unlink(p_hdr);
	unlink(p_hdrgz);
	unlink(p_img);
	unlink(p_imggz);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/lesionvol-fuzz-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("fuzz_read: mkdtemp");
		abort();
	}
	snprintf(p_nii, sizeof(p_nii), "%s/x.nii", dir);
	snprintf(p_niigz, sizeof(p_niigz), "%s/x.nii.gz", dir);
	snprintf(p_hdr, sizeof(p_hdr), "%s/x.hdr", dir);
	snprintf(p_hdrgz, sizeof(p_hdrgz), "%s/x.hdr.gz", dir);
	snprintf(p_img, sizeof(p_img), "%s/x.img", dir);
	snprintf(p_imggz, sizeof(p_imggz), "%s/x.img.gz", dir);
	atexit(remove_dir);
	char scratch[300];
	snprintf(scratch, sizeof(scratch), "%s/printed", dir);
	quiet_init(scratch);
	/* one thread: the fuzzer wants reproducible, cheap runs */
	omp_set_num_threads(1);
	return 0;
}

static void put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		abort();
	}
	if (size && fwrite(data, 1, size, f) != size) {
		perror(path);
		abort();
	}
	fclose(f);
}

static void put_gzip(const char *path, const uint8_t *data, size_t size)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	size_t bound = libdeflate_gzip_compress_bound(c, size);
	uint8_t *gz = malloc(bound);
	size_t n = libdeflate_gzip_compress(c, data, size, gz, bound);
	libdeflate_free_compressor(c);
	put(path, gz, n);
	free(gz);
}

/* A pair's header is 348 bytes, or 540 when sizeof_hdr says NIfTI-2. */
static size_t header_split(const uint8_t *data, size_t size)
{
	if (size >= 4 && ((data[0] == 0x1c && data[1] == 0x02 && !data[2] && !data[3]) ||
			  (!data[0] && !data[1] && data[2] == 0x02 && data[3] == 0x1c)))
		return size < 540 ? size : 540;
	return size < 348 ? size : 348;
}

/*
 * The streaming reader `measure` uses (ISA-L, pieces front to back) must
 * agree with the plain loader: the same verdict on the file, the same bytes.
 */
static void compare_progressive(const char *path, int flags, int64_t index,
				const struct lesion_volume *vol, enum lesion_status st)
{
	struct lesion_volume *v2 = NULL;
	struct lesion_error err2;
	quiet_begin();
	enum lesion_status st2 = lesion_volume_open(path, flags, &v2, &err2);
	if (st2 == LESION_OK)
		st2 = lesion_volume_load_progressive(v2, index, NULL, NULL, &err2);
	quiet_end();
	if (st2 != LESION_ERR_INTERNAL) {
		if ((st2 == LESION_OK) != (st == LESION_OK)) {
			fprintf(stderr, "fuzz_read: plain load %d, progressive %d (%s)\n",
				(int)st, (int)st2, st2 ? err2.message : "ok");
			abort();
		}
		if (st == LESION_OK &&
		    memcmp(vol->data, v2->data,
			   (size_t)(vol->geom.n_voxels * vol->bytes_per_voxel)) != 0) {
			fprintf(stderr, "fuzz_read: the progressive reader read other bytes\n");
			abort();
		}
	}
	lesion_volume_free(v2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const unsigned mode = data[0];
	data++;
	size--;
	unlink(p_nii);
	unlink(p_niigz);
	unlink(p_hdr);
	unlink(p_hdrgz);
	unlink(p_img);
	unlink(p_imggz);

	const char *path;
	switch (mode & 3) {
	case 0:
		put(p_nii, data, size);
		path = p_nii;
		break;
	case 1:
		put(p_niigz, data, size);
		path = p_niigz;
		break;
	case 2:
		put_gzip(p_niigz, data, size);
		path = p_niigz;
		break;
	default: {
		size_t h = header_split(data, size);
		if (mode & 8)
			put_gzip(p_hdrgz, data, h);
		else
			put(p_hdr, data, h);
		if (mode & 0x40)
			put_gzip(p_imggz, data + h, size - h);
		else
			put(p_img, data + h, size - h);
		path = (mode & 0x80) ? ((mode & 0x40) ? p_imggz : p_img)
				     : ((mode & 8) ? p_hdrgz : p_hdr);
		break;
	}
	}

	int flags = (mode & 4) ? LESION_OPEN_LENIENT : 0;
	int64_t index = (int64_t)((mode >> 4) & 3) - 1;
	struct lesion_error err;
	struct lesion_volume *vol = NULL;
	quiet_begin();
	enum lesion_status st = lesion_volume_open(path, flags, &vol, &err);
	quiet_end();
	if (st != LESION_OK) {
		if (vol)
			abort(); /* a failed open must not hand out a volume */
		if (st == LESION_ERR_INPUT && !strstr(err.message, dir))
			abort(); /* every input error names the file */
		return 0;
	}
	struct lesion_value_stats vs;
	quiet_begin();
	st = lesion_volume_load(vol, index, &err);
	if (st == LESION_OK)
		lesion_volume_stats(vol, &vs);
	quiet_end();
	if (st == LESION_OK) {
		if (vs.n_finite + vs.n_nan + vs.n_inf != vol->geom.n_voxels)
			abort();
		/* the single-voxel path on the last voxel */
		double v = lesion_volume_value(vol, vol->geom.n_voxels - 1);
		if (isfinite(v) && !(v >= vs.min && v <= vs.max))
			abort();
	} else if (st == LESION_ERR_INPUT && !strstr(err.message, dir)) {
		abort();
	}
	if (st != LESION_ERR_INTERNAL)
		compare_progressive(path, flags, index, vol, st);
	lesion_volume_free(vol);
	return 0;
}
