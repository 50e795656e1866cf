/* log.c -- see log.h. */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

struct dc_redactor {
	pthread_mutex_t mu;
	char **secrets; /* longest first */
	size_t n;
};

int dc_redactor_new(dc_redactor **out)
{
	dc_redactor *r = calloc(1, sizeof(*r));

	if (!r || pthread_mutex_init(&r->mu, NULL)) {
		free(r);
		return dc_error_nomem();
	}
	*out = r;
	return 0;
}

void dc_redactor_free(dc_redactor *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		dc_secret_free(r->secrets[i]);
	free(r->secrets);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int dc_redactor_add(dc_redactor *r, const char *s, size_t len)
{
	char **grown, *copy;
	size_t i;
	int err = 0;

	if (!r || !s || len < 4)
		return 0;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++)
		if (strlen(r->secrets[i]) == len && !memcmp(r->secrets[i], s, len))
			goto done;
	if (!(grown = realloc(r->secrets, (r->n + 1) * sizeof(*grown))) || !(copy = strndup(s, len))) {
		if (grown)
			r->secrets = grown;
		err = dc_error_nomem();
		goto done;
	}
	r->secrets = grown;
	/* keep the longest first: a secret that contains another must be
	 * replaced whole before the shorter one can break it up */
	for (i = r->n; i > 0 && strlen(r->secrets[i - 1]) < len; i--)
		;
	memmove(r->secrets + i + 1, r->secrets + i, (r->n - i) * sizeof(*r->secrets));
	r->secrets[i] = copy;
	r->n++;
done:
	pthread_mutex_unlock(&r->mu);
	return err;
}

/* A run that starts like a secret is redacted when it is the whole secret,
 * or at least PREFIX_MIN bytes of its start: upstream replies that echo a
 * request often cut it, and a cut token is still most of a token. */
#define PREFIX_MIN 16

void dc_redactor_apply(dc_redactor *r, dc_buf *b)
{
	size_t i;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		const char *sec = r->secrets[i];
		size_t slen = strlen(sec), probe = slen < PREFIX_MIN ? slen : PREFIX_MIN, from = 0;
		char *hit;

		/* "***" is never longer than what it replaces (>= 4), so edit in place */
		while (from < b->len && (hit = memmem(b->ptr + from, b->len - from, sec, probe)) != NULL) {
			size_t run = probe, tail;

			while (run < slen && hit[run] == sec[run])
				run++;
			if (run < slen && run < PREFIX_MIN) {
				from = (size_t)(hit - b->ptr) + 1;
				continue;
			}
			tail = b->len - (size_t)(hit - b->ptr) - run;
			memcpy(hit, "***", 3);
			memmove(hit + 3, hit + run, tail + 1);
			b->len -= run - 3;
			from = (size_t)(hit - b->ptr) + 3;
		}
	}
	pthread_mutex_unlock(&r->mu);
}

int dc_redactor_contains(dc_redactor *r, const char *s)
{
	size_t i;
	int found = 0;

	if (!r || !s)
		return 0;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n && !found; i++)
		found = strstr(s, r->secrets[i]) != NULL;
	pthread_mutex_unlock(&r->mu);
	return found;
}

int dc_log_enabled(const dc_log *log, enum dc_log_level level)
{
	return log && log->sink && level <= log->max_level;
}

void dc_log_clip(dc_redactor *r, char *dst, size_t size, const char *src)
{
	dc_buf red = DC_BUF_INIT;
	size_t i, cut;

	if (!size)
		return;
	/* redact the whole text before anything is cut from it */
	dc_buf_init(&red, 0, DC_BUF_SECRET);
	if (src && dc_buf_puts(&red, src) == 0) {
		dc_redactor_apply(r, &red);
		src = red.ptr;
	} else if (src) {
		src = "(out of memory)";
	}
	cut = size - 1 < DC_LOG_CLIP_MAX ? size - 1 : DC_LOG_CLIP_MAX;
	for (i = 0; src && src[i] && src[i] != '\n' && src[i] != '\r' && i < cut; i++)
		dst[i] = (unsigned char)src[i] < ' ' || src[i] == 0x7f ? ' ' : src[i];
	/* cut inside a UTF-8 character (the next byte is 10xxxxxx): drop its start too */
	if (src && i == cut && ((unsigned char)src[i] & 0xc0) == 0x80) {
		while (i > 0 && ((unsigned char)dst[i - 1] & 0xc0) == 0x80)
			i--;
		if (i > 0 && ((unsigned char)dst[i - 1] & 0xc0) == 0xc0)
			i--;
	}
	dst[i] = '\0';
	dc_buf_release(&red);
}

static void emit(const dc_log *log, enum dc_log_level level, const char *fmt, va_list ap)
{
	dc_buf b = DC_BUF_INIT;

	if (!dc_log_enabled(log, level))
		return;
	/* the whole line first, redacted, and only then cut: cutting first
	 * could leave the start of a secret that no longer matches */
	dc_buf_init(&b, 0, DC_BUF_SECRET);
	if (dc_buf_vprintf(&b, fmt, ap) == 0) {
		dc_redactor_apply(log->redactor, &b);
		if (b.len > 1024) {
			b.ptr[1024] = '\0';
			b.len = 1024;
		}
		log->sink(level, b.ptr);
	}
	dc_buf_release(&b);
}

#define DEFINE_LOG(name, level)                                  \
	void name(const dc_log *log, const char *fmt, ...)       \
	{                                                        \
		va_list ap;                                      \
		va_start(ap, fmt);                               \
		emit(log, level, fmt, ap);                       \
		va_end(ap);                                      \
	}

DEFINE_LOG(dc_log_warn, DC_LOG_WARN)
DEFINE_LOG(dc_log_info, DC_LOG_INFO)
DEFINE_LOG(dc_log_debug, DC_LOG_DEBUG)
