/*
 * The smtp transport: messages go to one relay over libESMTP 1.1, up to
 * queue.messages_per_connection of them per SMTP session, with STARTTLS,
 * AUTH, PIPELINING (libESMTP uses it when offered) and DSN
 * (NOTIFY=FAILURE,DELAY, RET=HDRS and the message's ENVID).
 *
 * libESMTP runs the SMTP state machine itself and reports after the
 * session: every message and recipient keeps its last reply. What it does
 * not report, this file tracks in a small session state machine of its
 * own (enum session_phase), fed by libESMTP's event and protocol-monitor
 * callbacks: which phase a failure happened in, whether TLS and AUTH
 * really succeeded, the relay's last reply, and when it last spoke (to
 * tell a timeout from a dropped connection).
 *
 * Things libESMTP gets wrong or leaves to us, each handled below:
 *  - the 40 ms Nagle/delayed-ACK stall per message (set_nodelay);
 *  - connect() without a timeout (probe_relay);
 *  - resolving the relay's name again for every session: TLS is decided
 *    on the address our probe connected to, and libESMTP is given that
 *    address, not the name (session_decide_tls);
 *  - a session that "succeeds" while sending nothing, e.g. required
 *    STARTTLS not offered (results without a reply become TEMPFAIL);
 *  - going on with MAIL after AUTH was rejected (message_cb refuses to
 *    hand over a message body unless AUTH and TLS are as configured);
 *  - certificates: libESMTP reads its CA list from ~/.config/libesmtp, so
 *    we give it our own SSL_CTX that verifies against ca_file or the
 *    system store, checks the host name, and fails closed.
 *
 * It is one module although long: each of these works around libESMTP at
 * one point of the same session (its callbacks share the session state),
 * and apart they would only pass that state back and forth.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "chancery/address.h"
#include "chancery/clock.h"
#include "chancery/log.h"
#include "chancery/xalloc.h"
#include "transport_impl.h"

#define MAX_RELAY_ADDRS 16

struct relay {
	char *host;              /* as configured: certificates name it */
	char *hostport;          /* "host:port", for logs */
	int port;
	enum tls_mode tls;       /* as configured; each session decides */
	char *ca_file;
	char *user;
	char *password;
	char *helo;
	long connect_timeout_ms;
	long command_timeout_ms;
	int per_connection;
	bool keep_nagle;         /* bench only: reproduce the 40 ms trap */
	bool keep_delayed_ack;   /* tests only: reproduce its reply-side twin */
	SSL_CTX *ssl;            /* NULL until a session needs TLS */
};

/* The session's phases are the public ones (transport.h), which decide
 * whether a failure is the relay's. */
enum session_phase {
	PHASE_CONNECT = TRANSPORT_PHASE_CONNECT,
	PHASE_GREETING = TRANSPORT_PHASE_GREETING,
	PHASE_STARTTLS = TRANSPORT_PHASE_STARTTLS,
	PHASE_AUTH = TRANSPORT_PHASE_AUTH,
	PHASE_TRANSFER = TRANSPORT_PHASE_TRANSFER,
};

#define phase_name(p) transport_phase_name((enum transport_phase)(p))

enum auth_state { AUTH_UNUSED, AUTH_SENT, AUTH_OK, AUTH_FAILED };

/* Sockets a session acknowledges replies on: its own, and when another
 * worker connected at the same moment, possibly theirs (see set_nodelay). */
#define MAX_ACK_FDS 8

/* What one SMTP session learned besides the per-message replies. */
struct session_state {
	const struct relay *relay;
	enum session_phase phase;
	struct sockaddr_storage addrs[MAX_RELAY_ADDRS];
	socklen_t addrlens[MAX_RELAY_ADDRS];
	int naddrs;
	struct sockaddr_storage connected; /* the address that answered */
	char server[INET6_ADDRSTRLEN + 8]; /* what libESMTP is given */
	enum tls_mode tls;       /* this session's: REQUIRED, OPPORTUNISTIC
				  * or NONE */
	int nodelay_set;         /* relay sockets found with TCP_NODELAY on */
	int ack_fds[MAX_ACK_FDS]; /* this session's socket (see ack_now) */
	int nack_fds;
	bool chunking;           /* the last EHLO offered CHUNKING */
	bool tls_ok;
	enum auth_state auth;
	int failure_code;        /* the relay's code behind failure, or 0 */
	enum session_phase failure_phase; /* where it happened */
	char failure[400];       /* first session-level failure, or "" */
	/* relay test (transport_probe): each step told to step(); a probe
	 * without a message is cut off at DATA (probe_reached). */
	transport_step_fn step;
	void *step_arg;
	bool probe, probe_reached, told_failure;
	bool banner_told, in_ehlo, ehlo_host_seen, in_starttls, in_data;
	char ehlo[400];          /* the extensions of the last EHLO */
	char auth_mech[24];      /* the mechanism named on the AUTH line */
	char pending[4][8];      /* pipelined commands awaiting replies */
	int npending;
	int last_code;           /* the relay's last reply */
	char last_reply[300];
	long long last_activity_ms;
};

/* The session being run by this thread, for OpenSSL's verify callback. */
static __thread struct session_state *current_session;

static void session_enter(struct session_state *st, enum session_phase p)
{
	if (st->phase == p)
		return;
	st->phase = p;
	log_debug("transport=smtp relay=%s phase=%s", st->relay->hostport,
		  phase_name(p));
}

/* Records the first session-level failure; later ones are consequences. */
static void session_fail(struct session_state *st, int code, const char *fmt,
			 ...) __attribute__((format(printf, 3, 4)));
static void session_fail(struct session_state *st, int code, const char *fmt,
			 ...)
{
	va_list ap;

	if (st->failure[0])
		return;
	st->failure_code = code;
	st->failure_phase = st->phase;
	va_start(ap, fmt);
	vsnprintf(st->failure, sizeof(st->failure), fmt, ap);
	va_end(ap);
}

/* Tells relay test of a step (nothing when no one listens). */
static void step(struct session_state *st, const char *name, bool ok,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void step(struct session_state *st, const char *name, bool ok,
		 const char *fmt, ...)
{
	char detail[600];
	va_list ap;

	if (!st->step)
		return;
	if (!ok)
		st->told_failure = true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	st->step(st->step_arg, name, ok, detail);
}

/* ---- relay addresses, connect timeout, TCP_NODELAY ---- */

static bool is_loopback_addr(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
			in6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

/* True when every address host has now is a loopback one (resolution
 * failing counts as not loopback). Only for refusing a configuration in
 * advance: a session decides on the address it connects to. */
static bool host_is_loopback(const char *host)
{
	struct addrinfo hints = {0}, *res = NULL;
	bool loop = true;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return false;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		loop = loop && is_loopback_addr(ai->ai_addr);
	freeaddrinfo(res);
	return loop;
}

bool transport_smtp_server_for(const struct sockaddr *sa, const char *host,
			       int port, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (sa && sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)
				       ->sin_addr,
		      text, sizeof(text))) {
		snprintf(out, size, "%s:%d", text, port);
		return true;
	}
	snprintf(out, size, "%s:%d", host, port);
	return false;
}

int transport_smtp_session_tls(enum tls_mode configured, bool auth,
			       const struct sockaddr *sa, bool pinned,
			       enum tls_mode *out)
{
	bool loopback = pinned && sa && is_loopback_addr(sa);

	if (configured == TLS_AUTO)
		*out = loopback ? TLS_NONE : TLS_REQUIRED;
	else
		*out = configured;
	if (auth && !loopback &&
	    (*out == TLS_NONE || *out == TLS_OPPORTUNISTIC))
		return -1;
	return 0;
}

static bool same_endpoint(const struct sockaddr_storage *a,
			  const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
					  *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr,
			      sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

/* One non-blocking connect bounded by timeout_ms; 0 or an errno value. */
static int connect_with_timeout(const struct addrinfo *ai, long timeout_ms)
{
	int fd, rc = 0, soerr = 0;
	socklen_t len = sizeof(soerr);
	struct pollfd pfd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		rc = errno;
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do
		rc = poll(&pfd, 1, (int)timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		rc = ETIMEDOUT;
		goto out;
	}
	rc = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		rc = errno;
	else
		rc = soerr;
out:
	close(fd);
	return rc;
}

/*
 * libESMTP's connect() has no timeout: a relay that drops SYNs would hold
 * a worker for minutes. So we resolve the relay ourselves and try a
 * connect bounded by connect_timeout first; only when one succeeds does
 * libESMTP connect, to the address that just answered (st->server, see
 * transport_smtp_server_for), which is also the address the session's
 * TLS decision is made on. IPv4 addresses are tried first: only those can
 * be handed to libESMTP. The addresses are kept to find libESMTP's socket
 * afterwards. Returns 0, or -1 with the reason recorded in st.
 */
static int probe_relay(struct session_state *st)
{
	const struct relay *r = st->relay;
	struct addrinfo hints = {0}, *res = NULL;
	char port[16];
	int gai, last = 0;
	bool found = false;

	snprintf(port, sizeof(port), "%d", r->port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	gai = getaddrinfo(r->host, port, &hints, &res);
	if (gai != 0) {
		session_fail(st, 0, "cannot resolve relay %s: %s", r->host,
			     gai_strerror(gai));
		step(st, "resolve", false, "%s", st->failure);
		return -1;
	}
	{
		char list[300] = "";
		size_t used = 0;

		for (struct addrinfo *ai = res;
		     ai && st->naddrs < MAX_RELAY_ADDRS; ai = ai->ai_next) {
			char a[INET6_ADDRSTRLEN] = "?";

			memcpy(&st->addrs[st->naddrs], ai->ai_addr,
			       ai->ai_addrlen);
			st->addrlens[st->naddrs++] = ai->ai_addrlen;
			getnameinfo(ai->ai_addr, ai->ai_addrlen, a, sizeof(a),
				    NULL, 0, NI_NUMERICHOST);
			if (used + strlen(a) + 2 < sizeof(list) &&
			    !strstr(list, a))
				used += (size_t)snprintf(list + used,
							 sizeof(list) - used,
							 "%s%s", used ? " " : "",
							 a);
		}
		step(st, "resolve", true, "%s: %s", r->host, list);
	}
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			last = connect_with_timeout(ai, r->connect_timeout_ms);
			if (last == 0) {
				found = true;
				memcpy(&st->connected, ai->ai_addr,
				       ai->ai_addrlen);
			}
		}
	}
	freeaddrinfo(res);
	if (!found && last == 0)
		last = EADDRNOTAVAIL; /* no address at all */
	if (last != 0) {
		if (last == ETIMEDOUT)
			session_fail(st, 0,
				     "cannot connect to relay %s: no answer "
				     "within %ld ms", r->hostport,
				     r->connect_timeout_ms);
		else
			session_fail(st, 0, "cannot connect to relay %s: %s",
				     r->hostport, strerror(last));
		step(st, "connect", false, "%s", st->failure);
		return -1;
	}
	{
		char a[INET6_ADDRSTRLEN] = "?";

		getnameinfo((const struct sockaddr *)&st->connected,
			    sizeof(st->connected), a, sizeof(a), NULL, 0,
			    NI_NUMERICHOST);
		step(st, "connect", true, "%s port %d", a, r->port);
	}
	return 0;
}

/*
 * The 40 ms trap: libESMTP writes each message in 2 KiB pieces and never
 * sets TCP_NODELAY, so the last small piece waits in Nagle's algorithm for
 * the relay's delayed ACK (40 ms on Linux): 23 messages a second instead
 * of thousands. libESMTP exposes no socket, but it calls the event
 * callback with SMTP_EV_CONNECT right after connect() succeeds, before
 * the greeting. There we look through our own descriptors
 * (/proc/self/fd) for TCP sockets connected to the relay's address and
 * port that do not have TCP_NODELAY yet, and set it: sockets of other
 * programs' connections are never touched, and sockets of other workers
 * to the same relay already have it (setting it twice would be harmless).
 * The sockets this scan sets itself are this session's, remembered for
 * ack_now. bench/run measures both ways; test_transport.py keeps a timing
 * check.
 */
static void set_nodelay(struct session_state *st)
{
	DIR *dir;
	struct dirent *de;
	int all[MAX_ACK_FDS], nall = 0;

	if (st->relay->keep_nagle)
		return;
	dir = opendir("/proc/self/fd");
	if (!dir) {
		log_warn("transport=smtp cannot list /proc/self/fd: %s; "
			 "TCP_NODELAY not set", strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer), olen;
		struct stat sb;
		int fd, type = 0, nd = 0, one = 1;
		char *end;

		fd = (int)strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd == dirfd(dir))
			continue;
		if (fstat(fd, &sb) != 0 || !S_ISSOCK(sb.st_mode))
			continue;
		olen = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) != 0 ||
		    type != SOCK_STREAM)
			continue;
		if (getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
			continue;
		for (int i = 0; i < st->naddrs; i++) {
			if (!same_endpoint(&peer, &st->addrs[i]))
				continue;
			/* Already set (by another worker's scan, which can
			 * see our new socket too) counts as found. */
			if (nall < MAX_ACK_FDS)
				all[nall++] = fd;
			olen = sizeof(nd);
			if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nd,
				       &olen) == 0 && nd) {
				st->nodelay_set++;
			} else if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					      &one, sizeof(one)) == 0) {
				st->nodelay_set++;
				if (st->nack_fds < MAX_ACK_FDS)
					st->ack_fds[st->nack_fds++] = fd;
			}
			break;
		}
	}
	closedir(dir);
	/* None new: another worker's scan, between our connect and ours,
	 * set ours too. Then every socket to the relay is acknowledged. */
	if (st->nack_fds == 0) {
		memcpy(st->ack_fds, all, sizeof(all[0]) * (size_t)nall);
		st->nack_fds = nall;
	}
	if (st->nodelay_set == 0)
		log_warn("transport=smtp relay=%s: no socket to the relay "
			 "found for TCP_NODELAY; expect 40 ms per message",
			 st->relay->hostport);
}

/*
 * libESMTP 1.1 and TLS 1.3 can deadlock: after the handshake libESMTP
 * queues EHLO, then polls for reading and writing together and serves
 * reading first. A TLS 1.3 server sends its session tickets right after
 * the handshake; if they arrive before that poll, libESMTP sits reading
 * the reply to an EHLO it has not flushed yet, until the command timeout
 * (seen on loopback about one session in ten). So once the handshake is
 * done we wait briefly for those tickets and let OpenSSL consume them:
 * up to 100 ms for the first, 10 ms for each further one. Application
 * data, should any come, stays buffered in OpenSSL for libESMTP.
 */
static void drain_session_tickets(SSL *ssl)
{
	struct pollfd pfd = {.fd = SSL_get_rfd(ssl), .events = POLLIN};
	int wait_ms = 100;
	char c;

	if (pfd.fd < 0 || SSL_version(ssl) < TLS1_3_VERSION)
		return;
	while (poll(&pfd, 1, wait_ms) > 0 && (pfd.revents & POLLIN)) {
		int n = SSL_peek(ssl, &c, 1);

		if (n > 0 || SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ)
			break;
		wait_ms = 10;
	}
}

/* ---- libESMTP callbacks ---- */

static int verify_cb(int ok, X509_STORE_CTX *x509)
{
	struct session_state *st = current_session;

	if (!ok && st) {
		int e = X509_STORE_CTX_get_error(x509);

		session_fail(st, 0,
			     "TLS: certificate of relay %s not accepted: %s",
			     st->relay->host, X509_verify_cert_error_string(e));
	}
	return ok;
}

static void message_sent(smtp_message_t m);

/* relay test: the verified certificate, its subject, issuer and expiry. */
static void tell_certificate(struct session_state *st, SSL *ssl)
{
	X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
	char subject[256] = "?", issuer[256] = "?", expires[64] = "?";
	BIO *bio;

	if (!cert) {
		step(st, "starttls", true, "%s, no certificate seen",
		     ssl ? SSL_get_version(ssl) : "TLS");
		return;
	}
	X509_NAME_oneline(X509_get_subject_name(cert), subject,
			  sizeof(subject));
	X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof(issuer));
	if ((bio = BIO_new(BIO_s_mem()))) {
		int n;

		ASN1_TIME_print(bio, X509_get0_notAfter(cert));
		n = BIO_read(bio, expires, sizeof(expires) - 1);
		expires[n > 0 ? n : 0] = '\0';
		BIO_free(bio);
	}
	step(st, "starttls", true,
	     "%s %s, certificate verified for %s: subject %s, issuer %s, "
	     "expires %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
	     st->relay->host, subject, issuer, expires);
	X509_free(cert);
}

/*
 * The 40 ms trap's twin, on the relay's side. Postfix's smtpd turns
 * Nagle off only when the path's MSS is below its 4 KB buffer: on
 * loopback (MSS 64 KB), the common case of chanceryd beside a local
 * Postfix, its socket keeps Nagle. smtpd answers a pipelined group as it
 * drains its input; with BDAT, libESMTP sends the headers as a chunk of
 * their own, so smtpd often answers in two writes, and Nagle holds the
 * second (the reply that ends the message) until we ACK the first.
 * Having nothing to send while it waits for that reply, Linux delays our
 * ACK by 40 ms: measured here as one message in two taking 41 ms against
 * Postfix 3.7 with CHUNKING, and libESMTP alone at 0.43 of smtp-source.
 * The first write carries the recipient's reply, so when libESMTP
 * tells us that reply (SMTP_EV_RCPTSTATUS) we acknowledge at once
 * (TCP_QUICKACK, which Linux clears again by itself): libESMTP alone then
 * ran at about 1.0 of smtp-source. This covers a first reply read while
 * libESMTP is still writing; one that arrives after its last write finds
 * it in its own poll(), where nothing of ours runs until the final reply
 * (traced against Postfix: one message in about a hundred still waits
 * 35-50 ms). Not from the protocol monitor: once a BDAT transfer has
 * begun, libESMTP 1.1 no longer calls it for reads.
 * Only the sockets set_nodelay took for this session's, and only when
 * the relay offers CHUNKING: the extra ACK is a segment through the
 * stack (6% of chanceryd's CPU against smtp-sink, which has no BDAT and
 * no stall).
 */
static void ack_now(struct session_state *st)
{
	int one = 1;

	if (!st->chunking || st->relay->keep_delayed_ack)
		return;
	for (int i = 0; i < st->nack_fds; i++)
		(void)setsockopt(st->ack_fds[i], IPPROTO_TCP, TCP_QUICKACK,
				 &one, sizeof(one));
}

static void on_event(smtp_session_t session, int event, void *arg, ...)
{
	struct session_state *st = arg;
	va_list ap;
	int *ok;

	(void)session;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_MAILSTATUS:
		/* the monitor may be silent here (see ack_now): a reply
		 * told as an event is the relay's activity too */
		st->last_activity_ms = clock_mono_ms();
		break;
	case SMTP_EV_RCPTSTATUS:
		st->last_activity_ms = clock_mono_ms();
		ack_now(st);
		break;
	case SMTP_EV_MESSAGESENT:
		st->last_activity_ms = clock_mono_ms();
		message_sent(va_arg(ap, smtp_message_t));
		break;
	case SMTP_EV_CONNECT:
		st->last_activity_ms = clock_mono_ms();
		session_enter(st, PHASE_GREETING);
		st->nack_fds = 0;
		set_nodelay(st);
		break;
	case SMTP_EV_EXTNA_DSN:
		/* DSN is asked for, but a relay without it still gets mail. */
		ok = va_arg(ap, int *);
		if (ok)
			*ok = 0;
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		if (!st->failure[0])
			st->phase = PHASE_STARTTLS; /* what failed: TLS */
		session_fail(st, 0,
			     "TLS: relay %s does not offer STARTTLS and "
			     "transport.smtp.tls requires it",
			     st->relay->host);
		break;
	case SMTP_EV_STARTTLS_OK: {
		SSL *ssl = va_arg(ap, SSL *);

		st->tls_ok = true;
		if (ssl)
			drain_session_tickets(ssl);
		st->in_starttls = false;
		if (st->step)
			tell_certificate(st, ssl);
		break;
	}
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long result = va_arg(ap, long);

		ok = va_arg(ap, int *);
		*ok = 0;
		session_fail(st, 0, "TLS: certificate of relay %s not "
			     "accepted: %s", st->relay->host,
			     X509_verify_cert_error_string(result));
		break;
	}
	case SMTP_EV_WRONG_PEER_CERTIFICATE: {
		/* libESMTP checks the certificate against the address it
		 * was given (session_decide_tls), which certificates seldom
		 * name, and knows no IP addresses; OpenSSL already checked
		 * the configured name or address (see make_ssl_ctx), so its
		 * verdict stands. */
		const char *name;
		SSL *ssl;

		ok = va_arg(ap, int *);
		name = va_arg(ap, const char *);
		ssl = va_arg(ap, SSL *);
		*ok = ssl && SSL_get_verify_result(ssl) == X509_V_OK;
		if (!*ok)
			session_fail(st, 0, "TLS: certificate names %s, not %s",
				     name ? name : "?", st->relay->host);
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 0;
		session_fail(st, 0, "TLS: relay %s sent no certificate",
			     st->relay->host);
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;
		session_fail(st, 0, "TLS: cipher too weak");
		break;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 0;
		session_fail(st, 0, "TLS: unusable client certificate");
		break;
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CA_LIST:
		session_fail(st, 0, "TLS: unusable certificate files");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* The three-digit code at the start of a reply line, or 0. */
static int reply_code(const char *buf, int len)
{
	if (len < 3 || buf[0] < '1' || buf[0] > '5' || buf[1] < '0' ||
	    buf[1] > '9' || buf[2] < '0' || buf[2] > '9')
		return 0;
	return (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
}

/* relay test: a command line written (never more than its verb, the
 * AUTH mechanism included: the rest of an AUTH line is a credential). */
static void note_command(struct session_state *st, const char *line, int len)
{
	if (len >= 5 && (strncasecmp(line, "EHLO ", 5) == 0 ||
			 strncasecmp(line, "HELO ", 5) == 0)) {
		st->in_ehlo = true;
		st->ehlo_host_seen = false;
		st->ehlo[0] = '\0';
	} else if (len >= 8 && strncasecmp(line, "STARTTLS", 8) == 0) {
		st->in_starttls = true;
	} else if (len >= 5 && strncasecmp(line, "AUTH ", 5) == 0) {
		int n = 0;

		while (n + 5 < len && n + 1 < (int)sizeof(st->auth_mech) &&
		       line[5 + n] != ' ' && line[5 + n] != '\r')
			n++;
		memcpy(st->auth_mech, line + 5, (size_t)n);
		st->auth_mech[n] = '\0';
	} else if (st->npending < 4) {
		const char *name = NULL;

		if (len >= 10 && strncasecmp(line, "MAIL FROM:", 10) == 0)
			name = "mail";
		else if (len >= 8 && strncasecmp(line, "RCPT TO:", 8) == 0)
			name = "rcpt";
		else if (len >= 4 && strncasecmp(line, "DATA", 4) == 0 &&
			 (len == 4 || line[4] == '\r' || line[4] == '\n'))
			name = "data";
		if (name)
			snprintf(st->pending[st->npending++],
				 sizeof(st->pending[0]), "%s", name);
	}
}

/* relay test: a reply line read (st->last_reply, st->last_code). */
static void note_reply(struct session_state *st, const char *buf, int len)
{
	const char *line = st->last_reply;
	int code = st->last_code;
	bool final = len < 4 || buf[3] != '-';

	if (!st->banner_told) {
		if (final) {
			st->banner_told = true;
			step(st, "banner", code / 100 == 2, "%s", line);
		}
	} else if (st->in_ehlo) {
		if (!st->ehlo_host_seen) {
			st->ehlo_host_seen = true;
		} else if (strlen(line) > 4) {
			size_t used = strlen(st->ehlo);

			snprintf(st->ehlo + used, sizeof(st->ehlo) - used,
				 "%s%s", used ? ", " : "", line + 4);
		}
		if (final) {
			st->in_ehlo = false;
			if (code == 250)
				step(st, "ehlo", true, "%s%s%s",
				     st->tls_ok ? "(over TLS) " : "",
				     st->ehlo[0] ? "offers " : "offers nothing",
				     st->ehlo);
			else
				step(st, "ehlo", false, "%s", line);
		}
	} else if (st->in_starttls) {
		if (code != 220) {
			st->in_starttls = false;
			step(st, "starttls", false, "%s", line);
		}
	} else if (st->auth_mech[0] &&
		   (st->auth == AUTH_OK || st->auth == AUTH_FAILED)) {
		step(st, "auth", st->auth == AUTH_OK, "%s as %s: %s",
		     st->auth_mech, st->relay->user, line);
		st->auth_mech[0] = '\0';
	} else if (st->npending) {
		goto pending;
	} else if (st->in_data) {
		st->in_data = false;
		step(st, "message", code / 100 == 2, "%s", line);
	}
	return;
pending: {
	char name[8];
	bool data;

	snprintf(name, sizeof(name), "%s", st->pending[0]);
	memmove(st->pending[0], st->pending[1],
		sizeof(st->pending[0]) * (size_t)--st->npending);
	data = strcmp(name, "data") == 0;
	step(st, name, data ? code == 354 : code / 100 == 2, "%s", line);
	st->in_data = data && code == 354;
	}
}

/*
 * Sees every command line written (before it is sent) and every reply
 * read, except the message bodies. Only the first bytes of what we write
 * are looked at, so AUTH credentials are never copied anywhere.
 */
static void on_reply_line(struct session_state *st, const char *buf,
			  int len);

static void on_monitor(const char *buf, int len, int writing, void *arg)
{
	struct session_state *st = arg;

	st->last_activity_ms = clock_mono_ms();
	if (writing == SMTP_CB_WRITING) {
		if (len >= 5 && (strncasecmp(buf, "EHLO ", 5) == 0))
			st->chunking = false; /* the reply tells anew */
		if (len >= 8 && strncasecmp(buf, "STARTTLS", 8) == 0)
			session_enter(st, PHASE_STARTTLS);
		else if (len >= 5 && strncasecmp(buf, "AUTH ", 5) == 0) {
			session_enter(st, PHASE_AUTH);
			st->auth = AUTH_SENT;
		} else if (len >= 10 && strncasecmp(buf, "MAIL FROM:", 10) == 0)
			session_enter(st, PHASE_TRANSFER);
		/* QUIT is not a phase of its own: libESMTP also sends it
		 * after a failure, which must keep the phase it happened in. */
		if (st->step) {
			/* pipelined commands share a buffer: one line each */
			for (int at = 0; at < len;) {
				int end = at;

				while (end < len && buf[end] != '\n')
					end++;
				note_command(st, buf + at, end - at);
				at = end + 1;
			}
		}
		return;
	}
	if (writing != SMTP_CB_READING)
		return;
	/* a read may bring several reply lines (a multiline EHLO reply) */
	for (int at = 0; at < len;) {
		int end = at;

		while (end < len && buf[end] != '\n')
			end++;
		if (end < len)
			end++;
		on_reply_line(st, buf + at, end - at);
		at = end;
	}
}

/* One reply line read from the relay. */
static void on_reply_line(struct session_state *st, const char *buf, int len)
{
	int code, n;

	code = reply_code(buf, len);
	for (n = 0; n < len && buf[n] != '\r' && buf[n] != '\n' &&
		    n + 1 < (int)sizeof(st->last_reply); n++)
		st->last_reply[n] = buf[n];
	st->last_reply[n] = '\0';
	st->last_code = code;
	if (code == 250 && n >= 12 &&
	    strncasecmp(st->last_reply + 4, "CHUNKING", 8) == 0 &&
	    (n == 12 || st->last_reply[12] == ' '))
		st->chunking = true;
	if (st->auth == AUTH_SENT && code != 334 && code != 0) {
		if (code == 235) {
			st->auth = AUTH_OK;
		} else {
			st->auth = AUTH_FAILED;
			session_fail(st, code, "AUTH as %s rejected: %s",
				     st->relay->user, st->last_reply);
		}
	}
	if (st->step)
		note_reply(st, buf, len);
}

static int auth_interact(auth_client_request_t req, char **result,
			 int fields, void *arg)
{
	const struct relay *r = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = r->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = r->password;
		else if (req[i].flags & AUTH_REALM)
			result[i] = (char *)"";
		else
			return 0;
	}
	return 1;
}

struct message_ctx {
	struct transport_message *msg;
	struct session_state *st;
	smtp_recipient_t rcpt;
	bool final; /* its result is told (SMTP_EV_MESSAGESENT) */
};

/*
 * Hands libESMTP the whole message at once (it splits lines itself). Its
 * *ctx is freed by libESMTP with free(), so it comes from malloc. A body
 * is refused (errno set, which makes libESMTP drop the connection before
 * the final dot) when AUTH or TLS did not come out as configured:
 * libESMTP carries on with MAIL after a rejected AUTH, and a relay that
 * accepts unauthenticated mail must not get it that way.
 */
static const char *message_cb(void **ctx, int *len, void *arg)
{
	const struct message_ctx *mc = arg;
	const struct relay *r = mc->st->relay;
	int *done;

	if (!*ctx)
		*ctx = xmalloc(sizeof(int));
	done = *ctx;
	if (!len) {
		*done = 0;
		return NULL;
	}
	if ((r->user && mc->st->auth != AUTH_OK) ||
	    (mc->st->tls == TLS_REQUIRED && !mc->st->tls_ok)) {
		bool auth = r->user && mc->st->auth != AUTH_OK;
		bool first = !mc->st->failure[0];

		session_fail(mc->st, 0, "%s", auth
			     ? "relay did not accept AUTH; message withheld"
			     : "TLS not established; message withheld");
		/* about the relay, not this message */
		if (first)
			mc->st->failure_phase = auth ? PHASE_AUTH
						     : PHASE_STARTTLS;
		errno = EACCES;
		*len = 0;
		return NULL;
	}
	if (mc->st->probe) {
		/* relay test without a message: cut off here, at DATA */
		mc->st->probe_reached = true;
		errno = ECANCELED;
		*len = 0;
		return NULL;
	}
	if (*done) {
		*len = 0;
		return NULL;
	}
	*done = 1;
	*len = (int)mc->msg->size;
	return mc->msg->data;
}

/* ---- one session ---- */

static void status_enhanced(const smtp_status_t *s, char out[16])
{
	out[0] = '\0';
	if (s->enh_class > 0)
		snprintf(out, 16, "%d.%d.%d", s->enh_class % 10,
			 s->enh_subject % 1000, s->enh_detail % 1000);
}

/* A 2xx, 4xx or 5xx reply (354 after DATA is not an answer). */
static bool is_final(const smtp_status_t *s)
{
	return s && s->code >= 200 && s->code < 600 && s->code / 100 != 3;
}

/* The one reply that decides a message: the first that is not 2xx among
 * MAIL, RCPT and the end of DATA, else the end of DATA. */
static const smtp_status_t *deciding_status(smtp_message_t m,
					    smtp_recipient_t rcpt)
{
	const smtp_status_t *mail = smtp_reverse_path_status(m);
	const smtp_status_t *to = smtp_recipient_status(rcpt);
	const smtp_status_t *data = smtp_message_transfer_status(m);

	if (is_final(mail) && mail->code >= 300)
		return mail;
	if (is_final(to) && to->code >= 300)
		return to;
	if (is_final(data) && is_final(mail) && is_final(to))
		return data;
	return NULL;
}

/* The reply of a message's result, when the relay gave a deciding one.
 * After a rejected AUTH the relay refuses MAIL with 530 and the like:
 * that is about our credentials, not the message. */
static bool reply_result(const struct session_state *st, smtp_message_t m,
			 smtp_recipient_t rcpt, struct transport_result *res)
{
	const smtp_status_t *d = deciding_status(m, rcpt);
	char enh[16];

	if (!d || (d->code >= 300 && st->auth == AUTH_FAILED))
		return false;
	status_enhanced(d, enh);
	transport_result_set(res, d->code, enh, d->text);
	return true;
}

/*
 * libESMTP has the relay's answer to the end of m's data: its result is
 * final, and the caller hears of it now rather than when the session
 * ends (a crash can then copy only what was sent since the last commit).
 */
static void message_sent(smtp_message_t m)
{
	struct message_ctx *mc = smtp_message_get_application_data(m);

	if (!mc || mc->final || !reply_result(mc->st, m, mc->rcpt,
					      &mc->msg->result))
		return;
	mc->final = true;
	/* logged now: after the call the message may be gone */
	transport_log_result("smtp", mc->msg);
	transport_result_final(mc->msg);
}

/* Why messages of this session have no reply, for their result text. */
static void session_reason(struct session_state *st, char *out, size_t size)
{
	int e = smtp_errno();
	long long idle = clock_mono_ms() - st->last_activity_ms;
	char buf[128];

	if (st->failure[0]) {
		snprintf(out, size, "%s", st->failure);
	} else if (e == SMTP_ERR_DROPPED_CONNECTION &&
		   idle + 100 >= st->relay->command_timeout_ms) {
		snprintf(out, size, "timeout: relay %s sent no reply for %lld "
			 "ms during %s", st->relay->hostport, idle,
			 phase_name(st->phase));
	} else if (st->last_code >= 400) {
		snprintf(out, size, "relay %s ended the session during %s: %s",
			 st->relay->hostport, phase_name(st->phase),
			 st->last_reply);
	} else if (e != 0 && e != SMTP_ERR_INVAL) {
		snprintf(out, size, "session with relay %s broken during %s: %s",
			 st->relay->hostport, phase_name(st->phase),
			 smtp_strerror(e, buf, sizeof(buf)) ? buf : "?");
	} else {
		snprintf(out, size, "relay %s closed the session during %s "
			 "without a reply", st->relay->hostport,
			 phase_name(st->phase));
	}
}

static void set_timeouts(smtp_session_t s, long ms)
{
	static const int which[] = {Timeout_GREETING, Timeout_ENVELOPE,
				    Timeout_DATA, Timeout_TRANSFER,
				    Timeout_DATA2};

	/* libESMTP takes milliseconds and imposes at least one second. */
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
		smtp_set_timeout(s, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
				 ms < 1000 ? 1000 : ms);
}

static enum starttls_option starttls_mode(enum tls_mode m)
{
	switch (m) {
	case TLS_REQUIRED:
		return Starttls_REQUIRED;
	case TLS_OPPORTUNISTIC:
		return Starttls_ENABLED;
	default:
		return Starttls_DISABLED;
	}
}

/* Adds msgs to a new libESMTP session; the message handles go to out. */
/* The envelope carries an IDN domain as punycode (A-labels): without
 * SMTPUTF8, a relay refuses the UTF-8 form ("500 strict ASCII"). */
static char *envelope_address(const char *addr)
{
	char *ascii = addr && *addr ? address_ascii(addr) : NULL;

	return ascii ? ascii : xstrdup(addr ? addr : "");
}

static smtp_session_t build_session(const struct relay *r,
				    struct session_state *st,
				    struct transport_message *msgs, size_t n,
				    struct message_ctx *ctxs,
				    smtp_message_t *out_msgs,
				    smtp_recipient_t *out_rcpts)
{
	smtp_session_t s = smtp_create_session();

	if (!s)
		return NULL;
	/* The address probe_relay connected to: libESMTP does not resolve
	 * the name again. Certificates are still checked against the
	 * configured name (make_ssl_ctx). */
	smtp_set_server(s, st->server);
	if (r->helo)
		smtp_set_hostname(s, r->helo);
	set_timeouts(s, r->command_timeout_ms);
	smtp_starttls_enable(s, starttls_mode(st->tls));
	if (r->ssl && st->tls != TLS_NONE)
		smtp_starttls_set_ctx(s, r->ssl);
	smtp_set_eventcb(s, on_event, st);
	smtp_set_monitorcb(s, on_monitor, st, 0);
	for (size_t i = 0; i < n; i++) {
		smtp_message_t m = smtp_add_message(s);
		smtp_recipient_t rcpt;
		char *from = envelope_address(msgs[i].envelope_from);
		char *to = envelope_address(msgs[i].recipient);

		ctxs[i].msg = &msgs[i];
		ctxs[i].st = st;
		smtp_set_reverse_path(m, from);
		smtp_set_messagecb(m, message_cb, &ctxs[i]);
		smtp_size_set_estimate(m, (unsigned long)msgs[i].size);
		smtp_dsn_set_ret(m, Ret_HDRS);
		if (msgs[i].envid && *msgs[i].envid)
			smtp_dsn_set_envid(m, msgs[i].envid);
		rcpt = smtp_add_recipient(m, to);
		ctxs[i].rcpt = rcpt;
		smtp_message_set_application_data_release(m, &ctxs[i], NULL);
		free(from); /* libESMTP keeps copies of both */
		free(to);
		smtp_dsn_set_notify(rcpt, Notify_FAILURE | Notify_DELAY);
		out_msgs[i] = m;
		out_rcpts[i] = rcpt;
	}
	return s;
}

static SSL_CTX *tls_ctx_get(const struct relay *r, const char *ca_file,
			    struct error *err);

/*
 * Decides TLS for a session on the address it connects to (st->connected)
 * and pins libESMTP to it: plain text only to a loopback address, never
 * the AUTH password in clear to any other, whatever the name resolved to
 * when the transport was made. 0, or -1 with the reason in st.
 */
static int session_decide_tls(struct relay *r, struct session_state *st)
{
	const struct sockaddr *sa = (const struct sockaddr *)&st->connected;
	struct error err = ERROR_INIT;
	bool pinned;

	pinned = transport_smtp_server_for(sa, r->host, r->port, st->server,
					   sizeof(st->server));
	if (transport_smtp_session_tls(r->tls, r->user != NULL, sa, pinned,
				       &st->tls) != 0) {
		char addr[INET6_ADDRSTRLEN] = "?";

		getnameinfo(sa, sizeof(st->connected), addr, sizeof(addr),
			    NULL, 0, NI_NUMERICHOST);
		session_fail(st, 0, "transport.smtp.tls = %s would send the "
			     "AUTH password to %s (now %s, not loopback) "
			     "unencrypted; message withheld",
			     conf_tls_name(r->tls), r->host, addr);
		return -1;
	}
	log_debug("transport=smtp relay=%s address=%s tls=%s", r->hostport,
		  st->server, conf_tls_name(st->tls));
	if (st->tls == TLS_NONE || r->ssl)
		return 0;
	r->ssl = tls_ctx_get(r, r->ca_file, &err);
	if (!r->ssl) {
		session_fail(st, 0, "%s", err.msg);
		return -1;
	}
	return 0;
}

/*
 * Sends msgs[0..n) over one SMTP session and fills every result. Returns
 * true when the session ended normally, false when it failed (then every
 * message without a final reply is TEMPFAIL with the reason).
 */
static bool run_session(struct relay *r, struct transport_message *msgs,
			size_t n, transport_step_fn fn, void *fn_arg,
			bool probe)
{
	struct session_state st = {0};
	struct message_ctx *ctxs = xcalloc(n, sizeof(*ctxs));
	smtp_message_t *hm = xcalloc(n, sizeof(*hm));
	smtp_recipient_t *hr = xcalloc(n, sizeof(*hr));
	auth_context_t auth = NULL;
	smtp_session_t s = NULL;
	char reason[sizeof(msgs[0].result.text)];
	bool clean = true;

	st.relay = r;
	st.phase = PHASE_CONNECT;
	st.step = fn;
	st.step_arg = fn_arg;
	st.probe = probe;
	st.last_activity_ms = clock_mono_ms();
	if (probe_relay(&st) != 0 || session_decide_tls(r, &st) != 0)
		goto results;
	s = build_session(r, &st, msgs, n, ctxs, hm, hr);
	if (!s) {
		session_fail(&st, 0, "libESMTP: cannot create a session");
		goto results;
	}
	if (r->user) {
		auth = auth_create_context();
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, auth_interact, (void *)r);
		smtp_auth_set_context(s, auth);
	}
	/* smtp_errno() is never reset; an invalid call sets it to a value
	 * the session itself does not produce, so what follows is ours. */
	smtp_version(NULL, 0, 0);
	session_enter(&st, PHASE_CONNECT);
	current_session = &st;
	if (!smtp_start_session(s) && !st.failure[0] && st.last_code == 0)
		session_fail(&st, 0, "cannot open an SMTP session with %s",
			     r->hostport);
	current_session = NULL;
results:
	reason[0] = '\0';
	if (probe && st.probe_reached && !st.failure[0]) {
		transport_result_set(&msgs[0].result, 250, NULL,
				     "relay took MAIL FROM and RCPT TO; cut "
				     "off before any message (a probe)");
		ctxs[0].final = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (ctxs[i].final)
			continue; /* told and logged (message_sent) */
		if (s && reply_result(&st, hm[i], hr[i], &msgs[i].result)) {
			transport_log_result("smtp", &msgs[i]);
			continue;
		}
		if (!reason[0])
			session_reason(&st, reason, sizeof(reason));
		clean = false;
		transport_result_fail(&msgs[i].result, TRANSPORT_TEMPFAIL,
				      "%s", reason);
		/* The relay's code behind the failure (535, a 421 ...). */
		msgs[i].result.code = st.failure_code ? st.failure_code
				      : st.last_code >= 400 ? st.last_code : 0;
		msgs[i].result.phase = (enum transport_phase)(
			st.failure[0] ? st.failure_phase : st.phase);
		msgs[i].result.relay_fault = transport_relay_fault(
			msgs[i].result.phase, msgs[i].result.code);
		transport_log_result("smtp", &msgs[i]);
	}
	if (!clean && st.step && !st.told_failure) {
		static const char *const names[] = {
			[PHASE_CONNECT] = "connect",
			[PHASE_GREETING] = "banner",
			[PHASE_STARTTLS] = "starttls",
			[PHASE_AUTH] = "auth",
			[PHASE_TRANSFER] = "message",
		};
		enum session_phase ph = st.failure[0] ? st.failure_phase
						      : st.phase;

		step(&st, ph == PHASE_GREETING && st.banner_told ? "ehlo"
		     : names[ph], false, "%s", reason);
	}
	if (!clean)
		log_warn("transport=smtp relay=%s session failed phase=%s "
			 "reason=\"%s\"", r->hostport, phase_name(st.phase),
			 reason);
	if (s)
		smtp_destroy_session(s);
	if (auth)
		auth_destroy_context(auth);
	free(ctxs);
	free(hm);
	free(hr);
	return clean;
}

static int relay_send(void *impl, struct transport_message *msgs, size_t n,
		      struct error *err)
{
	struct relay *r = impl;
	size_t done = 0;
	bool ok = true;

	(void)err;
	while (done < n && ok) {
		size_t chunk = n - done;

		if (chunk > (size_t)r->per_connection)
			chunk = (size_t)r->per_connection;
		ok = run_session(r, msgs + done, chunk, NULL, NULL, false);
		done += chunk;
	}
	/* A failed session (refused, TLS, AUTH, 421, lost) says the relay
	 * cannot take mail now: the rest wait for the queue's retry rather
	 * than hammering it with new connections. */
	for (size_t i = done; i < n; i++) {
		const struct transport_result *last = &msgs[done - 1].result;

		transport_result_fail(&msgs[i].result, TRANSPORT_TEMPFAIL,
				      "not attempted: %s",
				      last->outcome == TRANSPORT_TEMPFAIL
					      ? last->text
					      : "an earlier session failed");
		/* the same relay fault, when it was one */
		msgs[i].result.code = last->code;
		msgs[i].result.phase = last->phase;
		msgs[i].result.relay_fault = last->relay_fault;
		transport_log_result("smtp", &msgs[i]);
	}
	return 0;
}

/* ---- construction ---- */

static pthread_once_t smtp_once = PTHREAD_ONCE_INIT;

static void smtp_global_init(void)
{
	struct sigaction sa;

	/* libESMTP writes to sockets the relay may have closed. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
	auth_client_init();
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

/*
 * The TLS context: TLS 1.2 or later, the peer verified against ca_file
 * (or the system store) with the relay's name or address checked by
 * OpenSSL, and SSL_VERIFY_PEER so a bad certificate fails the handshake
 * itself rather than depending on a callback to refuse it.
 */
static SSL_CTX *make_ssl_ctx(const struct relay *r, const char *ca_file,
			     struct error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;

	if (!ctx) {
		error_set(err, ERR_SOFTWARE, "OpenSSL: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			error_set(err, ERR_CONFIG,
				  "transport.smtp.ca_file %s: no usable "
				  "certificate in it", ca_file);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		error_set(err, ERR_CONFIG, "cannot load the system's trusted "
			  "certificates");
		goto fail;
	}
	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param,
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if ((is_ip_literal(r->host)
		     ? X509_VERIFY_PARAM_set1_ip_asc(param, r->host)
		     : X509_VERIFY_PARAM_set1_host(param, r->host, 0)) != 1) {
		error_set(err, ERR_CONFIG, "transport.smtp.host %s: cannot be "
			  "checked against a certificate", r->host);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * One TLS context for every connection of the process to the same relay
 * with the same trust store: each context loads the trust store, measured
 * at 0.75 MiB with the system's (4 workers: 20.7 MiB peak), and OpenSSL
 * makes sessions from one context in many threads. It lives while
 * transports use it, so a reload rereads the trust store as before.
 */
static struct {
	pthread_mutex_t lock;
	SSL_CTX *ctx;
	char *host, *ca_file; /* what ctx was made for */
	int users;
} shared_tls = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, 0};

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static SSL_CTX *tls_ctx_get(const struct relay *r, const char *ca_file,
			    struct error *err)
{
	SSL_CTX *ctx;

	pthread_mutex_lock(&shared_tls.lock);
	if (shared_tls.users && same_text(shared_tls.host, r->host) &&
	    same_text(shared_tls.ca_file, ca_file)) {
		shared_tls.users++;
		ctx = shared_tls.ctx;
	} else {
		ctx = make_ssl_ctx(r, ca_file, err);
		if (ctx && !shared_tls.users) { /* else: one of its own */
			free(shared_tls.host);
			free(shared_tls.ca_file);
			shared_tls.ctx = ctx;
			shared_tls.host = xstrdup(r->host);
			shared_tls.ca_file = ca_file ? xstrdup(ca_file) : NULL;
			shared_tls.users = 1;
		}
	}
	pthread_mutex_unlock(&shared_tls.lock);
	return ctx;
}

static void tls_ctx_put(SSL_CTX *ctx)
{
	pthread_mutex_lock(&shared_tls.lock);
	if (ctx != shared_tls.ctx) {
		SSL_CTX_free(ctx);
	} else if (--shared_tls.users == 0) {
		SSL_CTX_free(ctx);
		free(shared_tls.host);
		free(shared_tls.ca_file);
		shared_tls.ctx = NULL;
		shared_tls.host = shared_tls.ca_file = NULL;
	}
	pthread_mutex_unlock(&shared_tls.lock);
}

static void relay_free(void *impl)
{
	struct relay *r = impl;

	if (!r)
		return;
	free(r->host);
	free(r->hostport);
	free(r->user);
	if (r->password) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	free(r->helo);
	free(r->ca_file);
	if (r->ssl)
		tls_ctx_put(r->ssl);
	free(r);
}

/*
 * What can be known wrong with the smtp settings before any session: the
 * refusals transport_smtp_new makes. loopback: every address the host has
 * now is a loopback one.
 */
static int relay_check(const struct conf *cfg, bool loopback,
		       struct error *err)
{
	const struct conf_smtp *c = &cfg->smtp;

	if (!c->host || !*c->host)
		return error_set(err, ERR_CONFIG,
				 "transport.smtp.host is not set");
	if (strchr(c->host, ':'))
		return error_set(err, ERR_CONFIG,
				 "transport.smtp.host %s: libESMTP cannot use "
				 "an IPv6 address literal; use a host name",
				 c->host);
	if (c->user && !c->password)
		return error_set(err, ERR_CONFIG,
				 "transport.smtp.user is set but no password "
				 "(transport.smtp.password_file)");
	if (c->user && !loopback &&
	    (c->tls == TLS_NONE || c->tls == TLS_OPPORTUNISTIC))
		return error_set(err, ERR_CONFIG,
				 "transport.smtp.tls = %s would send the AUTH "
				 "password to %s unencrypted; use required",
				 conf_tls_name(c->tls), c->host);
	return 0;
}

int transport_smtp_check(const struct conf *cfg, struct error *err)
{
	const struct conf_smtp *c = &cfg->smtp;
	struct relay r = {0};
	SSL_CTX *ctx;
	int rc;

	rc = relay_check(cfg, c->host && host_is_loopback(c->host), err);
	if (rc < 0 || c->tls == TLS_NONE)
		return rc;
	/* auto may need TLS in any session: its trust store must load. */
	r.host = c->host;
	ctx = make_ssl_ctx(&r, c->ca_file, err);
	if (!ctx)
		return err ? err->code : ERR_CONFIG;
	SSL_CTX_free(ctx);
	return 0;
}

int transport_smtp_new(const struct conf *cfg, void **impl,
		       struct error *err)
{
	const struct conf_smtp *c = &cfg->smtp;
	const char *nagle = getenv("CHANCERY_SMTP_KEEP_NAGLE");
	const char *delack = getenv("CHANCERY_SMTP_KEEP_DELAYED_ACK");
	struct relay *r;
	bool loopback;
	int rc;

	pthread_once(&smtp_once, smtp_global_init);
	loopback = c->host && host_is_loopback(c->host);
	rc = relay_check(cfg, loopback, err);
	if (rc < 0)
		return rc;
	r = xcalloc(1, sizeof(*r));
	r->host = xstrdup(c->host);
	r->port = c->port;
	r->hostport = xasprintf("%s:%d", c->host, c->port);
	r->tls = c->tls;
	r->ca_file = xstrdup(c->ca_file);
	r->user = xstrdup(c->user);
	r->password = xstrdup(c->password);
	r->helo = xstrdup(c->helo);
	r->connect_timeout_ms = (long)c->connect_timeout_ms;
	r->command_timeout_ms = (long)c->command_timeout_ms;
	r->per_connection = cfg->queue.messages_per_connection > 0
				    ? cfg->queue.messages_per_connection
				    : 1;
	r->keep_nagle = nagle && *nagle && strcmp(nagle, "0") != 0;
	r->keep_delayed_ack = delack && *delack && strcmp(delack, "0") != 0;
	/* The trust store is loaded now when TLS is expected, so a bad
	 * ca_file is a configuration error; auto to a relay that is on
	 * loopback now loads it only if a session turns out to need it. */
	if (r->tls != TLS_NONE && !(r->tls == TLS_AUTO && loopback)) {
		r->ssl = tls_ctx_get(r, c->ca_file, err);
		if (!r->ssl) {
			relay_free(r);
			return err ? err->code : ERR_CONFIG;
		}
	}
	*impl = r;
	return 0;
}

int transport_smtp_probe(const struct conf *cfg, struct transport_message *msg,
			 transport_step_fn fn, void *arg,
			 struct transport_result *out, struct error *err)
{
	struct transport_message probe = {0};
	void *impl = NULL;
	int rc = transport_smtp_new(cfg, &impl, err);

	if (rc)
		return rc;
	if (!msg) {
		probe.envelope_from = cfg->sender.address;
		probe.recipient = cfg->sender.address;
		msg = &probe;
	}
	run_session(impl, msg, 1, fn, arg, msg == &probe);
	*out = msg->result;
	relay_free(impl);
	return 0;
}

const struct transport_ops transport_smtp_ops = {
	.name = "smtp",
	.send = relay_send,
	.free = relay_free,
};
