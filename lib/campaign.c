/*
 * The campaign lifecycle (see campaign.h): create, find, check, schedule,
 * pause, resume, cancel, finish and the delivery counts, with the
 * campaigns table's statements and the helpers that campaign_start.c
 * (materialisation) and campaign_render.c (rendering) share through
 * campaign_impl.h.
 *
 * It is one file above 1,000 lines because the lifecycle's transitions
 * share the campaigns table's statements with the helpers the other
 * campaign files reach through campaign_impl.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/address.h"
#include "chancery/anniversary.h"
#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/ledger.h"
#include "chancery/list.h"
#include "chancery/message.h"
#include "chancery/queue.h"
#include "chancery/registry.h"
#include "chancery/render.h"
#include "chancery/template.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"
#include "campaign_impl.h"

static const char *const state_names[] = {
	[CAMPAIGN_DRAFT] = "draft",         [CAMPAIGN_SCHEDULED] = "scheduled",
	[CAMPAIGN_RUNNING] = "running",     [CAMPAIGN_PAUSED] = "paused",
	[CAMPAIGN_DONE] = "done",           [CAMPAIGN_CANCELLED] = "cancelled",
	[CAMPAIGN_APPROVED] = "approved",   [CAMPAIGN_MISSED] = "missed",
};
#define STATE_COUNT ((int)(sizeof(state_names) / sizeof(state_names[0])))

const char *const campaign_delivery_states[CAMPAIGN_DELIVERY_STATES] = {
	"pending", "sending", "sent", "deferred", "failed",
	"expired", "cancelled", "skipped", "delivered", "bounced",
};

/* The columns every campaign query returns, in read_info's order. */
#define CAMPAIGN_COLUMNS                                                      \
	"SELECT id, name, template_id, list_id, series_id, series_year, "     \
	"send_at, tz, sender, event_date, state, created_at, updated_at, "    \
	"started_at, finished_at, created_by, edited_by, language, receipt "  \
	"FROM campaigns "

static const char *const campaign_sql[ST__COUNT] = {
	[ST_INSERT] = "INSERT INTO campaigns (name, template_id, list_id, "
		      "series_id, series_year, send_at, tz, sender, event_date, "
		      "state, created_at, updated_at, created_by, language, "
		      "receipt) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'draft', "
		      "?10, ?10, ?11, ?12, ?13)",
	[ST_BY_NAME] = (CAMPAIGN_COLUMNS "WHERE name = ?1"),
	[ST_BY_ID] = (CAMPAIGN_COLUMNS "WHERE id = ?1"),
	[ST_BY_SERIES] = (CAMPAIGN_COLUMNS
			  "WHERE series_id = ?1 AND series_year = ?2"),
	[ST_ALL] = (CAMPAIGN_COLUMNS "ORDER BY send_at DESC, id DESC"),
	/* Compare-and-set: the daemon and the command line may race. */
	[ST_SET_STATE] = "UPDATE campaigns SET state = ?3, updated_at = ?4 "
			 "WHERE id = ?1 AND state = ?2",
	[ST_START] = "UPDATE campaigns SET state = 'running', started_at = ?2, "
		     "updated_at = ?2 WHERE id = ?1 AND state = 'scheduled'",
	[ST_FINISH] = "UPDATE campaigns SET state = 'done', finished_at = ?2, "
		      "updated_at = ?2 WHERE id = ?1 AND state = 'running'",
	[ST_DUE] = "SELECT id FROM campaigns WHERE state = 'scheduled' "
		   "AND send_at <= ?1 ORDER BY send_at, id",
	[ST_NEXT_DUE] = "SELECT min(send_at) FROM campaigns "
			"WHERE state = 'scheduled'",
	[ST_FINISHABLE] = "SELECT c.id FROM campaigns c WHERE c.state = "
			  "'running' AND NOT EXISTS (SELECT 1 FROM deliveries d "
			  "WHERE d.campaign_id = c.id AND d.state IN "
			  "('pending', 'sending', 'deferred')) ORDER BY c.id",
	[ST_COUNTS] = "SELECT state, count(*) FROM deliveries "
		      "WHERE campaign_id = ?1 GROUP BY state",
	[ST_DELIVERY_GET] = "SELECT campaign_id, contact_id, message_id, envid "
			    "FROM deliveries WHERE id = ?1",
	/* Compare-and-set: only a draft takes its series' changes. */
	[ST_REDRAFT] = "UPDATE campaigns SET template_id = ?2, list_id = ?3, "
		       "send_at = ?4, tz = ?5, updated_at = ?6, language = ?7 "
		       "WHERE id = ?1 AND state = 'draft'",
	[ST_RENAME] = "UPDATE campaigns SET name = ?2, updated_at = ?3 "
		      "WHERE id = ?1",
};

const struct db_statements campaign_statements = {
	"campaign", campaign_sql, ST__COUNT};

const char *campaign_state_name(enum campaign_state s)
{
	if ((int)s < 0 || (int)s >= STATE_COUNT)
		return "?";
	return state_names[s];
}

int campaign_state_parse(const char *name, enum campaign_state *out)
{
	for (int i = 0; i < STATE_COUNT; i++) {
		if (strcmp(state_names[i], name) == 0) {
			*out = (enum campaign_state)i;
			return 0;
		}
	}
	return -1;
}

void campaign_info_release(struct campaign_info *c)
{
	free(c->name);
	free(c->template_name);
	free(c->template_sha256);
	free(c->list_name);
	free(c->tz);
	free(c->sender);
	free(c->event_date);
	free(c->created_by);
	free(c->edited_by);
	free(c->language);
	memset(c, 0, sizeof(*c));
}

static void read_info(sqlite3_stmt *st, struct campaign_info *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	c->name = db_column_strdup(st, 1);
	c->template_id = sqlite3_column_int64(st, 2);
	c->list_id = sqlite3_column_int64(st, 3);
	c->series_id = sqlite3_column_int64(st, 4);
	c->series_year = sqlite3_column_int(st, 5);
	c->send_at = sqlite3_column_int64(st, 6);
	c->tz = db_column_strdup(st, 7);
	c->sender = db_column_strdup(st, 8);
	c->event_date = db_column_strdup(st, 9);
	if (campaign_state_parse(db_column_text(st, 10), &c->state) != 0)
		c->state = CAMPAIGN_DRAFT;
	c->created_at = sqlite3_column_int64(st, 11);
	c->updated_at = sqlite3_column_int64(st, 12);
	c->started_at = sqlite3_column_int64(st, 13);
	c->finished_at = sqlite3_column_int64(st, 14);
	c->created_by = db_column_strdup(st, 15);
	c->edited_by = db_column_strdup(st, 16);
	c->language = db_column_strdup(st, 17);
	c->receipt = sqlite3_column_int(st, 18) != 0;
}

/* The template and list names, asked of the modules that own them. */
static int read_names(struct db *db, struct campaign_info *c,
		      struct error *err)
{
	struct template_info t;
	struct list_info l;
	int rc = template_get(db, c->template_id, &t, err);

	if (rc)
		return rc;
	c->template_name = xstrdup(t.name);
	c->template_version = t.version;
	c->template_sha256 = xstrdup(t.sha256);
	template_info_release(&t);
	rc = list_get(db, c->list_id, &l, err);
	if (rc)
		return rc;
	c->list_name = xstrdup(l.name);
	list_info_release(&l);
	return 0;
}

/* Runs a prepared single-row campaign query; ERR_NOTFOUND with what. */
static int fetch_one(struct db *db, sqlite3_stmt *st, struct campaign_info *out,
		     const char *what, struct error *err)
{
	int rc = db_step(db, st, err);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no campaign %s", what);
	read_info(st, out);
	sqlite3_reset(st);
	rc = read_names(db, out, err);
	if (rc)
		campaign_info_release(out);
	return rc;
}

int campaign_find(struct db *db, const char *name, struct campaign_info *out,
		  struct error *err)
{
	sqlite3_stmt *st;
	char what[300];
	int rc = db_prepare(db, &campaign_statements, ST_BY_NAME, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	snprintf(what, sizeof(what), "named '%s'", name);
	return fetch_one(db, st, out, what, err);
}

int campaign_get(struct db *db, int64_t id, struct campaign_info *out,
		 struct error *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = db_prepare(db, &campaign_statements, ST_BY_ID, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	snprintf(what, sizeof(what), "#%lld", (long long)id);
	return fetch_one(db, st, out, what, err);
}

int campaign_find_series(struct db *db, int64_t series_id, int year,
			 struct campaign_info *out, struct error *err)
{
	sqlite3_stmt *st;
	char what[80];
	int rc = db_prepare(db, &campaign_statements, ST_BY_SERIES, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, series_id);
	sqlite3_bind_int(st, 2, year);
	snprintf(what, sizeof(what), "of series #%lld for %d",
		 (long long)series_id, year);
	return fetch_one(db, st, out, what, err);
}

int campaign_each(struct db *db,
		  int (*fn)(const struct campaign_info *c, void *arg),
		  void *arg, struct error *err)
{
	struct campaign_info *all = NULL;
	size_t n = 0, alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, ST_ALL, &st, err);

	/* Read everything first: fn may run queries of its own. */
	while (!rc && (rc = db_step(db, st, err)) == 1) {
		xgrow(&all, sizeof(*all), n + 1, &alloc);
		read_info(st, &all[n++]);
		rc = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = read_names(db, &all[i], err);
		if (!rc)
			rc = fn(&all[i], arg);
		campaign_info_release(&all[i]);
	}
	free(all);
	return rc;
}

/* ---- ledger helpers ---- */

int campaign_event(struct db *db, enum ledger_kind kind,
		   const struct campaign_info *c, const char *from,
		   const char *to, struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, kind, c->id, 0, 0, 0);
	ledger_entry_str(&e, "campaign", c->name);
	if (from)
		ledger_entry_str(&e, "from", from);
	if (to)
		ledger_entry_str(&e, "to", to);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

/* ---- create ---- */

static int check_name(const char *name, struct error *err)
{
	if (!name || !*name)
		return error_set(err, ERR_USAGE, "a campaign needs a name");
	if (strlen(name) > 200)
		return error_set(err, ERR_USAGE, "campaign name too long (%zu "
						 "bytes, at most 200)", strlen(name));
	if (utf8_check_text("campaign name", name, err))
		return ERR_USAGE;
	return 0;
}

static int check_new(struct db *db, const struct campaign_new *c,
		     struct error *err)
{
	struct campaign_info old;
	struct error ignore = ERROR_INIT;
	int rc = check_name(c->name, err);
	int y, m, d;

	if (rc)
		return rc;
	if (campaign_find(db, c->name, &old, &ignore) == 0) {
		bool reusable = old.state == CAMPAIGN_CANCELLED ||
				old.state == CAMPAIGN_MISSED;

		rc = reusable ? 0 : error_set(err, ERR_DATA, "campaign '%s' "
					      "already exists (%s)", c->name,
					      campaign_state_name(old.state));
		campaign_info_release(&old);
		if (rc)
			return rc;
	}
	if (!clock_zone_valid(c->tz))
		return error_set(err, ERR_USAGE, "unknown time zone '%s'",
				 c->tz ? c->tz : "");
	if (c->sender && address_check(c->sender, err) != 0)
		return error_prefix(err, "sender");
	if (c->event_date && anniversary_parse_date(c->event_date, &y, &m, &d))
		return error_set(err, ERR_USAGE,
				 "bad event date '%s' (YYYY-MM-DD)",
				 c->event_date);
	if (c->language)
		rc = campaign_language_check(c->language, err);
	return rc;
}

int campaign_language_check(const char *lang, struct error *err)
{
	char *canon = NULL;
	int rc = template_lang_canonical(lang, &canon, err);

	if (!rc && strcmp(canon, lang) != 0)
		rc = error_set(err, ERR_USAGE, "language '%s' is not written "
			       "canonically (%s)", lang, canon);
	free(canon);
	return rc;
}

static int insert_campaign(struct db *db, const struct campaign_new *c,
			   int64_t template_id, int64_t list_id, int64_t *id,
			   struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, ST_INSERT, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, c->name);
	sqlite3_bind_int64(st, 2, template_id);
	sqlite3_bind_int64(st, 3, list_id);
	db_bind_id(st, 4, c->series_id);
	if (c->series_id)
		sqlite3_bind_int(st, 5, c->series_year);
	sqlite3_bind_int64(st, 6, c->send_at);
	db_bind_text(st, 7, c->tz);
	db_bind_text(st, 8, c->sender);
	db_bind_text(st, 9, c->event_date);
	sqlite3_bind_int64(st, 10, clock_now());
	db_bind_text(st, 11, db_actor(db));
	db_bind_text(st, 12, c->language);
	sqlite3_bind_int(st, 13, c->receipt);
	rc = db_step_done(db, st, err);
	if (!rc)
		*id = db_last_id(db);
	return rc;
}

/* campaign.created names the exact template version the campaign uses. */
static int created_event(struct db *db, const struct campaign_new *c,
			 int64_t id, int version, const char *sha,
			 struct error *err)
{
	struct ledger_entry e;
	char when[24];
	int rc;

	clock_format_utc(c->send_at, when, sizeof(when));
	ledger_entry_init(&e, LEDGER_CAMPAIGN_CREATED, id, 0, 0, 0);
	ledger_entry_str(&e, "campaign", c->name);
	ledger_entry_str(&e, "template", c->template_name);
	ledger_entry_int(&e, "template_version", version);
	ledger_entry_str(&e, "template_sha256", sha);
	ledger_entry_str(&e, "list", c->list_name);
	ledger_entry_str(&e, "send_at", when);
	ledger_entry_str(&e, "tz", c->tz);
	if (c->event_date)
		ledger_entry_str(&e, "event_date", c->event_date);
	if (c->language)
		ledger_entry_str(&e, "lang", c->language);
	if (c->receipt) /* only when asked: older events read the same */
		ledger_entry_str(&e, "receipt", "requested");
	/* A series' yearly draft takes whatever version is the latest when
	 * it is made: say so, next to the version it took. */
	if (c->series_id) {
		ledger_entry_int(&e, "series_year", c->series_year);
		ledger_entry_str(&e, "template_rule", "latest at creation");
	}
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

/*
 * A cancelled or missed campaign gives its name up to a new one: it
 * becomes NAME~cancelled-<id>, and campaign.edited says so, so the audit
 * still finds it under the name it is now shown by. *renamed gets the new
 * name (caller frees) or stays NULL.
 */
static int free_name(struct db *db, const char *name, char **renamed,
		     struct error *err)
{
	struct campaign_info old;
	struct error ignore = ERROR_INIT;
	struct ledger_entry e;
	sqlite3_stmt *st;
	char *to;
	int rc;

	if (campaign_find(db, name, &old, &ignore) != 0)
		return 0;
	to = xasprintf("%s~%s-%lld", name, campaign_state_name(old.state),
		       (long long)old.id);
	rc = db_prepare(db, &campaign_statements, ST_RENAME, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, old.id);
		db_bind_text(st, 2, to);
		sqlite3_bind_int64(st, 3, clock_now());
		rc = db_step_done(db, st, err);
	}
	if (!rc) {
		ledger_entry_init(&e, LEDGER_CAMPAIGN_EDITED, old.id, 0, 0, 0);
		ledger_entry_str(&e, "campaign", to);
		json_key(&e.js, "name");
		json_object_begin(&e.js);
		json_kv_string(&e.js, "from", name);
		json_kv_string(&e.js, "to", to);
		json_object_end(&e.js);
		ledger_entry_str(&e, "reason", "name reused by a new campaign");
		rc = ledger_entry_append(db, &e, NULL, err);
		ledger_entry_release(&e);
	}
	if (!rc && renamed)
		*renamed = to;
	else
		free(to);
	campaign_info_release(&old);
	return rc;
}

int campaign_create(struct db *db, const struct campaign_new *c,
		    int64_t *id_out, struct error *err)
{
	return campaign_create_renaming(db, c, id_out, NULL, err);
}

int campaign_create_renaming(struct db *db, const struct campaign_new *c,
			     int64_t *id_out, char **renamed,
			     struct error *err)
{
	struct template_info t = {0};
	struct list_info list = {0};
	int64_t id = 0;
	int rc = check_new(db, c, err);

	if (renamed)
		*renamed = NULL;

	/* the template version a campaign binds to (version 0: the latest) */
	if (!rc)
		rc = template_find(db, c->template_name, c->template_version,
				   &t, err);
	if (!rc)
		rc = list_find(db, c->list_name, &list, err);
	if (!rc && c->refuse_past && c->send_at < clock_now()) {
		char local[CALENDAR_FORMAT_SIZE];

		calendar_format(c->tz, c->send_at, local, sizeof(local));
		rc = error_set(err, ERR_DATA, "send time %s has passed; use "
			       "--now to send at once", local);
	}
	if (!rc)
		rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = free_name(db, c->name, renamed, err);
	if (!rc)
		rc = insert_campaign(db, c, t.id, list.id, &id, err);
	if (!rc)
		rc = created_event(db, c, id, t.version, t.sha256, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (rc && renamed) {
		free(*renamed);
		*renamed = NULL;
	}
	if (!rc && id_out)
		*id_out = id;
out:
	template_info_release(&t);
	list_info_release(&list);
	return rc;
}

/* ---- the members of a list, walked one row at a time ---- */

struct member_walk {
	member_fn *fn;
	void *arg;
};

static int walk_member(const struct registry_contact *c, void *arg)
{
	const struct member_walk *w = arg;
	const struct member m = {c->id, c->body_id, c->email, c->status,
				 c->status_reason};

	return w->fn(&m, w->arg);
}

int campaign_members_each(struct db *db, int64_t list_id, member_fn *fn,
			  void *arg, struct error *err)
{
	struct member_walk w = {fn, arg};

	return list_each_contact(db, list_id, walk_member, &w, err);
}

/* ---- render contexts ---- */

void campaign_delivery_ctx_release(struct delivery_ctx *d)
{
	registry_body_release(&d->body);
	registry_contact_release(&d->contact);
	protocol_forms_release(&d->protocol);
}

/* Loads the contact and its body and fills the render context. */
int campaign_delivery_ctx_init(struct db *db, const struct conf *cfg,
			       const struct campaign_info *c,
			       int64_t contact_id, const char *message_id,
			       const char *envid, struct delivery_ctx *d,
			       struct error *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = registry_contact_get(db, contact_id, &d->contact, err);
	if (!rc)
		rc = registry_body_get(db, d->contact.body_id, &d->body, err);
	if (!rc) /* locale: every language's forms; the variant picks */
		rc = protocol_forms_load(db, &d->body, d->contact.id,
					 &d->protocol, err);
	if (rc)
		return rc;
	d->ctx = (struct render_context){
		.cfg = cfg,
		.body = &d->body,
		.contact = &d->contact,
		.campaign_name = c->name,
		.send_at = c->send_at,
		.tz = c->tz,
		.event_date = c->event_date,
		.sender_override = c->sender,
		.receipt = c->receipt,
		.message_id = message_id,
		.envid = envid,
		.protocol = &d->protocol,
	};
	return 0;
}

struct template *campaign_variant(const struct conf *cfg,
				  const struct campaign_info *c,
				  struct template *t, struct delivery_ctx *d,
				  struct template_choice *out)
{
	struct template_choice own;
	struct template_wanted w = {
		d->contact.language, d->body.language,
		c->language ? c->language : cfg ? cfg->language.campaign : NULL};

	if (!out)
		out = &own;
	template_choose(t, &w, cfg ? cfg->language.default_lang : NULL,
			cfg ? cfg->language.fallback : NULL, out);
	d->ctx.lang = out->lang;
	return out->variant;
}

int campaign_delivery_render(struct db *db, const struct conf *cfg,
			     const struct campaign_info *c,
			     struct delivery_ctx *d, struct sbuf *out,
			     struct error *err)
{
	struct template *t = NULL;
	int rc = template_load(db, c->template_id, &t, err);

	if (!rc)
		rc = message_compose(campaign_variant(cfg, c, t, d, NULL),
				     &d->ctx, out, err);
	template_free(t);
	return rc;
}

/* ---- checks before scheduling ---- */

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void check_member(struct db *db, const struct conf *cfg,
			 const struct campaign_info *c, struct template *t,
			 const struct member *m, struct sbuf *problems)
{
	struct error err = ERROR_INIT;
	struct sbuf scratch = SBUF_INIT;
	struct delivery_ctx d;

	if (address_check(m->email, &err) != 0) {
		sbuf_addf(problems, "contact %s: %s\n", m->email, err.msg);
		return;
	}
	if (campaign_delivery_ctx_init(db, cfg, c, m->contact_id,
				       "check@chancery", "chancery-check", &d,
				       &err) != 0) {
		sbuf_addf(problems, "contact %s: %s\n", m->email, err.msg);
		return;
	}
	/* the whole message, so that address and header problems show
	 * now rather than at send time */
	if (message_compose(campaign_variant(cfg, c, t, &d, NULL), &d.ctx,
			    &scratch, &err) != 0) {
		char id[32];
		const char *who = d.body.acronym ? d.body.acronym : d.body.name;

		/* one problem, one line: a stored name with a line break
		 * (the usual cause of this failure) is named by its id */
		if (utf8_has_control(who)) {
			snprintf(id, sizeof(id), "#%lld", (long long)d.body.id);
			who = id;
		}
		sbuf_addf(problems, "template %s v%d for %s (%s): %s\n",
			  c->template_name, c->template_version, m->email,
			  who, err.msg);
	}
	sbuf_release(&scratch);
	campaign_delivery_ctx_release(&d);
}

/* What checking a campaign's members found so far. */
struct member_check {
	struct db *db;
	const struct conf *cfg;
	const struct campaign_info *c;
	struct template *t; /* loaded once for every member */
	struct sbuf *problems;
	size_t members, active;
};

static int check_one_member(const struct member *m, void *arg)
{
	struct member_check *mc = arg;

	mc->members++;
	if (m->status != CONTACT_ACTIVE)
		return 0;
	mc->active++;
	check_member(mc->db, mc->cfg, mc->c, mc->t, m, mc->problems);
	return 0;
}

int campaign_check_all(struct db *db, const struct conf *cfg,
		       const struct campaign_info *c, struct sbuf *problems,
		       struct error *err)
{
	struct member_check mc = {db, cfg, c, NULL, problems, 0, 0};
	size_t before = problems->len;
	struct error e = ERROR_INIT;
	int rc;

	if (c->sender && address_check(c->sender, &e) != 0)
		sbuf_addf(problems, "sender: %s\n", e.msg);
	if (!clock_zone_valid(c->tz))
		sbuf_addf(problems, "unknown time zone '%s'\n", c->tz);
	if (template_check_event_date(db, c->template_id, c->event_date,
				      &e) != 0)
		sbuf_addf(problems, "template %s v%d: %s\n", c->template_name,
			  c->template_version, e.msg);
	rc = template_load(db, c->template_id, &mc.t, err);
	if (!rc)
		rc = campaign_members_each(db, c->list_id, check_one_member,
					   &mc, err);
	template_free(mc.t);
	if (rc)
		return rc;
	if (mc.members == 0)
		sbuf_addf(problems, "list '%s' has no contacts\n", c->list_name);
	else if (mc.active == 0)
		sbuf_addf(problems, "list '%s' has no active contact (%zu "
				    "disabled, bouncing or suppressed)\n",
			  c->list_name, mc.members);
	if (problems->len > before)
		return error_set(err, ERR_DATA, "campaign '%s' cannot be "
						"scheduled: %zu problem(s)",
				 c->name, count_lines(problems->buf + before));
	return 0;
}

/* ---- state transitions ---- */

/* verb: "pause"; allowed: the states it applies to, as a phrase. */
int campaign_illegal(const struct campaign_info *c, const char *verb,
		     const char *allowed, struct error *err)
{
	return error_set(err, ERR_DATA,
			 "campaign '%s' is %s: cannot %s it (%s applies to a "
			 "%s campaign)", c->name,
			 campaign_state_name(c->state), verb, verb, allowed);
}

/* Moves c from its current state to `to`, refusing if it moved meanwhile. */
int campaign_set_state(struct db *db, struct campaign_info *c,
		       enum campaign_state to, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, ST_SET_STATE, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->id);
	db_bind_text(st, 2, campaign_state_name(c->state));
	db_bind_text(st, 3, campaign_state_name(to));
	sqlite3_bind_int64(st, 4, clock_now());
	rc = db_step_done(db, st, err);
	if (rc)
		return rc;
	if (db_changes(db) != 1)
		return error_set(err, ERR_TEMPFAIL, "campaign '%s' changed state "
						    "meanwhile; try again", c->name);
	return 0;
}

/* One state change with its ledger event, in one transaction. */
int campaign_transition(struct db *db, struct campaign_info *c,
			enum campaign_state to, enum ledger_kind kind,
			struct error *err)
{
	const char *from = campaign_state_name(c->state);
	int rc = db_begin(db, err);

	if (rc)
		return rc;
	rc = campaign_set_state(db, c, to, err);
	if (!rc)
		rc = campaign_event(db, kind, c, from, campaign_state_name(to), err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	rc = db_commit(db, err);
	if (!rc)
		c->state = to;
	return rc;
}

int campaign_check(struct db *db, const struct conf *cfg, int64_t id,
		   struct sbuf *problems, struct error *err)
{
	struct campaign_info c;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	rc = campaign_check_all(db, cfg, &c, problems, err);
	campaign_info_release(&c);
	return rc;
}

int campaign_schedule(struct db *db, const struct conf *cfg, int64_t id,
		      struct sbuf *problems, struct error *err)
{
	return campaign_schedule_plan(db, cfg, id, NULL, problems, err);
}

int campaign_pause(struct db *db, int64_t id, struct error *err)
{
	struct campaign_info c;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	if (c.state == CAMPAIGN_SCHEDULED || c.state == CAMPAIGN_RUNNING)
		rc = campaign_transition(db, &c, CAMPAIGN_PAUSED, LEDGER_CAMPAIGN_PAUSED,
				err);
	else
		rc = campaign_illegal(&c, "pause", "scheduled or running", err);
	campaign_info_release(&c);
	return rc;
}

int campaign_resume(struct db *db, int64_t id, struct error *err)
{
	struct campaign_info c;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	/* A campaign paused before its start goes back to waiting for it. */
	if (c.state == CAMPAIGN_PAUSED)
		rc = campaign_transition(db, &c,
				c.started_at ? CAMPAIGN_RUNNING : CAMPAIGN_SCHEDULED,
				LEDGER_CAMPAIGN_RESUMED, err);
	else
		rc = campaign_illegal(&c, "resume", "paused", err);
	campaign_info_release(&c);
	return rc;
}

int campaign_cancel(struct db *db, int64_t id, int *cancelled,
		    struct error *err)
{
	struct campaign_info c;
	int n = 0;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	if (c.state == CAMPAIGN_DONE || c.state == CAMPAIGN_CANCELLED) {
		rc = campaign_illegal(&c, "cancel",
				      "draft, scheduled, running or paused",
				      err);
		goto out;
	}
	rc = db_begin(db, err);
	if (rc)
		goto out;
	/* What is being sent when this commits is left to its result: the
	 * queue records a message that left as sent, and cancels one that
	 * did not. */
	rc = queue_cancel_campaign(db, c.id, clock_now(), &n, err);
	if (!rc)
		rc = campaign_transition(db, &c, CAMPAIGN_CANCELLED,
				LEDGER_CAMPAIGN_CANCELLED, err);
	if (rc) {
		db_rollback(db);
		goto out;
	}
	rc = db_commit(db, err);
	if (!rc && cancelled)
		*cancelled = n;
out:
	campaign_info_release(&c);
	return rc;
}

int campaign_mark_missed(struct db *db, int64_t id, struct error *err)
{
	struct campaign_info c;
	struct ledger_entry e;
	char when[24];
	const char *from;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	ledger_entry_init(&e, LEDGER_CAMPAIGN_MISSED, c.id, 0, 0, 0);
	if (c.state != CAMPAIGN_DRAFT && c.state != CAMPAIGN_APPROVED) {
		rc = campaign_illegal(&c, "mark missed", "draft or approved",
				      err);
		goto out;
	}
	from = campaign_state_name(c.state);
	clock_format_utc(c.send_at, when, sizeof(when));
	ledger_entry_str(&e, "campaign", c.name);
	ledger_entry_str(&e, "state", from);
	ledger_entry_str(&e, "send_at", when);
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = campaign_set_state(db, &c, CAMPAIGN_MISSED, err);
	if (!rc)
		rc = ledger_entry_append(db, &e, NULL, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	ledger_entry_release(&e);
	campaign_info_release(&c);
	return rc;
}

/* Adds "<key>_from" and "<key>_to" when the two differ. */
static bool note_change(struct ledger_entry *e, const char *key,
			const char *from, const char *to)
{
	char k[64];

	if (strcmp(from, to) == 0)
		return false;
	snprintf(k, sizeof(k), "%s_from", key);
	ledger_entry_str(e, k, from);
	snprintf(k, sizeof(k), "%s_to", key);
	ledger_entry_str(e, k, to);
	return true;
}

int campaign_redraft(struct db *db, int64_t id,
		     const struct campaign_redraft *r, bool *changed,
		     struct error *err)
{
	struct campaign_info c;
	struct template_info t = {0};
	struct list_info l = {0};
	struct ledger_entry e;
	char from[24], to[24], vfrom[200], vto[200];
	int64_t send_at, template_id, list_id;
	const char *lang;
	bool any = false;
	sqlite3_stmt *st;
	int rc = campaign_get(db, id, &c, err);

	if (changed)
		*changed = false;
	if (rc)
		return rc;
	lang = c.language;
	ledger_entry_init(&e, LEDGER_CAMPAIGN_EDITED, c.id, 0, 0, 0);
	if (c.state != CAMPAIGN_DRAFT) {
		rc = campaign_illegal(&c, "change", "draft", err);
		goto out;
	}
	template_id = c.template_id;
	list_id = c.list_id;
	send_at = r->send_at ? r->send_at : c.send_at;
	ledger_entry_str(&e, "campaign", c.name);
	ledger_entry_str(&e, "by", "series");
	if (r->template_name) {
		rc = template_find(db, r->template_name, 0, &t, err);
		if (rc)
			goto out;
		template_id = t.id;
		snprintf(vfrom, sizeof(vfrom), "%s v%d", c.template_name,
			 c.template_version);
		snprintf(vto, sizeof(vto), "%s v%d", t.name, t.version);
		if (note_change(&e, "template", vfrom, vto))
			ledger_entry_str(&e, "template_sha256", t.sha256);
		any |= template_id != c.template_id;
	}
	if (r->list_name) {
		rc = list_find(db, r->list_name, &l, err);
		if (rc)
			goto out;
		list_id = l.id;
		any |= note_change(&e, "list", c.list_name, l.name);
	}
	clock_format_utc(c.send_at, from, sizeof(from));
	clock_format_utc(send_at, to, sizeof(to));
	any |= note_change(&e, "send_at", from, to);
	if (r->tz)
		any |= note_change(&e, "tz", c.tz, r->tz);
	if (r->language) {
		lang = *r->language ? r->language : NULL;
		if (lang && (rc = campaign_language_check(lang, err)))
			goto out;
		if ((lang == NULL) != (c.language == NULL) ||
		    (lang && strcmp(lang, c.language) != 0)) {
			/* null for none, as campaign_edit writes it */
			ledger_entry_str(&e, "language_from", c.language);
			ledger_entry_str(&e, "language_to", lang);
			any = true;
		}
	}
	if (!any)
		goto out;
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &campaign_statements, ST_REDRAFT, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, c.id);
		sqlite3_bind_int64(st, 2, template_id);
		sqlite3_bind_int64(st, 3, list_id);
		sqlite3_bind_int64(st, 4, send_at);
		db_bind_text(st, 5, r->tz ? r->tz : c.tz);
		sqlite3_bind_int64(st, 6, clock_now());
		db_bind_text(st, 7, lang);
		rc = db_step_done(db, st, err);
	}
	if (!rc && db_changes(db) != 1)
		rc = error_set(err, ERR_TEMPFAIL, "campaign '%s' changed state "
						  "meanwhile; try again", c.name);
	if (!rc)
		rc = ledger_entry_append(db, &e, NULL, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc && changed)
		*changed = true;
out:
	ledger_entry_release(&e);
	template_info_release(&t);
	list_info_release(&l);
	campaign_info_release(&c);
	return rc;
}

int campaign_counts(struct db *db, int64_t id, struct campaign_counts *out,
		    struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, ST_COUNTS, &st, err);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = db_step(db, st, err)) == 1) {
		const char *state = db_column_text(st, 0);
		int count = sqlite3_column_int(st, 1);

		for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++)
			if (strcmp(campaign_delivery_states[i], state) == 0)
				out->by_state[i] = count;
		out->total += count;
	}
	return rc;
}

/* ---- shared with campaign_start.c and campaign_render.c ---- */

/* The domain Message-IDs are made in: the campaign's sender's, else the
 * configured sender's, else "localhost". */
const char *campaign_message_domain(const struct conf *cfg,
				    const struct campaign_info *c)
{
	const char *addr = c->sender;
	const char *at;

	if (!addr && cfg)
		addr = cfg->sender.address;
	at = addr ? strrchr(addr, '@') : NULL;
	return at && at[1] ? at + 1 : "localhost";
}

/* ---- finishing ---- */

int campaign_load_ids(struct db *db, int index, int64_t arg, int64_t **ids,
		      size_t *n, struct error *err)
{
	size_t alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, index, &st, err);

	*ids = NULL;
	*n = 0;
	if (rc)
		return rc;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	while ((rc = db_step(db, st, err)) == 1) {
		xgrow(ids, sizeof(**ids), *n + 1, &alloc);
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	return rc;
}

static int finish_one(struct db *db, int64_t id, int64_t now, int *finished,
		      struct error *err)
{
	struct campaign_info c;
	sqlite3_stmt *st;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &campaign_statements, ST_FINISH, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now);
		rc = db_step_done(db, st, err);
	}
	if (!rc && db_changes(db) == 1) {
		rc = campaign_event(db, LEDGER_CAMPAIGN_DONE, &c, "running",
				    "done", err);
		if (!rc)
			(*finished)++;
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	campaign_info_release(&c);
	return rc;
}

int campaign_finish_done(struct db *db, int64_t now, int *finished,
			 struct error *err)
{
	int64_t *ids = NULL;
	size_t n = 0;
	int rc = campaign_load_ids(db, ST_FINISHABLE, 0, &ids, &n, err);

	*finished = 0;
	for (size_t i = 0; !rc && i < n; i++)
		rc = finish_one(db, ids[i], now, finished, err);
	free(ids);
	return rc;
}

int campaign_next_due(struct db *db, int64_t *when, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, ST_NEXT_DUE, &st, err);

	if (rc)
		return rc;
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 0 || sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_reset(st);
		return 1;
	}
	*when = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}
