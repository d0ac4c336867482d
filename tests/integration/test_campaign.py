"""The campaign and series commands end to end: the built `chancery`
against a real database file, checking output, exit status, database rows
and ledger events; and, when `chanceryd` is built, a campaign that the
daemon starts on time."""
import json
import os
import sqlite3
import subprocess
import time
import unittest

from harness import BIN_DIR, TestCase

TEMPLATE = ("Subject: {{anniversary.ordinal}} anniversary\n\n"
            "To the {{body.name}}.\n")
BAKU_SEND_UTC = 1740463200  # 2025-02-25 10:00 +04


class CampaignTestCase(TestCase):
    def setUp(self):
        super().setUp()
        h = self.home
        h.ok("body", "add", "Secretary-General of the United Nations",
             "--kind", "un-organ", "--acronym", "UNSG")
        h.ok("body", "add", "Organization for Security and Co-operation "
             "in Europe", "--kind", "regional-org", "--acronym", "OSCE")
        h.ok("contact", "add", "UNSG", "sg@un.example.org")
        h.ok("contact", "add", "OSCE", "pc@osce.example.org")
        h.ok("contact", "add", "OSCE", "old@osce.example.org")
        h.ok("contact", "disable", "old@osce.example.org", "--reason",
             "left office")
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "UNSG", "OSCE")
        h.ok("list", "create", "empty")
        self.add_template("stmt")

    def add_template(self, name, source=TEMPLATE):
        path = os.path.join(self.home.dir, name + ".tmpl")
        with open(path, "w") as f:
            f.write(source)
        self.home.ok("template", "add", name, path)

    def write(self, query, *params):
        con = sqlite3.connect(self.home.db)
        try:
            con.execute(query, params)
            con.commit()
        finally:
            con.close()

    def create(self, name="feb", *extra):
        return self.home.ok("campaign", "create", name, "--template", "stmt",
                            "--list", "all", "--at", "2025-02-25 10:00", "--now",
                            "--tz", "Asia/Baku", "--event-date", "1992-02-26",
                            *extra)

    def assertUsage(self, args, message):
        """A usage error: status 64, one line that names the problem and
        points at --help, and nothing changed."""
        before = self.home.snapshot()
        r = self.home.run(*args)
        self.assertEqual(r.rc, 64, r)
        lines = r.err.strip().split("\n")
        self.assertEqual(len(lines), 1, r)
        self.assertIn(message, lines[0], r)
        self.assertIn("--help')", lines[0], r)
        self.assertEqual(self.home.snapshot(), before)

    def state(self, name):
        return self.home.scalar("SELECT state FROM campaigns WHERE name = ?",
                                name)

    def events(self, kind):
        return self.home.scalar("SELECT count(*) FROM events WHERE kind = ?",
                                kind)


class TestCreate(CampaignTestCase):
    def test_create_stores_utc_and_shows_both(self):
        r = self.create()
        self.assertIn("2025-02-25 10:00 +04", r.out)
        self.assertIn("2025-02-25T06:00:00Z", r.out)
        row = self.home.sql("SELECT state, send_at, tz FROM campaigns")[0]
        self.assertEqual(row, ("draft", BAKU_SEND_UTC, "Asia/Baku"))
        data = json.loads(self.home.scalar(
            "SELECT data FROM events WHERE kind = 'campaign.created'"))
        self.assertEqual(data["template"], "stmt")
        self.assertEqual(data["template_version"], 1)
        self.assertEqual(data["template_sha256"], self.home.scalar(
            "SELECT sha256 FROM templates WHERE name = 'stmt'"))
        rows = json.loads(self.home.ok("--json", "campaign", "ls").out)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["send_utc"], "2025-02-25T06:00:00Z")
        self.assertEqual(rows[0]["send_local"], "2025-02-25 10:00 +04")
        self.assertEqual(rows[0]["state"], "draft")

    def test_create_errors_change_nothing(self):
        base = ["campaign", "create", "x", "--template", "stmt", "--list",
                "all", "--tz", "Asia/Baku"]
        cases = [
            (base + ["--at", "2025-02-30 10:00", "--now"], 64, "bad date '2025-02-30"),
            (base + ["--at", "tomorrow", "--now"], 64, "bad date 'tomorrow'"),
            (base + ["--at", "2025-02-25 10:00", "--now", "--tz", "Mars/Base"], 64,
             "unknown time zone 'Mars/Base'"),
            (["campaign", "create", "x", "--template", "nope", "--list",
              "all", "--at", "2025-02-25 10:00", "--now"], 67, "nope"),
            (["campaign", "create", "x", "--template", "stmt", "--list",
              "nope", "--at", "2025-02-25 10:00", "--now"], 67, "nope"),
        ]
        for args, rc, msg in cases:
            with self.subTest(args=args):
                self.assertFails(args, rc, msg)
        self.assertUsage(["campaign", "create", "x", "--template", "stmt",
                          "--list", "all"], "--at")
        self.assertUsage(["campaign", "create", "--at", "2025-02-25 10:00", "--now",
                          "--template", "stmt", "--list", "all"], "NAME")
        self.create("dup")
        self.assertFails(["campaign", "create", "dup", "--template", "stmt",
                          "--list", "all", "--at", "2025-02-25 10:00", "--now"], 65,
                         "already exists")


class TestTransitions(CampaignTestCase):
    def test_lifecycle_and_events(self):
        self.create()
        self.home.ok("campaign", "schedule", "feb", "--now")
        self.assertEqual(self.state("feb"), "scheduled")
        self.home.ok("campaign", "pause", "feb")
        self.assertEqual(self.state("feb"), "paused")
        self.home.ok("campaign", "resume", "feb")
        self.assertEqual(self.state("feb"), "scheduled")
        r = self.home.ok("campaign", "cancel", "feb")
        self.assertIn("scheduled → cancelled", r.out)
        self.assertEqual(self.state("feb"), "cancelled")
        for kind in ("campaign.scheduled", "campaign.paused",
                     "campaign.resumed", "campaign.cancelled"):
            self.assertEqual(self.events(kind), 1, kind)

    def test_illegal_transitions_name_the_state(self):
        self.create()
        self.assertFails(["campaign", "resume", "feb"], 65, "is draft")
        self.assertFails(["campaign", "pause", "feb"], 65, "is draft")
        self.assertFails(["campaign", "refresh", "feb"], 65, "is draft")
        self.home.ok("campaign", "cancel", "feb")
        self.assertFails(["campaign", "schedule", "feb", "--now"], 65, "is cancelled")
        self.assertFails(["campaign", "cancel", "feb"], 65, "is cancelled")
        self.assertFails(["campaign", "status", "nope"], 67, "nope")

    def test_schedule_with_problems_changes_nothing(self):
        self.home.ok("campaign", "create", "e", "--template", "stmt",
                     "--list", "empty", "--at", "2025-02-25 10:00", "--now")
        self.create("bad")
        self.write("UPDATE contacts SET email = 'broken@@example' WHERE "
                   "email = 'sg@un.example.org'")
        for name, problem in (("e", "list 'empty' has no contacts"),
                              ("bad", "broken@@example")):
            with self.subTest(campaign=name):
                before = self.home.snapshot()
                r = self.home.run("campaign", "schedule", name, "--now")
                self.assertEqual(r.rc, 65, r)
                lines = r.err.strip().split("\n")
                self.assertIn("cannot be scheduled", lines[0], r)
                self.assertTrue(any(problem in l for l in lines[1:]), r)
                self.assertEqual(self.home.snapshot(), before)
                self.assertEqual(self.state(name), "draft")

    def test_status_json(self):
        self.create()
        st = json.loads(self.home.ok("--json", "campaign", "status",
                                     "feb").out)
        self.assertEqual(st["state"], "draft")
        self.assertEqual(st["send_at"], "2025-02-25T06:00:00Z")
        self.assertEqual(st["deliveries"]["total"], 0)

    def test_preview_renders_for_first_or_named_body(self):
        self.create()
        r = self.home.ok("campaign", "preview", "feb")
        self.assertIn("Secretary-General of the United Nations", r.out)
        r = self.home.ok("campaign", "preview", "feb", "--body", "OSCE")
        self.assertIn("Organization for Security", r.out)
        self.assertFails(["campaign", "preview", "feb", "--body", "NOPE"],
                         67, "NOPE")

    def test_anniversary_template_needs_an_event_date(self):
        self.home.ok("campaign", "create", "plain", "--template", "stmt",
                     "--list", "all", "--at", "2025-02-25 10:00", "--now")
        r = self.home.run("campaign", "schedule", "plain", "--now")
        self.assertEqual(r.rc, 65, r)
        self.assertIn("uses the event date", r.out + r.err)
        self.assertIn("anniversary.ordinal", r.out + r.err)
        self.assertEqual(self.state("plain"), "draft")

    def test_one_off_anniversary_with_event_date(self):
        self.home.ok("campaign", "create", "khojaly", "--template", "stmt",
                     "--list", "all", "--at", "2025-02-25 10:00", "--now", "--tz",
                     "Asia/Baku", "--event-date", "1992-02-26")
        self.assertEqual(self.home.scalar(
            "SELECT event_date FROM campaigns WHERE name = 'khojaly'"),
            "1992-02-26")
        r = self.home.ok("campaign", "preview", "khojaly")
        self.assertIn("Subject: 33rd anniversary", r.out)
        self.assertFails(["campaign", "create", "bad", "--template", "stmt",
                          "--list", "all", "--at", "2025-02-25 10:00", "--now",
                          "--event-date", "1992-02-30"], 64,
                         "bad event date '1992-02-30'")


class TestSeries(CampaignTestCase):
    def test_add_list_show(self):
        self.home.ok("series", "add", "khojaly", "--event-date",
                     "1992-02-26", "--send", "02-25T10:00", "--tz",
                     "Asia/Baku", "--template", "stmt", "--list", "all",
                     "--lead-days", "7", env={"CHANCERY_FAKE_NOW":
                                              "2025-01-01T00:00:00Z"})
        row = self.home.sql("SELECT send_month, send_day, send_minute, tz, "
                            "lead_days, state FROM series")[0]
        self.assertEqual(row, (2, 25, 600, "Asia/Baku", 7, "active"))
        self.assertEqual(self.events("series.created"), 1)
        rows = json.loads(self.home.ok(
            "--json", "series", "ls",
            env={"CHANCERY_FAKE_NOW": "2025-01-01T00:00:00Z"}).out)
        self.assertEqual(rows[0]["next_utc"], "2025-02-25T06:00:00Z")
        shown = json.loads(self.home.ok(
            "--json", "series", "show", "khojaly",
            env={"CHANCERY_FAKE_NOW": "2025-01-01T00:00:00Z"}).out)
        by_year = {r["year"]: r for r in shown}
        self.assertEqual(by_year[2025]["ordinal"], "33rd")
        self.assertEqual(by_year[2025]["send_utc"], "2025-02-25T06:00:00Z")
        self.assertEqual(by_year[2026]["created_from_utc"],
                         "2026-02-18T06:00:00Z")
        self.home.ok("series", "pause", "khojaly")
        self.assertFails(["series", "pause", "khojaly"], 65, "paused")
        self.home.ok("series", "resume", "khojaly")
        self.home.ok("series", "rm", "khojaly")
        self.assertEqual(self.home.scalar("SELECT state FROM series"),
                         "removed")
        self.assertFails(["series", "show", "khojaly"], 67, "khojaly")

    def test_add_errors_change_nothing(self):
        base = ["series", "add", "s", "--template", "stmt", "--list", "all"]
        cases = [
            (["--event-date", "1992-02-30", "--send", "02-25", "--tz",
              "UTC"], 64, "1992-02-30"),
            (["--event-date", "1992-02-26", "--send", "02-31", "--tz",
              "UTC"], 64, "02-31"),
            (["--event-date", "1992-02-26", "--send", "02-25", "--tz",
              "Asia/Nowhere"], 64, "Asia/Nowhere"),
        ]
        for extra, rc, msg in cases:
            with self.subTest(extra=extra):
                self.assertFails(base + extra, rc, msg)
        self.assertUsage(base + ["--event-date", "1992-02-26", "--send",
                                 "02-25", "--lead-days", "-3"], "--lead-days")
        self.assertFails(["series", "add", "s", "--template", "nope",
                          "--list", "all", "--event-date", "1992-02-26",
                          "--send", "02-25"], 67, "nope")


def chanceryd():
    return os.path.join(BIN_DIR, "chanceryd")


@unittest.skipUnless(os.path.exists(chanceryd()),
                     "chanceryd is not built in this tree")
class TestDaemonStarts(CampaignTestCase):
    def test_once_materialises_due_campaign(self):
        self.create()
        self.home.ok("campaign", "schedule", "feb", "--now")
        env = {"CHANCERY_FAKE_NOW": "2025-02-25T06:00:00Z"}
        self.home.ok("--once", prog="chanceryd", env=env)
        # The same pass may already have sent them (and finished it).
        self.assertIn(self.state("feb"), ("running", "done"))
        rows = self.home.sql("SELECT email, state, reason FROM deliveries "
                             "ORDER BY email")
        self.assertEqual([r[0] for r in rows], [
            "old@osce.example.org", "pc@osce.example.org",
            "sg@un.example.org"])
        self.assertEqual(rows[0][1], "skipped")
        self.assertIn("left office", rows[0][2])
        for r in rows[1:]:
            self.assertIn(r[1], ("pending", "sending", "sent"), r)
        self.assertEqual(self.events("delivery.queued"), 2)
        self.assertEqual(self.events("delivery.skipped"), 1)
        # A second pass never duplicates.
        self.home.ok("--once", prog="chanceryd", env=env)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries"), 3)

    def test_year_missed_while_daemon_down_is_logged_and_recorded(self):
        """Issue 15: a series year whose whole window (creation time to a
        day after the send time) passed while the daemon was down was
        skipped without a word. It is now logged and recorded once in the
        ledger as series.skipped; the next year is created as usual."""
        self.home.ok("series", "add", "khojaly", "--event-date",
                     "1992-02-26", "--send", "02-25T10:00", "--tz",
                     "Asia/Baku", "--template", "stmt", "--list", "all",
                     "--lead-days", "7",
                     env={"CHANCERY_FAKE_NOW": "2025-01-01T00:00:00Z"})
        env = {"CHANCERY_FAKE_NOW": "2025-03-10T00:00:00Z"}
        r = self.home.ok("--once", "--foreground", prog="chanceryd", env=env)
        self.assertIn("series=khojaly year=2025 skipped: no campaign was "
                      "created between 2025-02-18T06:00:00Z and a day after "
                      "its send time 2025-02-25T06:00:00Z (was the daemon "
                      "down?); recorded as series.skipped", r.err)
        rows = self.home.sql("SELECT data FROM events WHERE kind = "
                             "'series.skipped'")
        self.assertEqual([json.loads(d) for (d,) in rows], [{
            "series": "khojaly", "year": 2025,
            "create_at": "2025-02-18T06:00:00Z",
            "send_at": "2025-02-25T06:00:00Z"}])
        self.assertEqual(self.home.scalar("SELECT count(*) FROM campaigns"),
                         0)
        # Once: a later pass neither logs nor records it again.
        r = self.home.ok("--once", "--foreground", prog="chanceryd", env=env)
        self.assertNotIn("skipped", r.err)
        self.assertEqual(self.events("series.skipped"), 1)
        r = self.home.ok("audit", "verify")
        self.assertTrue(r.out.startswith("ok: "), r)
        # The next year is made as usual, and nothing more is recorded.
        self.home.ok("--once", prog="chanceryd",
                     env={"CHANCERY_FAKE_NOW": "2026-02-18T06:00:00Z"})
        self.assertEqual(self.home.sql("SELECT name FROM campaigns"),
                         [("khojaly-2026",)])
        self.assertEqual(self.events("series.skipped"), 1)

    def test_daemon_starts_campaign_on_time(self):
        at = time.time() + 4
        local = time.strftime("%Y-%m-%d %H:%M", time.gmtime(at + 60))
        # Minutes are the finest unit of --at: set send_at to the second.
        self.home.ok("campaign", "create", "soon", "--template", "stmt",
                     "--list", "all", "--at", local, "--now", "--tz", "UTC",
                     "--event-date", "1992-02-26")
        self.write("UPDATE campaigns SET send_at = ?", int(at))
        self.home.ok("campaign", "schedule", "soon", "--now")
        proc = subprocess.Popen(
            [chanceryd(), "--config", self.home.conf, "--foreground"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            started = None
            while time.time() < at + 10:
                started = self.home.scalar(
                    "SELECT started_at FROM campaigns WHERE name = 'soon'")
                if started:
                    break
                time.sleep(0.2)
            self.assertIsNotNone(started, "campaign never started")
            self.assertGreaterEqual(started, int(at))
            self.assertLessEqual(started, int(at) + 1)
            self.assertEqual(self.home.scalar(
                "SELECT count(*) FROM deliveries"), 3)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def test_idle_daemon_notices_a_campaign_scheduled_later(self):
        """The daemon is already asleep when the command line schedules a
        campaign for now: it must start within a couple of seconds, not at
        its next long poll."""
        proc = subprocess.Popen(
            [chanceryd(), "--config", self.home.conf, "--foreground"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(1.5)  # let it finish its first round and sleep
            local = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
            self.home.ok("campaign", "create", "now", "--template", "stmt",
                         "--list", "all", "--at", local, "--now", "--tz", "UTC",
                     "--event-date", "1992-02-26")
            self.home.ok("campaign", "schedule", "now", "--now")
            scheduled = time.time()
            started = None
            while time.time() < scheduled + 10 and not started:
                started = self.home.scalar(
                    "SELECT started_at FROM campaigns WHERE name = 'now'")
                time.sleep(0.1)
            self.assertIsNotNone(started, "campaign never started")
            self.assertLess(time.time() - scheduled, 3.5)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stderr.close()


if __name__ == "__main__":
    unittest.main()
