/*
 * imap: reads the unread messages of one IMAP mailbox and hands each to
 * the caller (the inbox), flagging a message \Seen (and $Chancery, where
 * the server keeps keywords) only once the caller has taken it. Nothing
 * is ever deleted or expunged.
 *
 * The connection, TLS and the login are libcurl's (CONNECT_ONLY); the
 * commands after the login are ours, because curl fetches with BODY[],
 * which marks a message \Seen before it is stored anywhere: here every
 * fetch is BODY.PEEK[].
 *
 * TLS is always on and always verified: imaps:// (TLS from the first
 * byte) or imap:// with STARTTLS required; the server's certificate is
 * checked against ca_file or the system's trust store, and its name
 * against the URL's host. The password goes to libcurl only, never to a
 * message or a log line.
 *
 * No UID is remembered between polls: each asks the server for what is
 * unread, so a mailbox whose UIDVALIDITY changed needs nothing done, and
 * a message read twice is a duplicate by its SHA-256 (inbox.h).
 */
#ifndef CHANCERY_IMAP_H
#define CHANCERY_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/error.h"

/* A mailbox URL, taken apart (imap_url_parse). */
struct imap_url {
	bool implicit_tls;  /* imaps:// */
	char *host;
	int port;           /* 993 or 143 unless given */
	char *mailbox;      /* decoded; "INBOX" when the URL names none */
	char *base;         /* scheme://host:port/, what curl connects to */
};

/*
 * Checks and takes apart an imap:// or imaps:// URL. Refused: another
 * scheme, no host, a user or password in the URL (they belong in the
 * configuration and a 0600 file), a query, a fragment, URL parameters
 * (";UID=..."), and a mailbox name with a control character or outside
 * printable ASCII. ERR_CONFIG naming what was wrong.
 */
int imap_url_parse(const char *url, struct imap_url *u, struct error *err);
void imap_url_release(struct imap_url *u);

/* One message as fetched. */
struct imap_message {
	uint32_t uid;
	uint32_t uidvalidity;
	const char *origin;   /* "URL;UIDVALIDITY=v;UID=n" */
	const char *raw;
	size_t len;
};

struct imap_params {
	const char *url;
	const char *user;
	const char *password;  /* never logged */
	const char *ca_file;   /* NULL: the system's trust store */
	int64_t timeout_ms;    /* connecting, and any wait for the server */
	size_t max_size;       /* a larger message is left unread, an error */
	size_t max_messages;   /* at most this many per call; 0: all */
	/* Takes one message: 0 and it is flagged; ERR_DATA and it is left
	 * unread (named to skipped) while the others go on; any other error
	 * ends the call with it. */
	int (*take)(const struct imap_message *m, void *arg,
		    struct error *err);
	/* Told of a message left unread and why (may be NULL). */
	void (*skipped)(const char *origin, const struct error *why,
			void *arg);
	/* Polled while waiting: true ends the call with ERR_TEMPFAIL. */
	bool (*interrupted)(void *arg);
	void *arg;
};

struct imap_stats {
	size_t unread;   /* what the search found */
	size_t taken;    /* taken and flagged */
	size_t skipped;  /* left unread */
};

/*
 * Connects, logs in, selects the mailbox, and hands each unread message
 * to p->take in UID order. Errors, each one line naming the server:
 * ERR_CONFIG (bad URL, unusable ca_file, no user or password),
 * ERR_UNAVAILABLE (cannot connect, TLS refused or not verified, no
 * STARTTLS, timeout, connection lost), ERR_NOPERM (login refused),
 * ERR_NOINPUT (no such mailbox), ERR_PROTOCOL (an answer not understood);
 * messages already taken stay taken and flagged.
 */
int imap_fetch_unread(const struct imap_params *p, struct imap_stats *st,
		      struct error *err);

/* The parameters the configuration gives (inbox.imap_*); the callbacks
 * are left NULL. */
void imap_params_from_conf(struct imap_params *p, const struct conf *cfg);

/* inbox.imap_url checked (nothing else is: the rest is checked at load);
 * 0 when unset. For the daemon's start and reload. */
int imap_check_config(const struct conf *cfg, struct error *err);

/* --- the parsing the session does, exposed for the unit tests --- */

/* The size of the literal a response line ends with ("... {123}"), or -1. */
long long imap_literal_size(const char *line, size_t len);
/* The UIDs of "* SEARCH 3 7 9" (in order, sorted ascending); 0 or -1 when
 * the line is not a SEARCH response or a number is bad. *uids is freed
 * by the caller. */
int imap_parse_search(const char *line, uint32_t **uids, size_t *n);
/* The number in a response code "[NAME n]" of an untagged OK, or 0. */
uint32_t imap_response_code(const char *line, const char *name);

#endif
