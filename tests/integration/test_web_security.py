"""The console's security over plain HTTP (issue 24): chancery-web as a
real process on a real database, driven with http.client.

- no page and no action without a session, for every route of
  web/routes.c (read from the source, so a new route is covered);
- CSRF: a POST with no token, a wrong one, or another session's is
  refused and changes nothing; so is one from another Origin;
- roles: a viewer cannot edit, an editor cannot approve, for every route
  that needs more than the role has; an approver cannot approve a change
  of their own with campaign.four_eyes on (the library's own refusal);
- stored XSS: a payload in every name field (body name, alias, contact
  name, list name, campaign name, template name, user name) renders
  inert on every page: it appears only escaped, and no page has an
  element with an event-handler attribute or an inline script;
- login throttled after 5 failures, for the name and for the client;
- the session cookie is HttpOnly, SameSite=Strict and (unless
  --insecure-cookie) Secure, and a signed-out token opens nothing;
- a strict Content-Security-Policy on every response, errors, redirects
  and assets included.

Scope beside the other console tests: test_web.py (webcore) checks each
registry/list/import handler and a sample of these points on one page
each; test_web_pages.py (webpages) the campaign, template, audit and
inbound pages; this file sweeps every route of the table and every name
field, so that a page added later is covered without a new test.
test_web_browser.py walks the journeys in Chromium and fails on any
dialog, CSP violation or console error.
"""
import hashlib
import html.parser
import os
import unittest
import urllib.parse

from harness import Home
from web_harness import Client, WebServer, add_user, routes, web_binary

HAVE_WEB = web_binary() is not None

PAYLOAD = ("<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
           "<svg onload=alert(3)>")
SHORT = "<img src=x onerror=alert(7)>\"'"  # for 64-byte name limits
ESCAPED_MARK = "&lt;img src=x onerror=alert("

CONF = ("campaign = { approvals = 1; four_eyes = true; };\n")
TEMPLATE = "Subject: Statement\n\nTo the {{body.name}}.\n"


class Inert(html.parser.HTMLParser):
    """Collects what would make injected markup live: an element with an
    on* attribute, an inline script, an img or svg a page never has,
    javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append("<%s %s=%r>" % (tag, name, value))
            if value and value.strip().lower().startswith("javascript:"):
                self.bad.append("<%s %s=%r>" % (tag, name, value))
        if tag in ("svg", "iframe", "object", "embed"):
            self.bad.append("<%s>" % tag)
        if tag == "img" and dict(attrs).get("src") == "x":
            self.bad.append("<img src=x>")
        if tag == "script":
            if not dict(attrs).get("src"):
                self.bad.append("inline <script>")
            self.in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.bad.append("script text %r" % data[:60])


def live_markup(page):
    p = Inert()
    p.feed(page)
    p.close()
    return p.bad


def strict_csp(value):
    """What a Content-Security-Policy must say for the console: nothing
    from elsewhere, no inline script or style, no eval, no framing."""
    if not value:
        return "no Content-Security-Policy"
    v = value.lower()
    for bad in ("unsafe-inline", "unsafe-eval", "*", "http:", "https:",
                "data:"):
        if bad in v:
            return "CSP allows %s: %s" % (bad, value)
    for need in ("default-src 'none'", "script-src 'self'",
                 "frame-ancestors 'none'", "form-action 'self'"):
        if need not in v:
            return "CSP lacks %s: %s" % (need, value)
    return None


@unittest.skipUnless(HAVE_WEB, "chancery-web is not built")
class WebSecurity(unittest.TestCase):
    """One server over one database for the class (each test leaves the
    data as it found it, or only adds what it names)."""

    @classmethod
    def setUpClass(cls):
        cls.home = Home(CONF)
        h = cls.home
        h.ok("init")
        cls.pw = {}
        for name, role in (("vera", "viewer"), ("eddie", "editor"),
                           ("edna", "editor"), ("ann", "approver"),
                           ("bob", "approver"), ("root", "admin")):
            cls.pw[name] = add_user(h, name, role)
        h.ok("--as", "eddie", "body", "add", "Council of Europe", "--kind",
             "regional-org", "--acronym", "COE")
        h.ok("--as", "eddie", "contact", "add", "COE",
             "sg@coe.example.org", "--name", "Secretary General")
        h.ok("--as", "eddie", "list", "create", "europe")
        h.ok("--as", "eddie", "list", "add", "europe", "COE")
        path = os.path.join(h.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        h.ok("--as", "eddie", "template", "add", "stmt", path)
        h.ok("--as", "ann", "campaign", "create", "feb", "--template",
             "stmt", "--list", "europe", "--at", "2099-02-26 10:00",
             "--tz", "UTC")
        cls.body_id = h.scalar("SELECT id FROM bodies WHERE acronym='COE'")
        cls.server = WebServer(h)
        cls.routes = routes()

    @classmethod
    def tearDownClass(cls):
        try:
            verdict = cls.server.verdict()
        finally:
            cls.home.close()
        if verdict:
            raise AssertionError(verdict)

    def client(self, who=None):
        c = Client(self.server)
        if who:
            r = c.login(who, self.pw[who])
            self.assertEqual(r.status, 303, r)
            self.assertIn("chancery_session", c.cookies, r)
            # every signed-in page carries the session's token (in the
            # sign-out form at least)
            self.assertEqual(c.get("/registry").status, 200)
            self.assertTrue(c.csrf, "no csrf token in the pages")
        return c

    def concrete(self, method, path, prefix):
        """A path a prefix route would serve: /body/ID, /x/NAME/ACTION."""
        if not prefix:
            return path
        return path + ("%d" % self.body_id if method == "GET"
                       else "%d/edit" % self.body_id)

    def assertUnchanged(self, before, what):
        self.assertEqual(self.home.snapshot(), before,
                         "%s changed the database" % what)

    # --- sessions -----------------------------------------------------

    def test_route_table_is_read(self):
        # the parse of web/routes.c found the table (so the loops below
        # cannot pass by covering nothing)
        paths = {(m, p) for m, p, *_ in self.routes}
        self.assertIn(("GET", "/login"), paths)
        self.assertIn(("GET", "/"), paths)
        self.assertIn(("POST", "/body/new"), paths)
        self.assertGreaterEqual(len([r for r in self.routes if not r[4]]),
                                6)

    def test_no_page_or_action_without_a_session(self):
        before = self.home.snapshot()
        anon = Client(self.server)
        forged = Client(self.server)
        forged.cookies["chancery_session"] = "A" * 43
        checked = 0
        for method, path, prefix, need, public in self.routes:
            if public:
                continue
            url = self.concrete(method, path, prefix)
            for c in (anon, forged):
                if method == "GET":
                    r = c.get(url)
                else:
                    r = c.post(url, {"name": "x", "kind": "un-organ",
                                     "email": "x@example.org"},
                               csrf="A" * 43)
                self.assertEqual(r.status, 303, "%s %s: %r" % (method, url,
                                                              r))
                self.assertTrue(r.location().startswith("/login"), r)
                self.assertNotIn("Council of Europe", r.body)
                checked += 1
        # unknown pages too: no session, no hint whether they exist
        for url in ("/nosuch", "/body/999999", "/body/1/nosuch"):
            r = anon.get(url)
            self.assertEqual(r.status, 303, r)
        self.assertGreater(checked, 10)
        self.assertUnchanged(before, "a request without a session")

    def test_a_signed_out_session_opens_nothing(self):
        c = self.client("vera")
        token = c.cookies["chancery_session"]
        self.assertEqual(c.get("/registry").status, 200)
        digest = hashlib.sha256(token.encode()).hexdigest()
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM user_sessions WHERE token_sha256 = ?",
            digest), 1)
        r = c.post("/logout")
        self.assertEqual(r.status, 303, r)
        self.assertNotIn("chancery_session", c.cookies)
        c.cookies["chancery_session"] = token  # an old copy of the cookie
        r = c.get("/registry")
        self.assertEqual(r.status, 303, r)
        self.assertTrue(r.location().startswith("/login"), r)
        # the row is gone, not merely unused
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM user_sessions WHERE token_sha256 = ?",
            digest), 0)

    # --- CSRF ---------------------------------------------------------

    def add_body_form(self, name):
        return {"name": name, "kind": "un-organ"}

    def test_csrf_refused(self):
        c = self.client("eddie")
        other = self.client("edna")
        self.assertNotEqual(c.csrf, other.csrf)
        before = self.home.snapshot()
        for label, token in (("no token", None), ("an empty token", ""),
                             ("a wrong token", "B" * 43),
                             ("another session's token", other.csrf),
                             ("the session cookie as token",
                              c.cookies["chancery_session"])):
            r = c.post("/body/new", self.add_body_form("Forged Body"),
                       csrf=token)
            self.assertEqual(r.status, 403, "%s: %r" % (label, r))
            self.assertIn("security token", r.body, label)
            self.assertUnchanged(before, label)
        # from another site, with the right token: refused on Origin
        r = c.request("POST", "/body/new", body=urllib.parse.urlencode(
            dict(self.add_body_form("Forged Body"), csrf=c.csrf)),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Origin": "http://evil.example"})
        self.assertEqual(r.status, 403, r)
        self.assertUnchanged(before, "a cross-origin POST")
        # the same form with the session's token works (the refusals
        # above were the token's doing)
        r = c.post("/body/new", self.add_body_form("Genuine Body"))
        self.assertIn(r.status, (200, 303), r)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM bodies WHERE name = 'Genuine Body'"), 1)
        self.assertEqual(self.home.scalar(
            "SELECT actor FROM events WHERE kind = 'body.added' ORDER BY "
            "id DESC LIMIT 1"), "eddie")

    # --- roles --------------------------------------------------------

    def refused_for(self, who, needs):
        """Every route needing one of needs, GET and POST with the
        session's own token, is 403 for who, and changes nothing."""
        c = self.client(who)
        before = self.home.snapshot()
        checked = []
        for method, path, prefix, need, public in self.routes:
            if public or need not in needs:
                continue
            url = self.concrete(method, path, prefix)
            if method == "GET":
                r = c.get(url)
            else:
                r = c.post(url, {"name": "Role Test", "kind": "un-organ",
                                 "reason": "role test"})
            self.assertEqual(r.status, 403, "%s %s as %s: %r" %
                             (method, url, who, r))
            self.assertIn("role", r.body)
            checked.append("%s %s" % (method, path))
        self.assertUnchanged(before, "a refused role")
        return checked

    def test_a_viewer_cannot_edit(self):
        checked = self.refused_for("vera", ("USER_EDIT", "USER_APPROVE",
                                            "USER_ADMINISTER"))
        self.assertIn("POST /body/new", checked)
        # and reads every page
        c = self.client("vera")
        self.assertEqual(c.get("/body/%d" % self.body_id).status, 200)

    def test_an_editor_cannot_approve(self):
        checked = self.refused_for("eddie", ("USER_APPROVE",
                                             "USER_ADMINISTER"))
        approve = [r for r in self.routes if r[3] == "USER_APPROVE"]
        if approve:
            self.assertTrue(any("POST" in x for x in checked), checked)

    def test_four_eyes_over_the_console(self):
        """The approver who made a campaign, or last changed it, cannot
        approve it (campaign.four_eyes, the library's refusal and text);
        an editor cannot approve at all; another approver can."""
        h = self.home
        h.ok("--as", "ann", "campaign", "create", "eyes", "--template",
             "stmt", "--list", "europe", "--at", "2099-02-27 10:00", "--tz",
             "UTC")
        cid = h.scalar("SELECT id FROM campaigns WHERE name = 'eyes'")
        url = "/approval/%d/approve" % cid

        def refused(who, status, text):
            c = self.client(who)
            before = h.snapshot()
            r = c.post(url, {"schedule": "1"})
            self.assertEqual(r.status, status, r)
            self.assertIn(text, r.body.replace("&#39;", "'"))
            self.assertUnchanged(before, "%s's approval" % who)
            self.assertEqual(h.scalar(
                "SELECT state FROM campaigns WHERE id = ?", cid), "draft")

        refused("eddie", 403, "Your role does not allow this.")
        refused("ann", 403, "campaign 'eyes': ann created it and may not "
                "approve it (campaign.four_eyes)")
        h.ok("--as", "bob", "campaign", "edit", "eyes", "--at",
             "2099-02-27 09:00", "--tz", "UTC")
        refused("bob", 403, "campaign 'eyes': bob last edited it and may "
                "not approve it (campaign.four_eyes)")
        # the same request from a third person goes through: the
        # refusals were the rule's
        r = self.client("root").post(url, {"schedule": "1"})
        self.assertIn(r.status, (200, 303), r)
        self.assertEqual(h.scalar(
            "SELECT state FROM campaigns WHERE id = ?", cid), "scheduled")
        self.assertEqual(h.scalar(
            "SELECT actor FROM events WHERE kind = 'campaign.approved' AND "
            "campaign_id = ?", cid), "root")

    # --- XSS ----------------------------------------------------------

    def test_stored_xss_renders_inert(self):
        h = self.home
        made = {}

        def attempt(field, *args, who="eddie"):
            r = h.run("--as", who, *args)
            made[field] = r.rc == 0
            return r

        attempt("body name", "body", "add", PAYLOAD, "--kind",
                "regional-org", "--acronym", "XSS")
        bid = h.scalar("SELECT id FROM bodies WHERE acronym = 'XSS'")
        attempt("alias", "body", "alias", "XSS", "Alias " + PAYLOAD)
        attempt("contact name", "contact", "add", "XSS",
                "xss@example.org", "--name", PAYLOAD)
        attempt("contact email", "contact", "add", "XSS",
                "\"<img src=x onerror=alert(5)>\"@example.org")
        attempt("list name", "list", "create", SHORT)
        path = os.path.join(h.dir, "xss.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        attempt("template name", "template", "add", SHORT, path)
        attempt("campaign name", "campaign", "create", SHORT,
                "--template", "stmt", "--list", "europe", "--at",
                "2099-03-01 10:00", "--tz", "UTC")
        try:
            add_user(h, SHORT, "viewer")
            made["user name"] = True
        except AssertionError:
            made["user name"] = False
        # every field that takes free text took it (a list's name is a
        # token: the library refuses the payload, see the reflected
        # check below)
        for field in ("body name", "alias", "contact name",
                      "template name", "campaign name", "user name"):
            self.assertTrue(made[field], "%s refused the payload" % field)
        self.assertFalse(made["list name"])
        self.assertIsNotNone(bid)

        # every page a signed-in admin can GET, with each entity's id or
        # name where the route takes one
        names = [str(bid), str(self.body_id), "europe", "stmt", "feb",
                 urllib.parse.quote(SHORT, safe="")]
        c = self.client("root")
        pages = {}
        for method, path, prefix, need, public in self.routes:
            if method != "GET" or path.startswith("/static"):
                continue
            urls = [path + n for n in names] if prefix else [path]
            q = urllib.parse.quote
            urls += {
                "/registry": ["/registry?q=XSS", "/registry?q=" +
                              q(PAYLOAD)],
                "/list": ["/list?name=europe", "/list?name=" + q(SHORT)],
                "/template": ["/template?name=stmt&body=XSS",
                              "/template?name=" + q(SHORT)],
                "/audit/campaign": ["/audit/campaign?name=" + q(SHORT),
                                    "/audit/campaign?name=feb"],
                "/audit/body": ["/audit/body?body=XSS"],
            }.get(path, [])
            for url in urls:
                r = c.get(url)
                if r.status == 200:
                    pages[url] = r.body
                else:
                    self.assertIn(r.status, (303, 400, 404), r)
                    if r.status != 303:
                        self.assertEqual(live_markup(r.body), [], url)
        self.assertIn("/body/%d" % bid, pages)
        shown = [u for u, b in pages.items() if ESCAPED_MARK in b]
        self.assertIn("/body/%d" % bid, shown)
        for url, page in pages.items():
            self.assertEqual(live_markup(page), [], url)
            for raw in ("<script>alert", "<img src=x", "<svg onload"):
                self.assertNotIn(raw, page, url)
        # a list's name is refused by the library: the form says so with
        # the name escaped (reflected, not stored)
        r = c.post("/lists/new", {"name": SHORT, "kind": "static"})
        self.assertIn(r.status, (400, 200), r)
        self.assertIn("&lt;img src=x onerror=alert(7)&gt;", r.body)
        self.assertEqual(live_markup(r.body), [])
        self.assertEqual(h.scalar("SELECT count(*) FROM lists WHERE name "
                                  "= ?", SHORT), 0)
        # each accepted field is shown escaped on some page
        body_page = pages["/body/%d" % bid]
        self.assertIn("Alias &lt;script&gt;alert(1)&lt;/script&gt;",
                      body_page)
        self.assertGreaterEqual(body_page.count(
            "&lt;svg onload=alert(3)&gt;"), 3, "name, alias, contact")
        # the short payload (template, campaign, user) is shown escaped
        # wherever a page lists those
        short = "&lt;img src=x onerror=alert(7)&gt;"
        for prefix in ("/campaign", "/template", "/user", "/audit"):
            if any(u.startswith(prefix) for u in pages):
                self.assertTrue(any(short in b for u, b in pages.items()
                                    if u.startswith(prefix)), prefix)

    # --- login --------------------------------------------------------

    def test_session_cookie_flags(self):
        c = Client(self.server)
        r = c.login("vera", self.pw["vera"])
        (cookie,) = [x for x in r.cookies() if
                     x.startswith("chancery_session=")]
        flags = [f.strip().lower() for f in cookie.split(";")[1:]]
        self.assertIn("httponly", flags)
        self.assertIn("samesite=strict", flags)
        self.assertIn("path=/", flags)
        self.assertNotIn("secure", flags)  # --insecure-cookie
        token = cookie.split(";")[0].split("=", 1)[1]
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        # only its hash is stored
        self.assertNotIn(token, repr(self.home.snapshot()))
        # without --insecure-cookie: Secure
        secure = WebServer(self.home, insecure=False)
        try:
            r = Client(secure).login("vera", self.pw["vera"])
            (cookie,) = [x for x in r.cookies() if
                         x.startswith("chancery_session=")]
            flags = [f.strip().lower() for f in cookie.split(";")[1:]]
            self.assertIn("secure", flags)
            self.assertIn("httponly", flags)
            self.assertIn("samesite=strict", flags)
        finally:
            self.assertIsNone(secure.verdict())

    # --- headers ------------------------------------------------------

    def test_csp_on_every_response(self):
        anon = Client(self.server)
        c = self.client("vera")
        seen = []
        for method, path, prefix, need, public in self.routes:
            url = self.concrete(method, path, prefix)
            if path.startswith("/static"):
                url = path + "style.css"
            for client in (anon, c):
                if method == "GET":
                    r = client.get(url)
                elif path == "/logout":
                    continue
                else:
                    r = client.post(url, {}, csrf=None)
                seen.append((method, url, r.status))
                self.assertIsNone(strict_csp(
                    r.header("Content-Security-Policy")),
                    "%s %s: %r" % (method, url, r))
                self.assertEqual(r.header("X-Content-Type-Options"),
                                 "nosniff")
        for url in ("/nosuch", "/static/nosuch.css", "/login?next=/x"):
            r = anon.get(url)
            self.assertIsNone(strict_csp(r.header(
                "Content-Security-Policy")), url)
        r = c.request("DELETE", "/")
        self.assertIsNone(strict_csp(r.header("Content-Security-Policy")),
                          r)
        statuses = {s for _, _, s in seen}
        self.assertTrue({200, 303, 403} <= statuses, statuses)


@unittest.skipUnless(HAVE_WEB, "chancery-web is not built")
class LoginThrottle(unittest.TestCase):
    """On a server of its own: the throttle keys on the client address,
    which every test here shares (127.0.0.1)."""

    def setUp(self):
        self.home = Home()
        self.home.ok("init")
        self.pw = {"root": add_user(self.home, "root", "admin")}
        self.server = WebServer(self.home)

    def tearDown(self):
        try:
            verdict = self.server.verdict()
        finally:
            self.home.close()
        self.assertIsNone(verdict)

    def test_login_throttled_after_five_failures(self):
        add_user(self.home, "tess", "viewer", "tess's good password")
        c = Client(self.server)
        for i in range(5):
            r = c.login("tess", "wrong password %d" % i)
            self.assertEqual(r.status, 403, r)
            self.assertIn("wrong name or password", r.body)
            self.assertNotIn("chancery_session", c.cookies)
        r = c.login("tess", "tess's good password")
        self.assertEqual(r.status, 429, r)
        self.assertIn("too many failed logins; try again in", r.body)
        self.assertNotIn("chancery_session", c.cookies)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM user_sessions s JOIN users u ON "
            "u.id = s.user_id WHERE u.name = 'tess'"), 0)
        # the client is throttled too: another name from it waits
        r = c.login("root", self.pw["root"])
        self.assertEqual(r.status, 429, r)
        self.assertNotIn("chancery_session", c.cookies)
        # the password is never in the log
        self.assertNotIn("wrong password", self.server.log())
        self.assertNotIn(self.pw["root"], self.server.log())
        # nor anywhere in the database
        dump = repr(self.home.snapshot())
        self.assertNotIn("wrong password", dump)
        self.assertNotIn("tess's good password", dump)


if __name__ == "__main__":
    unittest.main()
