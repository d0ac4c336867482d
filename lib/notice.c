/*
 * Notifications of what the ledger records, to the addresses of
 * notify.to (see notice.h). One pass: the retries that are due, then the
 * new events after the cursor, each event in its own transaction with
 * its notify.sent/notify.failed rows and the cursor's move.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "chancery/address.h"
#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/ledger.h"
#include "chancery/log.h"
#include "chancery/mime.h"
#include "chancery/notice.h"
#include "chancery/sbuf.h"
#include "chancery/transport.h"
#include "chancery/xalloc.h"

/* Seconds before the second and the third attempt. */
static const int64_t retry_after[NOTICE_ATTEMPTS] = {60, 300, 0};

enum {
	ST_CURSOR_GET,
	ST_CURSOR_SET,
	ST_HEAD,
	ST_EVENTS,
	ST_EVENT,
	ST_RETRY_DUE,
	ST_RETRY_PUT,
	ST_RETRY_DEL,
	ST_CAMPAIGN,
	ST_UNREACHED,
	ST__COUNT
};

#define EVENT_COLUMNS \
	"SELECT id, ts, kind, campaign_id, actor, data, " \
	"json_extract(data, '$.reason'), json_extract(data, '$.due_in_days'), " \
	"json_extract(data, '$.by') FROM events "
#define NOTICE_KINDS \
	"('campaign.created', 'campaign.approved', 'campaign.rejected', " \
	"'campaign.approval_void', 'campaign.reminded', 'campaign.missed', " \
	"'campaign.done', 'relay.blocked', 'relay.down', 'relay.up')"

static const char *const sql[ST__COUNT] = {
	[ST_CURSOR_GET] = "SELECT event_id FROM notice_cursor WHERE id = 1",
	[ST_CURSOR_SET] = "UPDATE notice_cursor SET event_id = ?1 WHERE id = 1 "
			  "AND event_id < ?1",
	[ST_HEAD] = "SELECT coalesce(max(id), 0) FROM events",
	[ST_EVENTS] = EVENT_COLUMNS "WHERE id > ?1 AND id <= ?2 AND kind IN "
		      NOTICE_KINDS " ORDER BY id LIMIT ?3",
	[ST_EVENT] = EVENT_COLUMNS "WHERE id = ?1",
	[ST_RETRY_DUE] = "SELECT event_id, recipient, attempts FROM "
			 "notice_retries WHERE next_at <= ?1 "
			 "ORDER BY event_id, recipient LIMIT ?2",
	[ST_RETRY_PUT] = "INSERT OR REPLACE INTO notice_retries (event_id, "
			 "recipient, attempts, next_at) VALUES (?1, ?2, ?3, ?4)",
	[ST_RETRY_DEL] = "DELETE FROM notice_retries WHERE event_id = ?1 AND "
			 "recipient = ?2",
	[ST_CAMPAIGN] = "SELECT c.name, c.send_at, c.tz, c.state, t.name, "
			"t.version, l.name FROM campaigns c "
			"JOIN templates t ON t.id = c.template_id "
			"JOIN lists l ON l.id = c.list_id WHERE c.id = ?1",
	[ST_UNREACHED] = "SELECT count(*) FROM campaign_unreached "
			 "WHERE campaign_id = ?1",
};

static const struct db_statements notice_statements = {"notice", sql,
						       ST__COUNT};

/* A new draft asks for approval only where the office requires one. */
static bool approvals_required(const struct conf *cfg)
{
	return cfg->campaign.approvals > 0;
}

/* ---- what an event says ---- */

struct notice_event {
	int64_t id, ts, campaign_id;
	char *kind, *actor, *data, *reason;
	int64_t due_in_days; /* -1: none */
	char *by;            /* "schedule": an approval no one signed */
};

static void event_release(struct notice_event *e)
{
	free(e->kind);
	free(e->actor);
	free(e->data);
	free(e->reason);
	free(e->by);
	memset(e, 0, sizeof(*e));
}

static void event_read(sqlite3_stmt *st, struct notice_event *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->ts = sqlite3_column_int64(st, 1);
	e->kind = db_column_strdup(st, 2);
	e->campaign_id = sqlite3_column_int64(st, 3);
	e->actor = db_column_strdup(st, 4);
	e->data = db_column_strdup(st, 5);
	e->reason = db_column_strdup(st, 6);
	e->due_in_days = sqlite3_column_type(st, 7) == SQLITE_NULL
				 ? -1 : sqlite3_column_int64(st, 7);
	e->by = db_column_strdup(st, 8);
}

/* The campaign as a notification names it; owned strings. */
struct notice_campaign {
	char *name, *tz, *state, *template_name, *list_name;
	int64_t send_at;
	int template_version;
};

static void campaign_release(struct notice_campaign *c)
{
	free(c->name);
	free(c->tz);
	free(c->state);
	free(c->template_name);
	free(c->list_name);
	memset(c, 0, sizeof(*c));
}

/* Read here rather than through campaign_get: a notification names a
 * campaign in whatever state it is, including states added later. */
static int campaign_read(struct db *db, int64_t id, struct notice_campaign *c,
			 struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &notice_statements, ST_CAMPAIGN, &st, err);

	memset(c, 0, sizeof(*c));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no campaign #%lld",
				 (long long)id);
	c->name = db_column_strdup(st, 0);
	c->send_at = sqlite3_column_int64(st, 1);
	c->tz = db_column_strdup(st, 2);
	c->state = db_column_strdup(st, 3);
	c->template_name = db_column_strdup(st, 4);
	c->template_version = sqlite3_column_int(st, 5);
	c->list_name = db_column_strdup(st, 6);
	sqlite3_reset(st);
	return 0;
}

/* Appends s with every control character (CR, LF, tab ...) a space, at
 * most max bytes (cut at a character boundary): what reaches a header
 * or a line of the body from the data of an event. */
static void add_clean(struct sbuf *out, const char *s, size_t max)
{
	size_t n = 0;

	for (; s && *s; s++, n++) {
		unsigned char ch = (unsigned char)*s;

		if (n >= max && (ch & 0xc0) != 0x80) {
			sbuf_addstr(out, "...");
			return;
		}
		sbuf_addch(out, ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
}

static int64_t count_state(const struct campaign_counts *n, const char *s)
{
	for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++)
		if (strcmp(campaign_delivery_states[i], s) == 0)
			return n->by_state[i];
	return 0;
}

/* The summary lines of a finished campaign; the subject's counts too. */
static int done_summary(struct db *db, const struct notice_event *e,
			struct sbuf *subject, struct sbuf *body,
			struct error *err)
{
	struct campaign_counts n;
	struct ledger_anchor a;
	struct error why = ERROR_INIT;
	sqlite3_stmt *st;
	int64_t sent, failed, bounced, skipped, unreached = 0;
	int rc = campaign_counts(db, e->campaign_id, &n, err);

	if (!rc)
		rc = db_prepare(db, &notice_statements, ST_UNREACHED, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, e->campaign_id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc > 0)
		unreached = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sent = count_state(&n, "sent") + count_state(&n, "delivered");
	failed = count_state(&n, "failed") + count_state(&n, "expired");
	bounced = count_state(&n, "bounced");
	skipped = count_state(&n, "skipped");
	sbuf_addf(subject, ": %lld sent, %lld failed, %lld bounced",
		  (long long)sent, (long long)failed, (long long)bounced);
	sbuf_addf(body, "Sent:        %lld\nFailed:      %lld\n"
			"Bounced:     %lld\nSkipped:     %lld\n"
			"Not reached: %lld\n",
		  (long long)sent, (long long)failed, (long long)bounced,
		  (long long)skipped, (long long)unreached);
	if (ledger_anchor(db, &a, &why) == 0)
		sbuf_addf(body, "\nAudit anchor: row %lld %s\n(the ledger's "
				"head: record it elsewhere; 'chancery audit "
				"verify --anchor' proves no row up to it was "
				"rewritten)\n",
			  (long long)a.id, a.hash);
	else
		sbuf_addf(body, "\nAudit anchor: none: %s\n", why.msg);
	return 0;
}

/*
 * relay.down and relay.up (relay.h): about the relay, not a campaign.
 * A relay.down notice goes out through the relay that is down, so it
 * usually fails (notify.failed, retried on notice's schedule); the
 * relay.up notice then tells of the outage (its reason) once it works.
 */
static void relay_text(const struct conf *cfg, const struct notice_event *e,
		       struct sbuf *subject, struct sbuf *body)
{
	char at[CALENDAR_FORMAT_SIZE], relay[300];
	bool down = !strcmp(e->kind, "relay.down");

	calendar_format(cfg->timezone, e->ts, at, sizeof(at));
	if (cfg->transport == TRANSPORT_SMTP)
		snprintf(relay, sizeof(relay), "%s:%d", cfg->smtp.host,
			 cfg->smtp.port);
	else
		snprintf(relay, sizeof(relay), "(maildir outbox)");
	sbuf_addf(subject, "[chancery] relay %s %s", relay,
		  down ? "is down: sending stopped" : "works again");
	if (down)
		sbuf_addf(body, "The relay %s refused or could not be reached "
				"on %s, before any message\n(authentication, "
				"TLS, connection or its banner): sending has "
				"stopped.\nDeliveries wait without spending "
				"attempts or lifetime; chanceryd tries the\n"
				"relay again with a growing delay and resumes "
				"by itself once it works.\n'chancery relay "
				"test' shows each step; 'chancery status' the "
				"state.\n", relay, at);
	else
		sbuf_addf(body, "The relay %s works again since %s: sending "
				"has resumed, and\nthe waiting deliveries got "
				"back the lifetime the outage took.\n", relay,
			  at);
	if (e->reason && *e->reason) {
		sbuf_addstr(body, down ? "Reason: " : "The outage's last "
						       "error: ");
		add_clean(body, e->reason, 2000);
		sbuf_addch(body, '\n');
	}
	sbuf_addf(body, "\n-- \nchancery, about ledger event #%lld (%s)\n",
		  (long long)e->id, e->kind);
}

/*
 * The subject and body of the notification of e, or 1 when e calls for
 * none: a campaign.created that needs no approval, or the approval that
 * `campaign schedule` records where the office requires none (no one
 * signed anything off; the finished summary still comes).
 */
static int notice_text(struct db *db, const struct conf *cfg,
		       const struct notice_event *e, struct sbuf *subject,
		       struct sbuf *body, struct error *err)
{
	struct notice_campaign c;
	char when[CALENDAR_FORMAT_SIZE], at[CALENDAR_FORMAT_SIZE];
	const char *who = e->actor && *e->actor ? e->actor : "(no one named)";
	int rc;

	if (!strcmp(e->kind, "relay.down") || !strcmp(e->kind, "relay.up")) {
		relay_text(cfg, e, subject, body);
		return 0;
	}
	if (!strcmp(e->kind, "campaign.created") && !approvals_required(cfg))
		return 1;
	if (!strcmp(e->kind, "campaign.approved") && e->by &&
	    !strcmp(e->by, "schedule"))
		return 1;
	if (!strcmp(e->kind, "relay.blocked")) {
		/* relay trouble: no campaign; the reason names the domain */
		calendar_format("UTC", e->ts, at, sizeof(at));
		sbuf_addstr(subject, "[chancery] relay trouble: mail blocked "
				     "by a recipient domain");
		sbuf_addf(body, "On %s chancery read repeated policy "
				"refusals from one recipient domain.\n", at);
		add_clean(body, e->reason ? e->reason : "", 2000);
		sbuf_addf(body, "\n\nSee 'chancery inbox list --kind report'."
				"\n\n-- \nchancery, about ledger event #%lld "
				"(%s)\n", (long long)e->id, e->kind);
		return 0;
	}
	if ((rc = campaign_read(db, e->campaign_id, &c, err)))
		return rc;
	calendar_format(c.tz, c.send_at, when, sizeof(when));
	calendar_format(c.tz, e->ts, at, sizeof(at));
	sbuf_addstr(subject, "[chancery] campaign ");
	add_clean(subject, c.name, 120);
	if (!strcmp(e->kind, "campaign.created")) {
		sbuf_addstr(subject, ": approval requested");
		sbuf_addf(body, "Campaign %s was created on %s by ", c.name, at);
		add_clean(body, who, 200);
		sbuf_addf(body, "\nand needs approval before it can go out:\n"
				"    chancery campaign approve %s\n", c.name);
	} else if (!strcmp(e->kind, "campaign.approved")) {
		sbuf_addstr(subject, " approved by ");
		add_clean(subject, who, 120);
		sbuf_addf(body, "Campaign %s was approved on %s by ", c.name,
			  at);
		add_clean(body, who, 200);
		sbuf_addstr(body, ".\n");
	} else if (!strcmp(e->kind, "campaign.rejected")) {
		sbuf_addstr(subject, " rejected by ");
		add_clean(subject, who, 120);
		sbuf_addf(body, "Campaign %s was rejected on %s by ", c.name,
			  at);
		add_clean(body, who, 200);
		sbuf_addstr(body, ".\n");
	} else if (!strcmp(e->kind, "campaign.approval_void")) {
		sbuf_addstr(subject, ": approval void");
		sbuf_addf(body, "The approval of campaign %s became void on %s "
				"(change by ", c.name, at);
		add_clean(body, who, 200);
		sbuf_addstr(body, "). It must be approved again before it can "
				  "go out.\n");
	} else if (!strcmp(e->kind, "campaign.reminded")) {
		int64_t d = e->due_in_days;

		sbuf_addf(subject, " is due in %lld day%s and is %s",
			  (long long)d, d == 1 ? "" : "s", c.state);
		sbuf_addf(body, "Campaign %s is due to go out on %s, in %lld "
				"day%s, and is still %s.\nIt will not go out "
				"unless it is approved and scheduled in time.\n",
			  c.name, when, (long long)d, d == 1 ? "" : "s",
			  c.state);
	} else if (!strcmp(e->kind, "campaign.missed")) {
		sbuf_addstr(subject, " missed its send time");
		sbuf_addf(body, "Campaign %s was due to go out on %s and was "
				"not sent: its send time passed before it was "
				"approved and scheduled.\n", c.name, when);
	} else {
		sbuf_addstr(subject, " finished");
		sbuf_addf(body, "Campaign %s finished on %s.\n\n", c.name, at);
		rc = done_summary(db, e, subject, body, err);
	}
	if (!rc && e->reason && *e->reason) {
		sbuf_addstr(body, "Reason: ");
		add_clean(body, e->reason, 2000);
		sbuf_addch(body, '\n');
	}
	if (!rc)
		sbuf_addf(body, "\nTemplate:  %s v%d\nList:      %s\n"
				"Send time: %s\nState now: %s\n\n-- \n"
				"chancery, about ledger event #%lld (%s)\n",
			  c.template_name, c.template_version, c.list_name,
			  when, c.state, (long long)e->id, e->kind);
	campaign_release(&c);
	return rc;
}

/* RFC 5322 date of t, in UTC. */
static void rfc5322_date(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* The whole message: headers, then the body as quoted-printable UTF-8.
 * The body's text may hold any UTF-8 (a campaign name); headers get no
 * control character (add_clean) and are encoded by mime. */
static void notice_message(const struct conf *cfg, int64_t event_id,
			   const char *to, const char *subject,
			   const char *body, int64_t now, struct sbuf *out)
{
	char *from = address_ascii(cfg->sender.address);
	char *rcpt = address_ascii(to);
	const char *domain = strrchr(cfg->sender.address, '@');
	unsigned long long r = 0;
	char date[64];

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned long long)now ^ (uintptr_t)&r;
	rfc5322_date(now, date, sizeof(date));
	mime_header_mailbox(out, "From", cfg->sender.name,
			    from ? from : cfg->sender.address);
	mime_header_mailbox(out, "To", NULL, rcpt ? rcpt : to);
	mime_header_text(out, "Subject", subject);
	sbuf_addf(out, "Date: %s\r\n", date);
	sbuf_addf(out, "Message-ID: <notice.%lld.%016llx@%s>\r\n",
		  (long long)event_id, r, domain ? domain + 1 : "localhost");
	sbuf_addstr(out, "Auto-Submitted: auto-generated\r\n"
			 "MIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mime_qp_encode(body, strlen(body), out);
	free(from);
	free(rcpt);
}

/* ---- sending and recording ---- */

/* One message of a pass: an event to one address. */
struct notice_job {
	int64_t event_id, campaign_id;
	const char *to;   /* the configuration's string */
	int attempt;      /* 1 for the first */
	struct sbuf subject, data;
	struct transport_message m;
};

static const char *outcome_name(enum transport_outcome o)
{
	return o == TRANSPORT_SENT ? "sent"
	       : o == TRANSPORT_TEMPFAIL ? "tempfail" : "permfail";
}

/* Records job's result: notify.sent or notify.failed, and its retry. */
static int record(struct db *db, const struct notice_job *j, int64_t now,
		  struct notice_stats *st, struct error *err)
{
	const struct transport_result *r = &j->m.result;
	bool sent = r->outcome == TRANSPORT_SENT;
	bool again = r->outcome == TRANSPORT_TEMPFAIL &&
		     j->attempt < NOTICE_ATTEMPTS;
	struct ledger_entry e;
	sqlite3_stmt *s;
	int rc;

	ledger_entry_init(&e, sent ? LEDGER_NOTIFY_SENT : LEDGER_NOTIFY_FAILED,
			  j->campaign_id, 0, 0, 0);
	ledger_entry_int(&e, "event", j->event_id);
	ledger_entry_str(&e, "to", j->to);
	ledger_entry_str(&e, "subject", j->subject.buf);
	ledger_entry_int(&e, "attempt", j->attempt);
	if (!sent) {
		ledger_entry_str(&e, "result", outcome_name(r->outcome));
		ledger_entry_int(&e, "code", r->code);
		ledger_entry_str(&e, "reason", r->text);
		ledger_entry_str(&e, "retry", again ? "later" : "no");
	} else {
		ledger_entry_str(&e, "reply", r->text);
	}
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	if (!rc)
		rc = db_prepare(db, &notice_statements,
				again ? ST_RETRY_PUT : ST_RETRY_DEL, &s, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, j->event_id);
	db_bind_text(s, 2, j->to);
	if (again) {
		sqlite3_bind_int(s, 3, j->attempt);
		sqlite3_bind_int64(s, 4, now + retry_after[j->attempt - 1]);
	}
	rc = db_step_done(db, s, err);
	if (rc)
		return rc;
	if (sent) {
		st->sent++;
		log_info("notice: event=%lld to=<%s> sent subject=\"%s\"",
			 (long long)j->event_id, j->to, j->subject.buf);
	} else {
		st->failed++;
		log_warn("notice: event=%lld to=<%s> attempt=%d result=%s "
			 "code=%d text=\"%s\"%s",
			 (long long)j->event_id, j->to, j->attempt,
			 outcome_name(r->outcome), r->code, r->text,
			 again ? " (tried again later)" : " (given up)");
	}
	return 0;
}

/* The pass's transport, made when the first message needs it: a pass
 * with nothing to send (most of them) opens no outbox and no relay. */
struct lazy_transport {
	const struct conf *cfg;
	struct transport *t;
};

/* Sends jobs[0..n) and records them with the cursor's move to cursor
 * (0: unchanged) in one transaction. */
static int send_and_record(struct db *db, struct lazy_transport *tr,
			   struct notice_job *jobs, size_t n, int64_t cursor,
			   int64_t now, struct notice_stats *st,
			   struct error *err)
{
	struct transport_message *m = xcalloc(n ? n : 1, sizeof(*m));
	sqlite3_stmt *s;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		m[i] = jobs[i].m;
	if (n && !tr->t && !(tr->t = transport_new(tr->cfg, err)))
		rc = err->code ? err->code : ERR_CONFIG;
	if (n && !rc)
		rc = transport_send(tr->t, m, n, err);
	for (size_t i = 0; !rc && i < n; i++)
		jobs[i].m.result = m[i].result;
	free(m);
	if (rc)
		return rc;
	if ((rc = db_begin(db, err)))
		return rc;
	for (size_t i = 0; !rc && i < n; i++)
		rc = record(db, &jobs[i], now, st, err);
	if (!rc && cursor) {
		rc = db_prepare(db, &notice_statements, ST_CURSOR_SET, &s, err);
		if (!rc) {
			sqlite3_bind_int64(s, 1, cursor);
			rc = db_step_done(db, s, err);
		}
	}
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

/* Fills job for event e to address to; 1 when e calls for no message. */
static int make_job(struct db *db, const struct conf *cfg,
		    const struct notice_event *e, const char *to, int attempt,
		    int64_t now, struct notice_job *j, struct error *err)
{
	struct sbuf body = SBUF_INIT;
	int rc;

	memset(j, 0, sizeof(*j));
	sbuf_init(&j->subject, 0);
	sbuf_init(&j->data, 0);
	j->event_id = e->id;
	j->campaign_id = e->campaign_id;
	j->to = to;
	j->attempt = attempt;
	rc = notice_text(db, cfg, e, &j->subject, &body, err);
	if (rc == 0) {
		notice_message(cfg, e->id, to, j->subject.buf, body.buf, now,
			       &j->data);
		j->m = (struct transport_message){
			.envelope_from = cfg->sender.address,
			.recipient = to,
			.data = j->data.buf,
			.size = j->data.len,
		};
	}
	sbuf_release(&body);
	return rc;
}

static void jobs_free(struct notice_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sbuf_release(&jobs[i].subject);
		sbuf_release(&jobs[i].data);
	}
	free(jobs);
}

/* The address of notify.to equal to addr (a retry's), or NULL when it
 * is no longer configured. */
static const char *configured(const struct conf *cfg, const char *addr)
{
	for (size_t i = 0; i < cfg->notify.nto; i++)
		if (strcmp(cfg->notify.to[i], addr) == 0)
			return cfg->notify.to[i];
	return NULL;
}

/* Announces one event to every address; the cursor moves past it. */
static int announce(struct db *db, const struct conf *cfg,
		    struct lazy_transport *tr, const struct notice_event *e,
		    int64_t now, struct notice_stats *st, struct error *err)
{
	struct notice_job *jobs = xcalloc(cfg->notify.nto, sizeof(*jobs));
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < cfg->notify.nto && !rc; i++) {
		rc = make_job(db, cfg, e, cfg->notify.to[i], 1, now, &jobs[n],
			      err);
		if (rc == 0)
			n++;
	}
	/* a job that was not made may hold its subject */
	if (n < cfg->notify.nto) {
		sbuf_release(&jobs[n].subject);
		sbuf_release(&jobs[n].data);
	}
	if (rc < 0 && rc != ERR_NOTFOUND) {
		jobs_free(jobs, n);
		return rc;
	}
	if (rc < 0) {
		/* this event cannot be told (its campaign gone?): say so,
		 * and go on with the next rather than stop here for ever */
		log_warn("notice: event=%lld %s: %s", (long long)e->id,
			 e->kind, err->msg);
		error_clear(err);
		rc = 0;
		jobs_free(jobs, n);
		jobs = NULL;
		n = 0;
	}
	rc = send_and_record(db, tr, jobs, n, e->id, now, st, err);
	if (!rc && n)
		st->events++;
	jobs_free(jobs, n);
	return rc;
}

/* One retry that is due: the event, its address and its attempt. */
struct retry {
	int64_t event_id;
	char *to;
	int attempts;
};

static int retry_row(sqlite3_stmt *st, void *arg)
{
	struct retry **v = arg;
	size_t n = 0;

	while ((*v)[n].to)
		n++;
	(*v)[n] = (struct retry){sqlite3_column_int64(st, 0),
				 db_column_strdup(st, 1),
				 sqlite3_column_int(st, 2)};
	return 0;
}

static int load_event(struct db *db, int64_t id, struct notice_event *e,
		      struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &notice_statements, ST_EVENT, &st, err);

	memset(e, 0, sizeof(*e));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc <= 0)
		return rc < 0 ? rc : error_set(err, ERR_NOTFOUND, "no event "
					       "#%lld", (long long)id);
	event_read(st, e);
	sqlite3_reset(st);
	return 0;
}

/* The retries due at now, each sent again (or dropped when its address
 * left the configuration). */
static int run_retries(struct db *db, const struct conf *cfg,
		       struct lazy_transport *tr, int64_t now,
		       struct notice_stats *st, struct error *err)
{
	struct retry *due = xcalloc(NOTICE_BATCH + 1, sizeof(*due));
	sqlite3_stmt *s;
	int rc = db_prepare(db, &notice_statements, ST_RETRY_DUE, &s, err);

	if (!rc) {
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int(s, 2, NOTICE_BATCH);
		rc = db_each_row(db, s, retry_row, &due, err);
	}
	for (size_t i = 0; !rc && due[i].to; i++) {
		const char *to = configured(cfg, due[i].to);
		struct notice_event e;
		struct notice_job *job = xcalloc(1, sizeof(*job));
		size_t n = 0;

		rc = load_event(db, due[i].event_id, &e, err);
		if (!rc && to) {
			rc = make_job(db, cfg, &e, to, due[i].attempts + 1, now,
				      job, err);
			n = rc == 0;
			rc = rc > 0 ? 0 : rc;
		}
		if (!rc && !n) {
			/* nothing to send any more: forget the retry */
			rc = db_prepare(db, &notice_statements, ST_RETRY_DEL,
					&s, err);
			if (!rc) {
				sqlite3_bind_int64(s, 1, due[i].event_id);
				db_bind_text(s, 2, due[i].to);
				rc = db_step_done(db, s, err);
			}
		} else if (!rc) {
			rc = send_and_record(db, tr, job, 1, 0, now, st, err);
		}
		jobs_free(job, 1); /* made or not: its buffers are safe to free */
		event_release(&e);
	}
	for (size_t i = 0; due[i].to; i++)
		free(due[i].to);
	free(due);
	return rc;
}

static int int_query(struct db *db, int index, int64_t *out,
		     struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &notice_statements, index, &st, err);

	if (rc)
		return rc;
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	*out = rc ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return 0;
}

static int set_cursor(struct db *db, int64_t to, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &notice_statements, ST_CURSOR_SET, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, to);
	return db_step_done(db, st, err);
}

static int event_row(sqlite3_stmt *st, void *arg)
{
	struct notice_event *v = arg;
	size_t n = 0;

	while (v[n].kind)
		n++;
	event_read(st, &v[n]);
	return 0;
}

int notice_run(struct db *db, const struct conf *cfg, int64_t now,
	       struct notice_stats *st_out, struct error *err)
{
	struct notice_stats st = {0, 0, 0};
	struct notice_event *events = NULL;
	struct lazy_transport tr = {cfg, NULL};
	int64_t cursor, head;
	sqlite3_stmt *s;
	size_t n = 0;
	int rc;

	if ((rc = int_query(db, ST_CURSOR_GET, &cursor, err)) ||
	    (rc = int_query(db, ST_HEAD, &head, err)))
		return rc;
	if (cfg->notify.nto == 0) {
		/* nobody to tell: keep up with the ledger, send nothing */
		return head > cursor ? set_cursor(db, head, err) : 0;
	}
	events = xcalloc(NOTICE_BATCH + 1, sizeof(*events));
	if (head > cursor) {
		rc = db_prepare(db, &notice_statements, ST_EVENTS, &s, err);
		if (!rc) {
			sqlite3_bind_int64(s, 1, cursor);
			sqlite3_bind_int64(s, 2, head);
			sqlite3_bind_int(s, 3, NOTICE_BATCH);
			rc = db_each_row(db, s, event_row, events, err);
		}
	}
	while (events[n].kind)
		n++;
	if (rc)
		goto out;
	/* Nothing of interest up to the head: move the cursor there, so
	 * that the next pass does not read the same rows again. */
	if (n == 0) {
		rc = head > cursor ? set_cursor(db, head, err) : 0;
		if (rc)
			goto out;
	}
	rc = run_retries(db, cfg, &tr, now, &st, err);
	for (size_t i = 0; !rc && i < n; i++)
		rc = announce(db, cfg, &tr, &events[i], now, &st, err);
	/* a full batch stops short of the head: the next pass goes on */
	if (!rc && n > 0 && n < NOTICE_BATCH)
		rc = set_cursor(db, head, err);
out:
	for (size_t i = 0; i < n; i++)
		event_release(&events[i]);
	free(events);
	transport_free(tr.t);
	if (st_out)
		*st_out = st;
	return rc;
}
