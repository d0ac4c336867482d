/*
 * page_login: signing in and out.
 *
 * Stable ids and names, for the browser tests:
 *   login-form       the form (POST /login)
 *   login-name       input name="name"
 *   login-password   input name="password"
 *   next             hidden input name="next" (where to go after)
 *   login-submit     the button
 *   error            the library's message (wrong name or password,
 *                    too many failed logins; try again in N seconds)
 *   logout-form / logout   in the layout of every signed-in page
 */
#include <stdlib.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/log.h"
#include "chancery/xalloc.h"
#include "pages.h"

/* A signed-in session lasts a working day. */
#define WEB_SESSION_TTL (10 * 3600)

/* next is followed only when it is a path of this site: "/x", never
 * "//host" or "/\host" (which browsers read as another site). */
static const char *safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strpbrk(next, "\r\n\t\\"))
		return "/";
	return next;
}

static void login_page(struct web_response *rs, const char *name,
		       const char *next, const char *error)
{
	struct sbuf *b = &rs->body;

	sbuf_reset(b);
	web_page_begin(b, "Sign in", NULL);
	web_raw(b, "<div class=\"login\">\n");
	if (error)
		web_error_box(b, error);
	web_raw(b, "<form method=\"post\" action=\"/login\" id=\"login-form\">\n"
		   "<fieldset><legend>Console account</legend>\n"
		   "<label for=\"login-name\">Name</label>\n");
	web_htmlf(b, "<input type=\"text\" id=\"login-name\" name=\"name\" "
		     "value=\"%s\" autocomplete=\"username\" required "
		     "autofocus>\n", name ? name : "");
	web_raw(b, "<label for=\"login-password\">Password</label>\n"
		   "<input type=\"password\" id=\"login-password\" "
		   "name=\"password\" autocomplete=\"current-password\" "
		   "required>\n");
	web_htmlf(b, "<input type=\"hidden\" id=\"next\" name=\"next\" "
		     "value=\"%s\">\n", safe_next(next));
	web_raw(b, "<p><button type=\"submit\" id=\"login-submit\">Sign in"
		   "</button></p>\n</fieldset>\n</form>\n</div>\n");
	web_page_end(b);
}

WEB_HANDLER(page_login_form)
{
	(void)ctx;
	login_page(rs, NULL, web_param(rq, "next"), NULL);
	return 0;
}

static char *session_cookie(const char *value, bool secure, bool expire)
{
	struct sbuf c = SBUF_INIT;

	sbuf_addf(&c, "chancery_session=%s; HttpOnly; SameSite=Strict; "
		      "Path=/", value);
	if (expire)
		sbuf_addstr(&c, "; Max-Age=0");
	if (secure)
		sbuf_addstr(&c, "; Secure");
	return sbuf_detach(&c, NULL);
}

WEB_HANDLER(page_login_submit)
{
	const char *name = web_param(rq, "name");
	const char *password = web_param(rq, "password");
	struct user_session s = {0};
	struct error err = ERROR_INIT;
	int rc;

	rc = user_login(ctx->db, name ? name : "", password ? password : "",
			rq->client, clock_now(), WEB_SESSION_TTL, &s, &err);
	if (rc) {
		/* the name is not logged: it may be a password typed into
		 * the wrong field */
		log_warn("web: failed login from %s: %s", rq->client,
			 err.msg);
		login_page(rs, name, web_param(rq, "next"), err.msg);
		rs->status = rc == ERR_TEMPFAIL ? 429 : 403;
		return 0;
	}
	log_info("web: %s signed in from %s", s.user.name, rq->client);
	free(rs->set_cookie);
	rs->set_cookie = session_cookie(s.token, ctx->secure_cookie, false);
	user_session_release(&s);
	return web_redirect(rs, safe_next(web_param(rq, "next")));
}

WEB_HANDLER(page_logout)
{
	struct error err = ERROR_INIT;

	if (rq->token && user_logout(ctx->db, rq->token, &err))
		log_warn("web: sign-out of %s: %s", rq->session->user.name,
			 err.msg);
	free(rs->set_cookie);
	rs->set_cookie = session_cookie("", ctx->secure_cookie, true);
	return web_redirect(rs, "/login");
}
