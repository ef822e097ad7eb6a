/* lesionvol/status.h: result codes and error messages shared by every module. */
#ifndef LESIONVOL_STATUS_H
#define LESIONVOL_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * enum lesion_status - what a library call returns.
 *
 * The numbers are the exit codes of the command line, so the
 * program can map a status to an exit code in one place without a table.
 */
enum lesion_status {
	LESION_OK = 0,             /* success */
	LESION_ERR_INPUT = 1,      /* unreadable, invalid or mismatched input */
	LESION_ERR_USAGE = 2,      /* bad option or argument value */
	LESION_ERR_PARTIAL = 3,    /* a batch completed, some members failed */
	LESION_ERR_WRITE = 4,      /* cannot write output */
	LESION_ERR_INTERNAL = 70,  /* a bug or an out-of-memory condition */
};

#define LESION_ERROR_MAX 1024

/*
 * struct lesion_error - the message that goes with a failed status.
 *
 * Messages follow git's style: lower case, no full stop, the subject in
 * quotes, e.g. "unable to read 'x.nii.gz': unsupported datatype RGB24".
 * Every function taking a `struct lesion_error *` accepts NULL and then just
 * returns the status.
 */
struct lesion_error {
	enum lesion_status status;
	char message[LESION_ERROR_MAX];
};

/*
 * lesion_error_set() - fill @err (may be NULL) with a printf-style message and
 * return @status, so callers can write `return lesion_error_set(err, ...)`.
 */
enum lesion_status lesion_error_set(struct lesion_error *err,
				    enum lesion_status status,
				    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * lesion_error_prefix() - put a printf-style context before the message
 * already in @err ("subject 'sub-07': " + message). NULL @err is a no-op.
 */
void lesion_error_prefix(struct lesion_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* lesion_status_string() - a short name for @status ("input error"...). */
const char *lesion_status_string(enum lesion_status status);

/* lesion_version() - the library version, "MAJOR.MINOR.PATCH". */
const char *lesion_version(void);

#ifdef __cplusplus
}
#endif
#endif
