"""The office's decisions hold at the moment mail leaves (issue 15, items
1-3): suppress, disable and remove a contact, remove a body, pause and
cancel a campaign while chanceryd sends to a slow relay (the real SMTP
peer answering the end of DATA after a second), and measure what the
relay received after each command. Also `chanceryd --once` against a
relay that defers everything: it sends what was due when it started and
exits, instead of retrying for as long as retries come due.
"""
import os
import sqlite3
import time
import unittest

from test_daemon import Base, SLOW

STALL = 1.0     # seconds the relay takes to answer the end of DATA
WORKERS = 2


class DecisionTest(Base):
    def bodies(self, n_first, n_second):
        """Two bodies with n_first and n_second contacts on list 'all';
        returns the addresses of each."""
        con = sqlite3.connect(self.home.db)
        first = ["a%03d@example.org" % i for i in range(n_first)]
        second = ["b%03d@example.net" % i for i in range(n_second)]
        try:
            con.execute("INSERT INTO bodies (id, name, kind, created_at) "
                        "VALUES (1, 'United Nations', 'un-organ', 0), "
                        "(2, 'Council of Europe', 'regional-org', 0)")
            con.executemany(
                "INSERT INTO contacts (body_id, email, created_at, "
                "updated_at) VALUES (?, ?, 0, 0)",
                [(1, e) for e in first] + [(2, e) for e in second])
            con.commit()
        finally:
            con.close()
        self.home.ok("list", "create", "all")
        self.home.ok("list", "add", "all", "#1", "#2")
        path = os.path.join(self.home.dir, "stmt.tmpl")
        with open(path, "w") as f:
            f.write("Subject: Statement\n\nTo {{body.name}}.\n")
        self.home.ok("template", "add", "stmt", path)
        return first, second

    def slow_relay(self):
        peer = self.peer("--stall", "DATA=%s" % STALL)
        self.smtp_conf(peer.port, "workers = %d; retry = { first = \"1s\"; "
                       "};" % WORKERS)
        return peer

    def received(self, peer):
        return [r for m in peer.messages() for r in m["rcpt_tos"]]

    def row(self, email):
        return self.home.sql("SELECT state, reason FROM deliveries "
                             "WHERE email = ?", email)[0]

    def settled(self):
        """No delivery is being sent."""
        return not self.home.scalar(
            "SELECT count(*) FROM deliveries WHERE state = 'sending'")

    def test_suppress_disable_remove_hold_within_one_round(self):
        first, second = self.bodies(12, 3)
        self.campaign()
        peer = self.slow_relay()
        d = self.daemon("--once")
        self.wait_for(lambda: len(peer.messages()) >= 1, what="a message")
        suppressed, disabled, removed = first[-1], first[-2], first[-3]
        self.home.ok("contact", "suppress", suppressed, "--reason",
                     "asked not to receive statements")
        self.home.ok("contact", "disable", disabled)
        self.home.ok("contact", "rm", removed)
        self.home.ok("body", "rm", "#2")
        self.assertEqual(d.wait(90 * SLOW), 0, self.log_of(d))
        got = self.received(peer)
        for email in [suppressed, disabled, removed] + second:
            self.assertNotIn(email, got)
        self.assertEqual(self.row(suppressed),
                         ("skipped", "contact suppressed: asked not to "
                          "receive statements"))
        self.assertEqual(self.row(disabled), ("skipped",
                         "contact disabled: by hand"))
        self.assertEqual(self.row(removed), ("skipped", "contact removed"))
        for email in second:
            self.assertEqual(self.row(email), ("skipped", "body removed"))
        # Everyone else got it, once; the rows say what the relay saw.
        wanted = set(first) - {suppressed, disabled, removed}
        self.assertEqual(sorted(got), sorted(wanted))
        self.assertEqual(self.states(), {"sent": len(wanted), "skipped": 6})
        skipped_events = self.home.scalar(
            "SELECT count(*) FROM events WHERE kind = 'delivery.skipped'")
        self.assertEqual(skipped_events, 6)
        self.assertLedger()

    def test_suppressed_retry_is_not_sent(self):
        first, _ = self.bodies(3, 0)
        self.campaign()
        peer = self.peer("--data-reply", "a000@.*=451 4.3.0 try later")
        self.smtp_conf(peer.port, "retry = { first = \"1s\"; };")
        self.once()
        self.assertEqual(self.row(first[0])[0], "deferred")
        self.home.ok("contact", "suppress", first[0])
        time.sleep(1.2)
        self.once()
        self.assertEqual(self.row(first[0]), ("skipped",
                                              "contact suppressed: by hand"))
        self.assertEqual(len(peer.events("refused")), 1)

    def pause_or_cancel(self, verb, n=30):
        first, _ = self.bodies(n, 0)
        self.campaign()
        peer = self.slow_relay()
        d = self.daemon("--foreground")
        self.wait_for(lambda: len(peer.messages()) >= 2, what="2 messages")
        self.home.ok("campaign", verb, "feb")
        at_command = len(peer.messages())
        # Whatever is with the relay when the command returns may still
        # be answered; nothing after that.
        time.sleep(3 * STALL)
        self.wait_for(self.settled, what="no delivery being sent")
        after = len(peer.messages()) - at_command
        self.assertLessEqual(after, WORKERS,
                             "%d messages after '%s'" % (after, verb))
        return d, peer, first, after

    def test_pause_stops_within_one_message_per_connection(self):
        d, peer, first, after = self.pause_or_cancel("pause")
        states = self.states()
        self.assertNotIn("sending", states)
        self.assertEqual(states.get("sent"), len(peer.messages()), states)
        self.assertEqual(states.get("pending"), len(first) - states["sent"])
        # Resuming sends the rest, each address once.
        self.home.ok("campaign", "resume", "feb")
        self.wait_for(lambda: self.home.scalar(
            "SELECT state FROM campaigns") == "done", timeout=120,
            what="the campaign to finish")
        got = self.received(peer)
        self.assertEqual(sorted(got), sorted(first))
        self.assertLedger()

    def test_cancel_leaves_nothing_waiting(self):
        d, peer, first, after = self.pause_or_cancel("cancel")
        states = self.states()
        # What the relay took is sent; everything else is cancelled, at
        # once, and nothing waits for a retry.
        self.assertEqual(states.get("sent"), len(peer.messages()), states)
        self.assertEqual(states.get("cancelled"), len(first) - states["sent"],
                         states)
        self.assertEqual(set(states), {"sent", "cancelled"})
        time.sleep(1)
        self.assertEqual(len(peer.messages()), states["sent"])
        self.assertLedger()

    def test_once_sends_what_was_due_when_it_started(self):
        first, _ = self.bodies(4, 0)
        self.campaign()
        peer = self.peer("--data-reply", ".*=451 4.3.0 try later",
                         "--stall", "DATA=1.5")
        # Retries come due a second after each attempt, before the stalling
        # relay has answered: --once used to claim them again, round after
        # round, until their lifetime ended.
        self.smtp_conf(peer.port, "retry = { first = \"1s\"; factor = 1.0; "
                       "}; lifetime = \"15s\";")
        started = time.monotonic()
        self.once()
        self.assertLess(time.monotonic() - started, 30 * SLOW)
        self.assertEqual(self.states(), {"deferred": 4})
        self.assertEqual(self.home.scalar(
            "SELECT max(attempts) FROM deliveries"), 1)
        self.assertEqual(len(peer.events("refused")), 4)


if __name__ == "__main__":
    unittest.main()
