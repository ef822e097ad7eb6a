/* atomic_write.c: every file the program writes goes to a temporary name
 * and is renamed; temporaries are named so that a later run can tell them
 * from any user's file and from those a live process is still writing. */
#include "io_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * A temporary is ".lesionvol-SSSSSSSS-PID-XXXXXX.tmp" in the folder of the
 * file it becomes: SSSSSSSS (hex) names the writer's process space (its
 * host name and PID namespace), PID its process, XXXXXX six random letters
 * or digits. The name does not grow with the final one, so a temporary
 * never hits the file system's name limit first. A stale one is a regular
 * file of this exact form whose writer is known dead (same process space,
 * no such PID) or that nobody has touched for STALE_AFTER_S seconds (a
 * writer elsewhere: another node of a cluster, another container): writes
 * take seconds, and every write() refreshes the time.
 */
#define TEMP_PREFIX ".lesionvol-"
#define TEMP_SUFFIX ".tmp"
enum { STALE_AFTER_S = 3600, TEMP_NAME_MAX = 48 };

static pthread_once_t space_once = PTHREAD_ONCE_INIT;
static uint32_t space_id;

static uint32_t fnv1a(uint32_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void find_space(void)
{
	char host[256] = "", ns[64] = "";
	(void)gethostname(host, sizeof(host) - 1);
	ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	uint32_t h = fnv1a(2166136261u, host, strlen(host));
	space_id = fnv1a(h, ns, n > 0 ? (size_t)n : 0);
}

/* The process space and PID of temporary @name, 0 when it is not one. */
static int parse_temp(const char *name, uint32_t *space, long *pid)
{
	size_t len = strlen(name), np = strlen(TEMP_PREFIX), ns = strlen(TEMP_SUFFIX);
	if (len > TEMP_NAME_MAX || len < np + ns || strncmp(name, TEMP_PREFIX, np) != 0 ||
	    strcmp(name + len - ns, TEMP_SUFFIX) != 0)
		return 0;
	const char *p = name + np;
	char *end;
	for (int i = 0; i < 8; i++)
		if (!p[i] || !strchr("0123456789abcdef", p[i]))
			return 0;
	*space = (uint32_t)strtoul(p, &end, 16);
	if (end != p + 8 || *end != '-' || !(end[1] >= '1' && end[1] <= '9'))
		return 0;
	*pid = strtol(end + 1, &end, 10);
	if (*end != '-' || *pid <= 0)
		return 0;
	p = end + 1;
	for (int i = 0; i < 6; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9')))
			return 0;
	return strcmp(p + 6, TEMP_SUFFIX) == 0;
}

/* Whether temporary @name (a file in the folder open as @dfd) is stale. */
static int temp_is_stale(int dfd, const char *name, time_t now)
{
	uint32_t space;
	long pid;
	struct stat sb;
	if (!parse_temp(name, &space, &pid) ||
	    fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	if (now - sb.st_mtime > STALE_AFTER_S)
		return 1;
	pthread_once(&space_once, find_space);
	if (space != space_id || pid == (long)getpid())
		return 0; /* another machine's, or ours: its writer may be alive */
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* ---- which folders this process has swept ---- */

static pthread_mutex_t swept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct folder_id { dev_t dev; ino_t ino; } *swept;
static size_t n_swept, swept_cap; /* open addressing, cap a power of 2 */

static size_t slot_of(struct folder_id f, size_t cap)
{
	uint64_t h = ((uint64_t)f.dev * UINT64_C(0x9E3779B97F4A7C15)) ^ (uint64_t)f.ino;
	h *= UINT64_C(0xBF58476D1CE4E5B9);
	return (size_t)(h >> 17) & (cap - 1);
}

/* Add @f to the set; 1 when it was not there. An allocation failure only
 * means a folder may be swept twice. */
static int swept_add(struct folder_id f)
{
	pthread_mutex_lock(&swept_lock);
	int added = 0;
	if (2 * (n_swept + 1) > swept_cap) {
		size_t cap = swept_cap ? 2 * swept_cap : 64;
		struct folder_id *t = calloc(cap, sizeof(*t));
		if (!t)
			goto out;
		for (size_t i = 0; i < swept_cap; i++) {
			if (!swept[i].ino)
				continue;
			size_t k = slot_of(swept[i], cap);
			while (t[k].ino)
				k = (k + 1) & (cap - 1);
			t[k] = swept[i];
		}
		free(swept);
		swept = t;
		swept_cap = cap;
	}
	size_t k = slot_of(f, swept_cap);
	while (swept[k].ino && !(swept[k].dev == f.dev && swept[k].ino == f.ino))
		k = (k + 1) & (swept_cap - 1);
	if (!swept[k].ino) {
		swept[k] = f;
		n_swept++;
		added = 1;
	}
out:
	pthread_mutex_unlock(&swept_lock);
	return added;
}

static int folder_id_of(const char *dir, struct folder_id *f)
{
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_ino == 0)
		return -1;
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	return 0;
}

static void sweep(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && temp_is_stale(dirfd(d), e->d_name, now))
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

void lesion_remove_stale_temps(const char *dir)
{
	struct folder_id f;
	if (folder_id_of(dir, &f) == 0)
		(void)swept_add(f);
	sweep(dir);
}

void lesion_temps_folder_is_new(const char *dir)
{
	struct folder_id f;
	if (folder_id_of(dir, &f) == 0)
		(void)swept_add(f);
}

/* The first write into a folder sweeps it: every folder a run writes. */
static void sweep_once(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	struct folder_id f;
	if (dir && folder_id_of(dir, &f) == 0 && swept_add(f))
		sweep(dir);
	free(dir);
}

/*
 * Create the temporary for @path (see above) with mode 0666 less the umask,
 * as the final file would get. Not mkstemp(): its 0600 would have to be
 * widened with the umask, which can only be read by setting it, and setting
 * it while other threads create files gives their files the wrong mode.
 * Returns the open descriptor, or -1 with errno set (EEXIST: every name
 * tried was taken).
 */
static int create_temp(const char *path, char *tmp, size_t size)
{
	static const char letters[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) + 1 : 0;
	struct timespec ts;
	pthread_once(&space_once, find_space);
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec * UINT64_C(0x9E3779B97F4A7C15);
	x ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&ts;
	x |= 1; /* xorshift must not start at 0 */
	for (int attempt = 0; attempt < 100; attempt++) {
		char suffix[7];
		for (int i = 0; i < 6; i++) {
			x ^= x << 13; /* xorshift64 */
			x ^= x >> 7;
			x ^= x << 17;
			suffix[i] = letters[x % (sizeof(letters) - 1)];
		}
		suffix[6] = '\0';
		snprintf(tmp, size, "%.*s" TEMP_PREFIX "%08x-%ld-%s" TEMP_SUFFIX, dir_len, path,
			 (unsigned)space_id, (long)getpid(), suffix);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

enum lesion_status lesion_write_file_atomic(const char *path, const void *buf,
					    size_t size, struct lesion_error *err)
{
	size_t n = strlen(path) + TEMP_NAME_MAX + 8;
	char *tmp = malloc(n);
	if (!tmp)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	sweep_once(path);
	int fd = create_temp(path, tmp, n);
	if (fd < 0) {
		/* EEXIST only when every name tried was taken: strerror() would
		 * blame the file being replaced, which may well exist */
		enum lesion_status st = errno == EEXIST
			? lesion_error_set(err, LESION_ERR_WRITE,
				"unable to write '%s': no unused temporary name "
				"'%s' after 100 tries", path, tmp)
			: lesion_error_set(err, LESION_ERR_WRITE,
				"unable to write '%s': %s", path, strerror(errno));
		free(tmp);
		return st;
	}
	const unsigned char *p = buf;
	size_t done = 0;
	int ok = 1;
	while (done < size) {
		ssize_t w = write(fd, p + done, size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ok = 0;
			break;
		}
		done += (size_t)w;
	}
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = 0;
		saved = errno;
	}
	if (!ok) {
		unlink(tmp);
		free(tmp);
		return lesion_error_set(err, LESION_ERR_WRITE, "unable to write '%s': %s",
					path, strerror(saved ? saved : EIO));
	}
	free(tmp);
	return LESION_OK;
}

static int ends_with_gz(const char *p)
{
	size_t n = strlen(p);
	return n >= 3 && (strcmp(p + n - 3, ".gz") == 0 || strcmp(p + n - 3, ".GZ") == 0);
}

enum lesion_status lesion_write_image_file(const char *path,
					   const void *hdr, size_t hdr_size,
					   const void *data, size_t data_bytes,
					   struct lesion_error *err)
{
	size_t total = hdr_size + data_bytes;
	unsigned char *whole = malloc(total);
	if (!whole)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	memcpy(whole, hdr, hdr_size);
	memcpy(whole + hdr_size, data, data_bytes);
	if (!ends_with_gz(path)) {
		enum lesion_status st = lesion_write_file_atomic(path, whole, total, err);
		free(whole);
		return st;
	}
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	size_t bound = c ? libdeflate_gzip_compress_bound(c, total) : 0;
	unsigned char *gz = c ? malloc(bound) : NULL;
	if (!gz) {
		libdeflate_free_compressor(c);
		free(whole);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	size_t gz_size = libdeflate_gzip_compress(c, whole, total, gz, bound);
	libdeflate_free_compressor(c);
	free(whole);
	enum lesion_status st = gz_size
		? lesion_write_file_atomic(path, gz, gz_size, err)
		: lesion_error_set(err, LESION_ERR_INTERNAL, "gzip compression failed");
	free(gz);
	return st;
}
