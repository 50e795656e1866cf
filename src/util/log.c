/* log.c -- see log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

static dc_log_sink sink;
static enum dc_log_level max_level = DC_LOG_WARN;
static char **secrets;
static size_t nsecrets;

void dc_log_set_sink(dc_log_sink s, enum dc_log_level level)
{
	sink = s;
	max_level = level;
}

int dc_log_enabled(enum dc_log_level level)
{
	return sink && level <= max_level;
}

int dc_log_redact_add(const char *secret)
{
	char **n;
	size_t i;

	if (!secret || strlen(secret) < 4)
		return 0;
	for (i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], secret))
			return 0;
	n = realloc(secrets, (nsecrets + 1) * sizeof(*n));
	if (!n)
		return DC_ERR;
	secrets = n;
	/* keep the longest first: a secret that contains another must be
	 * replaced whole before the shorter one can break it up */
	for (i = nsecrets; i > 0 && strlen(secrets[i - 1]) < strlen(secret); i--)
		;
	memmove(secrets + i + 1, secrets + i, (nsecrets - i) * sizeof(*secrets));
	if (!(secrets[i] = strdup(secret))) {
		memmove(secrets + i, secrets + i + 1, (nsecrets - i) * sizeof(*secrets));
		return DC_ERR;
	}
	nsecrets++;
	return 0;
}

void dc_log_redact(dc_buf *b)
{
	size_t i;

	for (i = 0; i < nsecrets; i++) {
		size_t slen = strlen(secrets[i]);
		char *hit;

		/* "***" is never longer than a secret (>= 4), so edit in place */
		while ((hit = strstr(b->ptr, secrets[i])) != NULL) {
			size_t tail = b->len - (size_t)(hit - b->ptr) - slen;

			memcpy(hit, "***", 3);
			memmove(hit + 3, hit + slen, tail + 1);
			b->len -= slen - 3;
		}
	}
}

void dc_log_redact_clear(void)
{
	size_t i;

	for (i = 0; i < nsecrets; i++)
		dc_secret_free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

void dc_log_clip(char *dst, size_t size, const char *src)
{
	size_t i, cut;

	if (!size)
		return;
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
}

static void emit(enum dc_log_level level, const char *fmt, va_list ap)
{
	dc_buf b = DC_BUF_INIT;

	if (!dc_log_enabled(level))
		return;
	/* the whole line first, redacted, and only then cut: cutting first
	 * could leave the start of a secret that no longer matches */
	dc_buf_init(&b, 0, DC_BUF_SECRET);
	if (dc_buf_vprintf(&b, fmt, ap) == 0) {
		dc_log_redact(&b);
		if (b.len > 1024) {
			b.ptr[1024] = '\0';
			b.len = 1024;
		}
		sink(level, b.ptr);
	}
	dc_buf_release(&b);
}

#define DEFINE_LOG(name, level)                  \
	void name(const char *fmt, ...)          \
	{                                        \
		va_list ap;                      \
		va_start(ap, fmt);               \
		emit(level, fmt, ap);            \
		va_end(ap);                      \
	}

DEFINE_LOG(dc_log_warn, DC_LOG_WARN)
DEFINE_LOG(dc_log_info, DC_LOG_INFO)
DEFINE_LOG(dc_log_debug, DC_LOG_DEBUG)
