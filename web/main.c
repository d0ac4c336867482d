/*
 * chancery-web: the office's console. Parses the options, reads the
 * configuration and opens the database as the CLI does, then serves
 * (web/server.c) until SIGTERM.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "chancery/log.h"
#include "pages.h"

/* A certificate or key is a few kilobytes; a chain a few more. */
#define WEB_PEM_MAX (1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: chancery-web [--config FILE] [--listen ADDR:PORT] "
		"[--insecure-cookie]\n"
		"                    [--tls-cert FILE --tls-key FILE]\n\n"
		"The office's web console over the chancery database.\n\n"
		"  --config FILE       the configuration (default: "
		"$CHANCERY_CONFIG or %s)\n"
		"  --listen ADDR:PORT  where to listen (default "
		"127.0.0.1:8025; port 0: any free one)\n"
		"  --tls-cert FILE     serve HTTPS with this PEM certificate "
		"(chain)\n"
		"  --tls-key FILE      ... and this PEM key (mode 0600)\n"
		"  --insecure-cookie   no Secure flag on the session cookie: "
		"only for plain\n"
		"                      HTTP on loopback (tests, a first "
		"look)\n"
		"  --help, --version\n\n"
		"Accounts: chancery user add NAME --role "
		"viewer|editor|approver|admin\n",
		conf_default_path() ? conf_default_path() : "(none)");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"insecure-cookie", no_argument, NULL, 'i'},
		{"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct conf cfg;
	struct error err = ERROR_INIT;
	struct web_ctx ctx = {0};
	struct web_listen listen = {"127.0.0.1:8025", NULL, NULL};
	struct sbuf cert = SBUF_INIT, key = SBUF_INIT;
	const char *config = NULL, *cert_path = NULL, *key_path = NULL;
	bool insecure = false;
	struct db *db = NULL;
	int c, rc = 0;

	setlocale(LC_ALL, "C.UTF-8");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'l': listen.address = optarg; break;
		case 'i': insecure = true; break;
		case 'C': cert_path = optarg; break;
		case 'K': key_path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("chancery-web %s\n", CHANCERY_VERSION);
			return 0;
		default:
			fprintf(stderr, "chancery-web: unknown option or "
				"missing value in '%s' (see 'chancery-web "
				"--help')\n", argv[optind - 1]);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "chancery-web: unexpected argument '%s' (see "
			"'chancery-web --help')\n", argv[optind]);
		return EX_USAGE;
	}
	if (!cert_path != !key_path) {
		fprintf(stderr, "chancery-web: --tls-cert and --tls-key go "
			"together\n");
		return EX_USAGE;
	}
	conf_init(&cfg);
	if (!config)
		config = conf_default_path();
	if (config && (rc = conf_load(&cfg, config, &err)))
		goto out;
	log_open("chancery-web", cfg.log_target, cfg.log_level);
	if (cert_path &&
	    ((rc = sbuf_read_file(&cert, cert_path, WEB_PEM_MAX, &err)) ||
	     (rc = sbuf_read_file(&key, key_path, WEB_PEM_MAX, &err))))
		goto out;
	if (cert_path) {
		listen.tls_cert = cert.buf;
		listen.tls_key = key.buf;
	}
	if ((rc = db_open(cfg.database, 0, (int)cfg.busy_timeout_ms, &db,
			  &err)))
		goto out;
	ctx.db = db;
	ctx.cfg = &cfg;
	ctx.conf_path = config;
	ctx.secure_cookie = !insecure;
	if (insecure)
		log_warn("web: --insecure-cookie: the session cookie goes "
			 "over plain HTTP; use it on loopback only");
	rc = web_serve(&ctx, &listen, &err);
out:
	if (rc)
		fprintf(stderr, "chancery-web: %s\n",
			err.msg[0] ? err.msg : "failed");
	db_close(db);
	/* the key's bytes are not left in freed memory */
	if (key.len)
		memset(key.buf, 0, key.len);
	sbuf_release(&key);
	sbuf_release(&cert);
	conf_release(&cfg);
	return rc ? error_exit_status(rc) : 0;
}
