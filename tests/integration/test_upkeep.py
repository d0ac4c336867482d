"""Everyday upkeep of the registry (issue 17): contact edit, body merge,
find, body/contact history, and IDNA addresses, through the built
`chancery` against a real database file: output, rows, ledger events
(kind, data, actor) and, for every error, a one-line message and an
unchanged database.

Run by ctest with /usr/bin/python3 -m unittest; see harness.py.
"""
import json
import os
import time
import unittest

import harness

TEMPLATE = ("Subject: To {{body.name}}\n\n"
            "Dear {{contact.name}},\n\nThe statement.\n")


class Base(harness.TestCase):
    maxDiff = None

    def events(self, kind):
        """(body_id, contact_id, data, actor) of each event of kind."""
        return [(b, c, json.loads(d), a) for b, c, d, a in self.home.sql(
            "SELECT body_id, contact_id, data, actor FROM events "
            "WHERE kind = ? ORDER BY id", kind)]

    def body_id(self, acronym):
        return self.home.scalar("SELECT id FROM bodies WHERE acronym = ?",
                                acronym)

    def write(self, name, text):
        path = os.path.join(self.home.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class RoundTripSafeValuesTest(Base):
    """What the CLI stores must come back unchanged through export-csv and
    import-csv: no space at either end of a name, no '|' in a body name
    (it separates aliases), no CR in notes, and a language stored as the
    tag ICU writes."""

    def setUp(self):
        super().setUp()
        self.home.ok("body", "add", "UNESCO", "--kind", "un-agency",
                     "--acronym", "UNESCO")

    def test_refusals_name_the_value(self):
        cases = [
            (["body", "add", " UNICEF", "--kind", "un-agency"],
             "body name ' UNICEF' begins or ends with a space"),
            (["body", "add", "UNICEF ", "--kind", "un-agency"],
             "body name 'UNICEF ' begins or ends with a space"),
            (["body", "add", "UNICEF|UN Children's Fund", "--kind",
              "un-agency"], "holds '|' (it separates aliases in the CSV"),
            (["body", "add", "UNICEF", "--kind", "un-agency", "--notes",
              "line one\rline two"], "body notes hold a control character"),
            (["contact", "add", "UNESCO", "dg@unesco.example", "--name",
              "Director-General "], "begins or ends with a space"),
            (["contact", "add", "UNESCO", "dg@unesco.example", "--language",
              "Klingonish"], "contact language 'Klingonish' is not a "
                             "language (a BCP 47 tag like 'fr'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assertFails(args, 65, message)

    def test_language_stored_as_its_tag(self):
        self.home.ok("contact", "add", "UNESCO", "dg@unesco.example",
                     "--language", "French")
        self.home.ok("contact", "add", "UNESCO", "adg@unesco.example",
                     "--language", "FR-ch")
        self.assertEqual(self.home.sql(
            "SELECT email, language FROM contacts ORDER BY id"),
            [("dg@unesco.example", "fr"), ("adg@unesco.example", "fr-CH")])
        self.home.ok("contact", "edit", "dg@unesco.example", "--language",
                     "Azerbaijani")
        self.assertEqual(self.home.scalar(
            "SELECT language FROM contacts WHERE email = "
            "'dg@unesco.example'"), "az")
        self.assertFails(["contact", "edit", "dg@unesco.example",
                          "--language", "xx-nowhere-at-all"], 65,
                         "is not a language")


class ContactEditTest(Base):
    def setUp(self):
        super().setUp()
        self.home.ok("body", "add", "Office of the Ombudsman", "--acronym",
                     "OMB", "--kind", "ombudsman")
        self.home.ok("body", "add", "Human Rights Council", "--acronym",
                     "HRC", "--kind", "un-organ")
        self.home.ok("contact", "add", "OMB", "info@omb.example", "--name",
                     "Registry", "--role", "desk")
        self.home.ok("contact", "add", "OMB", "other@omb.example")
        self.cid = self.home.scalar(
            "SELECT id FROM contacts WHERE email = 'info@omb.example'")

    def test_edit_every_field_keeps_the_row_and_records_from_to(self):
        r = self.home.ok("--as", "clerk", "contact", "edit",
                         "info@omb.example", "--email", "desk@omb.example",
                         "--name", "Front desk", "--role", "", "--language",
                         "fr", "--notes", "first line\nsecond line")
        self.assertEqual(r.out, "info@omb.example: now desk@omb.example "
                                "(5 fields changed)\n")
        row = self.home.sql("SELECT id, email, name, role, language, notes "
                            "FROM contacts WHERE id = ?", self.cid)
        self.assertEqual(row, [(self.cid, "desk@omb.example", "Front desk",
                                None, "fr", "first line\nsecond line")])
        ev = self.events("contact.changed")
        self.assertEqual(len(ev), 1)
        body, contact, data, actor = ev[0]
        self.assertEqual((body, contact, actor),
                         (self.body_id("OMB"), self.cid, "clerk"))
        self.assertEqual(data, {
            "contact": "info@omb.example",
            "email": {"from": "info@omb.example", "to": "desk@omb.example"},
            "name": {"from": "Registry", "to": "Front desk"},
            "role": {"from": "desk", "to": None},
            "language": {"from": None, "to": "fr"},
            "notes": {"from": None, "to": "first line\nsecond line"}})
        # The old address no longer names it; the new one does.
        self.assertFails(["contact", "edit", "info@omb.example", "--name",
                          "x"], 67, "no contact info@omb.example")
        shown = json.loads(self.home.ok("--json", "body", "show",
                                        "OMB").out)["contacts"]
        self.assertEqual([(c["email"], c["notes"]) for c in shown],
                         [("desk@omb.example", "first line\nsecond line"),
                          ("other@omb.example", None)])
        r = self.home.ok("--json", "contact", "history", "desk@omb.example")
        kinds = [e["kind"] for e in json.loads(r.out)]
        self.assertEqual(kinds, ["contact.added", "contact.changed"])

    def test_address_change_keeps_deliveries_and_history(self):
        self.home.ok("list", "create", "l")
        self.home.ok("list", "add", "l", "OMB")
        self.home.ok("template", "add", "t", self.write("t.tmpl", TEMPLATE))
        self.home.ok("campaign", "create", "c", "--template", "t", "--list",
                     "l", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        self.home.ok("campaign", "schedule", "c", "--now")
        self.assertEqual(self.home.run("--once", prog="chanceryd").rc, 0)
        before = self.home.ok("--json", "audit", "campaign", "c").out
        self.home.ok("contact", "edit", "info@omb.example", "--email",
                     "new@omb.example")
        self.assertEqual(self.home.sql(
            "SELECT email FROM deliveries WHERE contact_id = ?", self.cid),
            [("info@omb.example",)])
        self.assertEqual(self.home.ok("--json", "audit", "campaign",
                                      "c").out, before)

    def test_nothing_changed_says_so_and_records_nothing(self):
        before = self.home.snapshot()
        r = self.home.ok("contact", "edit", "info@omb.example", "--name",
                         "Registry", "--role", "desk")
        self.assertEqual(r.out, "info@omb.example: nothing changed\n")
        self.assertEqual(self.home.snapshot(), before)

    def test_idn_address_change_stored_in_unicode(self):
        self.home.ok("contact", "edit", "info@omb.example", "--email",
                     "info@xn--mnchen-3ya.de")
        self.assertEqual(self.home.scalar(
            "SELECT email FROM contacts WHERE id = ?", self.cid),
            "info@münchen.de")
        # Either spelling finds it again.
        r = self.home.ok("contact", "edit", "info@xn--mnchen-3ya.de",
                         "--name", "Registry")
        self.assertIn("nothing changed", r.out)

    def test_errors_change_nothing(self):
        self.home.ok("contact", "add", "HRC", "info@omb.example")
        cases = [
            (("contact", "edit", "info@omb.example", "--name", "x"), 65,
             "info@omb.example is a contact of 2 bodies; name one with "
             "--body"),
            (("contact", "edit", "info@omb.example", "--body", "OMB",
              "--email", "other@omb.example"), 65,
             "other@omb.example is already a contact of OMB"),
            (("contact", "edit", "info@omb.example", "--body", "OMB",
              "--email", "OTHER@omb.example"), 65,
             "is already a contact of OMB"),
            (("contact", "edit", "info@omb.example", "--body", "OMB",
              "--email", "o@ex%ample.org"), 65,
             "the domain holds '%'"),
            (("contact", "edit", "info@omb.example", "--body", "OMB",
              "--email", "a" * 65 + "@omb.example"), 65,
             "the local part is 65 bytes"),
            (("contact", "edit", "info@omb.example", "--body", "OMB",
              "--name", "x\x1by"), 65, "contact name holds a control"),
            (("contact", "edit", "info@omb.example", "--body", "OMB",
              "--notes", "bell\x07"), 65, "contact notes hold a control"),
            (("contact", "edit", "nobody@omb.example", "--name", "x"), 67,
             "no contact nobody@omb.example"),
            (("contact", "edit", "info@omb.example", "--body", "NOPE",
              "--name", "x"), 67, "no body 'NOPE'"),
            (("contact", "edit", "info@omb.example"), 64,
             "nothing to change"),
            (("contact", "edit", "--name", "x"), 64, "expected one EMAIL"),
        ]
        for args, rc, message in cases:
            with self.subTest(args=args):
                self.assertFails(list(args), rc, message)

    def test_case_only_change_of_own_address(self):
        r = self.home.ok("contact", "edit", "info@omb.example", "--email",
                         "Info@omb.example")
        self.assertIn("now Info@omb.example (1 field changed)", r.out)


class MergeTest(Base):
    def setUp(self):
        super().setUp()
        h = self.home
        h.ok("body", "add", "UN Human Rights Council", "--acronym", "UNHRC",
             "--kind", "un-organ")
        h.ok("body", "add", "Human Rights Council", "--acronym", "HRC",
             "--kind", "un-organ")
        h.ok("body", "alias", "HRC", "Conseil des droits de l'homme")
        h.ok("contact", "add", "UNHRC", "hrc@un.example")
        h.ok("contact", "add", "HRC", "hrc@un.example")
        h.ok("contact", "add", "HRC", "secretariat@un.example", "--name",
             "Secretariat")
        h.ok("contact", "suppress", "hrc@un.example", "--body", "HRC",
             "--reason", "asked by the body")
        h.ok("body", "add", "Other", "--acronym", "OTH", "--kind", "ngo")
        h.ok("list", "create", "a")
        h.ok("list", "add", "a", "OTH", "HRC")         # HRC at position 2
        h.ok("list", "create", "b")
        h.ok("list", "add", "b", "UNHRC", "HRC")       # both: no duplicate
        self.keep, self.drop = self.body_id("UNHRC"), self.body_id("HRC")
        self.moved = self.home.scalar(
            "SELECT id FROM contacts WHERE email = 'secretariat@un.example'")

    def campaign_sent(self):
        self.home.ok("template", "add", "t", self.write("t.tmpl", TEMPLATE))
        self.home.ok("campaign", "create", "c", "--template", "t", "--list",
                     "a", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        self.home.ok("campaign", "schedule", "c", "--now")
        self.assertEqual(self.home.run("--once", prog="chanceryd").rc, 0)

    def test_merge_moves_everything_once(self):
        self.campaign_sent()
        audit = self.home.ok("--json", "audit", "campaign", "c").out
        audit_body = json.loads(self.home.ok("--json", "audit", "body",
                                             "HRC").out)
        deliveries = self.home.sql("SELECT id, body_id, contact_id, email "
                                   "FROM deliveries ORDER BY id")
        r = self.home.ok("--as", "registrar", "body", "merge", "UNHRC",
                         "HRC")
        self.assertIn("merged #%d into #%d" % (self.drop, self.keep), r.out)
        self.assertIn("contacts moved: secretariat@un.example", r.out)
        self.assertIn("contacts not duplicated (the body already has "
                      "them): hrc@un.example", r.out)
        self.assertIn("stricter status kept: hrc@un.example: suppressed",
                      r.out)
        self.assertIn("list entries moved: a", r.out)
        self.assertIn("lists that already had it: b", r.out)
        # DROP: removed, pointing at KEEP, never deleted.
        self.assertEqual(self.home.sql(
            "SELECT removed_at IS NOT NULL, merged_into FROM bodies "
            "WHERE id = ?", self.drop), [(1, self.keep)])
        # Aliases: DROP's alias, name and acronym now find KEEP.
        for key in ("HRC", "Human Rights Council",
                    "conseil des droits de l'homme"):
            out = json.loads(self.home.ok("--json", "body", "show",
                                          key).out)
            self.assertEqual(out["id"], self.keep, key)
        # Contacts: the moved one is the same row; no duplicate address;
        # the suppression at DROP's request stands at KEEP.
        self.assertEqual(self.home.sql(
            "SELECT body_id, removed_at FROM contacts WHERE id = ?",
            self.moved), [(self.keep, None)])
        self.assertEqual(self.home.sql(
            "SELECT body_id, status FROM contacts WHERE email = "
            "'hrc@un.example' AND removed_at IS NULL"),
            [(self.keep, "suppressed")])
        # Lists: position kept in a, no duplicate in b.
        self.assertEqual(self.home.sql(
            "SELECT l.name, m.position, m.body_id FROM list_members m "
            "JOIN lists l ON l.id = m.list_id ORDER BY l.name, m.position"),
            [("a", 1, self.body_id("OTH")), ("a", 2, self.keep),
             ("b", 1, self.keep)])
        # Past deliveries still name the body they went to; the audit
        # of the past campaign and of the dropped body is unchanged.
        self.assertEqual(self.home.sql("SELECT id, body_id, contact_id, "
                                       "email FROM deliveries ORDER BY id"),
                         deliveries)
        self.assertEqual(self.home.ok("--json", "audit", "campaign",
                                      "c").out, audit)
        # The dropped body's own audit: the same deliveries; only its
        # removal is new.
        after = json.loads(self.home.ok("--json", "audit", "body",
                                        "HRC").out)
        self.assertIsNone(audit_body["body"].pop("removed_at"))
        self.assertIsNotNone(after["body"].pop("removed_at"))
        self.assertEqual(after, audit_body)
        self.home.ok("audit", "verify")
        # One event with both ids and what moved, and its actor.
        ev = self.events("body.merged")
        self.assertEqual(len(ev), 1)
        body, contact, data, actor = ev[0]
        self.assertEqual((body, contact, actor),
                         (self.keep, None, "registrar"))
        self.assertEqual(data, {
            "keep_id": self.keep, "keep": "UN Human Rights Council",
            "drop_id": self.drop, "drop": "Human Rights Council",
            "aliases": ["Human Rights Council", "HRC",
                        "Conseil des droits de l'homme"],
            "contacts": ["secretariat@un.example"],
            "contacts_kept": ["hrc@un.example"],
            "status_kept": ["hrc@un.example: suppressed"],
            "lists": ["a"], "lists_already": ["b"]})
        # The suppression taken over is an event of KEEP's contact.
        kept = self.home.scalar(
            "SELECT id FROM contacts WHERE email = 'hrc@un.example' AND "
            "body_id = ?", self.keep)
        ev = [e for e in self.events("contact.disabled") if e[1] == kept]
        self.assertEqual([(d["status"], d["reason"], a) for _, _, d, a in ev],
                         [("suppressed", "asked by the body", "registrar")])
        # Both histories show the merge, in words and as stored.
        for key in ("UNHRC", "#%d" % self.drop):
            h = json.loads(self.home.ok("--json", "body", "history",
                                        key).out)
            self.assertEqual(h[-1]["kind"], "body.merged", key)
            self.assertEqual(h[-1]["data"], data)
            last = self.home.ok("body", "history", key).out.splitlines()[-1]
            self.assertEqual(last.split()[1:3], ["body.merged", "registrar"])
            self.assertIn("contacts: secretariat@un.example; contacts_kept: "
                          "hrc@un.example; status_kept: hrc@un.example: "
                          "suppressed; lists: a; lists_already: b", last)

    def smtp(self, *peer_args):
        peer = harness.Peer(os.path.join(self.home.dir, "peer-%d" %
                                         len(self.peers)), *peer_args)
        self.peers.append(peer)
        self.addCleanup(peer.stop)
        self.home.write_conf(
            'transport = { kind = "smtp"; smtp = { host = "127.0.0.1"; '
            'port = %d; connect_timeout = "2s"; command_timeout = "5s"; '
            '}; };\nqueue = { retry = { first = "1s"; }; };\n' % peer.port)
        return peer

    def test_deferred_delivery_of_a_moved_contact_still_goes(self):
        # Recipients are frozen when the campaign starts; the merge comes
        # while a delivery waits for its retry. A moved contact is the
        # same contact: the delivery goes, still naming the body it was
        # queued for, instead of being skipped as "body removed".
        self.peers = []
        self.smtp("--data-reply", "secretariat@.*=451 4.3.0 try later")
        self.home.ok("template", "add", "t", self.write("t.tmpl", TEMPLATE))
        self.home.ok("campaign", "create", "c", "--template", "t", "--list",
                     "a", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        self.home.ok("campaign", "schedule", "c", "--now")
        self.assertEqual(self.home.run("--once", prog="chanceryd").rc, 0)
        self.assertEqual(self.home.sql(
            "SELECT email, body_id, state FROM deliveries ORDER BY email"),
            [("hrc@un.example", self.drop, "skipped"),
             ("secretariat@un.example", self.drop, "deferred")])
        self.home.ok("body", "merge", "UNHRC", "HRC")
        peer = self.smtp()
        time.sleep(1.2)
        self.assertEqual(self.home.run("--once", prog="chanceryd").rc, 0)
        self.assertEqual(self.home.sql(
            "SELECT email, body_id, state FROM deliveries ORDER BY email"),
            [("hrc@un.example", self.drop, "skipped"),
             ("secretariat@un.example", self.drop, "sent")])
        self.assertEqual([r for m in peer.messages() for r in m["rcpt_tos"]],
                         ["secretariat@un.example"])

    def test_dry_run_prints_and_changes_nothing(self):
        before = self.home.snapshot()
        r = self.home.ok("body", "merge", "UNHRC", "HRC", "--dry-run")
        self.assertIn("would merge #%d into #%d (dry run: nothing changed)"
                      % (self.drop, self.keep), r.out)
        self.assertIn("contacts moved: secretariat@un.example", r.out)
        self.assertIn("list entries moved: a", r.out)
        self.assertEqual(self.home.snapshot(), before)
        j = json.loads(self.home.ok("--json", "body", "merge", "UNHRC",
                                    "HRC", "--dry-run").out)
        self.assertEqual((j["dry_run"], j["keep_id"], j["drop_id"],
                          j["lists_already"]),
                         (True, self.keep, self.drop, ["b"]))
        self.assertEqual(self.home.snapshot(), before)

    def test_errors_change_nothing(self):
        self.home.ok("body", "add", "Gone", "--acronym", "GONE", "--kind",
                     "ngo")
        gone = self.body_id("GONE")
        self.home.ok("body", "rm", "GONE")
        cases = [
            (("body", "merge", "HRC", "HRC"), 65,
             "cannot merge body #%d into itself" % self.drop),
            (("body", "merge", "UNHRC", "#%d" % gone), 67,
             "body #%d was removed" % gone),
            (("body", "merge", "#%d" % gone, "HRC"), 67,
             "body #%d was removed" % gone),
            (("body", "merge", "UNHRC", "NOPE"), 67, "no body 'NOPE'"),
            (("body", "merge", "UNHRC"), 64, "expected KEEP DROP"),
        ]
        for args, rc, message in cases:
            with self.subTest(args=args):
                self.assertFails(list(args), rc, message)
        self.home.ok("body", "merge", "UNHRC", "HRC")
        self.assertFails(["body", "merge", "UNHRC", "#%d" % self.drop], 67,
                         "body #%d was removed" % self.drop)


class FindTest(Base):
    def setUp(self):
        super().setUp()
        h = self.home
        h.ok("body", "add", "Defensoría del Pueblo", "--acronym", "DPE",
             "--kind", "ombudsman", "--country", "ES")
        h.ok("body", "add", "Défenseur des droits", "--acronym", "DDD",
             "--kind", "ombudsman", "--country", "FR")
        h.ok("body", "add", "Public Defender", "--acronym", "PD",
             "--kind", "ombudsman")
        h.ok("body", "add", "Defensor", "--kind", "ngo")
        h.ok("body", "alias", "PD", "Defensores Públicos")
        h.ok("contact", "add", "PD", "defensor@pd.example", "--name",
             "José Núñez", "--role", "Defensor adjunto")
        h.ok("contact", "add", "DDD", "info@münchen.example")

    def find(self, text):
        return json.loads(self.home.ok("--json", "find", text).out)

    def test_ranked_accent_and_case_insensitive(self):
        got = [(m["kind"], m["body"], m["field"], m["text"], m["rank"])
               for m in self.find("DEFENSOR")]
        self.assertEqual(got, [
            ("body", "Defensor", "name", "Defensor", "exact"),
            ("body", "DPE", "name", "Defensoría del Pueblo", "prefix"),
            ("alias", "PD", "alias", "Defensores Públicos", "prefix"),
            ("contact", "PD", "email", "defensor@pd.example", "prefix"),
            ("contact", "PD", "role", "Defensor adjunto", "prefix"),
        ])
        # Accents either way round.
        self.assertEqual([m["text"] for m in self.find("defensoria")],
                         ["Defensoría del Pueblo"])
        self.assertEqual([m["text"] for m in self.find("NUNEZ")],
                         ["José Núñez"])
        self.assertEqual([m["text"] for m in self.find("défenseur")],
                         ["Défenseur des droits"])

    def test_exact_acronym_first_then_substring(self):
        got = [(m["body"], m["field"], m["rank"]) for m in self.find("dd")]
        self.assertEqual(got[0], ("DDD", "acronym", "prefix"))
        got = [(m["body"], m["field"], m["rank"]) for m in self.find("ddd")]
        self.assertEqual(got, [("DDD", "acronym", "exact_acronym")])
        got = [(m["body"], m["rank"]) for m in self.find("fensor")]
        self.assertTrue(all(rank == "substring" for _, rank in got), got)

    def test_text_output_and_idn(self):
        r = self.home.ok("find", "xn--mnchen-3ya")
        self.assertEqual(r.out.splitlines()[1:], [])
        # After '@' a word starts: a prefix match.
        r = self.home.ok("find", "MÜNCHEN")
        self.assertEqual(r.out.splitlines()[1].split(),
                         ["contact", str(self.body_id("DDD")), "DDD",
                          "email", "info@münchen.example", "prefix"])
        self.assertTrue(r.out.startswith("KIND"), r.out)

    def test_body_show_suggests(self):
        self.assertFails(["body", "show", "defens"], 67,
                         "no body 'defens'; did you mean: DDD (Défenseur "
                         "des droits), Defensor, DPE (Defensoría del "
                         "Pueblo)")
        self.assertFails(["body", "show", "zzz"], 67, "no body 'zzz'")

    def test_errors(self):
        self.assertFails(["find", "--", "-"], 64, "nothing to search for")
        self.assertFails(["find"], 64, "expected one TEXT")
        self.assertFails(["find", "x", "--limit", "many"], 64,
                         "--limit takes a number")


class HistoryTest(Base):
    def test_body_and_contact_history_oldest_first_with_actor(self):
        h = self.home
        h.ok("--as", "anna", "body", "add", "Ombudsman", "--acronym",
             "OMB", "--kind", "ombudsman")
        h.ok("--as", "ben", "body", "edit", "OMB", "--country", "AZ")
        h.ok("--as", "anna", "contact", "add", "OMB", "a@omb.example")
        h.ok("--as", "ben", "contact", "edit", "a@omb.example", "--name",
             "Desk")
        r = h.ok("body", "history", "OMB")
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "EVENT", "ACTOR", "DATA"])
        rows = [line.split(None, 3) for line in lines[1:]]
        self.assertEqual([(k, a) for _, k, a, _ in rows],
                         [("body.added", "anna"), ("body.changed", "ben"),
                          ("contact.added", "anna"),
                          ("contact.changed", "ben")])
        self.assertIn("name: (none) \u2192 Desk", rows[3][3])
        j = json.loads(h.ok("--json", "contact", "history",
                            "a@omb.example").out)
        self.assertEqual([(e["kind"], e["actor"]) for e in j],
                         [("contact.added", "anna"),
                          ("contact.changed", "ben")])
        self.assertEqual(j[1]["data"]["name"], {"from": None, "to": "Desk"})
        self.assertEqual(set(j[0]), {"id", "time", "kind", "actor",
                                     "body_id", "contact_id", "data"})

    def test_daemon_rows_show_as_daemon(self):
        h = self.home
        h.ok("body", "add", "Ombudsman", "--acronym", "OMB", "--kind",
             "ombudsman")
        h.ok("contact", "add", "OMB", "a@omb.example")
        h.ok("list", "create", "l")
        h.ok("list", "add", "l", "OMB")
        h.ok("template", "add", "t", self.write("t.tmpl", TEMPLATE))
        h.ok("campaign", "create", "c", "--template", "t", "--list", "l",
             "--at", "2025-02-25 10:00", "--now", "--tz", "UTC")
        h.ok("campaign", "schedule", "c", "--now")
        self.assertEqual(h.run("--once", prog="chanceryd").rc, 0)
        r = h.ok("contact", "history", "a@omb.example")
        self.assertNotIn("delivery.", r.out)
        r = h.ok("contact", "history", "a@omb.example", "--deliveries")
        self.assertIn("delivery.sent", r.out)
        sent = [line for line in r.out.splitlines()
                if "delivery.sent" in line]
        self.assertIn("(daemon)", sent[0])

    def test_errors(self):
        self.assertFails(["body", "history", "NOPE"], 67, "no body 'NOPE'")
        self.assertFails(["contact", "history", "x@nowhere.example"], 67,
                         "no contact x@nowhere.example")
        self.assertFails(["body", "history"], 64, "expected one BODY")


class AddressTest(Base):
    def setUp(self):
        super().setUp()
        self.home.ok("body", "add", "Stadt", "--acronym", "MUC", "--kind",
                     "other")

    def test_a_label_and_u_label_are_one_address(self):
        r = self.home.ok("contact", "add", "MUC", "info@xn--mnchen-3ya.de")
        self.assertEqual(r.out, "added contact info@münchen.de to MUC\n")
        self.assertFails(["contact", "add", "MUC", "info@münchen.de"], 65,
                         "info@münchen.de is already a contact of MUC")
        self.assertFails(["contact", "add", "MUC", "info@MÜNCHEN.DE"], 65,
                         "is already a contact of MUC")
        r = self.home.ok("contact", "list")
        self.assertIn("info@münchen.de", r.out)

    def test_refused_with_the_reason(self):
        cases = [
            ("a" * 65 + "@example.org", "the local part is 65 bytes"),
            ("o@ex%ample.org", "the domain holds '%'"),
            ("o@" + "a" * 64 + ".org", "is 64 bytes, more than 63"),
            ("o@" + ("a" * 63 + ".") * 4 + "org",
             "the domain is 259 bytes, more than the 253"),
            ("info@xn--ls8h.example", "not a valid internationalised"),
        ]
        for addr, message in cases:
            with self.subTest(addr=addr):
                self.assertFails(["contact", "add", "MUC", addr], 65,
                                 message)


if __name__ == "__main__":
    unittest.main()
