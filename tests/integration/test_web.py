"""chancery-web end to end: the built server on a free loopback port
over a real database, accounts made with `chancery user add`, requests
over http.client with the cookie kept by hand. What is checked is the
status, the headers, the page's text and the database's state.
"""
import html
import json
import os
import re
import time
import unittest

import harness
from web_client import Client, Server, add_user, cli_error

CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; "
       "img-src 'self'; connect-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
PASSWORDS = {"ada": "admin-password-1", "ed": "editor-password-1",
             "vi": "viewer-password-1", "ap": "approver-password-1"}
XSS = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>'


class WebTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        add_user(self.home, "ada", "admin", PASSWORDS["ada"])
        add_user(self.home, "ed", "editor", PASSWORDS["ed"])
        add_user(self.home, "vi", "viewer", PASSWORDS["vi"])
        self.home.ok("body", "add", "Defensoría del Pueblo", "--kind",
                     "ombudsman", "--acronym", "DPE", "--country", "ES")
        self.home.ok("contact", "add", "DPE", "registro@dpe.example",
                     "--name", "Registro")
        self.body = self.home.scalar("SELECT id FROM bodies WHERE "
                                     "acronym = 'DPE'")
        self.contact = self.home.scalar("SELECT id FROM contacts WHERE "
                                        "email = 'registro@dpe.example'")
        self.server = Server(self.home)
        self.addCleanup(self.stop)

    def state(self):
        """The database without the accounts' sign-in bookkeeping
        (sessions, last login, failures), which a test's own logins
        change."""
        snap = self.home.snapshot()
        for t in ("users", "user_sessions", "login_failures"):
            snap.pop(t, None)
        return snap

    def stop(self):
        if self.server:
            self.assertEqual(self.server.stop(), 0, self.server.log)
            self.server = None

    def client(self, name=None):
        c = Client(self.server)
        if name:
            r = c.login(name, PASSWORDS[name])
            self.assertEqual(r.status, 303, r.body)
            self.assertIsNotNone(c.cookie)
        return c

    def contact_page(self, c):
        r = c.get("/body/%d" % self.body)
        self.assertEqual(r.status, 200, r.body)
        return r

    def edit_path(self):
        return "/body/%d/contact/%d/edit" % (self.body, self.contact)

    # ---- signing in ----

    def test_login_sets_the_cookie_flags(self):
        c = Client(self.server)
        r = c.post("/login", {"name": "ed", "password": PASSWORDS["ed"],
                              "next": "/registry"})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(r.header("Location"), "/registry")
        cookie = r.header("Set-Cookie")
        self.assertRegex(cookie, r"^chancery_session=[A-Za-z0-9_-]{43};")
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(flag, cookie)
        self.assertNotIn("Secure", cookie)  # --insecure-cookie
        # the table keeps only the token's hash
        token = cookie.split(";")[0].split("=", 1)[1]
        dump = repr(self.home.snapshot())
        self.assertNotIn(token, dump)
        # an open redirect is not followed
        r = c.post("/login", {"name": "ed", "password": PASSWORDS["ed"],
                              "next": "//evil.example/"})
        self.assertEqual(r.header("Location"), "/")

    def test_secure_cookie_by_default(self):
        other = Server(self.home, insecure=False)
        try:
            c = Client(other)
            r = c.post("/login", {"name": "ed",
                                  "password": PASSWORDS["ed"]})
            self.assertEqual(r.status, 303, r.body)
            self.assertIn("; Secure", r.header("Set-Cookie"))
        finally:
            self.assertEqual(other.stop(), 0, other.log)

    def test_wrong_password_and_throttle_show_the_librarys_text(self):
        c = Client(self.server)
        for _ in range(4):
            r = c.post("/login", {"name": "ed", "password": "not-the-one-1"})
            self.assertEqual(r.status, 403)
            self.assertEqual(r.error(), "wrong name or password")
            self.assertIsNone(r.header("Set-Cookie"))
        # unknown name: the same words
        r = c.post("/login", {"name": "nobody", "password": "whatever-1234"})
        self.assertEqual(r.status, 403)
        self.assertEqual(r.error(), "wrong name or password")
        # five failures from this client: the next try is refused before
        # the password is checked, even the right one
        r = c.post("/login", {"name": "ed", "password": PASSWORDS["ed"]})
        self.assertEqual(r.status, 429, r.body)
        self.assertRegex(r.error(), r"^too many failed logins; try again "
                                    r"in \d+ seconds$")
        self.assertIsNone(r.header("Set-Cookie"))

    def test_logout_ends_the_session(self):
        c = self.client("ed")
        r = self.contact_page(c)
        r = c.post("/logout", {"csrf": r.csrf()})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/login")
        self.assertIn("Max-Age=0", r.header("Set-Cookie"))
        r = c.get("/registry")
        self.assertEqual(r.status, 303)
        self.assertTrue(r.header("Location").startswith("/login"))

    # ---- no session, no CSRF token, wrong role ----

    def test_no_page_and_no_action_without_a_session(self):
        c = Client(self.server)
        for path in ["/", "/registry", "/registry?q=dpe",
                     "/body/%d" % self.body, "/body/new", "/lists",
                     "/list?name=x", "/registry/import",
                     "/lists/addressees", "/no/such/page"]:
            r = c.get(path)
            self.assertEqual(r.status, 303, path)
            self.assertTrue(r.header("Location").startswith("/login"),
                            path)
            self.assertNotIn("Registro", r.body)
        self.assertEqual(c.get("/registry").header("Location"),
                         "/login?next=%2Fregistry")
        before = self.state()
        r = c.post(self.edit_path(), {"email": "x@dpe.example"})
        self.assertEqual(r.status, 303)
        c.cookie = "A" * 43  # a made-up token opens nothing either
        r = c.post(self.edit_path(), {"email": "x@dpe.example"})
        self.assertEqual(r.status, 303)
        self.assertEqual(self.state(), before)

    def test_csrf_missing_or_wrong_is_refused(self):
        c = self.client("ed")
        token = self.contact_page(c).csrf()
        before = self.state()
        for fields in ({"email": "new@dpe.example"},
                       {"email": "new@dpe.example", "csrf": ""},
                       {"email": "new@dpe.example", "csrf": "x" * 43},
                       {"email": "new@dpe.example",
                        "csrf": token[:-1] + ("A" if token[-1] != "A"
                                              else "B")}):
            r = c.post(self.edit_path(), fields)
            self.assertEqual(r.status, 403, fields)
            self.assertIn("security token", r.error())
        # another session's token is wrong too
        other = self.client("ada")
        r = c.post(self.edit_path(), {"email": "new@dpe.example",
                                      "csrf": self.contact_page(other)
                                      .csrf()})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.state(), before)

    def test_a_form_from_another_site_is_refused(self):
        c = self.client("ed")
        token = self.contact_page(c).csrf()
        before = self.state()
        for origin in ("http://evil.example", "null",
                       "http://127.0.0.1:%d.evil.example" %
                       self.server.port):
            c.origin = origin
            r = c.post(self.edit_path(), {"email": "new@dpe.example",
                                          "csrf": token})
            self.assertEqual(r.status, 403, origin)
            self.assertEqual(r.error(),
                             "The form was sent from another site.")
        # the sign-in form too, which has no token yet
        anon = Client(self.server, origin="http://evil.example")
        r = anon.login("ed", PASSWORDS["ed"])
        self.assertEqual(r.status, 403)
        self.assertIsNone(anon.cookie)
        self.assertEqual(self.state(), before)
        c.origin = "http://127.0.0.1:%d" % self.server.port
        r = c.post(self.edit_path(), {"email": "new@dpe.example",
                                      "csrf": token})
        self.assertEqual(r.status, 303, r.body)

    def test_a_viewer_reads_but_cannot_edit(self):
        c = self.client("vi")
        r = self.contact_page(c)
        self.assertIn("registro@dpe.example", r.body)
        self.assertNotIn("contact-edit-form", r.body)
        self.assertNotIn("body-edit-form", r.body)
        token = r.csrf()  # the sign-out form's
        before = self.state()
        for path, fields in [
                (self.edit_path(), {"email": "new@dpe.example"}),
                ("/body/%d/edit" % self.body, {"name": "Renamed"}),
                ("/body/%d/contact/%d/status" % (self.body, self.contact),
                 {"status": "suppressed"}),
                ("/body/new", {"name": "New", "kind": "ngo"}),
                ("/lists/new", {"name": "l1", "kind": "static"})]:
            fields["csrf"] = token
            r = c.post(path, fields)
            self.assertEqual(r.status, 403, path)
            self.assertEqual(r.error(), "Your role does not allow this.")
        self.assertEqual(c.get("/body/new").status, 403)
        self.assertEqual(self.state(), before)

    # ---- changes, and who the ledger says made them ----

    def test_an_editor_edits_a_contact_as_themself(self):
        c = self.client("ed")
        token = self.contact_page(c).csrf()
        r = c.post(self.edit_path(), {
            "csrf": token, "email": "registro@dpe.example",
            "name": "Oficina de registro", "role": "registry",
            "language": "es", "notes": ""})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(r.header("Location"),
                         "/body/%d?ok=contact-saved" % self.body)
        self.assertEqual(self.home.sql(
            "SELECT name, role, language FROM contacts WHERE id = ?",
            self.contact), [("Oficina de registro", "registry", "es")])
        kind, actor, data = self.home.sql(
            "SELECT kind, actor, data FROM events ORDER BY id DESC "
            "LIMIT 1")[0]
        self.assertEqual((kind, actor), ("contact.changed", "ed"))
        self.assertEqual(json.loads(data)["name"],
                         {"from": "Registro", "to": "Oficina de registro"})
        # the page shows it, and its history names the editor
        r = c.get(r.header("Location"))
        self.assertEqual(r.status, 200)
        self.assertIn("Contact saved.", r.body)
        self.assertRegex(r.body, r'<tr class="history-row"><td>[^<]*</td>'
                                 r'<td>contact.changed</td><td>ed</td>')
        # the chain still verifies with the web's events in it
        self.home.ok("audit", "verify")

    def test_suppress_and_enable_a_contact(self):
        c = self.client("ed")
        token = self.contact_page(c).csrf()
        path = "/body/%d/contact/%d/status" % (self.body, self.contact)
        r = c.post(path, {"csrf": token, "status": "suppressed",
                          "reason": "asked not to be written to"})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(self.home.sql(
            "SELECT status, status_reason FROM contacts WHERE id = ?",
            self.contact), [("suppressed", "asked not to be written to")])
        r = c.post(path, {"csrf": token, "status": "active"})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(self.home.scalar(
            "SELECT status FROM contacts WHERE id = ?", self.contact),
            "active")
        self.assertEqual(self.home.sql(
            "SELECT kind, actor FROM events WHERE contact_id = ? "
            "ORDER BY id DESC LIMIT 2", self.contact),
            [("contact.enabled", "ed"), ("contact.disabled", "ed")])

    def test_merge_shows_the_dry_run_then_merges(self):
        self.home.ok("body", "add", "Defensor del Pueblo de España",
                     "--kind", "ombudsman", "--acronym", "DPE2")
        self.home.ok("contact", "add", "DPE2", "prensa@dpe.example")
        drop = self.home.scalar("SELECT id FROM bodies WHERE acronym = "
                                "'DPE2'")
        c = self.client("ed")
        token = self.contact_page(c).csrf()
        before = self.state()
        r = c.post("/body/%d/merge" % self.body,
                   {"csrf": token, "other": "DPE2"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("prensa@dpe.example", r.body)
        self.assertIn("dry run", r.body)
        self.assertEqual(self.state(), before)
        r = c.post("/body/%d/merge" % self.body,
                   {"csrf": token, "other": "#%d" % drop, "confirm": "1"})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(self.home.scalar(
            "SELECT merged_into FROM bodies WHERE id = ?", drop), self.body)
        self.assertEqual(self.home.scalar(
            "SELECT actor FROM events WHERE kind = 'body.merged'"), "ed")

    # ---- what the pages show ----

    def test_stored_xss_renders_inert(self):
        self.home.ok("body", "add", XSS, "--kind", "ngo", "--notes", XSS)
        self.home.ok("contact", "add", XSS, "x@xss.example", "--name", XSS,
                     "--role", XSS)
        bid = self.home.scalar("SELECT id FROM bodies WHERE kind = 'ngo'")
        c = self.client("ed")
        for path in ["/body/%d" % bid, "/registry?q=alert",
                     "/registry", "/registry?q=" + XSS[:20]]:
            r = c.get(path.replace(" ", "+").replace("<", "%3C")
                      .replace(">", "%3E").replace('"', "%22")
                      .replace("'", "%27"))
            self.assertIn(r.status, (200, 400), path)
            self.assertNotIn("<script>alert", r.body, path)
            self.assertNotIn("<img src=x", r.body, path)
            self.assertNotIn("'><img", r.body, path)
        r = c.get("/body/%d" % bid)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"
                      "&gt;&lt;img src=x onerror=alert(2)&gt;", r.body)

    def test_security_headers_on_every_response(self):
        anon = Client(self.server)
        ed = self.client("ed")
        token = self.contact_page(ed).csrf()
        responses = [
            anon.get("/login"), anon.get("/registry"),
            anon.post("/login", {"name": "x", "password": "y" * 12}),
            anon.get("/static/chancery.css"),
            ed.get("/registry"), ed.get("/registry?q=dpe"),
            ed.get("/body/%d" % self.body), ed.get("/body/999999"),
            ed.get("/no/such/page"), ed.get("/lists"),
            ed.get("/registry/import"), ed.get("/lists/addressees"),
            ed.post(self.edit_path(), {"email": "bad"}),
            ed.post(self.edit_path(), {"csrf": token, "email": "bad"})]
        for r in responses:
            self.assertEqual(r.header("Content-Security-Policy"), CSP)
            self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
            self.assertEqual(r.header("Referrer-Policy"), "same-origin")
            self.assertEqual(r.header("X-Frame-Options"), "DENY")
        for r in responses[:3] + responses[4:]:
            self.assertEqual(r.header("Cache-Control"), "no-store")
            # no inline script or style the CSP would have to allow
            self.assertNotRegex(r.body, r"<script(?![^>]*\ssrc=)")
            self.assertNotIn("style=", r.body)
            self.assertNotIn("<style", r.body)
        self.assertEqual(responses[7].status, 404)
        self.assertEqual(responses[8].status, 404)

    def test_errors_are_the_librarys_text(self):
        c = self.client("ed")
        token = self.contact_page(c).csrf()
        cases = [
            (self.edit_path(), {"email": "not-an-address"},
             ["contact", "edit", "registro@dpe.example", "--email",
              "not-an-address"]),
            ("/body/%d/edit" % self.body, {"country": "Spain"},
             ["body", "edit", "DPE", "--country", "Spain"]),
            ("/body/%d/edit" % self.body, {"kind": "castle"},
             ["body", "edit", "DPE", "--kind", "castle"]),
            ("/body/%d/contact" % self.body, {"email": "registro@dpe."
                                              "example"},
             ["contact", "add", "DPE", "registro@dpe.example"]),
            ("/body/%d/merge" % self.body, {"other": "DPE"},
             ["body", "merge", "DPE", "DPE"]),
        ]
        for path, fields, argv in cases:
            before = self.state()
            fields["csrf"] = token
            r = c.post(path, fields)
            self.assertEqual(r.status, 400, (path, r.body))
            cli = self.home.run(*argv)
            self.assertNotEqual(cli.rc, 0, cli)
            self.assertEqual(r.error(), cli_error(cli), argv)
            self.assertEqual(self.state(), before, path)

    def test_import_shows_the_dry_run_the_cli_computes(self):
        csv = ("acronym,name,kind,country,notes,aliases,email,"
               "contact_name,role,language,status\n"
               "NEWB,Nueva Defensoría,ombudsman,PE,,,mesa@nueva.example,"
               ",,,\n"
               "DPE,Defensoría del Pueblo,ombudsman,ES,,Defensor,"
               "registro@dpe.example,Otro nombre,,,\n").encode()
        path = os.path.join(self.home.dir, "people.csv")
        with open(path, "wb") as f:
            f.write(csv)
        cli = self.home.ok("registry", "import-csv", "--dry-run", path)
        c = self.client("ed")
        token = c.get("/registry/import").csrf()
        before = self.state()
        r = c.post_multipart("/registry/import", {"csrf": token},
                             {"file": ("people.csv", csv)})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.state(), before)
        items = [re.sub(r"<[^>]+>", "", m) for m in re.findall(
            r'<tr class="import-item [^"]*"><td>\d+</td><td>(.*?)</td>',
            r.body)]
        shown = [html.unescape(i) for i in items]
        summary = html.unescape(re.search(
            r'id="import-summary">(.*?)</p>', r.body).group(1))
        want = cli.out.replace(path, "people.csv").strip().split("\n")
        self.assertEqual(shown + [summary], want)
        upload = re.search(r'name="upload" value="([0-9a-f]{32})"',
                           r.body).group(1)
        tmp = self.server.tmpdir
        kept = [f for f in os.listdir(tmp) if upload in f]
        self.assertEqual(len(kept), 1)
        st = os.stat(os.path.join(tmp, kept[0]))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        # another account cannot apply the upload
        other = self.client("ada")
        r = other.post("/registry/import/apply", {
            "csrf": other.get("/registry/import").csrf(),
            "upload": upload, "name": "people.csv"})
        self.assertEqual(r.status, 404)
        self.assertEqual(self.state(), before)
        r = c.post("/registry/import/apply", {
            "csrf": token, "upload": upload, "name": "people.csv",
            "update": "0", "reactivate": "0"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("Imported.", r.body)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM bodies WHERE acronym = 'NEWB'"), 1)
        self.assertEqual(self.home.scalar(
            "SELECT actor FROM events WHERE kind = 'body.added' ORDER BY "
            "id DESC LIMIT 1"), "ed")
        self.assertEqual([f for f in os.listdir(tmp) if upload in f], [])

    def test_an_upload_never_applied_goes_after_a_day(self):
        tmp = self.server.tmpdir
        old = os.path.join(tmp, "chancery-web-import-9-%s.csv" % ("a" * 32))
        new = os.path.join(tmp, "chancery-web-import-9-%s.csv" % ("b" * 32))
        for path in (old, new):
            with open(path, "w") as f:
                f.write("x\n")
        day = time.time() - 24 * 3600 - 60
        os.utime(old, (day, day))
        c = self.client("ed")
        csv = (b"acronym,name,kind,country,notes,aliases,email,"
               b"contact_name,role,language,status\n"
               b"NEWB,Nueva,ombudsman,PE,,,,,,,\n")
        r = c.post_multipart("/registry/import",
                             {"csrf": c.get("/registry/import").csrf()},
                             {"file": ("people.csv", csv)})
        self.assertEqual(r.status, 200, r.body)
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(new))

    def test_a_bad_spreadsheet_changes_nothing(self):
        csv = b"acronym,name,kind\nX,,ombudsman\n"
        path = os.path.join(self.home.dir, "bad.csv")
        with open(path, "wb") as f:
            f.write(csv)
        cli = self.home.run("registry", "import-csv", "--dry-run", path)
        self.assertNotEqual(cli.rc, 0, cli)
        *problems, last = cli.err.strip().split("\n")
        c = self.client("ed")
        before = self.state()
        r = c.post_multipart("/registry/import",
                             {"csrf": c.get("/registry/import").csrf()},
                             {"file": ("bad.csv", csv)})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual("chancery: " + r.error(),
                         last.replace(path, "bad.csv"))
        shown = html.unescape(re.search(r'id="import-problems">(.*?)</pre>',
                                        r.body, re.S).group(1))
        self.assertEqual(shown.strip().split("\n"),
                         [p.replace(path, "bad.csv") for p in problems])
        self.assertNotIn("import-apply-form", r.body)
        self.assertEqual(self.state(), before)

    def test_lists_structure_and_expansion(self):
        c = self.client("ed")
        token = c.get("/lists").csrf()
        r = c.post("/lists/new", {"csrf": token, "name": "madrid<b>",
                                  "kind": "static"})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(r.header("Location"),
                         "/list?name=madrid%3Cb%3E&ok=created")
        r = c.post("/list/add-body", {"csrf": token, "name": "madrid<b>",
                                      "body": "Defensoria del pueblo"})
        self.assertEqual(r.status, 303, r.body)
        r = c.get("/list?name=madrid%3Cb%3E")
        self.assertIn("List madrid&lt;b&gt;", r.body)
        self.assertRegex(r.body, r'(?s)id="members".*DPE.*id="expansion".*DPE')
        self.assertIn("1 bodies, 1 contacts", r.body)
        self.assertEqual(self.home.scalar(
            "SELECT actor FROM events WHERE kind = 'list.changed' ORDER BY "
            "id DESC LIMIT 1"), "ed")
        cli = self.home.run("list", "add", "madrid<b>", "nobody-at-all")
        r = c.post("/list/add-body", {"csrf": token, "name": "madrid<b>",
                                      "body": "nobody-at-all"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.error(), cli_error(cli))

    def test_addressee_plan_row_by_row(self):
        statement = os.path.join(harness.SOURCE_DIR, "tests", "data",
                                 "statements",
                                 "ombudsman-2025-khojaly-33rd.txt")
        c = self.client("ed")
        token = c.get("/lists/addressees").csrf()
        with open(statement, "rb") as f:
            text = f.read()
        before = self.state()
        r = c.post_multipart("/lists/addressees",
                             {"csrf": token, "list": "khojaly"},
                             {"file": ("khojaly.txt", text)})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.state(), before)
        rows = re.findall(r'<tr id="plan-(\d+)"', r.body)
        cli = self.home.ok("--json", "registry", "import-statement",
                           statement)
        self.assertEqual(len(rows), len(json.loads(cli.out)))
        self.assertEqual(self.state(), before)
        # apply with one row corrected: its phrase is taught first
        form = r.body[r.body.index('id="plan-apply-form"'):]
        fields = [(html.unescape(n), html.unescape(v)) for n, v in
                  re.findall(r'<input type="hidden" name="([^"]*)" '
                             r'value="([^"]*)"', form)]
        fields.append(("text", html.unescape(re.search(
            r'<textarea name="text" hidden>\n(.*?)</textarea>', form,
            re.S).group(1))))
        fields.append(("correct-1", "DPE"))
        r = c.post("/lists/addressees/apply", fields)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("list khojaly holds exactly these addressees", r.body)
        self.assertEqual(self.home.scalar(
            "SELECT actor FROM events WHERE kind = 'phrase.taught'"), "ed")
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM list_members m JOIN lists l ON l.id = "
            "m.list_id WHERE l.name = 'khojaly' AND m.body_id = ?",
            self.body), 1)


if __name__ == "__main__":
    unittest.main()
