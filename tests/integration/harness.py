"""Shared plumbing for chancery's integration tests: a temporary home with a
config and a database, and a runner for the built binaries that returns
exit status, stdout and stderr.

Run by ctest with /usr/bin/python3 -m unittest; CHANCERY_BIN_DIR names the
build directory holding the binaries, CHANCERY_SOURCE_DIR the source tree.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

BIN_DIR = os.environ.get("CHANCERY_BIN_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "build"))
SOURCE_DIR = os.environ.get("CHANCERY_SOURCE_DIR", os.path.join(
    os.path.dirname(__file__), "..", ".."))


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out,
                                                     self.err)


class Home:
    """A temporary directory with chancery.conf, chancery.db and outbox/."""

    def __init__(self, extra_conf=""):
        self.dir = tempfile.mkdtemp(prefix="chancery-it-")
        self.db = os.path.join(self.dir, "chancery.db")
        self.outbox = os.path.join(self.dir, "outbox")
        self.conf = os.path.join(self.dir, "chancery.conf")
        self.write_conf(extra_conf)

    def write_conf(self, extra=""):
        with open(self.conf, "w") as f:
            f.write('database = { path = "%s"; };\n' % self.db)
            f.write('sender = { name = "Office of the Ombudsman"; '
                    'address = "office@ombudsman.example"; };\n')
            if "transport" not in extra:
                f.write('transport = { kind = "maildir"; maildir = '
                        '{ path = "%s"; }; };\n' % self.outbox)
            f.write(extra)
        os.chmod(self.conf, 0o600)

    def command(self, prog):
        """The argv that starts prog; a test may wrap it (test_daemon.py
        puts chanceryd under valgrind)."""
        return [os.path.join(BIN_DIR, prog)]

    def run(self, *args, stdin=None, env=None, prog="chancery", timeout=120,
            wrap=()):
        full_env = dict(os.environ)
        full_env.pop("CHANCERY_CONFIG", None)
        full_env["NO_COLOR"] = "1"
        if env:
            full_env.update(env)
        cmd = list(wrap) + self.command(prog) + ["--config", self.conf]
        cmd += [str(a) for a in args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True,
                              text=True, env=full_env, timeout=timeout)
        return Result(proc)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        if r.rc != 0:
            raise AssertionError("%s failed: %r" % (" ".join(map(str, args)),
                                                   r))
        return r

    def sql(self, query, *params):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def scalar(self, query, *params):
        return self.sql(query, *params)[0][0]

    def snapshot(self):
        """Every row of every table, to prove an error changed nothing;
        but daemon_state, the running daemon's heartbeat, which every
        chanceryd run writes."""
        con = sqlite3.connect(self.db)
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name != 'daemon_state' ORDER BY name")]
            return {t: con.execute("SELECT * FROM %s" % t).fetchall()
                    for t in tables}
        finally:
            con.close()

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class TestCase(unittest.TestCase):
    """A test with a fresh Home (initialised database) in self.home."""

    init = True

    def setUp(self):
        self.home = Home()
        if self.init:
            self.home.ok("init")

    def tearDown(self):
        self.home.close()

    def assertFails(self, args, rc, message, unchanged=True):
        """The command exits rc, prints one line containing message on
        stderr, and (by default) leaves the database as it was."""
        before = self.home.snapshot() if unchanged else None
        r = self.home.run(*args)
        self.assertEqual(r.rc, rc, r)
        self.assertIn(message, r.err, r)
        self.assertEqual(r.err.strip().count("\n"), 0,
                         "error is not one line: %r" % r)
        if unchanged:
            self.assertEqual(self.home.snapshot(), before,
                             "the database changed")
        return r


PYTHON = "/usr/bin/python3"  # Debian's Python: the one aiosmtpd loads under
PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "smtp_peer.py")


class Peer:
    """smtp_peer.py (a real SMTP server on aiosmtpd) as a subprocess on an
    ephemeral loopback port, recording into its own directory; args are
    its options (see its docstring)."""

    def __init__(self, directory, *args):
        self.record = directory
        self.proc = subprocess.Popen(
            [PYTHON, PEER, "--record", directory] + [str(a) for a in args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError("peer did not start: %r %s" %
                               (line, self.proc.stderr.read()))
        self.port = int(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def events(self, kind=None):
        """The peer's log.jsonl events, of one kind or all."""
        path = os.path.join(self.record, "log.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            evs = [json.loads(line) for line in f if line.strip()]
        return [e for e in evs if kind is None or e["event"] == kind]

    def messages(self):
        return self.events("message")

    def content(self, ev):
        with open(os.path.join(self.record, ev["file"]), "rb") as f:
            return f.read().decode()


SYSLOG_SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "syslog_sink.py")


def can_fake_syslog():
    """Whether with_syslog can work here: root and unshare(1)."""
    return (os.geteuid() == 0 and shutil.which("unshare") is not None and
            subprocess.run(["unshare", "-m", "true"],
                           capture_output=True).returncode == 0)


def with_syslog(directory, log_path, present=True):
    """An argv prefix that runs a command in a private mount namespace
    whose /dev is an overlay (in directory) with, at /dev/log, a socket
    that appends what it receives to log_path (present), or with no
    /dev/log at all: a detached chanceryd then logs somewhere a test can
    read, or has nowhere to log, whatever the host has."""
    for d in ("u", "w"):
        os.makedirs(os.path.join(directory, d), exist_ok=True)
    script = (
        'mount -t overlay overlay -o "lowerdir=/dev,upperdir=$1/u,'
        'workdir=$1/w" /dev || exit 71; rm -f /dev/log; '
        'if [ "$2" = yes ]; then "$3" "$4" /dev/log "$5" </dev/null >/dev/null 2>&1 & n=0; '
        'while [ ! -S /dev/log ] && [ $n -lt 200 ]; do sleep 0.05; '
        'n=$((n+1)); done; fi; shift 5; exec "$@"')
    return ["unshare", "-m", "sh", "-c", script, "sh", directory,
            "yes" if present else "no", PYTHON, SYSLOG_SINK, log_path]
