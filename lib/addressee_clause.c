/*
 * addressee_clause: words in an addressee list that name no one (see the
 * header). Tables of openers; "to" opens a clause only before a verb of
 * this list, so "the Permanent Representative to the UN" and "the
 * Special Rapporteur on the right to food" stay names.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "chancery/addressee.h"
#include "chancery/addressee_clause.h"

static const char *const openers[] = {
	"with a request", "with the request", "with a call", "with the call",
	"with an appeal", "with the appeal", "with a view to", "with a plea",
	"urging", "calling on", "calling upon", "calling for", "asking",
	"requesting", "in order to", "so that", "for their attention",
	"for information", "for consideration", "respectively",
	"regarding", "concerning", "in connection with", "in relation to",
	"with regard to", "on the occasion of", "in view of",
};

/* Verbs that make the piece they stand in a sentence of its own: "...,
 * and the Ombudsman also called on the OSCE to act". */
static const char *const finite[] = {
	"called on", "called upon", "urged", "stressed", "noted",
	"expressed", "said", "added", "emphasised", "emphasized", "recalled",
	"reminded", "asked", "requested", "informed", "underlined",
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

/* The clauses' words are lower case and matched as written: a name's
 * capital is no clause. */
#define AMONG(s, i, list)                                                   \
	addressee_word_among(s, i, list, sizeof(list) / sizeof(list[0]), false)

bool addressee_clause_at(const char *s, size_t i)
{
	static const char *const to[] = {"to"};

	if (i > 0 && s[i - 1] != ' ')
		return false;
	if (AMONG(s, i, openers))
		return true;
	return AMONG(s, i, to) && s[i + 2] == ' ' && AMONG(s, i + 3, verbs);
}

bool addressee_clause_finite(const char *s, size_t i)
{
	return (i == 0 || s[i - 1] == ' ') && AMONG(s, i, finite);
}

bool addressee_clause_vague(const char *seg)
{
	static const char *const alone[] = {"and", "or", "to", "and to",
					    "also", "as well"};
	static const char *const vague[] = {
		"etc", "etc.", "and so on", "and others", "others",
		"and many others", "and other", "other", "and all other",
		"all other", "and a number of other", "a number of other",
		"and various other", "various other",
	};
	size_t n = strlen(seg);

	while (n && (seg[n - 1] == '.' || seg[n - 1] == ' '))
		n--;
	for (size_t k = 0; k < sizeof(alone) / sizeof(alone[0]); k++)
		if (strlen(alone[k]) == n && strncasecmp(seg, alone[k], n) == 0)
			return true; /* "UNESCO, and\n\u2022 the OSCE" */
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
	return AMONG(s, i, words);
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

/* Words that end an office's title: a person's name may follow them
 * without an honorific ("UN Secretary-General António Guterres"). */
static const char *const titles[] = {
	"Secretary-General", "General", "Commissioner", "President",
	"Chair", "Chairperson", "Chairman", "Chairwoman",
	"Chairperson-in-Office", "Chairman-in-Office", "Director",
	"Director-General", "Rapporteur", "Ombudsman", "Ombudsperson",
	"Representative", "Secretary", "Minister", "Head", "Speaker",
	"Registrar", "Coordinator", "Envoy", "Advocate", "Defender",
};

static bool is_title(const char *w, size_t n)
{
	for (size_t k = 0; k < sizeof(titles) / sizeof(titles[0]); k++)
		if (strlen(titles[k]) == n && strncmp(w, titles[k], n) == 0)
			return true;
	return false;
}

/* Words of bodies' names, never of a person's. */
static const char *const body_words[] = {
	"Institute", "Institution", "Association", "Office", "Council",
	"Board", "Committee", "Commission", "Bureau", "Network", "Forum",
	"Group", "Union", "Alliance", "Federation", "Foundation", "Assembly",
	"Court", "Agency", "Fund", "Centre", "Center", "Mission",
	"Programme", "Service", "Department", "Ministry", "Society", "Watch",
	"Organization", "Organisation", "Parliament", "Rights", "Affairs",
	"Children", "Refugees", "Nations", "Europe", "Cooperation", "States",
	"Republic", "Conference", "Secretariat", "Unit", "Team", "Panel",
};

/* A word of a person's name: a capital (or a letter outside ASCII)
 * then at least one lower-case letter ("Guterres", "O'Reilly"), and no
 * word of a body's name. */
static bool name_word(const char *w, size_t n)
{
	size_t lower = 0;

	if (n < 2 || !(isupper((unsigned char)*w) || (unsigned char)*w >= 0xc3))
		return false;
	for (size_t k = 0; k < sizeof(body_words) / sizeof(body_words[0]); k++)
		if (strlen(body_words[k]) == n &&
		    strncmp(w, body_words[k], n) == 0)
			return false;
	for (size_t i = 1; i < n; i++)
		lower += islower((unsigned char)w[i]) || (unsigned char)w[i] >= 0x80;
	return lower > 0;
}

size_t addressee_clause_name_tail(const char *item)
{
	size_t end = strlen(item), words = 0;

	while (end) {
		size_t b = end;

		while (b && item[b - 1] != ' ')
			b--;
		if (b == end) /* two spaces */
			return 0;
		if (words >= 2 && item[end - 1] == ')' && item[b] == '(') {
			/* "Secretary-General (UNSG) António Guterres" */
			size_t t = b - 1;

			while (t && item[t - 1] != ' ')
				t--;
			return b >= 2 && is_title(item + t, b - 1 - t) ? end : 0;
		}
		if (words >= 2 && is_title(item + b, end - b))
			return end;
		if (words == 4 || !name_word(item + b, end - b) || !b)
			return 0;
		words++;
		end = b - 1;
	}
	return 0;
}

bool addressee_clause_resumes(const char *s)
{
	static const char *const again[] = {
		"and to ", "and also to ", "also to ", "as well as to ",
		"to the ",
	};
	if (*s != ',' && strncmp(s, "as well as", 10) != 0)
		return false;
	s += *s == ',' ? 1 : 10;
	while (*s == ' ')
		s++;
	for (size_t k = 0; k < sizeof(again) / sizeof(again[0]); k++)
		if (strncmp(s, again[k], strlen(again[k])) == 0)
			return true;
	return false;
}
