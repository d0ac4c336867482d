/*
 * Approval with a freeze (see campaign.h): approve, schedule, reject,
 * edit, and the voiding of an approval when what it bound changes. An
 * approval materialises the recipient set (campaign_recipients) and the
 * bodies it cannot reach (campaign_unreached); the start then queues the
 * frozen rows (campaign_start.c) without expanding the list again.
 *
 * It is one file above 1,000 lines because approving, editing and
 * voiding share the freeze (the recipient set and its digest) and must
 * agree on what an approval binds.
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
#include "chancery/protocol.h"
#include "chancery/queue.h"
#include "chancery/registry.h"
#include "chancery/sha256.h"
#include "chancery/template.h"
#include "chancery/user.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"
#include "campaign_impl.h"

enum {
	A_COUNT,
	A_BY_ACTOR,
	A_FIRST,
	A_INSERT,
	A_CLEAR,
	A_CLEAR_RECIPIENTS,
	A_CLEAR_UNREACHED,
	A_ADD_RECIPIENT,
	A_BODY_TALLY,
	A_ADD_UNREACHED,
	A_PLAN,
	A_UNREACHED,
	A_EACH,
	A_EDIT,
	A_HOLDING,
	A_FROZEN,
	A_FIRST_SENT,
	A_REJECTED,
	A_RECIPIENTS,
	A__COUNT
};

static const char *const approve_sql[A__COUNT] = {
	[A_COUNT] = "SELECT count(*) FROM campaign_approvals "
		    "WHERE campaign_id = ?1",
	[A_BY_ACTOR] = "SELECT 1 FROM campaign_approvals WHERE campaign_id = ?1 "
		       "AND actor IS ?2",
	[A_FIRST] = "SELECT recipients_sha256, template_sha256, send_at "
		    "FROM campaign_approvals WHERE campaign_id = ?1 "
		    "ORDER BY id LIMIT 1",
	[A_INSERT] = "INSERT INTO campaign_approvals (campaign_id, actor, at, "
		     "template_id, template_sha256, send_at, recipients_sha256, "
		     "recipients, unreached) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		     "?8, ?9)",
	[A_CLEAR] = "DELETE FROM campaign_approvals WHERE campaign_id = ?1",
	[A_CLEAR_RECIPIENTS] = "DELETE FROM campaign_recipients "
			       "WHERE campaign_id = ?1",
	[A_CLEAR_UNREACHED] = "DELETE FROM campaign_unreached "
			      "WHERE campaign_id = ?1",
	[A_ADD_RECIPIENT] = "INSERT OR IGNORE INTO campaign_recipients "
			    "(campaign_id, position, contact_id, body_id, email, "
			    "status, skip_reason) VALUES (?1, ?2, ?3, ?4, ?5, "
			    "?6, ?7)",
	[A_BODY_TALLY] = "SELECT count(*), coalesce(sum(skip_reason IS NULL), 0), "
			 "coalesce(sum(status = 'suppressed'), 0), "
			 "coalesce(sum(status = 'bouncing'), 0), "
			 "coalesce(sum(status = 'disabled'), 0) "
			 "FROM campaign_recipients WHERE campaign_id = ?1 "
			 "AND body_id = ?2",
	[A_ADD_UNREACHED] = "INSERT OR REPLACE INTO campaign_unreached "
			    "(campaign_id, body_id, reason, created_at) "
			    "VALUES (?1, ?2, ?3, ?4)",
	[A_PLAN] = "SELECT (SELECT count(*) FROM campaign_recipients WHERE "
		   "campaign_id = ?1 AND skip_reason IS NULL), "
		   "(SELECT count(*) FROM campaign_recipients WHERE "
		   "campaign_id = ?1 AND skip_reason IS NOT NULL), "
		   "(SELECT count(DISTINCT body_id) FROM campaign_recipients "
		   "WHERE campaign_id = ?1) + (SELECT count(*) FROM "
		   "campaign_unreached WHERE campaign_id = ?1 AND reason = "
		   "'no contact'), "
		   "(SELECT recipients_sha256 FROM campaign_approvals WHERE "
		   "campaign_id = ?1 ORDER BY id DESC LIMIT 1), "
		   "(SELECT count(*) FROM campaign_approvals WHERE "
		   "campaign_id = ?1)",
	[A_UNREACHED] = "SELECT b.id, coalesce(b.acronym, b.name), u.reason "
			"FROM campaign_unreached u JOIN bodies b ON "
			"b.id = u.body_id WHERE u.campaign_id = ?1 "
			"ORDER BY lower(coalesce(b.acronym, b.name)), b.id",
	[A_EACH] = "SELECT actor, at, template_sha256, recipients_sha256, "
		   "recipients, unreached FROM campaign_approvals "
		   "WHERE campaign_id = ?1 ORDER BY id",
	/* Compare-and-set on the state, as every transition. */
	[A_EDIT] = "UPDATE campaigns SET template_id = ?3, list_id = ?4, "
		   "send_at = ?5, tz = ?6, sender = ?7, event_date = ?8, "
		   "edited_by = ?9, state = 'draft', updated_at = ?10, "
		   "receipt = ?11, language = ?12 "
		   "WHERE id = ?1 AND state = ?2",
	/* Campaigns not started that hold an approval or part of one. */
	[A_HOLDING] = "SELECT id FROM campaigns c WHERE c.started_at IS NULL "
		      "AND (c.state IN ('approved', 'scheduled', 'paused') OR "
		      "(c.state = 'draft' AND EXISTS (SELECT 1 FROM "
		      "campaign_approvals a WHERE a.campaign_id = c.id))) "
		      "ORDER BY c.id",
	[A_FROZEN] = "SELECT count(*) FROM campaign_recipients "
		     "WHERE campaign_id = ?1",
	[A_FIRST_SENT] = "SELECT min(sent_at), min(CASE WHEN attempts > 0 THEN "
			 "updated_at END) FROM deliveries WHERE campaign_id = ?1",
	/* read from the ledger, which keeps what reject cleared */
	[A_REJECTED] = "SELECT actor, ts, json_extract(data, '$.reason') "
		       "FROM events WHERE campaign_id = ?1 AND kind = "
		       "'campaign.rejected' ORDER BY id DESC LIMIT 1",
	[A_RECIPIENTS] = "SELECT r.email, coalesce(b.acronym, b.name), "
			 "r.status, r.skip_reason FROM campaign_recipients r "
			 "JOIN bodies b ON b.id = r.body_id "
			 "WHERE r.campaign_id = ?1 ORDER BY r.position",
};

static const struct db_statements approve_statements = {
	"campaign_approve", approve_sql, A__COUNT};

static int prepare(struct db *db, int index, sqlite3_stmt **st,
		   struct error *err)
{
	return db_prepare(db, &approve_statements, index, st, err);
}

/* Runs a statement that takes the campaign id alone and returns no row. */
static int by_campaign(struct db *db, int index, int64_t id,
		       struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, index, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return db_step_done(db, st, err);
}

/* The first integer column of a one-row query on the campaign id. */
static int count_of(struct db *db, int index, int64_t id, int64_t *n,
		    struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, index, &st, err);

	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc == 1) {
		*n = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

void campaign_plan_init(struct campaign_plan *p)
{
	memset(p, 0, sizeof(*p));
	sbuf_init(&p->warnings, 0);
	sbuf_init(&p->languages, 0);
	sbuf_init(&p->fallbacks, 0);
	sbuf_init(&p->salutations, 0);
}

void campaign_plan_release(struct campaign_plan *p)
{
	sbuf_release(&p->warnings);
	sbuf_release(&p->languages);
	sbuf_release(&p->fallbacks);
	sbuf_release(&p->salutations);
	memset(p, 0, sizeof(*p));
}

/* ---- the languages of the plan ---- */

/* One language sent: how many contacts, and which bodies (distinct). */
struct plan_lang {
	char *lang;
	int contacts;
	struct sbuf bodies;
	int64_t last_body;
};

struct plan_walk {
	struct db *db;
	const struct conf *cfg;
	const struct campaign_info *c;
	struct template *t;
	struct plan_lang *langs;
	size_t nlangs;
	struct sbuf *fallbacks;
	struct sbuf *salutations;
	bool *greets; /* per variant (0: the default, k: variants[k - 1]):
			 it uses contact.salutation */
	struct error *err;
};

static const char *const via_names[] = {
	[TEMPLATE_VIA_CONTACT] = "fallback chain",
	[TEMPLATE_VIA_BODY] = "body's language",
	[TEMPLATE_VIA_CAMPAIGN] = "campaign's language",
	[TEMPLATE_VIA_DEFAULT] = "default variant",
};

/* A name safe on one line of the plan. */
static const char *plan_name(const char *s)
{
	return s && !utf8_has_control(s) ? s : "?";
}

/* Whether the variant chosen greets the contact (contact.salutation). */
static bool plan_greets(const struct plan_walk *w, const struct template *v)
{
	for (size_t k = 0; k <= w->t->nvariants; k++)
		if ((k ? w->t->variants[k - 1] : w->t) == v)
			return w->greets[k];
	return false;
}

/* A contact greeted with a fallback: which, and why (protocol.h). */
static void plan_salutation(struct plan_walk *w, struct delivery_ctx *d,
			    const char *who)
{
	struct protocol_salutation sal;

	protocol_salutation(&d->protocol, &d->body, &d->contact, d->ctx.lang,
			    &sal);
	if (sal.fell_back)
		sbuf_addf(w->salutations, "%s\t%s\t%s\t%s\n",
			  plan_name(d->contact.email), who, plan_name(sal.text),
			  sal.reason);
}

/* A variant's language lines (only with variants) and its salutation
 * line (only when it greets). */
static int plan_member(const struct member *m, void *arg)
{
	struct plan_walk *w = arg;
	struct template_choice ch;
	struct delivery_ctx d;
	struct plan_lang *l = NULL;
	const char *who;
	char *skip = campaign_skip_reason(m);
	bool sendable = m->status == CONTACT_ACTIVE && !skip;
	int rc;

	free(skip);
	if (!sendable)
		return 0;
	rc = campaign_delivery_ctx_init(w->db, w->cfg, w->c, m->contact_id,
					NULL, NULL, &d, w->err);
	if (rc)
		return rc;
	campaign_variant(w->cfg, w->c, w->t, &d, &ch);
	who = plan_name(d.body.acronym ? d.body.acronym : d.body.name);
	if (plan_greets(w, ch.variant))
		plan_salutation(w, &d, who);
	if (!w->t->nvariants)
		goto out;
	for (size_t i = 0; i < w->nlangs; i++)
		if (strcmp(w->langs[i].lang, ch.sent) == 0)
			l = &w->langs[i];
	if (!l) {
		w->langs = xrealloc(w->langs,
				    (w->nlangs + 1) * sizeof(*w->langs));
		l = &w->langs[w->nlangs++];
		memset(l, 0, sizeof(*l));
		l->lang = xstrdup(ch.sent);
		sbuf_init(&l->bodies, 0);
	}
	l->contacts++;
	/* members come body by body: a body is named once per language */
	if (l->last_body != d.body.id && !strstr(l->bodies.buf, who)) {
		sbuf_addf(&l->bodies, "%s%s", l->bodies.len ? ", " : "", who);
		l->last_body = d.body.id;
	}
	if (d.contact.language && !ch.exact)
		sbuf_addf(w->fallbacks, "%s\t%s\t%s\t%s\t%s\n",
			  plan_name(d.contact.email), who,
			  plan_name(d.contact.language), ch.sent,
			  via_names[ch.via]);
out:
	campaign_delivery_ctx_release(&d);
	return 0;
}

static int plan_lang_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plan_lang *)a)->lang,
		      ((const struct plan_lang *)b)->lang);
}

/* Fills plan->languages and plan->fallbacks from the list as it is now,
 * choosing as the sending will (in memory, the version loaded once);
 * left empty for a template without variants. plan->salutations too,
 * for the contacts whose variant uses contact.salutation. */
static int plan_languages(struct db *db, const struct conf *cfg,
			  const struct campaign_info *c,
			  struct campaign_plan *plan, struct error *err)
{
	struct plan_walk w = {db, cfg, c, NULL, NULL, 0, &plan->fallbacks,
			      &plan->salutations, NULL, err};
	bool greets = false;
	int rc = template_load(db, c->template_id, &w.t, err);

	sbuf_reset(&plan->languages);
	sbuf_reset(&plan->fallbacks);
	sbuf_reset(&plan->salutations);
	if (!rc) {
		w.greets = xcalloc(w.t->nvariants + 1, sizeof(*w.greets));
		for (size_t k = 0; k <= w.t->nvariants; k++)
			greets |= w.greets[k] = template_uses(
				k ? w.t->variants[k - 1] : w.t,
				"contact.salutation");
	}
	/* a template without variants sends everyone the one text: nothing
	 * to say about languages, and about greetings unless it greets */
	if (!rc && (w.t->nvariants || greets))
		rc = campaign_members_each(db, c->list_id, plan_member, &w, err);
	if (w.nlangs)
		qsort(w.langs, w.nlangs, sizeof(*w.langs), plan_lang_cmp);
	for (size_t i = 0; i < w.nlangs; i++) {
		sbuf_addf(&plan->languages, "%s\t%d\t%s\n", w.langs[i].lang,
			  w.langs[i].contacts, w.langs[i].bodies.buf);
		free(w.langs[i].lang);
		sbuf_release(&w.langs[i].bodies);
	}
	free(w.langs);
	free(w.greets);
	template_free(w.t);
	return rc;
}

int campaign_frozen_count(struct db *db, int64_t id, int64_t *n,
			  struct error *err)
{
	return count_of(db, A_FROZEN, id, n, err);
}

/* ---- freezing the recipient set ---- */

struct freezing {
	struct db *db;
	int64_t campaign_id, position, now;
	struct sha256 *hash;
	struct campaign_plan *plan;
	struct error *err;
};

static int freeze_member(const struct member *m, void *arg)
{
	struct freezing *f = arg;
	char *reason = campaign_skip_reason(m);
	const char *status = m->status != CONTACT_ACTIVE
				     ? registry_contact_status_name(m->status)
				     : reason ? "invalid" : "active";
	sqlite3_stmt *st;
	int rc = prepare(f->db, A_ADD_RECIPIENT, &st, f->err);

	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, f->campaign_id);
	sqlite3_bind_int64(st, 2, ++f->position);
	sqlite3_bind_int64(st, 3, m->contact_id);
	sqlite3_bind_int64(st, 4, m->body_id);
	db_bind_text(st, 5, m->email);
	db_bind_text(st, 6, status);
	db_bind_text(st, 7, reason);
	rc = db_step_done(f->db, st, f->err);
	if (rc)
		goto out;
	if (reason) {
		f->plan->skipped++;
	} else {
		char line[64];

		/* The set an approval binds: who, of which body, at which
		 * address, in list order. */
		snprintf(line, sizeof(line), "%lld\t%lld\t", (long long)m->contact_id,
			 (long long)m->body_id);
		sha256_update(f->hash, line, strlen(line));
		sha256_update(f->hash, m->email, strlen(m->email));
		sha256_update(f->hash, "\n", 1);
		f->plan->recipients++;
	}
out:
	free(reason);
	return rc;
}

/* Why a body is not reached, from its contacts' tally; NULL: reached. */
static const char *unreached_reason(int64_t total, int64_t sendable,
				    int64_t suppressed, int64_t bouncing,
				    int64_t disabled)
{
	if (total == 0)
		return "no contact";
	if (sendable > 0)
		return NULL;
	if (suppressed == total)
		return "all suppressed";
	if (bouncing == total)
		return "all bouncing";
	if (disabled == total)
		return "all disabled";
	return "none sendable";
}

/* A body's name for a warning line: its acronym or name, or #id when the
 * stored text holds a line break. */
static void add_warning(struct sbuf *out, int64_t id, const char *who,
			const char *reason)
{
	if (!who || utf8_has_control(who))
		sbuf_addf(out, "#%lld: %s\n", (long long)id, reason);
	else
		sbuf_addf(out, "%s: %s\n", who, reason);
}

static int freeze_body(const struct registry_body *b, void *arg)
{
	struct freezing *f = arg;
	int64_t t[5];
	const char *reason;
	sqlite3_stmt *st;
	int rc = prepare(f->db, A_BODY_TALLY, &st, f->err);

	if (rc)
		return rc;
	f->plan->bodies++;
	sqlite3_bind_int64(st, 1, f->campaign_id);
	sqlite3_bind_int64(st, 2, b->id);
	rc = db_step(f->db, st, f->err);
	if (rc != 1)
		return rc < 0 ? rc : error_set(f->err, ERR_SOFTWARE, "no tally");
	for (int i = 0; i < 5; i++)
		t[i] = sqlite3_column_int64(st, i);
	sqlite3_reset(st);
	reason = unreached_reason(t[0], t[1], t[2], t[3], t[4]);
	if (!reason)
		return 0;
	f->plan->unreached++;
	add_warning(&f->plan->warnings, b->id, b->acronym ? b->acronym : b->name,
		    reason);
	if ((rc = prepare(f->db, A_ADD_UNREACHED, &st, f->err)))
		return rc;
	sqlite3_bind_int64(st, 1, f->campaign_id);
	sqlite3_bind_int64(st, 2, b->id);
	db_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, f->now);
	return db_step_done(f->db, st, f->err);
}

/* Replaces the campaign's frozen set with the list as it is now; the
 * caller holds the transaction. */
static int freeze(struct db *db, const struct campaign_info *c,
		  struct campaign_plan *plan, struct error *err)
{
	struct freezing f = {db, c->id, 0, clock_now(), sha256_new(), plan, err};
	int rc = by_campaign(db, A_CLEAR_RECIPIENTS, c->id, err);

	plan->bodies = plan->recipients = plan->skipped = plan->unreached = 0;
	sbuf_reset(&plan->warnings);
	if (!rc)
		rc = by_campaign(db, A_CLEAR_UNREACHED, c->id, err);
	if (!rc)
		rc = campaign_members_each(db, c->list_id, freeze_member, &f, err);
	if (!rc)
		rc = list_each_body(db, c->list_id, freeze_body, &f, err);
	sha256_final_hex(f.hash, plan->recipients_sha256);
	sha256_free(f.hash);
	return rc;
}

/*
 * Removes approvals and the frozen set (the ledger keeps the record), and
 * takes back the deliveries the schedule queued (queue_withdraw_campaign:
 * a delivery.cancelled event each, with why); *withdrawn gets how many
 * would have been sent. The caller holds the transaction.
 */
static int clear_approval(struct db *db, int64_t id, const char *why,
			  int *withdrawn, struct error *err)
{
	int removed = 0, rc = by_campaign(db, A_CLEAR, id, err);

	*withdrawn = 0;
	if (!rc)
		rc = by_campaign(db, A_CLEAR_RECIPIENTS, id, err);
	if (!rc)
		rc = by_campaign(db, A_CLEAR_UNREACHED, id, err);
	if (!rc)
		rc = queue_withdraw_campaign(db, id, why, withdrawn, &removed,
					     err);
	return rc;
}

int campaign_plan_read(struct db *db, int64_t id, struct campaign_plan *plan,
		       struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, A_PLAN, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc != 1)
		return rc < 0 ? rc : error_set(err, ERR_SOFTWARE, "no plan");
	plan->recipients = sqlite3_column_int(st, 0);
	plan->skipped = sqlite3_column_int(st, 1);
	plan->bodies = sqlite3_column_int(st, 2);
	snprintf(plan->recipients_sha256, sizeof(plan->recipients_sha256), "%s",
		 db_column_text(st, 3) ? db_column_text(st, 3) : "");
	plan->approvals = sqlite3_column_int(st, 4);
	sqlite3_reset(st);
	plan->unreached = 0;
	sbuf_reset(&plan->warnings);
	if ((rc = prepare(db, A_UNREACHED, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = db_step(db, st, err)) == 1) {
		plan->unreached++;
		add_warning(&plan->warnings, sqlite3_column_int64(st, 0),
			    db_column_text(st, 1), db_column_text(st, 2));
	}
	return rc;
}

static int required_approvals(const struct conf *cfg);

struct recipients_walk {
	campaign_recipient_fn fn;
	void *arg;
};

static int recipient_row(sqlite3_stmt *st, void *arg)
{
	struct recipients_walk *w = arg;
	const char *skip = (const char *)sqlite3_column_text(st, 3);
	struct campaign_recipient r = {
		db_column_text(st, 0), db_column_text(st, 1),
		db_column_text(st, 2), skip,
	};

	return w->fn(&r, w->arg);
}

int campaign_recipients_each(struct db *db, int64_t id,
			     campaign_recipient_fn fn, void *arg,
			     struct error *err)
{
	struct recipients_walk w = {fn, arg};
	sqlite3_stmt *st;
	int rc = prepare(db, A_RECIPIENTS, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return db_each_row(db, st, recipient_row, &w, err);
}

int campaign_plan_preview(struct db *db, const struct conf *cfg, int64_t id,
			  struct campaign_plan *plan,
			  campaign_recipient_fn fn, void *arg,
			  struct error *err)
{
	struct campaign_info c;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	if ((rc = db_begin(db, err)))
		goto out;
	rc = freeze(db, &c, plan, err);
	if (!rc)
		rc = plan_languages(db, cfg, &c, plan, err);
	if (!rc && fn)
		rc = campaign_recipients_each(db, id, fn, arg, err);
	db_rollback(db); /* a preview: nothing stays */
	plan->required = required_approvals(cfg);
out:
	campaign_info_release(&c);
	return rc;
}

/* ---- approving ---- */

static int required_approvals(const struct conf *cfg)
{
	return cfg && cfg->campaign.approvals > 0 ? cfg->campaign.approvals : 1;
}

/*
 * Once the users table has an enabled account (the console is in use),
 * a sign-off, approval or rejection ("approve", "reject"), needs its
 * actor (db_actor: the console's logged-in person, the CLI's --as or OS
 * user) to be an enabled account whose role is approver or admin. Before
 * any account exists nothing changes: an office without the console
 * keeps signing off from the command line as it did.
 */
static int check_signoff_role(struct db *db, const struct campaign_info *c,
			      const char *verb, struct error *err)
{
	const char *actor = db_actor(db);
	struct user_info u = {0};
	struct error ignored = ERROR_INIT;
	const char *why = NULL;
	char what[64];
	bool any;
	int rc = user_any(db, &any, err);

	if (rc || !any)
		return rc;
	rc = actor ? user_find(db, actor, &u, &ignored) : ERR_NOTFOUND;
	if (rc && rc != ERR_NOTFOUND) {
		*err = ignored;
		return rc;
	}
	if (rc)
		why = "has no console account";
	else if (u.disabled)
		why = "is a disabled account";
	else if (!user_may(u.role, USER_APPROVE)) {
		snprintf(what, sizeof(what), "is %s %s",
			 u.role == USER_EDITOR ? "an" : "a",
			 user_role_name(u.role));
		why = what;
	}
	user_info_release(&u);
	if (!why)
		return 0;
	return error_set(err, ERR_NOPERM,
			 "campaign '%s': %s %s, and only an enabled approver "
			 "or admin account may %s it (chancery user)",
			 c->name, actor ? actor : "the system", why, verb);
}

/* Refuses an approver the rules exclude; 0 when they may approve. by_rule
 * is false for the approval scheduling makes where campaign.approvals is
 * 0 (no sign-off rule): scheduling is an editor's, not an approver's. */
static int check_approver(struct db *db, const struct conf *cfg,
			  const struct campaign_info *c, bool by_rule,
			  struct error *err)
{
	const char *actor = db_actor(db);
	sqlite3_stmt *st;
	int rc;

	if (by_rule && (rc = check_signoff_role(db, c, "approve", err)))
		return rc;
	if (cfg && cfg->campaign.four_eyes && actor) {
		const char *role = c->edited_by && !strcmp(c->edited_by, actor)
					   ? "last edited"
				   : c->created_by && !strcmp(c->created_by, actor)
					   ? "created"
					   : NULL;

		if (role)
			return error_set(err, ERR_NOPERM,
					 "campaign '%s': %s %s it and may not "
					 "approve it (campaign.four_eyes)",
					 c->name, actor, role);
	}
	if ((rc = prepare(db, A_BY_ACTOR, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, c->id);
	db_bind_text(st, 2, actor);
	rc = db_step(db, st, err);
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return error_set(err, ERR_NOPERM,
				 "campaign '%s' is already approved by %s: "
				 "another approval must come from someone else",
				 c->name, actor ? actor : "the system");
	return 0;
}

/* Clears earlier approvals when what they bound is not what this one
 * binds (a contact changed since); plan->voided_earlier says so. */
static int check_earlier(struct db *db, const struct campaign_info *c,
			 struct campaign_plan *plan, struct error *err)
{
	sqlite3_stmt *st;
	bool same;
	int rc = prepare(db, A_FIRST, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->id);
	rc = db_step(db, st, err);
	if (rc <= 0)
		return rc;
	same = !strcmp(db_column_text(st, 0), plan->recipients_sha256) &&
	       !strcmp(db_column_text(st, 1), c->template_sha256) &&
	       sqlite3_column_int64(st, 2) == c->send_at;
	sqlite3_reset(st);
	if (same)
		return 0;
	plan->voided_earlier = true;
	return by_campaign(db, A_CLEAR, c->id, err);
}

static int insert_approval(struct db *db, const struct campaign_info *c,
			   const struct campaign_plan *plan, struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, A_INSERT, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->id);
	db_bind_text(st, 2, db_actor(db));
	sqlite3_bind_int64(st, 3, clock_now());
	sqlite3_bind_int64(st, 4, c->template_id);
	db_bind_text(st, 5, c->template_sha256);
	sqlite3_bind_int64(st, 6, c->send_at);
	db_bind_text(st, 7, plan->recipients_sha256);
	sqlite3_bind_int(st, 8, plan->recipients);
	sqlite3_bind_int(st, 9, plan->unreached);
	return db_step_done(db, st, err);
}

/* campaign.approved: what exactly was approved, and whether it was
 * enough (from/to when the campaign became approved). */
static int approved_event(struct db *db, const struct campaign_info *c,
			  const struct campaign_plan *plan, bool reached,
			  struct error *err)
{
	struct ledger_entry e;
	char when[24];
	int rc;

	clock_format_utc(c->send_at, when, sizeof(when));
	ledger_entry_init(&e, LEDGER_CAMPAIGN_APPROVED, c->id, 0, 0, 0);
	ledger_entry_str(&e, "campaign", c->name);
	ledger_entry_str(&e, "template", c->template_name);
	ledger_entry_int(&e, "version", c->template_version);
	ledger_entry_str(&e, "sha256", c->template_sha256);
	ledger_entry_str(&e, "list", c->list_name);
	ledger_entry_str(&e, "send_at", when);
	ledger_entry_str(&e, "tz", c->tz);
	ledger_entry_int(&e, "recipients", plan->recipients);
	ledger_entry_str(&e, "recipients_sha256", plan->recipients_sha256);
	ledger_entry_int(&e, "unreached", plan->unreached);
	ledger_entry_int(&e, "approvals", plan->approvals);
	ledger_entry_int(&e, "required", plan->required);
	if (plan->by_schedule) /* no sign-off rule: scheduling approved it */
		ledger_entry_str(&e, "by", "schedule");
	if (plan->voided_earlier)
		ledger_entry_str(&e, "earlier_voided", "recipients changed");
	if (reached) {
		ledger_entry_str(&e, "from", "draft");
		ledger_entry_str(&e, "to", "approved");
	}
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

/* The approval itself, in the caller's transaction; c is a draft. */
static int approve_draft(struct db *db, const struct conf *cfg,
			 struct campaign_info *c, struct campaign_plan *plan,
			 struct error *err)
{
	int64_t n = 0;
	bool reached;
	int rc = freeze(db, c, plan, err);

	if (!rc)
		rc = plan_languages(db, cfg, c, plan, err);
	if (!rc)
		rc = check_earlier(db, c, plan, err);
	if (!rc)
		rc = insert_approval(db, c, plan, err);
	if (!rc)
		rc = count_of(db, A_COUNT, c->id, &n, err);
	if (rc)
		return rc;
	plan->approvals = (int)n;
	plan->required = required_approvals(cfg);
	plan->by_schedule = !cfg || cfg->campaign.approvals == 0;
	reached = plan->approvals >= plan->required;
	if (reached)
		rc = campaign_set_state(db, c, CAMPAIGN_APPROVED, err);
	if (!rc)
		rc = approved_event(db, c, plan, reached, err);
	if (!rc && reached)
		c->state = CAMPAIGN_APPROVED;
	return rc;
}

static int approve(struct db *db, const struct conf *cfg, int64_t id,
		   bool schedule, bool by_rule, struct campaign_plan *plan,
		   struct sbuf *problems, struct error *err)
{
	struct campaign_plan local;
	struct campaign_info c;
	int rc = campaign_get(db, id, &c, err);

	campaign_plan_init(&local);
	if (!plan)
		plan = &local;
	if (rc)
		goto done;
	if (c.state != CAMPAIGN_DRAFT) {
		rc = campaign_illegal(&c, "approve", "draft", err);
		goto out;
	}
	if ((rc = check_approver(db, cfg, &c, by_rule, err)) ||
	    (rc = campaign_check_all(db, cfg, &c, problems, err)) ||
	    (rc = db_begin(db, err)))
		goto out;
	rc = approve_draft(db, cfg, &c, plan, err);
	if (!rc && schedule && c.state == CAMPAIGN_APPROVED)
		rc = campaign_transition(db, &c, CAMPAIGN_SCHEDULED,
					 LEDGER_CAMPAIGN_SCHEDULED, err);
	if (!rc && c.state == CAMPAIGN_SCHEDULED)
		rc = campaign_queue_scheduled(db, cfg, &c, &plan->queued, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	campaign_info_release(&c);
done:
	campaign_plan_release(&local);
	return rc;
}

int campaign_approve(struct db *db, const struct conf *cfg, int64_t id,
		     bool schedule, struct campaign_plan *plan,
		     struct sbuf *problems, struct error *err)
{
	return approve(db, cfg, id, schedule, true, plan, problems, err);
}

int campaign_schedule_plan(struct db *db, const struct conf *cfg, int64_t id,
			   struct campaign_plan *plan, struct sbuf *problems,
			   struct error *err)
{
	struct campaign_info c;
	int64_t given = 0;
	int queued = 0, rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	if (c.state == CAMPAIGN_DRAFT) {
		int need = cfg ? cfg->campaign.approvals : 0;

		campaign_info_release(&c);
		if (need == 0)
			return approve(db, cfg, id, true, false, plan,
				       problems, err);
		if ((rc = campaign_get(db, id, &c, err)) ||
		    (rc = count_of(db, A_COUNT, id, &given, err)))
			goto out;
		if (given > 0)
			rc = error_set(err, ERR_DATA, "campaign '%s' needs %d "
				       "approvals, has %lld: chancery campaign "
				       "approve %s", c.name, need,
				       (long long)given, c.name);
		else
			rc = error_set(err, ERR_DATA, "campaign '%s' needs %d "
				       "approval%s: chancery campaign approve %s",
				       c.name, need, need == 1 ? "" : "s",
				       c.name);
		goto out;
	}
	if (c.state != CAMPAIGN_APPROVED) {
		rc = campaign_illegal(&c, "schedule", "draft or approved", err);
		goto out;
	}
	/* The deliveries are queued in the schedule's transaction, so the
	 * start at send_at only flips the state. */
	if ((rc = db_begin(db, err)))
		goto out;
	rc = campaign_transition(db, &c, CAMPAIGN_SCHEDULED,
				 LEDGER_CAMPAIGN_SCHEDULED, err);
	if (!rc)
		rc = campaign_queue_scheduled(db, cfg, &c, &queued, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc && plan)
		rc = campaign_plan_read(db, id, plan, err);
	if (!rc && plan)
		plan->queued = queued;
	if (!rc && plan)
		rc = plan_languages(db, cfg, &c, plan, err);
out:
	campaign_info_release(&c);
	return rc;
}

int campaign_approvals_each(struct db *db, int64_t id,
			    int (*fn)(const struct campaign_approval *a,
				      void *arg),
			    void *arg, struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, A_EACH, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = db_step(db, st, err)) == 1) {
		struct campaign_approval a = {
			db_column_text(st, 0), sqlite3_column_int64(st, 1),
			db_column_text(st, 2), db_column_text(st, 3),
			sqlite3_column_int(st, 4), sqlite3_column_int(st, 5)};

		if ((rc = fn(&a, arg)) != 0) {
			sqlite3_reset(st);
			return rc;
		}
	}
	return rc;
}

/* ---- voiding, rejecting ---- */

/* Whether c holds an approval or part of one. */
static int holds_approval(struct db *db, const struct campaign_info *c,
			  bool *yes, struct error *err)
{
	int64_t n = 0;
	int rc = count_of(db, A_COUNT, c->id, &n, err);

	*yes = (c->state != CAMPAIGN_DRAFT && c->state != CAMPAIGN_MISSED) ||
	       n > 0;
	return rc;
}

/*
 * Voids c's approval: back to draft, approvals and frozen set removed,
 * campaign.approval_void with the reason; the caller holds the
 * transaction.
 */
static int void_approval(struct db *db, struct campaign_info *c,
			 const char *reason, struct error *err)
{
	const char *from = campaign_state_name(c->state);
	struct ledger_entry e;
	char *why = xasprintf("approval voided: %s", reason);
	int withdrawn = 0, rc = clear_approval(db, c->id, why, &withdrawn, err);

	free(why);

	if (!rc && c->state != CAMPAIGN_DRAFT)
		rc = campaign_set_state(db, c, CAMPAIGN_DRAFT, err);
	if (rc)
		return rc;
	ledger_entry_init(&e, LEDGER_CAMPAIGN_APPROVAL_VOID, c->id, 0, 0, 0);
	ledger_entry_str(&e, "campaign", c->name);
	ledger_entry_str(&e, "reason", reason);
	ledger_entry_str(&e, "from", from);
	ledger_entry_str(&e, "to", "draft");
	if (withdrawn)
		ledger_entry_int(&e, "withdrawn", withdrawn);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	if (!rc)
		c->state = CAMPAIGN_DRAFT;
	return rc;
}

int campaign_reject(struct db *db, int64_t id, const char *reason,
		    struct error *err)
{
	struct campaign_info c;
	struct ledger_entry e;
	const char *from;
	char *why;
	int withdrawn = 0, rc;

	if (!reason || !*reason || utf8_has_control(reason))
		return error_set(err, ERR_USAGE, "a rejection needs a reason "
				 "on one line (--reason TEXT)");
	if ((rc = campaign_get(db, id, &c, err)))
		return rc;
	from = campaign_state_name(c.state);
	if (c.started_at || (c.state != CAMPAIGN_DRAFT &&
			     c.state != CAMPAIGN_APPROVED &&
			     c.state != CAMPAIGN_SCHEDULED &&
			     c.state != CAMPAIGN_PAUSED)) {
		rc = campaign_illegal(&c, "reject", "draft, approved, or "
				      "scheduled or paused before its start",
				      err);
		goto out;
	}
	/* rejecting is the other half of signing off: the same rule */
	if ((rc = check_signoff_role(db, &c, "reject", err)))
		goto out;
	if ((rc = db_begin(db, err)))
		goto out;
	why = xasprintf("campaign rejected: %s", reason);
	rc = clear_approval(db, c.id, why, &withdrawn, err);
	free(why);
	if (!rc && c.state != CAMPAIGN_DRAFT)
		rc = campaign_set_state(db, &c, CAMPAIGN_DRAFT, err);
	if (!rc) {
		ledger_entry_init(&e, LEDGER_CAMPAIGN_REJECTED, c.id, 0, 0, 0);
		ledger_entry_str(&e, "campaign", c.name);
		ledger_entry_str(&e, "reason", reason);
		ledger_entry_str(&e, "from", from);
		ledger_entry_str(&e, "to", "draft");
		if (withdrawn)
			ledger_entry_int(&e, "withdrawn", withdrawn);
		rc = ledger_entry_append(db, &e, NULL, err);
		ledger_entry_release(&e);
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	campaign_info_release(&c);
	return rc;
}

int campaign_list_changed(struct db *db, int64_t list_id, struct sbuf *voided,
			  struct error *err)
{
	struct list_info l = {0};
	int64_t *ids = NULL;
	size_t n = 0, alloc = 0;
	sqlite3_stmt *st;
	char *reason = NULL;
	int rc = list_get(db, list_id, &l, err);

	if (!rc)
		rc = prepare(db, A_HOLDING, &st, err);
	if (rc)
		goto out;
	while ((rc = db_step(db, st, err)) == 1) {
		xgrow(&ids, sizeof(*ids), n + 1, &alloc);
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	if (rc)
		goto out;
	reason = xasprintf("list '%s' changed", l.name);
	for (size_t i = 0; !rc && i < n; i++) {
		struct campaign_info c;
		bool reaches = false;

		if ((rc = campaign_get(db, ids[i], &c, err)))
			break;
		rc = list_reaches(db, c.list_id, list_id, &reaches, err);
		if (!rc && reaches)
			rc = void_approval(db, &c, reason, err);
		if (!rc && reaches && voided)
			sbuf_addf(voided, "approval of campaign '%s' voided: %s\n",
				  c.name, reason);
		campaign_info_release(&c);
	}
out:
	free(reason);
	free(ids);
	list_info_release(&l);
	return rc;
}

/* ---- editing ---- */

/* What an edit changes, resolved against the campaign as stored. */
struct edit_values {
	int64_t template_id;
	int template_version;
	char *template_name, *template_sha256;
	int64_t list_id;
	char *list_name;
	int64_t send_at;
	const char *tz, *sender, *event_date;
	bool receipt;
	const char *language;
};

static void changed_str(struct json *js, const char *key, const char *from,
			const char *to, int *n)
{
	if ((from == NULL) == (to == NULL) && (!from || !strcmp(from, to)))
		return;
	json_key(js, key);
	json_object_begin(js);
	json_kv_string(js, "from", from);
	json_kv_string(js, "to", to);
	json_object_end(js);
	(*n)++;
}

/* Writes {"field": {"from", "to"}} for each change into e; *n counts. */
static void edit_changes(struct ledger_entry *e, const struct campaign_info *c,
			 const struct edit_values *v, struct sbuf *fields,
			 int *n)
{
	char from[24], to[24];
	int before;

	json_key(&e->js, "changes");
	json_object_begin(&e->js);
	if (v->template_id != c->template_id) {
		char f[300], t[300];

		snprintf(f, sizeof(f), "%s v%d", c->template_name,
			 c->template_version);
		snprintf(t, sizeof(t), "%s v%d", v->template_name,
			 v->template_version);
		changed_str(&e->js, "template", f, t, n);
		changed_str(&e->js, "sha256", c->template_sha256,
			    v->template_sha256, n);
		sbuf_addstr(fields, "template, ");
	}
	before = *n;
	changed_str(&e->js, "list", c->list_name, v->list_name, n);
	if (*n > before)
		sbuf_addstr(fields, "list, ");
	clock_format_utc(c->send_at, from, sizeof(from));
	clock_format_utc(v->send_at, to, sizeof(to));
	before = *n;
	changed_str(&e->js, "send_at", from, to, n);
	changed_str(&e->js, "tz", c->tz, v->tz, n);
	if (*n > before)
		sbuf_addstr(fields, "send time, ");
	before = *n;
	changed_str(&e->js, "sender", c->sender, v->sender, n);
	if (*n > before)
		sbuf_addstr(fields, "sender, ");
	before = *n;
	changed_str(&e->js, "event_date", c->event_date, v->event_date, n);
	if (*n > before)
		sbuf_addstr(fields, "event date, ");
	before = *n;
	changed_str(&e->js, "receipt", c->receipt ? "requested" : "none",
		    v->receipt ? "requested" : "none", n);
	if (*n > before)
		sbuf_addstr(fields, "read receipt, ");
	before = *n;
	changed_str(&e->js, "language", c->language, v->language, n);
	if (*n > before)
		sbuf_addstr(fields, "language, ");
	json_object_end(&e->js);
	if (fields->len >= 2)
		sbuf_setlen(fields, fields->len - 2);
}

/* Resolves and checks the edit's values; nothing is written. */
static int edit_resolve(struct db *db, const struct campaign_info *c,
			const struct campaign_edit *e, struct edit_values *v,
			struct error *err)
{
	int y, m, d, rc = 0;

	*v = (struct edit_values){
		.template_id = c->template_id,
		.template_version = c->template_version,
		.template_name = xstrdup(c->template_name),
		.template_sha256 = xstrdup(c->template_sha256),
		.list_id = c->list_id, .list_name = xstrdup(c->list_name),
		.send_at = e->send_at ? e->send_at : c->send_at,
		.tz = e->tz ? e->tz : c->tz,
		.sender = e->sender ? (*e->sender ? e->sender : NULL) : c->sender,
		.event_date = e->event_date ? e->event_date : c->event_date,
		.receipt = e->receipt ? e->receipt > 0 : c->receipt,
		.language = e->language ? (*e->language ? e->language : NULL)
					: c->language,
	};
	if (e->template_name || e->template_version) {
		struct template_info t = {0};

		rc = template_find(db, e->template_name ? e->template_name
							: c->template_name,
				   e->template_version, &t, err);
		if (rc)
			return rc;
		v->template_id = t.id;
		v->template_version = t.version;
		free(v->template_name);
		free(v->template_sha256);
		v->template_name = xstrdup(t.name);
		v->template_sha256 = xstrdup(t.sha256);
		template_info_release(&t);
	}
	if (e->list_name) {
		struct list_info l = {0};

		if ((rc = list_find(db, e->list_name, &l, err)))
			return rc;
		v->list_id = l.id;
		free(v->list_name);
		v->list_name = xstrdup(l.name);
		list_info_release(&l);
	}
	if (!clock_zone_valid(v->tz))
		return error_set(err, ERR_USAGE, "unknown time zone '%s'", v->tz);
	if (v->sender && address_check(v->sender, err) != 0)
		return error_prefix(err, "sender");
	if (e->event_date && anniversary_parse_date(e->event_date, &y, &m, &d))
		return error_set(err, ERR_USAGE, "bad event date '%s' "
				 "(YYYY-MM-DD)", e->event_date);
	return v->language ? campaign_language_check(v->language, err) : 0;
}

static void edit_values_release(struct edit_values *v)
{
	free(v->template_name);
	free(v->template_sha256);
	free(v->list_name);
}

static int edit_update(struct db *db, const struct campaign_info *c,
		       const struct edit_values *v, struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, A_EDIT, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->id);
	db_bind_text(st, 2, campaign_state_name(c->state));
	sqlite3_bind_int64(st, 3, v->template_id);
	sqlite3_bind_int64(st, 4, v->list_id);
	sqlite3_bind_int64(st, 5, v->send_at);
	db_bind_text(st, 6, v->tz);
	db_bind_text(st, 7, v->sender);
	db_bind_text(st, 8, v->event_date);
	db_bind_text(st, 9, db_actor(db));
	sqlite3_bind_int64(st, 10, clock_now());
	sqlite3_bind_int(st, 11, v->receipt);
	db_bind_text(st, 12, v->language);
	if ((rc = db_step_done(db, st, err)))
		return rc;
	if (db_changes(db) != 1)
		return error_set(err, ERR_TEMPFAIL, "campaign '%s' changed "
				 "state meanwhile; try again", c->name);
	return 0;
}

int campaign_send_time_check(const char *zone, int64_t send_at, bool now,
			     struct error *err)
{
	char local[CALENDAR_FORMAT_SIZE];

	if (send_at >= clock_now() || now)
		return 0;
	calendar_format(zone, send_at, local, sizeof(local));
	return error_set(err, ERR_DATA, "send time %s has passed; use --now to "
			 "send at once", local);
}

int campaign_edit(struct db *db, int64_t id, const struct campaign_edit *e,
		  struct sbuf *voided, struct error *err)
{
	struct campaign_info c;
	struct edit_values v = {0};
	struct sbuf fields = SBUF_INIT;
	struct ledger_entry ev;
	bool holds = false, only_time;
	char *reason = NULL;
	int n = 0, rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	only_time = !e->template_name && !e->template_version &&
		    !e->list_name && !e->tz && !e->sender && !e->event_date &&
		    !e->receipt && !e->language;
	if (c.state == CAMPAIGN_PAUSED && (c.started_at || !only_time)) {
		rc = c.started_at
			     ? error_set(err, ERR_DATA, "campaign '%s' has "
					 "started: its send time cannot change",
					 c.name)
			     : error_set(err, ERR_DATA, "campaign '%s' is paused: "
					 "only its send time (--at) can change",
					 c.name);
		goto out;
	}
	if (c.state == CAMPAIGN_MISSED && !e->send_at) {
		/* its old time has passed: only a new one makes it sendable */
		rc = error_set(err, ERR_DATA, "campaign '%s' was missed: give "
			       "it a new send time (--at TIME, or --now)",
			       c.name);
		goto out;
	}
	if (c.state != CAMPAIGN_DRAFT && c.state != CAMPAIGN_APPROVED &&
	    c.state != CAMPAIGN_PAUSED && c.state != CAMPAIGN_MISSED) {
		rc = campaign_illegal(&c, "edit",
				      "draft, approved, missed or paused", err);
		goto out;
	}
	if ((rc = edit_resolve(db, &c, e, &v, err)))
		goto out;
	ledger_entry_init(&ev, LEDGER_CAMPAIGN_EDITED, c.id, 0, 0, 0);
	ledger_entry_str(&ev, "campaign", c.name);
	edit_changes(&ev, &c, &v, &fields, &n);
	if (n == 0) {
		rc = error_set(err, ERR_USAGE, "campaign '%s' already has these "
			       "values: nothing to change", c.name);
		goto release;
	}
	if ((rc = db_begin(db, err)))
		goto release;
	rc = holds_approval(db, &c, &holds, err);
	reason = xasprintf("edited: %s", fields.buf);
	if (!rc && holds)
		rc = void_approval(db, &c, reason, err);
	else if (!rc && c.state == CAMPAIGN_MISSED) { /* a draft once more */
		rc = campaign_set_state(db, &c, CAMPAIGN_DRAFT, err);
		if (!rc)
			c.state = CAMPAIGN_DRAFT;
	}
	if (!rc)
		rc = edit_update(db, &c, &v, err);
	if (!rc)
		rc = ledger_entry_append(db, &ev, NULL, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc && voided && holds)
		sbuf_addf(voided, "approval of campaign '%s' voided: %s\n",
			  c.name, reason);
release:
	ledger_entry_release(&ev);
out:
	free(reason);
	sbuf_release(&fields);
	edit_values_release(&v);
	campaign_info_release(&c);
	return rc;
}

/* ---- the start, measured ---- */

int campaign_first_delay(struct db *db, int64_t id, double *delay,
			 struct error *err)
{
	struct campaign_info c;
	sqlite3_stmt *st;
	int64_t first;
	int rc = campaign_get(db, id, &c, err);

	if (rc)
		return rc;
	if ((rc = prepare(db, A_FIRST_SENT, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc < 0)
		goto out;
	if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
		first = sqlite3_column_int64(st, 0);
	else if (rc == 1 && sqlite3_column_type(st, 1) != SQLITE_NULL)
		first = sqlite3_column_int64(st, 1);
	else
		first = -1;
	sqlite3_reset(st);
	rc = first < 0 ? 1 : 0;
	if (!rc)
		*delay = (double)(first - c.send_at);
out:
	campaign_info_release(&c);
	return rc;
}

int campaign_last_rejection(struct db *db, int64_t id, char **actor,
			    int64_t *at, char **reason, struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, A_REJECTED, &st, err);

	*actor = *reason = NULL;
	*at = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc != 1)
		return rc < 0 ? rc : 1;
	*actor = db_column_strdup(st, 0);
	*at = sqlite3_column_int64(st, 1);
	*reason = db_column_strdup(st, 2);
	sqlite3_reset(st);
	return 0;
}
