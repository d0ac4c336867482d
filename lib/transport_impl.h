/*
 * transport_impl: what the transport backends share, private to lib/.
 *
 * A backend fills in a struct transport_ops; transport.c picks the one the
 * configuration names. The reply helpers are here (not static) so that the
 * unit tests can check them directly.
 */
#ifndef CHANCERY_TRANSPORT_IMPL_H
#define CHANCERY_TRANSPORT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "chancery/transport.h"

struct transport_ops {
	const char *name;
	int (*send)(void *impl, struct transport_message *msgs, size_t n,
		    struct error *err);
	void (*free)(void *impl);
};

/* Backend constructors: 0 and *impl set, or a negative error. */
int transport_maildir_new(const struct conf *cfg, void **impl,
			  struct error *err);
int transport_smtp_new(const struct conf *cfg, void **impl,
		       struct error *err);
/* transport_probe for the smtp transport. */
int transport_smtp_probe(const struct conf *cfg, struct transport_message *msg,
			 transport_step_fn fn, void *arg,
			 struct transport_result *out, struct error *err);
/* The refusals transport_smtp_new would make, without making one. */
int transport_smtp_check(const struct conf *cfg, struct error *err);
extern const struct transport_ops transport_maildir_ops;
extern const struct transport_ops transport_smtp_ops;

/*
 * The smtp transport's per-session decisions, here for the unit tests.
 *
 * transport_smtp_server_for writes to out the "host:port" libESMTP is
 * given for a session that connected to sa: the numeric IPv4 address,
 * so that libESMTP connects there and does not resolve host again, and
 * returns true; or, when sa cannot be given to libESMTP (an IPv6 address:
 * libESMTP splits host and port at the first colon), host itself, and
 * returns false.
 *
 * transport_smtp_session_tls sets *out to the session's TLS mode
 * (REQUIRED, OPPORTUNISTIC or NONE) from the configured one and the
 * address connected to: auto is NONE only to a loopback address that is
 * pinned, else REQUIRED. Returns -1 when the session must not run: AUTH
 * (auth true) without required TLS to an address that is not a pinned
 * loopback one.
 */
bool transport_smtp_server_for(const struct sockaddr *sa, const char *host,
			       int port, char *out, size_t size);
int transport_smtp_session_tls(enum tls_mode configured, bool auth,
			       const struct sockaddr *sa, bool pinned,
			       enum tls_mode *out);

/* 2xx: SENT, 5xx: PERMFAIL, anything else (4xx, 0, garbage): TEMPFAIL. */
enum transport_outcome transport_outcome_for_code(int code);

/*
 * Splits an RFC 3463 enhanced status ("4.7.1 ") off the front of text:
 * copies it to out (size >= 16) and returns the rest of the text, or
 * returns text unchanged with out = "" when it does not start with one.
 */
const char *transport_reply_enhanced(const char *text, char out[16]);

/*
 * Finds the relay's queue id in a reply text: "queued as X" (Postfix,
 * Exim's "id=X", Sendmail's "X Message accepted for delivery",
 * Exchange's "<X> Queued mail for delivery"). Copies it to out and returns
 * true, or returns false with out = "".
 */
bool transport_reply_queue_id(const char *text, char *out, size_t size);

/*
 * Fills r from a reply: the outcome from the code, the enhanced status
 * (given, or parsed from the text), the text with CR/LF removed and the
 * queue id when the reply is 2xx and names one.
 */
void transport_result_set(struct transport_result *r, int code,
			  const char *enhanced, const char *text);

/* A result that is not a reply (connection refused, TLS, timeout). */
void transport_result_fail(struct transport_result *r,
			   enum transport_outcome outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The one key=value log line per message (a sent one at debug). */
void transport_log_result(const char *transport,
			  const struct transport_message *m);

#endif
