#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chancery/bounce_report.h"
#include "chancery/conf.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

static void test_defaults(void **state)
{
	struct conf cfg;

	(void)state;
	conf_init(&cfg);
	assert_str(cfg.database, "/var/lib/chancery/chancery.db");
	assert_int_equal(cfg.transport, TRANSPORT_MAILDIR);
	assert_str(cfg.outbox, "/var/spool/chancery/outbox");
	assert_int_equal(cfg.smtp.port, 587);
	assert_int_equal(cfg.smtp.tls, TLS_AUTO);
	assert_int_equal(cfg.queue.workers, 4);
	assert_int_equal(cfg.queue.retry_first_ms, 5 * 60 * 1000);
	assert_int_equal(cfg.queue.lifetime_ms, 5LL * 86400 * 1000);
	assert_str(cfg.timezone, "UTC");
	assert_int_equal(cfg.notify.nto, 0); /* nobody to notify */
	conf_release(&cfg);
}

/* notify.to: a list of addresses (or one), shown by config show. */
static void test_notify_addresses(void **state)
{
	static const struct {
		const char *text;
		size_t n;
		const char *first, *shown;
	} cases[] = {
		{"notify = { to = [\"head@office.example\", "
		 "\"deputy@office.example\"]; };\n", 2, "head@office.example",
		 "notify.to = [\"head@office.example\", "
		 "\"deputy@office.example\"]\n"},
		{"notify = { to = \"head@office.example\"; };\n", 1,
		 "head@office.example", "notify.to = [\"head@office.example\"]\n"},
		{"notify = { to = []; };\n", 0, NULL, "notify.to = (unset)\n"},
	};
	char *dir = test_tmpdir();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = test_write_file(dir, "c.conf", cases[i].text);
		struct sbuf dump = SBUF_INIT;
		struct error err = ERROR_INIT;
		struct conf cfg;

		conf_init(&cfg);
		if (conf_load(&cfg, path, &err))
			fail_msg("case %zu: %s", i, err.msg);
		if (cfg.notify.nto != cases[i].n)
			fail_msg("case %zu: %zu addresses, wanted %zu", i,
				 cfg.notify.nto, cases[i].n);
		if (cases[i].first)
			assert_str(cfg.notify.to[0], cases[i].first);
		conf_dump(&cfg, &dump);
		if (!strstr(dump.buf, cases[i].shown))
			fail_msg("case %zu: dump lacks %s", i, cases[i].shown);
		sbuf_release(&dump);
		conf_release(&cfg);
		free(path);
	}
	test_rmtree(dir);
}

static void test_values_and_relative_paths(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_file(dir, "c.conf",
		"database = { path = \"data/x.db\"; busy_timeout = \"250ms\"; };\n"
		"timezone = \"Asia/Baku\";\n"
		"transport = { kind = \"smtp\"; smtp = { host = \"relay.example.org\";"
		" port = 2525; tls = \"required\"; }; };\n"
		"queue = { workers = 8; retry = { first = \"30s\"; factor = 1.5;"
		" max = \"2h\"; }; lifetime = \"3d\"; };\n");
	struct conf cfg;
	struct error err = ERROR_INIT;
	char *want_db = xasprintf("%s/data/x.db", dir);

	(void)state;
	conf_init(&cfg);
	if (conf_load(&cfg, path, &err))
		fail_msg("load: %s", err.msg);
	assert_str(cfg.database, want_db);
	assert_int_equal(cfg.busy_timeout_ms, 250);
	assert_str(cfg.timezone, "Asia/Baku");
	assert_int_equal(cfg.transport, TRANSPORT_SMTP);
	assert_str(cfg.smtp.host, "relay.example.org");
	assert_int_equal(cfg.smtp.port, 2525);
	assert_int_equal(cfg.smtp.tls, TLS_REQUIRED);
	assert_int_equal(cfg.queue.workers, 8);
	assert_int_equal(cfg.queue.retry_first_ms, 30000);
	assert_true(cfg.queue.retry_factor > 1.49 && cfg.queue.retry_factor < 1.51);
	assert_int_equal(cfg.queue.retry_max_ms, 2 * 3600 * 1000);
	assert_int_equal(cfg.queue.lifetime_ms, 3LL * 86400 * 1000);
	conf_release(&cfg);
	free(want_db);
	free(path);
	test_rmtree(dir);
}

/* Every bad file is refused with a message naming file, line and key,
 * and the struct keeps its previous (default) values. */
static void test_errors_name_line_and_key(void **state)
{
	static const struct {
		const char *text;
		const char *want[3];
	} cases[] = {
		{"queue = { wrokers = 2; };\n",
		 {":1:", "queue.wrokers", "queue.workers"}},
		{"\n\nqueue = { workers = \"two\"; };\n",
		 {":3:", "queue.workers", "integer"}},
		{"queue = { workers = 0; };\n", {":1:", "queue.workers", "1"}},
		{"transport = { kind = \"pigeon\"; };\n",
		 {":1:", "transport.kind", "maildir"}},
		{"queue = { lease = \"10 parsecs\"; };\n",
		 {":1:", "queue.lease", "duration"}},
		{"transport = { smtp = { port = 70000; }; };\n",
		 {":1:", "transport.smtp.port", "65535"}},
		{"timezone = 3;\n", {":1:", "timezone", "string"}},
		{"database = { path = \"x\";\n", {":2", "syntax", NULL}},
		{"timezone = \"Mars/Olympus\";\n", {"timezone", "Mars/Olympus", NULL}},
		{"notify = { to = [\"head@office.example\", \"not an "
		 "address\"]; };\n", {":1:", "notify.to", "not an address"}},
		{"notify = { to = 3; };\n",
		 {":1:", "notify.to", "a list of e-mail addresses"}},
		{"notify = { to = [\"\"]; };\n", {":1:", "notify.to", "empty"}},
		{"notify = { cc = [\"a@b.example\"]; };\n",
		 {":1:", "notify.cc", NULL}},
		{"campaign = { approvals = 3; };\n",
		 {":1:", "campaign.approvals", "0..2"}},
		{"campaign = { four_eyes = \"yes\"; };\n",
		 {":1:", "campaign.four_eyes", "true or false"}},
		{"campaign = { four_eyes = 1; };\n",
		 {":1:", "campaign.four_eyes", "true or false"}},
		{"bounce = { address = \"bounces+x@office.example\"; };\n",
		 {"bounce.address", "'+'", NULL}},
		{"bounce = { address = \"not an address\"; };\n",
		 {"bounce.address", "not an address", NULL}},
		{"bounce = { count_classes = \"address, spam\"; };\n",
		 {"bounce.count_classes", "'spam'", "policy"}},
		{"bounce = { blocked_threshold = 0; };\n",
		 {":1:", "bounce.blocked_threshold", "1..1000"}},
	};
	char *dir = test_tmpdir();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = test_write_file(dir, "bad.conf", cases[i].text);
		struct conf cfg;
		struct error err = ERROR_INIT;

		conf_init(&cfg);
		if (conf_load(&cfg, path, &err) != ERR_CONFIG)
			fail_msg("case %zu accepted: %s", i, cases[i].text);
		for (int j = 0; j < 3 && cases[i].want[j]; j++)
			if (!strstr(err.msg, cases[i].want[j]))
				fail_msg("case %zu: '%s' lacks '%s'", i,
					 err.msg, cases[i].want[j]);
		assert_non_null(strstr(err.msg, "bad.conf"));
		assert_int_equal(cfg.queue.workers, 4);
		conf_release(&cfg);
		free(path);
	}
	test_rmtree(dir);
}

/* campaign.approvals and the boolean campaign.four_eyes: defaults that
 * keep offices without the group working, and values read and dumped. */
static void test_campaign_keys(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_file(dir, "c.conf", "campaign = { approvals = "
				     "2; four_eyes = true; };\n");
	struct conf cfg;
	struct error err = ERROR_INIT;
	struct sbuf dump = SBUF_INIT;

	(void)state;
	conf_init(&cfg);
	assert_int_equal(cfg.campaign.approvals, 0);
	assert_false(cfg.campaign.four_eyes);
	assert_int_equal(conf_load(&cfg, path, &err), 0);
	assert_int_equal(cfg.campaign.approvals, 2);
	assert_true(cfg.campaign.four_eyes);
	conf_dump(&cfg, &dump);
	assert_non_null(strstr(dump.buf, "campaign.four_eyes = true\n"));
	assert_non_null(strstr(dump.buf, "campaign.approvals = 2\n"));
	conf_release(&cfg);
	sbuf_release(&dump);
	free(path);
	test_rmtree(dir);
}

/* bounce.*: VERP unset by default, only address failures counting, and
 * the values read into the mask and dumped. */
static void test_bounce_keys(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_file(dir, "c.conf", "bounce = { address = "
				     "\"bounces@office.example\"; "
				     "count_classes = \"address, policy\"; "
				     "blocked_window = \"2d\"; };\n");
	struct conf cfg;
	struct error err = ERROR_INIT;
	struct sbuf dump = SBUF_INIT;

	(void)state;
	conf_init(&cfg);
	assert_null(cfg.bounce.address);
	assert_int_equal(cfg.bounce.count_mask, 1u << BOUNCE_CLASS_ADDRESS);
	assert_int_equal(cfg.bounce.blocked_threshold, 3);
	assert_int_equal(cfg.bounce.blocked_window_ms, 7 * 86400000LL);
	assert_int_equal(conf_load(&cfg, path, &err), 0);
	assert_str(cfg.bounce.address, "bounces@office.example");
	assert_int_equal(cfg.bounce.count_mask,
			 (1u << BOUNCE_CLASS_ADDRESS) |
				 (1u << BOUNCE_CLASS_POLICY));
	assert_int_equal(cfg.bounce.blocked_window_ms, 2 * 86400000LL);
	conf_dump(&cfg, &dump);
	assert_non_null(strstr(dump.buf, "bounce.address = "
					 "\"bounces@office.example\"\n"));
	conf_release(&cfg);
	sbuf_release(&dump);
	free(path);
	test_rmtree(dir);
}

static void test_secrets_need_private_files(void **state)
{
	char *dir = test_tmpdir();
	char *pw = test_write_file(dir, "pw", "s3cret\n");
	char *text = xasprintf("transport = { smtp = { user = \"u\"; "
			       "password_file = \"%s\"; }; };\n", pw);
	char *path = test_write_file(dir, "c.conf", text);
	char *inline_path = test_write_file(dir, "i.conf",
		"transport = { smtp = { user = \"u\"; password = \"p\"; }; };\n");
	struct conf cfg;
	struct error err = ERROR_INIT;
	struct sbuf dump = SBUF_INIT;

	(void)state;
	chmod(pw, 0644);
	conf_init(&cfg);
	assert_int_equal(conf_load(&cfg, path, &err), ERR_CONFIG);
	assert_non_null(strstr(err.msg, "readable by others"));
	chmod(pw, 0600);
	assert_int_equal(conf_load(&cfg, path, &err), 0);
	assert_str(cfg.smtp.password, "s3cret");
	/* The dump never shows the secret. */
	conf_dump(&cfg, &dump);
	assert_null(strstr(dump.buf, "s3cret"));
	chmod(inline_path, 0644);
	assert_int_equal(conf_load(&cfg, inline_path, &err), ERR_CONFIG);
	assert_non_null(strstr(err.msg, "i.conf"));
	chmod(inline_path, 0600);
	assert_int_equal(conf_load(&cfg, inline_path, &err), 0);
	conf_release(&cfg);
	sbuf_release(&dump);
	free(pw);
	free(text);
	free(path);
	free(inline_path);
	test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_relative_paths),
		cmocka_unit_test(test_errors_name_line_and_key),
		cmocka_unit_test(test_campaign_keys),
		cmocka_unit_test(test_bounce_keys),
		cmocka_unit_test(test_secrets_need_private_files),
		cmocka_unit_test(test_notify_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
