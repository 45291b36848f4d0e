#!/usr/bin/env python3
"""The TUI on other terminals, in tmux against the private Dovecot:

- monochrome (TERM=vt100, no colours): the index shows, the cursor row is
  in reverse video, j moves it, the pager opens and q quits;
- ^Z gives the terminal back and stops petrel (state T); SIGCONT (what a
  shell's fg sends) brings it back, redrawn and working.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()


def message(i, subject):
    return ("From: Sender <s@example.org>\nTo: alice@example.org\n"
            "Subject: %s\nMessage-ID: <term%02d@example.org>\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\nBody %d.\n" %
            (subject, i, i, i))


def petrel_pid(ui):
    """petrel's pid: the child of the pane's shell."""
    pane = ui._tmux("list-panes", "-F", "#{pane_pid}").stdout.split()[0]
    out = subprocess.run(["pgrep", "-P", pane.decode()],
                         stdout=subprocess.PIPE, text=True).stdout.split()
    for pid in out:
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() == "petrel":
                    return int(pid)
        except OSError:
            pass
    return None


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def main():
    with harness.Dovecot() as d:
        for i, subj in enumerate(("Alpha", "Bravo", "Charlie"), 1):
            d.append("alice", "INBOX", message(i, subj))
        d.write_petrel_config(home="t")

        with TmuxUI(d, ["-a", "alice"], home="t", term="vt100") as ui:
            s = ui.wait(lambda s: "Msgs:3" in s and "Charlie" in s, 30)
            check(s is not None, "vt100: the index shows (%r)" %
                  getattr(ui, "last", "")[-300:])
            esc = ui._tmux("capture-pane", "-p", "-e").stdout.decode(
                errors="replace")
            check(re.search(r"\x1b\[([0-9;]*;)?7(;[0-9;]*)?m", esc),
                  "the cursor row is in reverse video (%r)" % esc[:200])
            check(not re.search(r"\x1b\[3[0-7]m|\x1b\[38;", esc),
                  "and no colour is used")
            ui.keys("Enter")
            s = ui.wait(lambda s: re.search(r"Body \d\.", s), 10)
            check(s is not None, "vt100: the pager opens")
            ui.keys("q")
            ui.keys("q")
            check(ui.wait("PETREL-EXIT=0", 10) is not None, "and q quits")

        with TmuxUI(d, ["-a", "alice"], home="t") as ui:
            s = ui.wait(lambda s: "Msgs:3" in s and "online" in s, 30)
            check(s is not None, "the index shows")
            pid = petrel_pid(ui)
            check(pid is not None, "petrel's pid")
            ui.keys("C-z")
            end = time.time() + 5
            while time.time() < end and pid and state(pid) != "T":
                time.sleep(0.05)
            check(pid is not None and state(pid) == "T",
                  "^Z stops petrel")
            s = ui.wait("fg to go on", 5)
            check(s is not None and "Msgs:3" not in s,
                  "and gives the terminal back (%r)" %
                  (s or getattr(ui, "last", ""))[-200:])
            os.kill(pid, signal.SIGCONT)
            s = ui.wait(lambda s: "Msgs:3" in s and "Charlie" in s, 10)
            check(s is not None, "SIGCONT (fg): back, redrawn (%r)" %
                  (s or getattr(ui, "last", ""))[-300:])
            ui.keys("Enter")
            check(ui.wait(lambda s: re.search(r"Body \d\.", s), 10)
                  is not None, "and working")
            ui.keys("q")
            ui.keys("q")
            check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits")
    check.done()


if __name__ == "__main__":
    main()
