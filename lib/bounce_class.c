/*
 * bounce_class: why a recipient failed, from its status code and its
 * diagnostic text. The tables below are the whole policy; docs/bounces.md
 * explains them and must change with them.
 *
 * Precedence (first that decides wins):
 *  1. the action: delayed is always temporary; delivered, relayed and
 *     expanded are no failure (unknown);
 *  2. a specific status code: one listed with its detail in code_table
 *     ("5.1.1", "5.2.2", "5.7.1", ...);
 *  3. a diagnostic phrase (phrase_table, first match in table order);
 *  4. the subject of the status code ("5.1.x", "5.2.x", ...), for codes
 *     whose detail is 0 or not listed;
 *  5. a failed recipient with a 4.x.x status (the relay gave up after
 *     temporary failures) is expired; anything else is unknown.
 * A 4.x.x code never yields the address class (a temporary "user
 * unknown" is a directory hiccup, not proof): steps 2 and 3 skip it.
 * The one exception, checked first: a null MX (RFC 7505), which is no
 * hiccup but the domain's own statement that it takes no mail.
 * Only BOUNCE_CLASS_ADDRESS says the address itself is wrong, so a guess
 * never lands there: ambiguous codes (5.1.0, 5.4.1, 5.5.x) and phrases
 * are left to the more specific evidence or to unknown.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/bounce_report.h"

static const char *const class_names[] = {
	[BOUNCE_CLASS_UNKNOWN] = "unknown",
	[BOUNCE_CLASS_ADDRESS] = "address",
	[BOUNCE_CLASS_MAILBOX] = "mailbox",
	[BOUNCE_CLASS_POLICY] = "policy",
	[BOUNCE_CLASS_MESSAGE] = "message",
	[BOUNCE_CLASS_EXPIRED] = "expired",
	[BOUNCE_CLASS_TEMPORARY] = "temporary",
};

const char *bounce_class_name(enum bounce_class c)
{
	if ((unsigned)c >= BOUNCE_CLASS_COUNT)
		return NULL;
	return class_names[c];
}

int bounce_class_parse(const char *name, enum bounce_class *out)
{
	for (int i = 0; name && i < BOUNCE_CLASS_COUNT; i++) {
		if (strcmp(name, class_names[i]) == 0) {
			*out = (enum bounce_class)i;
			return 0;
		}
	}
	return -1;
}

/* Status codes whose detail decides (the class digit is matched apart:
 * "1.1" stands for 5.1.1; a 4.x.x code only reaches this table for a
 * failed recipient). */
static const struct {
	const char *code; /* subject.detail */
	enum bounce_class klass;
} code_table[] = {
	{"1.1", BOUNCE_CLASS_ADDRESS},  /* bad destination mailbox */
	{"1.2", BOUNCE_CLASS_ADDRESS},  /* bad destination system */
	{"1.3", BOUNCE_CLASS_ADDRESS},  /* bad destination address syntax */
	{"1.4", BOUNCE_CLASS_ADDRESS},  /* ambiguous destination */
	{"1.6", BOUNCE_CLASS_ADDRESS},  /* mailbox has moved */
	{"1.10", BOUNCE_CLASS_ADDRESS}, /* null MX / recipient not found */
	{"1.7", BOUNCE_CLASS_POLICY},   /* bad sender address syntax */
	{"1.8", BOUNCE_CLASS_POLICY},   /* bad sender system address */
	{"2.1", BOUNCE_CLASS_MAILBOX},  /* mailbox disabled */
	{"2.2", BOUNCE_CLASS_MAILBOX},  /* mailbox full */
	{"2.3", BOUNCE_CLASS_MESSAGE},  /* message longer than the mailbox takes */
	{"2.4", BOUNCE_CLASS_MAILBOX},  /* list expansion problem */
	{"3.4", BOUNCE_CLASS_MESSAGE},  /* message too big for the system */
	{"4.4", BOUNCE_CLASS_ADDRESS},  /* unable to route: no such domain */
	{"4.7", BOUNCE_CLASS_EXPIRED},  /* delivery time expired */
	{"7.13", BOUNCE_CLASS_MAILBOX}, /* user account disabled */
	{"7.1", BOUNCE_CLASS_POLICY},   /* delivery not authorized */
	{"7.26", BOUNCE_CLASS_POLICY},  /* DMARC / authentication failed */
};

/* The default of a status subject when neither the detail nor a phrase
 * decided. */
static const enum bounce_class subject_table[8] = {
	[0] = BOUNCE_CLASS_UNKNOWN, /* other or undefined */
	[1] = BOUNCE_CLASS_UNKNOWN, /* addressing, detail unknown: 5.1.0 */
	[2] = BOUNCE_CLASS_MAILBOX, /* mailbox */
	[3] = BOUNCE_CLASS_UNKNOWN, /* mail system */
	[4] = BOUNCE_CLASS_UNKNOWN, /* network and routing */
	[5] = BOUNCE_CLASS_UNKNOWN, /* protocol */
	[6] = BOUNCE_CLASS_MESSAGE, /* content */
	[7] = BOUNCE_CLASS_POLICY,  /* security or policy */
};

/* Diagnostic phrases, case-insensitive, first match in this order: the
 * compound phrases that hold a word of another class come before it. */
static const struct {
	const char *phrase;
	enum bounce_class klass;
} phrase_table[] = {
	/* compounds first */
	{"not listed in public name", BOUNCE_CLASS_ADDRESS}, /* Notes */
	{"not listed in domino directory", BOUNCE_CLASS_ADDRESS},
	/* Notes in Japanese: "not in the directory's list" */
	{"\xe3\x83\x87\xe3\x82\xa3\xe3\x83\xac\xe3\x82\xaf\xe3\x83\x88"
	 "\xe3\x83\xaa\xe3\x81\xae\xe3\x83\xaa\xe3\x82\xb9\xe3\x83\x88"
	 "\xe3\x81\xab\xe3\x81\x82\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x9b"
	 "\xe3\x82\x93",
	 BOUNCE_CLASS_ADDRESS},
	{"permission to post", BOUNCE_CLASS_POLICY}, /* Google Groups */
	{"user doesn't have a", BOUNCE_CLASS_ADDRESS}, /* Yahoo */
	{"recipient address rejected: access denied", BOUNCE_CLASS_ADDRESS},
	{"account has been disabled", BOUNCE_CLASS_MAILBOX},
	{"account is disabled", BOUNCE_CLASS_MAILBOX},
	{"mailbox disabled", BOUNCE_CLASS_MAILBOX},
	{"account disabled", BOUNCE_CLASS_MAILBOX},
	{"account has been suspended", BOUNCE_CLASS_MAILBOX},
	{"account is inactive", BOUNCE_CLASS_MAILBOX},
	{"mailbox is inactive", BOUNCE_CLASS_MAILBOX},
	/* the message */
	{"message too large", BOUNCE_CLASS_MESSAGE},
	{"message is too large", BOUNCE_CLASS_MESSAGE},
	{"message size exceeds", BOUNCE_CLASS_MESSAGE},
	{"message length exceeds", BOUNCE_CLASS_MESSAGE},
	{"exceeds size limit", BOUNCE_CLASS_MESSAGE},
	{"size limit", BOUNCE_CLASS_MESSAGE},
	{"too big", BOUNCE_CLASS_MESSAGE},
	{"virus", BOUNCE_CLASS_MESSAGE},
	{"malware", BOUNCE_CLASS_MESSAGE},
	{"prohibited attachment", BOUNCE_CLASS_MESSAGE},
	{"content rejected", BOUNCE_CLASS_MESSAGE},
	/* the mailbox */
	{"mailbox full", BOUNCE_CLASS_MAILBOX},
	{"mailbox is full", BOUNCE_CLASS_MAILBOX},
	{"mailbox exceeds", BOUNCE_CLASS_MAILBOX},
	{"mailbox exceeded", BOUNCE_CLASS_MAILBOX}, /* Biglobe */
	{"over quota", BOUNCE_CLASS_MAILBOX},
	{"quota", BOUNCE_CLASS_MAILBOX},
	{"insufficient storage", BOUNCE_CLASS_MAILBOX},
	{"exceeded storage", BOUNCE_CLASS_MAILBOX},
	{"out of storage", BOUNCE_CLASS_MAILBOX},
	/* the address */
	{"user unknown", BOUNCE_CLASS_ADDRESS},
	{"unknown user", BOUNCE_CLASS_ADDRESS},
	{"no such user", BOUNCE_CLASS_ADDRESS},
	{"no such recipient", BOUNCE_CLASS_ADDRESS},
	{"no such mailbox", BOUNCE_CLASS_ADDRESS},
	{"no mailbox here", BOUNCE_CLASS_ADDRESS},
	{"unknown recipient", BOUNCE_CLASS_ADDRESS},
	{"recipient unknown", BOUNCE_CLASS_ADDRESS},
	{"recipient not found", BOUNCE_CLASS_ADDRESS},
	{"recipientnotfound", BOUNCE_CLASS_ADDRESS},
	{"recipnotfound", BOUNCE_CLASS_ADDRESS},
	{"address not found", BOUNCE_CLASS_ADDRESS},
	{"couldn't be found", BOUNCE_CLASS_ADDRESS},
	{"could not be found", BOUNCE_CLASS_ADDRESS},
	{"invalid recipient", BOUNCE_CLASS_ADDRESS},
	{"invalid mailbox", BOUNCE_CLASS_ADDRESS},
	{"invalid address", BOUNCE_CLASS_ADDRESS},
	{"invalid final delivery userid", BOUNCE_CLASS_ADDRESS},
	{"mailbox not found", BOUNCE_CLASS_ADDRESS},
	{"does not exist", BOUNCE_CLASS_ADDRESS},
	{"doesn't exist", BOUNCE_CLASS_ADDRESS},
	{"may not exist", BOUNCE_CLASS_ADDRESS},
	{"host unknown", BOUNCE_CLASS_ADDRESS},
	{"unknown host", BOUNCE_CLASS_ADDRESS},
	{"host not found", BOUNCE_CLASS_ADDRESS},
	{"domain not found", BOUNCE_CLASS_ADDRESS},
	{"no such domain", BOUNCE_CLASS_ADDRESS},
	{"illegal host/domain name", BOUNCE_CLASS_ADDRESS}, /* Messaging Server */
	{"unrouteable address", BOUNCE_CLASS_ADDRESS},
	{"unroutable address", BOUNCE_CLASS_ADDRESS},
	{"mx records point to non-existent hosts", BOUNCE_CLASS_ADDRESS},
	{"mailbox has moved", BOUNCE_CLASS_ADDRESS},
	{"no longer", BOUNCE_CLASS_ADDRESS},
	/* giving up */
	{"retry time exceeded", BOUNCE_CLASS_EXPIRED},
	{"retry timeout exceeded", BOUNCE_CLASS_EXPIRED},
	{"too long in queue", BOUNCE_CLASS_EXPIRED},
	{"message expired", BOUNCE_CLASS_EXPIRED},
	{"delivery time expired", BOUNCE_CLASS_EXPIRED},
	{"timed out", BOUNCE_CLASS_EXPIRED},
	{"giving up", BOUNCE_CLASS_EXPIRED},
	{"envelope expired", BOUNCE_CLASS_EXPIRED},  /* OpenSMTPD */
	{"host not reachable", BOUNCE_CLASS_EXPIRED}, /* Zoho, after retries */
	/* policy: blocks, spam filters, authentication */
	{"blocked", BOUNCE_CLASS_POLICY},
	{"block list", BOUNCE_CLASS_POLICY},
	{"blocklist", BOUNCE_CLASS_POLICY},
	{"blacklist", BOUNCE_CLASS_POLICY},
	{"listed at", BOUNCE_CLASS_POLICY},
	{"listed in", BOUNCE_CLASS_POLICY},
	{"spamhaus", BOUNCE_CLASS_POLICY},
	{"spam", BOUNCE_CLASS_POLICY},
	{"spf", BOUNCE_CLASS_POLICY},
	{"dmarc", BOUNCE_CLASS_POLICY},
	{"dkim", BOUNCE_CLASS_POLICY},
	{"reputation", BOUNCE_CLASS_POLICY},
	{"sender denied", BOUNCE_CLASS_POLICY},
	{"sender rejected", BOUNCE_CLASS_POLICY},
	{"relay access denied", BOUNCE_CLASS_POLICY},
	{"relaying denied", BOUNCE_CLASS_POLICY},
	{"access denied", BOUNCE_CLASS_POLICY},
	{"not authorized", BOUNCE_CLASS_POLICY},
	{"unauthorized", BOUNCE_CLASS_POLICY},
	{"authentication", BOUNCE_CLASS_POLICY},
	{"policy", BOUNCE_CLASS_POLICY},
	{"reverse dns", BOUNCE_CLASS_POLICY}, /* the sending host's PTR */
	{"rdns", BOUNCE_CLASS_POLICY},
	{"ptr record", BOUNCE_CLASS_POLICY},
	{"unroutable sender", BOUNCE_CLASS_POLICY},
	{"unrouteable sender", BOUNCE_CLASS_POLICY},
	{"rejected by", BOUNCE_CLASS_POLICY},
	/* the last, most ambiguous address phrases */
	{"mailbox unavailable", BOUNCE_CLASS_ADDRESS},
	{"mailbox not available", BOUNCE_CLASS_ADDRESS},
};

/* Case-insensitive strstr; needle is lower case. */
static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	int first = tolower((unsigned char)needle[0]);

	for (const char *p = hay; *p; p++)
		if (tolower((unsigned char)*p) == first &&
		    strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

/* Splits "5.1.10" into its three numbers; false when it is no code. */
static bool split_status(const char *s, int *klass, int *subject, int *detail)
{
	char *end;

	if (!s || !strchr("245", s[0]) || s[1] != '.')
		return false;
	*klass = s[0] - '0';
	*subject = (int)strtol(s + 2, &end, 10);
	if (end == s + 2 || *end != '.')
		return false;
	s = end + 1;
	*detail = (int)strtol(s, &end, 10);
	return end != s && *subject >= 0 && *detail >= 0;
}

static bool code_lookup(int subject, int detail, enum bounce_class *out)
{
	char key[24];

	snprintf(key, sizeof(key), "%d.%d", subject, detail);
	for (size_t i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (strcmp(key, code_table[i].code) == 0) {
			*out = code_table[i].klass;
			return true;
		}
	return false;
}

static bool phrase_lookup(const char *diag, enum bounce_class *out)
{
	if (!diag)
		return false;
	for (size_t i = 0; i < sizeof(phrase_table) / sizeof(phrase_table[0]);
	     i++)
		if (contains(diag, phrase_table[i].phrase)) {
			*out = phrase_table[i].klass;
			return true;
		}
	return false;
}

enum bounce_class bounce_classify(const char *status, const char *diagnostic,
				  enum bounce_action action)
{
	int klass = 0, subject = 0, detail = 0;
	bool have = split_status(status, &klass, &subject, &detail);
	enum bounce_class c;

	if (action == BOUNCE_DELAYED)
		return BOUNCE_CLASS_TEMPORARY;
	if (action != BOUNCE_FAILED || (have && klass == 2))
		return BOUNCE_CLASS_UNKNOWN;
	/* RFC 7505: a null MX says the domain takes no mail at all, whatever
	 * code the reporter wrote beside it (Gmail writes 4.0.0) */
	if (diagnostic && contains(diagnostic, "null mx"))
		return BOUNCE_CLASS_ADDRESS;
	if (have && detail != 0 && code_lookup(subject, detail, &c) &&
	    !(klass == 4 && c == BOUNCE_CLASS_ADDRESS))
		return c;
	if (phrase_lookup(diagnostic, &c) &&
	    !(have && klass == 4 && c == BOUNCE_CLASS_ADDRESS))
		return c;
	if (have && klass == 4)
		return BOUNCE_CLASS_EXPIRED;
	if (have && subject < 8)
		return subject_table[subject];
	return BOUNCE_CLASS_UNKNOWN;
}
