#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include "chancery/address.h"
#include "chancery/anniversary.h"
#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/ledger.h"
#include "chancery/list.h"
#include "chancery/log.h"
#include "chancery/message.h"
#include "chancery/queue.h"
#include "chancery/registry.h"
#include "chancery/render.h"
#include "chancery/template.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

static const char *const state_names[] = {
	[CAMPAIGN_DRAFT] = "draft",         [CAMPAIGN_SCHEDULED] = "scheduled",
	[CAMPAIGN_RUNNING] = "running",     [CAMPAIGN_PAUSED] = "paused",
	[CAMPAIGN_DONE] = "done",           [CAMPAIGN_CANCELLED] = "cancelled",
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
	"started_at, finished_at FROM campaigns "

enum {
	ST_INSERT,
	ST_BY_NAME,
	ST_BY_ID,
	ST_BY_SERIES,
	ST_ALL,
	ST_SET_STATE,
	ST_START,
	ST_FINISH,
	ST_DUE,
	ST_NEXT_DUE,
	ST_FINISHABLE,
	ST_COUNTS,
	ST_DELIVERY_GET,
	ST__COUNT
};

static const char *const campaign_sql[ST__COUNT] = {
	[ST_INSERT] = "INSERT INTO campaigns (name, template_id, list_id, "
		      "series_id, series_year, send_at, tz, sender, event_date, "
		      "state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, "
		      "?5, ?6, ?7, ?8, ?9, 'draft', ?10, ?10)",
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
};

static const struct db_statements campaign_statements = {
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

static int append_event(struct db *db, enum ledger_kind kind, int64_t campaign,
			int64_t delivery, int64_t body, int64_t contact,
			const char *data, struct error *err)
{
	struct ledger_event ev = {kind, campaign, delivery, body, contact, data};

	return ledger_append(db, &ev, NULL, err);
}

static int campaign_event(struct db *db, enum ledger_kind kind,
			  const struct campaign_info *c, const char *from,
			  const char *to, struct error *err)
{
	struct sbuf data = SBUF_INIT;
	struct json js;
	int rc;

	json_init(&js, &data, false);
	json_object_begin(&js);
	json_kv_string(&js, "campaign", c->name);
	if (from)
		json_kv_string(&js, "from", from);
	if (to)
		json_kv_string(&js, "to", to);
	json_object_end(&js);
	rc = append_event(db, kind, c->id, 0, 0, 0, data.buf, err);
	sbuf_release(&data);
	return rc;
}

/* The audit's proof of which text went out: the version and its hash. */
static int template_used_event(struct db *db, const struct campaign_info *c,
			       struct error *err)
{
	struct sbuf data = SBUF_INIT;
	struct json js;
	int rc;

	json_init(&js, &data, false);
	json_object_begin(&js);
	json_kv_string(&js, "campaign", c->name);
	json_kv_string(&js, "template", c->template_name);
	json_kv_int(&js, "version", c->template_version);
	json_kv_string(&js, "sha256", c->template_sha256);
	json_object_end(&js);
	rc = append_event(db, LEDGER_TEMPLATE_USED, c->id, 0, 0, 0, data.buf,
			  err);
	sbuf_release(&data);
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
		campaign_info_release(&old);
		return error_set(err, ERR_DATA, "campaign '%s' already exists",
				 c->name);
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
	return 0;
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
	struct sbuf data = SBUF_INIT;
	struct json js;
	char when[24];
	int rc;

	clock_format_utc(c->send_at, when, sizeof(when));
	json_init(&js, &data, false);
	json_object_begin(&js);
	json_kv_string(&js, "campaign", c->name);
	json_kv_string(&js, "template", c->template_name);
	json_kv_int(&js, "template_version", version);
	json_kv_string(&js, "template_sha256", sha);
	json_kv_string(&js, "list", c->list_name);
	json_kv_string(&js, "send_at", when);
	json_kv_string(&js, "tz", c->tz);
	if (c->event_date)
		json_kv_string(&js, "event_date", c->event_date);
	json_object_end(&js);
	rc = append_event(db, LEDGER_CAMPAIGN_CREATED, id, 0, 0, 0, data.buf,
			  err);
	sbuf_release(&data);
	return rc;
}

int campaign_create(struct db *db, const struct campaign_new *c,
		    int64_t *id_out, struct error *err)
{
	struct template_info t = {0};
	struct list_info list = {0};
	int64_t id = 0;
	int rc = check_new(db, c, err);

	/* the template version a campaign binds to (version 0: the latest) */
	if (!rc)
		rc = template_find(db, c->template_name, c->template_version,
				   &t, err);
	if (!rc)
		rc = list_find(db, c->list_name, &list, err);
	if (!rc)
		rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = insert_campaign(db, c, t.id, list.id, &id, err);
	if (!rc)
		rc = created_event(db, c, id, t.version, t.sha256, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc && id_out)
		*id_out = id;
out:
	template_info_release(&t);
	list_info_release(&list);
	return rc;
}

/* ---- the members of a list, walked one row at a time ---- */

/* A contact of a campaign's list, as a walk over the list sees it (the
 * strings belong to the row being read). */
struct member {
	int64_t contact_id;
	int64_t body_id;
	const char *email;
	enum registry_contact_status status;
	const char *status_reason;
};

/* A walk over a list's members one row at a time: a campaign to a million
 * contacts must not hold them all (100 bytes each) to start or check. */
typedef int member_fn(const struct member *m, void *arg);

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

static int members_each(struct db *db, int64_t list_id, member_fn *fn,
			void *arg, struct error *err)
{
	struct member_walk w = {fn, arg};

	return list_each_contact(db, list_id, walk_member, &w, err);
}

/* ---- render contexts ---- */

struct delivery_ctx {
	struct registry_body body;
	struct registry_contact contact;
	struct render_context ctx;
};

static void delivery_ctx_release(struct delivery_ctx *d)
{
	registry_body_release(&d->body);
	registry_contact_release(&d->contact);
}

/* Loads the contact and its body and fills the render context. */
static int delivery_ctx_init(struct db *db, const struct conf *cfg,
			     const struct campaign_info *c, int64_t contact_id,
			     const char *message_id, const char *envid,
			     struct delivery_ctx *d, struct error *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = registry_contact_get(db, contact_id, &d->contact, err);
	if (!rc)
		rc = registry_body_get(db, d->contact.body_id, &d->body, err);
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
		.message_id = message_id,
		.envid = envid,
	};
	return 0;
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
			 const struct campaign_info *c, const struct member *m,
			 struct sbuf *problems)
{
	struct error err = ERROR_INIT;
	struct sbuf scratch = SBUF_INIT;
	struct delivery_ctx d;

	if (address_check(m->email, &err) != 0) {
		sbuf_addf(problems, "contact %s: %s\n", m->email, err.msg);
		return;
	}
	if (delivery_ctx_init(db, cfg, c, m->contact_id, "check@chancery",
			      "chancery-check", &d, &err) != 0) {
		sbuf_addf(problems, "contact %s: %s\n", m->email, err.msg);
		return;
	}
	/* the whole message, so that address and header problems show
	 * now rather than at send time */
	if (message_render(db, c->template_id, &d.ctx, &scratch, &err) != 0) {
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
	delivery_ctx_release(&d);
}

/* What checking a campaign's members found so far. */
struct member_check {
	struct db *db;
	const struct conf *cfg;
	const struct campaign_info *c;
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
	check_member(mc->db, mc->cfg, mc->c, m, mc->problems);
	return 0;
}

static int check_campaign(struct db *db, const struct conf *cfg,
			  const struct campaign_info *c, struct sbuf *problems,
			  struct error *err)
{
	struct member_check mc = {db, cfg, c, problems, 0, 0};
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
	rc = members_each(db, c->list_id, check_one_member, &mc, err);
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
static int illegal(const struct campaign_info *c, const char *verb,
		   const char *allowed, struct error *err)
{
	return error_set(err, ERR_DATA,
			 "campaign '%s' is %s: cannot %s it (%s applies to a "
			 "%s campaign)", c->name,
			 campaign_state_name(c->state), verb, verb, allowed);
}

/* Moves c from its current state to `to`, refusing if it moved meanwhile. */
static int set_state(struct db *db, struct campaign_info *c,
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
static int transition(struct db *db, struct campaign_info *c,
		      enum campaign_state to, enum ledger_kind kind,
		      struct error *err)
{
	const char *from = campaign_state_name(c->state);
	int rc = db_begin(db, err);

	if (rc)
		return rc;
	rc = set_state(db, c, to, err);
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
	rc = check_campaign(db, cfg, &c, problems, err);
	campaign_info_release(&c);
	return rc;
}

int campaign_schedule(struct db *db, const struct conf *cfg, int64_t id,
		      struct sbuf *problems, struct error *err)
{
	struct campaign_info c;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	if (c.state != CAMPAIGN_DRAFT) {
		rc = illegal(&c, "schedule", "draft", err);
		goto out;
	}
	rc = check_campaign(db, cfg, &c, problems, err);
	if (!rc)
		rc = transition(db, &c, CAMPAIGN_SCHEDULED,
				LEDGER_CAMPAIGN_SCHEDULED, err);
out:
	campaign_info_release(&c);
	return rc;
}

int campaign_pause(struct db *db, int64_t id, struct error *err)
{
	struct campaign_info c;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	if (c.state == CAMPAIGN_SCHEDULED || c.state == CAMPAIGN_RUNNING)
		rc = transition(db, &c, CAMPAIGN_PAUSED, LEDGER_CAMPAIGN_PAUSED,
				err);
	else
		rc = illegal(&c, "pause", "scheduled or running", err);
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
		rc = transition(db, &c,
				c.started_at ? CAMPAIGN_RUNNING : CAMPAIGN_SCHEDULED,
				LEDGER_CAMPAIGN_RESUMED, err);
	else
		rc = illegal(&c, "resume", "paused", err);
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
		rc = illegal(&c, "cancel",
			     "draft, scheduled, running or paused", err);
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
		rc = transition(db, &c, CAMPAIGN_CANCELLED,
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

/* ---- materialisation ---- */

/* The domain Message-IDs are made in: the campaign's sender's, else the
 * configured sender's, else "localhost". */
static const char *message_domain(const struct conf *cfg,
				  const struct campaign_info *c)
{
	const char *addr = c->sender;
	const char *at;

	if (!addr && cfg)
		addr = cfg->sender.address;
	at = addr ? strrchr(addr, '@') : NULL;
	return at && at[1] ? at + 1 : "localhost";
}

/*
 * Random bytes for Message-IDs and ENVIDs, drawn from the kernel a block
 * at a time: one draw per contact and printf per byte were a tenth of
 * campaign start. (Not OpenSSL's RAND_bytes: its DRBG loads OpenSSL's provider
 * machinery, 2 MiB of the daemon's memory, for bytes that only need to
 * be unpredictable.)
 */
struct random_pool {
	unsigned char bytes[512];
	size_t pos; /* the next unused byte; sizeof(bytes) when used up */
};

#define RANDOM_POOL_INIT {.pos = sizeof(((struct random_pool *)0)->bytes)}

/* 16 random hex digits and a NUL into buf. */
static int random_hex(struct random_pool *pool, char buf[17],
		      struct error *err)
{
	static const char digits[] = "0123456789abcdef";

	if (pool->pos + 8 > sizeof(pool->bytes)) {
		if (getrandom(pool->bytes, sizeof(pool->bytes), 0) !=
		    (ssize_t)sizeof(pool->bytes))
			return error_set(err, ERR_SOFTWARE, "no random bytes "
					 "for a Message-ID or ENVID");
		pool->pos = 0;
	}
	for (int i = 0; i < 8; i++) {
		unsigned char b = pool->bytes[pool->pos++];

		buf[2 * i] = digits[b >> 4];
		buf[2 * i + 1] = digits[b & 0xf];
	}
	buf[16] = '\0';
	return 0;
}

/*
 * A queued delivery's Message-ID (no angle brackets; caller frees) and
 * ENVID, "chancery-<delivery id>-<16 random hex>" (at most 45 characters,
 * all xtext-safe, within RFC 3461's 100). A report changes a delivery
 * only when it carries one of the two whole (see bounce.h), so each has
 * its own 64 random bits: neither is derived from the other, as
 * ST_CLAIM_IDS in the queue gives either alone to a row lacking it.
 */
static int make_ids(const struct conf *cfg, const struct campaign_info *c,
		    int64_t delivery_id, struct random_pool *pool,
		    char **message_id, char envid[64], struct error *err)
{
	char rnd[17], token[17];
	int rc = random_hex(pool, rnd, err);

	if (!rc)
		rc = random_hex(pool, token, err);
	if (rc)
		return rc;
	*message_id = xasprintf("%lld.%lld.%s@%s", (long long)c->id,
				(long long)delivery_id, rnd,
				message_domain(cfg, c));
	snprintf(envid, 64, "chancery-%lld-%s", (long long)delivery_id, token);
	return 0;
}

/* Why a member gets no message, or NULL when it gets one (caller frees). */
static char *skip_reason(const struct member *m)
{
	struct error e = ERROR_INIT;

	if (m->status != CONTACT_ACTIVE)
		return m->status_reason
			       ? xasprintf("contact %s: %s",
					   registry_contact_status_name(m->status),
					   m->status_reason)
			       : xasprintf("contact %s",
					   registry_contact_status_name(m->status));
	if (address_check(m->email, &e) != 0)
		return xasprintf("invalid address: %s", e.msg);
	return NULL;
}

/* The data of a delivery's delivery.queued or delivery.skipped event. */
static void delivery_data(struct sbuf *out, const struct member *m,
			  const char *message_id, const char *reason)
{
	struct json js;

	json_init(&js, out, false);
	json_object_begin(&js);
	json_kv_string(&js, "email", m->email);
	if (message_id)
		json_kv_string(&js, "message_id", message_id);
	if (reason)
		json_kv_string(&js, "reason", reason);
	json_object_end(&js);
}

/*
 * Queues one delivery unless the pair exists; *added is bumped if new.
 * The row gets id *next_id, the one SQLite would choose (the caller holds
 * the write transaction), so its Message-ID and ENVID, which name the id,
 * go in with the INSERT: given by a second UPDATE they rewrote the row
 * and both their index entries for every contact.
 */
static int materialise_one(struct db *db, const struct conf *cfg,
			   const struct campaign_info *c, const struct member *m,
			   int64_t now, int64_t *next_id, struct random_pool *pool,
			   int *added, struct error *err)
{
	char *reason = skip_reason(m), *message_id = NULL;
	struct sbuf data = SBUF_INIT;
	char envid[64];
	bool inserted = false;
	int rc = reason ? 0 : make_ids(cfg, c, *next_id, pool, &message_id,
				       envid, err);
	struct queue_new d = {
		.id = *next_id, .campaign_id = c->id,
		.contact_id = m->contact_id, .body_id = m->body_id,
		.email = m->email, .skip_reason = reason,
		.message_id = message_id, .envid = reason ? NULL : envid,
	};

	if (rc)
		goto out;
	if (!reason && cfg && cfg->queue.lifetime_ms > 0)
		d.expires_at = now + cfg->queue.lifetime_ms / 1000;
	delivery_data(&data, m, message_id, reason);
	d.event_data = data.buf;
	rc = queue_add(db, &d, now, &inserted, err);
	if (!rc && inserted) {
		(*next_id)++;
		(*added)++;
	}
out:
	sbuf_release(&data);
	free(reason);
	free(message_id);
	return rc;
}

/* One delivery per (campaign, contact) of the list; the caller holds the
 * transaction. */
/* The state of one materialisation, for its walk over the members. */
struct materialising {
	struct db *db;
	const struct conf *cfg;
	const struct campaign_info *c;
	int64_t now, next_id;
	struct random_pool pool;
	int *added;
	struct error *err;
};

static int materialise_member(const struct member *m, void *arg)
{
	struct materialising *ms = arg;

	return materialise_one(ms->db, ms->cfg, ms->c, m, ms->now,
			       &ms->next_id, &ms->pool, ms->added, ms->err);
}

static int materialise(struct db *db, const struct conf *cfg,
		       const struct campaign_info *c, int64_t now, int *added,
		       struct error *err)
{
	struct materialising ms = {db, cfg, c, now, 0, RANDOM_POOL_INIT,
				   added, err};
	int rc;

	*added = 0;
	rc = queue_last_id(db, &ms.next_id, err);
	ms.next_id++;
	if (!rc)
		rc = members_each(db, c->list_id, materialise_member, &ms, err);
	return rc;
}

/* Starts one campaign; 0 with *started 0 when another process did it. */
static int start_one(struct db *db, const struct conf *cfg, int64_t id,
		     int64_t now, int *started, struct error *err)
{
	struct campaign_info c;
	sqlite3_stmt *st;
	int added = 0, rc = campaign_get(db, id, &c, err);

	*started = 0;
	if (rc)
		return rc;
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &campaign_statements, ST_START, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now);
		rc = db_step_done(db, st, err);
	}
	if (rc || db_changes(db) == 0) {
		db_rollback(db);
		goto out;
	}
	rc = template_lock(db, c.template_id, err);
	if (!rc)
		rc = template_used_event(db, &c, err);
	if (!rc)
		rc = campaign_event(db, LEDGER_CAMPAIGN_STARTED, &c, "scheduled",
				    "running", err);
	if (!rc)
		rc = materialise(db, cfg, &c, now, &added, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc) {
		*started = 1;
		log_info("campaign=%s started deliveries=%d", c.name, added);
	}
out:
	if (rc)
		error_prefix(err, "starting campaign '%s'", c.name);
	campaign_info_release(&c);
	return rc;
}

static int load_ids(struct db *db, int index, int64_t arg, int64_t **ids,
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

int campaign_start_due(struct db *db, const struct conf *cfg, int64_t now,
		       int *started, struct error *err)
{
	struct error one = ERROR_INIT;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc = load_ids(db, ST_DUE, now, &ids, &n, err), first_rc = 0;

	*started = 0;
	/* One failing campaign must not hold up the others. */
	for (size_t i = 0; !rc && i < n; i++) {
		int s = 0, r = start_one(db, cfg, ids[i], now, &s, &one);

		*started += s;
		if (r && !first_rc) {
			first_rc = r;
			error_set(err, r, "%s", one.msg);
		}
	}
	free(ids);
	return rc ? rc : first_rc;
}

int campaign_refresh(struct db *db, const struct conf *cfg, int64_t id,
		     int *added, struct error *err)
{
	struct campaign_info c;
	char data[256];
	int rc = campaign_get(db, id, &c, err);

	*added = 0;
	if (rc)
		return rc;
	if (!c.started_at ||
	    (c.state != CAMPAIGN_RUNNING && c.state != CAMPAIGN_PAUSED)) {
		rc = illegal(&c, "refresh", "running or paused (started)", err);
		goto out;
	}
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = materialise(db, cfg, &c, clock_now(), added, err);
	snprintf(data, sizeof(data), "{\"added\":%d}", *added);
	if (!rc)
		rc = append_event(db, LEDGER_CAMPAIGN_REFRESHED, c.id, 0, 0, 0,
				  data, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	campaign_info_release(&c);
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
	int rc = load_ids(db, ST_FINISHABLE, 0, &ids, &n, err);

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

/* ---- rendering ---- */

struct delivery_row {
	int64_t campaign_id, contact_id;
	char *message_id, *envid;
};

static int delivery_load(struct db *db, int64_t id, struct delivery_row *d,
			 struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, ST_DELIVERY_GET, &st, err);

	memset(d, 0, sizeof(*d));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no delivery #%lld",
				 (long long)id);
	d->campaign_id = sqlite3_column_int64(st, 0);
	d->contact_id = sqlite3_column_int64(st, 1);
	d->message_id = db_column_strdup(st, 2);
	d->envid = db_column_strdup(st, 3);
	sqlite3_reset(st);
	return 0;
}

/*
 * What every delivery of a campaign shares, kept per renderer (one per
 * dispatch worker) instead of being read and compiled again for each
 * message: measured with callgrind, loading and compiling the template
 * (16%) and reading the campaign with its template and list names (4%)
 * were a fifth of the rendering. Both caches are safe without
 * invalidation:
 * - a campaign's rendering fields (name, template, send_at, tz, sender,
 *   event_date) never change once it exists: the only updates are of its
 *   state and timestamps (ST_SET_STATE, ST_START, ST_FINISH), which
 *   rendering does not read;
 * - a template version is immutable once locked: the triggers of
 *   db/0002_templates.sql refuse to change or delete it, so its id is
 *   never reused either. A campaign locks its version when it starts, in
 *   the transaction that creates its deliveries. A version found unlocked
 *   anyway is used for that one message and never kept.
 * A new template version has a new id, so it is never served from a stale
 * entry. Contacts and bodies do change: they are read for every message.
 * A handful of entries suffices (a worker sends a few campaigns at once)
 * and bounds the memory: a template may carry attachments.
 */
#define RENDERER_SLOTS 4

struct cached_template {
	int64_t id;
	struct template *t;
};

struct campaign_renderer {
	struct campaign_info campaigns[RENDERER_SLOTS];
	size_t ncampaigns, next_campaign; /* next_campaign: next to evict */
	struct cached_template templates[RENDERER_SLOTS];
	size_t ntemplates, next_template;
	struct campaign_renderer_stats stats;
};

struct campaign_renderer *campaign_renderer_new(void)
{
	return xcalloc(1, sizeof(struct campaign_renderer));
}

void campaign_renderer_free(struct campaign_renderer *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncampaigns; i++)
		campaign_info_release(&r->campaigns[i]);
	for (size_t i = 0; i < r->ntemplates; i++)
		template_free(r->templates[i].t);
	free(r);
}

void campaign_renderer_get_stats(const struct campaign_renderer *r,
				 struct campaign_renderer_stats *out)
{
	*out = r->stats;
}

/* The slot a new entry goes to: a free one, else the oldest. */
static size_t renderer_slot(size_t *n, size_t *next)
{
	size_t i;

	if (*n < RENDERER_SLOTS)
		return (*n)++;
	i = *next;
	*next = (*next + 1) % RENDERER_SLOTS;
	return i;
}

static int renderer_campaign(struct campaign_renderer *r, struct db *db,
			     int64_t id, const struct campaign_info **out,
			     struct error *err)
{
	struct campaign_info c;
	size_t i;
	int rc;

	for (i = 0; i < r->ncampaigns; i++)
		if (r->campaigns[i].id == id) {
			r->stats.campaign_hits++;
			*out = &r->campaigns[i];
			return 0;
		}
	rc = campaign_get(db, id, &c, err);
	if (rc)
		return rc;
	r->stats.campaign_loads++;
	i = renderer_slot(&r->ncampaigns, &r->next_campaign);
	campaign_info_release(&r->campaigns[i]);
	r->campaigns[i] = c;
	*out = &r->campaigns[i];
	return 0;
}

/* The loaded version template_id; *owned when the caller must free it
 * (an unlocked version, see above). */
static int renderer_template(struct campaign_renderer *r, struct db *db,
			     int64_t template_id, struct template **out,
			     bool *owned, struct error *err)
{
	struct template_info info;
	bool locked;
	size_t i;
	int rc;

	*owned = false;
	for (i = 0; i < r->ntemplates; i++)
		if (r->templates[i].id == template_id) {
			r->stats.template_hits++;
			*out = r->templates[i].t;
			return 0;
		}
	rc = template_get(db, template_id, &info, err);
	if (rc)
		return rc;
	locked = info.locked;
	template_info_release(&info);
	rc = template_load(db, template_id, out, err);
	if (rc)
		return rc;
	r->stats.template_loads++;
	if (!locked) {
		*owned = true;
		return 0;
	}
	i = renderer_slot(&r->ntemplates, &r->next_template);
	template_free(r->templates[i].t);
	r->templates[i] = (struct cached_template){template_id, *out};
	return 0;
}

int campaign_renderer_message(struct campaign_renderer *r, struct db *db,
			      const struct conf *cfg, int64_t delivery_id,
			      struct sbuf *out, struct error *err)
{
	const struct campaign_info *c = NULL;
	struct template *t = NULL;
	struct delivery_row d;
	struct delivery_ctx ctx;
	bool owned = false;
	int rc = delivery_load(db, delivery_id, &d, err);

	if (!rc)
		rc = renderer_campaign(r, db, d.campaign_id, &c, err);
	if (!rc)
		rc = renderer_template(r, db, c->template_id, &t, &owned, err);
	if (!rc)
		rc = delivery_ctx_init(db, cfg, c, d.contact_id, d.message_id,
				       d.envid, &ctx, err);
	if (!rc) {
		rc = message_compose(t, &ctx.ctx, out, err);
		delivery_ctx_release(&ctx);
	}
	if (rc)
		error_prefix(err, "delivery #%lld", (long long)delivery_id);
	if (owned)
		template_free(t);
	free(d.message_id);
	free(d.envid);
	return rc;
}

int campaign_delivery_message(struct db *db, const struct conf *cfg,
			      int64_t delivery_id, struct sbuf *out,
			      struct error *err)
{
	struct campaign_renderer *r = campaign_renderer_new();
	int rc = campaign_renderer_message(r, db, cfg, delivery_id, out, err);

	campaign_renderer_free(r);
	return rc;
}

/* The first active contact of the list (of body_id when not 0). */
struct pick {
	int64_t body_id;
	int64_t contact_id; /* 0 until found */
};

static int pick_contact(const struct member *m, void *arg)
{
	struct pick *p = arg;

	if (m->status != CONTACT_ACTIVE || (p->body_id && m->body_id != p->body_id))
		return 0;
	p->contact_id = m->contact_id;
	return 1; /* found: stop the walk */
}

int campaign_preview(struct db *db, const struct conf *cfg, int64_t id,
		     const char *body_key, struct sbuf *out,
		     struct error *err)
{
	struct registry_body body = {0};
	struct campaign_info c = {0};
	struct pick pick = {0, 0};
	struct delivery_ctx ctx;
	char *message_id = NULL;
	int rc = campaign_get(db, id, &c, err);

	if (!rc && body_key)
		rc = registry_body_find(db, body_key, &body, err);
	pick.body_id = body.id;
	if (!rc)
		rc = members_each(db, c.list_id, pick_contact, &pick, err);
	if (rc < 0)
		goto out;
	rc = 0;
	if (!pick.contact_id) {
		rc = error_set(err, ERR_NOTFOUND, "list '%s' has no active "
						  "contact%s%s", c.list_name,
			       body_key ? " of " : "", body_key ? body_key : "");
		goto out;
	}
	message_id = xasprintf("%lld.preview@%s", (long long)c.id,
			       message_domain(cfg, &c));
	rc = delivery_ctx_init(db, cfg, &c, pick.contact_id, message_id,
			       "chancery-preview", &ctx, err);
	if (!rc) {
		rc = message_render(db, c.template_id, &ctx.ctx, out, err);
		delivery_ctx_release(&ctx);
	}
out:
	free(message_id);
	registry_body_release(&body);
	campaign_info_release(&c);
	return rc;
}
