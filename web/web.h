/*
 * chancery-web: the office's console, an HTTP server on libmicrohttpd
 * over the same library and database as the CLI. This header is shared by
 * the program's files only (web/), never by lib/.
 *
 * One thread: libmicrohttpd's internal polling thread runs every request
 * in turn on the one database connection, as the CLI does. An office of a
 * few people never needs more, and the library's connection and caches
 * are then never shared between threads.
 *
 * A request reaches a handler only after the server has: matched a route
 * (method and path), found the session (or sent the browser to /login),
 * checked the route's action against the role (403 otherwise), and for
 * every POST checked the form's csrf field against the session (403
 * otherwise). The handler sets db_actor to the session's user before any
 * change (web_server does it), fills the response, and never writes
 * unescaped text into HTML: web_html/web_htmlf escape, web_raw is for
 * fixed markup only.
 *
 * Errors from the library are shown with the library's own text
 * (err.msg), the same as the CLI prints.
 */
#ifndef CHANCERY_WEB_H
#define CHANCERY_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/sbuf.h"
#include "chancery/user.h"

/* What every handler can reach. */
struct web_ctx {
	struct db *db;
	const struct conf *cfg;
	const char *conf_path; /* the configuration file the server read */
	bool secure_cookie;    /* Secure on cookies (off only for plain
				  loopback tests: --insecure-cookie) */
};

/* One parameter of the query string or the posted form. */
struct web_param {
	char *name;
	char *value;
	size_t len; /* value's length (an uploaded file may hold NULs) */
	char *filename; /* set for a multipart file field, else NULL */
};

struct web_request {
	const char *method; /* "GET" or "POST" */
	const char *path;   /* without the query string */
	const char *client; /* the peer's address, for the login throttle */
	struct web_param *params; /* query then form, in order */
	size_t nparams;
	struct user_session *session; /* NULL only on public routes */
	const char *token; /* the session cookie's value, or NULL (logout) */
};

/* The last value of name, or NULL. */
const char *web_param(const struct web_request *rq, const char *name);
/* Whether a checkbox (or any on/off field) name is on: given, not empty
 * and not "0". */
bool web_ticked(const struct web_request *rq, const char *name);
/* The whole parameter (for uploads), or NULL. */
const struct web_param *web_param_get(const struct web_request *rq,
				      const char *name);

struct web_response {
	int status;         /* 200 unless set */
	const char *type;   /* "text/html; charset=utf-8" unless set */
	struct sbuf body;
	char *location;     /* a redirect (303) target, owned */
	char *set_cookie;   /* a Set-Cookie value, owned */
	bool cacheable;     /* static assets: cached an hour; pages never
			       (Cache-Control: no-store) */
};

/* A handler fills rs and returns 0 (web_fail and web_redirect return 0
 * too); a non-zero return with no error status set becomes a 500 page. */
typedef int (*web_handler)(struct web_ctx *ctx, const struct web_request *rq,
			   struct web_response *rs);

/* A route: exact path, or a prefix when the path ends in '/' and
 * prefix is true (the handler reads the rest of rq->path). */
struct web_route {
	const char *method;
	const char *path;
	bool prefix;
	enum user_action need; /* checked against the session's role */
	bool public_route;     /* no session needed (login, assets) */
	web_handler handler;
};

/* The table, ending with a zeroed entry (web/routes.c). */
extern const struct web_route web_routes[];

/* ---- HTML (web/html.c) ---- */

/* Escapes &, <, >, " and ' for text and attribute values. */
void web_html(struct sbuf *out, const char *text);
/* printf into out, every %s argument escaped (only %s, %d, %lld, %%). */
void web_htmlf(struct sbuf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fixed markup, never user data. */
void web_raw(struct sbuf *out, const char *markup);
/* A percent-encoded path or query component. */
void web_url(struct sbuf *out, const char *component);

/* The layout: head (CSP-compatible: no inline script or style),
 * navigation by role, the signed-in user and a sign-out form; then the
 * page's title as <h1>. */
void web_page_begin(struct sbuf *out, const char *title,
		    const struct user_session *s);
void web_page_end(struct sbuf *out);
/* <form method="post" action=ACTION> with the session's csrf field. */
void web_form_begin(struct sbuf *out, const char *action,
		    const struct user_session *s);
void web_form_end(struct sbuf *out);
/* A notice box: the library's error text or a success line. */
void web_error_box(struct sbuf *out, const char *message);
void web_notice_box(struct sbuf *out, const char *message);

/* "local (utc)" for instant t in zone, as the CLI writes it: what a
 * campaign's send time is shown as (96 bytes hold it). */
void web_format_when(const char *zone, int64_t t, char *buf, size_t size);

/*
 * The HTTP status of a library error code, the same on every page: the
 * request was wrong (usage, data) 400, not allowed 403, unknown 404,
 * busy or unavailable now (a locked database, the relay) 503 so that
 * the office tries again, and a fault on the server's side 500.
 */
int web_error_status(int rc);
/* A complete error page (status 400, 403, 404, 500 or 503) with the text. */
int web_fail(struct web_response *rs, int status,
	     const struct web_request *rq, const char *message);
/* 303 to location (a path of this site). */
int web_redirect(struct web_response *rs, const char *location);

/* ---- the server (web/server.c) ---- */

struct web_listen {
	const char *address;  /* "127.0.0.1:8025", "[::1]:8025"; port 0:
				 any free one (printed) */
	const char *tls_cert; /* PEM text (not a path), or NULL: plain HTTP */
	const char *tls_key;  /* PEM text of its key */
};

/* Listens, prints "chancery-web: listening on URL" on stdout, and serves
 * until SIGINT or SIGTERM. ERR_USAGE for a malformed address, ERR_OS when
 * it cannot listen. */
int web_serve(struct web_ctx *ctx, const struct web_listen *l,
	      struct error *err);

#endif
