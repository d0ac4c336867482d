"""One JSON key convention (issue 23): every key of every command's --json
output, on a populated database, is snake_case: ^[a-z][a-z0-9_]*$ (no
spaces, dots, dashes or capitals), at any depth."""
import json
import os
import re

from harness import TestCase
from test_status import populate

KEY = re.compile(r"^[a-z][a-z0-9_]*$")

# Every command that prints JSON: with --json, or --format json (audit).
COMMANDS = [
    ("status",),
    ("config", "show"),
    ("body", "list"),
    ("body", "show", "UNSG"),
    ("body", "history", "UNSG"),
    ("contact", "list", "UNSG"),
    ("contact", "history", "sg@un.example.org"),
    ("find", "UNSG"),
    ("list", "ls"),
    ("list", "show", "all"),
    ("template", "list"),
    ("campaign", "ls"),
    ("campaign", "status", "now"),
    ("series", "ls"),
    ("series", "show", "yearly"),
    ("bounce", "list"),
    ("audit", "verify"),
    ("audit", "anchor"),
    ("audit", "campaign", "now", "--format", "json"),
    ("audit", "body", "UNSG", "--format", "json"),
    ("audit", "matrix", "--format", "json"),
    ("user", "add", "ann", "--role", "approver", "--generate"),
    ("user", "list"),
]


def bad_keys(value, path="$"):
    """(path, key) of every key that breaks the convention."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if not KEY.match(k):
                out.append((path, k))
            out += bad_keys(v, path + "." + k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += bad_keys(v, "%s[%d]" % (path, i))
    return out


class TestJsonKeys(TestCase):
    def test_every_key_is_snake_case(self):
        populate(self.home)
        self.home.ok("series", "add", "yearly", "--event-date", "1992-02-26",
                     "--send", "02-26T10:00", "--tz", "UTC", "--template",
                     "stmt", "--list", "all")
        backup = os.path.join(self.home.dir, "copy.db")
        commands = COMMANDS + [("backup", backup)]
        bad = {}
        for args in commands:
            argv = list(args)
            if "--format" not in argv:
                argv.append("--json")
            r = self.home.ok(*argv)
            try:
                doc = json.loads(r.out)
            except ValueError as e:
                self.fail("%s: not JSON (%s): %r" % (" ".join(argv), e,
                                                     r.out[:200]))
            self.assertTrue(doc or doc == [], " ".join(args))
            found = bad_keys(doc)
            if found:
                bad[" ".join(args)] = sorted(set(found))
        self.assertEqual(bad, {})

    def test_config_show_nests_the_groups(self):
        doc = json.loads(self.home.ok("config", "show", "--json").out)
        self.assertEqual(doc["database"]["path"], self.home.db)
        self.assertEqual(doc["transport"]["kind"], "maildir")
        self.assertEqual(doc["transport"]["maildir"]["path"],
                         self.home.outbox)
        self.assertEqual(doc["sender"]["address"],
                         "office@ombudsman.example")
