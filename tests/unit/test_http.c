/* test_http.c -- util/http: a request's own deadline. A local socket that
 * accepts connections (the kernel does, from its backlog) but never answers
 * stands for a metadata server that is not there.
 *
 * And libcurl's blocks are wiped when it frees them: glibc gives the block
 * freed last back to the next malloc of its size, which shows what was left
 * in it past the 16 bytes of its own links (test_secret.c shows the method
 * sees a plain free's leftovers). Not under ASan, which quarantines blocks. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "util/http.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Listen on 127.0.0.1, never accept; the port goes into `url`. */
static int silent_server(char *url, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(url, size, "http://127.0.0.1:%d/computeMetadata/v1/x", ntohs(a.sin_port));
	return fd;
}

static void test_request_deadline(void)
{
	dc_http_config cfg = { .connect_timeout_ms = 5000, .deadline_ms = 30000, .max_reply = 1024, .attempts = 4 };
	dc_http_resp r = DC_HTTP_RESP_INIT;
	dc_http *h = NULL;
	char url[128];
	long t0, took;
	int fd = silent_server(url, sizeof(url));

	if (!CHECK(fd >= 0))
		return;
	if (!CHECK_EQ_INT(dc_http_new(&h, &cfg, NULL), 0))
		return;
	t0 = now_ms();
	dc_error_clear();
	CHECK_EQ_INT(dc_http_send(h, &r, &(dc_http_req){
			.method = "GET",
			.url = url,
			.what = "the test server",
			.deadline_ms = 300,
			.connect_timeout_ms = 200,
		}), DC_ERR);
	took = now_ms() - t0;
	CHECK(strstr(dc_error_last(), "the test server") != NULL);
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_TIMEOUT);
	/* its own 300 ms, not the configured 30 s */
	CHECK(took >= 250 && took < 5000);
	if (took >= 5000)
		fprintf(stderr, "  took %ld ms\n", took);
	CHECK_EQ_INT(r.status, 0);
	dc_http_resp_release(&r);
	close(fd);
	dc_http_free(h);
}

static void test_curl_frees_wiping(void)
{
#if !defined(__SANITIZE_ADDRESS__)
	char header[200];
	struct curl_slist *l;
	unsigned char *volatile fresh;
	const volatile unsigned char *q;
	dc_buf b = DC_BUF_INIT;
	uintptr_t was;
	size_t i, left = 0;

	/* initialises libcurl as a request would */
	CHECK_EQ_INT(dc_http_form_escape(&b, "a b"), 0);
	CHECK_EQ_STR(b.ptr, "a%20b");
	dc_buf_release(&b);
	memset(header, 'Z', sizeof(header) - 1);
	header[sizeof(header) - 1] = '\0';
	memcpy(header, "X-Amz-Security-Token: ", 22);
	/* libcurl copies it (its strdup), like the headers of a request */
	l = curl_slist_append(NULL, header);
	if (!CHECK(l != NULL))
		return;
	was = (uintptr_t)l->data;
	curl_slist_free_all(l); /* the copy, then the node (another size) */
	fresh = malloc(sizeof(header));
	q = fresh;
	if (CHECK(q != NULL) && CHECK((uintptr_t)q == was)) {
		for (i = 16; i < sizeof(header) - 1; i++)
			left += q[i] == 'Z';
		CHECK_EQ_INT(left, 0);
	}
	free((void *)q);
#endif
}

int main(void)
{
	T_RUN(test_request_deadline);
	T_RUN(test_curl_frees_wiping);
	return t_done();
}
