#!/usr/bin/env python3
"""The pager and mailcap converters, in tmux against the private Dovecot.

An HTML message shows at once through the built-in converter; a mailcap
converter's output replaces it when it is ready. A converter that hangs is
killed at mailcap_timeout and the built-in text stays, with a message; a
converter still running when the user leaves the message is killed then,
and its temporary file goes with it. The system's own mailcap with w3m
(installed by scripts/deps.sh) replaces the built-in text with w3m's. Last,
a 2.5 MB message, not cached: its first screen comes from its head (the
session fetches that first), then the whole replaces it, and its last line
is reached.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()

HTML = ("<html><body><h1>Quarterly %s</h1><p>Built-in sees %s.</p>"
        "<table border=1><tr><td>cell A</td><td>cell B</td></tr></table>"
        "</body></html>\n")


def html_message(i, subject, marker):
    return ("From: Web <web@example.org>\nTo: alice@example.org\n"
            "Subject: %s\nMessage-ID: <h%02d@example.org>\n"
            "Date: Thu, 0%d Jan 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
            "Content-Type: text/html; charset=utf-8\n\n%s" %
            (subject, i, i, HTML % (marker, marker)))


def converter(tmp):
    """A mailcap converter: the slow one sleeps 1.5 s, the hanging one 61."""
    path = os.path.join(tmp, "conv.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "if grep -q HANGS \"$1\"; then exec sleep 61; fi\n"
                "sleep 1.5\n"
                "echo \"CONVERTED BY THE MAILCAP PROGRAM\"\n"
                "grep -o 'sees [a-z]*' \"$1\"\n")
    os.chmod(path, 0o755)
    mc = os.path.join(tmp, "mailcap")
    with open(mc, "w") as f:
        f.write("text/html; %s %%s; copiousoutput\n" % path)
    return mc


def sleepers():
    r = subprocess.run(["pgrep", "-f", "^sleep 61$"], stdout=subprocess.PIPE)
    return r.stdout.split()


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def open_message(ui, subject):
    ui.keys("=")
    for _ in range(5):
        if subject in (ui.cursor_row() or ""):
            break
        ui.keys("j")
    check(subject in (ui.cursor_row() or ""), "cursor on %r (%r)" %
          (subject, ui.cursor_row()))
    t0 = time.monotonic()
    ui.keys("Enter")
    return t0


def test_own_converter(d, tmp, tmpdir):
    mc = converter(tmp)
    path = d.petrel_config_path("conv")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\nmailcap_path = %s\nmailcap_timeout = 3\n\n" % mc)
        f.write(d.account_section("alice"))
    os.chmod(path, 0o600)
    env = {"TMPDIR": tmpdir}
    with TmuxUI(d, ["-a", "alice"], home="conv", env=env) as ui:
        s = ui.wait(lambda s: "Msgs:3" in s and "online" in s, 30)
        check(s is not None, "the index shows (%r)" %
              getattr(ui, "last", "")[-300:])

        # Slow: built-in first, then the converter's output.
        open_message(ui, "Slow one")
        s = ui.wait("Built-in sees slowly.", 2)
        check(s is not None and "CONVERTED" not in s,
              "the built-in rendering shows before the converter is done "
              "(%r)" % (s or getattr(ui, "last", ""))[-400:])
        s = ui.wait("CONVERTED BY THE MAILCAP PROGRAM", 10)
        check(s is not None and "sees slowly" in s,
              "the converter's output replaces it when ready (%r)" %
              (s or getattr(ui, "last", ""))[-400:])
        check(s is not None and "Built-in sees slowly." not in s,
              "and the built-in text is gone")

        # Hanging: killed at the timeout; the built-in text stays.
        ui.keys("i")
        ui.wait(lambda s: "Msgs:3" in s, 5)
        open_message(ui, "Hanging one")
        s = ui.wait("Built-in sees HANGS.", 2)
        check(s is not None, "a hanging converter: built-in text at once")
        check(wait_for(lambda: len(sleepers()) == 1, 3),
              "the converter runs (%r)" % sleepers())
        s = ui.wait("timed out", 8)
        check(s is not None and "Built-in sees HANGS." in s,
              "after mailcap_timeout: a message, the built-in text stays "
              "(%r)" % (s or getattr(ui, "last", ""))[-400:])
        check(wait_for(lambda: not sleepers(), 3),
              "the hanging converter was killed")
        check(wait_for(lambda: not os.listdir(tmpdir), 3),
              "its temporary file is gone (%r)" % os.listdir(tmpdir))

        # Leaving the message kills a converter that still runs.
        ui.keys("i")
        ui.wait(lambda s: "Msgs:3" in s, 5)
        open_message(ui, "Hanging one")
        ui.wait("Built-in sees HANGS.", 2)
        check(wait_for(lambda: len(sleepers()) == 1, 3),
              "the converter runs again")
        check(len(os.listdir(tmpdir)) == 1, "its file is in $TMPDIR (%r)" %
              os.listdir(tmpdir))
        ui.keys("i")
        check(wait_for(lambda: not sleepers(), 2),
              "leaving the message kills its converter (%r)" % sleepers())
        check(wait_for(lambda: not os.listdir(tmpdir), 2),
              "and removes its file (%r)" % os.listdir(tmpdir))

        # Quitting with a converter running kills it too.
        open_message(ui, "Hanging one")
        ui.wait("Built-in sees HANGS.", 2)
        wait_for(lambda: len(sleepers()) == 1, 3)
        ui.keys("?")
        ui.wait("help", 3)
        check(len(sleepers()) == 1, "help over the pager lets it run")
        ui.keys("q")
        ui.wait("Built-in sees HANGS.", 2)
        # SIGTERM ends petrel from the pager, with the converter running.
        pane = ui._tmux("display-message", "-p", "-t", "ui",
                        "#{pane_pid}").stdout.decode().strip()
        r = subprocess.run(["pgrep", "-P", pane], stdout=subprocess.PIPE)
        for pid in r.stdout.split():
            os.kill(int(pid), 15)
        check(ui.wait("PETREL-EXIT=", 10) is not None, "SIGTERM ends petrel")
        check(wait_for(lambda: not sleepers(), 2),
              "ending kills a running converter (%r)" % sleepers())
        check(not os.listdir(tmpdir), "and leaves no file (%r)" %
              os.listdir(tmpdir))


def test_w3m(d):
    if shutil.which("w3m") is None:
        check(False, "w3m is installed by scripts/deps.sh")
        return
    path = d.petrel_config_path("w3m")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\nmailcap_path = /etc/mailcap\n\n")
        f.write(d.account_section("alice"))
    os.chmod(path, 0o600)
    with TmuxUI(d, ["-a", "alice"], home="w3m") as ui:
        s = ui.wait(lambda s: "Msgs:3" in s and "online" in s, 30)
        check(s is not None, "w3m: the index shows")
        open_message(ui, "Slow one")
        s = ui.wait("\u2502cell A\u2502cell B\u2502", 10)
        check(s is not None, "w3m's table replaces the built-in text "
              "(%r)" % getattr(ui, "last", "")[-400:])
        ui.keys("q")
        ui.wait("PETREL-EXIT=", 10)


LONG_LINES = 40000


def long_message():
    body = "".join("line %06d of the long one, padded to about 80 bytes "
                   "with words\n" % i for i in range(1, LONG_LINES + 1))
    return ("From: Long <long@example.org>\nTo: alice@example.org\n"
            "Subject: Long one\nMessage-ID: <long@example.org>\n"
            "Date: Fri, 09 Jan 2026 10:00:00 +0000\n"
            "Content-Type: text/plain; charset=utf-8\n\n" + body)


def test_long(d):
    msg = long_message()
    check(len(msg) > 2 * 2**20, "the long message is over 2 MB (%d)" %
          len(msg))
    d.append("alice", "INBOX", msg)
    d.write_petrel_config(None, account="alice", home="long")
    with TmuxUI(d, ["-a", "alice"], home="long") as ui:
        s = ui.wait(lambda s: "Msgs:4" in s and "online" in s, 30)
        check(s is not None, "long: the index shows")
        open_message(ui, "Long one")
        s = ui.wait("line 000001 of the long one", 20)
        check(s is not None, "the first screen of the long message")
        # The pager's own status line, no longer saying "the rest".
        s = ui.wait(lambda s: "line 000001" in s and "Long one -- (" in s
                    and "the rest" not in s, 20)
        check(s is not None, "the whole message replaces its head (%r)" %
              getattr(ui, "last", "")[-300:])
        ui.keys("End")
        last = "line %06d of the long one" % LONG_LINES
        s = ui.wait(last, 10)
        check(s is not None, "its last line is reached (%r)" %
              getattr(ui, "last", "")[-300:])
        ui.keys("q", "q")
        ui.wait("PETREL-EXIT=", 10)
    r = d.run_petrel(["--offline", "show", "--raw", "INBOX", "4"], home="long")
    check(r.status == 0 and
          r.stdout.replace("\r\n", "\n").endswith(last + ", padded to "
                                                    "about 80 bytes with "
                                                    "words\n"),
          "the whole body is in the cache (%s)" % r.stderr.strip())


def main():
    tmp = tempfile.mkdtemp(prefix="petrel-mailcap-")
    tmpdir = os.path.join(tmp, "tmp")
    os.mkdir(tmpdir)
    try:
        with harness.Dovecot(rawlog=False) as d:
            d.append("alice", "INBOX", html_message(1, "Slow one", "slowly"))
            d.append("alice", "INBOX", html_message(2, "Hanging one",
                                                    "HANGS"))
            d.append("alice", "INBOX", html_message(3, "Third one", "more"))
            test_own_converter(d, tmp, tmpdir)
            test_w3m(d)
            test_long(d)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    check.done()


if __name__ == "__main__":
    main()
