#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/log.h"
#include "chancery/transport.h"
#include "chancery/xalloc.h"
#include "transport_impl.h"

struct transport {
	const struct transport_ops *ops;
	void *impl;
};

struct transport *transport_new(const struct conf *cfg, struct error *err)
{
	const struct transport_ops *ops;
	struct transport *t;
	void *impl = NULL;
	int rc;

	switch (cfg->transport) {
	case TRANSPORT_MAILDIR:
		ops = &transport_maildir_ops;
		rc = transport_maildir_new(cfg, &impl, err);
		break;
	case TRANSPORT_SMTP:
		ops = &transport_smtp_ops;
		rc = transport_smtp_new(cfg, &impl, err);
		break;
	default:
		error_set(err, ERR_CONFIG, "unknown transport kind %d",
			  (int)cfg->transport);
		return NULL;
	}
	if (rc < 0)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->ops = ops;
	t->impl = impl;
	return t;
}

int transport_check_config(const struct conf *cfg, struct error *err)
{
	switch (cfg->transport) {
	case TRANSPORT_MAILDIR:
		/* Checked without creating the outbox, which the transport
		 * does (and may then fail to, an environment error). */
		if (!cfg->outbox || !*cfg->outbox)
			return error_set(err, ERR_CONFIG,
					 "transport.maildir.path is not set");
		return 0;
	case TRANSPORT_SMTP:
		return transport_smtp_check(cfg, err);
	}
	return error_set(err, ERR_CONFIG, "unknown transport kind %d",
			 (int)cfg->transport);
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	t->ops->free(t->impl);
	free(t);
}

const char *transport_name(const struct transport *t)
{
	return t->ops->name;
}

int transport_send(struct transport *t, struct transport_message *msgs,
		   size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++)
		memset(&msgs[i].result, 0, sizeof(msgs[i].result));
	if (n == 0)
		return 0;
	return t->ops->send(t->impl, msgs, n, err);
}

int transport_probe(const struct conf *cfg, struct transport_message *msg,
		    transport_step_fn fn, void *arg,
		    struct transport_result *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	if (msg)
		memset(&msg->result, 0, sizeof(msg->result));
	switch (cfg->transport) {
	case TRANSPORT_MAILDIR: {
		struct transport *t = transport_new(cfg, err);
		int rc;

		if (!t) {
			if (fn)
				fn(arg, "outbox", false, err->msg);
			transport_result_fail(out, TRANSPORT_TEMPFAIL, "%s",
					      err->msg);
			return 0;
		}
		rc = msg ? transport_send(t, msg, 1, err) : 0;
		transport_free(t);
		if (rc)
			return rc;
		if (msg)
			*out = msg->result;
		else
			transport_result_set(out, 250, NULL, "outbox usable");
		if (fn)
			fn(arg, "outbox", out->outcome == TRANSPORT_SENT,
			   msg ? out->text : cfg->outbox);
		return 0;
	}
	case TRANSPORT_SMTP:
		return transport_smtp_probe(cfg, msg, fn, arg, out, err);
	}
	return error_set(err, ERR_CONFIG, "unknown transport kind %d",
			 (int)cfg->transport);
}

bool transport_relay_fault(enum transport_phase phase, int code)
{
	(void)code; /* today the phase decides; the code is for the table */
	switch (phase) {
	case TRANSPORT_PHASE_CONNECT:   /* refused, timeout, unresolvable */
	case TRANSPORT_PHASE_GREETING:  /* 421/554 banner, EHLO refused */
	case TRANSPORT_PHASE_STARTTLS:  /* refused, not offered, certificate */
	case TRANSPORT_PHASE_AUTH:      /* 535, 534, 454 ... */
		return true;
	case TRANSPORT_PHASE_NONE:
	case TRANSPORT_PHASE_TRANSFER:  /* may be about one message */
		return false;
	}
	return false;
}

const char *transport_phase_name(enum transport_phase phase)
{
	static const char *const names[] = {
		[TRANSPORT_PHASE_NONE] = "-",
		[TRANSPORT_PHASE_CONNECT] = "connect",
		[TRANSPORT_PHASE_GREETING] = "greeting",
		[TRANSPORT_PHASE_STARTTLS] = "STARTTLS",
		[TRANSPORT_PHASE_AUTH] = "AUTH",
		[TRANSPORT_PHASE_TRANSFER] = "transfer",
	};

	if ((unsigned)phase < sizeof(names) / sizeof(names[0]))
		return names[phase];
	return "-";
}

void transport_result_final(struct transport_message *m)
{
	if (m->on_final)
		m->on_final(m, m->on_final_arg);
}

enum transport_outcome transport_outcome_for_code(int code)
{
	if (code >= 200 && code < 300)
		return TRANSPORT_SENT;
	if (code >= 500 && code < 600)
		return TRANSPORT_PERMFAIL;
	return TRANSPORT_TEMPFAIL;
}

/* Reads one number of an enhanced status: 1-3 digits. */
static const char *enhanced_part(const char *p, int max_digits)
{
	int n = 0;

	while (isdigit((unsigned char)p[n]) && n < max_digits)
		n++;
	if (n == 0 || isdigit((unsigned char)p[n]))
		return NULL;
	return p + n;
}

const char *transport_reply_enhanced(const char *text, char out[16])
{
	const char *p = text;

	out[0] = '\0';
	if (!text || (p[0] != '2' && p[0] != '4' && p[0] != '5') ||
	    p[1] != '.')
		return text;
	/* class "." subject (1-3 digits) "." detail (1-3 digits) */
	if (!(p = enhanced_part(text + 2, 3)) || *p != '.' ||
	    !(p = enhanced_part(p + 1, 3)))
		return text;
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return text;
	memcpy(out, text, (size_t)(p - text));
	out[p - text] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Copies the id token at p (letters, digits and ._-@ only) to out. */
static bool copy_id(const char *p, char *out, size_t size)
{
	size_t n = 0;

	while (*p == '<' || *p == ' ')
		p++;
	while (p[n] && (isalnum((unsigned char)p[n]) || strchr("._-@", p[n])))
		n++;
	while (n > 0 && (p[n - 1] == '.' || p[n - 1] == '-'))
		n--;   /* "queued as ABC." keeps ABC */
	if (n == 0 || n >= size)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

bool transport_reply_queue_id(const char *text, char *out, size_t size)
{
	static const char *const markers[] = {"queued as ", "id=", NULL};
	const char *p, *q;

	out[0] = '\0';
	if (!text)
		return false;
	for (int i = 0; markers[i]; i++) {
		for (p = text; (p = strcasestr(p, markers[i])); p++) {
			if (copy_id(p + strlen(markers[i]), out, size))
				return true;
		}
	}
	/* Sendmail: "2.0.0 x8K1a2b3 Message accepted for delivery";
	 * Exchange: "2.6.0 <id@host> Queued mail for delivery". */
	if ((q = strcasestr(text, " message accepted for delivery")) ||
	    (q = strcasestr(text, " queued mail for delivery"))) {
		p = q;
		while (p > text && p[-1] != ' ')
			p--;
		if (p < q && (size_t)(q - p) < size) {
			char tok[128];

			if ((size_t)(q - p) < sizeof(tok)) {
				memcpy(tok, p, (size_t)(q - p));
				tok[q - p] = '\0';
				if (strchr(tok, '.') && isdigit((unsigned char)tok[0]))
					return false; /* it was the status */
				return copy_id(tok, out, size);
			}
		}
	}
	return false;
}

/* Copies text to out, turning CR/LF and other controls into spaces. */
static void copy_clean(char *out, size_t size, const char *text)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)text;
	     p && *p && n + 1 < size; p++)
		out[n++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

void transport_result_set(struct transport_result *r, int code,
			  const char *enhanced, const char *text)
{
	char parsed[16];
	const char *rest;

	memset(r, 0, sizeof(*r));
	r->code = code;
	r->outcome = transport_outcome_for_code(code);
	rest = transport_reply_enhanced(text ? text : "", parsed);
	if (enhanced && *enhanced)
		snprintf(r->enhanced, sizeof(r->enhanced), "%s", enhanced);
	else
		memcpy(r->enhanced, parsed, sizeof(r->enhanced));
	copy_clean(r->text, sizeof(r->text), rest);
	if (r->outcome == TRANSPORT_SENT)
		transport_reply_queue_id(r->text, r->queue_id,
					 sizeof(r->queue_id));
}

void transport_result_fail(struct transport_result *r,
			   enum transport_outcome outcome, const char *fmt, ...)
{
	char buf[sizeof(r->text)];
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	copy_clean(r->text, sizeof(r->text), buf);
}

static const char *outcome_name(enum transport_outcome o)
{
	switch (o) {
	case TRANSPORT_SENT:
		return "sent";
	case TRANSPORT_TEMPFAIL:
		return "tempfail";
	case TRANSPORT_PERMFAIL:
		return "permfail";
	}
	return "?";
}

void transport_log_result(const char *transport,
			  const struct transport_message *m)
{
	const struct transport_result *r = &m->result;

	/* A message sent is at debug: the dispatch's outcome line, written
	 * once the result is committed, tells the same reply at info, and
	 * two lines per message were a measurable share of the daemon's
	 * work. A refusal stays a warning here too, in case the commit that
	 * would log it fails. */
	log_msg(r->outcome == TRANSPORT_SENT ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN,
		"transport=%s delivery=%lld rcpt=<%s> result=%s code=%d "
		"enhanced=%s queue_id=%s text=\"%s\"",
		transport, (long long)m->delivery_id,
		m->recipient ? m->recipient : "", outcome_name(r->outcome),
		r->code, r->enhanced[0] ? r->enhanced : "-",
		r->queue_id[0] ? r->queue_id : "-", r->text);
}
