/*
 * page_campaigns: the campaigns, each with its state, deliveries and
 * progress, its proofs, a test send, and the sign-off: approve or reject
 * (with the plan an approval freezes shown first), schedule, a new send
 * time (a missed anniversary's way out), pause, resume, cancel. Every
 * action is the library call the CLI makes (cli/cmd_campaign.c,
 * cli/cmd_campaign_proof.c), and a refusal shows the library's text.
 *
 * Routes (web/routes.c, "campaigns" group):
 *   GET  /campaigns                      the list            (read)
 *   GET  /campaign/ID                    one campaign        (read)
 *   GET  /campaign/ID/progress.json      live counts (JSON)  (read)
 *   GET  /campaign/ID/proofs             the proofs          (read)
 *   POST /campaign/ID/ACTION             test, schedule, reschedule,
 *                                        pause, resume, cancel (edit)
 *   POST /approval/ID/approve|reject     sign-off            (approve)
 *
 * Stable ids and names for the browser tests:
 *   list:     table#campaigns, tr.campaign[data-name], a.campaign-link,
 *             td.campaign-state
 *   campaign: #campaign-name, #campaign-state, #campaign-send-at,
 *             #campaign-template, #campaign-list, #campaign-language;
 *             table#delivery-counts with td#count-STATE (each of
 *             campaign_delivery_states) and td#count-total;
 *             div#progress[data-url] with progress#progress-bar and
 *             span#progress-text, kept current by /static/progress.js;
 *             ul#approvals > li.approval, p#rejection;
 *             section#plan: #plan-summary, #plan-sha256, table#recipients
 *             (tr.recipient), ul#unreached, table#languages,
 *             ul#fallbacks, ul#salutations;
 *             a#proofs-link, a#audit-link;
 *             each action's form sits in div#ACTION-box (web_form_begin
 *             gives the form no id) and ends with button#ACTION-submit:
 *             div#test-box (input[name=to]#test-to,
 *               input[name=body]#test-body, button#test-submit);
 *             div#approve-box (input[name=schedule]#approve-schedule,
 *               input[name=now]#approve-now, button#approve-submit);
 *             div#reject-box (input[name=reason]#reject-reason,
 *               button#reject-submit);
 *             div#schedule-box (input[name=now]#schedule-now,
 *               button#schedule-submit);
 *             div#reschedule-box (input[name=at]#reschedule-at,
 *               input[name=now]#reschedule-now,
 *               button#reschedule-submit);
 *             div#pause-box, #resume-box, #cancel-box
 *               (button#pause-submit, ...);
 *             the outcome: div.notice / div.error (web_notice_box,
 *             web_error_box), ul#problems for schedule's list.
 *   proofs:   p#proof-summary; section.proof#proof-N with h2, pre.members,
 *             .proof-lang, .proof-subject, pre.proof-text#proof-N-text,
 *             iframe.proof-html#proof-N-html (sandboxed, srcdoc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/campaign_proof.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/xalloc.h"
#include "pages.h"

/*
 * "/campaign/12/proofs" with prefix "/campaign/": *id 12, *rest "proofs"
 * ("" when nothing follows). 0, or -1 when the path names no id.
 */
static int parse_path(const char *path, const char *prefix, int64_t *id,
		      const char **rest)
{
	size_t n = strlen(prefix);
	char *end;
	long long v;

	if (strncmp(path, prefix, n) != 0 || path[n] < '1' || path[n] > '9')
		return -1;
	v = strtoll(path + n, &end, 10);
	if (v <= 0 || (*end && *end != '/'))
		return -1;
	*id = v;
	*rest = *end ? end + 1 : end;
	return 0;
}

/* The campaign's delivery counts that will not move again on their own:
 * all but pending, sending and deferred (the CLI's --follow). */
static int settled_of(const struct campaign_counts *n)
{
	int busy = 0;

	for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++) {
		const char *s = campaign_delivery_states[i];

		if (!strcmp(s, "pending") || !strcmp(s, "sending") ||
		    !strcmp(s, "deferred"))
			busy += n->by_state[i];
	}
	return n->total - busy;
}

/* /static/progress.js: keeps a campaign page's counts current. It reads
 * div#progress[data-url] (the campaign's progress.json) every 3 s,
 * updates progress#progress-bar, span#progress-text, #campaign-state and
 * the td#count-STATE cells, and stops once the campaign is finished.
 * A file, not inline script: the CSP allows scripts from 'self' only. */
const char web_progress_js[] =
	"(function () {\n"
	"  \"use strict\";\n"
	"  var box = document.getElementById(\"progress\");\n"
	"  if (!box || !box.dataset.url) return;\n"
	"  var url = box.dataset.url;\n"
	"  var bar = document.getElementById(\"progress-bar\");\n"
	"  var text = document.getElementById(\"progress-text\");\n"
	"  var state = document.getElementById(\"campaign-state\");\n"
	"  var delay = 3000;\n"
	"\n"
	"  function show(p) {\n"
	"    if (bar) {\n"
	"      bar.max = p.total > 0 ? p.total : 1;\n"
	"      bar.value = p.settled;\n"
	"    }\n"
	"    if (text)\n"
	"      text.textContent = p.settled + \" of \" + p.total + \" settled (\" +\n"
	"        p.state + \")\";\n"
	"    if (state) state.textContent = p.state;\n"
	"    var total = document.getElementById(\"count-total\");\n"
	"    if (total) total.textContent = String(p.total);\n"
	"    Object.keys(p.deliveries || {}).forEach(function (k) {\n"
	"      var cell = document.getElementById(\"count-\" + k);\n"
	"      if (cell) cell.textContent = String(p.deliveries[k]);\n"
	"    });\n"
	"    box.dataset.state = p.state;\n"
	"    box.dataset.finished = p.finished ? \"yes\" : \"no\";\n"
	"  }\n"
	"\n"
	"  function poll() {\n"
	"    fetch(url, {credentials: \"same-origin\", cache: \"no-store\"})\n"
	"      .then(function (r) {\n"
	"        if (!r.ok) throw new Error(\"HTTP \" + r.status);\n"
	"        return r.json();\n"
	"      })\n"
	"      .then(function (p) {\n"
	"        show(p);\n"
	"        if (!p.finished) setTimeout(poll, delay);\n"
	"      })\n"
	"      .catch(function () { setTimeout(poll, delay * 3); });\n"
	"  }\n"
	"  poll();\n"
	"})();\n";

/* ---- the list ---- */

static int approver_names(const struct campaign_approval *a, void *arg)
{
	struct sbuf *sb = arg;

	sbuf_addf(sb, "%s%s", sb->len ? ", " : "",
		  a->actor ? a->actor : "(system)");
	return 0;
}

struct list_walk {
	struct db *db;
	struct sbuf *out;
	int rows;
};

static int list_row(const struct campaign_info *c, void *arg)
{
	struct list_walk *w = arg;
	struct sbuf approvers = SBUF_INIT;
	struct error err = ERROR_INIT;
	char when[96], id[32];
	int rc;

	web_format_when(c->tz, c->send_at, when, sizeof(when));
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	rc = campaign_approvals_each(w->db, c->id, approver_names, &approvers,
				     &err);
	web_htmlf(w->out, "<tr class=\"campaign\" data-name=\"%s\">"
		  "<td><a class=\"campaign-link\" href=\"/campaign/%s\">%s</a>"
		  "</td><td class=\"campaign-state\">%s</td><td>%s</td>"
		  "<td>%s v%d</td><td>%s</td><td>%s</td></tr>\n",
		  c->name, id, c->name, campaign_state_name(c->state), when,
		  c->template_name, c->template_version, c->list_name,
		  approvers.buf);
	sbuf_release(&approvers);
	w->rows++;
	return rc;
}

WEB_HANDLER(page_campaigns)
{
	struct error err = ERROR_INIT;
	struct list_walk w = {ctx->db, &rs->body, 0};
	int rc;

	web_page_begin(&rs->body, "Campaigns", rq->session);
	web_raw(&rs->body, "<table id=\"campaigns\"><thead><tr><th>Name</th>"
			   "<th>State</th><th>Sends</th><th>Template</th>"
			   "<th>List</th><th>Approved by</th></tr></thead>"
			   "<tbody>\n");
	rc = campaign_each(ctx->db, list_row, &w, &err);
	web_raw(&rs->body, "</tbody></table>\n");
	if (rc)
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	if (!w.rows)
		web_raw(&rs->body, "<p id=\"no-campaigns\">No campaign yet."
				   "</p>\n");
	if (user_may(rq->session->user.role, USER_EDIT))
		web_raw(&rs->body, "<p><a id=\"new-campaign-link\" "
				   "href=\"/campaigns/new\">New campaign</a> "
				   "(a series makes each year's anniversary "
				   "campaign itself)</p>\n");
	web_page_end(&rs->body);
	return 0;
}

/* ---- one campaign ---- */

static int approval_item(const struct campaign_approval *a, void *arg)
{
	const struct campaign_info *c = ((void **)arg)[0];
	struct sbuf *out = ((void **)arg)[1];
	char when[96];

	web_format_when(c->tz, a->at, when, sizeof(when));
	web_htmlf(out, "<li class=\"approval\">approved by <span "
		  "class=\"actor\">%s</span> at %s (template sha256 %s, %d "
		  "recipients, %d bodies not reached)</li>\n",
		  a->actor ? a->actor : "the system", when, a->template_sha256,
		  a->recipients, a->unreached);
	return 0;
}

static void add_info(struct sbuf *out, const struct campaign_info *c)
{
	char when[96];

	web_format_when(c->tz, c->send_at, when, sizeof(when));
	web_htmlf(out, "<dl class=\"fields\" id=\"campaign-info\">"
		  "<dt>Campaign</dt><dd id=\"campaign-name\">%s</dd>"
		  "<dt>State</dt><dd id=\"campaign-state\">%s</dd>"
		  "<dt>Sends</dt><dd id=\"campaign-send-at\">%s</dd>",
		  c->name, campaign_state_name(c->state), when);
	web_raw(out, "<dt>Template</dt><dd id=\"campaign-template\">"
		     "<a href=\"/template?name=");
	web_url(out, c->template_name);
	web_htmlf(out, "&amp;version=%d\">%s v%d</a> (sha256 %s)</dd>",
		  c->template_version, c->template_name, c->template_version,
		  c->template_sha256);
	web_htmlf(out, "<dt>List</dt><dd id=\"campaign-list\">%s</dd>"
		  "<dt>Language</dt><dd id=\"campaign-language\">%s</dd>",
		  c->list_name, c->language ? c->language
					    : "(campaign.language)");
	if (c->event_date)
		web_htmlf(out, "<dt>Event</dt><dd id=\"campaign-event\">%s</dd>",
			  c->event_date);
	if (c->receipt)
		web_raw(out, "<dt>Receipt</dt><dd id=\"campaign-receipt\">"
			     "requested (Disposition-Notification-To)</dd>");
	if (c->started_at) {
		web_format_when(c->tz, c->started_at, when, sizeof(when));
		web_htmlf(out, "<dt>Started</dt><dd id=\"campaign-started\">%s"
			  "</dd>", when);
	}
	if (c->finished_at) {
		web_format_when(c->tz, c->finished_at, when, sizeof(when));
		web_htmlf(out, "<dt>Finished</dt><dd id=\"campaign-finished\">"
			  "%s</dd>", when);
	}
	if (c->created_by)
		web_htmlf(out, "<dt>Created by</dt><dd id=\"campaign-created-by\">"
			  "%s</dd>", c->created_by);
	if (c->edited_by)
		web_htmlf(out, "<dt>Last edited by</dt><dd "
			  "id=\"campaign-edited-by\">%s</dd>", c->edited_by);
	if (c->state == CAMPAIGN_MISSED)
		web_raw(out, "<dt>Missed</dt><dd>its send time passed before "
			     "it was scheduled; nothing was sent (cancel it, or "
			     "edit it to a new send time)</dd>");
	web_raw(out, "</dl>\n");
}

static void add_counts(struct sbuf *out, const struct campaign_info *c,
		       const struct campaign_counts *n)
{
	char id[32];
	int settled = settled_of(n);

	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	web_raw(out, "<section id=\"deliveries\"><h2>Deliveries</h2>\n");
	web_htmlf(out, "<div id=\"progress\" data-url=\"/campaign/%s/"
		  "progress.json\"><progress id=\"progress-bar\" max=\"%d\" "
		  "value=\"%d\"></progress> <span id=\"progress-text\">%d of %d "
		  "settled (%s)</span></div>\n", id, n->total ? n->total : 1,
		  settled, settled, n->total, campaign_state_name(c->state));
	web_raw(out, "<table id=\"delivery-counts\"><thead><tr><th>Status</th>"
		     "<th>Deliveries</th></tr></thead><tbody>\n");
	for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++)
		web_htmlf(out, "<tr><td>%s</td><td id=\"count-%s\">%d</td></tr>\n",
			  campaign_delivery_states[i],
			  campaign_delivery_states[i], n->by_state[i]);
	web_htmlf(out, "<tr><td>total</td><td id=\"count-total\">%d</td></tr>"
		  "</tbody></table>\n", n->total);
	web_raw(out, "<script src=\"/static/progress.js\"></script>\n"
		     "</section>\n");
}

static void add_sign_off(struct sbuf *out, struct db *db,
			 const struct campaign_info *c)
{
	struct error err = ERROR_INIT;
	char *actor = NULL, *reason = NULL, when[96];
	void *args[2] = {(void *)c, out};
	int64_t at;

	web_raw(out, "<section id=\"sign-off\"><h2>Sign-off</h2>\n"
		     "<ul id=\"approvals\">\n");
	if (campaign_approvals_each(db, c->id, approval_item, args, &err))
		web_error_box(out, err.msg);
	web_raw(out, "</ul>\n");
	if (campaign_last_rejection(db, c->id, &actor, &at, &reason,
				    &err) == 0) {
		web_format_when(c->tz, at, when, sizeof(when));
		web_htmlf(out, "<p id=\"rejection\">rejected by %s at %s: %s</p>\n",
			  actor ? actor : "the system", when,
			  reason ? reason : "");
	}
	free(actor);
	free(reason);
	web_raw(out, "</section>\n");
}

/* ---- the plan ---- */

struct plan_rows {
	struct sbuf *out;
	int rows;
};

static int recipient_row(const struct campaign_recipient *r, void *arg)
{
	struct plan_rows *p = arg;

	web_htmlf(p->out, "<tr class=\"recipient\"><td>%s</td><td>%s</td>"
		  "<td>%s</td><td>%s</td></tr>\n", r->body, r->email,
		  r->status, r->skip_reason ? r->skip_reason : "");
	p->rows++;
	return 0;
}

/* Splits the tab-separated line at *pos into at most max fields (in
 * place); returns how many, 0 at the end. */
static int next_fields(char **pos, char **f, int max)
{
	char *line = *pos, *nl;
	int n = 0;

	if (!*line)
		return 0;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	*pos = nl ? nl + 1 : line + strlen(line);
	while (n < max) {
		char *tab = strchr(line, '\t');

		f[n++] = line;
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

/* The plan's warnings, languages, fallbacks and salutations (the
 * sbufs are cut up in place). */
static void add_plan_lines(struct sbuf *out, struct campaign_plan *p)
{
	char *pos, *f[5];
	int n;

	web_raw(out, "<h3>Bodies not reached</h3><ul id=\"unreached\">\n");
	pos = p->warnings.buf;
	while ((n = next_fields(&pos, f, 1)) > 0)
		web_htmlf(out, "<li>%s</li>\n", f[0]);
	web_raw(out, "</ul>\n");
	if (p->languages.len) {
		web_raw(out, "<h3>Languages</h3><table id=\"languages\"><thead>"
			     "<tr><th>Language</th><th>Contacts</th>"
			     "<th>Bodies</th></tr></thead><tbody>\n");
		pos = p->languages.buf;
		while ((n = next_fields(&pos, f, 3)) > 0)
			if (n == 3)
				web_htmlf(out, "<tr class=\"language\"><td>%s"
					  "</td><td>%s</td><td>%s</td></tr>\n",
					  f[0], f[1], f[2]);
		web_raw(out, "</tbody></table>\n");
	}
	web_raw(out, "<ul id=\"fallbacks\">\n");
	pos = p->fallbacks.buf;
	while ((n = next_fields(&pos, f, 5)) > 0)
		if (n == 5)
			web_htmlf(out, "<li>%s (%s) speaks %s, no variant in "
				  "it: gets %s (%s)</li>\n", f[0], f[1], f[2],
				  f[3], f[4]);
	web_raw(out, "</ul>\n<ul id=\"salutations\">\n");
	pos = p->salutations.buf;
	while ((n = next_fields(&pos, f, 4)) > 0)
		if (n == 4)
			web_htmlf(out, "<li>%s (%s) gets \"%s\" (%s)</li>\n",
				  f[0], f[1], f[2], f[3]);
	web_raw(out, "</ul>\n");
}

/*
 * The plan: for a draft, what approving now would freeze (computed and
 * rolled back); for a campaign holding a frozen set, that set.
 */
static void add_plan(struct sbuf *out, struct web_ctx *ctx,
		     const struct campaign_info *c)
{
	struct error err = ERROR_INIT;
	struct campaign_plan plan;
	struct sbuf rows = SBUF_INIT;
	struct plan_rows pr = {&rows, 0};
	bool draft = c->state == CAMPAIGN_DRAFT;
	int rc;

	campaign_plan_init(&plan);
	web_raw(out, "<section id=\"plan\"><h2>");
	web_raw(out, draft ? "What an approval now freezes" :
			     "The frozen recipient set");
	web_raw(out, "</h2>\n");
	if (draft)
		rc = campaign_plan_preview(ctx->db, ctx->cfg, c->id, &plan,
					   recipient_row, &pr, &err);
	else if ((rc = campaign_plan_read(ctx->db, c->id, &plan, &err)) == 0)
		rc = campaign_recipients_each(ctx->db, c->id, recipient_row,
					      &pr, &err);
	if (rc) {
		web_error_box(out, err.msg);
		goto out;
	}
	if (!draft && !pr.rows) {
		web_raw(out, "<p id=\"plan-summary\">No recipient set is "
			     "frozen (it is frozen by an approval).</p>\n");
		goto out;
	}
	web_htmlf(out, "<p id=\"plan-summary\">plan: %d bodies, %d contacts "
		  "to send to, %d not sendable (skipped), %d bodies not "
		  "reached</p>\n<p>recipients sha256: <code id=\"plan-sha256\">"
		  "%s</code></p>\n", plan.bodies, plan.recipients, plan.skipped,
		  plan.unreached, plan.recipients_sha256);
	if (plan.voided_earlier)
		web_raw(out, "<p class=\"warning\">the recipients changed since "
			     "the earlier approval, which no longer counts</p>");
	web_raw(out, "<table id=\"recipients\"><thead><tr><th>Body</th>"
		     "<th>Address</th><th>Status</th><th>Not sent because</th>"
		     "</tr></thead><tbody>\n");
	sbuf_add(out, rows.buf, rows.len);
	web_raw(out, "</tbody></table>\n");
	add_plan_lines(out, &plan);
out:
	web_raw(out, "</section>\n");
	campaign_plan_release(&plan);
	sbuf_release(&rows);
}

/* ---- actions ---- */

/* One form with one button, posting to /campaign/ID/action. */
static void add_button(struct sbuf *out, const struct user_session *s,
		       const char *base, const char *action, const char *label,
		       const char *extra)
{
	struct sbuf target = SBUF_INIT;

	sbuf_addf(&target, "%s/%s", base, action);
	web_htmlf(out, "<div class=\"action\" id=\"%s-box\">", action);
	web_form_begin(out, target.buf, s);
	if (extra)
		web_raw(out, extra);
	web_htmlf(out, "<button type=\"submit\" id=\"%s-submit\"", action);
	if (!strcmp(action, "cancel")) /* chancery.js asks first */
		web_raw(out, " class=\"danger\" data-confirm=\"Cancel this "
			     "campaign and its pending deliveries?\"");
	web_htmlf(out, ">%s</button>", label);
	web_form_end(out);
	web_raw(out, "</div>\n");
	sbuf_release(&target);
}

/* The new send time: local time in the campaign's zone, as campaign
 * edit --at takes it, prefilled with the current one. */
static void add_reschedule(struct sbuf *out, const struct user_session *s,
			   const char *base, const struct campaign_info *c)
{
	struct sbuf extra = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct calendar_time t;
	char value[32] = "";

	if (calendar_from_utc(c->tz, c->send_at, &t, &err) == 0)
		snprintf(value, sizeof(value), "%04d-%02d-%02dT%02d:%02d",
			 t.year, t.month, t.day, t.hour, t.minute);
	web_htmlf(&extra, "<label>New send time (%s) <input type=\"datetime-"
			  "local\" name=\"at\" id=\"reschedule-at\" value="
			  "\"%s\"></label> <label><input type=\"checkbox\" "
			  "name=\"now\" value=\"1\" id=\"reschedule-now\"> "
			  "a time that has passed, or none: send at once"
			  "</label> ", c->tz, value);
	add_button(out, s, base, "reschedule", "Set the send time", extra.buf);
	sbuf_release(&extra);
}

static void add_actions(struct sbuf *out, struct web_ctx *ctx,
			const struct user_session *s,
			const struct campaign_info *c)
{
	enum campaign_state st = c->state;
	bool edit = user_may(s->user.role, USER_EDIT);
	bool approve = user_may(s->user.role, USER_APPROVE);
	char base[64], abase[64];

	snprintf(base, sizeof(base), "/campaign/%lld", (long long)c->id);
	snprintf(abase, sizeof(abase), "/approval/%lld", (long long)c->id);
	web_raw(out, "<section id=\"actions\"><h2>Check and act</h2>\n");
	web_htmlf(out, "<p><a id=\"proofs-link\" href=\"%s/proofs\">Proofs: "
		  "every distinct message this campaign sends</a> · <a "
		  "id=\"audit-link\" href=\"/audit/campaign?name=", base);
	web_url(out, c->name);
	web_raw(out, "\">Its audit: every addressee and what came back</a>"
		     "</p>\n");
	if (edit && st != CAMPAIGN_DONE && st != CAMPAIGN_CANCELLED)
		add_button(out, s, base, "test", "Send a test",
			   "<label>To <input type=\"email\" name=\"to\" "
			   "id=\"test-to\" required></label> <label>Body "
			   "(acronym; empty: the list's first) <input "
			   "type=\"text\" name=\"body\" id=\"test-body\">"
			   "</label> ");
	if (approve && st == CAMPAIGN_DRAFT)
		add_button(out, s, abase, "approve", "Approve",
			   "<label><input type=\"checkbox\" name=\"schedule\" "
			   "value=\"1\" id=\"approve-schedule\"> schedule it "
			   "too once approved</label> <label><input "
			   "type=\"checkbox\" name=\"now\" value=\"1\" "
			   "id=\"approve-now\"> accept a send time that has "
			   "passed: send at once</label> ");
	if (approve && (st == CAMPAIGN_DRAFT || st == CAMPAIGN_APPROVED ||
			st == CAMPAIGN_SCHEDULED || st == CAMPAIGN_PAUSED))
		add_button(out, s, abase, "reject", "Reject",
			   "<label>Reason <input type=\"text\" name=\"reason\" "
			   "id=\"reject-reason\" required></label> ");
	if (edit && (st == CAMPAIGN_APPROVED ||
		     (st == CAMPAIGN_DRAFT && ctx->cfg->campaign.approvals == 0)))
		add_button(out, s, base, "schedule", "Schedule",
			   "<label><input type=\"checkbox\" name=\"now\" "
			   "value=\"1\" id=\"schedule-now\"> accept a send "
			   "time that has passed: send at once</label> ");
	if (edit && (st == CAMPAIGN_DRAFT || st == CAMPAIGN_APPROVED ||
		     st == CAMPAIGN_PAUSED || st == CAMPAIGN_MISSED))
		add_reschedule(out, s, base, c);
	if (edit && (st == CAMPAIGN_SCHEDULED || st == CAMPAIGN_RUNNING))
		add_button(out, s, base, "pause", "Pause", NULL);
	if (edit && st == CAMPAIGN_PAUSED)
		add_button(out, s, base, "resume", "Resume", NULL);
	if (edit && (st == CAMPAIGN_DRAFT || st == CAMPAIGN_SCHEDULED ||
		     st == CAMPAIGN_RUNNING || st == CAMPAIGN_PAUSED ||
		     st == CAMPAIGN_MISSED))
		add_button(out, s, base, "cancel", "Cancel the campaign", NULL);
	web_raw(out, "</section>\n");
}

/*
 * The whole campaign page, with the outcome of an action first (notice
 * or error, and schedule's problems one a line). status: the HTTP
 * status to answer with.
 */
static int show_campaign(struct web_ctx *ctx, const struct web_request *rq,
			 struct web_response *rs, int64_t id, int status,
			 const char *notice, const char *error,
			 const char *problems)
{
	struct error err = ERROR_INIT;
	struct campaign_info c = {0};
	struct campaign_counts n;
	struct sbuf title = SBUF_INIT;
	int rc = campaign_get(ctx->db, id, &c, &err);

	if (!rc)
		rc = campaign_counts(ctx->db, id, &n, &err);
	if (rc) {
		campaign_info_release(&c);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	sbuf_addf(&title, "Campaign %s", c.name);
	web_page_begin(&rs->body, title.buf, rq->session);
	if (notice)
		web_notice_box(&rs->body, notice);
	if (error)
		web_error_box(&rs->body, error);
	if (problems && *problems) {
		char *copy = xstrdup(problems), *pos = copy, *f[1];

		web_raw(&rs->body, "<ul id=\"problems\">\n");
		while (next_fields(&pos, f, 1) > 0)
			web_htmlf(&rs->body, "<li>%s</li>\n", f[0]);
		web_raw(&rs->body, "</ul>\n");
		free(copy);
	}
	add_info(&rs->body, &c);
	add_counts(&rs->body, &c, &n);
	add_sign_off(&rs->body, ctx->db, &c);
	/* the plan first: what an approval binds, read before the button */
	add_plan(&rs->body, ctx, &c);
	add_actions(&rs->body, ctx, rq->session, &c);
	web_page_end(&rs->body);
	rs->status = status;
	sbuf_release(&title);
	campaign_info_release(&c);
	return 0;
}

/* GET /campaign/ID/progress.json: what progress.js polls. */
static int progress_json(struct web_ctx *ctx, const struct web_request *rq,
			 struct web_response *rs, int64_t id)
{
	struct error err = ERROR_INIT;
	struct campaign_info c = {0};
	struct campaign_counts n;
	struct json js;
	int rc = campaign_get(ctx->db, id, &c, &err);

	if (!rc)
		rc = campaign_counts(ctx->db, id, &n, &err);
	if (rc) {
		campaign_info_release(&c);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	rs->type = "application/json";
	json_init(&js, &rs->body, false);
	json_object_begin(&js);
	json_kv_int(&js, "id", c.id);
	json_kv_string(&js, "name", c.name);
	json_kv_string(&js, "state", campaign_state_name(c.state));
	json_kv_int(&js, "total", n.total);
	json_kv_int(&js, "settled", settled_of(&n));
	json_kv_bool(&js, "finished", c.state == CAMPAIGN_DONE ||
				      c.state == CAMPAIGN_CANCELLED ||
				      c.state == CAMPAIGN_MISSED);
	json_key(&js, "deliveries");
	json_object_begin(&js);
	for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++)
		json_kv_int(&js, campaign_delivery_states[i], n.by_state[i]);
	json_object_end(&js);
	json_object_end(&js);
	sbuf_addch(&rs->body, '\n');
	campaign_info_release(&c);
	return 0;
}

/* ---- proofs ---- */

static int proof_section(const struct campaign_proof *p, void *arg)
{
	struct sbuf *out = arg;
	char num[32];

	snprintf(num, sizeof(num), "%zu", p->number);
	web_htmlf(out, "<section class=\"proof\" id=\"proof-%s\"><h2>%s</h2>\n"
		  "<p>stands for %d addressee%s:</p><pre class=\"members\">%s"
		  "</pre>\n<p>Language: <span class=\"proof-lang\">%s</span></p>"
		  "\n<p>Subject: <span class=\"proof-subject\">%s</span></p>\n"
		  "<h3>Text</h3><pre class=\"proof-text\" id=\"proof-%s-text\">"
		  "%s</pre>\n", num, p->label, (int)p->n, p->n == 1 ? "" : "s",
		  p->members, p->lang, p->subject, num, p->text);
	if (p->html)
		/* The HTML part as the proof file holds it (a CSP of its
		 * own that fetches nothing), escaped into srcdoc and shown
		 * in a sandbox without scripts or the site's origin. */
		web_htmlf(out, "<h3>HTML</h3><iframe class=\"proof-html\" "
			  "id=\"proof-%s-html\" sandbox=\"\" "
			  "referrerpolicy=\"no-referrer\" title=\"HTML part of "
			  "proof %s\" srcdoc=\"%s\"></iframe>\n", num, num,
			  p->html);
	web_raw(out, "</section>\n");
	return 0;
}

static int show_proofs(struct web_ctx *ctx, const struct web_request *rq,
		       struct web_response *rs, int64_t id)
{
	struct campaign_proof_summary sum = {0};
	struct error err = ERROR_INIT;
	struct campaign_info c = {0};
	struct sbuf proofs = SBUF_INIT, title = SBUF_INIT;
	int rc = campaign_get(ctx->db, id, &c, &err);

	if (!rc)
		rc = campaign_proof_each(ctx->db, ctx->cfg, id, proof_section,
					 &proofs, &sum, &err);
	if (rc) {
		sbuf_release(&proofs);
		campaign_info_release(&c);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	sbuf_addf(&title, "Proofs of campaign %s", c.name);
	web_page_begin(&rs->body, title.buf, rq->session);
	web_htmlf(&rs->body, "<p><a href=\"/campaign/%lld\" id=\"back-link\">"
		  "Back to the campaign</a></p>\n", (long long)id);
	web_htmlf(&rs->body, "<p id=\"proof-summary\">template %s v%d (sha256 "
		  "%s), list %s: %d addressee%s, %d distinct rendering%s",
		  c.template_name, c.template_version, c.template_sha256,
		  c.list_name, (int)sum.addressees,
		  sum.addressees == 1 ? "" : "s", (int)sum.proofs,
		  sum.proofs == 1 ? "" : "s");
	if (sum.left_out)
		web_htmlf(&rs->body, "; %d contact%s of the list would not be "
			  "sent to (not active)", (int)sum.left_out,
			  sum.left_out == 1 ? "" : "s");
	web_raw(&rs->body, ".</p>\n<p>Each proof is the message its first "
			   "addressee would get; the others it stands for get "
			   "the same text with their own names and "
			   "addresses.</p>\n");
	sbuf_add(&rs->body, proofs.buf, proofs.len);
	web_page_end(&rs->body);
	sbuf_release(&proofs);
	sbuf_release(&title);
	campaign_info_release(&c);
	return 0;
}

WEB_HANDLER(page_campaign_show)
{
	const char *rest;
	int64_t id;

	if (parse_path(rq->path, "/campaign/", &id, &rest))
		return web_fail(rs, 404, rq, "no such page");
	if (!*rest)
		return show_campaign(ctx, rq, rs, id, 200, NULL, NULL, NULL);
	if (!strcmp(rest, "progress.json"))
		return progress_json(ctx, rq, rs, id);
	if (!strcmp(rest, "proofs"))
		return show_proofs(ctx, rq, rs, id);
	return web_fail(rs, 404, rq, "no such page");
}

/* A send time in the past is refused unless the form's now box is
 * ticked (the CLI's --now): the CLI's text. */
/* POST /campaign/ID/test: campaign_proof_test_send, as campaign test. */
static int do_test(struct web_ctx *ctx, const struct web_request *rq,
		   const struct campaign_info *c, struct sbuf *notice,
		   struct error *err)
{
	struct campaign_test_result res;
	const char *to = web_param(rq, "to");
	const char *body = web_param(rq, "body");
	int rc;

	if (!to || !*to)
		return error_set(err, ERR_USAGE, "--to ADDRESS is required");
	rc = campaign_proof_test_send(ctx->db, ctx->cfg, c->id,
				      body && *body ? body : NULL, to, &res,
				      err);
	if (!rc)
		sbuf_addf(notice, "campaign %s: test message for %s sent to "
			  "<%s> (Message-ID <%s>): %d %s", c->name, res.body,
			  to, res.message_id, res.result.code,
			  res.result.text);
	return rc;
}

static int do_schedule(struct web_ctx *ctx, const struct web_request *rq,
		       const struct campaign_info *c, struct sbuf *notice,
		       struct sbuf *problems, struct error *err)
{
	struct campaign_plan plan;
	char when[96];
	int rc = 0;

	campaign_plan_init(&plan);
	if (c->state == CAMPAIGN_APPROVED ||
	    (c->state == CAMPAIGN_DRAFT && ctx->cfg->campaign.approvals == 0))
		rc = campaign_send_time_check(c->tz, c->send_at,
					      web_ticked(rq, "now"), err);
	if (!rc)
		rc = campaign_schedule_plan(ctx->db, ctx->cfg, c->id, &plan,
					    problems, err);
	if (!rc) {
		web_format_when(c->tz, c->send_at, when, sizeof(when));
		sbuf_addf(notice, "campaign %s scheduled for %s: %d contacts "
			  "to send to", c->name, when, plan.recipients);
	}
	campaign_plan_release(&plan);
	return rc;
}

/*
 * POST /campaign/ID/reschedule: a new send time, as campaign edit --at
 * (field at, local time in the campaign's zone) [--now] (a past time, or
 * at empty: at once). An approval is voided; a missed campaign is a
 * draft again, to be approved and scheduled.
 */
static int do_reschedule(struct web_ctx *ctx, const struct web_request *rq,
			 const struct campaign_info *c, struct sbuf *notice,
			 struct error *err)
{
	const char *at = web_param(rq, "at");
	bool now = web_ticked(rq, "now");
	struct campaign_edit e = {0};
	struct campaign_info after = {0};
	struct sbuf voided = SBUF_INIT;
	struct calendar_time t;
	char shown[96];
	int rc = 0;

	if (at && *at) {
		if (!(rc = calendar_parse_local(at, &t, err)))
			rc = calendar_to_utc(c->tz, &t, &e.send_at, err);
	} else if (now) {
		e.send_at = clock_now();
	} else {
		rc = error_set(err, ERR_USAGE, "a new send time (--at TIME) or "
				"--now is required");
	}
	if (!rc)
		rc = campaign_send_time_check(c->tz, e.send_at, now, err);
	if (!rc)
		rc = campaign_edit(ctx->db, c->id, &e, &voided, err);
	if (!rc)
		rc = campaign_get(ctx->db, c->id, &after, err);
	if (!rc) {
		sbuf_trim(&voided);
		web_format_when(after.tz, after.send_at, shown, sizeof(shown));
		sbuf_addf(notice, "campaign %s: sends %s (%s)%s%s", c->name,
			  shown, campaign_state_name(after.state),
			  voided.len ? "; " : "", voided.len ? voided.buf : "");
	}
	campaign_info_release(&after);
	sbuf_release(&voided);
	return rc;
}

/* pause, resume and cancel, with the CLI's line. */
static int do_simple(struct web_ctx *ctx, const char *verb,
		     const struct campaign_info *c, struct sbuf *notice,
		     struct error *err)
{
	struct campaign_info after = {0};
	int cancelled = 0, rc;

	if (!strcmp(verb, "pause"))
		rc = campaign_pause(ctx->db, c->id, err);
	else if (!strcmp(verb, "resume"))
		rc = campaign_resume(ctx->db, c->id, err);
	else
		rc = campaign_cancel(ctx->db, c->id, &cancelled, err);
	if (!rc)
		rc = campaign_get(ctx->db, c->id, &after, err);
	if (rc)
		return rc;
	sbuf_addf(notice, "campaign %s: %s → %s", c->name,
		  campaign_state_name(c->state),
		  campaign_state_name(after.state));
	if (!strcmp(verb, "cancel"))
		sbuf_addf(notice, " (%d deliveries cancelled)", cancelled);
	campaign_info_release(&after);
	return 0;
}

/* Runs one action on campaign id and answers with its page. */
static int act(struct web_ctx *ctx, const struct web_request *rq,
	       struct web_response *rs, const char *prefix,
	       int (*run)(struct web_ctx *, const struct web_request *,
			  const char *, const struct campaign_info *,
			  struct sbuf *, struct sbuf *, struct error *))
{
	struct sbuf notice = SBUF_INIT, problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct campaign_info c = {0};
	const char *verb;
	int64_t id;
	int rc;

	if (parse_path(rq->path, prefix, &id, &verb) || !*verb)
		return web_fail(rs, 404, rq, "no such page");
	if ((rc = campaign_get(ctx->db, id, &c, &err)) == 0)
		rc = run(ctx, rq, verb, &c, &notice, &problems, &err);
	if (rc == 1) { /* not an action of this route */
		campaign_info_release(&c);
		return web_fail(rs, 404, rq, "no such action");
	}
	if (rc && !c.name) {
		campaign_info_release(&c);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	rc = show_campaign(ctx, rq, rs, id, rc ? web_error_status(rc) : 200,
			   rc ? NULL : notice.buf, rc ? err.msg : NULL,
			   rc ? problems.buf : NULL);
	sbuf_release(&notice);
	sbuf_release(&problems);
	campaign_info_release(&c);
	return rc;
}

static int run_edit_action(struct web_ctx *ctx, const struct web_request *rq,
			   const char *verb, const struct campaign_info *c,
			   struct sbuf *notice, struct sbuf *problems,
			   struct error *err)
{
	if (!strcmp(verb, "test"))
		return do_test(ctx, rq, c, notice, err);
	if (!strcmp(verb, "schedule"))
		return do_schedule(ctx, rq, c, notice, problems, err);
	if (!strcmp(verb, "reschedule"))
		return do_reschedule(ctx, rq, c, notice, err);
	if (!strcmp(verb, "pause") || !strcmp(verb, "resume") ||
	    !strcmp(verb, "cancel"))
		return do_simple(ctx, verb, c, notice, err);
	return 1;
}

WEB_HANDLER(page_campaign_post)
{
	return act(ctx, rq, rs, "/campaign/", run_edit_action);
}

/* approve (campaign_approve, as campaign approve [--schedule] [--now])
 * and reject (campaign_reject, as campaign reject --reason). */
static int run_decision(struct web_ctx *ctx, const struct web_request *rq,
			const char *verb, const struct campaign_info *c,
			struct sbuf *notice, struct sbuf *problems,
			struct error *err)
{
	struct campaign_info after = {0};
	struct campaign_plan plan;
	const char *who = db_actor(ctx->db) ? db_actor(ctx->db) : "the system";
	bool schedule = web_ticked(rq, "schedule");
	int rc;

	if (!strcmp(verb, "reject")) {
		const char *reason = web_param(rq, "reason");

		if (!reason || !*reason)
			return error_set(err, ERR_USAGE, "--reason TEXT is "
					 "required");
		rc = campaign_reject(ctx->db, c->id, reason, err);
		if (!rc)
			sbuf_addf(notice, "campaign %s rejected by %s: %s → "
				  "draft, approvals cleared", c->name, who,
				  campaign_state_name(c->state));
		return rc;
	}
	if (strcmp(verb, "approve"))
		return 1;
	campaign_plan_init(&plan);
	rc = 0;
	if (schedule && c->state == CAMPAIGN_DRAFT)
		rc = campaign_send_time_check(c->tz, c->send_at,
					      web_ticked(rq, "now"), err);
	if (!rc)
		rc = campaign_approve(ctx->db, ctx->cfg, c->id, schedule, &plan,
				      problems, err);
	if (!rc)
		rc = campaign_get(ctx->db, c->id, &after, err);
	if (!rc) {
		sbuf_addf(notice, "campaign %s approved by %s (%d of %d): %s "
			  "v%d; ", c->name, who, plan.approvals, plan.required,
			  c->template_name, c->template_version);
		if (after.state == CAMPAIGN_SCHEDULED)
			sbuf_addf(notice, "scheduled");
		else if (after.state == CAMPAIGN_APPROVED)
			sbuf_addf(notice, "approved: schedule it to send");
		else
			sbuf_addf(notice, "needs %d more approval%s",
				  plan.required - plan.approvals,
				  plan.required - plan.approvals == 1 ? ""
								      : "s");
	}
	campaign_info_release(&after);
	campaign_plan_release(&plan);
	return rc;
}

WEB_HANDLER(page_campaign_decide)
{
	return act(ctx, rq, rs, "/approval/", run_decision);
}
