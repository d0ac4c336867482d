"""Runs the README's tour, so that it cannot go stale.

The tour is every ```console block after the "<!-- tour -->" marker in
README.md. Each "$ command" line is run by /bin/sh in one scratch
directory shared by the whole tour (PATH has the built binaries first;
CHANCERY_CONFIG points at the tour's chancery.conf, which the tour writes
itself; the clock is fixed by CHANCERY_FAKE_NOW when the README sets it
with an "export" line). The lines after a command are its expected output:
compared line by line, where "…" in an expected line stands for any text
(paths, hashes, times).
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

README = os.path.join(harness.SOURCE_DIR, "README.md")


def tour_blocks(text):
    start = text.find("<!-- tour -->")
    if start < 0:
        return []
    return re.findall(r"```console\n(.*?)```", text[start:], re.S)


def steps(blocks):
    """[(command, [expected lines])] in order."""
    out = []
    for block in blocks:
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
    return out


def matches(expected, got):
    pattern = "".join(".*" if part == "…" else re.escape(part)
                      for part in re.split("(…)", expected))
    return re.fullmatch(pattern, got) is not None


class ReadmeTourTest(unittest.TestCase):
    def test_tour(self):
        with open(README) as f:
            tour = steps(tour_blocks(f.read()))
        self.assertGreater(len(tour), 5, "the README has no tour")
        work = tempfile.mkdtemp(prefix="chancery-tour-")
        env = dict(os.environ)
        env["PATH"] = os.path.abspath(harness.BIN_DIR) + ":" + env["PATH"]
        env["CHANCERY_SOURCE"] = os.path.abspath(harness.SOURCE_DIR)
        env["CHANCERY_CONFIG"] = os.path.join(work, "chancery.conf")
        env["NO_COLOR"] = "1"
        env["TZ"] = "UTC"
        try:
            for command, expected in tour:
                m = re.fullmatch(r"export (\w+)=(\S+)", command)
                if m:
                    value = m.group(2).strip("\"'").replace("$PWD", work)
                    env[m.group(1)] = os.path.expandvars(value)
                    continue
                proc = subprocess.run(["/bin/sh", "-c", command], cwd=work,
                                      env=env, capture_output=True,
                                      text=True, timeout=300)
                got = (proc.stdout + proc.stderr).rstrip("\n").splitlines()
                want = [l for l in expected]
                while want and want[-1] == "":
                    want.pop()
                detail = "command: %s\nwanted:\n%s\ngot:\n%s" % (
                    command, "\n".join(want), "\n".join(got))
                self.assertEqual(proc.returncode != 0,
                                 any(l.startswith("chancery: ")
                                     for l in want),
                                 "exit %d\n%s" % (proc.returncode, detail))
                self.assertEqual(len(got), len(want), detail)
                for w, g in zip(want, got):
                    self.assertTrue(matches(w, g), detail)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
