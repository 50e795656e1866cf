/* test_fronts.c -- the front doors' pieces that need no peer: the
 * k8s-secret and env renderers (core/output), the helper's sealed store
 * (core/store), Go's duration syntax for the kubelet, and the per-user
 * default directories. No network. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/output.h"
#include "core/store.h"
#include "front/helper.h"
#include "front/kubelet.h"
#include "t.h"
#include "util/codec.h"
#include "util/fs.h"

static void fill(dc_cred_list *l)
{
	CHECK_EQ_INT(dc_cred_list_add(l, "123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS", "tok\"en/1+='x", 100), 0);
	CHECK_EQ_INT(dc_cred_list_add(l, "https://index.docker.io/v1/", "me", "pä:ss\\word", 0), 0);
}

/* The value between the first `start` and the next `end` after it. */
static char *between(const char *text, const char *start, const char *end)
{
	const char *a = strstr(text, start), *b;

	if (!a)
		return NULL;
	a += strlen(start);
	if (!(b = strstr(a, end)))
		return NULL;
	return strndup(a, (size_t)(b - a));
}

static void test_k8s_secret(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	dc_buf out = DC_BUF_INIT, json = DC_BUF_INIT;
	char *b64;
	json_t *doc;

	fill(&l);
	dc_buf_init(&out, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_output_render_with(&out, &l, DC_FORMAT_K8S_SECRET, &(dc_output_opts){ "regcred", "ci-1" }), 0);
	CHECK_HAS(out.ptr, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"regcred\"\n  namespace: \"ci-1\"\n");
	CHECK_HAS(out.ptr, "\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: \"");
	CHECK_LACKS(out.ptr, "pä:ss");
	b64 = between(out.ptr, ".dockerconfigjson: \"", "\"\n");
	if (CHECK(b64 != NULL)) {
		CHECK_EQ_INT(dc_base64_decode(&json, b64, strlen(b64)), 0);
		doc = json_loadb(json.ptr, json.len, 0, NULL);
		CHECK(json_is_object(json_object_get(json_object_get(doc, "auths"), "https://index.docker.io/v1/")));
		json_decref(doc);
	}
	free(b64);
	/* defaults: a name, no namespace */
	dc_buf_reset(&out);
	CHECK_EQ_INT(dc_output_render(&out, &l, DC_FORMAT_K8S_SECRET), 0);
	CHECK_HAS(out.ptr, "  name: \"" DC_OUTPUT_SECRET_NAME "\"\n");
	CHECK_LACKS(out.ptr, "namespace");
	dc_buf_release(&out);
	dc_buf_release(&json);
	dc_cred_list_release(&l);
}

static void test_k8s_names(void)
{
	static const char *const good[] = { "a", "regcred", "my-secret.v1", "0abc", "a.b.c", NULL };
	static const char *const bad[] = { "", "Regcred", "-a", "a-", "a..b", ".a", "a.", "a_b", "a b", "a\"b",
					   "a\nb", "x:y", NULL };
	const char *const *p;
	char long_label[80];

	for (p = good; *p; p++)
		CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ *p, NULL }, DC_FORMAT_K8S_SECRET), 0);
	for (p = bad; *p; p++) {
		CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ *p, NULL }, DC_FORMAT_K8S_SECRET), DC_EUSAGE);
		CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ NULL, *p }, DC_FORMAT_K8S_SECRET), DC_EUSAGE);
	}
	/* a namespace is one label: no dots, at most 63 */
	CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ NULL, "a.b" }, DC_FORMAT_K8S_SECRET), DC_EUSAGE);
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ NULL, long_label }, DC_FORMAT_K8S_SECRET), DC_EUSAGE);
	long_label[63] = '\0';
	CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ NULL, long_label }, DC_FORMAT_K8S_SECRET), 0);
	/* only with k8s-secret */
	CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ "x", NULL }, DC_FORMAT_CONFIG), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "k8s-secret");
	CHECK_EQ_INT(dc_output_check_opts(&(dc_output_opts){ NULL, NULL }, DC_FORMAT_ENV), 0);
	dc_error_clear();
}

static void test_env_line(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	dc_buf out = DC_BUF_INIT;
	json_t *doc;
	size_t n;

	fill(&l);
	dc_buf_init(&out, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_output_render(&out, &l, DC_FORMAT_ENV), 0);
	n = strlen("DOCKER_AUTH_CONFIG='");
	CHECK(!strncmp(out.ptr, "DOCKER_AUTH_CONFIG='", n));
	CHECK(out.len > n + 2 && !strcmp(out.ptr + out.len - 2, "'\n"));
	CHECK_EQ_INT(strchr(out.ptr, '\n') - out.ptr, (long long)out.len - 1);
	doc = json_loadb(out.ptr + n, out.len - n - 2, 0, NULL);
	if (CHECK(doc != NULL)) {
		CHECK_EQ_INT(json_object_size(doc), 1);
		CHECK_EQ_INT(json_object_size(json_object_get(doc, "auths")), 2);
	}
	json_decref(doc);
	CHECK_EQ_STR(dc_format_name(DC_FORMAT_ENV), "env");
	CHECK_EQ_STR(dc_format_name(DC_FORMAT_K8S_SECRET), "k8s-secret");
	enum dc_format f;
	CHECK_EQ_INT(dc_format_parse(&f, "k8s-secret", "--format"), 0);
	CHECK_EQ_INT(f, DC_FORMAT_K8S_SECRET);
	CHECK_EQ_INT(dc_format_parse(&f, "env", "--format"), 0);
	CHECK_EQ_INT(f, DC_FORMAT_ENV);
	dc_buf_release(&out);
	dc_cred_list_release(&l);
}

static int count(const char *url, const char *user, void *arg)
{
	(void)url, (void)user;
	(*(int *)arg)++;
	return 0;
}

static void test_store(void)
{
	char tmpl[] = "/tmp/dcgen-test-store-XXXXXX";
	char *base = mkdtemp(tmpl);
	dc_buf dir = DC_BUF_INIT, path = DC_BUF_INIT, data = DC_BUF_INIT, key = DC_BUF_INIT;
	dc_cred_list l = DC_CRED_LIST_INIT;
	dc_store *s = NULL;
	struct stat st;
	int n = 0;

	if (!CHECK(base != NULL))
		return;
	dc_buf_printf(&dir, "%s/a/dcgen", base);
	CHECK_EQ_INT(dc_store_open(&s, NULL, dir.ptr), 0);
	CHECK_EQ_INT(dc_store_get(&l, s, "reg.example"), DC_ENOTFOUND);
	CHECK_EQ_INT(dc_store_erase(s, "reg.example"), 0);
	CHECK_EQ_INT(dc_store_list(s, count, &n), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(dc_store_put(s, "https://Reg.example:5000/v2/", "alice", "s3cret-value"), 0);
	CHECK_EQ_INT(stat(dir.ptr, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0700);
	CHECK_EQ_INT(dc_store_get(&l, s, "reg.example:5000"), DC_ENOTFOUND); /* keys keep case, as docker's */
	CHECK_EQ_INT(dc_store_get(&l, s, "Reg.example:5000"), 0);
	if (CHECK_EQ_INT(l.n, 1)) {
		CHECK_EQ_STR(l.items[0].host, "Reg.example:5000");
		CHECK_EQ_STR(l.items[0].username, "alice");
		CHECK_EQ_STR(l.items[0].secret, "s3cret-value");
	}
	dc_cred_list_release(&l);
	CHECK_EQ_INT(dc_store_put(s, "index.docker.io", "bob", "hub-secret"), 0);
	CHECK_EQ_INT(dc_store_get(&l, s, "https://index.docker.io/v1/"), 0);
	dc_cred_list_release(&l);
	CHECK_EQ_INT(dc_store_list(s, count, &n), 0);
	CHECK_EQ_INT(n, 2);
	/* the file is sealed, and a changed byte is refused, not ignored */
	dc_buf_printf(&path, "%s/credentials", dir.ptr);
	CHECK_EQ_INT(dc_fs_read(&data, path.ptr, 1 << 20), 0);
	CHECK(!memmem(data.ptr, data.len, "s3cret-value", 12));
	CHECK(!memmem(data.ptr, data.len, "alice", 5));
	data.ptr[data.len / 2] ^= 1;
	CHECK_EQ_INT(dc_fs_write_atomic(path.ptr, data.ptr, data.len, 0600), 0);
	CHECK_EQ_INT(dc_store_get(&l, s, "Reg.example:5000"), DC_ERR);
	CHECK_HAS(dc_error_last(), "does not open");
	/* a directory others may write is refused, on get and erase alike */
	CHECK_EQ_INT(chmod(dir.ptr, 0770), 0);
	CHECK_EQ_INT(dc_store_get(&l, s, "Reg.example:5000"), DC_EUSAGE);
	CHECK_EQ_INT(dc_store_erase(s, "Reg.example:5000"), DC_EUSAGE);
	CHECK_EQ_INT(chmod(dir.ptr, 0700), 0);
	dc_store_free(s);
	/* keys: hub names, a URL's host, nothing without a host */
	CHECK_EQ_INT(dc_store_key(&key, "registry-1.docker.io"), 0);
	CHECK_EQ_STR(key.ptr, "https://index.docker.io/v1/");
	dc_buf_reset(&key);
	CHECK_EQ_INT(dc_store_key(&key, "http://a.example/x"), 0);
	CHECK_EQ_STR(key.ptr, "a.example");
	dc_buf_reset(&key);
	CHECK_EQ_INT(dc_store_key(&key, "https://"), DC_EUSAGE);
	CHECK_EQ_INT(dc_store_key(&key, "https://u:p@a.example"), DC_EUSAGE);
	CHECK_EQ_INT(dc_store_key(&key, "bad host"), DC_EUSAGE);
	dc_error_clear();
	dc_buf_reset(&path);
	dc_buf_printf(&path, "rm -rf '%s'", base);
	CHECK_EQ_INT(system(path.ptr), 0);
	dc_buf_release(&dir);
	dc_buf_release(&path);
	dc_buf_release(&data);
	dc_buf_release(&key);
}

static void test_go_duration(void)
{
	static const struct {
		long s;
		const char *want;
	} cases[] = { { 0, "0s" }, { -5, "0s" }, { 1, "1s" }, { 59, "59s" }, { 60, "1m0s" }, { 90, "1m30s" },
		      { 3599, "59m59s" }, { 3600, "1h0m0s" }, { 21600, "6h0m0s" }, { 21599, "5h59m59s" },
		      { 90061, "25h1m1s" } };
	char out[48];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dc_go_duration(out, sizeof(out), cases[i].s);
		CHECK_EQ_STR(out, cases[i].want);
	}
}

static void test_default_dirs(void)
{
	char *home[] = { "HOME=/home/u", NULL };
	char *xdg[] = { "HOME=/home/u", "XDG_CACHE_HOME=/x/cache", "XDG_CONFIG_HOME=relative", NULL };
	char *none[] = { "HOME=relative", NULL };
	dc_env e = { home };
	dc_buf b = DC_BUF_INIT;

	CHECK_EQ_INT(dc_helper_default_dir(&b, &e, "cache"), 0);
	CHECK_EQ_STR(b.ptr, "/home/u/.cache/dcgen");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_helper_default_dir(&b, &e, "config"), 0);
	CHECK_EQ_STR(b.ptr, "/home/u/.config/dcgen");
	e.vars = xdg;
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_helper_default_dir(&b, &e, "cache"), 0);
	CHECK_EQ_STR(b.ptr, "/x/cache/dcgen");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_helper_default_dir(&b, &e, "config"), 0); /* a relative XDG path is ignored */
	CHECK_EQ_STR(b.ptr, "/home/u/.config/dcgen");
	e.vars = none;
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_helper_default_dir(&b, &e, "cache"), DC_ENOTFOUND);
	dc_buf_release(&b);
}

int main(void)
{
	T_RUN(test_k8s_secret);
	T_RUN(test_k8s_names);
	T_RUN(test_env_line);
	T_RUN(test_store);
	T_RUN(test_go_duration);
	T_RUN(test_default_dirs);
	return t_done();
}
