"""Protocol (issue 21): bodies' running names and contacts' salutations per
language, salutation defaults by body kind, set from the command line and
rendered by `template render` (parsed back by Python's email package)."""
import email
import email.policy
import os

import harness

TEMPLATE = """Subject: Statement to {{body.running_name}}

{{contact.salutation}},

We ask {{body.running_name}} to join us on the {{anniversary.ordinal}}
anniversary ({{event.date}}).
"""


class ProtocolTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        path = os.path.join(self.home.dir, "p.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        self.home.ok("template", "add", "p", path)
        self.home.ok("body", "add", "Executive Office of the Secretary-General",
                     "--acronym", "EOSG", "--kind", "un-organ")
        self.home.ok("contact", "add", "EOSG", "eosg@un.example", "--name",
                     "Executive Office of the Secretary-General")
        self.home.ok("body", "add", "Embassy of France in Baku", "--acronym",
                     "FRBAKU", "--kind", "embassy")
        self.home.ok("contact", "add", "FRBAKU", "amb@fr.example")

    def render(self, body, contact):
        r = self.home.ok("template", "render", "p", "--body", body,
                         "--contact", contact, "--event-date", "1992-02-26",
                         "--at", "2026-02-26")
        msg = email.message_from_string(r.out, policy=email.policy.default)
        return msg["Subject"], msg.get_content()

    def test_running_name_and_salutation(self):
        self.home.ok("body", "edit", "EOSG", "--running-name",
                     "the Executive Office of the Secretary-General")
        self.home.ok("body", "edit", "EOSG", "--running-name",
                     "le Cabinet du Secrétaire général", "--lang", "fr")
        r = self.home.ok("contact", "edit", "eosg@un.example",
                         "--salutation", "Dear Chef de Cabinet")
        self.assertIn("1 field changed", r.out)
        subject, text = self.render("EOSG", "eosg@un.example")
        self.assertEqual(subject, "Statement to the Executive Office of "
                         "the Secretary-General")
        self.assertEqual(text, "Dear Chef de Cabinet,\n\nWe ask the "
                         "Executive Office of the Secretary-General to "
                         "join us on the 34th\nanniversary (26 February "
                         "1992).\n")
        r = self.home.ok("body", "show", "EOSG")
        self.assertIn("  running  en    the Executive Office of the "
                      "Secretary-General\n", r.out)
        self.assertIn("  running  fr    le Cabinet du Secrétaire général\n",
                      r.out)
        self.assertEqual(self.home.sql(
            "SELECT lang, running_name FROM body_running_names "
            "ORDER BY lang"),
            [("en", "the Executive Office of the Secretary-General"),
             ("fr", "le Cabinet du Secrétaire général")])
        self.assertEqual(self.home.sql(
            "SELECT c.email, s.lang, s.salutation FROM contact_salutations s "
            "JOIN contacts c ON c.id = s.contact_id"),
            [("eosg@un.example", "en", "Dear Chef de Cabinet")])
        # "" removes; the same text again changes nothing
        r = self.home.ok("contact", "edit", "eosg@un.example",
                         "--salutation", "Dear Chef de Cabinet")
        self.assertIn("nothing changed", r.out)
        self.home.ok("contact", "edit", "eosg@un.example", "--salutation", "")
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM contact_salutations"), 0)

    def test_fallbacks_never_name_an_office(self):
        # no salutation, no default for un-organ: the neutral greeting,
        # not "Dear Executive Office of the Secretary-General"
        subject, text = self.render("EOSG", "eosg@un.example")
        self.assertTrue(text.startswith("Dear Sir or Madam,\n"), text)
        self.assertNotIn("Dear Executive", text)
        # without a running name: the registered name
        self.assertEqual(subject, "Statement to Executive Office of the "
                         "Secretary-General")
        # an embassy: the kind's default, which the office can change
        _, text = self.render("FRBAKU", "amb@fr.example")
        self.assertTrue(text.startswith("Your Excellency,\n"), text)
        self.home.ok("registry", "protocol", "embassy", "--salutation",
                     "Excellency")
        _, text = self.render("FRBAKU", "amb@fr.example")
        self.assertTrue(text.startswith("Excellency,\n"), text)
        r = self.home.ok("registry", "protocol", "embassy")
        self.assertIn("embassy          en     Excellency\n", r.out)
        self.assertIn("embassy          fr     Excellence\n", r.out)
        # the default removed: neutral again
        self.home.ok("registry", "protocol", "embassy", "--salutation", "")
        _, text = self.render("FRBAKU", "amb@fr.example")
        self.assertTrue(text.startswith("Dear Sir or Madam,\n"), text)

    def test_refused_inputs_change_nothing(self):
        self.assertFails(["body", "edit", "EOSG", "--running-name", "x",
                          "--lang", "not a language"], 65,
                         "language 'not a language' is not a language tag")
        self.assertFails(["contact", "edit", "eosg@un.example",
                          "--salutation", "Dear\nSir"], 65,
                         "salutation must be one line of UTF-8 text")
        self.assertFails(["contact", "edit", "eosg@un.example",
                          "--salutation", "x" * 201], 65,
                         "salutation is longer than 200 bytes")
        self.assertFails(["registry", "protocol", "palace", "--salutation",
                          "x"], 65, "unknown body kind 'palace'")
        self.assertFails(["body", "edit", "EOSG", "--lang", "fr"], 64,
                         "--lang is the language of --running-name")
        # a body change and a bad running name: neither is kept
        self.assertFails(["body", "edit", "EOSG", "--notes", "n",
                          "--running-name", "a\tb"], 65,
                         "running name must be one line")


if __name__ == "__main__":
    import unittest
    unittest.main()
