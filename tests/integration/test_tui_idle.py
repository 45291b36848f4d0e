#!/usr/bin/env python3
"""Live IMAP in the TUI: between commands the session IDLEs in INBOX, so
what another client does shows without a periodic check (check_interval
is an hour here): a new message, a flag set elsewhere, a message expunged
elsewhere. The server's side is the private Dovecot's rawlog; a keypress
while IDLE still works (the session ends IDLE with DONE for the command);
a connection dropped by the server (doveadm kick) during IDLE is
reconnected by itself, resynced, and IDLE resumes.
With imap_idle = no the session does not IDLE. A message expunged by
another client while it is read stays in the pager, which says so.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()


def message(i, subject):
    return ("From: Sender <s@example.org>\nTo: alice@example.org\n"
            "Subject: %s\nMessage-ID: <idle%02d@example.org>\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\nBody %d.\n" %
            (subject, i, i, i))


def write_config(d, home, idle):
    path = d.petrel_config_path(home)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\ncheck_interval = 3600\n")
        if idle is not None:
            f.write("imap_idle = %s\n" % idle)
        f.write("\n" + d.account_section("alice"))
    os.chmod(path, 0o600)


def idles(d):
    return sum(c.count(b" IDLE\r\n") for c in
               (s.get("in", b"") for s in d.rawlog("alice")))


def test_idle(d):
    write_config(d, "idle", None)
    with TmuxUI(d, ["-a", "alice"], home="idle") as ui:
        s = ui.wait(lambda s: "Msgs:2" in s and "online" in s, 30)
        check(s is not None, "the index shows (%r)" %
              getattr(ui, "last", "")[-300:])
        end = time.time() + 10
        while time.time() < end and idles(d) == 0:
            time.sleep(0.1)
        check(idles(d) > 0, "the session IDLEs when it has nothing to do")

        d.append("alice", "INBOX", message(3, "Arrived while idle"))
        t0 = time.monotonic()
        s = ui.wait(lambda s: "Arrived while idle" in s and "Msgs:3" in s,
                    10)
        check(s is not None, "a new message shows by itself, in %.1f s "
              "(%r)" % (time.monotonic() - t0,
                        (s or getattr(ui, "last", ""))[-300:]))

        # A flag set by another client.
        m = d.imap_client("alice")
        m.select("INBOX")
        m.store("1", "+FLAGS", "\\Flagged")
        s = ui.wait(lambda s: any("First one" in l and "!" in
                                  l.split("First one")[0]
                                  for l in s.split("\n")), 10)
        check(s is not None, "a flag set elsewhere shows (%r)" %
              (s or getattr(ui, "last", ""))[-400:])
        # Expunged by another client.
        m.store("2", "+FLAGS", "\\Deleted")
        m.expunge()
        m.logout()
        s = ui.wait(lambda s: "Second one" not in s and "Msgs:2" in s, 10)
        check(s is not None, "a message expunged elsewhere goes (%r)" %
              (s or getattr(ui, "last", ""))[-300:])

        # A local action while idling: DONE, the command, IDLE again.
        before = idles(d)
        ui.keys("=")
        ui.keys("F")
        end = time.time() + 10
        flagged = None
        while time.time() < end:
            flags = {v["message_id"]: v["flags"] for v in
                     d.fetch_index("alice").values()}
            flagged = flags.get("<idle01@example.org>", [])
            if "\\Flagged" not in flagged:
                break
            time.sleep(0.2)
        check("\\Flagged" not in (flagged or []),
              "F while idling reaches the server (%r)" % flagged)
        end = time.time() + 10
        while time.time() < end and idles(d) <= before:
            time.sleep(0.1)
        check(idles(d) > before, "and the session IDLEs again")

        # The server drops the connection during IDLE: the session
        # reconnects by itself (backoff from 1 s), resyncs, IDLEs again.
        before = idles(d)
        d.kick("alice")
        time.sleep(0.5)
        d.append("alice", "INBOX", message(4, "After the drop"))
        s = ui.wait(lambda s: "After the drop" in s and "online" in s, 15)
        check(s is not None, "after a dropped IDLE the session reconnects "
              "and the new message shows (%r)" %
              (s or getattr(ui, "last", ""))[-300:])
        end = time.time() + 10
        while time.time() < end and idles(d) <= before:
            time.sleep(0.1)
        check(idles(d) > before, "and IDLEs on the new connection")
        d.append("alice", "INBOX", message(5, "Live again"))
        check(ui.wait("Live again", 10) is not None,
              "new mail shows by itself again")
        ui.keys("q")
        check(ui.wait("PETREL-EXIT=0", 10) is not None,
              "q quits from IDLE")


def test_no_idle(d):
    write_config(d, "noidle", "no")
    before = idles(d)
    with TmuxUI(d, ["-a", "alice"], home="noidle") as ui:
        s = ui.wait(lambda s: "Msgs:4" in s and "online" in s, 30)
        check(s is not None, "imap_idle = no: the index shows (%r)" %
              getattr(ui, "last", "")[-300:])
        time.sleep(1.5)
        check(idles(d) == before, "imap_idle = no: no IDLE")
        ui.keys("q")
        ui.wait("PETREL-EXIT=", 10)


def test_gone(d):
    """The message being read is expunged by another client: the pager
    keeps it on screen and says so; the index no longer has it."""
    write_config(d, "gone", None)
    with TmuxUI(d, ["-a", "alice"], home="gone") as ui:
        s = ui.wait(lambda s: "Msgs:4" in s and "online" in s, 30)
        check(s is not None, "gone: the index shows")
        ui.keys("Enter")
        s = ui.wait(lambda s: re.search(r"alice/INBOX: (\d+): ", s), 10)
        m = re.search(r"alice/INBOX: (\d+): ([^-]+?) --", s or "")
        check(m is not None, "the pager shows a message (%r)" %
              (s or getattr(ui, "last", ""))[-300:])
        if m is None:
            return
        uid, subject = m.group(1), m.group(2).strip()
        time.sleep(1)
        c = d.imap_client("alice")
        c.select("INBOX")
        c.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
        c.expunge()
        c.logout()
        s = ui.wait("deleted on the server", 10)
        check(s is not None and ("Subject: " + subject) in s,
              "expunged elsewhere while read: the pager says so and keeps "
              "the text (%r)" % (s or getattr(ui, "last", ""))[-400:])
        ui.keys("q")
        s = ui.wait(lambda s: "Msgs:3" in s, 10)
        check(s is not None and subject not in s,
              "back in the index it is gone (%r)" %
              (s or getattr(ui, "last", ""))[-400:])
        ui.keys("q")
        check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits")


def main():
    with harness.Dovecot(rawlog=True) as d:
        d.append("alice", "INBOX", message(1, "First one"))
        d.append("alice", "INBOX", message(2, "Second one"))
        test_idle(d)
        test_no_idle(d)
        test_gone(d)
    check.done()


if __name__ == "__main__":
    main()
