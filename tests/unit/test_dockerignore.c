/* test_dockerignore.c -- Docker's .dockerignore rules (moby/patternmatcher
 * and the docker CLI's tests give the expected answers). */
#include "runner/dockerignore.h"
#include "t.h"
#include "util/error.h"

static int excluded(const char *rules, const char *path)
{
	dc_dockerignore di = DC_DOCKERIGNORE_INIT;
	int r;

	if (dc_dockerignore_parse(&di, rules, strlen(rules)) < 0) {
		fprintf(stderr, "cannot parse: %s\n", dc_error_last());
		return -1;
	}
	r = dc_dockerignore_excluded(&di, path);
	dc_dockerignore_release(&di);
	return r;
}

static void test_plain(void)
{
	CHECK_EQ_INT(excluded("", "a"), 0);
	CHECK_EQ_INT(excluded("a", "a"), 1);
	CHECK_EQ_INT(excluded("a", "ab"), 0);
	CHECK_EQ_INT(excluded("a", "a/b/c"), 1);       /* a parent directory matches */
	CHECK_EQ_INT(excluded("b", "a/b"), 0);         /* patterns are anchored at the root */
	CHECK_EQ_INT(excluded("/a", "a"), 1);          /* a leading '/' is dropped */
	CHECK_EQ_INT(excluded("./a/", "a/x"), 1);      /* cleaned like filepath.Clean */
	CHECK_EQ_INT(excluded("a//b/../c", "a/c"), 1);
	CHECK_EQ_INT(excluded("  a  \n", "a"), 1);     /* white space trimmed */
	CHECK_EQ_INT(excluded("# a\n", "# a"), 0);     /* comment */
	CHECK_EQ_INT(excluded(" # a\n", "# a"), 1);    /* not a comment: not column one */
	CHECK_EQ_INT(excluded("\xef\xbb\xbf" "a\n", "a"), 1); /* BOM */
	CHECK_EQ_INT(excluded("a.txt", "abtxt"), 0);   /* '.' is literal */
}

static void test_wildcards(void)
{
	CHECK_EQ_INT(excluded("*.md", "README.md"), 1);
	CHECK_EQ_INT(excluded("*.md", "docs/README.md"), 0); /* '*' stops at '/' */
	CHECK_EQ_INT(excluded("*/*.md", "docs/README.md"), 1);
	CHECK_EQ_INT(excluded("**/*.md", "docs/README.md"), 1);
	CHECK_EQ_INT(excluded("**/*.md", "README.md"), 1);   /* '**' may be zero directories */
	CHECK_EQ_INT(excluded("**/*.md", "a/b/c/README.md"), 1);
	CHECK_EQ_INT(excluded("a/**/b", "a/b"), 1);
	CHECK_EQ_INT(excluded("a/**/b", "a/x/y/b"), 1);
	CHECK_EQ_INT(excluded("a/**", "a/x/y"), 1);
	CHECK_EQ_INT(excluded("**", "anything/at/all"), 1);
	CHECK_EQ_INT(excluded("?.c", "a.c"), 1);
	CHECK_EQ_INT(excluded("?.c", "ab.c"), 0);
	CHECK_EQ_INT(excluded("[a-c].c", "b.c"), 1);
	CHECK_EQ_INT(excluded("[a-c].c", "d.c"), 0);
	CHECK_EQ_INT(excluded("\\*.c", "*.c"), 1);
	CHECK_EQ_INT(excluded("\\*.c", "a.c"), 0);
	CHECK_EQ_INT(excluded("node_modules", "node_modules/x/y.js"), 1);
}

static void test_exceptions(void)
{
	CHECK_EQ_INT(excluded("*.md\n!README.md", "README.md"), 0);
	CHECK_EQ_INT(excluded("*.md\n!README.md", "CHANGES.md"), 1);
	CHECK_EQ_INT(excluded("!README.md\n*.md", "README.md"), 1); /* the last match wins */
	CHECK_EQ_INT(excluded("docs\n!docs/keep.txt", "docs/keep.txt"), 0);
	CHECK_EQ_INT(excluded("docs\n!docs/keep.txt", "docs/other.txt"), 1);
	CHECK_EQ_INT(excluded("**\n!src/**\nsrc/**/*.o", "src/a/b.c"), 0);
	CHECK_EQ_INT(excluded("**\n!src/**\nsrc/**/*.o", "src/a/b.o"), 1);
	CHECK_EQ_INT(excluded("**\n!src/**\nsrc/**/*.o", "Makefile"), 1);
	CHECK_EQ_INT(excluded("! a", "a"), 0);
}

static void test_keep_and_walk(void)
{
	dc_dockerignore di = DC_DOCKERIGNORE_INIT;
	const char *rules = "*\n!src/main.c\n";

	if (!CHECK_EQ_INT(dc_dockerignore_parse(&di, rules, strlen(rules)), 0))
		return;
	CHECK_EQ_INT(dc_dockerignore_excluded(&di, "Dockerfile"), 1);
	CHECK_EQ_INT(dc_dockerignore_keep(&di, "Dockerfile"), 0);
	CHECK_EQ_INT(dc_dockerignore_keep(&di, ".dockerignore"), 0);
	CHECK_EQ_INT(dc_dockerignore_excluded(&di, "Dockerfile"), 0);
	CHECK_EQ_INT(dc_dockerignore_excluded(&di, ".dockerignore"), 0);
	CHECK_EQ_INT(dc_dockerignore_excluded(&di, "src"), 1);
	CHECK_EQ_INT(dc_dockerignore_walk_excluded_dir(&di, "src"), 1);
	CHECK_EQ_INT(dc_dockerignore_walk_excluded_dir(&di, "lib"), 0);
	CHECK_EQ_INT(dc_dockerignore_excluded(&di, "src/main.c"), 0);
	CHECK_EQ_INT(dc_dockerignore_excluded(&di, "src/other.c"), 1);
	dc_dockerignore_release(&di);
}

static void test_bad_pattern(void)
{
	dc_dockerignore di = DC_DOCKERIGNORE_INIT;

	CHECK_EQ_INT(dc_dockerignore_parse(&di, "ok\n[a-\n", 7), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "line 2");
	dc_dockerignore_release(&di);
	CHECK_EQ_INT(dc_dockerignore_parse(&di, "a\\", 2), DC_EUSAGE);
	dc_dockerignore_release(&di);
}

int main(void)
{
	T_RUN(test_plain);
	T_RUN(test_wildcards);
	T_RUN(test_exceptions);
	T_RUN(test_keep_and_walk);
	T_RUN(test_bad_pattern);
	return t_done();
}
