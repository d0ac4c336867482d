/*
 * html: escaping, the page layout and the error pages (web.h).
 *
 * Stable ids of the layout, for the browser tests:
 *   nav           the navigation bar; each link nav-NAME (nav-registry,
 *                 nav-lists, nav-templates, nav-campaigns, nav-audit,
 *                 nav-inbound) shown when its route exists
 *   whoami        the signed-in user's name and role
 *   logout-form / logout   the sign-out form and its button
 *   main          the page's content; page-title its <h1>
 *   error         the error box (role="alert"); notice the success box
 *   csrf          the hidden field name of every form (web_form_begin)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/calendar.h"
#include "chancery/clock.h"
#include "chancery/xalloc.h"
#include "pages.h"

void web_html(struct sbuf *out, const char *text)
{
	const char *p, *start;

	if (!text)
		return;
	for (p = start = text; *p; p++) {
		const char *rep;

		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		sbuf_add(out, start, (size_t)(p - start));
		sbuf_addstr(out, rep);
		start = p + 1;
	}
	sbuf_add(out, start, (size_t)(p - start));
}

void web_htmlf(struct sbuf *out, const char *fmt, ...)
{
	va_list ap;
	const char *p, *start;

	va_start(ap, fmt);
	for (p = start = fmt; *p; p++) {
		if (*p != '%')
			continue;
		sbuf_add(out, start, (size_t)(p - start));
		p++;
		if (*p == 's') {
			web_html(out, va_arg(ap, const char *));
		} else if (*p == 'd') {
			sbuf_addf(out, "%d", va_arg(ap, int));
		} else if (strncmp(p, "lld", 3) == 0) {
			sbuf_addf(out, "%lld", va_arg(ap, long long));
			p += 2;
		} else if (*p == '%') {
			sbuf_addch(out, '%');
		} else {
			/* a conversion this function does not know: a bug
			 * in the caller's fixed format; shown, not guessed */
			sbuf_addch(out, '%');
			if (!*p) {
				start = p;
				break;
			}
			sbuf_addch(out, *p);
		}
		start = p + 1;
	}
	sbuf_addstr(out, start);
	va_end(ap);
}

void web_raw(struct sbuf *out, const char *markup)
{
	sbuf_addstr(out, markup);
}

void web_url(struct sbuf *out, const char *component)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)component;
	     p && *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			sbuf_addch(out, *p);
		} else {
			sbuf_addch(out, '%');
			sbuf_addch(out, hex[*p >> 4]);
			sbuf_addch(out, hex[*p & 15]);
		}
	}
}

/* Whether the table has a GET route at path: the navigation shows only
 * the pages this build serves. */
static bool route_exists(const char *path)
{
	for (const struct web_route *r = web_routes; r->method; r++)
		if (strcmp(r->method, "GET") == 0 && strcmp(r->path, path) == 0)
			return true;
	return false;
}

void web_page_begin(struct sbuf *out, const char *title,
		    const struct user_session *s)
{
	static const struct {
		const char *id, *path, *label;
	} nav[] = {
		{"registry", "/registry", "Registry"},
		{"lists", "/lists", "Lists"},
		{"templates", "/templates", "Templates"},
		{"campaigns", "/campaigns", "Campaigns"},
		{"audit", "/audit", "Audit"},
		{"inbound", "/inbound", "Inbound"},
	};

	web_raw(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		     "<meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, "
		     "initial-scale=1\">\n");
	web_htmlf(out, "<title>%s · chancery</title>\n", title);
	web_raw(out, "<link rel=\"stylesheet\" href=\"/static/chancery.css\">\n"
		     "<script src=\"/static/chancery.js\" defer></script>\n"
		     "</head>\n<body>\n<header class=\"top\">\n"
		     "<a class=\"brand\" href=\"/\" id=\"brand\">chancery</a>\n");
	if (s) {
		web_raw(out, "<nav id=\"nav\">\n");
		for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
			if (!route_exists(nav[i].path))
				continue;
			web_htmlf(out, "<a id=\"nav-%s\" href=\"%s\">%s</a>\n",
				  nav[i].id, nav[i].path, nav[i].label);
		}
		web_raw(out, "</nav>\n<div class=\"who\">");
		web_htmlf(out, "<span id=\"whoami\">%s (%s)</span>\n",
			  s->user.name, user_role_name(s->user.role));
		web_form_begin(out, "/logout", s);
		web_raw(out, "<button type=\"submit\" id=\"logout\" "
			     "class=\"link\">Sign out</button>");
		web_form_end(out);
		web_raw(out, "</div>\n");
	}
	web_raw(out, "</header>\n<main id=\"main\">\n");
	web_htmlf(out, "<h1 id=\"page-title\">%s</h1>\n", title);
}

void web_page_end(struct sbuf *out)
{
	web_raw(out, "</main>\n</body>\n</html>\n");
}

void web_form_begin(struct sbuf *out, const char *action,
		    const struct user_session *s)
{
	web_htmlf(out, "<form method=\"post\" action=\"%s\">", action);
	if (s)
		web_htmlf(out, "<input type=\"hidden\" name=\"csrf\" "
			       "value=\"%s\">", s->csrf);
	web_raw(out, "\n");
}

void web_form_end(struct sbuf *out)
{
	web_raw(out, "</form>\n");
}

void web_error_box(struct sbuf *out, const char *message)
{
	web_htmlf(out, "<p class=\"box error\" id=\"error\" role=\"alert\">"
		       "%s</p>\n", message);
}

void web_notice_box(struct sbuf *out, const char *message)
{
	web_htmlf(out, "<p class=\"box notice\" id=\"notice\" "
		       "role=\"status\">%s</p>\n", message);
}

void web_format_when(const char *zone, int64_t t, char *buf, size_t size)
{
	char local[CALENDAR_FORMAT_SIZE], utc[24];

	calendar_format(zone, t, local, sizeof(local));
	clock_format_utc(t, utc, sizeof(utc));
	snprintf(buf, size, "%s (%s)", local, utc);
}

int web_error_status(int rc)
{
	switch (rc) {
	case ERR_USAGE:
	case ERR_DATA: return 400;
	case ERR_NOPERM: return 403;
	case ERR_NOTFOUND: return 404;
	case ERR_TEMPFAIL:
	case ERR_UNAVAILABLE: return 503;
	default: return 500;
	}
}

int web_fail(struct web_response *rs, int status,
	     const struct web_request *rq, const char *message)
{
	const char *title;

	switch (status) {
	case 400: title = "Bad request"; break;
	case 403: title = "Not allowed"; break;
	case 404: title = "Not found"; break;
	case 405: title = "Method not allowed"; break;
	case 413: title = "Too large"; break;
	case 503: title = "Busy: try again"; break;
	default: title = "Error"; break;
	}
	rs->status = status;
	rs->type = NULL;
	sbuf_reset(&rs->body);
	web_page_begin(&rs->body, title, rq ? rq->session : NULL);
	web_error_box(&rs->body, message);
	web_page_end(&rs->body);
	return 0;
}

int web_redirect(struct web_response *rs, const char *location)
{
	free(rs->location);
	rs->location = xstrdup(location);
	rs->status = 303;
	return 0;
}
