/* chancery campaign proof, campaign test: what a person checks before a
 * campaign goes out (registered in cmd_campaign.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/campaign.h"
#include "chancery/campaign_proof.h"
#include "chancery/json.h"
#include "chancery/log.h"
#include "chancery/xalloc.h"
#include "commands.h"

/* "./proofs-NAME", the name's '/' made '_' so that it stays one folder. */
static char *default_dir(const char *name)
{
	char *dir = xasprintf("proofs-%s", name);

	for (char *p = dir; *p; p++)
		if (*p == '/')
			*p = '_';
	return dir;
}

int cmd_campaign_proof(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct campaign_proof_summary sum = {0};
	struct error err = ERROR_INIT;
	struct campaign_info c = {0};
	const struct conf *cfg;
	const char *out = NULL;
	char *dir = NULL;
	bool force = false;
	struct db *db;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "o:f", opts)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'f': force = true; break;
		default: return EX_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	if (out && !*out)
		return cli_bad_usage("--out: empty directory name");
	cfg = cli_config(cli, &err);
	rc = cfg ? cli_db(cli, &db, &err) : err.code;
	if (!rc)
		rc = campaign_find(db, argv[optind], &c, &err);
	if (rc)
		return cli_fail(rc, &err);
	dir = out ? xstrdup(out) : default_dir(c.name);
	rc = campaign_proof_write(db, cfg, c.id, dir, force, &sum, &err);
	if (!rc)
		printf("campaign %s: %zu proof%s for %zu addressee%s in %s "
		       "(index: %s/proofs.txt)\n",
		       c.name, sum.proofs, sum.proofs == 1 ? "" : "s",
		       sum.addressees, sum.addressees == 1 ? "" : "s", dir, dir);
	free(dir);
	campaign_info_release(&c);
	return rc ? cli_fail(rc, &err) : 0;
}

static void print_test_json(const char *campaign, const char *to,
			    const struct campaign_test_result *r)
{
	static const char *const results[] = {"sent", "tempfail", "permfail"};
	struct sbuf out = SBUF_INIT;
	struct json js;

	json_init(&js, &out, true);
	json_object_begin(&js);
	json_kv_string(&js, "campaign", campaign);
	json_kv_string(&js, "to", to);
	json_kv_string(&js, "body", r->body);
	json_kv_string(&js, "contact", r->contact);
	json_kv_string(&js, "message_id", r->message_id);
	json_kv_string(&js, "result", results[r->result.outcome]);
	json_kv_int(&js, "code", r->result.code);
	json_kv_string(&js, "reply", r->result.text);
	json_object_end(&js);
	cli_print_json(&out);
	sbuf_release(&out);
}

int cmd_campaign_test(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"to", required_argument, NULL, 't'},
		{"body", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	struct campaign_test_result res;
	struct error err = ERROR_INIT;
	struct campaign_info c = {0};
	const char *to = NULL, *body = NULL;
	const struct conf *cfg;
	struct db *db;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "t:b:", opts)) != -1) {
		switch (opt) {
		case 't': to = optarg; break;
		case 'b': body = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	if (!to)
		return cli_bad_usage("--to ADDRESS is required");
	cfg = cli_config(cli, &err);
	rc = cfg ? cli_db(cli, &db, &err) : err.code;
	if (!rc)
		rc = campaign_find(db, argv[optind], &c, &err);
	/* The transport's own line for a refusal would repeat the one
	 * error line this command prints. */
	log_set_level(LOG_LEVEL_ERROR);
	if (!rc)
		rc = campaign_proof_test_send(db, cfg, c.id, body, to, &res,
					      &err);
	if (!rc) {
		if (cli->json)
			print_test_json(c.name, to, &res);
		else
			printf("campaign %s: test message for %s sent to <%s>"
			       " (Message-ID <%s>): %d %s\n", c.name, res.body,
			       to, res.message_id, res.result.code,
			       res.result.text);
	}
	campaign_info_release(&c);
	return rc ? cli_fail(rc, &err) : 0;
}
