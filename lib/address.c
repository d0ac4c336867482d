#include <gmime/gmime.h>
#include <stdbool.h>
#include <string.h>

#include "chancery/address.h"
#include "chancery/mime.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

#define ADDRESS_MAX 254 /* RFC 5321's limit on a path */

/* The single mailbox GMime finds in addr, or NULL (caller unrefs list). */
static InternetAddressMailbox *parse_one(const char *addr,
					 InternetAddressList **list)
{
	GMimeParserOptions *opts;
	InternetAddress *a;

	mime_init();
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_STRICT);
	*list = internet_address_list_parse(opts, addr);
	g_mime_parser_options_free(opts);
	if (!*list || internet_address_list_length(*list) != 1)
		return NULL;
	a = internet_address_list_get_address(*list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(a))
		return NULL;
	if (internet_address_get_name(a) && *internet_address_get_name(a))
		return NULL;
	return INTERNET_ADDRESS_MAILBOX(a);
}

static bool domain_ok(const char *domain)
{
	const char *label = domain;

	if (domain[0] == '[')
		return domain[strlen(domain) - 1] == ']';
	if (!strchr(domain, '.'))
		return false;
	for (const char *p = domain;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || *label == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = p + 1;
		}
	}
}

static bool ascii_only(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

int address_check(const char *addr, struct error *err)
{
	InternetAddressList *list = NULL;
	InternetAddressMailbox *mb;
	const char *at;
	int rc = 0;

	if (!addr || !*addr)
		return error_set(err, ERR_DATA, "empty e-mail address");
	if (utf8_has_control(addr) || strchr(addr, '\t'))
		return error_set(err, ERR_DATA,
				 "e-mail address holds a control character "
				 "(CR, LF or the like)");
	if (!utf8_valid(addr, strlen(addr), NULL))
		return error_set(err, ERR_DATA,
				 "e-mail address is not valid UTF-8");
	if (strlen(addr) > ADDRESS_MAX)
		return error_set(err, ERR_DATA,
				 "e-mail address is longer than %d bytes",
				 ADDRESS_MAX);
	/*
	 * A bare addr-spec as a registry stores it has none of these; refusing
	 * them here also keeps input away from a leak in GMime 3.2's address
	 * parser on a stray '>' (found by fuzzing the CSV importer). Quoted
	 * local parts ("john doe"@...) are refused on purpose: no addressee
	 * body uses one and they are a classic header-injection vector.
	 */
	if (addr[0] == '"')
		return error_set(err, ERR_DATA,
				 "'%s': quoted local parts are not accepted "
				 "(use a bare address such as "
				 "office@example.org)", addr);
	if (strpbrk(addr, " <>(),;:\"\\"))
		return error_set(err, ERR_DATA,
				 "'%s' is not a valid e-mail address (a bare "
				 "address such as office@example.org)",
				 addr);
	mb = parse_one(addr, &list);
	at = strrchr(addr, '@');
	if (!mb || strcmp(internet_address_mailbox_get_addr(mb), addr) != 0 || !at)
		rc = error_set(err, ERR_DATA,
			       "'%s' is not a valid e-mail address", addr);
	else if (!domain_ok(at + 1))
		rc = error_set(err, ERR_DATA,
			       "'%s': the domain '%s' is not a full host name",
			       addr, at + 1);
	else if (!ascii_only(addr, (size_t)(at - addr)))
		rc = error_set(err, ERR_DATA,
			       "'%s': a non-ASCII local part needs SMTPUTF8, "
			       "which the relay path does not support",
			       addr);
	if (list)
		g_object_unref(list);
	return rc;
}

char *address_ascii(const char *addr)
{
	InternetAddressList *list = NULL;
	InternetAddressMailbox *mb;
	char *res = NULL;

	/* Nothing to convert: GMime's parse was 8% of the daemon's time,
	 * for the two addresses of every message. */
	if (ascii_only(addr, strlen(addr)))
		return xstrdup(addr);
	mb = parse_one(addr, &list);
	if (mb)
		res = xstrdup(internet_address_mailbox_get_idn_addr(mb));
	if (list)
		g_object_unref(list);
	return res;
}
