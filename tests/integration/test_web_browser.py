"""The console's main journeys in a real headless Chromium (issue 24),
driven over the DevTools protocol by cdp.py: chancery-web as a real
process over a real database, the daemon sending to the real SMTP peer.

Each journey saves a screenshot of every page it visits into
$CHANCERY_BIN_DIR/screenshots/ (JOURNEY-NN-PAGE.png), and fails on any
Content-Security-Policy violation, console error, uncaught exception or
JavaScript dialog on any page (a stored XSS that ran would open one).

The pages' stable ids are documented at the top of each web/page_*.c.
Skipped only when Chromium is not installed (scripts/deps.sh installs it).
"""
import os
import subprocess
import time
import unittest

import cdp
from harness import BIN_DIR, Home, Peer
from web_harness import WebServer, add_user, web_binary

SHOTS = os.path.join(BIN_DIR, "screenshots")
TEMPLATE = ("Subject: Statement on the anniversary\n\n"
            "Dear {{contact.name}},\n\n"
            "To the {{body.name}}: the statement of the office.\n")
CONF = "campaign = { approvals = 1; four_eyes = true; };\n"
XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"

BODIES = [  # acronym, name, kind, contacts (email, name)
    ("COE", "Council of Europe", "regional-org",
     [("sg@coe.example.org", "Secretary General"),
      ("pace@coe.example.org", "Parliamentary Assembly")]),
    ("OSCE", "Organization for Security and Co-operation in Europe",
     "regional-org", [("pc@osce.example.org", "Permanent Council")]),
    ("UNSG", "Secretary-General of the United Nations", "un-organ",
     [("sg@un.example.org", "Executive Office")]),
    ("OHCHR", "Office of the High Commissioner for Human Rights",
     "un-agency", [("info@ohchr.example.org", "Registry")]),
]


@unittest.skipUnless(cdp.available(), "chromium is not installed "
                     "(scripts/deps.sh installs it)")
@unittest.skipUnless(web_binary(), "chancery-web is not built")
class Journeys(unittest.TestCase):
    def setUp(self):
        self.home = Home(CONF)
        h = self.home
        h.ok("init")
        self.pw = {}
        for name, role in (("vera", "viewer"), ("eddie", "editor"),
                           ("ann", "approver")):
            self.pw[name] = add_user(h, name, role)
        for acr, name, kind, contacts in BODIES:
            h.ok("--as", "eddie", "body", "add", name, "--kind", kind,
                 "--acronym", acr)
            for email, cname in contacts:
                h.ok("--as", "eddie", "contact", "add", acr, email,
                     "--name", cname)
        h.ok("--as", "eddie", "list", "create", "europe")
        h.ok("--as", "eddie", "list", "add", "europe", "COE", "OSCE",
             "UNSG")
        path = os.path.join(h.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        h.ok("--as", "eddie", "template", "add", "anniversary", path)
        self.server = None
        self.browser = None
        self.procs = []
        self.shots = []
        # the test SMTP peer is the relay for test sends and the daemon
        self.peers = [Peer(os.path.join(h.dir, "peer"))]
        self.peer = self.peers[0]
        h.write_conf(CONF + 'transport = { kind = "smtp"; smtp = { host = '
                     '"127.0.0.1"; port = %d; connect_timeout = "2s"; '
                     'command_timeout = "5s"; }; };\n' % self.peer.port)
        self.server = WebServer(h)
        self.b = cdp.Browser()
        self.browser = self.b
        os.makedirs(SHOTS, exist_ok=True)
        for old in os.listdir(SHOTS):  # this journey's, from a past run
            if old.startswith(self.journey() + "-"):
                os.unlink(os.path.join(SHOTS, old))

    def tearDown(self):
        if self.browser:
            self.browser.close()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for p in self.peers:
            p.stop()
        verdict = self.server.verdict() if self.server else None
        self.home.close()
        self.assertIsNone(verdict)

    # --- steps --------------------------------------------------------

    def journey(self):
        return self.id().rsplit(".", 1)[-1].replace("test_", "")

    def shot(self, page):
        """The page as it is now, saved; and nothing wrong on it."""
        self.assertEqual(self.b.problems(), [], "on " + self.b.url())
        name = "%s-%02d-%s.png" % (self.journey(), len(self.shots) + 1,
                                   page)
        path = self.b.screenshot(os.path.join(SHOTS, name))
        self.assertGreater(os.path.getsize(path), 2000, path)
        self.shots.append(path)
        return path

    def go(self, path, status=200):
        got = self.b.goto(self.server.base + path)
        self.assertEqual(got, status, "%s: %s" % (path, self.b.text()))
        return got

    def sign_in(self, who, password=None):
        """Signs in through the form; lands on the page asked for."""
        self.b.fill("#login-name", who)
        self.b.fill("#login-password", password or self.pw[who])
        self.assertEqual(self.b.click("#login-submit", navigate=True), 200,
                         self.b.text())
        self.assertIn(who, self.b.text("#whoami"))

    def sign_in_at(self, who, path="/"):
        self.go("/login?next=" + path)
        self.sign_in(who)

    def sign_out(self):
        self.b.click("#logout", navigate=True)
        self.assertTrue(self.b.url().endswith("/login"), self.b.url())

    def notice(self):
        return self.b.text("#notice") if self.b.exists("#notice") else ""

    def error(self):
        return self.b.text("#error") if self.b.exists("#error") else ""

    def body_id(self, acronym):
        return self.home.scalar("SELECT id FROM bodies WHERE acronym = ?",
                                acronym)

    def campaign(self, name, at=None, who="eddie"):
        """A draft made with the CLI (test_web_pages.py covers the
        console's form); returns its id."""
        when = ("--at", at, "--tz", "UTC") if at else ("--now",)
        self.home.ok("--as", who, "campaign", "create", name, "--template",
                     "anniversary", "--list", "europe", *when)
        return self.home.scalar("SELECT id FROM campaigns WHERE name = ?",
                                name)

    def state(self, name):
        return self.home.scalar("SELECT state FROM campaigns WHERE name = ?",
                                name)

    def daemon(self):
        """chanceryd --foreground in the background, as systemd runs it."""
        env = dict(os.environ)
        env.pop("CHANCERY_CONFIG", None)
        env.pop("NOTIFY_SOCKET", None)
        log = open(os.path.join(self.home.dir, "daemon.log"), "w")
        p = subprocess.Popen([os.path.join(BIN_DIR, "chanceryd"), "--config",
                              self.home.conf, "--foreground"],
                             stdout=subprocess.DEVNULL, stderr=log, env=env)
        log.close()
        self.procs.append(p)
        return p

    def wait_for(self, predicate, what, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            self.b.pump(0.25)
        self.fail("timed out waiting for %s" % what)

    def last_event(self, kind):
        return self.home.sql("SELECT actor, data FROM events WHERE kind = ? "
                             "ORDER BY id DESC LIMIT 1", kind)

    # --- journeys -----------------------------------------------------

    def test_log_in(self):
        # a page asked for without a session leads to the sign-in form
        self.go("/registry")
        self.assertTrue(self.b.url().startswith(self.server.base +
                                                "/login"), self.b.url())
        self.assertEqual(self.b.value("#next"), "/registry")
        self.shot("login")
        # a wrong password: the library's text, no session
        self.b.fill("#login-name", "eddie")
        self.b.fill("#login-password", "not the password at all")
        self.assertEqual(self.b.click("#login-submit", navigate=True), 403)
        self.assertIn("wrong name or password", self.error())
        self.shot("login-refused")
        # the right one: back to the page asked for, signed in
        self.sign_in("eddie")
        self.assertTrue(self.b.url().endswith("/registry"), self.b.url())
        self.assertIn("eddie (editor)", self.b.text("#whoami"))
        self.shot("registry")
        # the cookie is not readable by the page's script (HttpOnly)
        self.assertEqual(self.b.eval("document.cookie"), "")
        self.sign_out()
        self.go("/registry")
        self.assertIn("/login", self.b.url())

    def test_find_a_body(self):
        self.sign_in_at("vera", "/registry")
        self.shot("registry")
        self.b.fill("#search-q", "europe")
        self.b.click("#search-submit", navigate=True)
        rows = self.b.texts("#results tbody tr")
        self.assertTrue(any("Council of Europe" in r for r in rows), rows)
        self.assertTrue(any("Co-operation in Europe" in r for r in rows),
                        rows)
        self.assertFalse(any("United Nations" in r for r in rows), rows)
        self.shot("search")
        coe = self.body_id("COE")
        self.b.click('#results a.body-link[href="/body/%d"]' % coe,
                     navigate=True)
        self.assertTrue(self.b.url().endswith("/body/%d" % coe))
        self.assertIn("Council of Europe", self.b.text("#body-fields"))
        self.assertIn("sg@coe.example.org", self.b.text("#contacts"))
        self.assertGreaterEqual(self.b.count("#history tbody tr"), 1)
        # a viewer sees no forms to change it
        self.assertFalse(self.b.exists("#contact-add-form"))
        self.shot("body")

    def test_edit_a_contact(self):
        coe = self.body_id("COE")
        cid = self.home.scalar("SELECT id FROM contacts WHERE email = ?",
                               "sg@coe.example.org")
        self.sign_in_at("eddie", "/body/%d" % coe)
        self.shot("body")
        form = "#contact-edit-form-%d" % cid
        self.b.fill(form + " input[name=name]", "Office of the Secretary "
                    "General")
        self.b.fill(form + " input[name=role]", "head of secretariat")
        self.b.click("#contact-save-%d" % cid, navigate=True)
        self.assertEqual(self.error(), "")
        self.assertIn("Office of the Secretary General",
                      self.b.text("#contacts"))
        self.shot("contact-saved")
        self.assertEqual(self.home.sql(
            "SELECT name, role FROM contacts WHERE id = ?", cid),
            [("Office of the Secretary General", "head of secretariat")])
        (actor, data), = self.last_event("contact.changed")
        self.assertEqual(actor, "eddie")
        self.assertIn("Office of the Secretary General", data)
        # an address the browser's own check lets through but the
        # library refuses: the library's text, nothing changed
        before = self.home.snapshot()
        self.b.fill(form + " input[name=email]", "sg@coe")
        self.b.click("#contact-save-%d" % cid, navigate=True)
        self.assertIn("'sg@coe': the domain 'coe' is not a full host name",
                      self.error())
        self.shot("contact-refused")
        self.assertEqual(self.home.snapshot(), before)
        # and a stored XSS in the name renders as text, no dialog
        self.b.fill(form + " input[name=name]", XSS)
        self.b.fill(form + " input[name=email]", "sg@coe.example.org")
        self.b.click("#contact-save-%d" % cid, navigate=True)
        self.assertIn(XSS, self.b.text("#contacts"))
        self.assertEqual(self.b.count("#contacts img"), 0)
        self.b.pump(0.3)
        self.assertEqual(self.b.dialogs, [])
        self.shot("contact-xss-inert")


    def test_import_a_spreadsheet(self):
        sheet = os.path.join(self.home.dir, "registry.csv")
        with open(sheet, "w") as f:
            f.write("acronym,name,kind,country,notes,aliases,email,"
                    "contact_name,role,language,status\n"
                    # a contact renamed
                    "COE,Council of Europe,regional-org,,,,"
                    "sg@coe.example.org,Office of the Secretary General,,"
                    "en,active\n"
                    # as it is
                    "OSCE,Organization for Security and Co-operation in "
                    "Europe,regional-org,,,,pc@osce.example.org,Permanent "
                    "Council,,,active\n"
                    # a new body with its contact
                    "ECRI,European Commission against Racism and "
                    "Intolerance,regional-org,,,,ecri@coe.example.org,"
                    "Secretariat,,en,active\n")
        self.sign_in_at("eddie", "/registry")
        self.b.click("#import-link", navigate=True)
        self.assertTrue(self.b.url().endswith("/registry/import"))
        self.shot("import-form")
        before = self.home.snapshot()
        self.b.upload("#import-file", sheet)
        self.b.click("#import-update")
        self.assertTrue(self.b.eval(
            "document.querySelector('#import-update').checked"))
        self.assertEqual(self.b.click("#import-preview", navigate=True), 200,
                         self.b.text())
        # the diff, before anything is applied
        self.assertEqual(self.error(), "")
        added = self.b.texts("#import-plan tr.diff-added")
        changed = self.b.texts("#import-plan tr.diff-changed")
        self.assertTrue(any("ECRI" in r or "ecri@coe.example.org" in r
                            for r in added), added)
        self.assertTrue(any("Office of the Secretary General" in r
                            for r in changed), changed)
        self.assertFalse(any("OSCE" in r for r in added + changed))
        self.assertTrue(self.b.exists("#import-summary"))
        self.shot("import-preview")
        self.assertEqual(self.home.snapshot(), before,
                         "the preview changed the database")
        self.assertEqual(self.b.click("#import-apply", navigate=True), 200,
                         self.b.text())
        self.assertEqual(self.error(), "")
        self.assertTrue(self.b.exists("#import-summary"))
        self.shot("import-applied")
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM bodies WHERE acronym = 'ECRI'"), 1)
        self.assertEqual(self.home.scalar(
            "SELECT name FROM contacts WHERE email = 'sg@coe.example.org'"),
            "Office of the Secretary General")
        self.assertEqual(self.home.sql(
            "SELECT DISTINCT actor FROM events WHERE id > (SELECT max(id) "
            "FROM events WHERE kind = 'template.added')"), [("eddie",)])
        # the upload waited only for this; applying it again finds nothing
        self.go("/registry?q=ECRI")
        self.assertIn("European Commission against Racism",
                      self.b.text("#results"))
        self.shot("import-found")

    def open_campaign(self, cid):
        self.go("/campaigns")
        self.b.click('a.campaign-link[href="/campaign/%d"]' % cid,
                     navigate=True)
        self.assertTrue(self.b.url().endswith("/campaign/%d" % cid))

    def test_proof_and_approve_as_a_second_user(self):
        cid = self.campaign("march", at="2099-03-01 10:00")
        # the editor who made it proofs it and sends a test
        self.sign_in_at("eddie", "/campaigns")
        self.shot("campaigns")
        self.open_campaign(cid)
        self.assertIn("draft", self.b.text("#campaign-state"))
        self.assertFalse(self.b.exists("#approve-box"))  # not an approver
        self.shot("campaign-draft")
        self.b.click("#proofs-link", navigate=True)
        proofs = self.b.texts("pre.proof-text")
        self.assertTrue(any("To the Council of Europe: the statement" in p
                            for p in proofs), proofs)
        self.shot("proofs")
        self.b.goto(self.server.base + "/campaign/%d" % cid)
        self.b.fill("#test-to", "proof-reader@example.org")
        self.b.fill("#test-body", "COE")
        self.b.click("#test-submit", navigate=True)
        self.assertEqual(self.error(), "")
        self.shot("test-sent")
        test = [m for m in self.peer.messages()
                if "proof-reader@example.org" in m["rcpt_tos"]]
        self.assertEqual(len(test), 1, self.peer.messages())
        self.assertIn("To the Council of Europe",
                      self.peer.content(test[0]))
        self.sign_out()
        # a second person, an approver, signs it off
        self.sign_in_at("ann", "/campaign/%d" % cid)
        self.assertIn("sg@coe.example.org", self.b.text("#recipients"))
        self.assertEqual(self.b.count("#recipients tr.recipient"), 4)
        self.shot("campaign-to-approve")
        self.b.click("#approve-schedule")
        self.b.click("#approve-submit", navigate=True, confirm=True)
        self.assertEqual(self.error(), "")
        self.assertIn("scheduled", self.b.text("#campaign-state"))
        self.assertIn("ann", self.b.text("#approvals"))
        self.shot("campaign-approved")
        self.assertEqual(self.state("march"), "scheduled")
        (actor, _), = self.last_event("campaign.approved")
        self.assertEqual(actor, "ann")

    def test_watch_it_send(self):
        cid = self.campaign("statement-2027")
        self.sign_in_at("ann", "/campaign/%d" % cid)
        self.b.click("#approve-schedule")
        self.b.click("#approve-now")
        self.b.click("#approve-submit", navigate=True, confirm=True)
        self.assertEqual(self.error(), "")
        self.assertIn("scheduled", self.b.text("#campaign-state"))
        self.shot("scheduled")
        self.daemon()
        # the page follows the sending on its own (progress.js polls)
        self.wait_for(lambda: "done" in self.b.text("#campaign-state"),
                      "the page to show the campaign done")
        self.assertIn("4 of 4", self.b.text("#progress-text"))
        self.assertEqual(self.b.text("#count-sent").strip(), "4")
        self.shot("sent")
        # the README's picture (docs/console.png is a copy): the top of
        # this page, 1000 x 820
        self.b.screenshot(os.path.join(SHOTS, "console.png"),
                          max_height=820)
        rcpts = sorted(r for m in self.peer.messages() for r in m["rcpt_tos"])
        self.assertEqual(rcpts, ["pace@coe.example.org",
                                 "pc@osce.example.org",
                                 "sg@coe.example.org", "sg@un.example.org"])
        self.assertEqual(self.state("statement-2027"), "done")

    def test_open_the_audit_matrix(self):
        self.campaign("feb")
        self.home.ok("--as", "ann", "campaign", "approve", "feb",
                     "--schedule", "--now")
        self.home.ok("--once", prog="chanceryd")
        self.assertEqual(len(self.peer.messages()), 4)
        self.sign_in_at("eddie", "/")
        self.b.click("#nav-audit", navigate=True)
        cells = self.b.eval("Array.from(document.querySelectorAll("
                            "'#matrix td.cell'), c => c.dataset.state)")
        self.assertEqual(sorted(c for c in cells if c), ["sent"] * 3, cells)
        self.shot("matrix")
        # a filter: nothing was sent from 2099 on
        self.b.fill("#filter-since", "2099")
        self.b.click("#filter-submit", navigate=True)
        self.assertIn("since=2099", self.b.url())
        self.assertEqual(self.b.count("#matrix td.cell[data-state=sent]"),
                         0, self.b.text("main"))
        self.shot("matrix-filtered")
        self.go("/audit")
        self.b.click("#verify-submit", navigate=True)
        self.assertEqual(self.b.attr("#verify-status", "data-ok"), "yes",
                         self.b.text("#ledger"))
        self.assertTrue(self.b.exists("#anchor-hash"))
        self.shot("verified")
        self.go("/audit")
        self.b.click("a.campaign-audit-link", navigate=True)
        self.assertEqual(self.b.count("#audit-report tbody tr"), 4)
        self.shot("campaign-audit")
        self.go("/audit")
        self.b.click("a.body-audit-link", navigate=True)
        self.assertGreaterEqual(self.b.count("#audit-report tbody tr"), 1)
        self.shot("body-audit")

    def test_stored_xss_stays_text_on_every_page(self):
        h = self.home
        h.ok("--as", "eddie", "body", "add", XSS, "--kind", "un-organ",
             "--acronym", "XSS")
        h.ok("--as", "eddie", "body", "alias", "XSS", "alias " + XSS)
        h.ok("--as", "eddie", "contact", "add", "XSS", "x@xss.example.org",
             "--name", XSS)
        h.ok("--as", "eddie", "list", "add", "europe", "XSS")
        # due in five days: the overview names it
        soon = time.strftime("%Y-%m-%d %H:%M",
                             time.gmtime(time.time() + 5 * 86400))
        cid = self.campaign(XSS[:40], at=soon)
        bid = self.body_id("XSS")
        self.sign_in_at("ann", "/registry?q=XSS")
        pages = ["/", "/registry?q=XSS", "/body/%d" % bid,
                 "/list?name=europe", "/campaigns", "/campaign/%d" % cid,
                 "/campaign/%d/proofs" % cid,
                 "/template?name=anniversary&body=XSS", "/audit"]
        for n, path in enumerate(pages):
            self.go(path)
            self.assertIn(XSS[:20], self.b.text("main"), path)
            self.assertEqual(self.b.count("main img, main svg"), 0, path)
            self.assertEqual(self.b.problems(), [], path)
            if n in (0, 2, 5):
                self.shot("xss-%s" % (path.strip("/").split("/")[0] or
                                      "overview"))
        self.go("/campaigns/new")  # no record shown: CSP and errors only
        self.assertEqual(self.b.problems(), [], "/campaigns/new")
        self.shot("campaign-new")
        self.assertEqual(self.b.dialogs, [])


if __name__ == "__main__":
    unittest.main()
