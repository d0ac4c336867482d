"""Issue 24: the web console's accounts, through the built `chancery user`
commands against a real database file: passwords only from a private
file, standard input or --generate; roles; disable ends sessions; the
ledger names who did it and never holds a password or a hash. Then the
approval rule: once an enabled account exists, only an enabled approver
or admin may approve or reject a campaign."""
import json
import os
import pwd
import sqlite3
import subprocess
import unittest

from harness import TestCase
from test_approval import ApprovalTestCase

PASSWORD = "a long enough password"


class UserCommandTest(TestCase):
    def pwfile(self, text=PASSWORD + "\n", mode=0o600, name="pw"):
        path = os.path.join(self.home.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def add(self, name, role, **kw):
        return self.home.ok("user", "add", name, "--role", role,
                            "--password-file", self.pwfile(), **kw)

    def users(self):
        return self.home.sql("SELECT name, role, disabled FROM users "
                             "ORDER BY name")

    def test_add_from_a_private_file(self):
        r = self.add("alice", "editor")
        self.assertEqual(r.out, "user 'alice' added as editor\n")
        self.assertEqual(self.users(), [("alice", "editor", 0)])
        stored = self.home.scalar("SELECT password_hash FROM users")
        self.assertTrue(stored.startswith("$argon2id$v=19$m=65536,t=3,p=1$"),
                        stored)
        self.assertNotIn(PASSWORD, stored)
        me = pwd.getpwuid(os.getuid()).pw_name
        self.assertEqual(self.home.sql(
            "SELECT kind, actor, data FROM events"),
            [("user.added", me, '{"name":"alice","role":"editor"}')])

    def test_generate_prints_the_password_once(self):
        r = self.home.ok("user", "add", "root-admin", "--role", "admin",
                         "--generate")
        lines = r.out.splitlines()
        self.assertEqual(lines[0], "user 'root-admin' added as admin")
        self.assertTrue(lines[1].startswith("password: "), r)
        password = lines[1][len("password: "):]
        self.assertRegex(password, r"^[2-9a-km-zA-HJ-NP-Z]{20}$")
        # stored only hashed; the ledger holds neither
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM users WHERE password_hash LIKE ?",
            "%" + password + "%"), 0)
        self.assertEqual(self.home.scalar(
            "SELECT count(*) FROM events WHERE data LIKE ? OR data LIKE "
            "'%argon2%'", "%" + password + "%"), 0)
        # --json: the same, machine-readable
        r = self.home.ok("--json", "user", "passwd", "root-admin",
                         "--generate")
        out = json.loads(r.out)
        self.assertEqual(out["name"], "root-admin")
        self.assertEqual(out["change"], "changed")
        self.assertRegex(out["password"], r"^[2-9a-km-zA-HJ-NP-Z]{20}$")
        self.assertNotEqual(out["password"], password)

    def test_password_from_standard_input(self):
        self.home.ok("user", "add", "bob", "--role", "viewer",
                     "--password-file", "-", stdin=PASSWORD + "\nignored\n")
        self.assertEqual(self.users(), [("bob", "viewer", 0)])
        before = self.home.snapshot()
        r = self.home.run("user", "passwd", "bob", "--password-file", "-",
                          stdin="")
        self.assertEqual(r.rc, 64, r)
        self.assertEqual(r.err, "chancery: no password on standard input\n")
        self.assertEqual(self.home.snapshot(), before)

    def test_bad_input_is_refused_and_changes_nothing(self):
        self.add("alice", "editor")
        good = self.pwfile()
        cases = [
            (["user", "add", "bob", "--role", "root", "--password-file",
              good], 64, "unknown role 'root' (viewer, editor, approver, "
             "admin)"),
            (["user", "add", "bob", "--password-file", good], 64,
             "--role viewer|editor|approver|admin is needed"),
            (["user", "add", "bob", "--role", "viewer"], 64,
             "the password comes from --password-file FILE (or - for "
             "standard input) or --generate, never the command line"),
            (["user", "add", "bob", "--role", "viewer", "--generate",
              "--password-file", good], 64,
             "--password-file and --generate exclude each other"),
            (["user", "add", "bob", "--role", "viewer", "--password",
              "secret"], 64, "no password on the command line"),
            (["user", "passwd", "alice", "--password=secret"], 64,
             "no password on the command line"),
            (["user", "add", "alice", "--role", "admin",
              "--password-file", good], 65, "user 'alice' exists"),
            (["user", "add", "", "--role", "viewer", "--password-file",
              good], 65, "a user name cannot be empty"),
            (["user", "add", "x" * 65, "--role", "viewer",
              "--password-file", good], 65,
             "a user name is 1 to 64 bytes (this one has 65)"),
            (["user", "add", "eve\r\nX-Injected: 1", "--role", "viewer",
              "--password-file", good], 65,
             "the user name holds a control character"),
            (["user", "add", " eve", "--role", "viewer",
              "--password-file", good], 65, "begins or ends with a space"),
            (["user", "add", "bob", "--role", "viewer", "--password-file",
              self.pwfile("short\n", name="short")], 64,
             "a password is 12 to 256 bytes (this one has 5)"),
            (["user", "add", "bob", "--role", "viewer", "--password-file",
              self.pwfile("x" * 257 + "\n", name="long")], 64,
             "a password is 12 to 256 bytes (this one has 257)"),
            (["user", "add", "bob", "--role", "viewer", "--password-file",
              self.pwfile(mode=0o640, name="open")], 78,
             "the password file is readable by others (mode 0640); "
             "chmod 600 it"),
            (["user", "add", "bob", "--role", "viewer", "--password-file",
              self.pwfile("\n", name="empty")], 78,
             "the password file is empty"),
            (["user", "add", "bob", "--role", "viewer", "--password-file",
              os.path.join(self.home.dir, "missing")], 66,
             "cannot read the password file"),
            (["user", "passwd", "nobody", "--generate"], 67,
             "no user 'nobody'"),
            (["user", "role", "alice", "boss"], 64, "unknown role 'boss'"),
            (["user", "role", "nobody", "admin"], 67, "no user 'nobody'"),
            (["user", "disable", "nobody"], 67, "no user 'nobody'"),
            (["user", "enable"], 64, "expected one NAME"),
        ]
        for args, rc, message in cases:
            with self.subTest(args=args[:3]):
                r = self.assertFails(args, rc, message)
                self.assertNotIn("password:", r.out)
        self.assertEqual(self.users(), [("alice", "editor", 0)])

    @unittest.skipUnless(os.getuid() == 0, "needs root to give a file away")
    def test_password_file_of_another_user_is_refused(self):
        # run as nobody, on a home nobody owns, with the password file
        # belonging to a third uid
        nobody = pwd.getpwnam("nobody")
        for root, dirs, files in os.walk(self.home.dir):
            for n in dirs + files + ["."]:
                os.chown(os.path.join(root, n), nobody.pw_uid,
                         nobody.pw_gid)
        theirs = self.pwfile(name="theirs")
        os.chown(theirs, 12345, 12345)

        def as_nobody():
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

        cmd = self.home.command("chancery") + [
            "--config", self.home.conf, "user", "add", "bob", "--role",
            "viewer", "--password-file", theirs]
        p = subprocess.run(cmd, capture_output=True, text=True,
                           preexec_fn=as_nobody, timeout=60)
        self.assertEqual(p.returncode, 78, p)
        self.assertIn("%s: the password file belongs to uid 12345, not to "
                      "us (uid %d); chown it" % (theirs, nobody.pw_uid),
                      p.stderr)
        self.assertEqual(self.users(), [])

    def test_list_role_disable_enable(self):
        self.add("zoe", "viewer")
        self.add("alice", "editor")
        r = self.home.ok("user", "list")
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "ROLE", "STATE",
                                            "CREATED_UTC", "LAST_LOGIN_UTC"])
        self.assertEqual([l.split()[:3] for l in lines[1:]],
                         [["alice", "editor", "enabled"],
                          ["zoe", "viewer", "enabled"]])
        r = self.home.ok("--as", "office", "user", "role", "alice",
                         "approver")
        self.assertEqual(r.out, "user 'alice': role editor -> approver\n")
        r = self.home.ok("user", "role", "alice", "approver")
        self.assertEqual(r.out, "user 'alice' is already an approver\n")
        # a session, as the console would open one: disabling ends it
        con_count = "SELECT count(*) FROM user_sessions"
        con = sqlite3.connect(self.home.db)
        con.execute("INSERT INTO user_sessions (user_id, token_sha256, "
                    "csrf, created_at, expires_at) SELECT id, 'x', 'y', 1, "
                    "4000000000 FROM users WHERE name = 'alice'")
        con.commit()
        con.close()
        self.assertEqual(self.home.scalar(con_count), 1)
        r = self.home.ok("user", "disable", "alice")
        self.assertEqual(r.out, "user 'alice' disabled; its console "
                         "sessions are ended\n")
        self.assertEqual(self.home.scalar(con_count), 0)
        r = self.home.ok("user", "disable", "alice")
        self.assertEqual(r.out, "user 'alice' is already disabled\n")
        r = self.home.ok("--json", "user", "list")
        self.assertEqual([(u["name"], u["role"], u["state"])
                          for u in json.loads(r.out)],
                         [("alice", "approver", "disabled"),
                          ("zoe", "viewer", "enabled")])
        r = self.home.ok("user", "enable", "alice")
        self.assertEqual(r.out, "user 'alice' enabled\n")
        before = self.home.scalar("SELECT password_hash FROM users WHERE "
                                  "name = 'zoe'")
        self.home.ok("user", "passwd", "zoe", "--password-file",
                     self.pwfile("another long password\n", name="new"))
        after = self.home.scalar("SELECT password_hash FROM users WHERE "
                                 "name = 'zoe'")
        self.assertNotEqual(before, after)
        changes = self.home.sql("SELECT actor, data FROM events WHERE "
                                "kind = 'user.changed' ORDER BY id")
        me = pwd.getpwuid(os.getuid()).pw_name
        self.assertEqual(changes, [
            ("office", '{"name":"alice","role":{"from":"editor",'
                       '"to":"approver"}}'),
            (me, '{"name":"alice","state":{"from":"enabled",'
                 '"to":"disabled"}}'),
            (me, '{"name":"alice","state":{"from":"disabled",'
                 '"to":"enabled"}}'),
            (me, '{"name":"zoe","password":"changed"}'),
        ])
        # the audit's verification still holds with the new kinds
        self.home.ok("audit", "verify")

    def test_help(self):
        r = self.home.ok("user", "--help")
        for sub in ("add", "list", "passwd", "role", "disable", "enable"):
            self.assertIn("  " + sub, r.out)
        r = self.home.ok("user", "add", "--help")
        self.assertIn("--password-file FILE", r.out)
        self.assertIn("--generate", r.out)


class ApprovalRoleTest(ApprovalTestCase):
    """The approval workflow once the console has accounts."""

    def add_user(self, name, role):
        path = os.path.join(self.home.dir, "pw")
        with open(path, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(path, 0o600)
        self.run_ok("user", "add", name, "--role", role, "--password-file",
                    path, who="setup")

    def accounts(self):
        self.add_user("ann", "approver")
        self.add_user("adm", "admin")
        self.add_user("ed", "editor")
        self.add_user("vic", "viewer")
        self.add_user("dis", "approver")
        self.run_ok("user", "disable", "dis", who="setup")

    def test_without_accounts_anyone_may_approve(self):
        self.create(who="alice")
        self.run_ok("campaign", "approve", "feb", who="stranger")
        self.assertEqual(self.approvals(), [("stranger",)])

    def test_only_enabled_approvers_and_admins_approve(self):
        self.create(who="alice")
        self.accounts()
        rule = ("and only an enabled approver or admin account may "
                "approve it (chancery user)")
        for who, why in [("ed", "ed is an editor"),
                         ("vic", "vic is a viewer"),
                         ("dis", "dis is a disabled account"),
                         ("stranger", "stranger has no console account")]:
            with self.subTest(who=who):
                self.refused(["campaign", "approve", "feb"], 77,
                             "campaign 'feb': %s, %s" % (why, rule), who=who)
        self.assertEqual(self.state(), "draft")
        r = self.run_ok("campaign", "approve", "feb", who="ann")
        self.assertEqual(self.approvals(), [("ann",)])
        self.assertEqual(self.state(), "approved")
        self.assertEqual([a for a, _ in self.events("campaign.approved")],
                         ["ann"])

    def test_rejection_follows_the_same_rule(self):
        self.create(who="alice")
        self.accounts()
        self.refused(["campaign", "reject", "feb", "--reason", "typo"], 77,
                     "campaign 'feb': ed is an editor, and only an enabled "
                     "approver or admin account may reject it (chancery "
                     "user)", who="ed")
        self.run_ok("campaign", "approve", "feb", who="adm")
        self.refused(["campaign", "reject", "feb", "--reason", "typo"], 77,
                     "campaign 'feb': vic is a viewer", who="vic")
        self.assertEqual(self.state(), "approved")
        self.run_ok("campaign", "reject", "feb", "--reason", "typo",
                    who="ann")
        self.assertEqual(self.state(), "draft")
        self.assertEqual([a for a, _ in self.events("campaign.rejected")],
                         ["ann"])

    def test_four_eyes_still_refuses_the_creator(self):
        self.home.write_conf("campaign = { approvals = 1; four_eyes = true; "
                             "};\n")
        self.accounts()
        self.create(who="ann")
        self.refused(["campaign", "approve", "feb"], 77,
                     "campaign 'feb': ann created it and may not approve "
                     "it (campaign.four_eyes)", who="ann")
        self.run_ok("campaign", "edit", "feb", "--at", "2027-02-26 09:00",
                    who="adm")
        self.refused(["campaign", "approve", "feb"], 77,
                     "campaign 'feb': adm last edited it and may not "
                     "approve it (campaign.four_eyes)", who="adm")
        # the role is checked before four-eyes: an editor hears the role
        self.refused(["campaign", "approve", "feb"], 77,
                     "campaign 'feb': ed is an editor", who="ed")
        self.add_user("carol", "approver")
        self.run_ok("campaign", "approve", "feb", who="carol")
        self.assertEqual(self.approvals(), [("carol",)])

    def test_without_a_signoff_rule_an_editor_schedules(self):
        # campaign.approvals = 0: scheduling approves on the way, and
        # scheduling is an editor's work
        self.home.write_conf("campaign = { approvals = 0; };\n")
        self.accounts()
        self.create(who="ed")
        self.run_ok("campaign", "schedule", "feb", who="ed")
        self.assertEqual(self.state(), "scheduled")
        # an explicit approval is still a sign-off
        self.create(name="mar", who="ed")
        self.refused(["campaign", "approve", "mar"], 77,
                     "campaign 'mar': ed is an editor", who="ed")


if __name__ == "__main__":
    unittest.main()
