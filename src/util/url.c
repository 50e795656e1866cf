/* url.c -- see url.h. */
#include "util/url.h"

#include <string.h>
#include <strings.h>

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."
#define V6_CHARS "0123456789abcdefABCDEF:."

static int port_valid(const char *p, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (!n || n > 5 || p[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

int dc_url_host_valid(const char *host, size_t n)
{
	const char *colon;
	size_t hn, i, label = 0;

	if (!n || memchr(host, '\0', n))
		return 0;
	if (host[0] == '[') {
		const char *close = memchr(host, ']', n);

		if (!close || close == host + 1)
			return 0;
		hn = (size_t)(close - host) + 1;
		if (strspn(host + 1, V6_CHARS) < hn - 2)
			return 0;
		if (hn == n)
			return 1;
		return host[hn] == ':' && port_valid(host + hn + 1, n - hn - 1);
	}
	colon = memchr(host, ':', n);
	hn = colon ? (size_t)(colon - host) : n;
	if (colon && !port_valid(colon + 1, n - hn - 1))
		return 0;
	if (!hn || hn > 253 || host[0] == '.' || host[0] == '-' || host[hn - 1] == '-')
		return 0;
	for (i = 0; i < hn; i++) {
		if (!strchr(NAME_CHARS, host[i]))
			return 0;
		if (host[i] == '.') {
			if (!label) /* an empty label: ".." */
				return 0;
			label = 0;
		} else if (++label > 63) {
			return 0;
		}
	}
	return 1;
}

static const char *authority(const char *url, size_t *n)
{
	const char *sep = strstr(url, "://"), *a = sep ? sep + 3 : url;

	*n = strcspn(a, "/?#");
	return a;
}

int dc_url_has_userinfo(const char *url)
{
	size_t n;
	const char *a = authority(url, &n);

	return memchr(a, '@', n) != NULL;
}

/* localhost, [::1] or an IPv4 literal 127.x.y.z (not "127.example.com"),
 * given without its port */
static int is_loopback(const char *host, size_t n)
{
	size_t i;

	if ((n == 9 && !strncmp(host, "localhost", 9)) || (n == 5 && !strncmp(host, "[::1]", 5)))
		return 1;
	if (n < 7 || n > 15 || strncmp(host, "127.", 4))
		return 0;
	for (i = 4; i < n; i++)
		if (!strchr("0123456789.", host[i]))
			return 0;
	return 1;
}

int dc_url_check(const char *url, const char *what, const char *remedy)
{
	const char *host, *end;
	size_t n;
	int plain = 0;

	if (dc_url_has_userinfo(url))
		return dc_error_set(DC_EUSAGE, "%s has a user name or password in it; remove it from the URL (%s)", what,
				    remedy);
	if (!strncmp(url, "https://", 8)) {
		host = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		host = url + 7;
		plain = 1;
	} else {
		return dc_error_set(DC_EUSAGE, "%s is '%s', not an https URL; %s", what, url, remedy);
	}
	n = strcspn(host, "/?#");
	if (!n)
		return dc_error_set(DC_EUSAGE, "%s is '%s', which names no host; %s", what, url, remedy);
	if (!dc_url_host_valid(host, n))
		return dc_error_set(DC_EUSAGE, "%s is '%s', whose host is not a host[:port]; %s", what, url, remedy);
	for (end = host + n; *end; end++)
		if ((unsigned char)*end <= ' ' || *end == 0x7f)
			return dc_error_set(DC_EUSAGE, "%s is '%s', which has white space or control characters; %s",
					    what, url, remedy);
	if (plain) {
		/* the host without its port: "[::1]:80" -> "[::1]", "127.0.0.1:80" -> "127.0.0.1" */
		const char *stop = host[0] == '[' ? memchr(host, ']', n) : memchr(host, ':', n);
		size_t hn = !stop ? n : host[0] == '[' ? (size_t)(stop - host) + 1 : (size_t)(stop - host);

		if (!is_loopback(host, hn))
			return dc_error_set(DC_EUSAGE, "%s is '%s', plain http to another machine; use https", what,
					    url);
	}
	return 0;
}

int dc_host_from_url(dc_buf *out, const char *url)
{
	const char *p = url, *end;

	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	end = p + strcspn(p, "/?#");
	/* never carry "user:password@" into a registry key, nor quote it */
	if (memchr(p, '@', (size_t)(end - p)))
		return dc_error_set(DC_EUSAGE, "the URL has a user name or password in it");
	if (end == p)
		return dc_error_set(DC_EUSAGE, "the URL names no registry host");
	if (dc_buf_put(out, p, (size_t)(end - p)) < 0)
		return dc_error_nomem();
	return 0;
}
