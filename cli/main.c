/*
 * chancery: the command line of the statement-distribution service.
 * Parses the global options and hands the rest to a command group.
 */
#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "chancery/utf8.h"
#include "commands.h"

struct group {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

static const struct group groups[] = {
	{"init", cmd_init, "create the database (--seed loads the registry)"},
	{"config", cmd_config, "check or show the configuration"},
	{"body", cmd_body, "addressee bodies: add, list, show, alias, edit, merge, rm"},
	{"contact", cmd_contact, "e-mail contacts of bodies"},
	{"find", cmd_find, "search bodies, aliases and contacts"},
	{"list", cmd_list, "addressee lists: create, add, rule, show, ls"},
	{"registry", cmd_registry, "import statements' addressees, CSV in and out"},
	{"template", cmd_template, "statement templates: add, list, show, render"},
	{"campaign", cmd_campaign, "create, schedule and follow campaigns"},
	{"series", cmd_series, "yearly anniversary series"},
	{"audit", cmd_audit, "verify the ledger; who received which statement"},
	{"inbox", cmd_inbox, "keep and read what comes back: reports, receipts, replies"},
	{"bounce", cmd_bounce, "the older name of inbox; bounce list: the quarantine"},
	{"relay", cmd_relay, "test the relay: connect, TLS, AUTH, a test message"},
	{"backup", cmd_backup, "a verified copy of the database, safe while the daemon runs"},
	{"status", cmd_status, "the daemon, relay, campaigns, queue and ledger at a glance"},
	{"user", cmd_user, "web console accounts: add, list, passwd, role, disable"},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: chancery [--config FILE] [--db FILE] [--as NAME] "
		   "[--json] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct group *g = groups; g->name; g++)
		fprintf(f, "  %-10s %s\n", g->name, g->summary);
	fprintf(f, "\n'chancery COMMAND --help' describes a command.\n");
}

/* --json may stand anywhere on the line; it is taken out here so that no
 * subcommand has to know about it. */
static int take_json_flag(struct cli *cli, int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			cli->json = true;
		else
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

/*
 * The name the ledger records for this command's changes: --as NAME where
 * an office shares one account (a claim, not proof), else the OS user.
 */
static int set_actor(struct cli *cli, const char *claimed)
{
	static char fallback[32];
	const struct passwd *pw;

	if (claimed) {
		size_t len = strlen(claimed);

		if (len == 0 || len > 64 || !utf8_valid(claimed, len, NULL) ||
		    utf8_has_control(claimed)) {
			fprintf(stderr, "chancery: --as: not a name (1 to 64 "
				"bytes of UTF-8 text, no control characters)\n");
			return -1;
		}
		cli->actor = claimed;
		return 0;
	}
	pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name) {
		cli->actor = pw->pw_name;
		return 0;
	}
	snprintf(fallback, sizeof(fallback), "uid %u", (unsigned)getuid());
	cli->actor = fallback;
	return 0;
}

static int parse_global(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"as", required_argument, NULL, 'a'},
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *claimed = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:d:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			claimed = optarg;
			break;
		case 'c':
			cli->config_path = optarg;
			break;
		case 'd':
			cli->db_override = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("chancery %s\n", CHANCERY_VERSION);
			exit(0);
		case ':':
			fprintf(stderr, "chancery: option '%s' needs a value\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "chancery: unknown option '%s'\n",
				argv[optind - 1]);
			return -1;
		}
	}
	return set_actor(cli, claimed) ? -1 : optind;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	int first, rc = EX_USAGE;

	setlocale(LC_CTYPE, "");
	argc = take_json_flag(&cli, argc, argv);
	first = parse_global(&cli, argc, argv);
	if (first < 0)
		return EX_USAGE;
	if (first >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (const struct group *g = groups; g->name; g++) {
		if (strcmp(g->name, argv[first]) == 0) {
			rc = g->run(&cli, argc - first, argv + first);
			goto out;
		}
	}
	fprintf(stderr, "chancery: unknown command '%s' (see 'chancery "
		"--help')\n", argv[first]);
out:
	db_close(cli.db);
	if (cli.cfg_loaded)
		conf_release(&cli.cfg);
	return rc;
}
