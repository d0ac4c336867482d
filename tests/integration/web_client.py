"""chancery-web under test: the server as a subprocess on a free loopback
port (--listen 127.0.0.1:0, the address read from its first line), and a
client on http.client that keeps the session cookie by hand and follows
no redirect, so that a test sees every status and header.
"""
import html
import http.client
import os
import re
import subprocess
import urllib.parse

import harness


class Server:
    def __init__(self, home, *args, insecure=True):
        argv = home.command("chancery-web") + ["--config", home.conf,
                                               "--listen", "127.0.0.1:0"]
        if insecure:
            argv.append("--insecure-cookie")
        argv += list(args)
        env = dict(os.environ)
        env.pop("CHANCERY_CONFIG", None)
        # uploads waiting for their confirmation stay in the test's home
        env["TMPDIR"] = home.dir
        self.tmpdir = home.dir
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=env)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("chancery-web did not start: %r %s" %
                               (line, self.proc.stderr.read()))
        self.port = int(m.group(1))
        self.log = None

    def stop(self):
        """Stops the server (SIGTERM) and returns its exit status; its
        log is then in self.log."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


class Response:
    def __init__(self, r):
        self.status = r.status
        self.headers = r.headers
        self.body = r.read().decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name)

    def error(self):
        """The text of the page's error box (unescaped), or None."""
        m = re.search(r'id="error"[^>]*>(.*?)</p>', self.body, re.S)
        return html.unescape(m.group(1)) if m else None

    def csrf(self):
        m = re.search(r'name="csrf" value="([^"]+)"', self.body)
        return m.group(1) if m else None


class Client:
    def __init__(self, server, origin=None):
        self.port = server.port
        self.cookie = None
        self.origin = origin

    def request(self, method, path, body=None, headers=None):
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = "chancery_session=" + self.cookie
        if self.origin:
            h["Origin"] = self.origin
        try:
            con.request(method, path, body=body, headers=h)
            return Response(con.getresponse())
        finally:
            con.close()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        """fields: a dict or a list of pairs, form-encoded."""
        body = urllib.parse.urlencode(fields)
        return self.request("POST", path, body, {
            "Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path, fields, files):
        """files: {name: (filename, bytes)}."""
        boundary = "----chanceryTest7MA4YWxkTrZu0gW"
        parts = []
        for k, v in (fields.items() if isinstance(fields, dict)
                     else fields):
            parts.append(("--%s\r\nContent-Disposition: form-data; "
                          "name=\"%s\"\r\n\r\n%s\r\n" %
                          (boundary, k, v)).encode())
        for k, (fn, data) in files.items():
            parts.append(("--%s\r\nContent-Disposition: form-data; "
                          "name=\"%s\"; filename=\"%s\"\r\nContent-Type: "
                          "text/csv\r\n\r\n" % (boundary, k, fn)).encode()
                         + data + b"\r\n")
        parts.append(("--%s--\r\n" % boundary).encode())
        return self.request("POST", path, b"".join(parts), {
            "Content-Type": "multipart/form-data; boundary=" + boundary})

    def login(self, name, password):
        r = self.post("/login", {"name": name, "password": password})
        if r.status == 303:
            m = re.match(r"chancery_session=([^;]*)",
                         r.header("Set-Cookie") or "")
            self.cookie = m.group(1) if m else None
        return r


def add_user(home, name, role, password):
    home.ok("user", "add", name, "--role", role, "--password-file", "-",
            stdin=password + "\n")


def cli_error(result):
    """The CLI's one-line message without its "chancery: " prefix."""
    line = result.err.strip()
    return line[len("chancery: "):] if line.startswith("chancery: ") \
        else line


__all__ = ["Server", "Client", "Response", "add_user", "cli_error",
           "harness"]
