/* cred.h -- the data every front door handles: a list of credentials.
 *
 *   dc_cred_list l = DC_CRED_LIST_INIT;
 *   dc_cred_list_add(&l, host, username, secret, expires_at);   copies all
 *   ... hand &l to a writer or the cache ...
 *   dc_cred_list_release(&l);                                   wipes secrets
 *
 * `host` is the key a Docker client looks credentials up by: "host[:port]"
 * for most registries, "https://index.docker.io/v1/" for Docker Hub.
 */
#ifndef DC_CRED_H
#define DC_CRED_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

typedef struct {
	char *host;
	char *username;
	char *secret;
	time_t expires_at; /* 0 when the registry gave no expiry */
} dc_cred;

typedef struct {
	dc_cred *items;
	size_t n;
} dc_cred_list;

#define DC_CRED_LIST_INIT { NULL, 0 }

/* Adds a copy; a second credential for the same host replaces the first. */
int dc_cred_list_add(dc_cred_list *l, const char *host, const char *username, const char *secret,
		     time_t expires_at) DC_MUST_USE;
void dc_cred_list_release(dc_cred_list *l);
/* The earliest expiry in the list, 0 when none has one. */
time_t dc_cred_list_expiry(const dc_cred_list *l);

#endif
