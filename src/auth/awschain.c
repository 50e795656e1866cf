/* awschain.c -- see awschain.h. */
#include "auth/awschain.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/command.h"
#include "auth/ini.h"
#include "auth/sts.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"
#include "util/url.h"

#define CONTAINER_HOST "http://169.254.170.2"
#define IMDS_V4 "http://169.254.169.254"
#define IMDS_V6 "http://[fd00:ec2::254]"
#define TOKEN_MAX 65536
#define PROCESS_TIMEOUT_MS 60000

/* ---- small helpers ---- */

static int set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return dc_error_nomem();
	return 0;
}

static int set_printf(char **dst, const char *fmt, ...) DC_PRINTF(2, 3);
static int set_printf(char **dst, const char *fmt, ...)
{
	dc_buf b = DC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	dc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (dc_buf_failed(&b))
		return dc_error_nomem();
	free(*dst);
	*dst = dc_buf_detach(&b, NULL);
	return 0;
}

static void tried(dc_aws_chain *c, const char *fmt, ...) DC_PRINTF(2, 3);
static void tried(dc_aws_chain *c, const char *fmt, ...)
{
	va_list ap;

	if (c->tried.len)
		dc_buf_puts(&c->tried, "; ");
	va_start(ap, fmt);
	dc_buf_vprintf(&c->tried, fmt, ap);
	va_end(ap);
}

static int is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

static int has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* A role ARN as STS takes it: arn:PARTITION:iam::ACCOUNT:role/NAME. */
static int arn_valid(const char *arn)
{
	return !strncmp(arn, "arn:", 4) && strstr(arn, ":iam::") && strstr(arn, ":role/") && strlen(arn) <= 2048 &&
	       !strpbrk(arn, " \t\r\n");
}

/* A session name: 2 to 64 of [\w+=,.@-]. */
static int session_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-") == n;
}

/* Read a token file the user named into a dc_sec. */
static int read_token(dc_sec *out, dc_ctx *ctx, const char *path, const char *what)
{
	dc_buf b = DC_BUF_INIT;
	int err;

	dc_buf_init(&b, 0, DC_BUF_SECRET);
	if ((err = dc_fs_read_secret(&b, path, TOKEN_MAX, what)) < 0)
		goto done;
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r' || b.ptr[b.len - 1] == ' '))
		b.ptr[--b.len] = '\0';
	if ((err = dc_sec_setn(out, ctx->redactor, b.ptr, b.len)) < 0)
		goto done;
	if (!b.len || strlen(b.ptr) != b.len || has_crlf(b.ptr))
		err = dc_error_set(DC_EUSAGE, "%s is empty or holds a line break or NUL inside; it must hold the token alone", what);
done:
	dc_buf_release(&b);
	return err;
}

/* ---- profiles ---- */

typedef struct {
	dc_ini *config, *creds;
	char config_path[1024], creds_path[1024];
	const char *name;  /* the selected profile */
	int explicit_name; /* AWS_PROFILE or AWS_DEFAULT_PROFILE set */
} profiles;

static int load_file(dc_ini **out, char *path, size_t size, dc_ctx *ctx, const char *var, const char *dflt)
{
	const char *set = dc_env_get(ctx->env, var), *home = dc_env_get(ctx->env, "HOME");
	dc_buf data = DC_BUF_INIT;
	char what[1200];
	int err;

	*out = NULL;
	if (set)
		snprintf(path, size, "%s", set);
	else if (home)
		snprintf(path, size, "%s/%s", home, dflt);
	else
		return 0;
	if (access(path, F_OK) != 0)
		return 0; /* the SDKs skip an absent file */
	snprintf(what, sizeof(what), "%s file '%s'", set ? var : "AWS", path);
	dc_buf_init(&data, 0, DC_BUF_SECRET);
	if ((err = dc_fs_read_secret(&data, path, DC_INI_MAX, what)) < 0)
		goto done;
	if ((err = dc_ini_parse(out, data.ptr, data.len)) < 0)
		err = dc_error_set(err, "cannot read %s: %s; fix the file", what, dc_error_last());
done:
	dc_buf_release(&data);
	return err;
}

/* A profile's setting: the credentials file first, then the config file
 * (botocore merges them so). */
static const char *pget(const profiles *p, const char *name, const char *key)
{
	char section[300];
	const char *v = dc_ini_get(p->creds, name, key);

	if (v && *v)
		return v;
	snprintf(section, sizeof(section), "%s%s", strcmp(name, "default") ? "profile " : "", name);
	v = dc_ini_get(p->config, section, key);
	if (!v && !strcmp(name, "default"))
		v = dc_ini_get(p->config, "profile default", key);
	return v && *v ? v : NULL;
}

static int profile_exists(const profiles *p, const char *name)
{
	char section[300];

	snprintf(section, sizeof(section), "profile %s", name);
	return dc_ini_has_section(p->creds, name) || dc_ini_has_section(p->config, section) ||
	       (!strcmp(name, "default") && dc_ini_has_section(p->config, "default"));
}

/* Static keys of a profile in one file (`ini`), or 0 when it has none. */
static int keys_of(dc_aws_chain *c, dc_ctx *ctx, const profiles *p, const char *name, int in_creds, int *found)
{
	char section[300];
	const dc_ini *ini = in_creds ? p->creds : p->config;
	const char *id, *secret, *token;
	int err;

	*found = 0;
	snprintf(section, sizeof(section), "%s%s", in_creds || !strcmp(name, "default") ? "" : "profile ", name);
	id = dc_ini_get(ini, section, "aws_access_key_id");
	secret = dc_ini_get(ini, section, "aws_secret_access_key");
	token = dc_ini_get(ini, section, "aws_session_token");
	if (!token)
		token = dc_ini_get(ini, section, "aws_security_token");
	if ((!id || !*id) && (!secret || !*secret))
		return 0;
	if (!id || !*id || !secret || !*secret)
		return dc_error_set(DC_EUSAGE, "profile '%s' in '%s' has only one of aws_access_key_id and aws_secret_access_key; set both",
				    name, in_creds ? p->creds_path : p->config_path);
	if ((err = dc_aws_creds_set(&c->keys, ctx, id, secret, token && *token ? token : NULL, "the profile")) < 0)
		return dc_error_set(DC_EUSAGE, "profile '%s' in '%s' has an access key id or session token with control characters or white space; check it",
				    name, in_creds ? p->creds_path : p->config_path);
	*found = 1;
	return 0;
}

static int add_role(dc_aws_chain *c, const profiles *p, const char *name)
{
	const char *arn = pget(p, name, "role_arn"), *session = pget(p, name, "role_session_name"),
		   *ext = pget(p, name, "external_id");
	dc_aws_role *r;

	if (c->nroles >= DC_AWS_MAX_ROLES)
		return dc_error_set(DC_EUSAGE, "profile '%s' chains more than %d roles through source_profile; shorten the chain",
				    name, DC_AWS_MAX_ROLES);
	if (!arn_valid(arn))
		return dc_error_set(DC_EUSAGE, "profile '%s' has role_arn '%s', not a role ARN (arn:aws:iam::ACCOUNT:role/NAME); fix it",
				    name, arn);
	if (session && !session_valid(session))
		return dc_error_set(DC_EUSAGE, "profile '%s' has role_session_name '%s', not 2 to 64 of letters, digits and +=,.@_-; fix it",
				    name, session);
	if (pget(p, name, "mfa_serial"))
		return dc_error_set(DC_EUSAGE, "profile '%s' needs an MFA code (mfa_serial), which a generator cannot ask for; use a role without MFA for CI",
				    name);
	r = &c->roles[c->nroles++];
	if (set_str(&r->arn, arn) < 0 || set_str(&r->session, session ? session : "dcgen") < 0 ||
	    set_str(&r->external_id, ext) < 0 || set_printf(&r->origin, "role_arn of profile '%s'", name) < 0)
		return dc_error_nomem();
	return 0;
}

static int parse_container(dc_aws_chain *c, dc_ctx *ctx, int required, const char *why);
static int parse_imds(dc_aws_chain *c, dc_ctx *ctx);
static int env_keys(dc_aws_chain *c, dc_ctx *ctx);

static int web_identity_profile(dc_aws_chain *c, dc_ctx *ctx, const profiles *p, const char *name)
{
	const char *file = pget(p, name, "web_identity_token_file"), *arn = pget(p, name, "role_arn"),
		   *session = pget(p, name, "role_session_name");
	char what[400];
	int err;

	if (!arn_valid(arn))
		return dc_error_set(DC_EUSAGE, "profile '%s' has role_arn '%s', not a role ARN (arn:aws:iam::ACCOUNT:role/NAME); fix it",
				    name, arn);
	if (session && !session_valid(session))
		return dc_error_set(DC_EUSAGE, "profile '%s' has role_session_name '%s', not 2 to 64 of letters, digits and +=,.@_-; fix it",
				    name, session);
	snprintf(what, sizeof(what), "web_identity_token_file '%s' of profile '%s'", file, name);
	if ((err = read_token(&c->web_token, ctx, file, what)) < 0)
		return err;
	c->kind = DC_AWS_SRC_WEB_IDENTITY;
	if (set_str(&c->role_arn, arn) < 0 || set_str(&c->session, session ? session : "dcgen") < 0 ||
	    set_printf(&c->role_origin, "role_arn of profile '%s'", name) < 0 ||
	    set_printf(&c->name, "web identity (profile '%s', role %s)", name, arn) < 0)
		return dc_error_nomem();
	return 0;
}

/* The credentials a profile gives by itself (no role of its own), for a
 * source_profile: web identity, process or static keys. */
static int profile_base(dc_aws_chain *c, dc_ctx *ctx, const profiles *p, const char *name, int *found)
{
	int err;

	*found = 1;
	if (pget(p, name, "web_identity_token_file") && pget(p, name, "role_arn"))
		return web_identity_profile(c, ctx, p, name);
	if (pget(p, name, "sso_session") || pget(p, name, "sso_start_url"))
		return dc_error_set(DC_EUSAGE, "profile '%s' uses IAM Identity Center (sso_*), which dcgen does not support; use `aws configure export-credentials --profile %s --format process` as credential_process, or another source",
				    name, name);
	if ((err = keys_of(c, ctx, p, name, 1, found)) < 0 || *found)
		goto keys;
	if (pget(p, name, "credential_process")) {
		c->kind = DC_AWS_SRC_PROCESS;
		if (set_str(&c->command, pget(p, name, "credential_process")) < 0 || set_str(&c->profile, name) < 0 ||
		    set_printf(&c->name, "credential_process of profile '%s'", name) < 0)
			return dc_error_nomem();
		*found = 1;
		return 0;
	}
	if ((err = keys_of(c, ctx, p, name, 0, found)) < 0 || *found)
		goto keys;
	*found = 0;
	return 0;
keys:
	if (err < 0)
		return err;
	c->kind = DC_AWS_SRC_KEYS;
	if (set_str(&c->profile, name) < 0 || set_printf(&c->name, "access key of profile '%s'", name) < 0)
		return dc_error_nomem();
	return 0;
}

/* A profile with role_arn and source_profile or credential_source: the
 * source first, then the roles, innermost first. `depth` bounds cycles. */
static int profile_role(dc_aws_chain *c, dc_ctx *ctx, const profiles *p, const char *name, int depth)
{
	const char *src = pget(p, name, "source_profile"), *cs = pget(p, name, "credential_source");
	int err, found;

	if (src && cs)
		return dc_error_set(DC_EUSAGE, "profile '%s' has both source_profile and credential_source; keep one", name);
	if (depth > DC_AWS_MAX_ROLES)
		return dc_error_set(DC_EUSAGE, "profile '%s': source_profile leads round in a cycle; fix the profiles", name);
	if (cs) {
		if (!strcmp(cs, "Environment")) {
			if (!dc_env_get(ctx->env, "AWS_ACCESS_KEY_ID"))
				return dc_error_set(DC_EUSAGE, "profile '%s' has credential_source Environment but AWS_ACCESS_KEY_ID is not set; set it and AWS_SECRET_ACCESS_KEY",
						    name);
			if ((err = env_keys(c, ctx)) < 0)
				return err;
		} else if (!strcmp(cs, "EcsContainer")) {
			if ((err = parse_container(c, ctx, 1, name)) < 0)
				return err;
		} else if (!strcmp(cs, "Ec2InstanceMetadata")) {
			if ((err = parse_imds(c, ctx)) < 0)
				return err;
			if (c->kind != DC_AWS_SRC_IMDS)
				return dc_error_set(DC_EUSAGE, "profile '%s' has credential_source Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED is true; unset one",
						    name);
		} else {
			return dc_error_set(DC_EUSAGE, "profile '%s' has credential_source '%s'; use Environment, Ec2InstanceMetadata or EcsContainer",
					    name, cs);
		}
	} else if (src) {
		if (!profile_exists(p, src))
			return dc_error_set(DC_EUSAGE, "profile '%s' has source_profile '%s', which is in neither '%s' nor '%s'; fix it",
					    name, src, p->config_path, p->creds_path);
		if (strcmp(src, name) && pget(p, src, "role_arn") &&
		    (pget(p, src, "source_profile") || pget(p, src, "credential_source"))) {
			if ((err = profile_role(c, ctx, p, src, depth + 1)) < 0)
				return err;
		} else {
			/* a profile that is its own source uses its own keys */
			if ((err = profile_base(c, ctx, p, src, &found)) < 0)
				return err;
			if (!found)
				return dc_error_set(DC_EUSAGE, "profile '%s' has source_profile '%s', which has no credentials; give it aws_access_key_id and aws_secret_access_key, or credential_process",
						    name, src);
		}
	} else {
		return dc_error_set(DC_EUSAGE, "profile '%s' has role_arn but neither source_profile nor credential_source nor web_identity_token_file; add one",
				    name);
	}
	return add_role(c, p, name);
}

/* ---- sources ---- */

static int env_keys(dc_aws_chain *c, dc_ctx *ctx)
{
	const char *exp = dc_env_get(ctx->env, "AWS_CREDENTIAL_EXPIRATION");
	int err;

	if ((err = dc_aws_creds_from_env(&c->keys, ctx)) < 0)
		return err;
	if (exp && dc_time_parse_rfc3339(&c->keys.expires_at, exp) < 0)
		return dc_error_set(DC_EUSAGE, "AWS_CREDENTIAL_EXPIRATION is '%s', not an RFC 3339 time; fix or unset it", exp);
	c->kind = DC_AWS_SRC_ENV;
	return set_str(&c->name, "environment (AWS_ACCESS_KEY_ID)");
}

/* AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or AWS_ROLE_ARN and the CI's
 * OIDC endpoint. 0 with c->kind set, or 0 with a reason in `tried`. */
static int env_web_identity(dc_aws_chain *c, dc_ctx *ctx)
{
	const char *file = dc_env_get(ctx->env, "AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *arn = dc_env_get(ctx->env, "AWS_ROLE_ARN");
	const char *session = dc_env_get(ctx->env, "AWS_ROLE_SESSION_NAME");
	char what[1200];
	int err;

	if (!arn && !file) {
		tried(c, "web identity: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are not set");
		return 0;
	}
	if (!arn)
		return dc_error_set(DC_EUSAGE, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not; set it to the role to assume");
	if (!arn_valid(arn))
		return dc_error_set(DC_EUSAGE, "AWS_ROLE_ARN is '%s', not a role ARN (arn:aws:iam::ACCOUNT:role/NAME); fix it", arn);
	if (session && !session_valid(session))
		return dc_error_set(DC_EUSAGE, "AWS_ROLE_SESSION_NAME is '%s', not 2 to 64 of letters, digits and +=,.@_-; fix it",
				    session);
	if (file) {
		snprintf(what, sizeof(what), "AWS_WEB_IDENTITY_TOKEN_FILE '%s'", file);
		if ((err = read_token(&c->web_token, ctx, file, what)) < 0)
			return err;
		err = set_printf(&c->name, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, role %s)", arn);
	} else {
		if ((err = dc_gha_from_env(&c->gha, ctx)) == DC_ENOTFOUND) {
			tried(c, "web identity: AWS_ROLE_ARN is set but neither AWS_WEB_IDENTITY_TOKEN_FILE nor a GitHub Actions OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL: give the job `permissions: id-token: write`)");
			return 0;
		}
		if (err < 0)
			return err;
		err = set_printf(&c->name, "web identity (GitHub Actions OIDC token, role %s)", arn);
	}
	c->kind = DC_AWS_SRC_WEB_IDENTITY;
	if (err < 0 || set_str(&c->role_arn, arn) < 0 ||
	    set_str(&c->session, session ? session : file ? "dcgen" : "GitHubActions") < 0 ||
	    set_str(&c->role_origin, "AWS_ROLE_ARN") < 0)
		return dc_error_nomem();
	return 0;
}

int dc_aws_container_url_allowed(const char *url)
{
	static const char *const hosts[] = { "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost",
					     "[::1]", NULL };
	const char *h;
	size_t n;
	int i;

	if (!strncmp(url, "https://", 8))
		return url[8] != '\0';
	if (strncmp(url, "http://", 7))
		return 0;
	h = url + 7;
	n = strcspn(h, "/?#");
	if (memchr(h, '@', n))
		return 0;
	/* the host without its port */
	if (h[0] == '[') {
		const char *close = memchr(h, ']', n);

		if (!close)
			return 0;
		n = (size_t)(close - h) + 1;
	} else {
		n = strcspn(h, ":/?#");
	}
	for (i = 0; hosts[i]; i++)
		if (strlen(hosts[i]) == n && !strncmp(h, hosts[i], n))
			return 1;
	/* 127.0.0.0/8 */
	if (n > 4 && !strncmp(h, "127.", 4) && strspn(h, "0123456789.") >= n)
		return 1;
	return 0;
}

static int parse_container(dc_aws_chain *c, dc_ctx *ctx, int required, const char *profile)
{
	const char *rel = dc_env_get(ctx->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = dc_env_get(ctx->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *file = dc_env_get(ctx->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tok = dc_env_get(ctx->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char what[1200];
	int err;

	if (!rel && !full) {
		if (required)
			return dc_error_set(DC_EUSAGE, "profile '%s' has credential_source EcsContainer but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set; run it in ECS or EKS Pod Identity",
					    profile);
		tried(c, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
		return 0;
	}
	if (rel) {
		if (rel[0] != '/' || strpbrk(rel, " \t\r\n#"))
			return dc_error_set(DC_EUSAGE, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is '%s', not a path starting with '/'; it is ECS's, do not set it yourself",
					    rel);
		err = set_printf(&c->url, "%s%s", CONTAINER_HOST, rel);
	} else {
		if (dc_url_has_userinfo(full) || strpbrk(full, " \t\r\n") || !dc_aws_container_url_allowed(full))
			return dc_error_set(DC_EUSAGE, "AWS_CONTAINER_CREDENTIALS_FULL_URI is '%s', neither https nor http to a loopback address, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]; fix it",
					    dc_url_has_userinfo(full) ? "(a URL with a password)" : full);
		err = set_str(&c->url, full);
	}
	if (err < 0)
		return err;
	/* the file wins and is read now; a token with a line break would
	 * end the header */
	if (file) {
		snprintf(what, sizeof(what), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '%s'", file);
		if ((err = read_token(&c->auth, ctx, file, what)) < 0)
			return err;
	} else if (tok) {
		if ((err = dc_sec_set(&c->auth, ctx->redactor, tok)) < 0)
			return err;
		if (has_crlf(tok))
			return dc_error_set(DC_EUSAGE, "AWS_CONTAINER_AUTHORIZATION_TOKEN has a line break in it; set the token alone");
	}
	c->kind = DC_AWS_SRC_CONTAINER;
	c->meta_timeout_ms = 2000;
	c->meta_attempts = 3;
	return set_printf(&c->name, "container endpoint (%s)", c->url);
}

static int parse_imds(dc_aws_chain *c, dc_ctx *ctx)
{
	const char *ep = dc_env_get(ctx->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = dc_env_get(ctx->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	long timeout, attempts;
	int err;

	if (is_true(dc_env_get(ctx->env, "AWS_EC2_METADATA_DISABLED"))) {
		tried(c, "IMDS: AWS_EC2_METADATA_DISABLED is true");
		return 0;
	}
	if (mode && strcasecmp(mode, "IPv4") && strcasecmp(mode, "IPv6"))
		return dc_error_set(DC_EUSAGE, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is '%s'; set it to IPv4 or IPv6", mode);
	if (ep) {
		if (dc_url_has_userinfo(ep) || (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) ||
		    strpbrk(ep, " \t\r\n?#"))
			return dc_error_set(DC_EUSAGE, "AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http URL without a password, query or white space; fix it");
		err = set_str(&c->url, ep);
	} else {
		err = set_str(&c->url, mode && !strcasecmp(mode, "IPv6") ? IMDS_V6 : IMDS_V4);
	}
	if (err < 0)
		return err;
	while (strlen(c->url) > 8 && c->url[strlen(c->url) - 1] == '/')
		c->url[strlen(c->url) - 1] = '\0';
	if ((err = dc_env_long(&timeout, ctx->env, "AWS_METADATA_SERVICE_TIMEOUT", 1, 1, 60)) < 0 ||
	    (err = dc_env_long(&attempts, ctx->env, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1, 1, 10)) < 0)
		return err;
	c->meta_timeout_ms = timeout * 1000;
	c->meta_attempts = (int)attempts;
	c->imds_v1 = !is_true(dc_env_get(ctx->env, "AWS_EC2_METADATA_V1_DISABLED"));
	c->kind = DC_AWS_SRC_IMDS;
	return set_printf(&c->name, "EC2 instance metadata (%s)", c->url);
}

static int choose(dc_aws_chain *c, dc_ctx *ctx, profiles *p)
{
	const char *name = p->name;
	int err, found, have;

	/* 1 environment */
	if (dc_env_get(ctx->env, "AWS_ACCESS_KEY_ID") || dc_env_get(ctx->env, "AWS_SECRET_ACCESS_KEY"))
		return env_keys(c, ctx);
	tried(c, "environment: AWS_ACCESS_KEY_ID is not set");
	have = profile_exists(p, name);
	if (p->explicit_name && !have)
		return dc_error_set(DC_EUSAGE, "AWS_PROFILE is '%s' but no such profile is in '%s' or '%s'; fix AWS_PROFILE or the files",
				    name, *p->config_path ? p->config_path : "~/.aws/config",
				    *p->creds_path ? p->creds_path : "~/.aws/credentials");
	/* 2 a role of the profile */
	if (have && pget(p, name, "role_arn") && (pget(p, name, "source_profile") || pget(p, name, "credential_source"))) {
		char *base;

		if ((err = profile_role(c, ctx, p, name, 0)) < 0)
			return err;
		base = c->name;
		c->name = NULL;
		err = set_printf(&c->name, "role %s of profile '%s' (from %s)", c->roles[c->nroles - 1].arn, name,
				 base ? base : "?");
		free(base);
		return err;
	}
	/* 3 web identity */
	if ((err = env_web_identity(c, ctx)) < 0 || c->kind)
		return err;
	/* 4 the profile's own credentials */
	if (have) {
		if (pget(p, name, "role_arn") && !pget(p, name, "web_identity_token_file"))
			return dc_error_set(DC_EUSAGE, "profile '%s' has role_arn but neither source_profile nor credential_source nor web_identity_token_file; add one",
					    name);
		if ((err = profile_base(c, ctx, p, name, &found)) < 0 || found)
			return err;
		tried(c, "profile '%s': no role_arn, access key or credential_process", name);
	} else {
		tried(c, "profile '%s': not in %s or %s", name, *p->config_path ? p->config_path : "~/.aws/config",
		      *p->creds_path ? p->creds_path : "~/.aws/credentials");
	}
	/* 5 container */
	if ((err = parse_container(c, ctx, 0, NULL)) < 0 || c->kind)
		return err;
	/* 6 IMDS */
	return parse_imds(c, ctx);
}

int dc_aws_chain_parse(dc_aws_chain *c, dc_ctx *ctx)
{
	profiles p;
	const char *region;
	dc_buf sts = DC_BUF_INIT;
	int err;

	memset(&p, 0, sizeof(p));
	p.name = dc_env_first(ctx->env, NULL, "AWS_PROFILE", "AWS_DEFAULT_PROFILE", (char *)NULL);
	p.explicit_name = p.name != NULL;
	if (!p.name)
		p.name = "default";
	if ((err = load_file(&p.config, p.config_path, sizeof(p.config_path), ctx, "AWS_CONFIG_FILE", ".aws/config")) < 0 ||
	    (err = load_file(&p.creds, p.creds_path, sizeof(p.creds_path), ctx, "AWS_SHARED_CREDENTIALS_FILE",
			     ".aws/credentials")) < 0) {
		/* keys in the environment come first and need no file: a broken
		 * ~/.aws file (another tool's) must not stop them */
		if (err != DC_EUSAGE ||
		    (!dc_env_get(ctx->env, "AWS_ACCESS_KEY_ID") && !dc_env_get(ctx->env, "AWS_SECRET_ACCESS_KEY")))
			goto done;
		dc_log_debug(&ctx->log, "ignoring the AWS files (keys are in the environment): %s", dc_error_last());
		dc_error_clear();
		dc_ini_free(p.config);
		dc_ini_free(p.creds);
		p.config = p.creds = NULL;
		err = 0;
	}
	if ((region = pget(&p, p.name, "region")) != NULL && dc_aws_region_valid(region))
		snprintf(c->region, sizeof(c->region), "%s", region);
	if ((err = choose(c, ctx, &p)) < 0)
		goto done;
	if (dc_buf_failed(&c->tried)) {
		err = dc_error_nomem();
		goto done;
	}
	if (!c->kind) {
		err = dc_error_set(DC_EUSAGE, "no AWS credentials: %s; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN with a web identity, or AWS_PROFILE",
				   c->tried.ptr);
		goto done;
	}
	if (c->kind == DC_AWS_SRC_WEB_IDENTITY || c->nroles) {
		err = dc_aws_endpoint_override(&sts, NULL, ctx, "AWS_ENDPOINT_URL_STS");
		if (err == 0)
			err = set_str(&c->sts_url, sts.ptr);
		else if (err == DC_ENOTFOUND)
			err = 0;
	}
done:
	dc_buf_release(&sts);
	dc_ini_free(p.config);
	dc_ini_free(p.creds);
	return err;
}

/* ---- cache identity ---- */

static const char *kind_name(enum dc_aws_src k)
{
	switch (k) {
	case DC_AWS_SRC_ENV: return "environment";
	case DC_AWS_SRC_WEB_IDENTITY: return "web-identity";
	case DC_AWS_SRC_KEYS: return "profile-keys";
	case DC_AWS_SRC_PROCESS: return "credential-process";
	case DC_AWS_SRC_CONTAINER: return "container";
	case DC_AWS_SRC_IMDS: return "imds";
	default: return "none";
	}
}

int dc_aws_chain_key(dc_buf *principal, dc_buf *scope, dc_sec *seal, const dc_aws_chain *c)
{
	dc_buf base = DC_BUF_INIT;
	size_t i;
	int err = 0;

	switch (c->kind) {
	case DC_AWS_SRC_ENV:
	case DC_AWS_SRC_KEYS:
		dc_buf_puts(&base, c->keys.key_id);
		err = dc_sec_setn(seal, NULL, c->keys.secret.ptr, c->keys.secret.len);
		break;
	case DC_AWS_SRC_WEB_IDENTITY:
		dc_buf_puts(&base, c->role_arn);
		break;
	case DC_AWS_SRC_PROCESS:
		dc_buf_printf(&base, "credential_process:%s", c->profile);
		dc_buf_printf(scope, "command=%s\n", c->command);
		break;
	case DC_AWS_SRC_CONTAINER:
	case DC_AWS_SRC_IMDS:
		dc_buf_printf(&base, "%s:%s", kind_name(c->kind), c->url);
		break;
	default:
		return dc_error_set(DC_ERR, "no AWS credential source chosen");
	}
	dc_buf_printf(scope, "source=%s\nsts=%s\n", kind_name(c->kind), c->sts_url ? c->sts_url : "");
	if (!c->nroles) {
		dc_buf_puts(principal, base.ptr);
	} else {
		dc_buf_puts(principal, c->roles[c->nroles - 1].arn);
		dc_buf_printf(scope, "via=%s\n", base.ptr);
		for (i = 0; i < c->nroles; i++)
			dc_buf_printf(scope, "role=%s external_id=%s\n", c->roles[i].arn,
				      c->roles[i].external_id ? c->roles[i].external_id : "");
	}
	if (dc_buf_failed(&base) || dc_buf_failed(principal) || dc_buf_failed(scope))
		err = dc_error_nomem();
	dc_buf_release(&base);
	return err;
}

/* ---- fetching ---- */

static int creds_from_json(dc_aws_creds *out, dc_ctx *ctx, json_t *doc, const char *token_field, const char *what)
{
	const char *id = dc_json_str(doc, "AccessKeyId"), *secret = dc_json_str(doc, "SecretAccessKey"),
		   *token = dc_json_str(doc, token_field), *exp = dc_json_str(doc, "Expiration");
	time_t t = 0;
	int err;

	/* registered before anything can quote them */
	if ((secret && (err = dc_redactor_add(ctx->redactor, secret, strlen(secret))) < 0) ||
	    (token && (err = dc_redactor_add(ctx->redactor, token, strlen(token))) < 0))
		return err;
	if (!id || !secret || !*id || !*secret)
		return dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s answered without AccessKeyId and SecretAccessKey", what);
	if (exp && dc_time_parse_rfc3339(&t, exp) < 0)
		return dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s answered an Expiration that is not an RFC 3339 time", what);
	if ((err = dc_aws_creds_set(out, ctx, id, secret, token && *token ? token : NULL, what)) < 0)
		return err;
	out->expires_at = t;
	if (t && t <= dc_ctx_now(ctx))
		return dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s answered credentials that expired already; check it and the clock", what);
	return 0;
}

int dc_aws_process_parse(dc_aws_creds *out, dc_ctx *ctx, const char *json, size_t len, const char *what)
{
	json_t *doc = NULL, *v;
	int err;

	if ((err = dc_json_parse_object(&doc, json, len, what)) < 0)
		return err;
	v = json_object_get(doc, "Version");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s wrote JSON whose Version is not 1; it must follow the credential_process contract",
				    what);
	else
		err = creds_from_json(out, ctx, doc, "SessionToken", what);
	json_decref(doc);
	return err;
}

int dc_aws_meta_parse(dc_aws_creds *out, dc_ctx *ctx, const char *json, size_t len, const char *what)
{
	json_t *doc = NULL;
	const char *code;
	int err;

	if ((err = dc_json_parse_object(&doc, json, len, what)) < 0)
		return err;
	code = dc_json_str(doc, "Code");
	if (code && strcmp(code, "Success"))
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s answered Code '%.40s', not Success", what, code);
	else
		err = creds_from_json(out, ctx, doc, "Token", what);
	json_decref(doc);
	return err;
}

static int meta_send(dc_http_resp *r, dc_ctx *ctx, const dc_aws_chain *c, const char *method, const char *url,
		     const char *const *headers, const char *what)
{
	int err;

	if ((err = dc_ctx_http(ctx)) < 0)
		return err;
	return dc_http_send(ctx->http, r, &(dc_http_req){
		.method = method,
		.url = url,
		.headers = headers,
		.body = !strcmp(method, "PUT") ? "" : NULL,
		.what = what,
		.deadline_ms = c->meta_timeout_ms * c->meta_attempts + 500 * (c->meta_attempts - 1),
		.connect_timeout_ms = c->meta_timeout_ms,
		.attempts = c->meta_attempts,
		.max_reply = 65536,
	});
}

static int container_creds(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_chain *c)
{
	dc_buf auth = DC_BUF_INIT;
	dc_http_resp r = DC_HTTP_RESP_INIT;
	const char *headers[3] = { "Accept: application/json", NULL, NULL };
	char why[160];
	int err;

	dc_buf_init(&auth, 0, DC_BUF_SECRET);
	if (c->auth.ptr) {
		if (dc_buf_printf(&auth, "Authorization: %s", c->auth.ptr) < 0)
			return dc_error_nomem();
		headers[1] = auth.ptr;
	}
	if ((err = meta_send(&r, ctx, c, "GET", c->url, headers, "the container credentials endpoint")) < 0)
		goto done;
	if (r.status != 200) {
		if ((err = dc_http_status_error(&r, "the container credentials endpoint", c->url, NULL)) == 0) {
			dc_log_clip(ctx->redactor, why, sizeof(why), r.body.ptr);
			err = dc_error_setc(DC_ERR, r.status == 401 || r.status == 403 ? DC_ECLASS_AUTH : DC_ECLASS_REPLY,
					    "the container credentials endpoint '%s' answered HTTP %ld (%s); check AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)",
					    c->url, r.status, why);
			dc_error_fields(r.status, NULL, -1);
		}
		goto done;
	}
	err = dc_aws_meta_parse(out, ctx, r.body.ptr, r.body.len, "the container credentials endpoint");
done:
	dc_http_resp_release(&r);
	dc_buf_release(&auth);
	return err;
}

/* IMDS: PUT a session token, then the role's name and its credentials. */
static int imds_creds(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_chain *c)
{
	dc_buf url = DC_BUF_INIT, tokhdr = DC_BUF_INIT, role = DC_BUF_INIT;
	dc_http_resp r = DC_HTTP_RESP_INIT;
	const char *put_headers[] = { "X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL };
	const char *get_headers[2] = { NULL, NULL };
	int err;

	dc_buf_init(&tokhdr, 0, DC_BUF_SECRET);
	dc_buf_printf(&url, "%s/latest/api/token", c->url);
	if (dc_buf_failed(&url))
		return dc_error_nomem();
	if ((err = meta_send(&r, ctx, c, "PUT", url.ptr, put_headers, "IMDS")) < 0)
		goto done;
	if (r.status == 200) {
		if (!r.body.len || has_crlf(r.body.ptr) || strlen(r.body.ptr) != r.body.len ||
		    (err = dc_redactor_add(ctx->redactor, r.body.ptr, r.body.len)) < 0) {
			err = err < 0 ? err : dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "IMDS at '%s' answered an unusable session token", c->url);
			goto done;
		}
		dc_buf_printf(&tokhdr, "X-aws-ec2-metadata-token: %s", r.body.ptr);
		get_headers[0] = tokhdr.ptr;
	} else if (!(c->imds_v1 && (r.status == 403 || r.status == 404 || r.status == 405))) {
		if ((err = dc_http_status_error(&r, "IMDS", url.ptr, NULL)) == 0)
			err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "IMDS at '%s' refused a session token with HTTP %ld%s", c->url,
					    r.status, c->imds_v1 ? "" : " (and AWS_EC2_METADATA_V1_DISABLED is true)");
		dc_error_fields(r.status, NULL, -1);
		goto done;
	}
	dc_http_resp_release(&r);
	r = (dc_http_resp)DC_HTTP_RESP_INIT;
	dc_buf_reset(&url);
	dc_buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/", c->url);
	if (dc_buf_failed(&url) || dc_buf_failed(&tokhdr)) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = meta_send(&r, ctx, c, "GET", url.ptr, get_headers, "IMDS")) < 0)
		goto done;
	if (r.status == 404) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "IMDS at '%s' has no instance role (404); attach an instance profile to the instance",
				    c->url);
		goto done;
	}
	if (r.status != 200) {
		if ((err = dc_http_status_error(&r, "IMDS", url.ptr, NULL)) == 0)
			err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "IMDS at '%s' answered HTTP %ld for the role name", c->url, r.status);
		goto done;
	}
	/* the first line is the role's name */
	dc_buf_put(&role, r.body.ptr, strcspn(r.body.ptr, "\r\n"));
	if (!role.len || role.len > 128 || strspn(role.ptr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-") != role.len) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "IMDS at '%s' answered no usable role name", c->url);
		goto done;
	}
	dc_http_resp_release(&r);
	r = (dc_http_resp)DC_HTTP_RESP_INIT;
	dc_buf_puts(&url, role.ptr);
	if (dc_buf_failed(&url)) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = meta_send(&r, ctx, c, "GET", url.ptr, get_headers, "IMDS")) < 0)
		goto done;
	if (r.status != 200) {
		if ((err = dc_http_status_error(&r, "IMDS", url.ptr, NULL)) == 0)
			err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "IMDS at '%s' answered HTTP %ld for role '%s'", c->url, r.status,
					    role.ptr);
		goto done;
	}
	err = dc_aws_meta_parse(out, ctx, r.body.ptr, r.body.len, "IMDS");
	if (err == 0)
		dc_log_debug(&ctx->log, "IMDS: credentials of instance role %s", role.ptr);
done:
	dc_http_resp_release(&r);
	dc_buf_release(&url);
	dc_buf_release(&tokhdr);
	dc_buf_release(&role);
	return err;
}

static int sts_url(dc_buf *out, const dc_aws_chain *c, const char *region)
{
	if (c->sts_url)
		return dc_buf_puts(out, c->sts_url) < 0 ? dc_error_nomem() : 0;
	return dc_aws_endpoint_default(out, "sts", region, 0);
}

static int web_identity(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_chain *c, const char *region)
{
	dc_sec jwt = DC_SEC_INIT;
	dc_buf url = DC_BUF_INIT;
	int err;

	if (!c->web_token.ptr && (err = dc_gha_token(&jwt, ctx, &c->gha, DC_GHA_AUDIENCE_AWS)) < 0)
		goto done;
	if ((err = sts_url(&url, c, region)) < 0)
		goto done;
	err = dc_sts_assume(out, ctx, &(dc_sts_req){
		.web_token = c->web_token.ptr ? c->web_token.ptr : jwt.ptr,
		.url = url.ptr,
		.region = region,
		.role_arn = c->role_arn,
		.session = c->session,
		.role_var = c->role_origin,
	});
done:
	dc_sec_release(&jwt);
	dc_buf_release(&url);
	return err;
}

static int copy_creds(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_creds *in)
{
	int err = dc_aws_creds_set(out, ctx, in->key_id, in->secret.ptr, in->token.ptr, "the environment");

	out->expires_at = in->expires_at;
	return err;
}

static int base_creds(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_chain *c, const char *region)
{
	dc_buf text = DC_BUF_INIT;
	char what[200];
	int err;

	switch (c->kind) {
	case DC_AWS_SRC_ENV:
	case DC_AWS_SRC_KEYS:
		return copy_creds(out, ctx, &c->keys);
	case DC_AWS_SRC_WEB_IDENTITY:
		return web_identity(out, ctx, c, region);
	case DC_AWS_SRC_PROCESS:
		snprintf(what, sizeof(what), "credential_process of profile '%s'", c->profile);
		dc_buf_init(&text, 0, DC_BUF_SECRET);
		if ((err = dc_command_run(&text, ctx, c->command, NULL, PROCESS_TIMEOUT_MS, what)) == 0)
			err = dc_aws_process_parse(out, ctx, text.ptr, text.len, what);
		dc_buf_release(&text);
		return err;
	case DC_AWS_SRC_CONTAINER:
		return container_creds(out, ctx, c);
	case DC_AWS_SRC_IMDS:
		if ((err = imds_creds(out, ctx, c)) < 0 && !c->nroles &&
		    (dc_error_get()->klass == DC_ECLASS_NET || dc_error_get()->klass == DC_ECLASS_TIMEOUT)) {
			/* the last resort answered nothing: say everything tried */
			err = dc_error_set(DC_EUSAGE, "no AWS credentials: %s%sIMDS at '%s': no answer within %ld ms (not on EC2); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN with a web identity, or AWS_PROFILE",
					   c->tried.ptr, c->tried.len ? "; " : "", c->url, c->meta_timeout_ms);
		}
		return err;
	default:
		return dc_error_set(DC_ERR, "no AWS credential source chosen");
	}
}

int dc_aws_chain_creds(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_chain *c, const char *region)
{
	dc_aws_creds cur = DC_AWS_CREDS_INIT, next = DC_AWS_CREDS_INIT;
	dc_buf url = DC_BUF_INIT;
	size_t i;
	int err;

	if (!region || !*region)
		region = *c->region ? c->region : "us-east-1";
	if ((err = base_creds(&cur, ctx, c, region)) < 0)
		goto done;
	for (i = 0; i < c->nroles; i++) {
		dc_buf_reset(&url);
		if ((err = sts_url(&url, c, region)) < 0 ||
		    (err = dc_sts_assume(&next, ctx, &(dc_sts_req){
			    .in = &cur,
			    .url = url.ptr,
			    .region = region,
			    .role_arn = c->roles[i].arn,
			    .session = c->roles[i].session,
			    .external_id = c->roles[i].external_id,
			    .role_var = c->roles[i].origin,
		    })) < 0)
			goto done;
		dc_aws_creds_release(&cur);
		cur = next;
		next = (dc_aws_creds)DC_AWS_CREDS_INIT;
	}
	dc_log_debug(&ctx->log, "AWS credentials from %s", c->name);
	*out = cur;
	cur = (dc_aws_creds)DC_AWS_CREDS_INIT;
done:
	dc_aws_creds_release(&cur);
	dc_aws_creds_release(&next);
	dc_buf_release(&url);
	return err;
}

void dc_aws_chain_release(dc_aws_chain *c)
{
	size_t i;

	free(c->name);
	dc_aws_creds_release(&c->keys);
	free(c->role_arn);
	free(c->session);
	free(c->role_origin);
	dc_sec_release(&c->web_token);
	dc_gha_release(&c->gha);
	free(c->command);
	free(c->profile);
	free(c->url);
	dc_sec_release(&c->auth);
	for (i = 0; i < c->nroles; i++) {
		free(c->roles[i].arn);
		free(c->roles[i].session);
		free(c->roles[i].external_id);
		free(c->roles[i].origin);
	}
	free(c->sts_url);
	dc_buf_release(&c->tried);
	memset(c, 0, sizeof(*c));
	c->keys = (dc_aws_creds)DC_AWS_CREDS_INIT;
	c->tried = (dc_buf)DC_BUF_INIT;
}
