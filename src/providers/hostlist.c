/* hostlist.c -- see hostlist.h. */
#include "providers/hostlist.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int dc_hostlist_add(dc_hostlist *l, const char *item, size_t n)
{
	char **grown, *copy;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->items[i]) == n && !strncasecmp(l->items[i], item, n))
			return 0;
	if (!(copy = strndup(item, n)))
		return dc_error_nomem();
	if (!(grown = realloc(l->items, (l->n + 1) * sizeof(*grown)))) {
		free(copy);
		return dc_error_nomem();
	}
	l->items = grown;
	l->items[l->n++] = copy;
	return 0;
}

int dc_hostlist_has(const dc_hostlist *l, const char *item)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcasecmp(l->items[i], item))
			return 1;
	return 0;
}

void dc_hostlist_release(dc_hostlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
