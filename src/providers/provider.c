/* provider.c -- the family table and selection. */
#include "providers/provider.h"

#include <string.h>

#include "util/log.h"

const dc_family *const dc_families[] = {
	&dc_family_ecr,
	&dc_family_gcr,
	&dc_family_acr,
	&dc_family_docker,
	&dc_family_heroku,
	&dc_family_ibm,
	NULL,
};

static int by_name(const dc_family **out, const char *name, const char *origin)
{
	const dc_family *const *p;
	dc_buf names = DC_BUF_INIT;

	for (p = dc_families; *p; p++) {
		if (!strcmp((*p)->name, name)) {
			*out = *p;
			return 0;
		}
	}
	for (p = dc_families; *p; p++)
		dc_buf_printf(&names, "%s%s", p == dc_families ? "" : ", ", (*p)->name);
	dc_error_set(DC_EUSAGE, "%s is '%s', not a provider; use one of: %s", origin, name, names.ptr);
	dc_buf_release(&names);
	return DC_EUSAGE;
}

/* "ecr: AWS_ACCESS_KEY_ID": the provider and those of its variables that
 * are set (names only, never values). */
static void name_found(dc_buf *b, const dc_family *p, const dc_env *env)
{
	const char *v = p->variables, *item;
	char var[64];
	size_t len;
	int n = 0;

	dc_buf_puts(b, p->name);
	while (v && dc_env_list_next(&v, &item, &len)) {
		if (!len || len >= sizeof(var))
			continue;
		memcpy(var, item, len);
		var[len] = '\0';
		if (dc_env_get(env, var))
			dc_buf_printf(b, "%s%s", n++ ? ", " : ": ", var);
	}
}

/* "ecr (AWS_ACCESS_KEY_ID, ...); gcr (...)": what selects each provider. */
static void hints(dc_buf *b)
{
	const dc_family *const *p;

	for (p = dc_families; *p; p++)
		dc_buf_printf(b, "%s%s (%s)", p == dc_families ? "" : "; ", (*p)->name, (*p)->variables);
}

int dc_family_select(const dc_family **out, const dc_env *env, const char *name)
{
	const dc_family *const *p;
	const dc_family *found = NULL;
	dc_buf msg = DC_BUF_INIT;
	int n = 0, err;

	if (name)
		return by_name(out, name, "--provider");
	if ((name = dc_env_get(env, "DCGEN_PROVIDER")) != NULL)
		return by_name(out, name, "DCGEN_PROVIDER");
	for (p = dc_families; *p; p++) {
		if ((*p)->detect(env)) {
			found = *p;
			n++;
		}
	}
	if (n == 1) {
		*out = found;
		return 0;
	}
	/* the messages are built only now: a cache hit selects too */
	if (n == 0) {
		hints(&msg);
		err = dc_error_set(DC_EUSAGE, "no provider's variables are set; set the variables of one provider: %s; or choose one with DCGEN_PROVIDER",
				   msg.ptr);
	} else {
		for (p = dc_families; *p; p++) {
			if ((*p)->detect(env)) {
				if (msg.len)
					dc_buf_puts(&msg, "; ");
				name_found(&msg, *p, env);
			}
		}
		err = dc_error_set(DC_EUSAGE, "the variables of several providers are set (%s); choose one with DCGEN_PROVIDER or --provider",
				   msg.ptr);
	}
	dc_buf_release(&msg);
	return err;
}
