"""Read-only commands on an archive: a database on a read-only file system
(a read-only bind mount in a private mount namespace, which stops root
too) is verified, listed and shown without a write; a database older than
the program gets one clear line there, not a crash. Without root and
unshare(1) the same runs on a 0444 file in a 0555 directory."""
import hashlib
import json
import os
import shutil
import subprocess
import unittest

from harness import BIN_DIR, TestCase
from test_status import con_exec, populate

CAN_MOUNT = (os.geteuid() == 0 and shutil.which("unshare") is not None and
             subprocess.run(["unshare", "-m", "true"],
                            capture_output=True).returncode == 0)

READ_COMMANDS = [
    ("audit", "verify"),
    ("audit", "anchor"),
    ("audit", "campaign", "now"),
    ("audit", "body", "UNSG"),
    ("audit", "matrix"),
    ("body", "list"),
    ("body", "show", "UNSG"),
    ("body", "history", "UNSG"),
    ("contact", "list", "UNSG"),
    ("list", "show", "all"),
    ("list", "ls"),
    ("template", "list"),
    ("template", "show", "stmt"),
    ("campaign", "ls"),
    ("campaign", "status", "now"),
    ("find", "UNSG"),
    ("bounce", "list"),
    ("inbox", "list"),
    ("inbox", "quarantine"),
    ("registry", "export-csv"),
    ("series", "ls"),
    ("status",),
    ("config", "show"),
]


def digest(directory):
    """Name, size and hash of every file in directory."""
    out = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


class ReadOnlyCase(TestCase):
    def run_ro(self, *args):
        """chancery args with the home directory read-only."""
        h = self.home
        cmd = h.command("chancery") + ["--config", h.conf] + list(args)
        env = dict(os.environ, NO_COLOR="1")
        env.pop("CHANCERY_CONFIG", None)
        if CAN_MOUNT:
            script = ('mount --bind "$1" "$1" && '
                      'mount -o remount,bind,ro "$1" && shift && '
                      'exec "$@"')
            cmd = ["unshare", "-m", "sh", "-c", script, "sh", h.dir] + cmd
            return subprocess.run(cmd, capture_output=True, text=True,
                                  env=env)
        os.chmod(h.db, 0o444)
        os.chmod(h.dir, 0o555)
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  env=env)
        finally:
            os.chmod(h.dir, 0o755)
            os.chmod(h.db, 0o600)

    def setUp(self):
        if not CAN_MOUNT and os.geteuid() == 0:
            self.skipTest("root without unshare -m: no read-only medium")
        super().setUp()


class TestReadOnly(ReadOnlyCase):
    def check_all(self):
        before = digest(self.home.dir)
        for args in READ_COMMANDS:
            r = self.run_ro(*args)
            self.assertEqual(r.returncode, 0,
                             "%s: %s" % (" ".join(args), r.stderr))
            self.assertEqual(r.stderr, "", " ".join(args))
        self.assertEqual(digest(self.home.dir), before, "a file changed")

    def test_read_commands_on_read_only_medium(self):
        populate(self.home)
        self.assertFalse(os.path.exists(self.home.db + "-shm"))
        self.check_all()
        r = self.run_ro("audit", "verify", "--json")
        v = json.loads(r.stdout)
        self.assertTrue(v["ok"])
        self.assertEqual(v["rows_verified"],
                         self.home.scalar("SELECT count(*) FROM events"))
        r = self.run_ro("body", "list", "--json")
        self.assertIn('"UNSG"', r.stdout)
        # nothing recorded: the medium is read-only
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM audit_verifications"), 0)

    def test_with_wal_files_beside_it(self):
        populate(self.home)
        self.home.ok("body", "list")  # a read-only open leaves -wal, -shm
        self.check_all()

    def test_write_command_fails_with_one_line(self):
        populate(self.home)
        before = digest(self.home.dir)
        r = self.run_ro("body", "add", "New body", "--kind", "ngo")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn("read-only", r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertEqual(digest(self.home.dir), before)

    def test_older_schema_read_only_is_one_clear_line(self):
        populate(self.home)
        # as a version-19 file was: before 0020, 0021, 0023, 0025, 0026
        con_exec(self.home, "DROP TABLE audit_verifications",
                 "DROP INDEX deliveries_bounce_domain",
                 "DROP INDEX inbound_messages_source",
                 "DROP TABLE login_failures", "DROP TABLE user_sessions",
                 "DROP TABLE users",
                 "ALTER TABLE bounce_quarantine DROP COLUMN dismissed_at",
                 "ALTER TABLE bounce_quarantine DROP COLUMN dismissed_by",
                 "ALTER TABLE bounce_quarantine DROP COLUMN dismiss_reason",
                 "PRAGMA user_version = 19")
        before = digest(self.home.dir)
        for args in (("audit", "verify"), ("body", "list"), ("status",)):
            r = self.run_ro(*args)
            self.assertEqual(r.returncode, 77, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertIn("schema version 19 is older than this program's",
                          r.stderr)
            self.assertIn("database is read-only: upgrade it once with "
                          "write access", r.stderr)
        self.assertEqual(digest(self.home.dir), before)
        # writable again: a read-only command migrates it and works
        self.home.ok("body", "list")
        self.assertGreater(self.home.scalar("PRAGMA user_version"), 19)


if __name__ == "__main__":
    unittest.main()
