"""chanceryd end to end: the built daemon against real database files, the
maildir outbox and the real SMTP peer (smtp_peer.py on python3-aiosmtpd),
with real signals, including SIGKILL at random moments (issue 9).

Environment knobs for the crash loop: CHANCERY_CRASH_N (contacts, default
2000), CHANCERY_CRASH_KILLS (default 10), CHANCERY_CRASH_SEED.

CHANCERY_VALGRIND=1 runs every chanceryd invocation under valgrind memcheck
(scripts/check-valgrind.sh): a test fails if any of them reports an error
or a definite leak. The crash loop is skipped in that mode (SIGKILL leaves
no leak summary, and a few thousand messages under memcheck take too long).
"""
import collections
import glob
import hashlib
import os
import random
import re
import signal
import socket
import stat
import sqlite3
import subprocess
import sys
import time
import unittest

from harness import Home, Peer, can_fake_syslog, with_syslog

VALGRIND = os.environ.get("CHANCERY_VALGRIND") == "1"
# memcheck runs the daemon some 20-50 times slower: waits stretch with it.
SLOW = 10 if VALGRIND else 1
TEMPLATE = ("Subject: Statement on the anniversary\n\n"
            "Dear {{contact.email}},\n\n"
            "To the {{body.name}}: the statement.\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ledger_intact(db):
    """Recomputes the hash chain of the events table (see ledger.h)."""
    def ns(v):
        s = "" if v is None else str(v)
        b = s.encode()
        return b"%d:" % len(b) + b + b","

    con = sqlite3.connect(db)
    try:
        prev = "0" * 64
        for row in con.execute(
                "SELECT id, ts, kind, campaign_id, delivery_id, body_id, "
                "contact_id, data, prev_hash, hash, actor FROM events "
                "ORDER BY id"):
            (id_, ts, kind, cid, did, bid, ctid, data, prev_hash, h,
             actor) = row
            if prev_hash != prev:
                return "event %d: prev_hash does not match" % id_
            fields = [id_, ts or "", kind, cid, did, bid, ctid, data,
                      prev_hash]
            if actor is not None:  # the tenth field only when present
                fields.append(actor)
            canon = b"".join(ns(v) for v in fields)
            if hashlib.sha256(canon).hexdigest() != h:
                return "event %d: hash does not match" % id_
            prev = h
        return None
    finally:
        con.close()


def valgrind_argv(logdir):
    """memcheck with one log per process (%p: a detached daemon's child
    gets its own), every error and every definite leak counted as an error
    and exit status 99 when there is one. No suppressions: the libraries
    (GLib, GMime, libESMTP, OpenSSL, SQLite) leave nothing definitely lost
    in these runs; add a file here, one commented entry per library frame,
    only if that changes."""
    return ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite", "--track-fds=no",
            "--num-callers=30",
            "--log-file=%s" % os.path.join(logdir, "valgrind-%p.log")]


class DaemonHome(Home):
    """A Home whose chanceryd runs under valgrind in CHANCERY_VALGRIND
    mode; counts the runs so that a mode that silently ran nothing under
    valgrind cannot pass."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.valgrind_runs = 0

    def command(self, prog):
        argv = super().command(prog)
        if VALGRIND and prog == "chanceryd":
            self.valgrind_runs += 1
            return valgrind_argv(self.dir) + argv
        return argv


def valgrind_verdict(logdir, runs, killed, timeout):
    """None if every memcheck log in logdir ends in a clean summary, else
    what was wrong (with the logs). killed: pids we SIGKILLed, which write
    no summary. Waits for processes still exiting (a detached daemon's
    child writes its summary after the pid file is gone)."""
    logs = glob.glob(os.path.join(logdir, "valgrind-*.log"))
    if len(logs) < runs:
        return "%d chanceryd runs but %d valgrind logs" % (runs, len(logs))
    bad = []
    for path in sorted(logs):
        pid = int(re.search(r"valgrind-(\d+)\.log$", path).group(1))
        if pid in killed:
            continue
        end = time.monotonic() + timeout
        while True:
            with open(path) as f:
                text = f.read()
            m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
            if m or time.monotonic() > end:
                break
            time.sleep(0.1)
        if not m:
            bad.append("%s: no ERROR SUMMARY\n%s" % (path, text))
        elif int(m.group(1)) != 0 or re.search(
                r"definitely lost: [1-9]", text):
            bad.append("%s:\n%s" % (path, text))
    return "\n".join(bad) or None


class Base(unittest.TestCase):
    """A home with an initialised database; fixtures for a registry of
    one body with many contacts, a template, a campaign due now, the SMTP
    peer and the daemon in the background."""

    def setUp(self):
        self.home = DaemonHome()
        self.home.ok("init")
        self.peers = []
        self.procs = []

    def tearDown(self):
        killed = set()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
                killed.add(p.pid)
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()
        for p in self.peers:
            p.stop()
        try:
            if VALGRIND:
                verdict = valgrind_verdict(self.home.dir,
                                           self.home.valgrind_runs, killed,
                                           timeout=30)
                if verdict:
                    self.fail("valgrind: " + verdict)
        finally:
            self.home.close()

    # --- fixtures -------------------------------------------------------

    def registry(self, n, prefix="c"):
        """n contacts of one body, inserted directly (the registry
        commands are tested elsewhere); returns their addresses."""
        con = sqlite3.connect(self.home.db)
        try:
            con.execute("INSERT INTO bodies (id, name, kind, created_at) "
                        "VALUES (1, 'United Nations', 'un-organ', 0)")
            emails = ["%s%05d@example.org" % (prefix, i) for i in range(n)]
            con.executemany(
                "INSERT INTO contacts (body_id, email, created_at, "
                "updated_at) VALUES (1, ?, 0, 0)", [(e,) for e in emails])
            con.commit()
        finally:
            con.close()
        self.home.ok("list", "create", "all")
        self.home.ok("list", "add", "all", "#1")
        path = os.path.join(self.home.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        self.home.ok("template", "add", "stmt", path)
        return emails

    def campaign(self, name="feb"):
        self.home.ok("campaign", "create", name, "--template", "stmt",
                     "--list", "all", "--at", "2025-02-25 10:00", "--now", "--tz",
                     "UTC")
        self.home.ok("campaign", "schedule", name, "--now")

    def smtp_conf(self, port, queue=""):
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            '}; };\nqueue = { %s };\n' % (port, queue))

    def peer(self, *args):
        p = Peer(os.path.join(self.home.dir, "peer-%d" % len(self.peers)),
                 *args)
        self.peers.append(p)
        return p

    def daemon(self, *args, env=None):
        """chanceryd in the background; stderr is kept in a file."""
        full_env = dict(os.environ)
        full_env.pop("CHANCERY_CONFIG", None)
        full_env.pop("NOTIFY_SOCKET", None)
        if env:
            full_env.update(env)
        log = open(os.path.join(self.home.dir, "daemon-%d.log" %
                                len(self.procs)), "w+")
        p = subprocess.Popen(self.home.command("chanceryd") +
                             ["--config", self.home.conf] + list(args),
                             stdout=subprocess.DEVNULL, stderr=log,
                             env=full_env)
        p.stderr = log
        self.procs.append(p)
        return p

    def log_of(self, p):
        p.stderr.flush()
        with open(p.stderr.name) as f:
            return f.read()

    def wait_for(self, predicate, timeout=20, what="condition"):
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.02)
        self.fail("timed out waiting for %s" % what)

    def once(self, env=None, expect=0):
        r = self.home.run("--once", prog="chanceryd", env=env)
        self.assertEqual(r.rc, expect, r)
        return r

    def states(self):
        return dict(self.home.sql(
            "SELECT state, count(*) FROM deliveries GROUP BY state"))

    def assertLedger(self):
        self.assertIsNone(ledger_intact(self.home.db))
        self.assertEqual(self.home.scalar("PRAGMA integrity_check"), "ok")
        r = self.home.run("audit", "verify")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("ok:", r.out)


class DaemonTest(Base):
    def test_once_into_the_maildir_outbox(self):
        emails = self.registry(30)
        self.campaign()
        r = self.once()
        self.assertEqual(self.states(), {"sent": 30})
        files = os.listdir(os.path.join(self.home.outbox, "new"))
        self.assertEqual(len(files), 30)
        got = []
        for name in files:
            with open(os.path.join(self.home.outbox, "new", name)) as f:
                text = f.read()
            got.append(text.split("Dear ", 1)[1].split(",", 1)[0])
        self.assertEqual(sorted(got), emails)
        # The outcome lines: one per delivery, key=value.
        self.assertEqual(r.err.count("outcome=sent"), 30, r)
        self.assertEqual(self.home.scalar(
            "SELECT state FROM campaigns WHERE name = 'feb'"), "done")
        for kind in ("delivery.attempted", "delivery.sent"):
            self.assertEqual(self.home.scalar(
                "SELECT count(*) FROM events WHERE kind = ?", kind), 30)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries WHERE reply_code = 250 AND "
            "queue_id IS NOT NULL AND sent_at IS NOT NULL"), 30)
        self.assertLedger()
        # Nothing is left: a second run sends nothing.
        self.once()
        self.assertEqual(
            len(os.listdir(os.path.join(self.home.outbox, "new"))), 30)

    def test_200_contacts_through_the_relay_exactly_once(self):
        emails = self.registry(200)
        self.campaign()
        peer = self.peer()
        self.smtp_conf(peer.port, 'workers = 4; messages_per_connection = 30;')
        self.once()
        msgs = peer.messages()
        self.assertEqual(sorted(r for m in msgs for r in m["rcpt_tos"]),
                         emails)
        for m in msgs[:20]:
            text = peer.content(m)
            self.assertIn("Dear %s," % m["rcpt_tos"][0], text)
            self.assertEqual(m["mail_from"], "office@ombudsman.example")
        # Each delivery keeps the relay's queue id and the ENVID it sent.
        rows = self.home.sql("SELECT email, queue_id, envid, reply_code, "
                             "reply_enhanced FROM deliveries")
        by_rcpt = {m["rcpt_tos"][0]: m for m in msgs}
        for email, queue_id, envid, code, enhanced in rows:
            self.assertEqual(code, 250)
            self.assertEqual(enhanced, "2.0.0")
            self.assertIn("queued as %s" % queue_id, by_rcpt[email]["reply"])
            self.assertEqual(by_rcpt[email]["dsn"]["envid"], envid)
        self.assertLedger()

    def test_tempfail_retried_then_delivered(self):
        self.registry(10, prefix="temp")
        self.campaign()
        peer = self.peer("--rcpt-reply", "temp0000[0-4]@.*=451 4.7.1 "
                         "Greylisted, come back later")
        self.smtp_conf(peer.port)
        self.once()
        self.assertEqual(self.states(), {"sent": 5, "deferred": 5})
        rows = self.home.sql("SELECT reply_code, reply_enhanced, reason, "
                             "next_attempt_at - strftime('%s') FROM "
                             "deliveries WHERE state = 'deferred'")
        for code, enhanced, reason, delay in rows:
            self.assertEqual((code, enhanced), (451, "4.7.1"))
            self.assertIn("Greylisted", reason)
            self.assertTrue(290 <= delay <= 300, delay)  # retry.first 5m
        # Not due yet: a run now sends nothing more.
        self.once()
        self.assertEqual(self.states(), {"sent": 5, "deferred": 5})
        # Later, the relay accepts them.
        peer2 = self.peer()
        self.smtp_conf(peer2.port)
        later = str(int(time.time()) + 301)
        self.once(env={"CHANCERY_FAKE_NOW": later})
        self.assertEqual(self.states(), {"sent": 10})
        self.assertEqual(len(peer2.messages()), 5)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries WHERE attempts = 2"), 5)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'delivery.deferred'"), 5)
        self.assertLedger()

    def test_permanent_failure_keeps_the_relay_text(self):
        self.registry(4)
        self.campaign()
        peer = self.peer("--rcpt-reply", "c0000[12]@.*=550 5.1.1 No such "
                         "user here")
        self.smtp_conf(peer.port)
        r = self.once()
        self.assertEqual(self.states(), {"sent": 2, "failed": 2})
        for code, enhanced, text, reason in self.home.sql(
                "SELECT reply_code, reply_enhanced, reply_text, reason FROM "
                "deliveries WHERE state = 'failed'"):
            self.assertEqual((code, enhanced), (550, "5.1.1"))
            self.assertIn("No such user here", text)
            self.assertIn("No such user here", reason)
        self.assertIn("outcome=failed", r.err)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'delivery.failed'"), 2)

    def test_refused_in_consecutive_campaigns_marks_bouncing(self):
        """A 5xx from the relay counts like a bounce: refused in
        bounce.threshold (2) campaigns in a row, the contact becomes
        bouncing and the third campaign skips it with the reason."""
        self.registry(3)
        peer = self.peer("--rcpt-reply", "c00001@.*=550 5.1.1 No such user")
        self.smtp_conf(peer.port)
        for name in ("one", "two", "three"):
            self.campaign(name)
            self.once()
        self.assertEqual(self.home.scalar(
            "SELECT status FROM contacts WHERE email = 'c00001@example.org'"),
            "bouncing")
        self.assertEqual(self.home.sql(
            "SELECT c.name, d.state FROM deliveries d JOIN campaigns c ON "
            "c.id = d.campaign_id WHERE d.email = 'c00001@example.org' "
            "ORDER BY c.id"),
            [("one", "failed"), ("two", "failed"), ("three", "skipped")])
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'contact.bouncing'"), 1)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries WHERE state = 'sent'"), 6)
        self.assertLedger()

    def test_lifetime_ends_in_expired(self):
        self.registry(3)
        self.campaign()
        peer = self.peer("--rcpt-reply", ".*=421 4.3.2 Try again")
        self.smtp_conf(peer.port, 'lifetime = "1s";')
        self.once()
        self.assertEqual(self.states(), {"expired": 3})
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'delivery.expired'"), 3)

    def test_relay_down_at_start_then_up(self):
        self.registry(6)
        self.campaign()
        port = free_port()
        self.smtp_conf(port)
        # The relay down: --once fails (EX_UNAVAILABLE), saying why.
        r = self.once(expect=69)
        self.assertIn("error: relay down: cannot connect to relay "
                      "127.0.0.1:%d: Connection refused" % port, r.err)
        # Those the fault met are deferred, the rest handed back; none
        # charged an attempt (a relay fault, not the recipients').
        states = self.states()
        self.assertEqual(set(states) - {"deferred", "pending"}, set())
        self.assertEqual(sum(states.values()), 6)
        self.assertGreaterEqual(states.get("deferred", 0), 1)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries WHERE state = 'deferred' AND "
            "reply_code IS NULL AND reason LIKE 'relay down (connect): %'"),
            states["deferred"])
        self.assertEqual(self.home.sql(
            "SELECT DISTINCT attempts FROM deliveries"), [(0,)])
        peer = self.peer("--port", port)
        self.once(env={"CHANCERY_FAKE_NOW": str(int(time.time()) + 400)})
        self.assertEqual(self.states(), {"sent": 6})
        self.assertEqual(len(peer.messages()), 6)

    def test_second_daemon_on_the_same_database_refused(self):
        self.registry(1)
        first = self.daemon("--foreground")
        self.wait_for(lambda: "started:" in self.log_of(first),
                      what="the first daemon")
        r = self.home.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 75, r)
        self.assertIn("another chanceryd (pid %d)" % first.pid, r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        first.send_signal(signal.SIGTERM)
        self.assertEqual(first.wait(10 * SLOW), 0, self.log_of(first))

    def test_sigterm_finishes_what_is_in_flight(self):
        self.registry(12)
        self.campaign()
        peer = self.peer("--stall", "DATA=0.5")
        self.smtp_conf(peer.port, "workers = 2; messages_per_connection = 1;")
        d = self.daemon("--foreground")
        self.wait_for(lambda: len(peer.messages()) >= 1, what="a message")
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(20 * SLOW), 0, self.log_of(d))
        states = self.states()
        self.assertNotIn("sending", states)
        # Every message the relay took is recorded as sent, and no more.
        self.assertEqual(states.get("sent", 0), len(peer.messages()), states)
        self.assertGreater(states.get("pending", 0), 0, states)
        self.assertIn("stopped", self.log_of(d))
        # The rest goes out on the next run, once each.
        self.once()
        rcpts = [r for m in peer.messages() for r in m["rcpt_tos"]]
        self.assertEqual(len(rcpts), 12)
        self.assertEqual(len(set(rcpts)), 12)
        self.assertLedger()

    def test_sighup_reloads_or_keeps_the_configuration(self):
        self.registry(1)
        d = self.daemon("--foreground")
        self.wait_for(lambda: "started:" in self.log_of(d), what="start")
        with open(self.home.conf) as f:
            good = f.read()
        with open(self.home.conf, "w") as f:
            f.write(good + "queue = { wrokers = 3; };\n")
        d.send_signal(signal.SIGHUP)
        self.wait_for(lambda: "keeping the running configuration" in
                      self.log_of(d), what="the refusal")
        self.assertIn("wrokers", self.log_of(d))
        with open(self.home.conf, "w") as f:
            f.write(good)
        d.send_signal(signal.SIGHUP)
        self.wait_for(lambda: "reload: configuration read" in self.log_of(d),
                      what="the reload")
        self.assertIsNone(d.poll())
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(10 * SLOW), 0)

    def unusable_smtp_conf(self, kind):
        """A configuration that loads but the smtp transport refuses."""
        pw = os.path.join(self.home.dir, "relay.password")
        with open(pw, "w") as f:
            f.write("Pw-4-relay\n")
        os.chmod(pw, 0o600)
        smtp = {
            # AUTH over plain text to a host that is not on loopback
            "auth": 'host = "192.0.2.1"; port = 587; tls = "none"; '
                    'user = "chancery"; password_file = "%s";' % pw,
            "ca_file": 'host = "127.0.0.1"; tls = "required"; '
                       'ca_file = "%s";' % os.path.join(self.home.dir,
                                                        "missing.pem"),
        }[kind]
        self.home.write_conf('transport = { kind = "smtp"; smtp = { %s }; '
                             '};\n' % smtp)

    def test_config_check_refuses_what_the_daemon_would(self):
        """Issue 15 item 9: `config check` refuses, in one line with
        exit 78, a configuration the daemon refuses to start with."""
        for kind, message in (("auth", "would send the AUTH password to "
                               "192.0.2.1 unencrypted"),
                              ("ca_file", "missing.pem")):
            self.unusable_smtp_conf(kind)
            for prog, args in (("chancery", ["config", "check"]),
                               ("chanceryd", ["--once"])):
                before = self.home.snapshot()
                r = self.home.run(*args, prog=prog)
                self.assertEqual(r.rc, 78, r)
                self.assertIn(message, r.err, r)
                self.assertEqual(r.err.strip().count("\n"), 0, r)
                self.assertEqual(r.out, "", r)
                self.assertNotIn("Pw-4-relay", r.err)
                self.assertEqual(self.home.snapshot(), before)

    def test_sighup_with_an_unusable_transport_keeps_sending(self):
        """Issue 15 item 9: a reload to a configuration the transport
        refuses keeps the running one (logged at error), and the daemon
        goes on delivering with it."""
        self.registry(3)
        peer = self.peer()
        self.smtp_conf(peer.port)
        d = self.daemon("--foreground")
        self.wait_for(lambda: "started:" in self.log_of(d), what="start")
        self.unusable_smtp_conf("auth")
        d.send_signal(signal.SIGHUP)
        self.wait_for(lambda: "keeping the running configuration" in
                      self.log_of(d), what="the refusal")
        log = self.log_of(d)
        self.assertRegex(log, r"error: reload: transport\.smtp\.tls = none "
                         r"would send the AUTH password to 192\.0\.2\.1 "
                         r"unencrypted; use required; keeping the running "
                         r"configuration")
        self.assertNotIn("Pw-4-relay", log)
        self.campaign()
        self.wait_for(lambda: len(peer.messages()) == 3,
                      what="the campaign through the running relay")
        self.wait_for(lambda: self.states() == {"sent": 3},
                      what="the deliveries recorded")
        self.assertNotIn("trying again", self.log_of(d))
        self.assertIsNone(d.poll())
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(10 * SLOW), 0, self.log_of(d))

    def syslog(self):
        """A detached daemon needs a syslog (issue 23): the host's, or
        one faked in a mount namespace (harness.with_syslog)."""
        if os.path.exists("/dev/log"):
            return ()
        if not can_fake_syslog():
            self.skipTest("no /dev/log, and none can be faked here")
        return with_syslog(os.path.join(self.home.dir, "dev"),
                           os.path.join(self.home.dir, "syslog"))

    def test_detached_with_pid_file(self):
        pid_file = os.path.join(self.home.dir, "chanceryd.pid")
        self.home.write_conf('daemon = { pid_file = "%s"; };\n' % pid_file)
        r = self.home.run(prog="chanceryd", wrap=self.syslog())
        self.assertEqual(r.rc, 0, r)
        with open(pid_file) as f:
            pid = int(f.read())
        os.kill(pid, 0)  # alive
        # A second one is refused while the first runs.
        r = self.home.run(prog="chanceryd", wrap=self.syslog())
        self.assertEqual(r.rc, 75, r)
        self.assertIn("pid %d" % pid, r.err)
        os.kill(pid, signal.SIGTERM)
        self.wait_for(lambda: not os.path.exists(pid_file),
                      what="the pid file to go")

    def test_pid_file_mode_and_planted_symlink(self):
        """Issue 15 item 10: the pid file is 0644 under umask 000, and a
        symlink planted at its temporary path is removed, not followed:
        its target keeps its content and mode, and the daemon starts."""
        pid_file = os.path.join(self.home.dir, "chanceryd.pid")
        victim = os.path.join(self.home.dir, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.chmod(victim, 0o600)
        os.symlink(victim, pid_file + ".tmp")
        self.home.write_conf('daemon = { pid_file = "%s"; };\n' % pid_file)
        wrap = self.syslog()
        old = os.umask(0)
        try:
            r = self.home.run(prog="chanceryd", wrap=wrap)
        finally:
            os.umask(old)
        self.assertEqual(r.rc, 0, r)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertEqual(stat.S_IMODE(os.stat(victim).st_mode), 0o600)
        self.assertFalse(os.path.lexists(pid_file + ".tmp"))
        st = os.lstat(pid_file)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o644)
        with open(pid_file) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)
        self.wait_for(lambda: not os.path.exists(pid_file),
                      what="the pid file to go")

    def test_bad_usage_and_bad_configuration(self):
        r = self.home.run("--bogus", prog="chanceryd")
        self.assertEqual(r.rc, 64, r)
        self.assertIn("--bogus", r.err)
        r = self.home.run("extra", prog="chanceryd")
        self.assertEqual(r.rc, 64, r)
        self.home.write_conf("queue = { workers = 0; };\n")
        before = self.home.snapshot()
        r = self.home.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 78, r)
        self.assertIn("queue.workers", r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        self.assertEqual(self.home.snapshot(), before)
        self.home.write_conf()
        missing = os.path.join(self.home.dir, "missing.db")
        r = self.home.run("--once", "--db", missing, prog="chanceryd")
        self.assertEqual(r.rc, 66, r)
        self.assertIn("missing.db: no database here", r.err)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        # nothing created next to the database that is not there
        self.assertFalse(os.path.exists(missing + ".lock"))
        self.assertFalse(os.path.exists(missing))


@unittest.skipIf(VALGRIND, "SIGKILL leaves no memcheck summary, and a few "
                 "thousand messages under memcheck take too long")
class CrashTest(Base):
    """Issue 9: SIGKILL at random moments across a campaign of a few
    thousand messages through the real peer. After every kill the
    database is checked; at the end every contact has at least one copy,
    copies beyond one are bounded by what was in flight at the kills,
    nothing is stuck, and the ledger and the file are intact."""

    def test_sigkill_at_random_moments(self):
        n = int(os.environ.get("CHANCERY_CRASH_N", "2000"))
        kills = int(os.environ.get("CHANCERY_CRASH_KILLS", "10"))
        seed = int(os.environ.get("CHANCERY_CRASH_SEED",
                                  str(int(time.time()))))
        rnd = random.Random(seed)
        sys.stderr.write("\ncrash loop: n=%d kills=%d seed=%d\n" %
                         (n, kills, seed))
        emails = self.registry(n)
        self.campaign()
        peer = self.peer()
        self.smtp_conf(peer.port, "workers = 4; batch_size = 100; "
                       "messages_per_connection = 50;")
        in_flight_at_kills = 0
        done = 0
        for k in range(kills):
            d = self.daemon("--once")
            # Mostly early, so that the kills spread over the campaign:
            # during start-up recovery, claims, SMTP sessions, commits.
            time.sleep(rnd.uniform(0.01, 0.3))
            if d.poll() is not None:
                self.assertEqual(d.returncode, 0, self.log_of(d))
                done += 1
                break
            d.kill()
            d.wait()
            sending = self.home.scalar(
                "SELECT count(*) FROM deliveries WHERE state = 'sending'")
            in_flight_at_kills += sending
            self.assertEqual(self.home.scalar("PRAGMA integrity_check"), "ok")
            sys.stderr.write("  kill %d: %d sent, %d in flight, peer has "
                             "%d\n" % (k + 1, self.home.scalar(
                                 "SELECT count(*) FROM deliveries WHERE "
                                 "state = 'sent'"), sending,
                                 len(peer.messages())))
        # The last run goes to the end.
        self.once()
        self.assertEqual(self.states(), {"sent": n})
        copies = collections.Counter(r for m in peer.messages()
                                     for r in m["rcpt_tos"])
        missing = [e for e in emails if copies[e] == 0]
        self.assertEqual(missing, [])
        extra = sum(c - 1 for c in copies.values())
        self.assertLessEqual(extra, in_flight_at_kills)
        sys.stderr.write("  duplicates %d, bound %d\n" %
                         (extra, in_flight_at_kills))
        # Each delivery: exactly one sent event; recovered ones have one
        # recovered event per lost attempt.
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'delivery.sent'"), n)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM (SELECT delivery_id FROM events WHERE "
            "kind = 'delivery.attempted' GROUP BY delivery_id HAVING "
            "count(*) <> (SELECT count(*) FROM events e2 WHERE "
            "e2.delivery_id = events.delivery_id AND e2.kind = "
            "'delivery.recovered') + 1)"), 0)
        self.assertLedger()


if __name__ == "__main__":
    unittest.main()
