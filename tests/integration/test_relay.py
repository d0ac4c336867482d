"""The relay as a whole (issue 23): `chancery relay test` against the real
SMTP peer, step by step, and chanceryd telling a relay-level fault (AUTH
refused, no connection) from a recipient's: no attempt or lifetime spent,
relay_state and one relay.down event, a notification tried, the relay
probed with backoff, relay.up and sending resumed by itself."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import Home, Peer
from test_daemon import Base, free_port

RIGHT = "right-Pw-7731"
WRONG = "Wrong-Secret-42"


def make_cert(directory, name="localhost", ip="127.0.0.1"):
    cert = os.path.join(directory, "cert-%s.pem" % name)
    key = os.path.join(directory, "key-%s.pem" % name)
    san = "DNS:%s" % name + (",IP:%s" % ip if ip else "")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=%s" % name,
                    "-addext", "subjectAltName=%s" % san,
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


class RelayTestCommand(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.home.ok("init")
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.stop()
        self.home.close()

    def peer(self, *args):
        p = Peer(os.path.join(self.home.dir, "peer-%d" % len(self.peers)),
                 *args)
        self.peers.append(p)
        return p

    def conf(self, port, password=None, extra=""):
        smtp = ('host = "127.0.0.1"; port = %d; connect_timeout = "2s"; '
                'command_timeout = "5s"; %s' % (port, extra))
        if password is not None:
            path = os.path.join(self.home.dir, "relay.password")
            with open(path, "w") as f:
                f.write(password + "\n")
            os.chmod(path, 0o600)
            smtp += 'user = "chancery"; password_file = "%s"; ' % path
        self.home.write_conf('transport = { kind = "smtp"; smtp = { %s }; };\n'
                             % smtp)

    def steps(self, out):
        """{step: (status, detail)} of the step lines (the last of each)."""
        got = {}
        for line in out.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[1] in ("ok", "FAILED"):
                got[parts[0]] = (parts[1], parts[2])
        return got

    def test_ok_with_auth(self):
        peer = self.peer("--auth", "chancery:" + RIGHT)
        self.conf(peer.port, RIGHT)
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 0, r)
        s = self.steps(r.out)
        self.assertEqual(s["resolve"], ("ok", "127.0.0.1: 127.0.0.1"), r)
        self.assertEqual(s["connect"],
                         ("ok", "127.0.0.1 port %d" % peer.port), r)
        self.assertEqual(s["banner"],
                         ("ok", "220 peer.test chancery-test-peer"), r)
        self.assertEqual(s["ehlo"][0], "ok")
        for ext in ("AUTH LOGIN PLAIN", "PIPELINING", "DSN"):
            self.assertIn(ext, s["ehlo"][1], r)
        self.assertEqual(s["auth"][0], "ok")
        self.assertRegex(s["auth"][1], r"^(LOGIN|PLAIN) as chancery: 235 ")
        self.assertEqual(s["data"][0], "ok")
        self.assertTrue(r.out.rstrip().endswith("\nrelay OK"), r)
        # Nothing delivered, and the password nowhere.
        self.assertEqual(peer.messages(), [])
        self.assertNotIn(RIGHT, r.out + r.err)

    def test_to_sends_one_message_marked_as_test(self):
        peer = self.peer()
        self.conf(peer.port)
        r = self.home.run("relay", "test", "--to", "it@office.example")
        self.assertEqual(r.rc, 0, r)
        s = self.steps(r.out)
        self.assertEqual(s["message"][0], "ok", r)
        self.assertIn("queued as Q000001", s["message"][1])
        self.assertIn("relay OK: test message sent to <it@office.example>",
                      r.out)
        msgs = peer.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]["rcpt_tos"], ["it@office.example"])
        text = peer.content(msgs[0])
        self.assertIn("X-Chancery-Test: yes", text)
        self.assertIn("Subject: [TEST] chancery relay test", text)

    def test_auth_refused(self):
        peer = self.peer("--auth", "chancery:" + RIGHT)
        self.conf(peer.port, WRONG)
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 77, r)  # EX_NOPERM
        s = self.steps(r.out)
        self.assertEqual(s["banner"][0], "ok")
        self.assertEqual(s["auth"][0], "FAILED", r)
        self.assertIn("as chancery: 535 5.7.8 Authentication credentials "
                      "invalid", s["auth"][1])
        last = r.out.rstrip().splitlines()[-1]
        self.assertTrue(last.startswith("relay FAILED at AUTH: "), r)
        self.assertIn("535 5.7.8 Authentication credentials invalid", last)
        self.assertEqual(peer.messages(), [])
        self.assertNotIn(WRONG, r.out + r.err)

    def test_connection_refused(self):
        port = free_port()
        self.conf(port)
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 69, r)  # EX_UNAVAILABLE
        s = self.steps(r.out)
        self.assertEqual(s["resolve"][0], "ok")
        self.assertEqual(s["connect"], (
            "FAILED", "cannot connect to relay 127.0.0.1:%d: Connection "
            "refused" % port), r)
        self.assertNotIn("banner", s)
        self.assertIn("relay FAILED at connect: cannot connect", r.out)

    def test_configuration_the_daemon_would_refuse(self):
        self.conf(free_port(), extra='user = "office"; ')
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 78, r)  # EX_CONFIG
        self.assertEqual(r.out, "")
        self.assertEqual(r.err, "chancery: transport.smtp.user is set but "
                         "no password (transport.smtp.password_file)\n")

    def test_421_banner(self):
        peer = self.peer("--greeting", "421 4.3.2 Service shutting down")
        self.conf(peer.port)
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 69, r)
        s = self.steps(r.out)
        self.assertEqual(s["banner"],
                         ("FAILED", "421 4.3.2 Service shutting down"), r)
        self.assertIn("relay FAILED at greeting:", r.out)

    def test_starttls_certificate_not_verified(self):
        cert, key = make_cert(self.home.dir)
        peer = self.peer("--tls", cert, key)
        # No ca_file: the system's store does not know the certificate.
        self.conf(peer.port, extra='tls = "required"; ')
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 76, r)  # EX_PROTOCOL
        s = self.steps(r.out)
        self.assertEqual(s["ehlo"][0], "ok")
        self.assertIn("STARTTLS", s["ehlo"][1])
        self.assertEqual(s["starttls"][0], "FAILED", r)
        self.assertIn("certificate of relay 127.0.0.1 not accepted",
                      s["starttls"][1])
        self.assertIn("relay FAILED at STARTTLS: TLS: certificate", r.out)
        self.assertEqual(peer.events("rcpt"), [])

    def test_starttls_refused(self):
        cert, key = make_cert(self.home.dir)
        peer = self.peer("--tls", cert, key, "--starttls-reply",
                         "454 4.7.0 TLS not available due to local problem")
        self.conf(peer.port, extra='tls = "required"; ca_file = "%s"; '
                  % cert)
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 76, r)  # EX_PROTOCOL
        s = self.steps(r.out)
        self.assertEqual(s["starttls"], (
            "FAILED", "454 4.7.0 TLS not available due to local problem"), r)
        self.assertIn("relay FAILED at STARTTLS: ", r.out)
        self.assertEqual(peer.events("rcpt"), [])

    def test_starttls_required_not_offered(self):
        peer = self.peer()
        self.conf(peer.port, extra='tls = "required"; ')
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 76, r)  # EX_PROTOCOL
        s = self.steps(r.out)
        self.assertEqual(s["ehlo"][0], "ok")
        self.assertNotIn("STARTTLS", s["ehlo"][1])
        self.assertEqual(s["starttls"], (
            "FAILED", "TLS: relay 127.0.0.1 does not offer STARTTLS and "
            "transport.smtp.tls requires it"), r)
        self.assertIn("relay FAILED at STARTTLS: TLS: relay 127.0.0.1 does "
                      "not offer STARTTLS", r.out)
        self.assertEqual(peer.events("rcpt"), [])

    def test_starttls_verified_certificate_reported(self):
        cert, key = make_cert(self.home.dir)
        peer = self.peer("--tls", cert, key)
        self.conf(peer.port, extra='tls = "required"; ca_file = "%s"; '
                  % cert)
        r = self.home.run("relay", "test")
        self.assertEqual(r.rc, 0, r)
        s = self.steps(r.out)
        self.assertEqual(s["starttls"][0], "ok", r)
        self.assertRegex(s["starttls"][1],
                         r"^TLSv1\.[23] \S+, certificate verified for "
                         r"127\.0\.0\.1: subject /CN=localhost, issuer "
                         r"/CN=localhost, expires \w+ +\d+ [\d:]+ \d{4} GMT$")
        self.assertIn("(over TLS)", s["ehlo"][1])

    def test_json(self):
        peer = self.peer("--auth", "chancery:" + RIGHT)
        self.conf(peer.port, WRONG)
        r = self.home.run("--json", "relay", "test")
        self.assertEqual(r.rc, 77, r)
        doc = json.loads(r.out)
        self.assertEqual(set(doc), {"transport", "relay", "steps", "ok",
                                    "failed_at", "reply_code", "reply",
                                    "test_message_sent", "to",
                                    "exit_status"})
        self.assertEqual((doc["ok"], doc["failed_at"], doc["reply_code"],
                          doc["exit_status"]), (False, "AUTH", 535, 77))
        names = [s["step"] for s in doc["steps"]]
        self.assertEqual(names[:4], ["resolve", "connect", "banner", "ehlo"])
        self.assertIn("auth", names)
        for s in doc["steps"]:
            self.assertEqual(set(s), {"step", "ok", "detail"})
        self.assertNotIn(WRONG, r.out)


class RelayDaemon(Base):
    """chanceryd against a relay that refuses AUTH, then accepts it."""

    def relay_conf(self, port, password, extra=""):
        path = os.path.join(self.home.dir, "relay.password")
        with open(path, "w") as f:
            f.write(password + "\n")
        os.chmod(path, 0o600)
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            'user = "chancery"; password_file = "%s"; }; };\n'
            'notify = { to = ["head@office.example"]; };\n'
            'relay = { retry = { first = "1s"; max = "2s"; }; };\n%s'
            % (port, path, extra))
        return path

    def relay(self):
        rows = self.home.sql("SELECT state, since, last_error, failures, "
                             "retry_at FROM relay_state")
        return rows[0] if rows else None

    def count(self, kind):
        return self.home.scalar("SELECT count(*) FROM events WHERE kind = ?",
                                kind)

    def test_auth_refused_then_fixed(self):
        self.registry(5)
        self.campaign()
        peer = self.peer("--auth", "chancery:" + RIGHT)
        pwfile = self.relay_conf(peer.port, WRONG)
        d = self.daemon("--foreground")
        self.wait_for(lambda: (self.relay() or ("",))[0] == "down",
                      what="relay_state down")
        # Several probes, still one relay.down.
        self.wait_for(lambda: self.relay()[3] >= 3, what="three failures")
        state, since, last_error, failures, retry_at = self.relay()
        self.assertIn("535 5.7.8 Authentication credentials invalid",
                      last_error)
        self.assertGreater(retry_at, since)
        self.assertEqual(self.count("relay.down"), 1)
        data = json.loads(self.home.scalar(
            "SELECT data FROM events WHERE kind = 'relay.down'"))
        self.assertEqual((data["code"], data["phase"]), (535, "AUTH"))
        # No delivery charged an attempt, none expired, none sent.
        rows = self.home.sql("SELECT state, attempts, reason FROM deliveries")
        self.assertEqual(len(rows), 5)
        for state, attempts, reason in rows:
            self.assertIn(state, ("pending", "deferred"))
            self.assertEqual(attempts, 0)
            if state == "deferred":
                self.assertIn("relay down (AUTH)", reason)
        self.assertEqual(self.count("delivery.expired"), 0)
        self.assertEqual(peer.messages(), [])
        expires = dict(self.home.sql("SELECT id, expires_at FROM deliveries"))
        # The notice went through the relay that is down: recorded failed.
        down_id = self.home.scalar(
            "SELECT id FROM events WHERE kind = 'relay.down'")
        failed = [json.loads(r[0]) for r in self.home.sql(
            "SELECT data FROM events WHERE kind = 'notify.failed'")]
        self.assertEqual([f["event"] for f in failed], [down_id])
        self.assertEqual(failed[0]["retry"], "later")
        log = self.log_of(d)
        self.assertIn("error: relay down (AUTH): AUTH as chancery rejected: "
                      "535 5.7.8", log)
        self.assertNotIn(WRONG, log)
        # daemon_state: our pid, a heartbeat.
        pid, version, started, beat = self.home.sql(
            "SELECT pid, version, started_at, heartbeat_at "
            "FROM daemon_state")[0]
        self.assertEqual(pid, d.pid)
        self.assertTrue(version)
        self.wait_for(lambda: self.home.scalar(
            "SELECT heartbeat_at > started_at FROM daemon_state"),
            timeout=15, what="a heartbeat")
        # Fixed: the right password and SIGHUP.
        with open(pwfile, "w") as f:
            f.write(RIGHT + "\n")
        d.send_signal(signal.SIGHUP)
        self.wait_for(lambda: self.states() == {"sent": 5},
                      what="deliveries sent")
        self.wait_for(lambda: self.relay()[0] == "ok", what="relay ok")
        self.assertEqual(self.count("relay.up"), 1)
        self.assertEqual(self.count("relay.down"), 1)
        up = json.loads(self.home.scalar(
            "SELECT data FROM events WHERE kind = 'relay.up'"))
        self.assertIn("535 5.7.8", up["reason"])
        self.assertGreaterEqual(up["outage_seconds"], 1)
        # Each delivery: one attempt, the one that went through.
        self.assertEqual(self.home.sql(
            "SELECT DISTINCT attempts FROM deliveries"), [(1,)])
        # The outage was given back to their lifetime.
        for id_, exp in self.home.sql("SELECT id, expires_at FROM "
                                      "deliveries"):
            self.assertGreater(exp, expires[id_])
        # The relay.up notice reaches head@ through the working relay.
        self.wait_for(lambda: any(
            m["rcpt_tos"] == ["head@office.example"] and
            "works again" in peer.content(m) for m in peer.messages()),
            what="the relay.up notice")
        d.send_signal(signal.SIGTERM)
        d.wait(10)
        self.assertLedger()

    def test_no_connection_then_peer_back_resumes_by_itself(self):
        self.registry(3)
        self.campaign()
        port = free_port()
        self.relay_conf(port, RIGHT)
        d = self.daemon("--foreground")
        self.wait_for(lambda: (self.relay() or ("",))[0] == "down",
                      what="relay_state down")
        self.assertIn("Connection refused", self.relay()[2])
        self.assertEqual(self.home.sql(
            "SELECT DISTINCT attempts FROM deliveries"), [(0,)])
        peer = self.peer("--auth", "chancery:" + RIGHT, "--port", port)
        self.wait_for(lambda: self.states() == {"sent": 3}, timeout=30,
                      what="deliveries sent after the peer came back")
        self.assertEqual(self.relay()[0], "ok")
        self.assertEqual((self.count("relay.down"), self.count("relay.up")),
                         (1, 1))
        self.assertEqual(len([m for m in peer.messages()
                              if m["rcpt_tos"][0].startswith("c")]), 3)
        d.send_signal(signal.SIGTERM)
        d.wait(10)

    def test_421_banner_is_a_relay_fault(self):
        self.registry(3)
        self.campaign()
        peer = self.peer("--greeting", "421 4.3.2 Service shutting down")
        self.relay_conf(peer.port, RIGHT)
        d = self.daemon("--foreground")
        self.wait_for(lambda: (self.relay() or ("",))[0] == "down",
                      what="relay_state down")
        self.assertIn("421 4.3.2 Service shutting down", self.relay()[2])
        data = json.loads(self.home.scalar(
            "SELECT data FROM events WHERE kind = 'relay.down'"))
        self.assertEqual(data["phase"], "greeting")
        self.assertEqual(self.home.sql(
            "SELECT DISTINCT attempts FROM deliveries"), [(0,)])
        self.assertEqual(self.count("delivery.expired"), 0)
        d.send_signal(signal.SIGTERM)
        d.wait(10)

    def test_expiry_while_down_says_so(self):
        self.registry(2)
        self.campaign()
        port = free_port()
        self.relay_conf(port, RIGHT, 'queue = { lifetime = "2s"; };\n')
        d = self.daemon("--foreground")
        # created_at + twice the lifetime: then it expires, saying why.
        self.wait_for(lambda: self.states() == {"expired": 2}, timeout=30,
                      what="expired")
        for (reason,) in self.home.sql("SELECT reason FROM deliveries"):
            self.assertRegex(reason, r"^expired: the relay was down since "
                             r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: cannot "
                             r"connect to relay 127\.0\.0\.1:\d+: "
                             r"Connection refused$")
        self.assertEqual(self.count("delivery.expired"), 2)
        d.send_signal(signal.SIGTERM)
        d.wait(10)


if __name__ == "__main__":
    unittest.main()
