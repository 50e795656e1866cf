/* gcr.c -- Google Container Registry and Artifact Registry: an OAuth access
 * token for a service account (its key, or the GCE metadata server's default
 * account), written as user "oauth2accesstoken" for every Google registry host.
 * Variables as the classic Codeship GCR generator read them.
 *
 * Hosts: gcr.io, us.gcr.io, eu.gcr.io, asia.gcr.io, any LOCATION-docker.pkg.dev
 * (Artifact Registry; LOCATION one DNS label), and the hosts GOOGLE_LOCATION
 * names. Exact names only: evilgcr.io and gcr.io.evil.com are not Google's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/gchain.h"
#include "auth/google.h"
#include "providers/hostlist.h"
#include "providers/provider.h"
#include "util/log.h"

#define GCR_USER "oauth2accesstoken"
#define AR_SUFFIX "-docker.pkg.dev"

static const char *const gcr_hosts[] = { "gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", NULL };

typedef struct {
	dc_google_creds g; /* where the token comes from (auth/gchain.h) */
	dc_hostlist locations; /* Artifact Registry hosts from GOOGLE_LOCATION */
	char *email;     /* GOOGLE_AUTH_EMAIL, checked against the metadata server */
	char *project;   /* GOOGLE_PROJECT_ID, likewise */
} gcr_cfg;

static int detect(const dc_env *env)
{
	return dc_env_get(env, "GOOGLE_AUTH_JSON") || dc_env_get(env, "GOOGLE_APPLICATION_CREDENTIALS") ||
	       dc_env_get(env, "GOOGLE_WORKLOAD_IDENTITY_PROVIDER") ||
	       dc_env_get(env, "GCE_METADATA_HOST") || dc_env_get(env, "GOOGLE_LOCATION");
}

static void release(void *p)
{
	gcr_cfg *c = p;

	if (!c)
		return;
	dc_google_creds_release(&c->g);
	dc_hostlist_release(&c->locations);
	free(c->email);
	free(c->project);
	free(c);
}

static int location_error(const char *list)
{
	return dc_error_set(DC_EUSAGE, "GOOGLE_LOCATION is '%s'; give Artifact Registry locations such as us or europe-west1 (or hosts), separated by commas",
			    list);
}

/* 1 when the n bytes at `s` are one DNS label of [a-z0-9-]. */
static int is_label(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-", s[i]) || !s[i])
			return 0;
	return 1;
}

/* Each location of GOOGLE_LOCATION as "<location>-docker.pkg.dev" (an item
 * with a dot is taken as the host itself). R18: an item with inner white
 * space is an error, never two items; duplicates are collapsed. */
static int parse_locations(dc_hostlist *out, const char *list)
{
	const char *p = list, *loc;
	dc_buf host = DC_BUF_INIT;
	size_t len;
	int err = 0;

	while (!err && dc_env_list_next(&p, &loc, &len)) {
		const char *q = loc, *end = loc + len, *dot;
		int dotted = memchr(loc, '.', len) != NULL, ok = len <= 253;

		/* dot-separated labels of [a-z0-9-]: "bad host", "-x" and "a..b" are not */
		while (ok) {
			dot = memchr(q, '.', (size_t)(end - q));
			ok = is_label(q, dot ? (size_t)(dot - q) : (size_t)(end - q));
			if (!dot)
				break;
			q = dot + 1;
		}
		if (!ok) {
			err = location_error(list);
			break;
		}
		dc_buf_reset(&host);
		if (dc_buf_put(&host, loc, len) < 0 || (!dotted && dc_buf_puts(&host, AR_SUFFIX) < 0))
			err = dc_error_nomem();
		else
			err = dc_hostlist_add(out, host.ptr, host.len);
	}
	if (!err && !out->n)
		err = location_error(list);
	dc_buf_release(&host);
	return err;
}

/* GOOGLE_AUTH_EMAIL and GOOGLE_PROJECT_ID, when set, must name what the key
 * says: a mismatch means the wrong key. */
static int check_key(const dc_google_key *k, const dc_env *env)
{
	const char *email = dc_env_get(env, "GOOGLE_AUTH_EMAIL");
	const char *project = dc_env_get(env, "GOOGLE_PROJECT_ID");

	if (email && strcmp(email, k->client_email))
		return dc_error_set(DC_EUSAGE, "GOOGLE_AUTH_EMAIL is '%s' but the key in %s is for '%s'; use that account's key or fix GOOGLE_AUTH_EMAIL",
				    email, k->origin, k->client_email);
	if (project)
	if (project && !k->project_id)
		return dc_error_set(DC_EUSAGE, "GOOGLE_PROJECT_ID is '%s' but the key in %s names no project_id; unset GOOGLE_PROJECT_ID or use a key with one",
				    project, k->origin);
	if (project && strcmp(project, k->project_id))
		return dc_error_set(DC_EUSAGE, "GOOGLE_PROJECT_ID is '%s' but the key in %s belongs to project '%s'; use a key of that project or fix GOOGLE_PROJECT_ID",
				    project, k->origin, k->project_id);
	return 0;
}

static int dup_opt(char **out, const char *s)
{
	if (s && !(*out = strdup(s)))
		return dc_error_nomem();
	return 0;
}

static int parse(void **out, dc_ctx *ctx)
{
	const char *locations = dc_env_get(ctx->env, "GOOGLE_LOCATION");
	gcr_cfg *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return dc_error_nomem();
	c->g = (dc_google_creds)DC_GOOGLE_CREDS_INIT;
	/* every configuration problem before any network call */
	if (locations && (err = parse_locations(&c->locations, locations)) < 0)
		goto done;
	/* no network here: a cache hit must not probe the metadata server */
	if ((err = dc_google_creds_from_env(&c->g, ctx)) < 0)
		goto done;
	if (c->g.kind == DC_GOOGLE_METADATA) {
		if ((err = dup_opt(&c->email, dc_env_get(ctx->env, "GOOGLE_AUTH_EMAIL"))) < 0 ||
		    (err = dup_opt(&c->project, dc_env_get(ctx->env, "GOOGLE_PROJECT_ID"))) < 0)
			goto done;
	} else if (c->g.kind == DC_GOOGLE_SA_KEY) {
		err = check_key(&c->g.key, ctx->env);
	}
done:
	if (err < 0) {
		release(c);
		return err;
	}
	*out = c;
	return 0;
}

static int match(const void *cfg, const char *host, dc_scope *scope)
{
	const gcr_cfg *c = cfg;
	const char *const *h;
	size_t n = strlen(host), sn = strlen(AR_SUFFIX);
	int ok = 0;

	if (n >= sizeof(scope->host))
		return 0;
	for (h = gcr_hosts; *h && !ok; h++)
		ok = !strcasecmp(host, *h);
	if (!ok && n > sn && !strcasecmp(host + n - sn, AR_SUFFIX)) {
		char label[64];
		size_t i, ln = n - sn;

		if (ln < sizeof(label)) {
			for (i = 0; i < ln; i++)
				label[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
			ok = is_label(label, ln);
		}
	}
	if (!ok)
		ok = dc_hostlist_has(&c->locations, host);
	if (ok && scope) {
		memset(scope, 0, sizeof(*scope));
		snprintf(scope->host, sizeof(scope->host), "%s", host);
	}
	return ok;
}

static void scope_all(const void *cfg, dc_scope *scope)
{
	(void)cfg;
	memset(scope, 0, sizeof(*scope));
}

static int offline(const void *cfg)
{
	(void)cfg;
	return 0;
}

static int cache_key(dc_cache_key *out, const void *cfg, const dc_scope *scope)
{
	const gcr_cfg *c = cfg;
	size_t i;
	int err;

	/* Without a key the token is the metadata server's, and it is not
	 * cached: nothing here names the account it belongs to without asking
	 * the server (pods with different workload identities share one
	 * metadata host), and the server caches tokens itself. */
	if ((err = dc_google_creds_key(&out->principal, &out->scope, &out->seal, &c->g)) <= 0)
		return err;
	out->family = "gcr";
	dc_buf_puts(&out->scope, "hosts=");
	if (*scope->host)
		dc_buf_puts(&out->scope, scope->host);
	else
		for (i = 0; i < c->locations.n; i++)
			dc_buf_printf(&out->scope, "%s%s", i ? "," : "", c->locations.items[i]);
	dc_buf_putc(&out->scope, '\n');
	if (dc_buf_failed(&out->scope))
		return dc_error_nomem();
	return 1;
}

/* The same checks as check_key, against what the metadata server says of
 * this machine. */
static int check_metadata(dc_ctx *ctx, const gcr_cfg *c)
{
	dc_buf got = DC_BUF_INIT;
	char shown[120];
	int err = 0;

	if (c->email && (err = dc_google_metadata_get(&got, ctx, c->g.metadata.ptr, "instance/service-accounts/default/email")) == 0 &&
	    strcmp(c->email, got.ptr)) {
		dc_log_clip(ctx->redactor, shown, sizeof(shown), got.ptr);
		err = dc_error_set(DC_EUSAGE, "GOOGLE_AUTH_EMAIL is '%s' but this machine's default service account is '%s'; fix GOOGLE_AUTH_EMAIL or set a key in GOOGLE_AUTH_JSON",
				   c->email, shown);
	}
	dc_buf_reset(&got);
	if (!err && c->project && (err = dc_google_metadata_get(&got, ctx, c->g.metadata.ptr, "project/project-id")) == 0 &&
	    strcmp(c->project, got.ptr)) {
		dc_log_clip(ctx->redactor, shown, sizeof(shown), got.ptr);
		err = dc_error_set(DC_EUSAGE, "GOOGLE_PROJECT_ID is '%s' but this machine is in project '%s'; fix GOOGLE_PROJECT_ID or set a key in GOOGLE_AUTH_JSON",
				   c->project, shown);
	}
	dc_buf_release(&got);
	return err;
}

static int fetch(dc_cred_list *out, dc_ctx *ctx, const void *cfg, const dc_scope *scope)
{
	const gcr_cfg *c = cfg;
	dc_google_token tok = DC_GOOGLE_TOKEN_INIT;
	const char *const *h;
	size_t i;
	int err;

	if (c->g.kind != DC_GOOGLE_METADATA) {
		err = dc_google_creds_token(&tok, ctx, &c->g, DC_GOOGLE_SCOPE);
	} else {
		dc_log_debug(&ctx->log, "no Google credentials set; asking the GCE metadata server");
		if ((err = check_metadata(ctx, c)) == 0)
			err = dc_google_creds_token(&tok, ctx, &c->g, DC_GOOGLE_SCOPE);
	}
	if (err < 0)
		goto done;
	if (*scope->host) {
		err = dc_cred_list_add(out, scope->host, GCR_USER, tok.access_token.ptr, tok.expires_at);
		goto done;
	}
	for (h = gcr_hosts; *h; h++)
		if ((err = dc_cred_list_add(out, *h, GCR_USER, tok.access_token.ptr, tok.expires_at)) < 0)
			goto done;
	for (i = 0; i < c->locations.n; i++)
		if ((err = dc_cred_list_add(out, c->locations.items[i], GCR_USER, tok.access_token.ptr, tok.expires_at)) < 0)
			goto done;
done:
	dc_google_token_release(&tok);
	return err;
}

static const char *const secret_vars[] = { "GOOGLE_AUTH_JSON", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", NULL };

const dc_family dc_family_gcr = {
	.name = "gcr",
	.summary = "Google Container Registry and Artifact Registry (service-account key, gcloud credentials, workload identity federation or GCE metadata)",
	.variables = "GOOGLE_AUTH_JSON, GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_WORKLOAD_IDENTITY_PROVIDER, GCE_METADATA_HOST, GOOGLE_LOCATION",
	.secret_vars = secret_vars,
	.detect = detect,
	.parse = parse,
	.match = match,
	.scope_all = scope_all,
	.offline = offline,
	.cache_key = cache_key,
	.fetch = fetch,
	.release = release,
};
