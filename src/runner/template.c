/* template.c -- a small Go text/template subset (see template.h). */
#include "runner/template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
	char *s;  /* owned */
	int num;  /* a number literal or numeric field (for %d) */
} value;

typedef struct {
	const char *p, *end;
	const dc_template_data *d;
	const char *tmpl;
} lexer;

static int field(value *out, const char *name, size_t n, const dc_template_data *d)
{
	char tbuf[64];
	const char *v = NULL;
	int num = 0;
	time_t t = (time_t)d->timestamp;
	struct tm tm;

#define F(nm, val) else if (n == sizeof(nm) - 1 && !memcmp(name, nm, n)) v = (val)
	if (0)
		;
	F("ProjectID", d->project_id);
	F("BuildID", d->build_id);
	F("RepoName", d->repo_name);
	F("Branch", d->branch);
	F("CommitID", d->commit_id);
	F("CommitMessage", d->commit_message);
	F("CommitDescription", d->commit_description);
	F("CommitterName", d->committer_name);
	F("CommitterEmail", d->committer_email);
	F("CommitterUsername", d->committer_username);
	F("StepName", d->step_name);
	F("ServiceName", d->service_name);
	F("ImageName", d->image_name);
	F("Ci", "true");
	F("CiName", "codeship");
	else if (n == 9 && !memcmp(name, "Timestamp", 9)) {
		snprintf(tbuf, sizeof(tbuf), "%lld", d->timestamp);
		v = tbuf;
		num = 1;
	} else if ((n == 4 && !memcmp(name, "Time", 4)) || (n == 10 && !memcmp(name, "StringTime", 10))) {
		gmtime_r(&t, &tm);
		/* Go's time.Time String() for UTC; StringTime the same text */
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
		v = tbuf;
	} else
		return dc_error_set(DC_EUSAGE, "unknown template field '.%.*s'", (int)n, name);
#undef F
	out->s = strdup(v ? v : "");
	out->num = num;
	return out->s ? 0 : dc_error_set(DC_ERR, "out of memory");
}

static void skip_ws(lexer *l)
{
	while (l->p < l->end && isspace((unsigned char)*l->p))
		l->p++;
}

/* One operand: .Field, "string", `raw`, number. */
static int operand(value *out, lexer *l)
{
	const char *s = l->p;
	dc_buf b = DC_BUF_INIT;

	if (*s == '.') {
		const char *e = s + 1;
		while (e < l->end && (isalnum((unsigned char)*e) || *e == '_'))
			e++;
		l->p = e;
		return field(out, s + 1, (size_t)(e - s - 1), l->d);
	}
	if (*s == '"') {
		for (s++; s < l->end && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < l->end) {
				s++;
				switch (*s) {
				case 'n': dc_buf_putc(&b, '\n'); break;
				case 't': dc_buf_putc(&b, '\t'); break;
				default: dc_buf_putc(&b, *s); break;
				}
			} else
				dc_buf_putc(&b, *s);
		}
		if (s >= l->end) {
			dc_buf_release(&b);
			return dc_error_set(DC_EUSAGE, "template '%s': unterminated string", l->tmpl);
		}
		l->p = s + 1;
		out->num = 0;
		if (dc_buf_failed(&b))
			return dc_error_set(DC_ERR, "out of memory");
		out->s = dc_buf_detach(&b, NULL);
		return 0;
	}
	if (*s == '`') {
		const char *e = memchr(s + 1, '`', (size_t)(l->end - s - 1));
		if (!e)
			return dc_error_set(DC_EUSAGE, "template '%s': unterminated raw string", l->tmpl);
		l->p = e + 1;
		out->num = 0;
		return (out->s = strndup(s + 1, (size_t)(e - s - 1))) ? 0 : dc_error_set(DC_ERR, "out of memory");
	}
	if (isdigit((unsigned char)*s) || *s == '-') {
		const char *e = s + 1;
		while (e < l->end && isdigit((unsigned char)*e))
			e++;
		l->p = e;
		out->num = 1;
		return (out->s = strndup(s, (size_t)(e - s))) ? 0 : dc_error_set(DC_ERR, "out of memory");
	}
	return dc_error_set(DC_EUSAGE, "template '%s': cannot read '%.*s'", l->tmpl, (int)(l->end - s), s);
}

static void pad(dc_buf *out, const char *s, size_t len, int width, const char *flags)
{
	size_t w = width > 0 ? (size_t)width : 0, fill = w > len ? w - len : 0;
	int left = strchr(flags, '-') != NULL, zero = strchr(flags, '0') != NULL && !left;

	if (!left)
		while (fill--)
			dc_buf_putc(out, zero ? '0' : ' ');
	dc_buf_put(out, s, len);
	if (left)
		while (fill--)
			dc_buf_putc(out, ' ');
}

/* Go's fmt for the verbs templates use. */
static int go_printf(dc_buf *out, const char *fmt, value *args, size_t nargs, const char *tmpl)
{
	size_t ai = 0;
	const char *p;

	for (p = fmt; *p; p++) {
		char spec[32], flags[8];
		size_t nf = 0;
		int width = -1, prec = -1;
		const char *a;

		if (*p != '%') {
			dc_buf_putc(out, *p);
			continue;
		}
		p++;
		if (*p == '%') {
			dc_buf_putc(out, '%');
			continue;
		}
		while (*p && strchr("-+# 0", *p) && nf < sizeof(flags) - 1)
			flags[nf++] = *p++;
		flags[nf] = 0;
		if (isdigit((unsigned char)*p))
			for (width = 0; isdigit((unsigned char)*p) && width < 1000; p++)
				width = width * 10 + (*p - '0');
		if (*p == '.')
			for (prec = 0, p++; isdigit((unsigned char)*p) && prec < 1000; p++)
				prec = prec * 10 + (*p - '0');
		if (!*p)
			return dc_error_set(DC_EUSAGE, "template '%s': printf format ends inside a verb", tmpl);
		if (ai >= nargs) {
			dc_buf_printf(out, "%%!%c(MISSING)", *p);
			continue;
		}
		a = args[ai++].s;
		switch (*p) {
		case 's':
		case 'v': {
			/* precision counts characters in Go; tags are ASCII in practice */
			size_t len = strlen(a);
			if (prec >= 0 && (size_t)prec < len)
				len = (size_t)prec;
			pad(out, a, len, width, flags);
			break;
		}
		case 'q': {
			dc_buf_putc(out, '"');
			for (; *a; a++) {
				if (*a == '"' || *a == '\\')
					dc_buf_putc(out, '\\');
				dc_buf_putc(out, *a);
			}
			dc_buf_putc(out, '"');
			break;
		}
		case 'd': {
			char *e;
			long long n = strtoll(a, &e, 10);
			if (!*a || *e) {
				dc_buf_printf(out, "%%!d(string=%s)", a);
				break;
			}
			snprintf(spec, sizeof(spec), "%lld", n);
			pad(out, spec, strlen(spec), width, flags);
			break;
		}
		case 'x':
		case 'X': {
			const unsigned char *u = (const unsigned char *)a;
			for (; *u; u++)
				dc_buf_printf(out, *p == 'x' ? "%02x" : "%02X", *u);
			break;
		}
		default:
			return dc_error_set(DC_EUSAGE, "template '%s': printf verb '%%%c' is not supported", tmpl, *p);
		}
	}
	if (ai < nargs)
		dc_buf_printf(out, "%%!(EXTRA string=%s)", args[ai].s);
	return dc_buf_failed(out) ? dc_error_set(DC_ERR, "out of memory") : 0;
}

static void values_free(value *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].s);
}

/* One command of a pipeline: `printf ARGS` or a single operand; `prev` (if
 * any) is appended as the last argument. */
static int command(value *out, lexer *l, value *prev)
{
	value args[16];
	size_t n = 0;
	int err = 0, is_printf = 0;

	skip_ws(l);
	if (l->end - l->p >= 6 && !memcmp(l->p, "printf", 6) &&
	    (l->end - l->p == 6 || isspace((unsigned char)l->p[6]))) {
		is_printf = 1;
		l->p += 6;
	} else if (isalpha((unsigned char)*l->p)) {
		const char *e = l->p;
		while (e < l->end && isalnum((unsigned char)*e))
			e++;
		return dc_error_set(DC_EUSAGE, "template '%s': function '%.*s' is not supported (only printf)",
				    l->tmpl, (int)(e - l->p), l->p);
	}
	for (;;) {
		skip_ws(l);
		if (l->p >= l->end || *l->p == '|')
			break;
		if (n >= 15) {
			err = dc_error_set(DC_EUSAGE, "template '%s': too many arguments", l->tmpl);
			goto done;
		}
		if ((err = operand(&args[n], l)) < 0)
			goto done;
		n++;
		if (!is_printf)
			break;
	}
	if (prev) {
		args[n++] = *prev;
		prev->s = NULL;
	}
	if (is_printf) {
		dc_buf b = DC_BUF_INIT;
		if (!n) {
			err = dc_error_set(DC_EUSAGE, "template '%s': printf needs a format", l->tmpl);
			goto done;
		}
		if ((err = go_printf(&b, args[0].s, args + 1, n - 1, l->tmpl)) < 0) {
			dc_buf_release(&b);
			goto done;
		}
		out->s = dc_buf_detach(&b, NULL);
		out->num = 0;
	} else if (n == 1) {
		*out = args[0];
		args[0].s = NULL;
	} else {
		err = dc_error_set(DC_EUSAGE, "template '%s': a pipeline step takes one value", l->tmpl);
	}
done:
	values_free(args, n);
	return err;
}

static int action(dc_buf *out, const char *start, const char *end, const dc_template_data *d, const char *tmpl)
{
	lexer l = { start, end, d, tmpl };
	value cur = { 0 }, next;
	int err, have = 0;

	for (;;) {
		next.s = NULL;
		if ((err = command(&next, &l, have ? &cur : NULL)) < 0)
			break;
		free(cur.s);
		cur = next;
		have = 1;
		skip_ws(&l);
		if (l.p >= l.end)
			break;
		if (*l.p != '|') {
			err = dc_error_set(DC_EUSAGE, "template '%s': unexpected '%.*s'", tmpl, (int)(l.end - l.p), l.p);
			break;
		}
		l.p++;
	}
	if (err == 0 && cur.s)
		dc_buf_puts(out, cur.s);
	free(cur.s);
	return err;
}

int dc_template_render(dc_buf *out, const char *tmpl, const dc_template_data *d)
{
	const char *p = tmpl;
	int err;

	while (*p) {
		const char *open = strstr(p, "{{"), *close, *s, *e;
		size_t textlen;
		if (!open) {
			dc_buf_puts(out, p);
			break;
		}
		textlen = (size_t)(open - p);
		s = open + 2;
		if (*s == '-' && isspace((unsigned char)s[1])) {
			while (textlen && isspace((unsigned char)p[textlen - 1]))
				textlen--;
			s++;
		}
		dc_buf_put(out, p, textlen);
		if (!(close = strstr(s, "}}")))
			return dc_error_set(DC_EUSAGE, "template '%s': '{{' without '}}'", tmpl);
		e = close;
		p = close + 2;
		if (e > s && e[-1] == '-' && e - 1 > s && isspace((unsigned char)e[-2])) {
			e--;
			while (*p && isspace((unsigned char)*p))
				p++;
		}
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e - s >= 2 && s[0] == '/' && s[1] == '*')
			continue; /* a comment */
		if (s == e)
			return dc_error_set(DC_EUSAGE, "template '%s': empty action", tmpl);
		if ((err = action(out, s, e, d, tmpl)) < 0)
			return err;
	}
	return dc_buf_failed(out) ? dc_error_set(DC_ERR, "out of memory") : 0;
}

void dc_template_tag(dc_buf *b)
{
	size_t i, j = 0;

	for (i = 0; i < b->len; i++) {
		char ch = b->ptr[i];
		if (!(isalnum((unsigned char)ch) || ch == '_' || ch == '.' || ch == '-'))
			continue;
		if (j == 0 && (ch == '.' || ch == '-'))
			continue;
		if (j < 128)
			b->ptr[j++] = ch;
	}
	if (b->cap) {
		b->len = j;
		b->ptr[j] = 0;
	}
}
