/* kubelet.h -- the kubelet's image credential provider protocol
 * (credentialprovider.kubelet.k8s.io v1, v1beta1, v1alpha1): a
 * CredentialProviderRequest in, a CredentialProviderResponse out.
 *
 *   err = dc_kubelet_respond(&out, &res, ctx, request, n, cache_dir);
 *
 * The request's apiVersion is echoed; kind, cacheKeyType "Registry",
 * cacheDuration and auth are the only other fields (the kubelet decodes
 * strictly). auth is keyed by the image's registry host[:port] (a
 * matchImages pattern that matches exactly that registry). cacheDuration is
 * half the token's remaining life in Go's duration syntax ("6h0m0s"), "0s"
 * when the credential has no expiry (static ones: asking again is free) or
 * has expired. An image no configured family serves gets an empty auth and
 * "0s", as the cloud providers' plugins answer (FRONTS.md 3.3, 4.5).
 * A malformed request is DC_EUSAGE; a failed fetch DC_ERR: the kubelet logs
 * the plugin's stderr and pulls without credentials.
 */
#ifndef DC_KUBELET_H
#define DC_KUBELET_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"
#include "util/ctx.h"

typedef struct {
	const char *family; /* NULL when no family serves the image */
	const char *source; /* the resolver's source */
	long cache_seconds;
} dc_kubelet_result;

int dc_kubelet_respond(dc_buf *out, dc_kubelet_result *res, dc_ctx *ctx, const char *request, size_t n,
		       const char *cache_dir) DC_MUST_USE;

/* internal (fuzz/): the request's checks as dc_kubelet_respond makes them,
 * then the image's registry host into `host`; nothing is resolved. */
int dc_kubelet_request_check(dc_buf *host, const char *request, size_t n) DC_MUST_USE;

/* Go's time.Duration.String() of whole seconds: "0s", "45s", "1m30s", "6h0m0s". */
void dc_go_duration(char *out, size_t size, long seconds);

#endif
