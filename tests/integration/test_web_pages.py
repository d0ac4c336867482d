"""The console's pages for templates, campaigns, the audit and the
inbound queue (web/page_templates.c, page_campaigns.c, page_audit.c,
page_inbound.c), driven over HTTP against a real chancery-web on a
loopback port and a real database: each page renders the records, every
action is the library's with the web user as the ledger's actor, roles
and four-eyes refuse with the library's text, and whatever a template or
a registry name holds is shown inert."""
import html
import json
import os
import re
import sqlite3
import subprocess
import time
import unittest

from harness import BIN_DIR, TestCase
from web_client import Client, Server, add_user

CONF = "campaign = { approvals = 1; four_eyes = true; };\n"

XSS = "<script>alert('xss')</script>"
TEMPLATE = ("Subject: Statement to {{body.acronym}} " + XSS + "\n\n"
            "To the {{body.name}}: " + XSS + "\n"
            "--- html ---\n"
            "<p>To the {{body.name}}</p><img src=x onerror=alert(2)>"
            + XSS + "\n")
TEMPLATE_FR = "Subject: Déclaration\n\nAu {{body.name}}.\n"
FUTURE = "2031-02-26 10:00"


def chanceryd():
    return os.path.join(BIN_DIR, "chanceryd")


def web_built():
    return os.path.exists(os.path.join(BIN_DIR, "chancery-web"))


def forged_dsn(n, recipient):
    """A DSN anyone could write: it names the recipient, no token and no
    Message-ID of ours, so it is quarantined (test_bounce.py)."""
    return ("From: MAILER-DAEMON@forger.example.com\n"
            "Message-ID: <forged-%d@forger.example.com>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; "
            "report-type=delivery-status; boundary=B\n\n"
            "--B\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; forger.example.com\nArrival-Date: today\n\n"
            "Final-Recipient: rfc822; %s\nAction: failed\n"
            "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no such "
            "user\n\n--B--\n" % (n, recipient))


def boxes(body, kind):
    """The texts of the page's notice or error boxes."""
    return [re.sub(r"<[^>]+>", "", m.group(2)) for m in re.finditer(
        r'<(p|div)[^>]*class="[^"]*\b%s\b[^"]*"[^>]*>(.*?)</\1>' % kind,
        body, re.S)]


@unittest.skipUnless(web_built(), "chancery-web is not built in this tree")
class WebPagesTestCase(TestCase):
    def setUp(self):
        super().setUp()
        h = self.home
        h.write_conf(CONF)
        # a registry name that tries to be markup
        h.ok("body", "add", "Council of <b>Europe</b> " + XSS, "--kind",
             "regional-org", "--acronym", "COE")
        h.ok("body", "add", "Organization for Security and Co-operation "
             "in Europe", "--kind", "regional-org", "--acronym", "OSCE")
        h.ok("body", "add", "Nobody Office", "--kind", "regional-org",
             "--acronym", "NOBODY")
        h.ok("contact", "add", "COE", "sg@coe.example.org")
        h.ok("contact", "add", "OSCE", "pc@osce.example.org", "--language",
             "fr")
        h.ok("list", "create", "orgs")
        h.ok("list", "add", "orgs", "COE", "OSCE", "NOBODY")
        for name, text in (("t.tmpl", TEMPLATE), ("fr.tmpl", TEMPLATE_FR)):
            with open(os.path.join(h.dir, name), "w") as f:
                f.write(text)
        h.ok("template", "add", "stmt", os.path.join(h.dir, "t.tmpl"))
        h.ok("template", "add", "stmt", os.path.join(h.dir, "fr.tmpl"),
             "--lang", "fr")
        # carol (an approver) creates it: four-eyes keeps her from
        # approving her own campaign
        h.ok("--as", "carol", "campaign", "create", "feb", "--template",
             "stmt", "--list", "orgs", "--at", FUTURE, "--tz", "UTC")
        self.pw = {}
        for name, role in (("vera", "viewer"), ("alice", "editor"),
                           ("bob", "approver"), ("carol", "approver")):
            self.pw[name] = "correct horse %s battery" % name
            add_user(h, name, role, self.pw[name])
        self.cid = h.scalar("SELECT id FROM campaigns WHERE name = 'feb'")
        self.server = Server(h)

    def tearDown(self):
        self.server.stop()
        super().tearDown()

    def client(self, name):
        """A signed-in browser; c.token is its session's CSRF token, read
        from the layout's sign-out form."""
        c = Client(self.server)
        r = c.login(name, self.pw[name])
        self.assertEqual(r.status, 303, r.body)
        c.token = c.get("/campaigns").csrf()
        self.assertTrue(c.token)
        return c

    def post(self, c, path, fields=None):
        """A form post with the session's CSRF token."""
        return c.post(path, dict(fields or {}, csrf=c.token))

    def page(self, c, path, status=200):
        r = c.get(path)
        self.assertEqual(r.status, status, r.body)
        return r.body

    def state(self, name="feb"):
        return self.home.scalar("SELECT state FROM campaigns WHERE name = ?",
                                name)

    def events(self, kind):
        return self.home.sql("SELECT actor, data FROM events WHERE kind = ? "
                             "ORDER BY id", kind)

    def assertInert(self, body):
        """Nothing a record holds became markup on the page."""
        self.assertNotIn("<script>alert", body)
        self.assertNotIn("<b>Europe</b>", body)
        self.assertNotIn("<img src=x", body)
        # a frame shows an HTML part: sandboxed, and fed escaped text
        for frame in re.findall(r"<iframe[^>]*>", body):
            self.assertIn('sandbox=""', frame)
            self.assertNotIn("<script", frame)

    # ---- reading ----

    def test_every_page_renders_the_records_for_a_viewer(self):
        c = self.client("vera")
        body = self.page(c, "/campaigns")
        self.assertIn('data-name="feb"', body)
        self.assertIn('href="/campaign/%d"' % self.cid, body)

        body = self.page(c, "/campaign/%d" % self.cid)
        self.assertIn('<dd id="campaign-state">draft</dd>', body)
        self.assertIn("2031-02-26 10:00", body)
        self.assertIn('<dd id="campaign-created-by">carol</dd>', body)
        # the plan an approval would freeze, before any button
        self.assertIn("plan: 3 bodies, 2 contacts to send to, 0 not "
                      "sendable (skipped), 1 bodies not reached", body)
        self.assertIn("<li>NOBODY: no contact</li>", body)
        self.assertRegex(body, r'<tr class="language"><td>fr</td><td>1</td>'
                         r'<td>OSCE</td></tr>')
        self.assertIn("sg@coe.example.org", body)
        self.assertIn('src="/static/progress.js"', body)
        # a viewer is shown no action
        for action in ("approve", "reject", "test", "cancel", "schedule"):
            self.assertNotIn('id="%s-submit"' % action, body)
        self.assertInert(body)
        # reading it changed nothing (the preview is rolled back)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM campaign_recipients"), 0)

        body = self.page(c, "/campaign/%d/proofs" % self.cid)
        self.assertIn("2 addressees, 2 distinct renderings", body)
        self.assertIn('<span class="proof-lang">fr</span>', body)
        self.assertIn("Au Organization for Security", body)
        self.assertInert(body)
        # the proofs are the ones `campaign proof` writes, text for text
        out = os.path.join(self.home.dir, "proofs")
        self.home.ok("campaign", "proof", "feb", "--out", out)
        shown = re.findall(r'<section class="proof" id="proof-\d+"><h2>'
                           r'(.*?)</h2>.*?<pre class="proof-text" '
                           r'id="proof-\d+-text">(.*?)</pre>', body, re.S)
        self.assertEqual(len(shown), 2, body)
        for label, text in shown:
            with open(os.path.join(out, label + ".txt")) as f:
                self.assertEqual(html.unescape(text), f.read())

        body = self.page(c, "/templates")
        self.assertIn('data-name="stmt" data-version="2"', body)
        body = self.page(c, "/template?name=stmt")
        self.assertIn('<dd id="template-languages">default (en), fr</dd>',
                      body)
        self.assertIn('id="variant-default"', body)
        self.assertIn('id="variant-fr"', body)
        self.assertIn('<pre class="rendered-text" id="text-fr">Au Council',
                      body)

        body = self.page(c, "/audit")
        self.assertIn('id="anchor-hash"', body)
        self.assertIn('data-ok="never"', body)
        self.assertIn('href="/audit/campaign?name=feb"', body)
        self.assertNotIn('id="verify-submit"', body)  # a viewer
        self.page(c, "/audit/campaign?name=feb")
        self.page(c, "/audit/body?body=COE")
        body = self.page(c, "/inbound")
        self.assertIn('id="no-quarantine"', body)

        # unknown things are the library's not-found, escaped
        body = self.page(c, "/audit/campaign?name=%3Cnope%3E", 404)
        self.assertIn("&lt;nope&gt;", body)
        self.page(c, "/campaign/999", 404)
        self.page(c, "/template?name=nope", 404)

    def test_template_variant_renders_inert(self):
        c = self.client("vera")
        body = self.page(c, "/template?name=stmt&body=COE")
        self.assertInert(body)
        # the payload is there, as text
        self.assertIn("To the Council of &lt;b&gt;Europe&lt;/b&gt; "
                      "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;: "
                      "&lt;script&gt;", body)
        self.assertIn('id="subject-default">Statement to COE '
                      "&lt;script&gt;", body)
        # the HTML part only in a sandboxed frame
        frame = re.search(r'<iframe class="rendered-html" id="html-default"'
                          r'[^>]*>', body).group(0)
        self.assertIn('sandbox=""', frame)
        self.assertIn("srcdoc=\"&lt;p&gt;To the Council of &amp;lt;b&amp;gt;",
                      frame)
        # a bad --event-date is refused with the CLI's words
        body = self.page(c, "/template?name=stmt&event_date=1992-13-40", 400)
        self.assertIn("--event-date wants a date YYYY-MM-DD", body)

    def test_progress_json_is_well_formed(self):
        c = self.client("vera")
        r = c.get("/campaign/%d/progress.json" % self.cid)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.header("Content-Type").startswith(
            "application/json"), r.header("Content-Type"))
        p = json.loads(r.body)
        self.assertEqual(p["name"], "feb")
        self.assertEqual(p["state"], "draft")
        self.assertEqual((p["total"], p["settled"], p["finished"]),
                         (0, 0, False))
        self.assertEqual(sorted(p["deliveries"]), sorted([
            "pending", "sending", "sent", "deferred", "failed", "expired",
            "cancelled", "skipped", "delivered", "bounced"]))
        # the script it feeds is served, from /static/ (CSP: 'self')
        r = c.get("/static/progress.js")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("progress.json", self.page(c, "/campaign/%d" % self.cid))
        self.assertIn("getElementById(\"progress\")", r.body)
        self.assertIn("connect-src 'self'", r.header(
            "Content-Security-Policy"))

    # ---- sign-off ----

    def test_approver_approves_and_is_the_ledgers_actor(self):
        c = self.client("bob")
        body = self.page(c, "/campaign/%d" % self.cid)
        self.assertIn('id="approve-submit"', body)
        r = self.post(c, "/approval/%d/approve" % self.cid)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("campaign feb approved by bob (1 of 1): stmt v2; "
                      "approved: schedule it to send", boxes(r.body,
                                                             "notice"))
        self.assertEqual(self.state(), "approved")
        (actor, data), = self.events("campaign.approved")
        self.assertEqual(actor, "bob")
        self.assertEqual(json.loads(data)["recipients"], 2)
        # the page now shows the frozen set and the approval
        self.assertIn('<dd id="campaign-state">approved</dd>', r.body)
        self.assertIn("The frozen recipient set", r.body)
        self.assertRegex(r.body, r'<li class="approval">approved by '
                         r'<span class="actor">bob</span>')
        # schedule, pause, resume, cancel: the library's transitions
        a = self.client("alice")
        self.page(a, "/campaign/%d" % self.cid)
        r = self.post(a, "/campaign/%d/schedule" % self.cid)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.state(), "scheduled")
        for verb, want in (("pause", "scheduled → paused"),
                           ("resume", "paused → scheduled"),
                           ("cancel", "scheduled → cancelled")):
            r = self.post(a, "/campaign/%d/%s" % (self.cid, verb))
            self.assertEqual(r.status, 200, r.body)
            self.assertIn("campaign feb: %s" % want,
                          " ".join(boxes(r.body, "notice")))
        self.assertEqual(self.state(), "cancelled")
        self.assertEqual([a for a, _ in self.events("campaign.paused")],
                         ["alice"])
        # a transition the state does not allow: the library's refusal
        before = self.home.snapshot()
        r = self.post(a, "/campaign/%d/pause" % self.cid)
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(len(boxes(r.body, "error")), 1, r.body)
        self.assertIn("cancelled", boxes(r.body, "error")[0])
        self.assertEqual(self.home.snapshot(), before)

    def test_an_editor_may_not_approve(self):
        c = self.client("alice")
        body = self.page(c, "/campaign/%d" % self.cid)
        self.assertNotIn('id="approve-submit"', body)
        before = self.home.snapshot()
        for verb in ("approve", "reject"):
            r = self.post(c, "/approval/%d/%s" % (self.cid, verb),
                          {"reason": "no"})
            self.assertEqual(r.status, 403, r.body)
        self.assertEqual(self.home.snapshot(), before)
        self.assertEqual(self.state(), "draft")

    def test_four_eyes_refusal_shows_the_librarys_message(self):
        c = self.client("carol")
        self.page(c, "/campaign/%d" % self.cid)
        before = self.home.snapshot()
        r = self.post(c, "/approval/%d/approve" % self.cid)
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(boxes(r.body, "error"), [
            "campaign &#39;feb&#39;: carol created it and may not approve "
            "it (campaign.four_eyes)"])
        self.assertEqual(self.home.snapshot(), before)
        self.assertEqual(self.state(), "draft")

    def test_a_locked_database_says_try_again(self):
        """While another process holds the write lock (the daemon's
        commit, a backup), an approval is answered 503 with the library's
        text, changes nothing, and goes through once the lock is gone:
        the same status the registry and list pages give."""
        self.server.stop()
        with open(self.home.conf) as f:
            conf = f.read()
        with open(self.home.conf, "w") as f:
            f.write(conf.replace('database = { path = "%s"; };'
                                 % self.home.db,
                                 'database = { path = "%s"; busy_timeout '
                                 '= "200ms"; };' % self.home.db, 1))
        self.server = Server(self.home)
        c = self.client("bob")
        self.page(c, "/campaign/%d" % self.cid)
        before = self.home.snapshot()
        holder = sqlite3.connect(self.home.db, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            r = self.post(c, "/approval/%d/approve" % self.cid)
            self.assertEqual(r.status, 503, r.body)
            # the campaign's page again, the refusal on top (its plan,
            # which needs the lock too, says the same)
            errs = boxes(r.body, "error")
            self.assertTrue(errs, r.body)
            for e in errs:
                self.assertIn("database is locked by another process "
                              "(waited 200 ms)", e)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertEqual(self.home.snapshot(), before)
        self.assertEqual(self.state(), "draft")
        r = self.post(c, "/approval/%d/approve" % self.cid)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([a for a, _ in self.events("campaign.approved")],
                         ["bob"])

    def test_reject_needs_a_reason_and_records_it(self):
        c = self.client("bob")
        self.page(c, "/campaign/%d" % self.cid)
        before = self.home.snapshot()
        r = self.post(c, "/approval/%d/reject" % self.cid, {"reason": ""})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("--reason TEXT is required", boxes(r.body, "error"))
        self.assertEqual(self.home.snapshot(), before)
        r = self.post(c, "/approval/%d/reject" % self.cid,
                      {"reason": "wrong date " + XSS})
        self.assertEqual(r.status, 200, r.body)
        (actor, data), = self.events("campaign.rejected")
        self.assertEqual(actor, "bob")
        self.assertEqual(json.loads(data)["reason"], "wrong date " + XSS)
        self.assertIn('<p id="rejection">rejected by bob', r.body)
        self.assertInert(r.body)

    def test_test_send_goes_to_the_transport_as_the_editor(self):
        c = self.client("alice")
        self.page(c, "/campaign/%d" % self.cid)
        r = self.post(c, "/campaign/%d/test" % self.cid,
                      {"to": "proof@office.example", "body": "OSCE"})
        self.assertEqual(r.status, 200, r.body)
        notice = " ".join(boxes(r.body, "notice"))
        self.assertIn("campaign feb: test message for OSCE sent to "
                      "&lt;proof@office.example&gt;", notice)
        (actor, data), = self.events("campaign.tested")
        self.assertEqual(actor, "alice")
        self.assertEqual(json.loads(data)["to"], "proof@office.example")
        sent = [f for d, _, fs in os.walk(self.home.outbox) for f in fs]
        self.assertEqual(len(sent), 1, sent)
        # a bad address: the library's refusal, nothing sent
        r = self.post(c, "/campaign/%d/test" % self.cid,
                      {"to": "not an address"})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(len(boxes(r.body, "error")), 1, r.body)
        self.assertEqual(len(self.events("campaign.tested")), 1)

    # ---- the overview ----

    def attention(self, body):
        return re.findall(r'<li class="attention" data-kind="([a-z]+)">',
                          body)

    @unittest.skipUnless(os.path.exists(chanceryd()),
                         "chanceryd is not built in this tree")
    def test_overview_says_what_needs_attention(self):
        h = self.home
        v = self.client("vera")
        body = self.page(v, "/")
        self.assertIn("<title>Overview", body)
        self.assertEqual(self.attention(body), ["daemon", "verify"], body)
        self.assertIn("never run against this database", body)
        self.assertIn('id="none-due"', body)  # feb sends in 2031
        # the machinery as `chancery status` prints it
        self.assertIn("daemon:      not running (never ran against this "
                      "database)", html.unescape(body))
        self.assertEqual(self.page(v, "/?days=9999", 400).count(
            "days: not a number of days from 0 to 3660"), 1)

        # due in three days, nobody has approved it
        soon = time.strftime("%Y-%m-%d %H:%M",
                             time.gmtime(time.time() + 3 * 86400))
        for name in ("soon", "lost"):
            h.ok("--as", "alice", "campaign", "create", name, "--template",
                 "stmt", "--list", "orgs", "--at", soon, "--tz", "UTC")
        # its day passed unscheduled, as the daemon's watch leaves it
        con = sqlite3.connect(h.db)
        with con:
            con.execute("UPDATE campaigns SET state = 'missed', send_at = "
                        "send_at - 7 * 86400 WHERE name = 'lost'")
        con.close()
        h.ok("inbox", stdin="this is not\x01 a message at all\n")
        h.ok("--once", prog="chanceryd")  # the daemon ran, and stopped
        body = self.page(v, "/")
        # a message kept unreadable has no decision to wait for: it is in
        # the status text, not among what needs attention
        self.assertEqual(self.attention(body), [
            "missed", "unscheduled", "daemon", "verify"], body)
        self.assertIn("1 unreadable message", body)
        items = dict(zip(self.attention(body), re.findall(
            r'<li class="attention"[^>]*>(.*?)</li>', body, re.S)))
        self.assertIn('<a href="/campaign/%d">lost</a> missed its send '
                      'time' % h.scalar("SELECT id FROM campaigns WHERE "
                                        "name = 'lost'"), items["missed"])
        self.assertIn("is not scheduled yet", items["unscheduled"])
        self.assertIn("Approvals: 0 of 1.", items["unscheduled"])
        self.assertIn("The daemon is not running (last seen ",
                      items["daemon"])
        row = re.search(r'<tr class="due" data-name="soon">.*?</tr>', body,
                        re.S).group(0)
        self.assertIn('<td class="state">draft</td>', row)
        self.assertIn('<td class="approvals">0 of 1</td>', row)
        self.assertIn(soon + " UTC", row)
        self.assertIn('<table id="due"><thead><tr><th>Campaign</th><th>'
                      'Sends</th>', body)
        self.assertIn('<tr class="missed" data-name="lost">', body)
        self.assertNotIn('data-name="feb"', body)
        self.assertEqual(self.attention(self.page(v, "/?days=0")),
                         ["missed", "daemon", "verify"])

        # approved and scheduled, the ledger verified: only what remains
        b = self.client("bob")
        sid = h.scalar("SELECT id FROM campaigns WHERE name = 'soon'")
        r = self.post(b, "/approval/%d/approve" % sid, {"schedule": "1"})
        self.assertEqual(r.status, 200, r.body)
        h.ok("audit", "verify")
        body = self.page(v, "/")
        self.assertEqual(self.attention(body), ["missed", "daemon"], body)
        self.assertIn('<td class="state">scheduled</td>', body)
        self.assertIn('<td class="approvals">1 of 1</td>', body)
        self.assertNotIn('id="all-clear"', body)

        # the missed one cancelled, the daemon running: nothing waits
        h.ok("--as", "alice", "campaign", "cancel", "lost")
        env = dict(os.environ)
        env.pop("CHANCERY_CONFIG", None)
        env.pop("NOTIFY_SOCKET", None)
        p = subprocess.Popen(h.command("chanceryd") +
                             ["--config", h.conf, "--foreground"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        try:
            end = time.monotonic() + 30
            while time.monotonic() < end:
                body = self.page(v, "/")
                if not self.attention(body):
                    break
                time.sleep(0.2)
            self.assertEqual(self.attention(body), [], body)
            self.assertIn('<p id="all-clear">Nothing needs anyone now.</p>',
                          body)
            self.assertIn("daemon:      running, pid %d" % p.pid,
                          html.unescape(body))
        finally:
            p.terminate()
            p.wait(10)

    @unittest.skipUnless(os.path.exists(chanceryd()),
                         "chanceryd is not built in this tree")
    def test_missed_campaign_gets_a_new_send_time(self):
        """The overview says a missed campaign needs a new send time or a
        cancellation: the campaign page gives the first, as campaign edit
        --at [--now] does, in the campaign's own zone."""
        h = self.home
        h.ok("--as", "carol", "campaign", "create", "lost", "--template",
             "stmt", "--list", "orgs", "--at", "2031-03-01 09:00", "--tz",
             "Asia/Baku")
        con = sqlite3.connect(h.db)
        with con:  # as the daemon's watch leaves it
            con.execute("UPDATE campaigns SET state = 'missed', send_at = "
                        "strftime('%s', 'now') - 86400 WHERE name = 'lost'")
        con.close()
        lid = h.scalar("SELECT id FROM campaigns WHERE name = 'lost'")
        a = self.client("alice")
        body = self.page(a, "/campaign/%d" % lid)
        self.assertIn('id="reschedule-box"', body)
        self.assertIn("New send time (Asia/Baku)", body)
        before = h.snapshot()
        past = time.strftime("%Y-%m-%dT%H:%M",
                             time.gmtime(time.time() - 2 * 86400))
        for fields, msg in (({"at": past}, "has passed; use --now to "
                             "send at once"),
                            ({"at": "tomorrow"}, "tomorrow"),
                            ({}, "a new send time (--at TIME) or --now is "
                             "required")):
            r = self.post(a, "/campaign/%d/reschedule" % lid, fields)
            self.assertEqual(r.status, 400, (fields, r.body))
            self.assertIn(msg, html.unescape(" ".join(
                boxes(r.body, "error"))), fields)
        self.assertEqual(h.snapshot(), before)
        v = self.client("vera")
        self.assertEqual(self.post(v, "/campaign/%d/reschedule" % lid,
                                   {"at": "2031-03-02T10:00"}).status, 403)

        r = self.post(a, "/campaign/%d/reschedule" % lid,
                      {"at": "2031-03-02T10:00"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("campaign lost: sends 2031-03-02 10:00 +04 "
                      "(2031-03-02T06:00:00Z) (draft)",
                      html.unescape(" ".join(boxes(r.body, "notice"))))
        self.assertEqual(self.state("lost"), "draft")
        self.assertEqual(h.scalar("SELECT send_at FROM campaigns WHERE "
                                  "name = 'lost'"), 1930197600)
        (actor, data), = self.events("campaign.edited")
        self.assertEqual(actor, "alice")
        self.assertIn("send_at", data)
        self.assertEqual(self.attention(self.page(v, "/?days=3660")).count(
            "missed"), 0)

        # or at once: approved and scheduled, the daemon sends it
        r = self.post(a, "/campaign/%d/reschedule" % lid, {"now": "1"})
        self.assertEqual(r.status, 200, r.body)
        b = self.client("bob")
        r = self.post(b, "/approval/%d/approve" % lid,
                      {"schedule": "1", "now": "1"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.state("lost"), "scheduled")
        h.ok("--once", prog="chanceryd")
        self.assertEqual(h.sql("SELECT state, count(*) FROM deliveries "
                               "WHERE campaign_id = ? GROUP BY state", lid),
                         [("sent", 2)])
        sent = [f for d, _, fs in os.walk(h.outbox) for f in fs]
        self.assertEqual(len(sent), 2, sent)

    def test_editor_creates_a_campaign(self):
        h = self.home
        v = self.client("vera")
        self.assertNotIn("new-campaign-link", self.page(v, "/campaigns"))
        self.assertEqual(v.get("/campaigns/new").status, 403)
        a = self.client("alice")
        self.assertIn('id="new-campaign-link"', self.page(a, "/campaigns"))
        body = self.page(a, "/campaigns/new")
        self.assertIn("<option>stmt</option>", body)
        self.assertIn("<option>orgs</option>", body)
        form = {"name": "event", "template": "stmt", "list": "orgs",
                "at": "2031-05-01T12:00", "tz": "Europe/Paris",
                "lang": "FR", "receipt": "1"}
        before = h.snapshot()
        past = time.strftime("%Y-%m-%dT%H:%M",
                             time.gmtime(time.time() - 86400))
        for change, msg in (({"at": past}, "has passed; use --now to send "
                             "at once"),
                            ({"tz": "Mars/Olympus"},
                             "unknown time zone 'Mars/Olympus'"),
                            ({"lang": "not a tag"}, "not a tag"),
                            ({"at": ""}, "--template, --list and --at (or "
                             "--now) are required"),
                            ({"list": "nosuch"}, "nosuch"),
                            ({"name": ""}, "name")):
            r = self.post(a, "/campaigns/new", dict(form, **change))
            self.assertIn(r.status, (400, 404), (change, r.body))
            errs = html.unescape(" ".join(boxes(r.body, "error")))
            self.assertIn(msg, errs, change)
            # the form comes back as it was filled
            self.assertIn('value="%s"' % html.escape(
                dict(form, **change)["name"]), r.body)
        self.assertEqual(h.snapshot(), before)

        r = self.post(a, "/campaigns/new", form)
        self.assertEqual(r.status, 303, r.body)
        cid = h.scalar("SELECT id FROM campaigns WHERE name = 'event'")
        self.assertEqual(r.header("Location"), "/campaign/%d" % cid)
        self.assertEqual(h.sql(
            "SELECT state, send_at, tz, language, receipt FROM campaigns "
            "WHERE id = ?", cid),
            # 12:00 in Paris, summer time
            [("draft", 1935396000, "Europe/Paris", "fr", 1)])
        (actor, data), = [e for e in self.events("campaign.created")
                          if '"event"' in e[1]]
        self.assertEqual(actor, "alice")
        r = self.post(a, "/campaigns/new", form)
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(self.state("event"), "draft")

        # the name of a cancelled campaign: the old one renamed, said so
        h.ok("--as", "alice", "campaign", "cancel", "event")
        r = self.post(a, "/campaigns/new", form)
        self.assertEqual(r.status, 200, r.body)
        self.assertRegex(html.unescape(" ".join(boxes(r.body, "notice"))),
                         r"campaign event was cancelled: renamed \S+, its "
                         r"record kept; campaign event created \(draft\)")
        self.assertEqual(self.state("event"), "draft")

    # ---- sending, the audit and the inbound queue ----

    @unittest.skipUnless(os.path.exists(chanceryd()),
                         "chanceryd is not built in this tree")
    def test_sent_campaign_in_audit_and_inbound(self):
        h = self.home
        h.ok("--as", "alice", "campaign", "create", "now", "--template",
             "stmt", "--list", "orgs", "--now")
        nid = h.scalar("SELECT id FROM campaigns WHERE name = 'now'")
        b = self.client("bob")
        self.page(b, "/campaign/%d" % nid)
        # its send time has passed: refused unless "now" is ticked (a
        # whole second later, so that it has passed on a fast machine too)
        time.sleep(1.1)
        r = self.post(b, "/approval/%d/approve" % nid, {"schedule": "1"})
        self.assertEqual(r.status, 400, r.body)
        self.assertRegex(" ".join(boxes(r.body, "error")),
                         r"send time .* has passed; use --now to send at "
                         r"once")
        self.assertEqual(self.state("now"), "draft")
        r = self.post(b, "/approval/%d/approve" % nid,
                      {"schedule": "1", "now": "1"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.state("now"), "scheduled")
        h.ok("--once", prog="chanceryd")
        p = json.loads(self.page(b, "/campaign/%d/progress.json" % nid))
        self.assertEqual(p["total"], 2, p)
        self.assertEqual(p["settled"], 2, p)
        self.assertEqual(p["deliveries"]["sent"], 2, p)
        self.assertEqual(sum(p["deliveries"].values()), p["total"])

        body = self.page(b, "/audit")
        row = re.search(r'<tr class="body" data-body="OSCE">.*?</tr>', body,
                        re.S).group(0)
        self.assertIn('data-state="sent"', row)
        self.assertInert(body)
        body = self.page(b, "/audit?lang=fr&response=none")
        self.assertIn('data-body="OSCE"', body)
        self.assertNotIn('data-body="COE"', body)
        body = self.page(b, "/audit?since=nineteen", 400)
        self.assertIn("--since wants a year (1970-9999), not &#39;nineteen"
                      "&#39;", body)
        body = self.page(b, "/audit/campaign?name=now")
        self.assertIn("pc@osce.example.org", body)
        body = self.page(b, "/audit/body?body=OSCE")
        self.assertIn("now", body)
        # the ledger verified from the page, recorded with the web user
        r = self.post(b, "/audit/verify")
        self.assertEqual(r.status, 200, r.body)
        self.assertRegex(" ".join(boxes(r.body, "notice")),
                         r"ok: \d+ rows verified")
        self.assertIn('data-ok="yes"', r.body)
        self.assertIn("by bob", r.body)

        # a forged report: quarantined, then confirmed from the page
        h.ok("inbox", stdin=forged_dsn(1, "pc@osce.example.org"))
        qid = h.scalar("SELECT id FROM bounce_quarantine")
        body = self.page(b, "/inbound")
        self.assertIn('id="quarantine-%d" data-confirmed="no"' % qid, body)
        self.assertIn("matched by recipient only", body)
        r = self.post(b, "/inbound/%d/confirm" % qid)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("quarantined report #%d confirmed by bob" % qid,
                      boxes(r.body, "notice"))
        self.assertIn('data-confirmed="yes"', r.body)
        self.assertEqual(h.sql("SELECT confirmed_by FROM bounce_quarantine"),
                         [("bob",)])
        self.assertEqual(h.scalar(
            "SELECT state FROM deliveries WHERE email = ?",
            "pc@osce.example.org"), "bounced")
        # twice: the library's refusal, nothing changed
        before = h.snapshot()
        r = self.post(b, "/inbound/%d/confirm" % qid)
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(len(boxes(r.body, "error")), 1, r.body)
        self.assertEqual(h.snapshot(), before)
        # a viewer may not confirm
        v = self.client("vera")
        self.page(v, "/inbound")
        r = self.post(v, "/inbound/%d/confirm" % qid)
        self.assertEqual(r.status, 403, r.body)

        # another forged report: dismissed from the page with a reason
        h.ok("inbox", stdin=forged_dsn(2, "pc@osce.example.org"))
        q2 = h.scalar("SELECT max(id) FROM bounce_quarantine")
        body = self.page(b, "/inbound")
        self.assertIn('id="quarantine-%d" data-confirmed="no" '
                      'data-state="open"' % q2, body)
        self.assertIn('id="dismiss-%d"' % q2, body)
        self.assertIn('action="/inbound/%d/dismiss"' % q2, body)
        self.assertNotIn('id="dismiss-%d"' % qid, body)  # confirmed
        self.assertNotIn('id="dismiss-', self.page(v, "/inbound"))
        # no reason, or two lines: the library's refusal, nothing changed
        before = h.snapshot()
        for fields, msg in (({}, "a dismissal needs a reason"),
                            ({"reason": "a\nb"},
                             "the dismissal reason must be one line")):
            r = self.post(b, "/inbound/%d/dismiss" % q2, fields)
            self.assertEqual(r.status, 400, r.body)
            errs = boxes(r.body, "error")
            self.assertEqual(len(errs), 1, r.body)
            self.assertIn(msg, errs[0])
        self.assertEqual(h.snapshot(), before)
        r = self.post(b, "/inbound/%d/dismiss" % q2,
                      {"reason": "forged <sender>"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("quarantined report #%d dismissed by bob" % q2,
                      boxes(r.body, "notice"))
        self.assertIn('id="quarantine-%d" data-confirmed="no" '
                      'data-state="dismissed"' % q2, r.body)
        self.assertIn("forged &lt;sender&gt;", r.body)
        self.assertEqual(
            h.sql("SELECT dismissed_by, dismiss_reason FROM "
                  "bounce_quarantine WHERE id = ?", q2),
            [("bob", "forged <sender>")])
        ev = json.loads(h.scalar("SELECT data FROM events WHERE kind = "
                                 "'bounce.dismissed'"))
        self.assertEqual((ev["quarantine"], ev["dismissed_by"],
                          ev["reason"]), (q2, "bob", "forged <sender>"))
        # dismissing a confirmed report, or twice: refused, unchanged
        before = h.snapshot()
        for target, msg in ((qid, "already confirmed by bob at "),
                            (q2, "already dismissed by bob at ")):
            r = self.post(b, "/inbound/%d/dismiss" % target,
                          {"reason": "again"})
            self.assertEqual(r.status, 400, r.body)
            self.assertIn(msg, " ".join(boxes(r.body, "error")))
        self.assertEqual(h.snapshot(), before)
        # a viewer may not dismiss
        r = self.post(v, "/inbound/%d/dismiss" % q2, {"reason": "x"})
        self.assertEqual(r.status, 403, r.body)


if __name__ == "__main__":
    unittest.main()
