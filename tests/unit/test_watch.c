/* watch: which campaigns are reminded, marked missed or logged late, at
 * which thresholds, and that a second look at the same time adds nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/list.h"
#include "chancery/template.h"
#include "chancery/watch.h"
#include "chancery/xalloc.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1803016800 /* 2027-02-19T06:00:00Z */
#define DAY 86400

struct fx {
	struct test_db t;
	struct conf cfg;
};

static int setup(void **state)
{
	struct error err = ERROR_INIT;
	struct fx *f = xcalloc(1, sizeof(*f));
	struct template_info info;
	bool unchanged = false;
	int64_t list;
	char *path;

	clock_set_fake(NOW);
	test_db_open(&f->t);
	conf_init(&f->cfg);
	path = test_write_file(f->t.dir, "t.tmpl", "Subject: s\n\nText.\n");
	if (template_add(f->t.db, "t", path, &info, &unchanged, &err) != 0 ||
	    list_create(f->t.db, "l", LIST_STATIC, NULL, &list, &err) != 0)
		fail_msg("fixture: %s", err.msg);
	template_info_release(&info);
	free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conf_release(&f->cfg);
	test_db_close(&f->t);
	free(f);
	clock_clear_fake();
	return 0;
}

/* A campaign "c" in state, sending at NOW + offset. */
static void campaign(struct fx *f, const char *state, int64_t offset)
{
	struct campaign_new c = {.name = "c", .template_name = "t",
				 .list_name = "l", .send_at = NOW + offset,
				 .tz = "UTC"};
	struct error err = ERROR_INIT;
	char sql[160];

	if (campaign_create(f->t.db, &c, NULL, &err) != 0)
		fail_msg("campaign_create: %s", err.msg);
	snprintf(sql, sizeof(sql),
		 "UPDATE campaigns SET state = '%s' WHERE name = 'c'", state);
	test_exec(f->t.db, sql);
}

static void test_thresholds(void **state)
{
	static const struct {
		const char *state;
		int64_t offset;    /* send time - now */
		int64_t remind_ms; /* campaign.remind */
		int reminded, missed, late;
		int64_t days;      /* due_in_days of the reminder, if any */
		const char *after; /* the state after the look */
	} cases[] = {
		{"draft", 8 * DAY, 7 * DAY * 1000, 0, 0, 0, 0, "draft"},
		{"draft", 7 * DAY + 1, 7 * DAY * 1000, 0, 0, 0, 0, "draft"},
		{"draft", 7 * DAY, 7 * DAY * 1000, 1, 0, 0, 7, "draft"},
		{"draft", 2 * DAY, 7 * DAY * 1000, 1, 0, 0, 7, "draft"},
		{"approved", 3 * DAY, 7 * DAY * 1000, 1, 0, 0, 7, "approved"},
		/* inside a day: only the second, even if the first never came */
		{"draft", DAY, 7 * DAY * 1000, 1, 0, 0, 1, "draft"},
		{"draft", 60, 7 * DAY * 1000, 1, 0, 0, 1, "draft"},
		/* a setting of 3 days: 3, then 1 */
		{"draft", 3 * DAY, 3 * DAY * 1000, 1, 0, 0, 3, "draft"},
		/* a setting under a day: one reminder, "1 day" */
		{"draft", 3600, 12 * 3600 * 1000, 1, 0, 0, 1, "draft"},
		{"draft", 3600, 0, 0, 0, 0, 0, "draft"},
		{"draft", 0, 7 * DAY * 1000, 0, 1, 0, 0, "missed"},
		{"approved", -DAY, 0, 0, 1, 0, 0, "missed"},
		{"scheduled", DAY, 7 * DAY * 1000, 0, 0, 0, 0, "scheduled"},
		{"scheduled", -30, 7 * DAY * 1000, 0, 0, 0, 0, "scheduled"},
		{"scheduled", -3600, 7 * DAY * 1000, 0, 0, 1, 0, "scheduled"},
		{"paused", -DAY, 7 * DAY * 1000, 0, 0, 0, 0, "paused"},
		{"done", -DAY, 7 * DAY * 1000, 0, 0, 0, 0, "done"},
		{"cancelled", DAY, 7 * DAY * 1000, 0, 0, 0, 0, "cancelled"},
		{"missed", -DAY, 7 * DAY * 1000, 0, 0, 0, 0, "missed"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct fx *f;
		struct watch_report r;
		struct error err = ERROR_INIT;
		char *st;

		setup((void **)&f);
		f->cfg.campaign.remind_ms = cases[i].remind_ms;
		campaign(f, cases[i].state, cases[i].offset);
		for (int pass = 0; pass < 2; pass++) {
			if (watch_campaigns(f->t.db, &f->cfg, NOW, &r, &err))
				fail_msg("case %zu: %s", i, err.msg);
			/* the second look adds nothing but a late start */
			if (r.reminded != (pass ? 0 : cases[i].reminded) ||
			    r.missed != (pass ? 0 : cases[i].missed) ||
			    r.late != cases[i].late)
				fail_msg("case %zu (%s at %+lld s) pass %d: got "
					 "reminded=%d missed=%d late=%d, want "
					 "%d %d %d", i, cases[i].state,
					 (long long)cases[i].offset, pass,
					 r.reminded, r.missed, r.late,
					 cases[i].reminded, cases[i].missed,
					 cases[i].late);
		}
		assert_int_equal(test_query_int(f->t.db,
			"SELECT count(*) FROM events WHERE kind = "
			"'campaign.reminded'"), cases[i].reminded);
		assert_int_equal(test_query_int(f->t.db,
			"SELECT count(*) FROM events WHERE kind = "
			"'campaign.missed'"), cases[i].missed);
		if (cases[i].reminded)
			assert_int_equal(test_query_int(f->t.db,
				"SELECT json_extract(data, '$.due_in_days') "
				"FROM events WHERE kind = 'campaign.reminded'"),
				cases[i].days);
		st = test_query_text(f->t.db, "SELECT state FROM campaigns");
		if (strcmp(st, cases[i].after) != 0)
			fail_msg("case %zu: state %s, want %s", i, st,
				 cases[i].after);
		free(st);
		teardown((void **)&f);
	}
}

/* campaign_mark_missed refuses what is not a draft or approved, and the
 * refusal changes nothing. */
static void test_mark_missed_refuses(void **state)
{
	static const char *const states[] = {"scheduled", "running", "paused",
					      "done", "cancelled", "missed"};

	(void)state;
	for (size_t i = 0; i < N(states); i++) {
		struct fx *f;
		struct error err = ERROR_INIT;
		char *st;

		setup((void **)&f);
		campaign(f, states[i], -DAY);
		assert_int_equal(campaign_mark_missed(f->t.db, 1, &err),
				 ERR_DATA);
		assert_non_null(strstr(err.msg, "cannot mark missed"));
		st = test_query_text(f->t.db, "SELECT state FROM campaigns");
		assert_str(st, states[i]);
		free(st);
		assert_int_equal(test_query_int(f->t.db,
			"SELECT count(*) FROM events WHERE kind = "
			"'campaign.missed'"), 0);
		teardown((void **)&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_mark_missed_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
