#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/bounce.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/log.h"
#include "chancery/queue.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/streak.h"
#include "chancery/xalloc.h"

#define ENVID_PREFIX "chancery-"

/* Reads a positive decimal number at *p, advancing it; 0 when none. */
static int64_t read_id(const char **p)
{
	int64_t id = 0;

	if (**p == '0')
		return 0;
	for (; isdigit((unsigned char)**p); (*p)++) {
		if (id > (INT64_MAX - 9) / 10)
			return 0;
		id = id * 10 + (**p - '0');
	}
	return id;
}

#define ENVID_TOKEN_LEN 16

/*
 * "chancery-<delivery>-<16 lower-case hex>" as chancery writes it (*token
 * true), or "chancery-<delivery>", the form without a token that earlier
 * versions wrote (*token false); 0 when neither.
 */
static int64_t envid_parse(const char *envid, bool *token)
{
	const char *p;
	int64_t id;
	size_t n = 0;

	*token = false;
	if (!envid || strncmp(envid, ENVID_PREFIX, strlen(ENVID_PREFIX)) != 0)
		return 0;
	p = envid + strlen(ENVID_PREFIX);
	id = read_id(&p);
	if (id && !*p)
		return id;
	if (!id || *p++ != '-')
		return 0;
	while (p[n] && strchr("0123456789abcdef", p[n]))
		n++;
	if (n != ENVID_TOKEN_LEN || p[n])
		return 0;
	*token = true;
	return id;
}

int64_t bounce_envid_delivery(const char *envid, bool *token)
{
	bool t;
	int64_t id = envid_parse(envid, &t);

	if (token)
		*token = t;
	return id;
}

/* ---- VERP ---------------------------------------------------------------- */

char *bounce_verp_address(const char *base, const char *envid)
{
	const char *at = base ? strrchr(base, '@') : NULL;

	if (!at || !envid || !*envid)
		return NULL;
	return xasprintf("%.*s+%s%s", (int)(at - base), base, envid, at);
}

char *bounce_verp_envid(const char *base, const char *addr)
{
	const char *at = base ? strrchr(base, '@') : NULL;
	const char *aat = addr ? strrchr(addr, '@') : NULL;
	size_t local;
	char *envid;
	bool token;

	if (!at || !aat)
		return NULL;
	local = (size_t)(at - base);
	if ((size_t)(aat - addr) <= local + 1 ||
	    strncasecmp(addr, base, local) != 0 || addr[local] != '+' ||
	    strcasecmp(aat, at) != 0)
		return NULL;
	envid = xstrndup(addr + local + 1, (size_t)(aat - addr) - local - 1);
	if (!envid_parse(envid, &token) || !token) {
		free(envid);
		return NULL;
	}
	return envid;
}

void bounce_params_init(struct bounce_params *p, const struct conf *cfg)
{
	memset(p, 0, sizeof(*p));
	p->threshold = cfg->bounce_threshold;
	p->count_mask = cfg->bounce.count_mask;
	p->blocked_threshold = cfg->bounce.blocked_threshold;
	p->blocked_window_ms = cfg->bounce.blocked_window_ms;
}

/*
 * The class of a failure: the parser's (bounce_classify), else what the
 * status code's subject says (RFC 3463), so that a report a parser left
 * unclassified is still not held against an address for a full mailbox
 * or a block.
 */
static enum bounce_class recipient_class(const struct bounce_recipient *rc)
{
	const char *s = rc->status;

	if (rc->klass != BOUNCE_CLASS_UNKNOWN)
		return rc->klass;
	if (rc->action == BOUNCE_DELAYED)
		return BOUNCE_CLASS_TEMPORARY;
	if (!s || !isdigit((unsigned char)s[0]) || s[1] != '.' ||
	    !isdigit((unsigned char)s[2]))
		return BOUNCE_CLASS_UNKNOWN;
	switch (s[2]) {
	case '1':
		return BOUNCE_CLASS_ADDRESS;
	case '2':
		return BOUNCE_CLASS_MAILBOX;
	case '4':
		return s[3] == '.' && s[4] == '7' && !isdigit((unsigned char)s[5])
			       ? BOUNCE_CLASS_EXPIRED
			       : BOUNCE_CLASS_UNKNOWN;
	case '6':
		return BOUNCE_CLASS_MESSAGE;
	case '7':
		return BOUNCE_CLASS_POLICY;
	default:
		return BOUNCE_CLASS_UNKNOWN;
	}
}

/* ---- processing -------------------------------------------------------- */

enum {
	ST_REPORT_SEEN,
	ST_REPORT_INSERT,
	ST_DELIVERY_BY_ID,
	ST_DELIVERY_BY_ENVID,
	ST_DELIVERY_BY_MESSAGE_ID,
	ST_DELIVERY_BY_RECIPIENT,
	ST_QUARANTINE_NEXT_ID,
	ST_QUARANTINE_INSERT,
	ST_QUARANTINE_GET,
	ST_QUARANTINE_CONFIRM,
	ST_QUARANTINE_LIST,
	ST_QUARANTINE_STATE,
	ST_QUARANTINE_DISMISS,
	ST_POLICY_COUNT,
	ST__COUNT
};

#define DELIVERY_COLUMNS \
	"SELECT d.id, d.campaign_id, d.contact_id, d.body_id, d.state, " \
	"d.email FROM deliveries d "

static const char *const bounce_sql[ST__COUNT] = {
	[ST_REPORT_SEEN] = "SELECT id FROM bounce_reports WHERE sha256 = ?1 "
			   "OR (?2 IS NOT NULL AND message_id = ?2) "
			   "ORDER BY id LIMIT 1",
	[ST_REPORT_INSERT] = "INSERT INTO bounce_reports (sha256, message_id, "
			     "format, envid, original_message_id, recipients, "
			     "received_at, inbound_id) "
			     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_DELIVERY_BY_ID] = DELIVERY_COLUMNS "WHERE d.id = ?1",
	[ST_DELIVERY_BY_ENVID] = DELIVERY_COLUMNS
		"WHERE d.envid = ?1 ORDER BY d.id DESC LIMIT 1",
	[ST_DELIVERY_BY_MESSAGE_ID] = DELIVERY_COLUMNS
		"WHERE d.message_id = ?1 ORDER BY d.id DESC LIMIT 1",
	[ST_DELIVERY_BY_RECIPIENT] = DELIVERY_COLUMNS
		"WHERE d.email = ?1 COLLATE NOCASE AND d.state = 'sent' "
		"ORDER BY d.sent_at DESC, d.id DESC LIMIT 1",
	/* The id the next row gets (the caller holds the write
	 * transaction), so that its reason can name it. */
	[ST_QUARANTINE_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 "
				  "FROM bounce_quarantine",
	[ST_QUARANTINE_INSERT] = "INSERT INTO bounce_quarantine (report_id, "
				 "delivery_id, recipient, action, status, "
				 "diagnostic, reason, created_at, id, class) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
				 "?10)",
	[ST_QUARANTINE_GET] = "SELECT q.report_id, q.delivery_id, q.recipient, "
			      "q.action, q.status, q.diagnostic, "
			      "q.confirmed_by, r.format, r.sha256, q.class, "
			      "q.dismissed_at, q.dismissed_by "
			      "FROM bounce_quarantine q "
			      "JOIN bounce_reports r ON r.id = q.report_id "
			      "WHERE q.id = ?1",
	[ST_QUARANTINE_CONFIRM] = "UPDATE bounce_quarantine SET "
				  "confirmed_at = ?2, confirmed_by = ?3 "
				  "WHERE id = ?1 AND confirmed_at IS NULL "
				  "AND dismissed_at IS NULL",
	[ST_QUARANTINE_LIST] = "SELECT q.id, q.report_id, q.created_at, "
			       "r.format, q.recipient, q.action, q.status, "
			       "r.envid, r.original_message_id, q.diagnostic, "
			       "q.reason, q.delivery_id, q.confirmed_at, "
			       "q.confirmed_by, q.class, q.dismissed_at, "
			       "q.dismissed_by, q.dismiss_reason "
			       "FROM bounce_quarantine q "
			       "JOIN bounce_reports r ON r.id = q.report_id "
			       "ORDER BY q.id",
	[ST_QUARANTINE_STATE] = "SELECT recipient, confirmed_at, confirmed_by, "
				"dismissed_at, dismissed_by, delivery_id "
				"FROM bounce_quarantine WHERE id = ?1",
	[ST_QUARANTINE_DISMISS] = "UPDATE bounce_quarantine SET "
				  "dismissed_at = ?2, dismissed_by = ?3, "
				  "dismiss_reason = ?4 WHERE id = ?1 "
				  "AND confirmed_at IS NULL "
				  "AND dismissed_at IS NULL",
	/* Distinct deliveries to domain ?1 that bounced for policy since ?2
	 * (the bounce sets updated_at); by deliveries_bounce_domain, whose
	 * expression this repeats. */
	[ST_POLICY_COUNT] = "SELECT count(*) FROM deliveries "
			    "WHERE lower(substr(email, instr(email, '@') + 1)) "
			    "= ?1 AND bounce_class = 'policy' "
			    "AND updated_at >= ?2 AND state = 'bounced'",
};

static const struct db_statements bounce_statements = {"bounce", bounce_sql,
						       ST__COUNT};

/* The delivery a recipient was matched to. */
struct match {
	int64_t id, campaign_id, contact_id, body_id;
	char state[16];
	char email[320];
	const char *by;   /* "envid", "message-id", "token-less envid",
			     "recipient", "hand" */
	bool trusted;     /* by an identifier only chancery and the mail's
			     path saw: it may change the delivery */
	const char *wrong_envid; /* a report's tokened ENVID that is no
				    delivery's, for the reason */
};

/* Runs a delivery lookup; 1 and *m filled when a row came back. */
static int lookup(struct db *db, int index, int64_t id, const char *text,
		  struct match *m, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, index, &st, err);

	if (rc)
		return rc;
	if (text)
		db_bind_text(st, 1, text);
	else
		sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc != 1)
		return rc;
	m->id = sqlite3_column_int64(st, 0);
	m->campaign_id = sqlite3_column_int64(st, 1);
	m->contact_id = sqlite3_column_int64(st, 2);
	m->body_id = sqlite3_column_int64(st, 3);
	snprintf(m->state, sizeof(m->state), "%s", db_column_text(st, 4));
	snprintf(m->email, sizeof(m->email), "%s", db_column_text(st, 5));
	sqlite3_reset(st);
	return 1;
}

/*
 * Matching in the order of trust. Only a report carrying the delivery's
 * whole ENVID with its random token (as Original-Envelope-Id or in the
 * returned X-Chancery-Delivery), or its whole original Message-ID, is
 * trusted: nobody but the relays on the way and the recipient saw those.
 * Anyone can write a report naming an address or "chancery-12", so the
 * delivery a token-less ENVID names, or the recipient's most recent one
 * awaiting news, is only a suspect (m->trusted false): the report is
 * quarantined for a person to confirm (bounce_confirm).
 */
static int match_delivery(struct db *db, const struct bounce_report *r,
			  const struct bounce_params *p,
			  const struct bounce_recipient *rc, struct match *m,
			  struct error *err)
{
	/* chancery's own identifiers first: the VERP envelope, the ENVID
	 * (as the parser read it, else anywhere in the text), then the
	 * Message-ID; only then what the report says of its recipient */
	const char *tokened[] = {p->verp_envid, r->envid, r->delivery_header,
				 p->text_envid};
	const char *tokened_by[] = {"verp", "envid", "envid", "envid"};
	const char *mids[] = {r->original_message_id, p->text_message_id};
	const char *envids[] = {r->envid, r->delivery_header};
	const char *addrs[] = {rc->original_recipient ? rc->original_recipient
						      : rc->final_recipient,
			       rc->original_recipient ? rc->final_recipient
						      : NULL};
	bool token;
	int found = 0;

	for (size_t i = 0; i < 4 && !found; i++) {
		if (!envid_parse(tokened[i], &token) || !token)
			continue;
		found = lookup(db, ST_DELIVERY_BY_ENVID, 0, tokened[i], m, err);
		if (found == 1)
			m->by = tokened_by[i];
		else if (!found && !m->wrong_envid)
			m->wrong_envid = tokened[i];
	}
	for (size_t i = 0; i < 2 && !found; i++)
		if (mids[i] && (found = lookup(db, ST_DELIVERY_BY_MESSAGE_ID, 0,
					       mids[i], m, err)) == 1)
			m->by = "message-id";
	m->trusted = found == 1;
	for (size_t i = 0; i < 2 && !found; i++) {
		int64_t id = envid_parse(envids[i], &token);

		if (id && !token &&
		    (found = lookup(db, ST_DELIVERY_BY_ID, id, NULL, m, err)) == 1)
			m->by = "token-less envid";
	}
	for (size_t i = 0; i < 2 && !found; i++)
		if (addrs[i] && (found = lookup(db, ST_DELIVERY_BY_RECIPIENT, 0,
						addrs[i], m, err)) == 1)
			m->by = "recipient";
	return found;
}

struct ctx {
	struct db *db;
	const struct bounce_report *r;
	int64_t report_id;
	const struct bounce_params *p;
	struct bounce_result *res;
	bounce_note_fn note;
	void *arg;
	const char *confirmed_by; /* bounce_confirm: who */
	int64_t quarantine_id;    /* bounce_confirm: which row */
};

/* The ledger's data for a report event, written into e. */
static void event_data(struct ledger_entry *e, const struct ctx *c,
		       const struct bounce_recipient *rc, const char *by,
		       const char *reason)
{
	const struct bounce_report *r = c->r;

	ledger_entry_str(e, "action", bounce_action_name(rc->action));
	ledger_entry_str(e, "recipient", rc->final_recipient);
	if (rc->original_recipient)
		ledger_entry_str(e, "original_recipient",
				 rc->original_recipient);
	ledger_entry_str(e, "status", rc->status);
	ledger_entry_str(e, "diagnostic", rc->diagnostic);
	if (rc->action == BOUNCE_FAILED || rc->action == BOUNCE_DELAYED)
		ledger_entry_str(e, "class",
				 bounce_class_name(recipient_class(rc)));
	ledger_entry_str(e, "format", bounce_format_name(r->format));
	ledger_entry_int(e, "report", c->report_id);
	ledger_entry_str(e, "report_sha256", r->sha256);
	if (by)
		ledger_entry_str(e, "matched_by", by);
	if (reason)
		ledger_entry_str(e, "reason", reason);
	if (c->confirmed_by) {
		ledger_entry_int(e, "quarantine", c->quarantine_id);
		ledger_entry_str(e, "confirmed_by", c->confirmed_by);
	}
}

/* What is written as the delivery's reason when it bounced. */
static char *bounce_reason(const struct bounce_recipient *rc)
{
	if (rc->diagnostic && rc->status && !strstr(rc->diagnostic, rc->status))
		return xasprintf("%s (status %s)", rc->diagnostic, rc->status);
	if (rc->diagnostic)
		return xstrdup(rc->diagnostic);
	return xasprintf("bounced: status %s", rc->status ? rc->status
							  : "not given");
}

static void note(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct ctx *c, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	if (!c->note)
		return;
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	c->note(sb.buf, c->arg);
	sbuf_release(&sb);
}

/*
 * A quarantine row and its bounce.quarantined event. m is the delivery
 * the recipient matched, or NULL; when it is only a suspect, the reason
 * says how to confirm it.
 */
static int quarantine(struct ctx *c, const struct bounce_recipient *rc,
		      const struct match *m, const char *why,
		      struct error *err)
{
	struct ledger_entry e;
	sqlite3_stmt *st;
	char *reason = NULL;
	int64_t qid = 0;
	int rc2 = db_prepare(c->db, &bounce_statements, ST_QUARANTINE_NEXT_ID,
			     &st, err);

	if (rc2)
		return rc2;
	rc2 = db_step(c->db, st, err);
	if (rc2 != 1)
		return rc2 ? rc2 : error_set(err, ERR_SOFTWARE, "no next "
					     "quarantine id");
	qid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	reason = m && !m->trusted
			 ? xasprintf("%s; confirm with 'chancery bounce "
				     "confirm %lld'", why, (long long)qid)
			 : xstrdup(why);
	rc2 = db_prepare(c->db, &bounce_statements, ST_QUARANTINE_INSERT, &st,
			 err);
	if (rc2)
		goto out;
	sqlite3_bind_int64(st, 1, c->report_id);
	db_bind_id(st, 2, m ? m->id : 0);
	db_bind_text(st, 3, rc->final_recipient);
	db_bind_text(st, 4, bounce_action_name(rc->action));
	db_bind_text(st, 5, rc->status);
	db_bind_text(st, 6, rc->diagnostic);
	db_bind_text(st, 7, reason);
	sqlite3_bind_int64(st, 8, clock_now());
	sqlite3_bind_int64(st, 9, qid);
	db_bind_text(st, 10, rc->action == BOUNCE_FAILED ||
				     rc->action == BOUNCE_DELAYED
			       ? bounce_class_name(recipient_class(rc))
			       : NULL);
	rc2 = db_step_done(c->db, st, err);
	if (rc2)
		goto out;
	ledger_entry_init(&e, LEDGER_BOUNCE_QUARANTINED, 0, m ? m->id : 0, 0,
			  0);
	event_data(&e, c, rc, m ? m->by : NULL, reason);
	rc2 = ledger_entry_append(c->db, &e, NULL, err);
	ledger_entry_release(&e);
	if (!rc2) {
		c->res->quarantined++;
		note(c, "quarantined #%lld: %s %s: %s",
		     (long long)qid,
		     bounce_action_name(rc->action),
		     rc->final_recipient ? rc->final_recipient : "(no recipient)",
		     reason);
	}
out:
	free(reason);
	return rc2;
}

/* Why a recipient matched only by what anyone could write is not applied
 * to the delivery it names. */
static char *suspect_reason(const struct match *m)
{
	const char *how = strcmp(m->by, "recipient") == 0
				  ? "matched by recipient only"
				  : "matched by a token-less ENVID only";

	if (m->wrong_envid)
		return xasprintf("%s: the report's ENVID %s is no delivery's "
				 "(wrong token), delivery %lld not changed",
				 how, m->wrong_envid, (long long)m->id);
	return xasprintf("%s: no chancery token in the report, delivery %lld "
			 "not changed",
			 how, (long long)m->id);
}

/* Why recipients no delivery matched are quarantined. */
static char *unmatched_reason(const struct bounce_report *r,
			      const struct bounce_recipient *rc)
{
	return xasprintf("no delivery matches (envid %s, message-id %s, "
			 "recipient %s)",
			 r->envid ? r->envid
				  : r->delivery_header ? r->delivery_header
						       : "none",
			 r->original_message_id ? r->original_message_id
						: "none",
			 rc->final_recipient ? rc->final_recipient : "none");
}

static int append_delivery_event(struct ctx *c, enum ledger_kind kind,
				 const struct bounce_recipient *rc,
				 const struct match *m, struct error *err)
{
	struct ledger_entry e;
	int rc2;

	ledger_entry_init(&e, kind, m->campaign_id, m->id, m->body_id,
			  m->contact_id);
	event_data(&e, c, rc, m->by, NULL);
	rc2 = ledger_entry_append(c->db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc2;
}

/* Moves the matched delivery as the report says, through the queue,
 * which owns delivery state; the event carries the report's evidence. */
static int report_to_queue(struct ctx *c, const struct bounce_recipient *rc,
			   const struct match *m, bool bounced,
			   const char *reason, struct error *err)
{
	struct queue_report qr = {
		.delivery_id = m->id, .campaign_id = m->campaign_id,
		.body_id = m->body_id, .contact_id = m->contact_id,
		.bounced = bounced, .reason = reason,
		.klass = bounced ? bounce_class_name(recipient_class(rc)) : NULL,
	};
	struct ledger_entry e;
	int ret;

	/* The queue writes the event; the entry only builds its data. */
	ledger_entry_init(&e, bounced ? LEDGER_DELIVERY_BOUNCED
				      : LEDGER_DELIVERY_DELIVERED,
			  m->campaign_id, m->id, m->body_id, m->contact_id);
	event_data(&e, c, rc, m->by, NULL);
	qr.data = ledger_entry_data(&e);
	ret = queue_apply_report(c->db, &qr, err);
	ledger_entry_release(&e);
	return ret;
}

/* The domain of an address, lower-cased (caller frees), or NULL. */
static char *domain_of(const char *email)
{
	const char *at = email ? strrchr(email, '@') : NULL;
	char *d;

	if (!at || !at[1])
		return NULL;
	d = xstrdup(at + 1);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/*
 * After a policy bounce of delivery m: when this bounce makes its domain
 * reach blocked_threshold distinct deliveries refused for policy within
 * the window, one relay.blocked event, for notice to send as relay
 * trouble. Raised on reaching the threshold, not above it: one event per
 * domain while the failures go on, another only after the window emptied
 * below it.
 */
static int check_blocked(struct ctx *c, const struct match *m,
			 struct error *err)
{
	struct ledger_entry e;
	sqlite3_stmt *st;
	int64_t since = clock_now() - c->p->blocked_window_ms / 1000;
	int64_t n = 0;
	char *domain = domain_of(m->email), *reason = NULL;
	int ret = 0;

	if (!domain || c->p->blocked_threshold < 1)
		goto out;
	ret = db_prepare(c->db, &bounce_statements, ST_POLICY_COUNT, &st, err);
	if (ret)
		goto out;
	db_bind_text(st, 1, domain);
	sqlite3_bind_int64(st, 2, since);
	ret = db_step(c->db, st, err);
	if (ret == 1) {
		n = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		ret = 0;
	}
	if (ret || n != c->p->blocked_threshold)
		goto out;
	reason = xasprintf("%lld deliveries to %s were refused for policy "
			   "(blocked, spam, authentication) within %lld "
			   "days: the office's mail is blocked there, not "
			   "the addressees' fault",
			   (long long)n, domain,
			   (long long)(c->p->blocked_window_ms / 86400000));
	ledger_entry_init(&e, LEDGER_RELAY_BLOCKED, 0, 0, 0, 0);
	ledger_entry_str(&e, "domain", domain);
	ledger_entry_int(&e, "deliveries", n);
	ledger_entry_int(&e, "last_delivery", m->id);
	ledger_entry_str(&e, "reason", reason);
	ret = ledger_entry_append(c->db, &e, NULL, err);
	ledger_entry_release(&e);
	if (!ret) {
		c->res->blocked++;
		note(c, "relay blocked by %s: %lld policy failures", domain,
		     (long long)n);
	}
out:
	free(domain);
	free(reason);
	return ret;
}

static int apply_failed(struct ctx *c, const struct bounce_recipient *rc,
			const struct match *m, struct error *err)
{
	char *reason = bounce_reason(rc);
	enum bounce_class k = recipient_class(rc);
	bool marked = false;
	int ret = report_to_queue(c, rc, m, true, reason, err);

	if (!ret) {
		c->res->bounced++;
		if (!c->res->klass)
			c->res->klass = bounce_class_name(k);
		note(c, "delivery %lld bounced (matched by %s): %s [class %s]",
		     (long long)m->id, m->by, reason, bounce_class_name(k));
		ret = streak_check(c->db, m->contact_id, c->p->threshold,
				   c->p->count_mask, &marked, err);
	}
	if (!ret && k == BOUNCE_CLASS_POLICY)
		ret = check_blocked(c, m, err);
	if (!ret && marked) {
		c->res->contacts_bouncing++;
		note(c, "contact %lld is now bouncing", (long long)m->contact_id);
	}
	free(reason);
	return ret;
}

static int apply_delivered(struct ctx *c, const struct bounce_recipient *rc,
			   const struct match *m, struct error *err)
{
	int ret = report_to_queue(c, rc, m, false, NULL, err);

	if (!ret) {
		c->res->delivered++;
		note(c, "delivery %lld delivered (matched by %s)",
		     (long long)m->id, m->by);
	}
	return ret;
}

static int apply_delayed(struct ctx *c, const struct bounce_recipient *rc,
			 const struct match *m, struct error *err)
{
	int ret = append_delivery_event(c, LEDGER_DELIVERY_DELAYED, rc, m, err);

	if (!ret) {
		c->res->delayed++;
		note(c, "delivery %lld delayed (matched by %s): %s",
		     (long long)m->id, m->by,
		     rc->diagnostic ? rc->diagnostic : "(no diagnostic)");
	}
	return ret;
}

static bool state_is(const struct match *m, const char *s)
{
	return strcmp(m->state, s) == 0;
}

/*
 * The changes of the state table of bounce.h: applies what the report
 * says when it fits the delivery's state, else sets *fits false and
 * changes nothing.
 */
static int apply_fitting(struct ctx *c, const struct bounce_recipient *rc,
			 const struct match *m, bool *fits, struct error *err)
{
	bool sent = state_is(m, "sent");

	*fits = true;
	if (rc->action == BOUNCE_FAILED &&
	    (sent || state_is(m, "delivered")))
		return apply_failed(c, rc, m, err);
	if (sent && (rc->action == BOUNCE_DELIVERED ||
		     rc->action == BOUNCE_EXPANDED))
		return apply_delivered(c, rc, m, err);
	if (sent && rc->action == BOUNCE_DELAYED)
		return apply_delayed(c, rc, m, err);
	*fits = false;
	return 0;
}

/* The state table of bounce.h, for one matched recipient. */
static int apply(struct ctx *c, const struct bounce_recipient *rc,
		 const struct match *m, struct error *err)
{
	bool fits;
	char *why;
	int ret = apply_fitting(c, rc, m, &fits, err);

	if (ret || fits)
		return ret;
	if (state_is(m, "sent") || state_is(m, "delivered") ||
	    state_is(m, "bounced")) {
		c->res->unchanged++;
		note(c, "delivery %lld unchanged: %s report, delivery is %s",
		     (long long)m->id, bounce_action_name(rc->action), m->state);
		return 0;
	}
	why = xasprintf("a %s report does not fit delivery %lld in state %s",
			bounce_action_name(rc->action), (long long)m->id,
			m->state);
	ret = quarantine(c, rc, m, why, err);
	free(why);
	return ret;
}

static int process_recipient(struct ctx *c, const struct bounce_recipient *rc,
			     struct error *err)
{
	struct match m = {0};
	char *why;
	int ret = match_delivery(c->db, c->r, c->p, rc, &m, err);

	if (ret < 0)
		return ret;
	if (ret == 1 && m.trusted && !c->res->delivery_id)
		c->res->delivery_id = m.id;
	if (ret == 1 && m.trusted)
		return apply(c, rc, &m, err);
	why = ret == 1 ? suspect_reason(&m) : unmatched_reason(c->r, rc);
	ret = quarantine(c, rc, ret == 1 ? &m : NULL, why, err);
	free(why);
	return ret;
}

/* The earlier record of this report (by hash or own Message-ID), or 0. */
static int find_report(struct db *db, const struct bounce_report *r,
		       int64_t *id, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, ST_REPORT_SEEN, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, r->sha256);
	db_bind_text(st, 2, r->message_id);
	*id = 0;
	rc = db_step(db, st, err);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

static int insert_report(struct db *db, const struct bounce_report *r,
			 int64_t inbound_id, int64_t *id, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, ST_REPORT_INSERT, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, r->sha256);
	db_bind_text(st, 2, r->message_id);
	db_bind_text(st, 3, bounce_format_name(r->format));
	db_bind_text(st, 4, r->envid ? r->envid : r->delivery_header);
	db_bind_text(st, 5, r->original_message_id);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->nrecipients);
	sqlite3_bind_int64(st, 7, clock_now());
	db_bind_id(st, 8, inbound_id);
	rc = db_step_done(db, st, err);
	*id = db_last_id(db);
	return rc;
}

int bounce_process(struct db *db, const struct bounce_report *r,
		   const struct bounce_params *p, struct bounce_result *res,
		   bounce_note_fn note_fn, void *arg, struct error *err)
{
	struct ctx c = {db, r, 0, p, res, note_fn, arg, NULL, 0};
	int rc;

	memset(res, 0, sizeof(*res));
	if (p->threshold < 1)
		return error_set(err, ERR_USAGE, "bounce threshold %d is below 1",
				 p->threshold);
	if (!p->inbound_id)
		return error_set(err, ERR_SOFTWARE, "a report is processed "
				 "from its inbound message");
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = find_report(db, r, &res->report_id, err);
	if (!rc && res->report_id) {
		res->duplicate = true;
		note(&c, "report already read as #%lld (sha256 %.12s): "
			 "nothing changed",
		     (long long)res->report_id, r->sha256);
		goto out;
	}
	if (!rc)
		rc = insert_report(db, r, p->inbound_id, &res->report_id, err);
	c.report_id = res->report_id;
	for (size_t i = 0; !rc && i < r->nrecipients; i++)
		rc = process_recipient(&c, &r->recipients[i], err);
out:
	if (rc) {
		db_rollback(db);
		memset(res, 0, sizeof(*res));
		return rc;
	}
	return db_commit(db, err);
}

/* ---- confirming by hand ----------------------------------------------- */

/* Reads quarantine row qid into the report, recipient and delivery id it
 * stands for, refusing a row that cannot be confirmed. */
static int quarantine_get(struct db *db, int64_t qid, struct bounce_report *r,
			  struct bounce_recipient *rc, int64_t *report_id,
			  int64_t *delivery_id, struct error *err)
{
	sqlite3_stmt *st;
	int ret = db_prepare(db, &bounce_statements, ST_QUARANTINE_GET, &st,
			     err);
	bool known;

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, qid);
	ret = db_step(db, st, err);
	if (ret == 0)
		return error_set(err, ERR_NOTFOUND, "no quarantined report #%lld",
				 (long long)qid);
	if (ret != 1)
		return ret;
	*report_id = sqlite3_column_int64(st, 0);
	*delivery_id = sqlite3_column_int64(st, 1);
	rc->final_recipient = db_column_strdup(st, 2);
	known = bounce_action_parse(db_column_text(st, 3), &rc->action) == 0 &&
		bounce_format_parse(db_column_text(st, 7), &r->format) == 0;
	rc->status = db_column_strdup(st, 4);
	rc->diagnostic = db_column_strdup(st, 5);
	if (sqlite3_column_type(st, 9) == SQLITE_NULL ||
	    bounce_class_parse(db_column_text(st, 9), &rc->klass) != 0)
		rc->klass = BOUNCE_CLASS_UNKNOWN;
	snprintf(r->sha256, sizeof(r->sha256), "%s", db_column_text(st, 8));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		ret = error_set(err, ERR_DATA, "quarantined report #%lld was "
				"already confirmed by %s", (long long)qid,
				db_column_text(st, 6));
	} else if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		char when[32];

		clock_format_utc(sqlite3_column_int64(st, 10), when,
				 sizeof(when));
		ret = error_set(err, ERR_DATA, "quarantined report #%lld was "
				"already dismissed by %s at %s",
				(long long)qid, db_column_text(st, 11), when);
	}
	else if (!*delivery_id)
		ret = error_set(err, ERR_DATA, "quarantined report #%lld "
				"matched no delivery: there is nothing to "
				"apply it to", (long long)qid);
	else if (!known)
		ret = error_set(err, ERR_SOFTWARE, "quarantined report #%lld "
				"has an unknown action or format",
				(long long)qid);
	else
		ret = 0;
	sqlite3_reset(st);
	return ret;
}

/* The state table of bounce.h for a confirmed recipient; what does not
 * fit the delivery now is refused rather than quarantined again. */
static int apply_confirmed(struct ctx *c, const struct bounce_recipient *rc,
			   const struct match *m, struct error *err)
{
	bool fits;
	int ret = apply_fitting(c, rc, m, &fits, err);

	if (ret || fits)
		return ret;
	return error_set(err, ERR_DATA,
			 "quarantined report #%lld: a %s report does not fit "
			 "delivery %lld in state %s; nothing changed",
			 (long long)c->quarantine_id,
			 bounce_action_name(rc->action), (long long)m->id,
			 m->state);
}

static int mark_confirmed(struct ctx *c, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(c->db, &bounce_statements, ST_QUARANTINE_CONFIRM,
			    &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->quarantine_id);
	sqlite3_bind_int64(st, 2, clock_now());
	db_bind_text(st, 3, c->confirmed_by);
	rc = db_step_done(c->db, st, err);
	if (!rc && db_changes(c->db) != 1)
		rc = error_set(err, ERR_SOFTWARE, "quarantined report #%lld "
			       "changed under the confirmation",
			       (long long)c->quarantine_id);
	return rc;
}

int bounce_confirm(struct db *db, int64_t quarantine_id, const char *actor,
		   const struct bounce_params *p, struct bounce_result *res,
		   bounce_note_fn note_fn, void *arg, struct error *err)
{
	struct bounce_report r = {0};
	struct bounce_recipient rcp = {0};
	struct ctx c = {db, &r, 0, p, res, note_fn, arg, actor,
			quarantine_id};
	int threshold = p->threshold;
	struct match m = {.by = "hand", .trusted = true};
	int64_t delivery_id = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if (threshold < 1)
		return error_set(err, ERR_USAGE, "bounce threshold %d is below 1",
				 threshold);
	if (!actor || !*actor)
		return error_set(err, ERR_USAGE, "a confirmation needs the name "
				 "of who confirms");
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = quarantine_get(db, quarantine_id, &r, &rcp, &c.report_id,
			    &delivery_id, err);
	if (!rc) {
		rc = lookup(db, ST_DELIVERY_BY_ID, delivery_id, NULL, &m, err);
		if (rc == 0)
			rc = error_set(err, ERR_SOFTWARE, "delivery %lld of "
				       "quarantined report #%lld is gone",
				       (long long)delivery_id,
				       (long long)quarantine_id);
		else if (rc == 1)
			rc = 0;
	}
	if (!rc)
		rc = apply_confirmed(&c, &rcp, &m, err);
	if (!rc)
		rc = mark_confirmed(&c, err);
	if (rc) {
		db_rollback(db);
		memset(res, 0, sizeof(*res));
	} else {
		res->report_id = c.report_id;
		rc = db_commit(db, err);
	}
	bounce_recipient_release(&rcp);
	return rc;
}

/* ---- dismissing by hand ----------------------------------------------- */

/* Why a dismissal reason is refused, or NULL when it is fine. */
static const char *dismiss_reason_problem(const char *reason)
{
	size_t len = reason ? strlen(reason) : 0;

	if (!len)
		return "a dismissal needs a reason (--reason TEXT)";
	if (len > BOUNCE_DISMISS_REASON_MAX)
		return "the dismissal reason is longer than 500 bytes";
	for (const unsigned char *p = (const unsigned char *)reason; *p; p++) {
		if (*p == '\n' || *p == '\r')
			return "the dismissal reason must be one line";
		if (*p < 0x20 || *p == 0x7f)
			return "the dismissal reason has a control character";
	}
	return NULL;
}

/* Refuses row qid unless it is open; its recipient (or NULL) into
 * *recipient, which the caller frees. */
static int dismiss_check(struct db *db, int64_t qid, char **recipient,
			 struct error *err)
{
	sqlite3_stmt *st;
	char when[32];
	int ret = db_prepare(db, &bounce_statements, ST_QUARANTINE_STATE, &st,
			     err);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, qid);
	ret = db_step(db, st, err);
	if (ret == 0)
		return error_set(err, ERR_NOTFOUND, "no quarantined report #%lld",
				 (long long)qid);
	if (ret != 1)
		return ret;
	ret = 0;
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		clock_format_utc(sqlite3_column_int64(st, 1), when,
				 sizeof(when));
		ret = error_set(err, ERR_DATA, "quarantined report #%lld was "
				"already confirmed by %s at %s",
				(long long)qid, db_column_text(st, 2), when);
	} else if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		clock_format_utc(sqlite3_column_int64(st, 3), when,
				 sizeof(when));
		ret = error_set(err, ERR_DATA, "quarantined report #%lld was "
				"already dismissed by %s at %s",
				(long long)qid, db_column_text(st, 4), when);
	} else if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*recipient = db_column_strdup(st, 0);
	}
	sqlite3_reset(st);
	return ret;
}

int bounce_dismiss(struct db *db, int64_t quarantine_id, const char *actor,
		   const char *reason, struct error *err)
{
	const char *why = dismiss_reason_problem(reason);
	struct ledger_entry e;
	char *recipient = NULL;
	sqlite3_stmt *st;
	int rc;

	if (why)
		return error_set(err, ERR_USAGE, "%s", why);
	if (!actor || !*actor)
		return error_set(err, ERR_USAGE, "a dismissal needs the name "
				 "of who dismisses");
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = dismiss_check(db, quarantine_id, &recipient, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &bounce_statements, ST_QUARANTINE_DISMISS, &st,
			err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, quarantine_id);
	sqlite3_bind_int64(st, 2, clock_now());
	db_bind_text(st, 3, actor);
	db_bind_text(st, 4, reason);
	rc = db_step_done(db, st, err);
	if (!rc && db_changes(db) != 1)
		rc = error_set(err, ERR_SOFTWARE, "quarantined report #%lld "
			       "changed under the dismissal",
			       (long long)quarantine_id);
	if (rc)
		goto out;
	ledger_entry_init(&e, LEDGER_BOUNCE_DISMISSED, 0, 0, 0, 0);
	ledger_entry_int(&e, "quarantine", quarantine_id);
	ledger_entry_str(&e, "recipient", recipient);
	ledger_entry_str(&e, "reason", reason);
	ledger_entry_str(&e, "dismissed_by", actor);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
out:
	free(recipient);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

/* ---- quarantine listing ------------------------------------------------ */

static const char *column_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? NULL
		       : (const char *)sqlite3_column_text(st, col);
}

/* bounce_quarantine_each's callback and its argument, for quarantine_row. */
struct quarantine_each {
	bounce_quarantine_fn fn;
	void *arg;
};

static int quarantine_row(sqlite3_stmt *st, void *arg)
{
	const struct quarantine_each *e = arg;
	struct bounce_quarantined q = {
		.id = sqlite3_column_int64(st, 0),
		.report_id = sqlite3_column_int64(st, 1),
		.created_at = sqlite3_column_int64(st, 2),
		.format = column_or_null(st, 3),
		.recipient = column_or_null(st, 4),
		.action = column_or_null(st, 5),
		.status = column_or_null(st, 6),
		.envid = column_or_null(st, 7),
		.original_message_id = column_or_null(st, 8),
		.diagnostic = column_or_null(st, 9),
		.reason = column_or_null(st, 10),
		.delivery_id = sqlite3_column_int64(st, 11),
		.confirmed_at = sqlite3_column_int64(st, 12),
		.confirmed_by = column_or_null(st, 13),
		.klass = column_or_null(st, 14),
		.dismissed_at = sqlite3_column_int64(st, 15),
		.dismissed_by = column_or_null(st, 16),
		.dismiss_reason = column_or_null(st, 17),
	};

	return e->fn(&q, e->arg);
}

int bounce_quarantine_each(struct db *db, bounce_quarantine_fn fn, void *arg,
			   struct error *err)
{
	struct quarantine_each e = {fn, arg};
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, ST_QUARANTINE_LIST, &st, err);

	if (rc)
		return rc;
	return db_each_row(db, st, quarantine_row, &e, err);
}
