#!/usr/bin/env python3
"""A server without IDLE (the private Dovecot told to leave it and NOTIFY
out of its capabilities): the watched session asks NOOP every
poll_interval seconds instead, so a message delivered by another client
still shows in `sync --watch` within a few seconds, without a periodic
sync (check_interval is an hour); poll_interval = 0 turns it off.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from watchproc import Watch, changed as changed_in  # noqa: E402

check = harness.Check()

CAPS = ("IMAP4rev1 SASL-IR LITERAL+ ENABLE CONDSTORE QRESYNC UIDPLUS MOVE "
        "ESEARCH SPECIAL-USE LIST-EXTENDED NAMESPACE")


def sent(d, what):
    return sum(s.get("in", b"").count(what) for s in d.rawlog("alice"))


def message(i):
    return ("From: p@example.org\r\nSubject: Polled %d\r\n"
            "Message-ID: <poll%d@example.org>\r\n\r\nHi.\r\n" % (i, i))


def config(d, home, poll):
    path = d.petrel_config_path(home)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\ncheck_interval = 3600\npoll_interval = %d\n\n"
                % poll)
        f.write(d.account_section("alice"))
    os.chmod(path, 0o600)


def main():
    extra = "protocol imap {\n  imap_capability = %s\n}\n" % CAPS
    with harness.Dovecot(rawlog=True, extra_conf=extra) as d:
        d.append("alice", "INBOX", message(1))
        m = d.imap_client("alice")
        caps = m.capabilities
        m.logout()
        check("IDLE" not in caps, "the set-up: no IDLE (%r)" % (caps,))

        config(d, "p", 2)
        w = Watch(d.petrel_env("p"))
        check(w.wait(changed_in("INBOX", 1), 30) is not None, "the first sync")
        time.sleep(1)
        t0 = time.monotonic()
        d.append("alice", "INBOX", message(2))
        ev = w.wait(changed_in("INBOX", 2), 10)
        dt = time.monotonic() - t0
        check(ev is not None and dt < 4.5, "without IDLE a new message "
              "shows by NOOP every poll_interval (2 s): %.1f s" % dt)
        check(sent(d, b" NOOP\r\n") >= 1 and sent(d, b" IDLE\r\n") == 0,
              "it asked NOOP, never IDLE")
        check.eq(w.stop()[0], 0, "SIGTERM ends it")

        config(d, "p0", 0)
        w = Watch(d.petrel_env("p0"))
        check(w.wait(changed_in("INBOX", 2), 30) is not None, "poll_interval = 0: the "
              "first sync")
        time.sleep(1)
        d.append("alice", "INBOX", message(3))
        check(w.wait(changed_in("INBOX", 3), 5) is None, "poll_interval = 0: no NOOP, "
              "the message waits for the periodic sync")
        check.eq(w.stop()[0], 0, "SIGTERM ends it")
    check.done()


if __name__ == "__main__":
    main()
