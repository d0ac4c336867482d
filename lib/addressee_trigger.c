/*
 * addressee_trigger: the words that open an addressee passage (see the
 * header). A table of passive forms, and a rule for active ones: a verb
 * of sending, at most a few words naming what was sent (one of them a
 * document: "the note verbale", "copies of the appeal"), then "to".
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "chancery/addressee.h"
#include "chancery/addressee_trigger.h"

static const char *const passive[] = {
	"has been sent to", "have been sent to", "was sent to",
	"were sent to", "is sent to", "is being sent to",
	"has been addressed to", "have been addressed to", "is addressed to",
	"are addressed to", "was addressed to", "were addressed to",
	"has been forwarded to", "was forwarded to", "is forwarded to",
	"has been submitted to", "was submitted to", "has been circulated to",
	"was circulated to", "were forwarded to", "have been forwarded to",
	"were circulated to", "has been transmitted to", "was transmitted to",
	"were transmitted to", "has been dispatched to", "was dispatched to",
	"were dispatched to", "has been circulated among",
	"was circulated among", "were circulated among",
	"has been distributed to", "was distributed to",
	"were distributed to", "has been distributed among",
	"was distributed among", "has been shared with", "was shared with",
	"were shared with", "is being shared with", "is shared with",
	"has been delivered to", "was delivered to", "were delivered to",
	"has been conveyed to", "was conveyed to", "were conveyed to",
	"has been brought to the attention of",
	"was brought to the attention of",
	"were brought to the attention of",
	/* labels of a letter's copies */
	"cc:", "c.c.:", "copy to:", "copies to:", "distribution:",
	"addressees:", "recipients:",
};

/* Verbs of the active form; "appealed" needs no object. */
static const char *const active[] = {
	"appealed", "sent", "forwarded", "addressed", "transmitted",
	"circulated", "distributed", "submitted", "dispatched", "conveyed",
	"directed",
};

/* What is sent: one of these must stand between an active verb and
 * "to", so that "troops were sent to" or "a letter sent to the UN" open
 * no passage. */
static const char *const documents[] = {
	"statement", "statements", "appeal", "appeals", "letter", "letters",
	"note", "notes", "verbale", "verbales", "report", "reports",
	"address", "message", "messages", "copy", "copies", "information",
	"document", "documents", "declaration", "petition", "communication",
	"it", "them", "text", "request", "memorandum", "materials", "call",
};

/* The length of the passive trigger t at p, or 0: white space in t
 * matches any one white-space character, one "also" may stand between
 * its words ("was also forwarded to", "has also been sent to"), and it
 * sits on word boundaries. */
static size_t passive_at(const char *s, size_t p, const char *t)
{
	size_t i = p;
	bool also = false;

	if (p > 0 && isalnum((unsigned char)s[p - 1]))
		return 0;
	for (; *t; t++, i++) {
		if (*t == ' ') {
			if (!isspace((unsigned char)s[i]))
				return 0;
			if (!also && strncasecmp(s + i + 1, "also", 4) == 0 &&
			    isspace((unsigned char)s[i + 5])) {
				also = true;
				i += 5;
			}
		} else if (tolower((unsigned char)s[i]) != *t) {
			return 0;
		}
	}
	return isspace((unsigned char)s[i]) || s[i] == ':' ? i - p : 0;
}

static bool is_document(const char *s, size_t i)
{
	return addressee_word_among(s, i, documents,
				    sizeof(documents) / sizeof(documents[0]),
				    true) != 0;
}

/* Whether the verb at p is passive: "was", "been", ... before it, or
 * before one adverb ("has been officially forwarded"). */
static bool passive_before(const char *s, size_t p)
{
	static const char *const aux[] = {"been", "was", "were", "is", "are",
					  "being"};
	size_t e = p, b;

	for (int hop = 0; hop < 2 && e >= 2 && s[e - 1] == ' '; hop++) {
		for (b = e - 1; b && isalpha((unsigned char)s[b - 1]); b--)
			;
		for (size_t k = 0; k < sizeof(aux) / sizeof(aux[0]); k++)
			if (e - 1 - b == strlen(aux[k]) &&
			    strncasecmp(s + b, aux[k], e - 1 - b) == 0)
				return true;
		if (e - 1 - b < 4 || strncmp(s + e - 3, "ly", 2) != 0)
			return false;
		e = b;
	}
	return false;
}

/* The length of an active trigger at p: verb, object, "to" (or
 * "among"); 0 when none. A passive verb needs no object: "was sent by
 * e-mail to", "was transmitted through diplomatic channels to". */
static size_t active_at(const char *s, size_t p)
{
	for (size_t v = 0; v < sizeof(active) / sizeof(active[0]); v++) {
		size_t i = p + strlen(active[v]), words = 0;
		bool doc = v == 0 || /* "appealed to" */
			   passive_before(s, p);

		if (!addressee_word_at(s, p, active[v]))
			continue;
		while (words <= 12 && s[i] == ' ') {
			i++;
			if (addressee_word_at(s, i, "to") ||
			    addressee_word_at(s, i, "among")) {
				size_t n = s[i] == 't' || s[i] == 'T' ? 2 : 5;

				return doc && (s[i + n] == ' ' ||
					       s[i + n] == ':')
					       ? i + n - p
					       : 0;
			}
			doc |= is_document(s, i);
			while (isalnum((unsigned char)s[i]) || s[i] == '-' ||
			       s[i] == '\'' || (unsigned char)s[i] >= 0x80)
				i++;
			words++;
		}
		return 0;
	}
	return 0;
}

size_t addressee_trigger_at(const char *s, size_t p)
{
	size_t len;

	/* most bytes start no trigger: skip the tables for them */
	if (!strchr("hwiaHWIAsfdtcrSFDTCR", s[p]) ||
	    (p > 0 && isalnum((unsigned char)s[p - 1])))
		return 0;
	for (size_t t = 0; t < sizeof(passive) / sizeof(passive[0]); t++)
		if ((len = passive_at(s, p, passive[t])) != 0)
			return len;
	return active_at(s, p);
}

/* Plurals that name bodies without a capital ("the ombudsmen of ..."). */
static const char *const bodies[] = {
	"ombudsmen", "ombudspersons", "ombudsman", "embassies", "missions",
	"consulates", "diaspora", "institutions", "organisations",
	"organizations", "commissions", "parliaments", "ministries",
	"representations", "offices", "agencies", "bodies", "defenders",
	"mediators", "nhris", "communities",
};

bool addressee_names_someone(const char *s, size_t from, size_t to)
{
	bool letters = false;

	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i > from && isalnum((unsigned char)s[i - 1]))
			continue;
		/* U+2000.. (0xe2) is punctuation: dashes, quotes, bullets */
		if (isupper(c) || (c >= 0xc3 && c != 0xe2))
			return true;
		letters |= isalpha(c) != 0;
		if (addressee_word_among(s, i, bodies,
					 sizeof(bodies) / sizeof(bodies[0]), true))
			return true;
	}
	return !letters;
}

bool addressee_trigger_label(const char *s, size_t n)
{
	static const char *const labels[] = {
		"cc:", "c.c.:", "copy to:", "copies to:", "distribution:",
		"addressees:", "recipients:",
	};
	while (n && isspace((unsigned char)*s))
		s++, n--;
	for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++)
		if (n >= strlen(labels[k]) &&
		    strncasecmp(s, labels[k], strlen(labels[k])) == 0)
			return true;
	return false;
}
