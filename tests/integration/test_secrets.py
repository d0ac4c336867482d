"""Secrets and permissions (issue 9): what chancery creates is private
whatever the umask, a password file others can read is refused, and no
password, AUTH exchange or message body reaches the log, even at debug
level.

Run by ctest with /usr/bin/python3 -m unittest; see harness.py.
"""
import base64
import os
import sqlite3
import stat
import unittest

from harness import Peer, TestCase

USER = "chancery-relay"
PASSWORD = "Pw-7f3kQz-unique-92"
MARKER = "BODY-MARKER-5b1e0c77 the statement's own words"
TEMPLATE = ("Subject: Statement on the anniversary\n\n"
            "Dear {{contact.email}},\n\n" + MARKER + "\n")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class Umask:
    """Runs the block (and the children it starts) under a permissive
    umask, so private modes cannot come from the umask."""

    def __init__(self, mask):
        self.mask = mask

    def __enter__(self):
        self.old = os.umask(self.mask)

    def __exit__(self, *exc):
        os.umask(self.old)


class TestCreatedPrivate(TestCase):
    init = False

    def test_database_file_and_its_directory(self):
        db = os.path.join(self.home.dir, "new", "deeper", "chancery.db")
        with Umask(0):
            self.home.ok("--db", db, "init")
        self.assertEqual(mode(db), 0o600)
        self.assertEqual(mode(os.path.dirname(db)), 0o700)
        self.assertEqual(mode(os.path.dirname(os.path.dirname(db))), 0o700)
        # The -wal and -shm files SQLite makes later take the file's mode.
        with Umask(0):
            self.home.ok("--db", db, "body", "add", "A Body", "--kind", "ngo")
            con = sqlite3.connect(db)  # keeps -wal/-shm while open
            try:
                con.execute("SELECT 1 FROM bodies").fetchall()
                for suffix in ("-wal", "-shm"):
                    if os.path.exists(db + suffix):
                        self.assertEqual(mode(db + suffix), 0o600, suffix)
            finally:
                con.close()

    def test_outbox_directories_and_message_files(self):
        with Umask(0):
            self.home.ok("init")
            self.home.ok("body", "add", "A Body", "--kind", "ngo",
                         "--acronym", "AB")
            self.home.ok("contact", "add", "AB", "a@body.example")
            self.home.ok("contact", "add", "AB", "b@body.example")
            self.home.ok("list", "create", "l")
            self.home.ok("list", "add", "l", "AB")
            path = os.path.join(self.home.dir, "t.tmpl")
            with open(path, "w") as f:
                f.write(TEMPLATE)
            self.home.ok("template", "add", "t", path)
            self.home.ok("campaign", "create", "c", "--template", "t",
                         "--list", "l", "--at", "2025-02-25 10:00", "--now", "--tz",
                         "UTC")
            self.home.ok("campaign", "schedule", "c", "--now")
            self.home.ok("--once", prog="chanceryd")
        self.assertEqual(mode(self.home.outbox), 0o700)
        for sub in ("new", "cur", "tmp"):
            self.assertEqual(mode(os.path.join(self.home.outbox, sub)),
                             0o700, sub)
        files = os.listdir(os.path.join(self.home.outbox, "new"))
        self.assertEqual(len(files), 2)
        for name in files:
            self.assertEqual(
                mode(os.path.join(self.home.outbox, "new", name)), 0o600)


class TestPasswordFile(TestCase):
    def write_password(self, file_mode):
        path = os.path.join(self.home.dir, "relay.password")
        with open(path, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(path, file_mode)
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = 2525; user = "%s"; password_file = "%s"; }; };\n' %
            (USER, path))
        return path

    def test_readable_by_others_refused(self):
        for file_mode in (0o644, 0o640, 0o604):
            path = self.write_password(file_mode)
            message = ("%s: the password file is readable by others "
                       "(mode 0%o); chmod 600 it" % (path, file_mode))
            self.assertFails(["body", "list"], 78, message)
            r = self.home.run("--once", prog="chanceryd")
            self.assertEqual(r.rc, 78, r)
            self.assertIn(message, r.err)
            self.assertNotIn(PASSWORD, r.err + r.out)

    def test_private_file_accepted(self):
        self.write_password(0o600)
        self.home.ok("body", "list")
        self.write_password(0o400)
        self.home.ok("body", "list")


class TestNothingSecretInTheLog(TestCase):
    """chanceryd at log level debug sends through a relay that wants AUTH;
    its whole stderr must hold neither the password (plain or as AUTH PLAIN
    or LOGIN would carry it) nor the body of a message."""

    def setUp(self):
        super().setUp()
        self.peers = []
        con = sqlite3.connect(self.home.db)
        try:
            con.execute("INSERT INTO bodies (id, name, kind, created_at) "
                        "VALUES (1, 'United Nations', 'un-organ', 0)")
            con.executemany(
                "INSERT INTO contacts (body_id, email, created_at, "
                "updated_at) VALUES (1, ?, 0, 0)",
                [("c%02d@example.org" % i,) for i in range(5)])
            con.commit()
        finally:
            con.close()
        self.home.ok("list", "create", "all")
        self.home.ok("list", "add", "all", "#1")
        path = os.path.join(self.home.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        self.home.ok("template", "add", "stmt", path)
        self.home.ok("campaign", "create", "feb", "--template", "stmt",
                     "--list", "all", "--at", "2025-02-25 10:00", "--now", "--tz",
                     "UTC")
        self.home.ok("campaign", "schedule", "feb", "--now")

    def tearDown(self):
        for p in self.peers:
            p.stop()
        super().tearDown()

    def forbidden(self, password):
        """Every form of the secret and the body that must not appear."""
        b64 = lambda s: base64.b64encode(s.encode()).decode()
        return {
            "password": password,
            "AUTH PLAIN": b64("\0%s\0%s" % (USER, password)),
            "AUTH PLAIN with authzid": b64("%s\0%s\0%s" % (USER, USER,
                                                          password)),
            "AUTH LOGIN password": b64(password),
            "body marker": "BODY-MARKER-5b1e0c77",
        }

    def run_daemon(self, relay_password, password, status=0):
        peer = Peer(os.path.join(self.home.dir, "peer-%d" % len(self.peers)),
                    "--auth", "%s:%s" % (USER, relay_password))
        self.peers.append(peer)
        pw = os.path.join(self.home.dir, "relay.password")
        with open(pw, "w") as f:
            f.write(password + "\n")
        os.chmod(pw, 0o600)
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; user = "%s"; password_file = "%s"; '
            'connect_timeout = "2s"; command_timeout = "5s"; }; };\n'
            'log = { level = "debug"; };\n' % (peer.port, USER, pw))
        r = self.home.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, status, r)
        return peer, r

    def assertClean(self, log, password):
        # The check can fail: the log is at debug level and talks about
        # the session (so an AUTH line would have been there to see).
        self.assertIn("debug:", log)
        self.assertIn("phase=AUTH", log)
        for what, text in self.forbidden(password).items():
            self.assertNotIn(text, log, "%s is in the log" % what)

    def test_auth_accepted(self):
        peer, r = self.run_daemon(PASSWORD, PASSWORD)
        msgs = peer.events("message")
        self.assertEqual(len(msgs), 5)
        self.assertEqual({m["auth_user"] for m in msgs}, {USER})
        self.assertTrue(all(a["success"] for a in peer.events("auth")))
        with open(os.path.join(peer.record, msgs[0]["file"])) as f:
            self.assertIn(MARKER, f.read())  # the marker did go out
        self.assertEqual(r.err.count("outcome=sent"), 5, r)
        self.assertClean(r.err + r.out, PASSWORD)

    def test_auth_rejected(self):
        wrong = "Wrong-Pw-0c9d-unique"
        # AUTH refused is the relay's fault: --once ends EX_UNAVAILABLE
        peer, r = self.run_daemon(PASSWORD, wrong, status=69)
        self.assertEqual(peer.events("message"), [])
        self.assertIn("AUTH as %s rejected" % USER, r.err)
        self.assertClean(r.err + r.out, wrong)
        self.assertNotIn(PASSWORD, r.err)
        # Nor does the database keep the secret with the relay's reply.
        dump = "\n".join(map(str, self.home.snapshot().values()))
        for what, text in self.forbidden(wrong).items():
            if what != "body marker":
                self.assertNotIn(text, dump, what)


if __name__ == "__main__":
    unittest.main()
