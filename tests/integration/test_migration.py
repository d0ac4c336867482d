"""Opening a database written by an older chancery upgrades it in place,
keeping every row and every reference between rows."""
import glob
import os
import sqlite3
import unittest

import harness

APPLICATION_ID = 0x43484e43


def old_schema(path, upto):
    """A database as chancery left it at schema version upto."""
    con = sqlite3.connect(path)
    files = sorted(glob.glob(os.path.join(harness.SOURCE_DIR, "db",
                                          "[0-9][0-9][0-9][0-9]_*.sql")))
    for f in files:
        if int(os.path.basename(f)[:4]) <= upto:
            with open(f) as sql:
                con.executescript(sql.read())
    con.execute("PRAGMA application_id = %d" % APPLICATION_ID)
    con.execute("PRAGMA user_version = %d" % upto)
    return con


class MigrationTest(harness.TestCase):
    init = False

    def make_v6(self):
        con = old_schema(self.home.db, 6)
        con.executescript("""
            INSERT INTO bodies (id, name, kind, created_at)
                VALUES (1, 'UNESCO', 'un-agency', 1);
            INSERT INTO contacts (id, body_id, email, created_at, updated_at)
                VALUES (1, 1, 'info@unesco.example', 1, 1);
            INSERT INTO lists (id, name, kind, created_at, updated_at)
                VALUES (1, 'un', 'static', 1, 1);
            INSERT INTO templates (id, name, version, source, sha256,
                                   created_at)
                VALUES (1, 'stmt', 1, 'x', 'ab', 1);
            INSERT INTO campaigns (id, name, template_id, list_id, send_at,
                                   tz, state, created_at, updated_at)
                VALUES (7, 'khojaly-2026', 1, 1, 1772089200, 'Asia/Baku',
                        'done', 1, 2);
            INSERT INTO deliveries (id, campaign_id, contact_id, body_id,
                                    email, state, created_at, updated_at)
                VALUES (3, 7, 1, 1, 'info@unesco.example', 'sent', 1, 2);
        """)
        con.commit()
        con.close()

    def test_v6_upgrades_keeping_campaigns_and_deliveries(self):
        self.make_v6()
        r = self.home.ok("campaign", "ls")
        self.assertIn("khojaly-2026", r.out)
        self.assertGreaterEqual(self.home.scalar("PRAGMA user_version"), 7)
        self.assertEqual(self.home.sql(
            "SELECT id, name, state, send_at FROM campaigns"),
            [(7, "khojaly-2026", "done", 1772089200)])
        self.assertEqual(self.home.sql(
            "SELECT id, campaign_id, state FROM deliveries"),
            [(3, 7, "sent")])
        self.assertEqual(self.home.sql("PRAGMA foreign_key_check"), [])
        # The rebuilt table still takes the new states and still refuses
        # an unknown one.
        con = sqlite3.connect(self.home.db)
        con.execute("UPDATE campaigns SET state = 'missed' WHERE id = 7")
        with self.assertRaises(sqlite3.IntegrityError):
            con.execute("UPDATE campaigns SET state = 'lost' WHERE id = 7")
        con.close()
        columns = [r[1] for r in self.home.sql("PRAGMA table_info(events)")]
        self.assertIn("actor", columns)


class ActorTest(harness.TestCase):
    def test_changes_name_the_os_user_or_the_claimed_name(self):
        import pwd
        me = pwd.getpwuid(os.getuid()).pw_name
        self.home.ok("body", "add", "UNESCO", "--kind", "un-agency")
        self.home.ok("--as", "Leyla Aliyeva", "body", "add", "UNICEF",
                     "--kind", "un-agency")
        self.assertEqual(self.home.sql(
            "SELECT kind, actor FROM events ORDER BY id"),
            [("body.added", me), ("body.added", "Leyla Aliyeva")])
        r = self.home.ok("audit", "verify")
        self.assertIn("ok: 2 rows verified", r.out)

    def test_a_bad_claimed_name_is_refused(self):
        for name in ("", "a\nb", "x" * 65):
            before = self.home.snapshot()
            r = self.home.run("--as", name, "body", "add", "UNESCO",
                              "--kind", "un-agency")
            self.assertEqual(r.rc, 64, r)
            self.assertIn("--as: not a name", r.err)
            self.assertEqual(self.home.snapshot(), before)


if __name__ == "__main__":
    unittest.main()
