"""The manual pages say what the programs do (issue 23): no scdoc markup
leaks into the rendered text (chancery(1) showed `--send MM-DD[T_HH:MM_]`),
and the exit statuses the pages give for a case are the ones the programs
return."""
import os
import re
import shutil
import subprocess
import unittest

from harness import BIN_DIR, TestCase

PAGES = ["chancery.1", "chanceryd.8", "chancery.conf.5", "chancery-web.8"]
# An underscore or asterisk scdoc should have turned into formatting: at
# either end of an upper-case placeholder ("MM_]", "[_HH") or wrapping a
# word ("*--json*"). snake_case names (log_target) and CAPS_NAMES stay.
LEAK = re.compile(r"[A-Z]_(?![A-Za-z0-9_])|(?<![A-Za-z0-9_$])_[A-Z]|"
                  r"(?<![\w*^\\])\*[\w-]+\*(?!\w)")


def rendered(page):
    path = os.path.join(BIN_DIR, "man", page)
    proc = subprocess.run(["mandoc", "-T", "utf8", path],
                          capture_output=True, text=True, check=True)
    return re.sub(r".\x08", "", proc.stdout)


@unittest.skipUnless(shutil.which("mandoc") and
                     os.path.exists(os.path.join(BIN_DIR, "man",
                                                 "chancery.1")),
                     "needs mandoc and the built pages")
class TestManualPages(TestCase):
    init = False

    def test_no_markup_leaks(self):
        leaks = []
        for page in PAGES:
            for n, line in enumerate(rendered(page).splitlines(), 1):
                if LEAK.search(line):
                    leaks.append("%s:%d: %s" % (page, n, line.strip()))
        self.assertEqual(leaks, [])

    def test_send_is_rendered_as_meant(self):
        text = rendered("chancery.1")
        self.assertIn("--send MM-DD[THH:MM]", text)

    def documented_status(self, page, pattern):
        text = re.sub(r"\s+", " ", rendered(page))
        m = re.search(pattern, text)
        self.assertIsNotNone(m, pattern)
        return int(m.group(1))

    def test_password_file_status_is_the_real_one(self):
        doc = self.documented_status(
            "chancery.conf.5", r"password_file.*?refused with status (\d+)")
        pw = os.path.join(self.home.dir, "password")
        with open(pw, "w") as f:
            f.write("secret\n")
        os.chmod(pw, 0o644)
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'user = "u"; password_file = "%s"; }; };\n' % pw)
        r = self.home.run("config", "check")
        self.assertEqual(r.rc, doc, r)
        self.assertEqual(r.rc, 78, r)
        self.assertIn("the password file is readable by others", r.err)
        self.assertNotIn("secret", r.out + r.err)

    def test_chanceryd_without_syslog_status_is_the_real_one(self):
        doc = self.documented_status(
            "chanceryd.8", r"refuses to start with one line and exit "
            r"status (\d+)")
        self.assertEqual(doc, 78)
