/* chancery config: check or show the effective configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/imap.h"
#include "chancery/json.h"
#include "chancery/transport.h"
#include "chancery/xalloc.h"
#include "commands.h"

static int run_check(struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	const struct conf *cfg;

	if (argc > 1)
		return cli_bad_usage("unexpected argument '%s'", argv[1]);
	cfg = cli_config(cli, &err);
	if (!cfg)
		return cli_fail(err.code, &err);
	/* What chanceryd would refuse to start or reload with. */
	if (transport_check_config(cfg, &err) || imap_check_config(cfg, &err))
		return cli_fail(err.code, &err);
	if (cfg->path)
		printf("%s: ok\n", cfg->path);
	else
		printf("(built-in defaults; no %s): ok\n", conf_system_path());
	return 0;
}

/* The configuration's "group.sub.key" = value pairs, in table order. */
struct pairs {
	char **keys, **values;
	size_t n, alloc, valloc;
};

static void add_pair(const char *key, const char *value, bool quoted,
		     void *arg)
{
	struct pairs *p = arg;

	(void)quoted;
	xgrow(&p->keys, sizeof(*p->keys), p->n + 1, &p->alloc);
	xgrow(&p->values, sizeof(*p->values), p->n + 1, &p->valloc);
	p->keys[p->n] = xstrdup(key);
	p->values[p->n] = value ? xstrdup(value) : NULL;
	p->n++;
}

/*
 * The pairs under prefix (of length plen, "" or "group.") as one JSON
 * object: a key with a dot opens the object of its group, once, where
 * the group's first key stands. So the keys are the file's names
 * (snake_case), nested as the file nests them.
 */
static void emit_group(const struct pairs *p, const char *prefix, size_t plen,
		       struct json *js)
{
	json_object_begin(js);
	for (size_t i = 0; i < p->n; i++) {
		const char *rest = p->keys[i] + plen, *dot;
		bool seen = false;

		if (strncmp(p->keys[i], prefix, plen) != 0)
			continue;
		dot = strchr(rest, '.');
		if (!dot) {
			json_kv_string(js, rest, p->values[i]);
			continue;
		}
		/* a group: only at its first key */
		for (size_t j = 0; j < i && !seen; j++)
			seen = strncmp(p->keys[j], p->keys[i],
				       (size_t)(dot - p->keys[i]) + 1) == 0;
		if (!seen) {
			char *sub = xstrndup(p->keys[i],
					     (size_t)(dot - p->keys[i]) + 1);
			char *name = xstrndup(rest, (size_t)(dot - rest));

			json_key(js, name);
			emit_group(p, sub, strlen(sub), js);
			free(name);
			free(sub);
		}
	}
	json_object_end(js);
}

static int run_show(struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;
	const struct conf *cfg;

	if (argc > 1)
		return cli_bad_usage("unexpected argument '%s'", argv[1]);
	cfg = cli_config(cli, &err);
	if (!cfg)
		return cli_fail(err.code, &err);
	if (cli->json) {
		struct json js;

		struct pairs p = {0};

		conf_each(cfg, add_pair, &p);
		json_init(&js, &out, true);
		emit_group(&p, "", 0, &js);
		cli_print_json(&out);
		for (size_t i = 0; i < p.n; i++) {
			free(p.keys[i]);
			free(p.values[i]);
		}
		free(p.keys);
		free(p.values);
	} else {
		conf_dump(cfg, &out);
		fwrite(out.buf, 1, out.len, stdout);
	}
	sbuf_release(&out);
	return 0;
}

static const struct cli_command config_cmds[] = {
	{"check", run_check, "", "load the configuration and report errors", NULL},
	{"show", run_show, "", "print every key with its effective value "
			       "(passwords hidden)", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_config(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "config", config_cmds, argc - 1, argv + 1);
}
