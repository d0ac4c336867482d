#!/usr/bin/python3
"""A scriptable SMTP server for chancery's tests, on python3-aiosmtpd.

Run it as a subprocess with /usr/bin/python3; it listens on 127.0.0.1 on an
ephemeral port and prints that port, alone on one line, on stdout when it
is ready to accept connections. It runs until killed (SIGTERM).

    /usr/bin/python3 smtp_peer.py --record DIR [options]

Options (all optional; repeatable where said):
  --host ADDR             listen address (default 127.0.0.1)
  --port N                port (default 0: an ephemeral one)
  --record DIR            store every accepted message as DIR/NNNNNN.eml
                          (the bytes received, dot-unstuffed) and append one
                          JSON object per line to DIR/log.jsonl (see below)
  --tls CERT KEY          offer STARTTLS with this certificate and key (PEM)
  --require-tls           refuse MAIL until STARTTLS was done (530)
  --starttls-reply REPLY  with --tls: offer STARTTLS but answer it with
                          REPLY (e.g. '454 4.7.0 TLS not available')
  --tls-garbage           with --tls: answer STARTTLS with 220, then send
                          bytes that are not TLS and close (a handshake
                          that fails for a reason other than the
                          certificate)
  --auth USER:PASS        offer AUTH PLAIN/LOGIN and require it before MAIL
                          (also over plain text, for loopback tests)
  --auth-optional         with --auth: offer AUTH but accept mail without
                          it (a relay that takes local mail unauthenticated)
  --rcpt-reply RE=REPLY   answer RCPT TO for addresses matching the regex RE
                          with REPLY, e.g. 'bad@.*=550 5.1.1 No such user'
                          (repeatable; first match wins)
  --data-reply RE=REPLY   answer the end of DATA with REPLY when a recipient
                          of the message matches RE (message not recorded
                          unless REPLY is 2xx) (repeatable)
  --mail-reply RE=REPLY   answer MAIL FROM for senders matching RE
  --greeting REPLY        greet with REPLY instead of "220 ..."; a greeting
                          that is not 2xx is followed by closing the
                          connection (e.g. '421 4.3.2 Service shutting down')
  --421-after N           in each connection, after N accepted messages
                          answer the next MAIL with "421 4.3.2 ..." and close
  --drop-after N          in each connection, after N accepted messages
                          answer the next DATA with 354 and close at once
                          (the client is cut off in the middle of DATA)
  --stall CMD=SECONDS     wait SECONDS before answering CMD (EHLO, MAIL, RCPT,
                          DATA = the reply after the final dot) (repeatable)
  --drip SECONDS          send every reply one byte at a time, SECONDS apart
  --long-reply CMD        make the reply to CMD (MAIL, RCPT, DATA) a single
                          line of about 10 KB (2xx, so it is accepted)
  --no-pipelining, --no-dsn, --no-enhanced
                          do not advertise PIPELINING / DSN /
                          ENHANCEDSTATUSCODES (all three are by default)

Accepted messages get "250 2.0.0 Ok: queued as Q<seq>" (seq from 1, over the
whole run), so a client can check queue-id parsing.

log.jsonl holds one object per event, each with "event" and "session" (a
number per TCP connection, from 1):
  {"event": "connect", "session", "peer"}
  {"event": "ehlo", "session", "hostname", "tls"}
  {"event": "starttls", "session"}
  {"event": "auth", "session", "mechanism", "user", "success"}
  {"event": "rcpt", "session", "address", "options", "reply"}
  {"event": "message", "session", "seq", "file", "mail_from",
   "mail_options", "rcpt_tos", "rcpt_options", "dsn": {"ret", "envid",
   "notify": [...]}, "size", "tls", "auth_user", "reply"}
  {"event": "refused", "session", "rcpt_tos", "reply"}  (DATA not 2xx)
  {"event": "disconnect", "session"}
"""

import argparse
import asyncio
import json
import os
import re
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

LONG_PAD = "x" * 10240


def parse_rules(values):
    rules = []
    for v in values or []:
        pattern, sep, reply = v.partition("=")
        if not sep or not reply[:3].isdigit():
            sys.exit("smtp_peer: bad rule %r (want REGEX=CODE TEXT)" % v)
        rules.append((re.compile(pattern, re.I), reply))
    return rules


def match_rule(rules, address):
    for pattern, reply in rules:
        if pattern.search(address or ""):
            return reply
    return None


class Recorder:
    """Writes message files and the JSON line log."""

    def __init__(self, directory):
        self.dir = directory
        self.seq = 0
        if directory:
            os.makedirs(directory, exist_ok=True)
            self.log = open(os.path.join(directory, "log.jsonl"), "a",
                            buffering=1)
        else:
            self.log = None

    def event(self, **fields):
        if self.log:
            self.log.write(json.dumps(fields, sort_keys=True) + "\n")

    def store(self, content):
        self.seq += 1
        name = "%06d.eml" % self.seq
        if self.dir:
            path = os.path.join(self.dir, name)
            with open(path + ".tmp", "wb") as f:
                f.write(content)
            os.rename(path + ".tmp", path)
        return self.seq, name


class Handler:
    def __init__(self, opts, recorder):
        self.opts = opts
        self.rec = recorder
        self.rcpt_rules = parse_rules(opts.rcpt_reply)
        self.data_rules = parse_rules(opts.data_reply)
        self.mail_rules = parse_rules(opts.mail_reply)
        self.stalls = {}
        for s in opts.stall or []:
            cmd, _, secs = s.partition("=")
            self.stalls[cmd.upper()] = float(secs)
        self.long = {c.upper() for c in (opts.long_reply or [])}

    async def stall(self, cmd):
        if cmd in self.stalls:
            await asyncio.sleep(self.stalls[cmd])

    def long_line(self, cmd, reply):
        return reply + " " + LONG_PAD if cmd in self.long else reply

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        await self.stall("EHLO")
        session.host_name = hostname
        extra = []
        if not self.opts.no_pipelining:
            extra.append("250-PIPELINING")
        if not self.opts.no_dsn:
            extra.append("250-DSN")
        if not self.opts.no_enhanced:
            extra.append("250-ENHANCEDSTATUSCODES")
        self.rec.event(event="ehlo", session=server.session_no,
                       hostname=hostname, tls=server.tls_done)
        # keep the last line ("250 HELP") last
        return responses[:-1] + extra + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        await self.stall("MAIL")
        limit = self.opts.close_after
        if limit is not None and server.accepted >= limit:
            server.close_after_reply = True
            return "421 4.3.2 too many messages in this session, closing"
        reply = match_rule(self.mail_rules, address)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return self.long_line("MAIL", "250 2.1.0 Ok")

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        await self.stall("RCPT")
        reply = match_rule(self.rcpt_rules, address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            server.rcpt_notify.append(server.pending_notify)
            reply = self.long_line("RCPT", "250 2.1.5 Ok")
        self.rec.event(event="rcpt", session=server.session_no,
                       address=address, options=rcpt_options,
                       notify=server.pending_notify, reply=reply[:200])
        return reply

    async def handle_DATA(self, server, session, envelope):
        await self.stall("DATA")
        reply = None
        for r in envelope.rcpt_tos:
            reply = match_rule(self.data_rules, r)
            if reply:
                break
        if reply and not reply.startswith("2"):
            self.rec.event(event="refused", session=server.session_no,
                           rcpt_tos=envelope.rcpt_tos, reply=reply)
            return reply
        content = envelope.original_content or b""
        seq, name = self.rec.store(content)
        if reply is None:
            reply = "250 2.0.0 Ok: queued as Q%06d" % seq
        reply = self.long_line("DATA", reply)
        server.accepted += 1
        self.rec.event(event="message", session=server.session_no, seq=seq,
                       file=name, mail_from=envelope.mail_from,
                       mail_options=envelope.mail_options,
                       rcpt_tos=envelope.rcpt_tos,
                       rcpt_options=envelope.rcpt_options,
                       dsn={"ret": server.dsn_ret, "envid": server.dsn_envid,
                            "notify": server.rcpt_notify},
                       size=len(content), tls=server.tls_done,
                       auth_user=server.auth_user, reply=reply[:200])
        return reply


DSN_MAIL = re.compile(r"\s+(RET|ENVID)=(\S+)", re.I)
DSN_RCPT = re.compile(r"\s+(NOTIFY|ORCPT)=(\S+)", re.I)


class PeerSMTP(SMTP):
    """aiosmtpd's SMTP with DSN parameters, faults and a session number."""

    counter = 0

    def __init__(self, handler, opts, recorder, **kw):
        super().__init__(handler, **kw)
        self.opts = opts
        self.rec = recorder
        PeerSMTP.counter += 1
        self.session_no = PeerSMTP.counter
        self.accepted = 0
        self.tls_done = False
        self.auth_user = None
        self.close_after_reply = False
        self.greeted = False
        self.reset_dsn()

    def reset_dsn(self):
        self.dsn_ret = None
        self.dsn_envid = None
        self.rcpt_notify = []
        self.pending_notify = None

    def connection_made(self, transport):
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self.rec.event(event="connect", session=self.session_no,
                       peer=str(peer))

    def connection_lost(self, exc):
        self.rec.event(event="disconnect", session=self.session_no)
        super().connection_lost(exc)

    async def push(self, status):
        if not self.greeted:
            self.greeted = True
            if self.opts.greeting:
                status = self.opts.greeting
                self.close_after_reply = not status.startswith("2")
        if self.opts.drip:
            data = (status.encode() if isinstance(status, str)
                    else status) + b"\r\n"
            for i in range(len(data)):
                self._writer.write(data[i:i + 1])
                await self._writer.drain()
                await asyncio.sleep(self.opts.drip)
        else:
            await super().push(status)
        if self.close_after_reply:
            self.close_after_reply = False
            self.transport.close()

    async def smtp_MAIL(self, arg):
        self.reset_dsn()
        if arg:
            for key, value in DSN_MAIL.findall(arg):
                if key.upper() == "RET":
                    self.dsn_ret = value
                else:
                    self.dsn_envid = value
            arg = DSN_MAIL.sub("", arg)
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self.pending_notify = None
        if arg:
            for key, value in DSN_RCPT.findall(arg):
                if key.upper() == "NOTIFY":
                    self.pending_notify = value
            arg = DSN_RCPT.sub("", arg)
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg):
        limit = self.opts.drop_after
        if (limit is not None and self.accepted >= limit
                and self.envelope.rcpt_tos):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            self.rec.event(event="dropped", session=self.session_no,
                           rcpt_tos=self.envelope.rcpt_tos)
            self.transport.close()
            return
        await super().smtp_DATA(arg)
        self.reset_dsn()

    async def smtp_STARTTLS(self, arg):
        if self.opts.starttls_reply:
            await self.push(self.opts.starttls_reply)
            return
        if self.opts.tls_garbage:
            # recorded first: once the garbage is out, the client fails
            # and the test reads the log, maybe before this process runs
            # again
            self.rec.event(event="tls-garbage", session=self.session_no)
            await self.push("220 2.0.0 Ready to start TLS")
            self.transport.write(b"this is not a TLS server hello\r\n" * 8)
            self.transport.close()
            return
        await super().smtp_STARTTLS(arg)
        if self._tls_protocol:
            self.tls_done = True
            self.rec.event(event="starttls", session=self.session_no)


def make_authenticator(opts, recorder):
    user, _, password = (opts.auth or "").partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = False
        login = None
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode(errors="replace")
            ok = (login == user
                  and auth_data.password.decode(errors="replace")
                  == password)
        server.auth_user = login if ok else None
        recorder.event(event="auth", session=server.session_no,
                       mechanism=mechanism, user=login, success=ok)
        return AuthResult(success=ok, handled=False)

    return authenticator


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--record")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-tls", action="store_true")
    p.add_argument("--tls-garbage", action="store_true")
    p.add_argument("--starttls-reply")
    p.add_argument("--auth")
    p.add_argument("--auth-optional", action="store_true")
    p.add_argument("--rcpt-reply", action="append")
    p.add_argument("--data-reply", action="append")
    p.add_argument("--mail-reply", action="append")
    p.add_argument("--greeting")
    p.add_argument("--421-after", dest="close_after", type=int)
    p.add_argument("--drop-after", type=int)
    p.add_argument("--stall", action="append")
    p.add_argument("--drip", type=float)
    p.add_argument("--long-reply", action="append")
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--no-dsn", action="store_true")
    p.add_argument("--no-enhanced", action="store_true")
    return p.parse_args(argv)


def main(argv):
    opts = parse_args(argv)
    recorder = Recorder(opts.record)
    handler = Handler(opts, recorder)
    tls_context = None
    if opts.tls:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(opts.tls[0], opts.tls[1])
    kw = dict(hostname="peer.test", ident="chancery-test-peer",
              tls_context=tls_context, require_starttls=opts.require_tls,
              data_size_limit=None, timeout=600)
    if opts.auth:
        kw.update(auth_required=not opts.auth_optional,
                  auth_require_tls=False,
                  authenticator=make_authenticator(opts, recorder))

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return PeerSMTP(handler, opts, recorder, loop=loop, **kw)

    server = loop.run_until_complete(
        loop.create_server(factory, host=opts.host, port=opts.port))
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    main(sys.argv[1:])
