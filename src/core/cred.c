/* cred.c -- see cred.h. */
#include "core/cred.h"

#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

static void cred_release(dc_cred *c)
{
	free(c->host);
	free(c->username);
	dc_secret_free(c->secret);
	memset(c, 0, sizeof(*c));
}

int dc_cred_list_add(dc_cred_list *l, const char *host, const char *username, const char *secret,
		     time_t expires_at)
{
	dc_cred c = { strdup(host), strdup(username), strdup(secret), expires_at };
	dc_cred *items;
	size_t i;

	if (!c.host || !c.username || !c.secret)
		goto oom;
	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->items[i].host, host)) {
			cred_release(&l->items[i]);
			l->items[i] = c;
			return 0;
		}
	}
	if (!(items = realloc(l->items, (l->n + 1) * sizeof(*items))))
		goto oom;
	l->items = items;
	l->items[l->n++] = c;
	return 0;
oom:
	cred_release(&c);
	return dc_error_set(DC_ERR, "out of memory");
}

void dc_cred_list_release(dc_cred_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		cred_release(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

time_t dc_cred_list_expiry(const dc_cred_list *l)
{
	time_t min = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->items[i].expires_at && (!min || l->items[i].expires_at < min))
			min = l->items[i].expires_at;
	return min;
}
