"""chancery backup, end to end: a copy taken while chanceryd sends 5,000
messages is one consistent snapshot that verifies and restores; an
existing file is not replaced without --force; a copy that does not
verify is removed and the command fails."""
import glob
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import time

from harness import TestCase

TEMPLATE = "Subject: Statement\n\nTo the {{body.name}}.\n"
COUNT = 5000


class BackupCase(TestCase):
    def add_bodies(self, n):
        con = sqlite3.connect(self.home.db)
        try:
            con.executemany(
                "INSERT INTO bodies (id, acronym, name, kind, created_at) "
                "VALUES (?, ?, ?, 'ngo', 0)",
                [(i, "B%d" % i, "Body %d" % i) for i in range(1, n + 1)])
            con.executemany(
                "INSERT INTO contacts (id, body_id, email, created_at, "
                "updated_at) VALUES (?, ?, ?, 0, 0)",
                [(i, i, "b%d@example.org" % i) for i in range(1, n + 1)])
            con.commit()
        finally:
            con.close()
        self.home.ok("list", "create", "all")
        con = sqlite3.connect(self.home.db)
        try:
            lid = con.execute("SELECT id FROM lists WHERE name = 'all'"
                              ).fetchone()[0]
            con.executemany(
                "INSERT INTO list_members (list_id, position, body_id) "
                "VALUES (?, ?, ?)", [(lid, i, i) for i in range(1, n + 1)])
            con.commit()
        finally:
            con.close()
        path = os.path.join(self.home.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        self.home.ok("template", "add", "stmt", path)
        self.home.ok("campaign", "create", "big", "--template", "stmt",
                     "--list", "all", "--now", "--tz", "UTC")
        self.home.ok("campaign", "schedule", "big", "--now")

    def leftovers(self, path):
        return sorted(glob.glob(path + "*"))


class TestBackup(BackupCase):
    def test_backup_while_sending_verifies_and_restores(self):
        self.add_bodies(COUNT)
        h = self.home
        daemon = subprocess.Popen(
            h.command("chanceryd") + ["--config", h.conf, "--foreground",
                                      "--once"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            # Wait until the daemon is halfway into the send.
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    sent = h.scalar("SELECT count(*) FROM deliveries "
                                    "WHERE state = 'sent'")
                except sqlite3.OperationalError:
                    sent = 0
                if sent >= 200 or daemon.poll() is not None:
                    break
                time.sleep(0.05)
            copy = os.path.join(h.dir, "copy.db")
            r = h.ok("backup", copy)
            during = daemon.poll() is None
        finally:
            _, err = daemon.communicate(timeout=300)
        self.assertEqual(daemon.returncode, 0, err)
        self.assertIn("integrity ok, ledger ok:", r.out)
        self.assertEqual(stat.S_IMODE(os.stat(copy).st_mode), 0o600)
        self.assertEqual(self.leftovers(copy), [copy])
        con = sqlite3.connect(copy)
        try:
            sent = con.execute("SELECT count(*) FROM deliveries WHERE "
                               "state = 'sent'").fetchone()[0]
            events = con.execute("SELECT count(*) FROM events WHERE kind = "
                                 "'delivery.sent'").fetchone()[0]
            total = con.execute("SELECT count(*) FROM deliveries"
                                ).fetchone()[0]
        finally:
            con.close()
        # One snapshot: every sent delivery has its event, none is lost.
        self.assertEqual(sent, events)
        self.assertEqual(total, COUNT)
        self.assertTrue(during, "the daemon finished before the backup")
        self.assertGreaterEqual(sent, 200)
        self.assertLess(sent, COUNT, "copy taken after the send?")
        # Restore: the daemon is stopped; the copy goes into place.
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(h.db + suffix):
                os.unlink(h.db + suffix)
        shutil.copyfile(copy, h.db)
        v = h.ok("audit", "verify", "--json")
        self.assertTrue(json.loads(v.out)["ok"])
        self.assertEqual(h.scalar("SELECT count(*) FROM deliveries WHERE "
                                  "state = 'sent'"), sent)
        # The rest is sent after the restore, from where the copy was.
        h.ok("--foreground", "--once", prog="chanceryd")
        self.assertEqual(h.scalar("SELECT count(*) FROM deliveries WHERE "
                                  "state = 'sent'"), COUNT)
        self.assertEqual(h.scalar("SELECT count(*) FROM events WHERE kind = "
                                  "'delivery.sent'"), COUNT)


class TestBackupRefusals(BackupCase):
    def test_existing_file_needs_force(self):
        h = self.home
        copy = os.path.join(h.dir, "copy.db")
        with open(copy, "w") as f:
            f.write("keep me")
        r = self.assertFails(["backup", copy], 73,
                             "copy.db: already exists (--force replaces it)")
        with open(copy) as f:
            self.assertEqual(f.read(), "keep me")
        self.assertEqual(self.leftovers(copy), [copy])
        r = h.ok("backup", "--force", copy)
        self.assertIn("ledger ok", r.out)
        self.assertEqual(stat.S_IMODE(os.stat(copy).st_mode), 0o600)
        h.ok("--db", copy, "audit", "verify")

    def test_copy_that_does_not_verify_is_removed(self):
        h = self.home
        h.ok("body", "add", "Some body", "--kind", "ngo", "--acronym", "SB")
        h.ok("body", "add", "Other body", "--kind", "ngo", "--acronym", "OB")
        con = sqlite3.connect(h.db)
        try:
            con.execute("DROP TRIGGER events_no_update")
            con.execute("UPDATE events SET data = '{}' WHERE id = 1")
            con.commit()
        finally:
            con.close()
        copy = os.path.join(h.dir, "copy.db")
        r = self.assertFails(["backup", copy], 65,
                             "copy.db: the copy does not verify, removed: ")
        self.assertIn("row 1", r.err)
        self.assertEqual(self.leftovers(copy), [])
