/* test_provider.c -- providers/provider: the family table and choosing a family. */
#include <stdio.h>
#include <string.h>

#include "providers/provider.h"
#include "t.h"

static void test_by_variable(void)
{
	char *vars[] = { "DCGEN_PROVIDER=ecr", NULL };
	dc_env e = { vars };
	const dc_family *p = NULL;

	CHECK_EQ_INT(dc_family_select(&p, &e, NULL), 0);
	CHECK(p == &dc_family_ecr);
	if (p)
		CHECK_EQ_STR(p->name, "ecr");
}

static void test_by_name(void)
{
	/* the flag wins over the variable */
	char *vars[] = { "DCGEN_PROVIDER=nosuch", NULL };
	dc_env e = { vars };
	const dc_family *p = NULL;

	CHECK_EQ_INT(dc_family_select(&p, &e, "ecr"), 0);
	CHECK(p == &dc_family_ecr);
}

static void test_unknown_name(void)
{
	char *vars[] = { "DCGEN_PROVIDER=nosuch", "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", NULL };
	dc_env e = { vars };
	const dc_family *p = NULL;
	const dc_family *const *q;

	dc_error_clear();
	CHECK_EQ_INT(dc_family_select(&p, &e, NULL), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "DCGEN_PROVIDER");
	CHECK_HAS(dc_error_last(), "'nosuch'");
	for (q = dc_families; *q; q++)
		CHECK_HAS(dc_error_last(), (*q)->name); /* the choices are named */
	dc_error_clear();
	CHECK_EQ_INT(dc_family_select(&p, &e, "ECR"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "'ECR'");
	CHECK_HAS(dc_error_last(), "--provider");
	CHECK_HAS(dc_error_last(), "ecr");
	dc_error_clear();
}

static void test_nothing_set(void)
{
	char *vars[] = { "HOME=/root", "PATH=/bin", "DCGEN_PROVIDER=", "AWS_ACCESS_KEY_ID=", NULL };
	char *none[] = { NULL };
	dc_env e = { vars }, n = { none };
	const dc_family *p = NULL;

	dc_error_clear();
	CHECK_EQ_INT(dc_family_select(&p, &e, NULL), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "DCGEN_PROVIDER");
	CHECK_HAS(dc_error_last(), "AWS_ACCESS_KEY_ID"); /* says what to set */
	dc_error_clear();
	CHECK_EQ_INT(dc_family_select(&p, &n, NULL), DC_EUSAGE);
	CHECK(*dc_error_last() != '\0');
	CHECK(p == NULL);
	dc_error_clear();
}

static void test_detected(void)
{
	char *vars[] = { "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", NULL };
	char *vars2[] = { "AWS_SECRET_ACCESS_KEY=x", "AWS_REGION=eu-west-1", NULL };
	dc_env e = { vars }, e2 = { vars2 };
	const dc_family *p = NULL;

	CHECK(dc_family_ecr.detect(&e));
	CHECK_EQ_INT(dc_family_select(&p, &e, NULL), 0);
	CHECK(p == &dc_family_ecr);
	p = NULL;
	CHECK_EQ_INT(dc_family_select(&p, &e2, NULL), 0);
	CHECK(p == &dc_family_ecr);
}

/* every variable that holds a secret, by family */
static int lists_secret(const dc_family *f, const char *var)
{
	const char *const *v;

	for (v = f->secret_vars; v && *v; v++)
		if (!strcmp(*v, var))
			return 1;
	return 0;
}

static void test_table(void)
{
	const dc_family *const *q;
	int found = 0;

	for (q = dc_families; *q; q++) {
		CHECK((*q)->name && *(*q)->name);
		CHECK((*q)->summary && (*q)->variables && (*q)->secret_vars);
		CHECK((*q)->detect && (*q)->parse && (*q)->match && (*q)->scope_all && (*q)->offline &&
		      (*q)->cache_key && (*q)->fetch && (*q)->release);
		if (*q == &dc_family_ecr)
			found = 1;
	}
	CHECK(found);
	CHECK(lists_secret(&dc_family_ecr, "AWS_SECRET_ACCESS_KEY"));
	CHECK(lists_secret(&dc_family_ecr, "AWS_SESSION_TOKEN"));
	CHECK(lists_secret(&dc_family_gcr, "GOOGLE_AUTH_JSON"));
	CHECK(lists_secret(&dc_family_acr, "AZURE_CLIENT_SECRET"));
	CHECK(lists_secret(&dc_family_acr, "AZURE_PASSWORD"));
	CHECK(lists_secret(&dc_family_docker, "DOCKER_PASSWORD"));
	CHECK(lists_secret(&dc_family_heroku, "HEROKU_API_KEY"));
	CHECK(lists_secret(&dc_family_ibm, "IBMCLOUD_API_KEY"));
	CHECK(lists_secret(&dc_family_ibm, "BLUEMIX_API_KEY"));
}

static void test_ecr_variables(void)
{
	static const char *const each[] = { "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_STS_ROLE=x",
					    "AWS_ECR_REGISTRY_IDS=x", "ECR_PUBLIC=1" };
	size_t i;

	/* every variable that selects ecr is listed, and named when it is set */
	for (i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
		char name[32], found[80], *vars[] = { (char *)each[i], "HEROKU_API_KEY=h-key-0001", NULL };
		dc_env e = { vars };
		const dc_family *p = NULL;

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(each[i], "="), each[i]);
		snprintf(found, sizeof(found), "(ecr: %s; heroku: HEROKU_API_KEY)", name);
		CHECK_HAS(dc_family_ecr.variables, name);
		CHECK(dc_family_ecr.detect(&e));
		CHECK_EQ_INT(dc_family_select(&p, &e, NULL), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), found);
	}
	dc_error_clear();
}

int main(void)
{
	T_RUN(test_by_variable);
	T_RUN(test_by_name);
	T_RUN(test_unknown_name);
	T_RUN(test_nothing_set);
	T_RUN(test_detected);
	T_RUN(test_table);
	T_RUN(test_ecr_variables);
	return t_done();
}
