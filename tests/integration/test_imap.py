"""`chancery bounce --imap` and the daemon's poll against a real Dovecot
that the test starts on loopback: TLS with a CA the test makes, a
passwd-file user, Maildir storage in a temporary directory. Messages are
delivered with IMAP APPEND and looked at afterwards with imaplib: taken
ones are flagged \\Seen and still there; refused logins, certificates
that do not verify and missing mailboxes are one-line errors that change
nothing, on the server or in the database.

Skipped only when dovecot is not installed (scripts/deps.sh installs
dovecot-imapd). Run as root (the CI), dovecot's mail processes run as
nobody; run as another user, everything runs as that user."""

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import threading

import harness
import test_bounce  # its seed and samples (a name, so not run again here)

sample = test_bounce.sample

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
USER = "clerk"
PASSWORD = "Tr0ub4dor&3-imap"
NOW = {"CHANCERY_FAKE_NOW": "2026-11-12T08:00:00Z"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   capture_output=True)


def make_ca(directory, name):
    """A CA (name.crt, name.key) in directory."""
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
            "-out", crt, "-days", "2", "-subj", "/CN=%s" % name)
    return crt, key


class Dovecot:
    """dovecot -F with its own configuration, state and mail under
    directory, listening for IMAPS on 127.0.0.1:port."""

    def __init__(self, directory):
        self.dir = directory
        os.chmod(directory, 0o755)
        self.ca, ca_key = make_ca(directory, "test-ca")
        self.other_ca, _ = make_ca(directory, "other-ca")
        key = os.path.join(directory, "server.key")
        csr = os.path.join(directory, "server.csr")
        self.cert = os.path.join(directory, "server.crt")
        ext = os.path.join(directory, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=127.0.0.1")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                ca_key, "-CAcreateserial", "-out", self.cert, "-days", "2",
                "-extfile", ext)
        for d in ("run", "state", "home"):
            os.mkdir(os.path.join(directory, d))
        passwd = os.path.join(directory, "passwd")
        with open(passwd, "w") as f:
            f.write("%s:{PLAIN}%s\n" % (USER, PASSWORD))
        if os.geteuid() == 0:
            mail = pwd.getpwnam("nobody")
            os.chown(os.path.join(directory, "home"), mail.pw_uid,
                     mail.pw_gid)
            users = ""
        else:
            mail = pwd.getpwuid(os.geteuid())
            users = ("default_internal_user = %s\n"
                     "default_login_user = %s\n" % (mail.pw_name,
                                                    mail.pw_name))
        self.port = free_port()
        self.starttls_port = free_port()
        self.conf = os.path.join(directory, "dovecot.conf")
        self.log = os.path.join(directory, "dovecot.log")
        with open(self.conf, "w") as f:
            f.write("""protocols = imap
listen = 127.0.0.1, 127.0.0.2
base_dir = {d}/run
state_dir = {d}/state
instance_name = chancery-test-{port}
log_path = {log}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
first_valid_uid = 0
{users}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {starttls_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""".format(d=directory, port=self.port, log=self.log, cert=self.cert,
           key=key, users=users, starttls_port=self.starttls_port, passwd=passwd, uid=mail.pw_uid,
           gid=mail.pw_gid))
        self.proc = subprocess.Popen([DOVECOT, "-c", self.conf, "-F"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot did not start: %s %s" %
                                   (self.proc.stderr.read(),
                                    self.log_text()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dovecot is not listening: %s" % self.log_text())

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def url(self, mailbox="INBOX"):
        return "imaps://127.0.0.1:%d/%s" % (self.port, mailbox)

    def imap(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ctx)
        m.login(USER, PASSWORD)
        return m

    def deliver(self, text):
        """Appends a message to INBOX, unread; returns its UID."""
        m = self.imap()
        try:
            typ, data = m.append("INBOX", None, None,
                                 text.replace("\r\n", "\n")
                                 .replace("\n", "\r\n").encode())
            assert typ == "OK", data
            return int(data[0].split()[2].rstrip(b"]"))
        finally:
            m.logout()

    def flags(self):
        """UID -> set of flags of every message in INBOX."""
        m = self.imap()
        try:
            m.select("INBOX", readonly=True)
            typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
            out = {}
            for item in data:
                if not item:
                    continue
                text = item.decode()
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                flags = text.split("FLAGS (")[1].split(")")[0].split()
                out[uid] = set(flags)
            return out
        finally:
            m.logout()

    def clear(self):
        """Removes every message from INBOX (between tests)."""
        m = self.imap()
        try:
            m.select("INBOX")
            m.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")
            m.expunge()
        finally:
            m.logout()

    def mark_unseen(self):
        m = self.imap()
        try:
            m.select("INBOX")
            m.uid("STORE", "1:*", "-FLAGS", "(\\Seen $Chancery)")
        finally:
            m.logout()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()


class NoStartTLS:
    """An IMAP server on loopback that offers no STARTTLS and records
    every line a client sends it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn, conn.makefile("rb") as f:
            conn.sendall(b"* OK IMAP4rev1 ready\r\n")
            for line in f:
                self.lines.append(line.decode(errors="replace"))
                tag = line.split(b" ", 1)[0]
                if b"CAPABILITY" in line.upper():
                    conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN "
                                 b"AUTH=LOGIN\r\n" + tag + b" OK done\r\n")
                else:
                    conn.sendall(tag + b" BAD no\r\n")

    def close(self):
        self.sock.close()
        self.thread.join(5)


NON_REPORT = """From: Registry <registry@ohchr.example.org>
To: office@ombudsman.example
Subject: Re: Annual statement
Date: Thu, 12 Nov 2026 07:00:00 +0000
Message-ID: <reply-1@ohchr.example.org>
In-Reply-To: <c1.d1@chancery.example.net>

Thank you, we have received the statement.
"""


@unittest.skipUnless(DOVECOT, "dovecot is not installed (scripts/deps.sh "
                     "installs dovecot-imapd)")
class ImapTest(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = cls.start_server()

    @classmethod
    def tearDownClass(cls):
        cls.stop_server(cls.server)

    @staticmethod
    def start_server():
        return Dovecot(tempfile.mkdtemp(prefix="chancery-dovecot-"))

    @staticmethod
    def stop_server(server):
        server.stop()
        shutil.rmtree(server.dir, True)

    def setUp(self):
        super().setUp()
        self.server.clear()
        self.pwfile = os.path.join(self.home.dir, "imap.password")
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(self.pwfile, 0o600)
        self.configure()
        self.db = self.home.db
        test_bounce.BounceTest.seed(self)

    add_campaign = staticmethod(test_bounce.BounceTest.add_campaign)
    add_delivery = staticmethod(test_bounce.BounceTest.add_delivery)

    def configure(self, ca=None, password_file=None, extra=""):
        self.home.write_conf(
            'bounce = { threshold = 2; };\n'
            'inbox = { imap_user = "%s"; imap_password_file = "%s"; '
            'imap_ca_file = "%s"; imap_timeout = "10s"; %s };\n' %
            (USER, password_file or self.pwfile, ca or self.server.ca,
             extra))

    def bounce_imap(self, *args, url=None):
        r = self.home.run("bounce", "--imap", url or self.server.url(),
                          *args, env=NOW)
        self.assertNotIn(PASSWORD, r.out + r.err)
        return r

    def state(self, did):
        return self.home.scalar("SELECT state FROM deliveries WHERE id = ?",
                                did)

    def test_reports_taken_and_flagged_seen_not_deleted(self):
        dsn = self.server.deliver(sample("dsn-failed.eml"))
        unmatched = self.server.deliver(sample("unmatched.eml"))
        r = self.bounce_imap()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("2 of 2 unread messages read", r.out)
        self.assertIn(";UID=%d:" % dsn, r.out)
        self.assertEqual(self.state(1), "bounced")
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM bounce_quarantine WHERE recipient = "
            "'nobody@unknown.example.com'"), 1)
        flags = self.server.flags()
        self.assertEqual(set(flags), {dsn, unmatched}, "a message is gone")
        for uid in (dsn, unmatched):
            self.assertIn("\\Seen", flags[uid])
            self.assertIn("$Chancery", flags[uid])
            self.assertNotIn("\\Deleted", flags[uid])

        # nothing unread: nothing done
        before = self.home.snapshot()
        r = self.bounce_imap()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("0 of 0 unread", r.out)
        self.assertEqual(self.home.snapshot(), before)

        # read again (someone marked them unread): duplicates, no change
        self.server.mark_unseen()
        r = self.bounce_imap()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("2 of 2 unread", r.out)
        self.assertEqual(self.home.snapshot(), before)
        self.assertTrue(all("\\Seen" in f
                            for f in self.server.flags().values()))

    def test_message_not_taken_stays_unread(self):
        """The inbox either keeps a non-report (then it is flagged) or
        refuses it (then it stays unread, named in one line, and the
        others go on): never flagged without being stored."""
        reply = self.server.deliver(NON_REPORT)
        dsn = self.server.deliver(sample("dsn-failed.eml"))
        r = self.bounce_imap()
        flags = self.server.flags()
        self.assertEqual(self.state(1), "bounced")
        self.assertIn("\\Seen", flags[dsn])
        kept = self.home.scalar(
            "SELECT count(*) FROM inbound_messages WHERE origin LIKE ?",
            "%;UID=" + str(reply))
        if kept:
            self.assertEqual(r.rc, 0, r)
            self.assertIn("\\Seen", flags[reply])
        else:
            self.assertEqual(r.rc, 65, r)
            self.assertIn(";UID=%d: " % reply, r.err)
            self.assertEqual(r.err.strip().count("\n"), 0, r)
            self.assertNotIn("\\Seen", flags[reply])
            self.assertIn("1 of 2 unread", r.out)

    def test_large_messages_keep_the_session_in_step(self):
        """A message of 2 MB is read whole and the next one after it; one
        larger than the inbox takes (16 MB) is left unread, named, and
        the next one is still read."""
        line = "x" * 76 + "\n"
        big = self.server.deliver(NON_REPORT + line * (2 * 1024 * 1024 //
                                                       len(line)))
        huge = self.server.deliver(NON_REPORT + line * (17 * 1024 * 1024 //
                                                        len(line)))
        dsn = self.server.deliver(sample("dsn-failed.eml"))
        r = self.bounce_imap()
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn(";UID=%d: larger than 16777216 bytes; left unread" %
                      huge, r.err)
        self.assertEqual(self.state(1), "bounced")
        flags = self.server.flags()
        self.assertIn("\\Seen", flags[dsn])
        self.assertNotIn("\\Seen", flags[huge])
        self.assertIn(";UID=%d:" % big, r.out + r.err)

    def assertNothingChanged(self, args, rc, message, url=None):
        self.server.deliver(sample("dsn-failed.eml"))
        before = self.home.snapshot()
        r = self.bounce_imap(*args, url=url)
        self.assertEqual(r.rc, rc, r)
        self.assertIn(message, r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        self.assertEqual(r.out, "")
        self.assertEqual(self.home.snapshot(), before)
        self.assertTrue(all("\\Seen" not in f
                            for f in self.server.flags().values()))
        return r

    def test_wrong_password(self):
        bad = os.path.join(self.home.dir, "bad.password")
        with open(bad, "w") as f:
            f.write("not-" + PASSWORD + "\n")
        os.chmod(bad, 0o600)
        self.assertNothingChanged(
            ["--password-file", bad], 77,
            "IMAP 127.0.0.1:%d: login refused for user '%s'" %
            (self.server.port, USER))
        self.assertNothingChanged(
            ["--user", "someone"], 77, "login refused for user 'someone'")

    def test_certificate_from_another_ca(self):
        self.configure(ca=self.server.other_ca)
        r = self.assertNothingChanged(
            [], 69, "IMAP 127.0.0.1:%d: TLS: the server's certificate is "
            "not accepted" % self.server.port)
        self.assertNotIn(PASSWORD, self.server.log_text())

    def test_address_not_in_certificate(self):
        # the server listens on 127.0.0.2 too; its certificate names
        # 127.0.0.1 and localhost only
        self.assertNothingChanged(
            [], 69, "IMAP 127.0.0.2:%d: TLS: the server's certificate is "
            "not accepted" % self.server.port,
            url="imaps://127.0.0.2:%d/INBOX" % self.server.port)

    def test_starttls(self):
        self.server.deliver(sample("dsn-failed.eml"))
        r = self.bounce_imap(url="imap://127.0.0.1:%d/INBOX" %
                             self.server.starttls_port)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("1 of 1 unread", r.out)
        self.assertEqual(self.state(1), "bounced")

    def test_no_starttls_no_login(self):
        fake = NoStartTLS()
        self.addCleanup(fake.close)
        r = self.assertNothingChanged(
            [], 69, "IMAP 127.0.0.1:%d: the server does not offer "
            "STARTTLS" % fake.port,
            url="imap://127.0.0.1:%d/INBOX" % fake.port)
        said = "".join(fake.lines)
        self.assertIn("CAPABILITY", said)
        for word in ("LOGIN", "AUTHENTICATE", PASSWORD):
            self.assertNotIn(word, said)

    def test_missing_mailbox(self):
        self.assertNothingChanged(
            [], 66, "SELECT refused", url=self.server.url("Nowhere"))

    def test_connection_refused(self):
        port = free_port()
        self.assertNothingChanged(
            [], 69, "IMAP 127.0.0.1:%d: cannot connect" % port,
            url="imaps://127.0.0.1:%d/INBOX" % port)

    def test_bad_urls(self):
        for url, why in (
                ("https://127.0.0.1/INBOX", "not imap:// or imaps://"),
                ("imaps://%s:%s@127.0.0.1/INBOX" % (USER, PASSWORD),
                 "a user or password in the URL"),
                ("imaps://127.0.0.1/INBOX;UID=3", "URL parameters"),
                ("imaps://127.0.0.1:99999/INBOX", "not a URL")):
            with self.subTest(url=url):
                r = self.assertNothingChanged([], 78, "IMAP URL", url=url)
                self.assertIn(why, r.err)

    def test_password_file_readable_by_others(self):
        os.chmod(self.pwfile, 0o644)
        r = self.home.run("bounce", "--imap", self.server.url())
        self.assertEqual(r.rc, 78, r)
        self.assertIn("%s: the password file is readable by others "
                      "(mode 0644); chmod 600 it" % self.pwfile, r.err)
        loose = os.path.join(self.home.dir, "loose.password")
        with open(loose, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(loose, 0o640)
        os.chmod(self.pwfile, 0o600)
        self.assertNothingChanged(["--password-file", loose], 78,
                                  "readable by others (mode 0640)")

    def test_configuration_checked(self):
        for extra, message in (
                ('imap_url = "https://127.0.0.1/INBOX";',
                 "inbox.imap_url: IMAP URL 'https://127.0.0.1/INBOX': not "
                 "imap:// or imaps://"),
                ('imap_url = "imaps://127.0.0.1/INBOX"; imap_password = '
                 '"x";', "set inbox.imap_password or "
                 "inbox.imap_password_file, not both")):
            with self.subTest(extra=extra):
                self.configure(extra=extra)
                for args, prog in ((["config", "check"], "chancery"),
                                   (["--once"], "chanceryd")):
                    r = self.home.run(*args, prog=prog)
                    self.assertEqual(r.rc, 78, r)
                    self.assertIn(message, r.err)
                    self.assertEqual(r.err.strip().count("\n"), 0, r)

    def test_daemon_polls_every_interval(self):
        # a server of its own, which it stops
        self.server = self.start_server()
        self.addCleanup(self.stop_server, self.server)
        # both sources at once: a Maildir (relative to the configuration
        # file) with a message the daemon cannot read
        md = os.path.join(self.home.dir, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub))
        with open(os.path.join(md, "new", "1.M1P1.host"), "w") as f:
            f.write("not a message\x01\n")
        self.configure(extra='imap_url = "%s"; interval = "1s"; '
                       'maildir = "Maildir";' % self.server.url())
        log = open(os.path.join(self.home.dir, "daemon.log"), "w+")
        env = dict(os.environ, **NOW)
        env.pop("CHANCERY_CONFIG", None)
        env.pop("NOTIFY_SOCKET", None)
        d = subprocess.Popen(self.home.command("chanceryd") +
                             ["--config", self.home.conf, "--foreground"],
                             stdout=subprocess.DEVNULL, stderr=log, env=env)
        try:
            self.wait_for(lambda: "inbox: polled" in self.text(log),
                          "the first poll")
            uid = self.server.deliver(sample("dsn-failed.eml"))
            self.wait_for(lambda: self.state(1) == "bounced",
                          "the report to be applied")
            self.wait_for(lambda: "\\Seen" in self.server.flags()[uid],
                          "the message to be flagged")
            self.wait_for(lambda: "taken=1" in self.text(log),
                          "the poll's log line")
            # a server that goes away: an error each poll, the daemon
            # goes on
            self.server.stop()
            self.wait_for(lambda: "cannot connect" in self.text(log),
                          "the failed poll's log line")
            self.assertIsNone(d.poll(), self.text(log))
        finally:
            d.terminate()
            d.wait(10)
        text = self.text(log)
        log.close()
        self.assertEqual(d.returncode, 0, text)
        self.assertIn("unread=1 taken=1 skipped=0 report=1 mdn=0 "
                      "auto_reply=0 reply=0 complaint=0 unreadable=0 "
                      "duplicate=0", text)
        self.assertIn("inbox: polled maildir %s new=1 taken=1 skipped=0 "
                      "report=0 mdn=0 auto_reply=0 reply=0 complaint=0 "
                      "unreadable=1 duplicate=0" % md, text)
        self.assertIn("warn: inbox: unreadable message kept as inbound #",
                      text)
        self.assertEqual(os.listdir(os.path.join(md, "cur")),
                         ["1.M1P1.host:2,S"])
        self.assertEqual(self.home.sql(
            "SELECT source, kind FROM inbound_messages ORDER BY source"),
            [("imap", "report"), ("maildir", "unreadable")])
        self.assertIn("kind=report", text)
        self.assertIn("; trying again in 1 s", text)
        self.assertNotIn(PASSWORD, text)

    @staticmethod
    def text(log):
        log.flush()
        with open(log.name) as f:
            return f.read()

    def wait_for(self, predicate, what, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.1)
        self.fail("timed out waiting for %s" % what)


if __name__ == "__main__":
    unittest.main()
