"""Plumbing for the console's security and browser tests
(test_web_security.py, test_web_browser.py): chancery-web as a real
process on a loopback port over a Home's database, its output in a file
(a long browser run logs every request: a pipe nobody reads would fill
and stall the server), accounts made with `chancery user add`, a small
HTTP client (http.client) that keeps its session cookie, drops it when
the server expires it, and picks up the CSRF token from the pages it is
served, and the route table read from web/routes.c.

web_client.py is the handlers' tests' client (test_web.py,
test_web_pages.py), which sends the token by hand.
"""
import html
import http.client
import os
import re
import subprocess
import time
import urllib.parse
import uuid

from harness import BIN_DIR, SOURCE_DIR


def web_binary():
    """The built chancery-web: beside the other programs, or in web/ of
    the build tree (where web/CMakeLists.txt puts it); None if absent."""
    for path in (os.path.join(BIN_DIR, "chancery-web"),
                 os.path.join(BIN_DIR, "web", "chancery-web")):
        if os.access(path, os.X_OK):
            return path
    return None


def add_user(home, name, role, password=None):
    """An account made the way an administrator makes one; returns its
    password (a fixed strong one unless given)."""
    password = password or "correct horse %s battery" % role
    path = os.path.join(home.dir, "pw-%s" % uuid.uuid4().hex)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
              "w") as f:
        f.write(password + "\n")
    try:
        home.ok("user", "add", name, "--role", role, "--password-file",
                path)
    finally:
        os.unlink(path)
    return password


LISTENING = re.compile(r"listening on https?://127\.0\.0\.1:(\d+)/")


class WebServer:
    """chancery-web --config HOME.conf --listen 127.0.0.1:0; output in
    HOME/web-N.log. insecure: --insecure-cookie (plain-HTTP tests need it
    for the browser to send the cookie back; the Secure flag is tested
    with it off)."""

    count = 0

    def __init__(self, home, insecure=True, extra=(), env=None):
        self.home = home
        WebServer.count += 1
        self.log_path = os.path.join(home.dir, "web-%d.log" %
                                     WebServer.count)
        # Port 0: the server takes a free one and prints it.
        argv = [web_binary()] + [
            "--config", home.conf, "--listen", "127.0.0.1:0"]
        if insecure:
            argv.append("--insecure-cookie")
        argv += list(extra)
        full_env = dict(os.environ)
        full_env.pop("CHANCERY_CONFIG", None)
        full_env.pop("NOTIFY_SOCKET", None)
        if env:
            full_env.update(env)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         env=full_env)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            m = LISTENING.search(self.log())
            if m:
                self.port = int(m.group(1))
                self.base = "http://127.0.0.1:%d" % self.port
                return
            if self.proc.poll() is not None:
                raise RuntimeError("chancery-web exited %d: %s" %
                                   (self.proc.returncode, self.log()))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("chancery-web did not listen: %s" % self.log())

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM; returns the exit status (0 for a clean stop)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def verdict(self):
        """None if the server stopped cleanly (status 0, no sanitizer
        report in its log: under ASan a leak or an error shows here),
        else what was wrong."""
        rc = self.stop()
        log = self.log()
        if rc != 0 or "Sanitizer" in log or "runtime error:" in log:
            return "chancery-web exited %s:\n%s" % (rc, log[-4000:])
        return None


class Response:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.headers
        self.body = body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name)

    def cookies(self):
        return self.headers.get_all("Set-Cookie") or []

    def location(self):
        return self.headers.get("Location")

    def __repr__(self):
        return "HTTP %d %s\n%s" % (self.status, dict(self.headers),
                                   self.body[:1500])


CSRF_RE = re.compile(r'<input[^>]*name="csrf"[^>]*value="([^"]*)"|'
                     r'<input[^>]*value="([^"]*)"[^>]*name="csrf"')
CSRF_META_RE = re.compile(r'<meta[^>]*name="csrf"[^>]*content="([^"]*)"')


class Client:
    """One browser's worth of HTTP: a cookie jar of one session cookie
    and the last CSRF token seen in a page."""

    def __init__(self, server):
        self.port = server.port
        self.cookies = {}
        self.csrf = None

    def request(self, method, path, body=None, headers=None):
        h = {"Host": "127.0.0.1:%d" % self.port}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in
                                    self.cookies.items())
        h.update(headers or {})
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            con.request(method, path, body=body, headers=h)
            r = con.getresponse()
            resp = Response(r, r.read())
        finally:
            con.close()
        for c in resp.cookies():
            nv = c.split(";", 1)[0]
            name, _, value = nv.partition("=")
            if value == "" or "max-age=0" in c.lower() or \
                    "expires=thu, 01 jan 1970" in c.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        m = CSRF_RE.search(resp.body) or CSRF_META_RE.search(resp.body)
        if m:
            self.csrf = html.unescape(m.group(1) or m.group(2) or "")
        return resp

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields=(), csrf=True):
        """A urlencoded form; csrf: True sends the last token seen, a
        string sends that, None sends none."""
        pairs = list(fields.items() if isinstance(fields, dict) else fields)
        if csrf is True:
            pairs.append(("csrf", self.csrf or ""))
        elif csrf is not None:
            pairs.append(("csrf", csrf))
        body = urllib.parse.urlencode(pairs)
        return self.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path, fields=(), files=(), csrf=True):
        """files: [(field, filename, bytes)]."""
        pairs = list(fields.items() if isinstance(fields, dict) else fields)
        if csrf is True:
            pairs.append(("csrf", self.csrf or ""))
        elif csrf is not None:
            pairs.append(("csrf", csrf))
        boundary = "----chancery" + uuid.uuid4().hex
        parts = []
        for name, value in pairs:
            parts.append(("--%s\r\nContent-Disposition: form-data; "
                          "name=\"%s\"\r\n\r\n%s\r\n" %
                          (boundary, name, value)).encode())
        for name, filename, data in files:
            parts.append(("--%s\r\nContent-Disposition: form-data; "
                          "name=\"%s\"; filename=\"%s\"\r\nContent-Type: "
                          "text/csv\r\n\r\n" % (boundary, name, filename))
                         .encode() + data + b"\r\n")
        parts.append(("--%s--\r\n" % boundary).encode())
        return self.request("POST", path, body=b"".join(parts), headers={
            "Content-Type": "multipart/form-data; boundary=" + boundary})

    def login(self, name, password):
        """GET /login (a token if the form has one), POST it; returns the
        response (303 on success)."""
        self.get("/login")
        return self.post("/login", {"name": name, "password": password},
                         csrf=True if self.csrf else None)


def routes():
    """The route table of web/routes.c: [(method, path, prefix, need,
    public)], read from the source so that a route added later is
    covered without editing the tests."""
    path = os.path.join(SOURCE_DIR, "web", "routes.c")
    with open(path) as f:
        text = f.read()
    out = []
    for m in re.finditer(r'\{\s*"(GET|POST)"\s*,\s*"([^"]*)"\s*,([^}]*)\}',
                         text):
        rest = m.group(3)
        fields = [x.strip() for x in rest.split(",")]
        prefix = "true" in fields[0:1]
        need = next((f for f in fields if f.startswith("USER_")), None)
        public = any(f == "true" for f in fields[2:3]) or \
            ".public_route = true" in rest
        out.append((m.group(1), m.group(2), prefix, need, public))
    return out
