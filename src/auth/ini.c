/* ini.c -- see ini.h. */
#include "auth/ini.h"

#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

typedef struct {
	size_t section; /* index into sections */
	char *key;
	char *value;    /* may be a secret: wiped on free */
} entry;

struct dc_ini {
	char **sections;
	size_t nsections;
	entry *entries;
	size_t nentries;
};

static int grow(void **p, size_t n, size_t size)
{
	void *q;

	/* powers of two: grow when n is one */
	if (n && (n & (n - 1)))
		return 0;
	if (!(q = realloc(*p, (n ? n * 2 : 4) * size)))
		return dc_error_nomem();
	*p = q;
	return 0;
}

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

static long find_section(const dc_ini *ini, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < ini->nsections; i++)
		if (strlen(ini->sections[i]) == n && !memcmp(ini->sections[i], name, n))
			return (long)i;
	return -1;
}

static const entry *find(const dc_ini *ini, size_t section, const char *key, size_t n)
{
	size_t i;

	for (i = 0; i < ini->nentries; i++)
		if (ini->entries[i].section == section && strlen(ini->entries[i].key) == n &&
		    !memcmp(ini->entries[i].key, key, n))
			return &ini->entries[i];
	return NULL;
}

static int bad(size_t line, const char *why)
{
	return dc_error_set(DC_EUSAGE, "line %zu: %s", line, why);
}

static int add_section(dc_ini *ini, const char *name, size_t n, size_t line)
{
	char *s;
	int err;

	if (!n)
		return bad(line, "a section with an empty name");
	if (memchr(name, ']', n) || memchr(name, '[', n))
		return bad(line, "a section name with a bracket in it");
	if (find_section(ini, name, n) >= 0)
		return bad(line, "a section that appeared before (each section may appear once)");
	if ((err = grow((void **)&ini->sections, ini->nsections, sizeof(*ini->sections))) < 0)
		return err;
	if (!(s = dup_range(name, n)))
		return dc_error_nomem();
	ini->sections[ini->nsections++] = s;
	return 0;
}

static int add_entry(dc_ini *ini, const char *key, size_t kn, const char *value, size_t vn, size_t line)
{
	entry e = { ini->nsections - 1, NULL, NULL };
	size_t i;
	int err;

	if (!kn)
		return bad(line, "a setting with no name before '='");
	if (find(ini, e.section, key, kn)) /* key is lower case already */
		return bad(line, "a setting that appeared before in this section (each may appear once)");
	if ((err = grow((void **)&ini->entries, ini->nentries, sizeof(*ini->entries))) < 0)
		return err;
	if (!(e.key = dup_range(key, kn)) || !(e.value = dup_range(value, vn))) {
		free(e.key);
		return dc_error_nomem();
	}
	for (i = 0; i < kn; i++)
		if (e.key[i] >= 'A' && e.key[i] <= 'Z')
			e.key[i] = (char)(e.key[i] - 'A' + 'a');
	ini->entries[ini->nentries++] = e;
	return 0;
}

int dc_ini_parse(dc_ini **out, const char *data, size_t len)
{
	dc_ini *ini = NULL;
	const char *p = data, *end = data + len, *nl, *eq;
	char lower[128];
	size_t n, line = 0, i;
	int err = 0, nested_ok = 0;

	*out = NULL;
	if (len > DC_INI_MAX)
		return dc_error_set(DC_EUSAGE, "larger than %d bytes, which no such file is", DC_INI_MAX);
	if (len && memchr(data, '\0', len))
		return dc_error_set(DC_EUSAGE, "a NUL byte in it, which no text file has");
	if (!(ini = calloc(1, sizeof(*ini))))
		return dc_error_nomem();
	/* a UTF-8 byte order mark (Windows editors) */
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	for (; p < end && !err; p = nl < end ? nl + 1 : end) {
		const char *s = p, *k, *v;
		size_t kn, vn;
		int indented;

		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		n = (size_t)(nl - p);
		indented = n && (s[0] == ' ' || s[0] == '\t');
		trim(&s, &n);
		if (!n || s[0] == '#' || s[0] == ';')
			continue;
		if (indented && nested_ok)
			continue; /* a nested setting of the key above */
		if (indented) {
			err = bad(line, "an indented line that continues no setting");
			break;
		}
		nested_ok = 0;
		if (s[0] == '[') {
			if (s[n - 1] != ']') {
				err = bad(line, "a section line without its closing ']'");
				break;
			}
			k = s + 1;
			kn = n - 2;
			trim(&k, &kn);
			err = add_section(ini, k, kn, line);
			continue;
		}
		if (!ini->nsections) {
			err = bad(line, "a setting before the first [section]");
			break;
		}
		eq = memchr(s, '=', n);
		if (!eq) {
			err = bad(line, "a line that is neither a [section] nor a 'name = value' setting");
			break;
		}
		k = s;
		kn = (size_t)(eq - s);
		trim(&k, &kn);
		v = eq + 1;
		vn = (size_t)(s + n - v);
		trim(&v, &vn);
		if (kn >= sizeof(lower)) {
			err = bad(line, "a setting name longer than 127 bytes");
			break;
		}
		for (i = 0; i < kn; i++)
			lower[i] = (k[i] >= 'A' && k[i] <= 'Z') ? (char)(k[i] - 'A' + 'a') : k[i];
		err = add_entry(ini, lower, kn, v, vn, line);
		nested_ok = !vn;
	}
	if (err < 0) {
		dc_ini_free(ini);
		return err;
	}
	*out = ini;
	return 0;
}

const char *dc_ini_get(const dc_ini *ini, const char *section, const char *key)
{
	long s;
	const entry *e;

	if (!ini || (s = find_section(ini, section, strlen(section))) < 0)
		return NULL;
	e = find(ini, (size_t)s, key, strlen(key));
	return e ? e->value : NULL;
}

int dc_ini_has_section(const dc_ini *ini, const char *section)
{
	return ini && find_section(ini, section, strlen(section)) >= 0;
}

void dc_ini_free(dc_ini *ini)
{
	size_t i;

	if (!ini)
		return;
	for (i = 0; i < ini->nsections; i++)
		free(ini->sections[i]);
	for (i = 0; i < ini->nentries; i++) {
		free(ini->entries[i].key);
		dc_secret_free(ini->entries[i].value);
	}
	free(ini->sections);
	free(ini->entries);
	free(ini);
}
