/*
 * transport: how a composed message leaves chancery. One interface, two
 * backends: "maildir" (the embedded default: an outbox Maildir, atomic
 * tmp -> new) and "smtp" (a relay, over libESMTP: STARTTLS, AUTH,
 * PIPELINING, DSN, many messages per connection).
 *
 * A transport instance is one connection's worth of state and belongs to
 * one thread. The caller hands it a batch of messages; it sends them (over
 * one session for smtp, reconnecting when messages_per_connection is
 * reached) and fills in one result per message. A transport never decides
 * what a result means for the delivery: the queue does.
 */
#ifndef CHANCERY_TRANSPORT_H
#define CHANCERY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/error.h"

/* What happened to one message, as the relay (or the outbox) said it. */
enum transport_outcome {
	TRANSPORT_SENT,      /* 2xx for the recipient and the message */
	TRANSPORT_TEMPFAIL,  /* 4xx, timeout, connection lost or refused */
	TRANSPORT_PERMFAIL,  /* 5xx */
};

/*
 * Where a session stood when it failed. A failure before any message was
 * answered is the relay's (see transport_relay_fault), not the
 * recipient's.
 */
enum transport_phase {
	TRANSPORT_PHASE_NONE,      /* no session failure: a reply of its own */
	TRANSPORT_PHASE_CONNECT,   /* resolving, connecting */
	TRANSPORT_PHASE_GREETING,  /* the banner and EHLO */
	TRANSPORT_PHASE_STARTTLS,  /* STARTTLS and the certificate */
	TRANSPORT_PHASE_AUTH,      /* AUTH */
	TRANSPORT_PHASE_TRANSFER,  /* MAIL, RCPT, DATA */
};

struct transport_result {
	enum transport_outcome outcome;
	int code;              /* the SMTP reply code; 0 when there was none */
	char enhanced[16];     /* "2.0.0", or "" */
	char text[512];        /* the reply text (CR/LF removed), or the error */
	char queue_id[64];     /* "queued as XXXX" when the relay named one */
	/*
	 * TEMPFAIL only: the relay as a whole refused or could not be
	 * reached (AUTH or TLS refused, no connection, 421 at the banner),
	 * so every message would have met the same fault: the queue does
	 * not charge the delivery an attempt for it (queue.h). phase says
	 * where the session stood.
	 */
	bool relay_fault;
	enum transport_phase phase;
};

/* One message to send: the bytes are a complete RFC 5322 message (CRLF). */
struct transport_message {
	int64_t delivery_id;
	const char *envelope_from;
	const char *recipient;
	const char *envid;     /* DSN ENVID (xtext-safe ASCII), or NULL */
	const char *data;
	size_t size;
	struct transport_result result; /* filled by transport_send */
	/*
	 * Optional: called from inside transport_send, in its thread, as
	 * soon as result is final (the relay answered the end of this
	 * message's data, or the outbox holds it), so the caller can record
	 * it before the rest of the batch is through. After the call the
	 * transport touches nothing the message points to (data, recipient,
	 * envid: the caller may free them) and result keeps its value.
	 * Messages without such a call get their result when transport_send
	 * returns.
	 */
	void (*on_final)(struct transport_message *m, void *arg);
	void *on_final_arg;
};

struct transport;

/* A transport of the configured kind; NULL and err on a bad setting. */
struct transport *transport_new(const struct conf *cfg, struct error *err);
void transport_free(struct transport *t);

/*
 * Refuses, with the error transport_new would give, a configuration the
 * transport cannot use (an smtp relay without a host, AUTH that would go
 * unencrypted to a host that is not on loopback, a ca_file without a
 * usable certificate ...), without connecting, creating or keeping
 * anything. `chancery config check`, chanceryd's start and its reload
 * call it, so that what the daemon would refuse is refused there.
 */
int transport_check_config(const struct conf *cfg, struct error *err);
const char *transport_name(const struct transport *t);

/*
 * Sends msgs[0..n). Returns 0 when every message has a result (whatever
 * it is), or a negative error when the transport itself cannot work (bad
 * configuration); a refused connection is a TEMPFAIL result, not an
 * error.
 *
 * A message's result is the relay's reply to it: the first of MAIL, RCPT
 * and end-of-DATA that is not 2xx, else the end-of-DATA reply. When the
 * session fails (refused, TLS or certificate refused, AUTH rejected, 421,
 * connection lost, timeout), every message without a reply of its own is
 * TEMPFAIL with the reason in text and the relay's code behind it (535,
 * 421) or 0, and the rest of msgs is not attempted on a new connection
 * (TEMPFAIL, "not attempted: ..."): the queue's retry decides when to try
 * again. Each result is also logged as one key=value line. One instance
 * per thread; the smtp transport ignores SIGPIPE process-wide.
 */
int transport_send(struct transport *t, struct transport_message *msgs,
		   size_t n, struct error *err);

/*
 * Whether a session that failed in phase, with the relay's code (0 for
 * none: refused, timeout, closed, certificate), is a relay-level fault:
 * anything before MAIL (connect, banner, EHLO, STARTTLS, AUTH), and a
 * 421 at the banner; not what happens during a transfer, which may be
 * about one message (a 421 after N messages, a dropped DATA).
 */
bool transport_relay_fault(enum transport_phase phase, int code);

/* "connect", "greeting", "STARTTLS", "AUTH", "transfer", or "-". */
const char *transport_phase_name(enum transport_phase phase);

/*
 * One step of a session as `chancery relay test` reports it: step is
 * "resolve", "connect", "banner", "ehlo", "starttls", "auth", "mail",
 * "rcpt", "data"; ok false when the step failed; detail is what the
 * relay said or what was found (never a credential).
 */
typedef void (*transport_step_fn)(void *arg, const char *step, bool ok,
				  const char *detail);

/*
 * Opens a session as the daemon would (same settings, TLS and AUTH),
 * reporting each step to fn. With msg (one message, its result filled
 * in) the message is sent; without, the session goes as far as DATA and
 * is cut off before any byte of a message (the relay gets MAIL FROM and
 * RCPT TO the sender's address, then the connection closes): *out is
 * SENT when every step before the message worked, else TEMPFAIL or
 * PERMFAIL with the reason, phase and relay_fault set. Returns 0, or a
 * negative error when the configuration cannot be used (ERR_CONFIG).
 * The maildir transport reports one step, "outbox".
 */
int transport_probe(const struct conf *cfg, struct transport_message *msg,
		    transport_step_fn fn, void *arg,
		    struct transport_result *out, struct error *err);

/* For the backends: tells m's on_final, when set, that its result is
 * final. */
void transport_result_final(struct transport_message *m);

#endif
