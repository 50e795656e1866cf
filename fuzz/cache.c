/* cache.c -- the cache's files as a shared volume may hold them: the first
 * byte chooses the entry's clear part (dc_cache_entry_check), an opened
 * entry's records (dc_cache_records_parse) or a state record
 * (dc_cache_state_check); the rest is the file. */
#include "core/cache.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_redactor *r = NULL;
	const char *text = (const char *)data + 1;
	time_t created, expires_at;

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 3) {
	case 0:
		(void)!dc_cache_entry_check(&created, &expires_at, text, size);
		break;
	case 1:
		if (dc_redactor_new(&r) < 0)
			break;
		if (dc_cache_records_parse(&list, r, text, size) < 0 && list.n)
			abort(); /* released on error */
		dc_cred_list_release(&list);
		dc_redactor_free(r);
		break;
	default:
		(void)dc_cache_state_check(text, size, 1795000000);
		break;
	}
	dc_error_clear();
	return 0;
}
