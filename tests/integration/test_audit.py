"""chancery audit, end to end: the built binary against a real SQLite file.

The ledger rows are written here with an independent Python implementation
of the canonical form documented in include/chancery/ledger.h, so the test
also pins that format. Tampering goes through the sqlite3 shell, as a person
would do it. The HTML report is opened in headless Chromium.
"""
import csv
import hashlib
import html.parser
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

BIN_DIR = os.environ.get("CHANCERY_BIN_DIR", "")
CHANCERY = os.path.join(BIN_DIR, "chancery")
GENESIS = "0" * 64
T2023 = 1677398400  # 2023-02-26T08:00:00Z
T2024 = 1708934400

# Best first, as the matrix ranks them (audit.h).
STATES_BEST_FIRST = ["delivered", "sent", "sending", "deferred", "pending",
                     "bounced", "failed", "expired", "cancelled", "skipped"]

BODIES = [
    (1, "UNSG", "UN Secretary-General", "un-organ", None),
    (2, "OSCE", "Organization for Security and Co-operation in Europe",
     "regional-org", None),
    (3, "UNICEF", "United Nations Children's Fund", "un-agency", None),
    (4, "EVIL", "</script><img src=x onerror=alert(1)> & Co", "ngo", "AZ"),
]
CONTACTS = [(1, 1, "sg@un.org"), (2, 2, "osce@osce.org"),
            (3, 2, "press@osce.org"), (4, 3, "unicef@unicef.org"),
            (5, 4, "evil@example.org")]
CAMPAIGNS = [(1, "stmt-2023", T2023), (2, "stmt-2024", T2024),
             (3, "stmt-2025", T2024 + 366 * 86400)]
# id, campaign, contact, body, state, reply code, enhanced, text, queue id,
# reason, sent_at
DELIVERIES = [
    (1, 1, 1, 1, "sent", 250, "2.0.0", "Ok: queued as AAA1", "AAA1", None,
     T2023 + 60),
    (2, 1, 2, 2, "delivered", 250, "2.0.0", "Ok", "BBB2", None, T2023 + 70),
    (3, 1, 3, 2, "failed", 550, "5.1.1", "user unknown", None,
     "550 5.1.1 user unknown", None),
    (4, 1, 4, 3, "skipped", None, None, None, None, "contact disabled", None),
    (5, 2, 1, 1, "deferred", 451, "4.7.1", "try later", None, None, None),
    (6, 2, 2, 2, "bounced", 250, "2.0.0", "Ok", "CCC3",
     "smtp; 550 5.1.1 mailbox unavailable", T2024 + 60),
    (7, 2, 3, 2, "sent", 250, "2.0.0", "Ok", "DDD4", None, T2024 + 70),
    (8, 2, 4, 3, "failed", 554, "5.7.1", "rejected", None, "554 rejected",
     None),
    (9, 2, 5, 4, "sent", 250, "2.0.0", "</script><b>x</b>", "FFF6", None,
     T2024 + 90),
    (10, 3, 4, 3, "skipped", None, None, None, None, "contact disabled",
     None),
]
FINAL_KIND = {"sent": "delivery.sent", "delivered": "delivery.delivered",
              "failed": "delivery.failed", "skipped": "delivery.skipped",
              "deferred": "delivery.deferred", "bounced": "delivery.bounced"}


def netstring(s):
    b = s.encode()
    return str(len(b)).encode() + b":" + b + b","


def canonical(row):
    """The canonical serialisation of ledger.h, written independently."""
    def num(v):
        return "" if not v else str(v)
    fields = [num(row["id"]), num(row["ts"]), row["kind"],
              num(row["campaign_id"]), num(row["delivery_id"]),
              num(row["body_id"]), num(row["contact_id"]), row["data"],
              row["prev_hash"]]
    if row.get("actor") is not None:  # the tenth field only when present
        fields.append(row["actor"])
    return b"".join(netstring(f) for f in fields)


def append_event(con, kind, ts, campaign=None, delivery=None, body=None,
                 contact=None, data="{}"):
    head = con.execute(
        "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    row = {"id": head[0] + 1 if head else 1, "ts": ts, "kind": kind,
           "campaign_id": campaign, "delivery_id": delivery,
           "body_id": body, "contact_id": contact, "data": data,
           "prev_hash": head[1] if head else GENESIS}
    digest = hashlib.sha256(canonical(row)).hexdigest()
    con.execute(
        "INSERT INTO events (id, ts, kind, campaign_id, delivery_id, "
        "body_id, contact_id, data, prev_hash, hash) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        (row["id"], ts, kind, campaign, delivery, body, contact, data,
         row["prev_hash"], digest))


def fill(path):
    con = sqlite3.connect(path)
    with con:
        con.executemany(
            "INSERT INTO bodies (id, acronym, name, kind, country, "
            "created_at) VALUES (?,?,?,?,?,0)", BODIES)
        con.executemany(
            "INSERT INTO contacts (id, body_id, email, created_at, "
            "updated_at) VALUES (?,?,?,0,0)", CONTACTS)
        con.execute("INSERT INTO lists (id, name, kind, created_at, "
                    "updated_at) VALUES (1, 'all', 'static', 0, 0)")
        con.execute("INSERT INTO templates (id, name, version, source, "
                    "sha256, created_at) VALUES (1, 'anniv', 2, 'x', "
                    "'ab12', 0)")
        for cid, name, at in CAMPAIGNS:
            con.execute(
                "INSERT INTO campaigns (id, name, template_id, list_id, "
                "send_at, tz, state, created_at, updated_at) "
                "VALUES (?, ?, 1, 1, ?, 'UTC', 'done', 0, 0)",
                (cid, name, at))
            append_event(con, "campaign.created", at - 86400, campaign=cid)
        for d in DELIVERIES:
            email = CONTACTS[d[2] - 1][2]
            con.execute(
                "INSERT INTO deliveries (id, campaign_id, contact_id, "
                "body_id, email, state, attempts, reply_code, "
                "reply_enhanced, reply_text, queue_id, reason, "
                "created_at, updated_at, sent_at) "
                "VALUES (?,?,?,?,?,?,1,?,?,?,?,?,0,0,?)",
                (d[0], d[1], d[2], d[3], email, d[4]) + d[5:])
            at = CAMPAIGNS[d[1] - 1][2]
            append_event(con, "delivery.queued", at, d[1], d[0], d[3], d[2])
            append_event(con, FINAL_KIND[d[4]], at + 60, d[1], d[0], d[3],
                         d[2], json.dumps({"reply": d[7]}))
    con.close()


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class TagCollector(html.parser.HTMLParser):
    """Every start tag with its attributes, as a browser would parse them
    (text that merely looks like markup, escaped, is not a tag)."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


class MatrixDom(html.parser.HTMLParser):
    """Collects the matrix: body -> [cell classes and texts], and the
    rows the filter left visible."""

    def __init__(self):
        super().__init__()
        self.rows, self.visible, self.cur, self.cell = [], [], None, None
        self.count = None
        self._in_count = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-kind" in a:
            self.cur = {"text": a.get("data-text", ""), "cells": [],
                        "hidden": "display: none" in a.get("style", "")}
            self.rows.append(self.cur)
        elif tag == "td" and self.cur is not None and \
                "cell" in a.get("class", ""):
            self.cell = [a["class"], ""]
            self.cur["cells"].append(self.cell)
        elif tag == "span" and a.get("id") == "f-count":
            self._in_count = True

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        elif tag == "tr":
            self.cur = None
        elif tag == "span":
            self._in_count = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data
        if self._in_count:
            self.count = (self.count or "") + data


class AuditTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chancery-audit-")
        self.db = os.path.join(self.dir, "chancery.db")
        self.conf = os.path.join(self.dir, "chancery.conf")
        with open(self.conf, "w") as f:
            f.write('database = { path = "%s"; };\n' % self.db)
        r = self.run_cli("init")
        self.assertEqual(r.returncode, 0, r.stderr)
        fill(self.db)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cli(self, *args):
        env = dict(os.environ, CHANCERY_FAKE_NOW="2026-01-02T03:04:05Z")
        return subprocess.run([CHANCERY, "--config", self.conf] + list(args),
                              capture_output=True, text=True, env=env,
                              timeout=60)

    def sqlite_shell(self, sql):
        subprocess.run(["sqlite3", self.db], input=sql, text=True,
                       check=True, capture_output=True)

    def snapshot(self):
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT * FROM events ORDER BY id").fetchall()
        rows += con.execute("SELECT * FROM deliveries ORDER BY id").fetchall()
        con.close()
        return rows

    def query(self, sql, *args):
        con = sqlite3.connect(self.db)
        rows = con.execute(sql, args).fetchall()
        con.close()
        return rows

    def assert_fails(self, r, status, text):
        self.assertEqual(r.returncode, status, r.stdout + r.stderr)
        self.assertIn(text, r.stderr)
        first = r.stderr.splitlines()[0]
        self.assertTrue(first.startswith("chancery"), r.stderr)

    # ---- verify and anchors ----

    def test_verify_intact(self):
        r = self.run_cli("audit", "verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        (n,), = self.query("SELECT count(*) FROM events")
        (head,), = self.query("SELECT hash FROM events ORDER BY id DESC "
                              "LIMIT 1")
        self.assertIn("ok: %d rows verified" % n, r.stdout)
        self.assertIn("head: row %d %s" % (n, head), r.stdout)
        j = json.loads(self.run_cli("--json", "audit", "verify").stdout)
        self.assertEqual((j["ok"], j["rows_verified"], j["head_hash"]),
                         (True, n, head))

    def test_verify_names_row_changed_with_sqlite3_shell(self):
        self.sqlite_shell("DROP TRIGGER events_no_update;"
                          "UPDATE events SET data = '{\"reply\":\"forged\"}'"
                          " WHERE id = 9;")
        before = self.snapshot()
        r = self.run_cli("audit", "verify")
        self.assert_fails(r, 65, "ledger row 9 (delivery.failed): hash "
                                 "mismatch: the row's content changed")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertEqual(self.snapshot(), before)
        j = json.loads(self.run_cli("--json", "audit", "verify").stdout)
        self.assertEqual((j["ok"], j["problem"], j["row"], j["rows_verified"]),
                         (False, "hash-mismatch", 9, 8))

    def test_verify_names_deleted_row(self):
        self.sqlite_shell("DROP TRIGGER events_no_delete;"
                          "DELETE FROM events WHERE id = 6;")
        r = self.run_cli("audit", "verify")
        self.assert_fails(r, 65, "ledger row 7: prev mismatch: row 6 before "
                                 "it is missing")

    def test_anchor_detects_truncated_tail(self):
        r = self.run_cli("audit", "anchor")
        self.assertEqual(r.returncode, 0, r.stderr)
        (n,), = self.query("SELECT count(*) FROM events")
        (head, ts), = self.query("SELECT hash, strftime('%Y-%m-%dT%H:%M:%SZ',"
                                 " ts, 'unixepoch') FROM events "
                                 "ORDER BY id DESC LIMIT 1")
        self.assertIn("head hash:   %s" % head, r.stdout)
        self.assertIn("row:         %d (written %s)" % (n, ts), r.stdout)
        self.assertIn("anchored at: 2026-01-02T03:04:05Z", r.stdout)
        j = json.loads(self.run_cli("--json", "audit", "anchor").stdout)
        self.assertEqual((j["head_hash"], j["row"], j["row_time"]),
                         (head, n, ts))

        ok = self.run_cli("audit", "verify", "--anchor", head.upper())
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn("is row %d, intact" % n, ok.stdout)

        self.sqlite_shell("DROP TRIGGER events_no_delete;"
                          "DELETE FROM events WHERE id = %d;" % n)
        # The chain alone cannot see a cut tail ...
        self.assertEqual(self.run_cli("audit", "verify").returncode, 0)
        # ... the anchor can.
        r = self.run_cli("audit", "verify", "--anchor", head)
        self.assert_fails(r, 65, "anchor %s: no row of the ledger carries "
                                 "this hash" % head)

    def rehash_from(self, first):
        """Re-hashes every row from id first on, as someone who knows the
        (public) algorithm would after rewriting history."""
        con = sqlite3.connect(self.db)
        con.row_factory = sqlite3.Row
        with con:
            con.execute("DROP TRIGGER IF EXISTS events_no_update")
            prev = con.execute("SELECT hash FROM events WHERE id = ?",
                               (first - 1,)).fetchone()[0]
            for r in con.execute("SELECT * FROM events WHERE id >= ? "
                                 "ORDER BY id", (first,)).fetchall():
                row = dict(r)
                row["prev_hash"] = prev
                prev = hashlib.sha256(canonical(row)).hexdigest()
                con.execute("UPDATE events SET prev_hash = ?, hash = ? "
                            "WHERE id = ?", (row["prev_hash"], prev,
                                             row["id"]))
        con.close()

    def test_full_rehash_passes_verify_but_not_the_anchor(self):
        """Issue 15 item 12: a delivery.sent rewritten into a
        delivery.failed, every row after it re-hashed, verifies "ok"
        without an anchor. verify now says that is all it proves; the
        anchor, which campaign status prints for a done campaign, catches
        the rewrite."""
        (n,), = self.query("SELECT count(*) FROM events")
        (head,), = self.query("SELECT hash FROM events ORDER BY id DESC "
                              "LIMIT 1")
        r = self.run_cli("campaign", "status", "stmt-2024")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("\nanchor:    row %d %s\n           (the ledger's "
                      "head: record it elsewhere; 'chancery audit verify "
                      "--anchor' proves no row up to it was rewritten)\n" %
                      (n, head), r.stdout)
        j = json.loads(self.run_cli("--json", "campaign", "status",
                                    "stmt-2024").stdout)
        self.assertEqual(j["anchor"], {"row": n, "head_hash": head,
                                       "rows_verified": n})

        (victim,), = self.query("SELECT min(id) FROM events WHERE kind = "
                                "'delivery.sent'")
        self.sqlite_shell("DROP TRIGGER events_no_update;"
                          "UPDATE events SET kind = 'delivery.failed' "
                          "WHERE id = %d;" % victim)
        self.rehash_from(victim)
        (new_head,), = self.query("SELECT hash FROM events ORDER BY id "
                                  "DESC LIMIT 1")
        self.assertNotEqual(new_head, head)
        r = self.run_cli("audit", "verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            "ok: %d rows verified" % n,
            "head: row %d %s" % (n, new_head),
            "note: without --anchor this proves only that the chain is "
            "consistent; a rewrite that re-hashed every row would pass. "
            "Record 'chancery audit anchor' elsewhere and verify against "
            "it."])
        j = json.loads(self.run_cli("--json", "audit", "verify").stdout)
        self.assertEqual((j["ok"], j["history_proven"]), (True, False))
        before = self.snapshot()
        r = self.run_cli("audit", "verify", "--anchor", head)
        self.assert_fails(r, 65, "anchor %s: no row of the ledger carries "
                                 "this hash" % head)
        self.assertEqual(self.snapshot(), before)
        # A broken chain under a done campaign: status still answers, and
        # says there is no anchor to record.
        self.sqlite_shell("DROP TRIGGER IF EXISTS events_no_update;"
                          "UPDATE events SET data = '{\"x\":1}' "
                          "WHERE id = 2;")
        r = self.run_cli("campaign", "status", "stmt-2024")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("\nanchor:    none: not anchoring a broken ledger: "
                      "ledger row 2", r.stdout)

    def test_anchor_refuses_broken_or_empty_ledger(self):
        self.sqlite_shell("DROP TRIGGER events_no_update;"
                          "UPDATE events SET kind = 'delivery.sent' "
                          "WHERE id = 3;")
        r = self.run_cli("audit", "anchor")
        self.assert_fails(r, 65, "not anchoring a broken ledger: ledger "
                                 "row 3")
        self.sqlite_shell("DROP TRIGGER events_no_delete;DELETE FROM events;")
        self.assert_fails(self.run_cli("audit", "anchor"), 67,
                          "the ledger is empty")

    def test_bad_input_is_refused_and_changes_nothing(self):
        before = self.snapshot()
        cases = [
            (("audit", "verify", "--anchor", "xyz"), 64,
             "anchor 'xyz' is not a SHA-256 hash"),
            (("audit", "verify", "extra"), 64, "unexpected argument 'extra'"),
            (("audit", "campaign", "stmt-2023", "--format", "pdf"), 64,
             "unknown format 'pdf'"),
            (("audit", "campaign", "nope"), 67, "no campaign named 'nope'"),
            (("audit", "campaign"), 64, "missing NAME"),
            (("audit", "body", "NOPE"), 67, "no body with acronym or name 'NOPE'"),
            (("audit", "matrix", "--since", "twenty"), 64,
             "--since wants a year (1970-9999), not 'twenty'"),
            (("audit", "body", "OSCE", "--since", "2020"), 64,
             "--since applies to 'audit matrix' only"),
            (("--json", "audit", "matrix", "--format", "html"), 64,
             "--json and --format html disagree"),
            (("audit", "matrix", "--output",
              os.path.join(self.dir, "no", "such", "dir.html")), 73,
             "cannot create"),
        ]
        for args, status, text in cases:
            with self.subTest(args=args):
                r = self.run_cli(*args)
                self.assert_fails(r, status, text)
                self.assertEqual(r.stdout, "")
        self.assertEqual(self.snapshot(), before)

    # ---- reports agree with the deliveries table ----

    def test_campaign_report_agrees_with_deliveries(self):
        for cid, name, _ in CAMPAIGNS:
            with self.subTest(campaign=name):
                r = self.run_cli("audit", "campaign", name, "--format", "json")
                self.assertEqual(r.returncode, 0, r.stderr)
                j = json.loads(r.stdout)
                want = dict(self.query(
                    "SELECT state, count(*) FROM deliveries "
                    "WHERE campaign_id = ? GROUP BY state", cid))
                totals = dict(j["totals"])
                self.assertEqual(totals.pop("deliveries"), sum(want.values()))
                self.assertEqual(totals, want)
                got = {d["delivery_id"]: (d["state"], d["reply_code"],
                                          d["queue_id"], d["reason"])
                       for d in j["deliveries"]}
                rows = self.query("SELECT id, state, reply_code, queue_id, "
                                  "reason FROM deliveries "
                                  "WHERE campaign_id = ?", cid)
                self.assertEqual(got, {r[0]: r[1:] for r in rows})
                self.assertEqual(j["campaign"]["template"], "anniv v2")
        # The global --json is --format json.
        a = self.run_cli("--json", "audit", "campaign", "stmt-2024").stdout
        b = self.run_cli("audit", "campaign", "stmt-2024", "--format",
                         "json").stdout
        self.assertEqual(a, b)

    def test_campaign_csv_and_table(self):
        r = self.run_cli("audit", "campaign", "stmt-2024", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertEqual(len(rows), 5)
        osce = [x for x in rows if x["email"] == "osce@osce.org"][0]
        self.assertEqual((osce["body"], osce["state"], osce["reply_code"],
                          osce["reply_enhanced"], osce["queue_id"],
                          osce["reason"], osce["sent_at"]),
                         ("OSCE", "bounced", "250", "2.0.0", "CCC3",
                          "smtp; 550 5.1.1 mailbox unavailable",
                          "2024-02-26T08:01:00Z"))
        t = self.run_cli("audit", "campaign", "stmt-2024").stdout
        self.assertIn("5 deliveries: 2 sent, 1 deferred, 1 bounced, 1 failed",
                      t)
        header = [l for l in t.splitlines() if l.startswith("BODY")][0]
        row = [l for l in t.splitlines() if "CCC3" in l][0]
        # Aligned: each column starts at the same offset in every line.
        self.assertEqual(header.index("STATE"), row.index("bounced"))

    def test_campaign_csv_neutralises_formulas(self):
        """A relay's diagnostic is text from outside: in CSV a spreadsheet
        would run it as a formula unless it starts with "'"."""
        formula = '=HYPERLINK("http://x","y")'
        con = sqlite3.connect(self.db)
        with con:
            con.execute("UPDATE deliveries SET reason = ?, reply_text = ? "
                        "WHERE id = 8", (formula, "@SUM(1)"))
        con.close()
        r = self.run_cli("audit", "campaign", "stmt-2024", "--format", "csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"\'=HYPERLINK(""http://x"",""y"")"', r.stdout)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        unicef = [x for x in rows if x["email"] == "unicef@unicef.org"][0]
        self.assertEqual(unicef["reason"], "'" + formula)
        for row in rows:
            for cell in row.values():
                self.assertFalse(cell[:1] in ("=", "+", "-", "@", "\t",
                                              "\r"), (row, cell))
        # The JSON report is not for spreadsheets: the text as it came.
        j = json.loads(self.run_cli("audit", "campaign", "stmt-2024",
                                    "--format", "json").stdout)
        self.assertIn(formula, [d["reason"] for d in j["deliveries"]])

    def test_body_report_year_by_year(self):
        r = self.run_cli("audit", "body", "unicef", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        got = [(d["year"], d["campaign"], d["state"]) for d in j["deliveries"]]
        self.assertEqual(got, [(2023, "stmt-2023", "skipped"),
                               (2024, "stmt-2024", "failed"),
                               (2025, "stmt-2025", "skipped")])
        self.assertEqual(j["body"]["name"], "United Nations Children's Fund")

    def expected_matrix(self, since=0):
        best = {}
        for d in DELIVERIES:
            year = int(self.query("SELECT strftime('%Y', ?, 'unixepoch')",
                                  CAMPAIGNS[d[1] - 1][2])[0][0])
            if year < since:
                continue
            key = (BODIES[d[3] - 1][1], CAMPAIGNS[d[1] - 1][1])
            old = best.get(key)
            if old is None or STATES_BEST_FIRST.index(d[4]) < \
                    STATES_BEST_FIRST.index(old):
                best[key] = d[4]
        return best

    def test_matrix_json_and_since(self):
        for since in (0, 2024, 2025):
            with self.subTest(since=since):
                args = ["audit", "matrix", "--format", "json"]
                if since:
                    args += ["--since", str(since)]
                j = json.loads(self.run_cli(*args).stdout)
                got = {(b["acronym"], c): s for b in j["bodies"]
                       for c, s in b["cells"].items()}
                self.assertEqual(got, self.expected_matrix(since))
                self.assertEqual([c["name"] for c in j["campaigns"]],
                                 [c[1] for c in CAMPAIGNS
                                  if since <= 2023 + c[0] - 1])

    # ---- acknowledgements, automatic answers, replies ----

    ACK_2023 = T2023 + 86400 + 7200         # 2023-02-27T10:00:00Z
    AUTO_2023 = T2023 + 300                 # 2023-02-26T08:05:00Z
    REPLY_2024 = T2024 + 2 * 86400 + 5400   # 2024-02-28T09:30:00Z

    def add_responses(self):
        """Rows as the inbox and response_apply write them: the inbound
        message, its delivery_responses row and its ledger event."""
        rows = [  # inbound id, delivery, kind, inbound kind, disp, sender, at
            (1, 1, "acknowledged", "mdn", "displayed", "sg@un.org",
             self.ACK_2023),
            (2, 2, "auto_replied", "auto_reply", None, "osce@osce.org",
             self.AUTO_2023),
            (3, 7, "replied", "reply", None, "press@osce.org",
             self.REPLY_2024),
        ]
        con = sqlite3.connect(self.db)
        with con:
            for iid, did, kind, ikind, disp, sender, at in rows:
                d = DELIVERIES[did - 1]
                con.execute(
                    "INSERT INTO inbound_messages (id, sha256, source, kind, "
                    "sender, delivery_id, received_at, raw) "
                    "VALUES (?, ?, 'maildir', ?, ?, ?, ?, 'raw')",
                    (iid, "%064d" % iid, ikind, sender, did, at + 60))
                con.execute(
                    "INSERT INTO delivery_responses (delivery_id, inbound_id, "
                    "kind, disposition, sender, responded_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (did, iid, kind, disp, sender, at, at + 60))
                append_event(con, "delivery." + kind, at + 60, d[1], did,
                             d[3], d[2], json.dumps({"sender": sender}))
        con.close()

    def test_responses_in_campaign_and_body_reports(self):
        self.add_responses()
        before = self.snapshot()
        t = self.run_cli("audit", "campaign", "stmt-2023")
        self.assertEqual(t.returncode, 0, t.stderr)
        self.assertIn("; responses: 1 acknowledged, 1 auto_replied\n",
                      t.stdout)
        self.assertIn("\nresponses:\n"
                      "  OSCE answered stmt-2023 automatically on 26 "
                      "February 2023, from osce@osce.org (delivery 2 to "
                      "osce@osce.org)\n"
                      "  UNSG acknowledged receipt of stmt-2023 on 27 "
                      "February 2023 (displayed), from sg@un.org "
                      "(delivery 1 to sg@un.org)\n", t.stdout)
        header = [l for l in t.stdout.splitlines()
                  if l.startswith("BODY")][0]
        self.assertIn("ACKNOWLEDGED_AT", header)
        j = json.loads(self.run_cli("audit", "campaign", "stmt-2023",
                                    "--format", "json").stdout)
        by_id = {d["delivery_id"]: d for d in j["deliveries"]}
        self.assertEqual(by_id[1]["acknowledged_at"], "2023-02-27T10:00:00Z")
        self.assertEqual(by_id[1]["disposition"], "displayed")
        self.assertEqual(by_id[2]["auto_replied_at"], "2023-02-26T08:05:00Z")
        self.assertIsNone(by_id[3]["acknowledged_at"])
        self.assertEqual(j["totals"]["acknowledged"], 1)
        self.assertEqual(j["responses"][1], {
            "body": "UNSG", "campaign": "stmt-2023",
            "response": "acknowledged", "disposition": "displayed",
            "sender": "sg@un.org", "responded_at": "2023-02-27T10:00:00Z",
            "delivery_id": 1, "email": "sg@un.org"})
        # Year by year: each year's statement with what came back for it.
        j = json.loads(self.run_cli("audit", "body", "OSCE", "--format",
                                    "json").stdout)
        got = [(d["year"], d["email"], d["auto_replied_at"],
                d["replied_at"]) for d in j["deliveries"]]
        self.assertEqual(got, [
            (2023, "osce@osce.org", "2023-02-26T08:05:00Z", None),
            (2023, "press@osce.org", None, None),
            (2024, "osce@osce.org", None, None),
            (2024, "press@osce.org", None, "2024-02-28T09:30:00Z")])
        self.assertEqual([r["response"] for r in j["responses"]],
                         ["auto_replied", "replied"])
        t = self.run_cli("audit", "body", "OSCE").stdout
        self.assertIn("OSCE replied to stmt-2024 on 28 February 2024, from "
                      "press@osce.org", t)
        self.assertEqual(self.snapshot(), before)

    def test_responses_in_the_matrix(self):
        self.add_responses()
        r = self.run_cli("audit", "matrix", "--format", "csv")
        rows = {row["body"]: row for row in
                csv.DictReader(io.StringIO(r.stdout))}
        self.assertEqual(rows["UNSG"]["stmt-2023"], "sent +ack")
        self.assertEqual(rows["OSCE"]["stmt-2023"], "delivered +auto")
        self.assertEqual(rows["OSCE"]["stmt-2024"], "sent +replied")
        self.assertEqual(rows["UNICEF"]["stmt-2024"], "failed")
        t = self.run_cli("audit", "matrix").stdout
        self.assertIn("+ack: acknowledged", t)
        for flt, want in (("acknowledged", ["UNSG"]),
                          ("replied", ["OSCE"]),
                          ("any", ["OSCE", "UNSG"]),
                          ("none", ["EVIL", "UNICEF"])):
            with self.subTest(response=flt):
                r = self.run_cli("audit", "matrix", "--response", flt,
                                 "--format", "json")
                self.assertEqual(r.returncode, 0, r.stderr)
                j = json.loads(r.stdout)
                self.assertEqual(sorted(b["acronym"] for b in j["bodies"]),
                                 want)
        j = json.loads(self.run_cli("audit", "matrix", "--response", "any",
                                    "--format", "json").stdout)
        osce = [b for b in j["bodies"] if b["acronym"] == "OSCE"][0]
        self.assertEqual(osce["responses"], {"stmt-2023": ["auto_replied"],
                                             "stmt-2024": ["replied"]})
        # HTML: the marks in the cells, and a filter on them.
        out = os.path.join(self.dir, "m.html")
        self.assertEqual(self.run_cli("audit", "matrix", "--format", "html",
                                      "--output", out).returncode, 0)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        self.assertIn(">sent +ack</td>", page)
        self.assertIn('<option value="replied">replied</option>', page)

    def test_response_filter_errors(self):
        before = self.snapshot()
        self.assert_fails(self.run_cli("audit", "matrix", "--response",
                                       "read"), 64,
                          "unknown response 'read'")
        self.assert_fails(self.run_cli("audit", "campaign", "stmt-2023",
                                       "--response", "any"), 64,
                          "--response applies to 'audit matrix' only")
        self.assertEqual(self.snapshot(), before)

    # ---- the HTML report in a browser ----

    def write_html(self):
        out = os.path.join(self.dir, "matrix.html")
        r = self.run_cli("audit", "matrix", "--format", "html",
                         "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        with open(out, encoding="utf-8") as f:
            return out, f.read()

    def test_html_needs_no_network(self):
        _, text = self.write_html()
        self.assertNotRegex(text, r"https?://")
        self.assertNotRegex(text, r"(?i)@import|url\(")
        tags = TagCollector()
        tags.feed(text)
        for tag, attrs in tags.tags:
            self.assertNotIn(tag, ("img", "link", "iframe", "object",
                                   "embed", "base"))
            for name in ("src", "href", "action", "srcset"):
                self.assertNotIn(name, attrs, (tag, attrs))
        self.assertIn("default-src 'none'", text)
        self.assertNotIn("<img", text)
        self.assertIn("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; "
                      "&amp; Co", text)

    def browser(self, url, extra=()):
        exe = chromium()
        if not exe:
            self.skipTest("chromium is not installed (apt-get install "
                          "chromium; scripts/deps.sh does it)")
        profile = os.path.join(self.dir, "profile")
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--user-data-dir=" + profile,
                # Any network lookup would fail: the page must not need one.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--virtual-time-budget=2000"] + list(extra) + [url]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return r.stdout

    def test_html_matrix_in_chromium(self):
        path, _ = self.write_html()
        dom = MatrixDom()
        dom.feed(self.browser("file://" + path, ["--dump-dom"]))
        want = self.expected_matrix()
        campaigns = [c[1] for c in CAMPAIGNS]
        self.assertEqual(len(dom.rows), len(BODIES))
        seen = 0
        for row in dom.rows:
            acronym = row["text"].split(" ")[0]
            self.assertEqual(len(row["cells"]), len(campaigns))
            for cname, (cls, text) in zip(campaigns, row["cells"]):
                state = want.get((acronym, cname))
                if state is None:
                    self.assertIn("none", cls)
                    self.assertEqual(text, "")
                else:
                    self.assertIn("st-" + state, cls.split())
                    self.assertEqual(text, state)
                    seen += 1
        self.assertEqual(seen, len(want))
        # The script ran: it counted the rows.
        self.assertEqual(dom.count, "4 of 4 rows")

        # Filters, preset from the fragment: state and text search.
        dom = MatrixDom()
        dom.feed(self.browser("file://" + path + "#state=sent",
                              ["--dump-dom"]))
        shown = sorted(r["text"].split(" ")[0] for r in dom.rows
                       if not r["hidden"])
        # The state filter keeps the bodies with a cell in that state.
        self.assertEqual(shown, ["EVIL", "OSCE", "UNSG"])
        self.assertEqual(dom.count, "3 of 4 rows")
        dom = MatrixDom()
        dom.feed(self.browser("file://" + path + "#q=children&kind=un-agency",
                              ["--dump-dom"]))
        self.assertEqual([r["text"].split(" ")[0] for r in dom.rows
                          if not r["hidden"]], ["UNICEF"])

        # The details of one cell, as a click (or "#cell=N") shows them.
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # OSCE's second cell: stmt-2024 (its first is stmt-2023).
        cell = re.search(r'data-text="OSCE .*?data-cell="\d+".*?'
                         r'data-cell="(\d+)"', text)
        self.assertIsNotNone(cell, text)
        dom = self.browser("file://%s#cell=%s" % (path, cell.group(1)),
                           ["--dump-dom"])
        panel = re.search(r'<div id="panel"[^>]*>(.*?)</div>', dom, re.S)
        self.assertIsNotNone(panel, dom)
        for want in ("OSCE \u2014 stmt-2024", "1 sent, 1 bounced",
                     "osce@osce.org",
                     "queue id: CCC3",
                     "reason: smtp; 550 5.1.1 mailbox unavailable",
                     "press@osce.org", "reply: 250 2.0.0 Ok"):
            self.assertIn(want, panel.group(1))

        shots = os.path.join(BIN_DIR, "test-artifacts")
        os.makedirs(shots, exist_ok=True)
        shot = os.path.join(shots, "audit-matrix.png")
        if os.path.exists(shot):
            os.remove(shot)
        self.browser("file://" + path, ["--screenshot=" + shot,
                                        "--window-size=1280,800"])
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_html_campaign_details_in_chromium(self):
        out = os.path.join(self.dir, "campaign.html")
        r = self.run_cli("audit", "campaign", "stmt-2024", "--format", "html",
                         "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        dom = self.browser("file://" + out, ["--dump-dom"])
        self.assertEqual(len(re.findall(r"<details>", dom)), 5)
        self.assertIn("smtp; 550 5.1.1 mailbox unavailable", dom)
        self.assertIn("delivery.bounced", dom)
        self.assertIn("&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;", dom)
        self.assertNotIn("<b>x</b>", dom)


if __name__ == "__main__":
    unittest.main()
