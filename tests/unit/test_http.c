/* test_http.c -- util/http: a request's own deadline. A local socket that
 * accepts connections (the kernel does, from its backlog) but never answers
 * stands for a metadata server that is not there. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
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
	char url[128];
	long t0, took;
	int fd = silent_server(url, sizeof(url));

	if (!CHECK(fd >= 0))
		return;
	dc_http_configure(&cfg);
	t0 = now_ms();
	dc_error_clear();
	CHECK_EQ_INT(dc_http_send(&r, &(dc_http_req){
			.method = "GET",
			.url = url,
			.what = "the test server",
			.deadline_ms = 300,
			.connect_timeout_ms = 200,
		}), DC_ERR);
	took = now_ms() - t0;
	CHECK_HAS(dc_error_last(), "the test server did not answer");
	/* its own 300 ms, not the configured 30 s */
	CHECK(took >= 250 && took < 5000);
	if (took >= 5000)
		fprintf(stderr, "  took %ld ms\n", took);
	CHECK_EQ_INT(r.status, 0);
	dc_http_resp_release(&r);
	close(fd);
	dc_http_cleanup();
}

int main(void)
{
	T_RUN(test_request_deadline);
	return t_done();
}
