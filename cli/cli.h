/*
 * The chancery command's shared plumbing: global options, lazy loading of
 * the configuration and the database, dispatch to subcommands, and the
 * output forms (aligned table or JSON) every listing uses.
 */
#ifndef CHANCERY_CLI_H
#define CHANCERY_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sysexits.h> /* the exit statuses commands return */

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/table.h"

struct cli {
	const char *config_path; /* --config, or NULL for the default */
	const char *db_override; /* --db */
	const char *actor;       /* --as, or the OS user: the ledger's actor */
	bool json;               /* --json anywhere on the line */
	struct conf cfg;
	bool cfg_loaded;
	struct db *db;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;   /* arguments after the name, for "usage:" */
	const char *summary; /* one line */
	const char *help;    /* options, one per line; may be NULL */
};

/* The configuration, loaded on first use; NULL and err set on failure. */
const struct conf *cli_config(struct cli *cli, struct error *err);
/* The database path: --db, else the configuration's. */
const char *cli_db_path(struct cli *cli, struct error *err);
/* The database, opened (and migrated) on first use. */
int cli_db(struct cli *cli, struct db **out, struct error *err);

/*
 * The database for a command that only reads, opened read-only (it works
 * on a read-only file, directory or medium, and writes nothing; on a
 * read-only medium SQLite opens it immutable). A database older than the
 * program is migrated when it is writable, else refused with a message
 * saying so. cli_open_db_readonly: 0, or the exit status after printing.
 */
int cli_db_readonly(struct cli *cli, struct db **out, struct error *err);
int cli_open_db_readonly(struct cli *cli, struct db **out);

/* The database for a command: 0, or the exit status after printing why. */
int cli_open_db(struct cli *cli, struct db **out);

/* Prints "chancery: <message>" and returns the exit status for rc. */
int cli_fail(int rc, const struct error *err);

/* Prints a usage error for a subcommand and returns EX_USAGE. */
int cli_usage(const char *group, const struct cli_command *cmd,
	      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Runs the subcommand named by argv[0] from cmds (ended by a NULL name).
 * "--help"/"-h" anywhere, or no subcommand, prints help and returns 0
 * or EX_USAGE. group is the command group's name ("body"), for messages.
 */
int cli_dispatch(struct cli *cli, const char *group,
		 const struct cli_command *cmds, int argc, char **argv);

/* The command being run (set by cli_dispatch), for cli_usage. */
extern const struct cli_command *cli_current;
extern const char *cli_current_group;

/* Reports a usage error for the current subcommand. */
int cli_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints t as an aligned table, or as JSON with --json; frees t. */
int cli_print_table(struct cli *cli, struct table *t);
/*
 * Ends a listing whose rows were walked into t, rc being the walk's
 * result: on an error prints err and returns its exit status, else
 * prints t as cli_print_table does. Frees t either way.
 */
int cli_print_listing(struct cli *cli, struct table *t, int rc,
		      const struct error *err);
/* Prints JSON text that a command built itself. */
void cli_print_json(const struct sbuf *json);

/*
 * getopt_long over a subcommand's argv (argv[0] is its name; options and
 * positional arguments may mix). Returns the option character, -1 at the
 * end (positional arguments are then argv[optind..argc)), or '?' after
 * printing a usage error that names the bad option (the caller returns
 * EX_USAGE).
 */
struct option;
int cli_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts);
/* For a subcommand that takes no options: 0, or EX_USAGE after
 * cli_getopt's usage error. Positional arguments start at optind. */
int cli_no_options(int argc, char **argv);

/*
 * Prints the ledger history of a body (body_id, merged_into) or of a
 * contact (body_id 0, contact_id) as a table: time, event, actor
 * ("(daemon)" for none) and the data in words; with --json an array of
 * objects with the data as stored.
 */
int cli_print_history(struct cli *cli, struct db *db, int64_t body_id,
		      int64_t merged_into, int64_t contact_id,
		      bool deliveries);

/* True when stdout is a terminal and NO_COLOR is not set. */
bool cli_color(void);

#endif
