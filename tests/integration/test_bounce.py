"""`chancery bounce`: delivery reports read from stdin and from a Maildir,
checked against the database they change (and must not change twice)."""

import email
import json
import os
import pwd
import sqlite3
import unittest

import harness

SAMPLES = os.path.join(harness.SOURCE_DIR, "tests", "data", "bounces")

CONTACTS = {
    1: "registry@ohchr.example.org",
    2: "office@ombudsman.example.eu",
    3: "info@embassy.example.az",
    4: "secretariat@unhcr.example.int",
    5: "press@nhri.example.ge",
    6: "contact@diaspora.example.de",
}

def envid_of(did):
    """The ENVID the fixtures give delivery did, as chancery writes one:
    "chancery-<id>-<16 hex>", a fixed token standing for the random one."""
    return "chancery-%d-%016x" % (did, (did * 0x9e3779b97f4a7c15)
                                  & 0xffffffffffffffff)


# sample file -> (delivery id, state afterwards, ledger event); the samples
# carry their original Message-ID, except delayed.eml, which names only
# its recipient: quarantined, not applied
EFFECTS = {
    "dsn-failed.eml": (1, "bounced", "delivery.bounced"),
    "postfix.eml": (2, "bounced", "delivery.bounced"),
    "exim.eml": (3, "bounced", "delivery.bounced"),
    "exchange.eml": (4, "bounced", "delivery.bounced"),
    "delayed.eml": (5, "sent", "bounce.quarantined"),
    "delivered.eml": (6, "delivered", "delivery.delivered"),
}


def sample(name):
    with open(os.path.join(SAMPLES, name), encoding="ascii") as f:
        return f.read()


class BounceTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.home.write_conf("bounce = { threshold = 2; };\n")
        self.db = self.home.db
        self.dir = self.home.dir
        self.seed()

    def chancery(self, *args, stdin=""):
        return self.home.run(*args, stdin=stdin,
                             env={"CHANCERY_FAKE_NOW": "2026-11-12T08:00:00Z"})

    def run_ok(self, *args, stdin=""):
        r = self.chancery(*args, stdin=stdin)
        self.assertEqual(r.rc, 0, r)
        return r.out

    def sql(self, query, *params):
        return self.home.sql(query, *params)

    def seed(self):
        """Campaign 1 went out to six contacts; the campaign module is not
        needed for that, the rows are what it would have written."""
        with sqlite3.connect(self.db) as c:
            c.execute("INSERT INTO templates (id, name, version, source, "
                      "sha256, created_at) VALUES (1, 't', 1, 'x', 'y', 0)")
            c.execute("INSERT INTO lists (id, name, kind, created_at, "
                      "updated_at) VALUES (1, 'all', 'static', 0, 0)")
            self.add_campaign(c, 1, 1762750000)
            for i, email in CONTACTS.items():
                c.execute("INSERT INTO bodies (id, name, kind, created_at) "
                          "VALUES (?, ?, 'other', 0)", (i, "Body %d" % i))
                c.execute("INSERT INTO contacts (id, body_id, email, "
                          "created_at, updated_at) VALUES (?, ?, ?, 0, 0)",
                          (i, i, email))
                self.add_delivery(c, i, 1, i, 1762750000)

    @staticmethod
    def add_campaign(c, cid, send_at):
        c.execute("INSERT INTO campaigns (id, name, template_id, list_id, "
                  "send_at, tz, state, created_at, updated_at) VALUES "
                  "(?, ?, 1, 1, ?, 'UTC', 'done', 0, 0)",
                  (cid, "campaign-%d" % cid, send_at))

    @staticmethod
    def add_delivery(c, did, cid, contact, sent_at):
        c.execute("INSERT INTO deliveries (id, campaign_id, contact_id, "
                  "body_id, email, state, message_id, envid, created_at, "
                  "updated_at, sent_at) VALUES (?, ?, ?, ?, ?, 'sent', ?, ?, "
                  "0, 0, ?)",
                  (did, cid, contact, contact, CONTACTS[contact],
                   "c%d.d%d@chancery.example.net" % (cid, did),
                   envid_of(did), sent_at))

    def snapshot(self):
        return self.home.snapshot()

    def test_each_sample_from_stdin(self):
        for name, (did, state, event) in EFFECTS.items():
            with self.subTest(sample=name):
                out = self.run_ok("bounce", stdin=sample(name))
                self.assertIn("delivery %d" % did, out)
                self.assertEqual(
                    self.sql("SELECT state FROM deliveries WHERE id = ?",
                             did), [(state,)])
                kinds = self.sql("SELECT kind FROM events WHERE "
                                 "delivery_id = ?", did)
                self.assertEqual(kinds, [(event,)])
        reason = self.sql("SELECT reason FROM deliveries WHERE id = 1")[0][0]
        self.assertIn("550 5.1.1", reason)
        self.assertIn("User unknown in virtual mailbox table", reason)

    def test_same_report_twice_changes_nothing(self):
        for name in list(EFFECTS) + ["unmatched.eml"]:
            with self.subTest(sample=name):
                self.run_ok("bounce", stdin=sample(name))
                before = self.snapshot()
                out = self.run_ok("bounce", stdin=sample(name))
                self.assertIn("nothing changed", out)
                self.assertEqual(self.snapshot(), before)

    def test_unmatched_is_quarantined_and_listed(self):
        out = self.run_ok("bounce", stdin=sample("unmatched.eml"))
        self.assertIn("quarantined #1", out)
        listing = self.run_ok("bounce", "list")
        self.assertIn("nobody@unknown.example.com", listing)
        self.assertIn("chancery-9999", listing)
        rows = json.loads(self.run_ok("--json", "bounce", "list"))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["recipient"], "nobody@unknown.example.com")
        self.assertEqual(rows[0]["status"], "5.1.1")
        self.assertIn("no delivery matches", rows[0]["reason"])
        self.assertEqual(
            self.sql("SELECT kind FROM events"), [("bounce.quarantined",)])
        # nothing else moved
        self.assertEqual(
            self.sql("SELECT DISTINCT state FROM deliveries"), [("sent",)])

    def test_garbage_is_kept_as_unreadable(self):
        """What is no report is kept with the reason and exits 0: under an
        MTA pipe alias a refusal would make the MTA bounce or drop it."""
        cases = [
            (sample("garbage-plain.eml"), "not a delivery report"),
            ("", "empty input"),
            ("\x00\x01\x02binary", "NUL bytes"),
            ("no headers here\n", "no header fields"),
        ]
        deliveries = self.sql("SELECT * FROM deliveries")
        for n, (data, want) in enumerate(cases, 1):
            with self.subTest(want=want):
                p = self.chancery("bounce", stdin=data)
                self.assertEqual(p.rc, 0, p)
                self.assertEqual(p.err, "")
                self.assertIn("unreadable (inbound #%d): " % n, p.out)
                self.assertIn(want, p.out)
                kind, reason, raw = self.sql(
                    "SELECT kind, reason, raw FROM inbound_messages "
                    "WHERE id = ?", n)[0]
                self.assertEqual(kind, "unreadable")
                self.assertIn(want, reason)
                self.assertEqual(raw, data.encode())
                self.assertEqual(self.sql(
                    "SELECT count(*) FROM events WHERE kind = "
                    "'inbound.quarantined' AND json_extract(data, "
                    "'$.inbound') = ?", n), [(1,)])
                self.assertEqual(self.sql("SELECT * FROM deliveries"),
                                 deliveries)

    def test_usage_errors(self):
        for args, word in ((["bounce", "--bogus"], "--bogus"),
                           (["bounce", "list", "extra"], "'extra'"),
                           (["bounce", "--maildir"], "needs a value")):
            before = self.snapshot()
            r = self.chancery(*args)
            self.assertEqual(r.rc, 64, r)
            self.assertIn(word, r.err.splitlines()[0])
            self.assertEqual(self.snapshot(), before)
        self.assertFails(["bounce", "--maildir",
                          os.path.join(self.dir, "no")], 66, "not a Maildir")

    def make_maildir(self, names):
        md = os.path.join(self.dir, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        for i, name in enumerate(names):
            with open(os.path.join(md, "new", "17628%05d.M%dP1.host"
                                   % (i, i)), "w") as f:
                f.write(sample(name))
        return md

    def test_maildir(self):
        md = self.make_maildir(list(EFFECTS) + ["unmatched.eml"])
        out = self.run_ok("bounce", "--maildir", md)
        self.assertIn("7 of 7 messages read", out)
        self.assertEqual(os.listdir(os.path.join(md, "new")), [])
        cur = sorted(os.listdir(os.path.join(md, "cur")))
        self.assertEqual(len(cur), 7)
        for name in cur:
            self.assertTrue(name.endswith(":2,S"), name)
        for did, state, _ in EFFECTS.values():
            self.assertEqual(
                self.sql("SELECT state FROM deliveries WHERE id = ?", did),
                [(state,)])
        self.assertEqual(self.sql("SELECT count(*) FROM bounce_quarantine"),
                         [(2,)])
        # the same reports dropped in again: recognised, moved, no change
        before = self.snapshot()
        md2 = self.make_maildir(list(EFFECTS))
        out = self.run_ok("bounce", "--maildir", md2)
        self.assertEqual(out.count("nothing changed"), 6)
        self.assertEqual(self.snapshot(), before)

    def test_maildir_leaves_no_garbage_behind(self):
        md = self.make_maildir(["garbage-plain.eml", "dsn-failed.eml"])
        p = self.chancery("bounce", "--maildir", md)
        self.assertEqual(p.rc, 0, p)
        self.assertIn("unreadable (inbound #1): not a delivery report", p.out)
        self.assertIn("2 of 2 messages read", p.out)
        self.assertEqual(len(os.listdir(os.path.join(md, "new"))), 0)
        self.assertEqual(len(os.listdir(os.path.join(md, "cur"))), 2)
        self.assertEqual(self.sql("SELECT kind, origin FROM inbound_messages "
                                  "ORDER BY id"),
                         [("unreadable", "1762800000.M0P1.host"),
                          ("report", "1762800001.M1P1.host")])
        self.assertEqual(
            self.sql("SELECT state FROM deliveries WHERE id = 1"),
            [("bounced",)])

    def test_contact_bouncing_after_two_campaigns(self):
        with sqlite3.connect(self.db) as c:
            self.add_campaign(c, 2, 1762900000)
            self.add_delivery(c, 201, 2, 1, 1762900000)
        self.run_ok("bounce", stdin=sample("dsn-failed.eml"))
        self.assertEqual(self.sql("SELECT status FROM contacts WHERE id = 1"),
                         [("active",)])
        second = sample("dsn-failed.eml").replace(
            "chancery-1\n", envid_of(201) + "\n").replace(
            "4QxK2m1Zb9z9sWv@", "5QxK2m1Zb9z9sWv@")
        out = self.run_ok("bounce", stdin=second)
        self.assertIn("contact 1 is now bouncing", out)
        status, reason = self.sql(
            "SELECT status, status_reason FROM contacts WHERE id = 1")[0]
        self.assertEqual(status, "bouncing")
        self.assertIn("2 consecutive campaigns: campaign-2, campaign-1",
                      reason)
        self.assertEqual(
            self.sql("SELECT count(*) FROM events WHERE kind = "
                     "'contact.bouncing' AND contact_id = 1"), [(1,)])

    def forged(self, n, recipient, per_message="Arrival-Date: today"):
        """A DSN anyone could write: it names the recipient (and maybe a
        guessed ENVID), no token, no Message-ID of ours."""
        return ("From: MAILER-DAEMON@forger.example.com\n"
                "Message-ID: <forged-%d@forger.example.com>\n"
                "MIME-Version: 1.0\n"
                "Content-Type: multipart/report; "
                "report-type=delivery-status; boundary=B\n\n"
                "--B\nContent-Type: message/delivery-status\n\n"
                "Reporting-MTA: dns; forger.example.com\n%s\n\n"
                "Final-Recipient: rfc822; %s\nAction: failed\n"
                "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no such "
                "user\n\n--B--\n" % (n, per_message, recipient))

    def test_forged_reports_are_quarantined_then_confirmed(self):
        """Two forged DSNs naming only UNSG's address used to bounce this
        year's and last year's delivery and make the contact bouncing."""
        with sqlite3.connect(self.db) as c:
            self.add_campaign(c, 2, 1762900000)
            self.add_delivery(c, 201, 2, 1, 1762900000)
        addr = CONTACTS[1]
        for n in (1, 2):
            out = self.run_ok("bounce", stdin=self.forged(n, addr))
            self.assertIn("quarantined #%d: failed %s: matched by recipient "
                          "only: no chancery token in the report, delivery "
                          "201 not changed; confirm with 'chancery bounce "
                          "confirm %d'" % (n, addr, n), out)
        # an old-style sequential ENVID is no better
        out = self.run_ok("bounce", stdin=self.forged(
            3, addr, "Original-Envelope-Id: chancery-1"))
        self.assertIn("quarantined #3: failed %s: matched by a token-less "
                      "ENVID only" % addr, out)
        self.assertEqual(
            self.sql("SELECT id, state FROM deliveries WHERE contact_id = 1 "
                     "ORDER BY id"), [(1, "sent"), (201, "sent")])
        self.assertEqual(self.sql("SELECT status FROM contacts WHERE id = 1"),
                         [("active",)])
        self.assertEqual(self.sql("SELECT count(*) FROM bounce_marks"),
                         [(0,)])
        self.assertEqual(self.sql("SELECT DISTINCT kind FROM events"),
                         [("bounce.quarantined",)])
        # the reports are kept as evidence, each with its suspect
        self.assertEqual(self.sql("SELECT count(*) FROM bounce_reports"),
                         [(3,)])
        rows = json.loads(self.run_ok("--json", "bounce", "list"))
        self.assertEqual([(r["id"], r["delivery"], r["confirmed_by"])
                          for r in rows],
                         [(1, 201, None), (2, 201, None), (3, 1, None)])
        self.assertIn("matched by recipient only", rows[0]["reason"])
        listing = self.run_ok("bounce", "list")
        self.assertIn("chancery bounce confirm 2", listing)

        # a person checks #1 and confirms it
        user = pwd.getpwuid(os.geteuid()).pw_name
        out = self.run_ok("bounce", "confirm", "1")
        self.assertIn("delivery 201 bounced (matched by hand)", out)
        self.assertIn("quarantined report #1 confirmed by %s" % user, out)
        self.assertEqual(
            self.sql("SELECT state FROM deliveries WHERE id = 201"),
            [("bounced",)])
        self.assertEqual(
            self.sql("SELECT confirmed_by, confirmed_at FROM "
                     "bounce_quarantine WHERE id = 1"),
            [(user, 1794470400)])
        kind, data = self.sql("SELECT kind, data FROM events ORDER BY id "
                              "DESC LIMIT 1")[0]
        self.assertEqual(kind, "delivery.bounced")
        data = json.loads(data)
        self.assertEqual((data["matched_by"], data["quarantine"],
                          data["confirmed_by"]), ("hand", 1, user))
        rows = json.loads(self.run_ok("--json", "bounce", "list"))
        self.assertEqual(rows[0]["confirmed_by"], user)
        self.assertEqual(self.sql("SELECT status FROM contacts WHERE id = 1"),
                         [("active",)])

        # refusals: one line, nothing changed
        env = {"CHANCERY_FAKE_NOW": "2026-11-12T08:00:00Z"}
        for args, rc, msg in (
                (["1"], 65, "quarantined report #1 was already confirmed "
                            "by %s" % user),
                (["2"], 65, "quarantined report #2: a failed report does "
                            "not fit delivery 201 in state bounced; "
                            "nothing changed"),
                (["99"], 67, "no quarantined report #99"),
                (["x"], 64, "bad quarantine ID 'x'"),
                ([], 64, "expected one quarantine ID")):
            with self.subTest(args=args):
                self.assertFails(["bounce", "confirm"] + args, rc, msg)
        self.assertEqual(self.home.run("audit", "verify", env=env).rc, 0)

    def test_quarantined_reports_dismissed_with_a_reason(self):
        """Issue 24: the office sets a forged report aside instead of
        confirming it; nothing is applied, the report stays."""
        with sqlite3.connect(self.db) as c:
            self.add_campaign(c, 2, 1762900000)
            self.add_delivery(c, 201, 2, 1, 1762900000)
        addr = CONTACTS[1]
        for n in (1, 2):
            self.run_ok("inbox", stdin=self.forged(n, addr))
        user = pwd.getpwuid(os.geteuid()).pw_name
        out = self.run_ok("inbox", "dismiss", "1", "--reason",
                          "sent by a forger, not our relay")
        self.assertEqual(out, "quarantined report #1 dismissed by %s: sent "
                              "by a forger, not our relay\n" % user)
        self.assertEqual(
            self.sql("SELECT dismissed_by, dismissed_at, dismiss_reason, "
                     "confirmed_at FROM bounce_quarantine WHERE id = 1"),
            [(user, 1794470400, "sent by a forger, not our relay", None)])
        self.assertEqual(
            self.sql("SELECT state FROM deliveries WHERE id = 201"),
            [("sent",)])
        self.assertEqual(self.sql("SELECT count(*) FROM bounce_reports"),
                         [(2,)])
        kind, data = self.sql("SELECT kind, data FROM events ORDER BY id "
                              "DESC LIMIT 1")[0]
        self.assertEqual(kind, "bounce.dismissed")
        self.assertEqual(json.loads(data),
                         {"quarantine": 1, "recipient": addr,
                          "reason": "sent by a forger, not our relay",
                          "dismissed_by": user})
        # the alias, with --json
        res = json.loads(self.run_ok("--json", "bounce", "dismiss",
                                     "--reason", "duplicate of #1", "2"))
        self.assertEqual(res, {"quarantine": 2, "state": "dismissed",
                               "dismissed_by": user,
                               "dismiss_reason": "duplicate of #1"})
        rows = json.loads(self.run_ok("--json", "inbox", "quarantine"))
        self.assertEqual([(r["id"], r["state"], r["dismissed_by"],
                           r["dismiss_reason"], r["confirmed_by"])
                          for r in rows],
                         [(1, "dismissed", user,
                           "sent by a forger, not our relay", None),
                          (2, "dismissed", user, "duplicate of #1", None)])
        self.assertIn("dismissed", self.run_ok("bounce", "list"))

        # refusals: one line, nothing changed
        for args, rc, msg in (
                (["1", "--reason", "again"], 65,
                 "quarantined report #1 was already dismissed by %s at "
                 % user),
                (["99", "--reason", "x"], 67, "no quarantined report #99"),
                (["1", "--reason", ""], 64, "a dismissal needs a reason"),
                (["1", "--reason", "a\nb"], 64,
                 "the dismissal reason must be one line"),
                (["1", "--reason", "z" * 501], 64,
                 "the dismissal reason is longer than 500 bytes"),
                (["1"], 64, "--reason TEXT is required"),
                (["x", "--reason", "y"], 64, "bad quarantine ID 'x'"),
                (["--reason", "y"], 64, "expected one quarantine ID")):
            with self.subTest(args=args):
                self.assertFails(["inbox", "dismiss"] + args, rc, msg)
        # a dismissed report cannot be confirmed
        self.assertFails(["bounce", "confirm", "2"], 65,
                         "quarantined report #2 was already dismissed by "
                         "%s at " % user)
        env = {"CHANCERY_FAKE_NOW": "2026-11-12T08:00:00Z"}
        self.assertEqual(self.home.run("audit", "verify", env=env).rc, 0)

    def test_json_output(self):
        out = self.run_ok("--json", "bounce", stdin=sample("exim.eml"))
        res = json.loads(out)
        self.assertEqual(res["bounced"], 1)
        self.assertFalse(res["duplicate"])
        res = json.loads(self.run_ok("--json", "bounce",
                                     stdin=sample("exim.eml")))
        self.assertTrue(res["duplicate"])
        self.assertEqual(res["bounced"], 0)


if __name__ == "__main__":
    unittest.main()


def make_dsn(n, envid, message_id, recipient, action, status, diagnostic):
    """A DSN as Postfix writes one, for the message chancery sent."""
    per_message = "Reporting-MTA: dns; relay.example.net\n"
    if envid:
        per_message += "Original-Envelope-Id: %s\n" % envid
    return ("From: MAILER-DAEMON@relay.example.net (Mail Delivery System)\n"
            "To: office@ombudsman.example\n"
            "Subject: Undelivered Mail Returned to Sender\n"
            "Message-Id: <dsn-%d@relay.example.net>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status;\n"
            "\tboundary=\"BOUNDARY\"\n\n"
            "--BOUNDARY\nContent-Type: text/plain\n\nReport.\n\n"
            "--BOUNDARY\nContent-Type: message/delivery-status\n\n"
            "%s\nFinal-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n"
            "Diagnostic-Code: %s\n\n"
            "--BOUNDARY\nContent-Type: text/rfc822-headers\n\n"
            "From: office@ombudsman.example\nTo: %s\n"
            "Message-ID: <%s>\n\n"
            "--BOUNDARY--\n" % (n, per_message, recipient, action, status,
                                diagnostic, recipient, message_id))


class AuditAfterBounceTest(harness.TestCase):
    """The registry, template and campaign made with the real commands; the
    deliveries left as the sender leaves them (its module and the daemon
    are not part of this test), then DSNs for them, and the audit."""

    def setUp(self):
        super().setUp()
        h = self.home
        for acronym, kind, email in (
                ("OHCHR", "un-agency", "registry@ohchr.example.org"),
                ("EO", "ombudsman", "office@ombudsman.example.eu"),
                ("EMB", "embassy", "info@embassy.example.az")):
            h.ok("body", "add", "Body " + acronym, "--kind", kind,
                 "--acronym", acronym)
            h.ok("contact", "add", acronym, email)
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "OHCHR", "EO", "EMB")
        path = os.path.join(h.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write("Subject: Statement\n\nTo the {{body.name}}.\n")
        h.ok("template", "add", "stmt", path)
        h.ok("campaign", "create", "khojaly-2026", "--template", "stmt",
             "--list", "all", "--at", "2026-02-25 10:00", "--now", "--tz",
             "Asia/Baku")
        con = sqlite3.connect(h.db)
        with con:
            cid = con.execute("SELECT id FROM campaigns").fetchone()[0]
            for contact, body, email in con.execute(
                    "SELECT id, body_id, email FROM contacts ORDER BY id"
                    ).fetchall():
                con.execute(
                    "INSERT INTO deliveries (id, campaign_id, contact_id, "
                    "body_id, email, state, attempts, message_id, envid, "
                    "reply_code, reply_enhanced, reply_text, queue_id, "
                    "created_at, updated_at, sent_at) VALUES (?, ?, ?, ?, "
                    "?, 'sent', 1, ?, ?, 250, '2.0.0', 'Ok: queued as Q', "
                    "'Q', 0, 0, 1772000000)",
                    (10 + contact, cid, contact, body, email,
                     "%d.%d.x@ombudsman.example" % (cid, 10 + contact),
                     envid_of(10 + contact)))
        con.close()

    def test_audit_shows_bounced_with_the_diagnostic(self):
        h = self.home
        rows = h.sql("SELECT id, email, message_id, envid FROM deliveries "
                     "ORDER BY id")
        (d1, e1, m1, env1), (d2, e2, m2, _), (d3, e3, m3, env3) = rows
        # by ENVID, by Message-ID only, and a success report
        h.ok("bounce", stdin=make_dsn(
            1, env1, m1, e1, "failed", "5.1.1",
            "smtp; 550 5.1.1 <%s>: Recipient address rejected: User "
            "unknown" % e1))
        h.ok("bounce", stdin=make_dsn(
            2, None, m2, e2, "failed", "5.2.2",
            "smtp; 552 5.2.2 Mailbox full"))
        h.ok("bounce", stdin=make_dsn(
            3, env3, m3, e3, "delivered", "2.0.0", "smtp; 250 2.0.0 Ok"))
        r = h.ok("audit", "campaign", "khojaly-2026", "--format", "json")
        report = json.loads(r.out)
        by_email = {d["email"]: d for d in report["deliveries"]}
        self.assertEqual(by_email[e1]["state"], "bounced")
        self.assertIn("User unknown", by_email[e1]["reason"])
        self.assertEqual(by_email[e2]["state"], "bounced")
        self.assertIn("552 5.2.2 Mailbox full", by_email[e2]["reason"])
        self.assertEqual(by_email[e3]["state"], "delivered")
        # the relay's acceptance stays on record next to the bounce
        self.assertEqual(by_email[e1]["reply_code"], 250)
        self.assertEqual(report["totals"]["bounced"], 2)
        self.assertEqual(report["totals"]["delivered"], 1)
        text = h.ok("audit", "campaign", "khojaly-2026").out
        self.assertIn("bounced", text)
        self.assertIn("Mailbox full", text)
        h.ok("audit", "verify")


CHANCERYD = os.path.join(harness.BIN_DIR, "chanceryd")


def exim_bounce(n, recipient, original):
    """Exim's plain-text bounce quoting the original message's headers:
    no DSN part, no Original-Envelope-Id."""
    headers = original.split("\r\n\r\n", 1)[0].replace("\r\n", "\n")
    return ("From: Mail Delivery System <Mailer-Daemon@mx.example.az>\n"
            "To: office@ombudsman.example\n"
            "Subject: Mail delivery failed: returning message to sender\n"
            "Message-Id: <E1exim-%d@mx.example.az>\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            "This message was created automatically by mail delivery "
            "software.\n\n"
            "A message that you sent could not be delivered to one or more "
            "of its\nrecipients. This is a permanent error. The following "
            "address(es) failed:\n\n"
            "  %s\n    host mx.example.az [192.0.2.44]\n"
            "    SMTP error from remote mail server after RCPT TO:<%s>:\n"
            "    550 5.7.1 Mailbox unavailable or access denied\n\n"
            "------ This is a copy of the message's headers. ------\n\n"
            "%s\n" % (n, recipient, recipient, headers))


@unittest.skipUnless(os.path.exists(CHANCERYD) and os.path.exists(harness.PEER),
                     "needs chanceryd and the SMTP peer")
class EndToEndTest(harness.TestCase):
    """A campaign sent by chanceryd through the real SMTP peer (which
    accepts everything, as a relay does); days later DSNs come back for
    some recipients, and the audit shows them bounced with the diagnostic.
    A second campaign bouncing for the same contact makes it bouncing, and
    the third campaign skips it."""

    def setUp(self):
        super().setUp()
        h = self.home
        self.peer_dir = os.path.join(h.dir, "peer")
        self.peer = harness.Peer(self.peer_dir)
        port = self.peer.port
        h.write_conf('transport = { kind = "smtp"; smtp = { host = '
                     '"127.0.0.1"; port = %s; }; };\n'
                     'bounce = { threshold = 2; };\n' % port)
        for acronym, kind, addr in (
                ("OHCHR", "un-agency", "registry@ohchr.example.org"),
                ("EO", "ombudsman", "office@ombudsman.example.eu"),
                ("EMB", "embassy", "info@embassy.example.az")):
            h.ok("body", "add", "Body " + acronym, "--kind", kind,
                 "--acronym", acronym)
            h.ok("contact", "add", acronym, addr)
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "OHCHR", "EO", "EMB")
        path = os.path.join(h.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write("Subject: Statement\n\nTo the {{body.name}}.\n")
        h.ok("template", "add", "stmt", path)
        self.received = 0  # messages of earlier campaigns in the peer's log

    def tearDown(self):
        self.peer.stop()
        super().tearDown()

    def send_campaign(self, name, day):
        """Creates, schedules and sends a campaign; returns what the relay
        received: recipient -> (ENVID asked for, message text)."""
        h = self.home
        h.ok("campaign", "create", name, "--template", "stmt", "--list",
             "all", "--at", "2025-02-%02d 10:00" % day, "--now", "--tz", "UTC")
        h.ok("campaign", "schedule", name, "--now")
        h.ok("--once", prog="chanceryd")
        got = {}
        with open(os.path.join(self.peer_dir, "log.jsonl")) as f:
            events = [json.loads(line) for line in f]
        messages = [ev for ev in events if ev["event"] == "message"]
        for ev in messages[self.received:]:
            with open(os.path.join(self.peer_dir, ev["file"]),
                      encoding="utf-8") as m:
                got[ev["rcpt_tos"][0]] = (ev["dsn"]["envid"], m.read())
        self.received = len(messages)
        return got

    def audit(self, name):
        r = self.home.ok("audit", "campaign", name, "--format", "json")
        return {d["email"]: d for d in json.loads(r.out)["deliveries"]}

    def test_campaign_dsns_audit_and_bouncing(self):
        h = self.home
        ohchr, eo, emb = ("registry@ohchr.example.org",
                          "office@ombudsman.example.eu",
                          "info@embassy.example.az")
        sent = self.send_campaign("feb", 20)
        self.assertEqual(set(sent), {ohchr, eo, emb})
        self.assertEqual(set(self.audit("feb")[a]["state"] for a in sent),
                         {"sent"})

        # A standard DSN by ENVID, on stdin as an MTA alias pipes it.
        envid, text = sent[ohchr]
        msgid = email.message_from_string(text)["Message-ID"].strip("<>")
        r = h.ok("bounce", stdin=make_dsn(
            1, envid, msgid, ohchr, "failed", "5.1.1",
            "smtp; 550 5.1.1 <%s>: Recipient address rejected: User "
            "unknown in virtual mailbox table" % ohchr))
        self.assertIn("bounced (matched by envid)", r.out)
        # The ENVID the relay was given carries a random token.
        self.assertRegex(envid, r"^chancery-\d+-[0-9a-f]{16}$")
        # A forged DSN for EO, naming only its address (and a guessed
        # sequential ENVID), changes nothing: it waits in quarantine.
        eo_id = h.scalar("SELECT d.id FROM deliveries d JOIN campaigns c "
                         "ON c.id = d.campaign_id WHERE c.name = 'feb' "
                         "AND d.email = ?", eo)
        r = h.ok("bounce", stdin=make_dsn(
            9, "chancery-%d" % eo_id, "forged@attacker.example", eo,
            "failed", "5.1.1", "smtp; 550 5.1.1 User unknown"))
        self.assertIn("matched by a token-less ENVID only", r.out)
        self.assertIn("delivery %d not changed" % eo_id, r.out)
        # An Exim bounce quoting the headers, through a Maildir: no DSN
        # part, but the quoted X-Chancery-Delivery names the delivery.
        self.assertIn("X-Chancery-Delivery: %s" % sent[emb][0], sent[emb][1])
        md = os.path.join(h.dir, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub))
        with open(os.path.join(md, "new", "1.M1P1.host"), "w") as f:
            f.write(exim_bounce(2, emb, sent[emb][1]))
        r = h.ok("bounce", "--maildir", md)
        self.assertIn("bounced (matched by envid)", r.out)
        self.assertEqual(os.listdir(os.path.join(md, "cur")),
                         ["1.M1P1.host:2,S"])

        feb = self.audit("feb")
        self.assertEqual(feb[ohchr]["state"], "bounced")
        self.assertIn("User unknown in virtual mailbox table",
                      feb[ohchr]["reason"])
        self.assertEqual(feb[emb]["state"], "bounced")
        self.assertIn("550 5.7.1 Mailbox unavailable", feb[emb]["reason"])
        self.assertEqual(feb[eo]["state"], "sent")
        # what the relay said at the time stays on record
        self.assertEqual(feb[ohchr]["reply_code"], 250)

        # The next campaign bounces for OHCHR again: two in a row.
        envid, text = self.send_campaign("mar", 21)[ohchr]
        msgid = email.message_from_string(text)["Message-ID"].strip("<>")
        r = h.ok("bounce", stdin=make_dsn(
            3, envid, msgid, ohchr, "failed", "5.1.1",
            "smtp; 550 5.1.1 User unknown"))
        self.assertIn("is now bouncing", r.out)
        status, reason = h.sql("SELECT status, status_reason FROM contacts "
                               "WHERE email = ?", ohchr)[0]
        self.assertEqual(status, "bouncing")
        self.assertIn("2 consecutive campaigns: mar, feb", reason)
        # ... and the third campaign skips the contact, saying why.
        sent = self.send_campaign("apr", 22)
        self.assertEqual(set(sent), {eo, emb})
        apr = self.audit("apr")
        self.assertEqual(apr[ohchr]["state"], "skipped")
        self.assertIn("consecutive campaigns", apr[ohchr]["reason"])
        self.assertEqual(h.run("audit", "verify").rc, 0)
