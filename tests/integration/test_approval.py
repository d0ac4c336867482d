"""Issue 18: approval with a freeze. A campaign is approved by people
(`--as`), the approval binds the template version, the send time and the
recipient set materialised at that moment; sending uses exactly that set;
any change afterwards voids the approval and says so; bodies the list
cannot reach are recorded with the reason. Every command runs with
CHANCERY_FAKE_NOW, so the yearly dates stay in the future."""
import json
import os
import sqlite3
import unittest

from harness import BIN_DIR, TestCase

TEMPLATE = ("Subject: {{anniversary.ordinal}} anniversary\n\n"
            "To the {{body.name}}.\n")
BEFORE = "2027-02-12T08:00:00Z"        # the office prepares the campaign
SEND = "2027-02-26 10:00"              # Asia/Baku, +04
SEND_UTC = "2027-02-26T06:00:00Z"
AT_SEND = {"CHANCERY_FAKE_NOW": SEND_UTC}


def chanceryd():
    return os.path.join(BIN_DIR, "chanceryd")


class ApprovalTestCase(TestCase):
    conf = "campaign = { approvals = 1; four_eyes = false; };\n"

    def setUp(self):
        super().setUp()
        self.home.write_conf(self.conf)
        self.run_ok("body", "add", "Secretary-General of the United Nations",
                    "--kind", "un-organ", "--acronym", "UNSG")
        self.run_ok("body", "add", "Organization for Security and "
                    "Co-operation in Europe", "--kind", "regional-org",
                    "--acronym", "OSCE")
        self.run_ok("body", "add", "Council of Europe", "--kind",
                    "regional-org", "--acronym", "COE")
        self.run_ok("body", "add", "Suppressed Office", "--kind",
                    "regional-org", "--acronym", "SUPP")
        self.run_ok("contact", "add", "UNSG", "sg@un.example.org")
        self.run_ok("contact", "add", "OSCE", "pc@osce.example.org")
        self.run_ok("contact", "add", "SUPP", "gone@supp.example.org")
        self.run_ok("contact", "suppress", "gone@supp.example.org",
                    "--reason", "asked not to be written to")
        self.run_ok("list", "create", "un")
        # COE has no contact, SUPP only a suppressed one
        self.run_ok("list", "add", "un", "UNSG", "OSCE", "COE", "SUPP")
        path = os.path.join(self.home.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        self.run_ok("template", "add", "stmt", path)

    # -- helpers --

    def cmd(self, *args, who=None, env=None):
        full = {"CHANCERY_FAKE_NOW": BEFORE}
        full.update(env or {})
        prefix = ("--as", who) if who else ()
        return self.home.run(*prefix, *args, env=full)

    def run_ok(self, *args, who=None, env=None):
        r = self.cmd(*args, who=who, env=env)
        if r.rc != 0:
            raise AssertionError("%s failed: %r" % (" ".join(args), r))
        return r

    def refused(self, args, rc, message, who=None, env=None):
        """One line naming the problem, status rc, nothing changed."""
        before = self.home.snapshot()
        r = self.cmd(*args, who=who, env=env)
        self.assertEqual(r.rc, rc, r)
        self.assertEqual(r.err.strip().count("\n"), 0, r)
        self.assertIn(message, r.err, r)
        self.assertEqual(self.home.snapshot(), before, "the database changed")
        return r

    def create(self, name="feb", who="alice", list_name="un"):
        return self.run_ok("campaign", "create", name, "--template", "stmt",
                           "--list", list_name, "--at", SEND, "--tz",
                           "Asia/Baku", "--event-date", "1992-02-26", who=who)

    def state(self, name="feb"):
        return self.home.scalar("SELECT state FROM campaigns WHERE name = ?",
                                name)

    def events(self, kind, name="feb"):
        return self.home.sql(
            "SELECT e.actor, e.data FROM events e JOIN campaigns c ON "
            "c.id = e.campaign_id WHERE c.name = ? AND e.kind = ? "
            "ORDER BY e.id", name, kind)

    def frozen(self, name="feb"):
        return self.home.sql(
            "SELECT r.email, r.skip_reason IS NULL FROM campaign_recipients r "
            "JOIN campaigns c ON c.id = r.campaign_id WHERE c.name = ? "
            "ORDER BY r.position", name)

    def unreached(self, name="feb"):
        return self.home.sql(
            "SELECT b.acronym, u.reason FROM campaign_unreached u JOIN "
            "bodies b ON b.id = u.body_id JOIN campaigns c ON "
            "c.id = u.campaign_id WHERE c.name = ? ORDER BY b.acronym", name)

    def approvals(self, name="feb"):
        return self.home.sql(
            "SELECT a.actor FROM campaign_approvals a JOIN campaigns c ON "
            "c.id = a.campaign_id WHERE c.name = ? ORDER BY a.id", name)

    def daemon_once(self, env=AT_SEND):
        return self.home.ok("--once", "--foreground", prog="chanceryd",
                            env=env)

    def sent_to(self, name="feb"):
        return sorted(r[0] for r in self.home.sql(
            "SELECT d.email FROM deliveries d JOIN campaigns c ON "
            "c.id = d.campaign_id WHERE c.name = ? AND d.state = 'sent'",
            name))


class TestApprove(ApprovalTestCase):
    def test_schedule_refused_before_approval(self):
        self.create()
        self.refused(["campaign", "schedule", "feb"], 65,
                     "campaign 'feb' needs 1 approval: chancery campaign "
                     "approve feb", who="bob")
        self.assertEqual(self.state(), "draft")

    def test_second_user_approves_and_the_frozen_set_is_sent(self):
        self.create(who="alice")
        r = self.run_ok("campaign", "approve", "feb", who="bob")
        self.assertIn("campaign feb approved by bob (1 of 1)", r.out)
        self.assertIn("plan: 4 bodies, 2 contacts to send to", r.out)
        self.assertIn("warning: body COE not reached: no contact", r.out)
        self.assertIn("warning: body SUPP not reached: all suppressed", r.out)
        self.assertEqual(self.state(), "approved")
        self.assertEqual(self.unreached(), [("COE", "no contact"),
                                            ("SUPP", "all suppressed")])
        self.assertEqual(self.frozen(), [("sg@un.example.org", 1),
                                         ("pc@osce.example.org", 1),
                                         ("gone@supp.example.org", 0)])
        self.assertEqual(self.approvals(), [("bob",)])
        (actor, data), = self.events("campaign.approved")
        data = json.loads(data)
        self.assertEqual(actor, "bob")
        self.assertEqual((data["template"], data["version"],
                          data["recipients"], data["unreached"],
                          data["send_at"]), ("stmt", 1, 2, 2, SEND_UTC))
        self.assertEqual(len(data["sha256"]), 64)
        self.assertEqual(len(data["recipients_sha256"]), 64)
        # a contact added after approval is not in the approved set
        self.run_ok("contact", "add", "UNSG", "late@un.example.org")
        r = self.run_ok("campaign", "schedule", "feb", who="bob")
        self.assertIn("campaign feb scheduled for 2027-02-26 10:00 +04", r.out)
        self.assertIn("warning: body COE not reached: no contact", r.out)
        self.assertEqual(self.state(), "scheduled")
        st = self.run_ok("campaign", "status", "feb").out
        self.assertIn("approved:  by bob", st)
        ls = self.run_ok("campaign", "ls").out
        self.assertIn("bob 2027-02-12T08:00:00Z", ls)
        audit = self.run_ok("audit", "campaign", "feb").out
        sha = self.home.scalar("SELECT sha256 FROM templates")
        self.assertIn("approved by bob at 2027-02-12T08:00:00Z: template "
                      "stmt v1 (sha256 %s), 2 recipients (sha256 %s), 2 "
                      "bodies not reached" % (sha, data["recipients_sha256"]),
                      audit)
        page = self.run_ok("audit", "campaign", "feb", "--format",
                           "html").out
        self.assertIn("approved by bob at 2027-02-12T08:00:00Z: template "
                      "stmt v1 (sha256 %s)" % sha, page)
        js = json.loads(self.run_ok("audit", "campaign", "feb", "--format",
                                    "json").out)
        self.assertEqual([(e["event"], e["actor"], e["sha256"])
                          for e in js["campaign"]["sign_off"]],
                         [("campaign.approved", "bob", sha)])
        if not os.path.exists(chanceryd()):
            return
        self.daemon_once()
        self.assertEqual(self.sent_to(), ["pc@osce.example.org",
                                          "sg@un.example.org"])
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries WHERE email = "
            "'late@un.example.org'"), 0)
        self.assertEqual(self.home.scalar(
            "SELECT state FROM deliveries WHERE email = "
            "'gone@supp.example.org'"), "skipped")
        st = self.run_ok("campaign", "status", "feb", env=AT_SEND).out
        self.assertIn("first message: 0.0 s after the send time", st)
        js = json.loads(self.run_ok("--json", "campaign", "status", "feb",
                                    env=AT_SEND).out)
        self.assertEqual(js["first_message_delay_s"], 0)
        self.assertEqual([a["actor"] for a in js["approvals"]], ["bob"])

    @unittest.skipUnless(os.path.exists(chanceryd()), "no chanceryd")
    def test_approved_then_edited_is_not_sent_until_reapproved(self):
        self.create(who="alice")
        self.run_ok("campaign", "approve", "feb", "--schedule", who="bob")
        self.assertEqual(self.state(), "scheduled")
        # a scheduled campaign is paused to change its time
        self.refused(["campaign", "edit", "feb", "--at", "2027-02-26 11:00"],
                     65, "campaign 'feb' is scheduled: cannot edit it",
                     who="alice")
        self.run_ok("campaign", "pause", "feb", who="alice")
        r = self.run_ok("campaign", "edit", "feb", "--at", "2027-02-26 11:00",
                        who="alice")
        self.assertIn("approval of campaign 'feb' voided: edited: send time",
                      r.out)
        self.assertEqual(self.state(), "draft")
        self.assertEqual(self.approvals(), [])
        self.assertEqual(self.frozen(), [])
        self.assertEqual(self.unreached(), [])
        (actor, data), = self.events("campaign.approval_void")
        self.assertEqual(actor, "alice")
        self.assertEqual(json.loads(data)["reason"], "edited: send time")
        (actor, data), = self.events("campaign.edited")
        self.assertEqual(json.loads(data)["changes"]["send_at"],
                         {"from": SEND_UTC, "to": "2027-02-26T07:00:00Z"})
        later = {"CHANCERY_FAKE_NOW": "2027-02-26T07:00:05Z"}
        self.daemon_once(later)
        # unapproved when its time came: missed, and nothing sent
        self.assertEqual(self.state(), "missed")
        self.assertEqual(self.home.scalar("SELECT count(*) FROM deliveries"),
                         0)
        self.refused(["campaign", "edit", "feb", "--sender",
                      "desk@ombudsman.example"], 65,
                     "campaign 'feb' was missed: give it a new send time",
                     who="alice")
        self.run_ok("campaign", "edit", "feb", "--at", "2027-02-26 12:00",
                    who="alice")
        self.assertEqual(self.state(), "draft")
        self.assertEqual(self.home.scalar(
            "SELECT send_at FROM campaigns WHERE name = 'feb'"),
            1803628800)  # 12:00 +04
        self.run_ok("campaign", "approve", "feb", "--schedule", who="bob")
        later = {"CHANCERY_FAKE_NOW": "2027-02-26T08:00:05Z"}
        self.daemon_once(later)
        self.assertEqual(self.sent_to(), ["pc@osce.example.org",
                                          "sg@un.example.org"])

    def test_edit_template_version_list_and_fields(self):
        self.create(who="alice")
        path = os.path.join(self.home.dir, "stmt2.tmpl")
        with open(path, "w") as f:
            f.write(TEMPLATE.replace("To the", "To the honourable"))
        self.run_ok("campaign", "approve", "feb", who="bob")
        # a new version of the template is not a change to the campaign
        self.run_ok("template", "add", "stmt", path)
        self.assertEqual(self.state(), "approved")
        r = self.run_ok("campaign", "edit", "feb", "--version", "2",
                        who="alice")
        self.assertIn("voided: edited: template", r.out)
        self.assertIn("stmt v2", r.out)
        self.assertEqual(self.state(), "draft")
        self.run_ok("list", "create", "few")
        self.run_ok("list", "add", "few", "UNSG")
        r = self.run_ok("campaign", "edit", "feb", "--list", "few",
                        "--sender", "press@ombudsman.example",
                        "--event-date", "1992-02-25", who="alice")
        self.assertNotIn("voided", r.out)   # a draft with no approval
        self.assertEqual(self.home.sql(
            "SELECT l.name, c.sender, c.event_date, c.edited_by FROM "
            "campaigns c JOIN lists l ON l.id = c.list_id"),
            [("few", "press@ombudsman.example", "1992-02-25", "alice")])
        (_, data), = self.events("campaign.edited")[1:]
        changes = json.loads(data)["changes"]
        self.assertEqual(sorted(changes), ["event_date", "list", "sender"])
        # --tz alone keeps the local time of day
        self.run_ok("campaign", "edit", "feb", "--tz", "UTC", who="alice")
        self.assertEqual(self.home.scalar("SELECT send_at FROM campaigns"),
                         1803636000)   # 2027-02-26 10:00 UTC
        self.refused(["campaign", "edit", "feb", "--tz", "UTC"], 64,
                     "campaign 'feb' already has these values: nothing to "
                     "change", who="alice")
        self.refused(["campaign", "edit", "feb", "--list", "nope"], 67,
                     "nope", who="alice")
        self.refused(["campaign", "edit", "feb", "--tz", "Mars/Base"], 64,
                     "unknown time zone 'Mars/Base'", who="alice")

    def test_edit_language_voids_the_approval(self):
        """Issue 21: campaign edit --lang, like any edit: an approved
        campaign is a draft again, its approval voided and recorded."""
        self.create(who="alice")
        self.run_ok("campaign", "approve", "feb", who="bob")
        r = self.run_ok("campaign", "edit", "feb", "--lang", "FR",
                        who="alice")
        self.assertIn("approval of campaign 'feb' voided: edited: language",
                      r.out)
        self.assertIn("language: fr\n", r.out)
        self.assertEqual(self.state(), "draft")
        self.assertEqual(self.approvals(), [])
        self.assertEqual(self.frozen(), [])
        self.assertEqual(self.home.sql(
            "SELECT language, edited_by FROM campaigns"), [("fr", "alice")])
        (actor, data), = self.events("campaign.approval_void")
        self.assertEqual((actor, json.loads(data)["reason"]),
                         ("alice", "edited: language"))
        (actor, data), = self.events("campaign.edited")
        self.assertEqual(json.loads(data)["changes"],
                         {"language": {"from": None, "to": "fr"}})
        # the same language again: nothing to change; a bad tag: refused
        self.refused(["campaign", "edit", "feb", "--lang", "fr"], 64,
                     "campaign 'feb' already has these values", who="alice")
        self.refused(["campaign", "edit", "feb", "--lang", "fr_FR"], 64,
                     "--lang: 'fr_FR' is not a BCP 47", who="alice")
        # "" removes it (campaign.language applies); a draft: no voiding
        r = self.run_ok("campaign", "edit", "feb", "--lang", "", who="alice")
        self.assertNotIn("voided", r.out)
        self.assertIn("language: none (campaign.language applies)", r.out)
        self.assertIsNone(self.home.scalar("SELECT language FROM campaigns"))
        (_, data), = self.events("campaign.edited")[1:]
        self.assertEqual(json.loads(data)["changes"],
                         {"language": {"from": "fr", "to": None}})
        # a scheduled campaign is paused first, as for any edit
        self.run_ok("campaign", "approve", "feb", "--schedule", who="bob")
        self.refused(["campaign", "edit", "feb", "--lang", "ru"], 65,
                     "campaign 'feb' is scheduled: cannot edit it",
                     who="alice")

    def test_four_eyes_refuses_creator_and_editor(self):
        self.home.write_conf("campaign = { approvals = 1; four_eyes = true; "
                             "};\n")
        self.create(who="alice")
        self.refused(["campaign", "approve", "feb"], 77,
                     "campaign 'feb': alice created it and may not approve "
                     "it (campaign.four_eyes)", who="alice")
        self.run_ok("campaign", "edit", "feb", "--at", "2027-02-26 09:00",
                    who="bob")
        self.refused(["campaign", "approve", "feb"], 77,
                     "campaign 'feb': bob last edited it and may not "
                     "approve it (campaign.four_eyes)", who="bob")
        self.run_ok("campaign", "approve", "feb", who="carol")
        self.assertEqual(self.approvals(), [("carol",)])
        self.assertEqual(self.state(), "approved")

    def test_two_approvals_need_two_people(self):
        self.home.write_conf("campaign = { approvals = 2; };\n")
        self.create(who="alice")
        r = self.run_ok("campaign", "approve", "feb", who="bob")
        self.assertIn("(1 of 2)", r.out)
        self.assertIn("campaign feb needs 1 more approval", r.out)
        self.assertEqual(self.state(), "draft")
        self.refused(["campaign", "approve", "feb"], 77,
                     "campaign 'feb' is already approved by bob: another "
                     "approval must come from someone else", who="bob")
        self.refused(["campaign", "schedule", "feb"], 65,
                     "campaign 'feb' needs 2 approvals, has 1: chancery "
                     "campaign approve feb", who="bob")
        r = self.run_ok("campaign", "approve", "feb", "--schedule",
                        who="carol")
        self.assertIn("(2 of 2)", r.out)
        self.assertEqual(self.state(), "scheduled")
        self.assertEqual(self.approvals(), [("bob",), ("carol",)])
        self.refused(["campaign", "approve", "feb"], 65,
                     "campaign 'feb' is scheduled: cannot approve it",
                     who="dave")

    def test_second_approval_of_a_changed_set_starts_over(self):
        """Two approvals count only when they bind the same recipients: a
        contact suppressed between them makes the first one lapse."""
        self.home.write_conf("campaign = { approvals = 2; };\n")
        self.create(who="alice")
        self.run_ok("campaign", "approve", "feb", who="bob")
        self.run_ok("contact", "suppress", "sg@un.example.org", "--reason",
                    "left office")
        r = self.run_ok("campaign", "approve", "feb", who="carol")
        self.assertIn("warning: the recipients changed since the earlier "
                      "approval, which no longer counts", r.out)
        self.assertIn("(1 of 2)", r.out)
        self.assertEqual(self.approvals(), [("carol",)])
        self.assertEqual(self.state(), "draft")
        self.assertEqual(self.frozen()[0], ("sg@un.example.org", 0))
        (_, data), = self.events("campaign.approved")[1:]
        self.assertEqual(json.loads(data)["earlier_voided"],
                         "recipients changed")

    def test_list_change_voids_approval(self):
        self.create(who="alice")
        self.run_ok("list", "create", "outer")
        self.run_ok("list", "add", "outer", "--list", "un")
        self.create("nested", list_name="outer")
        self.create("other", list_name="outer")
        self.run_ok("campaign", "approve", "feb", who="bob")
        self.run_ok("campaign", "approve", "nested", "--schedule", who="bob")
        # adding a member already there changes nothing
        r = self.run_ok("list", "add", "un", "UNSG", who="carol")
        self.assertNotIn("voided", r.out)
        self.assertEqual(self.state(), "approved")
        r = self.run_ok("list", "rm", "un", "COE", who="carol")
        self.assertIn("approval of campaign 'feb' voided: list 'un' changed",
                      r.out)
        self.assertIn("approval of campaign 'nested' voided: list 'un' "
                      "changed", r.out)
        self.assertNotIn("'other'", r.out)   # a draft with no approval
        self.assertEqual((self.state(), self.state("nested")),
                         ("draft", "draft"))
        self.assertEqual(self.frozen(), [])
        (actor, data), = self.events("campaign.approval_void", "nested")
        self.assertEqual(actor, "carol")
        # the scheduled one had queued its two deliveries: taken back
        self.assertEqual(json.loads(data), {
            "campaign": "nested", "reason": "list 'un' changed",
            "from": "scheduled", "to": "draft", "withdrawn": 2})
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries d JOIN campaigns c ON "
            "c.id = d.campaign_id WHERE c.name = 'nested'"), 0)
        self.run_ok("campaign", "approve", "feb", who="bob")
        self.run_ok("list", "create", "--rule", "orgs")
        self.create("rule", list_name="orgs")
        self.run_ok("list", "rule", "orgs", "un-organ")
        self.run_ok("campaign", "approve", "rule", who="bob")
        r = self.run_ok("list", "rule", "orgs", "regional-org", who="carol")
        self.assertIn("approval of campaign 'rule' voided: list 'orgs' "
                      "changed", r.out)
        self.assertEqual(self.state(), "approved")   # feb's list untouched

    def test_reject_is_recorded(self):
        self.create(who="alice")
        self.run_ok("campaign", "approve", "feb", who="bob")
        self.refused(["campaign", "reject", "feb"], 64, "--reason TEXT is "
                     "required", who="carol")
        r = self.run_ok("campaign", "reject", "feb", "--reason",
                        "last year's PDF", who="carol")
        self.assertIn("campaign feb rejected by carol: approved → draft", r.out)
        self.assertEqual(self.state(), "draft")
        self.assertEqual(self.approvals(), [])
        self.assertEqual(self.unreached(), [])
        (actor, data), = self.events("campaign.rejected")
        self.assertEqual(actor, "carol")
        self.assertEqual(json.loads(data)["reason"], "last year's PDF")
        st = self.run_ok("campaign", "status", "feb").out
        self.assertIn("rejected:  by carol", st)
        self.assertIn("last year's PDF", st)

    def test_past_send_time_needs_now(self):
        self.refused(["campaign", "create", "late", "--template", "stmt",
                      "--list", "un", "--at", "2027-02-10 09:00", "--tz",
                      "Asia/Baku"], 65,
                     "send time 2027-02-10 09:00 +04 has passed; use --now "
                     "to send at once", who="alice")
        r = self.run_ok("campaign", "create", "late", "--template", "stmt",
                        "--list", "un", "--at", "2027-02-10 09:00", "--tz",
                        "Asia/Baku", "--event-date", "1992-02-26", "--now",
                        who="alice")
        self.assertIn("send time 2027-02-10 09:00 +04 has passed: it goes out "
                      "as soon as it is scheduled (--now)", r.out)
        self.run_ok("campaign", "approve", "late", who="bob")
        self.refused(["campaign", "schedule", "late"], 65,
                     "send time 2027-02-10 09:00 +04 has passed; use --now",
                     who="bob")
        r = self.run_ok("campaign", "schedule", "late", "--now", who="bob")
        self.assertIn("has passed: it goes out at once (--now)", r.out)
        # --now alone: send at once
        r = self.run_ok("campaign", "create", "asap", "--template", "stmt",
                        "--list", "un", "--event-date", "1992-02-26",
                        "--now", who="alice")
        self.assertIn("send time: now (--now)", r.out)
        self.assertEqual(self.home.scalar(
            "SELECT send_at FROM campaigns WHERE name = 'asap'"),
            1802419200)   # BEFORE, 2027-02-12T08:00:00Z
        # edit: a time in the past is refused too
        self.create(who="alice")
        self.refused(["campaign", "edit", "feb", "--at", "2027-01-01 10:00"],
                     65, "send time 2027-01-01 10:00 +04 has passed; use "
                     "--now to send at once", who="alice")
        # the send time passed while the campaign waited for approval
        self.run_ok("campaign", "approve", "feb", who="bob")
        self.refused(["campaign", "approve", "feb", "--schedule"], 65,
                     "campaign 'feb' is approved: cannot approve it",
                     who="carol", env=AT_SEND)
        self.refused(["campaign", "schedule", "feb"], 65,
                     "send time 2027-02-26 10:00 +04 has passed; use --now",
                     who="bob", env={"CHANCERY_FAKE_NOW":
                                     "2027-02-26T06:00:01Z"})

    def test_cancelled_name_is_reused(self):
        self.create(who="alice")
        self.run_ok("campaign", "cancel", "feb", who="alice")
        cid = self.home.scalar("SELECT id FROM campaigns WHERE name = 'feb'")
        r = self.create(who="alice")
        self.assertIn("campaign feb was cancelled: renamed feb~cancelled-%d"
                      % cid, r.out)
        self.assertEqual(self.home.sql(
            "SELECT name, state FROM campaigns ORDER BY id"),
            [("feb~cancelled-%d" % cid, "cancelled"), ("feb", "draft")])
        (_, data), = self.events("campaign.edited", "feb~cancelled-%d" % cid)
        self.assertEqual(json.loads(data)["name"], {
            "from": "feb", "to": "feb~cancelled-%d" % cid})
        self.refused(["campaign", "create", "feb", "--template", "stmt",
                      "--list", "un", "--at", SEND], 65,
                     "campaign 'feb' already exists (draft)", who="alice")


    def test_refusals_name_the_rule(self):
        self.refused(["campaign", "approve", "nope"], 67,
                     "no campaign named 'nope'", who="bob")
        self.create(who="alice")
        self.refused(["campaign", "reject", "feb", "--reason", "two\nlines"],
                     64, "a rejection needs a reason on one line", who="bob")
        self.run_ok("campaign", "approve", "feb", "--schedule", who="bob")
        self.run_ok("campaign", "pause", "feb", who="bob")
        self.refused(["campaign", "edit", "feb", "--list", "un", "--at",
                      "2027-02-26 12:00"], 65, "campaign 'feb' is paused: "
                     "only its send time (--at) can change", who="alice")
        # a campaign that started keeps its send time and its approval
        con = sqlite3.connect(self.home.db)
        con.execute("UPDATE campaigns SET started_at = 1803636000")
        con.commit()
        con.close()
        self.refused(["campaign", "edit", "feb", "--at", "2027-02-26 12:00"],
                     65, "campaign 'feb' has started: its send time cannot "
                     "change", who="alice")
        self.refused(["campaign", "reject", "feb", "--reason", "late"], 65,
                     "campaign 'feb' is paused: cannot reject it", who="bob")
        r = self.run_ok("list", "rm", "un", "COE", who="carol")
        self.assertNotIn("voided", r.out)   # started: nothing to void
        self.assertEqual(self.state(), "paused")


class TestNoApprovalsConfigured(ApprovalTestCase):
    conf = ""

    def test_schedule_approves_in_one_step(self):
        self.create(who="alice")
        r = self.run_ok("campaign", "schedule", "feb", who="alice")
        self.assertIn("campaign feb scheduled for", r.out)
        self.assertIn("warning: body SUPP not reached: all suppressed", r.out)
        self.assertEqual(self.state(), "scheduled")
        self.assertEqual(self.approvals(), [("alice",)])
        self.assertEqual(len(self.events("campaign.approved")), 1)
        self.assertEqual(json.loads(self.events("campaign.scheduled")[0][1]),
                         {"campaign": "feb", "from": "approved",
                          "to": "scheduled"})


if __name__ == "__main__":
    unittest.main()
