/* error.h -- the last error of this thread, and the few return codes.
 *
 * A function that fails calls dc_error_set() where the failure is seen and
 * returns one of the negative codes below; callers pass the code up and add
 * nothing to the message. Only src/cli reads it (dc_error_last) and prints it.
 */
#ifndef DC_ERROR_H
#define DC_ERROR_H

enum {
	DC_OK = 0,
	DC_ERR = -1,    /* upstream or runtime failure: exit 1 */
	DC_EUSAGE = -2, /* usage or configuration error: exit 2 */
	DC_ENOTFOUND = -3, /* a lookup found nothing; not an error to the user */
	DC_EBUSY = -4,  /* waited too long for another process (a lock): exit 1 */
};

#define DC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DC_MUST_USE __attribute__((warn_unused_result))

/* Set the message of the current error; returns `code` for `return dc_error_set(...)`. */
int dc_error_set(int code, const char *fmt, ...) DC_PRINTF(2, 3);
/* The message set last, or "" when none. Borrowed. */
const char *dc_error_last(void);
void dc_error_clear(void);

#endif
