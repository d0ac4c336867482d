/* Fuzzes the response reader (MDNs, complaints, automatic answers,
 * replies: RFC 2047 subjects decoded word by word) on whole messages. */
#include <stdint.h>

#include "chancery/mime.h"
#include "chancery/response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct response r;
	struct error err = ERROR_INIT;

	mime_init();
	if (response_parse((const char *)data, size, &r, &err) == 0)
		response_release(&r);
	return 0;
}
