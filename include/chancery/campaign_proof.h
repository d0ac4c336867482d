/*
 * campaign_proof: what a person checks before a campaign goes out. Proofs
 * (the messages a campaign would send, as files a person can read) and
 * test sends (the real message for one body, marked as a test, sent to
 * one address through the configured transport). Both render with the
 * campaign's own template version and contexts, as the daemon does
 * (campaign_render.h); neither creates a delivery.
 */
#ifndef CHANCERY_CAMPAIGN_PROOF_H
#define CHANCERY_CAMPAIGN_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/transport.h"

/* What campaign_proof_write wrote. */
struct campaign_proof_summary {
	size_t proofs;     /* distinct renderings, one proof each */
	size_t addressees; /* active contacts of the list */
	size_t left_out;   /* contacts of the list that would not be sent to */
};

/*
 * Writes the proofs of campaign id into dir: for each distinct rendering
 * (the subject, text and HTML parts compared with each addressee's own
 * names and address taken out, so that a salutation does not make every
 * addressee a rendering of its own) the message its first addressee
 * would get, as NN-LABEL.txt (the text part), NN-LABEL.html (the HTML
 * part as a standalone page: a banner with the subject and the
 * attachments, and a Content-Security-Policy that lets it fetch nothing;
 * only when the template has an HTML part) and NN-LABEL.eml (the whole
 * message); and proofs.txt, the index saying which addressees each proof
 * stands for. dir is created (0700) when missing; the files are 0600.
 *
 * A dir that holds anything is refused (ERR_CANTCREAT) unless force,
 * when the proof files of an earlier run (NN-*.txt, .html, .eml and
 * proofs.txt) are removed first and nothing else is touched. A list with
 * no active contact is ERR_NOTFOUND; a rendering error is that error,
 * naming the addressee. The database is not changed.
 */
int campaign_proof_write(struct db *db, const struct conf *cfg, int64_t id,
			 const char *dir, bool force,
			 struct campaign_proof_summary *out,
			 struct error *err);

/* One proof as campaign_proof_write writes it, held in memory (the
 * console shows it): strings valid during the callback only. */
struct campaign_proof {
	size_t number;        /* 1, 2, ... */
	const char *label;    /* the file name stem, "01-OHCHR-en" */
	const char *members;  /* the index lines of the addressees it
				 stands for, one a line */
	size_t n;             /* how many */
	const char *lang;     /* the language sent (language.default for
				 the default variant) */
	const char *subject;
	const char *text;     /* the text part */
	const char *html;     /* the HTML proof page (as the .html file:
				 a CSP that fetches nothing), or NULL */
};
typedef int (*campaign_proof_fn)(const struct campaign_proof *p, void *arg);

/*
 * The same proofs as campaign_proof_write, handed to fn one by one
 * instead of written: the same grouping, rendering and errors (a list
 * with no active contact is ERR_NOTFOUND). A non-zero return from fn
 * stops the walk and is returned. out (may be NULL) gets the counts.
 * The database is not changed.
 */
int campaign_proof_each(struct db *db, const struct conf *cfg, int64_t id,
			campaign_proof_fn fn, void *arg,
			struct campaign_proof_summary *out, struct error *err);

/* What a test send did: the result is the relay's (or the outbox's). */
struct campaign_test_result {
	char message_id[256];       /* without <> */
	char body[256];             /* the body's acronym, else its name */
	char contact[256];          /* the contact rendered for */
	struct transport_result result;
};

/* The prefix a test's subject gets and the header that marks it. */
#define CAMPAIGN_TEST_SUBJECT_PREFIX "[TEST] "
#define CAMPAIGN_TEST_HEADER "X-Chancery-Test: yes"

/*
 * Sends the message the first active contact of body_key (acronym, name
 * or alias; NULL: the list's first active contact) would get, to the
 * address to instead, marked as a test: CAMPAIGN_TEST_SUBJECT_PREFIX
 * before its subject, CAMPAIGN_TEST_HEADER among its headers, its own
 * Message-ID (<campaign>.test.<random>@domain) and no delivery header or
 * ENVID, so no bounce can be taken for a delivery's. The To: header stays
 * the contact's: the message is the one that body would get.
 *
 * Appends campaign.tested (to, body, contact, message_id, result, code,
 * reply) once the transport answered, whatever it answered; creates no
 * delivery. Returns 0 when the message was accepted, ERR_TEMPFAIL (4xx,
 * relay unreachable) or ERR_UNAVAILABLE (5xx) with the reply otherwise.
 * An invalid address is ERR_USAGE before anything is rendered or sent.
 */
int campaign_proof_test_send(struct db *db, const struct conf *cfg,
			     int64_t id, const char *body_key, const char *to,
			     struct campaign_test_result *out,
			     struct error *err);

/*
 * Marks a composed message as a test in place: the subject prefix and
 * the test header after the Subject: field. ERR_DATA when msg has no
 * Subject: field in its header. For campaign_proof_test_send and its
 * unit test.
 */
struct sbuf;
int campaign_proof_mark_test(struct sbuf *msg, struct error *err);

#endif
