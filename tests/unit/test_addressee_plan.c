/*
 * addressee_plan: the resolver and --apply against a real registry (the
 * seed, or bodies made here), over the real statements and paragraphs
 * written here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/addressee.h"
#include "chancery/addressee_plan.h"
#include "chancery/addressee_rule.h"
#include "chancery/import.h"
#include "chancery/list.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "addressee_texts.h"
#include "testutil.h"

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

/* Groups routed by country and quantity (groups: addressee_texts.h). */
static const char *const resolved_groups[] = {
	"group/foreign-mission", "group/foreign-mission", "group/embassy/AZ",
	"group/ombudsman", "group/ombudsman", "group/diaspora-org/AZ",
	"group/embassy/TR (NEW list)", NULL,
};

/* Statements written for issue 19 as other institutions and years would
 * write them (tests/data/statements/issue19-*.txt), each in several of
 * the shapes; what each addressee resolves to. */
static const char *const resolved_armenia[] = {
	/* an alias; a Council of Europe office is no national ombudsman; a
	 * name with "and" kept whole; "its Office for ..." is the OSCE's;
	 * the second paragraph continues ("In addition ... also
	 * forwarded"); an office-holder; the embassies accredited here */
	"OHCHR", "NEW:regional-org", "OSCE", "ODIHR", "ICRC", "PACE", "ENOC",
	"group/foreign-mission", NULL,
};
static const char *const resolved_moldova[] = {
	/* the Chair of a treaty body; "of the organization" after a UN
	 * office; a slashed acronym; the Council of the EU is neither the
	 * EU nor the Council of Europe; "Copies were sent to" continues;
	 * quantified groups; an adjective of a country */
	"UNSG", "NEW:un-organ", "UNSC", "ODIHR", "EP", "NEW:regional-org",
	"group/ombudsman", "group/nhri", "group/diaspora-org/MD (NEW list)",
	NULL,
};
static const char *const resolved_kazakhstan[] = {
	/* a lettered list after "circulated to:", office-holders, the
	 * foreign missions here and the state's own abroad, a quantified
	 * group, and a later sentence with "also" inside its trigger */
	"UNSG", "UNGA", "OTS", "OIC", "group/foreign-mission",
	"group/embassy/KZ (NEW list)", "group/diaspora-org/KZ (NEW list)",
	"group/ombudsman", "IOI", "AOA", NULL,
};
static const char *const resolved_lithuania[] = {
	/* a bulleted list; new bodies of every kind the name tells: a
	 * regional NHRI network and forum, a national ombudsman, an NHRI,
	 * an ombudsman association, an NGO with "and" in its name, a UN
	 * special procedure, an embassy; "Besides, copies were sent to" */
	"GANHRI", "NEW:ombudsman-assoc", "NEW:ombudsman-assoc",
	"NEW:ombudsman", "NEW:nhri", "NEW:ombudsman-assoc", "NEW:ngo",
	"NEW:un-organ", "NEW:embassy", NULL,
};

static const char *const resolved_georgia[] = {
	/* an office-holder of an organ named without "UN"; near misses of
	 * the Human Rights Council, the EU and the Council of Europe, the
	 * European Ombudsman Institute; a possessive diaspora; other
	 * countries' embassies here and Georgia's own; a country left over
	 * from "in Azerbaijan and Armenia" (a guess, not a body); a state's
	 * permanent representative is its mission; a network of NHRIs;
	 * "this organization" in a continuation; a national parliament */
	"UNHRC", "NEW:un-organ", "NEW:regional-org", "NEW:ombudsman",
	"group/diaspora-org/GE (NEW list)", "group/foreign-mission",
	"group/embassy/GE (NEW list)", "NEW:other", "group/ombudsman",
	"NEW:embassy", "NEW:ombudsman-assoc", "NEW:nhri", "OIC", "OICOA",
	"NEW:other", "UNSG", NULL,
};

/* World cases (tests/data/statements/world-*.txt): an NHRI's PDF whose
 * list runs over a page header, with a back-reference to the ICRC; a
 * web page naming ombudsmen in their own languages, whose kinds come
 * from those names. */
static const char *const resolved_world_nhri[] = {
	"NEW:un-organ", "NEW:un-organ", "ICRC", "NEW:ngo", "GANHRI",
	"NEW:regional-org", "NEW:ombudsman-assoc", "NEW:ombudsman-assoc",
	NULL,
};
static const char *const resolved_world_mixed[] = {
	"NEW:ombudsman", "NEW:ombudsman", "NEW:ombudsman", "NEW:nhri",
	"NEW:ombudsman", "IOI", "NEW:ombudsman", NULL,
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
		{"issue19-armenia-2023-defender.txt", NULL, resolved_armenia},
		{"issue19-moldova-2021-advocate.txt", NULL, resolved_moldova},
		{"issue19-kazakhstan-2022-mission.txt", NULL,
		 resolved_kazakhstan},
		{"issue19-lithuania-2024-forum.txt", NULL, resolved_lithuania},
		{"issue19-georgia-2019-defender.txt", NULL, resolved_georgia},
		{"world-2023-nhri-pdf.txt", NULL, resolved_world_nhri},
		{"world-2024-ombudsman-mixed.txt", NULL, resolved_world_mixed},
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
/* Each row says why and how sure: the evidence and the confidence. */
static void test_evidence_and_confidence(void **state)
{
	static const char tartu[] =
		"Tartu, 2019. The appeal was sent to the Asian Association "
		"of Ombudsmen, UNICEF, the Public Defender of Georgia and "
		"the right to truth.\n";
	static const struct {
		const char *file, *text;
		size_t row;
		enum addressee_confidence conf;
		const char *evidence;
	} cases[] = {
		{NULL, holders, 0, ADDRESSEE_HIGH, "office-holder of UNSC"},
		{NULL, holders, 1, ADDRESSEE_HIGH, "alias"},
		{NULL, holders, 2, ADDRESSEE_MEDIUM,
		 "back-reference to United Nations"},
		{NULL, holders, 6, ADDRESSEE_MEDIUM, "back-reference to CoE"},
		{NULL, holders, 7, ADDRESSEE_MEDIUM,
		 "new body; kind un-organ proposed from 'committee on the "
		 "elimination'"},
		{NULL, tartu, 0, ADDRESSEE_MEDIUM, "word-order match"},
		{NULL, tartu, 1, ADDRESSEE_HIGH, "exact acronym"},
		{NULL, tartu, 2, ADDRESSEE_MEDIUM,
		 "new body; kind ombudsman proposed from 'public defender'"},
		{NULL, tartu, 3, ADDRESSEE_LOW, "guess: new body"},
		{NULL, groups, 0, ADDRESSEE_HIGH,
		 "group: every foreign-mission"},
		{NULL, groups, 4, ADDRESSEE_MEDIUM,
		 "group: every ombudsman (membership unknown)"},
		{"issue19-armenia-2023-defender.txt", NULL, 3, ADDRESSEE_MEDIUM,
		 "back-reference to OSCE"},
		{"issue19-georgia-2019-defender.txt", NULL, 0, ADDRESSEE_MEDIUM,
		 "office-holder of UNHRC"},
		{"issue19-georgia-2019-defender.txt", NULL, 7, ADDRESSEE_LOW,
		 "guess: new body named as a country"},
		{"issue19-georgia-2019-defender.txt", NULL, 14,
		 ADDRESSEE_MEDIUM, "new body; kind other proposed from "
		 "'parliament' (an institution of one state)"},
	};
	struct test_db t;

	(void)state;
	seeded(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_plan p;
		size_t len = cases[i].text ? strlen(cases[i].text) : 0;
		char *text = cases[i].file ? read_statement(cases[i].file, &len)
					   : NULL;
		const struct addressee_match *m;

		plan_text(t.db, text ? text : cases[i].text, len, &p);
		assert_true(cases[i].row < p.list.count);
		m = &p.matches[cases[i].row];
		if (m->confidence != cases[i].conf ||
		    strncmp(m->evidence, cases[i].evidence,
			    strlen(cases[i].evidence)) != 0 ||
		    m->guess != (cases[i].conf == ADDRESSEE_LOW))
			fail_msg("case %zu row %zu '%s': got %s '%s' (guess "
				 "%d), want %s '%s...'", i, cases[i].row,
				 p.list.items[cases[i].row].phrase,
				 addressee_plan_confidence_name(m->confidence),
				 m->evidence, m->guess,
				 addressee_plan_confidence_name(cases[i].conf),
				 cases[i].evidence);
		addressee_plan_release(&p);
		free(text);
	}
	test_db_close(&t);
}

/* Near-miss names: the registry has one of a pair, the statement names
 * the other, and the plan never takes one for the other. */
static void test_near_miss_pairs(void **state)
{
	static const struct {
		const char *has, *acronym, *kind, *names;
	} cases[] = {
		{"European Ombudsman", "EO", "ombudsman",
		 "the European Ombudsman Institute"},
		{"European Ombudsman Institute", "EOI", "ombudsman-assoc",
		 "the European Ombudsman"},
		{"UN Human Rights Committee", "CCPR", "un-organ",
		 "the UN Human Rights Council"},
		{"UN Human Rights Council", "UNHRC", "un-organ",
		 "the UN Human Rights Committee"},
		{"Council of the European Union", NULL, "regional-org",
		 "the Council of Europe"},
		{"Council of Europe", "CoE", "regional-org",
		 "the Council of the European Union"},
		{"Council of Europe", "CoE", "regional-org",
		 "the Council of the EU"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_plan p;
		struct error err = ERROR_INIT;
		struct test_db t;
		char *text = xasprintf("Riga, 2020. The letter was sent to "
				       "UNICEF and %s.\n", cases[i].names);
		int64_t id;

		test_db_open(&t);
		assert_int_equal(registry_body_add(t.db, "UNICEF", "UNICEF",
						   "un-agency", NULL, NULL,
						   &id, &err), 0);
		assert_int_equal(registry_body_add(t.db, cases[i].acronym,
						   cases[i].has, cases[i].kind,
						   NULL, NULL, &id, &err), 0);
		plan_text(t.db, text, strlen(text), &p);
		assert_int_equal(p.list.count, 2);
		if (p.matches[1].res == ADDRESSEE_BODY ||
		    p.matches[1].res == ADDRESSEE_AMBIGUOUS)
			fail_msg("'%s' was taken for '%s' (%s)", cases[i].names,
				 cases[i].has, p.matches[1].evidence);
		assert_int_equal(p.matches[1].res, ADDRESSEE_NEW);
		addressee_plan_release(&p);
		test_db_close(&t);
		free(text);
	}
}

/* registry teach: a guessed row resolves to the body taught, a group
 * phrase to the list taught; a teach of nothing known changes nothing;
 * unteach forgets. */
static void test_teach(void **state)
{
	static const char text[] =
		"Tallinn, 2020. The report was sent to UNICEF and the "
		"national preventive mechanism.\n";
	struct addressee_apply_stats st = {0};
	struct addressee_rule r = {0};
	struct addressee_plan p;
	struct error err = ERROR_INIT;
	struct test_db t;
	int64_t list_id;
	char *before, *after;

	(void)state;
	seeded(&t);
	plan_text(t.db, text, strlen(text), &p);
	assert_int_equal(p.matches[1].res, ADDRESSEE_NEW);
	assert_true(p.matches[1].guess);
	addressee_plan_release(&p);

	before = state_of(t.db);
	assert_int_equal(addressee_rule_teach(t.db, "national preventive "
					      "mechanism", "NPM", NULL, &err),
			 ERR_NOTFOUND);
	assert_str(err.msg, "no body or list 'NPM'");
	assert_int_equal(addressee_rule_teach(t.db, "the", "OHCHR", NULL,
					      &err), ERR_USAGE);
	after = state_of(t.db);
	assert_str(after, before);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM "
					      "phrase_rules"), 0);
	free(after);

	assert_int_equal(addressee_rule_teach(t.db, "the national preventive "
					      "mechanism", "OHCHR", &r, &err),
			 0);
	assert_str(r.norm, "national preventive mechanism");
	assert_non_null(strstr(r.target, "OHCHR"));
	addressee_rule_release(&r);
	assert_int_equal(test_query_int(t.db,
		"SELECT count(*) FROM events e JOIN bodies b ON b.id = "
		"e.body_id WHERE e.kind = 'phrase.taught' AND b.acronym = "
		"'OHCHR' AND json_extract(e.data, '$.phrase') = 'the national "
		"preventive mechanism'"), 1);
	plan_text(t.db, text, strlen(text), &p);
	assert_int_equal(p.matches[1].res, ADDRESSEE_BODY);
	assert_non_null(strstr(p.matches[1].target, "OHCHR"));
	assert_str(p.matches[1].evidence, "taught");
	assert_int_equal(p.matches[1].confidence, ADDRESSEE_HIGH);
	assert_false(p.matches[1].guess);
	addressee_plan_release(&p);

	/* a group phrase names a list: its warning is answered */
	assert_int_equal(list_create(t.db, "oic-ombudsmen", LIST_STATIC,
				     NULL, &list_id, &err), 0);
	assert_int_equal(addressee_rule_teach(t.db, "ombudsmen of the OIC "
					      "member states", "oic-ombudsmen",
					      NULL, &err), 0);
	plan_text(t.db, groups, strlen(groups), &p);
	assert_int_equal(p.matches[4].res, ADDRESSEE_GROUP);
	assert_int_equal(p.matches[4].list_id, list_id);
	assert_str(p.matches[4].target, "oic-ombudsmen");
	assert_str(p.matches[4].evidence, "taught");
	assert_null(p.list.items[4].warning);
	assert_int_equal(addressee_plan_apply(t.db, &p, "g", &st, &err), 0);
	assert_int_equal(test_query_int(t.db,
		"SELECT count(*) FROM list_members m JOIN lists l ON l.id = "
		"m.list_id WHERE l.name = 'g' AND m.member_list_id = (SELECT "
		"id FROM lists WHERE name = 'oic-ombudsmen')"), 1);
	addressee_plan_release(&p);

	assert_int_equal(addressee_rule_unteach(t.db, "National Preventive "
						"Mechanism", &err), 0);
	assert_int_equal(addressee_rule_unteach(t.db, "National Preventive "
						"Mechanism", &err),
			 ERR_NOTFOUND);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM events "
					      "WHERE kind = 'phrase.untaught'"),
			 1);
	plan_text(t.db, text, strlen(text), &p);
	assert_int_equal(p.matches[1].res, ADDRESSEE_NEW);
	addressee_plan_release(&p);
	free(before);
	test_db_close(&t);
}

/* Applying 5,000 addressees into one list was quadratic: each addition
 * found the next position by reading every member before it. The query
 * it runs must search an index instead (bench/statement_run times it). */
static void test_next_position_is_indexed(void **state)
{
	struct sbuf plan = SBUF_INIT;
	sqlite3_stmt *st = NULL;
	struct test_db t;

	(void)state;
	test_db_open(&t);
	assert_int_equal(sqlite3_prepare_v2(db_handle(t.db),
		"EXPLAIN QUERY PLAN SELECT coalesce(max(position), 0) + 1 "
		"FROM list_members WHERE list_id = 1", -1, &st, NULL),
		SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		sbuf_addf(&plan, "%s; ", sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	if (!strstr(plan.buf, "list_members_position"))
		fail_msg("the next position is found by '%s', not by the "
			 "index list_members_position", plan.buf);
	sbuf_release(&plan);
	test_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_office_holder_role),
		cmocka_unit_test(test_guess_needs_accept),
		cmocka_unit_test(test_apply_twice_changes_nothing),
		cmocka_unit_test(test_list_is_refreshed),
		cmocka_unit_test(test_ambiguous_refuses_apply),
		cmocka_unit_test(test_evidence_and_confidence),
		cmocka_unit_test(test_near_miss_pairs),
		cmocka_unit_test(test_teach),
		cmocka_unit_test(test_next_position_is_indexed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
