/* error.h -- the last error of this thread: a code, a class, fields, a message.
 *
 * A function that fails sets the error where the failure is seen and returns
 * one of the negative codes below; callers pass the code up and add nothing
 * to the message (in the spirit of libgit2's git_error_set):
 *
 *   return dc_error_set(DC_EUSAGE, "AWS_REGION is not set; set it ...");
 *   return dc_error_setc(DC_ERR, DC_ECLASS_TIMEOUT, "%s did not answer ...", what);
 *   dc_error_fields(status, "AccessDenied", -1);   adds fields to the error just set
 *
 * Code decides the exit status (src/cli is the only reader of the message);
 * the class and the fields say what kind of failure it was, so no layer ever
 * reads or rewrites another layer's message text.
 */
#ifndef DC_ERROR_H
#define DC_ERROR_H

enum {
	DC_OK = 0,
	DC_ERR = -1,       /* upstream or runtime failure: exit 1 */
	DC_EUSAGE = -2,    /* usage or configuration error: exit 2 */
	DC_ENOTFOUND = -3, /* a lookup found nothing (no message set); never shown to users */
	DC_EBUSY = -4,     /* waited too long for another process (a lock): exit 1 */
};

/* What kind of failure; README "Exit codes and errors" lists them. */
enum dc_error_class {
	DC_ECLASS_NONE = 0,
	DC_ECLASS_USAGE,   /* arguments, variables, key files: fix the configuration */
	DC_ECLASS_NOMEM,   /* out of memory */
	DC_ECLASS_OS,      /* files, directories, locks */
	DC_ECLASS_NET,     /* no HTTP answer: refused, reset, name not resolved, proxy */
	DC_ECLASS_TIMEOUT, /* no answer within the deadline */
	DC_ECLASS_TLS,     /* certificate or handshake */
	DC_ECLASS_HTTP,    /* upstream answered an error status (retries spent) */
	DC_ECLASS_AUTH,    /* upstream refused the credentials */
	DC_ECLASS_REPLY,   /* upstream answered something unusable */
	DC_ECLASS_CACHE,   /* the cache could not serve and a refresh failed earlier */
};

typedef struct {
	int code;
	enum dc_error_class klass;
	long http_status;       /* 0: none */
	char upstream_code[64]; /* "AccessDenied", "invalid_grant"; "" when none */
	long retry_after;       /* seconds the server asked to wait; -1: none */
	const char *message;    /* never NULL */
} dc_error;

#define DC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DC_MUST_USE __attribute__((warn_unused_result))

/* Set the current error; returns `code` for `return dc_error_set(...)`. The
 * class is DC_ECLASS_USAGE for DC_EUSAGE, DC_ECLASS_NOMEM for the message
 * "out of memory" (as dc_error_nomem), and DC_ECLASS_NONE otherwise. */
int dc_error_set(int code, const char *fmt, ...) DC_PRINTF(2, 3);
int dc_error_setc(int code, enum dc_error_class klass, const char *fmt, ...) DC_PRINTF(3, 4);
/* Out of memory: DC_ERR with class DC_ECLASS_NOMEM. */
int dc_error_nomem(void);
/* Attach upstream fields to the error set last (status 0 / NULL / -1: keep). */
void dc_error_fields(long http_status, const char *upstream_code, long retry_after);
/* The error set last. Borrowed; valid until the next set or clear. */
const dc_error *dc_error_get(void);
/* Its message, or "" when none. Borrowed. */
const char *dc_error_last(void);
void dc_error_clear(void);

#endif
