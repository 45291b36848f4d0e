#!/usr/bin/env python3
"""QUOTA (RFC 9208) against the private Dovecot with its quota plugin (a
100 KiB storage quota): a full sync stores the account's usage in the
cache (GETQUOTAROOT INBOX, in the rawlog), the TUI's folder view shows it
beside the account, and at 90% or more the message line warns once. A
server without QUOTA leaves nothing (the other tests).
"""

import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()


def message(i, size):
    return ("From: Big <big@example.org>\nTo: alice@example.org\n"
            "Subject: Big %d\nMessage-ID: <q%02d@example.org>\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\n%s\n" %
            (i, i, i, ("x" * 75 + "\n") * (size // 76)))


def meta(d, home):
    db = os.path.join(d.petrel_home(home)["cache"], "petrel", "alice.db")
    con = sqlite3.connect(db)
    try:
        r = con.execute("SELECT value FROM meta WHERE key = 'imap_quota'"
                        ).fetchall()
    finally:
        con.close()
    return r[0][0] if r else None


def main():
    with harness.Dovecot(quota="100K", rawlog=True) as d:
        for i in range(1, 4):
            d.append("alice", "INBOX", message(i, 10000))
        d.write_petrel_config(home="q")
        rc, out, err = d.run_petrel(["sync"], home="q")
        check.eq(rc, 0, "sync (%s)" % err.strip()[-200:])
        asked = sum(s.get("in", b"").count(b"GETQUOTAROOT")
                    for s in d.rawlog("alice"))
        check(asked >= 1, "the sync asks GETQUOTAROOT")
        v = meta(d, "q")
        m = v and __import__("re").match(r"storage=(\d+)/(\d+)", v)
        check(m is not None and int(m.group(2)) == 100 and
              25 <= int(m.group(1)) <= 35, "the usage is cached: %r" % v)

        # Nearly full: the TUI warns, and the folder view shows it.
        for i in range(4, 11):
            d.append("alice", "INBOX", message(i, 10000))
        with TmuxUI(d, ["-a", "alice"], home="q") as ui:
            s = ui.wait("% full", 30)
            check(s is not None and "alice: the mailbox is 9" in s,
                  "at 90%% the message line warns (%r)" %
                  (s or getattr(ui, "last", ""))[-300:])
            ui.keys("y")
            s = ui.wait("quota 9", 10)
            check(s is not None and "of 100 KiB" in s,
                  "the folder view shows the quota beside the account (%r)"
                  % (s or getattr(ui, "last", ""))[-600:])
            ui.keys("q")
            time.sleep(0.3)
            ui.keys("q")
            check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits")
        v = meta(d, "q")
        check(v is not None and v.startswith("storage=9"),
              "the cache has the new usage: %r" % v)
    check.done()


if __name__ == "__main__":
    main()
