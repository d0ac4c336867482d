/*
 * bounce: delivery reports that come back after the relay said 250.
 *
 * What a report says is read by bounce_report_parse (bounce_report.h).
 * Processing (bounce_process) matches every recipient of a report to a
 * delivery, chancery's own identifiers first, in this order: the ENVID
 * the VERP envelope recipient names (bounces+<ENVID>@domain, under
 * bounce.address), the ENVID chancery set ("chancery-<delivery id>-<16
 * random hex>", from the DSN's Original-Envelope-Id or the returned
 * X-Chancery-Delivery header) as the parser read it, else a tokened ENVID
 * found anywhere in the message's text, each compared whole, else the whole
 * original Message-ID (which has its own 16 random hex digits) as the
 * parser read it or as found in the text. A VERP match names the
 * delivery even when the report names no recipient or another one: the
 * envelope went to that delivery's own address. Only these change
 * anything: nobody outside the mail's path could know them. A
 * report that names a delivery only by a token-less ENVID
 * ("chancery-<id>", guessable: earlier versions wrote it) or only by the
 * recipient address (the most recent delivery to it still in state
 * `sent`) may be forged by anyone, so it is quarantined with that delivery
 * and the reason, and changes nothing until a person confirms it
 * (bounce_confirm). A trusted match is then applied in one transaction:
 *
 *   action     delivery state     becomes    ledger event
 *   failed     sent, delivered    bounced    delivery.bounced
 *   delivered  sent               delivered  delivery.delivered
 *   expanded   sent               delivered  delivery.delivered
 *   delayed    sent               sent       delivery.delayed
 *   relayed    sent               sent       none (the next hop sends no
 *                                            reports: nothing is known)
 *
 * A failure may overrule an earlier success report (a forwarding host
 * can accept, then fail), never the reverse. A report for a delivery
 * already past it (delivered or bounced) changes nothing: it is counted
 * as unchanged. A report for a delivery that never left (pending,
 * sending, deferred) or ended otherwise (failed, expired, cancelled,
 * skipped) does not fit what chancery knows, so it is quarantined with
 * the reason, like a report that matches no delivery: a quarantine row
 * plus a bounce.quarantined event. Nothing is ever dropped.
 *
 * Every failure is stored with its class (bounce_report.h: address,
 * mailbox, policy, message, expired, temporary, unknown): in
 * deliveries.bounce_class, bounce_quarantine.class and the event's data
 * ("class"). A contact whose deliveries in the last `threshold` campaigns
 * sent to it all failed permanently (refused by the relay with a 5xx, or
 * bounced for a class in bounce.count_classes: the address only, by
 * default) becomes `bouncing` through registry_contact_set_status, with
 * the campaigns and the last diagnostic as the reason. A bounce of any
 * other class is recorded and shown, and breaks no streak but fills none
 * either. The streak restarts after that, so a contact someone re-enables
 * needs `threshold` new failures before it is marked again.
 *
 * Policy failures (blocked, spam, authentication) say something about
 * the office's mail, not the addressee: when bounce.blocked_threshold
 * distinct deliveries to one recipient domain bounced for policy within
 * bounce.blocked_window (7 days by default), one relay.blocked event names
 * the domain (raised on reaching the threshold: one while the failures go
 * on, another only once the window fell below it), and notice.c sends it
 * to notify.to as relay trouble.
 *
 * Every report is recorded (its SHA-256 and its own Message-ID; its raw
 * bytes are in the inbound_messages row it was read from, inbox.h): the
 * same report a second time is recognised and changes nothing.
 */
#ifndef CHANCERY_BOUNCE_H
#define CHANCERY_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/bounce_report.h"
#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"

/* The delivery id an ENVID names: "chancery-12-<16 hex>" (as campaign
 * start and the queue set it) → 12 with *token true; "chancery-12" (the
 * form of earlier versions, guessable) → 12 with *token false; 0 for
 * anything else. token may be NULL. */
int64_t bounce_envid_delivery(const char *envid, bool *token);

/*
 * VERP: the envelope sender of the delivery with that ENVID under
 * bounce.address base ("bounces@office.example" and "chancery-12-<hex>"
 * → "bounces+chancery-12-<hex>@office.example"); NULL when base or envid
 * is NULL. Caller frees.
 */
char *bounce_verp_address(const char *base, const char *envid);

/*
 * The tokened ENVID a VERP address under base names (the local part and
 * domain compared without case, the ENVID whole), or NULL. Caller frees.
 */
char *bounce_verp_envid(const char *base, const char *addr);

/* What bounce_process and bounce_confirm need besides the report. */
struct bounce_params {
	int64_t inbound_id;          /* the inbound_messages row read */
	const char *verp_envid;      /* ENVID of the VERP envelope recipient */
	const char *text_envid;      /* a tokened ENVID found in the text */
	const char *text_message_id; /* a Message-ID of chancery's form found
					in the text, without <> */
	int threshold;               /* conf bounce.threshold */
	unsigned count_mask;         /* conf bounce.count_classes */
	int blocked_threshold;       /* conf bounce.blocked_threshold */
	int64_t blocked_window_ms;   /* conf bounce.blocked_window */
};
/* Zero identifiers and the bounce settings of cfg. */
void bounce_params_init(struct bounce_params *p, const struct conf *cfg);

/* What processing one report did; counts are of recipients. */
struct bounce_result {
	int64_t report_id;   /* the bounce_reports row (the earlier one when
				duplicate) */
	bool duplicate;      /* seen before: nothing changed */
	int bounced, delivered, delayed, unchanged, quarantined;
	int contacts_bouncing; /* contacts that became bouncing */
	int64_t delivery_id; /* the first delivery a trusted identifier
				named, or 0 */
	const char *klass;   /* the class of its first failure (static), or
				NULL */
	int blocked;         /* relay.blocked events raised */
};

/* One line per recipient, for the command's output (may be NULL). */
typedef void (*bounce_note_fn)(const char *line, void *arg);

/*
 * Records the report and applies it (see the table above), all in one
 * transaction (a savepoint in the caller's): on error nothing is
 * changed. p->inbound_id is the inbound_messages row holding the bytes
 * the report was parsed from (the evidence).
 */
int bounce_process(struct db *db, const struct bounce_report *r,
		   const struct bounce_params *p, struct bounce_result *res,
		   bounce_note_fn note, void *arg, struct error *err);

/*
 * Applies quarantine row quarantine_id to the delivery it matched, as a
 * person who checked the report decided (`chancery bounce confirm`): the
 * state table above, the contact streak, and a ledger event whose data
 * names the row ("quarantine") and actor ("confirmed_by"), in one
 * transaction. Refused with nothing changed (ERR_NOTFOUND, else
 * ERR_DATA) when the row does not exist, matched no delivery, was
 * already confirmed or dismissed, or its report no longer fits the
 * delivery's state.
 */
int bounce_confirm(struct db *db, int64_t quarantine_id, const char *actor,
		   const struct bounce_params *p, struct bounce_result *res,
		   bounce_note_fn note, void *arg, struct error *err);

/* The longest dismissal reason, in bytes. */
#define BOUNCE_DISMISS_REASON_MAX 500

/*
 * Sets quarantine row quarantine_id aside as checked by actor and not to
 * be applied (`chancery inbox dismiss`): records when, who and reason
 * (non-empty, one line, no control character, at most
 * BOUNCE_DISMISS_REASON_MAX bytes, else ERR_USAGE) and a
 * "bounce.dismissed" ledger event {quarantine, recipient, reason,
 * dismissed_by}, in one transaction. Nothing is deleted: the row and its
 * raw report stay. Refused with nothing changed when the row does not
 * exist (ERR_NOTFOUND) or was already confirmed or dismissed (ERR_DATA,
 * saying by whom and when). A dismissed row cannot be confirmed.
 */
int bounce_dismiss(struct db *db, int64_t quarantine_id, const char *actor,
		   const char *reason, struct error *err);

/* A quarantined report recipient, as `chancery bounce list` shows it. */
struct bounce_quarantined {
	int64_t id;
	int64_t report_id;
	int64_t created_at;
	const char *format;
	const char *recipient;  /* NULL when the report named none */
	const char *action;
	const char *status;
	const char *envid;
	const char *original_message_id;
	const char *diagnostic;
	const char *reason;
	const char *klass;        /* the failure's class, or NULL */
	int64_t delivery_id;      /* the delivery it matched, or 0 */
	int64_t confirmed_at;     /* 0 until confirmed */
	const char *confirmed_by; /* NULL until confirmed */
	int64_t dismissed_at;     /* 0 until dismissed */
	const char *dismissed_by; /* NULL until dismissed */
	const char *dismiss_reason; /* NULL until dismissed */
};
typedef int (*bounce_quarantine_fn)(const struct bounce_quarantined *q,
				    void *arg);
/* Calls fn for each quarantine row, oldest first; strings valid only
 * during the call. A non-zero return from fn stops and is returned. */
int bounce_quarantine_each(struct db *db, bounce_quarantine_fn fn, void *arg,
			   struct error *err);

#endif
