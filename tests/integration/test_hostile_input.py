"""Bad input at every door (issue 9): each class of hostile or odd input
through the built `chancery` (and `chanceryd` where it matters), checking
the sysexits status, a one-line error naming the problem, and that the
database did not change.

Run by ctest with /usr/bin/python3 -m unittest; see harness.py.
"""
import os
import resource
import sqlite3
import subprocess
import time
import unittest

from harness import PYTHON, Peer, TestCase

HERE = os.path.dirname(os.path.abspath(__file__))
CSV_HEADER = ("acronym,name,kind,country,notes,aliases,email,contact_name,"
              "role,language,status")
STATEMENT = (
    "Statement of the Ombudsman on the anniversary\n\n"
    "The Ombudsman calls on the international community to remember.\n\n"
    "The statement has been sent to the UN Secretary-General, the "
    "International Peace Bureau and the diaspora organizations of "
    "Azerbaijan.\n")
# One line per part, so a stray line in the message is easy to find.
TEMPLATE = ("Subject: To {{body.name}}\n\n"
            "Dear {{contact.name}},\n\nThe statement.\n")


class Base(TestCase):
    def write(self, name, data):
        path = os.path.join(self.home.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def outbox_files(self):
        new = os.path.join(self.home.outbox, "new")
        if not os.path.isdir(new):
            return []
        return [os.path.join(new, n) for n in os.listdir(new)]

    def assertFailsLines(self, args, rc, messages):
        """Like assertFails for commands that list every problem, one per
        line (import-csv): each expected message is one whole line."""
        before = self.home.snapshot()
        r = self.home.run(*args)
        self.assertEqual(r.rc, rc, r)
        lines = r.err.strip().split("\n")
        for m in messages:
            self.assertTrue(any(m in line for line in lines), (m, r))
        self.assertEqual(self.home.snapshot(), before, "the database changed")
        return r


class TestHeaderInjection(Base):
    """CR, LF and NUL in every field that reaches a header: refused where
    it enters, and no message with an injected header is ever made."""

    def setUp(self):
        super().setUp()
        self.home.ok("body", "add", "Fine Body", "--kind", "ngo",
                     "--acronym", "FB")

    def test_body_name_refused_at_entry(self):
        for name in ("Evil\r\nBcc: x@evil.example", "Evil\nBcc: x@e.example",
                     "Evil\rBcc: x@evil.example"):
            self.assertFails(["body", "add", name, "--kind", "ngo"], 65,
                             "body name holds a control character")

    def test_body_rename_refused(self):
        self.assertFails(["body", "edit", "FB", "--name",
                          "Evil\r\nBcc: x@evil.example"], 65,
                         "body name holds a control character")

    def test_contact_name_and_role_refused(self):
        self.assertFails(["contact", "add", "FB", "a@fine.example", "--name",
                          "Bob\r\nBcc: x@evil.example"], 65,
                         "contact name holds a control character")
        self.assertFails(["contact", "add", "FB", "a@fine.example", "--role",
                          "office\nBcc: x@evil.example"], 65,
                         "contact role holds a control character")

    def test_address_with_line_break_refused(self):
        self.assertFails(["contact", "add", "FB",
                          "a@fine.example\r\nBcc: x@evil.example"], 65,
                         "e-mail address holds a control character")

    def test_nul_in_csv_refused_not_truncated(self):
        """A NUL used to cut the field short: 'Nu\\0ll' was stored as
        'Nu'."""
        path = self.write("nul.csv", CSV_HEADER.encode() +
                          b"\nNN,Nu\x00ll,ngo,,,,n@n.example,,,,\n")
        self.assertFailsLines(["registry", "import-csv", path], 65,
                              ["nul.csv:2: file: NUL byte at byte 85",
                               "nothing imported"])

    def test_line_break_in_csv_fields_refused(self):
        path = self.write("crlf.csv", CSV_HEADER + "\r\n"
                          'GG,"Go\r\nBcc: x@evil.example",ngo,,,,'
                          'g@g.example,"Ev\r\nBcc: y@evil.example",,,\r\n')
        self.assertFailsLines(["registry", "import-csv", path], 65,
                              ["crlf.csv:2: column 'name': contains a "
                               "line break or control character",
                               "nothing imported"])

    def test_sender_name_in_config_refused(self):
        for escaped in (r"Office\r\nBcc: x@evil.example", r"Office\nBcc: x"):
            self.home.write_conf()
            with open(self.home.conf) as f:
                text = f.read()
            with open(self.home.conf, "w") as f:
                f.write(text.replace('"Office of the Ombudsman"',
                                     '"%s"' % escaped))
            self.assertFails(["body", "list"], 78,
                             "key 'sender.name': the value is empty or "
                             "holds a control character")
            r = self.home.run("--once", prog="chanceryd")
            self.assertEqual(r.rc, 78, r)
            self.assertIn("sender.name", r.err)

    def test_template_subject_refused_at_template_add(self):
        cases = [
            (b"Subject: x\rBcc: x@evil.example\n\nhi\n",
             "line 1, column 11: control character 0x0d in the Subject: "
             "header"),
            (b"Subject: x\r\nBcc: x@evil.example\r\n\r\nhi\r\n",
             "line 2, column 1: unknown header 'Bcc'"),
            (b"Subject: x\nBcc: x@evil.example\n\nhi\n",
             "line 2, column 1: unknown header 'Bcc'"),
            (b"Subject: x\x00Bcc: x@evil.example\n\nhi\n",
             "holds a NUL byte"),
            (b"Subject: x\x0bvertical tab\n\nhi\n",
             "control character 0x0b in the Subject: header"),
            (b"Subject: x\nFrom: A\rBcc: x@evil.example <a@b.example>\n\nhi\n",
             "control character 0x0d in the From: header"),
        ]
        for n, (source, message) in enumerate(cases):
            path = self.write("t%d.tmpl" % n, source)
            self.assertFails(["template", "add", "t", path], 65, message)

    def test_campaign_sender_refused(self):
        self.home.ok("contact", "add", "FB", "a@fine.example")
        self.home.ok("list", "create", "l")
        self.home.ok("list", "add", "l", "FB")
        self.home.ok("template", "add", "t", self.write("t.tmpl", TEMPLATE))
        for sender in ("a@b.example\r\nBcc: x@evil.example",
                       "Evil\r\nBcc: x <a@b.example>"):
            self.assertFails(["campaign", "create", "c", "--template", "t",
                              "--list", "l", "--at", "2025-02-25 10:00", "--now",
                              "--tz", "UTC", "--sender", sender], 65,
                             "sender: e-mail address holds a control "
                             "character")

    def test_stored_line_break_never_reaches_a_message(self):
        """A body and a contact stored with line breaks (by an older
        version, or by hand) are refused at schedule and by the daemon:
        no message with an injected header is produced."""
        con = sqlite3.connect(self.home.db)
        con.execute("INSERT INTO bodies (id, name, kind, created_at) VALUES "
                    "(50, 'Evil' || char(13, 10) || 'Bcc: x@evil.example',"
                    " 'ngo', 0)")
        con.execute("INSERT INTO contacts (id, body_id, email, name, "
                    "created_at, updated_at) VALUES (60, 50, "
                    "'ev@evil.example', NULL, 0, 0), (61, (SELECT id FROM "
                    "bodies WHERE acronym = 'FB'), 'fb@fine.example', "
                    "'Bob' || char(10) || 'Bcc: y@evil.example', 0, 0)")
        con.commit()
        con.close()
        self.home.ok("list", "create", "l")
        self.home.ok("list", "add", "l", "#50", "FB")
        self.home.ok("template", "add", "t", self.write("t.tmpl", TEMPLATE))
        self.home.ok("campaign", "create", "c", "--template", "t", "--list",
                     "l", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        before = self.home.snapshot()
        r = self.home.run("campaign", "schedule", "c", "--now")
        self.assertEqual(r.rc, 65, r)
        lines = r.err.strip().split("\n")
        self.assertIn("cannot be scheduled: 2 problem(s)", lines[0])
        self.assertEqual(len(lines), 3, r)  # one line per problem
        self.assertIn("(#50): line 1, column 13: variable 'body.name' holds "
                      "a line break, refused in the Subject header", r.err)
        self.assertIn("fb@fine.example", r.err)
        self.assertEqual(self.home.snapshot(), before)
        # Force it past the check: the daemon must still not send it.
        con = sqlite3.connect(self.home.db)
        con.execute("UPDATE campaigns SET state = 'scheduled'")
        con.commit()
        con.close()
        self.home.run("--once", prog="chanceryd")
        for path in self.outbox_files():
            with open(path, "rb") as f:
                head = f.read().split(b"\n\n", 1)[0]
            self.assertNotIn(b"Bcc:", head, path)
        self.assertEqual(self.outbox_files(), [])


class TestInvalidUtf8(Base):
    def test_statement_file(self):
        path = self.write("bad.txt", STATEMENT.encode()[:60] + b"\xff\xfe" +
                          STATEMENT.encode()[60:])
        self.assertFails(["registry", "import-statement", path, "--apply"],
                         65, "bad.txt: invalid UTF-8 at byte 60")

    def test_csv(self):
        path = self.write("bad.csv", CSV_HEADER.encode() +
                          b"\nEE,Ep\xffsilon,ngo,,,,e@e.example,,,,\n")
        self.assertFailsLines(["registry", "import-csv", path], 65,
                              ["bad.csv:2: file: invalid UTF-8 at byte 85",
                               "nothing imported"])

    def test_template(self):
        path = self.write("bad.tmpl", b"Subject: ok\n\nhello \xc3\x28\n")
        self.assertFails(["template", "add", "t", path], 65,
                         "bad.tmpl: line 3, column 7: not UTF-8")
        path = self.write("latin1.tmpl", b"Subject: caf\xe9\n\nhello\n")
        self.assertFails(["template", "add", "t", path], 65,
                         "line 1, column 13: not UTF-8")

    def test_names_on_the_command_line(self):
        """Names reach headers and the ledger: a stray byte (here 0xff,
        passed through argv as a surrogate escape) is refused at entry."""
        bad = "Bad\udcffName"
        self.home.ok("body", "add", "Good Body", "--kind", "ngo",
                     "--acronym", "GB")
        self.home.ok("list", "create", "l")
        cases = [
            (["body", "add", bad, "--kind", "ngo"], 65,
             "body name is not valid UTF-8"),
            (["body", "edit", "GB", "--name", bad], 65,
             "body name is not valid UTF-8"),
            (["contact", "add", "GB", "x@good.example", "--name", bad], 65,
             "contact name is not valid UTF-8"),
            (["contact", "add", "GB", "x@good.example", "--role", bad], 65,
             "contact role is not valid UTF-8"),
            (["list", "create", bad], 65, "list name is not valid UTF-8"),
        ]
        for args, rc, message in cases:
            with self.subTest(args=args[:2]):
                self.assertFails(args, rc, message)

    def test_config(self):
        with open(self.home.conf, "ab") as f:
            f.write(b'# caf\xe9\n')
        self.assertFails(["body", "list"], 78, "not UTF-8 text")


class TestOddAddresses(Base):
    def setUp(self):
        super().setUp()
        self.home.ok("body", "add", "Fine Body", "--kind", "ngo",
                     "--acronym", "FB")

    def test_quoted_local_part_refused_clearly(self):
        for addr in ('"john doe"@example.org', '"a@b"@example.org'):
            self.assertFails(["contact", "add", "FB", addr], 65,
                             "quoted local parts are not accepted")

    def test_non_ascii_local_part_refused(self):
        self.assertFails(["contact", "add", "FB", "jürgen@example.org"], 65,
                         "a non-ASCII local part needs SMTPUTF8")

    def test_idn_domain_accepted_and_sent_as_punycode(self):
        self.home.ok("contact", "add", "FB", "office@bücher.example")
        self.assertEqual(self.home.scalar("SELECT email FROM contacts"),
                         "office@bücher.example")
        self.home.ok("list", "create", "l")
        self.home.ok("list", "add", "l", "FB")
        self.home.ok("template", "add", "t", self.write("t.tmpl", TEMPLATE))
        self.home.ok("campaign", "create", "c", "--template", "t", "--list",
                     "l", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        self.home.ok("campaign", "schedule", "c", "--now")
        record = os.path.join(self.home.dir, "peer")
        peer = Peer(record)
        try:
            self.home.write_conf(
                'transport = { kind = "smtp"; smtp = { host = "127.0.0.1";'
                ' port = %d; connect_timeout = "2s"; command_timeout = '
                '"5s"; }; };\n' % peer.port)
            r = self.home.run("--once", prog="chanceryd")
            self.assertEqual(r.rc, 0, r)
        finally:
            peer.stop()
        msgs = peer.messages()
        self.assertEqual(len(msgs), 1, msgs)
        self.assertEqual(msgs[0]["rcpt_tos"], ["office@xn--bcher-kva.example"])
        self.assertEqual(self.home.scalar("SELECT state FROM deliveries"),
                         "sent")


class TestBigStatement(Base):
    def test_50_mb_statement_refused_quickly(self):
        path = os.path.join(self.home.dir, "big.txt")
        with open(path, "w") as f:
            for _ in range(50 * 1024 * 1024 // len(STATEMENT) + 1):
                f.write(STATEMENT)
        self.assertGreater(os.path.getsize(path), 50 * 1024 * 1024)
        t0 = time.monotonic()
        # a statement may be 32 MiB (issue 19: a 20 MB one is read)
        r = self.assertFails(["registry", "import-statement", path,
                              "--apply"], 65,
                             "larger than the limit of 33554432")
        self.assertLess(time.monotonic() - t0, 10, r)
        # ru_maxrss of the largest child so far, in KB: far below 50 MB.
        self.assertLess(resource.getrusage(resource.RUSAGE_CHILDREN)
                        .ru_maxrss, 200 * 1024)

    def test_endless_input_refused(self):
        for source in ("/dev/zero",):
            self.assertFails(["registry", "import-statement", source], 65,
                             "larger than the limit of 33554432 bytes")
        before = self.home.snapshot()
        proc = subprocess.run(
            self.home.command("chancery") + ["--config", self.home.conf,
                                             "registry", "import-statement",
                                             "-"],
            input=b"a" * (40 * 1024 * 1024), capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 65, proc)
        self.assertIn(b"standard input: larger than the limit", proc.stderr)
        self.assertEqual(self.home.snapshot(), before)

    def test_just_under_the_limit_is_processed_in_bounded_time(self):
        path = os.path.join(self.home.dir, "4mb.txt")
        with open(path, "w") as f:
            for _ in range(4000000 // len(STATEMENT)):
                f.write(STATEMENT)
        t0 = time.monotonic()
        self.home.ok("registry", "import-statement", path)
        self.assertLess(time.monotonic() - t0, 30)


class TestRecursivePartials(Base):
    def test_cycle_through_partials_refused_at_template_add(self):
        self.write("a.partial", "in a {{> b}}\n")
        self.write("b.partial", "in b {{> a}}\n")
        path = self.write("r.tmpl", "Subject: x\n\nhello {{> a}}\n")
        self.assertFails(["template", "add", "r", path], 65,
                         "partial 'a' includes itself (a -> b -> a)")

    def test_partial_including_itself_refused(self):
        self.write("s.partial", "{{#body.country}}{{> s}}{{/body.country}}\n")
        path = self.write("s.tmpl", "Subject: x\n\nhello {{> s}}\n")
        self.assertFails(["template", "add", "s", path], 65,
                         "partial 's' includes itself (s -> s)")

    def test_same_partial_twice_is_not_a_cycle(self):
        self.write("p.partial", "p\n")
        self.write("q.partial", "{{> p}} {{> p}}\n")
        path = self.write("ok.tmpl", "Subject: x\n\n{{> q}}{{> p}}\n")
        self.home.ok("template", "add", "ok", path)


class TestTemplateFiles(Base):
    """Issue 15 item 6: a template reads partials and attachments from its
    own folder only; `template add` runs as the chancery user, which can
    read the relay's password file, and whatever it reads is mailed."""

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.home.dir, "tmpl")
        os.mkdir(self.dir)
        with open(os.path.join(self.home.dir, "secret.txt"), "w") as f:
            f.write("relay password\n")
        os.symlink("/etc/passwd", os.path.join(self.dir, "passwd.pdf"))
        os.symlink("../secret.txt", os.path.join(self.dir, "secret.pdf"))
        os.symlink("/etc", os.path.join(self.dir, "etc"))
        os.symlink("/etc/passwd", os.path.join(self.dir, "evil.partial"))
        os.mkfifo(os.path.join(self.dir, "fifo"))

    def add(self, source, message):
        path = os.path.join(self.dir, "t.tmpl")
        with open(path, "w") as f:
            f.write(source)
        return self.assertFails(["template", "add", "t", path], 65, message)

    def test_paths_out_of_the_folder_refused(self):
        inside = "a template's files must be inside its folder"
        cases = [
            ("Attach: /etc/shadow", "Attach: /etc/shadow: an absolute path; "
             + inside),
            ("Attach: /proc/self/environ",
             "Attach: /proc/self/environ: an absolute path"),
            ("Attach: ../../../etc/shadow",
             "Attach: ../../../etc/shadow: a '..' component; " + inside),
            ("Attach: ../secret.txt", "Attach: ../secret.txt: a '..' "
             "component"),
            ("Attach: passwd.pdf", "Attach: passwd.pdf: leads outside the "
             "template's folder %s (to /etc/passwd)"
             % os.path.realpath(self.dir)),
            ("Attach: secret.pdf", "Attach: secret.pdf: leads outside the "
             "template's folder"),
            ("Attach: etc/passwd", "Attach: etc/passwd: leads outside the "
             "template's folder"),
            ("Attach: fifo", "fifo: not a regular file"),
        ]
        for header, message in cases:
            with self.subTest(header=header):
                self.add("Subject: x\n%s\n\nhi\n" % header, message)
        self.add("Subject: x\n\n{{> evil}}\n", "partial 'evil' "
                 "(evil.partial): leads outside the template's folder")
        self.assertEqual(self.home.scalar("SELECT count(*) FROM "
                                          "template_attachments"), 0)

    def test_symlink_inside_the_folder_allowed(self):
        with open(os.path.join(self.dir, "2025.pdf"), "wb") as f:
            f.write(b"%PDF-1.4 the statement")
        os.symlink("2025.pdf", os.path.join(self.dir, "statement.pdf"))
        path = os.path.join(self.dir, "ok.tmpl")
        with open(path, "w") as f:
            f.write("Subject: x\nAttach: statement.pdf\n\nhi\n")
        self.home.ok("template", "add", "ok", path)
        self.assertEqual(self.home.sql(
            "SELECT filename, content FROM template_attachments"),
            [("statement.pdf", b"%PDF-1.4 the statement")])


def write_fan_out(directory, leaf):
    """p1 .. p8, each including the next ten times (10^7 inclusions of
    the leaf p8)."""
    for i in range(1, 8):
        with open(os.path.join(directory, "p%d.partial" % i), "w") as f:
            f.write("{{> p%d}}" % (i + 1) * 10 + "\n")
    with open(os.path.join(directory, "p8.partial"), "w") as f:
        f.write(leaf)


class TestPartialFanOut(Base):
    """Issue 15 item 7: 8 partials each including the next 10 times took
    29 s of CPU at `template add` and the render aborted after trying to
    allocate 3.5 GB."""

    def test_fan_out_refused_at_template_add_quickly(self):
        path = self.write("f.tmpl", "Subject: x\n\n{{> p1}}\n")
        for leaf, message in (
                ("leaf text\n", "f.tmpl: the message would exceed "
                 "message.max_size (25 MB): its text with the partials "
                 "expanded is 101111112 bytes"),
                ("{{contact.name}}", "f.tmpl: its partials expand to more "
                 "than 1000000 texts and tags (a partial fan-out)")):
            with self.subTest(leaf=leaf):
                write_fan_out(self.home.dir, leaf)
                t0 = time.monotonic()
                r = self.assertFails(["template", "add", "f", path], 65,
                                     message)
                # A guard against walking the fan-out (29 s of CPU did),
                # not a speed target: refusing it takes about 10 ms.
                self.assertLess(time.monotonic() - t0, 10.0, r)

    def test_configured_limit_refuses_at_template_add(self):
        with open(self.home.conf, "a") as f:
            f.write("message = { max_size = 65536; };\n")
        path = self.write("big.tmpl", "Subject: x\n\n" + "x" * 70000 +
                          "\n")
        self.assertFails(["template", "add", "big", path], 65,
                         "big.tmpl: the message would exceed "
                         "message.max_size (64 KB)")

    def test_one_contact_over_the_limit_fails_alone(self):
        """The body name is printed 1,000 times: 5 KB for a short name,
        but 80 KB once a body is renamed after scheduling. That delivery
        fails with the reason; the other is sent."""
        with open(self.home.conf, "a") as f:
            f.write("message = { max_size = 65536; };\n")
        self.write("n.partial", "{{body.name}}")
        self.write("h.partial", "{{> n}}" * 10)
        self.write("k.partial", "{{> h}}" * 10)
        path = self.write("t.tmpl", "Subject: x\n\n" + "{{> k}}" * 10 +
                          "\n")
        self.home.ok("template", "add", "t", path)
        for acronym, email in (("AA", "a@a.example"), ("BB", "b@b.example")):
            self.home.ok("body", "add", "Body " + acronym, "--kind", "ngo",
                         "--acronym", acronym)
            self.home.ok("contact", "add", acronym, email)
        self.home.ok("list", "create", "l")
        self.home.ok("list", "add", "l", "AA", "BB")
        self.home.ok("campaign", "create", "c", "--template", "t", "--list",
                     "l", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        self.home.ok("campaign", "schedule", "c", "--now")
        self.home.ok("body", "edit", "BB", "--name", "B" * 80)
        t0 = time.monotonic()
        self.home.run("--once", prog="chanceryd")
        self.assertLess(time.monotonic() - t0, 30)
        rows = self.home.sql("SELECT email, state, reason FROM deliveries "
                             "ORDER BY email")
        self.assertEqual(rows[0][:2], ("a@a.example", "sent"), rows)
        self.assertEqual(rows[1][:2], ("b@b.example", "failed"), rows)
        self.assertIn("rendered message exceeds message.max_size (64 KB)",
                      rows[1][2])
        self.assertEqual(len(self.outbox_files()), 1)


class TestCsvQuirks(Base):
    def test_bom_and_crlf_accepted(self):
        path = self.write("bom.csv", b"\xef\xbb\xbf" + CSV_HEADER.encode() +
                          b"\r\nAA,Alpha Body,ngo,,,,a@alpha.example,,,,\r\n"
                          b"BB,Beta Body,ngo,AZ,,,b@beta.example,Bea,,,\r\n")
        r = self.home.ok("registry", "import-csv", path)
        self.assertIn("2 bodies added", r.out)
        self.assertEqual(self.home.sql(
            "SELECT acronym, name, country FROM bodies ORDER BY acronym"),
            [("AA", "Alpha Body", None), ("BB", "Beta Body", "AZ")])
        self.assertEqual(self.home.sql(
            "SELECT email, name FROM contacts ORDER BY email"),
            [("a@alpha.example", None), ("b@beta.example", "Bea")])

    def test_missing_column_refused(self):
        path = self.write("miss.csv", "\ufeff" + CSV_HEADER.replace(
            ",email", "") + "\r\nCC,Gamma,ngo,,,,,,,\r\n")
        self.assertFailsLines(["registry", "import-csv", path], 65,
                              ["miss.csv:1: header: expected '%s'" %
                               CSV_HEADER, "nothing imported"])

    def test_short_row_refused(self):
        path = self.write("short.csv", CSV_HEADER +
                          "\r\nDD,Delta,ngo,,,,d@d.example,,,\r\n")
        self.assertFailsLines(["registry", "import-csv", path], 65,
                              ["short.csv:2: row: has 10 fields, expected 11",
                               "nothing imported"])


class TestTerminalEscapes(Base):
    """Issue 15: escape sequences in names and aliases (put in the
    database by hand, an old version or another program) and in the
    values of a CSV were printed raw, so the terminal obeyed them. They
    are shown as \\x1b; valid UTF-8 stays as it is."""

    def test_body_show_and_list_escape_names(self):
        self.home.ok("body", "add", "Défenseur des droits", "--kind",
                     "ombudsman", "--acronym", "DDD")
        con = sqlite3.connect(self.home.db)
        with con:
            con.execute("INSERT INTO bodies (id, acronym, name, kind, "
                        "created_at) VALUES (50, 'EV', ?, 'ngo', 0)",
                        ("Evil\x1b]0;owned\x07\x1b[2J\u009b31mBody",))
            con.execute("INSERT INTO aliases (body_id, alias, norm, "
                        "created_at) VALUES (50, ?, 'x', 0)",
                        ("al\x1b[5mias",))
            con.execute("INSERT INTO contacts (body_id, email, name, "
                        "created_at, updated_at) VALUES (50, "
                        "'a@ev.example', ?, 0, 0)", ("Mr\x1b[8m X",))
        con.close()
        r = self.home.ok("body", "show", "EV")
        self.assertNotIn("\x1b", r.out)
        self.assertNotIn("\u009b", r.out)
        self.assertEqual(r.out.splitlines()[:4], [
            "#50 Evil\\x1b]0;owned\\x07\\x1b[2J\\u009b31mBody (EV)",
            "  kind     ngo",
            "  alias    al\\x1b[5mias",
            "  contact  a@ev.example (Mr\\x1b[8m X) [active]"])
        r = self.home.ok("body", "list")
        self.assertNotIn("\x1b", r.out)
        self.assertIn("Evil\\x1b]0;owned\\x07\\x1b[2J\\u009b31mBody",
                      r.out)
        self.assertIn("Défenseur des droits", r.out)
        r = self.home.ok("body", "show", "DDD")
        self.assertEqual(r.out.splitlines()[0],
                         "#1 Défenseur des droits (DDD)")

    def test_import_errors_escape_values(self):
        path = self.write("bad.csv", (
            "acronym,name,kind,country,notes,aliases,email,contact_name,"
            "role,language,status\n"
            "ZZ,Good,ngo\x1b[5m,,,,,,,,\n"
            "ZQ,Good Two,ngo,F\x1b[2JR,,,,,,,\n").encode())
        r = self.assertFailsLines(["registry", "import-csv", path], 65, [
            "%s:2: column 'kind': 'ngo\\x1b[5m' is not a kind" % path,
            "%s:3: column 'country': 'F\\x1b[2JR' is not a country" % path,
            "2 bad rows; nothing imported"])
        self.assertNotIn("\x1b", r.err + r.out)


class TestConfigTypo(Base):
    def test_did_you_mean(self):
        self.home.write_conf('queue = { wokers = 4; };\n')
        self.assertFails(["body", "list"], 78,
                         "unknown key 'queue.wokers' (did you mean "
                         "'queue.workers'?)")
        r = self.home.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 78, r)
        self.assertIn("did you mean 'queue.workers'?", r.err)


class TestDatabaseFile(Base):
    def file_state(self, path):
        """The bytes of the database file and of any -wal, -shm, -journal
        or .lock file beside it."""
        state = {}
        for n in sorted(os.listdir(self.home.dir)):
            if n.startswith(os.path.basename(path)):
                with open(os.path.join(self.home.dir, n), "rb") as f:
                    state[n] = f.read()
        return state

    def test_read_only(self):
        """chmod 0400: every command that writes exits 77 naming it, one
        that only reads works (issue 23: an archive can be read), and no
        byte is written. Root ignores file modes, so as root the commands
        run as nobody."""
        self.home.ok("body", "add", "Fine Body", "--kind", "ngo",
                     "--acronym", "FB")
        wrap = []
        if os.geteuid() == 0:
            for root, dirs, files in os.walk(self.home.dir):
                for n in dirs + files + [""]:
                    os.chown(os.path.join(root, n), 65534, 65534)
            wrap = ["setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups"]
        plain = self.home.command
        self.home.command = lambda prog: wrap + plain(prog)
        os.chmod(self.home.db, 0o400)
        before = self.file_state(self.home.db)
        self.assertIn("Fine Body", self.home.ok("body", "list").out)
        self.assertFails(["body", "add", "New Body", "--kind", "ngo"], 77,
                         "database is read-only")
        self.assertFails(["contact", "add", "FB", "a@fine.example"], 77,
                         "database is read-only")
        self.assertEqual(self.file_state(self.home.db), before)
        r = self.home.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 77, r)
        self.assertIn("database is read-only", r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        after = self.file_state(self.home.db)
        # The daemon's lock file (empty, 0600) is the only thing added.
        self.assertEqual({k: v for k, v in after.items()
                          if not k.endswith(".lock")}, before)

    def as_nobody(self):
        """Runs the binaries as nobody when the tests run as root (root
        ignores file modes), the home given to nobody."""
        if os.geteuid() != 0:
            return
        for root, dirs, files in os.walk(self.home.dir):
            for n in dirs + files + [""]:
                os.chown(os.path.join(root, n), 65534, 65534)
        plain = self.home.command
        self.home.command = lambda prog: (
            ["setpriv", "--reuid=65534", "--regid=65534",
             "--clear-groups"] + plain(prog))

    def test_zero_length_file_is_no_database(self):
        """Issue 15 item 8: a database truncated to 0 bytes (a restore
        gone wrong) was taken for a new one: every command gave it a
        schema, and 'audit verify' said 'ok: 0 rows verified'. Now it is
        refused like a missing database, and the file stays empty."""
        os.truncate(self.home.db, 0)
        before = self.file_state(self.home.db)
        self.assertEqual(before, {"chancery.db": b""})
        want = ("%s: database file is empty (0 bytes): not a chancery "
                "database; restore it from a backup or run 'chancery "
                "init' on a new path" % self.home.db)
        for args in (["audit", "verify"], ["body", "list"],
                     ["body", "add", "New Body", "--kind", "ngo"],
                     ["campaign", "list"]):
            r = self.assertFails(args, 66, want, unchanged=False)
            self.assertEqual(r.out, "", r)
            self.assertEqual(self.file_state(self.home.db), before)
        r = self.home.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 66, r)
        self.assertIn(want, r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        self.assertEqual(self.file_state(self.home.db), before)
        # init does not take the file over either.
        self.assertFails(["init"], 73, "%s: already exists (an empty file, "
                         "0 bytes: remove it first to create a database "
                         "there)" % self.home.db, unchanged=False)
        self.assertEqual(self.file_state(self.home.db), before)

    def test_permission_messages_say_what_is_wrong(self):
        """An unreadable file, a read-only directory and a symbolic link
        file'; each now says what is wrong, and nothing is written. In a
        read-only directory the commands that only read work (issue 23)."""
        self.home.ok("body", "add", "Fine Body", "--kind", "ngo")
        self.as_nobody()
        db = self.home.db
        cases = (
            (lambda: os.chmod(db, 0o000), lambda: os.chmod(db, 0o600), 77,
             "%s: permission denied: cannot read the database file" % db),
            (lambda: os.chmod(db, 0o200), lambda: os.chmod(db, 0o600), 77,
             "%s: permission denied: cannot read the database file" % db),
            (lambda: os.chmod(self.home.dir, 0o555),
             lambda: os.chmod(self.home.dir, 0o755), 77,
             "%s: the directory %s is not writable (SQLite needs to create "
             "%s-wal there)" % (db, self.home.dir, db)),
        )
        for setup, undo, rc, want in cases:
            before = self.file_state(db)
            setup()
            try:
                reads_work = "directory" in want
                for args in (["body", "list"], ["audit", "verify"],
                             ["body", "add", "New Body", "--kind", "ngo"]):
                    r = self.home.run(*args)
                    if reads_work and args[1] != "add":
                        self.assertEqual((r.rc, r.err), (0, ""), r)
                        continue
                    self.assertEqual(r.rc, rc, r)
                    self.assertEqual(r.err, "chancery: %s\n" % want, r)
                r = self.home.run("--once", prog="chanceryd")
                self.assertEqual(r.rc, rc, r)
                self.assertIn(want, r.err)
                self.assertEqual(r.err.strip().count("\n"), 0, r)
            finally:
                undo()
            after = self.file_state(db)
            self.assertEqual({k: v for k, v in after.items()
                              if not k.endswith(".lock")}, before)
        # A symbolic link as the database file is refused by name ...
        real = os.path.join(self.home.dir, "real.db")
        os.rename(db, real)
        os.symlink("real.db", db)
        before = self.file_state(real)
        r = self.assertFails(["body", "list"], 78, "%s: is a symbolic link "
                             "(to real.db): refusing to open it; set the "
                             "database path to the file itself" % db,
                             unchanged=False)
        self.assertEqual(self.file_state(real), before)
        # ... a linked directory on the way is followed.
        os.unlink(db)
        os.rename(real, db)
        link = os.path.join(os.path.dirname(self.home.dir),
                            os.path.basename(self.home.dir) + "-link")
        os.symlink(self.home.dir, link)
        try:
            r = self.home.ok("--db", os.path.join(link, "chancery.db"),
                             "body", "list")
            self.assertIn("Fine Body", r.out)
        finally:
            os.unlink(link)

    def test_locked_by_another_process(self):
        with open(self.home.conf) as f:
            text = f.read()
        with open(self.home.conf, "w") as f:
            f.write(text.replace('";', '"; busy_timeout = "300ms";', 1))
        holder = subprocess.Popen(
            [PYTHON, "-c",
             "import sqlite3, sys, time\n"
             "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
             "c.execute('BEGIN IMMEDIATE')\n"
             "print('locked', flush=True)\n"
             "time.sleep(120)\n", self.home.db],
            stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), "locked")
            for args in (["body", "add", "New Body", "--kind", "ngo"],
                         ["template", "add", "t",
                          self.write("t.tmpl", TEMPLATE)]):
                t0 = time.monotonic()
                self.assertFails(args, 75, "database is locked by another "
                                 "process (waited 300 ms)")
                self.assertLess(time.monotonic() - t0, 5)
            t0 = time.monotonic()
            r = self.home.run("--once", prog="chanceryd")
            self.assertEqual(r.rc, 75, r)
            self.assertIn("locked by another process", r.err)
            self.assertLess(time.monotonic() - t0, 5)
        finally:
            holder.kill()
            holder.wait()
            holder.stdout.close()
        # Once the holder is gone the same command works.
        self.home.ok("body", "add", "New Body", "--kind", "ngo")

    def test_not_a_sqlite_file(self):
        for name, data in (("text.db", b"hello, not a database\n" * 10),
                           ("random.db", os.urandom(65536))):
            path = self.write(name, data)
            for args in (["--db", path, "body", "list"],
                         ["--db", path, "body", "add", "X", "--kind",
                          "ngo"]):
                self.assertFails(args, 65, "%s: not a SQLite database" %
                                 path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), data)

    def test_other_sqlite_database(self):
        path = os.path.join(self.home.dir, "other.db")
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (x)")
        con.execute("INSERT INTO t VALUES (1)")
        con.commit()
        con.close()
        with open(path, "rb") as f:
            data = f.read()
        self.assertFails(["--db", path, "body", "list"], 65,
                         "not a chancery database (it has tables but no "
                         "chancery schema)")
        self.assertFails(["--db", path, "init"], 73, "already exists")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)


if __name__ == "__main__":
    unittest.main()


class TestHostileInbound(Base):
    """What comes back is the least trusted input of all: every message
    is kept, read in bounded time and memory, and nothing it carries
    reaches a terminal unescaped."""

    def inbox(self, data, *args):
        proc = subprocess.run(
            self.home.command("chancery") + ["--config", self.home.conf,
                                             *args, "inbox"],
            input=data, capture_output=True, timeout=60)
        return proc

    def test_header_field_of_ten_mb_kept_unread_quickly(self):
        # 10 MB of two-byte words cost GMime 735 MB and 7.7 s; a To: of
        # 1.5 million addresses 514 MB and 10 s.
        for name, field in (("Subject", b"s " * (5 * 1024 * 1024)),
                            ("To", b"a@b.example, " * (800 * 1024))):
            data = (b"From: x@y.example\n" + name.encode() + b": " + field
                    + b"\n\nbody\n")
            t0 = time.monotonic()
            proc = self.inbox(data)
            self.assertEqual(proc.returncode, 0, proc)
            self.assertLess(time.monotonic() - t0, 5, name)
            self.assertIn(b"unreadable", proc.stdout)
            self.assertIn(b"a header field of", proc.stdout)
            self.assertIn(b"(the limit is 262144): kept, not read",
                          proc.stdout)
            row = self.home.sql(
                "SELECT kind, length(raw), reason FROM inbound_messages "
                "ORDER BY id DESC LIMIT 1")[0]
            self.assertEqual(row[0], "unreadable")
            self.assertEqual(row[1], len(data))
            self.assertIn("a header field of", row[2])
        # ru_maxrss of the largest child so far, in KB
        self.assertLess(resource.getrusage(resource.RUSAGE_CHILDREN)
                        .ru_maxrss, 200 * 1024)

    def test_two_million_parts_kept_unread_quickly(self):
        # 2.4 million empty parts in 16 MiB cost GMime 3.2 GB and 56 s.
        head = (b"From: MAILER-DAEMON@mx.example\nSubject: Undelivered\n"
                b"MIME-Version: 1.0\n"
                b"Content-Type: multipart/mixed; boundary=B\n\n")
        data = head + b"--B\n\nx\n" * (2 * 1024 * 1024) + b"--B--\n"
        t0 = time.monotonic()
        proc = self.inbox(data)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertIn(b"unreadable", proc.stdout)
        self.assertIn(b"2097153 MIME boundary lines (the limit is 10000): "
                      b"kept, not read", proc.stdout)
        self.assertEqual(self.home.scalar(
            "SELECT length(raw) FROM inbound_messages"), len(data))
        self.assertLess(resource.getrusage(resource.RUSAGE_CHILDREN)
                        .ru_maxrss, 300 * 1024)
        # under the limit (and a "-- " signature is no boundary) it is read
        data = (b"From: a@b.example\nAuto-Submitted: auto-replied\n"
                b"Subject: Away\nMIME-Version: 1.0\n"
                b"Content-Type: multipart/mixed; boundary=B\n\n"
                + b"--B\n\n-- \nsig\n" * 9999 + b"--B--\n")
        proc = self.inbox(data)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertIn(b"auto_reply", proc.stdout)

    def test_field_just_under_the_limit_is_read(self):
        data = (b"From: x@y.example\nAuto-Submitted: auto-replied\n"
                b"Subject: " + b"s " * (120 * 1024) + b"\n\nbody\n")
        proc = self.inbox(data)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertIn(b"auto_reply", proc.stdout)

    def test_controls_and_bidi_shown_escaped(self):
        data = (b"From: \"Evil\x1b[2J\" <evil@x.example>\n"
                b"Subject: Away\x1b]0;pwned\x07 \xe2\x80\xaegnp.exe\r x\n"
                b"Auto-Submitted: auto-replied\n\nI am away\x00 today.\n")
        proc = self.inbox(data)
        self.assertEqual(proc.returncode, 0, proc)
        row = self.home.sql("SELECT kind, subject, raw FROM "
                            "inbound_messages")[0]
        self.assertEqual(row[0], "auto_reply")
        self.assertEqual(row[2], data)          # kept byte for byte
        self.assertIn("\u202e", row[1])         # stored as it came
        r = self.home.ok("inbox", "list")
        for raw in ("\x1b", "\x07", "\u202e", "\r"):
            self.assertNotIn(raw, r.out)
        self.assertIn("\\x1b]0;pwned\\x07", r.out)
        self.assertIn("\\u202egnp.exe", r.out)

    def test_reason_line_shown_escaped(self):
        # The reason quotes the Subject: it reached the terminal raw.
        data = (b"From: a@b.example\nSubject: Hi\x1b[2J\xe2\x80\xae there\n"
                b"\nhello\n")
        proc = self.inbox(data)
        self.assertEqual(proc.returncode, 0, proc)
        out = proc.stdout.decode()
        self.assertIn("unreadable", out)
        self.assertIn("(Subject: Hi\\x1b[2J\\u202e there)", out)
        self.assertNotIn("\x1b", out)
        self.assertNotIn("\u202e", out)
        self.assertEqual(self.home.scalar(
            "SELECT subject FROM inbound_messages"), "Hi\x1b[2J\u202e there")

    SENT = (
        "INSERT INTO bodies (id, acronym, name, kind, created_at) VALUES "
        "(1, 'OHCHR', 'OHCHR', 'un-agency', 0);"
        "INSERT INTO contacts (id, body_id, email, created_at, updated_at) "
        "VALUES (1, 1, 'registry@ohchr.example.org', 0, 0);"
        "INSERT INTO templates (id, name, version, source, sha256, "
        "created_at) VALUES (1, 'statement', 1, 'x', 'y', 0);"
        "INSERT INTO lists (id, name, kind, created_at, updated_at) "
        "VALUES (1, 'all', 'static', 0, 0);"
        "INSERT INTO campaigns (id, name, template_id, list_id, send_at, "
        "tz, state, created_at, updated_at) VALUES (1, 'feb', 1, 1, "
        "1762750000, 'UTC', 'done', 0, 0);"
        "INSERT INTO deliveries (id, campaign_id, contact_id, body_id, "
        "email, state, message_id, envid, created_at, updated_at, sent_at) "
        "VALUES (1, 1, 1, 1, 'registry@ohchr.example.org', 'sent', "
        "'chancery.1.1.0123456789abcdef@ombudsman.example', "
        "'chancery-1-0123456789abcdef', 0, 0, 1762750000);")

    def test_audit_shows_a_receipt_escaped(self):
        con = sqlite3.connect(self.home.db)
        con.executescript(self.SENT)
        con.close()
        mdn = (b"From: <r\xe2\x80\xaeg@ohchr.example.org>\n"
               b"Subject: Read: statement\nMIME-Version: 1.0\n"
               b"Content-Type: multipart/report; "
               b"report-type=disposition-notification; boundary=B\n\n"
               b"--B\nContent-Type: text/plain\n\nread\n--B\n"
               b"Content-Type: message/disposition-notification\n\n"
               b"Final-Recipient: rfc822; registry@ohchr.example.org\n"
               b"Original-Message-ID: "
               b"<chancery.1.1.0123456789abcdef@ombudsman.example>\n"
               b"Disposition: manual-action/MDN-sent-manually; "
               b"displayed\x1b[2J\xe2\x80\xae\n--B--\n")
        proc = self.inbox(mdn)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertIn(b"mdn", proc.stdout)
        self.assertEqual(self.home.sql(
            "SELECT kind, disposition FROM delivery_responses"),
            [("acknowledged", "displayed")])
        out = self.home.ok("audit", "campaign", "feb").out
        self.assertIn("(displayed), from r\\u202eg@ohchr.example.org "
                      "(delivery 1 to registry@ohchr.example.org)", out)
        self.assertNotIn("\u202e", out)
        self.assertNotIn("\x1b", out)


class TestBackupPaths(Base):
    """`chancery backup` to odd destinations: through a linked directory
    (SQLite's NOFOLLOW refused it with "unable to open database file"),
    onto a device or a link (refused, nothing replaced)."""

    def test_through_a_linked_directory(self):
        real = os.path.join(self.home.dir, "real")
        os.mkdir(real)
        os.symlink(real, os.path.join(self.home.dir, "link"))
        dest = os.path.join(self.home.dir, "link", "copy.db")
        r = self.home.run("backup", dest)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("integrity ok, ledger ok", r.out)
        self.assertEqual(os.listdir(real), ["copy.db"])  # no temporary
        con = sqlite3.connect(os.path.join(real, "copy.db"))
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone(),
                         ("ok",))
        con.close()
        r = self.home.run("backup", "--force", dest)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(os.listdir(real), ["copy.db"])

    def test_device_and_link_not_replaced(self):
        self.assertFails(["backup", "/dev/full"], 73,
                         "/dev/full: already exists (--force replaces it)")
        self.assertFails(["backup", "--force", "/dev/full"], 73,
                         "/dev/full: not a regular file: not replacing it")
        link = os.path.join(self.home.dir, "l.db")
        os.symlink(os.path.join(self.home.dir, "target.db"), link)
        self.assertFails(["backup", "--force", link], 73,
                         "not a regular file: not replacing it")
        self.assertFalse(os.path.exists(os.path.join(self.home.dir,
                                                     "target.db")))
        self.assertTrue(os.path.islink(link))


class TestStatusDaemonRow(Base):
    """`chancery status` reads daemon_state, which a crash or a reboot
    leaves behind and anyone with the database can write."""

    def set_row(self, pid, host, version="1.0"):
        now = int(time.time())
        con = sqlite3.connect(self.home.db)
        con.execute("INSERT OR REPLACE INTO daemon_state (id, pid, host, "
                    "version, started_at, heartbeat_at) VALUES "
                    "(1, ?, ?, ?, ?, ?)", (pid, host, version, now - 60,
                                           now - 5))
        con.commit()
        con.close()

    def test_pid_of_another_program_is_not_the_daemon(self):
        # pid 1 is always alive; so is this test's own process
        for pid in (1, os.getpid()):
            self.set_row(pid, os.uname().nodename)
            r = self.home.ok("status")
            self.assertIn("daemon:      not running; last seen", r.out)
            self.assertIn("(pid %d, version 1.0" % pid, r.out)

    def test_other_host_and_odd_text_shown_escaped(self):
        self.set_row(1, "evil\x1b[2J\nhost", "\x1b[31m1.0")
        r = self.home.ok("status")
        self.assertIn("daemon:      on host evil\\x1b[2J\\x0ahost (not "
                      "checkable from here), pid 1", r.out)
        self.assertIn("version \\x1b[31m1.0;", r.out)
        self.assertNotIn("\x1b", r.out)
