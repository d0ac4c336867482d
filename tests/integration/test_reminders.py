"""Issue 18, never miss: the yearly cycle driven with CHANCERY_FAKE_NOW.
A series makes the draft; chanceryd --once reminds at campaign.remind (7
days) and at one day, once each; when the send time passes the campaign
becomes missed. A scheduled campaign is never reminded nor missed, and one
that starts late says how late. Then series edit (the coming draft follows
while it is a draft), and the audit of bodies that were not reached."""
import csv
import io
import json
import os
import sqlite3
import unittest

from harness import BIN_DIR, TestCase

TEMPLATE = ("Subject: {{anniversary.ordinal}} anniversary\n\n"
            "To the {{body.name}}.\n")
# khojaly-2027: 26 February 10:00 Asia/Baku (+04) is 06:00 UTC.
SEND = "2027-02-26T06:00:00Z"
CREATE = "2027-02-12T06:00:00Z"  # 14 lead days before


def at(t):
    return {"CHANCERY_FAKE_NOW": t}


@unittest.skipUnless(os.path.exists(os.path.join(BIN_DIR, "chanceryd")),
                     "chanceryd is not built in this tree")
class Base(TestCase):
    def setUp(self):
        super().setUp()
        h = self.home
        h.ok("body", "add", "Secretary-General of the United Nations",
             "--kind", "un-organ", "--acronym", "UNSG")
        h.ok("body", "add", "Organization for Security and Co-operation "
             "in Europe", "--kind", "regional-org", "--acronym", "OSCE")
        h.ok("contact", "add", "UNSG", "sg@un.example.org")
        h.ok("contact", "add", "OSCE", "pc@osce.example.org")
        h.ok("list", "create", "all")
        h.ok("list", "add", "all", "UNSG", "OSCE")
        h.ok("list", "create", "un")
        h.ok("list", "add", "un", "UNSG")
        self.add_template("stmt")

    def add_template(self, name, source=TEMPLATE):
        path = os.path.join(self.home.dir, name + ".tmpl")
        with open(path, "w") as f:
            f.write(source)
        return self.home.ok("template", "add", name, path)

    def add_series(self):
        return self.home.ok("series", "add", "khojaly", "--event-date",
                            "1992-02-26", "--send", "02-26T10:00", "--tz",
                            "Asia/Baku", "--template", "stmt", "--list",
                            "all", env=at("2027-01-01T00:00:00Z"))

    def daemon(self, when):
        return self.home.ok("--once", "--foreground", prog="chanceryd",
                            env=at(when))

    def data(self, kind, campaign=None):
        rows = self.home.sql(
            "SELECT e.data FROM events e LEFT JOIN campaigns c "
            "ON c.id = e.campaign_id WHERE e.kind = ? AND "
            "(? IS NULL OR c.name = ?) ORDER BY e.id", kind, campaign,
            campaign)
        return [json.loads(d) for (d,) in rows]

    def state(self, name):
        return self.home.scalar("SELECT state FROM campaigns WHERE name = ?",
                                name)

    def write(self, query, *params):
        con = sqlite3.connect(self.home.db)
        try:
            con.execute(query, params)
            con.commit()
        finally:
            con.close()


class TestYearlyCycle(Base):
    def test_reminders_then_missed(self):
        r = self.add_series()
        self.assertIn("each year's campaign takes the latest version of "
                      "template stmt when it is made (now v1)", r.out)
        created = self.data("series.created")[0]
        self.assertEqual((created["template_version_now"],
                          created["template_rule"]),
                         (1, "latest at creation"))
        # The series makes the draft, and says which version it took.
        r = self.daemon(CREATE)
        self.assertIn("series=khojaly year=2027 campaign=khojaly-2027 "
                      "created as a draft with template stmt v1 (its latest "
                      "version now", r.err)
        self.assertEqual(self.state("khojaly-2027"), "draft")
        made = self.data("campaign.created", "khojaly-2027")[0]
        self.assertEqual((made["template_version"], made["template_rule"],
                          made["series_year"]),
                         (1, "latest at creation", 2027))
        self.assertEqual(self.data("campaign.reminded"), [])

        # 8 days before: nothing.
        r = self.daemon("2027-02-18T06:00:00Z")
        self.assertNotIn("reminder", r.err)
        self.assertEqual(self.data("campaign.reminded"), [])

        # 7 days before: the first reminder, logged at warning.
        r = self.daemon("2027-02-19T06:00:00Z")
        self.assertEqual(self.data("campaign.reminded"), [{
            "campaign": "khojaly-2027", "due_in_days": 7, "state": "draft",
            "send_at": SEND}])
        self.assertIn("warn: campaign=khojaly-2027", r.err)
        self.assertIn('campaign=khojaly-2027 state=draft send_at=' + SEND +
                      ' due_in="7 days 0 h": due and not scheduled; '
                      'reminder recorded (campaign.reminded due_in_days=7)',
                      r.err)
        actor = self.home.scalar("SELECT actor FROM events WHERE kind = "
                                 "'campaign.reminded'")
        self.assertIsNone(actor)  # the daemon
        # Again at the same time, and days later: nothing more.
        before = self.home.snapshot()
        r = self.daemon("2027-02-19T06:00:00Z")
        self.assertNotIn("reminder", r.err)
        self.assertEqual(self.home.snapshot(), before)
        self.daemon("2027-02-23T12:00:00Z")
        self.assertEqual(len(self.data("campaign.reminded")), 1)

        # 1 day before: the second, once.
        r = self.daemon("2027-02-25T06:00:00Z")
        self.assertIn("due_in_days=1", r.err)
        self.daemon("2027-02-25T06:00:00Z")
        self.daemon("2027-02-25T18:00:00Z")
        self.assertEqual([d["due_in_days"]
                          for d in self.data("campaign.reminded")], [7, 1])
        self.assertEqual(self.state("khojaly-2027"), "draft")

        # The send time passes: missed, recorded and logged once.
        r = self.daemon("2027-02-26T06:00:01Z")
        self.assertEqual(self.state("khojaly-2027"), "missed")
        self.assertEqual(self.data("campaign.missed"), [{
            "campaign": "khojaly-2027", "state": "draft", "send_at": SEND}])
        self.assertIn("campaign=khojaly-2027 state=missed send_at=" + SEND +
                      ": its send time passed while it was draft (never "
                      "scheduled); recorded as campaign.missed", r.err)
        before = self.home.snapshot()
        r = self.daemon("2027-02-27T00:00:00Z")
        self.assertNotIn("missed", r.err)
        self.assertEqual(self.home.snapshot(), before)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries"), 0)

        # Visible: campaign ls, status, the audit.
        rows = json.loads(self.home.ok("--json", "campaign", "ls").out)
        self.assertEqual([(x["name"], x["state"]) for x in rows],
                         [("khojaly-2027", "missed")])
        self.assertIn("missed", self.home.ok("campaign", "ls").out)
        st = self.home.ok("campaign", "status", "khojaly-2027").out
        self.assertIn("state:     missed", st)
        self.assertIn("missed:    its send time passed before it was "
                      "scheduled", st)
        a = self.home.ok("audit", "campaign", "khojaly-2027").out
        self.assertIn("state missed\nmissed: its send time passed before it "
                      "was scheduled; nothing was sent\n", a)
        self.assertIn("0 deliveries\n", a)
        m = self.home.ok("audit", "matrix").out
        self.assertIn("KHOJALY-2027 (MISSED)", m.splitlines()[0])
        j = json.loads(self.home.ok("audit", "matrix", "--format",
                                    "json").out)
        self.assertEqual(j["campaigns"][0]["state"], "missed")
        html = self.home.ok("audit", "matrix", "--format", "html").out
        self.assertIn('<span class="mark">missed</span>', html)
        # A missed campaign can still be cancelled, and is then cancelled.
        self.home.ok("campaign", "cancel", "khojaly-2027")
        self.assertIn("KHOJALY-2027 (CANCELLED)",
                      self.home.ok("audit", "matrix").out)
        self.assertTrue(self.home.ok("audit", "verify").out.startswith("ok"))

    def test_approved_is_reminded_and_missed_scheduled_never(self):
        h = self.home
        for name in ("appr", "sched"):
            h.ok("campaign", "create", name, "--template", "stmt", "--list",
                 "all", "--at", "2027-03-10 10:00", "--tz", "UTC",
                 "--event-date", "1992-02-26")
        # 'approve' is another change's command; the state is what counts.
        self.write("UPDATE campaigns SET state = 'approved' "
                   "WHERE name = 'appr'")
        h.ok("campaign", "schedule", "sched")
        self.daemon("2027-03-05T10:00:00Z")
        self.daemon("2027-03-09T12:00:00Z")
        got = [(d["campaign"], d["due_in_days"], d["state"])
               for d in self.data("campaign.reminded")]
        self.assertEqual(got, [("appr", 7, "approved"),
                               ("appr", 1, "approved")])
        # Moved to another send time (an edit): reminded again for it.
        self.write("UPDATE campaigns SET send_at = send_at + 3600 "
                   "WHERE name = 'appr'")
        self.daemon("2027-03-09T12:00:00Z")
        self.assertEqual([(d["due_in_days"], d["send_at"])
                          for d in self.data("campaign.reminded")][2:],
                         [(1, "2027-03-10T11:00:00Z")])
        # Two hours after: appr missed; sched starts, late, and says so.
        r = self.daemon("2027-03-10T12:00:00Z")
        self.assertEqual(self.state("appr"), "missed")
        self.assertEqual(self.data("campaign.missed")[0]["state"],
                         "approved")
        self.assertIn(self.state("sched"), ("running", "done"))
        self.assertIn('campaign=sched send_at=2027-03-10T10:00:00Z '
                      'late="2 h 0 min": starting late', r.err)
        self.assertEqual(self.data("campaign.reminded", "sched"), [])
        self.assertEqual(self.data("campaign.missed", "sched"), [])
        # Started on time: no warning.
        h.ok("campaign", "create", "ontime", "--template", "stmt", "--list",
             "all", "--at", "2027-04-01 10:00", "--tz", "UTC",
             "--event-date", "1992-02-26")
        h.ok("campaign", "schedule", "ontime")
        r = self.daemon("2027-04-01T10:00:30Z")
        self.assertNotIn("late", r.err)

    def test_remind_zero_still_marks_missed(self):
        self.home.write_conf('campaign = { remind = "0"; };\n')
        self.home.ok("campaign", "create", "c", "--template", "stmt",
                     "--list", "all", "--at", "2027-03-10 10:00", "--tz",
                     "UTC", "--event-date", "1992-02-26")
        self.daemon("2027-03-10T09:00:00Z")
        self.assertEqual(self.data("campaign.reminded"), [])
        self.daemon("2027-03-10T10:00:00Z")
        self.assertEqual(self.state("c"), "missed")
        r = self.home.run("config", "show")
        self.assertIn("campaign.remind", r.out + r.err)


class TestSeriesEdit(Base):
    def setUp(self):
        super().setUp()
        self.add_series()
        self.daemon(CREATE)
        self.add_template("stmt2", "Subject: corrected\n\nTo {{body.name}}.\n")

    def edit(self, *args):
        return self.home.ok("series", "edit", "khojaly", *args,
                            env=at("2027-02-13T00:00:00Z"))

    def campaign_row(self):
        return self.home.sql(
            "SELECT t.name, t.version, c.send_at, c.tz, l.name "
            "FROM campaigns c JOIN templates t ON t.id = c.template_id "
            "JOIN lists l ON l.id = c.list_id "
            "WHERE c.name = 'khojaly-2027'")[0]

    def test_draft_follows_the_series(self):
        r = self.edit("--template", "stmt2", "--at", "11:00")
        self.assertIn("series khojaly changed: template stmt -> stmt2, send "
                      "02-26T10:00 -> 02-26T11:00", r.out)
        self.assertIn("draft khojaly-2027 updated too (template stmt2 v1, "
                      "the latest)", r.out)
        self.assertEqual(self.home.sql(
            "SELECT template_name, send_minute FROM series"),
            [("stmt2", 660)])
        # 11:00 +04
        self.assertEqual(self.campaign_row(),
                         ("stmt2", 1, 1803621600 + 3600, "Asia/Baku", "all"))
        ev = self.data("series.edited")[0]
        self.assertEqual((ev["series"], ev["template_from"],
                          ev["template_to"], ev["campaign"],
                          ev["campaign_updated"]),
                         ("khojaly", "stmt", "stmt2", "khojaly-2027", 1))
        ce = self.data("campaign.edited", "khojaly-2027")[0]
        self.assertEqual((ce["by"], ce["template_from"], ce["template_to"],
                          ce["send_at_to"]),
                         ("series", "stmt v1", "stmt2 v1",
                          "2027-02-26T07:00:00Z"))
        # A corrected version of the template: --template takes the latest.
        self.add_template("stmt2", "Subject: corrected again\n\nTo "
                          "{{body.name}}.\n")
        r = self.edit("--template", "stmt2")
        self.assertIn("draft khojaly-2027 updated too (template stmt2 v2",
                      r.out)
        self.assertEqual(self.campaign_row()[:2], ("stmt2", 2))
        # Nothing differs for the draft: said so, no campaign.edited.
        r = self.edit("--lead-days", "10")
        self.assertIn("draft khojaly-2027 already matches: not changed",
                      r.out)
        self.assertEqual(len(self.data("campaign.edited")), 2)
        self.assertTrue(self.home.ok("audit", "verify").out.startswith("ok"))

    def test_scheduled_campaign_is_left_alone(self):
        self.home.ok("campaign", "schedule", "khojaly-2027")
        before = self.campaign_row()
        r = self.edit("--list", "un")
        self.assertIn("series khojaly changed: list all -> un", r.out)
        self.assertIn("campaign khojaly-2027 is scheduled, not a draft: not "
                      "changed (use 'chancery campaign edit khojaly-2027')",
                      r.out)
        self.assertEqual(self.campaign_row(), before)
        self.assertEqual(self.data("series.edited")[0]["campaign_updated"],
                         0)
        self.assertEqual(self.data("campaign.edited"), [])

    def test_no_campaign_yet(self):
        self.home.ok("campaign", "cancel", "khojaly-2027")
        # the 2027 one is cancelled and past for the edit's "now" below
        r = self.home.ok("series", "edit", "khojaly", "--send", "03-01",
                         env=at("2027-06-01T00:00:00Z"))
        self.assertIn("no campaign made yet for the coming year", r.out)
        self.assertEqual(self.home.sql("SELECT send_month, send_day, "
                                       "send_minute FROM series"),
                         [(3, 1, 600)])

    def test_errors_change_nothing(self):
        cases = [
            ((), 64, "nothing to change"),
            (("--template", "nope"), 67, "nope"),
            (("--list", "nolist"), 67, "nolist"),
            (("--send", "02-31"), 64, "02-31"),
            (("--at", "25:00"), 64, "bad --at '25:00'"),
            (("--at", "9"), 64, "bad --at '9'"),
            (("--send", "02-26T10:00", "--at", "11:00"), 64, "not both"),
            (("--tz", "Asia/Nowhere"), 64, "Asia/Nowhere"),
            (("--lead-days", "400"), 64, "--lead-days"),
        ]
        for extra, rc, msg in cases:
            with self.subTest(extra=extra):
                self.assertFails(["series", "edit", "khojaly"] + list(extra),
                                 rc, msg)
        self.assertFails(["series", "edit", "nosuch", "--at", "11:00"], 67,
                         "nosuch")


class TestNotReached(Base):
    def setUp(self):
        super().setUp()
        h = self.home
        h.ok("body", "add", "Office Without Address", "--kind", "ngo",
             "--acronym", "NOC")
        h.ok("body", "add", "Suppressed Office", "--kind", "ngo",
             "--acronym", "SUP")
        h.ok("contact", "add", "SUP", "x@sup.example.org")
        h.ok("contact", "suppress", "x@sup.example.org", "--reason",
             "asked")
        h.ok("list", "add", "all", "NOC", "SUP")
        h.ok("campaign", "create", "feb", "--template", "stmt", "--list",
             "all", "--at", "2025-02-25 10:00", "--now", "--tz", "UTC",
             "--event-date", "1992-02-26")
        h.ok("campaign", "schedule", "feb", "--now")
        self.daemon("2025-02-25T10:00:00Z")
        self.assertEqual(self.state("feb"), "done")
        # Recorded when schedule fixed the recipient set (approvals = 0).
        self.assertEqual(self.home.sql(
            "SELECT b.acronym, u.reason FROM campaign_unreached u "
            "JOIN bodies b ON b.id = u.body_id ORDER BY b.acronym"),
            [("NOC", "no contact"), ("SUP", "all suppressed")])

    def test_campaign_report(self):
        t = self.home.ok("audit", "campaign", "feb").out
        row = [l for l in t.splitlines() if l.startswith("NOC ")][0]
        self.assertIn("not reached", row)
        self.assertIn("no contact", row)
        self.assertIn("; 2 bodies not reached: 1 no contact, 1 all "
                      "suppressed\n", t)
        self.assertRegex(t, r"\n3 deliveries: 2 sent, 1 skipped; ")
        j = json.loads(self.home.ok("audit", "campaign", "feb", "--format",
                                    "json").out)
        self.assertEqual(j["totals"]["deliveries"], 3)
        self.assertEqual(j["totals"]["not_reached"], 2)
        got = [(d["body"], d["state"], d["reason"], d["delivery_id"])
               for d in j["deliveries"] if d["state"] == "not reached"]
        self.assertEqual(got, [("NOC", "not reached", "no contact", None),
                               ("SUP", "not reached", "all suppressed",
                                None)])
        rows = list(csv.DictReader(io.StringIO(self.home.ok(
            "audit", "campaign", "feb", "--format", "csv").out)))
        self.assertEqual([(r["body"], r["state"], r["reason"])
                          for r in rows if r["body"] == "NOC"],
                         [("NOC", "not reached", "no contact")])
        html = self.home.ok("audit", "campaign", "feb", "--format",
                            "html").out
        self.assertIn('<td class="st-unreached">not reached</td>', html)
        self.assertIn("<td>no contact</td>", html)

    def test_body_report(self):
        j = json.loads(self.home.ok("audit", "body", "NOC", "--format",
                                    "json").out)
        self.assertEqual([(d["year"], d["campaign"], d["state"], d["reason"])
                          for d in j["deliveries"]],
                         [(2025, "feb", "not reached", "no contact")])
        self.assertEqual(j["totals"], {"deliveries": 0, "not_reached": 1})
        t = self.home.ok("audit", "body", "SUP").out
        self.assertIn("not reached", t)
        self.assertIn("all suppressed", t)
        self.assertIn("1 deliveries: 1 skipped; 1 body not reached: 1 all "
                      "suppressed", t)

    def test_matrix(self):
        j = json.loads(self.home.ok("audit", "matrix", "--format",
                                    "json").out)
        cells = {b["acronym"]: b["cells"] for b in j["bodies"]}
        self.assertEqual(cells["NOC"], {"feb": "not reached"})
        # the skipped delivery of the suppressed contact says less
        self.assertEqual(cells["SUP"], {"feb": "not reached"})
        self.assertEqual(cells["UNSG"], {"feb": "sent"})
        why = {b["acronym"]: b.get("not_reached") for b in j["bodies"]}
        self.assertEqual(why["NOC"], {"feb": "no contact"})
        self.assertIsNone(why["UNSG"])
        t = self.home.ok("audit", "matrix").out
        row = [l for l in t.splitlines() if l.startswith("NOC ")][0]
        self.assertTrue(row.rstrip().endswith("not reached"), row)
        html = self.home.ok("audit", "matrix", "--format", "html").out
        self.assertIn('<td class="cell st-unreached" title="no contact">'
                      'not reached: no contact</td>', html)


class TestOfficeCycle(Base):
    """The whole year as the office lives it, with sign-off required
    (campaign.approvals = 1, four eyes) and the head of office told by
    e-mail: the series makes the draft, the daemon asks for approval and
    reminds; nobody approving means missed, and the head hears of it;
    approved in time by someone other than its author means sent on time,
    and the head hears that too."""

    def setUp(self):
        super().setUp()
        self.home.write_conf('campaign = { approvals = 1; '
                             'four_eyes = true; };\n'
                             'notify = { to = ["head@office.example"]; };\n')

    def notices(self):
        import email
        import email.policy
        import glob
        out = []
        for path in sorted(glob.glob(os.path.join(self.home.outbox, "new",
                                                  "*"))):
            with open(path, "rb") as f:
                m = email.message_from_bytes(f.read(),
                                             policy=email.policy.default)
            if m["Subject"].startswith("[chancery]"):
                out.append((m["To"], m["Subject"]))
        return out

    def run_up_to_the_day_before(self):
        self.add_series()
        self.daemon(CREATE)
        self.daemon("2027-02-19T06:00:00Z")
        self.daemon("2027-02-25T06:00:00Z")

    def test_nobody_approves_it_is_missed_and_the_head_is_told(self):
        self.run_up_to_the_day_before()
        self.assertEqual(self.state("khojaly-2027"), "draft")
        self.daemon("2027-02-26T06:00:01Z")
        self.assertEqual(self.state("khojaly-2027"), "missed")
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries"), 0)
        head = "head@office.example"
        self.assertEqual(self.notices(), [
            (head, "[chancery] campaign khojaly-2027: approval requested"),
            (head, "[chancery] campaign khojaly-2027 is due in 7 days and "
                   "is draft"),
            (head, "[chancery] campaign khojaly-2027 is due in 1 day and "
                   "is draft"),
            (head, "[chancery] campaign khojaly-2027 missed its send time"),
        ])
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'notify.sent'"), 4)
        # Following a missed campaign does not wait for what cannot come.
        r = self.home.run("campaign", "status", "khojaly-2027", "--follow",
                          env=at("2027-02-26T06:00:02Z"), timeout=20)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("missed", r.out)
        # The office sends it late after all: a new time, then sign-off.
        late = at("2027-02-26T09:00:00Z")
        r = self.home.run("campaign", "edit", "khojaly-2027", "--now",
                          env=late)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.state("khojaly-2027"), "draft")
        self.assertEqual(self.home.scalar(
            "SELECT send_at FROM campaigns WHERE name = 'khojaly-2027'"),
            1803632400)
        r = self.home.run("--as", "leyla", "campaign", "approve",
                          "khojaly-2027", "--schedule", "--now", env=late)
        self.assertEqual(r.rc, 0, r)
        self.daemon("2027-02-26T09:00:01Z")
        self.assertEqual(self.state("khojaly-2027"), "done")

    def test_approved_by_another_person_goes_out_on_time(self):
        self.run_up_to_the_day_before()
        when = at("2027-02-25T07:00:00Z")
        r = self.home.run("--as", "leyla", "campaign", "approve",
                          "khojaly-2027", "--schedule", env=when)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.state("khojaly-2027"), "scheduled")
        self.daemon(SEND)
        self.assertEqual(self.state("khojaly-2027"), "done")
        self.assertEqual(sorted(self.home.sql(
            "SELECT email, state FROM deliveries")),
            [("pc@osce.example.org", "sent"), ("sg@un.example.org", "sent")])
        self.assertEqual(self.home.scalar(
            "SELECT min(sent_at) FROM deliveries"), 1803621600)
        subjects = [s for _, s in self.notices()]
        self.assertIn("[chancery] campaign khojaly-2027 approved by leyla",
                      subjects)
        self.assertEqual(subjects[-1], "[chancery] campaign khojaly-2027 "
                         "finished: 2 sent, 0 failed, 0 bounced")
        self.assertNotIn("[chancery] campaign khojaly-2027 missed its "
                         "send time", subjects)


if __name__ == "__main__":
    unittest.main()
