/*
 * imap: the session after libcurl's login (see imap.h). One command at a
 * time: "Cn COMMAND", then lines until the tagged answer; a line ending in
 * "{n}" is followed by n bytes of literal, which only a FETCH's handler
 * expects (anything else is read and dropped to stay in step).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce_report.h"
#include "chancery/clock.h"
#include "chancery/imap.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"

/* A response line longer than this is not one we asked for. */
#define LINE_MAX_LEN (64 * 1024)
/* How often a wait looks at p->interrupted. */
#define WAIT_SLICE_MS 250

/* ---- URLs ---- */

static bool mailbox_ok(const char *m)
{
	for (const unsigned char *c = (const unsigned char *)m; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return false;
	return *m != '\0';
}

void imap_url_release(struct imap_url *u)
{
	free(u->host);
	free(u->mailbox);
	free(u->base);
	memset(u, 0, sizeof(*u));
}

/* The URL for a message: any user or password in it replaced by "...". */
static char *redacted(const char *url)
{
	const char *start = strstr(url, "://"), *at, *end;
	char *shown;

	start = start ? start + 3 : url;
	end = start + strcspn(start, "/?#");
	at = memchr(start, '@', (size_t)(end - start));
	shown = at ? xasprintf("%.*s...%s", (int)(start - url), url, at)
		   : xstrdup(url);
	for (char *c = shown; *c; c++) /* one line, whatever it holds */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return shown;
}

int imap_url_parse(const char *url, struct imap_url *u, struct error *err)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *part = NULL, *path = NULL;
	const char *why = NULL;
	int rc = 0;

	memset(u, 0, sizeof(*u));
	if (!url || !*url) {
		why = "empty";
		goto out;
	}
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		why = "not a URL";
		goto out;
	}
	if (strcmp(scheme, "imaps") != 0 && strcmp(scheme, "imap") != 0) {
		why = "not imap:// or imaps://";
		goto out;
	}
	u->implicit_tls = strcmp(scheme, "imaps") == 0;
	if (curl_url_get(h, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK) {
		why = "a user or password in the URL (use inbox.imap_user "
		      "and a password file)";
		goto out;
	}
	if (curl_url_get(h, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		why = "a query or fragment";
		goto out;
	}
	if (curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK ||
	    !*u->host) {
		why = "no host";
		goto out;
	}
	if (curl_url_get(h, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		why = "no port";
		goto out;
	}
	u->port = atoi(part);
	if (curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    strchr(path, ';')) {
		why = "URL parameters (such as ;UID=) after the mailbox";
		goto out;
	}
	curl_free(path);
	path = NULL;
	if (curl_url_get(h, CURLUPART_PATH, &path, CURLU_URLDECODE) !=
	    CURLUE_OK) {
		why = "a mailbox name that does not decode";
		goto out;
	}
	u->mailbox = xstrdup(path[0] == '/' && path[1] ? path + 1 : "INBOX");
	if (!mailbox_ok(u->mailbox)) {
		why = "a mailbox name outside printable ASCII";
		goto out;
	}
	u->base = xasprintf("%s://%s:%d/", scheme, u->host, u->port);
out:
	if (why) {
		char *shown = redacted(url ? url : "");

		rc = error_set(err, ERR_CONFIG, "IMAP URL '%s': %s", shown, why);
		free(shown);
		imap_url_release(u);
	} else {
		/* curl's strings and ours must be freed alike */
		char *host = xstrdup(u->host);

		curl_free(u->host);
		u->host = host;
	}
	curl_free(scheme);
	curl_free(part);
	curl_free(path);
	curl_url_cleanup(h);
	return rc;
}

/* ---- parsing ---- */

long long imap_literal_size(const char *line, size_t len)
{
	size_t i;
	long long n = 0;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	i = len - 2;
	if (line[i] == '+') /* LITERAL+ */
		i--;
	if (!isdigit((unsigned char)line[i]))
		return -1;
	while (i > 0 && isdigit((unsigned char)line[i]))
		i--;
	if (line[i] != '{')
		return -1;
	for (size_t j = i + 1; isdigit((unsigned char)line[j]); j++) {
		if (n > (LLONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (line[j] - '0');
	}
	return n;
}

static int by_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int imap_parse_search(const char *line, uint32_t **uids, size_t *n)
{
	const char *p;
	size_t alloc = 0;

	*uids = NULL;
	*n = 0;
	if (strncasecmp(line, "* SEARCH", 8) != 0 ||
	    (line[8] != '\0' && line[8] != ' '))
		return -1;
	for (p = line + 8; *p;) {
		unsigned long long v = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (unsigned)(*p++ - '0');
			if (v > UINT32_MAX)
				goto bad;
		}
		if ((*p && *p != ' ') || v == 0)
			goto bad;
		xgrow(uids, sizeof(**uids), *n + 1, &alloc);
		(*uids)[(*n)++] = (uint32_t)v;
	}
	if (*n)
		qsort(*uids, *n, sizeof(**uids), by_uid);
	return 0;
bad:
	free(*uids);
	*uids = NULL;
	*n = 0;
	return -1;
}

uint32_t imap_response_code(const char *line, const char *name)
{
	size_t nl = strlen(name);
	const char *p;
	unsigned long long v = 0;

	if (strncasecmp(line, "* OK [", 6) != 0 ||
	    strncasecmp(line + 6, name, nl) != 0 || line[6 + nl] != ' ')
		return 0;
	for (p = line + 7 + nl; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return *p == ']' ? (uint32_t)v : 0;
}

/* ---- the session ---- */

struct session {
	const struct imap_params *p;
	struct imap_url url;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	curl_socket_t sock;
	struct sbuf in;      /* received, not yet consumed */
	size_t pos;          /* consumed bytes of in */
	unsigned tag;
	char where[300];     /* "host:port", for messages */
	/* what SELECT said */
	uint32_t uidvalidity;
	bool keywords;       /* PERMANENTFLAGS has \* */
};

static int lost(struct session *s, struct error *err, const char *what)
{
	return error_set(err, ERR_UNAVAILABLE, "IMAP %s: %s", s->where, what);
}

/* Waits until the socket is readable (or writable); ERR_UNAVAILABLE
 * after the timeout, ERR_TEMPFAIL when interrupted. */
static int wait_socket(struct session *s, bool write, struct error *err)
{
	int64_t deadline = clock_mono_ms() + s->p->timeout_ms;

	for (;;) {
		struct pollfd pfd = {.fd = s->sock,
				     .events = write ? POLLOUT : POLLIN};
		int64_t left = deadline - clock_mono_ms();
		int n;

		if (s->p->interrupted && s->p->interrupted(s->p->arg))
			return error_set(err, ERR_TEMPFAIL, "IMAP %s: interrupted",
					 s->where);
		if (left <= 0)
			return error_set(err, ERR_UNAVAILABLE,
					 "IMAP %s: no answer within %lld s",
					 s->where,
					 (long long)(s->p->timeout_ms / 1000));
		n = poll(&pfd, 1, left < WAIT_SLICE_MS ? (int)left
						      : WAIT_SLICE_MS);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return error_set_errno(err, ERR_OS, "IMAP %s: poll",
					       s->where);
	}
}

/* Reads more into s->in; 0, or an error when the connection ended. */
static int fill(struct session *s, struct error *err)
{
	char buf[16384];

	/* what was consumed goes, so a session never holds more than one
	 * message and a line */
	if (s->pos > 0) {
		memmove(s->in.buf, s->in.buf + s->pos, s->in.len - s->pos);
		sbuf_setlen(&s->in, s->in.len - s->pos);
		s->pos = 0;
	}
	for (;;) {
		size_t n = 0;
		CURLcode c = curl_easy_recv(s->curl, buf, sizeof(buf), &n);
		int rc;

		if (c == CURLE_OK && n > 0) {
			sbuf_add(&s->in, buf, n);
			return 0;
		}
		if (c == CURLE_OK)
			return lost(s, err, "the server closed the connection");
		if (c != CURLE_AGAIN)
			return lost(s, err, curl_easy_strerror(c));
		if ((rc = wait_socket(s, false, err)))
			return rc;
	}
}

/* The next line, without its CRLF, in *line (valid until the next read). */
static int read_line(struct session *s, const char **line, size_t *len,
		     struct error *err)
{
	for (;;) {
		const char *start = s->in.buf + s->pos;
		const char *nl = memchr(start, '\n', s->in.len - s->pos);
		int rc;

		if (nl) {
			size_t n = (size_t)(nl - start);

			s->pos += n + 1;
			if (n && start[n - 1] == '\r')
				n--;
			/* the line ends where the next one began: terminate */
			((char *)start)[n] = '\0';
			*line = start;
			*len = n;
			return 0;
		}
		if (s->in.len - s->pos > LINE_MAX_LEN)
			return error_set(err, ERR_PROTOCOL,
					 "IMAP %s: a response line longer than "
					 "%d bytes",
					 s->where, LINE_MAX_LEN);
		if ((rc = fill(s, err)))
			return rc;
	}
}

/* n bytes of literal: appended to out, or dropped when out is NULL. */
static int read_literal(struct session *s, size_t n, struct sbuf *out,
			struct error *err)
{
	while (n) {
		size_t have = s->in.len - s->pos, take = have < n ? have : n;
		int rc;

		if (!take) {
			if ((rc = fill(s, err)))
				return rc;
			continue;
		}
		if (out)
			sbuf_add(out, s->in.buf + s->pos, take);
		s->pos += take;
		n -= take;
	}
	return 0;
}

static int send_all(struct session *s, const char *data, size_t len,
		    struct error *err)
{
	while (len) {
		size_t n = 0;
		CURLcode c = curl_easy_send(s->curl, data, len, &n);
		int rc;

		if (c == CURLE_AGAIN) {
			if ((rc = wait_socket(s, true, err)))
				return rc;
			continue;
		}
		if (c != CURLE_OK)
			return lost(s, err, curl_easy_strerror(c));
		data += n;
		len -= n;
	}
	return 0;
}

/* Called with each untagged line of a command's answer; may read the
 * literal the line announces (else it is dropped). */
typedef int (*untagged_fn)(struct session *s, const char *line, size_t len,
			   void *arg, struct error *err);

/* The server's words, made safe for a one-line message. */
static void server_text(const char *line, char *out, size_t size)
{
	size_t j = 0;

	for (const char *c = line; *c && j + 1 < size; c++)
		out[j++] = (unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e
			   ? '?' : *c;
	out[j] = '\0';
}

/*
 * Sends one command and reads its answer. 0 on OK; on NO or BAD the code
 * given (what the caller makes of a refusal), naming the command and the
 * server's words.
 */
static int command(struct session *s, untagged_fn fn, void *arg,
		   int refused, struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int command(struct session *s, untagged_fn fn, void *arg,
		   int refused, struct error *err, const char *fmt, ...)
{
	struct sbuf cmd = SBUF_INIT;
	char tag[16], said[200];
	size_t tlen;
	va_list ap;
	int rc;

	snprintf(tag, sizeof(tag), "C%u", ++s->tag);
	tlen = strlen(tag);
	sbuf_addf(&cmd, "%s ", tag);
	va_start(ap, fmt);
	sbuf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	sbuf_addstr(&cmd, "\r\n");
	rc = send_all(s, cmd.buf, cmd.len, err);
	/* the command's name, for messages: up to its first argument */
	cmd.buf[tlen + 1 + strcspn(cmd.buf + tlen + 1, " \r")] = '\0';
	while (!rc) {
		const char *line = "";
		size_t len = 0;
		long long lit;

		if ((rc = read_line(s, &line, &len, err)))
			break;
		if (strncmp(line, tag, tlen) == 0 && line[tlen] == ' ') {
			const char *st = line + tlen + 1;

			if (strncasecmp(st, "OK", 2) == 0)
				break;
			server_text(st, said, sizeof(said));
			rc = error_set(err, refused, "IMAP %s: %s refused: %s",
				       s->where, cmd.buf + tlen + 1, said);
			break;
		}
		if (strncmp(line, "* BYE", 5) == 0 && !fn) {
			server_text(line + 2, said, sizeof(said));
			rc = lost(s, err, said);
			break;
		}
		if (fn && line[0] == '*') {
			rc = fn(s, line, len, arg, err);
			continue;
		}
		lit = imap_literal_size(line, len);
		if (lit >= 0)
			rc = read_literal(s, (size_t)lit, NULL, err);
	}
	sbuf_release(&cmd);
	return rc;
}

static int on_select(struct session *s, const char *line, size_t len,
		     void *arg, struct error *err)
{
	uint32_t v = imap_response_code(line, "UIDVALIDITY");
	long long lit = imap_literal_size(line, len);

	(void)arg;
	if (v)
		s->uidvalidity = v;
	if (strncasecmp(line, "* OK [PERMANENTFLAGS ", 21) == 0 &&
	    strstr(line, "\\*"))
		s->keywords = true;
	return lit >= 0 ? read_literal(s, (size_t)lit, NULL, err) : 0;
}

struct search {
	uint32_t *uids;
	size_t n;
};

static int on_search(struct session *s, const char *line, size_t len,
		     void *arg, struct error *err)
{
	struct search *r = arg;
	uint32_t *uids;
	size_t n;
	long long lit = imap_literal_size(line, len);

	if (lit >= 0)
		return read_literal(s, (size_t)lit, NULL, err);
	if (strncasecmp(line, "* SEARCH", 8) != 0)
		return 0;
	if (imap_parse_search(line, &uids, &n))
		return error_set(err, ERR_PROTOCOL,
				 "IMAP %s: a SEARCH answer not understood",
				 s->where);
	free(r->uids);
	r->uids = uids;
	r->n = n;
	return 0;
}

struct fetch {
	uint32_t uid;
	struct sbuf body;
	bool got, too_large;
};

/* "* n FETCH (UID u BODY[] {len}": the literal is the message. */
static int on_fetch(struct session *s, const char *line, size_t len,
		    void *arg, struct error *err)
{
	struct fetch *f = arg;
	long long lit = imap_literal_size(line, len);
	const char *uid = strcasestr(line, "UID ");
	/* the UID may come before the literal or after it */
	bool ours = strcasestr(line, " FETCH (") && strcasestr(line, "BODY[]") &&
		    (!uid || strtoul(uid + 4, NULL, 10) == f->uid);

	if (lit < 0)
		return 0;
	if (!ours || f->got)
		return read_literal(s, (size_t)lit, NULL, err);
	f->got = true;
	if ((unsigned long long)lit > s->p->max_size) {
		f->too_large = true;
		return read_literal(s, (size_t)lit, NULL, err);
	}
	sbuf_grow(&f->body, (size_t)lit);
	return read_literal(s, (size_t)lit, &f->body, err);
}

/* The mailbox name as an IMAP quoted string. */
static void add_quoted(struct sbuf *out, const char *m)
{
	sbuf_addch(out, '"');
	for (; *m; m++) {
		if (*m == '"' || *m == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, *m);
	}
	sbuf_addch(out, '"');
}

/* What libcurl's connect and login failing means, in one line. */
static int connect_error(struct session *s, CURLcode c, struct error *err)
{
	const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror(c);

	switch (c) {
	case CURLE_LOGIN_DENIED:
		return error_set(err, ERR_NOPERM,
				 "IMAP %s: login refused for user '%s'",
				 s->where, s->p->user);
	case CURLE_PEER_FAILED_VERIFICATION:
		return error_set(err, ERR_UNAVAILABLE,
				 "IMAP %s: TLS: the server's certificate is "
				 "not accepted: %s",
				 s->where, detail);
	case CURLE_SSL_CACERT_BADFILE:
		return error_set(err, ERR_CONFIG,
				 "IMAP %s: CA file %s: %s", s->where,
				 s->p->ca_file ? s->p->ca_file : "(system)",
				 detail);
	case CURLE_USE_SSL_FAILED:
		return error_set(err, ERR_UNAVAILABLE,
				 "IMAP %s: the server does not offer STARTTLS, "
				 "and chancery logs in only over TLS",
				 s->where);
	case CURLE_SSL_CONNECT_ERROR:
		return error_set(err, ERR_UNAVAILABLE,
				 "IMAP %s: TLS handshake failed: %s", s->where,
				 detail);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
		return error_set(err, ERR_UNAVAILABLE,
				 "IMAP %s: cannot connect: %s", s->where,
				 detail);
	case CURLE_ABORTED_BY_CALLBACK:
		return error_set(err, ERR_TEMPFAIL, "IMAP %s: interrupted",
				 s->where);
	default:
		return error_set(err, ERR_UNAVAILABLE, "IMAP %s: %s", s->where,
				 detail);
	}
}

static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	const struct imap_params *p = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return p->interrupted && p->interrupted(p->arg);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Connects, starts TLS and logs in (all libcurl's). */
static int session_open(struct session *s, struct error *err)
{
	const struct imap_params *p = s->p;
	long secs = (long)((p->timeout_ms + 999) / 1000);
	CURLcode c;

	pthread_once(&curl_once, curl_start);
	s->curl = curl_easy_init();
	if (!s->curl)
		return error_set(err, ERR_SOFTWARE, "IMAP: libcurl failed to "
				 "start");
	curl_easy_setopt(s->curl, CURLOPT_URL, s->url.base);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(s->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(s->curl, CURLOPT_USERNAME, p->user);
	curl_easy_setopt(s->curl, CURLOPT_PASSWORD, p->password);
	curl_easy_setopt(s->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(s->curl, CURLOPT_SSLVERSION,
			 (long)CURL_SSLVERSION_TLSv1_2);
	if (p->ca_file)
		curl_easy_setopt(s->curl, CURLOPT_CAINFO, p->ca_file);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)p->timeout_ms);
	/* the login; what follows has its own waits (wait_socket) */
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms * 2);
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, secs);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, (void *)p);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
	/* never CURLOPT_VERBOSE: its trace would carry the login */
	c = curl_easy_perform(s->curl);
	if (c != CURLE_OK)
		return connect_error(s, c, err);
	if (curl_easy_getinfo(s->curl, CURLINFO_ACTIVESOCKET, &s->sock) !=
		    CURLE_OK ||
	    s->sock == CURL_SOCKET_BAD)
		return lost(s, err, "no connection after the login");
	return 0;
}

static void session_close(struct session *s)
{
	if (s->curl)
		curl_easy_cleanup(s->curl);
	s->curl = NULL;
	sbuf_release(&s->in);
	imap_url_release(&s->url);
}

/* Fetches, hands over and flags one message. */
static int take_one(struct session *s, uint32_t uid, struct imap_stats *st,
		    struct error *err)
{
	const struct imap_params *p = s->p;
	struct fetch f = {.uid = uid, .body = SBUF_INIT};
	struct error why = ERROR_INIT;
	char *origin = xasprintf("%s%s;UIDVALIDITY=%u;UID=%u", s->url.base,
				 s->url.mailbox, s->uidvalidity, uid);
	int rc = command(s, on_fetch, &f, ERR_PROTOCOL, err,
			 "UID FETCH %u (UID BODY.PEEK[])", uid);

	if (!rc && !f.got) /* gone since the search (expunged elsewhere) */
		goto out;
	if (!rc && f.too_large) {
		error_set(&why, ERR_DATA, "%s: larger than %zu bytes; left "
			  "unread", origin, p->max_size);
	} else if (!rc) {
		struct imap_message m = {uid, s->uidvalidity, origin, f.body.buf,
					 f.body.len};

		rc = p->take(&m, p->arg, &why);
		if (rc == ERR_DATA)
			rc = 0;
		else if (rc)
			*err = why;
		else
			rc = command(s, NULL, NULL, ERR_PROTOCOL, err,
				     "UID STORE %u +FLAGS.SILENT (\\Seen%s)",
				     uid, s->keywords ? " $Chancery" : "");
		if (!rc && !why.code)
			st->taken++;
	}
	if (!rc && why.code) {
		st->skipped++;
		if (p->skipped)
			p->skipped(origin, &why, p->arg);
	}
out:
	sbuf_release(&f.body);
	free(origin);
	return rc;
}

int imap_fetch_unread(const struct imap_params *p, struct imap_stats *st,
		      struct error *err)
{
	struct session s = {.p = p, .in = SBUF_INIT, .sock = CURL_SOCKET_BAD};
	struct search found = {NULL, 0};
	struct sbuf mbox = SBUF_INIT;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = imap_url_parse(p->url, &s.url, err);
	if (rc)
		goto out;
	snprintf(s.where, sizeof(s.where), "%s:%d", s.url.host, s.url.port);
	if (!p->user || !p->password) {
		rc = error_set(err, ERR_CONFIG,
			       "IMAP %s: no %s (inbox.imap_user, "
			       "inbox.imap_password_file)",
			       s.where, p->user ? "password" : "user");
		goto out;
	}
	if ((rc = session_open(&s, err)))
		goto out;
	add_quoted(&mbox, s.url.mailbox);
	rc = command(&s, on_select, NULL, ERR_NOINPUT, err, "SELECT %s",
		     mbox.buf);
	if (!rc && !s.uidvalidity)
		rc = error_set(err, ERR_PROTOCOL,
			       "IMAP %s: SELECT %s gave no UIDVALIDITY",
			       s.where, s.url.mailbox);
	if (!rc)
		rc = command(&s, on_search, &found, ERR_PROTOCOL, err,
			     "UID SEARCH UNSEEN");
	if (rc)
		goto out;
	st->unread = found.n;
	for (size_t i = 0; i < found.n && !rc; i++) {
		if (p->max_messages && st->taken + st->skipped >= p->max_messages)
			break;
		rc = take_one(&s, found.uids[i], st, err);
	}
	if (!rc)
		command(&s, NULL, NULL, ERR_PROTOCOL, &(struct error)ERROR_INIT,
			"LOGOUT");
out:
	free(found.uids);
	sbuf_release(&mbox);
	session_close(&s);
	return rc;
}

void imap_params_from_conf(struct imap_params *p, const struct conf *cfg)
{
	memset(p, 0, sizeof(*p));
	p->url = cfg->imap.url;
	p->user = cfg->imap.user;
	p->password = cfg->imap.password;
	p->ca_file = cfg->imap.ca_file;
	p->timeout_ms = cfg->imap.timeout_ms;
	p->max_size = BOUNCE_MAX_SIZE;
}

int imap_check_config(const struct conf *cfg, struct error *err)
{
	struct imap_url u;
	int rc;

	if (!cfg->imap.url)
		return 0;
	rc = imap_url_parse(cfg->imap.url, &u, err);
	if (rc) {
		error_prefix(err, "%s: inbox.imap_url",
			     cfg->path ? cfg->path : "configuration");
		return rc;
	}
	imap_url_release(&u);
	if (!cfg->imap.user || !cfg->imap.password)
		return error_set(err, ERR_CONFIG,
				 "%s: inbox.imap_url is set but inbox.imap_%s "
				 "is not",
				 cfg->path ? cfg->path : "configuration",
				 cfg->imap.user ? "password_file" : "user");
	return 0;
}
