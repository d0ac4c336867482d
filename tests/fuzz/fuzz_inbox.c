/* Fuzzes the whole intake (inbox_take: keep, find chancery's identifiers,
 * read as a report or a response, apply) on whole messages, against a
 * database with two sent deliveries. inbox_take commits its own
 * transaction, so the database is created afresh every RENEW inputs to
 * bound its growth. An input starting "ENV addr\n" gives addr as the
 * envelope recipient, so VERP matching is reached. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/inbox.h"
#include "chancery/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *db;
static struct conf cfg;
static char dir[] = "/tmp/fuzz_inbox.XXXXXX";
static char path[64];
static unsigned runs;
#define RENEW 1000

static const char seed_sql[] =
	"INSERT INTO bodies (id, acronym, name, kind, created_at) VALUES "
	"(1, 'OHCHR', 'OHCHR', 'un-agency', 0),"
	"(2, 'EO', 'European Ombudsman', 'ombudsman', 0);"
	"INSERT INTO contacts (id, body_id, email, created_at, updated_at) "
	"VALUES (1, 1, 'registry@ohchr.example.org', 0, 0),"
	"(2, 2, 'office@ombudsman.example.eu', 0, 0);"
	"INSERT INTO templates (id, name, version, source, sha256, "
	"created_at) VALUES (1, 'statement', 1, 'x', 'y', 0);"
	"INSERT INTO lists (id, name, kind, created_at, updated_at) "
	"VALUES (1, 'all', 'static', 0, 0);"
	"INSERT INTO campaigns (id, name, template_id, list_id, send_at, tz, "
	"state, created_at, updated_at) VALUES (1, 'feb', 1, 1, 1762750000, "
	"'UTC', 'done', 0, 0);"
	"INSERT INTO deliveries (id, campaign_id, contact_id, body_id, email, "
	"state, message_id, envid, created_at, updated_at, sent_at) VALUES "
	"(1, 1, 1, 1, 'registry@ohchr.example.org', 'sent', "
	"'chancery.1.1.0123456789abcdef@office.example', "
	"'chancery-1-0123456789abcdef', 0, 0, 1762750000),"
	"(2, 1, 2, 2, 'office@ombudsman.example.eu', 'sent', "
	"'chancery.1.2.fedcba9876543210@office.example', "
	"'chancery-2-fedcba9876543210', 0, 0, 1762750000);";

static void renew(void)
{
	struct error err = ERROR_INIT;

	if (db) {
		db_close(db);
		db = NULL;
		unlink(path);
	} else {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/f.db", dir);
		conf_init(&cfg);
		cfg.bounce.address = strdup("bounces@office.example");
		cfg.bounce_threshold = 1;
		clock_set_fake(1763000000);
		mime_init();
	}
	if (db_open(path, DB_CREATE, 1000, &db, &err) != 0) {
		fprintf(stderr, "db_open: %s\n", err.msg);
		abort();
	}
	if (sqlite3_exec(db_handle(db), seed_sql, NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = ERROR_INIT;
	struct inbox_result res;
	struct inbox_message m = {INBOX_STDIN, NULL, NULL,
				  (const char *)data, size};

	char env[256] = "";

	if (!db || ++runs % RENEW == 0)
		renew();
	if (size > 4 && memcmp(data, "ENV ", 4) == 0) {
		size_t n = 0;
		while (4 + n < size && n < sizeof(env) - 1 && data[4 + n] != '\n'
		       && data[4 + n] != '\0') {
			env[n] = (char)data[4 + n];
			n++;
		}
		env[n] = '\0';
		m.envelope_to = env;
	}
	if (inbox_take(db, &cfg, &m, &res, NULL, NULL, &err) != 0) {
		fprintf(stderr, "inbox_take: %s\n", err.msg);
		abort();   /* only a failing database may fail */
	}
	return 0;
}
