/* dockerignore.c -- see dockerignore.h. Patterns become POSIX extended
 * regular expressions the way moby/patternmatcher makes Go ones. */
#include "runner/dockerignore.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/fs.h"

struct dc_dockerignore_rule {
	char *pattern; /* cleaned, without '!' */
	regex_t re;
	int exclusion; /* a '!' line */
};

void dc_dockerignore_release(dc_dockerignore *di)
{
	size_t i;

	for (i = 0; i < di->n; i++) {
		regfree(&di->rules[i].re);
		free(di->rules[i].pattern);
	}
	free(di->rules);
	*di = (dc_dockerignore)DC_DOCKERIGNORE_INIT;
}

/* Go's filepath.Clean for '/'-separated paths. */
static int clean(dc_buf *out, const char *p, size_t n)
{
	int rooted = n && p[0] == '/';
	size_t i = 0, base = rooted ? 1 : 0, dotdots = 0; /* leading ".." kept */

	if (rooted)
		dc_buf_putc(out, '/');
	while (i < n) {
		size_t j = i, len;

		while (j < n && p[j] != '/')
			j++;
		len = j - i;
		if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
			if (out->len > base && out->len > dotdots * 3) {
				/* drop the last element */
				while (out->len > base && out->ptr[out->len - 1] != '/')
					out->len--;
				if (out->len > base)
					out->len--;
				out->ptr[out->len] = '\0';
			} else if (!rooted) {
				dc_buf_puts(out, out->len ? "/.." : "..");
				dotdots++;
			}
		} else if (len && !(len == 1 && p[i] == '.')) {
			if (out->len > base)
				dc_buf_putc(out, '/');
			dc_buf_put(out, p + i, len);
		}
		i = j + 1;
	}
	if (!out->len)
		dc_buf_putc(out, '.');
	return dc_buf_failed(out) ? DC_ERR : 0;
}

/* The regular expression of one pattern; DC_EUSAGE for a bad escape. */
static int compile(dc_buf *re, const char *pat)
{
	const char *p = pat;

	dc_buf_putc(re, '^');
	while (*p) {
		char ch = *p++;

		if (ch == '*') {
			if (*p == '*') {
				p++;
				if (*p == '/')
					p++;
				if (!*p)
					dc_buf_puts(re, ".*");
				else
					dc_buf_puts(re, "(.*/)?");
			} else {
				dc_buf_puts(re, "[^/]*");
			}
		} else if (ch == '?') {
			dc_buf_puts(re, "[^/]");
		} else if (strchr(".+()|{}$", ch)) {
			dc_buf_putc(re, '\\');
			dc_buf_putc(re, ch);
		} else if (ch == '\\') {
			if (!*p)
				return DC_EUSAGE;
			if (strchr(".+()|{}$*?[]\\^", *p))
				dc_buf_putc(re, '\\');
			dc_buf_putc(re, *p++);
		} else {
			dc_buf_putc(re, ch);
		}
	}
	dc_buf_putc(re, '$');
	return dc_buf_failed(re) ? DC_ERR : 0;
}

static int add_rule(dc_dockerignore *di, const char *text, size_t n, int exclusion, int line)
{
	dc_buf pat = DC_BUF_INIT, re = DC_BUF_INIT;
	dc_dockerignore_rule *rules, *r;
	int err = 0;

	if ((err = clean(&pat, text, n)) < 0)
		goto oom;
	if (pat.len > 1 && pat.ptr[0] == '/') {
		memmove(pat.ptr, pat.ptr + 1, pat.len);
		pat.len--;
	}
	if ((err = compile(&re, pat.ptr)) == DC_ERR)
		goto oom;
	if (!(rules = realloc(di->rules, (di->n + 1) * sizeof(*rules))))
		goto oom;
	di->rules = rules;
	r = &rules[di->n];
	memset(r, 0, sizeof(*r));
	if (err == DC_EUSAGE || regcomp(&r->re, re.ptr, REG_EXTENDED | REG_NOSUB) != 0) {
		err = dc_error_set(DC_EUSAGE, ".dockerignore line %d: pattern '%.*s' is not valid; fix or remove it",
				   line, (int)n, text);
		goto done;
	}
	r->exclusion = exclusion;
	r->pattern = dc_buf_detach(&pat, NULL);
	di->n++;
	if (exclusion)
		di->has_exceptions = 1;
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_buf_release(&pat);
	dc_buf_release(&re);
	return err;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int dc_dockerignore_parse(dc_dockerignore *di, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int line = 0, err;

	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *s, *e;
		int excl = 0;

		if (!eol)
			eol = end;
		line++;
		s = p;
		e = eol;
		p = eol + 1;
		if (s < e && *s == '#') /* a comment only in the first column, as Docker */
			continue;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s == e)
			continue;
		if (*s == '!') {
			excl = 1;
			s++;
			while (s < e && is_space(*s))
				s++;
		}
		if ((err = add_rule(di, s, (size_t)(e - s), excl, line)) < 0)
			return err;
	}
	return 0;
}

int dc_dockerignore_load(dc_dockerignore *di, const char *dir)
{
	dc_buf path = DC_BUF_INIT, text = DC_BUF_INIT;
	int err;

	if (dc_buf_printf(&path, "%s/.dockerignore", dir) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	err = dc_fs_read(&text, path.ptr, 4 << 20);
	if (err == DC_ENOTFOUND)
		err = 0;
	else if (err == 0)
		err = dc_dockerignore_parse(di, text.ptr, text.len);
	dc_buf_release(&path);
	dc_buf_release(&text);
	return err;
}

int dc_dockerignore_keep(dc_dockerignore *di, const char *path)
{
	if (!dc_dockerignore_excluded(di, path))
		return 0;
	return add_rule(di, path, strlen(path), 1, 0);
}

static int rule_match(const dc_dockerignore_rule *r, const char *path)
{
	return regexec(&r->re, path, 0, NULL, 0) == 0;
}

int dc_dockerignore_excluded(const dc_dockerignore *di, const char *path)
{
	dc_buf parent = DC_BUF_INIT;
	const char *slash = strrchr(path, '/');
	int matched = 0;
	size_t i;

	for (i = 0; i < di->n; i++) {
		const dc_dockerignore_rule *r = &di->rules[i];
		int m;

		/* an exclusion cannot change an unmatched path, nor an
		 * inclusion a matched one */
		if (r->exclusion != matched)
			continue;
		m = rule_match(r, path);
		if (!m && slash) {
			/* or one of its parent directories: "a", "a/b", ... */
			const char *p = path;

			while (!m && (p = strchr(p, '/')) && p <= slash) {
				dc_buf_reset(&parent);
				dc_buf_put(&parent, path, (size_t)(p - path));
				m = !dc_buf_failed(&parent) && rule_match(r, parent.ptr);
				p++;
			}
		}
		if (m)
			matched = !r->exclusion;
	}
	dc_buf_release(&parent);
	return matched;
}

int dc_dockerignore_walk_excluded_dir(const dc_dockerignore *di, const char *dir)
{
	size_t i, n = strlen(dir);

	/* Docker walks an excluded directory only when an exception pattern
	 * starts with "dir/" */
	for (i = 0; i < di->n; i++) {
		const char *p = di->rules[i].pattern;

		if (di->rules[i].exclusion && !strncmp(p, dir, n) && (p[n] == '/' || p[n] == '\0'))
			return 1;
	}
	return 0;
}
