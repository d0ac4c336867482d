#include <arpa/inet.h>
#include <idn2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/address.h"
#include "chancery/sbuf.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

#define ADDRESS_MAX 254 /* RFC 5321's limit on a path, less the <> */
#define LOCAL_MAX 64    /* RFC 5321 4.5.3.1.1 */
#define LABEL_MAX 63    /* RFC 1035 2.3.4 */
#define DOMAIN_MAX 253  /* RFC 1035, written without the final dot */

/* UTS #46 processing (case mapped, NFC), keeping ß and ς as IDNA2008 does. */
#define IDN_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

static bool ascii_only(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* RFC 5322 atext: what a dot-atom may hold besides dots. */
static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static bool ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static int check_local(const char *addr, const char *local, size_t len,
		       struct error *err)
{
	if (len == 0)
		return error_set(err, ERR_DATA,
				 "'%s' is not a valid e-mail address (nothing "
				 "before '@')", addr);
	if (!ascii_only(local, len))
		return error_set(err, ERR_DATA,
				 "'%s': a non-ASCII local part needs SMTPUTF8, "
				 "which the relay path does not support",
				 addr);
	if (len > LOCAL_MAX)
		return error_set(err, ERR_DATA,
				 "'%s': the local part is %zu bytes, more than "
				 "the %d mail systems accept",
				 addr, len, LOCAL_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)local[i];

		if (c == '.') {
			if (i == 0 || i + 1 == len || local[i + 1] == '.')
				return error_set(err, ERR_DATA,
						 "'%s': the local part starts "
						 "or ends with '.' or has two "
						 "in a row", addr);
		} else if (!atext(c)) {
			return error_set(err, ERR_DATA,
					 "'%s' is not a valid e-mail address "
					 "(the local part holds '%c', which "
					 "mail systems do not accept)",
					 addr, c);
		}
	}
	return 0;
}

/* [192.0.2.1] or [IPv6:2001:db8::1] (RFC 5321 4.1.3). */
static int check_literal(const char *addr, const char *domain,
			 struct error *err)
{
	size_t len = strlen(domain);
	char ip[64];
	unsigned char bin[16];
	bool ok = false;

	if (len >= 3 && len - 2 < sizeof(ip) && domain[len - 1] == ']') {
		memcpy(ip, domain + 1, len - 2);
		ip[len - 2] = '\0';
		if (strncasecmp(ip, "IPv6:", 5) == 0)
			ok = inet_pton(AF_INET6, ip + 5, bin) == 1;
		else
			ok = inet_pton(AF_INET, ip, bin) == 1;
	}
	if (!ok)
		return error_set(err, ERR_DATA,
				 "'%s': the address literal '%s' is not an "
				 "IPv4 or [IPv6:...] address", addr, domain);
	return 0;
}

/* The labels of a domain in its ASCII form, as DNS and SMTP take them. */
static int check_host(const char *addr, const char *ascii, struct error *err)
{
	size_t total = strlen(ascii);
	const char *label = ascii;

	if (total > DOMAIN_MAX)
		return error_set(err, ERR_DATA,
				 "'%s': the domain is %zu bytes, more than "
				 "the %d a host name may have",
				 addr, total, DOMAIN_MAX);
	if (!strchr(ascii, '.'))
		return error_set(err, ERR_DATA,
				 "'%s': the domain '%s' is not a full host name",
				 addr, ascii);
	for (const char *p = ascii;; p++) {
		if (*p != '.' && *p != '\0') {
			if (!ldh((unsigned char)*p))
				return error_set(err, ERR_DATA,
						 "'%s' is not a valid e-mail "
						 "address (the domain holds "
						 "'%c'; host names have "
						 "letters, digits and '-')",
						 addr, *p);
			continue;
		}
		if (p == label)
			return error_set(err, ERR_DATA,
					 "'%s': the domain has an empty label "
					 "(a dot at an end, or two in a row)",
					 addr);
		if ((size_t)(p - label) > LABEL_MAX)
			return error_set(err, ERR_DATA,
					 "'%s': the domain label '%.*s' is "
					 "%zu bytes, more than %d",
					 addr, (int)(p - label), label,
					 (size_t)(p - label), LABEL_MAX);
		if (*label == '-' || p[-1] == '-')
			return error_set(err, ERR_DATA,
					 "'%s': the domain label '%.*s' starts "
					 "or ends with '-'",
					 addr, (int)(p - label), label);
		if (*p == '\0')
			return 0;
		label = p + 1;
	}
}

static bool has_alabel(const char *domain)
{
	for (const char *p = domain; *p; p++)
		if ((p == domain || p[-1] == '.') &&
		    strncasecmp(p, "xn--", 4) == 0)
			return true;
	return false;
}

/*
 * The ASCII (A-label) and Unicode (U-label) forms of an internationalised
 * domain, each the conversion of the other: an A-label that does not
 * decode, or decodes to something that would not encode back to it, is
 * not valid IDNA.
 */
static int idn_forms(const char *addr, const char *domain, char **ascii,
		     char **unicode, struct error *err)
{
	char *a = NULL, *u = NULL, *back = NULL;
	int rc = 0, irc;

	*ascii = *unicode = NULL;
	if (ascii_only(domain, strlen(domain))) {
		/* A-labels given: decode them, then encode again. */
		irc = idn2_to_unicode_8z8z(domain, &u, 0);
		if (irc == IDN2_OK)
			irc = idn2_to_ascii_8z(u, &a, IDN_FLAGS);
		if (irc == IDN2_OK && strcasecmp(a, domain) != 0)
			irc = IDN2_ALABEL_ROUNDTRIP_FAILED;
		/* Decoded again from the mapped form: XN--MNCHEN-3YA.DE
		 * is münchen.de, not MüNCHEN.DE. */
		idn2_free(u);
		u = NULL;
		if (irc == IDN2_OK)
			irc = idn2_to_unicode_8z8z(a, &u, 0);
	} else {
		irc = idn2_to_ascii_8z(domain, &a, IDN_FLAGS);
		if (irc == IDN2_OK)
			irc = idn2_to_unicode_8z8z(a, &u, 0);
		if (irc == IDN2_OK &&
		    (idn2_to_ascii_8z(u, &back, IDN_FLAGS) != IDN2_OK ||
		     strcmp(back, a) != 0))
			irc = IDN2_ALABEL_ROUNDTRIP_FAILED;
	}
	if (irc != IDN2_OK) {
		rc = error_set(err, ERR_DATA,
			       "'%s': the domain '%s' is not a valid "
			       "internationalised name (%s)",
			       addr, domain, idn2_strerror(irc));
		goto out;
	}
	*ascii = a;
	*unicode = u;
	a = u = NULL;
out:
	idn2_free(a);
	idn2_free(u);
	idn2_free(back);
	return rc;
}

int address_canonical(const char *addr, char **out, struct error *err)
{
	char *ascii = NULL, *unicode = NULL;
	const char *at, *domain, *last_at, *colon;
	size_t wire;
	int rc;

	if (out)
		*out = NULL;
	if (!addr || !*addr)
		return error_set(err, ERR_DATA, "empty e-mail address");
	if (utf8_has_control(addr) || strchr(addr, '\t'))
		return error_set(err, ERR_DATA,
				 "e-mail address holds a control character "
				 "(CR, LF or the like)");
	if (!utf8_valid(addr, strlen(addr), NULL))
		return error_set(err, ERR_DATA,
				 "e-mail address is not valid UTF-8");
	if (strlen(addr) > 4 * ADDRESS_MAX)
		return error_set(err, ERR_DATA,
				 "e-mail address is longer than %d bytes",
				 ADDRESS_MAX);
	/* Quoted local parts ("john doe"@...) are refused on purpose: no
	 * addressee body uses one and they are a classic header-injection
	 * vector. */
	if (addr[0] == '"')
		return error_set(err, ERR_DATA,
				 "'%s': quoted local parts are not accepted "
				 "(use a bare address such as "
				 "office@example.org)", addr);
	last_at = strrchr(addr, '@');
	colon = strchr(addr, ':');
	/* A ':' belongs only in an [IPv6:...] literal. */
	if (strpbrk(addr, " <>(),;\"\\") ||
	    (colon && !(last_at && last_at[1] == '[' && colon > last_at)))
		return error_set(err, ERR_DATA,
				 "'%s' is not a valid e-mail address (a bare "
				 "address such as office@example.org)",
				 addr);
	at = strchr(addr, '@');
	if (!at)
		return error_set(err, ERR_DATA,
				 "'%s' is not a valid e-mail address (no '@')",
				 addr);
	if (strchr(at + 1, '@'))
		return error_set(err, ERR_DATA,
				 "'%s' is not a valid e-mail address (more "
				 "than one '@')", addr);
	domain = at + 1;
	if ((rc = check_local(addr, addr, (size_t)(at - addr), err)))
		return rc;
	if (!*domain)
		return error_set(err, ERR_DATA,
				 "'%s' is not a valid e-mail address (nothing "
				 "after '@')", addr);
	if (domain[0] == '[') {
		if ((rc = check_literal(addr, domain, err)))
			return rc;
		wire = strlen(addr);
	} else {
		bool idn = !ascii_only(domain, strlen(domain)) ||
			   has_alabel(domain);

		/* The characters first: a '%' is named as such, not as
		 * whatever IDNA makes of it. */
		if (!idn && (rc = check_host(addr, domain, err)))
			return rc;
		if (idn && (rc = idn_forms(addr, domain, &ascii, &unicode, err)))
			return rc;
		if (idn && (rc = check_host(addr, ascii, err)))
			goto out;
		wire = (size_t)(at - addr) + 1 + strlen(idn ? ascii : domain);
	}
	if (wire > ADDRESS_MAX) {
		rc = error_set(err, ERR_DATA,
			       "'%s': the address is %zu bytes on the wire, "
			       "more than %d", addr, wire, ADDRESS_MAX);
		goto out;
	}
	if (out) {
		struct sbuf sb = SBUF_INIT;

		sbuf_add(&sb, addr, (size_t)(at - addr) + 1);
		sbuf_addstr(&sb, unicode ? unicode : domain);
		*out = sbuf_detach(&sb, NULL);
	}
out:
	idn2_free(ascii);
	idn2_free(unicode);
	return rc;
}

int address_check(const char *addr, struct error *err)
{
	return address_canonical(addr, NULL, err);
}

char *address_ascii(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	char *a = NULL;
	struct sbuf sb = SBUF_INIT;

	if (!addr)
		return NULL;
	if (ascii_only(addr, strlen(addr)))
		return xstrdup(addr);
	if (!at || at[1] == '[' ||
	    idn2_to_ascii_8z(at + 1, &a, IDN_FLAGS) != IDN2_OK)
		return NULL;
	sbuf_add(&sb, addr, (size_t)(at - addr) + 1);
	sbuf_addstr(&sb, a);
	idn2_free(a);
	return sbuf_detach(&sb, NULL);
}
