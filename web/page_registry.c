/*
 * page_registry: the registry's pages. Every change calls the function
 * the CLI's command calls (cli/cmd_body.c, cmd_contact.c, cmd_find.c),
 * and an error shows the library's own text, as the CLI prints it.
 *
 * Routes: GET /registry[?q=TEXT], GET and POST
 * /body/new, GET /body/ID, POST /body/ID/ACTION where ACTION is edit,
 * alias, contact (add), merge, remove, contact/CID/edit,
 * contact/CID/status.
 *
 * Stable ids and names, for the browser tests:
 *   /registry  search-form, search-q (name q), search-submit,
 *              results (table; each row result-N, link class body-link),
 *              bodies (the list without a search), new-body, import-link
 *   /body/new  body-new-form; inputs acronym, name, kind, country, notes;
 *              body-new-submit
 *   /body/ID   body-fields (dl), body-edit-form (inputs edit-acronym,
 *              edit-name, edit-kind, edit-country, edit-notes,
 *              edit-language; names acronym, name, kind, country, notes,
 *              language), body-save;
 *              aliases (ul), alias-form (alias-input, name alias),
 *              alias-submit;
 *              contacts (table; row contact-CID), per contact:
 *              contact-edit-form-CID (inputs contact-email-CID,
 *              contact-name-CID, contact-role-CID, contact-language-CID,
 *              contact-notes-CID, named email, name, role, language,
 *              notes; button contact-save-CID), contact-status-form-CID
 *              (select name status: active, disabled, suppressed; input
 *              name reason; button contact-status-CID);
 *              contact-add-form (names email, name, role, language;
 *              button contact-add-submit);
 *              merge-form (input merge-other, name other: the body to
 *              merge INTO this one; button merge-preview), and on the
 *              preview merge-confirm-form (button merge-confirm);
 *              remove-form / body-remove;
 *              history (table; rows history-row)
 *   every page: error (the library's message), notice (what was done)
 */
#include <stdlib.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/find.h"
#include "chancery/ledger.h"
#include "chancery/registry.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "pages.h"

/* A registry listed without a search shows at most this many bodies. */
#define BODIES_SHOWN 500

/* The fixed success lines a redirect names (?ok=KEY): never text from
 * the request itself. */
static const char *ok_text(const char *key)
{
	static const struct {
		const char *key, *text;
	} v[] = {
		{"saved", "Saved."},
		{"nothing", "Nothing changed."},
		{"alias", "Alias added."},
		{"contact", "Contact added."},
		{"contact-saved", "Contact saved."},
		{"status", "Contact status changed."},
		{"merged", "Bodies merged."},
		{"added", "Body added."},
		{"removed", "Body removed."},
	};

	for (size_t i = 0; key && i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(key, v[i].key) == 0)
			return v[i].text;
	return NULL;
}

static bool can_edit(const struct web_request *rq)
{
	return rq->session && user_may(rq->session->user.role, USER_EDIT);
}

static bool route_exists(const char *method, const char *path)
{
	for (const struct web_route *r = web_routes; r->method; r++)
		if (strcmp(r->method, method) == 0 &&
		    strcmp(r->path, path) == 0)
			return true;
	return false;
}

struct list_rows {
	struct sbuf *b;
	int n;
};

static int body_row(const struct registry_body *bd, void *arg)
{
	struct list_rows *l = arg;

	if (l->n++ >= BODIES_SHOWN)
		return 1;
	web_htmlf(l->b, "<tr><td><a class=\"body-link\" href=\"/body/%lld\">"
			"%s</a></td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
		  (long long)bd->id, bd->acronym ? bd->acronym : "",
		  bd->name, bd->kind, bd->country ? bd->country : "");
	return 0;
}

WEB_HANDLER(page_registry_search)
{
	const char *q = web_param(rq, "q");
	struct find_result r = {0};
	struct error err = ERROR_INIT;
	struct sbuf *b = &rs->body;
	int rc = 0;

	web_page_begin(b, "Registry", rq->session);
	web_raw(b, "<form method=\"get\" action=\"/registry\" "
		   "id=\"search-form\">\n<label for=\"search-q\">Find a body, "
		   "an alias or a contact (accents and case do not "
		   "matter)</label>\n");
	web_htmlf(b, "<input type=\"search\" id=\"search-q\" name=\"q\" "
		     "value=\"%s\" autofocus> ", q ? q : "");
	web_raw(b, "<button type=\"submit\" id=\"search-submit\">Search"
		   "</button>\n</form>\n<p>");
	if (can_edit(rq)) {
		web_raw(b, "<a id=\"new-body\" href=\"/body/new\">New body</a>");
		if (route_exists("GET", "/registry/import"))
			web_raw(b, " · <a id=\"import-link\" "
				   "href=\"/registry/import\">Import a "
				   "spreadsheet</a>");
	}
	web_raw(b, "</p>\n");
	if (q && *q) {
		rc = find_search(ctx->db, q, 200, &r, &err);
		if (rc) {
			rs->status = web_error_status(rc);
			web_error_box(b, err.msg);
			goto out;
		}
		web_htmlf(b, "<p class=\"muted\">%lld match%s</p>\n",
			  (long long)r.n, r.n == 1 ? "" : "es");
		web_raw(b, "<table id=\"results\"><thead><tr><th>Body</th>"
			   "<th>Name</th><th>Matched</th><th>Field</th>"
			   "<th>Text</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < r.n; i++) {
			const struct find_match *m = &r.v[i];

			web_htmlf(b, "<tr id=\"result-%lld\"><td><a "
				     "class=\"body-link\" href=\"/body/%lld\">"
				     "%s</a></td><td>%s</td><td>%s</td>"
				     "<td>%s</td><td>%s</td></tr>\n",
				  (long long)i, (long long)m->body_id, m->body,
				  m->body_name, m->kind, m->field, m->text);
		}
		web_raw(b, "</tbody></table>\n");
	} else {
		struct list_rows l = {b, 0};

		web_raw(b, "<table id=\"bodies\"><thead><tr><th>Acronym</th>"
			   "<th>Name</th><th>Kind</th><th>Country</th></tr>"
			   "</thead><tbody>\n");
		rc = registry_body_each(ctx->db, NULL, body_row, &l, &err);
		web_raw(b, "</tbody></table>\n");
		if (rc == 1) {
			rc = 0;
			web_htmlf(b, "<p class=\"muted\">The first %d bodies; "
				     "search to find the others.</p>\n",
				  BODIES_SHOWN);
		}
		if (rc) {
			rs->status = web_error_status(rc);
			web_error_box(b, err.msg);
		}
	}
out:
	web_page_end(b);
	find_result_release(&r);
	return 0;
}

static void kind_select(struct sbuf *b, const char *id, const char *current)
{
	web_htmlf(b, "<select id=\"%s\" name=\"kind\">\n", id);
	for (const char *const *k = registry_kinds; *k; k++)
		web_htmlf(b, "<option value=\"%s\"%s>%s</option>\n", *k,
			  current && strcmp(current, *k) == 0 ? " selected"
							       : "",
			  *k);
	web_raw(b, "</select>\n");
}

static void text_input(struct sbuf *b, const char *id, const char *name,
		       const char *label, const char *value)
{
	web_htmlf(b, "<label for=\"%s\">%s</label>\n<input type=\"text\" "
		     "id=\"%s\" name=\"%s\" value=\"%s\">\n",
		  id, label, id, name, value ? value : "");
}

static void new_body_page(const struct web_request *rq,
			  struct web_response *rs, const char *error)
{
	struct sbuf *b = &rs->body;

	sbuf_reset(b);
	web_page_begin(b, "New body", rq->session);
	if (error)
		web_error_box(b, error);
	web_raw(b, "<div id=\"body-new-form\">");
	web_form_begin(b, "/body/new", rq->session);
	web_raw(b, "<fieldset><legend>The body</legend>\n");
	text_input(b, "new-acronym", "acronym", "Acronym (optional)",
		   web_param(rq, "acronym"));
	text_input(b, "new-name", "name", "Name", web_param(rq, "name"));
	web_raw(b, "<label for=\"new-kind\">Kind</label>\n");
	kind_select(b, "new-kind", web_param(rq, "kind"));
	text_input(b, "new-country", "country", "Country (two letters)",
		   web_param(rq, "country"));
	text_input(b, "new-notes", "notes", "Notes", web_param(rq, "notes"));
	web_raw(b, "<p><button type=\"submit\" id=\"body-new-submit\">Add"
		   "</button></p></fieldset>\n");
	web_form_end(b);
	web_raw(b, "</div>\n");
	web_page_end(b);
}

WEB_HANDLER(page_body_new)
{
	(void)ctx;
	new_body_page(rq, rs, NULL);
	return 0;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

WEB_HANDLER(page_body_add)
{
	struct error err = ERROR_INIT;
	struct sbuf loc = SBUF_INIT;
	const char *name = web_param(rq, "name");
	int64_t id = 0;
	int rc;

	rc = registry_body_add(ctx->db, nonempty(web_param(rq, "acronym")),
			       name ? name : "", web_param(rq, "kind"),
			       nonempty(web_param(rq, "country")),
			       nonempty(web_param(rq, "notes")), &id, &err);
	if (rc) {
		new_body_page(rq, rs, err.msg);
		rs->status = web_error_status(rc);
		return 0;
	}
	sbuf_addf(&loc, "/body/%lld?ok=added", (long long)id);
	web_redirect(rs, loc.buf);
	sbuf_release(&loc);
	return 0;
}

/* ---- /body/ID ---- */

struct show {
	struct web_ctx *ctx;
	const struct web_request *rq;
	struct sbuf *b;
	struct sbuf words;
	struct error *err;
	int64_t body_id;
	bool edit;
	int n;
};

static int alias_item(const char *alias, void *arg)
{
	struct show *s = arg;

	web_htmlf(s->b, "<li>%s</li>\n", alias);
	return 0;
}

static void status_select(struct sbuf *b, enum registry_contact_status cur)
{
	static const enum registry_contact_status v[] = {
		CONTACT_ACTIVE, CONTACT_DISABLED, CONTACT_SUPPRESSED};

	web_raw(b, "<select name=\"status\">\n");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *n = registry_contact_status_name(v[i]);

		web_htmlf(b, "<option value=\"%s\"%s>%s</option>\n", n,
			  v[i] == cur ? " selected" : "",
			  v[i] == CONTACT_ACTIVE ? "active (enable)" : n);
	}
	web_raw(b, "</select>\n");
}

static void contact_field(struct sbuf *b, long long id, const char *name,
			  const char *label, const char *value)
{
	web_htmlf(b, "<label for=\"contact-%s-%lld\">%s</label><input "
		     "type=\"text\" id=\"contact-%s-%lld\" name=\"%s\" "
		     "value=\"%s\">\n",
		  name, id, label, name, id, name, value ? value : "");
}

static int contact_row(const struct registry_contact *c, void *arg)
{
	struct show *s = arg;
	struct sbuf *b = s->b;
	struct sbuf action = SBUF_INIT;
	const char *status = registry_contact_status_name(c->status);
	long long id = (long long)c->id;

	web_htmlf(b, "<tr id=\"contact-%lld\"><td class=\"email\">%s</td>"
		     "<td>%s</td><td>%s</td><td>%s</td>"
		     "<td class=\"status-%s\">%s</td><td>%s</td>",
		  id, c->email, c->name ? c->name : "",
		  c->role ? c->role : "", c->language ? c->language : "",
		  status, status, c->status_reason ? c->status_reason : "");
	if (!s->edit) {
		web_raw(b, "</tr>\n");
		return 0;
	}
	web_raw(b, "<td>");
	sbuf_addf(&action, "/body/%lld/contact/%lld/status",
		  (long long)s->body_id, id);
	web_htmlf(b, "<div id=\"contact-status-form-%lld\">", id);
	web_form_begin(b, action.buf, s->rq->session);
	status_select(b, c->status);
	web_raw(b, "<input type=\"text\" name=\"reason\" "
		   "placeholder=\"reason\">\n");
	web_htmlf(b, "<button type=\"submit\" class=\"secondary\" "
		     "id=\"contact-status-%lld\">Set</button>\n", id);
	web_form_end(b);
	web_raw(b, "</div><details><summary>Edit</summary>");
	sbuf_reset(&action);
	sbuf_addf(&action, "/body/%lld/contact/%lld/edit",
		  (long long)s->body_id, id);
	web_htmlf(b, "<div id=\"contact-edit-form-%lld\">", id);
	web_form_begin(b, action.buf, s->rq->session);
	contact_field(b, id, "email", "Address", c->email);
	contact_field(b, id, "name", "Name", c->name);
	contact_field(b, id, "role", "Role", c->role);
	contact_field(b, id, "language", "Language", c->language);
	web_htmlf(b, "<label for=\"contact-notes-%lld\">Notes</label>"
		     "<textarea id=\"contact-notes-%lld\" name=\"notes\">"
		     "\n%s</textarea>\n",
		  id, id, c->notes ? c->notes : "");
	web_htmlf(b, "<p><button type=\"submit\" id=\"contact-save-%lld\">"
		     "Save contact</button></p>\n", id);
	web_form_end(b);
	web_raw(b, "</div></details></td></tr>\n");
	sbuf_release(&action);
	return 0;
}

static int history_row(const struct ledger_row *row, void *arg)
{
	struct show *s = arg;
	char when[32];
	int rc;

	clock_format_utc(row->ts, when, sizeof(when));
	sbuf_reset(&s->words);
	if ((rc = ledger_data_readable(s->ctx->db, row->data, &s->words,
				       s->err)))
		return rc;
	web_htmlf(s->b, "<tr class=\"history-row\"><td>%s</td><td>%s</td>"
			"<td>%s</td><td>%s</td></tr>\n",
		  when, row->kind, row->actor ? row->actor : "(daemon)",
		  s->words.buf);
	return 0;
}

static int body_id_of(const char *path, const char **rest)
{
	char *end;
	long long id;

	path += strlen("/body/");
	if (*path < '1' || *path > '9')
		return 0;
	id = strtoll(path, &end, 10);
	if (*end && *end != '/')
		return 0;
	*rest = end;
	return id > 0 && id <= INT32_MAX ? (int)id : 0;
}

/* The whole body page, with error (the library's text) or the notice. */
static int body_page(struct web_ctx *ctx, const struct web_request *rq,
		     struct web_response *rs, int64_t id, const char *error,
		     int status)
{
	struct registry_body bd = {0};
	struct error err = ERROR_INIT;
	struct sbuf title = SBUF_INIT, action = SBUF_INIT;
	struct show s = {ctx, rq, &rs->body, SBUF_INIT, &err, id,
			 can_edit(rq), 0};
	struct sbuf *b = &rs->body;
	const char *ok = ok_text(web_param(rq, "ok"));
	int rc;

	sbuf_reset(b);
	if ((rc = registry_body_get(ctx->db, id, &bd, &err))) {
		web_fail(rs, web_error_status(rc), rq, err.msg);
		goto out;
	}
	rs->status = status;
	sbuf_addf(&title, "%s%s%s%s", bd.name, bd.acronym ? " (" : "",
		  bd.acronym ? bd.acronym : "", bd.acronym ? ")" : "");
	web_page_begin(b, title.buf, rq->session);
	if (error)
		web_error_box(b, error);
	else if (ok)
		web_notice_box(b, ok);
	if (bd.removed_at) {
		if (bd.merged_into)
			web_htmlf(b, "<p class=\"box error\" id=\"removed\">"
				     "Removed: merged into <a href=\"/body/"
				     "%lld\">#%lld</a>.</p>\n",
				  (long long)bd.merged_into,
				  (long long)bd.merged_into);
		else
			web_raw(b, "<p class=\"box error\" id=\"removed\">"
				   "Removed.</p>\n");
		s.edit = false;
	}
	web_htmlf(b, "<dl class=\"fields\" id=\"body-fields\">"
		     "<dt>Id</dt><dd>#%lld</dd><dt>Acronym</dt><dd>%s</dd>"
		     "<dt>Name</dt><dd>%s</dd><dt>Kind</dt><dd>%s</dd>"
		     "<dt>Country</dt><dd>%s</dd><dt>Language</dt><dd>%s</dd>"
		     "<dt>Notes</dt><dd>%s</dd></dl>\n",
		  (long long)bd.id, bd.acronym ? bd.acronym : "", bd.name,
		  bd.kind, bd.country ? bd.country : "",
		  bd.language ? bd.language : "", bd.notes ? bd.notes : "");

	if (s.edit) {
		sbuf_addf(&action, "/body/%lld/edit", (long long)id);
		web_raw(b, "<details id=\"body-edit\"><summary>Edit the body"
			   "</summary><div id=\"body-edit-form\">");
		web_form_begin(b, action.buf, rq->session);
		text_input(b, "edit-acronym", "acronym", "Acronym",
			   bd.acronym);
		text_input(b, "edit-name", "name", "Name", bd.name);
		web_raw(b, "<label for=\"edit-kind\">Kind</label>\n");
		kind_select(b, "edit-kind", bd.kind);
		text_input(b, "edit-country", "country",
			   "Country (two letters)", bd.country);
		text_input(b, "edit-language", "language",
			   "Language (BCP 47, e.g. fr or es-419)",
			   bd.language);
		text_input(b, "edit-notes", "notes", "Notes", bd.notes);
		web_raw(b, "<p><button type=\"submit\" id=\"body-save\">Save"
			   "</button></p>\n");
		web_form_end(b);
		web_raw(b, "</div></details>\n");
	}

	web_raw(b, "<h2>Names it is known by</h2>\n<ul id=\"aliases\">\n");
	rc = registry_alias_each(ctx->db, id, alias_item, &s, &err);
	web_raw(b, "</ul>\n");
	if (!rc && s.edit) {
		sbuf_reset(&action);
		sbuf_addf(&action, "/body/%lld/alias", (long long)id);
		web_raw(b, "<div id=\"alias-form\">");
		web_form_begin(b, action.buf, rq->session);
		web_raw(b, "<input type=\"text\" id=\"alias-input\" "
			   "name=\"alias\" placeholder=\"another name\"> "
			   "<button type=\"submit\" id=\"alias-submit\" "
			   "class=\"secondary\">Add alias</button>\n");
		web_form_end(b);
		web_raw(b, "</div>\n");
	}

	web_raw(b, "<h2>Contacts</h2>\n<table id=\"contacts\"><thead><tr>"
		   "<th>Address</th><th>Name</th><th>Role</th>"
		   "<th>Language</th><th>Status</th><th>Reason</th>");
	if (s.edit)
		web_raw(b, "<th>Change</th>");
	web_raw(b, "</tr></thead><tbody>\n");
	if (!rc && !bd.removed_at)
		rc = registry_contact_each(ctx->db, id, contact_row, &s, &err);
	web_raw(b, "</tbody></table>\n");
	if (!rc && s.edit) {
		sbuf_reset(&action);
		sbuf_addf(&action, "/body/%lld/contact", (long long)id);
		web_raw(b, "<details><summary>Add a contact</summary>"
			   "<div id=\"contact-add-form\">");
		web_form_begin(b, action.buf, rq->session);
		text_input(b, "add-email", "email", "Address", NULL);
		text_input(b, "add-name", "name", "Name (optional)", NULL);
		text_input(b, "add-role", "role", "Role (optional)", NULL);
		text_input(b, "add-language", "language",
			   "Language (optional)", NULL);
		web_raw(b, "<p><button type=\"submit\" "
			   "id=\"contact-add-submit\">Add contact</button>"
			   "</p>\n");
		web_form_end(b);
		web_raw(b, "</div></details>\n");

		web_raw(b, "<h2>Merge or remove</h2>\n<div id=\"merge-form\">");
		sbuf_reset(&action);
		sbuf_addf(&action, "/body/%lld/merge", (long long)id);
		web_form_begin(b, action.buf, rq->session);
		web_raw(b, "<label for=\"merge-other\">Merge another body "
			   "into this one (its acronym, name, alias or #id)"
			   "</label>\n<input type=\"text\" id=\"merge-other\" "
			   "name=\"other\"> <button type=\"submit\" "
			   "id=\"merge-preview\" class=\"secondary\">Show "
			   "what would move</button>\n");
		web_form_end(b);
		web_raw(b, "</div>\n<div id=\"remove-form\">");
		sbuf_reset(&action);
		sbuf_addf(&action, "/body/%lld/remove", (long long)id);
		web_form_begin(b, action.buf, rq->session);
		web_raw(b, "<button type=\"submit\" id=\"body-remove\" "
			   "class=\"danger\" data-confirm=\"Remove this body "
			   "and its contacts?\">Remove the body</button>\n");
		web_form_end(b);
		web_raw(b, "</div>\n");
	}

	web_raw(b, "<h2>History</h2>\n<table id=\"history\"><thead><tr>"
		   "<th>Time (UTC)</th><th>Event</th><th>By</th><th>What</th>"
		   "</tr></thead><tbody>\n");
	if (!rc)
		rc = ledger_history(ctx->db, id, bd.merged_into, 0, false,
				    history_row, &s, &err);
	web_raw(b, "</tbody></table>\n");
	if (rc) {
		rs->status = web_error_status(rc);
		web_error_box(b, err.msg);
	}
	web_page_end(b);
out:
	sbuf_release(&s.words);
	sbuf_release(&title);
	sbuf_release(&action);
	registry_body_release(&bd);
	return 0;
}

WEB_HANDLER(page_body_show)
{
	const char *rest = NULL;
	int id = body_id_of(rq->path, &rest);

	if (!id || *rest)
		return web_fail(rs, 404, rq, "There is no such page.");
	return body_page(ctx, rq, rs, id, NULL, 200);
}

/* ---- changes ---- */

static int done(struct web_response *rs, int64_t id, const char *ok)
{
	struct sbuf loc = SBUF_INIT;

	sbuf_addf(&loc, "/body/%lld?ok=%s", (long long)id, ok);
	web_redirect(rs, loc.buf);
	sbuf_release(&loc);
	return 0;
}

/* A field of the form that differs from the stored value, else NULL
 * (registry_body_update leaves NULL fields as they are). */
static const char *differs(const struct web_request *rq, const char *name,
			   const char *stored)
{
	const char *v = web_param(rq, name);

	if (!v)
		return NULL;
	if (strcmp(v, stored ? stored : "") == 0)
		return NULL;
	return v;
}

static int body_edit(struct web_ctx *ctx, const struct web_request *rq,
		     const struct registry_body *bd, const char **ok,
		     struct error *err)
{
	const char *v[5] = {
		differs(rq, "acronym", bd->acronym),
		differs(rq, "name", bd->name),
		differs(rq, "kind", bd->kind),
		differs(rq, "country", bd->country),
		differs(rq, "notes", bd->notes),
	};
	const char *language = differs(rq, "language", bd->language);
	bool fields = v[0] || v[1] || v[2] || v[3] || v[4];
	char *canon = NULL;
	int rc;

	if (!fields && !language) {
		*ok = "nothing";
		return 0;
	}
	/* as `chancery body edit`: "" clears the language */
	if (language && *language &&
	    (rc = template_lang_canonical(language, &canon, err)))
		return rc;
	if ((rc = db_begin(ctx->db, err)))
		goto out;
	if (fields)
		rc = registry_body_update(ctx->db, bd->id, v[0], v[1], v[2],
					  v[3], v[4], err);
	if (!rc && language)
		rc = registry_body_set_language(ctx->db, bd->id, canon, err);
	if (!rc)
		rc = db_commit(ctx->db, err);
	else
		db_rollback(ctx->db);
	*ok = "saved";
out:
	free(canon);
	return rc;
}

static void merge_list(struct sbuf *b, const char *what,
		       const struct registry_strings *s)
{
	if (!s->n)
		return;
	web_htmlf(b, "<dt>%s</dt><dd>", what);
	for (size_t i = 0; i < s->n; i++)
		web_htmlf(b, "%s%s", i ? ", " : "", s->v[i]);
	web_raw(b, "</dd>\n");
}

/* The dry run of a merge, with the form that does it. */
static int merge_preview(struct web_ctx *ctx, const struct web_request *rq,
			 struct web_response *rs,
			 const struct registry_body *keep,
			 const struct registry_body *drop,
			 const struct registry_merge *m)
{
	struct sbuf *b = &rs->body;
	struct sbuf action = SBUF_INIT;

	(void)ctx;
	sbuf_reset(b);
	web_page_begin(b, "Merge bodies", rq->session);
	web_htmlf(b, "<p id=\"merge-summary\">Would merge #%lld %s into "
		     "#%lld %s (dry run: nothing changed yet).</p>\n",
		  (long long)drop->id, drop->name, (long long)keep->id,
		  keep->name);
	web_raw(b, "<dl class=\"fields\" id=\"merge-plan\">\n");
	merge_list(b, "aliases added", &m->aliases);
	merge_list(b, "contacts moved", &m->contacts);
	merge_list(b, "contacts not duplicated (the body already has them)",
		   &m->contacts_kept);
	merge_list(b, "stricter status kept", &m->status_kept);
	merge_list(b, "list entries moved", &m->lists);
	merge_list(b, "lists that already had it", &m->lists_already);
	web_raw(b, "</dl>\n<div id=\"merge-confirm-form\">");
	sbuf_addf(&action, "/body/%lld/merge", (long long)keep->id);
	web_form_begin(b, action.buf, rq->session);
	web_htmlf(b, "<input type=\"hidden\" name=\"other\" value=\"#%lld\">"
		     "<input type=\"hidden\" name=\"confirm\" value=\"1\">",
		  (long long)drop->id);
	web_raw(b, "<button type=\"submit\" id=\"merge-confirm\">Merge"
		   "</button> ");
	web_form_end(b);
	web_htmlf(b, "</div><p><a id=\"merge-cancel\" href=\"/body/%lld\">"
		     "Back to the body</a></p>\n", (long long)keep->id);
	web_page_end(b);
	sbuf_release(&action);
	return 0;
}

/* The body an "other" field names: #id for any, else as
 * registry_body_find does. */
static int other_body(struct db *db, const char *key,
		      struct registry_body *out, struct error *err)
{
	char *end;
	long long id;

	if (!key || !*key)
		return error_set(err, ERR_USAGE, "name the body to merge");
	if (key[0] == '#' && key[1]) {
		id = strtoll(key + 1, &end, 10);
		if (*end == '\0' && id > 0)
			return registry_body_get(db, id, out, err);
	}
	return registry_body_find(db, key, out, err);
}

static int contact_action(struct web_ctx *ctx, const struct web_request *rq,
			  int64_t body_id, const char *rest, const char **ok,
			  struct error *err)
{
	struct registry_contact ct = {0};
	char *end;
	long long cid = strtoll(rest, &end, 10);
	int rc, changed = 0;

	if (cid <= 0 || *end != '/')
		return error_set(err, ERR_NOTFOUND, "no such contact");
	if ((rc = registry_contact_get(ctx->db, cid, &ct, err)))
		return rc;
	if (ct.body_id != body_id) {
		rc = error_set(err, ERR_NOTFOUND, "no such contact");
		goto out;
	}
	if (strcmp(end, "/edit") == 0) {
		struct registry_contact_edit e = {
			.email = web_param(rq, "email"),
			.name = web_param(rq, "name"),
			.role = web_param(rq, "role"),
			.language = web_param(rq, "language"),
			.notes = web_param(rq, "notes"),
		};

		rc = registry_contact_update(ctx->db, ct.id, &e, &changed,
					     err);
		*ok = changed ? "contact-saved" : "nothing";
	} else if (strcmp(end, "/status") == 0) {
		enum registry_contact_status st;
		const char *name = web_param(rq, "status");
		const char *reason = web_param(rq, "reason");

		if (!name || registry_contact_status_parse(name, &st) ||
		    st == CONTACT_BOUNCING) {
			rc = error_set(err, ERR_USAGE,
				       "unknown status '%s' (active, "
				       "disabled, suppressed)",
				       name ? name : "");
			goto out;
		}
		/* the CLI's contact disable/enable/suppress */
		rc = registry_contact_set_status(
			ctx->db, ct.id, st,
			reason && *reason ? reason : "by hand", err);
		*ok = "status";
	} else {
		rc = error_set(err, ERR_NOTFOUND, "no such action");
	}
out:
	registry_contact_release(&ct);
	return rc;
}

WEB_HANDLER(page_body_post)
{
	const char *rest = NULL, *ok = "saved";
	int id = body_id_of(rq->path, &rest);
	struct registry_body bd = {0}, other = {0};
	struct registry_merge m = {0};
	struct error err = ERROR_INIT;
	int rc;

	if (!id || !*rest)
		return web_fail(rs, 404, rq, "There is no such page.");
	if ((rc = registry_body_get(ctx->db, id, &bd, &err)))
		return web_fail(rs, web_error_status(rc), rq, err.msg);
	if (bd.removed_at) {
		rc = error_set(&err, ERR_DATA, "body #%lld is removed",
			       (long long)bd.id);
	} else if (strcmp(rest, "/edit") == 0) {
		rc = body_edit(ctx, rq, &bd, &ok, &err);
	} else if (strcmp(rest, "/alias") == 0) {
		const char *alias = web_param(rq, "alias");

		rc = registry_alias_add(ctx->db, id, alias ? alias : "",
					"manual", &err);
		ok = "alias";
	} else if (strcmp(rest, "/contact") == 0) {
		const char *email = web_param(rq, "email");

		rc = registry_contact_add(ctx->db, id, email ? email : "",
					  nonempty(web_param(rq, "name")),
					  nonempty(web_param(rq, "role")),
					  nonempty(web_param(rq, "language")),
					  NULL, &err);
		ok = "contact";
	} else if (strncmp(rest, "/contact/", 9) == 0) {
		rc = contact_action(ctx, rq, id, rest + 9, &ok, &err);
	} else if (strcmp(rest, "/merge") == 0) {
		bool confirm = web_param(rq, "confirm") != NULL;

		rc = other_body(ctx->db, web_param(rq, "other"), &other, &err);
		if (!rc)
			rc = registry_body_merge(ctx->db, bd.id, other.id,
						 !confirm, &m, &err);
		if (!rc && !confirm) {
			merge_preview(ctx, rq, rs, &bd, &other, &m);
			goto out;
		}
		ok = "merged";
	} else if (strcmp(rest, "/remove") == 0) {
		rc = registry_body_remove(ctx->db, id, &err);
		ok = "removed";
	} else {
		web_fail(rs, 404, rq, "There is no such page.");
		goto out;
	}
	if (rc)
		body_page(ctx, rq, rs, id, err.msg, web_error_status(rc));
	else
		done(rs, id, ok);
out:
	registry_merge_release(&m);
	registry_body_release(&other);
	registry_body_release(&bd);
	return 0;
}
