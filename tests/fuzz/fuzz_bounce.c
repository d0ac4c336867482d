/* Fuzzes the delivery-report parser (RFC 3464 DSNs and the Postfix, Exim
 * and Exchange text bounces) on whole messages. */
#include <stdint.h>

#include "chancery/bounce_report.h"
#include "chancery/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_report *r = NULL;
	struct error err = ERROR_INIT;

	mime_init();
	(void)bounce_report_parse((const char *)data, size, &r, &err);
	bounce_report_free(r);
	return 0;
}
