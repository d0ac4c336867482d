/*
 * addressee: the paragraph finder and splitter over the real statements
 * and over paragraphs written here in other phrasings, then the resolver
 * and --apply against a real registry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/addressee.h"
#include "chancery/addressee_plan.h"
#include "chancery/import.h"
#include "chancery/list.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

/* One expected addressee: phrase, acronym ("" none), group kind ("" not a
 * group), group country ("" none), ref (-1 none). */
struct want {
	const char *phrase, *acronym, *kind, *country;
	int ref;
};

#define END {NULL, NULL, NULL, NULL, 0}

static const struct want want_2025[] = {
	{"UN Secretary-General", "UNSG", "", "", -1},
	{"UN Security Council", "UNSC", "", "", -1},
	{"UN Office of the High Commissioner for Human Rights", "OHCHR", "", "", -1},
	{"UN High Commissioner for Refugees", "UNHCR", "", "", -1},
	{"UN International Children\xe2\x80\x99s Emergency Fund", "UNICEF", "", "", -1},
	{"UN Educational, Scientific, and Cultural Organization", "UNESCO", "", "", -1},
	{"European Union", "EU", "", "", -1},
	{"Council of Europe", "CoE", "", "", -1},
	{"Organization for Security and Cooperation in Europe", "OSCE", "", "", -1},
	{"International Ombudsman Institution", "IOI", "", "", -1},
	{"European Ombudsman Institution", "EOI", "", "", -1},
	{"Asian Ombudsman Association", "AOA", "", "", -1},
	{"Organization of Islamic Cooperation", "OIC", "", "", -1},
	{"Association of Ombudsman of member states of Organization of "
	 "Islamic Cooperation", "OICOA", "", "", 12},
	{"Association of Ombudsman and National Human Rights Institutions of "
	 "Turkic States", "TURKOMB", "", "", -1},
	{"OIC Independent Permanent Human Rights Commission", "OIC-IPHRC", "", "", -1},
	{"European Network of Ombudspersons of Children", "ENOC", "", "", -1},
	{"International Peace Bureau", "IPB", "", "", -1},
	{"ombudspersons of different countries", "", "ombudsman", "", -1},
	{"national human rights institutions of different countries", "NHRIs",
	 "nhri", "", -1},
	{"diplomatic missions of Azerbaijan in foreign countries", "", "embassy",
	 "AZ", -1},
	{"diplomatic missions of foreign countries in Azerbaijan", "",
	 "foreign-mission", "", -1},
	{"diaspora organizations of Azerbaijan", "", "diaspora-org", "AZ", -1},
	END,
};

static const struct want want_2018[] = {
	{"Secretary-General of the United Nations", "", "", "", -1},
	{"United Nations Security Council", "", "", "", -1},
	{"United Nations High Commissioner for Human Rights", "", "", "", -1},
	{"UNICEF", "", "", "", -1},
	{"European Union", "", "", "", -1},
	{"Council of Europe", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"International Ombudsman Institutes", "", "", "", -1},
	{"European Ombudsman Institutes", "", "", "", -1},
	{"Asian Ombudsman Association", "", "", "", -1},
	{"Organization of Islamic Cooperation", "", "", "", -1},
	{"Ombudsman Association of members States of Organization of Islamic "
	 "Cooperation", "", "", "", 10},
	{"European Network of Ombudsmen for Children", "", "", "", -1},
	{"International Peace Bureau", "", "", "", -1},
	{"ombudsmen of different countries", "", "ombudsman", "", -1},
	{"embassies of the Republic of Azerbaijan abroad", "", "embassy", "AZ", -1},
	{"foreign embassies in Azerbaijan", "", "foreign-mission", "", -1},
	{"organizations of the Azerbaijani Diaspora", "", "diaspora-org", "AZ", -1},
	END,
};

/* Paragraphs written for these tests: other orders, "the" or not,
 * acronyms alone, British spelling, line breaks inside names, hyphenation,
 * page breaks, debris after the paragraph, other triggers. */
static const char variant_besides[] =
	"We remember the victims.\n\n"
	"Besides, the appeal was addressed to the leadership of the\n"
	"Organisation for Security and Co-operation in Europe, UNESCO,\n"
	"OHCHR and UNSG, as well as the Asian Association of Ombudsmen and\n"
	"embassies of foreign states in the country.\n\n"
	"Share this: Facebook | Twitter | Print\n";
static const struct want want_besides[] = {
	{"Organisation for Security and Co-operation in Europe", "", "", "", -1},
	{"UNESCO", "", "", "", -1},
	{"OHCHR", "", "", "", -1},
	{"UNSG", "", "", "", -1},
	{"Asian Association of Ombudsmen", "", "", "", -1},
	{"embassies of foreign states in the country", "", "foreign-mission", "", -1},
	END,
};

static const char variant_hyphen[] =
	"Text of the statement.\n\n"
	"The statement was sent to the United Nations Secretary-\n"
	"General, the Inter-Parliamentary Union (IPU), the Euro-\n"
	"pean Network of Ombudspersons for Children (ENOC), the Organi-\n"
	"\f\n 3 \n"
	"zation of Islamic Cooperation (OIC) and the ombudsmen and na-\n"
	"tional human rights institutions of the member states of this\n"
	"Organization, and Azerbaijani diaspora organisations\n\n"
	"Related news\n";
static const struct want want_hyphen[] = {
	{"United Nations Secretary-General", "", "", "", -1},
	{"Inter-Parliamentary Union", "IPU", "", "", -1},
	{"European Network of Ombudspersons for Children", "ENOC", "", "", -1},
	{"Organization of Islamic Cooperation", "OIC", "", "", -1},
	{"ombudsmen of the member states of Organization of Islamic "
	 "Cooperation", "", "ombudsman", "", 3},
	{"national human rights institutions of the member states of "
	 "Organization of Islamic Cooperation", "", "nhri", "", 3},
	{"Azerbaijani diaspora organisations", "", "diaspora-org", "AZ", -1},
	END,
};

static const char variant_debris[] =
	"The statement has been sent to the UNSG, UNHCR and the OSCE.\n\n"
	"Reader comments (2): This page was sent to 3 friends. Newsletter:\n"
	"subscribe and share.\n";
static const struct want want_debris[] = {
	{"UNSG", "", "", "", -1},
	{"UNHCR", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	END,
};

/* A shared noun after an article: two bodies, not "the International". */
static const char variant_article[] =
	"The statement was addressed to the International and European "
	"Ombudsman Institutes and the European and Asian Ombudsman "
	"Associations.\n";
static const struct want want_article[] = {
	{"International Ombudsman Institutes", "", "", "", -1},
	{"European Ombudsman Institutes", "", "", "", -1},
	{"European Ombudsman Associations", "", "", "", -1},
	{"Asian Ombudsman Associations", "", "", "", -1},
	END,
};

/* Continuations, written for issue 19 as other institutions and years
 * would: a second paragraph, a second sentence, "also" inside the
 * trigger, a clause inside the list, a numbered list whose items end in
 * full stops; each list ends at the place and date or the signature. */
static const char cont_georgia[] =
	"Tbilisi, 2021. The Public Defender of Georgia calls for calm.\n\n"
	"The Public Defender's statement was sent to the UN High\n"
	"Commissioner for Human Rights and the OSCE.\n\n"
	"Besides, the appeal was also sent to the Council of Europe\n"
	"Commissioner for Human Rights and UNICEF.\n\n"
	"Tbilisi, 3 March 2021\n";
static const struct want want_georgia[] = {
	{"UN High Commissioner for Human Rights", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"Council of Europe Commissioner for Human Rights", "", "", "", -1},
	{"UNICEF", "", "", "", -1},
	END,
};
static const char cont_ukraine[] =
	"The address of the Commissioner was forwarded to the UN Secretary-"
	"General. Copies were sent to the European Parliament, UNHCR and the "
	"ICRC.\nKyiv, 12 May 2019\nPress service of the Commissioner\n";
static const struct want want_ukraine[] = {
	{"UN Secretary-General", "", "", "", -1},
	{"European Parliament", "", "", "", -1},
	{"UNHCR", "", "", "", -1},
	{"ICRC", "", "", "", -1},
	END,
};
static const char cont_ministry[] =
	"The note was forwarded to UNESCO; it was also forwarded to the OIC "
	"and to the European Union.\n\nBaku, 14 January 2020\n";
static const struct want want_ministry[] = {
	{"UNESCO", "", "", "", -1},
	{"OIC", "", "", "", -1},
	{"European Union", "", "", "", -1},
	END,
};
static const char cont_numbered[] =
	"Press release of the Permanent Mission, 2023.\n"
	"The letter has been circulated to:\n"
	"1. UNHCR.\n"
	"2. UNICEF.\n"
	"3. the International Committee of the Red Cross.\n"
	"\n"
	"In addition, copies have been forwarded to the Inter-Parliamentary\n"
	"Union (IPU).\n"
	"\n"
	"New York, 5 June 2023\n"
	"The letter was sent to 3 newspapers.\n";
static const struct want want_numbered[] = {
	{"UNHCR", "", "", "", -1},
	{"UNICEF", "", "", "", -1},
	{"International Committee of the Red Cross", "", "", "", -1},
	{"Inter-Parliamentary Union", "IPU", "", "", -1},
	END,
};

/* Names with "and" and commas kept whole, a slashed acronym, and a
 * clause after the list that is no addressee. */
static const char names_and[] =
	"Kyiv, 2022. The appeal of the Commissioner was sent to the\n"
	"Organization for Security and Cooperation in Europe, the International\n"
	"Federation of Red Cross and Red Crescent Societies, the OSCE Office for\n"
	"Democratic Institutions and Human Rights (OSCE/ODIHR) and the Council\n"
	"of Europe, urging them to defend the right to truth, justice and\n"
	"reparation; and to the Office for Democratic Institutions and Human\n"
	"Rights, calling for a visit.\n";
static const struct want want_names_and[] = {
	{"Organization for Security and Cooperation in Europe", "", "", "", -1},
	{"International Federation of Red Cross and Red Crescent Societies", "",
	 "", "", -1},
	{"OSCE Office for Democratic Institutions and Human Rights",
	 "OSCE/ODIHR", "", "", -1},
	{"Council of Europe", "", "", "", -1},
	{"Office for Democratic Institutions and Human Rights", "", "", "", -1},
	END,
};

static char *read_statement(const char *name, size_t *len)
{
	const char *src = getenv("CHANCERY_SOURCE_DIR");
	struct error err = ERROR_INIT;
	struct sbuf sb = SBUF_INIT;
	char *path = xasprintf("%s/tests/data/statements/%s",
			       src ? src : "../..", name);

	if (sbuf_read_file(&sb, path, 1 << 20, &err))
		fail_msg("%s", err.msg);
	free(path);
	return sbuf_detach(&sb, len);
}

static void check_list(const char *what, const struct addressee_list *l,
		       const struct want *w)
{
	size_t n = 0;
	bool bad = false;

	while (w[n].phrase)
		n++;
	for (size_t i = 0; i < l->count || i < n; i++) {
		const struct addressee *a = i < l->count ? &l->items[i] : NULL;
		const struct want *e = i < n ? &w[i] : NULL;
		bool ok = a && e && strcmp(a->phrase, e->phrase) == 0 &&
			  strcmp(a->acronym ? a->acronym : "", e->acronym) == 0 &&
			  strcmp(a->group ? a->group_kind : "", e->kind) == 0 &&
			  strcmp(a->group_country ? a->group_country : "",
				 e->country) == 0 &&
			  a->ref == e->ref;

		if (!ok) {
			bad = true;
			print_message("%s #%zu: got [%s|%s|%s|%s|%d] want "
				      "[%s|%s|%s|%s|%d]\n", what, i,
				      a ? a->phrase : "-",
				      a && a->acronym ? a->acronym : "",
				      a && a->group ? a->group_kind : "",
				      a && a->group_country ? a->group_country : "",
				      a ? a->ref : 0, e ? e->phrase : "-",
				      e ? e->acronym : "", e ? e->kind : "",
				      e ? e->country : "", e ? e->ref : 0);
		}
	}
	if (bad)
		fail_msg("%s: addressees differ (above)", what);
}

static void test_real_statements(void **state)
{
	static const struct {
		const char *file;
		const struct want *want;
	} cases[] = {
		{"ombudsman-2025-khojaly-33rd.txt", want_2025},
		{"ombudsman-2018-khojaly-26th.txt", want_2018},
		{"variant-2025-hyphenated-pagebreak.txt", want_2025},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		size_t len;
		char *text = read_statement(cases[i].file, &len);

		if (addressee_parse(text, len, NULL, NULL, &l, &err))
			fail_msg("%s: %s", cases[i].file, err.msg);
		check_list(cases[i].file, &l, cases[i].want);
		addressee_list_release(&l);
		free(text);
	}
}

static void test_variants(void **state)
{
	static const struct {
		const char *name, *text;
		const struct want *want;
	} cases[] = {
		{"besides", variant_besides, want_besides},
		{"hyphen", variant_hyphen, want_hyphen},
		{"debris", variant_debris, want_debris},
		{"article", variant_article, want_article},
		{"georgia", cont_georgia, want_georgia},
		{"ukraine", cont_ukraine, want_ukraine},
		{"ministry", cont_ministry, want_ministry},
		{"numbered", cont_numbered, want_numbered},
		{"names with and", names_and, want_names_and},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;

		if (addressee_parse(cases[i].text, strlen(cases[i].text), NULL,
				    NULL, &l, &err))
			fail_msg("%s: %s", cases[i].name, err.msg);
		check_list(cases[i].name, &l, cases[i].want);
		addressee_list_release(&l);
	}
}

/* The lines the passage was read from, as the plan shows them. */
static void test_passage_lines(void **state)
{
	static const struct {
		const char *name, *text;
		size_t first, last, sentences;
	} cases[] = {
		{"georgia", cont_georgia, 3, 7, 2},
		{"ukraine", cont_ukraine, 1, 1, 2},
		{"ministry", cont_ministry, 1, 1, 1},
		{"numbered", cont_numbered, 2, 8, 2},
		{"debris", variant_debris, 1, 1, 1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		const struct addressee_passage *w = &l.passage;

		if (addressee_parse(cases[i].text, strlen(cases[i].text), NULL,
				    NULL, &l, &err))
			fail_msg("%s: %s", cases[i].name, err.msg);
		if (w->first_line != cases[i].first ||
		    w->last_line != cases[i].last ||
		    w->sentences != cases[i].sentences)
			fail_msg("%s: read lines %zu-%zu (%zu sentences), want "
				 "%zu-%zu (%zu)", cases[i].name, w->first_line,
				 w->last_line, w->sentences, cases[i].first,
				 cases[i].last, cases[i].sentences);
		addressee_list_release(&l);
	}
}

/* A known-name callback keeps a name with "and" or commas whole. */
static bool known_osce(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "Organisation for Security and Co-operation in "
			    "Europe") == 0 ||
	       strcmp(name, "the leadership of the Organisation for Security "
			    "and Co-operation in Europe") == 0;
}

static void test_known_keeps_names_whole(void **state)
{
	struct addressee_list l = {0};
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(addressee_parse(variant_besides,
					 strlen(variant_besides), known_osce,
					 NULL, &l, &err), 0);
	assert_true(l.count >= 1);
	assert_str(l.items[0].phrase,
		   "Organisation for Security and Co-operation in Europe");
	assert_int_equal(l.count, 6);
	addressee_list_release(&l);
}

/* A paragraph of thousands of addressees keeps every one of them: the
 * splitter once kept the first 512 and the paragraph finder cut the
 * sentence after 16 KiB (mid-name), both without a word. */
static void test_long_paragraph_keeps_every_addressee(void **state)
{
	static const struct {
		size_t n;
		bool acronyms;
	} cases[] = {{513, false}, {1200, false}, {5000, false},
		     {2000, true}};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		struct sbuf text = SBUF_INIT;
		char want[64];

		sbuf_addstr(&text, "Preamble.\n\nThe statement has been sent "
				   "to ");
		for (size_t k = 0; k < cases[i].n; k++) {
			if (k)
				sbuf_addstr(&text, k + 1 == cases[i].n
							   ? " and "
							   : ", ");
			if (cases[i].acronyms)
				sbuf_addf(&text, "Office of Town %zu (OT%zuX)",
					  k, k);
			else
				sbuf_addf(&text, "Office of Town %zu", k);
		}
		sbuf_addstr(&text, ".\n");
		if (addressee_parse(text.buf, text.len, NULL, NULL, &l, &err))
			fail_msg("%zu: %s", cases[i].n, err.msg);
		if (l.count != cases[i].n)
			fail_msg("%zu addressees%s: got %zu", cases[i].n,
				 cases[i].acronyms ? " with acronyms" : "",
				 l.count);
		for (size_t k = 0; k < l.count; k++) {
			snprintf(want, sizeof(want), "Office of Town %zu", k);
			if (strcmp(l.items[k].phrase, want) != 0)
				fail_msg("%zu: item %zu is '%s', want '%s'",
					 cases[i].n, k, l.items[k].phrase, want);
		}
		addressee_list_release(&l);
		sbuf_release(&text);
	}
}

/* A 20 MB statement (prose, page debris, stray triggers, then the
 * passage with a continuation) and a passage of 5,000 addressees with
 * "and" inside names: each is read whole. This times nothing (the lead
 * checks speed); a quadratic pass would make it run for minutes. */
static void test_large_inputs(void **state)
{
	struct addressee_list l = {0};
	struct error err = ERROR_INIT;
	struct sbuf text = SBUF_INIT;

	(void)state;
	while (text.len < 20u << 20)
		sbuf_addstr(&text, "The Office for Security and Cooperation of "
				   "Town and Country said it was sent to the "
				   "Mayor. It met on Monday.\n - 3 -\n");
	sbuf_addstr(&text, "\nThe statement was sent to the OSCE and UNICEF."
			   "\nCopies were sent to the Office for Democratic "
			   "Institutions and Human Rights.\n");
	if (addressee_parse(text.buf, text.len, NULL, NULL, &l, &err))
		fail_msg("20 MB: %s", err.msg);
	assert_int_equal(l.count, 3);
	assert_str(l.items[2].phrase,
		   "Office for Democratic Institutions and Human Rights");
	addressee_list_release(&l);
	sbuf_reset(&text);
	sbuf_addstr(&text, "The statement has been sent to ");
	for (size_t k = 0; k < 5000; k++)
		sbuf_addf(&text, "%sthe Office for Town Affairs and Rights %zu",
			  k ? (k % 2 ? ", " : ". Copies were also sent to ")
			    : "", k);
	sbuf_addstr(&text, ".\n");
	if (addressee_parse(text.buf, text.len, NULL, NULL, &l, &err))
		fail_msg("5000: %s", err.msg);
	assert_int_equal(l.count, 5000);
	assert_int_equal(l.passage.sentences, 2500);
	assert_str(l.items[4999].phrase, "Office for Town Affairs and Rights 4999");
	addressee_list_release(&l);
	sbuf_release(&text);
}

static void test_bad_texts(void **state)
{
	static const struct {
		const char *name, *text;
		size_t len;
		const char *msg;
	} cases[] = {
		{"empty", "", 0, "empty"},
		{"blank", " \n\t\n", 4, "empty"},
		{"binary", "The statement has been sent to\0UNSG.", 36, "NUL"},
		{"invalid utf-8", "The statement has been sent to \xc3\x28 UNSG.",
		 37, "UTF-8"},
		{"no paragraph", "A letter addressed to the Secretary-General.",
		 44, "no addressee paragraph"},
		{"nobody", "The statement has been sent to .", 32,
		 "names no addressee"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		int rc = addressee_parse(cases[i].text, cases[i].len, NULL, NULL,
					 &l, &err);

		if (rc != ERR_DATA || !strstr(err.msg, cases[i].msg))
			fail_msg("%s: got %d '%s', want ERR_DATA '%s'",
				 cases[i].name, rc, err.msg, cases[i].msg);
		assert_int_equal(l.count, 0);
		addressee_list_release(&l);
	}
}

static void test_context_statements_have_no_paragraph(void **state)
{
	static const char *const files[] = {
		"mission-un-2024-press-release.txt",
		"ombudsman-2026-khojaly-news.txt",
		"variant-no-paragraph.txt",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		size_t len;
		char *text = read_statement(files[i], &len);

		assert_int_equal(addressee_parse(text, len, NULL, NULL, &l, &err),
				 ERR_DATA);
		assert_non_null(strstr(err.msg, "no addressee paragraph"));
		addressee_list_release(&l);
		free(text);
	}
}

static void test_guess_kind(void **state)
{
	static const struct {
		const char *phrase, *kind;
	} cases[] = {
		{"Embassy of Azerbaijan in Paris", "embassy"},
		{"Permanent Mission of Azerbaijan to the United Nations", "embassy"},
		{"foreign embassies in Azerbaijan", "foreign-mission"},
		{"Azerbaijani diaspora organisation of Berlin", "diaspora-org"},
		{"Ombudsman of Georgia", "ombudsman"},
		{"Association of Mediterranean Ombudsmen", "ombudsman-assoc"},
		{"African Ombudsman and Mediators Association", "ombudsman-assoc"},
		{"National Human Rights Commission of Korea", "nhri"},
		{"Danish national human rights institute", "nhri"},
		{"UN Human Rights Council", "un-organ"},
		{"United Nations General Assembly", "un-organ"},
		{"UN Population Fund", "un-agency"},
		{"International Peace Bureau", "ngo"},
		{"International Committee of the Red Cross", "ngo"},
		{"League of Arab States", "regional-org"},
		{"Organization of Turkic States", "regional-org"},
		{"Mr John Smith", "other"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = addressee_guess_kind(cases[i].phrase);

		if (strcmp(got, cases[i].kind) != 0)
			fail_msg("%s: got %s, want %s", cases[i].phrase, got,
				 cases[i].kind);
	}
}

/* ---- resolving against the seed registry ------------------------------- */

static const char *const resolved_2025[] = {
	"UNSG", "UNSC", "OHCHR", "UNHCR", "UNICEF", "UNESCO", "EU", "CoE",
	"OSCE", "IOI", "EOI", "AOA", "OIC", "OICOA", "TURKOMB", "OIC-IPHRC",
	"ENOC", "IPB", "group/ombudsman", "group/nhri", "group/embassy/AZ",
	"group/foreign-mission", "group/diaspora-org/AZ", NULL,
};
static const char *const resolved_2018[] = {
	"UNSG", "UNSC", "OHCHR", "UNICEF", "EU", "CoE", "OSCE", "IOI", "EOI",
	"AOA", "OIC", "OICOA", "ENOC", "IPB", "group/ombudsman",
	"group/embassy/AZ", "group/foreign-mission", "group/diaspora-org/AZ",
	NULL,
};

/* Paragraphs of our own: other order and phrasing, names alone, acronyms
 * alone, British spelling, line breaks inside names, unknown bodies. */
static const char own_1[] =
	"Closing words.\n\nThe statement was sent to the Asian Association of\n"
	"Ombudsmen, the United Nations Children's Fund, UNGA, the Organisation\n"
	"for Security and Co-operation in Europe, the African Ombudsman and\n"
	"Mediators Association (AOMA) and the Embassy of Azerbaijan in Paris.\n";
static const char *const resolved_own_1[] = {
	"AOA", "UNICEF", "UNGA", "OSCE", "NEW:ombudsman-assoc", "NEW:embassy",
	NULL,
};
static const char own_2[] =
	"Besides, this statement was addressed to UNHCR, OHCHR, the UN "
	"Children's\nFund, the Council\nof Europe, the heads of the "
	"Organization of Islamic Conference and the International Ombudsman "
	"Institute, as well as Azerbaijani diaspora organisations.\n";
static const char *const resolved_own_2[] = {
	"UNHCR", "OHCHR", "UNICEF", "CoE", "OIC", "IOI",
	"group/diaspora-org/AZ", NULL,
};

static const char own_3[] =
	"Some text.\n\nThe statement has been sent to: UN Secretary General; "
	"UN Human Rights Council; OSCE/ODIHR; the Parliamentary Assembly of "
	"the Council of Europe (PACE); embassies of foreign countries "
	"accredited in Azerbaijan; Azerbaijan's embassies abroad.\n";
static const char *const resolved_own_3[] = {
	"UNSG", "UNHRC", "ODIHR", "PACE", "group/foreign-mission",
	"group/embassy/AZ", NULL,
};
static const char own_4[] =
	"The Statement was sent to the following international "
	"organizations:\n"
	"\xe2\x80\xa2 United Nations Secretary-General\n"
	"\xe2\x80\xa2 Office of the UN High Commissioner for Human Rights\n"
	"  2. UNESCO\n"
	"- Organisation of the Islamic Conference\n"
	"and to the national human rights institutions of OIC member "
	"states.\n\nTags: khojaly\n";
static const char *const resolved_own_4[] = {
	"UNSG", "OHCHR", "UNESCO", "OIC", "group/nhri", NULL,
};
static const char own_5[] =
	"This appeal has been addressed to the European Union, the OSCE and "
	"the Council of Europe, to the U.N. Secretary-General, to the "
	"International Committee of the Red Cross as well as to ombudsmen "
	"and NHRIs of the member states of the Council of Europe.";
static const char *const resolved_own_5[] = {
	"EU", "OSCE", "CoE", "UNSG", "ICRC", "group/ombudsman", "group/nhri",
	NULL,
};

static const char *const resolved_names_and[] = {
	"OSCE", "NEW:ngo", "ODIHR", "CoE", "ODIHR", NULL,
};

/* Near-miss names never merge with the body they resemble. */
static const char near_miss[] =
	"Vilnius, 2024. The report was sent to the European Ombudsman, the "
	"UN Human Rights Committee and the Council of the European Union. "
	"Copies were sent to the European Ombudsman Institute, the UN Human "
	"Rights Council and the Council of Europe.\n";
static const char *const resolved_near_miss[] = {
	"NEW:ombudsman", "NEW:un-organ", "NEW:regional-org", "EOI", "UNHRC",
	"CoE", NULL,
};

/* Office-holders resolve to their body; back-references to the
 * organisation named last. */
static const char holders[] =
	"New York, 2023. The letter of the Permanent Mission has been sent "
	"to the President of the UN Security Council, the UN Secretary-"
	"General, the Human Rights Council of the world organization, the "
	"General Assembly of the organization, the Permanent Observer of the "
	"OIC, the Council of Europe and its Parliamentary Assembly, and the "
	"Chair of the Committee on the Elimination of Racial Discrimination.\n";
static const char *const resolved_holders[] = {
	"UNSC", "UNSG", "UNHRC", "UNGA", "OIC", "CoE", "PACE", "NEW:un-organ",
	NULL,
};

/* Groups routed by country and quantity. */
static const char groups[] =
	"Baku, 2024. The appeal was sent to the diplomatic missions accredited "
	"in the Republic of Azerbaijan; the embassies accredited in Baku; the "
	"embassies of Azerbaijan abroad; the ombudsman institutions of 120 "
	"countries; the ombudsmen of the OIC member states; Azerbaijan's "
	"diaspora organizations; and the embassies of Turkey abroad.\n";
static const char *const resolved_groups[] = {
	"group/foreign-mission", "group/foreign-mission", "group/embassy/AZ",
	"group/ombudsman", "group/ombudsman", "group/diaspora-org/AZ",
	"group/embassy/TR (NEW list)", NULL,
};

static void seeded(struct test_db *t)
{
	struct error err = ERROR_INIT;

	test_db_open(t);
	if (import_seed(t->db, NULL, &err))
		fail_msg("seed: %s", err.msg);
}

static void check_plan(const char *what, const struct addressee_plan *p,
		       const char *const *want)
{
	size_t n = 0;
	bool bad = false;

	while (want[n])
		n++;
	for (size_t i = 0; i < n || i < p->list.count; i++) {
		const struct addressee_match *m =
			i < p->list.count ? &p->matches[i] : NULL;
		char got[256] = "-";

		if (m && m->res == ADDRESSEE_BODY)
			snprintf(got, sizeof(got), "%.*s",
				 (int)strcspn(m->target, " "), m->target);
		else if (m && m->res == ADDRESSEE_NEW)
			snprintf(got, sizeof(got), "NEW:%s", m->target);
		else if (m)
			snprintf(got, sizeof(got), "%s", m->target);
		if (i >= n || strcmp(got, want[i]) != 0) {
			bad = true;
			print_message("%s #%zu '%s': got %s (%s), want %s\n",
				      what, i,
				      m ? p->list.items[i].phrase : "-", got,
				      m ? m->evidence : "", i < n ? want[i] : "-");
		}
	}
	if (bad)
		fail_msg("%s: resolutions differ (above)", what);
}

static void plan_text(struct db *db, const char *text, size_t len,
		      struct addressee_plan *p)
{
	struct error err = ERROR_INIT;

	memset(p, 0, sizeof(*p));
	if (addressee_plan_build(db, text, len, p, &err))
		fail_msg("plan: %s", err.msg);
}

static void test_resolve(void **state)
{
	static const struct {
		const char *file, *text;
		const char *const *want;
	} cases[] = {
		{"ombudsman-2025-khojaly-33rd.txt", NULL, resolved_2025},
		{"ombudsman-2018-khojaly-26th.txt", NULL, resolved_2018},
		{NULL, own_1, resolved_own_1},
		{NULL, own_2, resolved_own_2},
		{NULL, own_3, resolved_own_3},
		{NULL, own_4, resolved_own_4},
		{NULL, own_5, resolved_own_5},
		{NULL, names_and, resolved_names_and},
		{NULL, near_miss, resolved_near_miss},
		{NULL, holders, resolved_holders},
		{NULL, groups, resolved_groups},
	};
	struct test_db t;

	(void)state;
	seeded(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_plan p;
		size_t len = cases[i].text ? strlen(cases[i].text) : 0;
		char *text = cases[i].file ? read_statement(cases[i].file, &len)
					   : NULL;

		plan_text(t.db, text ? text : cases[i].text, len, &p);
		check_plan(cases[i].file ? cases[i].file : "own", &p,
			   cases[i].want);
		addressee_plan_release(&p);
		free(text);
	}
	test_db_close(&t);
}

/* The office is kept as the role; the phrase is the body's. */
static void test_office_holder_role(void **state)
{
	static const struct {
		size_t n;
		const char *role, *phrase;
	} cases[] = {
		{0, "President", "UN Security Council"},
		{4, "Permanent Observer", "OIC"},
		{7, "Chair", "Committee on the Elimination of Racial "
			     "Discrimination"},
	};
	struct addressee_plan p;
	struct test_db t;

	(void)state;
	seeded(&t);
	plan_text(t.db, holders, strlen(holders), &p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct addressee_match *m = &p.matches[cases[i].n];
		const char *phrase = p.list.items[cases[i].n].phrase;

		if (!m->role || strcmp(m->role, cases[i].role) != 0 ||
		    strcmp(phrase, cases[i].phrase) != 0)
			fail_msg("#%zu: got role '%s' phrase '%s', want '%s' "
				 "'%s'", cases[i].n, m->role ? m->role : "-",
				 phrase, cases[i].role, cases[i].phrase);
	}
	assert_null(p.matches[1].role);
	addressee_plan_release(&p);
	test_db_close(&t);
}

/* "the ombudsmen of the OIC member states" takes the plain group, and
 * says that membership is not known; no other row warns. */
static void test_membership_warning(void **state)
{
	struct addressee_list l = {0};
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(addressee_parse(groups, strlen(groups), NULL, NULL, &l,
					 &err), 0);
	assert_int_equal(l.count, 7);
	for (size_t i = 0; i < l.count; i++)
		if ((i == 4) != (l.items[i].warning != NULL))
			fail_msg("#%zu '%s': warning '%s'", i, l.items[i].phrase,
				 l.items[i].warning ? l.items[i].warning : "-");
	assert_non_null(strstr(l.items[4].warning, "member states"));
	addressee_list_release(&l);
}

/* A lower-case fragment is a guess: --apply leaves it out unless it is
 * accepted, and never creates a body named "justice" silently. */
static void test_guess_needs_accept(void **state)
{
	static const char text[] =
		"Lviv, 2020. The letter was sent to UNICEF, justice and the "
		"Tbilisi Peace Forum.\n";
	struct addressee_apply_stats st = {0};
	struct addressee_plan p;
	struct error err = ERROR_INIT;
	struct test_db t;

	(void)state;
	seeded(&t);
	plan_text(t.db, text, strlen(text), &p);
	assert_int_equal(p.list.count, 3);
	assert_true(p.matches[1].guess);
	assert_false(p.matches[2].guess);
	assert_int_equal(addressee_plan_apply(t.db, &p, "l", &st, &err), 0);
	assert_int_equal(st.guesses_skipped, 1);
	assert_int_equal(st.bodies_added, 1);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies "
					      "WHERE name = 'justice'"), 0);
	addressee_plan_release(&p);
	plan_text(t.db, text, strlen(text), &p);
	p.matches[1].accepted = true;
	memset(&st, 0, sizeof(st));
	assert_int_equal(addressee_plan_apply(t.db, &p, "l", &st, &err), 0);
	assert_int_equal(st.guesses_skipped, 0);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies "
					      "WHERE name = 'justice'"), 1);
	addressee_plan_release(&p);
	test_db_close(&t);
}

static char *state_of(struct db *db)
{
	return xasprintf("%lld %lld %lld %lld %lld",
			 (long long)test_query_int(db, "SELECT count(*) FROM bodies"),
			 (long long)test_query_int(db, "SELECT count(*) FROM aliases"),
			 (long long)test_query_int(db, "SELECT count(*) FROM lists"),
			 (long long)test_query_int(db, "SELECT count(*) FROM list_members"),
			 (long long)test_query_int(db, "SELECT count(*) FROM events"));
}

static void apply_file(struct db *db, const char *file, const char *text,
		       const char *list, struct addressee_apply_stats *st)
{
	struct addressee_plan p;
	struct error err = ERROR_INIT;
	size_t len = text ? strlen(text) : 0;
	char *t = file ? read_statement(file, &len) : NULL;

	plan_text(db, t ? t : text, len, &p);
	if (addressee_plan_apply(db, &p, list, st, &err))
		fail_msg("apply %s: %s", file ? file : "text", err.msg);
	addressee_plan_release(&p);
	free(t);
}

static void test_apply_twice_changes_nothing(void **state)
{
	struct addressee_apply_stats st = {0};
	struct test_db t;
	char *first, *second;

	(void)state;
	seeded(&t);
	apply_file(t.db, "ombudsman-2025-khojaly-33rd.txt", NULL, "k2025", &st);
	assert_int_equal(st.bodies_added, 0);
	apply_file(t.db, "ombudsman-2018-khojaly-26th.txt", NULL, "k2018", &st);
	assert_int_equal(st.bodies_added, 0);
	apply_file(t.db, NULL, own_1, "own", &st);
	assert_int_equal(st.bodies_added, 2);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies "
					      "WHERE acronym = 'AOMA' AND kind = "
					      "'ombudsman-assoc'"), 1);
	first = state_of(t.db);
	memset(&st, 0, sizeof(st));
	apply_file(t.db, "ombudsman-2025-khojaly-33rd.txt", NULL, "k2025", &st);
	apply_file(t.db, "ombudsman-2018-khojaly-26th.txt", NULL, "k2018", &st);
	apply_file(t.db, NULL, own_1, "own", &st);
	assert_int_equal(st.bodies_added + st.aliases_added + st.lists_created,
			 0);
	second = state_of(t.db);
	assert_str(second, first);
	/* 18 bodies and 5 group lists; 14 bodies and 4 group lists, every
	 * one of them also in the 2025 list */
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM list_members "
					      "m JOIN lists l ON l.id = m.list_id "
					      "WHERE l.name = 'k2025'"), 23);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM list_members "
					      "m JOIN lists l ON l.id = m.list_id "
					      "WHERE l.name = 'k2018'"), 18);
	assert_int_equal(test_query_int(t.db,
		"SELECT count(*) FROM list_members a JOIN lists la ON la.id = "
		"a.list_id AND la.name = 'k2018' WHERE NOT EXISTS (SELECT 1 "
		"FROM list_members b JOIN lists lb ON lb.id = b.list_id AND "
		"lb.name = 'k2025' WHERE b.body_id IS a.body_id AND "
		"b.member_list_id IS a.member_list_id)"), 0);
	free(first);
	free(second);
	test_db_close(&t);
}

/* --list refreshes: the list ends up with exactly the statement's
 * addressees, whatever it held before. */
static void test_list_is_refreshed(void **state)
{
	struct addressee_apply_stats st = {0};
	struct test_db t;
	char *first, *second;

	(void)state;
	seeded(&t);
	apply_file(t.db, "ombudsman-2025-khojaly-33rd.txt", NULL, "k", &st);
	assert_int_equal(st.members_removed, 0);
	apply_file(t.db, "ombudsman-2018-khojaly-26th.txt", NULL, "k", &st);
	/* UNHCR, UNESCO, TURKOMB, OIC-IPHRC and group/nhri are gone */
	assert_int_equal(st.members_removed, 5);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM list_members "
					      "m JOIN lists l ON l.id = m.list_id "
					      "WHERE l.name = 'k'"), 18);
	first = state_of(t.db);
	apply_file(t.db, "ombudsman-2018-khojaly-26th.txt", NULL, "k", &st);
	assert_int_equal(st.members_removed, 0);
	second = state_of(t.db);
	assert_str(second, first);
	free(first);
	free(second);
	test_db_close(&t);
}

static void test_ambiguous_refuses_apply(void **state)
{
	static const char text[] = "It was sent to the Peace Office.";
	struct addressee_plan p;
	struct error err = ERROR_INIT;
	struct test_db t;
	int64_t a = 0, b = 0;
	char *before, *after;

	(void)state;
	test_db_open(&t);
	assert_int_equal(registry_body_add(t.db, "PA", "Peace Alpha", "ngo",
					   NULL, NULL, &a, &err), 0);
	assert_int_equal(registry_body_add(t.db, "PB", "Peace Beta", "ngo",
					   NULL, NULL, &b, &err), 0);
	assert_int_equal(registry_alias_add(t.db, a, "Peace Office", "manual",
					    &err), 0);
	assert_int_equal(registry_alias_add(t.db, b, "Peace Office",
					    "manual", &err), 0);
	before = state_of(t.db);
	plan_text(t.db, text, strlen(text), &p);
	assert_int_equal(p.list.count, 1);
	assert_int_equal(p.matches[0].res, ADDRESSEE_AMBIGUOUS);
	assert_int_equal(addressee_plan_apply(t.db, &p, "x", NULL, &err),
			 ERR_DATA);
	assert_non_null(strstr(err.msg, "ambiguous"));
	after = state_of(t.db);
	assert_str(after, before);
	free(before);
	free(after);
	addressee_plan_release(&p);
	test_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_statements),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_passage_lines),
		cmocka_unit_test(test_known_keeps_names_whole),
		cmocka_unit_test(test_long_paragraph_keeps_every_addressee),
		cmocka_unit_test(test_large_inputs),
		cmocka_unit_test(test_bad_texts),
		cmocka_unit_test(test_context_statements_have_no_paragraph),
		cmocka_unit_test(test_guess_kind),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_office_holder_role),
		cmocka_unit_test(test_membership_warning),
		cmocka_unit_test(test_guess_needs_accept),
		cmocka_unit_test(test_apply_twice_changes_nothing),
		cmocka_unit_test(test_list_is_refreshed),
		cmocka_unit_test(test_ambiguous_refuses_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
