"""The registry commands against a real database file."""
import json
import os
import stat
import unittest

import harness


class InitTest(harness.TestCase):
    init = False

    def test_init_creates_private_database(self):
        r = self.home.ok("init")
        self.assertIn("created %s (schema version" % self.home.db, r.out)
        mode = stat.S_IMODE(os.stat(self.home.db).st_mode)
        self.assertEqual(mode, 0o600)
        self.assertEqual(self.home.scalar("PRAGMA journal_mode"), "wal")

    def test_init_twice_is_refused(self):
        self.home.ok("init")
        r = self.home.run("init")
        self.assertEqual(r.rc, 73, r)
        self.assertIn("already exists", r.err)

    def test_foreign_sqlite_file_is_refused(self):
        import sqlite3
        con = sqlite3.connect(self.home.db)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
        r = self.home.run("body", "list")
        self.assertEqual(r.rc, 65, r)
        self.assertIn("not a chancery database", r.err)


class BodyTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.home.ok("body", "add", "UN Secretary-General", "--acronym",
                     "UNSG", "--kind", "un-organ")
        self.home.ok("body", "add", "Azərbaycan Respublikasının Ombudsmanı",
                     "--kind", "ombudsman", "--country", "AZ")

    def test_add_records_body_aliases_and_event(self):
        rows = self.home.sql("SELECT acronym, kind FROM bodies ORDER BY id")
        self.assertEqual(rows, [("UNSG", "un-organ"), (None, "ombudsman")])
        kinds = self.home.sql("SELECT kind FROM events ORDER BY id")
        self.assertEqual(kinds, [("body.added",), ("body.added",)])

    def test_find_by_alias_and_json(self):
        self.home.ok("body", "alias", "UNSG",
                     "Secretary-General of the United Nations")
        r = self.home.ok("--json", "body", "show",
                         "the secretary general of the united nations")
        body = json.loads(r.out)
        self.assertEqual(body["acronym"], "UNSG")
        self.assertIn("Secretary-General of the United Nations",
                      body["aliases"])

    def test_errors_change_nothing(self):
        cases = [
            (("body", "add", "Other", "--acronym", "unsg", "--kind",
              "un-organ"), 65, "acronym 'unsg' is already used"),
            (("body", "add", "X", "--kind", "planet"), 65,
             "unknown body kind 'planet'"),
            (("body", "add", "X"), 64, "--kind is required"),
            (("body", "add", "X", "--kind", "embassy", "--country", "ZZZ"),
             65, "country 'ZZZ' is not an ISO 3166 two-letter code"),
            (("body", "edit", "UNSG", "--country", "fr"), 65,
             "country 'fr' is not an ISO 3166"),
            (("body", "show", "NOPE"), 67, "no body 'NOPE'"),
            (("contact", "add", "UNSG", "not-an-address"), 65,
             "not a valid e-mail address"),
            (("contact", "add", "UNSG", "x@localhost"), 65, "localhost"),
            (("body", "rm", "#99"), 67, "no body #99"),
            (("list", "add", "nolist", "UNSG"), 67, "no list 'nolist'"),
        ]
        for args, rc, message in cases:
            with self.subTest(args=args):
                r = self.home.run(*args)
                if rc == 64:
                    self.assertEqual(r.rc, 64, r)
                    self.assertIn(message, r.err)
                else:
                    self.assertFails(args, rc, message)

    def test_contact_lifecycle(self):
        self.home.ok("contact", "add", "UNSG", "sg@example.org", "--name",
                     "Office of the Secretary-General")
        self.home.ok("contact", "disable", "sg@example.org", "--reason",
                     "moved")
        r = self.home.ok("--json", "contact", "list", "UNSG")
        rows = json.loads(r.out)
        self.assertEqual(rows[0]["status"], "disabled")
        self.assertEqual(rows[0]["reason"], "moved")
        self.home.ok("contact", "enable", "sg@example.org")
        events = [k for (k,) in self.home.sql(
            "SELECT kind FROM events WHERE contact_id IS NOT NULL "
            "ORDER BY id")]
        self.assertEqual(events, ["contact.added", "contact.disabled",
                                  "contact.enabled"])


class ColourTest(harness.TestCase):
    """Colour only on a terminal, and never with NO_COLOR set."""

    def run_on_tty(self, no_color):
        import subprocess
        master, slave = os.openpty()
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        if no_color:
            env["NO_COLOR"] = "1"
        proc = subprocess.run(
            [os.path.join(harness.BIN_DIR, "chancery"), "--config",
             self.home.conf, "contact", "list"],
            stdout=slave, stderr=subprocess.PIPE, env=env, timeout=60)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return b"".join(chunks).decode()

    def test_colour_on_a_terminal_only(self):
        self.home.ok("body", "add", "UNSG body", "--acronym", "UNSG",
                     "--kind", "un-organ")
        self.home.ok("contact", "add", "UNSG", "sg@example.org")
        self.assertIn("\033[32mactive\033[0m", self.run_on_tty(False))
        self.assertNotIn("\033[", self.run_on_tty(True))
        self.assertNotIn("\033[", self.home.ok("contact", "list").out)


class ListTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        for acr, kind, country in [("UNSG", "un-organ", ""),
                                   ("OSCE", "regional-org", ""),
                                   ("EMB-FR", "embassy", "AZ"),
                                   ("EMB-TR", "embassy", "AZ")]:
            args = ["body", "add", acr + " body", "--acronym", acr,
                    "--kind", kind]
            if country:
                args += ["--country", country]
            self.home.ok(*args)
        self.home.ok("contact", "add", "UNSG", "sg@example.org")

    def test_static_rule_and_nested(self):
        self.home.ok("list", "create", "core")
        self.home.ok("list", "add", "core", "OSCE", "UNSG")
        self.home.ok("list", "create", "missions", "--rule")
        self.home.ok("list", "rule", "missions", "embassy", "--country", "AZ")
        self.home.ok("list", "create", "all")
        self.home.ok("list", "add", "all", "--list", "core", "missions")
        r = self.home.ok("--json", "list", "show", "all")
        self.assertEqual([b["acronym"] for b in json.loads(r.out)],
                         ["OSCE", "UNSG", "EMB-FR", "EMB-TR"])
        self.assertFails(("list", "add", "core", "--list", "all"), 65,
                         "would make a cycle")
        self.assertFails(("list", "rule", "core", "embassy"), 65,
                         "is a static list")
        self.assertFails(("list", "delete", "core"), 65,
                         "used by list 'all'")

    def test_ls_and_list_are_the_same_listing(self):
        for group in ("body", "list", "contact", "template", "campaign",
                      "series"):
            with self.subTest(group=group):
                a = self.home.run("--json", group, "ls")
                b = self.home.run("--json", group, "list")
                self.assertEqual((a.rc, a.out), (0, b.out), (a, b))
                json.loads(a.out)

    def test_add_many_is_all_or_nothing(self):
        self.home.ok("list", "create", "core")
        self.assertFails(("list", "add", "core", "UNSG", "NOPE"), 67,
                         "no body 'NOPE'")
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM list_members"), 0)


if __name__ == "__main__":
    unittest.main()
