"""Issue 21's "Done when", end to end: one template in English, French,
Russian and Arabic using the salutation, the running name, the ordinal
(a grammatical form in Russian) and the event date; a list whose contacts
speak en, fr, ru, ar and de (no variant: the configured fallback); the
plan at schedule naming the fallbacks; every message sent through a real
SMTP peer by the daemon and parsed back (Python's email package) with the
exact strings ICU 72 writes (as in tests/unit/test_locale_format.c); then
the audit's language per delivery and the matrix by language."""
import email
import email.policy
import json
import os

from harness import Peer, TestCase

EN = ("Subject: The {{anniversary.ordinal}} anniversary, {{event.date}}\n\n"
      "{{contact.salutation}},\n\n"
      "We ask {{body.running_name}} to mark the {{anniversary.ordinal}} "
      "anniversary of {{event.date}}.\n"
      "--- html ---\n"
      "<p>{{contact.salutation}},</p>\n"
      "<p>The {{anniversary.ordinal}} anniversary.</p>\n")
FR = ("Subject: {{anniversary.ordinal}} anniversaire, {{event.date}}\n\n"
      "{{contact.salutation}},\n\n"
      "Nous demandons à {{body.running_name}} de marquer le "
      "{{anniversary.ordinal}} anniversaire du {{event.date}}.\n")
RU = ("Subject: {{anniversary.ordinal_feminine}} годовщина, "
      "{{event.date}}\n\n"
      "{{contact.salutation}},\n\n"
      "{{anniversary.ordinal_feminine}} годовщина событий {{event.date}}: "
      "просим {{body.running_name}} почтить память.\n")
AR = ("Subject: الذكرى {{anniversary.ordinal}}، {{event.date}}\n\n"
      "{{contact.salutation}}،\n\n"
      "نطلب من {{body.running_name}} إحياء الذكرى {{anniversary.ordinal}} "
      "لأحداث {{event.date}}.\n"
      "--- html ---\n"
      "<p>{{contact.salutation}}،</p>\n"
      "<p>الذكرى {{anniversary.ordinal}}</p>\n")

NNBSP = "\u202f"  # ICU 72's narrow no-break space before "г."
RU_DATE = "26 февраля 1992" + NNBSP + "г."
AR_DATE = "٢٦ فبراير ١٩٩٢"

# contact: (language sent, Subject, the text part)
WANT = {
    "president@unsc.example.org": (
        "en", "The 34th anniversary, 26 February 1992",
        "Dear Mr President,\n\nWe ask the United Nations Security "
        "Council to mark the 34th anniversary of 26 February 1992.\n"),
    "sg@coe.example.org": (
        "fr", "34e anniversaire, 26 février 1992",
        "Monsieur le Secrétaire général,\n\nNous demandons à le Conseil "
        "de l'Europe de marquer le 34e anniversaire du 26 février "
        "1992.\n"),
    "bundestag@coe.example.org": (
        "fr", "34e anniversaire, 26 février 1992",
        "Madame, Monsieur,\n\nNous demandons à le Conseil de l'Europe "
        "de marquer le 34e anniversaire du 26 février 1992.\n"),
    "amb@embassy-ru.example.org": (
        "ru", "34-я годовщина, " + RU_DATE,
        "Ваше Превосходительство,\n\n34-я годовщина событий " + RU_DATE +
        ": просим Посольство Российской Федерации почтить память.\n"),
    "sg@oic.example.org": (
        "ar", "الذكرى ٣٤.، " + AR_DATE,
        "السيدات والسادة المحترمون،\n\nنطلب من منظمة التعاون الإسلامي "
        "إحياء الذكرى ٣٤. لأحداث " + AR_DATE + ".\n"),
}


class LanguagesTest(TestCase):
    def setUp(self):
        super().setUp()
        h = self.home
        self.peer = Peer(os.path.join(h.dir, "peer"))
        # the German contact has no variant: language.fallback sends it
        # the French one
        h.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            '}; };\nlanguage = { fallback = "de = fr"; };\n'
            % self.peer.port)
        for acronym, name, kind in (
                ("UNSC", "United Nations Security Council", "un-organ"),
                ("CoE", "Council of Europe", "regional-org"),
                ("EMB-RU", "Посольство Российской Федерации", "embassy"),
                ("OIC", "منظمة التعاون الإسلامي", "regional-org")):
            h.ok("body", "add", name, "--kind", kind, "--acronym", acronym)
        h.ok("body", "edit", "UNSC", "--running-name",
             "the United Nations Security Council")
        h.ok("body", "edit", "CoE", "--running-name",
             "le Conseil de l'Europe", "--lang", "fr")
        for body, addr, lang in (
                ("UNSC", "president@unsc.example.org", "en"),
                ("CoE", "sg@coe.example.org", "fr"),
                ("CoE", "bundestag@coe.example.org", "de"),
                ("EMB-RU", "amb@embassy-ru.example.org", "ru"),
                ("OIC", "sg@oic.example.org", "ar")):
            h.ok("contact", "add", body, addr, "--language", lang)
        # an explicit salutation in each of two languages; the embassy
        # falls back to its kind's default, the OIC and the German
        # contact to the neutral greeting of the language sent
        h.ok("contact", "edit", "president@unsc.example.org",
             "--salutation", "Dear Mr President")
        h.ok("contact", "edit", "sg@coe.example.org", "--salutation",
             "Monsieur le Secrétaire général", "--lang", "fr")
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "UNSC", "CoE", "EMB-RU", "OIC")
        self.add("en.tmpl", EN)
        self.add("fr.tmpl", FR, "--lang", "fr")
        self.add("ru.tmpl", RU, "--lang", "ru")
        self.add("ar.tmpl", AR, "--lang", "ar")

    def tearDown(self):
        self.peer.stop()
        super().tearDown()

    def add(self, rel, source, *extra):
        path = os.path.join(self.home.dir, rel)
        with open(path, "w") as f:
            f.write(source)
        self.home.ok("template", "add", "khojaly", path, *extra)

    def test_each_contact_its_language_ordinal_date_and_salutation(self):
        h = self.home
        h.ok("campaign", "create", "feb", "--template", "khojaly", "--list",
             "all", "--at", "2026-02-25 10:00", "--now", "--tz", "UTC",
             "--event-date", "1992-02-26")
        r = h.ok("campaign", "schedule", "feb", "--now")
        plan = r.out.splitlines()
        self.assertIn("language ar: 1 contact (OIC)", plan)
        self.assertIn("language en: 1 contact (UNSC)", plan)
        self.assertIn("language fr: 2 contacts (CoE)", plan)
        self.assertIn("language ru: 1 contact (EMB-RU)", plan)
        self.assertEqual([line for line in plan
                          if line.startswith("fallback:")],
                         ["fallback: bundestag@coe.example.org (CoE) speaks "
                          "de, no variant in it: gets fr (fallback chain)"])
        self.assertEqual(
            [line for line in plan if line.startswith("salutation:")],
            ['salutation: bundestag@coe.example.org (CoE) gets "Madame, '
             'Monsieur" (no salutation in fr and no default for '
             'regional-org: neutral)',
             'salutation: amb@embassy-ru.example.org (EMB-RU) gets "Ваше '
             'Превосходительство" (no salutation in ru: the default for '
             'embassy)',
             'salutation: sg@oic.example.org (OIC) gets "السيدات والسادة '
             'المحترمون" (no salutation in ar and no default for '
             'regional-org: neutral)'])

        r = h.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 0, r)
        got = {}
        for ev in self.peer.messages():
            # as received on the wire (CRLF), read with Python's line ends
            raw = self.peer.content(ev).replace("\r\n", "\n")
            # the headers are ASCII: RFC 2047 words where they are not
            head = raw.split("\n\n", 1)[0]
            self.assertTrue(head.isascii(), head)
            got[ev["rcpt_tos"][0]] = email.message_from_string(
                raw, policy=email.policy.default)
        self.assertEqual(sorted(got), sorted(WANT))
        for rcpt, (lang, subject, text) in WANT.items():
            msg = got[rcpt]
            self.assertEqual(msg["Subject"], subject, rcpt)
            plain = msg.get_body(("plain",))
            self.assertEqual(plain.get_content_charset(), "utf-8", rcpt)
            self.assertEqual(plain.get_content(), text, rcpt)
            html = msg.get_body(("html",))
            if lang == "ar":
                self.assertEqual(html.get_content(),
                                 '<div dir="rtl" lang="ar">\n<p>السيدات '
                                 'والسادة المحترمون،</p>\n<p>الذكرى '
                                 '٣٤.</p>\n</div>\n')
            elif lang == "en":
                self.assertNotIn("rtl", html.get_content())
                self.assertIn("<p>Dear Mr President,</p>",
                              html.get_content())
            else:
                self.assertIsNone(html, rcpt)
        self.assertEqual(
            dict(h.sql("SELECT email, language FROM deliveries WHERE "
                       "state = 'sent'")),
            {rcpt: w[0] for rcpt, w in WANT.items()})

        # audit campaign: the language of each delivery
        report = json.loads(h.ok("audit", "campaign", "feb", "--format",
                                 "json").out)
        self.assertEqual({d["email"]: d["language"]
                          for d in report["deliveries"]},
                         {rcpt: w[0] for rcpt, w in WANT.items()})
        # audit body: the language too, in a column of the table
        report = json.loads(h.ok("audit", "body", "CoE", "--format",
                                 "json").out)
        self.assertEqual(sorted((d["email"], d["language"])
                                for d in report["deliveries"]),
                         [("bundestag@coe.example.org", "fr"),
                          ("sg@coe.example.org", "fr")])
        table = h.ok("audit", "body", "EMB-RU").out
        header = [line for line in table.splitlines()
                  if line.startswith("YEAR")][0]
        self.assertIn("LANGUAGE", header)
        # the matrix by language: only the Russian one
        matrix = json.loads(h.ok("audit", "matrix", "--lang", "ru",
                                 "--format", "json").out)
        self.assertEqual([b["acronym"] for b in matrix["bodies"]],
                         ["EMB-RU"])


if __name__ == "__main__":
    import unittest
    unittest.main()
