/* error.c: filling struct lesion_error in one consistent way. */
#include "lesionvol/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum lesion_status lesion_error_set(struct lesion_error *err,
				    enum lesion_status status,
				    const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		err->status = status;
	}
	return status;
}

void lesion_error_prefix(struct lesion_error *err, const char *fmt, ...)
{
	char prefix[LESION_ERROR_MAX];
	char old[LESION_ERROR_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	size_t np = strlen(prefix), no = strnlen(old, sizeof(old) - 1);
	if (np + no >= sizeof(err->message))
		no = sizeof(err->message) - 1 - np;
	memcpy(err->message, prefix, np);
	memcpy(err->message + np, old, no);
	err->message[np + no] = '\0';
}

const char *lesion_status_string(enum lesion_status status)
{
	switch (status) {
	case LESION_OK: return "success";
	case LESION_ERR_INPUT: return "input error";
	case LESION_ERR_USAGE: return "usage error";
	case LESION_ERR_PARTIAL: return "some participants failed";
	case LESION_ERR_WRITE: return "cannot write output";
	case LESION_ERR_INTERNAL: return "internal error";
	}
	return "unknown status";
}

const char *lesion_version(void)
{
	return LESIONVOL_VERSION;
}
