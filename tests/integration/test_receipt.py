"""Read receipts end to end: `campaign create --receipt` stores the
request, the rendered message (preview, and what the daemon writes to the
outbox) carries Disposition-Notification-To naming the From address and
nothing else, `campaign edit --no-receipt` takes it back with a
campaign.edited event, and a contradiction is a usage error that changes
nothing."""
import email
import email.policy
import json
import os
import unittest

from harness import BIN_DIR
from test_campaign import CampaignTestCase


def parse(text):
    return email.message_from_string(text, policy=email.policy.default)


class TestReceipt(CampaignTestCase):
    def preview(self, name="feb"):
        return parse(self.home.ok("campaign", "preview", name).out)

    def test_create_with_receipt_asks_the_from_address(self):
        r = self.create("feb", "--receipt")
        self.assertIn("read receipt: requested", r.out)
        self.assertEqual(self.home.scalar(
            "SELECT receipt FROM campaigns WHERE name = 'feb'"), 1)
        data = json.loads(self.home.scalar(
            "SELECT data FROM events WHERE kind = 'campaign.created'"))
        self.assertEqual(data["receipt"], "requested")
        msg = self.preview()
        self.assertEqual(msg.get_all("Disposition-Notification-To"),
                         ["office@ombudsman.example"])
        self.assertEqual(msg["From"].addresses[0].addr_spec,
                         "office@ombudsman.example")
        st = json.loads(self.home.ok("--json", "campaign", "status",
                                     "feb").out)
        self.assertIs(st["receipt"], True)
        self.assertIn("receipt:   requested",
                      self.home.ok("campaign", "status", "feb").out)

    def test_no_receipt_by_default(self):
        self.create("feb")
        self.assertIsNone(self.preview()["Disposition-Notification-To"])
        data = json.loads(self.home.scalar(
            "SELECT data FROM events WHERE kind = 'campaign.created'"))
        self.assertNotIn("receipt", data)
        st = json.loads(self.home.ok("--json", "campaign", "status",
                                     "feb").out)
        self.assertIs(st["receipt"], False)

    def test_sender_override_is_the_receipt_address(self):
        self.create("feb", "--receipt", "--sender", "press@ombudsman.example")
        self.assertEqual(self.preview()["Disposition-Notification-To"],
                         "press@ombudsman.example")

    def test_edit_turns_it_on_and_off(self):
        self.create("feb")
        r = self.home.ok("campaign", "edit", "feb", "--receipt")
        self.assertIn("read receipt: requested", r.out)
        self.assertEqual(self.preview()["Disposition-Notification-To"],
                         "office@ombudsman.example")
        self.home.ok("campaign", "edit", "feb", "--no-receipt")
        self.assertIsNone(self.preview()["Disposition-Notification-To"])
        changes = [json.loads(d)["changes"] for (d,) in self.home.sql(
            "SELECT data FROM events WHERE kind = 'campaign.edited' "
            "ORDER BY id")]
        self.assertEqual(changes, [
            {"receipt": {"from": "none", "to": "requested"}},
            {"receipt": {"from": "requested", "to": "none"}}])
        self.assertFails(["campaign", "edit", "feb", "--no-receipt"], 64,
                         "nothing to change")

    def test_edit_of_approved_campaign_voids_the_approval(self):
        self.create("feb")
        self.home.ok("campaign", "approve", "feb")
        self.assertEqual(self.state("feb"), "approved")
        r = self.home.ok("campaign", "edit", "feb", "--receipt")
        self.assertIn("read receipt", r.out)
        self.assertEqual(self.state("feb"), "draft")

    def test_contradiction_is_a_usage_error(self):
        self.assertUsage(["campaign", "create", "feb", "--template", "stmt",
                          "--list", "all", "--now", "--receipt",
                          "--no-receipt"],
                         "--receipt and --no-receipt disagree")
        self.create("feb")
        self.assertUsage(["campaign", "edit", "feb", "--no-receipt",
                          "--receipt"],
                         "--receipt and --no-receipt disagree")

    @unittest.skipUnless(os.path.exists(os.path.join(BIN_DIR, "chanceryd")),
                         "chanceryd is not built in this tree")
    def test_sent_messages_carry_the_request(self):
        """What the daemon writes to the outbox, parsed back: one request
        per message, naming the From address; the Message-ID is the
        delivery's, which is what an MDN's Original-Message-ID names."""
        self.create("feb", "--receipt")
        self.home.ok("campaign", "schedule", "feb", "--now")
        env = {"CHANCERY_FAKE_NOW": "2025-02-25T06:00:00Z"}
        for _ in range(3):
            self.home.ok("--once", prog="chanceryd", env=env)
        ids = {r[0] for r in self.home.sql(
            "SELECT message_id FROM deliveries WHERE state = 'sent'")}
        self.assertEqual(len(ids), 2)
        seen = set()
        for sub in ("new", "cur"):
            d = os.path.join(self.home.outbox, sub)
            for name in os.listdir(d) if os.path.isdir(d) else []:
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    msg = parse(f.read())
                self.assertEqual(msg.get_all("Disposition-Notification-To"),
                                 ["office@ombudsman.example"])
                seen.add(msg["Message-ID"].strip("<>"))
        self.assertEqual(seen, ids)


if __name__ == "__main__":
    unittest.main()
