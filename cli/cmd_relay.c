/*
 * chancery relay test: opens a session with the relay as chanceryd
 * would (the same configuration, TLS settings and credentials) and
 * reports each step on its own line, then a verdict; with --to it sends
 * one message marked as a test. The exit status says what failed
 * (sysexits): EX_UNAVAILABLE (no connection, banner refused, message
 * refused), EX_PROTOCOL (TLS), EX_NOPERM (AUTH), EX_CONFIG.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "chancery/address.h"
#include "chancery/campaign_proof.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/log.h"
#include "chancery/mime.h"
#include "chancery/sbuf.h"
#include "chancery/transport.h"
#include "commands.h"

struct step_list {
	struct cli *cli;
	struct sbuf json;  /* the steps as JSON objects, comma separated */
	struct json js;
	int n;
};

static void on_step(void *arg, const char *step, bool ok, const char *detail)
{
	struct step_list *l = arg;

	l->n++;
	if (l->cli->json) {
		json_object_begin(&l->js);
		json_kv_string(&l->js, "step", step);
		json_kv_bool(&l->js, "ok", ok);
		json_kv_string(&l->js, "detail", detail);
		json_object_end(&l->js);
		return;
	}
	printf("%-9s %-6s %s\n", step, ok ? "ok" : "FAILED", detail);
	fflush(stdout);
}

/* The test message: marked as campaign test marks its own. */
static void test_message(const struct conf *cfg, const char *to,
			 struct sbuf *out)
{
	const char *domain = strrchr(cfg->sender.address, '@');
	char *from = address_ascii(cfg->sender.address);
	char *rcpt = address_ascii(to);
	unsigned long long r = 0;
	time_t now = (time_t)clock_now();
	char date[64];
	struct tm tm;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned long long)now;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	mime_header_mailbox(out, "From", cfg->sender.name,
			    from ? from : cfg->sender.address);
	mime_header_mailbox(out, "To", NULL, rcpt ? rcpt : to);
	mime_header_text(out, "Subject",
			 CAMPAIGN_TEST_SUBJECT_PREFIX "chancery relay test");
	sbuf_addf(out, "Date: %s\r\n", date);
	sbuf_addf(out, "Message-ID: <relay-test.%016llx@%s>\r\n", r,
		  domain ? domain + 1 : "localhost");
	sbuf_addstr(out, CAMPAIGN_TEST_HEADER "\r\n"
			 "Auto-Submitted: auto-generated\r\n"
			 "MIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: 7bit\r\n\r\n");
	sbuf_addf(out, "This is a test message sent by 'chancery relay test' "
		       "on %s\r\nto check the relay. It needs no action.\r\n",
		  date);
	free(from);
	free(rcpt);
}

/* The exit status of a failed session, by where it failed. */
static int failure_status(const struct transport_result *r)
{
	switch (r->phase) {
	case TRANSPORT_PHASE_STARTTLS:
		return EX_PROTOCOL;
	case TRANSPORT_PHASE_AUTH:
		return EX_NOPERM;
	default:
		return EX_UNAVAILABLE;
	}
}

/* "AUTH", "STARTTLS", "connect", ...; a refused test message: "message". */
static const char *failed_at(const struct transport_result *r)
{
	return r->phase == TRANSPORT_PHASE_NONE ? "message"
						 : transport_phase_name(r->phase);
}

static int run_test(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"to", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct step_list steps = {.cli = cli};
	struct transport_message msg = {0};
	struct transport_result res;
	struct error err = ERROR_INIT;
	struct sbuf data = SBUF_INIT, out = SBUF_INIT;
	const struct conf *cfg;
	const char *to = NULL;
	char relay[300];
	int opt, rc, status;

	while ((opt = cli_getopt(argc, argv, "t:", opts)) != -1) {
		switch (opt) {
		case 't': to = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if (!(cfg = cli_config(cli, &err)))
		return cli_fail(err.code, &err);
	if (to && address_check(to, &err))
		return cli_fail(ERR_USAGE, &err);
	if ((rc = transport_check_config(cfg, &err)))
		return cli_fail(rc, &err);
	if (cfg->transport == TRANSPORT_SMTP)
		snprintf(relay, sizeof(relay), "%s:%d", cfg->smtp.host,
			 cfg->smtp.port);
	else
		snprintf(relay, sizeof(relay), "maildir %s", cfg->outbox);
	/* The steps say it all; the transport's warning would repeat it. */
	log_set_level(LOG_LEVEL_ERROR);
	mime_init();
	sbuf_init(&steps.json, 0);
	json_init(&steps.js, &steps.json, false);
	json_array_begin(&steps.js);
	if (to) {
		test_message(cfg, to, &data);
		msg.envelope_from = cfg->sender.address;
		msg.recipient = to;
		msg.data = data.buf;
		msg.size = data.len;
	}
	if (!cli->json)
		printf("relay     %s\n", relay);
	rc = transport_probe(cfg, to ? &msg : NULL, on_step, &steps, &res,
			     &err);
	json_array_end(&steps.js);
	if (rc) {
		sbuf_release(&data);
		sbuf_release(&steps.json);
		return cli_fail(rc, &err);
	}
	status = res.outcome == TRANSPORT_SENT ? EX_OK : failure_status(&res);
	if (cli->json) {
		struct json js;

		json_init(&js, &out, true);
		json_object_begin(&js);
		json_kv_string(&js, "transport",
			       conf_transport_name(cfg->transport));
		json_kv_string(&js, "relay", relay);
		json_key(&js, "steps");
		json_raw(&js, steps.json.buf);
		json_kv_bool(&js, "ok", status == EX_OK);
		json_kv_string(&js, "failed_at",
			       status == EX_OK ? NULL : failed_at(&res));
		json_kv_int(&js, "reply_code", res.code);
		json_kv_string(&js, "reply", res.text);
		json_kv_bool(&js, "test_message_sent", to && status == EX_OK);
		json_kv_string(&js, "to", to);
		json_kv_int(&js, "exit_status", status);
		json_object_end(&js);
		cli_print_json(&out);
	} else if (status == EX_OK) {
		printf("relay OK%s%s%s\n", to ? ": test message sent to <" : "",
		       to ? to : "", to ? ">" : "");
	} else {
		printf("relay FAILED at %s: %s\n", failed_at(&res), res.text);
	}
	sbuf_release(&out);
	sbuf_release(&data);
	sbuf_release(&steps.json);
	return status;
}

static const struct cli_command relay_cmds[] = {
	{"test", run_test, "[--to ADDRESS]",
	 "connect to the relay as chanceryd would and report each step",
	 "  --to ADDRESS  also send one message marked as a test to ADDRESS"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_relay(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "relay", relay_cmds, argc - 1, argv + 1);
}
