"""The template commands against a real database file: adding versions,
refusing bad templates without storing anything, and previews parsed back
by Python's email package."""
import email
import email.policy
import os
import shutil
import subprocess
import unittest

import harness

AZ_BODY = ("Azərbaycan Respublikasının İnsan Hüquqları üzrə Müvəkkili "
           "(Ombudsman)")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n\x00\x01\xff%%EOF\n"

STATEMENT = """Subject: Xocalı soyqırımının {{anniversary.ordinal}} ildönümü — {{body.name}}
Reply-To: Müvəkkil Aparatı <aparat@ombudsman.example>
Attach: Bəyanat.pdf

Hörmətli {{contact.name}},
{{anniversary.years}} il əvvəl, {{event.date}}.
{{> imza}}
--- html ---
<p>Hörmətli <b>{{contact.name}}</b> &amp; {{body.name}}</p>
"""


class TemplateTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.tdir = os.path.join(self.home.dir, "tpl")
        os.mkdir(self.tdir)

    def write(self, name, text):
        path = os.path.join(self.tdir, name)
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(path, mode) as f:
            f.write(text)
        return path

    def render_raw(self, *args, env=None):
        """Runs `template render` and returns its stdout as bytes (CRLF
        kept)."""
        full_env = dict(os.environ)
        full_env.pop("CHANCERY_CONFIG", None)
        full_env.update(env or {})
        cmd = [os.path.join(harness.BIN_DIR, "chancery"), "--config",
               self.home.conf, "template", "render"] + list(args)
        proc = subprocess.run(cmd, capture_output=True, env=full_env,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc.stdout

    def test_add_versions_and_unchanged(self):
        path = self.write("a.tmpl", "Subject: s {{body.name}}\n\nHello\n")
        r = self.home.ok("template", "add", "anniv", path)
        self.assertIn("added template anniv version 1", r.out)
        r = self.home.ok("template", "add", "anniv", path)
        self.assertIn("unchanged: version 1 has the same content", r.out)
        self.assertEqual(self.home.scalar("SELECT count(*) FROM templates"),
                         1)
        self.write("a.tmpl", "Subject: s {{body.name}}\n\nHello again\n")
        r = self.home.ok("template", "add", "anniv", path)
        self.assertIn("added template anniv version 2", r.out)
        rows = self.home.sql("SELECT version, locked, length(sha256) FROM "
                             "templates WHERE name = 'anniv' ORDER BY "
                             "version")
        self.assertEqual(rows, [(1, 0, 64), (2, 0, 64)])
        self.assertEqual(self.home.sql(
            "SELECT kind FROM events ORDER BY id"),
            [("template.added",), ("template.added",)])
        r = self.home.ok("template", "show", "anniv", "--version", "1")
        self.assertIn("# template anniv version 1", r.out)
        self.assertTrue(r.out.endswith("\nHello\n"), r.out)
        r = self.home.ok("template", "show", "anniv")
        self.assertIn("Hello again", r.out)
        r = self.home.ok("template", "list")
        self.assertEqual(r.out.count("anniv"), 2, r.out)

    def test_add_errors_store_nothing(self):
        self.write("sig.partial", "{{sender.nmae}}\n")
        cases = [
            ("Subject: x\n\nDear {{contact.nmae}},\n", 65,
             "line 3, column 6: unknown variable 'contact.nmae'"),
            ("Subject: {{anniversary.ordinall}}\n\nx\n", 65,
             "line 1, column 10: unknown variable 'anniversary.ordinall'"),
            ("Subject: x\n\n{{#body.acronym}}\nno end\n", 65,
             "line 3, column 1: section 'body.acronym' is never closed"),
            ("Subject: x\n\n{{#body.name}}\n{{/body.kind}}\n", 65,
             "line 4, column 1: {{/body.kind}} does not close section "
             "'body.name' opened at line 3, column 1"),
            ("Subject: x\nAttach: missing.pdf\n\nbody\n", 66,
             "Attach: missing.pdf"),
            ("Subject: x\n\n{{> sig}}\n", 65,
             "partial 'sig', line 1, column 1: unknown variable "
             "'sender.nmae'"),
            ("Subject: x\nBcc: y@example.org\n\nbody\n", 65,
             "unknown header 'Bcc'"),
        ]
        for text, rc, message in cases:
            with self.subTest(text=text):
                path = self.write("bad.tmpl", text)
                r = self.assertFails(("template", "add", "bad", path), rc,
                                     message)
                self.assertIn(path, r.err)
        self.assertEqual(self.home.scalar("SELECT count(*) FROM templates"),
                         0)
        self.assertFails(("template", "add", "bad",
                          os.path.join(self.tdir, "nosuch.tmpl")), 66,
                         "nosuch.tmpl")
        self.assertFails(("template", "show", "bad"), 67, "no template 'bad'")

    def add_az_body(self):
        self.home.ok("body", "add", AZ_BODY, "--acronym", "AZOMB", "--kind",
                     "ombudsman", "--country", "AZ")
        self.home.ok("contact", "add", "AZOMB", "aparat@ombudsman.example",
                     "--name", "Səbinə Əliyeva", "--role", "Ombudsman")

    def test_render_parses_back_exactly(self):
        self.add_az_body()
        self.write("Bəyanat.pdf", PDF)
        self.write("imza.partial", "-- \n{{sender.name}}\n")
        path = self.write("az.tmpl", STATEMENT)
        self.home.ok("template", "add", "xocali", path)
        raw = self.render_raw("xocali", "--body", "AZOMB", "--event-date",
                              "1992-02-26", "--at", "2025-02-26",
                              env={"CHANCERY_FAKE_NOW":
                                   "2025-02-26T06:00:00Z"})
        # wire form: CRLF everywhere, short lines, 7-bit headers
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))
        for line in raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)
        head = raw.split(b"\r\n\r\n", 1)[0]
        self.assertTrue(all(b < 0x80 for b in head), head)

        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg["Subject"],
                         "Xocalı soyqırımının 33rd ildönümü — " + AZ_BODY)
        to = msg["To"].addresses[0]
        self.assertEqual((to.display_name, to.addr_spec),
                         ("Səbinə Əliyeva", "aparat@ombudsman.example"))
        sender = msg["From"].addresses[0]
        self.assertEqual((sender.display_name, sender.addr_spec),
                         ("Office of the Ombudsman",
                          "office@ombudsman.example"))
        self.assertEqual(msg["Reply-To"].addresses[0].display_name,
                         "Müvəkkil Aparatı")
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertTrue(msg["Message-ID"].endswith("@ombudsman.example>"))
        self.assertIsNotNone(msg["Date"].datetime)
        self.assertEqual(msg.get_content_type(), "multipart/mixed")
        alt, att = msg.get_payload()
        self.assertEqual(alt.get_content_type(), "multipart/alternative")
        plain, html = alt.get_payload()
        self.assertEqual(plain.get_content_type(), "text/plain")
        self.assertEqual(plain["Content-Transfer-Encoding"],
                         "quoted-printable")
        self.assertEqual(plain.get_content().replace("\r\n", "\n"),
                         "Hörmətli Səbinə Əliyeva,\n"
                         "33 il əvvəl, 26 February 1992.\n"
                         "-- \nOffice of the Ombudsman\n")
        self.assertEqual(html.get_content_type(), "text/html")
        self.assertEqual(html.get_content().replace("\r\n", "\n"),
                         "<p>Hörmətli <b>Səbinə Əliyeva</b> &amp; " +
                         AZ_BODY + "</p>\n")
        self.assertEqual(att.get_content_type(), "application/pdf")
        self.assertEqual(att["Content-Transfer-Encoding"], "base64")
        self.assertEqual(att.get_filename(), "Bəyanat.pdf")
        self.assertEqual(att.get_content(), PDF)

    def test_attachment_types_come_from_the_system_table(self):
        """Issue 23: a detached signature was application/octet-stream;
        the types are /etc/mime.types' (media-types), not a list of ours."""
        self.add_az_body()
        self.write("statement.pdf", PDF)
        self.write("statement.pdf.p7s", "MIAGCSqGSIb3DQEHAqCAMIACAQEx")
        self.write("notes.odt", "x")
        self.write("data.bin-unknown", "x")
        path = self.write("signed.tmpl",
                          "Subject: Signed\nAttach: statement.pdf\n"
                          "Attach: statement.pdf.p7s\nAttach: notes.odt\n"
                          "Attach: data.bin-unknown\n\nText.\n")
        self.home.ok("template", "add", "signed", path)
        raw = self.render_raw("signed", "--body", "AZOMB")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        types = [(p.get_filename(), p.get_content_type())
                 for p in msg.iter_attachments()]
        self.assertEqual(types, [
            ("statement.pdf", "application/pdf"),
            ("statement.pdf.p7s", "application/pkcs7-signature"),
            ("notes.odt", "application/vnd.oasis.opendocument.text"),
            ("data.bin-unknown", "application/octet-stream")])

    def test_render_refuses_header_injection(self):
        self.add_az_body()
        path = self.write("s.tmpl", "Subject: To {{body.name}}\n\nx\n")
        self.home.ok("template", "add", "s", path)
        # the registry refuses such names; one that got in some other way
        # is still stopped before it reaches a header
        con_sql = ("UPDATE contacts SET name = 'Evil' || char(13, 10) || "
                   "'Bcc: spy@example.org'")
        import sqlite3
        con = sqlite3.connect(self.home.db)
        con.execute(con_sql)
        con.commit()
        con.close()
        r = self.assertFails(("template", "render", "s", "--body", "AZOMB"),
                             65, "variable 'contact.name' holds a line "
                             "break")
        self.assertEqual(r.out, "")
        con = sqlite3.connect(self.home.db)
        con.execute("UPDATE contacts SET name = 'ok'")
        con.execute("UPDATE bodies SET name = 'A' || char(10) || "
                    "'Bcc: spy@example.org'")
        con.commit()
        con.close()
        self.assertFails(("template", "render", "s", "--body", "AZOMB"), 65,
                         "variable 'body.name' holds a line break, refused "
                         "in the Subject header")

    def test_render_usage_errors(self):
        self.add_az_body()
        path = self.write("s.tmpl", "Subject: s\n\nx\n")
        self.home.ok("template", "add", "s", path)
        # usage errors: one line naming the problem
        for args, message in [
                (("template", "render", "s"), "--body is required"),
                (("template", "render", "s", "--body", "AZOMB",
                  "--event-date", "1992-02-30"),
                 "--event-date wants a date YYYY-MM-DD, not '1992-02-30'"),
                (("template", "show", "s", "--version", "0"),
                 "--version wants a positive number"),
                (("template", "add", "s"), "expected NAME FILE")]:
            with self.subTest(args=args):
                r = self.home.run(*args)
                self.assertEqual(r.rc, 64, r)
                self.assertIn(message, r.err.splitlines()[0])
        self.assertFails(("template", "render", "nosuch", "--body",
                          "AZOMB"), 67, "no template 'nosuch'")
        self.assertFails(("template", "render", "s", "--body", "NOBODY"),
                         67, "NOBODY")
        self.assertFails(("template", "render", "s", "--body", "AZOMB",
                          "--contact", "other@example.org"), 67,
                         "has no contact 'other@example.org'")

    def test_render_without_contacts_uses_a_placeholder(self):
        """Right after 'init --seed' no body has a contact; a preview
        still works, addressed to a reserved .invalid address, and says
        so on stderr."""
        self.home.ok("body", "add", "Council of Europe", "--acronym", "CoE",
                     "--kind", "regional-org")
        path = self.write("s.tmpl", "Subject: To {{body.name}}\n\nx\n")
        self.home.ok("template", "add", "s", path)
        r = self.home.ok("template", "render", "s", "--body", "CoE")
        self.assertIn("To: no-contact-yet@example.invalid", r.out)
        self.assertIn("Subject: To Council of Europe", r.out)
        self.assertIn("has no contact yet", r.err)

    def test_shipped_anniversary_template(self):
        self.add_az_body()
        src = os.path.join(harness.SOURCE_DIR, "templates")
        for name in ("anniversary.tmpl", "signature.partial",
                     "khojaly-statement.pdf"):
            shutil.copy(os.path.join(src, name), self.tdir)
        r = self.home.ok("template", "add", "khojaly",
                         os.path.join(self.tdir, "anniversary.tmpl"))
        self.assertIn("1 partials, 1 attachments", r.out)
        raw = self.render_raw("khojaly", "--body", "AZOMB", "--event-date",
                              "1992-02-26", "--at", "2025-02-26")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "Statement on the 33rd anniversary "
                         "of the Khojaly genocide")
        text = msg.get_body(("plain",)).get_content()
        self.assertIn("Dear Səbinə Əliyeva,", text)
        self.assertIn("33 years have passed", text)
        self.assertIn("sent on 26 February 2025", text)
        self.assertIn(AZ_BODY, text)
        att = list(msg.iter_attachments())[0]
        with open(os.path.join(src, "khojaly-statement.pdf"), "rb") as f:
            self.assertEqual(att.get_content(), f.read())


if __name__ == "__main__":
    unittest.main()
