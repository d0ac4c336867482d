/*
 * address: e-mail addresses, checked before they enter the registry or a
 * message.
 *
 * An acceptable address is one bare addr-spec (no display name, no list,
 * no group, no quoted local part): a dot-atom local part of ASCII atext
 * (RFC 5322 3.2.3), at most 64 octets (RFC 5321 4.5.3.1.1), and a domain
 * that is either an address literal ([192.0.2.1], [IPv6:...]) or a dotted
 * host name of letters, digits and hyphens in its ASCII form, labels of at
 * most 63 octets, at most 253 in all. A local part outside ASCII is
 * refused: it needs SMTPUTF8, which the relay path (libESMTP) cannot use.
 *
 * Internationalised domains (IDNA2008 with the UTS #46 mapping, through
 * libidn2) may be given either way, as U-labels (info@münchen.de) or as
 * A-labels (info@xn--mnchen-3ya.de); both name the same mailbox and have
 * one canonical form, the Unicode one (address_canonical), which is what
 * the registry stores and every listing shows. The A-label form is made
 * only where it is needed, at the edge: the SMTP envelope and the message
 * headers (address_ascii), because a relay without SMTPUTF8 refuses UTF-8
 * there. Unicode was chosen as the stored form because addresses with
 * U-labels were already accepted and stored as given (no migration is
 * needed) and because people read and search the registry.
 */
#ifndef CHANCERY_ADDRESS_H
#define CHANCERY_ADDRESS_H

#include "chancery/error.h"

/* 0, or ERR_DATA with a one-line message that quotes the address and
 * names the problem. */
int address_check(const char *addr, struct error *err);

/*
 * Checks addr like address_check and, when it is acceptable, sets *out to
 * its canonical form (caller frees): the local part as given, an IDN
 * domain as UTS #46-mapped U-labels (lower case, NFC), any other domain
 * as given. Two spellings of one mailbox have the same canonical form up
 * to ASCII case.
 */
int address_canonical(const char *addr, char **out, struct error *err);

/* The address with its domain in ASCII (A-labels) for the SMTP envelope
 * and headers; caller frees. An ASCII address comes back as it is,
 * checked or not (address_check is the check); NULL when a non-ASCII one
 * is not valid IDNA. */
char *address_ascii(const char *addr);

#endif
