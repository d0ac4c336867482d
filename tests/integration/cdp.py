"""A small driver for Debian's Chromium over the DevTools protocol, for the
console's browser tests (test_web_browser.py) and its own test
(test_cdp.py).

It starts /usr/bin/chromium headless on a temporary profile with
--remote-debugging-port=0, reads the port Chromium chose from the
profile's DevToolsActivePort, and talks to it over one websocket
(python3-websocket) with a flattened session on one page. It keeps what a
test must fail on: console errors, uncaught exceptions, Content Security
Policy violations and JavaScript dialogs (alert, confirm, prompt), which
it dismisses so that the page never hangs.

Every wait has a deadline; close() ends the whole process group Chromium
started (its zygote, renderers, GPU and utility processes) and removes
the profile, so a test leaves nothing running.

    with Browser() as b:
        b.goto("http://127.0.0.1:8025/login")
        b.fill("#name", "ada")
        b.click("button[type=submit]", navigate=True)
        b.screenshot("/tmp/x.png")
        assert not b.csp_violations()
"""
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import websocket  # Debian's python3-websocket

CHROMIUM = "/usr/bin/chromium"


def available():
    """Whether a Chromium the driver can start is installed."""
    return os.access(CHROMIUM, os.X_OK)


class CDPError(Exception):
    pass


class Browser:
    """One headless Chromium with one page. width/height: the viewport in
    CSS pixels (screenshots are this wide); timeout: seconds for any one
    command or wait."""

    def __init__(self, width=1000, height=760, timeout=20):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="chancery-chromium-")
        self.log_path = os.path.join(self.profile, "chromium.log")
        self.proc = None
        self.ws = None
        self.session = None
        self.ids = itertools.count(1)
        self.events = []       # every event, in order: (method, params)
        self.loads = 0         # Page.loadEventFired count
        self.dialogs = []      # unexpected dialogs: (type, message)
        self.confirms = []     # confirm() dialogs a click expected
        self._confirm = False  # accept the next confirm()
        self.console = []      # console errors and uncaught exceptions
        self.csp = []          # Content Security Policy violations
        self.documents = []    # (url, status) of each document response
        try:
            self._start(width, height)
        except BaseException:
            self.close()
            raise

    # --- life -----------------------------------------------------------

    def _start(self, width, height):
        log = open(self.log_path, "w")
        try:
            # A session of its own: close() signals the whole group.
            self.proc = subprocess.Popen(
                [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                 "--remote-debugging-port=0",
                 "--user-data-dir=" + self.profile,
                 "--no-first-run", "--no-default-browser-check",
                 "--disable-extensions", "--disable-sync",
                 "--disable-background-networking",
                 "--disable-component-update", "--mute-audio",
                 "--password-store=basic", "--use-mock-keychain",
                 "--hide-scrollbars", "--disable-dev-shm-usage",
                 "--window-size=%d,%d" % (width, height), "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        finally:
            log.close()
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        end = time.monotonic() + self.timeout
        lines = []
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise CDPError("chromium exited with %d: %s" %
                               (self.proc.returncode, self._log_tail()))
            try:
                with open(port_file) as f:
                    lines = f.read().split("\n")
            except FileNotFoundError:
                lines = []
            if len(lines) >= 2 and lines[0].strip().isdigit() and \
                    lines[1].startswith("/devtools/"):
                break
            time.sleep(0.05)
        else:
            raise CDPError("chromium wrote no DevToolsActivePort in %ds: %s"
                           % (self.timeout, self._log_tail()))
        url = "ws://127.0.0.1:%s%s" % (lines[0].strip(), lines[1].strip())
        self.ws = websocket.create_connection(url, timeout=self.timeout,
                                              suppress_origin=True)
        target = self.call("Target.createTarget", url="about:blank",
                           session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "Audits"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width,
                  height=height, deviceScaleFactor=1, mobile=False)

    def _log_tail(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def close(self):
        """Ends Chromium and every process it started; idempotent."""
        if self.ws is not None:
            try:
                self.ws.settimeout(2)
                self.ws.send(json.dumps({"id": next(self.ids),
                                         "method": "Browser.close"}))
            except Exception:
                pass
            try:
                self.ws.close()
            except Exception:
                pass
            self.ws = None
        if self.proc is not None:
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                pass
            # The group outlives its leader: signal it whatever happened.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- protocol -------------------------------------------------------

    def call(self, method, session=True, timeout=None, **params):
        """Sends one command and returns its result; events that arrive
        meanwhile are recorded. A protocol error raises CDPError."""
        if self.ws is None:
            raise CDPError("browser is closed")
        mid = next(self.ids)
        msg = {"id": mid, "method": method, "params": params}
        if session and self.session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._recv(end, "reply to " + method)
            if m.get("id") == mid:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"]))
                return m.get("result", {})

    def _recv(self, end, what):
        left = end - time.monotonic()
        if left <= 0:
            raise CDPError("timed out waiting for " + what)
        self.ws.settimeout(left)
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            raise CDPError("timed out waiting for " + what) from None
        m = json.loads(raw)
        if "method" in m:
            self._event(m["method"], m.get("params", {}))
        return m

    def _event(self, method, p):
        self.events.append((method, p))
        if method == "Page.loadEventFired":
            self.loads += 1
        elif method == "Page.javascriptDialogOpening":
            # Answered at once, or the page would wait for ever: a
            # confirm() a click asked for is accepted, any other dialog
            # is dismissed and recorded as a problem.
            accept = self._confirm and p.get("type") == "confirm"
            if accept:
                self.confirms.append(p.get("message", ""))
                self._confirm = False
            else:
                self.dialogs.append("%s: %s" % (p.get("type"),
                                                p.get("message", "")))
            mid = next(self.ids)
            self.ws.send(json.dumps({
                "id": mid, "method": "Page.handleJavaScriptDialog",
                "params": {"accept": accept}, "sessionId": self.session}))
        elif method == "Runtime.consoleAPICalled":
            if p.get("type") in ("error", "assert"):
                self.console.append(" ".join(
                    str(a.get("value", a.get("description", "")))
                    for a in p.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.console.append("exception: %s" % (
                d.get("exception", {}).get("description") or d.get("text")))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            text = e.get("text", "")
            if "Content Security Policy" in text or \
                    "Content-Security-Policy" in text:
                self.csp.append(text)
            elif e.get("level") == "error" and \
                    not text.startswith("Failed to load resource"):
                self.console.append(text)
        elif method == "Audits.issueAdded":
            issue = p.get("issue", {})
            if issue.get("code") == "ContentSecurityPolicyIssue":
                det = issue.get("details", {}).get(
                    "contentSecurityPolicyIssueDetails", {})
                self.csp.append("CSP issue: %s %s" % (
                    det.get("violatedDirective", "?"),
                    det.get("blockedURL", "")))
        elif method == "Network.responseReceived":
            if p.get("type") == "Document":
                r = p.get("response", {})
                self.documents.append((r.get("url"), r.get("status")))

    def pump(self, seconds):
        """Reads events for a while (lets late events arrive)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._recv(end, "events")
            except CDPError:
                return

    def wait_for(self, predicate, what, timeout=None):
        """Reads events until predicate() holds."""
        end = time.monotonic() + (timeout or self.timeout)
        while not predicate():
            self._recv(end, what)

    # --- pages ----------------------------------------------------------

    def goto(self, url):
        """Navigates and waits for the load event; returns the HTTP status
        of the document (None for about: and data: URLs)."""
        loads, docs = self.loads, len(self.documents)
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise CDPError("navigate %s: %s" % (url, r["errorText"]))
        self.wait_for(lambda: self.loads > loads, "load of " + url)
        return self.documents[-1][1] if len(self.documents) > docs else None

    def eval(self, expression):
        """The value of a JavaScript expression in the page (awaited if a
        promise); a thrown exception raises CDPError. DevTools' evaluate
        runs outside the page's CSP, as the console does."""
        r = self.call("Runtime.evaluate", expression=expression,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CDPError("eval %r: %s" % (expression[:80], d.get(
                "exception", {}).get("description") or d.get("text")))
        return r.get("result", {}).get("value")

    def _el(self, selector):
        return "document.querySelector(%s)" % json.dumps(selector)

    def exists(self, selector):
        return bool(self.eval("!!" + self._el(selector)))

    def count(self, selector):
        return self.eval("document.querySelectorAll(%s).length" %
                         json.dumps(selector))

    def require(self, selector):
        if not self.exists(selector):
            raise CDPError("no element %s on %s" % (selector, self.url()))

    def reveal(self, selector):
        """Opens every <details> around the element, as a user clicking
        their summaries would, so that it can be seen and typed into."""
        self.require(selector)
        self.eval("(e => { for (let d = e.closest('details'); d; "
                  "d = d.parentElement && d.parentElement.closest("
                  "'details')) d.open = true; })(%s)" % self._el(selector))

    def url(self):
        return self.eval("location.href")

    def title(self):
        return self.eval("document.title")

    def text(self, selector="body"):
        """The rendered text (innerText) of the first match."""
        self.require(selector)
        return self.eval(self._el(selector) + ".innerText")

    def texts(self, selector):
        return self.eval("Array.from(document.querySelectorAll(%s), "
                         "e => e.innerText)" % json.dumps(selector))

    def html(self):
        return self.eval("document.documentElement.outerHTML")

    def attr(self, selector, name):
        self.require(selector)
        return self.eval("%s.getAttribute(%s)" % (self._el(selector),
                                                  json.dumps(name)))

    def value(self, selector):
        self.require(selector)
        return self.eval(self._el(selector) + ".value")

    def fill(self, selector, value):
        """Focuses the field, clears it and types value as text input
        (Input.insertText: the page sees input events as from a user)."""
        self.reveal(selector)
        self.eval("(e => { e.scrollIntoView({block: 'center'}); e.focus(); "
                  "if (e.select) e.select(); })(%s)" % self._el(selector))
        self.eval("(e => { e.value = ''; })(%s)" % self._el(selector))
        if value:
            self.call("Input.insertText", text=value)
        got = self.value(selector)
        if got != value:
            raise CDPError("fill %s: holds %r, not %r" % (selector, got,
                                                          value))

    def select(self, selector, value):
        """Chooses an option of a <select> by its value."""
        self.reveal(selector)
        ok = self.eval(
            "(e => { const o = Array.from(e.options).find(o => o.value === "
            "%s); if (!o) return false; e.value = o.value; e.dispatchEvent("
            "new Event('change', {bubbles: true})); return true; })(%s)" %
            (json.dumps(value), self._el(selector)))
        if not ok:
            raise CDPError("select %s: no option %r" % (selector, value))

    def click(self, selector, navigate=False, confirm=False):
        """A real mouse click at the middle of the element. navigate: wait
        for the page it leads to (a link or a form's submit button); the
        HTTP status of that document is returned. confirm: the click asks
        for a confirm() (a data-confirm button), which is accepted."""
        self.reveal(selector)
        box = self.eval(
            "(e => { e.scrollIntoView({block: 'center'}); "
            "const r = e.getBoundingClientRect(); "
            "return [r.left + r.width / 2, r.top + r.height / 2, "
            "r.width, r.height]; })(%s)" % self._el(selector))
        x, y, w, h = box
        if w <= 0 or h <= 0:
            raise CDPError("click %s: not visible" % selector)
        loads, docs = self.loads, len(self.documents)
        self._confirm = confirm
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y,
                      button="left" if kind != "mouseMoved" else "none",
                      clickCount=1 if kind != "mouseMoved" else 0)
        if navigate:
            self.wait_for(lambda: self.loads > loads,
                          "the page after clicking " + selector)
            return (self.documents[-1][1] if len(self.documents) > docs
                    else None)
        return None

    def submit(self, selector="form"):
        """Submits a form as its first submit button would, and waits for
        the next page; returns its HTTP status."""
        self.require(selector)
        loads, docs = self.loads, len(self.documents)
        self.eval("(f => f.requestSubmit())(%s)" % self._el(selector))
        self.wait_for(lambda: self.loads > loads, "the page after submit")
        return self.documents[-1][1] if len(self.documents) > docs else None

    def upload(self, selector, *paths):
        """Puts files into an <input type=file>."""
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root,
                         selector=selector)["nodeId"]
        if not node:
            raise CDPError("no element %s on %s" % (selector, self.url()))
        self.call("DOM.setFileInputFiles", nodeId=node,
                  files=[os.path.abspath(p) for p in paths])
        n = self.eval(self._el(selector) + ".files.length")
        if n != len(paths):
            raise CDPError("upload %s: %r files, not %d" % (selector, n,
                                                            len(paths)))

    def screenshot(self, path, full_page=True, max_height=4000):
        """A PNG of the page (the whole document up to max_height CSS
        pixels when full_page) written to path; returns path."""
        params = {"format": "png"}
        if full_page:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            vp = m.get("cssLayoutViewport") or m["layoutViewport"]
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0,
                              "width": vp["clientWidth"],
                              "height": min(max(size["height"],
                                                vp["clientHeight"]),
                                            max_height),
                              "scale": 1}
        data = self.call("Page.captureScreenshot", timeout=60,
                         **params)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    # --- verdicts -------------------------------------------------------

    def csp_violations(self):
        """Every CSP violation so far (after letting late reports in)."""
        self.pump(0.1)
        return list(self.csp)

    def problems(self):
        """CSP violations, console errors, exceptions and dialogs: what a
        console page must never produce."""
        self.pump(0.1)
        return (["csp: " + c for c in self.csp] +
                ["console: " + c for c in self.console] +
                ["dialog: " + d for d in self.dialogs])
