/* chancery template: add, list, show and preview statement templates. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/anniversary.h"
#include "chancery/clock.h"
#include "chancery/message.h"
#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "commands.h"

/* --lang L: a BCP 47 tag, canonical; caller frees. */
static int parse_lang(const char *s, char **out)
{
	struct error err = ERROR_INIT;

	if (template_lang_canonical(s, out, &err))
		return cli_bad_usage("--lang: %s", err.msg);
	return 0;
}

static int run_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"lang", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct template_info info;
	char *lang = NULL;
	bool unchanged;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "l:", opts)) != -1) {
		if (c != 'l')
			return EX_USAGE;
		free(lang);
		if ((rc = parse_lang(optarg, &lang)))
			return rc;
	}
	if (optind + 2 != argc) {
		free(lang);
		return cli_bad_usage("expected NAME FILE");
	}
	if ((rc = cli_open_db(cli, &db))) {
		free(lang);
		return rc;
	}
	/* loaded by cli_open_db: message.max_size bounds the template */
	rc = template_add_lang(db, argv[optind], argv[optind + 1], lang,
			       template_max_size(cli_config(cli, &err)), &info,
			       &unchanged, &err);
	free(lang);
	if (rc)
		return cli_fail(rc, &err);
	if (unchanged)
		printf("template %s unchanged: version %d has the same content "
		       "(sha256 %s); no new version\n", info.name,
		       info.version, info.sha256);
	else
		/* "languages" only once there are variants: the output
		 * of a template without any stays as it was */
		printf("added template %s version %d (sha256 %s, %d partials, "
		       "%d attachments%s%s)\n", info.name, info.version,
		       info.sha256, info.npartials, info.nattachments,
		       info.langs ? ", languages: default, " : "",
		       info.langs ? info.langs : "");
	template_info_release(&info);
	return 0;
}

static int add_row(const struct template_info *info, void *arg)
{
	struct table *t = arg;
	char when[32];

	clock_format_utc(info->created_at, when, sizeof(when));
	table_row(t);
	table_text(t, info->name);
	table_int(t, info->version);
	table_text(t, info->locked ? "yes" : "no");
	table_text(t, info->sha256);
	table_int(t, info->npartials);
	table_int(t, info->nattachments);
	table_text(t, info->langs ? info->langs : "");
	table_text(t, when);
	return 0;
}

static int run_list(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {"name", "version", "locked",
					      "sha256", "partials",
					      "attachments", "languages",
					      "added"};
	struct error err = ERROR_INIT;
	struct table *t;
	struct db *db;
	int rc;

	if (argc > 2)
		return cli_bad_usage("unexpected argument '%s'", argv[2]);
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	t = table_new(8, headers);
	rc = template_each(db, argc == 2 ? argv[1] : NULL, add_row, t, &err);
	return cli_print_listing(cli, t, rc, &err);
}

/* --version N: a positive version number. */
static int parse_version(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 1 || v > 1000000)
		return cli_bad_usage("--version wants a positive number, not "
				     "'%s'", s);
	*out = (int)v;
	return 0;
}

static int run_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"version", required_argument, NULL, 'v'},
		{"lang", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct template_info info = {0};
	char *source = NULL, *lang = NULL;
	struct db *db;
	int c, rc, version = 0;

	while ((c = cli_getopt(argc, argv, "v:l:", opts)) != -1) {
		if (c == 'v')
			rc = parse_version(optarg, &version);
		else if (c == 'l')
			rc = (free(lang), parse_lang(optarg, &lang));
		else
			rc = EX_USAGE;
		if (rc)
			goto out;
	}
	rc = optind + 1 != argc ? cli_bad_usage("expected one NAME")
				: cli_open_db_readonly(cli, &db);
	if (rc)
		goto out;
	rc = template_find(db, argv[optind], version, &info, &err);
	if (!rc && (rc = template_variant_source(db, info.id, lang, &source,
						 &err)) == ERR_NOTFOUND)
		rc = error_set(&err, ERR_NOTFOUND, "template %s version %d has "
			       "no '%s' variant (it has: default%s%s)",
			       info.name, info.version, lang,
			       info.langs ? ", " : "",
			       info.langs ? info.langs : "");
	if (rc) {
		rc = cli_fail(rc, &err);
		goto out;
	}
	printf("# template %s version %d%s\n# sha256 %s\n# from %s\n"
	       "# languages: default%s%s\n# variant: %s\n",
	       info.name, info.version, info.locked ? " (locked)" : "",
	       info.sha256, info.origin ? info.origin : "-",
	       info.langs ? ", " : "", info.langs ? info.langs : "",
	       lang ? lang : "default");
	fputs(source, stdout);
out:
	free(source);
	free(lang);
	template_info_release(&info);
	return rc;
}

struct first_contact {
	const char *email; /* wanted one, or NULL for the first */
	struct registry_contact *out;
	bool found;
};

static int pick_contact(const struct registry_contact *c, void *arg)
{
	struct first_contact *fc = arg;

	if (fc->email && strcasecmp(fc->email, c->email) != 0)
		return 0;
	fc->out->id = c->id;
	fc->out->body_id = c->body_id;
	fc->out->email = xstrdup(c->email);
	fc->out->name = xstrdup(c->name);
	fc->out->role = xstrdup(c->role);
	fc->out->language = xstrdup(c->language);
	fc->out->status = c->status;
	fc->found = true;
	return 1;
}

/* --at: "YYYY-MM-DDTHH:MM:SSZ", or a day "YYYY-MM-DD" (taken at noon UTC
 * so that it is the same day in every zone a statement is sent from). */
static int parse_at(const char *s, int64_t *out)
{
	int y, m, d;

	if (clock_parse_utc(s, out) == 0)
		return 0;
	if (anniversary_parse_date(s, &y, &m, &d) == 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT12:00:00Z", y, m, d);
		return clock_parse_utc(buf, out) == 0 ? 0 : -1;
	}
	return -1;
}

struct render_args {
	const char *name, *body, *contact, *event_date, *campaign;
	char *lang; /* --lang, canonical, or NULL: chosen as a campaign would */
	int version;
	int64_t at;
};

/*
 * A body with no contact yet (right after "init --seed") can still be
 * previewed: the message goes to a placeholder address on the reserved
 * .invalid domain, and stderr says so.
 */
static void placeholder_contact(struct registry_contact *c,
				const struct registry_body *b)
{
	c->body_id = b->id;
	c->email = xstrdup("no-contact-yet@example.invalid");
	c->status = CONTACT_ACTIVE;
	fprintf(stderr, "chancery template render: body '%s' has no contact "
		"yet; previewing with %s\n", b->acronym ? b->acronym : b->name,
		c->email);
}

static int render_preview(struct cli *cli, const struct render_args *a)
{
	struct registry_body body = {0};
	struct registry_contact contact = {0};
	struct first_contact fc = {a->contact, &contact, false};
	struct render_context ctx = {0};
	struct protocol_forms protocol = {0};
	struct template_info info = {0};
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;
	struct template *t = NULL;
	struct template_choice choice;
	const struct conf *cfg;
	struct db *db;
	int rc;

	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	cfg = cli_config(cli, &err);
	if (!cfg)
		return cli_fail(err.code, &err);
	rc = template_find(db, a->name, a->version, &info, &err);
	if (!rc)
		rc = registry_body_find(db, a->body, &body, &err);
	if (!rc) {
		rc = registry_contact_each(db, body.id, pick_contact, &fc,
					   &err);
		if (rc == 1)
			rc = 0;
		if (!rc && !fc.found && a->contact)
			rc = error_set(&err, ERR_NOTFOUND,
				       "body '%s' has no contact '%s'", a->body,
				       a->contact);
		else if (!rc && !fc.found)
			placeholder_contact(&contact, &body);
	}
	if (!rc)
		rc = protocol_forms_load(db, &body, contact.id, &protocol,
					 &err);
	if (rc)
		goto out;
	ctx.protocol = &protocol;
	ctx.cfg = cfg;
	ctx.body = &body;
	ctx.contact = &contact;
	ctx.campaign_name = a->campaign ? a->campaign : "preview";
	ctx.send_at = a->at ? a->at : clock_now();
	ctx.tz = cfg->timezone;
	ctx.event_date = a->event_date;
	if ((rc = template_load(db, info.id, &t, &err)))
		goto out;
	if (a->lang) {
		choice.variant = template_variant(t, a->lang);
		choice.lang = a->lang;
		if (!choice.variant && strcasecmp(a->lang,
				cfg->language.default_lang) == 0) {
			choice.variant = t; /* the default's own language */
			choice.lang = NULL;
		}
		if (!choice.variant) {
			rc = error_set(&err, ERR_NOTFOUND, "template %s version "
				       "%d has no '%s' variant (it has: "
				       "default%s%s)", info.name, info.version,
				       a->lang, info.langs ? ", " : "",
				       info.langs ? info.langs : "");
			goto out;
		}
	} else {
		struct template_wanted w = {contact.language, body.language,
					    cfg->language.campaign};

		template_choose(t, &w, cfg->language.default_lang,
				cfg->language.fallback, &choice);
	}
	ctx.lang = choice.lang;
	rc = message_compose(choice.variant, &ctx, &out, &err);
	if (!rc)
		fwrite(out.buf, 1, out.len, stdout);
out:
	template_free(t);
	sbuf_release(&out);
	template_info_release(&info);
	registry_body_release(&body);
	registry_contact_release(&contact);
	protocol_forms_release(&protocol);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_render(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"body", required_argument, NULL, 'b'},
		{"contact", required_argument, NULL, 'c'},
		{"event-date", required_argument, NULL, 'e'},
		{"at", required_argument, NULL, 'a'},
		{"campaign", required_argument, NULL, 'C'},
		{"version", required_argument, NULL, 'v'},
		{"lang", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct render_args a = {0};
	int c, rc, y, m, d;

	while ((c = cli_getopt(argc, argv, "b:c:e:a:C:v:l:", opts)) != -1) {
		switch (c) {
		case 'l':
			free(a.lang);
			if ((rc = parse_lang(optarg, &a.lang)))
				return rc;
			break;
		case 'b': a.body = optarg; break;
		case 'c': a.contact = optarg; break;
		case 'C': a.campaign = optarg; break;
		case 'e':
			if (anniversary_parse_date(optarg, &y, &m, &d))
				return cli_bad_usage("--event-date wants a "
						     "date YYYY-MM-DD, not "
						     "'%s'", optarg);
			a.event_date = optarg;
			break;
		case 'a':
			if (parse_at(optarg, &a.at))
				return cli_bad_usage("--at wants YYYY-MM-DD or "
						     "YYYY-MM-DDTHH:MM:SSZ, "
						     "not '%s'", optarg);
			break;
		case 'v':
			if ((rc = parse_version(optarg, &a.version)))
				return rc;
			break;
		default:
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one NAME");
	if (!a.body)
		return cli_bad_usage("--body is required");
	a.name = argv[optind];
	rc = render_preview(cli, &a);
	free(a.lang);
	return rc;
}

static const struct cli_command template_cmds[] = {
	{"add", run_add, "NAME FILE [--lang L]",
	 "check FILE and store it as the next version of NAME",
	 "Partials {{> p}} are read from p.partial beside FILE; Attach: "
	 "paths are relative to FILE.\n"
	 "--lang L  FILE is the variant in language L (BCP 47: fr, fr-CA); "
	 "the new version keeps every other variant"},
	{"list", run_list, "[NAME]", "list the stored versions", NULL},
	{"show", run_show, "NAME [--version N] [--lang L]",
	 "print a version's source (default: the latest; --lang: that "
	 "variant's)", NULL},
	{"render", run_render,
	 "NAME --body BODY [--contact EMAIL] [--event-date YYYY-MM-DD] "
	 "[--at DATE] [--campaign C] [--version N] [--lang L]",
	 "print the message one contact of BODY would receive",
	 "--contact EMAIL  that contact (default: the body's first)\n"
	 "--event-date D   the event an anniversary statement marks\n"
	 "--at DATE        the send date (YYYY-MM-DD or ISO UTC; default now)\n"
	 "--campaign C     the campaign name the template sees\n"
	 "--lang L         the variant in L (default: the contact's, as a "
	 "campaign chooses)"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_template(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "template", template_cmds, argc - 1, argv + 1);
}
