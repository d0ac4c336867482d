/*
 * chancery registry: build the registry from a statement's addressee
 * paragraph, and move it in and out as CSV.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/addressee.h"
#include "chancery/addressee_plan.h"
#include "chancery/addressee_rule.h"
#include "chancery/import.h"
#include "chancery/json.h"
#include "chancery/locale_names.h"
#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "commands.h"

/* A statement may be a whole report pasted in, page debris and all: the
 * parser is linear, so the bound is only against a mistaken file. */
#define MAX_STATEMENT (32u << 20)

static void plan_table(struct cli *cli, const struct addressee_plan *p)
{
	static const char *const cols[] = {"n", "written", "acronym", "phrase",
					   "resolution", "target", "confidence",
					   "evidence"};
	struct table *t = table_new(8, cols);

	for (size_t i = 0; i < p->list.count; i++) {
		const struct addressee *a = &p->list.items[i];
		const struct addressee_match *m = &p->matches[i];

		table_row(t);
		table_int(t, (long long)i + 1);
		table_text(t, a->written);
		table_text(t, a->acronym);
		table_text(t, a->phrase);
		table_text(t, addressee_plan_resolution_name(m->res));
		if (m->role) {
			char *with = xasprintf("%s (the %s)", m->target,
					       m->role);

			table_text(t, with);
			free(with);
		} else {
			table_text(t, m->target);
		}
		table_text(t, addressee_plan_confidence_name(m->confidence));
		table_text(t, m->evidence);
	}
	cli_print_table(cli, t);
}

static int run_import_statement(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"list", required_argument, NULL, 'l'},
		{"apply", no_argument, NULL, 'a'},
		{"accept", required_argument, NULL, 'A'},
		{"paragraph", required_argument, NULL, 'p'},
		{"from", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct sbuf text = SBUF_INIT;
	struct addressee_plan plan = {0};
	struct addressee_apply_stats st = {0};
	const char *list = NULL, *file, *accept = NULL, *from = NULL;
	const char *name;
	unsigned long paragraph = 0;
	size_t start = 0;
	struct db *db;
	bool apply = false;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "l:aA:p:f:", opts)) != -1) {
		char *end;

		if (c == 'l') {
			list = optarg;
		} else if (c == 'A') {
			accept = optarg;
		} else if (c == 'a') {
			apply = true;
		} else if (c == 'f') {
			from = optarg;
		} else if (c == 'p') {
			paragraph = strtoul(optarg, &end, 10);
			if (end == optarg || *end || paragraph < 1 ||
			    optarg[0] == '-')
				return cli_bad_usage("--paragraph wants a "
						     "number from 1, not '%s'",
						     optarg);
		} else {
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage(optind == argc ? "FILE is missing"
						    : "one FILE only");
	if (paragraph && from)
		return cli_bad_usage("--paragraph and --from both point at the "
				     "passage: give one");
	file = argv[optind];
	name = strcmp(file, "-") == 0 ? "standard input" : file;
	rc = sbuf_read_file(&text, file, MAX_STATEMENT, &err);
	if (rc == 0 && paragraph)
		rc = addressee_locate_paragraph(text.buf, text.len, paragraph,
						&start, &err);
	else if (rc == 0 && from)
		rc = addressee_locate_text(text.buf, text.len, from, &start,
					   &err);
	if (rc) {
		error_prefix(&err, "%s", name);
		goto out;
	}
	rc = cli_db(cli, &db, &err);
	if (rc == 0) {
		rc = paragraph || from
			     ? addressee_plan_build_at(db, text.buf, text.len,
						       start, &plan, &err)
			     : addressee_plan_build(db, text.buf, text.len,
						    &plan, &err);
		if (rc)
			error_prefix(&err, "%s", name);
	}
	if (rc)
		goto out;
	plan_table(cli, &plan);
	for (size_t i = 0; i < plan.list.count; i++)
		if (plan.list.items[i].warning)
			fprintf(stderr, "warning: addressee %zu (%s): %s\n",
				i + 1, plan.list.items[i].written,
				plan.list.items[i].warning);
	/* a passage of one sentence is the usual case and says nothing new,
	 * unless a person pointed at it */
	if (!cli->json && (plan.list.passage.sentences > 1 || paragraph ||
			   from))
		printf("(read lines %zu-%zu of %s: %zu sentence%s)\n",
		       plan.list.passage.first_line,
		       plan.list.passage.last_line, name,
		       plan.list.passage.sentences,
		       plan.list.passage.sentences > 1
			       ? "s continue the list"
			       : " from the place pointed at");
	if (!apply) {
		if (!cli->json)
			printf("(plan only: nothing changed; --apply "
			       "carries it out)\n");
		goto out;
	}
	for (const char *p = accept; p && *p;) {
		char *end;
		unsigned long n = strtoul(p, &end, 10);

		if (end == p || n < 1 || n > plan.list.count ||
		    (*end && *end != ',')) {
			rc = error_set(&err, ERR_USAGE,
				       "--accept wants row numbers 1-%zu "
				       "separated by commas, not '%s'",
				       plan.list.count, accept);
			goto out;
		}
		plan.matches[n - 1].accepted = true;
		p = *end ? end + 1 : end;
	}
	rc = addressee_plan_apply(db, &plan, list, &st, &err);
	if (rc) {
		error_prefix(&err, "%s", name);
		goto out;
	}
	fprintf(cli->json ? stderr : stdout,
		"applied: %d bodies added, %d aliases added, %d lists "
		"created%s%s", st.bodies_added, st.aliases_added,
		st.lists_created, list ? "; list " : "", list ? list : "");
	if (list)
		fprintf(cli->json ? stderr : stdout,
			" holds exactly these addressees (%d other members "
			"removed)", st.members_removed);
	if (st.guesses_skipped)
		fprintf(cli->json ? stderr : stdout,
			"; %d guessed rows left out (--accept N,M takes them)",
			st.guesses_skipped);
	fputc('\n', cli->json ? stderr : stdout);
out:
	addressee_plan_release(&plan);
	sbuf_release(&text);
	return rc ? cli_fail(rc, &err) : 0;
}

/* The plan as text: every item, then one line of counts. */
static void print_plan(const struct import_plan *plan, const char *file,
		       bool dry_run)
{
	const struct import_stats *st = &plan->stats;
	struct sbuf line = SBUF_INIT;

	for (size_t i = 0; i < plan->count; i++) {
		sbuf_reset(&line);
		import_item_format(&plan->items[i], &line);
		puts(line.buf);
	}
	sbuf_release(&line);
	printf("%s: %d rows; %d bodies added, %d changed; %d aliases added; "
	       "%d contacts added, %d changed; %d unchanged; %d kept",
	       file, st->rows, st->bodies_added, st->bodies_changed,
	       st->aliases_added, st->contacts_added, st->contacts_changed,
	       st->unchanged, st->kept);
	if (st->conflicts)
		printf("; %d conflicts", st->conflicts);
	puts(plan->applied ? "" : dry_run ? " (dry run: nothing changed)"
					  : " (nothing changed)");
}

static int add_rule_row(const struct addressee_rule *r, void *arg)
{
	struct table *t = arg;

	table_row(t);
	table_text(t, r->phrase);
	table_text(t, r->body_id ? "body" : "list");
	table_text(t, r->target);
	return 0;
}

/* registry teach PHRASE BODY|LIST, or --list: the phrase rules. */
static int run_teach(struct cli *cli, int argc, char **argv)
{
	static const char *const cols[] = {"phrase", "names", "target"};
	static const struct option opts[] = {
		{"list", no_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct addressee_rule r = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	bool show = false;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "l", opts)) != -1) {
		if (c == 'l')
			show = true;
		else
			return EX_USAGE;
	}
	if (show && optind != argc)
		return cli_bad_usage("--list takes no PHRASE");
	if (!show && optind + 2 != argc)
		return cli_bad_usage(optind + 1 >= argc
					     ? "PHRASE and BODY|LIST are needed"
					     : "one PHRASE and one BODY|LIST "
					       "only (quote the phrase)");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	if (show) {
		struct table *t = table_new(3, cols);

		rc = addressee_rule_each(db, add_rule_row, t, &err);
		return cli_print_listing(cli, t, rc, &err);
	}
	rc = addressee_rule_teach(db, argv[optind], argv[optind + 1], &r,
				  &err);
	if (rc)
		return cli_fail(rc, &err);
	printf("taught: '%s' names %s %s\n", r.phrase,
	       r.body_id ? "body" : "list", r.target);
	addressee_rule_release(&r);
	return 0;
}

static int run_unteach(struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct db *db;
	int rc;

	if (argc != 2)
		return cli_bad_usage(argc < 2 ? "PHRASE is missing"
					      : "one PHRASE only (quote it)");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = addressee_rule_unteach(db, argv[1], &err);
	if (rc)
		return cli_fail(rc, &err);
	printf("untaught: '%s'\n", argv[1]);
	return 0;
}

static int run_import_csv(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"update", no_argument, NULL, 'u'},
		{"reactivate", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct import_options opt = {.source = "csv", .progress_out = stderr};
	struct error err = ERROR_INIT;
	struct sbuf text = SBUF_INIT, problems = SBUF_INIT;
	struct import_plan plan = {0};
	const char *file;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "nur", opts)) != -1) {
		if (c == 'n')
			opt.dry_run = true;
		else if (c == 'u')
			opt.update = true;
		else if (c == 'r')
			opt.reactivate = true;
		else
			return EX_USAGE;
	}
	if (optind + 1 != argc)
		return cli_bad_usage(optind == argc ? "FILE is missing"
						    : "one FILE only");
	file = strcmp(argv[optind], "-") == 0 ? "standard input" : argv[optind];
	/* no size limit: an 80,000-contact export is 6 MB, and the rows are
	 * held in memory for the check before the first write anyway */
	rc = sbuf_read_file(&text, argv[optind], SIZE_MAX, &err);
	if (rc == 0)
		rc = cli_db(cli, &db, &err);
	if (rc == 0)
		rc = import_csv_plan(db, file, text.buf, text.len, &opt, &plan,
				     &problems, &err);
	fputs(problems.buf, stderr);
	/* a plan is shown when there is one: also when a conflict refused it */
	if ((rc == 0 || plan.stats.conflicts) && cli->json) {
		struct sbuf out = SBUF_INIT;
		struct json js;

		json_init(&js, &out, true);
		import_plan_json(&plan, file, &js);
		cli_print_json(&out);
		sbuf_release(&out);
	} else if (rc == 0 || plan.stats.conflicts) {
		print_plan(&plan, file, opt.dry_run);
	}
	import_plan_release(&plan);
	sbuf_release(&text);
	sbuf_release(&problems);
	return rc ? cli_fail(rc, &err) : 0;
}

/*
 * Writes data to path whole or not at all: into a new file beside it
 * (mode 0600: the registry names people and their addresses, so it is
 * personal data; the owner can share it on purpose), synced, then linked
 * to path, which fails when path exists, or renamed over it with force.
 */
static int write_new_file(const char *path, const struct sbuf *data,
			  bool force, struct error *err)
{
	struct sbuf tmp = SBUF_INIT;
	int fd, rc = 0;

	sbuf_addf(&tmp, "%s.XXXXXX", path);
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot create",
				     path);
		goto out;
	}
	if (write(fd, data->buf, data->len) != (ssize_t)data->len ||
	    fsync(fd) != 0)
		rc = error_set_errno(err, ERR_IO, "%s: cannot write", path);
	if (close(fd) != 0 && rc == 0)
		rc = error_set_errno(err, ERR_IO, "%s: cannot write", path);
	if (rc == 0 && !force && link(tmp.buf, path) != 0)
		rc = errno == EEXIST
			     ? error_set(err, ERR_CANTCREAT,
					 "%s: already exists (--force "
					 "replaces it)", path)
			     : error_set_errno(err, ERR_CANTCREAT,
					       "%s: cannot create", path);
	if (rc == 0 && force && rename(tmp.buf, path) != 0)
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot replace",
				     path);
	if (rc || !force)
		unlink(tmp.buf);
out:
	sbuf_release(&tmp);
	return rc;
}

/* The --separator argument: ',', ';' or "tab". */
static int parse_separator(const char *arg, char *sep)
{
	if (strcmp(arg, ",") == 0 || strcmp(arg, ";") == 0)
		*sep = arg[0];
	else if (strcmp(arg, "tab") == 0 || strcmp(arg, "\t") == 0)
		*sep = '\t';
	else
		return cli_bad_usage("--separator wants ',', ';' or 'tab', not "
				     "'%s'", arg);
	return 0;
}

static int run_export_csv(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{"excel", no_argument, NULL, 'x'},
		{"separator", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct csv_dialect d = csv_rfc4180;
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;
	const char *output = NULL;
	bool force = false, excel = false;
	char sep = 0;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "o:fxs:", opts)) != -1) {
		if (c == 'o')
			output = optarg;
		else if (c == 'f')
			force = true;
		else if (c == 'x')
			excel = true;
		else if (c != 's' || parse_separator(optarg, &sep))
			return EX_USAGE;
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if (force && !output)
		return cli_bad_usage("--force applies to --output FILE only");
	if (excel) {
		d.bom = true;
		d.sep = locale_list_separator();
	}
	if (sep)
		d.sep = sep;
	rc = cli_db_readonly(cli, &db, &err);
	if (rc == 0)
		rc = import_export_csv_dialect(db, &d, &out, &err);
	if (rc == 0 && output)
		rc = write_new_file(output, &out, force, &err);
	else if (rc == 0 && (fwrite(out.buf, 1, out.len, stdout) != out.len ||
			     fflush(stdout)))
		rc = error_set_errno(&err, ERR_IO, "writing the export");
	sbuf_release(&out);
	return rc ? cli_fail(rc, &err) : 0;
}

/* ---- protocol: salutation defaults by body kind (issue 21) ---- */

static int print_default(const char *kind, const char *lang,
			 const char *text, void *arg)
{
	(void)arg;
	printf("%-16s %-6s %s\n", kind, lang, text);
	return 0;
}

/* protocol [KIND [--salutation TEXT] [--lang L]]: shows or sets the
 * salutation a contact without its own gets, by its body's kind. */
static int run_protocol(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"salutation", required_argument, NULL, 'S'},
		{"lang", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	const char *salutation = NULL, *lang = NULL, *kind = NULL;
	struct error err = ERROR_INIT;
	struct db *db;
	bool changed = false;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "S:L:", opts)) != -1) {
		switch (c) {
		case 'S': salutation = optarg; break;
		case 'L': lang = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 1 < argc)
		return cli_bad_usage("expected at most one KIND");
	kind = optind < argc ? argv[optind] : NULL;
	if (salutation && !kind)
		return cli_bad_usage("--salutation needs a KIND");
	if (lang && !salutation)
		return cli_bad_usage("--lang is the language of --salutation");
	if (kind && !registry_kind_valid(kind))
		return cli_fail(error_set(&err, ERR_DATA, "unknown body kind "
					  "'%s'", kind), &err);
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	if (salutation) {
		rc = protocol_default_set(db, kind, lang, salutation,
					  &changed, &err);
		if (!rc)
			printf("%s: %s\n", kind, changed ? "changed"
				: "nothing changed");
	} else {
		rc = protocol_default_each(db, kind, print_default, NULL,
					   &err);
	}
	return rc ? cli_fail(rc, &err) : 0;
}

static const struct cli_command registry_cmds[] = {
	{"protocol", run_protocol, "[KIND [--salutation TEXT [--lang L]]]",
	 "show or set the salutation by body kind, per language",
	 "A contact without a salutation of its own in a message's language\n"
	 "gets its body kind's (else a neutral greeting: \"Dear Sir or "
	 "Madam\").\n"
	 "--salutation TEXT  set KIND's salutation (\"\" removes it)\n"
	 "--lang L           its language (default: en)\n"},
	{"import-statement", run_import_statement,
	 "FILE|- [--paragraph N | --from TEXT] [--list NAME] "
	 "[--apply [--accept N,M]]",
	 "read a statement's addressee paragraph and resolve it",
	 "--paragraph N  the passage starts at the Nth paragraph (1-based,\n"
	 "               blank-line separated)\n"
	 "--from TEXT    the passage starts where TEXT first occurs\n"
	 "--list NAME    create the static list NAME, or refresh it, to hold "
	 "exactly\n               these addressees\n"
	 "--apply        add new bodies, aliases and lists (without it: only "
	 "print\n               the plan)\n"
	 "--accept N,M   with --apply, also carry out these guessed (low) "
	 "rows\n"
	 "FILE - reads standard input.\n"},
	{"teach", run_teach, "PHRASE BODY|LIST | --list",
	 "resolve PHRASE to that body or list in every later import-statement",
	 "BODY is an acronym, name, alias or #ID; a LIST is taken when no\n"
	 "body has the name (list:NAME names the list outright).\n"
	 "--list  show the phrases taught\n"},
	{"unteach", run_unteach, "PHRASE", "forget a phrase taught", NULL},
	{"import-csv", run_import_csv,
	 "FILE [--dry-run] [--update] [--reactivate]",
	 "load bodies, aliases and contacts from CSV (all rows or none)",
	 "--dry-run     print the plan, change nothing\n"
	 "--update      apply names, kinds, countries, notes, roles and\n"
	 "              languages that differ (default: the registry's stay)\n"
	 "--reactivate  let a status move toward more sending (suppressed,\n"
	 "              bouncing, disabled -> active) and add back removed\n"
	 "              contacts the file names\n"
	 "FILE may be - for standard input."},
	{"export-csv", run_export_csv,
	 "[--output FILE [--force]] [--excel] [--separator S]",
	 "write the registry as CSV (the import-csv format)",
	 "--output FILE  write FILE (mode 0600), whole or not at all; an "
	 "existing\n               FILE is refused unless --force\n"
	 "--excel        for a spreadsheet: a byte-order mark, and ';' where "
	 "the\n               locale writes a decimal comma (',' elsewhere)\n"
	 "--separator S  ',' ';' or 'tab', whatever the locale\n"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_registry(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "registry", registry_cmds, argc - 1, argv + 1);
}
