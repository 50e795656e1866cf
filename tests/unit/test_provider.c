/* test_provider.c -- providers/provider: choosing a provider. */
#include <stdio.h>
#include <string.h>

#include "providers/provider.h"
#include "t.h"

static void test_by_variable(void)
{
	char *vars[] = { "DCGEN_PROVIDER=ecr", NULL };
	dc_env e = { vars };
	const dc_provider *p = NULL;

	CHECK_EQ_INT(dc_provider_select(&p, &e, NULL), 0);
	CHECK(p == &dc_provider_ecr);
	if (p)
		CHECK_EQ_STR(p->name, "ecr");
}

static void test_by_name(void)
{
	/* the flag wins over the variable */
	char *vars[] = { "DCGEN_PROVIDER=nosuch", NULL };
	dc_env e = { vars };
	const dc_provider *p = NULL;

	CHECK_EQ_INT(dc_provider_select(&p, &e, "ecr"), 0);
	CHECK(p == &dc_provider_ecr);
}

static void test_unknown_name(void)
{
	char *vars[] = { "DCGEN_PROVIDER=nosuch", "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", NULL };
	dc_env e = { vars };
	const dc_provider *p = NULL;
	const dc_provider *const *q;

	dc_error_clear();
	CHECK_EQ_INT(dc_provider_select(&p, &e, NULL), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "DCGEN_PROVIDER");
	CHECK_HAS(dc_error_last(), "'nosuch'");
	for (q = dc_providers; *q; q++)
		CHECK_HAS(dc_error_last(), (*q)->name); /* the choices are named */
	dc_error_clear();
	CHECK_EQ_INT(dc_provider_select(&p, &e, "ECR"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "--provider");
	CHECK_HAS(dc_error_last(), "ecr");
	dc_error_clear();
}

static void test_nothing_set(void)
{
	char *vars[] = { "HOME=/root", "PATH=/bin", "DCGEN_PROVIDER=", "AWS_ACCESS_KEY_ID=", NULL };
	char *none[] = { NULL };
	dc_env e = { vars }, n = { none };
	const dc_provider *p = NULL;

	dc_error_clear();
	CHECK_EQ_INT(dc_provider_select(&p, &e, NULL), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "DCGEN_PROVIDER");
	CHECK_HAS(dc_error_last(), "AWS_ACCESS_KEY_ID"); /* says what to set */
	dc_error_clear();
	CHECK_EQ_INT(dc_provider_select(&p, &n, NULL), DC_EUSAGE);
	CHECK(*dc_error_last() != '\0');
	CHECK(p == NULL);
	dc_error_clear();
}

static void test_detected(void)
{
	char *vars[] = { "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", NULL };
	char *vars2[] = { "AWS_SECRET_ACCESS_KEY=x", "AWS_REGION=eu-west-1", NULL };
	dc_env e = { vars }, e2 = { vars2 };
	const dc_provider *p = NULL;

	CHECK(dc_provider_ecr.detect(&e));
	CHECK_EQ_INT(dc_provider_select(&p, &e, NULL), 0);
	CHECK(p == &dc_provider_ecr);
	p = NULL;
	CHECK_EQ_INT(dc_provider_select(&p, &e2, NULL), 0);
	CHECK(p == &dc_provider_ecr);
}

static void test_table(void)
{
	const dc_provider *const *q;
	int found = 0;

	for (q = dc_providers; *q; q++) {
		CHECK((*q)->name && *(*q)->name);
		CHECK((*q)->summary && (*q)->variables);
		CHECK((*q)->detect && (*q)->fetch && (!(*q)->cache_identity == !!(*q)->offline));
		if (*q == &dc_provider_ecr)
			found = 1;
	}
	CHECK(found);
	/* the static providers make no request: their answer is the environment's */
	CHECK(dc_provider_docker.offline && dc_provider_heroku.offline && dc_provider_ibm.offline);
	CHECK(!dc_provider_ecr.offline && !dc_provider_gcr.offline && !dc_provider_acr.offline);
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
		const dc_provider *p = NULL;

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(each[i], "="), each[i]);
		snprintf(found, sizeof(found), "(ecr: %s; heroku: HEROKU_API_KEY)", name);
		CHECK_HAS(dc_provider_ecr.variables, name);
		CHECK(dc_provider_ecr.detect(&e));
		CHECK_EQ_INT(dc_provider_select(&p, &e, NULL), DC_EUSAGE);
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
