/*
 * ledger: the event builder. The text it writes is what the ledger
 * hashes and the audit reads, so every case checks it to the byte; the
 * chain itself is tested in test_db.c and test_audit.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/ledger.h"
#include "testutil.h"

/* One member: a string (NULL: null) or an integer. */
struct member {
	const char *key;
	enum { STR, INT } type;
	const char *s;
	int64_t i;
};

#define MAX_MEMBERS 5

static const struct {
	const char *name;
	struct member m[MAX_MEMBERS]; /* up to the first NULL key */
	const char *want;
} cases[] = {
	{"no members", {{NULL}}, "{}"},
	{"one string", {{"series", STR, "anniversary", 0}},
	 "{\"series\":\"anniversary\"}"},
	{"keys in call order, types kept",
	 {{"name", STR, "stmt", 0}, {"version", INT, NULL, 3},
	  {"sha256", STR, "ab12", 0}},
	 "{\"name\":\"stmt\",\"version\":3,\"sha256\":\"ab12\"}"},
	{"a NULL string is null",
	 {{"reason", STR, NULL, 0}, {"owner", STR, "d", 0}},
	 "{\"reason\":null,\"owner\":\"d\"}"},
	{"integers: zero, negative, 64-bit",
	 {{"a", INT, NULL, 0}, {"b", INT, NULL, -42},
	  {"c", INT, NULL, INT64_MAX}, {"d", INT, NULL, INT64_MIN}},
	 "{\"a\":0,\"b\":-42,\"c\":9223372036854775807,"
	 "\"d\":-9223372036854775808}"},
	{"escaping: quote, backslash, control, slash",
	 {{"text", STR, "say \"hi\"\\ \n\t\x01/", 0}},
	 "{\"text\":\"say \\\"hi\\\"\\\\ \\n\\t\\u0001/\"}"},
	{"escaped keys", {{"k\"ey", STR, "v", 0}}, "{\"k\\\"ey\":\"v\"}"},
	{"UTF-8 kept, an invalid byte written \\ufffd",
	 {{"name", STR, "Müvəkkil", 0}, {"bad", STR, "a\xff" "b", 0}},
	 "{\"name\":\"Müvəkkil\",\"bad\":\"a\\ufffdb\"}"},
	{"empty string and empty key", {{"", STR, "", 0}}, "{\"\":\"\"}"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void add_members(struct ledger_entry *e, const struct member *m)
{
	for (int j = 0; j < MAX_MEMBERS && m[j].key; j++) {
		if (m[j].type == STR)
			ledger_entry_str(e, m[j].key, m[j].s);
		else
			ledger_entry_int(e, m[j].key, m[j].i);
	}
}

static void check_text(const char *name, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", name, got, want);
}

/* The exact text of each case, from a fresh entry. */
static void test_entry_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct ledger_entry e;

		ledger_entry_init(&e, LEDGER_BODY_ADDED, 0, 0, 0, 0);
		add_members(&e, cases[i].m);
		check_text(cases[i].name, ledger_entry_data(&e), cases[i].want);
		/* Asking again neither closes twice nor changes the text. */
		check_text(cases[i].name, ledger_entry_data(&e), cases[i].want);
		assert_ptr_equal(e.ev.data, e.data.buf);
		ledger_entry_release(&e);
	}
}

/* One entry reset for every case, as the queue's loops use it: nothing
 * of the previous event is left, the kind and ids are the new ones. */
static void test_entry_reset_reuses(void **state)
{
	struct ledger_entry e;

	(void)state;
	ledger_entry_init(&e, LEDGER_BODY_ADDED, 9, 9, 9, 9);
	/* An entry with no member yet holds no memory: a daemon loop that
	 * prepares one and finds no row allocates nothing. */
	assert_int_equal(e.data.alloc, 0);
	ledger_entry_str(&e, "left", "over");
	for (size_t i = 0; i < NCASES; i++) {
		ledger_entry_reset(&e, LEDGER_DELIVERY_SENT, 1, (int64_t)i + 2,
				   3, 4);
		assert_null(e.ev.data);
		add_members(&e, cases[i].m);
		check_text(cases[i].name, ledger_entry_data(&e), cases[i].want);
		assert_int_equal(e.ev.kind, LEDGER_DELIVERY_SENT);
		assert_int_equal(e.ev.campaign_id, 1);
		assert_int_equal(e.ev.delivery_id, (int64_t)i + 2);
		assert_int_equal(e.ev.body_id, 3);
		assert_int_equal(e.ev.contact_id, 4);
	}
	ledger_entry_release(&e);
	/* Released without an append: nothing leaks (run under ASan). */
	ledger_entry_init(&e, LEDGER_BODY_ADDED, 0, 0, 0, 0);
	ledger_entry_str(&e, "never", "appended");
	ledger_entry_release(&e);
}

/* Appended rows carry the kind, the ids and exactly the text. */
static void test_entry_append_stores_row(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	struct ledger_entry e;

	(void)state;
	test_db_open(&t);
	ledger_entry_init(&e, LEDGER_BODY_ADDED, 0, 0, 0, 0);
	for (size_t i = 0; i < NCASES; i++) {
		char sql[160];
		int64_t id = 0;
		char *got;

		ledger_entry_reset(&e, LEDGER_DELIVERY_FAILED, 0, (int64_t)i + 1,
				   0, (int64_t)i + 100);
		add_members(&e, cases[i].m);
		if (ledger_entry_append(t.db, &e, &id, &err) != 0)
			fail_msg("%s: append: %s", cases[i].name, err.msg);
		assert_int_equal(id, (int64_t)i + 1);
		snprintf(sql, sizeof(sql),
			 "SELECT kind || ' ' || ifnull(campaign_id, '-') || ' '"
			 " || delivery_id || ' ' || ifnull(body_id, '-') || ' '"
			 " || contact_id FROM events WHERE id = %lld",
			 (long long)id);
		got = test_query_text(t.db, sql);
		snprintf(sql, sizeof(sql), "delivery.failed - %lld - %lld",
			 (long long)i + 1, (long long)i + 100);
		check_text(cases[i].name, got, sql);
		free(got);
		snprintf(sql, sizeof(sql),
			 "SELECT data FROM events WHERE id = %lld",
			 (long long)id);
		got = test_query_text(t.db, sql);
		check_text(cases[i].name, got, cases[i].want);
		free(got);
	}
	ledger_entry_release(&e);
	test_db_close(&t);
}

/* ledger_append_fields writes what the builder writes for the same
 * string members. */
static void test_append_fields_matches_builder(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	struct ledger_event ev = {.kind = LEDGER_LIST_CHANGED, .body_id = 0};
	char *got;

	(void)state;
	test_db_open(&t);
	assert_int_equal(ledger_append_fields(t.db, &ev, &err, "list", "all",
					      "action", "add", "email", NULL,
					      "note", "a \"b\"", NULL), 0);
	assert_int_equal(ledger_append_fields(t.db, &ev, &err, NULL), 0);
	got = test_query_text(t.db, "SELECT group_concat(data, ' ') FROM "
				    "(SELECT data FROM events ORDER BY id)");
	check_text("fields", got,
		   "{\"list\":\"all\",\"action\":\"add\",\"email\":null,"
		   "\"note\":\"a \\\"b\\\"\"} {}");
	free(got);
	test_db_close(&t);
}

/* Event data as `body history` shows it, one case per shape. */
static void test_data_readable(void **state)
{
	static const struct {
		const char *data, *want;
	} cases[] = {
		{"{}", ""},
		{"{\"email\":\"a@x.example\",\"role\":null}",
		 "email: a@x.example; role: (none)"},
		{"{\"contact\":\"a@x.example\",\"name\":{\"from\":null,"
		 "\"to\":\"Desk\"}}",
		 "contact: a@x.example; name: (none) \u2192 Desk"},
		{"{\"keep_id\":1,\"aliases\":[\"HRC\",\"Conseil\"],"
		 "\"lists\":[]}",
		 "keep_id: 1; aliases: HRC, Conseil"},
		{"{\"other\":{\"a\":1}}", "other: {\"a\":1}"},
	};
	struct test_db t;

	(void)state;
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf out = SBUF_INIT;
		struct error err = ERROR_INIT;

		if (ledger_data_readable(t.db, cases[i].data, &out, &err))
			fail_msg("%s: %s", cases[i].data, err.msg);
		if (strcmp(out.buf, cases[i].want) != 0)
			fail_msg("%s: got '%s', want '%s'", cases[i].data,
				 out.buf, cases[i].want);
		sbuf_release(&out);
	}
	test_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_text),
		cmocka_unit_test(test_entry_reset_reuses),
		cmocka_unit_test(test_entry_append_stores_row),
		cmocka_unit_test(test_append_fields_matches_builder),
		cmocka_unit_test(test_data_readable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
