/* gcr.c -- Google Container Registry and Artifact Registry: an OAuth access
 * token for a service account (its key, or the GCE metadata server's default
 * account), written as user "oauth2accesstoken" for every Google registry host.
 * Variables as the classic Codeship GCR generator read them. */
#include <string.h>

#include "auth/google.h"
#include "providers/provider.h"
#include "util/log.h"

#define GCR_USER "oauth2accesstoken"

static const char *const gcr_hosts[] = { "gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", NULL };

static int detect(const dc_env *env)
{
	return dc_env_get(env, "GOOGLE_AUTH_JSON") || dc_env_get(env, "GOOGLE_APPLICATION_CREDENTIALS") ||
	       dc_env_get(env, "GCE_METADATA_HOST") || dc_env_get(env, "GOOGLE_LOCATION");
}

static int location_error(const char *list)
{
	return dc_error_set(DC_EUSAGE, "GOOGLE_LOCATION is '%s'; give Artifact Registry locations such as us or europe-west1, separated by commas",
			    list);
}

/* For each location of GOOGLE_LOCATION, add "<location>-docker.pkg.dev"
 * (an entry with a dot is taken as the host itself). With out == NULL only
 * check the list. */
static int each_location(dc_cred_list *out, const char *list, const char *token, time_t expires_at)
{
	const char *p = list, *loc;
	dc_buf host = DC_BUF_INIT;
	size_t len;
	int n = 0, err = 0;

	while (!err && dc_env_list_next(&p, &loc, &len)) {
		int dotted;

		if (!len)
			continue;
		dotted = memchr(loc, '.', len) != NULL;
		if (len > 63 || strspn(loc, dotted ? "abcdefghijklmnopqrstuvwxyz0123456789-." :
						     "abcdefghijklmnopqrstuvwxyz0123456789-") < len ||
		    loc[0] == '-' || loc[0] == '.') {
			err = location_error(list);
			break;
		}
		dc_buf_reset(&host);
		if (dc_buf_put(&host, loc, len) < 0 || (!dotted && dc_buf_puts(&host, "-docker.pkg.dev") < 0)) {
			err = dc_error_set(DC_ERR, "out of memory");
			break;
		}
		if (out)
			err = dc_cred_list_add(out, host.ptr, GCR_USER, token, expires_at);
		n++;
	}
	if (!err && !n)
		err = location_error(list);
	dc_buf_release(&host);
	return err;
}

/* GOOGLE_AUTH_EMAIL and GOOGLE_PROJECT_ID, when set, must name what the key
 * (or the metadata server) says: a mismatch means the wrong key. */
static int check_key(const dc_google_key *k, const dc_env *env)
{
	const char *email = dc_env_get(env, "GOOGLE_AUTH_EMAIL");
	const char *project = dc_env_get(env, "GOOGLE_PROJECT_ID");

	if (email && strcmp(email, k->client_email))
		return dc_error_set(DC_EUSAGE, "GOOGLE_AUTH_EMAIL is '%s' but the key in %s is for '%s'; use that account's key or fix GOOGLE_AUTH_EMAIL",
				    email, k->origin, k->client_email);
	if (project && !k->project_id)
		return dc_error_set(DC_EUSAGE, "GOOGLE_PROJECT_ID is '%s' but the key in %s names no project_id; unset GOOGLE_PROJECT_ID or use a key with one",
				    project, k->origin);
	if (project && strcmp(project, k->project_id))
		return dc_error_set(DC_EUSAGE, "GOOGLE_PROJECT_ID is '%s' but the key in %s belongs to project '%s'; use a key of that project or fix GOOGLE_PROJECT_ID",
				    project, k->origin, k->project_id);
	return 0;
}

/* The same checks against what the metadata server says of this machine. */
static int check_metadata(const dc_env *env)
{
	const char *email = dc_env_get(env, "GOOGLE_AUTH_EMAIL");
	const char *project = dc_env_get(env, "GOOGLE_PROJECT_ID");
	dc_buf got = DC_BUF_INIT;
	int err = 0;

	if (email && (err = dc_google_metadata_get(&got, env, "instance/service-accounts/default/email")) == 0 &&
	    strcmp(email, got.ptr))
		err = dc_error_set(DC_EUSAGE, "GOOGLE_AUTH_EMAIL is '%s' but this machine's default service account is '%s'; fix GOOGLE_AUTH_EMAIL or set a key in GOOGLE_AUTH_JSON",
				   email, got.ptr);
	dc_buf_reset(&got);
	if (!err && project && (err = dc_google_metadata_get(&got, env, "project/project-id")) == 0 &&
	    strcmp(project, got.ptr))
		err = dc_error_set(DC_EUSAGE, "GOOGLE_PROJECT_ID is '%s' but this machine is in project '%s'; fix GOOGLE_PROJECT_ID or set a key in GOOGLE_AUTH_JSON",
				   project, got.ptr);
	dc_buf_release(&got);
	return err;
}

static int fetch(dc_cred_list *out, const dc_env *env)
{
	dc_google_key key = DC_GOOGLE_KEY_INIT;
	dc_google_token tok = DC_GOOGLE_TOKEN_INIT;
	const char *locations = dc_env_get(env, "GOOGLE_LOCATION");
	const char *const *h;
	int err;

	/* every configuration problem before any network call */
	if (locations && (err = each_location(NULL, locations, NULL, 0)) < 0)
		goto done;
	err = dc_google_key_from_env(&key, env);
	if (err == DC_ENOTFOUND) {
		dc_log_debug("no service-account key set; asking the GCE metadata server");
		if ((err = check_metadata(env)) < 0 || (err = dc_google_metadata_token(&tok, env)) < 0)
			goto done;
	} else if (err < 0 || (err = check_key(&key, env)) < 0 ||
		   (err = dc_google_token_fetch(&tok, &key, DC_GOOGLE_SCOPE)) < 0) {
		goto done;
	}
	for (h = gcr_hosts; *h; h++)
		if ((err = dc_cred_list_add(out, *h, GCR_USER, tok.access_token, tok.expires_at)) < 0)
			goto done;
	if (locations)
		err = each_location(out, locations, tok.access_token, tok.expires_at);
done:
	dc_google_token_release(&tok);
	dc_google_key_release(&key);
	return err;
}

static int cache_identity(dc_buf *out, const dc_env *env)
{
	dc_google_key key = DC_GOOGLE_KEY_INIT;
	const char *locations = dc_env_get(env, "GOOGLE_LOCATION");
	int err;

	if (locations && (err = each_location(NULL, locations, NULL, 0)) < 0)
		return err;
	/* Without a key (DC_ENOTFOUND passed up) the token is the metadata
	 * server's, and it is not cached: nothing here names the account it
	 * belongs to without asking the server (pods with different workload
	 * identities share one metadata host), there is no secret to seal with,
	 * and the server caches tokens itself. */
	err = dc_google_key_from_env(&key, env);
	if (err == 0 && (err = check_key(&key, env)) == 0) {
		/* checked here too, so a cache hit cannot skip the email and project checks */
		dc_buf_printf(out, "gcr\nsource=key\ntoken_uri=%s\nclient_email=%s\nproject=%s\nlocations=%s\n"
			      "private_key_id=%s\nprivate_key=%s\n",
			      key.token_uri, key.client_email, key.project_id ? key.project_id : "",
			      locations ? locations : "", key.private_key_id ? key.private_key_id : "", key.private_key);
	}
	dc_google_key_release(&key);
	if (err == 0 && dc_buf_failed(out))
		err = dc_error_set(DC_ERR, "out of memory");
	return err;
}

const dc_provider dc_provider_gcr = {
	.name = "gcr",
	.summary = "Google Container Registry and Artifact Registry (service-account key or GCE metadata)",
	.variables = "GOOGLE_AUTH_JSON, GOOGLE_APPLICATION_CREDENTIALS, GCE_METADATA_HOST, GOOGLE_LOCATION",
	.detect = detect,
	.fetch = fetch,
	.cache_identity = cache_identity,
};
