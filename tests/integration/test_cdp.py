"""The DevTools driver (cdp.py) against a small local site: navigation and
status, typing, clicking, a multipart upload, screenshots, and the
verdicts the console's browser tests rely on (a CSP violation, a dialog,
a console error are each caught), and no process left behind.

Skipped only when Chromium is not installed (scripts/deps.sh installs it).
"""
import http.server
import os
import struct
import tempfile
import threading
import time
import unittest

import cdp

CSP = "default-src 'self'; script-src 'self'; style-src 'self'"

PAGES = {
    "/": ("<!doctype html><html><head><title>Home</title>"
          "<script src=\"/app.js\"></script></head><body><h1>Home</h1>"
          "<form method=\"post\" action=\"/echo\" enctype=\"multipart/form-"
          "data\"><input id=\"who\" name=\"who\">"
          "<input type=\"file\" id=\"sheet\" name=\"sheet\">"
          "<button type=\"submit\" id=\"go\">Send</button></form>"
          "<a id=\"next\" href=\"/second\">second</a></body></html>"),
    "/second": ("<!doctype html><title>Second</title><body><p id=\"p\">"
                "the second page</p>"),
    # Inline script and inline style under a CSP that forbids both.
    "/bad": ("<!doctype html><title>Bad</title><body style=\"color:red\">"
             "<script>alert('inline ran')</script><p>bad</p>"),
    "/app.js": "document.addEventListener('DOMContentLoaded', () => "
               "document.body.dataset.js = 'ran');",
}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="text/html; charset=utf-8",
             csp=True):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if csp:
            self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/alert":  # no CSP: the inline script runs
            self.send(200, "<!doctype html><body><script>alert('hi')"
                      "</script><p>after</p>", csp=False)
        elif self.path == "/confirm":
            self.send(200, "<!doctype html><body><button id=b>b</button>"
                      "<p id=r></p><script>document.getElementById('b')."
                      "onclick = () => { document.getElementById('r')."
                      "textContent = confirm('sure?') ? 'yes' : 'no'; };"
                      "</script>", csp=False)
        elif self.path == "/error":
            self.send(200, "<!doctype html><body><script>console.error("
                      "'broken'); nosuch();</script>", csp=False)
        elif self.path in PAGES:
            ctype = ("text/javascript" if self.path.endswith(".js")
                     else "text/html; charset=utf-8")
            self.send(200, PAGES[self.path], ctype)
        else:
            self.send(404, "<!doctype html><title>Not found</title>nothing")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode("utf-8", "replace")
        esc = (raw.replace("&", "&amp;").replace("<", "&lt;")
               .replace(">", "&gt;"))
        self.send(200, "<!doctype html><title>Echo</title><pre id=\"raw\">"
                  "%s</pre>" % esc)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", head[:8]
    return struct.unpack(">II", head[16:24])


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@unittest.skipUnless(cdp.available(), "chromium is not installed "
                     "(scripts/deps.sh installs it)")
class DriverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever,
                                      daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.b = cdp.Browser()
        self.pgid = self.b.proc.pid
        self.tmp = tempfile.mkdtemp(prefix="chancery-cdp-")

    def tearDown(self):
        self.b.close()
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_navigate_type_upload_submit_and_screenshot(self):
        self.assertEqual(self.b.goto(self.base + "/"), 200)
        self.assertEqual(self.b.title(), "Home")
        # The page's own script (allowed by the CSP) ran.
        self.assertEqual(self.b.attr("body", "data-js"), "ran")
        self.b.fill("#who", "Ada <Lovelace> & co")
        sheet = os.path.join(self.tmp, "sheet.csv")
        with open(sheet, "w") as f:
            f.write("body,email\nUnited Nations,un@example.org\n")
        self.b.upload("#sheet", sheet)
        self.assertEqual(self.b.click("#go", navigate=True), 200)
        raw = self.b.text("#raw")
        self.assertIn("Ada <Lovelace> & co", raw)
        self.assertIn('filename="sheet.csv"', raw)
        self.assertIn("United Nations,un@example.org", raw)
        shot = self.b.screenshot(os.path.join(self.tmp, "s", "echo.png"))
        w, h = png_size(shot)
        self.assertEqual(w, 1000)
        self.assertGreater(h, 100)
        self.assertEqual(self.b.problems(), [])

    def test_link_click_and_status(self):
        self.b.goto(self.base + "/")
        self.assertEqual(self.b.click("#next", navigate=True), 200)
        self.assertEqual(self.b.text("#p"), "the second page")
        self.assertEqual(self.b.goto(self.base + "/nothing"), 404)
        with self.assertRaises(cdp.CDPError):
            self.b.click("#absent")

    def test_csp_violation_is_caught(self):
        self.b.goto(self.base + "/bad")
        self.b.pump(0.3)
        v = self.b.csp_violations()
        self.assertTrue(any("script" in x for x in v), v)
        self.assertTrue(any("style" in x for x in v), v)
        self.assertEqual(self.b.dialogs, [])  # blocked, not run

    def test_dialog_is_caught_and_dismissed(self):
        self.b.goto(self.base + "/alert")
        self.assertEqual(self.b.dialogs, ["alert: hi"])
        # Dismissed: the page went on.
        self.assertEqual(self.b.text("p"), "after")

    def test_confirm_asked_for_is_accepted(self):
        self.b.goto(self.base + "/confirm")
        self.b.click("#b", confirm=True)
        self.b.pump(0.2)
        self.assertEqual(self.b.confirms, ["sure?"])
        self.assertEqual(self.b.text("#r"), "yes")
        self.assertEqual(self.b.dialogs, [])
        # Unasked, the same confirm is a problem (and dismissed).
        self.b.click("#b")
        self.b.pump(0.2)
        self.assertEqual(self.b.dialogs, ["confirm: sure?"])
        self.assertEqual(self.b.text("#r"), "no")

    def test_console_error_and_exception_are_caught(self):
        self.b.goto(self.base + "/error")
        self.b.pump(0.3)
        p = self.b.problems()
        self.assertTrue(any("broken" in x for x in p), p)
        self.assertTrue(any("nosuch" in x for x in p), p)

    def test_close_leaves_no_process(self):
        self.b.goto(self.base + "/")
        profile = self.b.profile
        self.assertTrue(group_alive(self.pgid))
        self.b.close()
        end = time.monotonic() + 5
        while group_alive(self.pgid) and time.monotonic() < end:
            time.sleep(0.05)
        self.assertFalse(group_alive(self.pgid))
        self.assertFalse(os.path.exists(profile))
        self.b.close()  # idempotent


if __name__ == "__main__":
    unittest.main()
