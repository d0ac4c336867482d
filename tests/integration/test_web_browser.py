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
import re
import shutil
import sqlite3
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
        self.peers = []
        self.procs = []
        self.shots = []
        self.server = WebServer(h)
        self.b = cdp.Browser()
        self.browser = self.b
        os.makedirs(SHOTS, exist_ok=True)

    def tearDown(self):
        if self.browser:
            self.browser.close()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for p in self.peers:
            p.stop()
        if self.server:
            self.server.stop()
        self.home.close()

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


if __name__ == "__main__":
    unittest.main()
