"""Start on time (issue 22): a campaign's deliveries are queued when it is
scheduled, not when it starts. Right after `campaign schedule` the rows
and their delivery.queued events exist; nothing leaves before the send
time; chanceryd's start queues nothing (its log says queued_at=schedule
and no delivery event follows campaign.started); a decision taken after
the schedule (a contact suppressed) still holds when mail leaves; a
rejection after the schedule takes every delivery back, with a
delivery.cancelled event each, and nothing is sent.
"""
import json
import unittest

from test_daemon import Base

SEND = "2030-02-25 10:00"
AFTER = "2030-02-25T10:00:01Z"


class StartTest(Base):
    def scheduled(self, n=4):
        emails = self.registry(n)
        self.home.ok("campaign", "create", "feb", "--template", "stmt",
                     "--list", "all", "--at", SEND, "--tz", "UTC")
        r = self.home.ok("campaign", "schedule", "feb")
        self.assertIn("deliveries queued: %d" % n, r.out)
        return emails

    def received(self, peer):
        return sorted(r for m in peer.messages() for r in m["rcpt_tos"])

    def test_queued_at_schedule_sent_at_start(self):
        emails = self.scheduled(4)
        peer = self.peer()
        self.smtp_conf(peer.port)
        self.assertEqual(self.states(), {"pending": 4})
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'delivery.queued'"), 4)
        # before the send time: the daemon sends nothing
        self.once()
        self.assertEqual(self.received(peer), [])
        self.assertEqual(self.states(), {"pending": 4})
        self.assertEqual(self.home.scalar(
            "SELECT state FROM campaigns WHERE name = 'feb'"), "scheduled")
        # at the send time: started without queueing, and sent
        r = self.once(env={"CHANCERY_FAKE_NOW": AFTER})
        self.assertIn("campaign=feb started queued_at=schedule", r.err)
        self.assertNotIn("queued_at=start", r.err)
        self.assertEqual(self.received(peer), sorted(emails))
        self.assertEqual(self.states(), {"sent": 4})
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind IN ('delivery.queued', "
            "'delivery.skipped') AND id > (SELECT id FROM events WHERE "
            "kind = 'campaign.started')"), 0)
        self.assertLedger()

    def test_suppressed_after_schedule_is_not_sent(self):
        emails = self.scheduled(3)
        peer = self.peer()
        self.smtp_conf(peer.port)
        self.home.ok("contact", "suppress", emails[0], "--reason",
                     "asked not to receive statements")
        self.home.ok("contact", "disable", emails[1])
        self.once(env={"CHANCERY_FAKE_NOW": AFTER})
        self.assertEqual(self.received(peer), [emails[2]])
        self.assertEqual(self.home.sql(
            "SELECT email, state, reason FROM deliveries ORDER BY email"),
            [(emails[0], "skipped",
              "contact suppressed: asked not to receive statements"),
             (emails[1], "skipped", "contact disabled: by hand"),
             (emails[2], "sent", None)])
        self.assertLedger()

    def test_reject_after_schedule_takes_deliveries_back(self):
        self.scheduled(3)
        peer = self.peer()
        self.smtp_conf(peer.port)
        self.home.ok("campaign", "reject", "feb", "--reason",
                     "wrong event date")
        self.assertEqual(self.states(), {})
        cancelled = self.home.sql(
            "SELECT data FROM events WHERE kind = 'delivery.cancelled' "
            "ORDER BY id")
        self.assertEqual(len(cancelled), 3)
        for (data,) in cancelled:
            self.assertEqual(json.loads(data), {
                "from": "pending",
                "reason": "campaign rejected: wrong event date",
                "withdrawn": "yes"})
        (data,), = self.home.sql(
            "SELECT data FROM events WHERE kind = 'campaign.rejected'")
        self.assertEqual(json.loads(data)["withdrawn"], 3)
        # its send time passes: nothing is sent, the draft is missed
        self.once(env={"CHANCERY_FAKE_NOW": AFTER})
        self.assertEqual(self.received(peer), [])
        self.assertEqual(self.home.scalar(
            "SELECT state FROM campaigns WHERE name = 'feb'"), "missed")
        # a new time, scheduled again: queued afresh under new ids
        self.home.ok("campaign", "edit", "feb", "--at", "2030-02-25 11:00",
                     env={"CHANCERY_FAKE_NOW": AFTER})
        self.home.ok("campaign", "schedule", "feb",
                     env={"CHANCERY_FAKE_NOW": AFTER})
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM deliveries d WHERE EXISTS (SELECT 1 FROM "
            "events e WHERE e.delivery_id = d.id AND e.kind = "
            "'delivery.cancelled')"), 0)
        self.once(env={"CHANCERY_FAKE_NOW": "2030-02-25T11:00:01Z"})
        self.assertEqual(len(self.received(peer)), 3)
        self.assertEqual(self.states(), {"sent": 3})
        self.assertLedger()

    def test_paused_before_start_edit_takes_deliveries_back(self):
        self.scheduled(2)
        self.home.ok("campaign", "pause", "feb")
        self.assertEqual(self.states(), {"pending": 2})
        r = self.home.ok("campaign", "edit", "feb", "--at", "2030-02-26 10:00")
        self.assertIn("voided", r.out)
        self.assertEqual(self.states(), {})
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'delivery.cancelled' "
            "AND json_extract(data, '$.reason') LIKE 'approval voided: "
            "edited: send time%'"), 2)
        self.assertLedger()


if __name__ == "__main__":
    unittest.main()
