/*
 * chancery user: the web console's accounts (user.h). A password never
 * stands on the command line (where ps and the shell history would show
 * it): it comes from a private file, or from standard input with
 * --password-file -, or is generated and printed once.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/sbuf.h"
#include "chancery/user.h"
#include "commands.h"

/* Where the password comes from: a file (or "-"), or generated. */
struct password_source {
	const char *file;
	bool generate;
};

/* The first line of standard input, for --password-file -. */
static int read_stdin_password(char **out, struct error *err)
{
	struct sbuf sb = SBUF_INIT;
	char *nl;
	int rc = sbuf_read_fd(&sb, STDIN_FILENO, "standard input", 4096, err);

	*out = NULL;
	if (rc)
		goto out;
	nl = strpbrk(sb.buf, "\r\n");
	if (nl)
		sbuf_setlen(&sb, (size_t)(nl - sb.buf));
	if (!sb.len) {
		rc = error_set(err, ERR_USAGE, "no password on standard input");
		goto out;
	}
	*out = sbuf_detach(&sb, NULL);
out:
	if (sb.len)
		explicit_bzero(sb.buf, sb.len);
	sbuf_release(&sb);
	return rc;
}

/* The password the source gives (caller wipes and frees it). */
static int source_password(const struct password_source *src, char **out,
			   struct error *err)
{
	if (src->generate) {
		*out = user_password_generate();
		return 0;
	}
	if (strcmp(src->file, "-") == 0)
		return read_stdin_password(out, err);
	return conf_read_password(src->file, out, err);
}

static void wipe(char *password)
{
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
}

/* Parses [--role R] --password-file F | --generate; the positional
 * arguments are left at argv[optind..argc). */
static int password_options(int argc, char **argv, bool want_role,
			    enum user_role *role, bool *role_given,
			    struct password_source *src)
{
	static const struct option opts[] = {
		{"role", required_argument, NULL, 'r'},
		{"password-file", required_argument, NULL, 'f'},
		{"generate", no_argument, NULL, 'g'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	int c;

	*role_given = false;
	/* getopt_long would take "--password X" as an abbreviation of
	 * --password-file: say plainly that a password has no option */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--password") ||
		    !strncmp(argv[i], "--password=", 11))
			return cli_bad_usage("no password on the command line "
					     "(ps and the shell history show "
					     "it): use --password-file FILE "
					     "or --generate");
	while ((c = cli_getopt(argc, argv, want_role ? "r:f:g" : "f:g",
			       want_role ? opts : opts + 1)) != -1) {
		switch (c) {
		case 'r':
			if (user_role_parse(optarg, role, &err))
				return cli_bad_usage("%s", err.msg);
			*role_given = true;
			break;
		case 'f':
			src->file = optarg;
			break;
		case 'g':
			src->generate = true;
			break;
		default:
			return EX_USAGE;
		}
	}
	if (src->file && src->generate)
		return cli_bad_usage("--password-file and --generate exclude "
				     "each other");
	if (!src->file && !src->generate)
		return cli_bad_usage("the password comes from --password-file "
				     "FILE (or - for standard input) or "
				     "--generate, never the command line");
	return 0;
}

/* What add and passwd print: the account and, when generated, the
 * password (the one time it is shown). */
static void report(struct cli *cli, const char *name, const char *role,
		   const char *what, const char *generated)
{
	if (cli->json) {
		struct sbuf out = SBUF_INIT;
		struct json js;

		json_init(&js, &out, true);
		json_object_begin(&js);
		json_kv_string(&js, "name", name);
		if (role)
			json_kv_string(&js, "role", role);
		json_kv_string(&js, "change", what);
		if (generated)
			json_kv_string(&js, "password", generated);
		json_object_end(&js);
		cli_print_json(&out);
		explicit_bzero(out.buf, out.len);
		sbuf_release(&out);
		return;
	}
	if (role)
		printf("user '%s' %s as %s\n", name, what, role);
	else
		printf("user '%s': password %s\n", name, what);
	if (generated)
		printf("password: %s\n(shown this once; it is stored only as "
		       "an Argon2id hash)\n", generated);
}

static int run_add(struct cli *cli, int argc, char **argv)
{
	struct password_source src = {0};
	struct error err = ERROR_INIT;
	enum user_role role = USER_VIEWER;
	char *password = NULL;
	struct db *db;
	bool role_given;
	int rc = password_options(argc, argv, true, &role, &role_given, &src);

	if (rc)
		return rc;
	if (!role_given)
		return cli_bad_usage("--role viewer|editor|approver|admin is "
				     "needed");
	if (optind != argc - 1)
		return cli_bad_usage("expected one NAME");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = source_password(&src, &password, &err);
	if (!rc)
		rc = user_add(db, argv[optind], role, password, &err);
	if (!rc)
		report(cli, argv[optind], user_role_name(role), "added",
		       src.generate ? password : NULL);
	wipe(password);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_passwd(struct cli *cli, int argc, char **argv)
{
	struct password_source src = {0};
	struct error err = ERROR_INIT;
	enum user_role role;
	char *password = NULL;
	struct db *db;
	bool role_given;
	int rc = password_options(argc, argv, false, &role, &role_given, &src);

	if (rc)
		return rc;
	if (optind != argc - 1)
		return cli_bad_usage("expected one NAME");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = source_password(&src, &password, &err);
	if (!rc)
		rc = user_set_password(db, argv[optind], password, &err);
	if (!rc)
		report(cli, argv[optind], NULL, "changed",
		       src.generate ? password : NULL);
	wipe(password);
	return rc ? cli_fail(rc, &err) : 0;
}

static int add_row(const struct user_info *u, void *arg)
{
	struct table *t = arg;
	char when[24];

	table_row(t);
	table_text(t, u->name);
	table_text(t, user_role_name(u->role));
	table_text(t, u->disabled ? "disabled" : "enabled");
	clock_format_utc(u->created_at, when, sizeof(when));
	table_text(t, when);
	if (u->last_login_at) {
		clock_format_utc(u->last_login_at, when, sizeof(when));
		table_text(t, when);
	} else {
		table_null(t);
	}
	return 0;
}

static int run_list(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {"name", "role", "state",
					      "created_utc", "last_login_utc"};
	struct error err = ERROR_INIT;
	struct table *t;
	struct db *db;
	int rc;

	if (cli_no_options(argc, argv))
		return EX_USAGE;
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	t = table_new(sizeof(headers) / sizeof(headers[0]), headers);
	rc = user_each(db, add_row, t, &err);
	return cli_print_listing(cli, t, rc, &err);
}

/* The account before a change, to say what the change did. */
static int before(struct cli *cli, const char *name, struct db **db,
		  struct user_info *u, struct error *err)
{
	int rc = cli_db(cli, db, err);

	return rc ? rc : user_find(*db, name, u, err);
}

static int run_role(struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct user_info u = {0};
	enum user_role role;
	struct db *db;
	int rc;

	if (cli_no_options(argc, argv))
		return EX_USAGE;
	if (optind != argc - 2)
		return cli_bad_usage("expected NAME and ROLE");
	if (user_role_parse(argv[optind + 1], &role, &err))
		return cli_bad_usage("%s", err.msg);
	rc = before(cli, argv[optind], &db, &u, &err);
	if (!rc)
		rc = user_set_role(db, argv[optind], role, &err);
	if (!rc && u.role == role)
		printf("user '%s' is already %s %s\n", u.name,
		       role == USER_ADMIN || role == USER_APPROVER ? "an" : "a",
		       user_role_name(role));
	else if (!rc)
		printf("user '%s': role %s -> %s\n", u.name,
		       user_role_name(u.role), user_role_name(role));
	user_info_release(&u);
	return rc ? cli_fail(rc, &err) : 0;
}

static int set_disabled(struct cli *cli, int argc, char **argv,
			bool disabled)
{
	struct error err = ERROR_INIT;
	struct user_info u = {0};
	struct db *db;
	int rc;

	if (cli_no_options(argc, argv))
		return EX_USAGE;
	if (optind != argc - 1)
		return cli_bad_usage("expected one NAME");
	rc = before(cli, argv[optind], &db, &u, &err);
	if (!rc)
		rc = user_set_disabled(db, argv[optind], disabled, &err);
	if (!rc && u.disabled == disabled)
		printf("user '%s' is already %s\n", u.name,
		       disabled ? "disabled" : "enabled");
	else if (!rc)
		printf("user '%s' %s%s\n", u.name,
		       disabled ? "disabled" : "enabled",
		       disabled ? "; its console sessions are ended" : "");
	user_info_release(&u);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_disable(struct cli *cli, int argc, char **argv)
{
	return set_disabled(cli, argc, argv, true);
}

static int run_enable(struct cli *cli, int argc, char **argv)
{
	return set_disabled(cli, argc, argv, false);
}

#define PASSWORD_HELP                                                        \
	"  --password-file FILE  the first line of FILE (yours, mode 600), "  \
	"or - for standard input\n"                                           \
	"  --generate            make a 20-character password and print it " \
	"once"

static const struct cli_command user_cmds[] = {
	{"add", run_add,
	 "NAME --role ROLE (--password-file FILE | --generate)",
	 "create a console account (roles: viewer, editor, approver, admin)",
	 "  --role ROLE           viewer, editor, approver or admin\n"
	 PASSWORD_HELP},
	{"list", run_list, "", "every account: role, state, last login", NULL},
	{"passwd", run_passwd, "NAME (--password-file FILE | --generate)",
	 "set a new password", PASSWORD_HELP},
	{"role", run_role, "NAME ROLE", "change an account's role", NULL},
	{"disable", run_disable, "NAME",
	 "refuse the account's logins and end its sessions", NULL},
	{"enable", run_enable, "NAME", "allow a disabled account again", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_user(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "user", user_cmds, argc - 1, argv + 1);
}
