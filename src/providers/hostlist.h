/* hostlist.h -- a small set of registry hosts (or other list items) read from
 * a comma-separated variable: items in order, duplicates collapsed (compared
 * without case), for the families that serve a configured list of hosts.
 *
 *   dc_hostlist l = DC_HOSTLIST_INIT;
 *   err = dc_hostlist_add(&l, item, n);        copies; a duplicate is dropped
 *   if (dc_hostlist_has(&l, host)) ...
 *   for (i = 0; i < l.n; i++) ... l.items[i] ...
 *   dc_hostlist_release(&l);
 */
#ifndef DC_HOSTLIST_H
#define DC_HOSTLIST_H

#include <stddef.h>

#include "util/error.h"

typedef struct {
	char **items;
	size_t n;
} dc_hostlist;

#define DC_HOSTLIST_INIT { NULL, 0 }

/* 0, or DC_ERR on out of memory. */
int dc_hostlist_add(dc_hostlist *l, const char *item, size_t n) DC_MUST_USE;
int dc_hostlist_has(const dc_hostlist *l, const char *item);
void dc_hostlist_release(dc_hostlist *l);

#endif
