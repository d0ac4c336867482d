/*
 * page_audit: who received which statement, and whether the record is
 * intact. The reports are the library's (audit.h: the same joins as
 * `chancery audit campaign|body|matrix`), asked for as CSV and shown as
 * tables, every cell escaped; the lib's self-contained HTML export
 * (audit_html.c) carries inline script and style, which the console's
 * CSP forbids, so it is not embedded. The ledger's state is the last
 * recorded verification (status.h, as `chancery status` shows it) and
 * the current anchor (ledger_anchor, which verifies the chain first).
 *
 * Routes (web/routes.c, "audit" group):
 *   GET  /audit[?since=Y&lang=L&response=R]   matrix and ledger  (read)
 *   GET  /audit/campaign?name=N                one campaign       (read)
 *   GET  /audit/body?body=B                    one body, by year  (read)
 *   POST /audit/verify                         audit verify       (edit:
 *        it records its result, as the CLI does)
 *
 * Stable ids and names for the browser tests:
 *   /audit: section#ledger with p#verify-status (data-ok="yes|no|never"),
 *           p#anchor (code#anchor-hash, span#anchor-row) or a div.error;
 *           div#verify-box (input[name=anchor]#verify-anchor,
 *           button#verify-submit);
 *           form#matrix-filter (GET: input[name=since]#filter-since,
 *           input[name=lang]#filter-lang, select[name=response]
 *           #filter-response, button#filter-submit);
 *           table#matrix: thead th.campaign (a.campaign-audit-link),
 *           tbody tr.body[data-body] with a.body-audit-link, td.cell
 *           [data-state];
 *   /audit/campaign, /audit/body: table#audit-report (the CSV's header
 *           and rows), p#report-rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/audit.h"
#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/csv.h"
#include "chancery/ledger.h"
#include "chancery/status.h"
#include "chancery/template.h"
#include "pages.h"

static const char *given(const struct web_request *rq, const char *name)
{
	const char *v = web_param(rq, name);

	return v && *v ? v : NULL;
}

/* How a report table is shown: the matrix links its bodies and campaigns. */
enum report_kind { REPORT_PLAIN, REPORT_MATRIX };

/* A matrix column heading: a link to the campaign's report when it is
 * a campaign's name (a cancelled or missed one carries its mark). */
static void add_campaign_head(struct sbuf *out, struct db *db,
			      const char *head)
{
	struct campaign_info c = {0};
	struct error err = ERROR_INIT;

	web_raw(out, "<th class=\"campaign\">");
	if (campaign_find(db, head, &c, &err) == 0) {
		web_raw(out, "<a class=\"campaign-audit-link\" "
			     "href=\"/audit/campaign?name=");
		web_url(out, head);
		web_htmlf(out, "\">%s</a>", head);
	} else {
		web_html(out, head);
	}
	web_raw(out, "</th>");
	campaign_info_release(&c);
}

/*
 * The CSV text of a report as an HTML table, every cell escaped (and
 * the CSV writer's formula guard taken off: a person reads it here).
 * 0, or the reader's error.
 */
static int add_csv_table(struct sbuf *out, struct db *db, const char *id,
			 const struct sbuf *csv, enum report_kind kind,
			 struct error *err)
{
	struct csv_reader rd;
	struct csv_record rec = {0};
	size_t rows = 0;
	int rc;

	csv_reader_init(&rd, "report", csv->buf, csv->len);
	web_htmlf(out, "<table id=\"%s\"><thead><tr>", id);
	if ((rc = csv_read(&rd, &rec, err)) == 1) {
		for (size_t i = 0; i < rec.count; i++) {
			csv_unneutralise(rec.fields[i]);
			if (kind == REPORT_MATRIX && i >= 3)
				add_campaign_head(out, db, rec.fields[i]);
			else
				web_htmlf(out, "<th>%s</th>", rec.fields[i]);
		}
	}
	web_raw(out, "</tr></thead><tbody>\n");
	while (rc == 1 && (rc = csv_read(&rd, &rec, err)) == 1) {
		const char *body = rec.count ? rec.fields[0] : "";

		for (size_t i = 0; i < rec.count; i++)
			csv_unneutralise(rec.fields[i]);
		if (kind == REPORT_MATRIX)
			web_htmlf(out, "<tr class=\"body\" data-body=\"%s\">",
				  body);
		else
			web_raw(out, "<tr>");
		for (size_t i = 0; i < rec.count; i++) {
			const char *f = rec.fields[i];

			if (kind == REPORT_MATRIX && i == 0 && *f) {
				web_raw(out, "<td><a class=\"body-audit-link\" "
					     "href=\"/audit/body?body=");
				web_url(out, f);
				web_htmlf(out, "\">%s</a></td>", f);
			} else if (kind == REPORT_MATRIX && i >= 3) {
				web_htmlf(out, "<td class=\"cell\" "
					  "data-state=\"%s\">%s</td>", f, f);
			} else {
				web_htmlf(out, "<td>%s</td>", f);
			}
		}
		web_raw(out, "</tr>\n");
		rows++;
	}
	web_raw(out, "</tbody></table>\n");
	web_htmlf(out, "<p id=\"report-rows\">%d row%s</p>\n", (int)rows,
		  rows == 1 ? "" : "s");
	csv_record_release(&rec);
	return rc < 0 ? rc : 0;
}

/* ---- the ledger ---- */

static void add_ledger(struct sbuf *out, struct web_ctx *ctx,
		       const struct user_session *s)
{
	struct error err = ERROR_INIT;
	struct ledger_anchor a;
	struct status st = {0};
	char when[32];

	web_raw(out, "<section id=\"ledger\"><h2>The ledger</h2>\n");
	if (status_load(ctx->db, clock_now(), 0, ctx->cfg->campaign.approvals,
			&st, &err)) {
		web_error_box(out, err.msg);
	} else if (!st.verify.known) {
		web_raw(out, "<p id=\"verify-status\" data-ok=\"never\">Never "
			     "verified: <code>chancery audit verify</code> or "
			     "the button below.</p>\n");
	} else {
		clock_format_utc(st.verify.at, when, sizeof(when));
		web_htmlf(out, "<p id=\"verify-status\" data-ok=\"%s\">Last "
			  "verified %s by %s: %s, %lld rows", st.verify.ok ?
			  "yes" : "no", when, st.verify.actor ? st.verify.actor
							       : "the system",
			  st.verify.ok ? "intact" : "BROKEN",
			  (long long)st.verify.rows);
		if (st.verify.anchor)
			web_htmlf(out, ", against anchor %s", st.verify.anchor);
		if (!st.verify.ok && st.verify.message)
			web_htmlf(out, ": %s", st.verify.message);
		web_raw(out, ".</p>\n");
	}
	status_release(&st);
	error_clear(&err);
	if (ledger_anchor(ctx->db, &a, &err) == 0) {
		clock_format_utc(a.ts, when, sizeof(when));
		web_htmlf(out, "<p id=\"anchor\">Current anchor: <code "
			  "id=\"anchor-hash\">%s</code>, row <span "
			  "id=\"anchor-row\">%lld</span> (written %s; %lld rows "
			  "verified now). Record it outside this machine; "
			  "verifying against it later proves that no row up to "
			  "it changed or disappeared.</p>\n", a.hash,
			  (long long)a.id, when, (long long)a.rows);
	} else {
		web_error_box(out, err.msg);
	}
	if (user_may(s->user.role, USER_EDIT)) {
		web_raw(out, "<div id=\"verify-box\">");
		web_form_begin(out, "/audit/verify", s);
		web_raw(out, "<label>Anchor (optional) <input type=\"text\" "
			     "name=\"anchor\" id=\"verify-anchor\"></label> "
			     "<button type=\"submit\" id=\"verify-submit\">"
			     "Verify the ledger</button>");
		web_form_end(out);
		web_raw(out, "</div>\n");
	}
	web_raw(out, "</section>\n");
}

/* ---- the matrix ---- */

static const char *const responses[] = {
	"", "acknowledged", "auto_replied", "replied", "complained", "any",
	"none",
};

static void add_filter_form(struct sbuf *out, const char *since,
			    const char *lang, const char *response)
{
	web_raw(out, "<form method=\"get\" action=\"/audit\" "
		     "id=\"matrix-filter\">");
	web_htmlf(out, "<label>Since year <input type=\"text\" name=\"since\" "
		  "id=\"filter-since\" value=\"%s\"></label> <label>Sent in "
		  "language <input type=\"text\" name=\"lang\" id=\"filter-lang\" "
		  "value=\"%s\"></label> <label>Response <select "
		  "name=\"response\" id=\"filter-response\">",
		  since ? since : "", lang ? lang : "");
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
		web_htmlf(out, "<option value=\"%s\"%s>%s</option>",
			  responses[i],
			  (response ? !strcmp(response, responses[i])
				    : !*responses[i]) ? " selected" : "",
			  *responses[i] ? responses[i] : "(all)");
	web_raw(out, "</select></label> <button type=\"submit\" "
		     "id=\"filter-submit\">Filter</button></form>\n");
}

/* The CLI's parsing of --since, --lang and --response, with its text. */
static int parse_filters(const char *since, const char *lang,
			 const char *response, int *since_year, char **canon,
			 enum audit_response *filter, struct error *err)
{
	char *end = NULL;
	long v;

	*since_year = 0;
	*canon = NULL;
	*filter = AUDIT_RESPONSE_ALL;
	if (since) {
		v = strtol(since, &end, 10);
		if (*end || v < 1970 || v > 9999)
			return error_set(err, ERR_USAGE, "--since wants a year "
					 "(1970-9999), not '%s'", since);
		*since_year = (int)v;
	}
	if (lang && template_lang_canonical(lang, canon, err))
		return error_prefix(err, "--lang");
	if (response && audit_response_parse(response, filter, err))
		return err->code;
	return 0;
}

WEB_HANDLER(page_audit)
{
	struct error err = ERROR_INIT;
	struct sbuf csv = SBUF_INIT;
	const char *since = given(rq, "since"), *lang = given(rq, "lang");
	const char *response = given(rq, "response");
	enum audit_response filter;
	char *canon = NULL;
	int rc, since_year;

	web_page_begin(&rs->body, "Audit", rq->session);
	add_ledger(&rs->body, ctx, rq->session);
	web_raw(&rs->body, "<section id=\"matrix-section\"><h2>Statements by "
			   "body</h2>\n<p>Each cell is the best delivery state "
			   "among the body's contacts; +ack an acknowledgement, "
			   "+auto an automatic answer, +replied a reply, "
			   "+complaint a complaint.</p>\n");
	add_filter_form(&rs->body, since, lang, response);
	rc = parse_filters(since, lang, response, &since_year, &canon, &filter,
			   &err);
	if (!rc)
		rc = audit_report_matrix_lang(ctx->db, since_year, canon, filter,
					      AUDIT_FORMAT_CSV, &csv, &err);
	if (!rc)
		rc = add_csv_table(&rs->body, ctx->db, "matrix", &csv,
				   REPORT_MATRIX, &err);
	if (rc) {
		web_error_box(&rs->body, err.msg);
		rs->status = web_error_status(rc);
	}
	web_raw(&rs->body, "</section>\n");
	web_page_end(&rs->body);
	free(canon);
	sbuf_release(&csv);
	return 0;
}

/* One report page: the campaign's or the body's. */
static int report_page(struct web_ctx *ctx, const struct web_request *rq,
		       struct web_response *rs, bool campaign)
{
	struct error err = ERROR_INIT;
	struct sbuf csv = SBUF_INIT, title = SBUF_INIT;
	const char *key = given(rq, campaign ? "name" : "body");
	int rc;

	if (!key)
		return web_fail(rs, 400, rq, campaign ? "missing NAME"
						      : "missing ACRONYM");
	rc = campaign ? audit_report_campaign(ctx->db, key, AUDIT_FORMAT_CSV,
					      &csv, &err)
		      : audit_report_body(ctx->db, key, AUDIT_FORMAT_CSV, &csv,
					  &err);
	if (rc) {
		sbuf_release(&csv);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	sbuf_addf(&title, campaign ? "Audit of campaign %s"
				   : "Audit of body %s, year by year", key);
	web_page_begin(&rs->body, title.buf, rq->session);
	web_raw(&rs->body, "<p><a href=\"/audit\" id=\"back-link\">The "
			   "matrix</a></p>\n");
	if (add_csv_table(&rs->body, ctx->db, "audit-report", &csv,
			  REPORT_PLAIN, &err))
		web_error_box(&rs->body, err.msg);
	web_page_end(&rs->body);
	sbuf_release(&csv);
	sbuf_release(&title);
	return 0;
}

WEB_HANDLER(page_audit_campaign)
{
	return report_page(ctx, rq, rs, true);
}

WEB_HANDLER(page_audit_body)
{
	return report_page(ctx, rq, rs, false);
}

/* audit verify [--anchor HASH]: the chain walked, the result recorded
 * for status, the CLI's lines. */
WEB_HANDLER(page_audit_verify)
{
	struct error err = ERROR_INIT, record_err = ERROR_INIT;
	struct ledger_verify_result res;
	struct sbuf line = SBUF_INIT;
	const char *anchor = given(rq, "anchor");
	int rc = ledger_verify(ctx->db, anchor, &res, &err);

	if (rc != ERR_USAGE &&
	    status_record_verify(ctx->db, clock_now(), &res, anchor, rc,
				 err.msg, &record_err))
		sbuf_addf(&line, "warning: the verification was not recorded: "
			  "%s. ", record_err.msg);
	if (!rc && anchor)
		sbuf_addf(&line, "ok: %lld rows verified; anchor %s is row %lld, "
			  "intact with every row before it", (long long)res.rows,
			  anchor, (long long)res.anchor_id);
	else if (!rc)
		sbuf_addf(&line, "ok: %lld rows verified (without an anchor this "
			  "proves only that the chain is consistent)",
			  (long long)res.rows);
	web_page_begin(&rs->body, "Audit", rq->session);
	if (rc) {
		web_error_box(&rs->body, err.msg);
		rs->status = web_error_status(rc);
	}
	if (line.len)
		(rc ? web_error_box : web_notice_box)(&rs->body, line.buf);
	add_ledger(&rs->body, ctx, rq->session);
	web_raw(&rs->body, "<p><a href=\"/audit\" id=\"back-link\">The "
			   "matrix</a></p>\n");
	web_page_end(&rs->body);
	sbuf_release(&line);
	return 0;
}
