/*
 * The delivery-report samples and DSN builder shared by test_bounce.c
 * (applying reports) and test_bounce_report.c (parsing them).
 */
#ifndef CHANCERY_TEST_BOUNCE_SAMPLES_H
#define CHANCERY_TEST_BOUNCE_SAMPLES_H

#include <stdlib.h>

#include "chancery/bounce_report.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

static inline char *sample_path(const char *name)
{
	const char *src = getenv("CHANCERY_SOURCE_DIR");

	return xasprintf("%s/tests/data/bounces/%s", src ? src : "../..", name);
}

static inline void read_sample(const char *name, struct sbuf *out)
{
	struct error err = ERROR_INIT;
	char *path = sample_path(name);

	if (sbuf_read_file(out, path, BOUNCE_MAX_SIZE, &err) != 0)
		fail_msg("%s", err.msg);
	free(path);
}

static inline void assert_opt_str(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else if (!got)
		fail_msg("got NULL, wanted '%s'", want);
	else
		assert_str(got, want);
}

static const char dsn_head[] =
	"From: MAILER-DAEMON@relay.example.net\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Message-ID: <dsn-%d@relay.example.net>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status; "
	"boundary=\"B\"\n\n"
	"--B\nContent-Type: text/plain\n\nNotification.\n\n"
	"--B\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; relay.example.net\n%s\n\n"
	"%s\n"
	"--B--\n";

/* A DSN with the given per-message and per-recipient fields. */
static inline char *make_dsn(int n, const char *per_message,
			     const char *recipients)
{
	return xasprintf(dsn_head, n, per_message, recipients);
}

#endif
