"""The registry as a spreadsheet: what export-csv writes imports back into
an empty database to the same export, byte for byte, in the RFC 4180 and
the --excel form, for registries generated at random (fixed seed) through
the CLI with names and notes in many scripts, line breaks, quotes,
separators and formula-like starts; and a file as Excel writes it (BOM,
';', CRLF, names instead of codes) imports as a clerk means it.
"""
import csv
import io
import os
import random
import stat

import harness

SEED = 20261203
SCRIPTS = [
    "Défenseur des droits", "Ombudsman för barn", "Łódź, Kraków; Gdańsk",
    "Уполномоченный по правам человека", "Омбудсмен Республики",
    "ديوان المظالم", "المفوضية السامية لحقوق الإنسان",
    "Müvəkkil Aparatı", "İnsan hüquqları üzrə müvəkkil", "Şəki, Gəncə",
    "国家人权委员会", "人権擁護局", "국가인권위원회", "Ελληνικός Συνήγορος",
    "סנגוריה", "मानवाधिकार आयोग", "🕊️ peace 🌍", "👩🏽‍⚖️ office",
    "Ñandutí \"quoted\" words", "semi;colon, comma", "tab\tinside",
]
STARTS = ["", "", "", "=", "+", "-", "@", "'", "'=", "''+", "=HYPERLINK(\"",
          "-1+", "@@"]
KINDS = ["un-organ", "un-agency", "regional-org", "ombudsman-assoc", "nhri",
         "ombudsman", "embassy", "foreign-mission", "diaspora-org", "ngo",
         "other"]
COUNTRIES = [None, "AZ", "FR", "GB", "CH", "RU", "TR", "CN", "JP", "SA"]
LANGUAGES = [None, "en", "fr", "fr-CH", "az", "az-Latn", "ru", "ar",
             "zh-Hant", "ja", "de", "tr", "en-GB"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def unneutralise(cell):
    """What import does to a cell (chancery(1), CSV FORMAT)."""
    rest = cell[1:].lstrip("'")
    if cell.startswith("'") and rest[:1] in FORMULA and rest:
        return cell[1:]
    return cell


class Generator:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.serial = 0

    def text(self, lines=False):
        """A one-line text (or several lines), unique by its serial."""
        self.serial += 1
        r = self.rnd
        parts = [r.choice(STARTS) + r.choice(SCRIPTS)]
        for _ in range(r.randrange(0, 3)):
            parts.append(r.choice(SCRIPTS))
        parts.append("n%d" % self.serial)
        sep = [" ", ", ", "; ", " \"", "\t"]
        if lines:
            sep += ["\n", "\n\n", "\n- "]
        out = parts[0]
        for p in parts[1:]:
            out += r.choice(sep) + p
        return out.strip()

    def acronym(self):
        self.serial += 1
        return self.rnd.choice(["", "", "=", "-", "@", "+", "'"]) + \
            self.rnd.choice(["UN", "OHCHR", "Müv", "ОМБ", "ICRC", "E'U"]) + \
            "%d" % self.serial


class RoundTrip(harness.TestCase):
    def build_registry(self, bodies):
        """A random registry made through the CLI, the way a person would.
        Returns the number of contacts."""
        g = Generator(SEED)
        r = g.rnd
        contacts = 0
        for i in range(bodies):
            name = g.text()
            args = ["body", "add", "--kind", r.choice(KINDS)]
            if r.random() < 0.8:
                args += ["--acronym", g.acronym()]
            country = r.choice(COUNTRIES)
            if country:
                args += ["--country", country]
            if r.random() < 0.6:
                args += ["--notes", g.text(lines=True)]
            # "--": a name may start with '-'
            self.home.ok(*args, "--", name)
            key = "#%d" % (i + 1)
            if r.random() < 0.4:
                self.home.ok("body", "alias", key,
                             *[g.text() for _ in range(r.randrange(1, 3))])
            for k in range(r.randrange(0, 4)):
                email = "c%d.%d@example%d.org" % (i, k, r.randrange(9))
                args = ["contact", "add"]
                if r.random() < 0.7:
                    args += ["--name", g.text()]
                if r.random() < 0.5:
                    args += ["--role", g.text()]
                lang = r.choice(LANGUAGES)
                if lang:
                    args += ["--language", lang]
                self.home.ok(*args, key, email)
                contacts += 1
                status = r.choice(["active"] * 6 + ["disable", "suppress"])
                if status != "active":
                    self.home.ok("contact", status, email, "--body", key,
                                 "--reason", "test")
        return contacts

    def export(self, db, name, *opts, env=None):
        path = os.path.join(self.home.dir, name)
        self.home.ok("--db", db, "registry", "export-csv", "--output", path,
                     *opts, env=env)
        with open(path, "rb") as f:
            return f.read()

    def fresh_db(self, name):
        db = os.path.join(self.home.dir, name)
        self.home.ok("--db", db, "init")
        return db

    def test_export_import_export_is_identical(self):
        contacts = self.build_registry(220)
        self.assertGreaterEqual(contacts, 250)
        # The generated registry holds what the round trip is about.
        for query, least in [
                ("SELECT count(*) FROM contacts WHERE status != 'active'", 20),
                ("SELECT count(*) FROM contacts WHERE language LIKE '%-%'",
                 20),
                ("SELECT count(*) FROM bodies WHERE substr(name, 1, 1) IN "
                 "('=', '+', '-', '@', '''')", 50),
                ("SELECT count(*) FROM bodies WHERE acronym IS NULL", 20),
                ("SELECT count(*) FROM aliases WHERE source = 'manual'", 50),
                ("SELECT count(*) FROM bodies WHERE instr(name, char(9))",
                 10)]:
            self.assertGreaterEqual(self.home.scalar(query), least, query)
        first = self.export(self.home.db, "first.csv")
        mode = stat.S_IMODE(os.stat(os.path.join(self.home.dir,
                                                 "first.csv")).st_mode)
        self.assertEqual(mode, 0o600)
        other = self.fresh_db("other.db")
        r = self.home.ok("--db", other, "registry", "import-csv",
                         os.path.join(self.home.dir, "first.csv"))
        self.assertIn("220 bodies added", r.out)
        self.assertIn("%d contacts added" % contacts, r.out)
        second = self.export(other, "second.csv")
        self.assertEqual(second, first)
        # Every formula-like cell went out with a "'" in front ...
        rows = list(csv.reader(io.StringIO(first.decode(), newline="")))
        self.assertGreater(sum(c[:1] == "'" for row in rows for c in row),
                           50)
        for row in rows:
            for cell in row:
                self.assertNotIn(cell[:1], FORMULA, row)
        # ... and means what the database holds.
        names = {unneutralise(row[1]) for row in rows[1:]}
        want = {n for (n,) in self.home.sql(
            "SELECT name FROM bodies WHERE removed_at IS NULL")}
        self.assertEqual(names, want)
        # Multi-line notes are there, and the same in both databases.
        multi = ("SELECT name, notes FROM bodies "
                 "WHERE instr(notes, char(10))")
        notes = sorted(self.home.sql(multi))
        self.assertGreater(len(notes), 10)
        con = harness.sqlite3.connect(other)
        self.assertEqual(sorted(con.execute(multi).fetchall()), notes)
        con.close()

        # The --excel form: BOM, ';' where the locale writes 1,5, CRLF;
        # it imports back to the same registry.
        excel = self.export(self.home.db, "excel.csv", "--excel",
                            env={"LC_ALL": "de_DE.UTF-8"})
        self.assertTrue(excel.startswith(
            b"\xef\xbb\xbfacronym;name;kind;country;notes;aliases;email;"
            b"contact_name;role;language;status\r\n"), excel[:100])
        rows = list(csv.reader(io.StringIO(excel.decode("utf-8-sig"),
                                           newline=""), delimiter=";"))
        self.assertEqual({unneutralise(row[1]) for row in rows[1:]}, want)
        third = self.fresh_db("third.db")
        self.home.ok("--db", third, "registry", "import-csv",
                     os.path.join(self.home.dir, "excel.csv"))
        self.assertEqual(self.export(third, "third.csv"), first)
        # Where the decimal separator is a point, --excel keeps ','.
        en = self.export(self.home.db, "excel-en.csv", "--excel",
                         env={"LC_ALL": "en_US.UTF-8"})
        self.assertTrue(en.startswith(b"\xef\xbb\xbfacronym,name,kind,"))
        tab = self.export(self.home.db, "tab.csv", "--separator", "tab")
        self.assertTrue(tab.startswith(b"acronym\tname\tkind\t"))
        fourth = self.fresh_db("fourth.db")
        self.home.ok("--db", fourth, "registry", "import-csv",
                     os.path.join(self.home.dir, "tab.csv"))
        self.assertEqual(self.export(fourth, "fourth.csv"), first)

    def test_output_is_never_overwritten_without_force(self):
        self.home.ok("body", "add", "Office One", "--kind", "ngo",
                     "--acronym", "O1")
        path = os.path.join(self.home.dir, "out.csv")
        with open(path, "w") as f:
            f.write("precious\n")
        self.assertFails(["registry", "export-csv", "--output", path], 73,
                         "out.csv: already exists (--force replaces it)")
        with open(path) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertEqual(sorted(os.listdir(self.home.dir)),
                         sorted(["chancery.conf", "chancery.db", "out.csv"]))
        self.home.ok("registry", "export-csv", "--output", path, "--force")
        with open(path, "rb") as f:
            self.assertIn(b"O1,Office One,ngo", f.read())
        self.assertFails(["registry", "export-csv", "--force"], 64,
                         "--force applies to --output FILE only")
        self.assertFails(["registry", "export-csv", "--separator", "|"], 64,
                         "--separator wants ',', ';' or 'tab', not '|'")
        self.assertFails(["registry", "export-csv", "--output",
                          os.path.join(self.home.dir, "no", "such.csv")],
                         73, "such.csv: cannot create")

    def write(self, name, data):
        path = os.path.join(self.home.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_excel_file_as_a_clerk_writes_it(self):
        text = (
            "\ufeffAcronym; Name ;KIND;Country;Notes;Aliases;Email;"
            "Contact_Name;Role;Language;Status\r\n"
            "DDD;Défenseur des droits;NGO;France;\"first line\r\n"
            "second; line\";;dd@example.fr;Claire;press;French;Active\r\n"
            "DDD;Défenseur des droits;NGO;France;;;"
            "other@example.fr;;;fr-ch;\r\n"
            "MUV;Müvəkkil Aparatı;Ombudsman;azerbaijan;;Ombudsman of "
            "Azerbaijan;m@example.az;;;Azerbaijani;\r\n"
            "MUV;Müvəkkil Aparatı;Ombudsman;AZ;a note on the second row;;"
            "m2@example.az;;;az;SUPPRESSED\r\n"
            "UKO;UK Office;UN organ;United Kingdom;;;;;;;\r\n"
            "CIV;Médiateur;ombudsman;Côte d'Ivoire;;;;;;;\r\n"
            ";;;;;;;;;;\r\n"
            "EQ;'=not a formula;ngo;;'-5 notes;;;;;;\r\n")
        path = self.write("clerk.csv", text.encode())
        r = self.home.ok("registry", "import-csv", path)
        self.assertIn("7 rows; 5 bodies added", r.out)
        self.assertEqual(self.home.sql(
            "SELECT acronym, name, kind, country, notes FROM bodies "
            "ORDER BY id"),
            [("DDD", "Défenseur des droits", "ngo", "FR",
              "first line\nsecond; line"),
             ("MUV", "Müvəkkil Aparatı", "ombudsman", "AZ",
              "a note on the second row"),
             ("UKO", "UK Office", "un-organ", "GB", None),
             ("CIV", "Médiateur", "ombudsman", "CI", None),
             ("EQ", "=not a formula", "ngo", None, "-5 notes")])
        self.assertEqual(self.home.sql(
            "SELECT email, name, role, language, status FROM contacts "
            "ORDER BY id"),
            [("dd@example.fr", "Claire", "press", "fr", "active"),
             ("other@example.fr", None, None, "fr-CH", "active"),
             ("m@example.az", None, None, "az", "active"),
             ("m2@example.az", None, None, "az", "suppressed")])

    def test_wrong_cells_are_one_line_each_and_change_nothing(self):
        header = ("acronym;name;kind;country;notes;aliases;email;"
                  "contact_name;role;language;status\r\n")
        cases = [
            ("X;Body;ngo;Frankreich;;;;;;;\r\n",
             "book.csv:2: column 'country': 'Frankreich' is not a country "
             "(an ISO 3166 code like 'FR' or an English name like "
             "'France')"),
            ("X;Body;ngo;;;;x@example.org;;;Französisch;\r\n",
             "book.csv:2: column 'language': 'Französisch' is not a "
             "language (a BCP 47 tag like 'fr' or 'fr-CH', or an English "
             "name like 'French')"),
            ("X;Body;charity;;;;;;;;\r\n",
             "book.csv:2: column 'kind': 'charity' is not a kind (one of "
             "un-organ, un-agency"),
            ("X;Body;ngo;;\"bell\x07\";;;;;;\r\n",
             "book.csv:2: column 'notes': contains a control character "
             "(line breaks and tabs are the only ones a note may hold)"),
            ("X;\"Two\nlines\";ngo;;;;;;;;\r\n",
             "book.csv:2: column 'name': contains a line break or control "
             "character (only notes may hold line breaks)"),
            ("X;Body;ngo;;one note;;a@example.org;;;;\r\n"
             "X;Body;ngo;;another note;;b@example.org;;;;\r\n",
             "book.csv:3: column 'notes': differs from the notes at line 2: "
             "notes belong to the body, not to a contact"),
        ]
        for rows, want in cases:
            with self.subTest(want=want):
                path = self.write("book.csv", (header + rows).encode())
                before = self.home.snapshot()
                r = self.home.run("registry", "import-csv", path)
                self.assertEqual(r.rc, 65, r)
                lines = r.err.strip().split("\n")
                self.assertIn(os.sep + want, lines[0], r)
                self.assertIn("1 bad row; nothing imported", lines[1])
                self.assertEqual(len(lines), 2, r)
                self.assertEqual(self.home.snapshot(), before)


if __name__ == "__main__":
    import unittest
    unittest.main()
