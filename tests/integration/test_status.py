"""chancery status, end to end: the built binary on a database populated
through the CLI and the daemon, with the daemon's and the relay's rows
(written by chanceryd) inserted here as the daemon would write them."""
import json
import os
import socket
import subprocess
import time

from harness import BIN_DIR, TestCase

TEMPLATE = "Subject: Statement\n\nTo the {{body.name}}.\n"


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def populate(home):
    """Two bodies, a list, a template, a sent campaign (two deliveries),
    a draft due in 3 days, one due in 30 days and a missed one."""
    h = home
    h.ok("body", "add", "Secretary-General of the United Nations",
         "--kind", "un-organ", "--acronym", "UNSG")
    h.ok("body", "add", "Organization for Security and Co-operation "
         "in Europe", "--kind", "regional-org", "--acronym", "OSCE")
    h.ok("contact", "add", "UNSG", "sg@un.example.org")
    h.ok("contact", "add", "OSCE", "pc@osce.example.org")
    h.ok("list", "create", "all")
    h.ok("list", "add", "all", "UNSG", "OSCE")
    path = os.path.join(h.dir, "stmt.tmpl")
    with open(path, "w") as f:
        f.write(TEMPLATE)
    h.ok("template", "add", "stmt", path)
    h.ok("campaign", "create", "now", "--template", "stmt", "--list", "all",
         "--now", "--tz", "UTC")
    h.ok("campaign", "schedule", "now", "--now")
    h.ok("--foreground", "--once", prog="chanceryd")
    for name, days in (("soon", 3), ("later", 30), ("gone", -10)):
        at = time.strftime("%Y-%m-%d %H:%M",
                           time.gmtime(time.time() + days * 86400))
        h.ok("campaign", "create", name, "--template", "stmt", "--list",
             "all", "--at", at, "--tz", "UTC", *(["--now"] if days < 0
                                                 else []))
    h.sql("SELECT 1")  # the file exists and is readable
    con_exec(h, "UPDATE campaigns SET state = 'missed' WHERE name = 'gone'")


def con_exec(home, *statements):
    import sqlite3
    con = sqlite3.connect(home.db)
    try:
        for s in statements:
            con.execute(s)
        con.commit()
    finally:
        con.close()


class TestStatus(TestCase):
    def test_empty_database(self):
        r = self.home.ok("status")
        self.assertIn("daemon:      not running (never ran against this "
                      "database)", r.out)
        self.assertIn("relay:       unknown", r.out)
        self.assertIn("queue:       empty", r.out)
        self.assertIn("verified:    never", r.out)
        st = json.loads(self.home.ok("status", "--json").out)
        self.assertEqual(st["daemon"]["state"], "never")
        self.assertIsNone(st["daemon"]["pid"])
        self.assertEqual(st["relay"]["state"], "unknown")
        self.assertIsNone(st["last_verification"])

    def test_populated(self):
        populate(self.home)
        host = socket.gethostname()
        # A live chanceryd of this host (sleep started under that name:
        # /proc must show chanceryd), and a relay that is down.
        daemon = subprocess.Popen(["chanceryd", "60"],
                                  executable="/bin/sleep")
        self.addCleanup(daemon.wait)
        self.addCleanup(daemon.kill)
        con_exec(self.home,
                 "INSERT OR REPLACE INTO daemon_state VALUES (1, %d, '%s', '9.9.9', "
                 "1700000000, 1700000100)" % (daemon.pid, host),
                 "INSERT OR REPLACE INTO relay_state VALUES (1, 'down', 1700000000, "
                 "'535 5.7.8 Authentication credentials invalid', 4, "
                 "1700000600, 1700000500)")
        self.home.ok("audit", "verify")
        before = self.home.snapshot()
        st = json.loads(self.home.ok("status", "--json").out)
        self.assertEqual(self.home.snapshot(), before, "status wrote")
        d = st["daemon"]
        self.assertEqual((d["state"], d["running"], d["pid"], d["version"],
                          d["started_at"]),
                         ("running", True, daemon.pid, "9.9.9",
                          utc(1700000000)))
        self.assertEqual(st["relay"]["state"], "down")
        self.assertEqual(st["relay"]["last_error"],
                         "535 5.7.8 Authentication credentials invalid")
        self.assertEqual(st["relay"]["failures"], 4)
        self.assertEqual(st["relay"]["retry_at"], utc(1700000600))
        self.assertEqual([c["name"] for c in st["due"]], ["soon"])
        self.assertEqual(st["due"][0]["state"], "draft")
        self.assertEqual([c["name"] for c in st["missed"]], ["gone"])
        self.assertEqual(st["queue"]["sent"], 2)
        self.assertEqual(sum(st["queue"].values()), 2)
        rows = self.home.scalar("SELECT count(*) FROM events")
        head = self.home.sql("SELECT id, hash FROM events ORDER BY id DESC "
                             "LIMIT 1")[0]
        self.assertEqual(st["ledger"]["rows"], rows)
        self.assertEqual((st["ledger"]["head_id"], st["ledger"]["head_hash"]),
                         head)
        v = st["last_verification"]
        self.assertTrue(v["ok"])
        self.assertEqual((v["rows_verified"], v["head_id"], v["head_hash"],
                          v["rows_since"]), (rows, head[0], head[1], 0))
        # the anchor audit anchor prints is the head verify reached
        anchor = self.home.ok("audit", "anchor", "--json").out
        self.assertIn(head[1], anchor)

        r = self.home.ok("status", "--days", "40")
        self.assertIn("running, pid %d, since %s, version 9.9.9"
                      % (daemon.pid, utc(1700000000)), r.out)
        self.assertIn("relay:       down since %s, 4 failures" %
                      utc(1700000000), r.out)
        self.assertIn("last error: 535 5.7.8 Authentication credentials "
                      "invalid", r.out)
        self.assertIn("due:         2 campaigns in the next 40 days:", r.out)
        self.assertIn("missed:      1 campaign:", r.out)
        self.assertIn("queue:       sent 2\n", r.out)
        self.assertIn("verified:    ok ", r.out)

    def test_stopped_daemon_and_other_host(self):
        child = subprocess.Popen(["true"])
        child.wait()  # a pid that no longer lives
        con_exec(self.home,
                 "INSERT OR REPLACE INTO daemon_state VALUES (1, %d, '%s', '9.9.9', "
                 "1700000000, 1700000100)" % (child.pid, socket.gethostname()))
        r = self.home.ok("status")
        self.assertIn("daemon:      not running; last seen %s (pid %d"
                      % (utc(1700000100), child.pid), r.out)
        con_exec(self.home, "UPDATE daemon_state SET host = "
                 "'elsewhere.invalid', pid = %d" % os.getpid())
        st = json.loads(self.home.ok("status", "--json").out)
        self.assertEqual(st["daemon"]["state"], "elsewhere")
        self.assertFalse(st["daemon"]["running"])

    def test_failed_verification_is_recorded(self):
        populate(self.home)
        con_exec(self.home, "DROP TRIGGER events_no_update",
                 "UPDATE events SET data = '{\"x\":1}' WHERE id = 2")
        r = self.home.run("audit", "verify")
        self.assertEqual(r.rc, 65, r)
        st = json.loads(self.home.ok("status", "--json").out)
        v = st["last_verification"]
        self.assertFalse(v["ok"])
        self.assertEqual(v["problem"], "hash-mismatch")
        self.assertIn("row 2", v["message"])
        self.assertIn("verified:    BROKEN", self.home.ok("status").out)

    def test_inbox_waiting_and_last_intake_per_source(self):
        h = self.home
        self.assertIn("inbox:       nothing received\n", h.ok("status").out)
        md = os.path.join(h.dir, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub))
        with open(os.path.join(md, "new", "1.M1P1.host"), "w") as f:
            f.write("From: a@example.org\nSubject: hello\n\nhi\n")
        h.ok("inbox", "--maildir", md)
        h.ok("inbox", stdin="not a message\x01\n")
        got = dict(h.sql("SELECT source, received_at FROM inbound_messages"))
        self.assertEqual(set(got), {"maildir", "stdin"})
        before = h.snapshot()
        st = json.loads(h.ok("status", "--json").out)
        self.assertEqual(h.snapshot(), before, "status wrote")
        self.assertEqual(st["inbox_last"], {"stdin": utc(got["stdin"]),
                                            "maildir": utc(got["maildir"]),
                                            "imap": None})
        self.assertEqual(st["quarantine"]["unreadable_messages"], 2)
        out = h.ok("status").out
        self.assertIn("inbox:       stdin last %s (" % utc(got["stdin"]),
                      out)
        self.assertIn(", maildir last %s (" % utc(got["maildir"]), out)
        self.assertNotIn("imap last", out)
        self.assertIn("2 unreadable messages for a person to read "
                      "('chancery inbox list --kind unreadable')", out)

    def test_bad_days(self):
        r = self.home.run("status", "--days", "x")
        self.assertEqual(r.rc, 64, r)
        self.assertIn("--days: 'x' is not a number of days", r.err)
