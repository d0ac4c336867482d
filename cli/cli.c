#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/ledger.h"
#include "cli.h"

const struct cli_command *cli_current;
const char *cli_current_group;

const struct conf *cli_config(struct cli *cli, struct error *err)
{
	const char *path = cli->config_path ? cli->config_path
					    : conf_default_path();

	if (cli->cfg_loaded)
		return &cli->cfg;
	conf_init(&cli->cfg);
	if (path && conf_load(&cli->cfg, path, err) != 0) {
		/* main releases only a loaded configuration: the defaults
		 * conf_init set would leak */
		conf_release(&cli->cfg);
		return NULL;
	}
	cli->cfg_loaded = true;
	return &cli->cfg;
}

const char *cli_db_path(struct cli *cli, struct error *err)
{
	const struct conf *cfg;

	if (cli->db_override)
		return cli->db_override;
	cfg = cli_config(cli, err);
	return cfg ? cfg->database : NULL;
}

int cli_db(struct cli *cli, struct db **out, struct error *err)
{
	const struct conf *cfg;
	const char *path;
	int rc;

	if (!cli->db) {
		cfg = cli_config(cli, err);
		if (!cfg)
			return err->code;
		path = cli_db_path(cli, err);
		rc = db_open(path, 0, (int)cfg->busy_timeout_ms, &cli->db, err);
		if (rc)
			return rc;
		db_set_actor(cli->db, cli->actor);
	}
	*out = cli->db;
	return 0;
}

int cli_db_readonly(struct cli *cli, struct db **out, struct error *err)
{
	const struct conf *cfg;
	const char *path;
	struct db *db = NULL;
	int rc, version;

	if (cli->db) {
		*out = cli->db;
		return 0;
	}
	if (!(cfg = cli_config(cli, err)))
		return err->code;
	path = cli_db_path(cli, err);
	rc = db_open(path, DB_READONLY, (int)cfg->busy_timeout_ms, &db, err);
	if (rc)
		return rc;
	version = db_schema_version(db);
	if (version < db_schema_latest()) {
		/* Its tables are not yet what this program reads: migrate
		 * it, which needs write access. */
		db_close(db);
		db = NULL;
		rc = db_open(path, 0, (int)cfg->busy_timeout_ms, &db, err);
		if (rc == ERR_NOPERM)
			return error_set(err, ERR_NOPERM,
					 "%s: schema version %d is older than "
					 "this program's %d and the database "
					 "is read-only: upgrade it once with "
					 "write access, or read it with the "
					 "chancery that wrote it",
					 path, version, db_schema_latest());
		if (rc)
			return rc;
	}
	db_set_actor(db, cli->actor);
	*out = cli->db = db;
	return 0;
}

int cli_open_db_readonly(struct cli *cli, struct db **out)
{
	struct error err = ERROR_INIT;
	int rc = cli_db_readonly(cli, out, &err);

	return rc ? cli_fail(rc, &err) : 0;
}

int cli_fail(int rc, const struct error *err)
{
	fprintf(stderr, "chancery: %s\n",
		err && err->msg[0] ? err->msg : "failed");
	return error_exit_status(rc);
}

static void print_help(FILE *f, const char *group, const struct cli_command *c)
{
	fprintf(f, "usage: chancery %s%s%s%s%s\n", group ? group : "",
		group ? " " : "", c->name, c->usage && *c->usage ? " " : "",
		c->usage ? c->usage : "");
	if (c->summary)
		fprintf(f, "\n%s\n", c->summary);
	if (c->help)
		fprintf(f, "\n%s", c->help);
	fprintf(f, "\nglobal options: --config FILE, --db FILE, --json\n");
}

int cli_usage(const char *group, const struct cli_command *cmd,
	      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "chancery %s%s%s: ", group ? group : "", group ? " " : "",
		cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* One line, like every other error; the usage is one --help away. */
	fprintf(stderr, " (see 'chancery %s%s%s --help')\n", group ? group : "",
		group ? " " : "", cmd->name);
	return EX_USAGE;
}

int cli_bad_usage(const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_usage(cli_current_group, cli_current, "%s", msg);
}

static void list_commands(FILE *f, const char *group,
			  const struct cli_command *cmds)
{
	fprintf(f, "usage: chancery %s COMMAND [ARGS]\n\ncommands:\n", group);
	for (const struct cli_command *c = cmds; c->name; c++)
		fprintf(f, "  %-18s %s\n", c->name, c->summary ? c->summary : "");
	fprintf(f, "\n'chancery %s COMMAND --help' describes one.\n", group);
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int cli_open_db(struct cli *cli, struct db **out)
{
	struct error err = ERROR_INIT;
	int rc = cli_db(cli, out, &err);

	return rc ? cli_fail(rc, &err) : 0;
}

/* "ls" and "list" name the same listing in every group, whichever of the
 * two the group's table spells. */
static bool same_listing(const char *name, const char *typed)
{
	return (strcmp(name, "ls") == 0 && strcmp(typed, "list") == 0) ||
	       (strcmp(name, "list") == 0 && strcmp(typed, "ls") == 0);
}

int cli_dispatch(struct cli *cli, const char *group,
		 const struct cli_command *cmds, int argc, char **argv)
{
	if (argc < 1) {
		list_commands(stderr, group, cmds);
		return EX_USAGE;
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
	    strcmp(argv[0], "help") == 0) {
		list_commands(stdout, group, cmds);
		return 0;
	}
	for (const struct cli_command *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[0]) != 0 &&
		    !same_listing(c->name, argv[0]))
			continue;
		if (wants_help(argc, argv)) {
			print_help(stdout, group, c);
			return 0;
		}
		cli_current = c;
		cli_current_group = group;
		optind = 0; /* GNU: restart getopt for this argv */
		return c->run(cli, argc, argv);
	}
	fprintf(stderr, "chancery %s: unknown command '%s' (see 'chancery %s "
		"--help')\n", group, argv[0], group);
	return EX_USAGE;
}

int cli_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char opts[64];
	int c;

	/* A leading ':' makes a missing value ':' rather than '?'. */
	snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	if (optopt && c == ':')
		cli_bad_usage("option -%c needs a value", optopt);
	else if (optopt)
		cli_bad_usage("unknown option -%c", optopt);
	else
		cli_bad_usage("unknown option or missing value in '%s'",
			      argv[optind - 1]);
	return '?';
}

int cli_no_options(int argc, char **argv)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};

	return cli_getopt(argc, argv, "", none) == -1 ? 0 : EX_USAGE;
}

/* Delivery, campaign and contact states in the colours a reader expects:
 * green arrived, red failed for good, yellow still trying. */
static const char *state_colour(const char *header, const char *text,
				void *arg)
{
	static const struct {
		const char *state, *sgr;
	} colours[] = {
		{"sent", "32"},      {"delivered", "32"}, {"done", "32"},
		{"active", "32"},    {"failed", "31"},    {"bounced", "31"},
		{"expired", "31"},   {"bouncing", "31"},  {"deferred", "33"},
		{"pending", "33"},   {"sending", "33"},   {"running", "33"},
		{"scheduled", "36"}, {"paused", "35"},    {"cancelled", "2"},
		{"skipped", "2"},    {"disabled", "2"},   {"suppressed", "2"},
	};

	(void)arg;
	if (strcmp(header, "state") != 0 && strcmp(header, "status") != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
		if (strcmp(colours[i].state, text) == 0)
			return colours[i].sgr;
	return NULL;
}

int cli_print_table(struct cli *cli, struct table *t)
{
	struct sbuf out = SBUF_INIT;

	if (cli->json) {
		struct json js;

		json_init(&js, &out, true);
		table_format_json(t, &js);
	} else if (cli_color()) {
		table_format_text_styled(t, &out, state_colour, NULL);
	} else {
		table_format_text(t, &out);
	}
	fwrite(out.buf, 1, out.len, stdout);
	sbuf_release(&out);
	table_free(t);
	return 0;
}

int cli_print_listing(struct cli *cli, struct table *t, int rc,
		      const struct error *err)
{
	if (rc) {
		table_free(t);
		return cli_fail(rc, err);
	}
	return cli_print_table(cli, t);
}

void cli_print_json(const struct sbuf *json)
{
	fwrite(json->buf, 1, json->len, stdout);
	if (json->len && json->buf[json->len - 1] != '\n')
		fputc('\n', stdout);
}

bool cli_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(nc && *nc);
}

struct history_out {
	struct db *db;
	struct table *t;   /* text */
	struct json *js;   /* --json */
	struct sbuf words;
	struct error *err;
};

static int history_row(const struct ledger_row *row, void *arg)
{
	struct history_out *h = arg;
	char when[32];
	int rc;

	clock_format_utc(row->ts, when, sizeof(when));
	if (h->js) {
		json_object_begin(h->js);
		json_kv_int(h->js, "id", row->id);
		json_kv_string(h->js, "time", when);
		json_kv_string(h->js, "kind", row->kind);
		json_kv_string(h->js, "actor", row->actor);
		json_key(h->js, "body_id");
		if (row->body_id)
			json_int(h->js, row->body_id);
		else
			json_null(h->js);
		json_key(h->js, "contact_id");
		if (row->contact_id)
			json_int(h->js, row->contact_id);
		else
			json_null(h->js);
		json_key(h->js, "data");
		json_raw(h->js, row->data ? row->data : "{}");
		json_object_end(h->js);
		return 0;
	}
	sbuf_reset(&h->words);
	if ((rc = ledger_data_readable(h->db, row->data, &h->words, h->err)))
		return rc;
	table_row(h->t);
	table_text(h->t, when);
	table_text(h->t, row->kind);
	table_text(h->t, row->actor ? row->actor : "(daemon)");
	table_text(h->t, h->words.buf);
	return 0;
}

int cli_print_history(struct cli *cli, struct db *db, int64_t body_id,
		      int64_t merged_into, int64_t contact_id,
		      bool deliveries)
{
	static const char *const headers[] = {"time", "event", "actor",
					      "data"};
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;
	struct json js;
	struct history_out h = {.db = db, .err = &err};
	int rc;

	sbuf_init(&h.words, 0);
	if (cli->json) {
		json_init(&js, &out, true);
		json_array_begin(&js);
		h.js = &js;
	} else {
		h.t = table_new(4, headers);
	}
	rc = ledger_history(db, body_id, merged_into, contact_id, deliveries,
			    history_row, &h, &err);
	sbuf_release(&h.words);
	if (cli->json) {
		json_array_end(&js);
		if (!rc)
			cli_print_json(&out);
		sbuf_release(&out);
		return rc ? cli_fail(rc, &err) : 0;
	}
	return cli_print_listing(cli, h.t, rc, &err);
}
