/*
 * address: e-mail addresses, checked with GMime's strict address parser
 * before they enter the registry or a message.
 *
 * An acceptable address is one bare addr-spec (no display name, no list,
 * no group) whose domain is a dotted host name (an IDN is fine: it is sent
 * as punycode) or an address literal. Quoted local parts are accepted.
 * Local parts outside ASCII are refused: they need SMTPUTF8, which the
 * relay path (libESMTP) cannot use.
 */
#ifndef CHANCERY_ADDRESS_H
#define CHANCERY_ADDRESS_H

#include "chancery/error.h"

/* 0, or ERR_DATA with a message that quotes the address and says why. */
int address_check(const char *addr, struct error *err);

/* The address with its domain in ASCII (punycode) for the SMTP envelope;
 * caller frees. An ASCII address comes back as it is, checked or not
 * (address_check is the check); NULL when a non-ASCII one does not
 * parse. */
char *address_ascii(const char *addr);

#endif
