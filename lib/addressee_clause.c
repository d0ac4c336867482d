/*
 * addressee_clause: words in an addressee list that name no one (see the
 * header). Tables of openers; "to" opens a clause only before a verb of
 * this list, so "the Permanent Representative to the UN" and "the
 * Special Rapporteur on the right to food" stay names.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "chancery/addressee_clause.h"

static const char *const openers[] = {
	"with a request", "with the request", "with a call", "with the call",
	"with an appeal", "with the appeal", "with a view to", "with a plea",
	"urging", "calling on", "calling upon", "calling for", "asking",
	"requesting", "in order to", "so that", "for their attention",
	"for information", "for consideration",
};

static const char *const verbs[] = {
	"take", "give", "condemn", "recognise", "recognize", "assess",
	"bring", "support", "ensure", "prevent", "help", "raise", "stop",
	"demand", "investigate", "consider", "make", "provide", "hold",
	"join", "respond", "act", "express", "adopt", "react", "pay",
	"protect", "show", "intervene", "facilitate", "promote",
	"disseminate", "commemorate", "publish", "inform", "remember",
	"honour", "honor", "declare", "mark", "prosecute", "punish",
	"establish", "use", "put", "find", "be", "have", "do", "draw",
	"urge", "call", "appeal", "contribute", "undertake", "exert",
	"strengthen", "pay", "share", "circulate", "distribute", "study",
	"review", "examine", "release", "return", "reveal", "clarify",
};

static bool word_at(const char *s, size_t i, const char *w)
{
	size_t n = strlen(w);

	return (i == 0 || !isalnum((unsigned char)s[i - 1])) &&
	       strncmp(s + i, w, n) == 0 && !isalnum((unsigned char)s[i + n]);
}

bool addressee_clause_at(const char *s, size_t i)
{
	if (i > 0 && s[i - 1] != ' ')
		return false;
	for (size_t k = 0; k < sizeof(openers) / sizeof(openers[0]); k++)
		if (word_at(s, i, openers[k]))
			return true;
	if (!word_at(s, i, "to") || s[i + 2] != ' ')
		return false;
	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (word_at(s, i + 3, verbs[k]))
			return true;
	return false;
}

bool addressee_clause_vague(const char *seg)
{
	static const char *const vague[] = {
		"etc", "etc.", "and so on", "and others", "others",
		"and many others", "and other", "other", "and all other",
		"all other", "and a number of other", "a number of other",
		"and various other", "various other",
	};
	size_t n = strlen(seg);

	while (n && (seg[n - 1] == '.' || seg[n - 1] == ' '))
		n--;
	for (size_t k = 0; k < sizeof(vague) / sizeof(vague[0]); k++) {
		size_t v = strlen(vague[k]);

		if (strncasecmp(seg, vague[k], v) != 0)
			continue;
		/* "etc", "others": the whole item; "other X": a class the
		 * statement does not name */
		if (v >= n || seg[v] == ' ')
			return true;
	}
	return false;
}

size_t addressee_clause_specifier(const char *s, size_t i)
{
	static const char *const words[] = {
		"including", "in particular", "namely", "notably",
		"especially", "such as", "among them", "inter alia",
	};
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (word_at(s, i, words[k]))
			return strlen(words[k]);
	return 0;
}

bool addressee_clause_general(const char *item)
{
	size_t n = strlen(item), w;

	while (n && (item[n - 1] == ' ' || item[n - 1] == ','))
		n--;
	if (!n || item[n - 1] == ')')
		return false;
	for (w = n; w && item[w - 1] != ' '; w--)
		;
	/* a plural word in lower case: "organisations", "bodies" */
	return n - w > 3 && item[n - 1] == 's' &&
	       islower((unsigned char)item[w]);
}

static const char *const honorifics[] = {
	"H.E.", "H. E.", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Mr", "Mrs",
	"Ms", "Dr", "Madam", "Mme", "Sir", "Ambassador", "His Excellency",
	"Her Excellency",
};

/* The length of an honorific and the space after it at s, 0 when none. */
static size_t honorific_len(const char *s)
{
	for (size_t k = 0; k < sizeof(honorifics) / sizeof(honorifics[0]);
	     k++) {
		size_t n = strlen(honorifics[k]);

		if (strncmp(s, honorifics[k], n) == 0 && s[n] == ' ' &&
		    (isupper((unsigned char)s[n + 1]) ||
		     (unsigned char)s[n + 1] >= 0xc3))
			return n + 1;
	}
	return 0;
}

bool addressee_clause_person(const char *item)
{
	static const char *const lead[] = {"and to ", "and ", "to ", "also "};

	for (size_t k = 0; k < sizeof(lead) / sizeof(lead[0]); k++)
		if (strncmp(item, lead[k], strlen(lead[k])) == 0)
			item += strlen(lead[k]);
	return honorific_len(item) != 0;
}

size_t addressee_clause_person_at(const char *item)
{
	for (size_t i = 1; item[i]; i++)
		if (item[i - 1] == ' ' && i >= 2 &&
		    isalnum((unsigned char)item[i - 2]) &&
		    honorific_len(item + i))
			return i - 1;
	return 0;
}

bool addressee_clause_seat(const char *item)
{
	static const char *const seats[] = {
		"Geneva", "New York", "Vienna", "Strasbourg", "Brussels",
		"Paris", "The Hague", "Warsaw", "Copenhagen", "Nairobi",
		"Rome", "Luxembourg", "Jeddah", "London", "Washington",
		"Washington D.C.", "Berlin", "Madrid", "Budapest", "Bangkok",
		"Addis Ababa", "Baku", "Tbilisi", "Yerevan", "Kyiv", "Ankara",
		"Istanbul", "Moscow", "Tashkent", "Astana", "Bishkek",
		"Dushanbe", "Ashgabat", "Chisinau", "Vilnius", "Riga",
		"Tallinn", "Minsk", "Oslo", "Stockholm", "Helsinki",
	};
	if (strncmp(item, "in ", 3) == 0)
		item += 3;
	for (size_t k = 0; k < sizeof(seats) / sizeof(seats[0]); k++)
		if (strcmp(item, seats[k]) == 0)
			return true;
	return false;
}
