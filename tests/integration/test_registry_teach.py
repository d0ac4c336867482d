"""chancery registry teach / unteach and the ways import-statement is
pointed at its passage (--paragraph, --from, standard input), driven
through the built binary against real SQLite files (issue 19).

Every error case checks the one-line message, the exit status and that
the database did not change.
"""
import json
import os
import sqlite3
import subprocess
import unittest

import test_registry_import as base

STATEMENTS, S2025, S2018 = base.STATEMENTS, base.S2025, base.S2018

TABLES = ["bodies", "aliases", "contacts", "lists", "list_members",
          "list_rules", "events", "phrase_rules"]

TALLINN = ("Tallinn, 2020.\n\nThe report of the Chancellor of Justice was "
           "sent to UNICEF and the national preventive mechanism.\n\n"
           "Tallinn, 4 May 2020\n")


class RegistryTeach(unittest.TestCase):
    # the registry tests' set-up and helpers (not their tests)
    setUp = base.RegistryImport.setUp
    tearDown = base.RegistryImport.tearDown
    run_cli = base.RegistryImport.run_cli
    ok = base.RegistryImport.ok
    query = base.RegistryImport.query
    seed = base.RegistryImport.seed
    plan = base.RegistryImport.plan
    targets = staticmethod(base.RegistryImport.targets)

    def state(self):
        con = sqlite3.connect(self.db)
        try:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in TABLES}
        finally:
            con.close()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def stdin_cli(self, text, *args):
        return subprocess.run(
            [os.path.join(os.environ.get("CHANCERY_BIN_DIR", "../../build"),
                          "chancery"), "--db", self.db, *args],
            env=self.env, input=text, capture_output=True, text=True,
            timeout=60)

    def test_taught_phrase_resolves_in_every_later_import(self):
        self.seed()
        path = self.write("tallinn.txt", TALLINN)
        rows = self.plan(path)
        self.assertEqual(rows[1]["resolution"], "NEW")
        self.assertEqual(rows[1]["confidence"], "low")
        self.assertTrue(rows[1]["evidence"].startswith("guess: new body"))

        before = self.state()
        r = self.run_cli("registry", "teach", "national preventive "
                         "mechanism", "Office of the NPM")
        self.assertEqual(r.returncode, 67, r.stderr)
        self.assertEqual(r.stderr, "chancery: no body or list 'Office of "
                         "the NPM'\n")
        self.assertEqual(self.state(), before)

        r = self.ok("--as", "clerk", "registry", "teach",
                    "the national preventive mechanism", "OHCHR")
        self.assertIn("taught: 'the national preventive mechanism' names "
                      "body OHCHR", r.stdout)
        self.assertEqual(self.query(
            "SELECT r.phrase, r.norm, b.acronym FROM phrase_rules r JOIN "
            "bodies b ON b.id = r.body_id"),
            [("the national preventive mechanism",
              "national preventive mechanism", "OHCHR")])
        self.assertEqual(self.query(
            "SELECT actor, json_extract(data, '$.target_kind') FROM events "
            "WHERE kind = 'phrase.taught'"), [("clerk", "body")])

        rows = self.plan(path)
        self.assertEqual(self.targets(rows), ["UNICEF", "OHCHR"])
        self.assertEqual(rows[1]["evidence"], "taught")
        self.assertEqual(rows[1]["confidence"], "high")
        # it is kept: --apply without --accept now takes the row
        r = self.ok("registry", "import-statement", path, "--apply",
                    "--list", "tallinn")
        self.assertNotIn("guessed rows left out", r.stdout)
        self.assertEqual(self.query(
            "SELECT b.acronym FROM list_members m JOIN lists l ON "
            "l.id = m.list_id JOIN bodies b ON b.id = m.body_id WHERE "
            "l.name = 'tallinn' ORDER BY m.position"),
            [("UNICEF",), ("OHCHR",)])

        r = self.ok("--json", "registry", "teach", "--list")
        self.assertEqual(json.loads(r.stdout), [{
            "phrase": "the national preventive mechanism", "names": "body",
            "target": "OHCHR - Office of the United Nations High "
                      "Commissioner for Human Rights"}])
        r = self.ok("registry", "unteach", "National Preventive Mechanism")
        self.assertIn("untaught", r.stdout)
        self.assertEqual(self.query("SELECT count(*) FROM phrase_rules"),
                         [(0,)])
        before = self.state()
        r = self.run_cli("registry", "unteach", "national preventive "
                         "mechanism")
        self.assertEqual(r.returncode, 67)
        self.assertEqual(r.stderr, "chancery: no phrase rule 'national "
                         "preventive mechanism'\n")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.plan(path)[1]["resolution"], "NEW")

    def test_a_phrase_may_name_a_list(self):
        self.seed()
        path = os.path.join(STATEMENTS,
                            "issue19-kazakhstan-2022-mission.txt")
        r = self.ok("--json", "registry", "import-statement", path)
        self.assertIn("warning: addressee 8", r.stderr)
        self.ok("list", "create", "oic-ombudsmen")
        r = self.ok("registry", "teach", "ombudsmen of the OIC member "
                    "states", "oic-ombudsmen")
        self.assertIn("names list oic-ombudsmen", r.stdout)
        r = self.ok("--json", "registry", "import-statement", path)
        rows = json.loads(r.stdout)
        self.assertEqual(rows[7]["target"], "oic-ombudsmen")
        self.assertEqual(rows[7]["evidence"], "taught")
        self.assertNotIn("warning", r.stderr)
        # The list a taught phrase names is not deleted from under it.
        before = self.state()
        r = self.run_cli("list", "delete", "oic-ombudsmen")
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertIn("list 'oic-ombudsmen' is used by the taught phrase "
                      "'ombudsmen of the OIC member states'", r.stderr)
        self.assertEqual(self.state(), before)
        self.ok("registry", "unteach", "ombudsmen of the OIC member states")
        self.ok("list", "delete", "oic-ombudsmen")

    def test_teach_usage_errors_change_nothing(self):
        self.seed()
        before = self.state()
        for args, status, msg in (
                (["teach", "the"], 64, "PHRASE and BODY|LIST are needed"),
                (["teach", "a", "b", "c"], 64, "quote the phrase"),
                (["teach", "the", "OHCHR"], 64, "has no words"),
                (["teach", "--list", "x"], 64, "--list takes no PHRASE"),
                (["unteach"], 64, "PHRASE is missing")):
            r = self.run_cli("registry", *args)
            self.assertEqual(r.returncode, status, (args, r.stderr))
            self.assertIn(msg, r.stderr)
            self.assertEqual(self.state(), before)

    def test_pointing_at_the_passage(self):
        self.seed()
        text = ("Warsaw, 2020.\n\nThe report was sent to the UNSG, UNHCR, "
                "UNICEF and\nthe OSCE.\n\nAddressees of the annex: the "
                "Council of Europe and\nthe European Union.\n")
        path = self.write("warsaw.txt", text)
        rows = self.plan(path)
        self.assertEqual(self.targets(rows), ["UNSG", "UNHCR", "UNICEF",
                                              "OSCE"])
        r = self.ok("--json", "registry", "import-statement", path,
                    "--paragraph", "3")
        self.assertEqual(self.targets(json.loads(r.stdout)), ["CoE", "EU"])
        r = self.ok("registry", "import-statement", path, "--from",
                    "UNICEF and the OSCE")
        self.assertIn("(read lines 3-4 of %s: 1 sentence from the place "
                      "pointed at)" % path, r.stdout)
        # standard input, pointed at too
        r = self.stdin_cli(text, "--json", "registry", "import-statement",
                           "-", "--paragraph", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.targets(json.loads(r.stdout)), ["CoE", "EU"])
        r = self.stdin_cli(open(S2018).read(), "--json", "registry",
                           "import-statement", "-")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)), 18)

        before = self.state()
        for extra, status, msg in (
                (["--paragraph", "4"], 64, "%s: --paragraph 4 is out of "
                 "range: the text has 3 paragraphs" % path),
                (["--paragraph", "0"], 64, "--paragraph wants a number"),
                (["--from", "the Human Rights Council"], 65,
                 "%s: --from 'the Human Rights Council' does not occur in "
                 "the text" % path),
                (["--from", "x", "--paragraph", "1"], 64, "give one")):
            for apply in ([], ["--apply", "--list", "w"]):
                r = self.run_cli("registry", "import-statement", path,
                                 *extra, *apply)
                self.assertEqual(r.returncode, status, (extra, r.stderr))
                self.assertIn(msg, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                                 r.stderr)
                self.assertEqual(self.state(), before)
        r = self.stdin_cli("", "registry", "import-statement", "-")
        self.assertEqual(r.returncode, 65)
        self.assertEqual(r.stderr, "chancery: standard input: the text is "
                         "empty\n")

    def test_shared_statements_stay_high_and_new_ones_propose_kinds(self):
        self.seed()
        for path in (S2025, S2018):
            rows = self.plan(path)
            self.assertNotIn("NEW", [r["resolution"] for r in rows])
            self.assertNotIn("low", [r["confidence"] for r in rows])
        rows = self.plan(os.path.join(STATEMENTS,
                                      "issue19-lithuania-2024-forum.txt"))
        got = [(r["target"], r["confidence"]) for r in rows
               if r["resolution"] == "NEW"]
        self.assertEqual(got, [
            ("ombudsman-assoc", "medium"), ("ombudsman-assoc", "medium"),
            ("ombudsman", "medium"), ("nhri", "medium"),
            ("ombudsman-assoc", "medium"), ("ngo", "medium"),
            ("un-organ", "medium"), ("embassy", "medium")])
        self.assertIn("kind ombudsman proposed from 'defensor del pueblo'",
                      rows[3]["evidence"])


if __name__ == "__main__":
    unittest.main()
