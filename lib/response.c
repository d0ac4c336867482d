#include <stdlib.h>
#include <string.h>

#include "chancery/response.h"

/* Placeholder until the responses work lands: recognises nothing. */
int response_parse(const char *data, size_t len, struct response *out,
		   struct error *err)
{
	(void)data;
	(void)len;
	(void)err;
	memset(out, 0, sizeof(*out));
	return 0;
}

void response_release(struct response *r)
{
	free(r->disposition);
	free(r->sender);
	for (size_t i = 0; i < r->nrefs; i++)
		free(r->refs[i]);
	free(r->refs);
	memset(r, 0, sizeof(*r));
}

int response_apply(struct db *db, int64_t inbound_id,
		   const struct response *r, int64_t *delivery_id,
		   struct error *err)
{
	(void)db;
	(void)inbound_id;
	(void)r;
	(void)err;
	*delivery_id = 0;
	return 0;
}
