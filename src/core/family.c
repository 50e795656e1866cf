/* family.c -- see family.h. */
#include "core/family.h"

void dc_cache_key_release(dc_cache_key *k)
{
	dc_buf_release(&k->principal);
	dc_buf_release(&k->scope);
	dc_sec_release(&k->seal);
}
