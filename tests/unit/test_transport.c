#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/conf.h"
#include "chancery/log.h"
#include "chancery/sbuf.h"
#include "chancery/transport.h"
#include "chancery/xalloc.h"
#include "testutil.h"
#include "../../lib/transport_impl.h"

/* ---- reply parsing ---- */

static void test_outcome_for_code(void **state)
{
	static const struct {
		int code;
		enum transport_outcome want;
	} cases[] = {
		{250, TRANSPORT_SENT},     {251, TRANSPORT_SENT},
		{200, TRANSPORT_SENT},     {299, TRANSPORT_SENT},
		{421, TRANSPORT_TEMPFAIL}, {451, TRANSPORT_TEMPFAIL},
		{452, TRANSPORT_TEMPFAIL}, {0, TRANSPORT_TEMPFAIL},
		{354, TRANSPORT_TEMPFAIL}, {199, TRANSPORT_TEMPFAIL},
		{550, TRANSPORT_PERMFAIL}, {554, TRANSPORT_PERMFAIL},
		{535, TRANSPORT_PERMFAIL}, {600, TRANSPORT_TEMPFAIL},
		{-1, TRANSPORT_TEMPFAIL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum transport_outcome got =
			transport_outcome_for_code(cases[i].code);

		if (got != cases[i].want)
			fail_msg("code %d: got outcome %d, want %d",
				 cases[i].code, got, cases[i].want);
	}
}

/* Which session failures are the relay's (every message would meet
 * them) rather than one recipient's. */
static void test_relay_fault_classification(void **state)
{
	static const struct {
		enum transport_phase phase;
		int code;
		bool want;
		const char *name;
	} cases[] = {
		{TRANSPORT_PHASE_CONNECT, 0, true, "connect"},     /* refused */
		{TRANSPORT_PHASE_CONNECT, 0, true, "connect"},     /* timeout */
		{TRANSPORT_PHASE_GREETING, 421, true, "greeting"}, /* banner */
		{TRANSPORT_PHASE_GREETING, 554, true, "greeting"},
		{TRANSPORT_PHASE_GREETING, 0, true, "greeting"},   /* closed */
		{TRANSPORT_PHASE_STARTTLS, 0, true, "STARTTLS"},   /* cert */
		{TRANSPORT_PHASE_STARTTLS, 454, true, "STARTTLS"},
		{TRANSPORT_PHASE_AUTH, 535, true, "AUTH"},
		{TRANSPORT_PHASE_AUTH, 534, true, "AUTH"},
		{TRANSPORT_PHASE_AUTH, 454, true, "AUTH"},
		{TRANSPORT_PHASE_AUTH, 0, true, "AUTH"},          /* withheld */
		{TRANSPORT_PHASE_TRANSFER, 421, false, "transfer"},/* after N */
		{TRANSPORT_PHASE_TRANSFER, 0, false, "transfer"},  /* dropped */
		{TRANSPORT_PHASE_TRANSFER, 451, false, "transfer"},
		{TRANSPORT_PHASE_NONE, 451, false, "-"},          /* a reply */
		{TRANSPORT_PHASE_NONE, 550, false, "-"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = transport_relay_fault(cases[i].phase, cases[i].code);

		if (got != cases[i].want)
			fail_msg("case %zu: phase %s code %d: got %s, want %s",
				 i, cases[i].name, cases[i].code,
				 got ? "relay fault" : "not", cases[i].want
				 ? "relay fault" : "not");
		assert_string_equal(transport_phase_name(cases[i].phase),
				    cases[i].name);
	}
}

static void test_enhanced_status(void **state)
{
	static const struct {
		const char *text, *enhanced, *rest;
	} cases[] = {
		{"2.0.0 Ok: queued as ABC", "2.0.0", "Ok: queued as ABC"},
		{"5.1.1 <x@y>: Recipient address rejected", "5.1.1",
		 "<x@y>: Recipient address rejected"},
		{"4.7.1   spaces", "4.7.1", "spaces"},
		{"4.2.2", "4.2.2", ""},
		{"5.123.456 long parts", "5.123.456", "long parts"},
		{"Ok: queued as ABC", "", "Ok: queued as ABC"},
		{"3.0.0 class three is not enhanced", "",
		 "3.0.0 class three is not enhanced"},
		{"5.1 too short", "", "5.1 too short"},
		{"5.1.1000 detail too long", "", "5.1.1000 detail too long"},
		{"5.1.1x glued", "", "5.1.1x glued"},
		{"", "", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char enh[16];
		const char *rest = transport_reply_enhanced(cases[i].text, enh);

		assert_str(enh, cases[i].enhanced);
		assert_str(rest, cases[i].rest);
	}
}

static void test_queue_id(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"Ok: queued as 4Xk2Lq0vGgz9sZ", "4Xk2Lq0vGgz9sZ"},
		{"ok: Queued as ABC123.", "ABC123"},
		{"OK id=1qAbCd-000123-Xy", "1qAbCd-000123-Xy"},
		{"Ok: queued as <20261125.1@relay>", "20261125.1@relay"},
		{"x8K1a2b3Q012345 Message accepted for delivery",
		 "x8K1a2b3Q012345"},
		{"<AM0PR01MB1234@eur.prod> Queued mail for delivery",
		 "AM0PR01MB1234@eur.prod"},
		{"Ok", ""},
		{"queued as ", ""},
		{"Message accepted for delivery", ""},
		{"2.0.0 Message accepted for delivery", ""},
		{"", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[64];
		bool found = transport_reply_queue_id(cases[i].text, id,
						      sizeof(id));

		if (strcmp(id, cases[i].want) != 0 ||
		    found != (cases[i].want[0] != '\0'))
			fail_msg("\"%s\": got \"%s\" (%d), want \"%s\"",
				 cases[i].text, id, found, cases[i].want);
	}
}

static void test_queue_id_too_long_is_dropped(void **state)
{
	char id[8];

	(void)state;
	assert_false(transport_reply_queue_id("queued as ABCDEFGHIJKLMNOP",
					      id, sizeof(id)));
	assert_str(id, "");
}

static void test_result_set(void **state)
{
	static const struct {
		int code;
		const char *enhanced, *text;
		enum transport_outcome outcome;
		const char *want_enh, *want_text, *want_id;
	} cases[] = {
		{250, "", "2.0.0 Ok: queued as Q1\r\n", TRANSPORT_SENT, "2.0.0",
		 "Ok: queued as Q1", "Q1"},
		{250, "2.6.0", "Ok: queued as Q2", TRANSPORT_SENT, "2.6.0",
		 "Ok: queued as Q2", "Q2"},
		{550, "", "5.1.1 No such user\r\nsecond line\r\n",
		 TRANSPORT_PERMFAIL, "5.1.1", "No such user  second line", ""},
		/* a queue id in a refusal is not a queue id */
		{451, "", "4.3.0 not queued as X1", TRANSPORT_TEMPFAIL, "4.3.0",
		 "not queued as X1", ""},
		{421, "", NULL, TRANSPORT_TEMPFAIL, "", "", ""},
		{250, "", "Ok\x01\x7f", TRANSPORT_SENT, "", "Ok", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transport_result r;

		transport_result_set(&r, cases[i].code, cases[i].enhanced,
				     cases[i].text);
		assert_int_equal(r.code, cases[i].code);
		assert_int_equal(r.outcome, cases[i].outcome);
		assert_str(r.enhanced, cases[i].want_enh);
		assert_str(r.text, cases[i].want_text);
		assert_str(r.queue_id, cases[i].want_id);
	}
}

static void test_result_text_is_bounded(void **state)
{
	struct transport_result r;
	char *longtext = xmalloc(10241);

	(void)state;
	memset(longtext, 'x', 10240);
	longtext[10240] = '\0';
	transport_result_set(&r, 250, "", longtext);
	assert_int_equal(strlen(r.text), sizeof(r.text) - 1);
	transport_result_fail(&r, TRANSPORT_TEMPFAIL, "%s", longtext);
	assert_int_equal(strlen(r.text), sizeof(r.text) - 1);
	assert_int_equal(r.code, 0);
	free(longtext);
}

/* ---- maildir ---- */

struct maildir_fixture {
	char *dir;
	char *outbox;
	struct conf cfg;
};

static int maildir_setup(void **state)
{
	struct maildir_fixture *f = xcalloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	f->outbox = xasprintf("%s/spool/outbox", f->dir);
	conf_init(&f->cfg);
	f->cfg.transport = TRANSPORT_MAILDIR;
	free(f->cfg.outbox);
	f->cfg.outbox = xstrdup(f->outbox);
	*state = f;
	return 0;
}

static int maildir_teardown(void **state)
{
	struct maildir_fixture *f = *state;

	conf_release(&f->cfg);
	free(f->outbox);
	test_rmtree(f->dir);
	free(f);
	return 0;
}

static int mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("stat %s: %s", path, strerror(errno));
	return (int)(st.st_mode & 07777);
}

/* The names in dir (not . and ..), sorted; returns how many. */
static size_t list_dir(const char *dir, char names[][256], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		fail_msg("opendir %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) && n < max) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
	return n;
}

static void make_messages(struct transport_message *m, size_t n)
{
	static const char *const rcpts[] = {"a@example.net", "b@example.net",
					    "c@example.net"};
	static const char *const bodies[] = {
		"Subject: one\r\n\r\nfirst\r\n",
		"Subject: two\r\n\r\nsecond\r\n.dot\r\n",
		"Subject: three\r\n\r\nthird\r\n",
	};
	for (size_t i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].delivery_id = (int64_t)i + 1;
		m[i].envelope_from = "bounces@example.org";
		m[i].recipient = rcpts[i % 3];
		m[i].data = bodies[i % 3];
		m[i].size = strlen(bodies[i % 3]);
	}
}

/* on_final for the maildir: the file is in new/ when it is told. */
struct told {
	const char *outbox;
	int calls;
	char names[3][256];
};

static void note_final(struct transport_message *m, void *arg)
{
	struct told *told = arg;
	char *file = xasprintf("%s/new/%s", told->outbox, m->result.queue_id);

	assert_int_equal(m->result.outcome, TRANSPORT_SENT);
	assert_int_equal(access(file, F_OK), 0);
	snprintf(told->names[told->calls++], 256, "%s", m->result.queue_id);
	free(file);
}

static void test_maildir_writes_into_new(void **state)
{
	struct maildir_fixture *f = *state;
	struct error err = ERROR_INIT;
	struct transport_message m[3];
	struct told told = {.outbox = f->outbox};
	struct transport *t;
	char names[8][256], *path;
	regex_t re;

	t = transport_new(&f->cfg, &err);
	if (!t)
		fail_msg("transport_new: %s", err.msg);
	assert_str(transport_name(t), "maildir");
	make_messages(m, 3);
	for (size_t i = 0; i < 3; i++) {
		m[i].on_final = note_final;
		m[i].on_final_arg = &told;
	}
	assert_int_equal(transport_send(t, m, 3, &err), 0);
	assert_int_equal(told.calls, 3);
	for (size_t i = 0; i < 3; i++)
		assert_str(told.names[i], m[i].result.queue_id);

	/* time.M<usec>P<pid>Q<counter>.<host>.eml */
	assert_int_equal(regcomp(&re, "^[0-9]+\\.M[0-9]{6}P[0-9]+Q[0-9]+\\."
				 "[^/:]+\\.eml$", REG_EXTENDED | REG_NOSUB), 0);
	path = xasprintf("%s/new", f->outbox);
	assert_int_equal(list_dir(path, names, 8), 3);
	for (size_t i = 0; i < 3; i++) {
		struct sbuf want = SBUF_INIT, got = SBUF_INIT;
		char *file = xasprintf("%s/new/%s", f->outbox, m[i].result.queue_id);

		assert_int_equal(m[i].result.outcome, TRANSPORT_SENT);
		assert_int_equal(m[i].result.code, 250);
		assert_str(m[i].result.enhanced, "2.0.0");
		if (regexec(&re, m[i].result.queue_id, 0, NULL, 0) != 0)
			fail_msg("bad name %s", m[i].result.queue_id);
		assert_non_null(strstr(m[i].result.text, m[i].result.queue_id));
		assert_int_equal(mode_of(file), 0600);
		assert_int_equal(sbuf_read_file(&got, file, 1 << 20, &err), 0);
		sbuf_addf(&want, "Return-Path: <bounces@example.org>\r\n"
			  "Delivered-To: %s\r\n%s", m[i].recipient, m[i].data);
		assert_str(got.buf, want.buf);
		sbuf_release(&want);
		sbuf_release(&got);
		free(file);
	}
	assert_string_not_equal(m[0].result.queue_id, m[1].result.queue_id);
	assert_string_not_equal(m[1].result.queue_id, m[2].result.queue_id);
	free(path);
	regfree(&re);

	/* Nothing is left behind in tmp/; the directories are private. */
	path = xasprintf("%s/tmp", f->outbox);
	assert_int_equal(list_dir(path, names, 8), 0);
	free(path);
	static const char *const subs[] = {"", "/tmp", "/new", "/cur"};
	for (size_t i = 0; i < 4; i++) {
		path = xasprintf("%s%s", f->outbox, subs[i]);
		assert_int_equal(mode_of(path), 0700);
		free(path);
	}
	transport_free(t);
}

static void test_maildir_names_are_unique(void **state)
{
	struct maildir_fixture *f = *state;
	struct error err = ERROR_INIT;
	struct transport_message m[200];
	struct transport *t = transport_new(&f->cfg, &err);
	char (*names)[256] = xcalloc(256, 256);
	char *path = xasprintf("%s/new", f->outbox);

	assert_non_null(t);
	for (size_t i = 0; i < 200; i++) {
		make_messages(&m[i], 1);
	}
	assert_int_equal(transport_send(t, m, 200, &err), 0);
	assert_int_equal(list_dir(path, names, 256), 200);
	for (size_t i = 1; i < 200; i++)
		assert_string_not_equal(names[i - 1], names[i]);
	free(names);
	free(path);
	transport_free(t);
}

/* A rename that fails leaves nothing in new/ and nothing in tmp/. */
static void test_maildir_failure_leaves_nothing(void **state)
{
	struct maildir_fixture *f = *state;
	struct error err = ERROR_INIT;
	struct transport_message m[1];
	struct transport *t = transport_new(&f->cfg, &err);
	char names[4][256];
	char *new_dir = xasprintf("%s/new", f->outbox);
	char *tmp_dir = xasprintf("%s/tmp", f->outbox);
	FILE *fp;

	assert_non_null(t);
	/* new/ replaced by a plain file: the rename into it fails. */
	assert_int_equal(rmdir(new_dir), 0);
	fp = fopen(new_dir, "w");
	assert_non_null(fp);
	fclose(fp);
	make_messages(m, 1);
	assert_int_equal(transport_send(t, m, 1, &err), 0);
	assert_int_equal(m[0].result.outcome, TRANSPORT_TEMPFAIL);
	assert_int_equal(m[0].result.code, 0);
	assert_str(m[0].result.queue_id, "");
	if (!strstr(m[0].result.text, "maildir:"))
		fail_msg("text: %s", m[0].result.text);
	assert_int_equal(list_dir(tmp_dir, names, 4), 0);
	free(new_dir);
	free(tmp_dir);
	transport_free(t);
}

static void test_maildir_outbox_recreated(void **state)
{
	struct maildir_fixture *f = *state;
	struct error err = ERROR_INIT;
	struct transport_message m[1];
	struct transport *t = transport_new(&f->cfg, &err);
	char *spool = xasprintf("%s/spool", f->dir);
	char names[4][256];
	char *new_dir = xasprintf("%s/new", f->outbox);

	assert_non_null(t);
	test_rmtree(spool);   /* frees spool */
	make_messages(m, 1);
	assert_int_equal(transport_send(t, m, 1, &err), 0);
	assert_int_equal(m[0].result.outcome, TRANSPORT_SENT);
	assert_int_equal(list_dir(new_dir, names, 4), 1);
	free(new_dir);
	transport_free(t);
}

static void test_maildir_bad_outbox(void **state)
{
	struct maildir_fixture *f = *state;
	struct error err = ERROR_INIT;
	char *file = test_write_file(f->dir, "plainfile", "x");

	free(f->cfg.outbox);
	f->cfg.outbox = xasprintf("%s/outbox", file);
	assert_null(transport_new(&f->cfg, &err));
	assert_int_equal(err.code, ERR_CANTCREAT);
	if (!strstr(err.msg, "maildir outbox") || !strstr(err.msg, file))
		fail_msg("message: %s", err.msg);
	free(file);
}

/* ---- smtp configuration checks (no network) ---- */

/* One smtp configuration and what checking it must say. */
struct smtp_case {
	const char *host, *user, *password, *ca_file;
	enum tls_mode tls;
	const char *want; /* the refusal names it; NULL: accepted */
};

/* cfg, initialised, with the case's smtp settings. */
static void smtp_conf(struct conf *cfg, const struct smtp_case *c)
{
	conf_init(cfg);
	cfg->transport = TRANSPORT_SMTP;
	free(cfg->smtp.host);
	cfg->smtp.host = xstrdup(c->host);
	cfg->smtp.user = xstrdup(c->user);
	cfg->smtp.password = xstrdup(c->password);
	cfg->smtp.ca_file = xstrdup(c->ca_file);
	cfg->smtp.tls = c->tls;
}

static void test_smtp_bad_settings(void **state)
{
	static const struct smtp_case cases[] = {
		{"", NULL, NULL, NULL, TLS_AUTO, "transport.smtp.host"},
		{"::1", NULL, NULL, NULL, TLS_NONE, "IPv6"},
		{"127.0.0.1", "u", NULL, NULL, TLS_NONE, "no password"},
		{"192.0.2.7", "u", "pw", NULL, TLS_NONE, "unencrypted"},
		{"192.0.2.7", "u", "pw", NULL, TLS_OPPORTUNISTIC,
		 "unencrypted"},
		{"192.0.2.7", NULL, NULL, "/nonexistent/ca.pem", TLS_REQUIRED,
		 "ca_file"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct conf cfg;

		smtp_conf(&cfg, &cases[i]);
		assert_null(transport_new(&cfg, &err));
		assert_int_equal(err.code, ERR_CONFIG);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: \"%s\" does not mention %s", i,
				 err.msg, cases[i].want);
		if (cases[i].password && strstr(err.msg, cases[i].password) &&
		    strlen(cases[i].password) > 2)
			fail_msg("password in message: %s", err.msg);
		conf_release(&cfg);
	}
}

static void test_smtp_good_settings(void **state)
{
	struct error err = ERROR_INIT;
	struct transport *t;
	struct conf cfg;

	(void)state;
	conf_init(&cfg);
	cfg.transport = TRANSPORT_SMTP;
	cfg.smtp.user = xstrdup("u");
	cfg.smtp.password = xstrdup("secret");
	t = transport_new(&cfg, &err);   /* localhost: loopback, no TLS */
	if (!t)
		fail_msg("transport_new: %s", err.msg);
	assert_str(transport_name(t), "smtp");
	assert_int_equal(transport_send(t, NULL, 0, &err), 0);
	transport_free(t);
	conf_release(&cfg);
}

/* ---- smtp: the session's TLS, decided on the address connected to ---- */

static void make_addr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(25);
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(25);
		assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
	}
}

static void test_smtp_server_is_the_address_connected_to(void **state)
{
	static const struct {
		const char *addr, *want;
		bool pinned;
	} cases[] = {
		{"127.0.0.1", "127.0.0.1:2525", true},
		{"192.0.2.7", "192.0.2.7:2525", true},
		{"10.1.2.3", "10.1.2.3:2525", true},
		/* libESMTP cannot take an IPv6 address: the name, unpinned */
		{"::1", "relay.example:2525", false},
		{"2001:db8::25", "relay.example:2525", false},
		{"::ffff:127.0.0.1", "relay.example:2525", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		char out[64];
		bool pinned;

		make_addr(cases[i].addr, &ss);
		pinned = transport_smtp_server_for((struct sockaddr *)&ss,
						   "relay.example", 2525, out,
						   sizeof(out));
		if (pinned != cases[i].pinned || strcmp(out, cases[i].want))
			fail_msg("%s: got \"%s\" pinned=%d, want \"%s\" "
				 "pinned=%d", cases[i].addr, out, pinned,
				 cases[i].want, cases[i].pinned);
	}
}

static void test_smtp_session_tls(void **state)
{
	enum { REFUSE = -1 };
	static const struct {
		enum tls_mode configured;
		bool auth;
		const char *addr;
		int want; /* a tls_mode, or REFUSE */
	} cases[] = {
		/* auto: plain text only to the loopback address connected to */
		{TLS_AUTO, false, "127.0.0.1", TLS_NONE},
		{TLS_AUTO, false, "127.3.4.5", TLS_NONE},
		{TLS_AUTO, true, "127.0.0.1", TLS_NONE},
		{TLS_AUTO, false, "192.0.2.7", TLS_REQUIRED},
		{TLS_AUTO, true, "192.0.2.7", TLS_REQUIRED},
		{TLS_AUTO, false, "10.0.0.1", TLS_REQUIRED},
		{TLS_AUTO, false, "128.0.0.1", TLS_REQUIRED},
		/* not pinned (IPv6): libESMTP resolves again, so not loopback */
		{TLS_AUTO, false, "::1", TLS_REQUIRED},
		{TLS_AUTO, false, "2001:db8::25", TLS_REQUIRED},
		{TLS_REQUIRED, false, "127.0.0.1", TLS_REQUIRED},
		{TLS_REQUIRED, true, "192.0.2.7", TLS_REQUIRED},
		{TLS_OPPORTUNISTIC, false, "192.0.2.7", TLS_OPPORTUNISTIC},
		{TLS_OPPORTUNISTIC, true, "127.0.0.1", TLS_OPPORTUNISTIC},
		{TLS_OPPORTUNISTIC, true, "192.0.2.7", REFUSE},
		{TLS_NONE, false, "192.0.2.7", TLS_NONE},
		{TLS_NONE, true, "127.0.0.1", TLS_NONE},
		/* the name was on loopback when checked; now it is not */
		{TLS_NONE, true, "192.0.2.7", REFUSE},
		{TLS_NONE, true, "::1", REFUSE},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		enum tls_mode got = TLS_AUTO;
		char server[64];
		bool pinned;
		int rc;

		make_addr(cases[i].addr, &ss);
		pinned = transport_smtp_server_for((struct sockaddr *)&ss, "r",
						   25, server, sizeof(server));
		rc = transport_smtp_session_tls(cases[i].configured,
						cases[i].auth,
						(struct sockaddr *)&ss, pinned,
						&got);
		if (rc < 0 ? cases[i].want != REFUSE
			   : cases[i].want != (int)got)
			fail_msg("tls=%s auth=%d address %s: got %s, want %s",
				 conf_tls_name(cases[i].configured),
				 cases[i].auth, cases[i].addr,
				 rc < 0 ? "refused" : conf_tls_name(got),
				 cases[i].want == REFUSE
					 ? "refused"
					 : conf_tls_name(cases[i].want));
	}
}

static void test_smtp_check_config(void **state)
{
	static const struct smtp_case cases[] = {
		{"", NULL, NULL, NULL, TLS_AUTO, "transport.smtp.host"},
		{"::1", NULL, NULL, NULL, TLS_NONE, "IPv6"},
		{"192.0.2.7", "u", "pw", NULL, TLS_NONE, "unencrypted"},
		{"192.0.2.7", "u", "pw", NULL, TLS_OPPORTUNISTIC,
		 "unencrypted"},
		{"192.0.2.7", NULL, NULL, "/nonexistent/ca.pem", TLS_REQUIRED,
		 "ca_file"},
		/* auto may need TLS in any session: the trust store is checked
		 * even for a relay on loopback */
		{"127.0.0.1", NULL, NULL, "/nonexistent/ca.pem", TLS_AUTO,
		 "ca_file"},
		{"127.0.0.1", "u", "pw", NULL, TLS_NONE, NULL},
		{"127.0.0.1", NULL, NULL, "/nonexistent/ca.pem", TLS_NONE, NULL},
		{"192.0.2.7", "u", "pw", NULL, TLS_AUTO, NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct conf cfg;
		int rc;

		smtp_conf(&cfg, &cases[i]);
		rc = transport_check_config(&cfg, &err);
		if (!cases[i].want && rc != 0)
			fail_msg("case %zu: refused: %s", i, err.msg);
		if (cases[i].want && (rc != ERR_CONFIG ||
				      !strstr(err.msg, cases[i].want)))
			fail_msg("case %zu: got %d \"%s\", want %d naming %s",
				 i, rc, err.msg, ERR_CONFIG, cases[i].want);
		conf_release(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_for_code),
		cmocka_unit_test(test_enhanced_status),
		cmocka_unit_test(test_relay_fault_classification),
		cmocka_unit_test(test_queue_id),
		cmocka_unit_test(test_queue_id_too_long_is_dropped),
		cmocka_unit_test(test_result_set),
		cmocka_unit_test(test_result_text_is_bounded),
		cmocka_unit_test_setup_teardown(test_maildir_writes_into_new,
						maildir_setup, maildir_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_names_are_unique,
						maildir_setup, maildir_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_failure_leaves_nothing,
						maildir_setup, maildir_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_outbox_recreated,
						maildir_setup, maildir_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_bad_outbox,
						maildir_setup, maildir_teardown),
		cmocka_unit_test(test_smtp_bad_settings),
		cmocka_unit_test(test_smtp_good_settings),
		cmocka_unit_test(test_smtp_server_is_the_address_connected_to),
		cmocka_unit_test(test_smtp_session_tls),
		cmocka_unit_test(test_smtp_check_config),
	};

	log_set_level(LOG_LEVEL_ERROR);   /* one line per message is noise here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
