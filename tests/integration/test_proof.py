"""Proofs, test sends and notifications end to end: the built `chancery`
and `chanceryd` against a real database, the maildir outbox and the real
SMTP peer (smtp_peer.py). Checks the files and messages (parsed with
Python's email package), the ledger and the deliveries table."""
import email
import email.policy
import glob
import json
import os
import re
import shutil
import stat
import subprocess
import unittest

from harness import BIN_DIR, Peer, TestCase

TEMPLATE = """Subject: Statement on the {{anniversary.ordinal}} anniversary
Attach: statement.pdf

{{#contact.name}}Dear {{contact.name}},{{/contact.name}}{{^contact.name}}Dear colleagues,{{/contact.name}}

The statement, addressed to {{body.name}}.
Sincerely, the Office
--- html ---
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Statement</title></head>
<body><p>{{#contact.name}}Dear {{contact.name}},{{/contact.name}}{{^contact.name}}Dear colleagues,{{/contact.name}}</p>
<p>The statement, addressed to {{body.name}}.</p>
<img src="https://tracker.example/pixel.png" alt="">
<p>Sincerely, the Office</p></body></html>
"""

SMALL = ("Subject: Statement\n\nTo the {{body.name}}.\n")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def outbox_messages(home):
    out = []
    for path in sorted(glob.glob(os.path.join(home.outbox, "new", "*"))):
        with open(path, "rb") as f:
            out.append(parse(f.read()))
    return out


def events(home, kind):
    return [(i, json.loads(d)) for i, d in home.sql(
        "SELECT id, data FROM events WHERE kind = ? ORDER BY id", kind)]


class Fixture(TestCase):
    """Three bodies on list 'all': UNSG (a named contact), OSCE (two
    unnamed contacts and a disabled one), EMB (no contact); a template
    with an HTML part and an attachment; campaign 'feb' (a draft)."""

    def setUp(self):
        super().setUp()
        h = self.home
        h.ok("body", "add", "Secretary-General of the United Nations",
             "--kind", "un-organ", "--acronym", "UNSG")
        h.ok("body", "add", "Organization for Security and Co-operation "
             "in Europe", "--kind", "regional-org", "--acronym", "OSCE")
        h.ok("body", "add", "Embassy of Nowhere", "--kind", "embassy",
             "--acronym", "EMB")
        h.ok("contact", "add", "UNSG", "sg@un.example.org", "--name",
             "António Guterres")
        h.ok("contact", "add", "OSCE", "pc@osce.example.org")
        h.ok("contact", "add", "OSCE", "sec@osce.example.org")
        h.ok("contact", "add", "OSCE", "old@osce.example.org")
        h.ok("contact", "disable", "old@osce.example.org", "--reason",
             "left office")
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "UNSG", "OSCE", "EMB")
        h.ok("list", "create", "empty")
        folder = os.path.join(h.dir, "tmpl")
        os.mkdir(folder)
        with open(os.path.join(folder, "statement.pdf"), "wb") as f:
            f.write(b"%PDF-1.4 statement\n")
        with open(os.path.join(folder, "stmt.tmpl"), "w") as f:
            f.write(TEMPLATE)
        h.ok("template", "add", "stmt", os.path.join(folder, "stmt.tmpl"))
        with open(os.path.join(h.dir, "small.tmpl"), "w") as f:
            f.write(SMALL)
        h.ok("template", "add", "small", os.path.join(h.dir, "small.tmpl"))
        h.ok("campaign", "create", "feb", "--template", "stmt", "--list",
             "all", "--at", "2099-02-25 10:00", "--tz", "UTC",
             "--event-date", "1992-02-26")


class ProofTest(Fixture):
    def proof(self, *extra):
        out = os.path.join(self.home.dir, "proofs")
        r = self.home.ok("campaign", "proof", "feb", "--out", out, *extra)
        return out, r

    def test_one_proof_per_rendering_with_an_index(self):
        out, r = self.proof()
        self.assertIn("2 proofs for 3 addressees", r.out)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o700)
        names = sorted(os.listdir(out))
        self.assertEqual(names, [
            "01-UNSG.eml", "01-UNSG.html", "01-UNSG.txt",
            "02-OSCE.eml", "02-OSCE.html", "02-OSCE.txt", "proofs.txt"])
        for n in names:
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(out, n))
                                          .st_mode), 0o600, n)
        with open(os.path.join(out, "proofs.txt")) as f:
            index = f.read()
        # the two OSCE contacts read the same text: one proof for both;
        # the disabled contact and the body with no contact are not there
        self.assertRegex(index, r"02-OSCE: 02-OSCE.txt, 02-OSCE.html, "
                         r"02-OSCE.eml\n  stands for 2 addressees:\n"
                         r"    OSCE  .*<pc@osce.example.org>\n"
                         r"    OSCE  .*<sec@osce.example.org>\n")
        self.assertRegex(index, r"01-UNSG: .*\n  stands for 1 addressee:\n"
                         r"    UNSG  .*<sg@un.example.org>\n")
        self.assertIn("1 contact of the list would not be sent to", index)
        self.assertNotIn("old@osce", index)
        self.assertIn("3 addressees, 2 distinct renderings", index)

        with open(os.path.join(out, "01-UNSG.eml"), "rb") as f:
            msg = parse(f.read())
        self.assertEqual(msg["Subject"],
                         "Statement on the 107th anniversary")
        self.assertEqual(msg["To"].addresses[0].addr_spec,
                         "sg@un.example.org")
        self.assertIsNone(msg["X-Chancery-Delivery"])
        text = msg.get_body(("plain",)).get_content()
        with open(os.path.join(out, "01-UNSG.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), text.replace("\r\n", "\n"))
        self.assertIn("Dear António Guterres,", text)
        attachments = [p.get_filename() for p in msg.iter_attachments()]
        self.assertEqual(attachments, ["statement.pdf"])

        with open(os.path.join(out, "01-UNSG.html"), encoding="utf-8") as f:
            page = f.read()
        # nothing is fetched from outside: no external source, and a
        # policy that forbids any
        self.assertIsNone(re.search(r"""(src|href|srcset)\s*=\s*["']?"""
                                    r"(https?:)?//", page, re.I), page)
        self.assertIn("Content-Security-Policy", page)
        self.assertIn("default-src 'none'", page)
        self.assertIn("Attachments: statement.pdf (application/pdf, "
                      "19 bytes)", page)
        self.assertIn("Dear António Guterres,", page)
        self.assertLess(page.index("Attachments:"),
                        page.index("Dear António"))

        with open(os.path.join(out, "02-OSCE.txt")) as f:
            self.assertIn("Dear colleagues,", f.read())
        # a proof is no delivery and changes nothing
        self.assertEqual(self.home.scalar("SELECT count(*) FROM deliveries"),
                         0)

    def test_a_directory_that_is_not_empty_is_refused(self):
        out, _ = self.proof()
        with open(os.path.join(out, "01-UNSG.txt")) as f:
            before = f.read()
        r = self.home.run("campaign", "proof", "feb", "--out", out)
        self.assertEqual(r.rc, 73, r)
        self.assertIn("is not empty; give --force", r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        with open(os.path.join(out, "01-UNSG.txt")) as f:
            self.assertEqual(f.read(), before)
        # --force replaces the proofs: an old proof goes, other files stay
        for name in ("09-OLD.eml", "notes.md"):
            with open(os.path.join(out, name), "w") as f:
                f.write("x")
        self.proof("--force")
        self.assertFalse(os.path.exists(os.path.join(out, "09-OLD.eml")))
        self.assertTrue(os.path.exists(os.path.join(out, "notes.md")))
        self.assertTrue(os.path.exists(os.path.join(out, "02-OSCE.eml")))

    def test_default_directory_and_empty_list(self):
        env = dict(os.environ, NO_COLOR="1")
        env.pop("CHANCERY_CONFIG", None)
        r = subprocess.run([os.path.join(BIN_DIR, "chancery"), "--config",
                            self.home.conf, "campaign", "proof", "feb"],
                           cwd=self.home.dir, capture_output=True,
                           text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(
            self.home.dir, "proofs-feb", "proofs.txt")))
        self.home.ok("campaign", "create", "none", "--template", "small",
                     "--list", "empty", "--at", "2025-02-25 10:00", "--now")
        out = os.path.join(self.home.dir, "none-proofs")
        self.assertFails(["campaign", "proof", "none", "--out", out], 67,
                         "list 'empty' has no active contact")
        self.assertFalse(os.path.exists(out))


class TestSendTest(Fixture):
    def test_maildir_one_marked_message_and_no_delivery(self):
        r = self.home.ok("campaign", "test", "feb", "--to",
                         "me@office.example", "--body", "OSCE")
        self.assertIn("test message for OSCE sent to <me@office.example>",
                      r.out)
        msgs = outbox_messages(self.home)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(m["Subject"],
                         "[TEST] Statement on the 107th anniversary")
        self.assertEqual(m["X-Chancery-Test"], "yes")
        self.assertEqual(m["Delivered-To"], "me@office.example")
        # the message that body would get: its To, its text
        self.assertEqual(m["To"].addresses[0].addr_spec,
                         "pc@osce.example.org")
        self.assertIsNone(m["X-Chancery-Delivery"])
        self.assertIn("Organization for Security",
                      m.get_body(("plain",)).get_content())
        self.assertEqual(self.home.scalar("SELECT count(*) FROM deliveries"),
                         0)
        self.assertEqual(self.home.scalar(
            "SELECT state FROM campaigns WHERE name = 'feb'"), "draft")
        tested = events(self.home, "campaign.tested")
        self.assertEqual(len(tested), 1)
        data = tested[0][1]
        self.assertEqual(data["to"], "me@office.example")
        self.assertEqual(data["body"], "OSCE")
        self.assertEqual(data["result"], "sent")
        self.assertEqual("<%s>" % data["message_id"], m["Message-ID"])
        actor = self.home.scalar("SELECT actor FROM events WHERE kind = "
                                 "'campaign.tested'")
        self.assertTrue(actor)

    def test_default_body_is_the_first_of_the_list(self):
        self.home.ok("campaign", "test", "feb", "--to", "me@office.example")
        m = outbox_messages(self.home)[0]
        self.assertEqual(m["To"].addresses[0].addr_spec, "sg@un.example.org")

    def test_refusals(self):
        self.assertFails(["campaign", "test", "feb", "--to",
                          "not an address"], 64,
                         "--to: 'not an address' is not an e-mail address")
        self.assertFails(["campaign", "test", "feb", "--to",
                          "me@office.example", "--body", "EMB"], 67,
                         "has no active contact of EMB")
        self.assertFails(["campaign", "test", "feb"], 64,
                         "--to ADDRESS is required")
        self.assertEqual(outbox_messages(self.home), [])

    def smtp(self, *peer_args):
        peer = Peer(os.path.join(self.home.dir, "peer"), *peer_args)
        self.addCleanup(peer.stop)
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            '}; };\n' % peer.port)
        return peer

    def test_through_the_relay(self):
        peer = self.smtp()
        r = self.home.ok("campaign", "test", "feb", "--to",
                         "me@office.example", "--body", "UNSG")
        self.assertIn("250", r.out)
        msgs = peer.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]["rcpt_tos"], ["me@office.example"])
        self.assertEqual(msgs[0]["mail_from"], "office@ombudsman.example")
        m = parse(peer.content(msgs[0]).encode())
        self.assertEqual(m["Subject"],
                         "[TEST] Statement on the 107th anniversary")
        self.assertEqual(m["X-Chancery-Test"], "yes")
        data = events(self.home, "campaign.tested")[0][1]
        self.assertIn("queued as Q", data["reply"])
        self.assertEqual(data["code"], 250)
        self.assertEqual(self.home.scalar("SELECT count(*) FROM deliveries"),
                         0)

    def test_refused_by_the_relay(self):
        peer = self.smtp("--rcpt-reply", "me@.*=550 5.1.1 No such user")
        r = self.home.run("campaign", "test", "feb", "--to",
                          "me@office.example")
        self.assertEqual(r.rc, 69, r)
        self.assertIn("refused: 550 No such user", r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        self.assertEqual(peer.messages(), [])
        # the attempt is on record, as what it was
        data = events(self.home, "campaign.tested")[0][1]
        self.assertEqual((data["result"], data["code"]), ("permfail", 550))


class NotifyTest(Fixture):
    """Notifications of a campaign that the daemon finishes."""

    def notify_conf(self, to, transport=""):
        self.home.write_conf(transport + 'notify = { to = [%s]; };\n' %
                             ", ".join('"%s"' % a for a in to))

    def tiny_campaign(self, name="tiny"):
        """A scheduled campaign due now; EMB, with no contact, is
        recorded as not reached when schedule fixes the recipients."""
        h = self.home
        h.ok("campaign", "create", name, "--template", "small", "--list",
             "all", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        h.ok("campaign", "schedule", name, "--now")
        cid = h.scalar("SELECT id FROM campaigns WHERE name = ?", name)
        self.assertEqual(h.sql(
            "SELECT b.acronym, u.reason FROM campaign_unreached u JOIN "
            "bodies b ON b.id = u.body_id WHERE u.campaign_id = ?", cid),
            [("EMB", "no contact")])
        return cid

    def notices(self, msgs):
        return [m for m in msgs if m["Subject"].startswith("[chancery]")]

    def test_done_summary_once_and_no_notice_for_cancelled(self):
        self.notify_conf(["head@office.example"])
        cid = self.tiny_campaign()
        self.home.ok("campaign", "create", "cancelled", "--template",
                     "small", "--list", "all", "--at", "2025-03-01 10:00", "--now")
        self.home.ok("campaign", "cancel", "cancelled")
        self.home.ok("--once", prog="chanceryd")
        msgs = outbox_messages(self.home)
        notes = self.notices(msgs)
        self.assertEqual(len(notes), 1, [m["Subject"] for m in msgs])
        n = notes[0]
        self.assertEqual(n["Subject"], "[chancery] campaign tiny finished: "
                         "3 sent, 0 failed, 0 bounced")
        self.assertEqual(n["To"].addresses[0].addr_spec, "head@office.example")
        self.assertEqual(n.get_content_type(), "text/plain")
        self.assertEqual(n["Auto-Submitted"], "auto-generated")
        body = n.get_content().replace("\r\n", "\n")
        self.assertIn("Sent:        3\n", body)
        self.assertIn("Failed:      0\n", body)
        self.assertIn("Bounced:     0\n", body)
        self.assertIn("Skipped:     1\n", body)  # the disabled contact
        self.assertIn("Not reached: 1\n", body)  # EMB
        m = re.search(r"Audit anchor: row (\d+) ([0-9a-f]{64})", body)
        self.assertTrue(m, body)
        self.assertEqual(self.home.scalar(
            "SELECT hash FROM events WHERE id = ?", int(m.group(1))),
            m.group(2))
        done = self.home.scalar("SELECT id FROM events WHERE kind = "
                                "'campaign.done' AND campaign_id = ?", cid)
        sent = events(self.home, "notify.sent")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0][1]["event"], done)
        self.assertEqual(sent[0][1]["to"], "head@office.example")
        self.assertEqual(sent[0][1]["subject"], n["Subject"])
        # the campaign's own deliveries: three, none a notification
        self.assertEqual(self.home.sql(
            "SELECT state, count(*) FROM deliveries GROUP BY state "
            "ORDER BY state"), [("sent", 3), ("skipped", 1)])
        # again: nothing is sent twice
        self.home.ok("--once", prog="chanceryd")
        self.assertEqual(len(outbox_messages(self.home)), len(msgs))
        self.assertEqual(len(events(self.home, "notify.sent")), 1)

    def test_no_address_sends_nothing(self):
        self.tiny_campaign()
        self.home.ok("--once", prog="chanceryd")
        self.assertEqual(self.notices(outbox_messages(self.home)), [])
        self.assertEqual(events(self.home, "notify.sent"), [])
        # and configuring one later does not announce the past
        self.notify_conf(["head@office.example"])
        self.home.ok("--once", prog="chanceryd")
        self.assertEqual(self.notices(outbox_messages(self.home)), [])

    def relay(self, *peer_args):
        peer = Peer(os.path.join(self.home.dir, "peer"), *peer_args)
        self.addCleanup(peer.stop)
        return peer, (
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            '}; };\n' % peer.port)

    def test_a_refused_address_is_recorded_and_changes_nothing_else(self):
        peer, transport = self.relay(
            "--rcpt-reply", "head@.*=550 5.1.1 No such user")
        self.notify_conf(["head@office.example", "deputy@office.example"],
                         transport)
        self.tiny_campaign()
        r = self.home.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.home.sql(
            "SELECT state, count(*) FROM deliveries GROUP BY state "
            "ORDER BY state"), [("sent", 3), ("skipped", 1)])
        failed = events(self.home, "notify.failed")
        self.assertEqual(len(failed), 1, failed)
        f = failed[0][1]
        self.assertEqual((f["to"], f["code"], f["result"], f["retry"]),
                         ("head@office.example", 550, "permfail", "no"))
        self.assertIn("No such user", f["reason"])
        sent = events(self.home, "notify.sent")
        self.assertEqual([s[1]["to"] for s in sent],
                         ["deputy@office.example"])
        notes = [m for m in peer.messages()
                 if "[chancery]" in peer.content(m)]
        self.assertEqual([m["rcpt_tos"] for m in notes],
                         [["deputy@office.example"]])
        # a refusal is not tried again
        self.home.ok("--once", prog="chanceryd")
        self.assertEqual(len(events(self.home, "notify.failed")), 1)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM notice_retries"), 0)

    def test_a_temporary_failure_is_tried_three_times(self):
        peer, transport = self.relay(
            "--rcpt-reply", "head@.*=450 4.2.1 Mailbox busy")
        self.notify_conf(["head@office.example"], transport)
        self.tiny_campaign()
        t0 = "2026-06-01T10:00:00Z"
        self.home.ok("--once", prog="chanceryd",
                     env={"CHANCERY_FAKE_NOW": t0})
        self.assertEqual([f[1]["retry"] for f in
                          events(self.home, "notify.failed")], ["later"])
        self.assertEqual(self.home.sql(
            "SELECT attempts FROM notice_retries"), [(1,)])
        # not yet due: nothing
        self.home.ok("--once", prog="chanceryd",
                     env={"CHANCERY_FAKE_NOW": "2026-06-01T10:00:30Z"})
        self.assertEqual(len(events(self.home, "notify.failed")), 1)
        for when in ("2026-06-01T10:02:00Z", "2026-06-01T10:10:00Z",
                     "2026-06-01T11:00:00Z"):
            self.home.ok("--once", prog="chanceryd",
                         env={"CHANCERY_FAKE_NOW": when})
        failed = [f[1] for f in events(self.home, "notify.failed")]
        self.assertEqual([(f["attempt"], f["retry"]) for f in failed],
                         [(1, "later"), (2, "later"), (3, "no")])
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM notice_retries"), 0)
        self.assertEqual(events(self.home, "notify.sent"), [])


if __name__ == "__main__":
    unittest.main()
