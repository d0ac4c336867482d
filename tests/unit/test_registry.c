#include <stdlib.h>
#include <string.h>

#include "chancery/list.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "testutil.h"

static int setup(void **state)
{
	struct test_db *t = calloc(1, sizeof(*t));

	test_db_open(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	test_db_close(*state);
	free(*state);
	return 0;
}

static int64_t add_body(struct db *db, const char *acr, const char *name,
			const char *kind, const char *country)
{
	struct error err = {0};
	int64_t id = 0;

	if (registry_body_add(db, acr, name, kind, country, NULL, &id, &err))
		fail_msg("body_add %s: %s", name, err.msg);
	return id;
}

static void test_body_add_and_find(void **state)
{
	struct test_db *t = *state;
	static const struct {
		const char *key;
		const char *want_name; /* NULL: not found */
		int want_rc;
	} cases[] = {
		{"UNSG", "UN Secretary-General", 0},
		{"unsg", "UN Secretary-General", 0},
		{"UN Secretary-General", "UN Secretary-General", 0},
		{"Secretary-General of the United Nations",
		 "UN Secretary-General", 0},
		{"the UN Secretary General", "UN Secretary-General", 0},
		{"Défenseur des droits", "Défenseur des droits", 0},
		{"defenseur des droits", "Défenseur des droits", 0},
		{"#1", "UN Secretary-General", 0},
		{"#999", NULL, ERR_NOTFOUND},
		{"UNESCO", NULL, ERR_NOTFOUND},
	};
	struct error err = {0};
	int64_t id = add_body(t->db, "UNSG", "UN Secretary-General",
			      "un-organ", NULL);

	add_body(t->db, NULL, "Défenseur des droits", "ombudsman", "FR");
	assert_int_equal(registry_alias_add(t->db, id,
					    "Secretary-General of the United "
					    "Nations",
					    "statement", &err),
			 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry_body b = {0};
		int rc = registry_body_find(t->db, cases[i].key, &b, &err);

		if (rc != cases[i].want_rc)
			fail_msg("find '%s': rc %d (%s), want %d", cases[i].key,
				 rc, err.msg, cases[i].want_rc);
		if (cases[i].want_name)
			assert_str(b.name, cases[i].want_name);
		else
			assert_non_null(strstr(err.msg, cases[i].key));
		registry_body_release(&b);
	}
	/* body.added x2 and one alias.added */
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events"),
			 3);
}

static void test_body_add_errors_change_nothing(void **state)
{
	struct test_db *t = *state;
	static const struct {
		const char *acronym, *name, *kind;
		const char *want;
	} cases[] = {
		{"UNSG", "Another", "un-organ", "acronym 'UNSG' is already used"},
		{"unsg", "Another", "un-organ", "acronym 'unsg' is already used"},
		{"X", "un secretary-general", "un-organ", "already exists"},
		{"Y", "", "un-organ", "body name is empty"},
		{"Z", "Zed", "planet", "unknown body kind 'planet'"},
		{"A B", "Zed", "other", "holds a space"},
	};
	struct error err = {0};

	add_body(t->db, "UNSG", "UN Secretary-General", "un-organ", NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = registry_body_add(t->db, cases[i].acronym,
					   cases[i].name, cases[i].kind, NULL,
					   NULL, NULL, &err);

		assert_int_equal(rc, ERR_DATA);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg,
				 cases[i].want);
	}
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM bodies"),
			 1);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events"),
			 1);
}

static void test_ambiguous_alias(void **state)
{
	struct test_db *t = *state;
	struct registry_body b = {0};
	struct error err = {0};
	int64_t a = add_body(t->db, "IOI", "International Ombudsman Institute",
			     "ombudsman-assoc", NULL);
	int64_t e = add_body(t->db, "EOI", "European Ombudsman Institute",
			     "ombudsman-assoc", NULL);

	assert_int_equal(registry_alias_add(t->db, a, "Ombudsman Institute",
					    "manual", &err), 0);
	assert_int_equal(registry_alias_add(t->db, e, "Ombudsman Institutes",
					    "manual", &err), 0);
	assert_int_equal(registry_body_find(t->db, "ombudsman institute", &b,
					    &err),
			 ERR_DATA);
	assert_non_null(strstr(err.msg, "names 2 bodies"));
}

static void test_contacts_and_status(void **state)
{
	struct test_db *t = *state;
	struct registry_contact c = {0};
	struct error err = {0};
	int64_t body = add_body(t->db, "OSCE", "OSCE", "regional-org", NULL);
	int64_t id = 0;
	static const char *const bad[] = {"bad", "a@b", "x@@example.org",
					  "Name <a@example.org>", ""};

	assert_int_equal(registry_contact_add(t->db, body, "pm@example.org",
					      "Permanent Mission", NULL, "en",
					      &id, &err),
			 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (registry_contact_add(t->db, body, bad[i], NULL, NULL, NULL,
					 NULL, &err) == 0)
			fail_msg("address '%s' was accepted", bad[i]);
	}
	assert_int_equal(registry_contact_add(t->db, body, "PM@example.org",
					      NULL, NULL, NULL, NULL, &err),
			 ERR_DATA);
	assert_non_null(strstr(err.msg, "already a contact"));
	assert_int_equal(registry_contact_set_status(t->db, id,
						     CONTACT_BOUNCING,
						     "550 mailbox unknown",
						     &err),
			 0);
	assert_int_equal(registry_contact_get(t->db, id, &c, &err), 0);
	assert_int_equal(c.status, CONTACT_BOUNCING);
	assert_str(c.status_reason, "550 mailbox unknown");
	registry_contact_release(&c);
	/* Setting the same status again records nothing new. */
	assert_int_equal(registry_contact_set_status(t->db, id,
						     CONTACT_BOUNCING, "again",
						     &err),
			 0);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events "
					       "WHERE kind = 'contact.bouncing'"),
			 1);
	assert_int_equal(registry_body_remove(t->db, body, &err), 0);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM contacts "
					       "WHERE removed_at IS NULL"),
			 0);
}

/* registry_contact_update changes what it is given and records it;
 * registry_contact_find_removed finds the removed one, not the live. */
static void test_contact_update_and_removed(void **state)
{
	struct test_db *t = *state;
	struct registry_contact c = {0};
	struct error err = {0};
	int64_t body = add_body(t->db, "IPB", "International Peace Bureau",
				"ngo", "CH");
	int64_t id = 0;

	assert_int_equal(registry_contact_add(t->db, body, "a@ipb.example",
					      "Desk", "office", "en", &id,
					      &err), 0);
	struct registry_contact_edit edit = {.name = "Front desk",
					      .language = ""};
	struct registry_contact_edit bad = {.name = "a\x1b[2J"};
	int changed = 0;

	assert_int_equal(registry_contact_update(t->db, id, &edit, &changed,
						 &err), 0);
	assert_int_equal(changed, 2);
	assert_int_equal(registry_contact_get(t->db, id, &c, &err), 0);
	assert_str(c.name, "Front desk");
	assert_str(c.role, "office");
	assert_null(c.language);
	registry_contact_release(&c);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events "
					       "WHERE kind = 'contact.changed' "
					       "AND contact_id = 1"), 1);
	/* a control character is refused and nothing changes */
	assert_int_equal(registry_contact_update(t->db, id, &bad, &changed,
						 &err), ERR_DATA);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events "
					       "WHERE kind = 'contact.changed'"),
			 1);
	assert_int_equal(registry_contact_find_removed(t->db, body,
						       "A@ipb.example", &c,
						       &err), ERR_NOTFOUND);
	assert_int_equal(registry_contact_remove(t->db, id, &err), 0);
	assert_int_equal(registry_contact_find_removed(t->db, body,
						       "A@ipb.example", &c,
						       &err), 0);
	assert_int_equal(c.id, id);
	registry_contact_release(&c);
}

static int collect_body(const struct registry_body *b, void *arg)
{
	struct sbuf *out = arg;

	sbuf_addf(out, "%s%s", out->len ? "," : "",
		  b->acronym ? b->acronym : b->name);
	return 0;
}

static void test_list_expansion(void **state)
{
	struct test_db *t = *state;
	struct error err = {0};
	struct sbuf got = SBUF_INIT;
	int64_t un, reg, emb, all, unsg, unsc, osce;
	int nb = 0, nc = 0;

	unsg = add_body(t->db, "UNSG", "UN Secretary-General", "un-organ", NULL);
	unsc = add_body(t->db, "UNSC", "UN Security Council", "un-organ", NULL);
	osce = add_body(t->db, "OSCE", "OSCE", "regional-org", NULL);
	add_body(t->db, "EMB-FR", "Embassy of France", "embassy", "AZ");
	add_body(t->db, "EMB-DE", "Embassy of Germany", "embassy", "AZ");
	add_body(t->db, "EMB-X", "Embassy elsewhere", "embassy", "GE");
	assert_int_equal(list_create(t->db, "un", LIST_STATIC, NULL, &un, &err), 0);
	assert_int_equal(list_create(t->db, "regional", LIST_STATIC, NULL, &reg, &err), 0);
	assert_int_equal(list_create(t->db, "embassies-az", LIST_RULE, NULL, &emb, &err), 0);
	assert_int_equal(list_create(t->db, "all", LIST_STATIC, NULL, &all, &err), 0);
	assert_int_equal(list_add_body(t->db, un, unsc, &err), 0);
	assert_int_equal(list_add_body(t->db, un, unsg, &err), 0);
	assert_int_equal(list_add_body(t->db, un, unsg, &err), 0); /* no-op */
	assert_int_equal(list_add_body(t->db, reg, osce, &err), 0);
	assert_int_equal(list_add_rule(t->db, emb, "embassy", "az", &err), 0);
	assert_int_equal(list_add_list(t->db, all, un, &err), 0);
	assert_int_equal(list_add_body(t->db, all, osce, &err), 0);
	assert_int_equal(list_add_list(t->db, all, reg, &err), 0);
	assert_int_equal(list_add_list(t->db, all, emb, &err), 0);
	assert_int_equal(list_each_body(t->db, all, collect_body, &got, &err), 0);
	assert_str(got.buf, "UNSC,UNSG,OSCE,EMB-DE,EMB-FR");
	assert_int_equal(list_count(t->db, all, &nb, &nc, &err), 0);
	assert_int_equal(nb, 5);
	assert_int_equal(nc, 0);
	/* Cycles, wrong kinds and a list in use are refused. */
	assert_int_equal(list_add_list(t->db, un, all, &err), ERR_DATA);
	assert_non_null(strstr(err.msg, "cycle"));
	assert_int_equal(list_add_list(t->db, un, un, &err), ERR_DATA);
	assert_int_equal(list_add_rule(t->db, un, "embassy", NULL, &err), ERR_DATA);
	assert_int_equal(list_add_body(t->db, emb, unsg, &err), ERR_DATA);
	assert_int_equal(list_delete(t->db, un, &err), ERR_DATA);
	assert_non_null(strstr(err.msg, "used by list 'all'"));
	/* A removed body drops out of every list. */
	assert_int_equal(registry_body_remove(t->db, unsc, &err), 0);
	sbuf_reset(&got);
	assert_int_equal(list_each_body(t->db, all, collect_body, &got, &err), 0);
	assert_str(got.buf, "UNSG,OSCE,EMB-DE,EMB-FR");
	sbuf_release(&got);
}

/* Each member as "pos:body:ACR[!]" (! when removed), "pos:list:NAME" or
 * "rule:KIND/COUNTRY", comma-separated. */
static int collect_member(const struct list_member *m, void *arg)
{
	struct sbuf *sb = arg;

	if (sb->len)
		sbuf_addch(sb, ',');
	if (m->rule_kind)
		sbuf_addf(sb, "rule:%s/%s", m->rule_kind,
			  m->rule_country ? m->rule_country : "*");
	else if (m->body_id)
		sbuf_addf(sb, "%d:body:%s%s", m->position,
			  m->body_acronym ? m->body_acronym : m->body_name,
			  m->body_removed ? "!" : "");
	else
		sbuf_addf(sb, "%d:list:%s", m->position, m->list_name);
	return 0;
}

static void test_list_members_as_written(void **state)
{
	struct test_db *t = *state;
	struct error err = {0};
	struct sbuf got = SBUF_INIT;
	int64_t a, b, c, sub, rule, top;
	const struct {
		int64_t *list;
		const char *want;
	} cases[] = {
		{&top, "1:body:B,2:list:sub,3:body:(no acronym)!"},
		{&sub, "1:body:A"},
		{&rule, "rule:embassy/AZ,rule:nhri/*"},
	};

	a = add_body(t->db, "A", "Body A", "ngo", NULL);
	b = add_body(t->db, "B", "Body B", "ngo", NULL);
	c = add_body(t->db, NULL, "(no acronym)", "ngo", NULL);
	assert_int_equal(list_create(t->db, "sub", LIST_STATIC, NULL, &sub, &err), 0);
	assert_int_equal(list_create(t->db, "rules", LIST_RULE, NULL, &rule, &err), 0);
	assert_int_equal(list_create(t->db, "top", LIST_STATIC, NULL, &top, &err), 0);
	assert_int_equal(list_add_body(t->db, sub, a, &err), 0);
	assert_int_equal(list_add_body(t->db, top, b, &err), 0);
	assert_int_equal(list_add_list(t->db, top, sub, &err), 0);
	assert_int_equal(list_add_body(t->db, top, c, &err), 0);
	assert_int_equal(list_add_rule(t->db, rule, "nhri", NULL, &err), 0);
	assert_int_equal(list_add_rule(t->db, rule, "embassy", "AZ", &err), 0);
	/* a removed body stays written in the list, marked */
	assert_int_equal(registry_body_remove(t->db, c, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbuf_reset(&got);
		assert_int_equal(list_each_member(t->db, *cases[i].list,
						  collect_member, &got, &err),
				 0);
		if (strcmp(got.buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got.buf,
				 cases[i].want);
	}
	sbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_body_add_and_find, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_body_add_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_alias, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_contacts_and_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_contact_update_and_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_members_as_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_expansion, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
