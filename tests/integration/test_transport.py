"""The transports end to end: tests/tools/transport_send against the real
SMTP peer (smtp_peer.py, on aiosmtpd) and a real maildir outbox.

Every case checks the result line the driver prints (state, code, text) and
what the peer recorded (or did not).
"""

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import Peer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

BIN_DIR = os.environ.get("CHANCERY_BIN_DIR", os.path.join(HERE, "../../build"))
DRIVER = os.path.join(BIN_DIR, "tests", "tools", "transport_send")
FAKE_DNS = os.path.join(BIN_DIR, "tests", "tools", "fake_dns.so")

MESSAGE = (
    "From: Chancery <chancery@example.org>\n"
    "To: {rcpt}\n"
    "Subject: Statement {n}\n"
    "Message-ID: <{n}@chancery.test>\n"
    "\n"
    "Dear {rcpt},\n"
    ".a line starting with a dot\n"
    "End of statement {n}.\n"
)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ipv6_loopback():
    """Whether this machine can listen on ::1."""
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


class ChunkingPeer:
    """A relay that offers CHUNKING and answers as Postfix's smtpd does on
    loopback when the stall bites: on a socket that keeps Nagle's
    algorithm, a message's replies in two writes, once the whole message
    is in: the first ending with the reply to its first BDAT chunk (the
    headers), the second with the reply to the last. Nagle holds the
    second until the client ACKs the first, which a client with nothing
    left to send delays by 40 ms. Counts the messages it accepted."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,),
                             daemon=True).start()

    def stop(self):
        self.sock.close()

    def session(self, conn):
        with conn:
            conn.sendall(b"220 relay.test ESMTP\r\n")
            state = {"buf": b"", "out": [], "split": None, "need": 0,
                     "last": False, "in_msg": False}
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                state["buf"] += data
                if not self.serve_input(conn, state):
                    return
                # input ran dry: answer what needs no more (MAIL, EHLO)
                if state["out"] and not state["in_msg"]:
                    conn.sendall(b"".join(state["out"]))
                    state["out"] = []

    def serve_input(self, conn, st):
        """Serves the commands and chunks in st["buf"]; False on QUIT."""
        while True:
            if st["need"]:
                if len(st["buf"]) < st["need"]:
                    return True
                st["buf"], st["need"] = st["buf"][st["need"]:], 0
                self.chunk_done(conn, st)
                continue
            i = st["buf"].find(b"\r\n")
            if i < 0:
                return True
            line, st["buf"] = st["buf"][:i].decode(), st["buf"][i + 2:]
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                st["out"].append(b"250-relay.test\r\n250-PIPELINING\r\n"
                                 b"250-8BITMIME\r\n250 CHUNKING\r\n")
            elif verb == "BDAT":
                parts = line.split()
                st["need"], st["last"] = int(parts[1]), len(parts) > 2
                if st["need"] == 0:
                    self.chunk_done(conn, st)
            elif verb == "QUIT":
                conn.sendall(b"".join(st["out"]) + b"221 2.0.0 Bye\r\n")
                return False
            else:
                st["in_msg"] = st["in_msg"] or verb == "RCPT"
                st["out"].append(b"250 2.1.0 Ok\r\n")

    def chunk_done(self, conn, st):
        if not st["last"]:
            st["out"].append(b"250 2.0.0 Ok: chunk\r\n")
            if st["split"] is None:
                st["split"] = len(st["out"])
            return
        st["out"].append(b"250 2.0.0 Ok: queued as Q\r\n")
        split = st["split"] or len(st["out"]) - 1
        conn.sendall(b"".join(st["out"][:split]))
        conn.sendall(b"".join(st["out"][split:]))
        st["out"], st["split"], st["in_msg"] = [], None, False
        with self.lock:
            self.accepted += 1


class TransportTest(unittest.TestCase):
    def setUp(self):
        self.tmpobj = tempfile.TemporaryDirectory(prefix="chancery-transport-")
        self.tmp = self.tmpobj.name
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.stop()
        self.tmpobj.cleanup()

    def peer(self, *args):
        p = Peer(os.path.join(self.tmp, "peer-%d" % time.monotonic_ns()), *args)
        self.peers.append(p)
        return p

    def config(self, port=None, smtp=None, queue=None, kind="smtp"):
        smtp = dict(smtp or {})
        if port is not None:
            smtp.setdefault("host", "127.0.0.1")
            smtp.setdefault("port", port)
        smtp.setdefault("command_timeout", "5s")
        smtp.setdefault("connect_timeout", "2s")

        def value(v):
            return str(v) if isinstance(v, int) else json.dumps(v)

        body = "".join("%s = %s; " % (k, value(v)) for k, v in smtp.items())
        q = "".join("%s = %s; " % (k, value(v))
                    for k, v in (queue or {}).items())
        text = ('sender = { address = "bounces@example.org"; };\n'
                'transport = { kind = "%s"; smtp = { %s}; '
                'maildir = { path = "outbox"; }; };\n'
                'queue = { %s};\n') % (kind, body, q)
        path = os.path.join(self.tmp, "chancery.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def send(self, conf, rcpts, env=None, expect_status=0):
        args = [DRIVER, "-c", conf]
        for n, rcpt in enumerate(rcpts, 1):
            path = os.path.join(self.tmp, "msg-%d.eml" % n)
            with open(path, "w") as f:
                f.write(MESSAGE.format(rcpt=rcpt, n=n))
            args += [rcpt, path]
        full_env = dict(os.environ)
        full_env.update(env or {})
        t0 = time.monotonic()
        proc = subprocess.run(args, capture_output=True, text=True,
                              env=full_env, timeout=120)
        self.elapsed = time.monotonic() - t0
        self.stderr = proc.stderr
        self.assertEqual(proc.returncode, expect_status,
                         "driver exit %d, stderr:\n%s" %
                         (proc.returncode, proc.stderr))
        results = []
        for line in proc.stdout.splitlines():
            f = line.split("\t")
            results.append(dict(id=int(f[0]), rcpt=f[1], state=f[2],
                                code=int(f[3]), enhanced=f[4],
                                queue_id=f[5], text=f[6], told=f[7]))
        if expect_status == 0:
            self.assertEqual(len(results), len(rcpts), proc.stdout)
        return results

    def assertResult(self, r, state, code, text=None):
        self.assertEqual((r["state"], r["code"]), (state, code), r)
        if text is not None:
            self.assertIn(text, r["text"], r)

    # ---- plain sending ----

    def test_several_messages_over_one_connection(self):
        peer = self.peer()
        rcpts = ["a%d@example.net" % i for i in range(1, 6)]
        results = self.send(self.config(peer.port), rcpts)
        for n, r in enumerate(results, 1):
            self.assertResult(r, "sent", 250, "queued as Q%06d" % n)
            self.assertEqual(r["enhanced"], "2.0.0")
            self.assertEqual(r["queue_id"], "Q%06d" % n)
            # told as the relay answered, not when the session ended
            self.assertEqual(r["told"], "early")
        msgs = peer.messages()
        self.assertEqual([m["rcpt_tos"] for m in msgs], [[r] for r in rcpts])
        self.assertEqual({m["session"] for m in msgs}, {msgs[0]["session"]})
        for n, m in enumerate(msgs, 1):
            self.assertEqual(m["mail_from"], "bounces@example.org")
            self.assertEqual(m["dsn"], {"ret": "HDRS",
                                        "envid": "chancery-%d" % n,
                                        "notify": ["FAILURE,DELAY"]})
            body = peer.content(m)
            self.assertIn("Subject: Statement %d" % n, body)
            self.assertIn("\n.a line starting with a dot", body)
            self.assertIn("Dear %s," % rcpts[n - 1], body)
        self.assertIn("transport=smtp delivery=3 rcpt=<a3@example.net> "
                      "result=sent code=250", self.stderr)

    def test_messages_per_connection_cap(self):
        peer = self.peer()
        rcpts = ["c%d@example.net" % i for i in range(5)]
        results = self.send(self.config(peer.port,
                                        queue={"messages_per_connection": 2}),
                            rcpts)
        self.assertEqual([r["state"] for r in results], ["sent"] * 5)
        sessions = [m["session"] for m in peer.messages()]
        self.assertEqual(len(sessions), 5)
        counts = [sessions.count(s) for s in sorted(set(sessions))]
        self.assertEqual(counts, [2, 2, 1])

    def test_reply_per_recipient(self):
        peer = self.peer("--rcpt-reply", "gone@=550 5.1.1 No such user here",
                         "--rcpt-reply", "full@=452 4.2.2 Mailbox full",
                         "--data-reply", "later@=451 4.3.0 Try again later",
                         "--data-reply", "spam@=554 5.7.1 Rejected as spam")
        rcpts = ["ok1@example.net", "gone@example.net", "full@example.net",
                 "later@example.net", "spam@example.net", "ok2@example.net"]
        r = self.send(self.config(peer.port), rcpts)
        self.assertResult(r[0], "sent", 250, "queued as Q000001")
        self.assertResult(r[1], "permfail", 550, "No such user here")
        self.assertEqual(r[1]["enhanced"], "5.1.1")
        self.assertResult(r[2], "tempfail", 452, "Mailbox full")
        self.assertResult(r[3], "tempfail", 451, "Try again later")
        self.assertResult(r[4], "permfail", 554, "Rejected as spam")
        self.assertEqual(r[4]["enhanced"], "5.7.1")
        self.assertResult(r[5], "sent", 250, "queued as Q000002")
        # each told as the relay answered it, refused RCPTs included
        self.assertEqual([x["told"] for x in r], ["early"] * 6)
        self.assertEqual([m["rcpt_tos"] for m in peer.messages()],
                         [["ok1@example.net"], ["ok2@example.net"]])
        self.assertEqual(len(peer.events("refused")), 2)

    # ---- relay faults ----

    def test_connection_refused(self):
        port = free_port()
        r = self.send(self.config(port), ["x@example.net", "y@example.net"])
        for res in r:
            self.assertResult(res, "tempfail", 0, "Connection refused")
            self.assertIn("127.0.0.1:%d" % port, res["text"])

    def test_connect_timeout_on_a_blackholed_relay(self):
        """A relay whose accept queue is full drops our SYNs: the connect
        hangs until transport.smtp.connect_timeout, then tempfail."""
        sink = socket.socket()
        sink.bind(("127.0.0.1", 0))
        sink.listen(0)
        port = sink.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):  # fill the accept queue; never accepted
                c = socket.socket()
                c.setblocking(False)
                c.connect_ex(("127.0.0.1", port))
                fillers.append(c)
            time.sleep(0.2)
            r = self.send(self.config(port, smtp={"connect_timeout": "1s"}),
                          ["x@example.net"])
            self.assertResult(r[0], "tempfail", 0,
                              "no answer within 1000 ms")
            self.assertIn("127.0.0.1:%d" % port, r[0]["text"])
            self.assertLess(self.elapsed, 10)
        finally:
            for c in fillers:
                c.close()
            sink.close()

    def test_452_too_many_recipients(self):
        peer = self.peer("--rcpt-reply",
                         "y@.*=452 4.5.3 Too many recipients")
        r = self.send(self.config(peer.port), ["x@example.net",
                                               "y@example.net"])
        self.assertResult(r[0], "sent", 250, "")
        self.assertResult(r[1], "tempfail", 452, "Too many recipients")
        self.assertEqual(r[1]["enhanced"], "4.5.3")
        self.assertEqual(len(peer.messages()), 1)

    def test_421_greeting(self):
        peer = self.peer("--greeting", "421 4.3.2 Service shutting down")
        r = self.send(self.config(peer.port), ["x@example.net",
                                               "y@example.net"])
        for res in r:
            self.assertResult(res, "tempfail", 421, "Service shutting down")
            self.assertIn("greeting", res["text"])
        self.assertEqual(peer.messages(), [])

    def test_starttls_required_but_not_offered(self):
        peer = self.peer()
        r = self.send(self.config(peer.port, smtp={"tls": "required"}),
                      ["x@example.net", "y@example.net"])
        for res in r:
            self.assertResult(res, "tempfail", 0, "does not offer STARTTLS")
        self.assertEqual(peer.events("ehlo") != [], True)
        self.assertEqual(peer.messages(), [])
        self.assertEqual(peer.events("rcpt"), [])

    def make_cert(self, name="localhost", ip="127.0.0.1"):
        cert = os.path.join(self.tmp, "cert-%s.pem" % name)
        key = os.path.join(self.tmp, "key-%s.pem" % name)
        san = "DNS:%s" % name + (",IP:%s" % ip if ip else "")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=%s" % name,
                        "-addext", "subjectAltName=%s" % san,
                        "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        return cert, key

    def test_tls_self_signed_refused_without_ca_file(self):
        cert, key = self.make_cert()
        peer = self.peer("--tls", cert, key)
        r = self.send(self.config(peer.port, smtp={"tls": "required"}),
                      ["x@example.net"])
        self.assertResult(r[0], "tempfail", 0, "certificate")
        self.assertIn("self-signed", r[0]["text"])
        self.assertEqual(peer.messages(), [])
        self.assertEqual(peer.events("rcpt"), [])

    def test_tls_self_signed_accepted_with_ca_file(self):
        cert, key = self.make_cert()
        peer = self.peer("--tls", cert, key)
        r = self.send(self.config(peer.port, smtp={"tls": "required",
                                                   "ca_file": cert}),
                      ["x@example.net", "y@example.net"])
        for res in r:
            self.assertResult(res, "sent", 250, "queued as")
        msgs = peer.messages()
        self.assertEqual(len(msgs), 2)
        self.assertTrue(all(m["tls"] for m in msgs), msgs)
        self.assertEqual(len(peer.events("starttls")), 1)

    def test_tls_handshake_failure_other_than_certificate(self):
        """The relay says 220 to STARTTLS and then does not speak TLS:
        tempfail, nothing sent in clear text, no hang."""
        cert, key = self.make_cert()
        peer = self.peer("--tls", cert, key, "--tls-garbage")
        r = self.send(self.config(peer.port, smtp={"tls": "required",
                                                   "ca_file": cert}),
                      ["x@example.net", "y@example.net"])
        for res in r:
            self.assertEqual(res["state"], "tempfail", res)
            self.assertIn("during STARTTLS", res["text"])
        self.assertEqual(len(peer.events("tls-garbage")), 1)
        self.assertEqual(peer.events("rcpt"), [])
        self.assertEqual(peer.messages(), [])
        self.assertLess(self.elapsed, 5)

    def test_tls_certificate_for_another_name_refused(self):
        cert, key = self.make_cert(name="other.example", ip=None)
        peer = self.peer("--tls", cert, key)
        r = self.send(self.config(peer.port, smtp={"tls": "required",
                                                   "ca_file": cert}),
                      ["x@example.net"])
        self.assertResult(r[0], "tempfail", 0, "certificate")
        self.assertIn("mismatch", r[0]["text"])
        self.assertEqual(peer.messages(), [])

    def test_tls_checks_the_configured_name_not_the_address(self):
        """libESMTP is given the address connected to; the certificate is
        still checked against transport.smtp.host: one for the name only
        is accepted, one for the address only is refused."""
        cert, key = self.make_cert(name="localhost", ip=None)
        peer = self.peer("--tls", cert, key)
        r = self.send(self.config(peer.port, smtp={
            "host": "localhost", "tls": "required", "ca_file": cert}),
            ["x@example.net"])
        self.assertResult(r[0], "sent", 250, "queued as")
        self.assertTrue(peer.messages()[0]["tls"])
        self.assertIn("relay=localhost:%d address=127.0.0.1:%d "
                      "tls=required" % (peer.port, peer.port), self.stderr)
        cert, key = self.make_cert(name="other.example", ip="127.0.0.1")
        peer = self.peer("--tls", cert, key)
        r = self.send(self.config(peer.port, smtp={
            "host": "localhost", "tls": "required", "ca_file": cert}),
            ["x@example.net"])
        self.assertResult(r[0], "tempfail", 0, "certificate")
        self.assertEqual(peer.messages(), [])

    def test_tls_auto_decided_on_the_address_connected_to(self):
        """Issue 15 item 5: the relay's name resolves to loopback, then to
        another address (fake_dns.so answers each look-up in turn). No
        session may go in plain text to the other address: each session
        decides TLS on the address it connects to, and libESMTP connects
        there instead of resolving the name again."""
        # The other address is ::1: a session that lands on IPv6 is never
        # taken for loopback (libESMTP cannot be given an IPv6 address to
        # stay on), and the test sends nothing beyond this machine's
        # loopback interface.
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback on this machine")
        other = "::1"
        near = self.peer()
        far = self.peer("--host", other, "--port", near.port)
        name = "relay.chancery.test"
        env = {"LD_PRELOAD": FAKE_DNS,
               "CHANCERY_FAKE_DNS_NAME": name,
               # transport_new, then each session's own look-up
               "CHANCERY_FAKE_DNS_ADDRS": "127.0.0.1,127.0.0.1,%s" % other,
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
               ":verify_asan_link_order=0"}
        r = self.send(self.config(near.port, smtp={"host": name},
                                  queue={"messages_per_connection": 1}),
                      ["x@example.net", "y@example.net"], env=env)
        self.assertIn("fake_dns: lookup 3 -> %s" % other, self.stderr)
        # first session: loopback, pinned, plain text
        self.assertResult(r[0], "sent", 250, "queued as")
        self.assertEqual([m["rcpt_tos"] for m in near.messages()],
                         [["x@example.net"]])
        self.assertIn("address=127.0.0.1:%d tls=none" % near.port,
                      self.stderr)
        # second: the name moved away from loopback, so TLS is required,
        # and the relay there does not offer it
        self.assertResult(r[1], "tempfail", 0, "does not offer STARTTLS")
        self.assertIn("address=%s:%d tls=required" % (name, near.port),
                      self.stderr)
        self.assertEqual(far.messages(), [])
        self.assertEqual(far.events("rcpt"), [])
        self.assertEqual(len(far.events("ehlo")), 1)  # only the 2nd session

    def password_file(self, password):
        path = os.path.join(self.tmp, "relay.password")
        with open(path, "w") as f:
            f.write(password + "\n")
        os.chmod(path, 0o600)
        return path

    def test_auth_accepted(self):
        peer = self.peer("--auth", "chancery:s3cret-Pw")
        r = self.send(self.config(peer.port, smtp={
            "user": "chancery",
            "password_file": self.password_file("s3cret-Pw")}),
            ["x@example.net", "y@example.net"])
        for res in r:
            self.assertResult(res, "sent", 250)
        self.assertEqual([m["auth_user"] for m in peer.messages()],
                         ["chancery", "chancery"])
        self.assertNotIn("s3cret-Pw", self.stderr)

    def test_auth_rejected(self):
        peer = self.peer("--auth", "chancery:right-password")
        r = self.send(self.config(peer.port, smtp={
            "user": "chancery",
            "password_file": self.password_file("Wrong-Secret-42")}),
            ["x@example.net", "y@example.net"])
        for res in r:
            self.assertResult(res, "tempfail", 535, "AUTH as chancery rejected")
        self.assertEqual(peer.messages(), [])
        auths = peer.events("auth")
        self.assertTrue(auths and not any(a["success"] for a in auths))
        self.assertNotIn("Wrong-Secret-42", self.stderr)

    def test_auth_rejected_by_relay_that_takes_mail_anyway(self):
        """libESMTP goes on with MAIL after a rejected AUTH; a relay that
        accepts unauthenticated mail must still not get the message."""
        peer = self.peer("--auth", "chancery:right-password",
                         "--auth-optional")
        r = self.send(self.config(peer.port, smtp={
            "user": "chancery",
            "password_file": self.password_file("Wrong-Secret-42")}),
            ["x@example.net", "y@example.net"])
        for res in r:
            self.assertResult(res, "tempfail", 535, "AUTH as chancery rejected")
        self.assertEqual(peer.messages(), [])

    def test_auth_over_starttls(self):
        cert, key = self.make_cert()
        peer = self.peer("--tls", cert, key, "--auth", "chancery:tls-pw-99")
        r = self.send(self.config(peer.port, smtp={
            "tls": "required", "ca_file": cert, "user": "chancery",
            "password_file": self.password_file("tls-pw-99")}),
            ["x@example.net"])
        self.assertResult(r[0], "sent", 250, "queued as")
        m = peer.messages()
        self.assertEqual([(x["tls"], x["auth_user"]) for x in m],
                         [(True, "chancery")])
        self.assertNotIn("tls-pw-99", self.stderr)

    def test_auth_over_plain_text_to_remote_host_refused(self):
        conf = self.config(smtp={"host": "192.0.2.1", "port": 587,
                                 "tls": "none", "user": "chancery",
                                 "password_file":
                                     self.password_file("pw-123456")})
        self.send(conf, ["x@example.net"], expect_status=78)
        self.assertIn("unencrypted", self.stderr)
        self.assertEqual(len(self.stderr.strip().splitlines()), 1)

    def test_421_in_the_middle_of_a_session(self):
        peer = self.peer("--421-after", "2")
        rcpts = ["m%d@example.net" % i for i in range(1, 6)]
        r = self.send(self.config(peer.port), rcpts)
        self.assertResult(r[0], "sent", 250)
        self.assertResult(r[1], "sent", 250)
        self.assertResult(r[2], "tempfail", 421, "too many messages")
        for res in r[3:]:
            self.assertEqual(res["state"], "tempfail", res)
            self.assertIn("421", res["text"])
        self.assertEqual([m["rcpt_tos"][0] for m in peer.messages()],
                         rcpts[:2])

    def test_connection_dropped_mid_data(self):
        peer = self.peer("--drop-after", "1")
        rcpts = ["d%d@example.net" % i for i in range(1, 4)]
        r = self.send(self.config(peer.port), rcpts)
        self.assertResult(r[0], "sent", 250)
        for res in r[1:]:
            self.assertEqual((res["state"], res["code"]), ("tempfail", 0), res)
            self.assertIn("transfer", res["text"])
        self.assertEqual(len(peer.messages()), 1)
        self.assertEqual(len(peer.events("dropped")), 1)
        # only the answered message is told before the session ends
        self.assertEqual([x["told"] for x in r], ["early", "late", "late"])

    def test_stalled_reply_hits_command_timeout(self):
        peer = self.peer("--stall", "MAIL=4")
        r = self.send(self.config(peer.port,
                                  smtp={"command_timeout": "1s"}),
                      ["s1@example.net", "s2@example.net"])
        for res in r:
            self.assertResult(res, "tempfail", 0, "timeout")
        self.assertLess(self.elapsed, 3.5)
        self.assertEqual(peer.messages(), [])

    def test_slow_drip_within_timeout_still_delivers(self):
        peer = self.peer("--drip", "0.005")
        r = self.send(self.config(peer.port,
                                  smtp={"command_timeout": "1s"}),
                      ["s1@example.net", "s2@example.net"])
        for res in r:
            self.assertResult(res, "sent", 250, "queued as")
        self.assertEqual(len(peer.messages()), 2)

    def test_10kb_reply_line(self):
        peer = self.peer("--long-reply", "DATA")
        rcpts = ["l%d@example.net" % i for i in range(1, 4)]
        r = self.send(self.config(peer.port), rcpts)
        recorded = [m["rcpt_tos"][0] for m in peer.messages()]
        # The first reply is 2xx and says "queued as": sent, text cut short.
        self.assertResult(r[0], "sent", 250, "queued as Q000001")
        self.assertEqual(r[0]["queue_id"], "Q000001")
        self.assertLess(len(r[0]["text"]), 512)
        # What follows the overlong line cannot be trusted: the rest are
        # tempfail, and nothing is called sent that the peer did not keep.
        for res in r[1:]:
            self.assertEqual(res["state"], "tempfail", res)
        self.assertEqual(recorded[0], rcpts[0])
        for res in r:
            if res["state"] == "sent":
                self.assertIn(res["rcpt"], recorded)

    def test_10kb_reply_line_to_rcpt(self):
        peer = self.peer("--long-reply", "RCPT")
        r = self.send(self.config(peer.port), ["l1@example.net",
                                               "l2@example.net"])
        for res in r:
            self.assertResult(res, "tempfail", 0, "Invalid SMTP syntax")
        self.assertEqual(peer.messages(), [])

    # ---- the 40 ms trap ----

    def send_big(self, peer, n, env=None):
        body = "".join("line %04d of a statement, padded to look real ....\n"
                       % i for i in range(60))          # about 3 KB
        path = os.path.join(self.tmp, "big.eml")
        with open(path, "w") as f:
            f.write("From: a@example.org\nTo: b@example.net\n"
                    "Subject: big\n\n" + body)
        full_env = dict(os.environ)
        full_env.update(env or {})
        t0 = time.monotonic()
        proc = subprocess.run([DRIVER, "-q", "-c", self.config(peer.port),
                               "-n", str(n), "b@example.net", path],
                              capture_output=True, text=True, env=full_env,
                              timeout=120)
        elapsed = time.monotonic() - t0
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("\tsent\t250\t"), n, proc.stdout)
        return elapsed

    def test_no_40ms_stall_per_message(self):
        """With TCP_NODELAY, 60 messages of 3 KB over one connection take
        far less than the 60 x 40 ms = 2.4 s the Nagle trap costs; the
        second run, with the fix disabled, shows the check can fail."""
        peer = self.peer()
        fast = self.send_big(peer, 60)
        self.assertLess(fast, 1.5, "60 messages took %.2fs: the 40 ms "
                        "Nagle/delayed-ACK stall is back" % fast)
        slow = self.send_big(peer, 60, env={"CHANCERY_SMTP_KEEP_NAGLE": "1"})
        self.assertGreater(slow, 2.0, "without TCP_NODELAY 60 messages took "
                           "%.2fs; the trap no longer reproduces" % slow)
        self.assertEqual(len(peer.messages()), 120)

    def test_no_delayed_ack_stall_with_chunking(self):
        """The trap's twin on the relay's side: against a relay that
        offers CHUNKING and keeps Nagle (Postfix on loopback), the reply
        ending each message waits for our ACK of the one before it unless
        we acknowledge at once. 40 messages take far less than the 40 x
        40 ms = 1.6 s the stall costs; with the acknowledgement disabled
        they take more, which shows the check can fail."""
        peer = ChunkingPeer()
        self.addCleanup(peer.stop)
        fast = self.send_big(peer, 40)
        self.assertLess(fast, 1.0, "40 messages took %.2fs: the delayed-"
                        "ACK stall with CHUNKING is back" % fast)
        slow = self.send_big(peer, 40,
                             env={"CHANCERY_SMTP_KEEP_DELAYED_ACK": "1"})
        self.assertGreater(slow, 1.3, "without the early ACK 40 messages "
                           "took %.2fs; the stall no longer reproduces"
                           % slow)
        self.assertEqual(peer.accepted, 80)

    # ---- maildir ----

    def test_maildir_outbox(self):
        conf = self.config(kind="maildir", smtp={"host": "localhost"})
        r = self.send(conf, ["x@example.net", "y@example.net"])
        outbox = os.path.join(self.tmp, "outbox")
        new = sorted(os.listdir(os.path.join(outbox, "new")))
        self.assertEqual(len(new), 2)
        self.assertEqual(sorted(res["queue_id"] for res in r), new)
        for res in r:
            self.assertResult(res, "sent", 250, "written to")
        for sub in ("", "tmp", "new", "cur"):
            mode = stat.S_IMODE(os.stat(os.path.join(outbox, sub)).st_mode)
            self.assertEqual(mode, 0o700, sub)
        self.assertEqual(os.listdir(os.path.join(outbox, "tmp")), [])
        with open(os.path.join(outbox, "new", r[1]["queue_id"]), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(
            b"Return-Path: <bounces@example.org>\r\nDelivered-To: "
            b"y@example.net\r\n"), data[:100])
        self.assertIn(b"Subject: Statement 2\r\n", data)


if __name__ == "__main__":
    unittest.main()
