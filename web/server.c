/*
 * server: the libmicrohttpd glue. Reads a request (query, cookies, form
 * or multipart upload), finds its route, the session, checks the role
 * and the CSRF token, runs the handler with db_actor set to the signed-in
 * person, and sends the response with the security headers every page
 * carries. One internal polling thread runs every request in turn on the
 * one database connection (web.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "chancery/clock.h"
#include "chancery/log.h"
#include "chancery/xalloc.h"
#include "pages.h"

/* A form or an upload larger than this is refused (413). */
#define WEB_BODY_MAX (16u << 20)
/* More fields than this in one request is refused as well. */
#define WEB_PARAMS_MAX 4096

static const char csp[] =
	"default-src 'none'; style-src 'self'; script-src 'self'; "
	"img-src 'self'; connect-src 'self'; form-action 'self'; "
	"frame-ancestors 'none'; "
	"base-uri 'none'";

/* What one request collects between libmicrohttpd's calls. */
struct conn_state {
	struct MHD_PostProcessor *pp;
	struct web_param *form;
	size_t nform, aform;
	size_t bytes;
	bool too_large;
	bool bad_form;
};

struct params {
	struct web_param *v;
	size_t n, alloc;
};

static void params_push(struct params *p, const char *name,
			const char *value, size_t len, const char *filename)
{
	struct web_param *w;

	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 16;
		p->v = xrealloc(p->v, p->alloc * sizeof(*p->v));
	}
	w = &p->v[p->n++];
	w->name = xstrdup(name ? name : "");
	w->value = xmalloc(len + 1);
	if (len)
		memcpy(w->value, value, len);
	w->value[len] = '\0';
	w->len = len;
	w->filename = xstrdup(filename);
}

static void params_free(struct web_param *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
		free(v[i].filename);
	}
	free(v);
}

const char *web_param(const struct web_request *rq, const char *name)
{
	const struct web_param *p = web_param_get(rq, name);

	return p ? p->value : NULL;
}

bool web_ticked(const struct web_request *rq, const char *name)
{
	const char *v = web_param(rq, name);

	return v && *v && strcmp(v, "0") != 0;
}

const struct web_param *web_param_get(const struct web_request *rq,
				      const char *name)
{
	for (size_t i = rq->nparams; i > 0; i--)
		if (strcmp(rq->params[i - 1].name, name) == 0)
			return &rq->params[i - 1];
	return NULL;
}

/* The form's fields as libmicrohttpd's post processor hands them over:
 * a field may come in pieces (off > 0 continues the last one). */
static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *filename,
				  const char *content_type,
				  const char *transfer_encoding,
				  const char *data, uint64_t off, size_t size)
{
	struct conn_state *cs = cls;
	struct params p = {cs->form, cs->nform, cs->aform};
	struct web_param *last;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (off > 0 && cs->nform > 0) {
		last = &cs->form[cs->nform - 1];
		last->value = xrealloc(last->value, last->len + size + 1);
		memcpy(last->value + last->len, data, size);
		last->len += size;
		last->value[last->len] = '\0';
		return MHD_YES;
	}
	if (cs->nform >= WEB_PARAMS_MAX) {
		cs->too_large = true;
		return MHD_NO;
	}
	params_push(&p, key, data, size, filename);
	cs->form = p.v;
	cs->nform = p.n;
	cs->aform = p.alloc;
	return MHD_YES;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	struct params *p = cls;

	(void)kind;
	if (p->n >= WEB_PARAMS_MAX)
		return MHD_NO;
	params_push(p, key, value ? value : "", value ? strlen(value) : 0,
		    NULL);
	return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *conn,
		      void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!cs)
		return;
	if (cs->pp)
		MHD_destroy_post_processor(cs->pp);
	params_free(cs->form, cs->nform);
	free(cs);
	*con_cls = NULL;
}

static void client_address(struct MHD_Connection *conn, char *out,
			   size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, size, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)(const void *)sa)
				   ->sin_addr, out, (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)
				   ->sin6_addr, out, (socklen_t)size);
}

static bool path_matches(const struct web_route *r, const char *path)
{
	size_t n;

	if (!r->prefix)
		return strcmp(r->path, path) == 0;
	n = strlen(r->path);
	return strncmp(r->path, path, n) == 0 && path[n] != '\0';
}

static bool method_matches(const struct web_route *r, const char *method)
{
	return strcmp(r->method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

/* The route for method and path; *path_known says whether another
 * method has one (405 rather than 404). */
static const struct web_route *route_find(const char *method,
					  const char *path, bool *path_known)
{
	*path_known = false;
	for (const struct web_route *r = web_routes; r->method; r++) {
		if (!path_matches(r, path))
			continue;
		if (method_matches(r, method))
			return r;
		*path_known = true;
	}
	return NULL;
}

static enum MHD_Result add_header(struct MHD_Response *resp,
				  const char *name, const char *value)
{
	/* libmicrohttpd refuses CR and LF in a value itself; a location or
	 * cookie made of user data is never built without escaping. */
	return MHD_add_response_header(resp, name, value);
}

static enum MHD_Result send_response(struct MHD_Connection *conn,
				     struct web_response *rs)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *body = sbuf_detach(&rs->body, &len);

	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		   rs->type ? rs->type : "text/html; charset=utf-8");
	add_header(resp, "Content-Security-Policy", csp);
	add_header(resp, "X-Content-Type-Options", "nosniff");
	add_header(resp, "Referrer-Policy", "same-origin");
	add_header(resp, "X-Frame-Options", "DENY");
	add_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	add_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		   rs->cacheable ? "public, max-age=3600" : "no-store");
	if (rs->location)
		add_header(resp, MHD_HTTP_HEADER_LOCATION, rs->location);
	if (rs->set_cookie)
		add_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rs->set_cookie);
	ret = MHD_queue_response(conn, (unsigned)rs->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void response_release(struct web_response *rs)
{
	sbuf_release(&rs->body);
	free(rs->location);
	free(rs->set_cookie);
}

/* The redirect to the login page, coming back to a GET's path. */
static void to_login(struct web_response *rs, const struct web_request *rq)
{
	struct sbuf loc = SBUF_INIT;

	sbuf_addstr(&loc, "/login");
	if (strcmp(rq->method, "GET") == 0 && strcmp(rq->path, "/") != 0) {
		sbuf_addstr(&loc, "?next=");
		web_url(&loc, rq->path);
	}
	web_redirect(rs, loc.buf);
	sbuf_release(&loc);
}

/*
 * A POST whose Origin names another site than Host is refused, before
 * any session: this covers the login form too, which has no session and
 * so no CSRF token yet. Browsers send Origin on every POST; a client
 * that sends none (curl, the tests) is judged by the token alone.
 */
static bool same_origin(struct MHD_Connection *conn)
{
	const char *origin = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *rest;

	if (!origin)
		return true;
	if (strncmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return false; /* "null" and anything else */
	return host && strcmp(rest, host) == 0;
}

/* Runs the checks web.h lists, then the handler. */
static void dispatch(struct web_ctx *ctx, struct MHD_Connection *conn,
		     struct web_request *rq, struct conn_state *cs,
		     struct web_response *rs)
{
	const struct web_route *route;
	struct user_session session = {0};
	struct error err = ERROR_INIT;
	const char *token;
	bool known, have_session = false;
	int rc;

	route = route_find(rq->method, rq->path, &known);
	if (strcmp(rq->method, "POST") == 0 && !same_origin(conn)) {
		web_fail(rs, 403, rq, "The form was sent from another site.");
		goto out;
	}
	token = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND,
					    "chancery_session");
	rq->token = token;
	if (route && route->public_route) {
		db_set_actor(ctx->db, NULL);
		goto run;
	}
	if (token && *token &&
	    user_session_find(ctx->db, token, clock_now(), &session,
			      &err) == 0)
		have_session = true;
	if (!have_session) {
		to_login(rs, rq);
		goto out;
	}
	rq->session = &session;
	if (!route) {
		web_fail(rs, known ? 405 : 404, rq,
			 known ? "This page does not take that method."
			       : "There is no such page.");
		goto out;
	}
	if (!user_may(session.user.role, route->need)) {
		web_fail(rs, 403, rq, "Your role does not allow this.");
		goto out;
	}
	if (strcmp(rq->method, "POST") == 0 &&
	    !user_session_csrf_ok(&session, web_param(rq, "csrf"))) {
		web_fail(rs, 403, rq,
			 "The form's security token is missing or stale: "
			 "reload the page and try again.");
		goto out;
	}
	db_set_actor(ctx->db, session.user.name);
run:
	if (!route) {
		web_fail(rs, 404, rq, "There is no such page.");
		goto out;
	}
	if (cs->too_large) {
		web_fail(rs, 413, rq, "The form or file is too large.");
		goto out;
	}
	if (cs->bad_form) {
		web_fail(rs, 400, rq, "The form could not be read.");
		goto out;
	}
	rc = route->handler(ctx, rq, rs);
	if (db_in_transaction(ctx->db)) {
		log_error("web: %s %s left a transaction open; rolled back",
			  rq->method, rq->path);
		while (db_in_transaction(ctx->db))
			db_rollback(ctx->db);
	}
	if (rc != 0 && rs->status < 400) {
		log_error("web: %s %s failed (%d)", rq->method, rq->path, rc);
		web_fail(rs, 500, rq, "Something went wrong; the server's "
				      "log says what.");
	}
out:
	db_set_actor(ctx->db, NULL);
	rq->session = NULL;
	if (have_session)
		user_session_release(&session);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct web_ctx *ctx = cls;
	struct conn_state *cs = *con_cls;
	struct web_request rq = {0};
	struct web_response rs = {.status = 200, .body = SBUF_INIT};
	struct params all = {0};
	char client[INET6_ADDRSTRLEN + 1];
	enum MHD_Result ret;

	(void)version;
	if (!cs) {
		cs = xcalloc(1, sizeof(*cs));
		*con_cls = cs;
		if (strcmp(method, "POST") == 0)
			cs->pp = MHD_create_post_processor(conn, 64 * 1024,
							   post_field, cs);
		return MHD_YES;
	}
	if (*upload_size) {
		cs->bytes += *upload_size;
		if (cs->bytes > WEB_BODY_MAX)
			cs->too_large = true;
		else if (cs->pp && !cs->too_large && !cs->bad_form &&
			 MHD_post_process(cs->pp, upload, *upload_size) !=
				 MHD_YES)
			cs->bad_form = !cs->too_large;
		*upload_size = 0;
		return MHD_YES;
	}

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg,
				  &all);
	for (size_t i = 0; i < cs->nform; i++)
		params_push(&all, cs->form[i].name, cs->form[i].value,
			    cs->form[i].len, cs->form[i].filename);
	client_address(conn, client, sizeof(client));
	rq.method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	rq.path = url;
	rq.client = client;
	rq.params = all.v;
	rq.nparams = all.n;
	dispatch(ctx, conn, &rq, cs, &rs);
	log_info("web: %s %s %d", method, url, rs.status);
	ret = send_response(conn, &rs);
	response_release(&rs);
	params_free(all.v, all.n);
	return ret;
}

/* libmicrohttpd's own messages (a refused connection, a TLS error). */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("web: libmicrohttpd: %s", line);
}

/* "ADDR:PORT", "[V6ADDR]:PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
			bool *v6, struct error *err)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = listen;
	size_t hlen;
	char *end;
	long port;

	colon = strrchr(listen, ':');
	if (!colon)
		goto bad;
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
		h = listen + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		goto bad;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*v6 = false;
		return 0;
	}
	if (inet_pton(AF_INET6, host,
		      &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return 0;
	}
bad:
	return error_set(err, ERR_USAGE,
			 "--listen '%s': not ADDR:PORT (an IP address and a "
			 "port, e.g. 127.0.0.1:8025 or [::1]:8025)", listen);
}

int web_serve(struct web_ctx *ctx, const struct web_listen *l,
	      struct error *err)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	sigset_t set;
	bool v6;
	int rc, sig;

	if ((rc = parse_listen(l->address, &ss, &v6, err)))
		return rc;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (l->tls_cert)
		flags |= MHD_USE_TLS;
	/* The polling thread starts with these blocked, so that only
	 * sigwait below takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (l->tls_cert)
		d = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, ctx,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)128,
			MHD_OPTION_HTTPS_MEM_CERT, l->tls_cert,
			MHD_OPTION_HTTPS_MEM_KEY, l->tls_key,
			MHD_OPTION_END);
	else
		d = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, ctx,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)128,
			MHD_OPTION_END);
	if (!d)
		return error_set(err, ERR_OS,
				 "cannot listen on %s (in use, or not an "
				 "address of this host; the log may say "
				 "more)", l->address);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	{
		char host[INET6_ADDRSTRLEN + 1] = "";
		unsigned port = info ? info->port : 0;

		if (v6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&ss)->sin6_addr,
				  host, sizeof(host));
		else
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&ss)->sin_addr,
				  host, sizeof(host));
		printf("chancery-web: listening on %s://%s%s%s:%u/\n",
		       l->tls_cert ? "https" : "http", v6 ? "[" : "", host,
		       v6 ? "]" : "", port);
		fflush(stdout);
		log_info("web: listening on %s%s%s:%u%s", v6 ? "[" : "", host,
			 v6 ? "]" : "", port, l->tls_cert ? " (TLS)" : "");
	}
	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig != SIGINT && sig != SIGTERM);
	log_info("web: stopping");
	MHD_stop_daemon(d);
	return 0;
}
