/*
 * render_bench N [LANG [SHAPE]]: N deliveries rendered as a campaign
 * renders them (delivery context and protocol forms loaded from the
 * database, the message composed), in LANG (the template variant's
 * language). SHAPE "mixed" (the default): every line personalised;
 * "fixed": bench/daemon_run's statement, a greeting then 2.8 KB of fixed
 * paragraphs (and the same as HTML), as most statements are. With
 * RENDER_BENCH_SENDER set, the campaign has that sender override. For
 * instruction counts, robust on a shared machine:
 *
 *   valgrind --tool=callgrind ./render_bench 200 fr
 *   valgrind --tool=callgrind ./render_bench 1200 fr
 *
 * and (total(1200) - total(200)) / 1000 is the cost of one message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "chancery/db.h"
#include "chancery/conf.h"
#include "chancery/message.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "campaign_impl.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	const char *lang = argc > 2 && strcmp(argv[2], "-") ? argv[2] : NULL;
	const char *shape = argc > 3 ? argv[3] : "mixed";
	char path[] = "/tmp/render_bench.XXXXXX";
	struct error err = ERROR_INIT;
	struct db *db;
	struct conf cfg;
	struct template *t;
	struct sbuf src = SBUF_INIT, out = SBUF_INIT;
	int64_t body, contact;
	struct campaign_info c = {0};
	int fd = mkstemp(path);

	close(fd); unlink(path);
	if (db_open(path, DB_CREATE, 1000, &db, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
	conf_init(&cfg);
	cfg.sender.name = xstrdup("Ombudsman");
	cfg.sender.address = xstrdup("ombudsman@example.org");
	registry_body_add(db, "OHCHR", "Office of the High Commissioner for Human Rights", "un-agency", NULL, NULL, &body, &err);
	registry_contact_add(db, body, "hc@example.org", "High Commissioner", NULL, NULL, &contact, &err);
	if (strcmp(shape, "fixed") == 0) {
		static const char line[] = "The Commissioner recalls the "
			"obligations of the State party under the Convention.\n";

		sbuf_addstr(&src, "Subject: Statement on the anniversary\n\n"
			    "Dear {{contact.email}},\n\nTo the {{body.name}}:\n\n");
		for (int i = 0; i < 34; i++)
			sbuf_addstr(&src, line);
		sbuf_addstr(&src, "--- html ---\n<p>Dear {{contact.email}},</p>\n"
			    "<p>To the {{body.name}}:</p>\n");
		for (int i = 0; i < 34; i++)
			sbuf_addf(&src, "<p>%s</p>\n", line);
	} else {
		sbuf_addstr(&src, "Subject: {{anniversary.ordinal}} anniversary of the Khojaly genocide\n\n"
			    "To {{body.name}},\n\n");
		for (int i = 0; i < 20; i++)
			sbuf_addstr(&src, "On {{event.date}} the town was destroyed; on {{campaign.date}}, the {{anniversary.ordinal}} anniversary, we recall it. The Commissioner recalls the obligations of the State party under the Convention.\n");
		sbuf_addstr(&src, "--- html ---\n<p>To {{body.name}},</p>\n");
		for (int i = 0; i < 20; i++)
			sbuf_addstr(&src, "<p>On {{event.date}} the town was destroyed; on {{campaign.date}}, the {{anniversary.ordinal}} anniversary, we recall it. The Commissioner recalls the obligations of the State party.</p>\n");
	}
	if (template_parse(src.buf, &t, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
	c.sender = getenv("RENDER_BENCH_SENDER"); /* a campaign's --sender */
	c.name = "bench"; c.send_at = 1772107200; c.tz = "Europe/Paris"; c.event_date = "1992-02-26";
	for (int i = 0; i < n; i++) {
		struct delivery_ctx d;
		if (campaign_delivery_ctx_init(db, &cfg, &c, contact, "m@example.org", "e", &d, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
		d.ctx.lang = lang;
		sbuf_reset(&out);
		if (message_compose(t, &d.ctx, &out, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
		campaign_delivery_ctx_release(&d);
	}
	fprintf(stderr, "%zu bytes\n", out.len);
	db_close(db); unlink(path);
	return 0;
}
