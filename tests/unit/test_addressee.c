/*
 * addressee: the paragraph finder and splitter over the real statements
 * and over paragraphs written here in other phrasings, then the resolver
 * and --apply against a real registry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/addressee.h"
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
	{"Organisation for Security", "", "", "", -1},
	{"Co-operation in Europe", "", "", "", -1},
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_statements),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_known_keeps_names_whole),
		cmocka_unit_test(test_bad_texts),
		cmocka_unit_test(test_context_statements_have_no_paragraph),
		cmocka_unit_test(test_guess_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
