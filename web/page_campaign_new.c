/*
 * page_campaign_new: a campaign made from the console, as `chancery
 * campaign create NAME --template T --list L --at TIME --tz ZONE
 * [--event-date D] [--lang L] [--receipt] [--now]` makes it: a statement
 * on an event goes out without waiting for the person at the command
 * line. The draft then takes the campaign page's way (proofs, approval,
 * schedule).
 *
 * Routes (web/routes.c, "campaign_new" group):
 *   GET  /campaigns/new    the form                     (edit)
 *   POST /campaigns/new    create; 303 to /campaign/ID  (edit)
 *
 * Stable ids and names for the tests: form#campaign-new-form (posts to
 * /campaigns/new) with input[name=name]#new-name, select[name=template]
 * #new-template, select[name=list]#new-list, input[name=at]#new-at,
 * input[name=tz]#new-tz, input[name=event_date]#new-event-date,
 * input[name=lang]#new-lang, input[name=receipt]#new-receipt,
 * input[name=now]#new-now, button#new-submit; the refusal in the error
 * box, the form kept as it was filled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/list.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "pages.h"

/* A posted field, or "" (the form shows what was sent back). */
static const char *field(const struct web_request *rq, const char *name)
{
	const char *v = web_param(rq, name);

	return v ? v : "";
}

/* <option>s of every template name (each once) and of every list. */
struct options {
	struct sbuf *out;
	const char *chosen;
	char *last; /* the previous template name */
};

static void option(struct options *o, const char *name)
{
	web_htmlf(o->out, "<option%s>%s</option>",
		  strcmp(name, o->chosen) ? "" : " selected", name);
}

static int template_option(const struct template_info *t, void *arg)
{
	struct options *o = arg;

	if (o->last && strcmp(o->last, t->name) == 0)
		return 0;
	free(o->last);
	o->last = xstrdup(t->name);
	option(o, t->name);
	return 0;
}

static int list_option(const struct list_info *l, void *arg)
{
	option(arg, l->name);
	return 0;
}

static int add_selects(struct sbuf *out, struct web_ctx *ctx,
		       const struct web_request *rq, struct error *err)
{
	struct options o = {out, field(rq, "template"), NULL};
	int rc;

	web_raw(out, "<label>Template <select name=\"template\" "
		     "id=\"new-template\" required>");
	rc = template_each(ctx->db, NULL, template_option, &o, err);
	free(o.last);
	web_raw(out, "</select></label>\n");
	if (rc)
		return rc;
	o = (struct options){out, field(rq, "list"), NULL};
	web_raw(out, "<label>List <select name=\"list\" id=\"new-list\" "
		     "required>");
	rc = list_each(ctx->db, list_option, &o, err);
	web_raw(out, "</select></label>\n");
	return rc;
}

static void checkbox(struct sbuf *out, const struct web_request *rq,
		     const char *name, const char *id, const char *label)
{
	web_htmlf(out, "<label><input type=\"checkbox\" name=\"%s\" value=\"1\" "
		       "id=\"%s\"%s> %s</label>\n", name, id,
		  web_ticked(rq, name) ? " checked" : "", label);
}

/* The form, filled with what rq posted (empty on GET). */
static int add_form(struct sbuf *out, struct web_ctx *ctx,
		    const struct web_request *rq, struct error *err)
{
	const char *tz = web_param(rq, "tz");
	int rc;

	if (!tz)
		tz = ctx->cfg->timezone && *ctx->cfg->timezone
			     ? ctx->cfg->timezone
			     : "UTC";
	web_raw(out, "<div id=\"campaign-new-form\">");
	web_form_begin(out, "/campaigns/new", rq->session);
	web_htmlf(out, "<label>Name <input type=\"text\" name=\"name\" "
		       "id=\"new-name\" required value=\"%s\"></label>\n",
		  field(rq, "name"));
	rc = add_selects(out, ctx, rq, err);
	web_htmlf(out, "<label>Send time <input type=\"datetime-local\" "
		       "name=\"at\" id=\"new-at\" value=\"%s\"></label>\n"
		       "<label>Time zone <input type=\"text\" name=\"tz\" "
		       "id=\"new-tz\" required value=\"%s\"></label>\n"
		       "<label>Event date (anniversaries count from it) <input "
		       "type=\"date\" name=\"event_date\" id=\"new-event-date\" "
		       "value=\"%s\"></label>\n<label>Language (empty: "
		       "campaign.language) <input type=\"text\" name=\"lang\" "
		       "id=\"new-lang\" value=\"%s\"></label>\n",
		  field(rq, "at"), tz, field(rq, "event_date"),
		  field(rq, "lang"));
	checkbox(out, rq, "receipt", "new-receipt", "ask for a read receipt");
	checkbox(out, rq, "now", "new-now", "a send time that has passed, or "
					    "none: send as soon as scheduled");
	web_raw(out, "<button type=\"submit\" id=\"new-submit\">Create the "
		     "draft</button>");
	web_form_end(out);
	web_raw(out, "</div>\n");
	return rc;
}

static int form_page(struct web_ctx *ctx, const struct web_request *rq,
		     struct web_response *rs, int status, const char *error)
{
	struct error err = ERROR_INIT;
	int rc;

	web_page_begin(&rs->body, "New campaign", rq->session);
	if (error)
		web_error_box(&rs->body, error);
	rc = add_form(&rs->body, ctx, rq, &err);
	if (rc) {
		web_error_box(&rs->body, err.msg);
		status = web_error_status(rc);
	}
	web_page_end(&rs->body);
	rs->status = status;
	return 0;
}

WEB_HANDLER(page_campaign_new_form)
{
	return form_page(ctx, rq, rs, 200, NULL);
}

/* The send time of the form: at in zone, or now. */
static int send_time(const struct web_request *rq, const char *zone,
		     int64_t *out, struct error *err)
{
	const char *at = field(rq, "at");
	struct calendar_time t;
	int rc;

	if (!*at) {
		if (!web_ticked(rq, "now"))
			return error_set(err, ERR_USAGE, "--template, --list and "
					 "--at (or --now) are required");
		*out = clock_now();
		return 0;
	}
	rc = calendar_parse_local(at, &t, err);
	return rc ? rc : calendar_to_utc(zone, &t, out, err);
}

/* Makes the draft; *id its id, renamed the old name's new one if a
 * cancelled campaign held it (caller frees). */
static int create(struct web_ctx *ctx, const struct web_request *rq,
		  int64_t *id, char **renamed, struct error *err)
{
	struct campaign_new c = {
		.name = field(rq, "name"),
		.template_name = field(rq, "template"),
		.list_name = field(rq, "list"),
		.tz = field(rq, "tz"),
		.event_date = *field(rq, "event_date") ? field(rq, "event_date")
						       : NULL,
		.receipt = web_ticked(rq, "receipt"),
	};
	char *lang = NULL;
	int rc = 0;

	if (!*c.template_name || !*c.list_name)
		return error_set(err, ERR_USAGE, "--template, --list and --at "
				 "(or --now) are required");
	if (!clock_zone_valid(c.tz))
		return error_set(err, ERR_USAGE, "unknown time zone '%s'", c.tz);
	if (*field(rq, "lang"))
		rc = template_lang_canonical(field(rq, "lang"), &lang, err);
	c.language = lang;
	if (!rc)
		rc = send_time(rq, c.tz, &c.send_at, err);
	c.refuse_past = *field(rq, "at") && !web_ticked(rq, "now");
	if (!rc)
		rc = campaign_create_renaming(ctx->db, &c, id, renamed, err);
	free(lang);
	return rc;
}

/* A cancelled campaign held the name: it was renamed, which the office
 * must read before going on, so a page says so instead of a redirect. */
static int renamed_page(const struct web_request *rq, struct web_response *rs,
			const char *location, const char *name,
			const char *renamed)
{
	struct sbuf line = SBUF_INIT;

	sbuf_addf(&line, "campaign %s was cancelled: renamed %s, its record "
		  "kept; campaign %s created (draft)", name, renamed, name);
	web_page_begin(&rs->body, "New campaign", rq->session);
	web_notice_box(&rs->body, line.buf);
	web_htmlf(&rs->body, "<p><a id=\"created-link\" href=\"%s\">Its "
			     "page</a></p>\n", location);
	web_page_end(&rs->body);
	sbuf_release(&line);
	return 0;
}

WEB_HANDLER(page_campaign_new)
{
	struct error err = ERROR_INIT;
	char *renamed = NULL, location[64];
	int64_t id = 0;
	int rc = create(ctx, rq, &id, &renamed, &err);

	if (rc)
		return form_page(ctx, rq, rs, web_error_status(rc), err.msg);
	snprintf(location, sizeof(location), "/campaign/%lld", (long long)id);
	rc = renamed ? renamed_page(rq, rs, location, field(rq, "name"), renamed)
		     : web_redirect(rs, location);
	free(renamed);
	return rc;
}
