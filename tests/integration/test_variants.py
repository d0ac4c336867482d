"""Issue 21 end to end: language variants of a template, the variant each
contact gets (contact, body, campaign, default; fallback chain), the plan
that says so, messages sent through a real SMTP peer and parsed back, and
the audit's language and SHA-256 per delivery."""
import email
import email.policy
import hashlib
import json
import os

from harness import Peer, TestCase

DEFAULT = ("Subject: Statement to {{body.acronym}}\n\n"
           "To the {{body.name}}: the statement.\n")
FR = ("Subject: Déclaration au {{body.acronym}}\n"
      "Attach: declaration.pdf\n\n"
      "Au {{body.name}} : la déclaration.\n{{> signature}}\n")
RU = ("Subject: Заявление для {{body.acronym}}\n\n"
      "Уважаемые коллеги, заявление.\n")
AR = ("Subject: بيان إلى {{body.acronym}}\n\n"
      "إلى {{body.name}}: البيان.\n")


class VariantsTest(TestCase):
    def setUp(self):
        super().setUp()
        h = self.home
        self.peers = []
        for acronym, name, kind in (
                ("UNSC", "United Nations Security Council", "un-organ"),
                ("CoE", "Council of Europe", "regional-org"),
                ("MFA-RU", "Ministry of Foreign Affairs of Russia", "other"),
                ("OIC", "Organisation of Islamic Cooperation",
                 "regional-org")):
            h.ok("body", "add", name, "--kind", kind, "--acronym", acronym)
        h.ok("body", "edit", "CoE", "--language", "fr")
        for body, addr, lang in (
                ("UNSC", "en@unsc.example.org", "en"),
                ("UNSC", "de@unsc.example.org", "de"),
                ("CoE", "en@coe.example.org", "en"),
                ("CoE", "fr@coe.example.org", "fr"),
                ("CoE", "de@coe.example.org", "de"),
                ("CoE", "qc@coe.example.org", "fr-CA"),
                ("MFA-RU", "ru@mid.example.org", "ru"),
                ("OIC", "ar@oic.example.org", "ar")):
            h.ok("contact", "add", body, addr, "--language", lang)
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "UNSC", "CoE", "MFA-RU", "OIC")
        self.add("default.tmpl", DEFAULT)
        frdir = os.path.join(h.dir, "fr")
        os.mkdir(frdir)
        with open(os.path.join(frdir, "declaration.pdf"), "wb") as f:
            f.write(b"%PDF-1.4 la declaration")
        with open(os.path.join(frdir, "signature.partial"), "w") as f:
            f.write("Le Médiateur\n")
        self.add(os.path.join("fr", "fr.tmpl"), FR, "--lang", "fr")
        self.add("ru.tmpl", RU, "--lang", "ru")
        self.add("ar.tmpl", AR, "--lang", "AR")

    def tearDown(self):
        for p in self.peers:
            p.stop()
        super().tearDown()

    def add(self, rel, source, *extra):
        path = os.path.join(self.home.dir, rel)
        with open(path, "w") as f:
            f.write(source)
        return self.home.ok("template", "add", "stmt", path, *extra)

    def test_add_list_show_render(self):
        h = self.home
        r = h.ok("template", "list", "stmt")
        self.assertIn("ar,fr,ru", r.out)
        rows = h.sql("SELECT t.version, v.lang FROM templates t JOIN "
                     "template_variants v ON v.template_id = t.id "
                     "WHERE t.version = 4 ORDER BY v.lang")
        self.assertEqual(rows, [(4, "ar"), (4, "fr"), (4, "ru")])
        self.assertEqual(h.scalar(
            "SELECT filename FROM template_variant_attachments WHERE "
            "lang = 'fr' AND template_id = (SELECT max(id) FROM "
            "templates)"), "declaration.pdf")
        r = h.ok("template", "show", "stmt", "--lang", "ru")
        self.assertIn("# variant: ru", r.out)
        self.assertIn("Уважаемые коллеги", r.out)
        # a variant in a language the version lacks: one line, status 66
        self.assertFails(("template", "show", "stmt", "--lang", "de"), 67,
                         "template stmt version 4 has no 'de' variant (it "
                         "has: default, ar,fr,ru)")
        self.assertFails(("template", "add", "stmt",
                          os.path.join(h.dir, "ru.tmpl"), "--lang", "ru_RU"),
                         64, "'ru_RU' is not a BCP 47 language tag")
        r = h.ok("template", "render", "stmt", "--body", "CoE", "--contact",
                 "qc@coe.example.org")
        msg = email.message_from_string(r.out, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "Déclaration au CoE")
        r = h.ok("template", "render", "stmt", "--body", "CoE", "--lang",
                 "ru")
        msg = email.message_from_string(r.out, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "Заявление для CoE")

    def smtp_conf(self, port):
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            '}; };\n' % port)

    def test_campaign_sends_each_its_language(self):
        h = self.home
        peer = Peer(os.path.join(h.dir, "peer"))
        self.peers.append(peer)
        self.smtp_conf(peer.port)
        h.ok("campaign", "create", "feb", "--template", "stmt", "--list",
             "all", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC",
             "--lang", "ru")
        self.assertEqual(h.scalar("SELECT language FROM campaigns"), "ru")
        r = h.ok("campaign", "schedule", "feb", "--now")
        # the plan: which bodies get which language, and the fallbacks
        self.assertIn("language ar: 1 contact (OIC)", r.out)
        self.assertIn("language en: 2 contacts (UNSC, CoE)", r.out)
        self.assertIn("language fr: 3 contacts (CoE)", r.out)
        self.assertIn("language ru: 2 contacts (UNSC, MFA-RU)", r.out)
        self.assertIn("fallback: de@coe.example.org (CoE) speaks de, no "
                      "variant in it: gets fr (body's language)", r.out)
        self.assertIn("fallback: de@unsc.example.org (UNSC) speaks de, no "
                      "variant in it: gets ru (campaign's language)", r.out)
        self.assertIn("fallback: qc@coe.example.org (CoE) speaks fr-CA, no "
                      "variant in it: gets fr (fallback chain)", r.out)
        self.assertNotIn("fallback: fr@coe", r.out)
        r = h.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 0, r)

        want = {"en@unsc.example.org": ("en", "Statement to UNSC"),
                "de@unsc.example.org": ("ru", "Заявление для UNSC"),
                "en@coe.example.org": ("en", "Statement to CoE"),
                "fr@coe.example.org": ("fr", "Déclaration au CoE"),
                "de@coe.example.org": ("fr", "Déclaration au CoE"),
                "qc@coe.example.org": ("fr", "Déclaration au CoE"),
                "ru@mid.example.org": ("ru", "Заявление для MFA-RU"),
                "ar@oic.example.org": ("ar", "بيان إلى OIC")}
        got = {}
        for ev in peer.messages():
            raw = peer.content(ev)
            msg = email.message_from_string(raw,
                                            policy=email.policy.default)
            rcpt = ev["rcpt_tos"][0]
            got[rcpt] = (msg, raw)
        self.assertEqual(sorted(got), sorted(want))
        rows = {e: (lang, sha) for e, lang, sha in h.sql(
            "SELECT email, language, sha256 FROM deliveries "
            "WHERE state = 'sent'")}
        self.assertEqual(sorted(rows), sorted(want))
        for rcpt, (lang, subject) in want.items():
            msg, raw = got[rcpt]
            self.assertEqual(msg["Subject"], subject, rcpt)
            names = [p.get_filename() for p in msg.iter_attachments()]
            self.assertEqual(names, ["declaration.pdf"] if lang == "fr"
                             else [], rcpt)
            body = msg.get_body(("plain",)).get_content()
            if lang == "fr":
                self.assertIn("Le Médiateur", body)
            if lang == "ar":
                self.assertIn("البيان", body)
            self.assertEqual(rows[rcpt][0], lang, rcpt)
            # the SHA-256 recorded is that of the bytes the relay got
            self.assertEqual(rows[rcpt][1], hashlib.sha256(
                raw.encode()).hexdigest(), rcpt)
        # the ledger says it too
        sent = h.sql("SELECT json_extract(data, '$.to'), "
                     "json_extract(data, '$.lang'), "
                     "json_extract(data, '$.sha256') FROM events "
                     "WHERE kind = 'delivery.sent'")
        self.assertEqual({t: (l, s) for t, l, s in sent}, rows)
        self.assertIn("ok:", h.ok("audit", "verify").out)

        # audit campaign: the language of each delivery
        r = h.ok("audit", "campaign", "feb", "--format", "json")
        report = json.loads(r.out)
        by_email = {d["email"]: d for d in report["deliveries"]}
        for rcpt, (lang, _) in want.items():
            self.assertEqual(by_email[rcpt]["language"], lang, rcpt)
            self.assertEqual(by_email[rcpt]["sha256"], rows[rcpt][1])
        r = h.ok("audit", "campaign", "feb")
        self.assertIn("LANGUAGE", r.out)

        # the matrix by language
        r = h.ok("audit", "matrix", "--lang", "ar", "--format", "json")
        bodies = [b["acronym"] for b in json.loads(r.out)["bodies"]]
        self.assertEqual(bodies, ["OIC"])
        r = h.ok("audit", "matrix", "--lang", "FR", "--format", "json")
        bodies = [b["acronym"] for b in json.loads(r.out)["bodies"]]
        self.assertEqual(bodies, ["CoE"])
        r = h.ok("audit", "matrix", "--format", "json")
        self.assertEqual(len(json.loads(r.out)["bodies"]), 4)
        self.assertFails(("audit", "matrix", "--lang", "e n"), 64,
                         "--lang: 'e n' is not a BCP 47")
        self.assertFails(("audit", "campaign", "feb", "--lang", "fr"), 64,
                         "--lang applies to 'audit matrix' only")

    def test_edited_language_holds_when_the_daemon_sends(self):
        """An approved campaign's language edited: the approval is voided,
        and what the daemon sends after the new sign-off is the new
        language, not the one approved first."""
        h = self.home
        peer = Peer(os.path.join(h.dir, "peer"))
        self.peers.append(peer)
        h.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            '}; };\ncampaign = { approvals = 1; };\n' % peer.port)
        h.ok("campaign", "create", "feb", "--template", "stmt", "--list",
             "all", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC",
             "--lang", "ru")
        h.ok("--as", "alice", "campaign", "approve", "feb", "--now")
        self.assertEqual(h.scalar("SELECT state FROM campaigns"), "approved")
        r = h.ok("--as", "bob", "campaign", "edit", "feb", "--lang", "ar")
        self.assertIn("voided", r.out + r.err)
        self.assertEqual(h.scalar("SELECT state FROM campaigns"), "draft")
        self.assertEqual(h.scalar("SELECT language FROM campaigns"), "ar")
        h.ok("--as", "alice", "campaign", "approve", "feb", "--now")
        h.ok("campaign", "schedule", "feb", "--now")
        r = h.run("--once", prog="chanceryd")
        self.assertEqual(r.rc, 0, r)
        # de@unsc has no variant of its own, nor its body: the campaign's
        self.assertEqual(h.sql("SELECT language FROM deliveries WHERE "
                               "email = 'de@unsc.example.org'"), [("ar",)])
        subjects = {}
        for ev in peer.messages():
            msg = email.message_from_string(peer.content(ev),
                                            policy=email.policy.default)
            subjects[ev["rcpt_tos"][0]] = msg["Subject"]
        self.assertEqual(subjects["de@unsc.example.org"], "بيان إلى UNSC")

    def test_config_fallback_and_bad_values(self):
        h = self.home
        h.write_conf('language = { fallback = "de = fr"; };\n')
        r = h.ok("template", "render", "stmt", "--body", "UNSC",
                 "--contact", "de@unsc.example.org")
        msg = email.message_from_string(r.out, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "Déclaration au UNSC")
        h.write_conf('language = { fallback = "de fr"; };\n')
        self.assertFails(("template", "list"), 78,
                         "'de fr' is not FROM=TO")
        h.write_conf('campaign = { language = "xx_YY"; };\n')
        self.assertFails(("template", "list"), 78,
                         "key 'campaign.language': 'xx_YY' is not a BCP 47")

    def test_series_campaigns_take_its_language(self):
        h = self.home
        env = {"CHANCERY_FAKE_NOW": "2025-02-20T00:00:00Z"}
        h.ok("series", "add", "khojaly", "--event-date", "1992-02-26",
             "--send", "02-25T10:00", "--tz", "Asia/Baku", "--template",
             "stmt", "--list", "all", "--lang", "FR", env=env)
        self.assertEqual(h.scalar("SELECT language FROM series"), "fr")
        self.assertFails(("series", "add", "x", "--event-date", "1992-02-26",
                          "--send", "02-25T10:00", "--template", "stmt",
                          "--list", "all", "--lang", "fr_FR"), 64,
                         "'fr_FR' is not a BCP 47")
        r = h.run("--once", prog="chanceryd", env=env)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(h.sql("SELECT series_year, language FROM "
                               "campaigns"), [(2025, "fr")])

        # series edit --lang: the series, and its coming draft, in the
        # same transaction; both in the ledger
        r = h.ok("series", "edit", "khojaly", "--lang", "RU", env=env)
        self.assertIn("series khojaly changed: language fr -> ru", r.out)
        self.assertIn("draft khojaly-2025 updated too", r.out)
        self.assertEqual(h.scalar("SELECT language FROM series"), "ru")
        self.assertEqual(h.scalar("SELECT language FROM campaigns"), "ru")
        data = json.loads(h.scalar(
            "SELECT data FROM events WHERE kind = 'series.edited'"))
        self.assertEqual((data["language_from"], data["language_to"],
                          data["campaign"], data["campaign_updated"]),
                         ("fr", "ru", "khojaly-2025", 1))
        data = json.loads(h.scalar(
            "SELECT data FROM events WHERE kind = 'campaign.edited'"))
        self.assertEqual(data, {"campaign": "khojaly-2025", "by": "series",
                                "language_from": "fr", "language_to": "ru"})
        self.assertIn("language:  ru\n", h.ok("series", "show", "khojaly",
                                               env=env).out)
        # "" removes it; a bad tag changes nothing
        r = h.ok("series", "edit", "khojaly", "--lang", "", env=env)
        self.assertIn("language ru -> none", r.out)
        self.assertEqual(h.sql("SELECT s.language, c.language FROM series s, "
                               "campaigns c"), [(None, None)])
        data = json.loads(h.scalar(
            "SELECT data FROM events WHERE kind = 'series.edited' "
            "ORDER BY id DESC LIMIT 1"))
        self.assertEqual((data["language_from"], data["language_to"]),
                         ("ru", None))
        self.assertFails(("series", "edit", "khojaly", "--lang", "ru_RU"), 64,
                         "'ru_RU' is not a BCP 47")
        self.assertFails(("series", "edit", "khojaly"), 64,
                         "--lead-days or --lang")
