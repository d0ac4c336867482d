#include <string.h>

#include "chancery/bounce_report.h"
#include "chancery/inbox.h"

/* For now a report only: the parse error is returned (issue 20 makes
 * every message kept). */
int inbox_take(struct db *db, const struct conf *cfg,
	       const struct inbox_message *m, struct inbox_result *res,
	       bounce_note_fn note, void *arg, struct error *err)
{
	struct bounce_report *r = NULL;
	int rc = bounce_report_parse(m->raw, m->len, &r, err);

	memset(res, 0, sizeof(*res));
	if (!rc)
		rc = bounce_process(db, r, m->raw, m->len,
				    cfg->bounce_threshold, &res->bounce, note,
				    arg, err);
	if (!rc) {
		res->kind = "report";
		res->inbound_id = 0;
		res->duplicate = res->bounce.duplicate;
	}
	bounce_report_free(r);
	return rc;
}
