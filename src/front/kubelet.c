/* kubelet.c -- see kubelet.h. */
#include "front/kubelet.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/cred.h"
#include "core/resolve.h"
#include "providers/provider.h"
#include "util/json.h"

#define GROUP "credentialprovider.kubelet.k8s.io/"

static const char *const versions[] = { GROUP "v1", GROUP "v1beta1", GROUP "v1alpha1", NULL };

void dc_go_duration(char *out, size_t size, long s)
{
	if (s <= 0)
		snprintf(out, size, "0s");
	else if (s >= 3600)
		snprintf(out, size, "%ldh%ldm%lds", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(out, size, "%ldm%lds", s / 60, s % 60);
	else
		snprintf(out, size, "%lds", s);
}

static int to_buf(const char *p, size_t n, void *b)
{
	return dc_buf_put(b, p, n) < 0 ? -1 : 0;
}

static int parse_request(json_t **doc, const char **version, const char **image, const char *req, size_t n)
{
	const char *const *v;
	const char *kind;

	if (dc_json_parse_object(doc, req, n, "the kubelet") < 0)
		return dc_error_set(DC_EUSAGE, "the request on stdin is not a JSON object; the kubelet sends a CredentialProviderRequest");
	*version = dc_json_str(*doc, "apiVersion");
	kind = dc_json_str(*doc, "kind");
	*image = dc_json_str(*doc, "image");
	for (v = versions; *version && *v; v++)
		if (!strcmp(*version, *v))
			break;
	if (!*version || !*v)
		return dc_error_set(DC_EUSAGE, "the request's apiVersion is '%s'; dcgen answers %sv1, v1beta1 and v1alpha1",
				    *version ? *version : "(none)", GROUP);
	if (!kind || strcmp(kind, "CredentialProviderRequest"))
		return dc_error_set(DC_EUSAGE, "the request's kind is '%s', not CredentialProviderRequest", kind ? kind : "(none)");
	if (!*image || !**image)
		return dc_error_set(DC_EUSAGE, "the request names no image");
	return 0;
}

int dc_kubelet_request_check(dc_buf *host, const char *request, size_t n)
{
	json_t *req = NULL;
	const char *version = NULL, *image = NULL;
	int err;

	if ((err = parse_request(&req, &version, &image, request, n)) == 0)
		err = dc_image_host(host, image);
	json_decref(req);
	return err;
}

int dc_kubelet_respond(dc_buf *out, dc_kubelet_result *res, dc_ctx *ctx, const char *request, size_t n,
		       const char *cache_dir)
{
	json_t *req = NULL, *resp = NULL, *auth = NULL;
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_resolve_info info;
	dc_resolver *r = NULL;
	dc_buf host = DC_BUF_INIT;
	const char *version = NULL, *image = NULL;
	char duration[48];
	long seconds = 0;
	int err;

	memset(res, 0, sizeof(*res));
	if ((err = dc_resolver_new(&r, ctx, dc_families, cache_dir)) < 0 ||
	    (err = parse_request(&req, &version, &image, request, n)) < 0 || (err = dc_image_host(&host, image)) < 0)
		goto done;
	if (!(auth = json_object())) {
		err = dc_error_nomem();
		goto done;
	}
	err = dc_resolve(&list, &info, r, &(dc_query){ DC_QUERY_IMAGE, image, NULL });
	if (err == 0) {
		time_t now = dc_ctx_now(ctx);

		res->family = info.family;
		res->source = info.source;
		if (info.expires_at > now)
			seconds = (long)((info.expires_at - now) / 2);
		if (json_object_set_new(auth, host.ptr,
					json_pack("{s:s, s:s}", "username", list.items[0].username, "password",
						  list.items[0].secret)) < 0) {
			err = dc_error_set(DC_ERR, "the credentials for '%s' are not UTF-8 text", host.ptr);
			goto done;
		}
	} else if (err != DC_ENOTFOUND) {
		goto done;
	}
	err = 0;
	res->cache_seconds = seconds;
	dc_go_duration(duration, sizeof(duration), seconds);
	resp = json_pack("{s:s, s:s, s:s, s:s, s:O}", "apiVersion", version, "kind", "CredentialProviderResponse",
			 "cacheKeyType", "Registry", "cacheDuration", duration, "auth", auth);
	if (!resp || json_dump_callback(resp, to_buf, out, JSON_COMPACT) < 0 || dc_buf_putc(out, '\n') < 0)
		err = dc_error_nomem();
done:
	json_decref(req);
	json_decref(resp);
	json_decref(auth);
	dc_cred_list_release(&list);
	dc_resolver_free(r);
	dc_buf_release(&host);
	return err;
}
