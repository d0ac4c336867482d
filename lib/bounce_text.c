/*
 * bounce_text: the plain-text bounce formats, for the mail systems that
 * send no RFC 3464 delivery-status (docs/bounces.md lists them).
 *
 * Each format is recognised by the fixed phrases its software prints, at
 * the start of a line (so a reply quoting one with '>' is not a bounce),
 * and has a reader that takes recipients only from the lines where that
 * software lists them: never from a diagnostic or a transcript, where
 * "MAIL FROM:<sender>" and "RCPT TO:<...>" echoes appear.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_report_impl.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"

#define line_of bounce_report_line
#define blank bounce_report_blank

static size_t indent_of(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && (p[n] == ' ' || p[n] == '\t'))
		n++;
	return n;
}

/* The line after the one holding marker (anywhere in the line, case-
 * insensitive), or NULL. */
static const char *after(const char *text, const char *marker)
{
	const char *p = strcasestr(text, marker);
	size_t len;

	return p ? line_of(p, &len) : NULL;
}

/* The first non-blank line from p, or NULL. */
static const char *skip_blank(const char *p)
{
	size_t len;

	while (p && *p) {
		const char *next = line_of(p, &len);

		if (!blank(p, len))
			return p;
		p = next;
	}
	return NULL;
}

/* The address a line starts with (after white space; bare or in <>, a
 * trailing ':' or ',' dropped); NULL when the line starts otherwise. */
static char *lead_address(const char *line, size_t len)
{
	size_t a = indent_of(line, len), b = a;

	while (b < len && !isspace((unsigned char)line[b]))
		b++;
	while (b > a && strchr(":,;.", line[b - 1]))
		b--;
	return bounce_report_address(line + a, b - a, true);
}

/* The non-blank lines from p up to a blank line, joined, into sb. */
static void paragraph(const char *p, struct sbuf *sb)
{
	size_t len;

	for (p = skip_blank(p); p && *p;) {
		const char *next = line_of(p, &len);

		if (blank(p, len))
			break;
		if (sb->len)
			sbuf_addch(sb, ' ');
		sbuf_add(sb, p, len);
		p = next;
	}
}

/* What follows marker: the rest of its line and the lines below up to a
 * blank line ("... The error that the other server returned was: 550
 * 5.1.1 ..." runs on in the same paragraph); the next paragraph when the
 * marker ends its line. */
static void marked_paragraph(const char *text, const char *marker,
			     struct sbuf *sb)
{
	const char *m = strcasestr(text, marker);
	size_t len;
	const char *rest, *next;

	if (!m)
		return;
	rest = m + strlen(marker);
	next = line_of(rest, &len);
	while (len && (*rest == ' ' || *rest == '\t')) {
		rest++;
		len--;
	}
	if (!len) {
		paragraph(next, sb);
		return;
	}
	sbuf_add(sb, rest, len);
	for (const char *p = next; p && *p;) {
		const char *line = p;

		p = line_of(line, &len);
		if (blank(line, len))
			break;
		sbuf_addch(sb, ' ');
		sbuf_add(sb, line, len);
	}
}

static const char kddi_marker[] = "Could not be delivered to:";
static const char v5_transcript[] = "----- Transcript of session follows -----";
static const char mailmarshal_heading[] =
	"The following recipients were affected:";

/* ---- Postfix, qmail, Yahoo: "<addr>:" then the reason ------------------ */

/* A line "<addr>: reason" or "<addr> (expanded from <alias>):", the reason
 * on the line or on the lines below it up to a blank line; stops at the
 * "--- Below this line is a copy" separator. */
static void angle_recipients(struct bounce_report *r, const char *text,
			     enum bounce_action action)
{
	struct sbuf diag = SBUF_INIT;

	for (const char *p = text; p && *p;) {
		size_t len;
		const char *line = p;
		const char *close, *colon;
		char *addr;

		p = line_of(line, &len);
		/* the separator before the returned message ("--- Below this
		 * line is a copy"); a rule above the list (OCN's Postfix) is
		 * no end */
		if (len >= 3 && strncmp(line, "---", 3) == 0 &&
		    (r->nrecipients || memmem(line, len, "Below this line", 15)))
			break;
		if (line[0] != '<' || !(close = memchr(line, '>', len)))
			continue;
		colon = memchr(close, ':', len - (size_t)(close - line));
		if (!colon || !(addr = bounce_report_address(
					line, (size_t)(close - line) + 1, true)))
			continue;
		sbuf_reset(&diag);
		sbuf_add(&diag, colon + 1, len - (size_t)(colon + 1 - line));
		while (p && *p) {
			const char *next = line_of(p, &len);

			if (blank(p, len) || (p[0] == '<' && memchr(p, '>', len)))
				break;
			sbuf_addch(&diag, ' ');
			sbuf_add(&diag, p, len);
			p = next;
		}
		bounce_report_add(r, action, addr, NULL, diag.buf, diag.len);
	}
	sbuf_release(&diag);
}

/* ---- Exim -------------------------------------------------------------- */

/* What follows the leading address on its line ("<addr>: 550 5.1.1 ...",
 * as McAfee MX Logic and some Exim transports write), into sb. */
static void same_line_reason(const char *line, size_t len, struct sbuf *sb)
{
	size_t i = indent_of(line, len);

	while (i < len && !isspace((unsigned char)line[i]))
		i++;
	i += indent_of(line + i, len - i);
	if (i < len)
		sbuf_add(sb, line + i, len - i);
}

/* After the marker, each address on a line of the entries' indent, its
 * details indented deeper, until an unindented line. An entry that is no
 * address (a pipe, a file) is skipped with its details. The details may
 * also start on the address line itself, after the address. */
static void exim_recipients(struct bounce_report *r, const char *p,
			    enum bounce_action action)
{
	struct sbuf diag = SBUF_INIT;
	char *addr = NULL;
	bool entry = false;
	size_t base = 0;

	for (p = skip_blank(p); p && *p;) {
		size_t len, ind;
		const char *line = p;

		p = line_of(line, &len);
		if (blank(line, len))
			continue;
		ind = indent_of(line, len);
		if (ind == 0)
			break;
		if (!entry || ind <= base) {
			if (addr)
				bounce_report_add(r, action, addr, NULL, diag.buf,
						  diag.len);
			base = entry ? base : ind;
			entry = true;
			addr = lead_address(line, len);
			sbuf_reset(&diag);
			if (addr)
				same_line_reason(line, len, &diag);
			continue;
		}
		sbuf_addch(&diag, ' ');
		sbuf_add(&diag, line, len);
	}
	if (addr)
		bounce_report_add(r, action, addr, NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

static const char *exim_marker(const char *text, enum bounce_action *action)
{
	static const char *const failed[] = {
		"address(es) failed:", "addresses failed:", "address failed:",
	};
	static const char *const delayed[] = {
		"have not yet been delivered:",
		/* Exim's own delay warning: "The address to which the message
		 * has not yet been delivered is:" ("addresses ... are:") */
		"has not yet been delivered is:",
		"has not yet been delivered are:",
	};
	const char *p;

	for (size_t i = 0; i < sizeof(delayed) / sizeof(delayed[0]); i++)
		if ((p = after(text, delayed[i]))) {
			*action = BOUNCE_DELAYED;
			return p;
		}
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++)
		if ((p = after(text, failed[i])))
			return p;
	return NULL;
}

/* ---- Gmail and Google Groups ------------------------------------------ */

static void gmail_recipients(struct bounce_report *r, const char *text,
			     enum bounce_action action)
{
	static const char *const diag_markers[] = {
		"The error that the other server returned was:",
		"The response from the remote server was:",
		"The response was:",
		"Technical details of permanent failure:",
		"Technical details of temporary failure:",
	};
	static const char *const sentences[] = {
		"wasn't delivered to ", "problem delivering your message to ",
		"couldn't be delivered to ", "has been delayed to ",
	};
	struct sbuf diag = SBUF_INIT;
	const char *p = NULL;
	size_t len, before = r->nrecipients;

	for (size_t i = 0; !diag.len && i < sizeof(diag_markers) /
						   sizeof(diag_markers[0]); i++)
		marked_paragraph(text, diag_markers[i], &diag);
	p = after(text, "Delivery to the following recipient");
	for (p = skip_blank(p); p && *p;) {
		const char *line = p;
		char *addr;

		p = line_of(line, &len);
		if (blank(line, len) || !(addr = lead_address(line, len)))
			break;
		bounce_report_add(r, action, addr, NULL, diag.buf, diag.len);
	}
	for (size_t i = 0; r->nrecipients == before &&
			   i < sizeof(sentences) / sizeof(sentences[0]); i++) {
		const char *s = strcasestr(text, sentences[i]);
		char *addr;

		if (!s)
			continue;
		s += strlen(sentences[i]);
		line_of(s, &len);
		if ((addr = bounce_report_find_address(s, len)))
			bounce_report_add(r, action, addr, NULL, diag.buf,
					  diag.len);
	}
	sbuf_release(&diag);
}

/* ---- Sendmail (before its DSNs) ---------------------------------------- */

/* The reply the transcript shows for addr: the first reply line
 * ("<<< 550 ..." or "550 ...") that names it, else the first reply line
 * at all, into sb. */
static void sendmail_transcript(const char *text, const char *addr,
				struct sbuf *sb)
{
	const char *start = after(text, "Transcript of session follows");
	const char *first = NULL;
	size_t first_len = 0, len, alen = strlen(addr);

	for (const char *p = start; p && *p;) {
		const char *line = p;
		size_t i;

		p = line_of(line, &len);
		i = indent_of(line, len);
		if (len - i > 4 && strncmp(line + i, "<<< ", 4) == 0)
			i += 4;
		if (len - i < 4 || !strchr("45", line[i]) ||
		    !isdigit((unsigned char)line[i + 1]) ||
		    !isdigit((unsigned char)line[i + 2]) ||
		    (line[i + 3] != ' ' && line[i + 3] != '-'))
			continue;
		if (!first) {
			first = line + i;
			first_len = len - i;
		}
		for (size_t k = i; k + alen <= len; k++)
			if (strncasecmp(line + k, addr, alen) == 0) {
				sbuf_add(sb, line + i, len - i);
				return;
			}
	}
	if (first)
		sbuf_add(sb, first, first_len);
}

static void sendmail_recipients(struct bounce_report *r, const char *p,
				const char *text, enum bounce_action action)
{
	struct sbuf diag = SBUF_INIT, transcript = SBUF_INIT;
	char *addr = NULL;
	size_t len, before = r->nrecipients;

	for (p = skip_blank(p); p && *p;) {
		const char *line = p;
		const char *reason;

		p = line_of(line, &len);
		if (blank(line, len))
			break;
		if (indent_of(line, len) == 0) {
			if (addr)
				bounce_report_add(r, action, addr, NULL, diag.buf,
						  diag.len);
			/* Active!hunter: ">>> addr <addr>" */
			if (len > 4 && strncmp(line, ">>> ", 4) == 0) {
				addr = lead_address(line + 4, len - 4);
				sbuf_reset(&diag);
			} else {
				addr = lead_address(line, len);
				sbuf_reset(&diag);
				/* "addr [User unknown]", "<addr> (reason)" */
				if (addr)
					same_line_reason(line, len, &diag);
			}
		} else if ((reason = memmem(line, len, "(reason:", 8))) {
			size_t n = len - (size_t)(reason + 8 - line);

			if (n && reason[8 + n - 1] == ')')
				n--;
			sbuf_add(&diag, reason + 8, n);
		}
	}
	if (addr)
		bounce_report_add(r, action, addr, NULL, diag.buf, diag.len);
	for (size_t i = before; i < r->nrecipients; i++) {
		const char *a = r->recipients[i].final_recipient;

		if (r->recipients[i].diagnostic || !a)
			continue;
		sbuf_reset(&transcript);
		sendmail_transcript(text, a, &transcript);
		if (transcript.len)
			bounce_report_add(r, action, xstrdup(a), NULL,
					  transcript.buf, transcript.len);
	}
	sbuf_release(&diag);
	sbuf_release(&transcript);
}

/* The heading line of Sendmail's address list: a run of dashes, then
 * (after optional white space) "The following addresses had", as Sendmail
 * ("----- The following ... -----") and its imitators ("---The following
 * addresses had delivery errors---", "--- ... delivery problems ---")
 * print it; NULL when there is none. */
static const char *sendmail_heading(const char *text)
{
	static const char phrase[] = "The following addresses had";

	for (const char *p = text; p && *p;) {
		size_t len, i;
		const char *next = line_of(p, &len);

		i = indent_of(p, len);
		if (len - i >= 3 && strncmp(p + i, "---", 3) == 0) {
			while (i < len && p[i] == '-')
				i++;
			i += indent_of(p + i, len - i);
			if (len - i >= sizeof(phrase) - 1 &&
			    strncasecmp(p + i, phrase, sizeof(phrase) - 1) == 0)
				return p;
		}
		p = next;
	}
	return NULL;
}

/* True when the transcript from start echoes addr in a "MAIL From:"
 * command: the sender, never a recipient. */
static bool transcript_sender(const char *start, const char *addr)
{
	size_t alen = strlen(addr);

	for (const char *p = start; p && *p;) {
		size_t len;
		const char *line = p;
		const char *cmd;

		p = line_of(line, &len);
		cmd = memmem(line, len, ">>> ", 4);
		if (!cmd || (size_t)(line + len - cmd) < 14 ||
		    strncasecmp(cmd + 4, "MAIL From:", 10) != 0)
			continue;
		for (const char *k = cmd; k + alen <= line + len; k++)
			if (strncasecmp(k, addr, alen) == 0)
				return true;
	}
	return false;
}

/* Sendmail before version 8: no list of addresses, only the transcript,
 * where the MTA's own verdict on a recipient is a reply code, the address
 * and "..." ("550 <addr>... User unknown"), unlike the "<<< " replies and
 * ">>> " commands it quotes from the other side. Each such line is one
 * recipient; none (a connection that timed out) leaves the report to the
 * returned message. */
static void v5_sendmail_recipients(struct bounce_report *r, const char *text,
				   enum bounce_action action)
{
	const char *start = bounce_report_phrase(text, v5_transcript);
	size_t skip;

	for (const char *p = start ? line_of(start, &skip) : NULL; p && *p;) {
		size_t len, i, a;
		const char *line = p;
		const char *dots;
		char *addr;

		p = line_of(line, &len);
		if (len >= 5 && strncmp(line + indent_of(line, len), "-----", 5) == 0)
			break;
		i = indent_of(line, len);
		if (len - i < 5 || !strchr("45", line[i]) ||
		    !isdigit((unsigned char)line[i + 1]) ||
		    !isdigit((unsigned char)line[i + 2]) || line[i + 3] != ' ')
			continue;
		a = i + 4;
		dots = memmem(line + a, len - a, "...", 3);
		if (!dots || memchr(line + a, ' ', (size_t)(dots - line) - a))
			continue;
		addr = bounce_report_address(line + a, (size_t)(dots - line) - a,
					     true);
		if (!addr)
			continue;
		if (transcript_sender(start, addr)) {
			free(addr);
			continue;
		}
		bounce_report_add(r, action, addr, NULL, line + i, len - i);
	}
}

/* ---- Exchange / Office 365 -------------------------------------------- */

/* Exchange and Office 365 print their NDRs in the sender's language: the
 * headings in English, French, German, Spanish, Italian and Russian. The
 * "#550 5.1.1 RESOLVER... ##" lines are the same in all of them. */
static const char *const exchange_admin_headings[] = {
	"Diagnostic information for administrators",
	"Informations de diagnostic pour les administrateurs",
	"Diagnoseinformationen f\xc3\xbcr Administratoren",
	"Informaci\xc3\xb3n de diagn\xc3\xb3stico para administradores",
	"Informazioni di diagnostica per gli amministratori",
	("\xd0\x94\xd0\xb8\xd0\xb0\xd0\xb3\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82\xd0\xb8"
	 "\xd1\x87\xd0\xb5\xd1\x81\xd0\xba\xd0\xb8\xd0\xb5 \xd1\x81\xd0\xb2\xd0\xb5"
	 "\xd0\xb4\xd0\xb5\xd0\xbd\xd0\xb8\xd1\x8f"), /* Диагностические сведения */
};

/* Where the copy of the original headers starts. */
static const char *const exchange_original_headings[] = {
	"Original message headers",
	"En-t\xc3\xaates de message d'origine",
	"Urspr\xc3\xbcngliche Nachrichtenkopfzeilen",
	"Encabezados del mensaje original",
	"Intestazioni originali del messaggio",
	("\xd0\x97\xd0\xb0\xd0\xb3\xd0\xbe\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xba\xd0\xb8"
	 " \xd0\xb8\xd1\x81\xd1\x85\xd0\xbe\xd0\xb4\xd0\xbd\xd0\xbe\xd0\xb3\xd0\xbe"),
	/* Заголовки исходного */
};

static bool exchange_heading(const char *line, size_t len,
			     const char *const *headings, size_t n)
{
	size_t i = indent_of(line, len);

	for (size_t k = 0; k < n; k++) {
		size_t hl = strlen(headings[k]);

		if (len - i >= hl && strncasecmp(line + i, headings[k], hl) == 0)
			return true;
	}
	return false;
}

#define EXCHANGE_ORIGINAL(line, len) \
	exchange_heading(line, len, exchange_original_headings, \
			 sizeof(exchange_original_headings) / \
				 sizeof(exchange_original_headings[0]))
#define EXCHANGE_ADMIN(line, len) \
	exchange_heading(line, len, exchange_admin_headings, \
			 sizeof(exchange_admin_headings) / \
				 sizeof(exchange_admin_headings[0]))

/* "Diagnostic information for administrators": a recipient line, then
 * "#550 5.1.1 RESOLVER... ##" or "Remote Server returned '550 ...'". */
static void exchange_admin(struct bounce_report *r, const char *p,
			   enum bounce_action action)
{
	const char *prev = NULL;
	size_t prev_len = 0, len;

	for (; p && *p;) {
		const char *line = p;
		const char *rs = NULL, *d = NULL;
		size_t dlen = 0;
		char *addr;

		p = line_of(line, &len);
		if (blank(line, len))
			continue;
		if (line[0] == '#') {
			d = line + 1;
			dlen = len - 1;
			while (dlen && (d[dlen - 1] == '#' || d[dlen - 1] == ' '))
				dlen--;
		} else if ((rs = memmem(line, len, "Remote Server returned '", 24))) {
			const char *q;

			d = rs + 24;
			q = memchr(d, '\'', len - (size_t)(d - line));
			dlen = q ? (size_t)(q - d) : len - (size_t)(d - line);
		}
		if (d && prev && (addr = bounce_report_find_address(prev, prev_len)))
			bounce_report_add(r, action, addr, NULL, d, dlen);
		if (EXCHANGE_ORIGINAL(line, len))
			break;
		prev = line;
		prev_len = len;
	}
}

/* A recipient line of the "Delivery has failed to these recipients or
 * groups:" list: an address alone, "Name (addr)" or "addr<mailto:addr>". */
static char *exchange_list_address(const char *line, size_t len)
{
	char *addr = lead_address(line, len);
	const char *open;

	if (addr)
		return addr;
	open = memchr(line, '(', len);
	if (open && len && line[len - 1] == ')')
		return bounce_report_address(open + 1,
					     (size_t)(line + len - 1 - open - 1),
					     true);
	open = memmem(line, len, "<mailto:", 8);
	if (open)
		return bounce_report_find_address(line, (size_t)(open - line));
	return NULL;
}

/* The list under a heading: recipient lines, each with the explanation
 * lines that follow it, up to the next heading. */
static void exchange_list(struct bounce_report *r, const char *p,
			  enum bounce_action action)
{
	struct sbuf diag = SBUF_INIT;
	char *addr = NULL;
	size_t len, base = (size_t)-1;

	for (p = skip_blank(p); p && *p;) {
		const char *line = p;
		char *a;

		p = line_of(line, &len);
		if (blank(line, len))
			continue;
		if (EXCHANGE_ADMIN(line, len) || EXCHANGE_ORIGINAL(line, len) ||
		    strncasecmp(line + indent_of(line, len), "Original message",
				16) == 0)
			break;
		if (base == (size_t)-1)
			base = indent_of(line, len);
		if (indent_of(line, len) <= base &&
		    (a = exchange_list_address(line, len))) {
			if (addr)
				bounce_report_add(r, action, addr, NULL, diag.buf,
						  diag.len);
			addr = a;
			sbuf_reset(&diag);
			continue;
		}
		if (indent_of(line, len) < base)
			break;
		if (addr) {
			sbuf_addch(&diag, ' ');
			sbuf_add(&diag, line, len);
		}
	}
	if (addr)
		bounce_report_add(r, action, addr, NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

/* "Не удалось доставить сообщение следующим получателям или группам" */
static const char exchange_ru_failed[] =
	"\xd0\x9d\xd0\xb5 \xd1\x83\xd0\xb4\xd0\xb0\xd0\xbb\xd0\xbe\xd1\x81\xd1\x8c "
	"\xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xb8\xd1\x82\xd1\x8c "
	"\xd1\x81\xd0\xbe\xd0\xbe\xd0\xb1\xd1\x89\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5";

/* Exchange 5.5's Internet Mail Service: "Your message ... did not reach
 * the following recipient(s):", then "addr on <date>" lines. */
static const char exchange_ims_heading[] =
	"did not reach the following recipient(s):";

static void exchange_recipients(struct bounce_report *r, const char *text,
				enum bounce_action action)
{
	static const char *const headings[] = {
		"Delivery has failed to these recipients or groups:",
		"Delivery is delayed to these recipients or groups:",
		"recipient(s) could not be reached:",
		exchange_ims_heading,
		"following recipients has been delayed",
		"could not be reached:",
		"La remise a \xc3\xa9" "chou\xc3\xa9 pour ces destinataires ou groupes",
		"Die Zustellung an folgende Empf\xc3\xa4nger oder Gruppen ist "
		"fehlgeschlagen",
		"Error en la entrega a estos destinatarios o grupos",
		"Recapito non riuscito a questi destinatari o gruppi",
		exchange_ru_failed,
	};
	const char *p = NULL;
	const char *s;
	size_t len;
	char *addr;

	for (size_t i = 0; !p && i < sizeof(exchange_admin_headings) /
					  sizeof(exchange_admin_headings[0]);
	     i++)
		p = after(text, exchange_admin_headings[i]);
	exchange_admin(r, p, action);
	for (size_t i = 0; !r->nrecipients &&
			   i < sizeof(headings) / sizeof(headings[0]); i++)
		if ((p = after(text, headings[i])))
			exchange_list(r, p, action);
	if (!r->nrecipients && (s = strcasestr(text, "Your message to "))) {
		s += 16;
		line_of(s, &len);
		if ((addr = bounce_report_find_address(s, len)))
			bounce_report_add(r, action, addr, NULL, NULL, 0);
	}
}

/* ---- DragonFly, Amazon SES text, Notes, IMail ------------------------- */

/* "There was an error delivering your mail to <addr>." then the reason. */
static void dragonfly_recipients(struct bounce_report *r, const char *text)
{
	const char *s = strcasestr(text, "error delivering your mail to");
	struct sbuf diag = SBUF_INIT;
	size_t len;
	const char *next;
	char *addr;

	if (!s)
		return;
	next = line_of(s, &len);
	addr = bounce_report_find_address(s, len);
	for (const char *p = next; p && *p;) {
		const char *line = p;

		p = line_of(line, &len);
		if (strncasecmp(line, "Original message follows", 24) == 0 ||
		    strncasecmp(line, "Message headers follow", 22) == 0)
			break;
		if (!blank(line, len)) {
			sbuf_addch(&diag, ' ');
			sbuf_add(&diag, line, len);
		}
	}
	if (addr)
		bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

/* Amazon SES's text notice: the addresses under its heading. */
static void ses_recipients(struct bounce_report *r, const char *p)
{
	size_t len;

	for (p = skip_blank(p); p && *p;) {
		const char *line = p;
		char *addr;

		p = line_of(line, &len);
		if (blank(line, len) || !(addr = lead_address(line, len)))
			break;
		bounce_report_add(r, BOUNCE_FAILED, addr, NULL, NULL, 0);
	}
}

/* Notes: under "Failure Reasons", the reason then the address alone on a
 * line, until "Returned Message". */
static void notes_recipients(struct bounce_report *r, const char *p)
{
	struct sbuf diag = SBUF_INIT;
	size_t len;

	for (; p && *p;) {
		const char *line = p;
		char *addr;

		p = line_of(line, &len);
		if (memmem(line, len, "Returned Message", 16))
			break;
		if (blank(line, len))
			continue;
		if ((addr = lead_address(line, len)) &&
		    indent_of(line, len) + strlen(addr) + 2 >= len) {
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf,
					  diag.len);
			sbuf_reset(&diag);
			continue;
		}
		free(addr);
		if (diag.len)
			sbuf_addch(&diag, ' ');
		sbuf_add(&diag, line, len);
	}
	sbuf_release(&diag);
}

/* The labels IMail puts before a failed address ("Unknown user: addr");
 * any other "Label: addr" line (a quoted From:, "Original Sender:") is
 * not a recipient. */
static bool imail_label(const char *line, size_t len)
{
	static const char *const labels[] = {
		"Unknown user", "Unknown host", "User mailbox exceeds allowed size",
		"Requested action not taken", "Undeliverable to",
		"Delivery failed", "Invalid final delivery userid",
	};

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		size_t n = strlen(labels[i]);

		if (len >= n && strncasecmp(line, labels[i], n) == 0)
			return true;
	}
	return false;
}

/* IMail: up to "Original message follows.", an address alone on a line
 * or one after an IMail label ("Unknown user: addr"); the reason is the
 * line that names it, else the paragraph after "Body of message generated
 * response:". */
static void imail_recipients(struct bounce_report *r, const char *text)
{
	struct sbuf response = SBUF_INIT;
	const char *p = after(text, "Body of message generated response:");
	size_t len, before = r->nrecipients;

	if (p)
		paragraph(p, &response);
	for (p = text; p && *p;) {
		const char *line = p;
		const char *colon;
		char *addr;

		p = line_of(line, &len);
		if (strncasecmp(line, "Original message follows", 24) == 0)
			break;
		if (blank(line, len))
			continue;
		if ((addr = lead_address(line, len))) {
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, NULL, 0);
			continue;
		}
		colon = memchr(line, ':', len);
		if (colon && indent_of(line, len) == 0 &&
		    imail_label(line, (size_t)(colon - line)) &&
		    (addr = lead_address(colon + 1,
					 len - (size_t)(colon + 1 - line))))
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, line, len);
	}
	for (size_t i = before; response.len && i < r->nrecipients; i++)
		if (!r->recipients[i].diagnostic)
			bounce_report_add(r, BOUNCE_FAILED,
					  xstrdup(r->recipients[i].final_recipient),
					  NULL, response.buf, response.len);
	sbuf_release(&response);
}

/* ---- OpenSMTPD, Domino, GMX, Zoho, MailFoundry ------------------------- */

/* OpenSMTPD: after its notice, "addr: reason" lines (the address bare, at
 * the start of the line) up to "Below is a copy of the original message". */
static void opensmtpd_recipients(struct bounce_report *r, const char *p,
				 enum bounce_action action)
{
	size_t len;

	for (; p && *p;) {
		const char *line = p;
		const char *colon;
		size_t i;
		char *addr;

		p = line_of(line, &len);
		i = indent_of(line, len);
		if (strncasecmp(line + i, "Below is a copy", 15) == 0)
			break;
		colon = memmem(line + i, len - i, ": ", 2);
		if (!colon || memchr(line + i, ' ', (size_t)(colon - line - i)) ||
		    !(addr = bounce_report_address(line + i,
						   (size_t)(colon - line - i),
						   true)))
			continue;
		bounce_report_add(r, action, addr, NULL, colon + 2,
				  len - (size_t)(colon + 2 - line));
	}
}

/* Domino: "was not delivered to:", the addresses alone on their lines,
 * then "because:" and the reason; repeated per reason. */
static void domino_recipients(struct bounce_report *r, const char *text)
{
	struct sbuf diag = SBUF_INIT;
	const char *q = text;
	size_t len;

	while ((q = bounce_report_phrase(q, "was not delivered to:"))) {
		size_t before = r->nrecipients;
		const char *p = line_of(q, &len);

		q = p;
		sbuf_reset(&diag);
		for (; p && *p;) {
			const char *line = p;
			char *addr;

			p = line_of(line, &len);
			if (blank(line, len))
				continue;
			if (strncasecmp(line + indent_of(line, len), "because:", 8) == 0) {
				paragraph(p, &diag);
				q = p;
				break;
			}
			if (!(addr = lead_address(line, len)))
				break;
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, NULL, 0);
			q = p;
		}
		for (size_t i = before; diag.len && i < r->nrecipients; i++)
			bounce_report_add(r, BOUNCE_FAILED,
					  xstrdup(r->recipients[i].final_recipient),
					  NULL, diag.buf, diag.len);
	}
	sbuf_release(&diag);
}

/* GMX and WEB.DE (and 1&1): after Exim's "failed:" sentence, each
 * recipient at the start of a line as "addr":, <addr> or the address
 * alone, its details below it (blank lines included) up to the next one
 * or the "---" separator. */
static void gmx_recipients(struct bounce_report *r, const char *p,
			   enum bounce_action action)
{
	struct sbuf diag = SBUF_INIT;
	char *addr = NULL;
	size_t len;

	for (; p && *p;) {
		const char *line = p;
		char *a = NULL;

		p = line_of(line, &len);
		if (len >= 3 && strncmp(line, "---", 3) == 0)
			break;
		if (blank(line, len))
			continue;
		if (line[0] == '"' || line[0] == '<') {
			size_t n = len;

			while (n && strchr(":\" ", line[n - 1]))
				n--;
			if (line[0] == '"')
				a = n > 1 ? bounce_report_address(line + 1, n - 1,
								  true)
					  : NULL;
			else
				a = bounce_report_address(line, n, true);
		} else if (!isspace((unsigned char)line[0]) &&
			   (a = lead_address(line, len)) &&
			   strlen(a) + 1 < len) {
			free(a); /* 1&1: only an address alone on its line */
			a = NULL;
		}
		if (a) {
			if (addr)
				bounce_report_add(r, action, addr, NULL, diag.buf,
						  diag.len);
			addr = a;
			sbuf_reset(&diag);
			continue;
		}
		if (addr) {
			if (diag.len)
				sbuf_addch(&diag, ' ');
			sbuf_add(&diag, line, len);
		}
	}
	if (addr)
		bounce_report_add(r, action, addr, NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

/* Zoho: "addr Invalid Address, ERROR_CODE :550, ERROR_CODE :reason", or
 * "[Status: Error, Address: <addr>, ResponseCode 421, ...]" for one it
 * gave up on; the line is the diagnostic. */
static void zoho_recipients(struct bounce_report *r, const char *text)
{
	size_t len;

	for (const char *p = text; p && *p;) {
		const char *line = p;
		const char *a;
		char *addr = NULL;

		p = line_of(line, &len);
		if (strncasecmp(line, "Received:", 9) == 0)
			break;
		if (memmem(line, len, "ERROR_CODE :", 12))
			addr = lead_address(line, len);
		else if (strncmp(line, "[Status: ", 9) == 0 &&
			 (a = memmem(line, len, "Address: <", 10))) {
			const char *close = memchr(a, '>', len - (size_t)(a - line));

			if (close)
				addr = bounce_report_address(a + 9,
							     (size_t)(close - a) - 8,
							     true);
		}
		if (addr)
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, line, len);
	}
}

/* "This is an automatically generated Delivery Status Notification."
 * (the IIS SMTP service, Exchange 2003 and others): the addresses under
 * "Delivery to the following recipients failed", bare or as "* addr",
 * the reason from an "SMTP:" line or the paragraph after "Technical
 * details:". */
static void auto_dsn_recipients(struct bounce_report *r, const char *text,
				enum bounce_action action)
{
	struct sbuf diag = SBUF_INIT;
	const char *p = after(text, "Delivery to the following recipients");
	const char *smtp = bounce_report_phrase(text, "SMTP:");
	size_t len, before = r->nrecipients;

	if (smtp) {
		line_of(smtp, &len);
		sbuf_add(&diag, smtp, len);
	} else if ((smtp = after(text, "Technical details:"))) {
		paragraph(smtp, &diag);
	}
	for (p = skip_blank(p); p && *p;) {
		const char *line = p;
		size_t i;
		char *addr;

		p = line_of(line, &len);
		if (blank(line, len)) {
			if (r->nrecipients > before)
				break;
			continue;
		}
		i = indent_of(line, len);
		if (len - i > 2 && line[i] == '*' && line[i + 1] == ' ')
			i += 2;
		if (!(addr = lead_address(line + i, len - i)))
			break;
		bounce_report_add(r, action, addr, NULL, diag.buf, diag.len);
	}
	sbuf_release(&diag);
}

/* m-FILTER (Digital Arts): an address alone on a line, then the reply
 * under "-------server message", up to "-------original message". */
static void mfilter_recipients(struct bounce_report *r, const char *text)
{
	struct sbuf diag = SBUF_INIT;
	const char *p = bounce_report_phrase(text, "-------server message");
	size_t len, before = r->nrecipients;

	if (p)
		paragraph(line_of(p, &len), &diag);
	for (p = text; p && *p;) {
		const char *line = p;
		char *addr;

		p = line_of(line, &len);
		if (strncmp(line, "-------", 7) == 0)
			break;
		if (blank(line, len) || !(addr = lead_address(line, len)))
			continue;
		if (indent_of(line, len) + strlen(addr) + 2 < len)
			free(addr); /* not alone on its line */
		else
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, NULL, 0);
	}
	for (size_t i = before; diag.len && i < r->nrecipients; i++)
		bounce_report_add(r, BOUNCE_FAILED,
				  xstrdup(r->recipients[i].final_recipient),
				  NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

/* KDDI (au): "Could not be delivered to: <addr>", the reason on the
 * indented lines below it. */
static void kddi_recipients(struct bounce_report *r, const char *text)
{
	struct sbuf diag = SBUF_INIT;
	char *addr = NULL;
	size_t len;

	for (const char *p = text; p && *p;) {
		const char *line = p;
		const char *c;

		p = line_of(line, &len);
		if ((c = memmem(line, len, kddi_marker, strlen(kddi_marker)))) {
			size_t off = (size_t)(c - line) + strlen(kddi_marker);

			if (addr)
				bounce_report_add(r, BOUNCE_FAILED, addr, NULL,
						  diag.buf, diag.len);
			sbuf_reset(&diag);
			addr = bounce_report_find_address(line + off, len - off);
			continue;
		}
		if (!addr)
			continue;
		if (blank(line, len) || !indent_of(line, len)) {
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf,
					  diag.len);
			addr = NULL;
			continue;
		}
		if (diag.len)
			sbuf_addch(&diag, ' ');
		sbuf_add(&diag, line, len);
	}
	if (addr)
		bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

/* MailMarshal (Trustwave): the reason after "Could not be delivered
 * because of", the addresses under "The following recipients were
 * affected:". */
static void mailmarshal_recipients(struct bounce_report *r, const char *text)
{
	struct sbuf diag = SBUF_INIT;
	const char *p = after(text, "Could not be delivered because of");
	size_t len;

	if (p)
		paragraph(p, &diag);
	p = after(text, mailmarshal_heading);
	for (p = skip_blank(p); p && *p;) {
		const char *line = p;
		char *addr;

		p = line_of(line, &len);
		if (blank(line, len) || !(addr = lead_address(line, len)))
			break;
		bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf, diag.len);
	}
	sbuf_release(&diag);
}

/* Smail 3 and Deutsche Telekom's fork of it (T-Online, Magenta): under
 * "|---- Failed addresses follow: ----|", " <addr>" alone with the reply
 * indented below it, or Smail's " addr ... failed: reason"; up to the
 * next "|---" banner. */
static void smail_recipients(struct bounce_report *r, const char *p)
{
	struct sbuf diag = SBUF_INIT;
	char *addr = NULL;
	size_t len;

	for (; p && *p;) {
		const char *line = p;
		const char *dots;
		size_t i;
		char *a;

		p = line_of(line, &len);
		if (line[0] == '|')
			break;
		if (blank(line, len))
			continue;
		i = indent_of(line, len);
		dots = memmem(line + i, len - i, " ... ", 5);
		if (dots && (a = bounce_report_address(line + i,
						       (size_t)(dots - line - i),
						       true))) {
			if (addr)
				bounce_report_add(r, BOUNCE_FAILED, addr, NULL,
						  diag.buf, diag.len);
			addr = NULL;
			bounce_report_add(r, BOUNCE_FAILED, a, NULL, dots + 5,
					  len - (size_t)(dots + 5 - line));
			continue;
		}
		if (line[i] == '<' && line[len - 1] == '>' &&
		    (a = bounce_report_address(line + i, len - i, true))) {
			if (addr)
				bounce_report_add(r, BOUNCE_FAILED, addr, NULL,
						  diag.buf, diag.len);
			addr = a;
			sbuf_reset(&diag);
			continue;
		}
		if (addr) {
			if (diag.len)
				sbuf_addch(&diag, ' ');
			sbuf_add(&diag, line, len);
		}
	}
	if (addr)
		bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

/* Whether line is "  label value": *value and *vlen get the value. */
static bool labelled(const char *line, size_t len, const char *label,
		     const char **value, size_t *vlen)
{
	size_t i = indent_of(line, len), n = strlen(label);

	if (len - i < n || strncasecmp(line + i, label, n) != 0)
		return false;
	i += n;
	i += indent_of(line + i, len - i);
	*value = line + i;
	*vlen = len - i;
	return true;
}

/* Oracle (Sun) Messaging Server: under "Your message cannot be delivered
 * to the following recipients:", "Recipient address: addr" (or, when that
 * is no address, "Original address: addr"), then "Reason:" and
 * "Diagnostic code:". The quoted header fields above it are never read. */
static void messaging_server_recipients(struct bounce_report *r,
					const char *p)
{
	struct sbuf diag = SBUF_INIT;
	char *addr = NULL;
	bool open = false;
	size_t len;

	for (; p && *p;) {
		const char *line = p, *v;
		size_t vlen;

		p = line_of(line, &len);
		if (labelled(line, len, "Recipient address:", &v, &vlen)) {
			if (open && addr)
				bounce_report_add(r, BOUNCE_FAILED, addr, NULL,
						  diag.buf, diag.len);
			else
				free(addr);
			addr = bounce_report_address(v, vlen, true);
			open = true;
			sbuf_reset(&diag);
		} else if (!open) {
			continue;
		} else if (labelled(line, len, "Original address:", &v, &vlen)) {
			if (!addr)
				addr = bounce_report_address(v, vlen, true);
		} else if (labelled(line, len, "Reason:", &v, &vlen) ||
			   labelled(line, len, "Diagnostic code:", &v, &vlen)) {
			if (diag.len)
				sbuf_addstr(&diag, "; ");
			sbuf_add(&diag, v, vlen);
		} else if (!indent_of(line, len) && !blank(line, len)) {
			break;
		}
	}
	if (open && addr)
		bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf, diag.len);
	else
		free(addr);
	sbuf_release(&diag);
}

/* au EZweb: "<addr>: reason" lines after its sentence, or "Recipient:
 * <addr>" with the "<<<" reply below it (the ">>> RCPT TO:" echo is
 * never read). The sentence above them is the reason when no reply is
 * given. */
static void ezweb_recipients(struct bounce_report *r, const char *text)
{
	struct sbuf diag = SBUF_INIT, lead = SBUF_INIT;
	char *addr = NULL;
	size_t len, before = r->nrecipients;

	paragraph(text, &lead);
	angle_recipients(r, text, BOUNCE_FAILED);
	for (const char *p = text; p && *p;) {
		const char *line = p;
		const char *v;
		size_t vlen, i;

		p = line_of(line, &len);
		i = indent_of(line, len);
		if (len - i >= 3 && strncmp(line + i, "---", 3) == 0)
			break;
		if (labelled(line, len, "Recipient:", &v, &vlen)) {
			if (addr)
				bounce_report_add(r, BOUNCE_FAILED, addr, NULL,
						  diag.buf, diag.len);
			addr = bounce_report_address(v, vlen, true);
			sbuf_reset(&diag);
		} else if (addr && len - i > 4 &&
			   strncmp(line + i, "<<< ", 4) == 0) {
			if (diag.len)
				sbuf_addch(&diag, ' ');
			sbuf_add(&diag, line + i + 4, len - i - 4);
		}
	}
	if (addr)
		bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf, diag.len);
	for (size_t k = before; lead.len && k < r->nrecipients; k++)
		if (!r->recipients[k].diagnostic)
			bounce_report_add(r, BOUNCE_FAILED,
					  xstrdup(r->recipients[k].final_recipient),
					  NULL, lead.buf, lead.len);
	sbuf_release(&diag);
	sbuf_release(&lead);
}

static const char mailfoundry_reason[] =
	"Delivery failed for the following reason:";

/* MailFoundry: "Unable to deliver message to: <addr>", then "Delivery
 * failed for the following reason:" and the reason up to a blank line. */
static void mailfoundry_recipients(struct bounce_report *r, const char *text)
{
	struct sbuf diag = SBUF_INIT;
	const char *q = text;
	size_t len;

	while ((q = bounce_report_phrase(q, "Unable to deliver message to:"))) {
		const char *next = line_of(q, &len);
		char *addr = bounce_report_find_address(q + 29, len - 29);
		const char *p = next;

		sbuf_reset(&diag);
		if (p && *p) {
			const char *after_reason = line_of(p, &len);
			size_t i = indent_of(p, len);

			if (strncasecmp(p + i, mailfoundry_reason,
					strlen(mailfoundry_reason)) == 0)
				paragraph(after_reason, &diag);
		}
		if (addr)
			bounce_report_add(r, BOUNCE_FAILED, addr, NULL, diag.buf,
					  diag.len);
		q = next;
	}
	sbuf_release(&diag);
}

/* ---- recognition ------------------------------------------------------- */

/* What the recognisers look at. */
struct text_in {
	GMimeObject *msg;
	const char *subject, *from, *mailer, *text;
};

static bool starts(const char *s, const char *prefix)
{
	return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool has(const char *text, const char *phrase)
{
	return bounce_report_phrase(text, phrase) != NULL;
}

static bool is_dragonfly(const struct text_in *in)
{
	return has(in->text, "This is the DragonFly Mail Agent");
}

static bool is_qmail(const struct text_in *in)
{
	return has(in->text, "Hi. This is the qmail-send program") ||
	       has(in->text, "This is the qmail-send program");
}

static bool is_yahoo(const struct text_in *in)
{
	return has(in->text, "Sorry, we were unable to deliver your message") ||
	       has(in->text, "Unable to deliver message to the following "
			     "address") ||
	       (in->from && strcasestr(in->from, "yahoo") &&
		starts(in->subject, "Failure Notice"));
}

static bool is_gmail(const struct text_in *in)
{
	return (has(in->text, "Delivery to the following recipient") &&
		((in->from && strcasestr(in->from, "google")) ||
		 strcasestr(in->text, "Technical details of"))) ||
	       has(in->text, "** Address not found **") ||
	       has(in->text, "** Message not delivered **") ||
	       has(in->text, "** Delivery incomplete **");
}

static bool is_exim(const struct text_in *in)
{
	return has(in->text, "This message was created automatically by mail "
			     "delivery software") ||
	       starts(in->subject, "Mail delivery failed") ||
	       (starts(in->subject, "Warning: message") &&
		strcasestr(in->subject, "delayed"));
}

static const char biglobe_info[] = "----- Non-delivered information -----";

static bool is_biglobe(const struct text_in *in)
{
	return has(in->text, "----- The following addresses had") &&
	       has(in->text, biglobe_info);
}

/* QUALITIA Active!hunter: Sendmail's wording, ">>> addr" lines. */
static bool is_activehunter(const struct text_in *in)
{
	return g_mime_object_get_header(in->msg, "X-AHMailID") &&
	       has(in->text, "----- The following addresses had");
}

/* Sendmail before version 8 (and Post.Office, other look-alikes): only the
 * transcript, then the message back under "----- Unsent message follows"
 * or "----- Original message follows". */
static bool is_v5_sendmail(const struct text_in *in)
{
	return has(in->text, v5_transcript) &&
	       (has(in->text, "----- Unsent message follows") ||
		has(in->text, "----- Original message follows"));
}

static bool is_sendmail(const struct text_in *in)
{
	return sendmail_heading(in->text) || is_v5_sendmail(in);
}

/* "Не доставлено:" */
static const char exchange_ru_subject[] =
	"\xd0\x9d\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2"
	"\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe:";

static bool is_exchange(const struct text_in *in)
{
	return g_mime_object_get_header(in->msg, "X-MS-Exchange-Message-Is-Ndr") ||
	       starts(in->subject, "Undeliverable:") ||
	       starts(in->subject, "Delivery delayed:") ||
	       has(in->text, "Delivery has failed to these recipients") ||
	       has(in->text, "Delivery is delayed to these recipients") ||
	       has(in->text, "Delivery to the following recipients has been "
			     "delayed") ||
	       has(in->text, "Your message did not reach some or all") ||
	       has(in->text, exchange_ims_heading) ||
	       starts(in->subject, "Non remis") ||
	       starts(in->subject, "Unzustellbar:") ||
	       starts(in->subject, "No se puede entregar:") ||
	       starts(in->subject, "Non recapitabile:") ||
	       starts(in->subject, exchange_ru_subject) ||
	       has(in->text, exchange_ru_failed) ||
	       has(in->text, "La remise a \xc3\xa9" "chou\xc3\xa9 pour ces "
			     "destinataires") ||
	       has(in->text, "Die Zustellung an folgende Empf\xc3\xa4nger") ||
	       has(in->text, "Error en la entrega a estos destinatarios");
}

static bool is_postfix(const struct text_in *in)
{
	return has(in->text, "This is the mail system at host") ||
	       has(in->text, "This is the Postfix program at host") ||
	       (in->subject && strcasecmp(in->subject,
					  "Undelivered Mail Returned to Sender") == 0) ||
	       starts(in->subject, "Delayed Mail");
}

/* Yandex.Mail: Postfix's notice, from Yandex's hosts. */
static bool is_yandex(const struct text_in *in)
{
	return is_postfix(in) &&
	       (g_mime_object_get_header(in->msg, "X-Yandex-Uniq") ||
		(in->from && strcasestr(in->from, "yandex.")));
}

static bool is_notes(const struct text_in *in)
{
	return has(in->text, "------- Failure Reasons") ||
	       starts(in->subject, "Undeliverable message");
}

static bool is_imail(const struct text_in *in)
{
	return has(in->text, "Body of message generated response:") ||
	       starts(in->subject, "Undeliverable Mail") ||
	       (in->mailer && strstr(in->mailer, "<SMTP32"));
}

static bool is_opensmtpd(const struct text_in *in)
{
	return has(in->text, "This is the MAILER-DAEMON, please DO NOT REPLY");
}

static bool is_domino(const struct text_in *in)
{
	return starts(in->subject, "DELIVERY FAILURE:") ||
	       strstr(in->subject, "DELIVERY_FAILURE") ||
	       (has(in->text, "was not delivered to:") &&
		has(in->text, "because:"));
}

static bool from_has(const struct text_in *in, const char *domain)
{
	return in->from && strcasestr(in->from, domain);
}

/* GMX, WEB.DE, Mail.ru and Zoho print Exim's opening sentence: they are
 * told apart by who sends it, before Exim is tried. */
static bool is_gmx(const struct text_in *in)
{
	return is_exim(in) &&
	       (g_mime_object_get_header(in->msg, "X-GMX-Antispam") ||
		from_has(in, "@gmx.") || from_has(in, "@web.de"));
}

static bool is_zoho(const struct text_in *in)
{
	return (g_mime_object_get_header(in->msg, "X-ZohoMail") ||
		from_has(in, "zoho")) &&
	       (strstr(in->text, "ERROR_CODE :") ||
		strstr(in->text, "[Status: "));
}

/* 1&1 / IONOS: Exim's wording, the address alone on a line. */
/* 1&1 / IONOS: Exim's opening, the address alone on its line and "For
 * the following reason:", from whichever of its hosts (kundenserver.de,
 * 1und1.de, ionos.com, and the customer domains it relays for). */
static bool is_oneandone(const struct text_in *in)
{
	return is_exim(in) && has(in->text, "For the following reason:");
}

static bool is_kddi(const struct text_in *in)
{
	return (has(in->text, "Your mail sent on:") ||
		has(in->text, "Your mail attempted to be delivered on:")) &&
	       has(in->text, kddi_marker);
}

static bool is_mailmarshal(const struct text_in *in)
{
	return has(in->text, "Could not be delivered because of") &&
	       has(in->text, mailmarshal_heading);
}

static const char smail_marker[] = "- Failed addresses follow:";

static bool is_smail(const struct text_in *in)
{
	return bounce_report_phrase(in->text, "|---") &&
	       strstr(in->text, smail_marker);
}

static const char messaging_server_heading[] =
	"Your message cannot be delivered to the following recipients:";

static bool is_messaging_server(const struct text_in *in)
{
	return has(in->text, messaging_server_heading);
}

static bool is_ezweb(const struct text_in *in)
{
	return has(in->text, "The user(s) account") ||
	       has(in->text, "Each of the following recipients was rejected "
			     "by a remote") ||
	       (has(in->text, "Your message was not delivered within") &&
		starts(in->subject, "Mail System Error"));
}

static bool is_mailru(const struct text_in *in)
{
	return is_exim(in) && from_has(in, "mail.ru");
}

static bool is_mailfoundry(const struct text_in *in)
{
	return has(in->text, "Unable to deliver message to:") &&
	       has(in->text, mailfoundry_reason);
}

static bool is_auto_dsn(const struct text_in *in)
{
	return has(in->text, "This is an automatically generated Delivery "
			     "Status Notification") &&
	       has(in->text, "Delivery to the following recipients");
}

static bool is_mfilter(const struct text_in *in)
{
	const char *mailer = in->mailer ? in->mailer : "";

	return (strcmp(mailer, "m-FILTER") == 0 &&
		has(in->text, "-------server message")) ||
	       (has(in->text, "-------server message") &&
		has(in->text, "-------SMTP command"));
}

static const char ses_heading[] =
	"An error occurred while trying to deliver the mail to";

static bool is_ses(const struct text_in *in)
{
	return has(in->text, ses_heading);
}

/* The readers: each adds the recipients and says the action. */

static void read_angle(struct bounce_report *r, const struct text_in *in,
		       enum bounce_action *action)
{
	*action = starts(in->subject, "Delayed Mail") ? BOUNCE_DELAYED
						      : BOUNCE_FAILED;
	angle_recipients(r, in->text, *action);
}

static void read_gmail(struct bounce_report *r, const struct text_in *in,
		       enum bounce_action *action)
{
	if (strcasestr(in->text, "the group you tried to contact") ||
	    strcasestr(in->text, "googlegroups.com"))
		r->format = BOUNCE_FORMAT_GOOGLE_GROUPS;
	*action = strcasestr(in->text, "has been delayed") ||
				  has(in->text, "** Delivery incomplete **") ||
				  strcasestr(in->text,
					     "details of temporary failure")
			  ? BOUNCE_DELAYED
			  : BOUNCE_FAILED;
	gmail_recipients(r, in->text, *action);
}

static void read_exim(struct bounce_report *r, const struct text_in *in,
		      enum bounce_action *action)
{
	const char *p;

	*action = starts(in->subject, "Warning: message") ? BOUNCE_DELAYED
							  : BOUNCE_FAILED;
	p = exim_marker(in->text, action);
	exim_recipients(r, p, *action);
}

static void read_sendmail(struct bounce_report *r, const struct text_in *in,
			  enum bounce_action *action)
{
	const char *p = sendmail_heading(in->text);
	size_t len;
	const char *next;
	const char *info;
	struct sbuf diag = SBUF_INIT;

	if (!p) {
		*action = starts(in->subject, "Warning: could not send")
				  ? BOUNCE_DELAYED
				  : BOUNCE_FAILED;
		v5_sendmail_recipients(r, in->text, *action);
		return;
	}
	next = line_of(p, &len);
	*action = memmem(p, len, "transient non-fatal", 19) ? BOUNCE_DELAYED
							    : BOUNCE_FAILED;
	sendmail_recipients(r, next, in->text, *action);
	/* Biglobe: the reason under its own heading */
	info = bounce_report_phrase(in->text, biglobe_info);
	if (info)
		paragraph(line_of(info, &len), &diag);
	for (size_t i = 0; diag.len && i < r->nrecipients; i++)
		if (!r->recipients[i].diagnostic &&
		    r->recipients[i].final_recipient)
			bounce_report_add(r, *action,
					  xstrdup(r->recipients[i].final_recipient),
					  NULL, diag.buf, diag.len);
	sbuf_release(&diag);
}

static void read_exchange(struct bounce_report *r, const struct text_in *in,
			  enum bounce_action *action)
{
	*action = starts(in->subject, "Delivery delayed:") ||
				  has(in->text, "Delivery is delayed to these "
						"recipients") ||
				  strcasestr(in->text, "following recipients has "
						       "been delayed")
			  ? BOUNCE_DELAYED
			  : BOUNCE_FAILED;
	exchange_recipients(r, in->text, *action);
}

static void read_notes(struct bounce_report *r, const struct text_in *in,
		       enum bounce_action *action)
{
	*action = BOUNCE_FAILED;
	notes_recipients(r, after(in->text, "Failure Reasons"));
}

static void read_opensmtpd(struct bounce_report *r, const struct text_in *in,
			   enum bounce_action *action)
{
	const char *p = after(in->text, "list of recipients:");

	*action = has(in->text, "A message is delayed for more than")
			  ? BOUNCE_DELAYED
			  : BOUNCE_FAILED;
	opensmtpd_recipients(r, p, *action);
}

static void read_gmx(struct bounce_report *r, const struct text_in *in,
		     enum bounce_action *action)
{
	const char *p;

	*action = BOUNCE_FAILED;
	p = exim_marker(in->text, action);
	if (!p) /* "The following address\nfailed:" wraps differently */
		p = after(in->text, "This message was created automatically");
	gmx_recipients(r, p, *action);
	if (!r->nrecipients)
		exim_recipients(r, p, *action); /* Exim's own indented layout */
}

static void read_auto_dsn(struct bounce_report *r, const struct text_in *in,
			  enum bounce_action *action)
{
	*action = has(in->text, "Delivery to the following recipients has been "
				"delayed")
			  ? BOUNCE_DELAYED
			  : BOUNCE_FAILED;
	auto_dsn_recipients(r, in->text, *action);
}

static void read_smail(struct bounce_report *r, const struct text_in *in,
		       enum bounce_action *action)
{
	const char *p = strstr(in->text, smail_marker);
	size_t len;

	*action = BOUNCE_FAILED;
	smail_recipients(r, line_of(p, &len));
}

static void read_messaging_server(struct bounce_report *r,
				  const struct text_in *in,
				  enum bounce_action *action)
{
	*action = BOUNCE_FAILED;
	messaging_server_recipients(r, after(in->text,
					     messaging_server_heading));
}

static void read_ses(struct bounce_report *r, const struct text_in *in,
		     enum bounce_action *action)
{
	*action = BOUNCE_FAILED;
	ses_recipients(r, after(in->text, ses_heading));
}

/* The formats in the order they are tried: the most specific phrases
 * first (DragonFly's subject is Exim's; Gmail's wording was Exchange's). */
static const struct {
	enum bounce_format format;
	bool (*match)(const struct text_in *in);
	/* what the report says: its action and recipients */
	void (*read)(struct bounce_report *r, const struct text_in *in,
		     enum bounce_action *action);
	/* or, for a format that reports failures only, its recipients read
	 * from the whole text (read is NULL) */
	void (*failed)(struct bounce_report *r, const char *text);
} formats[] = {
	{BOUNCE_FORMAT_DRAGONFLY, is_dragonfly, NULL, dragonfly_recipients},
	{BOUNCE_FORMAT_QMAIL, is_qmail, read_angle, NULL},
	{BOUNCE_FORMAT_YAHOO, is_yahoo, read_angle, NULL},
	{BOUNCE_FORMAT_GMAIL, is_gmail, read_gmail, NULL},
	{BOUNCE_FORMAT_OPENSMTPD, is_opensmtpd, read_opensmtpd, NULL},
	{BOUNCE_FORMAT_ZOHO, is_zoho, NULL, zoho_recipients},
	{BOUNCE_FORMAT_GMX, is_gmx, read_gmx, NULL},
	{BOUNCE_FORMAT_ONEANDONE, is_oneandone, read_gmx, NULL},
	{BOUNCE_FORMAT_MAILRU, is_mailru, read_exim, NULL},
	{BOUNCE_FORMAT_EXIM, is_exim, read_exim, NULL},
	{BOUNCE_FORMAT_BIGLOBE, is_biglobe, read_sendmail, NULL},
	{BOUNCE_FORMAT_ACTIVEHUNTER, is_activehunter, read_sendmail, NULL},
	{BOUNCE_FORMAT_SENDMAIL, is_sendmail, read_sendmail, NULL},
	{BOUNCE_FORMAT_EXCHANGE, is_exchange, read_exchange, NULL},
	{BOUNCE_FORMAT_YANDEX, is_yandex, read_angle, NULL},
	{BOUNCE_FORMAT_POSTFIX, is_postfix, read_angle, NULL},
	{BOUNCE_FORMAT_MAILMARSHAL, is_mailmarshal, NULL, mailmarshal_recipients},
	{BOUNCE_FORMAT_KDDI, is_kddi, NULL, kddi_recipients},
	{BOUNCE_FORMAT_EZWEB, is_ezweb, NULL, ezweb_recipients},
	{BOUNCE_FORMAT_NOTES, is_notes, read_notes, NULL},
	{BOUNCE_FORMAT_IMAIL, is_imail, NULL, imail_recipients},
	{BOUNCE_FORMAT_AMAZON_SES, is_ses, read_ses, NULL},
	{BOUNCE_FORMAT_DOMINO, is_domino, NULL, domino_recipients},
	{BOUNCE_FORMAT_SMAIL, is_smail, read_smail, NULL},
	{BOUNCE_FORMAT_MESSAGING_SERVER, is_messaging_server,
	 read_messaging_server, NULL},
	{BOUNCE_FORMAT_MAILFOUNDRY, is_mailfoundry, NULL, mailfoundry_recipients},
	{BOUNCE_FORMAT_AUTO_DSN, is_auto_dsn, read_auto_dsn, NULL},
	{BOUNCE_FORMAT_MFILTER, is_mfilter, NULL, mfilter_recipients},
};

int bounce_text_parse(struct bounce_report *r, GMimeMessage *msg,
		      const char *text, enum bounce_action *action)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	const char *subject = g_mime_message_get_subject(msg);
	struct text_in in = {
		.msg = o,
		.subject = subject ? subject : "",
		.from = g_mime_object_get_header(o, "From"),
		.mailer = g_mime_object_get_header(o, "X-Mailer"),
		.text = text,
	};

	*action = BOUNCE_FAILED;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!formats[i].match(&in))
			continue;
		r->format = formats[i].format;
		if (formats[i].read)
			formats[i].read(r, &in, action);
		else
			formats[i].failed(r, text);
		return 0;
	}
	return -1;
}
