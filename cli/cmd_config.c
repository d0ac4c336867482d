/* chancery config: check or show the effective configuration. */
#include <stdio.h>

#include "chancery/json.h"
#include "chancery/transport.h"
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
	if (transport_check_config(cfg, &err))
		return cli_fail(err.code, &err);
	if (cfg->path)
		printf("%s: ok\n", cfg->path);
	else
		printf("(built-in defaults; no %s): ok\n", conf_system_path());
	return 0;
}

static void add_json_value(const char *key, const char *value, bool quoted,
			   void *arg)
{
	(void)quoted;
	json_kv_string(arg, key, value);
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

		json_init(&js, &out, true);
		json_object_begin(&js);
		conf_each(cfg, add_json_value, &js);
		json_object_end(&js);
		cli_print_json(&out);
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
