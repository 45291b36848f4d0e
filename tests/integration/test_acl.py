#!/usr/bin/env python3
"""MYRIGHTS (ACL, RFC 4314) against the private Dovecot with its acl plugin:
a folder where alice may only look and read ("lr"). A full sync learns
each folder's rights; then actions the server would refuse are refused
locally, at once, with the reason, and nothing is queued for the server:
setting \\Seen or \\Flagged, deleting, expunging, moving out, copying in.
Copying out of it, and everything in INBOX, still works. In the TUI, opening
a message there does not try to mark it read.
"""

import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()


def pending(d, home):
    db = os.path.join(d.petrel_home(home)["cache"], "petrel", "alice.db")
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM pending").fetchone()[0]
    finally:
        con.close()


def main():
    with harness.Dovecot(acl=True, rawlog=True) as d:
        d.create_folder("alice", "ReadOnly")
        d.append("alice", "ReadOnly", "From: a@example.org\r\nSubject: Look "
                 "only\r\nMessage-ID: <ro1@example.org>\r\n\r\nRead me.\r\n")
        d.append("alice", "INBOX", "From: b@example.org\r\nSubject: Mine\r\n"
                 "Message-ID: <in1@example.org>\r\n\r\nMine.\r\n")
        d.doveadm("acl", "set", "-u", "alice", "ReadOnly", "owner", "lookup",
                  "read")
        d.write_petrel_config(home="acl")
        rc, out, err = d.run_petrel(["sync"], home="acl")
        check.eq(rc, 0, "sync (%s)" % err.strip()[-200:])
        sent = b"".join(s.get("in", b"") for s in d.rawlog("alice"))
        check(b'MYRIGHTS "ReadOnly"' in sent, "the sync asks MYRIGHTS")

        cases = [
            (["flag", "add", "ReadOnly", "1", "seen"], '"s"'),
            (["flag", "add", "ReadOnly", "1", "flagged"], '"w"'),
            (["flag", "add", "ReadOnly", "1", "deleted"], '"t"'),
            (["move", "ReadOnly", "1", "INBOX"], '"te"'),
            (["copy", "INBOX", "1", "ReadOnly"], '"i"'),
        ]
        for args, need in cases:
            rc, out, err = d.run_petrel(args, home="acl")
            check(rc != 0 and "does not let you" in err and need in err and
                  "lr" in err, "%s: refused locally, saying why (%d: %s)" %
                  (" ".join(args), rc, err.strip()))
        check.eq(pending(d, "acl"), 0, "and nothing is queued for the server")
        rc, out, err = d.run_petrel(["expunge", "ReadOnly"], home="acl")
        check(rc != 0 and '"e"' in err, "expunge: refused (%s)" %
              err.strip())

        rc, out, err = d.run_petrel(["copy", "ReadOnly", "1", "INBOX"],
                                    home="acl")
        check.eq(rc, 0, "copying out of it is allowed (%s)" % err.strip())
        rc, out, err = d.run_petrel(["flag", "add", "INBOX", "1",
                                     "flagged"], home="acl")
        check.eq(rc, 0, "INBOX takes flags (%s)" % err.strip())
        rc, out, err = d.run_petrel(["sync"], home="acl")
        check.eq(rc, 0, "and the sync sends what was allowed")
        idx = d.fetch_index("alice", "INBOX")
        check(len(idx) == 2 and any("\\Flagged" in v["flags"]
                                    for v in idx.values()),
              "the server has the copy and the flag (%r)" % idx)

        # The TUI opens a message there without trying to mark it read.
        with TmuxUI(d, ["-a", "alice", "-f", "ReadOnly"], home="acl") as ui:
            s = ui.wait(lambda s: "Look only" in s and "online" in s, 30)
            check(s is not None, "the TUI shows the read-only folder")
            ui.keys("Enter")
            s = ui.wait("Read me.", 10)
            check(s is not None and "does not let you" not in s,
                  "opening a message there raises no error (%r)" %
                  (s or getattr(ui, "last", ""))[-300:])
            ui.keys("q")
            time.sleep(0.3)
            ui.keys("q")
            check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits")
        check.eq(pending(d, "acl"), 0, "still nothing queued")
    check.done()


if __name__ == "__main__":
    main()
