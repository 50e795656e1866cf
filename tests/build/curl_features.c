/* curl_features.c -- the libcurl dcgen links has what dcgen needs: HTTPS
 * through OpenSSL, and unix sockets (the Docker Engine API). Built and run by
 * ctest build/curl-features against the same libcurl as build/dcgen; it
 * prints the version and exits 1 when a feature is missing. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	int rc = 0;

	printf("libcurl %s, %s\n", v->version, v->ssl_version ? v->ssl_version : "no TLS");
	if (!(v->features & CURL_VERSION_UNIX_SOCKETS)) {
		fprintf(stderr, "libcurl has no unix sockets\n");
		rc = 1;
	}
	if (!(v->features & CURL_VERSION_SSL) || !v->ssl_version || strncmp(v->ssl_version, "OpenSSL/3", 9)) {
		fprintf(stderr, "libcurl has no OpenSSL 3 backend\n");
		rc = 1;
	}
	return rc;
}
