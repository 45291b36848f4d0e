#!/usr/bin/env python3
"""petrel sync --watch against the private Dovecot: it stays connected,
IDLEs in INBOX and prints one JSON line per change when stdout is not a
terminal (a new message and a flag set by another client show within
seconds, with the folder's counts), syncs the other folders every
check_interval, and ends cleanly (LOGOUT, exit 0) on SIGTERM and SIGINT.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from watchproc import Watch, changed  # noqa: E402

check = harness.Check()


def message(i, subject):
    return ("From: Sender <s@example.org>\nTo: alice@example.org\n"
            "Subject: %s\nMessage-ID: <w%02d@example.org>\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\nBody %d.\n" %
            (subject, i, i, i))


def main():
    with harness.Dovecot() as d:
        d.append("alice", "INBOX", message(1, "One"))
        d.append("alice", "INBOX", message(2, "Two"))
        d.create_folder("alice", "Archive")
        path = d.petrel_config_path("w")
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(path, "w") as f:
            f.write("[options]\ncheck_interval = 5\n\n")
            f.write(d.account_section("alice"))
        os.chmod(path, 0o600)

        mark = d.log_mark()
        w = Watch(d.petrel_env("w"), stderr=os.path.join(d.dir, "w.err"))
        ev = w.wait(lambda ev: ev.get("event") == "online")
        check(ev is not None and ev.get("account") == "alice",
              "--watch: online, as JSON (%r)" % w.lines)
        ev = w.wait(changed("INBOX", 2))
        check(ev is not None and ev.get("unseen") == 2,
              "the first sync: INBOX with its counts (%r)" % (ev or w.lines))

        time.sleep(1)
        t0 = time.monotonic()
        d.append("alice", "INBOX", message(3, "Three"))
        ev = w.wait(changed("INBOX", 3), 10)
        check(ev is not None, "a new message in INBOX: a line within %.1f s "
              "(%r)" % (time.monotonic() - t0, ev or w.lines[-3:]))

        m = d.imap_client("alice")
        m.select("INBOX")
        m.store("1", "+FLAGS", "\\Seen")
        ev = w.wait(lambda ev: changed("INBOX", 3)(ev) and
                    ev.get("unseen") == 2, 10)
        check(ev is not None, "a flag set elsewhere: unseen 2 (%r)" %
              (ev or w.lines[-3:]))
        m.logout()

        d.append("alice", "Archive", message(4, "Archived"))
        ev = w.wait(changed("Archive", 1), 15)
        check(ev is not None, "another folder: seen by the periodic sync "
              "(%r)" % (ev or w.lines[-3:]))

        rc, _ = w.stop(signal.SIGTERM)
        with open(w.errfile) as f:
            check.eq(rc, 0, "SIGTERM ends it with 0 (%s)" % f.read().strip())
        check(d.wait_logouts(1, since=mark, user="alice"),
              "and it logged out")

        # SIGINT, and a folder filter.
        w = Watch(d.petrel_env("w"), ["INBOX"])
        check(w.wait(lambda ev: ev.get("event") == "online") is not None,
              "--watch INBOX: online")
        ev = w.wait(changed("INBOX"))
        check(ev is not None, "--watch INBOX: INBOX reported (%r)" % w.lines)
        d.append("alice", "Archive", message(5, "Not watched"))
        ev = w.wait(changed("Archive"), 8)
        check(ev is None, "a folder not asked for is not reported (%r)" %
              ev)
        rc, _ = w.stop(signal.SIGINT)
        check.eq(rc, 0, "SIGINT ends it with 0")
    check.done()


if __name__ == "__main__":
    main()
