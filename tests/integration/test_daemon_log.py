"""Where a detached chanceryd logs (issue 23): with log.target = "stderr"
it switches to syslog and says so in one line on the terminal; with no
syslog to take the lines it refuses to start, in one line, exit 78,
rather than log into nothing. /dev/log is faked (or removed) in a private
mount namespace, so the test does not depend on the host's syslog."""
import os
import signal
import time
import unittest

from harness import TestCase, can_fake_syslog, with_syslog


@unittest.skipUnless(can_fake_syslog(), "needs root and unshare -m")
class TestDetachedLog(TestCase):
    def setUp(self):
        super().setUp()
        self.pid_file = os.path.join(self.home.dir, "chanceryd.pid")
        self.log = os.path.join(self.home.dir, "syslog")
        self.home.write_conf('daemon = { pid_file = "%s"; };\n'
                             % self.pid_file)

    def wrap(self, present):
        return with_syslog(os.path.join(self.home.dir, "dev"), self.log,
                           present)

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for(self, predicate, what):
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for %s" % what)

    def test_no_syslog_refuses_in_one_line(self):
        r = self.home.run(prog="chanceryd", wrap=self.wrap(False))
        self.assertEqual(r.rc, 78, r)
        self.assertEqual(
            r.err, 'chanceryd: log.target is "stderr" and chanceryd '
            'detaches, but no syslog listens on /dev/log: the log would '
            'be lost; run chanceryd --foreground under systemd or a '
            'supervisor, or start a syslog daemon\n')
        self.assertFalse(os.path.exists(self.pid_file))
        self.assertFalse(os.path.exists(self.home.db + ".lock"))
        # the foreground daemon logs to stderr as before
        r = self.home.run("--once", prog="chanceryd", wrap=self.wrap(False))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("info: started: database=", r.err)

    def test_syslog_target_without_syslog_refuses(self):
        self.home.write_conf('log = { target = "syslog"; };\n')
        r = self.home.run("--once", prog="chanceryd", wrap=self.wrap(False))
        self.assertEqual(r.rc, 78, r)
        self.assertIn('log.target is "syslog", but no syslog listens on '
                      '/dev/log', r.err)

    def test_detached_switches_to_syslog_and_says_so(self):
        r = self.home.run(prog="chanceryd", wrap=self.wrap(True))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.err, 'chanceryd: detached, standard error leads '
                         'nowhere: logging to syslog (facility mail) '
                         'instead of log.target "stderr"\n')
        with open(self.pid_file) as f:
            pid = int(f.read())
        self.wait_for(lambda: "info: started: database=" in self.read_log(),
                      "the start in the syslog")
        self.assertIn("chanceryd[%d]: info: started" % pid, self.read_log())
        os.kill(pid, signal.SIGTERM)
        self.wait_for(lambda: not os.path.exists(self.pid_file),
                      "the pid file to go")
        self.wait_for(lambda: "info: stopped" in self.read_log(),
                      "the stop in the syslog")
