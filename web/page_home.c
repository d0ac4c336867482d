/*
 * page_home: the overview the office opens first (GET /). What needs
 * someone now (a missed or unscheduled anniversary, a paused campaign,
 * the daemon or the relay down, reports in quarantine, a ledger never
 * or badly verified), then the campaigns due, then the machinery as
 * `chancery status` prints it. It reads what `chancery status` reads
 * (status_load) and changes nothing.
 *
 * Query: days=N (0 to STATUS_DAYS_MAX, default 30), the window of "due".
 *
 * Stable ids for the tests: ul#attention with li.attention[data-kind=
 * "daemon|relay|missed|passed|unscheduled|paused|quarantine|verify"],
 * p#all-clear when nothing needs anyone; table#due with tr.due[data-name]
 * (td.when, td.state, td.approvals), p#none-due; table#missed with
 * tr.missed[data-name]; pre#status (the CLI's text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/status.h"
#include "pages.h"

#define DAYS_DEFAULT 30

/* The window of "due" from ?days=, or -1 when it is not a number of days. */
static int window_days(const struct web_request *rq)
{
	const char *v = web_param(rq, "days");
	char *end;
	long days;

	if (!v || !*v)
		return DAYS_DEFAULT;
	days = strtol(v, &end, 10);
	if (*end || days < 0 || days > STATUS_DAYS_MAX)
		return -1;
	return (int)days;
}

static void item_begin(struct sbuf *out, const char *kind)
{
	web_htmlf(out, "<li class=\"attention\" data-kind=\"%s\">", kind);
}

static void attention_daemon(struct sbuf *out, const struct status *st)
{
	char at[32];

	if (st->daemon.state == STATUS_DAEMON_NEVER) {
		item_begin(out, "daemon");
		web_raw(out, "The daemon has never run against this database: "
			     "nothing is sent until it does.</li>\n");
	} else if (st->daemon.state == STATUS_DAEMON_STOPPED) {
		clock_format_utc(st->daemon.heartbeat_at, at, sizeof(at));
		item_begin(out, "daemon");
		web_htmlf(out, "The daemon is not running (last seen %s): "
			       "nothing is sent until it is started again.</li>"
			       "\n", at);
	}
}

static void attention_relay(struct sbuf *out, const struct status *st)
{
	char since[32];

	if (!st->relay.known || strcmp(st->relay.state, "ok") == 0)
		return;
	clock_format_utc(st->relay.since, since, sizeof(since));
	item_begin(out, "relay");
	web_htmlf(out, "The relay is %s since %s (%lld failed tries): mail "
		       "waits and is retried.", st->relay.state, since,
		  (long long)st->relay.failures);
	if (st->relay.last_error)
		web_htmlf(out, " Last error: %s", st->relay.last_error);
	web_raw(out, "</li>\n");
}

/* A campaign's name as a link to its page. */
static void campaign_link(struct sbuf *out, const struct status_campaign *c)
{
	web_htmlf(out, "<a href=\"/campaign/%lld\">%s</a>", (long long)c->id,
		  c->name);
}

/* What a campaign due soon still needs, or NULL when nothing: the kind
 * of its attention item and its text after the name. */
static const char *due_needs(const struct status *st,
			     const struct status_campaign *c,
			     const char **text)
{
	bool passed = c->send_at < st->now;

	if (strcmp(c->state, "paused") == 0) {
		*text = " is paused: nothing of it is sent until it is resumed.";
		return "paused";
	}
	if (passed && strcmp(c->state, "running") != 0) {
		*text = "'s send time has passed and it has not started.";
		return "passed";
	}
	if (strcmp(c->state, "draft") == 0 || strcmp(c->state, "approved") == 0) {
		*text = " is not scheduled yet: it will not be sent unless "
			"it is approved and scheduled before its send time.";
		return "unscheduled";
	}
	return NULL;
}

static void attention_campaigns(struct sbuf *out, const struct status *st)
{
	char when[96];

	for (size_t i = 0; i < st->nmissed; i++) {
		const struct status_campaign *c = &st->missed[i];

		web_format_when(c->tz, c->send_at, when, sizeof(when));
		item_begin(out, "missed");
		web_raw(out, "Campaign ");
		campaign_link(out, c);
		web_htmlf(out, " missed its send time, %s: give it a new one "
			       "or cancel it.</li>\n", when);
	}
	for (size_t i = 0; i < st->ndue; i++) {
		const struct status_campaign *c = &st->due[i];
		const char *text = NULL, *kind = due_needs(st, c, &text);

		if (!kind)
			continue;
		web_format_when(c->tz, c->send_at, when, sizeof(when));
		item_begin(out, kind);
		web_raw(out, "Campaign ");
		campaign_link(out, c);
		web_htmlf(out, " (%s, %s)%s", when, c->state, text);
		if (st->approvals_needed > c->approvals &&
		    strcmp(kind, "unscheduled") == 0)
			web_htmlf(out, " Approvals: %d of %d.", c->approvals,
				  st->approvals_needed);
		web_raw(out, "</li>\n");
	}
}

/* Reports in quarantine wait for a decision (confirm or dismiss); the
 * messages kept unreadable have none to wait for, so they are in the
 * status text below, not here. */
static void attention_inbox(struct sbuf *out, const struct status *st)
{
	if (st->quarantined_reports > 0) {
		item_begin(out, "quarantine");
		web_htmlf(out, "<a href=\"/inbound\">%lld bounce report%s</a> "
			       "wait%s in quarantine: confirm or dismiss.</li>\n",
			  (long long)st->quarantined_reports,
			  st->quarantined_reports == 1 ? "" : "s",
			  st->quarantined_reports == 1 ? "s" : "");
	}
}

static void attention_ledger(struct sbuf *out, const struct status *st)
{
	if (st->verify.known && st->verify.ok)
		return;
	item_begin(out, "verify");
	if (!st->verify.known)
		web_raw(out, "The audit ledger has never been verified: "
			     "<a href=\"/audit\">verify it</a>.</li>\n");
	else
		web_htmlf(out, "The last verification found the audit ledger "
			       "BROKEN: %s (<a href=\"/audit\">the audit</a>)."
			       "</li>\n",
			  st->verify.problem ? st->verify.problem : "");
}

static void add_attention(struct sbuf *out, const struct status *st)
{
	size_t before;
	bool any;

	web_raw(out, "<section id=\"needs\"><h2>Needs attention</h2>\n"
		     "<ul id=\"attention\">\n");
	before = out->len;
	attention_campaigns(out, st);
	attention_daemon(out, st);
	attention_relay(out, st);
	attention_inbox(out, st);
	attention_ledger(out, st);
	any = out->len > before;
	web_raw(out, "</ul>\n");
	if (!any)
		web_raw(out, "<p id=\"all-clear\">Nothing needs anyone now.</p>"
			     "\n");
	web_raw(out, "</section>\n");
}

static void due_row(struct sbuf *out, const struct status *st,
		    const struct status_campaign *c, const char *cls)
{
	char when[96], approvals[32] = "";

	web_format_when(c->tz, c->send_at, when, sizeof(when));
	if (st->approvals_needed > 0)
		snprintf(approvals, sizeof(approvals), "%d of %d",
			 c->approvals, st->approvals_needed);
	web_htmlf(out, "<tr class=\"%s\" data-name=\"%s\"><td>", cls,
		  c->name);
	campaign_link(out, c);
	web_htmlf(out, "</td><td class=\"when\">%s</td><td class=\"state\">"
		       "%s</td><td class=\"approvals\">%s</td></tr>\n",
		  when, c->state, approvals);
}

/* A table of campaigns, id table_id, each row of class cls. */
static void campaign_table(struct sbuf *out, const struct status *st,
			   const char *table_id, const char *cls,
			   const struct status_campaign *v, size_t n)
{
	web_htmlf(out, "<table id=\"%s\">", table_id);
	web_raw(out, "<thead><tr><th>Campaign</th><th>Sends</th>"
		     "<th>State</th><th>Approvals</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++)
		due_row(out, st, &v[i], cls);
	web_raw(out, "</tbody></table>\n");
}

static void add_campaigns(struct sbuf *out, const struct status *st)
{
	web_htmlf(out, "<section id=\"coming\"><h2>Due in the next %d days"
		       "</h2>\n", st->days);
	if (st->ndue)
		campaign_table(out, st, "due", "due", st->due, st->ndue);
	else
		web_raw(out, "<p id=\"none-due\">No campaign is due.</p>\n");
	if (st->nmissed) {
		web_raw(out, "<h2>Missed</h2>\n");
		campaign_table(out, st, "missed", "missed", st->missed,
			       st->nmissed);
	}
	web_raw(out, "</section>\n");
}

WEB_HANDLER(page_home)
{
	struct error err = ERROR_INIT;
	struct sbuf text = SBUF_INIT;
	struct status st;
	int days = window_days(rq), rc;

	if (days < 0) {
		char msg[64];

		snprintf(msg, sizeof(msg), "days: not a number of days from 0 "
			 "to %d", STATUS_DAYS_MAX);
		return web_fail(rs, 400, rq, msg);
	}
	rc = status_load(ctx->db, clock_now(), days,
			 ctx->cfg->campaign.approvals, &st, &err);
	if (rc) {
		status_release(&st);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	web_page_begin(&rs->body, "Overview", rq->session);
	add_attention(&rs->body, &st);
	add_campaigns(&rs->body, &st);
	status_format_text(&st, &text);
	web_htmlf(&rs->body, "<section id=\"system\"><h2>Daemon, relay, queue "
			     "and ledger</h2>\n<pre id=\"status\">%s</pre>\n"
			     "</section>\n", text.buf);
	web_page_end(&rs->body);
	sbuf_release(&text);
	status_release(&st);
	return 0;
}
