/* quiet.h: the fuzz targets' check that the library never prints: stdout and
 * stderr point at a scratch file while library code runs, and any byte found
 * there afterwards aborts the run (showing what was printed). */
#ifndef LESIONVOL_FUZZ_QUIET_H
#define LESIONVOL_FUZZ_QUIET_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int quiet_fd = -1, quiet_out = -1, quiet_err = -1;

/* quiet_init() - open the scratch file @path (removed at once). */
static void quiet_init(const char *path)
{
	quiet_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(path);
	quiet_out = dup(1);
	quiet_err = dup(2);
	if (quiet_fd < 0 || quiet_out < 0 || quiet_err < 0) {
		perror("fuzz: scratch file for stdout/stderr");
		abort();
	}
}

/* quiet_begin() - point stdout and stderr at the scratch file. */
static void quiet_begin(void)
{
	fflush(stdout);
	fflush(stderr);
	dup2(quiet_fd, 1);
	dup2(quiet_fd, 2);
}

/* quiet_end() - restore them; abort when the library printed anything. */
static void quiet_end(void)
{
	struct stat st;
	fflush(stdout);
	fflush(stderr);
	dup2(quiet_out, 1);
	dup2(quiet_err, 2);
	if (fstat(quiet_fd, &st) == 0 && st.st_size > 0) {
		char buf[512];
		ssize_t n = pread(quiet_fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "fuzz: the library printed: %s\n", buf);
		abort();
	}
}

#endif
