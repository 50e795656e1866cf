/* url.c -- see url.h. */
#include "util/url.h"

#include <string.h>
#include <strings.h>

#define HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]"

int dc_url_host_valid(const char *host, size_t n)
{
	size_t i;

	if (!n || host[0] == '.' || host[0] == '-' || host[0] == ':')
		return 0;
	for (i = 0; i < n; i++)
		if (!host[i] || !strchr(HOST_CHARS, host[i]))
			return 0;
	return 1;
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
		return dc_error_set(DC_EUSAGE, "%s is '%s', whose host is not a host name; %s", what, url, remedy);
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
	const char *p = url, *end, *at;

	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	end = p + strcspn(p, "/?#");
	/* never carry "user:password@" into a registry key */
	for (at = p; at < end; at++)
		if (*at == '@')
			p = at + 1;
	if (end == p)
		return dc_error_set(DC_EUSAGE, "'%s' names no registry host", url);
	if (dc_buf_put(out, p, (size_t)(end - p)) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}
