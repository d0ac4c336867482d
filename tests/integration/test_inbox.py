"""`chancery inbox` end to end: a campaign sent by chanceryd through the
real SMTP peer with bounce.address set (VERP), then what comes back, in a
Maildir and on stdin: a VERP bounce naming a wrong recipient, a DSN with
ENVID, an unreadable message (and an MDN, an automatic answer and a
person's reply, read by response.c). Every message is kept, the command
exits 0, and reading any of them again changes nothing."""

import email
import json
import os
import shutil
import sqlite3
import subprocess
import time
import unittest

import harness

CHANCERYD = os.path.join(harness.BIN_DIR, "chanceryd")
BOUNCE_BASE = "bounces@ombudsman.example"
OHCHR, EO, EMB = ("registry@ohchr.example.org", "office@ombudsman.example.eu",
                  "info@embassy.example.az")


def dsn(n, recipient, status, envid=None, extra_headers=""):
    """An RFC 3464 report; envid None: no Original-Envelope-Id."""
    per_message = "Reporting-MTA: dns; mx.example.net\n"
    if envid:
        per_message += "Original-Envelope-Id: %s\n" % envid
    return (extra_headers +
            "From: MAILER-DAEMON@mx.example.net\n"
            "To: %s\n"
            "Subject: Undelivered Mail Returned to Sender\n"
            "Message-ID: <dsn-%d@mx.example.net>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; "
            "boundary=\"B\"\n\n"
            "--B\nContent-Type: text/plain\n\nYour message could not be "
            "delivered.\n\n"
            "--B\nContent-Type: message/delivery-status\n\n"
            "%s\n"
            "Final-Recipient: rfc822; %s\nAction: failed\nStatus: %s\n"
            "Diagnostic-Code: smtp; 550 %s refused\n\n"
            "--B--\n" % (BOUNCE_BASE, n, per_message, recipient, status,
                         status))


def mdn(msgid):
    return ("From: %s\nTo: %s\nSubject: Read: Statement\n"
            "Message-ID: <mdn-1@ombudsman.example.eu>\n"
            "Date: Fri, 27 Feb 2025 09:00:00 +0000\n"
            "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; "
            "report-type=disposition-notification; boundary=\"M\"\n\n"
            "--M\nContent-Type: text/plain\n\nYour message was displayed.\n"
            "--M\nContent-Type: message/disposition-notification\n\n"
            "Reporting-UA: mail.ombudsman.example.eu; Outlook\n"
            "Final-Recipient: rfc822; %s\n"
            "Original-Message-ID: <%s>\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\n\n"
            "--M--\n" % (EO, BOUNCE_BASE, EO, msgid))


def auto_reply(msgid):
    return ("From: %s\nTo: office@ombudsman.example\n"
            "Subject: Automatic reply: Statement\n"
            "Message-ID: <ooo-1@ombudsman.example.eu>\n"
            "Auto-Submitted: auto-replied\nIn-Reply-To: <%s>\n\n"
            "I am out of the office until 3 March.\n" % (EO, msgid))


def reply(msgid):
    return ("From: %s\nTo: office@ombudsman.example\n"
            "Subject: Re: Statement\n"
            "Message-ID: <re-1@ombudsman.example.eu>\n"
            "In-Reply-To: <%s>\nReferences: <%s>\n\n"
            "We acknowledge receipt of your statement.\n" % (EO, msgid,
                                                             msgid))


GARBAGE = "this is not\x01 a message at all\n"


@unittest.skipUnless(os.path.exists(CHANCERYD) and os.path.exists(harness.PEER),
                     "needs chanceryd and the SMTP peer")
class InboxSetup(harness.TestCase):
    """A campaign sent through the SMTP peer with VERP, and a Maildir."""

    def setUp(self):
        super().setUp()
        h = self.home
        self.peer_dir = os.path.join(h.dir, "peer")
        self.peer = harness.Peer(self.peer_dir)
        self.conf_extra = ('transport = { kind = "smtp"; smtp = { host = '
                           '"127.0.0.1"; port = %s; }; };\n'
                           'bounce = { threshold = 1; address = "%s"; };\n'
                           % (self.peer.port, BOUNCE_BASE))
        h.write_conf(self.conf_extra)
        for acronym, kind, addr in (("OHCHR", "un-agency", OHCHR),
                                    ("EO", "ombudsman", EO),
                                    ("EMB", "embassy", EMB)):
            h.ok("body", "add", "Body " + acronym, "--kind", kind,
                 "--acronym", acronym)
            h.ok("contact", "add", acronym, addr)
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "OHCHR", "EO", "EMB")
        path = os.path.join(h.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write("Subject: Statement\n\nTo the {{body.name}}.\n")
        h.ok("template", "add", "stmt", path)
        h.ok("campaign", "create", "feb", "--template", "stmt", "--list",
             "all", "--at", "2025-02-20 10:00", "--now", "--tz", "UTC")
        h.ok("campaign", "schedule", "feb", "--now")
        h.ok("--once", prog="chanceryd")
        # recipient -> (ENVID, MAIL FROM, Message-ID)
        self.sent = {}
        for ev in self.peer.messages():
            text = self.peer.content(ev)
            msgid = email.message_from_string(text)["Message-ID"]
            self.sent[ev["rcpt_tos"][0]] = (ev["dsn"]["envid"],
                                            ev["mail_from"],
                                            msgid.strip().strip("<>"))
        self.md = os.path.join(h.dir, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(self.md, sub))

    def tearDown(self):
        self.peer.stop()
        super().tearDown()

    def drop(self, name, text):
        with open(os.path.join(self.md, "new", name), "w") as f:
            f.write(text)

    def delivery(self, addr):
        return self.home.sql("SELECT id, state, bounce_class FROM deliveries "
                             "WHERE email = ?", addr)[0]

    def reread_changes_nothing(self):
        """Every message of cur/ dropped into new/ again: each is
        recognised, moved, and nothing in the database changes."""
        names = sorted(os.listdir(os.path.join(self.md, "cur")))
        for name in names:
            shutil.copy(os.path.join(self.md, "cur", name),
                        os.path.join(self.md, "new", name.split(":")[0]))
        os.rename(os.path.join(self.md, "cur"),
                  os.path.join(self.md, "cur.old"))
        os.makedirs(os.path.join(self.md, "cur"))
        before = self.home.snapshot()
        r = self.home.ok("inbox", "--maildir", self.md)
        self.assertEqual(r.out.count("read before, nothing changed"),
                         len(names), r)
        self.assertEqual(self.home.snapshot(), before)
        self.assertEqual(os.listdir(os.path.join(self.md, "new")), [])


class InboxTest(InboxSetup):
    def test_verp_envelope_sender(self):
        self.assertEqual(set(self.sent), {OHCHR, EO, EMB})
        for addr, (envid, mail_from, _) in self.sent.items():
            self.assertRegex(envid, r"^chancery-\d+-[0-9a-f]{16}$")
            self.assertEqual(mail_from, "bounces+%s@ombudsman.example"
                             % envid)
            did = self.home.scalar("SELECT id FROM deliveries WHERE "
                                   "email = ?", addr)
            self.assertTrue(envid.startswith("chancery-%d-" % did))

    def test_maildir_reports_and_unreadable(self):
        h = self.home
        ohchr_envid = self.sent[OHCHR][0]
        # VERP bounce: no ENVID, and it names a wrong recipient (EO's); the
        # envelope (Delivered-To, as a local MDA writes it) names OHCHR's
        self.drop("1000.M1P1.host", dsn(
            1, EO, "5.1.1",
            extra_headers="Delivered-To: bounces+%s@ombudsman.example\n"
            % ohchr_envid))
        # a DSN with ENVID: a policy block, recorded, not held against EMB
        self.drop("1001.M2P1.host", dsn(2, EMB, "5.7.1",
                                        envid=self.sent[EMB][0]))
        self.drop("1002.M3P1.host", GARBAGE)
        r = h.run("inbox", "--maildir", self.md)
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("error", r.err)
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 4, r)
        self.assertIn("1000.M1P1.host: report dsn (inbound #1): delivery",
                      lines[0])
        self.assertIn("bounced (matched by verp)", lines[0])
        self.assertIn("[class address]", lines[0])
        self.assertIn("bounced (matched by envid)", lines[1])
        self.assertIn("[class policy]", lines[1])
        self.assertIn("1002.M3P1.host: unreadable (inbound #3): ", lines[2])
        self.assertEqual(lines[3], "3 of 3 messages read from %s" % self.md)
        self.assertEqual(os.listdir(os.path.join(self.md, "new")), [])
        self.assertEqual(sorted(os.listdir(os.path.join(self.md, "cur"))),
                         ["1000.M1P1.host:2,S", "1001.M2P1.host:2,S",
                          "1002.M3P1.host:2,S"])

        ohchr, emb, eo = (self.delivery(OHCHR), self.delivery(EMB),
                          self.delivery(EO))
        self.assertEqual(ohchr[1:], ("bounced", "address"))
        self.assertEqual(emb[1:], ("bounced", "policy"))
        self.assertEqual(eo[1:], ("sent", None))
        rows = h.sql("SELECT id, source, origin, kind, format, delivery_id, "
                     "envelope_to, length(raw) FROM inbound_messages "
                     "ORDER BY id")
        self.assertEqual(rows[0][:6], (1, "maildir", "1000.M1P1.host",
                                       "report", "dsn", ohchr[0]))
        self.assertEqual(rows[0][6], "bounces+%s@ombudsman.example"
                         % ohchr_envid)
        self.assertEqual(rows[1][:6], (2, "maildir", "1001.M2P1.host",
                                       "report", "dsn", emb[0]))
        self.assertEqual(rows[2][:6], (3, "maildir", "1002.M3P1.host",
                                       "unreadable", None, None))
        self.assertEqual(rows[2][7], len(GARBAGE))
        self.assertEqual(h.sql("SELECT inbound_id, raw FROM bounce_reports "
                               "ORDER BY id"), [(1, None), (2, None)])
        # threshold 1: the address bounce marks OHCHR, the block does not
        statuses = dict(h.sql("SELECT email, status FROM contacts"))
        self.assertEqual(statuses[OHCHR], "bouncing")
        self.assertEqual(statuses[EMB], "active")
        data = json.loads(h.scalar(
            "SELECT data FROM events WHERE kind = 'delivery.bounced' AND "
            "delivery_id = ?", emb[0]))
        self.assertEqual(data["class"], "policy")
        q = json.loads(h.scalar("SELECT data FROM events WHERE kind = "
                                "'inbound.quarantined'"))
        self.assertEqual(q["inbound"], 3)
        self.assertIn("not", q["reason"])

        listing = json.loads(h.ok("--json", "inbox", "list").out)
        self.assertEqual([(x["kind"], x["delivery"]) for x in listing],
                         [("report", ohchr[0]), ("report", emb[0]),
                          ("unreadable", None)])
        only = json.loads(h.ok("--json", "inbox", "list", "--kind",
                               "unreadable").out)
        self.assertEqual([x["id"] for x in only], [3])
        self.assertTrue(only[0]["reason"])
        self.assertEqual(h.run("audit", "verify").rc, 0)
        self.reread_changes_nothing()

    def test_stdin_envelope_from_the_mta(self):
        """Postfix's pipe sets ORIGINAL_RECIPIENT; --envelope-to wins over
        it. Both name the delivery by VERP whatever the report says."""
        h = self.home
        eo_envid, emb_envid = self.sent[EO][0], self.sent[EMB][0]
        r = h.run("--json", "inbox", stdin=dsn(5, "nobody@example.org",
                                               "5.1.1"),
                  env={"ORIGINAL_RECIPIENT":
                       "bounces+%s@ombudsman.example" % eo_envid})
        self.assertEqual(r.rc, 0, r)
        res = json.loads(r.out)
        self.assertEqual(res["kind"], "report")
        self.assertEqual(res["source"], "stdin")
        self.assertEqual(res["delivery"], self.delivery(EO)[0])
        self.assertEqual(res["bounced"], 1)
        self.assertEqual(res["class"], "address")
        r = h.run("--json", "bounce", "--envelope-to",
                  "bounces+%s@ombudsman.example" % emb_envid,
                  stdin=dsn(6, "nobody@example.org", "5.2.2"),
                  env={"ORIGINAL_RECIPIENT":
                       "bounces+%s@ombudsman.example" % eo_envid})
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(json.loads(r.out)["delivery"],
                         self.delivery(EMB)[0])
        self.assertEqual(self.delivery(EMB)[1:], ("bounced", "mailbox"))
        # a forged VERP token names nothing: quarantined, nothing applied
        r = h.run("inbox", "--envelope-to",
                  "bounces+chancery-1-0000000000000000@ombudsman.example",
                  stdin=dsn(7, OHCHR, "5.1.1"))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("quarantined", r.out)
        self.assertEqual(self.delivery(OHCHR)[1], "sent")

    def responses(self):
        eo_mid = self.sent[EO][2]
        self.drop("2000.M1P1.host", mdn(eo_mid))
        self.drop("2001.M2P1.host", auto_reply(eo_mid))
        self.drop("2002.M3P1.host", reply(eo_mid))
        r = self.home.run("inbox", "--maildir", self.md)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(os.listdir(os.path.join(self.md, "new")), [])
        return r

    def test_responses_are_kept_whatever_reads_them(self):
        """Whatever response.c makes of them, none is lost or bounces."""
        self.responses()
        self.assertEqual(self.home.scalar("SELECT count(*) FROM "
                                          "inbound_messages"), 3)
        self.assertEqual(self.delivery(EO)[1:], ("sent", None))
        self.assertEqual(self.home.scalar("SELECT count(*) FROM "
                                          "bounce_reports"), 0)
        self.reread_changes_nothing()

    def test_mdn_auto_reply_and_reply(self):
        h = self.home
        r = self.responses()
        eo_id = self.delivery(EO)[0]
        self.assertEqual(h.sql("SELECT kind, delivery_id FROM "
                               "inbound_messages ORDER BY id"),
                         [("mdn", eo_id), ("auto_reply", eo_id),
                          ("reply", eo_id)])
        self.assertEqual(h.sql("SELECT kind, disposition FROM "
                               "delivery_responses ORDER BY id"),
                         [("acknowledged", "displayed"),
                          ("auto_replied", None), ("replied", None)])
        self.assertIn("mdn", r.out)
        self.assertEqual(self.delivery(EO)[1], "sent")
        self.reread_changes_nothing()


class DaemonMaildirTest(InboxSetup):
    """chanceryd reads inbox.maildir (relative to the configuration file)
    every inbox.interval, as `chancery inbox --maildir` does: messages
    dropped into new/ while it runs are kept, applied and moved to cur/,
    each poll logs what came back by kind, an unreadable message is a
    warning naming its inbound id, and a Maildir that goes away is an
    error each poll while the daemon goes on."""

    def test_daemon_reads_the_maildir_every_interval(self):
        h = self.home
        h.write_conf(self.conf_extra + 'inbox = { maildir = "Maildir"; '
                     'interval = "1s"; };\n')
        self.assertEqual(h.ok("config", "check").rc, 0)
        log = open(os.path.join(h.dir, "daemon.log"), "w+")
        self.addCleanup(log.close)
        env = dict(os.environ)
        env.pop("CHANCERY_CONFIG", None)
        env.pop("NOTIFY_SOCKET", None)
        d = subprocess.Popen(h.command("chanceryd") +
                             ["--config", h.conf, "--foreground"],
                             stdout=subprocess.DEVNULL, stderr=log, env=env,
                             cwd="/")
        try:
            self.wait_for(lambda: "inbox: polled maildir" in text(log),
                          "the first poll", log)
            # written to tmp/, then moved into new/, as an MDA does
            for name, body in (("2000.M1P1.host",
                                dsn(7, EMB, "5.1.1",
                                    envid=self.sent[EMB][0])),
                               ("2001.M2P1.host", GARBAGE)):
                tmp = os.path.join(self.md, "tmp", name)
                with open(tmp, "w") as f:
                    f.write(body)
                os.rename(tmp, os.path.join(self.md, "new", name))
            self.wait_for(lambda: sorted(os.listdir(
                os.path.join(self.md, "cur"))) == ["2000.M1P1.host:2,S",
                                                   "2001.M2P1.host:2,S"],
                "the messages to be moved to cur/", log)
            self.wait_for(lambda: "taken=2" in text(log),
                          "the poll's log line", log)
            # the Maildir goes away: an error each poll, the daemon goes on
            os.rename(self.md, self.md + ".gone")
            self.wait_for(lambda: "not a Maildir" in text(log),
                          "the failed poll's log line", log)
            self.assertIsNone(d.poll(), text(log))
            os.rename(self.md + ".gone", self.md)
            polls = text(log).count("inbox: polled maildir")
            self.wait_for(lambda: text(log).count("inbox: polled maildir")
                          > polls, "a poll after the Maildir is back", log)
        finally:
            d.terminate()
            d.wait(10)
        out = text(log)
        self.assertEqual(d.returncode, 0, out)
        self.assertEqual(os.listdir(os.path.join(self.md, "new")), [])
        rows = h.sql("SELECT id, source, origin, kind, delivery_id "
                     "FROM inbound_messages ORDER BY id")
        emb = self.delivery(EMB)
        self.assertEqual(rows, [(1, "maildir", "2000.M1P1.host", "report",
                                 emb[0]),
                                (2, "maildir", "2001.M2P1.host",
                                 "unreadable", None)])
        self.assertEqual(emb[1:], ("bounced", "address"))
        self.assertEqual(dict(h.sql("SELECT email, status FROM contacts"))
                         [EMB], "bouncing")
        md = os.path.join(h.dir, "Maildir")
        self.assertIn("inbox: polled maildir %s new=2 taken=2 skipped=0 "
                      "report=1 mdn=0 auto_reply=0 reply=0 complaint=0 "
                      "unreadable=1 duplicate=0" % md, out)
        self.assertRegex(out, r"warn: inbox: unreadable message kept as "
                         r"inbound #2 \(2001\.M2P1\.host\): \S")
        self.assertIn("error: inbox: %s: not a Maildir (no new/): No such "
                      "file or directory; trying again in 1 s" % md, out)
        self.assertEqual(h.run("audit", "verify").rc, 0)

    def wait_for(self, predicate, what, log, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.1)
        self.fail("timed out waiting for %s:\n%s" % (what, text(log)))


def text(log):
    log.flush()
    with open(log.name) as f:
        return f.read()


class MaildirBatchTest(harness.TestCase):
    """A Maildir run keeps its messages in batches (one commit for many):
    a database failure rolls the open batch back and leaves its messages
    in new/, and the next run takes them all."""

    def test_database_failure_leaves_the_batch_in_new(self):
        h = self.home
        md = os.path.join(h.dir, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub))
        for i in range(3):
            with open(os.path.join(md, "new", "%d.M%dP1.host" % (i, i)),
                      "w") as f:
                f.write("Subject: note %d\n\nhello\n" % i)
        con = sqlite3.connect(h.db)
        con.execute("CREATE TRIGGER boom BEFORE INSERT ON inbound_messages "
                    "WHEN NEW.origin LIKE '2.%' BEGIN SELECT RAISE(ABORT, "
                    "'disk on fire'); END")
        con.commit()
        con.close()
        r = h.run("inbox", "--maildir", md)
        self.assertEqual(r.rc, 65, r)
        self.assertIn("disk on fire", r.err)
        self.assertIn("0 of 3 messages read", r.out)
        self.assertEqual(h.scalar("SELECT count(*) FROM inbound_messages"),
                         0)
        self.assertEqual(h.scalar("SELECT count(*) FROM events"), 0)
        self.assertEqual(len(os.listdir(os.path.join(md, "new"))), 3)
        h.sql("DROP TRIGGER boom")
        r = h.ok("inbox", "--maildir", md)
        self.assertIn("3 of 3 messages read", r.out)
        self.assertEqual(h.sql("SELECT origin, kind FROM inbound_messages "
                               "ORDER BY id"),
                         [("0.M0P1.host", "unreadable"),
                          ("1.M1P1.host", "unreadable"),
                          ("2.M2P1.host", "unreadable")])
        self.assertEqual(os.listdir(os.path.join(md, "new")), [])


if __name__ == "__main__":
    unittest.main()
