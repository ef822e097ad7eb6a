/* lesionvol/io.h: small file helpers the program shares with the library. */
#ifndef LESIONVOL_IO_H
#define LESIONVOL_IO_H

#include <stddef.h>

#include "lesionvol/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * lesion_write_file_atomic() - write @size bytes of @buf to @path through a
 * temporary file in the same folder and a rename, so a killed process never
 * leaves a half-written @path. The temporary is named
 * ".lesionvol-SSSSSSSS-PID-XXXXXX.tmp" (process space, process id, random
 * letters); the first write of a process into a folder removes those of
 * dead writers found there. Returns LESION_OK or LESION_ERR_WRITE (message
 * names @path and the reason). Thread safe for distinct paths.
 */
enum lesion_status lesion_write_file_atomic(const char *path, const void *buf,
					    size_t size, struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
