/* kubelet.c -- the kubelet's CredentialProviderRequest on stdin, checked as
 * dc_kubelet_respond checks it, and its image's registry host
 * (dc_kubelet_request_check: nothing is resolved, no request is made). */
#include "front/kubelet.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_buf host = DC_BUF_INIT;

	(void)!dc_kubelet_request_check(&host, (const char *)data, size);
	dc_buf_release(&host);
	dc_error_clear();
	return 0;
}
