/*
 * page_templates: the stored templates, their versions, and each
 * language variant of a version rendered for one addressee as it will
 * read it (what `chancery template show` and `template render --lang`
 * print: the same lookups, the same variant, the same renderer). The
 * rendered text is shown escaped in <pre>; an HTML part only in a
 * sandboxed frame (no scripts, no origin), escaped into its srcdoc.
 *
 * Routes (web/routes.c, "templates" group), both read:
 *   GET /templates                         every version
 *   GET /template?name=N[&version=V][&body=B][&contact=E][&event_date=D]
 *                                          one version, every variant
 *
 * Stable ids and names for the browser tests:
 *   list:    table#templates, tr.template[data-name][data-version],
 *            a.template-link
 *   version: dl#template-info (#template-name, #template-version,
 *            #template-sha256, #template-languages), ul#template-versions
 *            > li > a.version-link;
 *            form#render-form (GET: input[name=body]#render-body,
 *            input[name=contact]#render-contact,
 *            input[name=event_date]#render-event-date,
 *            button#render-submit), p#render-for (who it is rendered
 *            for);
 *            section.variant#variant-LANG ("default" for the default
 *            variant) holding pre.variant-source#source-LANG,
 *            .rendered-subject#subject-LANG, pre.rendered-text
 *            #text-LANG, iframe.rendered-html#html-LANG, or a
 *            div.error with the renderer's message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/anniversary.h"
#include "chancery/clock.h"
#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "pages.h"

/* ---- the list ---- */

static int list_row(const struct template_info *t, void *arg)
{
	struct sbuf *out = arg;
	char when[32];

	clock_format_utc(t->created_at, when, sizeof(when));
	web_htmlf(out, "<tr class=\"template\" data-name=\"%s\" "
		  "data-version=\"%d\"><td><a class=\"template-link\" "
		  "href=\"/template?name=", t->name, t->version);
	web_url(out, t->name);
	web_htmlf(out, "&amp;version=%d\">%s</a></td><td>%d</td><td>%s</td>"
		  "<td><code>%s</code></td><td>default%s%s</td><td>%s</td>"
		  "</tr>\n", t->version, t->name, t->version,
		  t->locked ? "yes" : "no", t->sha256, t->langs ? ", " : "",
		  t->langs ? t->langs : "", when);
	return 0;
}

WEB_HANDLER(page_templates)
{
	struct error err = ERROR_INIT;
	struct sbuf rows = SBUF_INIT;
	int rc;

	rc = template_each(ctx->db, NULL, list_row, &rows, &err);
	if (rc) {
		sbuf_release(&rows);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	web_page_begin(&rs->body, "Templates", rq->session);
	web_raw(&rs->body, "<table id=\"templates\"><thead><tr><th>Name</th>"
			   "<th>Version</th><th>Locked</th><th>SHA-256</th>"
			   "<th>Languages</th><th>Added</th></tr></thead>"
			   "<tbody>\n");
	sbuf_add(&rs->body, rows.buf, rows.len);
	web_raw(&rs->body, "</tbody></table>\n");
	if (!rows.len)
		web_raw(&rs->body, "<p id=\"no-templates\">No template yet: "
				   "<code>chancery template add NAME FILE</code> "
				   "stores one.</p>\n");
	web_page_end(&rs->body);
	sbuf_release(&rows);
	return 0;
}

/* ---- one version ---- */

/* The contact a preview is rendered for (cmd_template.c's). */
struct first_contact {
	const char *email; /* the one wanted, or NULL for the first */
	struct registry_contact *out;
	bool found;
};

static int pick_contact(const struct registry_contact *c, void *arg)
{
	struct first_contact *fc = arg;

	if (fc->email && strcasecmp(fc->email, c->email) != 0)
		return 0;
	fc->out->id = c->id;
	fc->out->body_id = c->body_id;
	fc->out->email = xstrdup(c->email);
	fc->out->name = c->name ? xstrdup(c->name) : NULL;
	fc->out->role = c->role ? xstrdup(c->role) : NULL;
	fc->out->language = c->language ? xstrdup(c->language) : NULL;
	fc->out->status = c->status;
	fc->found = true;
	return 1;
}

/* The first live body, when the form names none. */
static int first_body(const struct registry_body *b, void *arg)
{
	char **key = arg;

	*key = b->acronym ? xstrdup(b->acronym) : xasprintf("#%lld",
							    (long long)b->id);
	return 1;
}

/* What the variants are rendered for: one body's contact, as `template
 * render --body B [--contact E]` picks it. */
struct addressee {
	struct registry_body body;
	struct registry_contact contact;
	struct protocol_forms protocol;
	bool placeholder; /* the body has no contact yet */
};

static void addressee_release(struct addressee *a)
{
	registry_body_release(&a->body);
	registry_contact_release(&a->contact);
	protocol_forms_release(&a->protocol);
}

static int addressee_load(struct db *db, const char *body_key,
			  const char *email, struct addressee *a,
			  struct error *err)
{
	struct first_contact fc = {email, &a->contact, false};
	char *first = NULL;
	int rc = 0;

	if (!body_key) {
		rc = registry_body_each(db, NULL, first_body, &first, err);
		if (rc == 1)
			rc = 0;
		if (!rc && !first)
			rc = error_set(err, ERR_NOTFOUND, "the registry has no "
				       "body to render for");
		body_key = first;
	}
	if (!rc)
		rc = registry_body_find(db, body_key, &a->body, err);
	if (!rc) {
		rc = registry_contact_each(db, a->body.id, pick_contact, &fc,
					   err);
		if (rc == 1)
			rc = 0;
	}
	if (!rc && !fc.found && email)
		rc = error_set(err, ERR_NOTFOUND, "body '%s' has no contact "
			       "'%s'", body_key, email);
	else if (!rc && !fc.found) {
		/* as the CLI: a placeholder on the reserved domain */
		a->contact.body_id = a->body.id;
		a->contact.email = xstrdup("no-contact-yet@example.invalid");
		a->contact.status = CONTACT_ACTIVE;
		a->placeholder = true;
	}
	if (!rc)
		rc = protocol_forms_load(db, &a->body, a->contact.id,
					 &a->protocol, err);
	free(first);
	return rc;
}

/* One variant (lang NULL: the default) rendered for the addressee. */
static void add_variant(struct sbuf *out, struct web_ctx *ctx,
			const struct template_info *info, struct template *t,
			const char *lang, const struct addressee *a,
			const char *event_date)
{
	struct error err = ERROR_INIT;
	struct render_context rc_ctx = {0};
	struct template_output o;
	struct template *v = lang ? template_variant(t, lang) : t;
	const char *key = lang ? lang : "default";
	char *source = NULL;
	int rc;

	template_output_init(&o);
	web_htmlf(out, "<section class=\"variant\" id=\"variant-%s\"><h2>"
		  "Variant: %s</h2>\n", key, lang ? lang : "default");
	rc = template_variant_source(ctx->db, info->id, lang, &source, &err);
	if (!rc)
		web_htmlf(out, "<details><summary>Source</summary><pre "
			  "class=\"variant-source\" id=\"source-%s\">%s</pre>"
			  "</details>\n", key, source);
	if (!v) {
		web_error_box(out, "the version has no such variant");
		goto out;
	}
	if (a) {
		rc_ctx.protocol = &a->protocol;
		rc_ctx.cfg = ctx->cfg;
		rc_ctx.body = &a->body;
		rc_ctx.contact = &a->contact;
		rc_ctx.campaign_name = "preview";
		rc_ctx.send_at = clock_now();
		rc_ctx.tz = ctx->cfg->timezone;
		rc_ctx.event_date = event_date;
		rc_ctx.lang = lang;
		rc = template_render(v, &rc_ctx, &o, &err);
		if (rc) {
			web_error_box(out, err.msg);
			goto out;
		}
		web_htmlf(out, "<p>Subject: <strong class=\"rendered-subject\" "
			  "id=\"subject-%s\">%s</strong></p>\n", key,
			  o.subject.buf);
		if (o.has_from)
			web_htmlf(out, "<p>From: <span class=\"rendered-from\">"
				  "%s</span></p>\n", o.from.buf);
		if (o.has_reply_to)
			web_htmlf(out, "<p>Reply-To: <span "
				  "class=\"rendered-reply-to\">%s</span></p>\n",
				  o.reply_to.buf);
		web_htmlf(out, "<pre class=\"rendered-text\" id=\"text-%s\">%s"
			  "</pre>\n", key, o.text.buf);
		if (o.has_html)
			web_htmlf(out, "<iframe class=\"rendered-html\" "
				  "id=\"html-%s\" sandbox=\"\" "
				  "referrerpolicy=\"no-referrer\" title=\"HTML "
				  "part, %s\" srcdoc=\"%s\"></iframe>\n", key, key,
				  o.html.buf);
	}
out:
	web_raw(out, "</section>\n");
	template_output_release(&o);
	free(source);
}

struct version_links {
	struct sbuf *out;
	int current;
};

static int version_link(const struct template_info *t, void *arg)
{
	struct version_links *l = arg;

	web_raw(l->out, "<li><a class=\"version-link\" href=\"/template?name=");
	web_url(l->out, t->name);
	web_htmlf(l->out, "&amp;version=%d\">version %d</a>%s (%s)</li>\n",
		  t->version, t->version,
		  t->version == l->current ? " (shown)" : "", t->sha256);
	return 0;
}

/* A query parameter, NULL when absent or empty. */
static const char *given(const struct web_request *rq, const char *name)
{
	const char *v = web_param(rq, name);

	return v && *v ? v : NULL;
}

static void add_render_form(struct sbuf *out, const struct template_info *info,
			    const char *body, const char *contact,
			    const char *event_date)
{
	web_raw(out, "<form method=\"get\" action=\"/template\" "
		     "id=\"render-form\">");
	web_htmlf(out, "<input type=\"hidden\" name=\"name\" value=\"%s\">"
		  "<input type=\"hidden\" name=\"version\" value=\"%d\">",
		  info->name, info->version);
	web_htmlf(out, "<label>Body <input type=\"text\" name=\"body\" "
		  "id=\"render-body\" value=\"%s\"></label> <label>Contact "
		  "<input type=\"text\" name=\"contact\" id=\"render-contact\" "
		  "value=\"%s\"></label> <label>Event date <input type=\"text\" "
		  "name=\"event_date\" id=\"render-event-date\" "
		  "placeholder=\"YYYY-MM-DD\" value=\"%s\"></label> ",
		  body ? body : "", contact ? contact : "",
		  event_date ? event_date : "");
	web_raw(out, "<button type=\"submit\" id=\"render-submit\">Render"
		     "</button></form>\n");
}

WEB_HANDLER(page_template_show)
{
	struct error err = ERROR_INIT;
	struct template_info info = {0};
	struct addressee a = {0};
	struct template *t = NULL;
	struct sbuf title = SBUF_INIT;
	struct version_links links = {&rs->body, 0};
	const char *name = given(rq, "name"), *vtext = given(rq, "version");
	const char *body = given(rq, "body"), *contact = given(rq, "contact");
	const char *event_date = given(rq, "event_date");
	bool have_addressee;
	char *end = NULL;
	long version = 0;
	int rc, y, m, d;

	if (!name)
		return web_fail(rs, 400, rq, "expected one NAME");
	if (vtext) {
		version = strtol(vtext, &end, 10);
		if (*end || version < 1 || version > 1000000)
			return web_fail(rs, 400, rq, "--version wants a positive "
					"number");
	}
	if (event_date && anniversary_parse_date(event_date, &y, &m, &d))
		return web_fail(rs, 400, rq, "--event-date wants a date "
				"YYYY-MM-DD");
	rc = template_find(ctx->db, name, (int)version, &info, &err);
	if (!rc)
		rc = template_load(ctx->db, info.id, &t, &err);
	if (rc) {
		template_info_release(&info);
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	}
	sbuf_addf(&title, "Template %s", info.name);
	web_page_begin(&rs->body, title.buf, rq->session);
	web_htmlf(&rs->body, "<dl class=\"fields\" id=\"template-info\"><dt>Name</dt><dd "
		  "id=\"template-name\">%s</dd><dt>Version</dt><dd "
		  "id=\"template-version\">%d%s</dd><dt>SHA-256</dt><dd><code "
		  "id=\"template-sha256\">%s</code></dd><dt>From</dt><dd>%s</dd>"
		  "<dt>Languages</dt><dd id=\"template-languages\">default "
		  "(%s)%s%s</dd></dl>\n", info.name, info.version,
		  info.locked ? " (locked: a campaign used it)" : "",
		  info.sha256, info.origin ? info.origin : "-",
		  ctx->cfg->language.default_lang, info.langs ? ", " : "",
		  info.langs ? info.langs : "");
	web_raw(&rs->body, "<h2>Versions</h2><ul id=\"template-versions\">\n");
	links.current = info.version;
	if (template_each(ctx->db, info.name, version_link, &links, &err))
		web_error_box(&rs->body, err.msg);
	web_raw(&rs->body, "</ul>\n<h2>As the addressee reads it</h2>\n");
	add_render_form(&rs->body, &info, body, contact, event_date);
	error_clear(&err);
	have_addressee = addressee_load(ctx->db, body, contact, &a, &err) == 0;
	if (!have_addressee) {
		web_error_box(&rs->body, err.msg);
	} else {
		web_htmlf(&rs->body, "<p id=\"render-for\">Rendered for %s "
			  "&lt;%s&gt;", a.body.acronym ? a.body.acronym
						       : a.body.name,
			  a.contact.email);
		if (a.placeholder)
			web_raw(&rs->body, " (the body has no contact yet: a "
					   "placeholder address)");
		web_raw(&rs->body, ", sent now, campaign \"preview\".</p>\n");
	}
	add_variant(&rs->body, ctx, &info, t, NULL,
		    have_addressee ? &a : NULL, event_date);
	for (size_t i = 0; i < t->nvariants; i++)
		add_variant(&rs->body, ctx, &info, t, t->variants[i]->lang,
			    have_addressee ? &a : NULL, event_date);
	web_page_end(&rs->body);
	addressee_release(&a);
	template_free(t);
	template_info_release(&info);
	sbuf_release(&title);
	return 0;
}
