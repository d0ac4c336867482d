/*
 * page_lists: addressee lists, their structure and expansion, and the
 * import of a statement's addressee paragraph with its resolution plan.
 * Every change calls what the CLI's command calls (cli/cmd_list.c,
 * cmd_registry.c: registry import-statement), with the same text on
 * error.
 *
 * Routes: GET /lists, POST /lists/new, GET /list?name=NAME, POST
 * /list/ACTION (add-body, add-list, remove-body, remove-list, rule,
 * delete; the form's name field names the list), GET and POST
 * /lists/addressees (the plan), POST /lists/addressees/apply.
 *
 * Stable ids and names, for the browser tests:
 *   /lists   lists (table; row list-N, link class list-link),
 *            list-create-form (inputs list-name name=name, list-kind
 *            name=kind static|rule, list-description name=description;
 *            button list-create), addressees-link
 *   /list    list-fields, members (table; rows member-N; per row a form
 *            with button member-remove-N), rules (table), expansion
 *            (table; rows expansion-row), counts;
 *            member-add-form (input member-body name=body; button
 *            member-add), sublist-add-form (input sublist-name
 *            name=list; button sublist-add), rule-add-form (select
 *            rule-kind name=kind, input rule-country name=country;
 *            button rule-add), list-delete-form / list-delete
 *   /lists/addressees   addressees-form (textarea addressees-text
 *            name=text, or file input addressees-file name=file; input
 *            addressees-paragraph name=paragraph, addressees-from
 *            name=from, addressees-list name=list; button
 *            addressees-plan)
 *   the plan  plan (table; row plan-N, N from 1; checkbox accept-N
 *            name=accept value=N on guessed rows; input correct-N
 *            name=correct-N: the body or list the phrase names instead,
 *            taught as `registry teach` does), plan-apply-form, button
 *            plan-apply; after applying: applied (the counts)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/addressee.h"
#include "chancery/addressee_plan.h"
#include "chancery/addressee_rule.h"
#include "chancery/campaign.h"
#include "chancery/list.h"
#include "chancery/registry.h"
#include "chancery/xalloc.h"
#include "pages.h"

/* As the CLI's bound on a statement file. */
#define STATEMENT_MAX (32u << 20)

static bool can_edit(const struct web_request *rq)
{
	return rq->session && user_may(rq->session->user.role, USER_EDIT);
}

static const char *ok_text(const char *key)
{
	static const struct {
		const char *key, *text;
	} v[] = {
		{"created", "List created."},
		{"changed", "List changed."},
		{"nothing", "Nothing changed: it was already so."},
		{"deleted", "List deleted."},
	};

	for (size_t i = 0; key && i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(key, v[i].key) == 0)
			return v[i].text;
	return NULL;
}

static void list_href(struct sbuf *b, const char *name)
{
	struct sbuf u = SBUF_INIT;

	sbuf_addstr(&u, "/list?name=");
	web_url(&u, name);
	web_html(b, u.buf);
	sbuf_release(&u);
}

/* ---- /lists ---- */

struct lists_walk {
	struct web_ctx *ctx;
	struct sbuf *b;
	struct error *err;
	int n;
};

static int list_row(const struct list_info *l, void *arg)
{
	struct lists_walk *w = arg;
	int bodies = 0, contacts = 0;
	int rc = list_count(w->ctx->db, l->id, &bodies, &contacts, w->err);

	if (rc)
		return rc;
	web_htmlf(w->b, "<tr id=\"list-%d\"><td><a class=\"list-link\" "
			"href=\"", ++w->n);
	list_href(w->b, l->name);
	web_htmlf(w->b, "\">%s</a></td><td>%s</td><td>%s</td><td>%d</td>"
			"<td>%d</td></tr>\n",
		  l->name, l->kind == LIST_RULE ? "rule" : "static",
		  l->description ? l->description : "", bodies, contacts);
	return 0;
}

static void lists_page(struct web_ctx *ctx, const struct web_request *rq,
		       struct web_response *rs, const char *error,
		       int status)
{
	struct error err = ERROR_INIT;
	struct sbuf *b = &rs->body;
	struct lists_walk w = {ctx, b, &err, 0};
	const char *ok = ok_text(web_param(rq, "ok"));
	int rc;

	sbuf_reset(b);
	rs->status = status;
	web_page_begin(b, "Lists", rq->session);
	if (error)
		web_error_box(b, error);
	else if (ok)
		web_notice_box(b, ok);
	web_raw(b, "<p><a id=\"addressees-link\" href=\"/lists/addressees\">"
		   "Import a statement's addressees</a></p>\n");
	web_raw(b, "<table id=\"lists\"><thead><tr><th>List</th><th>Kind"
		   "</th><th>Description</th><th>Bodies</th><th>Contacts</th>"
		   "</tr></thead><tbody>\n");
	rc = list_each(ctx->db, list_row, &w, &err);
	web_raw(b, "</tbody></table>\n");
	if (rc) {
		rs->status = web_error_status(rc);
		web_error_box(b, err.msg);
	}
	if (can_edit(rq)) {
		web_raw(b, "<h2>New list</h2>\n<div id=\"list-create-form\">");
		web_form_begin(b, "/lists/new", rq->session);
		web_htmlf(b, "<label for=\"list-name\">Name</label><input "
			     "type=\"text\" id=\"list-name\" name=\"name\" "
			     "value=\"%s\">\n",
			  error && web_param(rq, "name") ? web_param(rq, "name")
							 : "");
		web_raw(b, "<label for=\"list-kind\">Kind</label><select "
			   "id=\"list-kind\" name=\"kind\"><option value="
			   "\"static\">static: named members</option><option "
			   "value=\"rule\">rule: every body of a kind</option>"
			   "</select>\n<label for=\"list-description\">"
			   "Description (optional)</label><input type=\"text\" "
			   "id=\"list-description\" name=\"description\">\n"
			   "<p><button type=\"submit\" id=\"list-create\">"
			   "Create</button></p>\n");
		web_form_end(b);
		web_raw(b, "</div>\n");
	}
	web_page_end(b);
}

WEB_HANDLER(page_lists)
{
	lists_page(ctx, rq, rs, NULL, 200);
	return 0;
}

WEB_HANDLER(page_list_create)
{
	const char *name = web_param(rq, "name");
	const char *kind = web_param(rq, "kind");
	const char *desc = web_param(rq, "description");
	struct error err = ERROR_INIT;
	struct sbuf loc = SBUF_INIT;
	enum list_kind k = LIST_STATIC;
	int rc;

	if (kind && strcmp(kind, "rule") == 0)
		k = LIST_RULE;
	else if (kind && strcmp(kind, "static") != 0) {
		rc = error_set(&err, ERR_USAGE, "unknown kind '%s' (static, "
			       "rule)", kind);
		goto fail;
	}
	rc = list_create(ctx->db, name ? name : "", k,
			 desc && *desc ? desc : NULL, NULL, &err);
	if (rc)
		goto fail;
	sbuf_addstr(&loc, "/list?name=");
	web_url(&loc, name);
	sbuf_addstr(&loc, "&ok=created");
	web_redirect(rs, loc.buf);
	sbuf_release(&loc);
	return 0;
fail:
	lists_page(ctx, rq, rs, err.msg, web_error_status(rc));
	return 0;
}

/* ---- /list?name= ---- */

struct list_show {
	struct web_ctx *ctx;
	const struct web_request *rq;
	struct sbuf *b;
	struct error *err;
	const char *list;
	bool edit;
	int n;
};

static void remove_form(struct list_show *s, const char *action,
			const char *field, long long id)
{
	struct sbuf *b = s->b;

	web_htmlf(b, "<form method=\"post\" action=\"/list/%s\" "
		     "class=\"inline\">", action);
	web_htmlf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
		  s->rq->session->csrf);
	web_htmlf(b, "<input type=\"hidden\" name=\"name\" value=\"%s\">",
		  s->list);
	web_htmlf(b, "<input type=\"hidden\" name=\"%s\" value=\"%lld\">",
		  field, id);
	web_htmlf(b, "<button type=\"submit\" class=\"secondary\" "
		     "id=\"member-remove-%d\">Remove</button></form>",
		  s->n);
}

static int member_row(const struct list_member *m, void *arg)
{
	struct list_show *s = arg;
	struct sbuf *b = s->b;

	if (m->rule_kind) {
		web_htmlf(b, "<tr class=\"rule-row\"><td>every body of kind "
			     "%s</td><td>%s</td></tr>\n",
			  m->rule_kind,
			  m->rule_country ? m->rule_country : "any country");
		return 0;
	}
	s->n++;
	web_htmlf(b, "<tr id=\"member-%d\"><td>%d</td>", s->n, m->position);
	if (m->body_id) {
		web_htmlf(b, "<td>body</td><td><a href=\"/body/%lld\">%s%s%s"
			     "%s</a>%s</td>",
			  (long long)m->body_id,
			  m->body_acronym ? m->body_acronym : "",
			  m->body_acronym ? " · " : "", m->body_name, "",
			  m->body_removed ? " <em>(removed)</em>" : "");
	} else {
		web_raw(b, "<td>list</td><td><a href=\"");
		list_href(b, m->list_name);
		web_htmlf(b, "\">%s</a></td>", m->list_name);
	}
	web_raw(b, "<td>");
	if (s->edit)
		remove_form(s, m->body_id ? "remove-body" : "remove-list",
			    m->body_id ? "body_id" : "list_id",
			    (long long)(m->body_id ? m->body_id : m->list_id));
	web_raw(b, "</td></tr>\n");
	return 0;
}

static int active_contact(const struct registry_contact *c, void *arg)
{
	int *n = arg;

	*n += c->status == CONTACT_ACTIVE;
	return 0;
}

static int expansion_row(const struct registry_body *bd, void *arg)
{
	struct list_show *s = arg;
	int active = 0;
	int rc = registry_contact_each(s->ctx->db, bd->id, active_contact,
				       &active, s->err);

	if (rc)
		return rc;
	web_htmlf(s->b, "<tr class=\"expansion-row\"><td><a href=\"/body/"
			"%lld\">%s</a></td><td>%s</td><td>%s</td><td>%d</td>"
			"</tr>\n",
		  (long long)bd->id, bd->acronym ? bd->acronym : "",
		  bd->name, bd->kind, active);
	return 0;
}

static void hidden_name_form(struct sbuf *b, const struct web_request *rq,
			     const char *action, const char *id,
			     const char *list)
{
	web_htmlf(b, "<div id=\"%s\">", id);
	web_form_begin(b, action, rq->session);
	web_htmlf(b, "<input type=\"hidden\" name=\"name\" value=\"%s\">\n",
		  list);
}

static void list_page(struct web_ctx *ctx, const struct web_request *rq,
		      struct web_response *rs, const char *name,
		      const char *error, const char *notice, int status)
{
	struct list_info l = {0};
	struct error err = ERROR_INIT;
	struct sbuf *b = &rs->body;
	struct sbuf title = SBUF_INIT;
	struct list_show s = {ctx, rq, b, &err, name, can_edit(rq), 0};
	const char *ok = ok_text(web_param(rq, "ok"));
	int bodies = 0, contacts = 0, rc;

	sbuf_reset(b);
	if ((rc = list_find(ctx->db, name ? name : "", &l, &err))) {
		web_fail(rs, web_error_status(rc), rq, err.msg);
		goto out;
	}
	rs->status = status;
	sbuf_addf(&title, "List %s", l.name);
	web_page_begin(b, title.buf, rq->session);
	if (error)
		web_error_box(b, error);
	else if (notice)
		web_notice_box(b, notice);
	else if (ok)
		web_notice_box(b, ok);
	web_htmlf(b, "<dl class=\"fields\" id=\"list-fields\"><dt>Kind</dt>"
		     "<dd>%s</dd><dt>Description</dt><dd>%s</dd></dl>\n",
		  l.kind == LIST_RULE ? "rule" : "static",
		  l.description ? l.description : "");

	web_raw(b, "<h2>Structure</h2>\n<table id=\"members\"><thead><tr>"
		   "<th>#</th><th>Member</th><th>Name</th><th></th></tr>"
		   "</thead><tbody>\n");
	rc = list_each_member(ctx->db, l.id, member_row, &s, &err);
	web_raw(b, "</tbody></table>\n");
	if (!rc && s.edit && l.kind == LIST_STATIC) {
		hidden_name_form(b, rq, "/list/add-body", "member-add-form",
				 l.name);
		web_raw(b, "<label for=\"member-body\">Add a body (acronym, "
			   "name or alias)</label><input type=\"text\" "
			   "id=\"member-body\" name=\"body\"> <button "
			   "type=\"submit\" id=\"member-add\" class=\"secondary"
			   "\">Add</button>\n");
		web_form_end(b);
		web_raw(b, "</div>\n");
		hidden_name_form(b, rq, "/list/add-list", "sublist-add-form",
				 l.name);
		web_raw(b, "<label for=\"sublist-name\">Add a list as a "
			   "member</label><input type=\"text\" "
			   "id=\"sublist-name\" name=\"list\"> <button "
			   "type=\"submit\" id=\"sublist-add\" class=\"secondary"
			   "\">Add</button>\n");
		web_form_end(b);
		web_raw(b, "</div>\n");
	}
	if (!rc && s.edit && l.kind == LIST_RULE) {
		hidden_name_form(b, rq, "/list/rule", "rule-add-form", l.name);
		web_raw(b, "<label for=\"rule-kind\">Every body of kind"
			   "</label><select id=\"rule-kind\" name=\"kind\">\n");
		for (const char *const *k = registry_kinds; *k; k++)
			web_htmlf(b, "<option value=\"%s\">%s</option>\n", *k,
				  *k);
		web_raw(b, "</select><label for=\"rule-country\">Of country "
			   "(two letters; empty: any)</label><input "
			   "type=\"text\" id=\"rule-country\" name=\"country\">"
			   " <button type=\"submit\" id=\"rule-add\" class="
			   "\"secondary\">Add rule</button>\n");
		web_form_end(b);
		web_raw(b, "</div>\n");
	}

	if (!rc)
		rc = list_count(ctx->db, l.id, &bodies, &contacts, &err);
	if (!rc)
		web_htmlf(b, "<h2>Expansion</h2>\n<p id=\"counts\">%d bodies, "
			     "%d contacts (any status)</p>\n",
			  bodies, contacts);
	web_raw(b, "<table id=\"expansion\"><thead><tr><th>Acronym</th>"
		   "<th>Name</th><th>Kind</th><th>Active contacts</th></tr>"
		   "</thead><tbody>\n");
	if (!rc)
		rc = list_each_body(ctx->db, l.id, expansion_row, &s, &err);
	web_raw(b, "</tbody></table>\n");
	if (rc) {
		rs->status = web_error_status(rc);
		web_error_box(b, err.msg);
	}
	if (s.edit) {
		hidden_name_form(b, rq, "/list/delete", "list-delete-form",
				 l.name);
		web_raw(b, "<button type=\"submit\" id=\"list-delete\" "
			   "class=\"danger\" data-confirm=\"Delete this list?"
			   "\">Delete the list</button>\n");
		web_form_end(b);
		web_raw(b, "</div>\n");
	}
	web_page_end(b);
out:
	sbuf_release(&title);
	list_info_release(&l);
}

WEB_HANDLER(page_list_show)
{
	list_page(ctx, rq, rs, web_param(rq, "name"), NULL, NULL, 200);
	return 0;
}

static int64_t id_param(const struct web_request *rq, const char *name)
{
	const char *v = web_param(rq, name);
	char *end;
	long long id;

	if (!v || !*v)
		return 0;
	id = strtoll(v, &end, 10);
	return *end || id <= 0 ? 0 : id;
}

/* One change of a static list's members or a rule list's rules, as
 * `chancery list add|rm|rule` makes it: approvals of campaigns using the
 * list are voided in the same transaction. */
static int change(struct web_ctx *ctx, const struct web_request *rq,
		  const struct list_info *l, const char *action,
		  bool *changed, struct sbuf *voided, struct error *err)
{
	struct registry_body bd = {0};
	struct list_info m = {0};
	int rc;

	if ((rc = db_begin(ctx->db, err)))
		return rc;
	if (strcmp(action, "add-body") == 0) {
		const char *key = web_param(rq, "body");

		rc = registry_body_find(ctx->db, key ? key : "", &bd, err);
		if (!rc)
			rc = list_add_body(ctx->db, l->id, bd.id, err);
	} else if (strcmp(action, "add-list") == 0) {
		const char *key = web_param(rq, "list");

		rc = list_find(ctx->db, key ? key : "", &m, err);
		if (!rc)
			rc = list_add_list(ctx->db, l->id, m.id, err);
	} else if (strcmp(action, "remove-body") == 0) {
		rc = list_remove_body(ctx->db, l->id, id_param(rq, "body_id"),
				      err);
	} else if (strcmp(action, "remove-list") == 0) {
		rc = list_remove_list(ctx->db, l->id, id_param(rq, "list_id"),
				      err);
	} else {
		const char *kind = web_param(rq, "kind");
		const char *country = web_param(rq, "country");

		rc = list_add_rule(ctx->db, l->id, kind ? kind : "",
				   country && *country ? country : NULL, err);
	}
	*changed = !rc && db_changes(ctx->db) > 0;
	if (!rc && *changed)
		rc = campaign_list_changed(ctx->db, l->id, voided, err);
	if (!rc)
		rc = db_commit(ctx->db, err);
	else
		db_rollback(ctx->db);
	registry_body_release(&bd);
	list_info_release(&m);
	return rc;
}

WEB_HANDLER(page_list_post)
{
	const char *action = rq->path + strlen("/list/");
	const char *name = web_param(rq, "name");
	struct list_info l = {0};
	struct error err = ERROR_INIT;
	struct sbuf voided = SBUF_INIT, loc = SBUF_INIT;
	bool changed = false;
	int rc;

	if (strcmp(action, "add-body") != 0 && strcmp(action, "add-list") &&
	    strcmp(action, "remove-body") && strcmp(action, "remove-list") &&
	    strcmp(action, "rule") && strcmp(action, "delete"))
		return web_fail(rs, 404, rq, "There is no such page.");
	if ((rc = list_find(ctx->db, name ? name : "", &l, &err))) {
		web_fail(rs, web_error_status(rc), rq, err.msg);
		goto out;
	}
	if (strcmp(action, "delete") == 0) {
		if ((rc = list_delete(ctx->db, l.id, &err)))
			list_page(ctx, rq, rs, l.name, err.msg, NULL,
				  web_error_status(rc));
		else
			web_redirect(rs, "/lists?ok=deleted");
		goto out;
	}
	rc = change(ctx, rq, &l, action, &changed, &voided, &err);
	if (rc) {
		list_page(ctx, rq, rs, l.name, err.msg, NULL,
			  web_error_status(rc));
	} else if (voided.len) {
		/* what the CLI prints: which approvals the change voided */
		list_page(ctx, rq, rs, l.name, NULL, voided.buf, 200);
	} else {
		sbuf_addstr(&loc, "/list?name=");
		web_url(&loc, l.name);
		sbuf_addstr(&loc, changed ? "&ok=changed" : "&ok=nothing");
		web_redirect(rs, loc.buf);
	}
out:
	sbuf_release(&voided);
	sbuf_release(&loc);
	list_info_release(&l);
	return 0;
}

/* ---- /lists/addressees ---- */

static void statement_form(const struct web_request *rq, struct sbuf *b)
{
	const char *text = web_param(rq, "text");

	web_raw(b, "<form method=\"post\" action=\"/lists/addressees\" "
		   "enctype=\"multipart/form-data\" id=\"addressees-form\">");
	web_htmlf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
		  rq->session->csrf);
	web_raw(b, "<fieldset><legend>The statement</legend>\n<label "
		   "for=\"addressees-text\">Paste the statement (or its "
		   "addressee paragraph)</label>\n<textarea "
		   "id=\"addressees-text\" name=\"text\">\n");
	web_html(b, text);
	web_raw(b, "</textarea>\n<label for=\"addressees-file\">or choose "
		   "its text file</label><input type=\"file\" "
		   "id=\"addressees-file\" name=\"file\" accept=\".txt,"
		   "text/plain\">\n");
	web_htmlf(b, "<label for=\"addressees-paragraph\">Paragraph number "
		     "(optional: where the addressees are)</label><input "
		     "type=\"text\" id=\"addressees-paragraph\" "
		     "name=\"paragraph\" value=\"%s\">\n",
		  web_param(rq, "paragraph") ? web_param(rq, "paragraph") : "");
	web_htmlf(b, "<label for=\"addressees-from\">or the words the "
		     "passage starts with (optional)</label><input "
		     "type=\"text\" id=\"addressees-from\" name=\"from\" "
		     "value=\"%s\">\n",
		  web_param(rq, "from") ? web_param(rq, "from") : "");
	web_htmlf(b, "<label for=\"addressees-list\">Make a static list of "
		     "exactly these addressees (optional name)</label><input "
		     "type=\"text\" id=\"addressees-list\" name=\"list\" "
		     "value=\"%s\">\n",
		  web_param(rq, "list") ? web_param(rq, "list") : "");
	web_raw(b, "<p><button type=\"submit\" id=\"addressees-plan\">Show "
		   "the plan</button></p></fieldset>\n</form>\n");
}

WEB_HANDLER(page_addressees_form)
{
	(void)ctx;
	web_page_begin(&rs->body, "Import a statement's addressees",
		       rq->session);
	web_raw(&rs->body, "<p>The addressees are read from the statement "
			   "and resolved against the registry, as "
			   "<code>chancery registry import-statement</code> "
			   "does; nothing changes until you apply the plan."
			   "</p>\n");
	statement_form(rq, &rs->body);
	web_page_end(&rs->body);
	return 0;
}

/* The statement: the uploaded file when one was chosen, else the pasted
 * text; *name is what error messages call it (as the CLI names the
 * file). */
static int statement_text(const struct web_request *rq, const char **text,
			  size_t *len, const char **name, struct error *err)
{
	const struct web_param *f = web_param_get(rq, "file");
	const struct web_param *t = web_param_get(rq, "text");

	if (f && f->filename && *f->filename && f->len) {
		*text = f->value;
		*len = f->len;
		*name = f->filename;
	} else if (t && t->len) {
		*text = t->value;
		*len = t->len;
		*name = "the pasted text";
	} else {
		return error_set(err, ERR_USAGE, "paste the statement or "
				 "choose its file");
	}
	if (*len > STATEMENT_MAX)
		return error_set(err, ERR_DATA, "%s: larger than %u bytes",
				 *name, STATEMENT_MAX);
	return 0;
}

/* The plan as the CLI builds it, for the passage the form points at. */
static int build_plan(struct web_ctx *ctx, const struct web_request *rq,
		      struct addressee_plan *plan, const char **name,
		      struct error *err)
{
	const char *text = NULL, *para = web_param(rq, "paragraph");
	const char *from = web_param(rq, "from");
	size_t len = 0, start = 0;
	unsigned long n = 0;
	int rc;

	if ((rc = statement_text(rq, &text, &len, name, err)))
		return rc;
	if (para && *para) {
		char *end;

		n = strtoul(para, &end, 10);
		if (*end || n < 1 || para[0] == '-')
			return error_set(err, ERR_USAGE, "--paragraph wants a "
					 "number from 1, not '%s'", para);
	}
	if (n && from && *from)
		return error_set(err, ERR_USAGE, "--paragraph and --from both "
				 "point at the passage: give one");
	if (n)
		rc = addressee_locate_paragraph(text, len, n, &start, err);
	else if (from && *from)
		rc = addressee_locate_text(text, len, from, &start, err);
	if (!rc)
		rc = n || (from && *from)
			     ? addressee_plan_build_at(ctx->db, text, len,
						       start, plan, err)
			     : addressee_plan_build(ctx->db, text, len, plan,
						    err);
	if (rc)
		error_prefix(err, "%s", *name);
	return rc;
}

static void hidden(struct sbuf *b, const char *name, const char *value)
{
	web_htmlf(b, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n",
		  name, value ? value : "");
}

/* Whether the form ticked row n (a plan shown again keeps the ticks). */
static bool ticked(const struct web_request *rq, long long n)
{
	char want[24];

	snprintf(want, sizeof(want), "%lld", n);
	for (size_t i = 0; i < rq->nparams; i++)
		if (strcmp(rq->params[i].name, "accept") == 0 &&
		    strcmp(rq->params[i].value, want) == 0)
			return true;
	return false;
}

static void plan_page(const struct web_request *rq, struct web_response *rs,
		      const struct addressee_plan *p, const char *error)
{
	struct sbuf *b = &rs->body;
	const char *text = NULL, *name = NULL;
	size_t len = 0;
	struct error unused = ERROR_INIT;

	sbuf_reset(b);
	web_page_begin(b, "The addressees' plan", rq->session);
	if (error)
		web_error_box(b, error);
	web_raw(b, "<p>Each row is one addressee of the statement and what "
		   "it resolves to. Tick a guessed row to take it; write a "
		   "body (acronym, name or #id) or a list in <em>correct</em> "
		   "to have the phrase name that instead (taught as "
		   "<code>chancery registry teach</code> does, so the next "
		   "statement resolves it too).</p>\n");
	web_raw(b, "<form method=\"post\" action=\"/lists/addressees/apply\" "
		   "id=\"plan-apply-form\">\n");
	hidden(b, "csrf", rq->session->csrf);
	hidden(b, "paragraph", web_param(rq, "paragraph"));
	hidden(b, "from", web_param(rq, "from"));
	hidden(b, "list", web_param(rq, "list"));
	statement_text(rq, &text, &len, &name, &unused);
	/* the statement goes back with the choices: a textarea keeps its
	 * line breaks (the first one after the tag is dropped) */
	web_raw(b, "<textarea name=\"text\" hidden>\n");
	if (text)
		web_html(b, text);
	web_raw(b, "</textarea>\n");
	web_raw(b, "<table id=\"plan\"><thead><tr><th>#</th><th>Written</th>"
		   "<th>Acronym</th><th>Phrase</th><th>Resolution</th>"
		   "<th>Target</th><th>Confidence</th><th>Evidence</th>"
		   "<th>Accept</th><th>Correct</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < p->list.count; i++) {
		const struct addressee *a = &p->list.items[i];
		const struct addressee_match *m = &p->matches[i];
		long long n = (long long)i + 1;
		const char *res = addressee_plan_resolution_name(m->res);
		char key[32];

		web_htmlf(b, "<tr id=\"plan-%lld\" class=\"res-%s conf-%s\">"
			     "<td>%lld</td><td>%s</td><td>%s</td><td>%s</td>"
			     "<td>%s</td><td>%s",
			  n, res, addressee_plan_confidence_name(m->confidence),
			  n, a->written, a->acronym ? a->acronym : "",
			  a->phrase ? a->phrase : "", res,
			  m->target ? m->target : "");
		if (m->role)
			web_htmlf(b, " (the %s)", m->role);
		web_htmlf(b, "</td><td>%s</td><td>%s",
			  addressee_plan_confidence_name(m->confidence),
			  m->evidence ? m->evidence : "");
		if (a->warning)
			web_htmlf(b, "<br><em class=\"warning\">%s</em>",
				  a->warning);
		web_raw(b, "</td><td>");
		if (m->guess) {
			snprintf(key, sizeof(key), "accept-%lld", n);
			web_htmlf(b, "<input type=\"checkbox\" id=\"%s\" "
				     "name=\"accept\" value=\"%lld\"%s>",
				  key, n,
				  ticked(rq, n) ? " checked" : "");
		}
		snprintf(key, sizeof(key), "correct-%lld", n);
		web_htmlf(b, "</td><td><input type=\"text\" id=\"%s\" "
			     "name=\"%s\" value=\"%s\" placeholder=\"body or "
			     "list\"></td></tr>\n",
			  key, key, web_param(rq, key) ? web_param(rq, key)
						       : "");
	}
	web_raw(b, "</tbody></table>\n<p><button type=\"submit\" "
		   "id=\"plan-apply\">Apply the plan</button> <a "
		   "href=\"/lists/addressees\" id=\"plan-cancel\">Start again"
		   "</a></p>\n</form>\n");
	web_page_end(b);
}

WEB_HANDLER(page_addressees_plan)
{
	struct addressee_plan plan = {0};
	struct error err = ERROR_INIT;
	const char *name = NULL;
	int rc = build_plan(ctx, rq, &plan, &name, &err);

	if (rc) {
		rs->status = web_error_status(rc);
		web_page_begin(&rs->body, "Import a statement's addressees",
			       rq->session);
		web_error_box(&rs->body, err.msg);
		statement_form(rq, &rs->body);
		web_page_end(&rs->body);
	} else {
		plan_page(rq, rs, &plan, NULL);
	}
	addressee_plan_release(&plan);
	return 0;
}

/*
 * Applies the plan with the rows' choices, in one transaction: each
 * correction teaches its row's phrase (addressee_rule_teach, as
 * `registry teach`), the plan is built again so the taught phrases
 * resolve as they will from now on, the accepted rows are marked, and
 * addressee_plan_apply carries it out.
 */
WEB_HANDLER(page_addressees_apply)
{
	struct addressee_plan plan = {0};
	struct addressee_apply_stats st = {0};
	struct error err = ERROR_INIT;
	const char *name = NULL, *list = web_param(rq, "list");
	struct sbuf *b = &rs->body;
	bool taught = false;
	int rc;

	if (list && !*list)
		list = NULL;
	if ((rc = db_begin(ctx->db, &err)))
		goto fail_plain;
	if ((rc = build_plan(ctx, rq, &plan, &name, &err)))
		goto fail;
	for (size_t i = 0; i < plan.list.count && !rc; i++) {
		char key[32];
		const char *target;

		snprintf(key, sizeof(key), "correct-%zu", i + 1);
		target = web_param(rq, key);
		if (!target || !*target)
			continue;
		rc = addressee_rule_teach(ctx->db, plan.list.items[i].phrase,
					  target, NULL, &err);
		if (rc)
			error_prefix(&err, "row %zu", i + 1);
		taught = true;
	}
	if (rc)
		goto fail;
	if (taught) {
		addressee_plan_release(&plan);
		memset(&plan, 0, sizeof(plan));
		if ((rc = build_plan(ctx, rq, &plan, &name, &err)))
			goto fail;
	}
	for (size_t i = 0; i < rq->nparams; i++) {
		char *end;
		unsigned long n;

		if (strcmp(rq->params[i].name, "accept") != 0)
			continue;
		n = strtoul(rq->params[i].value, &end, 10);
		if (*end || n < 1 || n > plan.list.count) {
			rc = error_set(&err, ERR_USAGE,
				       "--accept wants row numbers 1-%zu "
				       "separated by commas, not '%s'",
				       plan.list.count, rq->params[i].value);
			goto fail;
		}
		plan.matches[n - 1].accepted = true;
	}
	if ((rc = addressee_plan_apply(ctx->db, &plan, list, &st, &err))) {
		error_prefix(&err, "%s", name);
		goto fail;
	}
	if ((rc = db_commit(ctx->db, &err)))
		goto fail_plain;
	web_page_begin(b, "The addressees' plan applied", rq->session);
	web_htmlf(b, "<p class=\"box notice\" id=\"applied\">applied: %d "
		     "bodies added, %d aliases added, %d lists created",
		  st.bodies_added, st.aliases_added, st.lists_created);
	if (list)
		web_htmlf(b, "; list %s holds exactly these addressees (%d "
			     "other members removed)",
			  list, st.members_removed);
	if (st.guesses_skipped)
		web_htmlf(b, "; %d guessed rows left out (tick them to take "
			     "them)", st.guesses_skipped);
	web_raw(b, "</p>\n");
	if (list) {
		web_raw(b, "<p><a id=\"applied-list\" href=\"");
		list_href(b, list);
		web_htmlf(b, "\">The list %s</a></p>\n", list);
	}
	web_page_end(b);
	addressee_plan_release(&plan);
	return 0;
fail:
	db_rollback(ctx->db);
fail_plain:
	rs->status = web_error_status(rc);
	if (plan.list.count) {
		/* the plan as it stood, with the choices made, and why it
		 * was not applied */
		addressee_plan_release(&plan);
		memset(&plan, 0, sizeof(plan));
		if (build_plan(ctx, rq, &plan, &name, &(struct error){0}) ==
		    0) {
			plan_page(rq, rs, &plan, err.msg);
			rs->status = web_error_status(rc);
			addressee_plan_release(&plan);
			return 0;
		}
	}
	sbuf_reset(b);
	web_page_begin(b, "Import a statement's addressees", rq->session);
	web_error_box(b, err.msg);
	statement_form(rq, b);
	web_page_end(b);
	addressee_plan_release(&plan);
	return 0;
}
