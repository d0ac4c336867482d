/*
 * page_inbound: what came back and could not be applied on its own. The
 * quarantine (report recipients that matched no delivery, or only by an
 * identifier anyone could forge: `chancery inbox quarantine`), each to
 * confirm as `chancery inbox confirm ID` does (bounce_confirm, with the
 * signed-in person as confirmed_by) or dismiss with a reason as
 * `chancery inbox dismiss ID --reason TEXT` does (bounce_dismiss: set
 * aside, nothing applied, the report kept); and the messages kept unread
 * (`chancery inbox list --kind unreadable`).
 *
 * Routes (web/routes.c, "inbound" group):
 *   GET  /inbound               the queue                   (read)
 *   POST /inbound/ID/confirm    confirm quarantined report  (edit)
 *   POST /inbound/ID/dismiss    dismiss it, field "reason"  (edit)
 *
 * Stable ids and names for the browser tests:
 *   table#quarantine, tr.quarantined#quarantine-ID[data-confirmed=
 *   "yes|no"][data-state="open|confirmed|dismissed"], td.reason;
 *   div#confirm-box-ID holding button#confirm-ID (the form posts to
 *   /inbound/ID/confirm); div#dismiss-box-ID holding input#dismiss-
 *   reason-ID[name=reason] and button#dismiss-ID (the form posts to
 *   /inbound/ID/dismiss); table#unreadable, tr.unreadable#inbound-ID;
 *   p#no-quarantine, p#no-unreadable when empty; ul#notes (what the
 *   confirmation did).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce.h"
#include "chancery/clock.h"
#include "chancery/inbox.h"
#include "pages.h"

struct queue_walk {
	struct sbuf *out;
	const struct user_session *s;
	int rows;
};

static int quarantine_row(const struct bounce_quarantined *q, void *arg)
{
	struct queue_walk *w = arg;
	char when[32], id[32], target[64];

	clock_format_utc(q->created_at, when, sizeof(when));
	snprintf(id, sizeof(id), "%lld", (long long)q->id);
	web_htmlf(w->out, "<tr class=\"quarantined\" id=\"quarantine-%s\" "
		  "data-confirmed=\"%s\" data-state=\"%s\"><td>%s</td>"
		  "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
		  "<td>%s</td>", id, q->confirmed_by ? "yes" : "no",
		  q->confirmed_by   ? "confirmed"
		  : q->dismissed_by ? "dismissed"
				    : "open",
		  id, when, q->format,
		  q->action, q->recipient ? q->recipient : "",
		  q->status ? q->status : "", q->klass ? q->klass : "");
	if (q->delivery_id)
		web_htmlf(w->out, "<td>%lld</td>", (long long)q->delivery_id);
	else
		web_raw(w->out, "<td></td>");
	web_htmlf(w->out, "<td class=\"reason\">%s</td><td>%s</td><td>",
		  q->reason, q->diagnostic ? q->diagnostic : "");
	if (q->confirmed_by) {
		clock_format_utc(q->confirmed_at, when, sizeof(when));
		web_htmlf(w->out, "confirmed by %s at %s", q->confirmed_by,
			  when);
	} else if (q->dismissed_by) {
		clock_format_utc(q->dismissed_at, when, sizeof(when));
		web_htmlf(w->out, "dismissed by %s at %s: %s", q->dismissed_by,
			  when, q->dismiss_reason ? q->dismiss_reason : "");
	} else if (q->delivery_id && user_may(w->s->user.role, USER_EDIT)) {
		snprintf(target, sizeof(target), "/inbound/%s/confirm", id);
		web_htmlf(w->out, "<div id=\"confirm-box-%s\">", id);
		web_form_begin(w->out, target, w->s);
		web_htmlf(w->out, "<button type=\"submit\" id=\"confirm-%s\" "
			  "data-confirm=\"Apply this report to delivery %lld?"
			  "\">Confirm</button>", id,
			  (long long)q->delivery_id);
		web_form_end(w->out);
		web_raw(w->out, "</div>");
	} else if (!q->delivery_id) {
		web_raw(w->out, "matched no delivery");
	}
	if (!q->confirmed_by && !q->dismissed_by &&
	    user_may(w->s->user.role, USER_EDIT)) {
		snprintf(target, sizeof(target), "/inbound/%s/dismiss", id);
		web_htmlf(w->out, "<div id=\"dismiss-box-%s\">", id);
		web_form_begin(w->out, target, w->s);
		web_htmlf(w->out, "<input type=\"text\" name=\"reason\" "
			  "id=\"dismiss-reason-%s\" required maxlength=\"%d\" "
			  "placeholder=\"why it is not applied\"> "
			  "<button type=\"submit\" id=\"dismiss-%s\">Dismiss"
			  "</button>", id, BOUNCE_DISMISS_REASON_MAX, id);
		web_form_end(w->out);
		web_raw(w->out, "</div>");
	}
	web_raw(w->out, "</td></tr>\n");
	w->rows++;
	return 0;
}

static int unreadable_row(const struct inbox_row *r, void *arg)
{
	struct queue_walk *w = arg;
	char when[32], id[32];

	clock_format_utc(r->received_at, when, sizeof(when));
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	web_htmlf(w->out, "<tr class=\"unreadable\" id=\"inbound-%s\"><td>%s"
		  "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
		  "<td class=\"reason\">%s</td></tr>\n", id, id, when,
		  r->source, r->origin ? r->origin : "",
		  r->sender ? r->sender : "", r->subject ? r->subject : "",
		  r->reason ? r->reason : "");
	w->rows++;
	return 0;
}

/* The queue page, after an action's outcome (notice or error). */
static int show_queue(struct web_ctx *ctx, const struct web_request *rq,
		      struct web_response *rs, int status, const char *notice,
		      const char *notes, const char *error)
{
	struct error err = ERROR_INIT;
	struct sbuf rows = SBUF_INIT, unread = SBUF_INIT;
	struct queue_walk q = {&rows, rq->session, 0};
	struct queue_walk u = {&unread, rq->session, 0};
	int rc = bounce_quarantine_each(ctx->db, quarantine_row, &q, &err);

	if (!rc)
		rc = inbox_each(ctx->db, "unreadable", unreadable_row, &u, &err);
	if (rc) {
		sbuf_release(&rows);
		sbuf_release(&unread);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	web_page_begin(&rs->body, "Inbound", rq->session);
	if (notice)
		web_notice_box(&rs->body, notice);
	if (error)
		web_error_box(&rs->body, error);
	if (notes && *notes) {
		const char *p = notes;

		web_raw(&rs->body, "<ul id=\"notes\">\n");
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			struct sbuf one = SBUF_INIT;

			sbuf_add(&one, p, len);
			web_htmlf(&rs->body, "<li>%s</li>\n", one.buf);
			sbuf_release(&one);
			p += len + (nl ? 1 : 0);
		}
		web_raw(&rs->body, "</ul>\n");
	}
	web_raw(&rs->body, "<h2>Quarantined reports</h2>\n<p>Report recipients "
			   "that matched no delivery, or matched one only by "
			   "what anyone could forge. Confirming applies the "
			   "report to the delivery it matched, as <code>chancery "
			   "inbox confirm ID</code> does; dismissing sets it "
			   "aside with a reason and applies nothing, as "
			   "<code>chancery inbox dismiss ID --reason TEXT</code> "
			   "does.</p>\n");
	if (q.rows) {
		web_raw(&rs->body, "<table id=\"quarantine\"><thead><tr>"
				   "<th>#</th><th>Received</th><th>Format</th>"
				   "<th>Action</th><th>Recipient</th>"
				   "<th>Status</th><th>Class</th><th>Delivery</th>"
				   "<th>Why quarantined</th><th>Diagnostic</th>"
				   "<th></th></tr></thead><tbody>\n");
		sbuf_add(&rs->body, rows.buf, rows.len);
		web_raw(&rs->body, "</tbody></table>\n");
	} else {
		web_raw(&rs->body, "<p id=\"no-quarantine\">Nothing is "
				   "quarantined.</p>\n");
	}
	web_raw(&rs->body, "<h2>Messages kept unread</h2>\n");
	if (u.rows) {
		web_raw(&rs->body, "<table id=\"unreadable\"><thead><tr>"
				   "<th>#</th><th>Received</th><th>Source</th>"
				   "<th>Origin</th><th>From</th><th>Subject</th>"
				   "<th>Why</th></tr></thead><tbody>\n");
		sbuf_add(&rs->body, unread.buf, unread.len);
		web_raw(&rs->body, "</tbody></table>\n");
	} else {
		web_raw(&rs->body, "<p id=\"no-unreadable\">No message was kept "
				   "unread.</p>\n");
	}
	web_page_end(&rs->body);
	rs->status = status;
	sbuf_release(&rows);
	sbuf_release(&unread);
	return 0;
}

WEB_HANDLER(page_inbound)
{
	return show_queue(ctx, rq, rs, 200, NULL, NULL, NULL);
}

static void gather_note(const char *line, void *arg)
{
	struct sbuf *notes = arg;

	sbuf_addstr(notes, line);
	sbuf_addch(notes, '\n');
}

/* POST /inbound/ID/dismiss: bounce_dismiss with the form's reason. */
static int inbound_dismiss(struct web_ctx *ctx, const struct web_request *rq,
			   struct web_response *rs, long long id)
{
	struct sbuf notice = SBUF_INIT;
	struct error err = ERROR_INIT;
	const char *actor = db_actor(ctx->db);
	int rc = bounce_dismiss(ctx->db, id, actor, web_param(rq, "reason"),
				&err);

	if (!rc)
		sbuf_addf(&notice, "quarantined report #%lld dismissed by %s",
			  id, actor ? actor : "the system");
	rc = show_queue(ctx, rq, rs, rc ? web_error_status(rc) : 200,
			rc ? NULL : notice.buf, NULL, rc ? err.msg : NULL);
	sbuf_release(&notice);
	return rc;
}

WEB_HANDLER(page_inbound_confirm)
{
	static const char prefix[] = "/inbound/";
	struct sbuf notes = SBUF_INIT, notice = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct bounce_params p;
	struct bounce_result res;
	const char *path = rq->path + strlen(prefix);
	char *end = NULL;
	long long id;
	int rc;

	id = strtoll(path, &end, 10);
	if (path[0] < '1' || path[0] > '9' || id < 1)
		return web_fail(rs, 404, rq, "no such page");
	if (strcmp(end, "/dismiss") == 0)
		return inbound_dismiss(ctx, rq, rs, id);
	if (strcmp(end, "/confirm") != 0)
		return web_fail(rs, 404, rq, "no such page");
	bounce_params_init(&p, ctx->cfg);
	rc = bounce_confirm(ctx->db, id, db_actor(ctx->db), &p, &res,
			    gather_note, &notes, &err);
	if (!rc)
		sbuf_addf(&notice, "quarantined report #%lld confirmed by %s",
			  id, db_actor(ctx->db) ? db_actor(ctx->db)
						: "the system");
	rc = show_queue(ctx, rq, rs, rc ? web_error_status(rc) : 200,
			rc ? NULL : notice.buf, rc ? NULL : notes.buf,
			rc ? err.msg : NULL);
	sbuf_release(&notes);
	sbuf_release(&notice);
	return rc;
}
