/* fake_http.h -- a tiny HTTP/1.1 peer on 127.0.0.1 for unit tests of the
 * token clients (header-only, one thread): it answers the k-th request with
 * the k-th canned reply (the last one repeats), one request per connection,
 * and keeps the last request (and every request's first line) for the test
 * to inspect.
 *
 *   static const fake_reply r[] = { { 200, "{\"a\":1}" }, { 0, NULL } };
 *   fake_http f;
 *   if (fake_http_start(&f, r) == 0) { ... "http://127.0.0.1:%d/" f.port ...
 *       fake_http_stop(&f); }
 *
 * It listens on 127.0.0.1 only, on a port the kernel picks, and serves at
 * most FAKE_HTTP_MAX requests: a test that loops cannot loop for ever.
 */
#ifndef DC_FAKE_HTTP_H
#define DC_FAKE_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { FAKE_HTTP_MAX = 64 };

typedef struct {
	int status;       /* 0 ends the table */
	const char *body;
} fake_reply;

typedef struct {
	int fd, port;
	pthread_t thread;
	const fake_reply *replies;
	size_t n;
	int served;
	char request[16384]; /* the last request, headers and body */
	char lines[FAKE_HTTP_MAX][160]; /* each request's first line */
} fake_http;

static void *fake_http_run(void *arg)
{
	fake_http *f = arg;
	int c;

	while (f->served < FAKE_HTTP_MAX && (c = accept(f->fd, NULL, NULL)) >= 0) {
		const fake_reply *r = &f->replies[(size_t)f->served < f->n ? (size_t)f->served : f->n - 1];
		char head[256];
		size_t have = 0, need = 0;
		char *end, *cl;
		ssize_t got;

		/* headers, then Content-Length bytes of body */
		while (have + 1 < sizeof(f->request) &&
		       (got = recv(c, f->request + have, sizeof(f->request) - 1 - have, 0)) > 0) {
			have += (size_t)got;
			f->request[have] = '\0';
			if ((end = strstr(f->request, "\r\n\r\n")) != NULL) {
				cl = strcasestr(f->request, "\r\nContent-Length:");
				need = (size_t)(end + 4 - f->request) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
				if (have >= need)
					break;
			}
		}
		f->request[have] = '\0';
		snprintf(f->lines[f->served], sizeof(f->lines[0]), "%.*s", (int)strcspn(f->request, "\r\n"), f->request);
		snprintf(head, sizeof(head),
			 "HTTP/1.1 %d Fake\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 r->status, strlen(r->body));
		if (send(c, head, strlen(head), MSG_NOSIGNAL) >= 0)
			(void)send(c, r->body, strlen(r->body), MSG_NOSIGNAL);
		close(c);
		f->served++;
	}
	return NULL;
}

static inline int fake_http_start(fake_http *f, const fake_reply *replies)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(f, 0, sizeof(*f));
	f->replies = replies;
	while (replies[f->n].status)
		f->n++;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!f->n || (f->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (bind(f->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(f->fd, 8) < 0 ||
	    getsockname(f->fd, (struct sockaddr *)&a, &len) < 0 || pthread_create(&f->thread, NULL, fake_http_run, f)) {
		close(f->fd);
		return -1;
	}
	f->port = ntohs(a.sin_port);
	return 0;
}

static inline void fake_http_stop(fake_http *f)
{
	shutdown(f->fd, SHUT_RDWR); /* wakes accept() */
	pthread_join(f->thread, NULL);
	close(f->fd);
}

#endif
