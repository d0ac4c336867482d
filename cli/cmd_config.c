/* chancery config: check or show the effective configuration. */
#include <stdio.h>

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
	printf("%s: ok\n", cfg->path ? cfg->path : "(built-in defaults)");
	return 0;
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
	conf_dump(cfg, &out);
	fwrite(out.buf, 1, out.len, stdout);
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
