"""Install into a temporary prefix and use what was installed.

`cmake --install` must put every part where the system looks for it, and
the installed binaries, configuration, manual pages, unit and completion
must work from there, not only from the build tree.
"""
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

BIN_DIR = os.environ.get("CHANCERY_BIN_DIR", "")
SOURCE_DIR = os.environ.get("CHANCERY_SOURCE_DIR", "")
CMAKE = shutil.which("cmake")

INSTALLED = [
    "bin/chancery",
    "etc/chancery/chancery.conf",
    "share/man/man1/chancery.1",
    "share/man/man8/chanceryd.8",
    "share/man/man5/chancery.conf.5",
    "lib/systemd/system/chanceryd.service",
    "bin/chancery-web",
    "share/man/man8/chancery-web.8",
    "lib/systemd/system/chancery-web.service",
    "lib/sysusers.d/chancery.conf",
    "lib/tmpfiles.d/chancery.conf",
    "share/bash-completion/completions/chancery",
    "share/bash-completion/completions/chanceryd",
    "share/chancery/chancery.conf.example",
    "share/chancery/db/0001_registry.sql",
    "share/chancery/templates/anniversary.tmpl",
    "share/chancery/templates/signature.partial",
    "share/chancery/templates/khojaly-statement.pdf",
]


def run(args, env=None, check=True):
    proc = subprocess.run(args, capture_output=True, text=True, env=env,
                          timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (
            " ".join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


def install(prefix, destdir=None):
    env = dict(os.environ)
    env.pop("DESTDIR", None)
    if destdir:
        env["DESTDIR"] = destdir
    return run([CMAKE, "--install", BIN_DIR, "--prefix", prefix], env=env)


def man_text(path):
    """A manual page as mandoc renders it, without the overstrikes."""
    proc = run(["mandoc", "-T", "utf8", path])
    return re.sub(r".\x08", "", proc.stdout)


@unittest.skipUnless(BIN_DIR and CMAKE, "needs CHANCERY_BIN_DIR and cmake")
class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="chancery-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        install(cls.prefix)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.prefix, rel)

    def chancery(self, *args, check=True):
        env = dict(os.environ)
        env.pop("CHANCERY_CONFIG", None)
        return run([self.path("bin/chancery")] + list(args), env=env,
                   check=check)

    def test_every_part_is_installed(self):
        missing = [f for f in INSTALLED if not os.path.exists(self.path(f))]
        self.assertEqual(missing, [])
        self.assertTrue(os.access(self.path("bin/chancery"), os.X_OK))
        if os.path.exists(os.path.join(BIN_DIR, "chanceryd")):
            self.assertTrue(os.access(self.path("bin/chanceryd"), os.X_OK))

    def test_version(self):
        out = self.chancery("--version").stdout
        self.assertRegex(out, r"^chancery \d+\.\d+\.\d+\n$")

    def test_init_creates_a_migrated_database(self):
        db = os.path.join(self.tmp, "init.db")
        out = self.chancery("--db", db, "init").stdout
        self.assertIn(db, out)
        with sqlite3.connect(db) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        migrations = [f for f in os.listdir(self.path("share/chancery/db"))
                      if f.endswith(".sql")]
        # The numbers are assigned per change, so they may have gaps while
        # changes are in flight: the schema is at the highest one.
        self.assertEqual(version, max(int(f[:4]) for f in migrations))
        for table in ("bodies", "contacts", "lists", "campaigns", "events"):
            self.assertIn(table, tables)

    def test_installed_configuration_is_valid_and_the_shipped_one(self):
        conf = self.path("etc/chancery/chancery.conf")
        out = self.chancery("--config", conf, "config", "check").stdout
        self.assertEqual(out, conf + ": ok\n")
        with open(conf, encoding="utf-8") as f, open(os.path.join(
                SOURCE_DIR, "templates", "chancery.conf"),
                encoding="utf-8") as g:
            self.assertEqual(f.read(), g.read())

    def test_bad_usage_exits_64_and_creates_nothing(self):
        db = os.path.join(self.tmp, "never.db")
        proc = self.chancery("--db", db, "no-such-command", check=False)
        self.assertEqual(proc.returncode, 64)
        self.assertIn("unknown command 'no-such-command'", proc.stderr)
        self.assertFalse(os.path.exists(db))

    def test_unit_names_the_installed_files(self):
        with open(self.path("lib/systemd/system/chanceryd.service")) as f:
            unit = f.read()
        self.assertIn("\nExecStart=%s --foreground --config %s\n" % (
            self.path("bin/chanceryd"),
            self.path("etc/chancery/chancery.conf")), unit)
        for line in ("Type=notify", "User=chancery", "StateDirectory=chancery",
                     "ExecReload=/bin/kill -HUP $MAINPID",
                     "ProtectSystem=strict", "NoNewPrivileges=yes"):
            self.assertIn("\n" + line + "\n", unit)

    def test_web_unit_names_the_installed_files(self):
        with open(self.path("lib/systemd/system/chancery-web.service")) as f:
            unit = f.read()
        self.assertIn("\nExecStart=%s --config %s --listen 127.0.0.1:8025\n"
                      % (self.path("bin/chancery-web"),
                         self.path("etc/chancery/chancery.conf")), unit)
        for line in ("User=chancery", "StateDirectory=chancery",
                     "ProtectSystem=strict", "NoNewPrivileges=yes",
                     "PrivateTmp=yes"):
            self.assertIn("\n" + line + "\n", unit)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "no systemd-analyze")
    def test_web_unit_passes_systemd_analyze_verify(self):
        unit = self.path("lib/systemd/system/chancery-web.service")
        env = dict(os.environ, MANPATH=self.path("share/man"))
        proc = run(["systemd-analyze", "verify", unit], env=env, check=False)
        self.assertEqual((proc.returncode, proc.stdout + proc.stderr), (0, ""))

    @unittest.skipUnless(shutil.which("systemd-analyze"), "no systemd-analyze")
    def test_unit_passes_systemd_analyze_verify(self):
        unit = self.path("lib/systemd/system/chanceryd.service")
        if not os.path.exists(self.path("bin/chanceryd")):
            # verify wants ExecStart to exist; until chanceryd is built,
            # point it at the installed chancery.
            with open(unit) as f:
                text = f.read().replace(self.path("bin/chanceryd"),
                                        self.path("bin/chancery"))
            os.makedirs(os.path.join(self.tmp, "unit"), exist_ok=True)
            unit = os.path.join(self.tmp, "unit", "chanceryd.service")
            with open(unit, "w") as f:
                f.write(text)
        # verify exits 0 on an unknown key: any message is a failure.
        env = dict(os.environ, MANPATH=self.path("share/man"))
        proc = run(["systemd-analyze", "verify", unit], env=env, check=False)
        self.assertEqual((proc.returncode, proc.stdout + proc.stderr), (0, ""))

    @unittest.skipUnless(shutil.which("mandoc"), "no mandoc")
    def test_manual_pages_pass_the_lint(self):
        for page in ("man1/chancery.1", "man8/chanceryd.8",
                     "man5/chancery.conf.5", "man8/chancery-web.8"):
            proc = run(["mandoc", "-T", "lint", "-W", "warning",
                        self.path("share/man/" + page)], check=False)
            self.assertEqual((proc.returncode, proc.stdout + proc.stderr),
                             (0, ""), page)

    @unittest.skipUnless(shutil.which("mandoc"), "no mandoc")
    def test_manual_pages_describe_the_options(self):
        one = man_text(self.path("share/man/man1/chancery.1"))
        for word in ("--config", "--db", "--json", "--help", "--version",
                     "CHANCERY_CONFIG", "NO_COLOR", "EX_CONFIG", "78"):
            self.assertIn(word, one)
        for group in ("init", "config check", "body add", "contact add",
                      "registry import-statement", "list create",
                      "template render", "series add", "campaign create",
                      "campaign status", "audit verify", "bounce",
                      "inbox list", "--envelope-to"):
            self.assertIn(group, one)
        eight = man_text(self.path("share/man/man8/chanceryd.8"))
        for word in ("--once", "--foreground", "SIGTERM", "SIGHUP",
                     "READY", "STOPPING", "STATUS"):
            self.assertIn(word, eight)
        # chancery.conf(5) names every key the program accepts: the
        # effective configuration lists them all.
        five = man_text(self.path("share/man/man5/chancery.conf.5"))
        shown = self.chancery("config", "show").stdout
        keys = re.findall(r"^([a-z_.]+) = ", shown, re.M)
        self.assertGreater(len(keys), 20)
        self.assertEqual([k for k in keys if k not in five], [])

    def test_installed_example_template_adds_and_renders(self):
        """Issue 23: only the .tmpl was installed, so its partial and its
        PDF could not be found. Added with the installed configuration,
        rendered once the sender is set, as an administrator must."""
        conf = self.path("etc/chancery/chancery.conf")
        db = os.path.join(self.tmp, "example.db")
        tmpl = self.path("share/chancery/templates/anniversary.tmpl")
        self.chancery("--config", conf, "--db", db, "init")
        out = self.chancery("--config", conf, "--db", db, "template", "add",
                            "example", tmpl).stdout
        self.assertIn("added template example version 1", out)
        self.assertIn("1 partials, 1 attachments", out)
        with sqlite3.connect(db) as conn:
            names = conn.execute("SELECT filename FROM "
                                 "template_attachments").fetchall()
        self.assertEqual(names, [("khojaly-statement.pdf",)])
        edited = os.path.join(self.tmp, "office.conf")
        with open(conf) as f:
            text = f.read().replace('"chancery@localhost"',
                                    '"office@ombudsman.example"')
        with open(edited, "w") as f:
            f.write(text)
        os.chmod(edited, 0o600)
        self.chancery("--config", edited, "--db", db, "body", "add",
                      "Some Body", "--kind", "ngo", "--acronym", "SB")
        self.chancery("--config", edited, "--db", db, "contact", "add", "SB",
                      "sb@body.example")
        raw = self.chancery("--config", edited, "--db", db, "template",
                            "render", "example", "--body", "SB",
                            "--event-date", "1992-02-26").stdout
        self.assertIn("Content-Type: application/pdf", raw)
        self.assertIn("filename=khojaly-statement.pdf", raw)
        self.assertIn("To: sb@body.example", raw)

    def test_default_configuration_follows_the_prefix(self):
        """The configuration the CLI reads without --config is the
        configured prefix's sysconfdir (CMAKE_INSTALL_FULL_SYSCONFDIR):
        shown with the installed one bind-mounted there."""
        with open(os.path.join(BIN_DIR, "CMakeCache.txt")) as f:
            prefix = re.search(r"^CMAKE_INSTALL_PREFIX:PATH=(.*)$", f.read(),
                               re.M).group(1)
        etc = "/etc" if prefix.rstrip("/") == "/usr" else prefix + "/etc"
        want = etc + "/chancery/chancery.conf"
        out = self.chancery("config", "check").stdout
        if not os.path.exists(want):
            self.assertEqual(out, "(built-in defaults; no %s): ok\n" % want)
        if (os.geteuid() != 0 or not shutil.which("unshare") or
                not os.path.isdir(etc)):
            self.skipTest("needs root, unshare and %s" % etc)
        env = dict(os.environ)
        env.pop("CHANCERY_CONFIG", None)
        proc = run(["unshare", "-m", "sh", "-c",
                    'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh",
                    self.path("etc"), etc, self.path("bin/chancery"),
                    "config", "check"], env=env)
        self.assertEqual(proc.stdout, want + ": ok\n")

    def test_reinstall_keeps_an_edited_configuration(self):
        prefix = os.path.join(self.tmp, "again")
        install(prefix)
        conf = os.path.join(prefix, "etc/chancery/chancery.conf")
        with open(conf, "a") as f:
            f.write("# edited by the administrator\n")
        out = install(prefix).stdout
        self.assertIn("Keeping: " + conf, out)
        with open(conf) as f:
            self.assertIn("# edited by the administrator\n", f.read())

    def test_destdir_with_prefix_usr_puts_the_configuration_in_etc(self):
        stage = os.path.join(self.tmp, "stage")
        install("/usr", destdir=stage)
        for f in ("etc/chancery/chancery.conf", "usr/bin/chancery",
                  "usr/lib/systemd/system/chanceryd.service",
                  "usr/share/man/man1/chancery.1"):
            self.assertTrue(os.path.exists(os.path.join(stage, f)), f)
        self.assertFalse(os.path.exists(os.path.join(stage, "usr/etc")))
        with open(os.path.join(
                stage, "usr/lib/systemd/system/chanceryd.service")) as f:
            self.assertIn("\nExecStart=/usr/bin/chanceryd --foreground "
                          "--config /etc/chancery/chancery.conf\n", f.read())


FAKE_CHANCERY = r"""#!/bin/sh
echo "$*" >> "$0.calls"
case "$*" in
*"--json list ls") printf '[\n  {\n    "name": "y2025",\n    "kind": "static"\n  },\n  {\n    "name": "all embassies"\n  }\n]\n' ;;
*"--json body list") printf '[{"acronym": "UNSG", "name": "UN Secretary-General"}, {"acronym": null, "name": "x"}, {"acronym": "UNICEF"}]' ;;
*"--json campaign ls") printf '[{"name":"y2026","state":"draft"}]' ;;
*"--json template list") printf '[{"name":"anniversary","version":2}]' ;;
*"--json user list") printf '[{"name":"ann","role":"approver"},{"name":"ed","role":"editor"}]' ;;
*) echo "chancery: no such database" >&2; exit 66 ;;
esac
"""


@unittest.skipUnless(BIN_DIR and CMAKE and shutil.which("bash"),
                     "needs CHANCERY_BIN_DIR, cmake and bash")
class CompletionTest(unittest.TestCase):
    """The installed completion, driven as bash drives it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="chancery-completion-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        install(cls.prefix)
        cls.script = os.path.join(
            cls.prefix, "share/bash-completion/completions/chancery")
        # A stand-in chancery whose listings are known, so that the
        # parsing of the JSON is tested on its own.
        cls.fake = os.path.join(cls.tmp, "fake-chancery")
        with open(cls.fake, "w") as f:
            f.write(FAKE_CHANCERY)
        os.chmod(cls.fake, 0o755)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def complete(self, *words, func="_chancery"):
        """Completions for the last word of words (words[0] is the program)."""
        quoted = " ".join("'%s'" % w.replace("'", "'\\''") for w in words)
        script = (
            'source "$1"\n'
            "COMP_WORDS=(%s)\n"
            "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
            "%s\n"
            'printf "%%s\\n" "${COMPREPLY[@]}"\n' % (quoted, func))
        proc = run(["bash", "--norc", "--noprofile", "-c", script, "bash",
                    self.script])
        self.assertEqual(proc.stderr, "")
        return [line for line in proc.stdout.split("\n") if line]

    def test_commands_and_subcommands(self):
        real = os.path.join(self.prefix, "bin/chancery")
        self.assertEqual(self.complete(real, ""), [
            "init", "config", "body", "contact", "find", "registry", "list",
            "template", "series", "campaign", "audit", "inbox", "bounce",
            "relay", "backup", "status", "user"])
        self.assertEqual(self.complete(real, "inbox", "q"), ["quarantine"])
        self.assertEqual(self.complete(real, "inbox", "--e"),
                         ["--envelope-to"])
        self.assertEqual(self.complete(real, "relay", ""), ["test"])
        self.assertEqual(self.complete(real, "relay", "test", "--"),
                         ["--to", "--help", "--json"])
        self.assertEqual(self.complete(real, "status", "--"),
                         ["--days", "--json", "--help"])
        self.assertEqual(self.complete(real, "backup", "--"),
                         ["--force", "--help"])
        self.assertEqual(self.complete(real, "c"),
                         ["config", "contact", "campaign"])
        self.assertEqual(self.complete(real, "body", "m"), ["merge"])
        self.assertEqual(self.complete(real, "contact", "e"),
                         ["edit", "enable"])
        self.assertEqual(self.complete(real, "contact", "edit", "x",
                                       "--e"), ["--email"])
        self.assertEqual(self.complete(real, "find", "--l"), ["--limit"])
        self.assertEqual(self.complete(real, "--as", "clerk", "body",
                                       "h"), ["history"])
        self.assertEqual(self.complete(real, "--"), [
            "--config", "--db", "--json", "--help", "--version"])
        self.assertEqual(self.complete(real, "--db", "x.db", "campaign", "s"),
                         ["schedule", "status"])
        self.assertEqual(self.complete(real, "audit", "x", "--format", ""),
                         ["table", "csv", "json", "html"])
        self.assertEqual(self.complete(real, "init", "--s"), ["--seed"])
        self.assertEqual(self.complete(real, "user", "p"), ["passwd"])
        self.assertEqual(self.complete(real, "user", "add", "x", "--role",
                                       "a"), ["approver", "admin"])
        self.assertEqual(self.complete(real, "user", "add", "x", "--p"),
                         ["--password-file"])
        # --role elsewhere stays free text
        self.assertEqual(self.complete(real, "contact", "add", "X",
                                       "--role", "a"), [])
        self.assertIn("--once", self.complete("chanceryd", "--",
                                              func="_chanceryd"))

    def test_names_come_from_the_listings(self):
        fake = self.fake
        self.assertEqual(self.complete(fake, "campaign", "status", ""),
                         ["y2026"])
        self.assertEqual(self.complete(fake, "list", "show", ""),
                         ["y2025", "all\\ embassies"])
        self.assertEqual(self.complete(fake, "body", "show", "UN"),
                         ["UNSG", "UNICEF"])
        self.assertEqual(self.complete(fake, "list", "add", "y2025", "U"),
                         ["UNSG", "UNICEF"])
        self.assertEqual(self.complete(fake, "body", "merge", "UNSG", "UN"),
                         ["UNSG", "UNICEF"])
        self.assertEqual(self.complete(fake, "template", "render", "a"),
                         ["anniversary"])
        self.assertEqual(self.complete(
            fake, "campaign", "create", "c", "--template", ""),
            ["anniversary"])
        self.assertEqual(self.complete(fake, "user", "disable", ""),
                         ["ann", "ed"])
        self.assertEqual(self.complete(fake, "user", "role", "ed", "a"),
                         ["approver", "admin"])

    def test_global_options_are_passed_to_the_listing(self):
        calls = self.fake + ".calls"
        if os.path.exists(calls):
            os.unlink(calls)
        self.complete(self.fake, "--config", "my.conf", "--db", "my.db",
                      "campaign", "pause", "")
        with open(calls) as f:
            self.assertEqual(f.read(),
                             "--config my.conf --db my.db --json campaign ls\n")

    def test_no_database_completes_to_nothing_silently(self):
        real = os.path.join(self.prefix, "bin/chancery")
        db = os.path.join(self.tmp, "absent.db")
        self.assertEqual(self.complete(real, "--db", db, "campaign",
                                       "status", ""), [])
        self.assertEqual(self.complete(real, "--db", db, "body", "show", ""),
                         [])
        self.assertFalse(os.path.exists(db))


if __name__ == "__main__":
    unittest.main()
